"""Every representation is an operation of its own, and one Accept rule holds for every operation
(app/http/negotiation.py): walked from the OpenAPI document, on one engine (the rule runs in
front of the database)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from app.config import Settings
from app.http import negotiation
from app.http.negotiation import MediaTypes
from app.main import create_app
from app.urls import Area, area
from tests.helpers import ORIGIN

PROBLEM = "application/problem+json"
APP = create_app(Settings())
DOC: dict[str, Any] = APP.openapi()

# A value for every path parameter and every required query parameter, from the fixture seed.
EXAMPLES = {
    "slug": "alpha",
    "key": "alpha2001",
    "version": "0.0.1",
    "old": "0.0.1",
    "new": "0.0.1",
    "modalities": "alpha,beta",
    "q": "fixture",
    "table": "indications",
}
OTHER_EXAMPLES = {
    "/v1/conditions/{slug}": {"slug": "worry"},
    "/v1/indications/{id}": {"id": "alpha:low-mood:adults"},
}
# Every operation the Accept rule covers: the API's (FHIR has formats of its own, and the
# probes answer whatever a prober accepts).
OPERATIONS = [
    (path, op)
    for path, item in DOC["paths"].items()
    for method, op in item.items()
    if method == "get" and area(path) is Area.api
]
# The fixture seed has no trial layer, so no comparison to ask for: tests/test_trials_api.py
# holds /v1/trials/{id} to the same rule on the real seed.
ANSWERED = [(path, op) for path, op in OPERATIONS if path != "/v1/trials/{id}"]


def url_of(path: str, op: dict[str, Any]) -> str:
    examples = {**EXAMPLES, **OTHER_EXAMPLES.get(path, {})}
    url, query = path, []
    for parameter in op.get("parameters", []):
        name = parameter["name"]
        if parameter["in"] == "path":
            url = url.replace(f"{{{name}}}", examples[name])
        elif parameter.get("required"):
            query.append(f"{name}={examples[name]}")
    return url + ("?" + "&".join(query) if query else "")


def declared(op: dict[str, Any]) -> list[str]:
    return list(op["responses"]["200"]["content"])


def sent(path: str) -> list[str]:
    """What the operation at ``path`` can send: the document's, and for an operation that
    chooses by format= or Accept, its other representations too."""
    offer = next(o for o in APP.state.media_types.offers if o.path == path)
    return list(offer.types)


def base_type(response: Response) -> str:
    return response.headers["content-type"].split(";")[0].strip()


def varies_on_accept(response: Response) -> bool:
    return "accept" in [v.strip().lower() for v in response.headers.get("vary", "").split(",")]


def without_accept(client: TestClient, url: str, method: str = "GET") -> Response:
    """The request with no Accept header at all (the test client sends */* unless told)."""
    request = client.build_request(method, url)
    del request.headers["accept"]
    return client.send(request)


@pytest.fixture(scope="module")
def client(http_fixture_db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=http_fixture_db_url))) as client:
        yield client


# -- The walk: every operation sends what it declares, and refuses what it does not ------------


def test_the_walk_covers_the_api() -> None:
    ids = {op["operationId"] for _, op in OPERATIONS}
    assert {"getModality", "getMeta", "listCitationsBibtex", "exportReleaseZip"} <= ids
    assert len(OPERATIONS) >= 34


@pytest.mark.parametrize(("path", "op"), ANSWERED, ids=[p for p, _ in ANSWERED])
def test_every_operation_sends_what_it_declares(
    client: TestClient, path: str, op: dict[str, Any]
) -> None:
    url = url_of(path, op)
    types = sent(path)
    assert types, path
    # The default answer first: the 406 below must hold for an answer kept in memory too.
    default = without_accept(client, url)
    assert default.status_code == 200, default.text
    assert base_type(default) in types
    assert base_type(client.get(url, headers={"Accept": "*/*"})) == base_type(default)
    for media_type in types:
        response = client.get(url, headers={"Accept": media_type})
        assert response.status_code == 200, (media_type, response.text)
        assert base_type(response) == media_type
    refused = client.get(url, headers={"Accept": "application/x-unknown"})
    assert refused.status_code == 406, refused.text
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["available"] == types
    assert "etag" not in refused.headers
    # Vary: Accept exactly where the representation is chosen by Accept.
    assert varies_on_accept(default) == (len(types) > 1)
    assert varies_on_accept(refused) == (len(types) > 1)


def test_the_rule_reads_what_the_document_declares() -> None:
    """One source: the media types the rule finds for each operation are its 200 content in the
    OpenAPI document, in order; an operation that chooses by format= or Accept is documented
    with its first (JSON) only, each other one being an operation of its own."""
    offers = APP.state.media_types.offers
    assert [o.path for o in offers] == [p for p, _ in OPERATIONS]
    for offer in offers:
        documented = tuple(declared(DOC["paths"][offer.path]["get"]))
        if len(offer.types) > 1 and any(p.startswith(offer.path + ".") for p, _ in OPERATIONS):
            assert documented == offer.types[:1] == ("application/json",), offer.path
            own = {
                media
                for path, op in OPERATIONS
                if path.startswith(offer.path + ".")
                for media in declared(op)
            }
            assert set(offer.types[1:]) <= own, offer.path
        else:
            assert offer.types == documented, offer.path


@pytest.mark.parametrize(
    ("path", "operation"),
    [
        ("/v1/citations/alpha2001.bib", "/v1/citations/{key}.bib"),
        ("/v1/citations/alpha2001.csl.json", "/v1/citations/{key}.csl.json"),
        ("/v1/citations/alpha2001", "/v1/citations/{key}"),
        ("/v1/citations/alpha2001.xml", "/v1/citations/{key}"),
        ("/v1/citations.txt", "/v1/citations.txt"),
        ("/v1/releases/1.0.0/export.zip", "/v1/releases/{version}/export.zip"),
        ("/v1/releases/1.0.0", "/v1/releases/{version}"),
        ("/v1/modalities/alpha/citations.ris", "/v1/modalities/{slug}/citations.ris"),
        ("/healthz", None),
        ("/v1/nosuch", None),
        ("/fhir/metadata", None),
    ],
)
def test_an_operation_is_found_as_the_router_finds_it(path: str, operation: str | None) -> None:
    media_types: MediaTypes = APP.state.media_types
    found = media_types.find(path)
    assert (found.path if found else None) == operation
    assert media_types.varies(path) == (found is not None and len(found.types) > 1)


# -- Accept, read only when it is there -------------------------------------------------------


def test_no_accept_and_anything_are_not_parsed(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[bytes] = []
    original = negotiation.acceptable

    def recording(header: bytes, types: tuple[str, ...]) -> bool:
        parsed.append(header)
        return original(header, types)

    monkeypatch.setattr(negotiation, "acceptable", recording)
    for url in ("/v1/modalities/alpha", "/v1/citations.bib", "/v1/meta", "/healthz"):
        assert without_accept(client, url).status_code == 200
        assert client.get(url, headers={"Accept": "*/*"}).status_code == 200
    assert parsed == []
    assert client.get("/v1/meta", headers={"Accept": "application/json"}).status_code == 200
    assert parsed == [b"application/json"]


@pytest.mark.parametrize("url", ["/v1/modalities/alpha", "/v1/citations/alpha2001"])
def test_an_accept_with_nothing_readable_counts_as_none(client: TestClient, url: str) -> None:
    response = client.get(url, headers={"Accept": "json, , /"})
    assert response.status_code == 200, response.text
    assert base_type(response) == "application/json"


@pytest.mark.parametrize(
    ("accept", "status"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", 200),
        ("application/json, text/plain, */*", 200),
        ("application/*", 200),
        ("*/*;q=0", 406),
        ("*/*, application/json;q=0", 406),
        ("application/problem+json", 406),
    ],
)
def test_accept_on_an_operation_with_one_media_type(
    client: TestClient, accept: str, status: int
) -> None:
    response = client.get("/v1/modalities/alpha", headers={"Accept": accept})
    assert response.status_code == status, response.text


def test_several_accept_fields_are_one_list(client: TestClient) -> None:
    response = client.get(
        "/v1/citations.bib", headers=[("Accept", "image/png"), ("Accept", "application/x-bibtex")]
    )
    assert response.status_code == 200, response.text


def test_head_is_refused_without_a_body(client: TestClient) -> None:
    response = client.head("/v1/citations.ris", headers={"Accept": "application/json"})
    assert response.status_code == 406
    assert response.content == b""


def test_errors_are_problems_whatever_accept_says(client: TestClient) -> None:
    response = client.get("/v1/citations/alpha2002.bib", headers={"Accept": "application/x-bibtex"})
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["suggestion"] == "alpha2001"


@pytest.mark.parametrize(
    ("url", "accept", "content_type"),
    [
        ("/v1/citations?format=bibtex", "application/json", "application/x-bibtex"),
        ("/v1/export?format=ndjson", "image/png", "application/x-ndjson"),
        ("/v1/releases/0.0.1/export?format=csv", "application/json", "application/zip"),
    ],
)
def test_format_wins_over_accept(
    client: TestClient, url: str, accept: str, content_type: str
) -> None:
    response = client.get(url, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert base_type(response) == content_type


@pytest.mark.parametrize("url", ["/v1/export", "/v1/releases/0.0.1/export"])
@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        ("application/zip", "application/zip"),
        ("application/x-ndjson, application/json;q=0.5", "application/x-ndjson"),
        ("*/*", "application/json"),
    ],
)
def test_the_exports_honour_accept(
    client: TestClient, url: str, accept: str, content_type: str
) -> None:
    response = client.get(url, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert base_type(response) == content_type
    assert varies_on_accept(response)


def test_a_304_keeps_vary(client: TestClient) -> None:
    url = "/v1/citations/alpha2001"
    headers = {"Accept": "application/x-bibtex"}
    etag = client.get(url, headers=headers).headers["etag"]
    again = client.get(url, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304
    assert varies_on_accept(again)


# -- The representations at their own paths -------------------------------------------------------

CITATION_PATHS = [
    ("/v1/citations", "limit=2&offset=1&modality=alpha"),
    ("/v1/citations/alpha2001", ""),
    ("/v1/modalities/alpha/citations", ""),
]
# (suffix with its own parameters, the same representation by format=)
CITATION_FORMS = [
    (".bib", "format=bibtex"),
    (".ris", "format=ris"),
    (".csl.json", "format=csl-json"),
    (".txt", "format=text"),
    (".txt?style=ieee", "format=text&style=ieee"),
]


def _join(path: str, *queries: str) -> str:
    query = "&".join(q for q in queries if q)
    if not query:
        return path
    return f"{path}&{query}" if "?" in path else f"{path}?{query}"


SAME_AS = [
    (_join(path + suffix, query), _join(path, form, query))
    for path, query in CITATION_PATHS
    for suffix, form in CITATION_FORMS
] + [
    ("/v1/export.json", "/v1/export?format=json"),
    ("/v1/export.ndjson", "/v1/export?format=ndjson"),
    ("/v1/export.zip", "/v1/export?format=csv"),
    ("/v1/releases/0.0.1/export.json", "/v1/releases/0.0.1/export?format=json"),
    ("/v1/releases/0.0.1/export.ndjson", "/v1/releases/0.0.1/export?format=ndjson"),
    ("/v1/releases/0.0.1/export.zip", "/v1/releases/0.0.1/export?format=csv"),
]


@pytest.mark.parametrize(("own", "by_format"), SAME_AS)
def test_a_representation_at_its_own_path_is_the_same_answer(
    client: TestClient, own: str, by_format: str
) -> None:
    ours, theirs = client.get(own), client.get(by_format)
    assert ours.status_code == theirs.status_code == 200, (ours.text, theirs.text)
    assert ours.content == theirs.content
    assert ours.content, own
    for header in ("content-type", "etag", "cache-control", "content-disposition"):
        assert ours.headers.get(header) == theirs.headers.get(header), header
    # At its own path it varies only where it also offers the generic type of its body.
    assert varies_on_accept(ours) == (base_type(ours) in negotiation.GENERIC)
    assert varies_on_accept(theirs)


@pytest.mark.parametrize("extension", ["json", "ndjson", "zip"])
def test_a_release_export_is_its_stored_bytes(client: TestClient, extension: str) -> None:
    response = client.get(f"/v1/releases/0.0.1/export.{extension}")
    assert response.status_code == 200
    assert response.headers["etag"] == f'"{hashlib.sha256(response.content).hexdigest()[:32]}"'
    current = client.get(f"/v1/export.{extension}")
    assert response.content == current.content
    name = f"therapy-kb-fixture-0.0.1.{extension}"
    assert response.headers["content-disposition"] == f'attachment; filename="{name}"'


OWN_PATHS = [path for path, _ in OPERATIONS if "." in path.rsplit("/", 1)[-1]]


@pytest.mark.parametrize("path", OWN_PATHS)
def test_etag_and_304_on_every_representation(client: TestClient, path: str) -> None:
    url = url_of(path, DOC["paths"][path]["get"])
    first = client.get(url)
    assert first.status_code == 200, first.text
    assert first.headers["x-kb-release"]
    assert first.headers["cache-control"].startswith("public")
    again = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]


@pytest.mark.parametrize(
    "path",
    ["/v1/citations.bib", "/v1/citations.ris", "/v1/citations.csl.json", "/v1/citations.txt"],
)
def test_the_lists_link_their_pages(client: TestClient, path: str) -> None:
    first = client.get(f"{path}?limit=1&year=2001")
    assert "next" not in first.links  # one work of 2001: one page
    middle = client.get(f"{path}?limit=1&offset=1")
    assert middle.links["next"]["url"] == f"{ORIGIN}{path}?limit=1&offset=2"
    assert middle.links["prev"]["url"] == f"{ORIGIN}{path}?limit=1&offset=0"
    assert client.get(middle.links["next"]["url"]).status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/v1/citations.bib", "/v1/citations.ris", "/v1/citations.csl.json", "/v1/citations.txt"],
)
def test_without_limit_a_list_is_the_whole_bibliography(client: TestClient, path: str) -> None:
    whole = client.get(path)
    assert whole.status_code == 200, whole.text
    assert "link" not in whole.headers  # no pages
    assert whole.content == client.get(f"{path}?limit=100").content  # every work of three
    assert whole.content != client.get(f"{path}?limit=1").content
    # Kept per release: asked again (past the answer cache, with a query), the same text.
    assert client.get(f"{path}?offset=0").content == whole.content


def test_the_bibtex_list_pages_through_every_work(client: TestClient) -> None:
    keys, url = [], "/v1/citations.bib?limit=1"
    while url:
        response = client.get(url)
        keys += [
            line.split("{")[1].rstrip(",")
            for line in response.text.splitlines()
            if line.startswith("@")
        ]
        url = response.links.get("next", {}).get("url")
    assert keys == ["alpha2001", "delta2020", "gamma2010"]


@pytest.mark.parametrize(
    ("url", "status", "parameter"),
    [
        ("/v1/citations.bib?style=apa", 422, "style"),  # only the reference list takes a style
        # An operation that takes no query parameters refuses any as malformed.
        ("/v1/citations/alpha2001.ris?format=ris", 400, "format"),
        ("/v1/export.zip?format=csv", 400, "format"),
        ("/v1/citations.txt?style=APA", 422, "style"),
    ],
)
def test_a_representation_takes_no_format(
    client: TestClient, url: str, status: int, parameter: str
) -> None:
    response = client.get(url)
    assert response.status_code == status, response.text
    if status == 422:
        assert [e["parameter"] for e in response.json()["errors"]] == [parameter]
    else:
        assert response.json()["detail"].startswith(f"{parameter}: ")


@pytest.mark.parametrize("url", ["/healthz", "/readyz"])
def test_the_probes_answer_whatever_is_accepted(client: TestClient, url: str) -> None:
    response = client.get(url, headers={"Accept": "application/x-unknown"})
    assert response.status_code == 200, response.text


def test_an_unknown_style_is_suggested(client: TestClient) -> None:
    response = client.get("/v1/citations/alpha2001.txt?style=harvard-cite-them-rite")
    assert response.status_code == 404
    assert response.json()["suggestion"] == "harvard-cite-them-right"


def test_the_reference_list_takes_its_style_from_the_query_only(client: TestClient) -> None:
    url = "/v1/citations/alpha2001.txt"
    apa = client.get(url).text
    assert client.get(url, headers={"Accept": "text/x-bibliography; style=ieee"}).text == apa
    assert client.get(f"{url}?style=ieee").text != apa
