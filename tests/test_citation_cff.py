"""CITATION.cff: valid Citation File Format, and in step with the release in seed/."""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.helpers import in_ci

ROOT = Path(__file__).resolve().parents[1]


def _cff() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    return data


def _schema() -> dict[str, Any] | None:
    """The Citation File Format 1.2.0 JSON schema as cffconvert ships it: from the file named by
    THERAPY_KB_CFF_SCHEMA (``make test`` unpacks it from cffconvert's wheel, since cffconvert
    pins jsonschema < 4, which the suite cannot use), or from an installed cffconvert."""
    path = os.environ.get("THERAPY_KB_CFF_SCHEMA")
    if path:
        schema: dict[str, Any] = json.loads(Path(path).read_text())
        return schema
    try:
        shipped = resources.files("cffconvert") / "schemas" / "1.2.0" / "schema.json"
        schema = json.loads(shipped.read_text())
    except (ModuleNotFoundError, FileNotFoundError):
        return None
    return schema


def test_citation_file_is_valid_cff() -> None:
    schema = _schema()
    if schema is None:
        if in_ci():
            pytest.fail("the CFF 1.2.0 schema is missing: install cffconvert")
        pytest.skip("the CFF 1.2.0 schema is not installed (cffconvert)")
    jsonschema.validate(_cff(), schema, format_checker=jsonschema.FormatChecker())


def test_citation_file_names_the_release_in_seed() -> None:
    release = yaml.safe_load((ROOT / "seed" / "release.yaml").read_text())
    cff = _cff()
    assert cff["cff-version"] == "1.2.0"
    assert cff["type"] == "dataset"
    assert cff["version"] == release["version"]
    assert cff["date-released"] == release["date"].isoformat()
    assert cff["license"] == release["license"]
    assert cff["authors"]
    assert cff["title"]
    assert cff["message"]
