"""The therapy-kb command line, end to end against both engines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings, get_settings
from app.main import create_app
from app.seeding import read_seed_dir
from tests.conftest import FIXTURE_SEED, REAL_SEED
from tests.helpers import copy_seed

runner = CliRunner()


@pytest.fixture
def env_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("THERAPY_KB_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


@pytest.mark.parametrize(
    "command", ["migrate", "seed", "check", "serve", "releases", "diff", "openapi"]
)
def test_every_command_has_help(command: str) -> None:
    result = runner.invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_check_passes_on_the_fixture_seed() -> None:
    result = runner.invoke(cli, ["check", "--dir", str(FIXTURE_SEED)])
    assert result.exit_code == 0, result.output
    assert "2 modalities, 3 conditions, 3 citations" in result.output


def test_check_reports_errors_on_stderr(tmp_path: Path) -> None:
    seed_dir = copy_seed(FIXTURE_SEED, tmp_path / "seed")
    alpha = seed_dir / "modalities" / "alpha.yaml"
    alpha.write_text(
        alpha.read_text().replace(
            "citations: [alpha2001]\nindications", "citations: [alpah2001]\nindications"
        )
    )
    result = runner.invoke(cli, ["check", "--dir", str(seed_dir)])
    assert result.exit_code == 1
    assert "alpha.yaml: citations[0]: unknown citation 'alpah2001'" in result.stderr
    assert "did you mean 'alpha2001'?" in result.stderr
    assert result.stdout == ""


def test_openapi_writes_the_apps_document(tmp_path: Path) -> None:
    expected = create_app(Settings()).openapi()
    printed = runner.invoke(cli, ["openapi"])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout) == expected
    out = tmp_path / "openapi.json"
    written = runner.invoke(cli, ["openapi", "--out", str(out)])
    assert written.exit_code == 0, written.output
    assert written.stdout == ""
    assert json.loads(out.read_text(encoding="utf-8")) == expected
    assert expected["paths"]["/v1/compare"]["get"]["operationId"] == "compareModalities"


def test_migrate_then_seed_then_seed_again(env_db: str, engine: Engine) -> None:
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    first = runner.invoke(cli, ["seed", "--dir", str(FIXTURE_SEED)])
    assert first.exit_code == 0, first.output
    assert "modalities added (2): alpha, beta" in first.stdout
    # The version loaded, and its content hash.
    assert first.stdout.startswith("loaded release 0.0.1 (content ")
    second = runner.invoke(cli, ["seed", "--dir", str(FIXTURE_SEED)])
    assert second.exit_code == 0
    assert second.stdout.startswith("unchanged: release")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM modality")).scalar_one() == 2


def test_seed_against_an_unreachable_database_fails_cleanly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("THERAPY_KB_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/none")
    get_settings.cache_clear()
    try:
        result = runner.invoke(cli, ["seed", "--dir", str(FIXTURE_SEED)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "database error, nothing was loaded" in result.stderr


def test_history_seed_writes_a_published_release(tmp_path: Path) -> None:
    """`make previous-release` loads a release's seed from git history: the current version's
    is the seed as last committed, which reads and checks as a seed; another version is the
    default, and an unknown one is refused with the versions there are."""
    version = str(yaml.safe_load((REAL_SEED / "release.yaml").read_text())["version"])
    done = runner.invoke(cli, ["history-seed", "--out", str(tmp_path / "now"), version])
    assert done.exit_code == 0, done.output
    seed = read_seed_dir(tmp_path / "now" / "seed")
    assert seed.release.version == version
    earlier = runner.invoke(cli, ["history-seed", "--out", str(tmp_path / "before")])
    assert earlier.exit_code == 0, earlier.output
    before = yaml.safe_load((tmp_path / "before" / "seed" / "release.yaml").read_text())
    assert str(before["version"]) != version
    missing = runner.invoke(cli, ["history-seed", "--out", str(tmp_path / "x"), "0.0.0-none"])
    assert missing.exit_code == 1
    assert f"no release 0.0.0-none in this repository's history; it has {version}" in (
        missing.stderr
    )
