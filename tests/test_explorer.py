"""The explorer's pages over the fixture seed: each kind of page, its figures against the API,
caching, security headers and the friendly 404. Pages render what the API's queries return, so
they run on one engine; the evidence map, whose query only the explorer calls, on both."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from app import schemas as s
from app.config import Settings
from app.domain import ALL_VARIANTS, VARIANT_NAMES, EffectMeasure
from app.explorer.figure import FONT_PT, PHONE_WIDTH_IN, WIDE_WIDTH_IN, Layout
from app.explorer.forest import ForestRow, forest_svg, panels
from app.explorer.render import snippet_html
from app.explorer.summary import lead_sentences
from app.explorer.trial_plots import PHONE_STUDIES
from app.main import create_app
from app.urls import Area, area
from app.web.security_headers import DOCS_CSP, FIGURE_CSP, PAGE_CSP
from tests.helpers import ORIGIN


@pytest.fixture(scope="module")
def client(http_fixture_db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=http_fixture_db_url))) as client:
        yield client


@pytest.fixture(scope="module")
def db_client(fixture_db_url: str) -> Iterator[TestClient]:
    """A client on each engine, for the evidence map's query."""
    with TestClient(create_app(Settings(database_url=fixture_db_url))) as client:
        yield client


def soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


PAGES = [
    ("/", "Evidence map"),
    ("/?population=adults&guideline=first-line", "Evidence map"),
    ("/conditions/low-mood", "Low mood disorder"),
    ("/conditions/mood-disorders", "Mood disorders"),
    ("/modalities/alpha", "Alpha therapy"),
    ("/compare", "Compare modalities"),
    ("/compare?modalities=alpha&modalities=beta&condition=low-mood", "Compare modalities"),
    ("/citations/alpha2001", None),
    ("/search?q=fixture", "Search"),
    ("/search", "Search"),
]


@pytest.mark.parametrize(("path", "heading"), PAGES)
def test_page_renders_with_release_and_headers(
    client: TestClient, path: str, heading: str | None
) -> None:
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"].encode() == PAGE_CSP
    assert response.headers["cache-control"].startswith("public")
    assert response.headers["x-kb-release"]
    html = soup(response)
    if heading is not None:
        assert html.h1 is not None
        assert html.h1.get_text(strip=True).startswith(heading)
    footer = html.find("footer")
    assert footer is not None
    assert "therapy-kb-fixture 0.0.1" in footer.get_text(" ")
    assert html.find("form", attrs={"role": "search", "action": "/search"}) is not None
    # Nothing is loaded from another origin, and nothing runs.
    assert not html.find("script")
    assert not html.find(attrs={"style": True})
    for tag, attr in (("link", "href"), ("img", "src")):
        for element in html.find_all(tag):
            assert str(element[attr]).startswith("/"), element


@pytest.mark.parametrize("path", ["/", "/conditions/low-mood", "/conditions/low-mood/forest.svg"])
def test_pages_revalidate_with_304(client: TestClient, path: str) -> None:
    first = client.get(path)
    etag = first.headers["etag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag


def test_evidence_map_cells_name_their_level_and_link_the_indication(
    db_client: TestClient,
) -> None:
    html = soup(db_client.get("/"))
    cells = {a["href"]: a.get_text(strip=True) for a in html.select("table.map td.cell a[href]")}
    assert cells == {
        "/conditions/low-mood#alpha": "strong",
        "/conditions/worry#alpha": "limited",
        "/conditions/low-mood#beta": "insufficient",
        "/conditions/worry#beta": "moderate",
    }
    legend = html.select_one("dl.legend")
    assert legend is not None
    assert [dt.get_text(strip=True) for dt in legend.find_all("dt")] == [
        "strong",
        "moderate",
        "limited",
        "insufficient",
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("population=adolescents", {"/conditions/worry#alpha"}),
        ("guideline=first-line", {"/conditions/low-mood#alpha"}),
        ("population=perinatal", set()),
        ("population=&guideline=", None),  # the form's "any"
    ],
)
def test_evidence_map_filters(db_client: TestClient, query: str, expected: set[str] | None) -> None:
    response = db_client.get(f"/?{query}")
    assert response.status_code == 200
    links = {str(a["href"]) for a in soup(response).select("table.map td.cell a[href]")}
    assert links == (expected if expected is not None else links)
    if expected is not None:
        assert len(links) == len(expected)


