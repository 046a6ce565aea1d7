"""Absolute links (app/http/origin.py, app/urls.py): every url field, Link and FHIR bundle
link names the origin the client used; forwarded headers count only from a trusted proxy."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.http.origin import Trusted, origin
from app.main import create_app
from tests.helpers import ORIGIN

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "kb.example.org"}
PAGES = [
    "/v1/modalities",
    "/v1/modalities?limit=1",
    "/v1/modalities/alpha",
    "/v1/conditions",
    "/v1/conditions/worry",
    "/v1/citations",
    "/v1/citations/alpha2001",
    "/v1/compare?modalities=alpha,beta",
    "/v1/search?q=alpha",
]


@pytest.fixture(scope="module")
def client(http_fixture_db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=http_fixture_db_url))) as client:
        yield client


@pytest.fixture(scope="module")
def behind_proxy(http_fixture_db_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=http_fixture_db_url, trusted_proxies=["*"])
    with TestClient(create_app(settings)) as client:
        yield client


def urls(body: Any) -> list[str]:
    """Every value of a field named url, at any depth."""
    if isinstance(body, dict):
        found = [v for k, v in body.items() if k == "url" and isinstance(v, str)]
        return found + [u for v in body.values() for u in urls(v)]
    if isinstance(body, list):
        return [u for v in body for u in urls(v)]
    return []


@pytest.mark.parametrize("path", PAGES)
def test_url_fields_name_the_host_asked(client: TestClient, path: str) -> None:
    # Twice per host, so the second answer of each comes from the in-memory cache.
    answers: dict[str, Any] = {}
    etags: dict[str, set[str]] = {}
    for host in ("api.example.org", "other.example.net:8080", "api.example.org"):
        response = client.get(path, headers={"Host": host})
        etags.setdefault(host, set()).add(response.headers["etag"])
        assert response.status_code == 200, response.text
        assert int(response.headers["content-length"]) == len(response.content)
        found = urls(response.json())
        assert found, path
        api = [u for u in found if "/v1/" in u]
        assert api, path
        assert all(u.startswith(f"http://{host}/v1/") for u in api), (host, api)
        answers[host] = response
    # The body names the host, so the ETag does too: one per host, the same for each asking.
    assert [len(found) for found in etags.values()] == [1, 1]
    one, other = (next(iter(found)) for found in etags.values())
    assert one != other
    # Revalidation is per host: a host's own ETag gives 304, another host's the new body.
    mine = client.get(path, headers={"Host": "api.example.org", "If-None-Match": one})
    theirs = client.get(path, headers={"Host": "api.example.org", "If-None-Match": other})
    assert (mine.status_code, mine.content, theirs.status_code) == (304, b"", 200)


def test_link_headers_are_absolute(client: TestClient) -> None:
    response = client.get("/v1/modalities?limit=1", headers={"Host": "api.example.org"})
    assert response.links["next"]["url"] == "http://api.example.org/v1/modalities?limit=1&offset=1"


def test_forwarded_headers_are_ignored_unless_the_peer_is_trusted(
    client: TestClient, behind_proxy: TestClient
) -> None:
    plain = client.get("/v1/modalities/alpha", headers=FORWARDED).json()
    assert plain["url"].startswith(f"{ORIGIN}/v1/")
    proxied = behind_proxy.get("/v1/modalities/alpha", headers=FORWARDED).json()
    assert proxied["url"].startswith("https://kb.example.org/v1/")
    links = behind_proxy.get("/v1/modalities?limit=1", headers=FORWARDED).links
    assert links["next"]["url"].startswith("https://kb.example.org/v1/modalities?")


def test_fhir_links_follow_the_same_origin(behind_proxy: TestClient) -> None:
    bundle = behind_proxy.get("/fhir/PlanDefinition?_count=1", headers=FORWARDED).json()
    links = [link["url"] for link in bundle["link"]]
    assert links
    assert all(u.startswith("https://kb.example.org/fhir/") for u in links)


def test_problems_and_downloads_are_sent_as_they_are(client: TestClient) -> None:
    export = client.get("/v1/export?format=json", headers={"Host": "api.example.org"})
    assert b"api.example.org" not in export.content
    problem = client.get("/v1/modalities/alpah", headers={"Host": "api.example.org"})
    assert problem.status_code == 404
    assert "api.example.org" not in problem.text


def _scope(headers: dict[str, str], client: str = "10.1.2.3", scheme: str = "http") -> Any:
    return {
        "type": "http",
        "scheme": scheme,
        "server": ("127.0.0.1", 8000),
        "client": (client, 50000),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }


@pytest.mark.parametrize(
    ("headers", "proxies", "client_ip", "expected"),
    [
        ({"Host": "a.example"}, [], "10.1.2.3", "http://a.example"),
        ({"Host": "a.example:8443"}, [], "10.1.2.3", "http://a.example:8443"),
        ({"Host": "[::1]:8000"}, [], "10.1.2.3", "http://[::1]:8000"),
        # Forwarded headers from an untrusted peer change nothing.
        ({"Host": "a.example", **FORWARDED}, [], "10.1.2.3", "http://a.example"),
        ({"Host": "a.example", **FORWARDED}, ["10.9.0.0/16"], "10.1.2.3", "http://a.example"),
        # From a trusted address or network they set the origin; the first of a list counts.
        ({"Host": "a.example", **FORWARDED}, ["10.1.2.3"], "10.1.2.3", "https://kb.example.org"),
        ({"Host": "a", **FORWARDED}, ["10.0.0.0/8"], "10.1.2.3", "https://kb.example.org"),
        (
            {"Host": "a", "X-Forwarded-Host": "b.example, c.example"},
            ["*"],
            "10.1.2.3",
            "http://b.example",
        ),
        ({"Host": "a", "X-Forwarded-Proto": "gopher"}, ["*"], "10.1.2.3", "http://a"),
        # A host that is not a host falls back to the address the server listens on.
        ({"Host": "evil.example/path"}, [], "10.1.2.3", "http://127.0.0.1:8000"),
        ({"Host": 'a"b'}, [], "10.1.2.3", "http://127.0.0.1:8000"),
        ({}, [], "10.1.2.3", "http://127.0.0.1:8000"),
    ],
)
def test_origin(headers: dict[str, str], proxies: list[str], client_ip: str, expected: str) -> None:
    assert origin(_scope(headers, client_ip), Trusted(proxies)) == expected


def test_a_bad_proxy_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="not-an-address"):
        Settings(trusted_proxies=["not-an-address"])


def test_only_url_keys_are_rewritten(client: TestClient) -> None:
    """Text that merely mentions a path is left alone: only keys named url change."""
    body = client.get("/v1/modalities/alpha", headers={"Host": "h.example"}).text
    for match in re.finditer(r'"(\w+)":"http://h\.example', body):
        assert match.group(1) == "url", match.group(0)
    assert json.loads(body)["slug"] == "alpha"


def test_the_openapi_document_keeps_its_example_paths(client: TestClient) -> None:
    document = client.get("/openapi.json", headers={"Host": "api.example.org"})
    assert "api.example.org" not in document.text
    assert '"url":"/v1/' in document.text.replace(" ", "")
