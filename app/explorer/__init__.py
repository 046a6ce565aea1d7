"""The explorer: server-rendered HTML pages for people, over the same queries as ``/v1``.

``routes`` holds the pages, ``forest`` draws the forest plots, ``render`` the Jinja2
environment; templates live in ``app/templates`` and the stylesheet in ``app/static``.
This module stays light: ``app.main`` hands ``is_page`` and ``is_figure`` to the layers
that give the pages their caching and their Content-Security-Policy.
"""

from __future__ import annotations

PAGE_PATHS = ("/", "/compare", "/search")
PAGE_PREFIXES = ("/conditions/", "/modalities/", "/citations/")
STATIC_PREFIX = "/static/"
FIGURE_SUFFIX = ".svg"


def is_page(path: str) -> bool:
    """Whether ``path`` is an explorer page or figure (answers depend only on the release)."""
    return path in PAGE_PATHS or path.startswith(PAGE_PREFIXES)


def is_figure(path: str) -> bool:
    """A server-drawn SVG figure: shown as an image, styled only by its own inline styles."""
    return path.startswith(PAGE_PREFIXES) and path.endswith(FIGURE_SUFFIX)