def test_condition_page_states_the_figures_of_the_api(client: TestClient) -> None:
    api = client.get("/v1/conditions/low-mood").json()
    # The page states each figure oriented to favour the therapy, as the API's `oriented`.
    effects = [(i["modality"], e) for i in api["modalities"] for e in i["effects"] if e["oriented"]]
    rows = soup(client.get("/conditions/low-mood")).select("#effects-table tbody tr")
    assert len(rows) == len(effects) > 0
    assert any(e["oriented"]["value"] != e["value"] for _, e in effects)  # one is turned
    for row, (modality, effect) in zip(rows, effects, strict=True):
        assert row["data-modality"] == modality
        assert row["data-measure"] == effect["measure"]
        oriented = effect["oriented"]
        assert float(str(row["data-value"])) == oriented["value"]
        low, high = row["data-ci-low"], row["data-ci-high"]
        assert (float(str(low)) if low else None) == oriented["ci_low"]
        assert (float(str(high)) if high else None) == oriented["ci_high"]


def test_condition_page_lists_strongest_first_with_guidelines(client: TestClient) -> None:
    html = soup(client.get("/conditions/low-mood"))
    levels = [s.get_text(strip=True) for s in html.select("table.summary td .level")]
    assert levels == ["strong", "insufficient"]
    assert "Fixture Institute" in html.get_text(" ")
    assert html.select_one("figure.forest img[alt]")["src"] == "/conditions/low-mood/forest.svg"
    assert html.select_one("section#alpha") is not None


def test_forest_plot_is_svg_with_its_own_policy(client: TestClient) -> None:
    response = client.get("/conditions/low-mood/forest.svg")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.headers["content-security-policy"].encode() == FIGURE_CSP
    assert response.text.lstrip().startswith("<?xml")
    assert "<script" not in response.text
    # The same release draws the same figure.
    assert client.get("/conditions/low-mood/forest.svg").content == response.content


@pytest.mark.parametrize(("code", "slug"), [("F99.1", "low-mood"), ("6z98", "worry")])
def test_a_condition_code_redirects_to_its_page(client: TestClient, code: str, slug: str) -> None:
    moved = client.get(f"/conditions/{code}", follow_redirects=False)
    assert moved.status_code == 308
    assert moved.headers["location"] == f"{ORIGIN}/conditions/{slug}"
    assert client.get(f"/conditions/{code}").text == client.get(f"/conditions/{slug}").text
    assert client.get("/conditions/F99.9").status_code == 404


def test_condition_without_effects_says_so(client: TestClient) -> None:
    html = soup(client.get("/conditions/worry"))
    assert html.select_one("figure.forest") is None
    assert "No pooled effects are recorded" in html.get_text(" ")
    assert client.get("/conditions/worry/forest.svg").status_code == 404


def test_modality_page_numbers_every_citation(client: TestClient) -> None:
    html = soup(client.get("/modalities/alpha"))
    references = html.select("ol.references li")
    cited = {str(a["href"]) for a in html.select("sup.cites a")}
    assert cited == {f"#ref-{i}" for i in range(1, len(references) + 1)}
    assert [str(a["href"]) for a in html.select("ol.references li a")] == [
        "/citations/alpha2001",
        "/citations/gamma2010",
    ]


def test_compare_page_aligns_the_chosen_modalities(client: TestClient) -> None:
    html = soup(client.get("/compare?modalities=alpha&modalities=beta&condition=low-mood"))
    headers = [th.get_text(strip=True) for th in html.select("table.side thead th")][1:]
    assert headers == ["Alpha therapy", "Beta group therapy"]
    assert html.select_one('input[value="alpha"][checked]') is not None
    json_links = [str(a["href"]) for a in html.select("footer a")]
    assert "/v1/compare?modalities=alpha%2Cbeta&condition=low-mood" in json_links


def test_citation_page_links_downloads_and_claims(client: TestClient) -> None:
    html = soup(client.get("/citations/alpha2001"))
    downloads = [str(a["href"]) for a in html.select("ul.downloads a")]
    assert downloads == [
        "/v1/citations/alpha2001?format=bibtex",
        "/v1/citations/alpha2001?format=ris",
        "/v1/citations/alpha2001?format=csl-json",
    ]
    for url in downloads:
        assert client.get(url).status_code == 200
    assert html.select_one("p.reference") is not None
    assert html.find("a", href="/modalities/alpha") is not None


@pytest.mark.parametrize(
    ("path", "suggestion"),
    [
        ("/conditions/low-mod", "/conditions/low-mood"),
        ("/modalities/alpah", "/modalities/alpha"),
        ("/citations/alpha2010", "/citations/alpha2001"),
        ("/conditions/nothing-like-it", None),
    ],
)
def test_unknown_slug_is_a_friendly_404(
    client: TestClient, path: str, suggestion: str | None
) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"].encode() == PAGE_CSP
    html = soup(response)
    found = html.select_one(".suggestion a")
    assert (found["href"] if found else None) == suggestion


