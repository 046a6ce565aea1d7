"""The documentation keeps up with the code, and the repository stands alone: every setting is
in the README's table, every file the docs name exists, and nothing points outside the
repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.config import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
CHECKED = [
    *DOCS,
    ROOT / "Makefile",
    ROOT / "schemathesis.toml",
    *sorted(p for d in ("app", "tests", "bench", "migrations") for p in (ROOT / d).rglob("*.py")),
    *sorted((ROOT / "tests").glob("*.yaml")),
]
# Spelled in pieces so that this file does not match itself.
OUTSIDE = re.compile(
    "|".join([r"\.\./" + "shared", "shared" + r"/(design|reference)", r"\bissue" + r" #?\d"]), re.I
)


def test_every_setting_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in Settings.model_fields if f"THERAPY_KB_{name.upper()}" not in readme]
    assert missing == [], f"settings missing from the README's table: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_files_the_docs_name_exist(doc: Path) -> None:
    named = set(
        re.findall(r"`((?:app|tests|bench|docs|migrations|seed)/[\w./-]+)`", doc.read_text())
    )
    missing = sorted(n for n in named if not (ROOT / n.rstrip("/")).exists() and "*" not in n)
    assert missing == [], f"{doc.name} names files that do not exist: {missing}"


def test_nothing_points_outside_the_repository() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in CHECKED
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert found == [], "\n".join(found)
