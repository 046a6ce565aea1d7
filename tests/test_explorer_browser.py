"""The explorer in a real browser: Debian's Chromium driven by Playwright, over the real
knowledge base served by a real server. Every page is checked with axe-core (no serious or
critical violation), for console errors and for requests to another origin, for a page no
wider than the screen and for figures whose text shows at 11 px or more, at desktop (1280 px)
and phone (375 px) width; so are the API's documentation pages. One browser and one tab per
width serve the whole module. With SCREENSHOTS_DIR set, each page is saved there at both
widths (``make screenshots`` refreshes docs/screenshots)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_playwright_python import sync_playwright as axe_api
from playwright import sync_api

from app.config import Settings
from app.db import create_db_engine
from app.migrate import upgrade
from app.seeding import load_seed, read_seed_dir
from tests.conftest import REAL_SEED
from tests.helpers import PATIENCE_SECONDS, in_ci, wait_until
from tests.pgcluster import free_port

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 800}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}
MIN_TEXT_PX = 11.0
PAGES = {
    "map": "/",
    "condition": "/conditions/panic-disorder",
    "condition-many": "/conditions/major-depression",
    "modality": "/modalities/ipt",
    "compare": "/compare?modalities=ipt&modalities=cbt&modalities=dbt&condition=major-depression",
    "citation": "/citations/cuijpers2011",
    "search": "/search?q=grief",
    "not-found": "/conditions/panik",
}
SCREENSHOTS = os.environ.get("SCREENSHOTS_DIR")


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server on a free loopback port over the real seed, ready once /readyz says so."""
    url = f"sqlite:///{tmp_path_factory.mktemp('explorer') / 'kb.sqlite3'}"
    engine = create_db_engine(Settings(database_url=url))
    upgrade(engine)
    load_seed(engine, read_seed_dir(REAL_SEED))
    engine.dispose()
    port = free_port()
    env = {**os.environ, "THERAPY_KB_DATABASE_URL": url, "THERAPY_KB_LOG_LEVEL": "warning"}
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        assert server.poll() is None, "the server exited"
        try:
            return httpx.get(f"{base}/readyz", timeout=PATIENCE_SECONDS).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(ready, "the server is ready")
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Watched:
    """A page with everything that went wrong on it recorded: console errors, uncaught
    errors, and any request that left the app's origin."""

    def __init__(self, page: Any, base: str) -> None:
        self.page = page
        self.errors: list[str] = []
        self.foreign: list[str] = []
        page.on(
            "console",
            lambda m: self.errors.append(m.text) if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        # A blob: URL made by a page of this origin is this origin's (ReDoc's web worker).
        own = (base + "/", "data:", f"blob:{base}/")
        page.on("request", lambda r: None if r.url.startswith(own) else self.foreign.append(r.url))

    def reset(self) -> Watched:
        self.errors.clear()
        self.foreign.clear()
        return self


@pytest.fixture(scope="module")
def tabs(browser: Any, base_url: str) -> Iterator[dict[str, Watched]]:
    """One tab per width, shared by the module's tests (each resets what it watches)."""
    contexts = {name: browser.new_context(viewport=size) for name, size in VIEWPORTS.items()}
    try:
        out = {}
        for name, context in contexts.items():
            context.set_default_timeout(30_000)
            out[name] = Watched(context.new_page(), base_url)
        yield out
    finally:
        for context in contexts.values():
            context.close()


@pytest.fixture
def watched(tabs: dict[str, Watched]) -> Watched:
    """The desktop tab, for tests that look at one width."""
    return tabs["desktop"].reset()


# The images a reader sees now: none inside a closed <details> (those load when opened).
SHOWN_IMAGES = "[...document.images].filter(i => !i.closest('details:not([open])'))"
FONT_SIZE_RE = re.compile(r"font-size:\s*([0-9.]+)px")
VIEWBOX_RE = re.compile(r'viewBox="[0-9.]+ [0-9.]+ ([0-9.]+) [0-9.]+"')


def smallest_figure_text_px(page: Any) -> dict[str, float]:
    """For each SVG figure shown: its smallest text as drawn on the screen, in CSS pixels (the
    text's size in the drawing's units, times the image's width over the drawing's)."""
    shown = page.evaluate(
        f"{SHOWN_IMAGES}.filter(i => i.currentSrc.includes('.svg'))"
        ".map(i => [i.currentSrc, i.getBoundingClientRect().width])"
    )
    out = {}
    for src, width in shown:
        svg = httpx.get(src, timeout=PATIENCE_SECONDS).text
        found = VIEWBOX_RE.search(svg)
        sizes = [float(x) for x in FONT_SIZE_RE.findall(svg)]
        assert found is not None, src
        assert sizes, src
        out[src] = min(sizes) * width / float(found.group(1))
    return out


def assert_figures_load_and_read(page: Any) -> None:
    page.wait_for_function(f"() => {SHOWN_IMAGES}.every(i => i.complete)")
    assert page.evaluate(f"{SHOWN_IMAGES}.every(i => i.naturalWidth > 0)")
    small = {src: px for src, px in smallest_figure_text_px(page).items() if px < MIN_TEXT_PX}
    assert small == {}


def serious_violations(page: Any) -> list[str]:
    results = axe_api.Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("name", list(PAGES))
@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_page_is_accessible_self_contained_and_fits(
    tabs: dict[str, Watched], base_url: str, name: str, width: str
) -> None:
    watched = tabs[width].reset()
    page = watched.page
    response = page.goto(base_url + PAGES[name])
    assert response is not None
    assert response.status == (404 if name == "not-found" else 200)
    page.wait_for_load_state("load")
    # Every image shown arrived and was drawn (the forest plot among them), its text legible.
    assert_figures_load_and_read(page)
    assert serious_violations(page) == []
    # Nothing wider than the screen: wide tables scroll inside their own frame.
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[width]["width"]
    # The only error a browser may report is the 404 status of the not-found page itself.
    expected = ["404"] if name == "not-found" else []
    assert [e for e in watched.errors if not any(x in e for x in expected)] == []
    assert watched.foreign == []
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}-{width}.png"))