@pytest.mark.parametrize(
    ("path", "status", "text"),
    [
        ("/compare?modalities=alpha", 422, "give 2 to 6 modalities"),
        ("/compare?modalities=alpha&modalities=alpah", 404, 'href="/modalities/alpha"'),
        ("/compare?modalities=alpha&modalities=beta&condition=nope", 404, "no condition"),
        ("/?population=martians", 422, "population"),
    ],
)
def test_bad_input_is_a_page(client: TestClient, path: str, status: int, text: str) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert text in response.text


def test_search_page_keeps_marks_and_escapes_the_rest(client: TestClient) -> None:
    html = soup(client.get("/search?q=fixture"))
    assert html.select("ol.hits li")
    assert str(snippet_html("<b>x</b> <mark>grief</mark>")) == (
        "&lt;b&gt;x&lt;/b&gt; <mark>grief</mark>"
    )


def test_api_answers_and_schema_are_unchanged(client: TestClient) -> None:
    assert client.get("/v1/modalities/alpha").headers["content-type"] == "application/json"
    paths = client.get("/openapi.json").json()["paths"]
    assert [path for path in paths if area(path) in (Area.page, Area.figure)] == []


def _row(measure: EffectMeasure, value: float, low: float | None, high: float | None) -> ForestRow:
    return ForestRow(
        modality="alpha",
        modality_name="Alpha therapy",
        condition="low-mood",
        population="adults",
        measure=measure,
        value=value,
        ci_low=low,
        ci_high=high,
        comparator="waitlist",
        outcome="Symptoms",
        studies=None,
        participants=None,
        citation="alpha2001",
        note=None,
    )


def test_forest_panels_keep_scales_apart() -> None:
    rows = [
        _row(EffectMeasure.g, 0.5, 0.2, 0.8),
        _row(EffectMeasure.rr, 0.7, 0.5, 0.9),
        _row(EffectMeasure.md, -3.0, None, None),
        _row(EffectMeasure.smd, 0.3, None, None),
    ]
    assert [(title.split(" (")[0], len(found)) for title, found in panels(rows)] == [
        ("Standardised mean difference", 2),
        ("Ratio", 1),
        ("Mean difference", 1),
    ]
    svg = forest_svg(rows)
    assert svg == forest_svg(rows)  # deterministic: the ETag stays put
    assert rows[2].figures == "-3.00 (no interval)"
    with pytest.raises(ValueError, match="no effects"):
        forest_svg([])


def test_condition_page_leads_with_the_summary_and_names_not_slugs(client: TestClient) -> None:
    html = soup(client.get("/conditions/mood-disorders"))
    lead = html.select_one("h1 + .at-a-glance")
    assert lead is not None
    text = lead.get_text(" ", strip=True)
    assert text.startswith("First-line by guideline: Alpha therapy (Fixture Institute)")
    assert "Strongest evidence (strong): Alpha therapy (adults)" in text
    # A narrower condition's indication is named by the condition's name, never its slug.
    summary = html.select_one("table.summary").get_text(" ")
    assert "Low mood disorder" in summary
    assert "low-mood" not in summary
    crumbs = soup(client.get("/conditions/low-mood")).select_one("nav.crumbs")
    assert crumbs is not None
    assert "Mood disorders" in crumbs.get_text()


@pytest.mark.parametrize(
    ("path", "named"),
    [
        ("/conditions/low-mod", "Low mood disorder"),
        ("/modalities/alpah", "Alpha therapy"),
    ],
)
def test_a_suggestion_is_named(client: TestClient, path: str, named: str) -> None:
    html = soup(client.get(path))
    found = html.select_one(".suggestion a")
    assert found is not None
    assert found.get_text() == named


def test_compare_keeps_the_form_with_the_error_beside_it(client: TestClient) -> None:
    response = client.get("/compare?modalities=alpha&condition=low-mood")
    assert response.status_code == 422
    html = soup(response)
    assert html.select_one('form.compare-form input[value="alpha"][checked]') is not None
    assert html.select_one('select#condition option[value="low-mood"][selected]') is not None
    error = html.select_one(".compare-layout .form-error[role=alert]")
    assert error is not None
    assert "give 2 to 6 modalities" in error.get_text()
    html = soup(client.get("/compare?modalities=alpha&modalities=alpah"))
    link = html.select_one(".form-error a")
    assert link is not None
    assert (link["href"], link.get_text()) == ("/modalities/alpha", "Alpha therapy")


def test_compare_formats_are_labelled_and_leave_out_the_unknown(client: TestClient) -> None:
    html = soup(client.get("/compare?modalities=alpha&modalities=beta"))
    formats = next(tr for tr in html.select("table.side tbody tr") if tr.th.get_text() == "Formats")
    items = [li.get_text(" ", strip=True) for li in formats.select("li")]
    assert items
    assert all("—" not in item for item in items)
    assert all(li.strong is not None for li in formats.select("li"))


