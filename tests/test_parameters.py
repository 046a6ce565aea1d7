"""Query parameters as clients send them: repeated and comma-separated lists, and one strict rule
for parameters an operation does not declare or takes only once (app/http/strict_query.py)."""

from __future__ import annotations

import pkgutil
import re
from collections.abc import Iterator
from importlib import import_module
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from app import routes as routes_package
from app.config import Settings
from app.http.strict_query import declared as declared_query
from app.main import create_app
from app.web.openapi import CHOOSERS

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def client(http_fixture_db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=http_fixture_db_url))) as client:
        yield client


def problem(client: TestClient, url: str) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    return body


def columns(client: TestClient, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, response.text
    return [column["slug"] for column in response.json()["modalities"]]


@pytest.mark.parametrize(
    "url",
    [
        "/v1/compare?modalities=alpha,beta",
        "/v1/compare?modalities=alpha&modalities=beta",
        "/v1/compare?modalities=alpha%2Cbeta",
        "/v1/compare?modalities=%20alpha&modalities=beta%20",
    ],
)
def test_compare_takes_repeated_and_comma_separated_slugs(client: TestClient, url: str) -> None:
    assert columns(client, url) == ["alpha", "beta"]


def test_mixed_forms_use_every_value(client: TestClient) -> None:
    # Every value counts: an unknown slug in either form is named, never dropped.
    for url in (
        "/v1/compare?modalities=alpha&modalities=beta,nosuch",
        "/v1/compare?modalities=nosuch&modalities=alpha,beta",
    ):
        response = client.get(url)
        assert response.status_code == 404, response.text
        assert "nosuch" in response.json()["detail"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("/v1/compare?modalities=alpha&modalities=alpha", "repeated: alpha"),
        ("/v1/compare?modalities=alpha&modalities=beta,alpha", "repeated: alpha"),
        ("/v1/compare?modalities=alpha&modalities=", "empty entry"),
        ("/v1/compare?modalities=alpha", "not 1"),
    ],
)
def test_bad_lists_are_refused_whatever_their_form(
    client: TestClient, url: str, reason: str
) -> None:
    body = problem(client, url)
    assert [e["parameter"] for e in body["errors"]] == ["modalities"] * len(body["errors"])
    assert reason in body["detail"]


# (request, the unknown parameter, the declared parameter suggested for it, if any)
UNKNOWN = [
    ("/v1/modalities?age=12", "age", None),
    ("/v1/modalities?categroy=approach", "categroy", "category"),
    ("/v1/modalities?format=csv", "format", "sort"),  # as close as suggest() asks (60)
    ("/v1/modalities/alpha?foo=1", "foo", None),
    ("/v1/modalities/alpha?includes=citations", "includes", "include"),
    ("/v1/conditions?codes=F99.1", "codes", "code"),
    ("/v1/citations?years=2001", "years", "year"),
    ("/v1/compare?modalities=alpha,beta&conditon=worry", "conditon", "condition"),
    ("/v1/search?q=x&typ=claim", "typ", "type"),
    ("/v1/export?table=modalities", "table", None),
    ("/v1/releases?limt=1", "limt", "limit"),
]


@pytest.mark.parametrize(
    "url", ["/v1/meta?verbose=1", "/healthz?x=1", "/v1/citations/alpha2001.bib?style=apa&x=1"]
)
def test_an_operation_without_parameters_refuses_a_query_as_malformed(
    client: TestClient, url: str
) -> None:
    """No parameter of its own can be invalid, so no 422: the request is malformed (400)."""
    response = client.get(url)
    assert response.status_code == 400, response.text
    given = url.split("?")[1].split("&")
    names = ", ".join(pair.split("=")[0] for pair in given)
    assert response.json()["detail"] == f"{names}: this operation takes no query parameters"


@pytest.mark.parametrize(("url", "name", "nearest"), UNKNOWN)
def test_unknown_parameter_is_named_with_what_exists(
    client: TestClient, url: str, name: str, nearest: str | None
) -> None:
    body = problem(client, url)
    (error,) = body["errors"]
    assert (error["parameter"], error["in"]) == (name, "query")
    assert body.get("suggestion") == nearest
    if nearest:
        assert f"did you mean '{nearest}'" in error["reason"]
    # The declared parameters are listed, so the client can see what it could have sent.
    declared = client.get("/openapi.json").json()
    path = url.split("?")[0].replace("/alpha", "/{slug}")
    names = {p["name"] for p in declared["paths"][path]["get"].get("parameters", [])}
    names |= hidden_choosers(client, path)
    listed = error["reason"].split("takes: ")[1]
    expected = ", ".join(sorted(n for n in names if n not in ("slug",))) or "no parameters"
    assert listed == expected


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/v1/modalities?limit=1&limit=2", "limit"),
        ("/v1/modalities?category=approach&category=delivery", "category"),
        ("/v1/modalities?condition=worry&condition=low-mood", "condition"),
        ("/v1/compare?modalities=alpha,beta&condition=worry&condition=worry", "condition"),
        ("/v1/citations/alpha2001?format=bibtex&format=ris", "format"),
        ("/v1/export?format=json&format=csv", "format"),
    ],
)
def test_single_parameter_given_twice_is_refused(client: TestClient, url: str, name: str) -> None:
    body = problem(client, url)
    assert [e["parameter"] for e in body["errors"]] == [name]
    assert "more than once" in body["detail"]


def test_every_operation_refuses_an_unknown_parameter(client: TestClient) -> None:
    """Whatever operation the OpenAPI document lists, an undeclared parameter is refused: a 422
    problem under /v1 and elsewhere, a 400 OperationOutcome under /fhir, a 400 problem where
    the operation takes no query parameters at all."""
    document = client.get("/openapi.json").json()
    checked = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert method == "get", (path, method)
            values = {
                p["name"]: _example(p) for p in operation.get("parameters", []) if p["required"]
            }
            url = path
            for name in re.findall(r"\{(\w+)\}", path):
                url = url.replace(f"{{{name}}}", values.pop(name))
            query = "&".join(f"{k}={v}" for k, v in values.items())
            response = client.get(f"{url}?{query}{'&' if query else ''}zz_unknown=1")
            takes_some = any(p["in"] == "query" for p in operation.get("parameters", []))
            takes_some = takes_some or bool(hidden_choosers(client, path))
            expected = 400 if path.startswith("/fhir") or not takes_some else 422
            assert response.status_code == expected, (path, response.text)
            assert "zz_unknown" in response.text, path
            checked += 1
    assert checked == sum(len(item) for item in document["paths"].values())


def hidden_choosers(client: TestClient, path: str) -> set[str]:
    """The parameters an operation takes that the document leaves out: those that choose among
    its representations (format, style), documented at the representations' own paths
    (app/web/openapi.py)."""
    routes = (
        route
        for info in pkgutil.iter_modules(routes_package.__path__)
        for router in [getattr(import_module(f"app.routes.{info.name}"), "router", None)]
        if router is not None
        for route in router.routes
        if isinstance(route, APIRoute) and route.path == path
    )
    return set(declared_query(next(routes)).names) & CHOOSERS


def _example(parameter: dict[str, Any]) -> str:
    """A value for a required parameter: its first example, lists joined by commas."""
    schema = parameter.get("schema", {})
    example = (parameter.get("examples") or schema.get("examples") or ["x"])[0]
    if isinstance(example, dict):  # OpenAPI's named examples: {"name": {"value": ...}}
        example = next(iter(example.values()))
    return ",".join(example) if isinstance(example, list) else str(example)