def test_two_clicks_from_the_map_to_the_evidence_and_one_more_to_the_source(
    watched: Watched, base_url: str
) -> None:
    page = watched.page
    page.goto(base_url + "/")
    page.get_by_role("link", name="CBT for Panic disorder: strong").click()
    page.wait_for_url("**/conditions/panic-disorder#cbt")
    assert page.locator("h1").inner_text() == "Panic disorder"
    summary = page.locator("table.summary tbody tr").first
    assert "Cognitive behavioural therapy" in summary.inner_text()
    assert "NICE: recommended" in summary.inner_text()
    assert page.locator("#effects-table tbody tr").count() > 0
    page.locator("section#cbt a[href^='/citations/']").first.click()
    page.wait_for_url("**/citations/*")
    assert page.locator("ul.downloads a").count() == 3
    assert watched.errors == []
    assert watched.foreign == []


def test_compare_form_works_without_javascript(browser: Any, base_url: str) -> None:
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(base_url + "/compare")
        page.get_by_label("Interpersonal psychotherapy (IPT)").check()
        page.get_by_label("Cognitive behavioural therapy (CBT)").check()
        page.get_by_label("For the condition").select_option("panic-disorder")
        page.get_by_role("button", name="Compare").click()
        page.wait_for_url("**/compare?modalities=*")
        assert "condition=panic-disorder" in page.url
        headers = page.locator("table.side thead th a").all_inner_texts()
        assert sorted(headers) == ["Cognitive behavioural therapy", "Interpersonal psychotherapy"]
    finally:
        context.close()