def test_every_variant_has_a_name() -> None:
    assert set(VARIANT_NAMES) == set(ALL_VARIANTS)


def test_lead_sentences_without_guidelines_or_indications() -> None:
    condition = s.ConditionDetail(
        slug="x",
        name="X",
        aliases=[],
        lay_terms=[],
        parent=None,
        description=None,
        codes=[],
        url="/v1/conditions/x",
        children=[],
        modalities=[],
    )
    assert lead_sentences(condition) == ["No therapy is indicated for X in this release."]


def test_figures_keep_text_at_eleven_points_and_the_phone_narrow() -> None:
    rows = [_row(EffectMeasure.g, 0.5, 0.2, 0.8), _row(EffectMeasure.rr, 1.4, 1.1, 1.9)]
    for layout, width in ((Layout.wide, WIDE_WIDTH_IN), (Layout.phone, PHONE_WIDTH_IN)):
        svg = forest_svg(rows, layout)
        sizes = {float(x) for x in re.findall(r"font-size: ([0-9.]+)px", svg)}
        assert min(sizes) >= FONT_PT
        assert f'width="{width * 72:g}pt"' in svg
        assert "favours control ←   → favours the therapy" in svg
    # 11 pt on a drawing this wide, shown 343 px wide (a 375 px screen), is at least 11 px.
    assert FONT_PT * 343 / (PHONE_WIDTH_IN * 72) >= 11


def test_redoc_bundle_fetches_nothing_from_elsewhere(client: TestClient) -> None:
    page = client.get("/redoc")
    assert page.status_code == 200
    assert 'src="/redoc/redoc.standalone.js"' in page.text
    assert "googleapis" not in page.text
    bundle = client.get("/redoc/redoc.standalone.js")
    assert bundle.status_code == 200
    assert bundle.headers["content-security-policy"].encode() == DOCS_CSP
    assert b"cdn.redoc.ly/redoc/logo-mini.svg" not in bundle.content
    assert b"data:image/svg+xml" in bundle.content


@pytest.fixture(scope="module")
def real_client(http_real_db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=http_real_db_url))) as client:
        yield client


CBT_MDD = "/conditions/major-depression/trials/cbt:major-depression:adults"


def test_trial_forest_plot_states_the_pooled_figure(real_client: TestClient) -> None:
    pooled = real_client.get(
        "/v1/pooled?modality=cbt&condition=major-depression&population=adults&comparator=control"
    ).json()
    wide = real_client.get(f"{CBT_MDD}/control.svg")
    assert wide.status_code == 200
    assert wide.headers["content-type"] == "image/svg+xml"
    assert wide.headers["content-security-policy"].encode() == FIGURE_CSP
    figure = f"{pooled['estimate']:.2f} [{pooled['ci_low']:.2f}, {pooled['ci_high']:.2f}]"
    assert figure in wide.text
    assert f"prediction {pooled['pi_low']:.2f} to {pooled['pi_high']:.2f}" in wide.text
    # Every study is a row of the whole plot, with its weight; a phone gets the heaviest 20.
    for study in pooled["studies"]:
        assert f"{study['g']:.2f} [{study['ci_low']:.2f}, {study['ci_high']:.2f}], " in wide.text
    phone = real_client.get(f"{CBT_MDD}/control.svg?layout=phone").text
    shown = [x for x in pooled["studies"] if f"{x['g']:.2f} [{x['ci_low']:.2f}" in phone]
    assert len(pooled["studies"]) > PHONE_STUDIES
    assert len(shown) >= PHONE_STUDIES  # at least those (another may share its figures)
    assert f"The {PHONE_STUDIES} heaviest of {len(pooled['studies'])} effects" in phone
    assert real_client.get(f"{CBT_MDD}/control.svg").content == wide.content  # deterministic


def test_trial_plots_are_offered_only_where_the_page_has_them(real_client: TestClient) -> None:
    html = soup(real_client.get("/conditions/major-depression"))
    sources = {str(img["src"]) for img in html.select("details.trial-plot img")}
    assert f"{CBT_MDD}/control.svg" in sources
    assert f"{CBT_MDD}/control/funnel.svg" in sources
    # Fewer than ten studies: no funnel plot.
    few = "/conditions/major-depression/trials/group:major-depression:adults/other-control"
    assert f"{few}.svg" in sources
    assert f"{few}/funnel.svg" not in sources
    assert real_client.get(f"{few}/funnel.svg").status_code == 404
    assert real_client.get(f"{CBT_MDD}/control/funnel.svg").status_code == 200
    for bad in (
        f"{CBT_MDD}/nonsense.svg",
        "/conditions/ptsd/trials/cbt:major-depression:adults/control.svg",
    ):
        assert real_client.get(bad).status_code == 404
    assert real_client.get(f"{CBT_MDD}/control.svg?layout=tiny").status_code == 422
