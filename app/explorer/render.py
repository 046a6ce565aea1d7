"""The Jinja2 environment of the explorer, and the filters its templates use."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from app import models as m
from app import schemas as s
from app.domain import VARIANT_NAMES, Evidence
from app.release import RELEASE_HEADER

APP_DIR = Path(__file__).resolve().parent.parent
TEMPLATES = APP_DIR / "templates"
STATIC = APP_DIR / "static"
MARK_RE = re.compile(r"(</?mark>)")


def short_authors(c: s.Citation) -> str:
    """'Cuijpers et al.', 'Lipsitz & Markowitz', 'NICE': the author part of a short label."""
    names = [a.family or a.literal or "" for a in c.authors]
    names = [n for n in names if n]
    if not names:
        return c.container_title or c.publisher or c.key
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} & {names[1]}"
    return f"{names[0]} et al."


def short_label(c: s.Citation) -> str:
    """'Cuijpers et al. 2014': how a citation is named next to a figure."""
    return f"{short_authors(c)} {c.year}" if c.year else short_authors(c)


def author_list(c: s.Citation) -> str:
    parts = []
    for a in c.authors:
        if a.literal:
            parts.append(a.literal)
        elif a.family:
            parts.append(f"{a.family}, {a.given}" if a.given else a.family)
    return "; ".join(parts)


def snippet_html(snippet: str) -> Markup:
    """A search snippet with its ``<mark>`` tags kept and everything else escaped."""
    return Markup("").join(
        Markup(part) if part in ("<mark>", "</mark>") else escape(part)
        for part in MARK_RE.split(snippet)
    )


def hit_page(hit: s.SearchHit) -> str:
    """The explorer page for a search hit (the API's ``url`` is the JSON)."""
    if hit.type == "modality":
        return f"/modalities/{hit.id}"
    if hit.type == "condition":
        return f"/conditions/{hit.id}"
    if hit.type == "citation":
        return f"/citations/{hit.id}"
    return f"/modalities/{hit.id.split('#', 1)[0]}"


def number(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def variant_name(value: str) -> str:
    return VARIANT_NAMES.get(value, label(value))


def label(value: str) -> str:
    """A vocabulary value as words: 'first-line' stays, 'mixed-control' -> 'mixed control'."""
    return value if value == "first-line" else value.replace("-", " ").replace("_", " ")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
    )
    env.filters.update(
        short_label=short_label,
        author_list=author_list,
        snippet_html=snippet_html,
        hit_page=hit_page,
        number=number,
        label=label,
        variant=variant_name,
    )
    env.globals["levels"] = list(Evidence)
    return env


def page(
    template: str,
    release: m.Release | None,
    json_links: list[tuple[str, str]],
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A whole page: every page names its release and links the JSON it shows."""
    html = (
        environment()
        .get_template(template)
        .render(release=release, json_links=json_links, q=context.pop("q", ""), **context)
    )
    # The release the page shows is the one it is labelled with (app.release.middleware).
    headers = None if release is None else {RELEASE_HEADER: release.content_hash}
    return HTMLResponse(html, status_code=status, headers=headers)