def test_forest_plot_states_the_figures_of_the_export(watched: Watched, base_url: str) -> None:
    export = httpx.get(f"{base_url}/v1/export?format=json", timeout=PATIENCE_SECONDS).json()
    narrower = {"major-depression"} | {
        c["slug"] for c in export["conditions"] if c["parent"] == "major-depression"
    }
    # The plot and its table state each figure oriented so that the therapy's side is positive
    # (above 1 for ratios); an effect whose direction is not stated is left out of both.
    expected = Counter(
        (
            x["slug"],
            e["measure"],
            e["oriented"]["value"],
            e["oriented"]["ci_low"],
            e["oriented"]["ci_high"],
        )
        for x in export["modalities"]
        for i in x["indications"]
        if i["condition"] in narrower
        for e in i["effects"]
        if e.get("oriented")
    )
    page = watched.page
    page.goto(base_url + "/conditions/major-depression")
    rows = page.locator("#effects-table tbody tr")
    shown = Counter(
        (
            attrs["modality"],
            attrs["measure"],
            float(attrs["value"]),
            float(attrs["ciLow"]) if attrs["ciLow"] else None,
            float(attrs["ciHigh"]) if attrs["ciHigh"] else None,
        )
        for attrs in rows.evaluate_all("rows => rows.map(r => ({...r.dataset}))")
    )
    assert sum(expected.values()) > 0
    assert shown == expected
    figure = page.locator("#effects-plot img")
    assert figure.evaluate("img => img.naturalWidth") > 0
    assert "the table below states every figure" in (figure.get_attribute("alt") or "")
    if SCREENSHOTS:
        page.locator("#effects-plot").screenshot(path=str(Path(SCREENSHOTS) / "forest-plot.png"))


