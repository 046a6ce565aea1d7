"""The explorer in a real browser: Debian's Chromium driven by Playwright, over the real
knowledge base served by a real server. Every page is checked with axe-core (no serious or
critical violation), for console errors and for requests to another origin, at desktop and
phone width. With SCREENSHOTS_DIR set, each page is saved there at both widths
(``make screenshots`` refreshes docs/screenshots)."""

from __future__ import annotations

import os
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
        own = (base + "/", "data:")
        page.on("request", lambda r: None if r.url.startswith(own) else self.foreign.append(r.url))


@pytest.fixture
def watched(browser: Any, base_url: str) -> Iterator[Watched]:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(30_000)
    try:
        yield Watched(context.new_page(), base_url)
    finally:
        context.close()


def serious_violations(page: Any) -> list[str]:
    results = axe_api.Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("name", list(PAGES))
def test_page_is_accessible_self_contained_and_fits(
    watched: Watched, base_url: str, name: str, viewport: dict[str, int]
) -> None:
    page = watched.page
    page.set_viewport_size(viewport)
    response = page.goto(base_url + PAGES[name])
    assert response is not None
    assert response.status == (404 if name == "not-found" else 200)
    page.wait_for_load_state("load")
    # Every image arrived and was drawn (the forest plot among them).
    assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    assert serious_violations(page) == []
    # Nothing wider than the screen, besides tables that scroll in their own region.
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    # The only error a browser may report is the 404 status of the not-found page itself.
    expected = ["404"] if name == "not-found" else []
    assert [e for e in watched.errors if not any(x in e for x in expected)] == []
    assert watched.foreign == []
    if SCREENSHOTS:
        width = "phone" if viewport is PHONE else "desktop"
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
    figure = page.locator("figure.forest img")
    assert figure.evaluate("img => img.naturalWidth") > 0
    assert "the table below states every figure" in (figure.get_attribute("alt") or "")
    if SCREENSHOTS:
        page.locator("figure.forest").screenshot(path=str(Path(SCREENSHOTS) / "forest-plot.png"))


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
    assert not page.locator("header.site nav").is_visible()
    assert not page.locator("form.search").is_visible()
    assert page.locator("figure.forest img").is_visible()
    assert page.locator("#effects-table").is_visible()
    # A scrolling table region would cut columns off on paper.
    overflow = page.locator(".table-scroll").first.evaluate("e => getComputedStyle(e).overflowX")
    assert overflow == "visible"
