"""A read-only node (``THERAPY_KB_READ_ONLY``): the commands that write refuse before touching
a database, and on PostgreSQL the server itself refuses a write from the node's engine, while
reads are served as usual."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings, get_settings
from app.db import create_db_engine
from tests.conftest import FIXTURE_SEED
from tests.helpers import TABLES, snapshot

runner = CliRunner()


@pytest.fixture
def read_only_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    database = tmp_path / "kb.sqlite3"
    monkeypatch.setenv("THERAPY_KB_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("THERAPY_KB_READ_ONLY", "true")
    get_settings.cache_clear()
    yield database
    get_settings.cache_clear()


@pytest.mark.parametrize("args", [["migrate"], ["seed", "--dir", str(FIXTURE_SEED)]])
def test_writing_commands_refuse_on_a_read_only_node(read_only_env: Path, args: list[str]) -> None:
    result = runner.invoke(cli, args)
    assert result.exit_code == 1
    assert f"'therapy-kb {args[0]}' writes, and this node is read-only" in result.stderr
    assert "THERAPY_KB_READ_ONLY" in result.stderr
    assert not read_only_env.exists(), "nothing was opened, not even an empty database"


def test_reading_commands_still_run_on_a_read_only_node(read_only_env: Path) -> None:
    result = runner.invoke(cli, ["check", "--dir", str(FIXTURE_SEED)])
    assert result.exit_code == 0, result.output


def _rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = create_db_engine(Settings(database_url=url))
    try:
        return snapshot(engine, TABLES)
    finally:
        engine.dispose()


# default_transaction_read_only is PostgreSQL's; on SQLite a node has only the command rule.
@pytest.mark.parametrize("fixture_db_url", ["postgresql"], indirect=True)
def test_postgres_refuses_writes_from_a_read_only_engine(fixture_db_url: str) -> None:
    before = _rows(fixture_db_url)
    engine = create_db_engine(Settings(database_url=fixture_db_url, read_only=True))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM modality")).scalar_one() > 0
            with pytest.raises(DBAPIError, match="read-only transaction"):
                conn.execute(text("DELETE FROM modality"))
    finally:
        engine.dispose()
    assert _rows(fixture_db_url) == before