def test_keyboard_reaches_the_content_and_the_search(watched: Watched, base_url: str) -> None:
    page = watched.page
    page.goto(base_url + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    page.wait_for_url("**/#main")
    page.goto(base_url + "/")
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "site-search":
            break
    assert page.evaluate("document.activeElement.id") == "site-search"
    page.keyboard.type("grief")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=grief")
    assert page.locator("ol.hits li").count() > 0


def test_print_leaves_out_navigation_and_keeps_the_figures(watched: Watched, base_url: str) -> None:
    page = watched.page
    page.goto(base_url + "/conditions/major-depression")
    page.emulate_media(media="print")
    try:
        assert not page.locator("header.site nav").is_visible()
        assert not page.locator("form.search").is_visible()
        assert page.locator("#effects-plot img").first.is_visible()
        # Folded details are printed unfolded.
        assert page.locator("#effects-table").is_visible()
        # A scrolling table region would cut columns off on paper.
        overflow = page.locator(".table-scroll").first.evaluate(
            "e => getComputedStyle(e).overflowX"
        )
        assert overflow == "visible"
    finally:
        page.emulate_media(media="screen")


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_condition_page_leads_with_what_to_offer_and_folds_the_rest(
    tabs: dict[str, Watched], base_url: str, width: str
) -> None:
    page = tabs[width].reset().page
    page.goto(base_url + "/conditions/ptsd")
    # The first thing after the heading: the guidelines' first line and the strongest evidence.
    lead = page.locator("h1 + .at-a-glance")
    assert lead.is_visible()
    text = lead.inner_text()
    assert "First-line by guideline: Cognitive behavioural therapy" in text
    assert "Strongest evidence (strong)" in text
    assert lead.bounding_box()["y"] < VIEWPORTS[width]["height"]
    # Details are folded until asked for, and open on a click.
    folded = page.locator("section.indication details").first
    assert folded.get_attribute("open") is None
    assert not folded.locator("h3").first.is_visible()
    folded.locator("summary").click()
    assert folded.locator("h3").first.is_visible()


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_trial_plots_show_the_pooled_figures_of_the_api(
    tabs: dict[str, Watched], base_url: str, width: str
) -> None:
    watched = tabs[width].reset()
    page = watched.page
    page.goto(base_url + "/conditions/major-depression")
    opened = page.locator("details.trial-plot[id='trials-cbt-major-depression-adults-control']")
    opened.locator("summary").click()
    assert_figures_load_and_read(page)
    forest = opened.locator("figure.forest img")
    src = forest.evaluate("i => i.currentSrc")
    assert ("layout=phone" in src) is (width == "phone")
    # The plot states the API's pooled figure and its prediction interval.
    api_url = opened.get_by_role("link", name="the pooled figure (JSON)").get_attribute("href")
    pooled = httpx.get(base_url + str(api_url), timeout=PATIENCE_SECONDS).json()
    svg = httpx.get(src, timeout=PATIENCE_SECONDS).text
    assert f"{pooled['estimate']:.2f} [{pooled['ci_low']:.2f}, {pooled['ci_high']:.2f}]" in svg
    assert f"prediction {pooled['pi_low']:.2f} to {pooled['pi_high']:.2f}" in svg
    assert "favours control ←   → favours the therapy" in svg
    assert len(pooled["studies"]) > 20
    # A phone shows the 20 heaviest effects and links the whole plot.
    heaviest = f"The 20 heaviest of {len(pooled['studies'])} effects"
    assert (heaviest in svg) is (width == "phone")
    whole = opened.get_by_role("link", name="The whole plot").get_attribute("href")
    answer = httpx.get(base_url + str(whole), timeout=PATIENCE_SECONDS)
    assert answer.status_code == 200
    assert heaviest not in answer.text
    # Enough studies for a funnel plot: it is there, and loaded.
    assert opened.locator("figure.funnel img").evaluate("i => i.naturalWidth") > 0
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[width]["width"]
    assert watched.errors == []
    assert watched.foreign == []
    if SCREENSHOTS:
        opened.screenshot(path=str(Path(SCREENSHOTS) / f"trial-plot-{width}.png"))


def test_wide_tables_scroll_in_a_frame_with_their_first_column_kept(
    tabs: dict[str, Watched], base_url: str
) -> None:
    page = tabs["phone"].reset().page
    page.goto(base_url + "/")
    region = page.locator(".table-scroll").first
    # It scrolls, inside a visible frame, and its first column stays in view.
    assert region.evaluate("e => e.scrollWidth > e.clientWidth")
    assert region.evaluate("e => parseFloat(getComputedStyle(e).borderTopWidth)") > 0
    first = region.locator("tbody th").first
    before = first.bounding_box()["x"]
    region.evaluate("e => { e.scrollLeft = 400; }")
    page.wait_for_function("() => document.querySelector('.table-scroll').scrollLeft > 0")
    assert first.bounding_box()["x"] == before
    # A short table becomes cards: every value named, nothing to scroll.
    page.goto(base_url + "/conditions/panic-disorder")
    cards = page.locator("table.summary")
    assert cards.evaluate("t => getComputedStyle(t).display") == "block"
    # The column heads are left to screen readers (one pixel, clipped).
    assert page.locator("table.summary thead").bounding_box()["width"] <= 1
    label = page.locator("table.summary td[data-label]").first.evaluate(
        "td => getComputedStyle(td, '::before').content"
    )
    assert label == '"Evidence: "'


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_compare_keeps_the_form_and_puts_the_error_beside_it(
    tabs: dict[str, Watched], base_url: str, width: str
) -> None:
    page = tabs[width].reset().page
    response = page.goto(base_url + "/compare?modalities=ipt&condition=panic-disorder")
    assert response is not None
    assert response.status == 422
    form = page.locator("form.compare-form")
    error = page.locator(".form-error")
    assert form.is_visible()
    assert error.is_visible()
    assert "give 2 to 6 modalities" in error.inner_text()
    assert page.get_by_label("Interpersonal psychotherapy (IPT)").is_checked()
    assert page.get_by_label("For the condition").input_value() == "panic-disorder"
    box, beside = form.bounding_box(), error.bounding_box()
    if width == "desktop":
        assert beside["x"] >= box["x"] + box["width"]
    else:
        assert beside["y"] >= box["y"] + box["height"]
    assert serious_violations(page) == []
    # Formats are labelled values; nothing unknown is printed as a dash.
    page.goto(base_url + "/compare?modalities=ipt&modalities=cbt&modalities=dbt")
    formats = page.get_by_role("row", name=re.compile(r"^Formats")).inner_text()
    assert "—" not in formats
    assert "sessions" in formats


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_api_documentation_loads_everything_from_this_host(
    watched: Watched, base_url: str, path: str
) -> None:
    page = watched.page
    page.goto(base_url + path)
    # The rendered document: its title comes from /openapi.json, read by the page's script.
    page.get_by_role("heading", name=re.compile(r"^therapy-kb")).first.wait_for()
    page.wait_for_load_state("networkidle")
    assert watched.errors == []
    assert watched.foreign == []
