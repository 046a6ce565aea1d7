"""One error shape everywhere, request bounds, security headers, request ids, logging,
rate limiting, and hostile input in every parameter.

On one engine (``http_fixture_db_url``), except hostile input, which reaches the queries and runs
on both: each engine has its own ways to fail on a string (a NUL byte, a full-text operator)."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def app(http_fixture_db_url: str) -> FastAPI:
    app = create_app(Settings(database_url=http_fixture_db_url, log_format="json"))

    @app.get("/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("secret internals: SELECT * FROM modality")

    return app


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def assert_problem(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == PROBLEM  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert body["type"]
    return body


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", "/v1/modalities/%FF%FE", 400),
        ("GET", "/v1/search?q=%C3%28", 400),
        ("GET", "/nowhere", 404),
        ("GET", "/v1/modalities/nosuch", 404),
        ("POST", "/v1/modalities", 405),
        ("PUT", "/v1/modalities/ipt", 405),
        ("DELETE", "/v1/meta", 405),
        ("PATCH", "/nowhere", 405),
        ("GET", "/v1/modalities?limit=0", 422),
        ("GET", "/v1/search?q=" + "a" * 3000, 414),
        ("GET", "/boom", 500),
    ],
)
def test_every_error_is_a_problem(client: TestClient, method: str, url: str, status: int) -> None:
    body = assert_problem(client.request(method, url), status)
    text = json.dumps(body)
    assert "Traceback" not in text
    assert "SELECT" not in text
    assert "secret" not in text


def test_a_500_is_typed_as_apperror_is(client: TestClient) -> None:
    from app.errors import AppError
    from app.http.problems import PROBLEM_BASE

    body = client.get("/boom", headers={"X-Request-ID": "r-1"}).json()
    assert body["type"] == PROBLEM_BASE + AppError.type_slug
    assert body["request_id"] == "r-1"


def test_405_names_the_allowed_methods(client: TestClient) -> None:
    response = client.post("/v1/modalities", json={})
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


def test_absurd_headers_are_431(client: TestClient) -> None:
    response = client.get("/v1/meta", headers={"X-Junk": "x" * 9000})
    assert_problem(response, 431)


def test_500_is_logged_with_the_request_id_it_returns(
    app: FastAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.web.request_log import configure_logging

    configure_logging("json", "info")  # a handler on the captured stderr
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom", headers={"X-Request-ID": "trace-123"})
    assert response.headers["x-request-id"] == "trace-123"
    assert response.json()["request_id"] == "trace-123"
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    errors = [line for line in lines if line["logger"] == "app.errors"]
    assert errors
    assert errors[0]["request_id"] == "trace-123"
    assert "RuntimeError" in errors[0]["error"]
    access = [line for line in lines if line["logger"] == "app.access"]
    assert access[-1] | {"duration_ms": 0} == access[-1] | {
        "method": "GET",
        "path": "/boom",
        "status": 500,
        "request_id": "trace-123",
        "duration_ms": 0,
    }


def test_one_access_line_per_request(app: FastAPI, capsys: pytest.CaptureFixture[str]) -> None:
    from app.web.request_log import configure_logging

    configure_logging("json", "info")
    with TestClient(app) as client:
        client.get("/v1/modalities?limit=1")
        client.get("/v1/modalities/alpha")
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
    access = [x for x in lines if x["logger"] == "app.access"]
    assert [(x["path"], x["status"]) for x in access] == [
        ("/v1/modalities", 200),
        ("/v1/modalities/alpha", 200),
    ]
    assert all(x["duration_ms"] >= 0 and len(x["request_id"]) == 32 for x in access)


def test_text_logging_for_development(app: FastAPI, capsys: pytest.CaptureFixture[str]) -> None:
    from app.web.request_log import configure_logging

    configure_logging("text", "info")
    with TestClient(app) as client:
        client.get("/v1/meta")
    err = capsys.readouterr().err
    assert "app.access: request" in err
    assert "path=/v1/meta" in err
    assert "status=200" in err
    configure_logging("json", "info")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stdout", "variable", "expected"),
    [
        (Terminal, None, "text"),
        (io.StringIO, None, "json"),
        (Terminal, "json", "json"),
        (io.StringIO, "text", "text"),
    ],
)
def test_log_format_is_text_at_a_terminal_unless_set(
    monkeypatch: pytest.MonkeyPatch, stdout: type[io.StringIO], variable: str | None, expected: str
) -> None:
    monkeypatch.setattr(sys, "stdout", stdout())
    if variable is None:
        monkeypatch.delenv("THERAPY_KB_LOG_FORMAT", raising=False)
    else:
        monkeypatch.setenv("THERAPY_KB_LOG_FORMAT", variable)
    assert Settings().log_format == expected


@pytest.mark.parametrize(
    ("given", "echoed"),
    [("abc-123", True), ("x" * 129, False), ("bad id with spaces", False), ("<script>", False)],
)
def test_request_id(client: TestClient, given: str, echoed: bool) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": given})
    assert (response.headers["x-request-id"] == given) is echoed
    assert response.headers["x-request-id"]


@pytest.mark.parametrize("url", ["/healthz", "/v1/meta", "/v1/modalities/nosuch", "/nowhere"])
def test_security_headers_everywhere(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["content-security-policy"].startswith("default-src 'none'")


def test_docs_csp_lets_the_docs_run(client: TestClient) -> None:
    csp = client.get("/docs").headers["content-security-policy"]
    assert "script-src 'self' 'unsafe-inline'" in csp
    assert "http" not in csp  # no other host


def test_rate_limit(http_fixture_db_url: str) -> None:
    app = create_app(Settings(database_url=http_fixture_db_url, rate_limit="3/minute"))
    with TestClient(app) as client:
        statuses = [client.get("/v1/meta").status_code for _ in range(3)]
        over = client.get("/v1/meta")
    assert statuses == [200, 200, 200]
    assert_problem(over, 429)
    assert 1 <= int(over.headers["retry-after"]) <= 60


def test_rate_limit_is_off_by_default(client: TestClient) -> None:
    assert all(client.get("/healthz").status_code == 200 for _ in range(50))


def test_malformed_rate_limit_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="rate_limit"):
        Settings(rate_limit="lots")


HOSTILE = [
    "' OR '1'='1",
    "1; DROP TABLE modality; --",
    '" OR ""="',
    "NEAR(a b)",
    "a* OR b*",
    "((((",
    "col:value",
    "../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "%00",
    "\x00",
    "é" * 10,
    "🙂",
    "%FF",
]
ENDPOINTS = [
    "/v1/modalities?q={}",
    "/v1/modalities?condition={}",
    "/v1/modalities?category={}",
    "/v1/modalities?min_evidence={}",
    "/v1/modalities?delivery={}",
    "/v1/modalities?sort={}",
    "/v1/modalities?limit={}",
    "/v1/modalities/{}",
    "/v1/modalities/alpha?include={}",
    "/v1/conditions?q={}",
    "/v1/conditions?code={}",
    "/v1/conditions?parent={}",
    "/v1/conditions/{}",
    "/v1/citations?q={}",
    "/v1/citations?year={}",
    "/v1/citations?modality={}",
    "/v1/citations/{}",
    "/v1/compare?modalities={}",
    "/v1/compare?modalities=alpha,beta&condition={}",
    "/v1/search?q={}",
    "/v1/search?q=x&type={}",
    "/v1/export?format={}",
]


@pytest.fixture(scope="module")
def db_client(fixture_db_url: str) -> Iterator[TestClient]:
    """A client on each engine."""
    app = create_app(Settings(database_url=fixture_db_url))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_hostile_input_never_5xx(db_client: TestClient, endpoint: str) -> None:
    client = db_client
    for value in HOSTILE:
        response = client.get(endpoint.format(quote(value, safe="")))
        assert response.status_code < 500, (endpoint, value, response.text)
        if response.status_code >= 400:
            assert response.headers["content-type"] == PROBLEM
    # Nothing was dropped.
    assert client.get("/v1/modalities").json()["total"] == 2


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_raw_non_utf8_bytes_are_400(client: TestClient, endpoint: str) -> None:
    # Bytes sent as they are, not percent-encoded by the client library.
    raw = endpoint.format("%C0%AF%FF")
    response = client.get(raw)
    assert response.status_code in (400, 404), (raw, response.text)
    assert response.headers["content-type"] == PROBLEM
