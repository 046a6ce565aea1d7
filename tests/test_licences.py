"""The licence files exist and every place that names a licence names the same one: the code's
(LICENSE, pyproject.toml, the installed metadata, the README) and the content's (seed/LICENSE,
seed/release.yaml as /v1/meta serves it, CITATION.cff, the README)."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import metadata
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app

ROOT = Path(__file__).resolve().parent.parent
CODE_LICENSE = ROOT / "LICENSE"
CONTENT_LICENSE = ROOT / "seed" / "LICENSE"
CC_BY_URL = "https://creativecommons.org/licenses/by/4.0/"


def spdx_identifier(path: Path) -> str:
    found = re.findall(r"^SPDX-License-Identifier: (\S+)$", path.read_text(), re.MULTILINE)
    assert len(found) == 1, f"{path.name}: expected one SPDX-License-Identifier line"
    return found[0]


def readme_licences() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme.split("## Licences", 1)[1].split("\n## ", 1)[0]


def test_the_code_is_mit_licensed() -> None:
    text = CODE_LICENSE.read_text()
    assert text.startswith("MIT License\n\nCopyright (c) 2026 therapy-kb contributors\n")
    assert "Permission is hereby granted, free of charge" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"] == "MIT"
    assert metadata("therapy-kb")["License-Expression"] == "MIT"
    section = readme_licences()
    assert "Code: MIT (`LICENSE`" in section


def test_the_content_licence_file_names_cc_by_4() -> None:
    text = " ".join(CONTENT_LICENSE.read_text().split())
    assert spdx_identifier(CONTENT_LICENSE) == "CC-BY-4.0"
    assert "Creative Commons Attribution 4.0 International" in text
    assert CC_BY_URL in text
    assert "credit" in text  # the attribution the licence requires
    section = readme_licences()
    assert "CC BY 4.0 (`seed/LICENSE`" in section


def test_the_release_and_citation_file_name_the_content_licence() -> None:
    identifier = spdx_identifier(CONTENT_LICENSE)
    release = yaml.safe_load((ROOT / "seed" / "release.yaml").read_text())
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert release["license"] == cff["license"] == identifier


def test_meta_serves_the_content_licence(http_real_db_url: str) -> None:
    with TestClient(create_app(Settings(database_url=http_real_db_url))) as client:
        response = client.get("/v1/meta")
    assert response.status_code == 200, response.text
    assert response.json()["license"] == spdx_identifier(CONTENT_LICENSE)
