"""Kept releases: history, refusal of a reused version, byte-identical exports, diffs."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings, get_settings
from app.errors import ReleaseConflict
from app.main import create_app
from app.seeding import load_seed, read_seed_dir
from tests.conftest import FIXTURE_SEED
from tests.helpers import ORIGIN, TABLES, copy_seed, snapshot

FORMATS = ("json", "ndjson", "csv")
runner = CliRunner()
EVERY_TABLE = [*TABLES, "release_history", "release_snapshot"]


def table_rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    return snapshot(engine, EVERY_TABLE)


def _edit(path: Path, change: Any) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def first_release(tmp_path: Path) -> Path:
    """The fixture seed as release 1.0.0."""
    seed_dir = copy_seed(FIXTURE_SEED, tmp_path / "v1")
    _edit(seed_dir / "release.yaml", lambda r: r.update(version="1.0.0"))
    return seed_dir


def second_release(tmp_path: Path) -> Path:
    """1.0.0 with one change of every kind a diff reports, as release 2.0.0."""
    seed_dir = copy_seed(first_release(tmp_path / "src"), tmp_path / "v2")
    _edit(seed_dir / "release.yaml", lambda r: r.update(version="2.0.0", date="2026-06-01"))

    def alpha(x: dict[str, Any]) -> None:
        x["summary"] = "A revised fixture summary."
        x["indications"][1]["evidence"] = "moderate"  # worry, adolescents: limited → moderate
        x["pros"].append({"statement": "Structured", "citations": ["alpha2001"]})
        x["cons"] = []

    _edit(seed_dir / "modalities" / "alpha.yaml", alpha)

    def citations(data: Any) -> None:
        entries = data if isinstance(data, list) else data["citations"]
        for c in entries:
            if c["key"] == "gamma2010":
                c["title"] = c["title"] + " (second edition)"

    _edit(seed_dir / "citations.yaml", citations)
    return seed_dir


@pytest.fixture
def live(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    fresh = settings.model_copy(update={"release_check_seconds": 0.0})
    with TestClient(create_app(fresh)) as client:
        yield client


def test_both_releases_are_kept_and_old_exports_do_not_change(
    live: TestClient, engine: Engine, tmp_path: Path
) -> None:
    load_seed(engine, read_seed_dir(first_release(tmp_path)))
    # Each format by format= and at its own path, the same bytes either way.
    urls = [f"/v1/releases/1.0.0/export?format={f}" for f in FORMATS] + [
        f"/v1/releases/1.0.0/export.{extension}" for extension in ("json", "ndjson", "zip")
    ]
    before = {url: live.get(url) for url in urls}
    assert all(r.status_code == 200 for r in before.values())
    for fmt, extension in zip(FORMATS, ("json", "ndjson", "zip"), strict=True):
        own = before[f"/v1/releases/1.0.0/export.{extension}"]
        by_format = before[f"/v1/releases/1.0.0/export?format={fmt}"]
        assert own.content == by_format.content
        assert own.headers["etag"] == by_format.headers["etag"]
    # The current release's export may be cached like the rest of /v1; it is not immutable yet.
    assert all("immutable" not in r.headers["cache-control"] for r in before.values())

    second = read_seed_dir(second_release(tmp_path))
    load_seed(engine, second)

    for url, old in before.items():
        again = live.get(url)
        assert again.status_code == 200
        assert again.content == old.content, url
        assert again.headers["etag"] == old.headers["etag"], url
        assert "immutable" in again.headers["cache-control"]
        assert live.get(url, headers={"If-None-Match": old.headers["etag"]}).status_code == 304
    # X-KB-Release names the current release, whichever release is asked for.
    assert again.headers["x-kb-release"] == second.content_hash()

    page = live.get("/v1/releases").json()
    assert [r["version"] for r in page["items"]] == ["2.0.0", "1.0.0"]
    assert [r["current"] for r in page["items"]] == [True, False]
    assert page["total"] == 2
    one = live.get("/v1/releases/1.0.0").json()
    assert one["counts"]["modalities"] == 2
    exports = {e["format"]: e for e in one["exports"]}
    assert exports["csv"]["url"] == f"{ORIGIN}/v1/releases/1.0.0/export.zip"
    assert exports["csv"]["media_type"] == "application/zip"
    for export in one["exports"]:  # each link downloads what it says
        response = live.get(export["url"])
        assert response.headers["content-type"].split(";")[0] == export["media_type"]
    meta = live.get("/v1/meta").json()
    assert meta["releases"] == 2
    assert "therapy-kb-fixture (version 2.0.0, released 2026-06-01)" in meta["citation"]["text"]
    assert second.content_hash() in meta["citation"]["text"]
    assert meta["citation"]["bibtex"].startswith("@misc{therapykbfixture2_0_0,\n")
    assert "  version = {2.0.0},\n" in meta["citation"]["bibtex"]
    # The data's address is absolute, on the origin asked.
    data = f"{ORIGIN}/v1/releases/2.0.0/export.json"
    assert f"Data: {data}." in meta["citation"]["text"]
    assert f"  howpublished = {{{data}}},\n" in meta["citation"]["bibtex"]


def test_the_current_export_and_the_kept_one_agree_on_content(
    live: TestClient, engine: Engine, tmp_path: Path
) -> None:
    load_seed(engine, read_seed_dir(first_release(tmp_path)))
    for fmt in ("json", "ndjson", "csv"):
        assert (
            live.get(f"/v1/export?format={fmt}").content
            == live.get(f"/v1/releases/1.0.0/export?format={fmt}").content
        )


def test_a_kept_export_is_served_as_stored(
    live: TestClient, engine: Engine, tmp_path: Path
) -> None:
    """An export kept by an earlier build (one that wrote the load time into it) is served as
    it was stored, byte for byte, while later releases are loaded and served."""
    load_seed(engine, read_seed_dir(first_release(tmp_path)))
    older = b'{"release":{"version":"1.0.0","loaded_at":"2026-01-01T00:00:00Z"}}\n'
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE release_snapshot SET body = :body, sha256 = :sha WHERE format = 'json'"),
            {"body": older, "sha": hashlib.sha256(older).hexdigest()},
        )
    load_seed(engine, read_seed_dir(second_release(tmp_path)))
    response = live.get("/v1/releases/1.0.0/export.json")
    assert response.content == older
    assert response.headers["etag"] == f'"{hashlib.sha256(older).hexdigest()[:32]}"'
    assert b"loaded_at" not in live.get("/v1/export.json").content


def test_a_kept_release_has_each_table_at_a_url(
    live: TestClient, engine: Engine, tmp_path: Path
) -> None:
    """Each table of a kept release's export, as its kept zip holds it, also once a later
    release is current (then immutable)."""
    load_seed(engine, read_seed_dir(first_release(tmp_path)))
    load_seed(engine, read_seed_dir(second_release(tmp_path)))
    zipped = live.get("/v1/releases/1.0.0/export.zip").content
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        for name in archive.namelist():
            table = name.removesuffix(".csv")
            response = live.get(f"/v1/releases/1.0.0/export/{table}.csv")
            assert response.status_code == 200, response.text
            assert response.content == archive.read(name), table
            assert "immutable" in response.headers["cache-control"]
    ndjson = live.get("/v1/releases/1.0.0/export/citations.ndjson").text.splitlines()
    assert [json.loads(line)["type"] for line in ndjson] == ["citation"] * len(ndjson) != []
    current = live.get("/v1/releases/2.0.0/export/citations.csv")
    assert current.content == live.get("/v1/export/citations.csv").content
    assert live.get("/v1/releases/1.0.0/export/citation.csv").json()["suggestion"] == "citations"


def test_diff_names_every_change(live: TestClient, engine: Engine, tmp_path: Path) -> None:
    load_seed(engine, read_seed_dir(first_release(tmp_path)))
    load_seed(engine, read_seed_dir(second_release(tmp_path)))
    response = live.get("/v1/releases/1.0.0/diff/2.0.0")
    assert response.status_code == 200
    d = response.json()
    assert (d["old"], d["new"]) == ("1.0.0", "2.0.0")
    assert d["modalities"] == {
        "added": [],
        "removed": [],
        "changed": [
            {
                "id": "alpha",
                "fields": ["summary"],
                "old_evidence": None,
                "new_evidence": None,
                "old_version": None,
                "new_version": None,
            }
        ],
    }
    assert d["conditions"] == {"added": [], "removed": [], "changed": []}
    assert d["indications"] == {
        "added": [],
        "removed": [],
        "changed": [
            {
                "id": "alpha:worry:adolescents",
                "fields": ["evidence"],
                "old_evidence": "limited",
                "new_evidence": "moderate",
                "old_version": None,
                "new_version": None,
            }
        ],
    }
    assert d["claims"] == {
        "added": ["alpha:pro:Structured"],
        "removed": ["alpha:con:Needs weekly attendance"],
        "changed": [],
    }
    assert [c["id"] for c in d["citations"]["changed"]] == ["gamma2010"]
    assert d["citations"]["changed"][0]["fields"] == ["title"]
    assert (d["citations"]["added"], d["citations"]["removed"]) == ([], [])

    back = live.get("/v1/releases/2.0.0/diff/1.0.0").json()
    assert back["claims"]["removed"] == ["alpha:pro:Structured"]
    assert back["indications"]["changed"][0]["new_evidence"] == "limited"


def test_reloading_the_same_release_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    seed = read_seed_dir(first_release(tmp_path))
    load_seed(engine, seed)
    before = table_rows(engine)
    report = load_seed(engine, seed)
    assert not report.changed
    assert table_rows(engine) == before


def test_a_version_names_one_content(engine: Engine, tmp_path: Path) -> None:
    load_seed(engine, read_seed_dir(first_release(tmp_path)))
    before = table_rows(engine)
    changed = second_release(tmp_path)
    _edit(changed / "release.yaml", lambda r: r.update(version="1.0.0"))
    with pytest.raises(ReleaseConflict, match="release 1.0.0 was loaded before"):
        load_seed(engine, read_seed_dir(changed))
    assert table_rows(engine) == before


def test_an_old_release_can_be_loaded_again(
    live: TestClient, engine: Engine, tmp_path: Path
) -> None:
    first = read_seed_dir(first_release(tmp_path))
    load_seed(engine, first)
    kept = live.get("/v1/releases/1.0.0/export?format=csv").content
    load_seed(engine, read_seed_dir(second_release(tmp_path)))
    load_seed(engine, first)
    page = live.get("/v1/releases").json()
    assert [(r["version"], r["current"]) for r in page["items"]] == [
        ("2.0.0", False),
        ("1.0.0", True),
    ]
    assert live.get("/v1/releases/1.0.0/export?format=csv").content == kept


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/v1/releases/1.0.1", "no release '1.0.1'; did you mean '1.0.0'?"),
        ("/v1/releases/9/export?format=csv", "no release '9'"),
        ("/v1/releases/1.0.0/diff/1.0.1", "no release '1.0.1'; did you mean '1.0.0'?"),
    ],
)
def test_unknown_versions(
    live: TestClient, engine: Engine, tmp_path: Path, path: str, detail: str
) -> None:
    load_seed(engine, read_seed_dir(first_release(tmp_path)))
    response = live.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == detail


@pytest.fixture
def env_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("THERAPY_KB_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


def test_cli_lists_releases_and_diffs_them(env_db: str, engine: Engine, tmp_path: Path) -> None:
    load_seed(engine, read_seed_dir(first_release(tmp_path)))
    load_seed(engine, read_seed_dir(second_release(tmp_path)))

    listed = runner.invoke(cli, ["releases"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert [line.split()[:2] for line in lines] == [["*", "2.0.0"], ["1.0.0", "2026-01-01"]]

    as_json = runner.invoke(cli, ["diff", "1.0.0", "2.0.0"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output)["claims"]["added"] == ["alpha:pro:Structured"]

    as_markdown = runner.invoke(cli, ["diff", "1.0.0", "2.0.0", "--format", "markdown"])
    assert as_markdown.exit_code == 0, as_markdown.output
    assert as_markdown.output == (
        "## Content changes from 1.0.0 to 2.0.0\n"
        "\n"
        "### Evidence levels\n"
        "\n"
        "- alpha:worry:adolescents: limited → moderate\n"
        "\n"
        "### Modalities\n"
        "\n"
        "- changed: alpha (summary)\n"
        "\n"
        "### Indications\n"
        "\n"
        "- changed: alpha:worry:adolescents (evidence)\n"
        "\n"
        "### Claims\n"
        "\n"
        "- added: alpha:pro:Structured\n"
        "- removed: alpha:con:Needs weekly attendance\n"
        "\n"
        "### Citations\n"
        "\n"
        "- changed: gamma2010 (title)\n"
    )

    unknown = runner.invoke(cli, ["diff", "1.0.0", "3.0.0"])
    assert unknown.exit_code == 1
    assert "no release '3.0.0'" in unknown.output
