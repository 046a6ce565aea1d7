"""The URL map: which paths belong to which part of the service, and where each kind of item
lives in the API. Every module that asks "is this path the API, FHIR, a page, the docs?" asks
here (``area``), and every ``url`` field, ``Link`` and ``Location`` is built here (``Urls``).

**Areas.** ``/v1`` is the JSON API, ``/fhir`` the FHIR face, ``/healthz`` and ``/readyz`` the
probes, ``/docs``, ``/redoc``, their assets and ``/openapi.json`` the documentation,
``/static/`` the explorer's stylesheet, and the explorer's pages the rest (``/``,
``/modalities/{slug}``, ...).

**Addresses.** ``Urls`` is bound to one origin (scheme and host as the client addressed the
service, worked out per request by ``app.http.origin``) and is handed as an argument to the
code that builds an answer: the routes take it as a dependency (``UrlsDep``), the queries as a
parameter. ``PATHS`` is the same map without an origin, for what is not an answer to a
request (the search index, the command line, the suggested citation).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlencode

from app.domain import EXPORT_EXTENSIONS, ExportFormat

API = "/v1"
FHIR = "/fhir"
PROBES = ("/healthz", "/readyz")
OPENAPI = "/openapi.json"
DOCS = ("/docs", "/redoc", "/static-offline-docs")
STATIC = "/static/"
# The API's one operation whose answer is a stream with an ETag of its own, not kept in memory.
API_STREAMS = ("/v1/export",)
# The explorer's pages: these paths, and what starts with these prefixes.
PAGE_PATHS = ("/", "/compare", "/search")
PAGE_PREFIXES = ("/conditions/", "/modalities/", "/citations/")
FIGURE_SUFFIX = ".svg"


class Area(StrEnum):
    api = "api"
    fhir = "fhir"
    probe = "probe"
    docs = "docs"
    static = "static"
    page = "page"
    figure = "figure"  # a page's server-drawn SVG figure
    other = "other"  # nothing is served there: a 404


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def area(path: str) -> Area:
    """Which part of the service ``path`` belongs to."""
    if _under(path, API):
        return Area.api
    if _under(path, FHIR):
        return Area.fhir
    if path in PROBES:
        return Area.probe
    if path == OPENAPI or path.startswith(DOCS):
        return Area.docs
    if path.startswith(STATIC):
        return Area.static
    if path.startswith(PAGE_PREFIXES):
        return Area.figure if path.endswith(FIGURE_SUFFIX) else Area.page
    if path in PAGE_PATHS:
        return Area.page
    return Area.other


def is_fhir(path: str) -> bool:
    return _under(path, FHIR)


def kept_per_release(path: str) -> bool:
    """Whether a path's answers depend on the loaded release alone (and the origin), and so are
    kept in memory per release: the API's (but the streamed export) and the explorer's."""
    if path.startswith(API + "/"):
        return not path.startswith(API_STREAMS)
    return area(path) in (Area.page, Area.figure)


def uses_database(path: str) -> bool:
    """Whether answering ``path`` may need a database connection (the liveness probe, the
    documentation and the stylesheet never do)."""
    return path != "/healthz" and area(path) not in (Area.docs, Area.static)


# -- Addresses ---------------------------------------------------------------------------------


def modality_path(slug: str) -> str:
    return f"{API}/modalities/{slug}"


def condition_path(slug: str) -> str:
    return f"{API}/conditions/{slug}"


def citation_path(key: str) -> str:
    return f"{API}/citations/{key}"


def indication_path(id_: str) -> str:
    return f"{API}/indications/{id_}"


def trial_path(id_: str) -> str:
    return f"{API}/trials/{id_}"


def with_query(path: str, params: dict[str, str]) -> str:
    """``path`` with these query parameters (none: the path alone)."""
    return f"{path}?{urlencode(params)}" if params else path


def trials_csv_path(params: dict[str, str]) -> str:
    """The comparisons these filters select, as CSV: the rows behind a pooled figure."""
    return with_query(f"{API}/trials.csv", params)


def export_path(version: str, fmt: ExportFormat) -> str:
    """A kept release's export in one format: the same bytes every time."""
    return f"{API}/releases/{version}/export.{EXPORT_EXTENSIONS[fmt]}"


@dataclass(frozen=True)
class Urls:
    """Absolute addresses on one origin (``https://kb.example.org``; empty: paths alone)."""

    origin: str

    def absolute(self, path: str) -> str:
        """``path`` (starting with ``/``) on this origin."""
        return self.origin + path

    def modality(self, slug: str) -> str:
        return self.origin + modality_path(slug)

    def condition(self, slug: str) -> str:
        return self.origin + condition_path(slug)

    def citation(self, key: str) -> str:
        return self.origin + citation_path(key)

    def indication(self, id_: str) -> str:
        return self.origin + indication_path(id_)

    def trial(self, id_: str) -> str:
        return self.origin + trial_path(id_)

    def trials_csv(self, params: dict[str, str]) -> str:
        return self.origin + trials_csv_path(params)

    def export(self, version: str, fmt: ExportFormat) -> str:
        return self.origin + export_path(version, fmt)

    @property
    def fhir_base(self) -> str:
        return self.origin + FHIR


PATHS = Urls("")
