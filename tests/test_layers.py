"""The package's shape: every module of ``app`` has a layer, and imports only from its own layer
or lower ones (imports inside functions and for types only count too); no import cycles.

The one table below is the rule; docs/architecture.md shows the same layers. A lower layer
that needs something from a higher one gets it handed in as an argument (``app.main`` hands the
release layer the rules of which paths it keeps and how a request's origin is found).
"""

from __future__ import annotations

import ast
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"

# Bottom first. A module may import from its own layer and from any layer of a lower tier. The
# layers of one tier import nothing from each other: the three faces, which read, and the seed
# load, which writes, stand side by side on the same core.
TIERS: list[set[str]] = [
    {"domain"},  # the vocabulary: enums and rules, tables, public shapes, settings, errors
    {"computation"},  # pure functions over the domain: citation formats, suggestions, statistics
    {"db"},  # the engine and the migrations
    {"queries"},  # named reads: the only place that builds SELECTs
    {"release"},  # which release a request reads, and what a worker keeps for it
    {"export"},  # a release's bytes as JSON, NDJSON and CSV, built by the queries
    {"seeding"},  # the seed files, their checks and the load (which keeps each export)
    # What the faces share of a request: parameters, representations, the strict query rule,
    # the origin, the one error writer. It knows no face.
    {"http"},
    {"api", "fhir", "explorer"},  # the faces: the JSON API, FHIR, the HTML explorer
    {"web"},  # the edge: the middleware and the app-level wiring around the faces
    {"entry"},  # the application factory and the command line
]

# Module (or package: all its modules) → layer; the longest entry that matches a module wins.
# ``app`` alone is the package's own ``__init__``. A pattern with ``*`` names modules to come.
LAYER_OF: dict[str, str] = {
    "app": "domain",
    "app.config": "domain",
    "app.errors": "domain",
    "app.domain": "domain",
    "app.models": "domain",
    "app.trial_records": "domain",
    "app.schemas": "domain",
    "app.urls": "domain",
    "app.citations": "computation",
    "app.suggest": "computation",
    "app.icd": "computation",
    "app.meta_analysis*": "computation",
    "app.grading": "computation",
    "app.db": "db",
    "app.migrate": "db",
    "app.queries": "queries",
    "app.release": "release",
    "app.export": "export",
    "app.seeding": "seeding",
    "app.http": "http",
    "app.web": "web",
    "app.routes": "api",
    "app.routes.fhir": "fhir",  # the FHIR face's routes, beside the API's
    "app.fhir": "fhir",
    "app.explorer": "explorer",
    "app.main": "entry",
    "app.cli": "entry",
}

TIER_OF = {layer: rank for rank, tier in enumerate(TIERS) for layer in tier}


def layer_of(module: str) -> str | None:
    """The layer ``module`` belongs to, or None when the table does not name it."""
    if module in LAYER_OF:
        return LAYER_OF[module]
    matching = [
        entry
        for entry in LAYER_OF
        if entry != "app"
        and (module.startswith(entry + ".") or ("*" in entry and fnmatchcase(module, entry)))
    ]
    return LAYER_OF[max(matching, key=len)] if matching else None


def allowed(importer: str, imported: str) -> bool:
    """Whether ``importer`` may import ``imported`` (both modules of ``app``)."""
    mine, theirs = layer_of(importer), layer_of(imported)
    if mine is None or theirs is None:
        return False
    return mine == theirs or TIER_OF[theirs] < TIER_OF[mine]


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module(p): p for p in APP.rglob("*.py")}


def _imports() -> dict[str, set[str]]:
    """Each module of ``app`` and the modules of ``app`` it imports, anywhere in it (inside
    functions, for types only, or at the top)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        targets: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    targets.add(full if full in modules else node.module)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def test_every_module_has_a_layer() -> None:
    unlisted = sorted(name for name in _modules() if layer_of(name) is None)
    assert unlisted == [], f"name a layer for {unlisted} in LAYER_OF"


def test_every_layer_is_in_a_tier() -> None:
    assert set(LAYER_OF.values()) == set(TIER_OF)


def test_layers_import_downwards() -> None:
    wrong = sorted(
        f"{name} ({layer_of(name)}) imports {target} ({layer_of(target)})"
        for name, targets in _imports().items()
        for target in targets
        if not allowed(name, target)
    )
    assert wrong == [], "\n".join(wrong)


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        # Imports the code once had, each against the rule.
        ("app.queries.common", "app.web.release_cache"),  # a query reached up for the memo
        ("app.http.origin", "app.explorer"),  # shared request helpers knew a face's paths
        ("app.release.middleware", "app.http.origin"),  # the release layer reached up
        ("app.fhir.search", "app.web.problems"),  # a face reached up to the edge
        ("app.routes.citations", "app.web.accept"),
        ("app.http.negotiation", "app.routes.citation_formats"),  # shared code knew a face
        ("app.seeding.load", "app.http.params"),
        ("app.explorer.routes", "app.routes.compare"),  # one face used another's parameters
        ("app.explorer.routes", "app.routes.params"),
        ("app.seeding.reader", "app.explorer.render"),  # the load reached up to a face
        ("app.routes.fhir", "app.routes.params"),  # faces side by side import nothing of each other
        ("app.routes.modalities", "app.fhir.resources"),
        ("app.db", "app.queries.common"),
        ("app.queries.modalities", "app.release.cache"),
        ("app.seeding.load", "app.routes.export"),
        ("app.release.snapshot", "app.web.problems"),
        ("app.domain", "app.main"),
        ("app.main", "app.tools"),  # a module the table does not name
        ("app.tools", "app.domain"),
    ],
)
def test_the_rule_refuses(importer: str, imported: str) -> None:
    assert not allowed(importer, imported)


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("app.routes.modalities", "app.release"),
        ("app.explorer.routes", "app.http.params"),
        ("app.fhir.search", "app.http.strict_query"),
        ("app.web.openapi", "app.fhir.outcome"),  # the edge knows the faces
        ("app.web.security_headers", "app.urls"),
        ("app.http.origin", "app.urls"),
        ("app.routes.fhir", "app.fhir.search"),
        ("app.seeding.derived", "app.export"),
        ("app.queries.common", "app.suggest"),
        ("app.meta_analysis.pooling", "app.domain"),
        ("app.main", "app.explorer"),
    ],
)
def test_the_rule_allows(importer: str, imported: str) -> None:
    assert allowed(importer, imported)


def test_no_import_cycles() -> None:
    graph = _imports()
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str], done: set[str]) -> None:
        for target in sorted(graph[node]):
            if target in path:
                cycles.append([*path[path.index(target) :], target])
            elif target not in done:
                visit(target, [*path, target], done)
        done.add(node)

    done: set[str] = set()
    for start in sorted(graph):
        if start not in done:
            visit(start, [start], done)
    assert cycles == [], "\n".join(" -> ".join(c) for c in cycles)


def test_a_cached_answer_crosses_few_layers() -> None:
    """The ASGI layers in front of the release layer, which answers from memory: FastAPI's
    three, then ours, none of them a body rewriter (bench/layers.py prints them)."""
    from bench.layers import cached_path

    names = cached_path()
    assert names[-1] == "ReleaseMiddleware"
    assert len(names) <= 12, names
    assert not {"AbsoluteUrlMiddleware", "OperationOutcomeMiddleware"} & set(names)
