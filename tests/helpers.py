"""Small helpers shared by the tests."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, select

TABLES = [
    "release",
    "citation",
    "condition",
    "condition_code",
    "modality",
    "indication",
    "consideration",
    "format",
    "component",
    "claim_citation",
    "search_document",
]


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: equal snapshots mean an unchanged database."""
    meta = MetaData()
    meta.reflect(engine, only=TABLES)
    with engine.connect() as conn:
        return {
            name: sorted(tuple(map(repr, row)) for row in conn.execute(select(meta.tables[name])))
            for name in TABLES
        }


def copy_seed(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target
