"""The bulk export: JSON, NDJSON and a zip of CSV tables that join, over HTTP and the CLI."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlmodel import Session
from typer.testing import CliRunner

from app import export as export_module
from app import models as m
from app.cli import EXTENSIONS, checksums_markdown, cli
from app.config import Settings, get_settings
from app.db import create_db_engine
from app.domain import ExportFormat, indication_id
from app.main import create_app
from app.migrate import upgrade
from app.queries import current_release
from app.seeding import load_seed, read_seed_dir
from tests.conftest import FIXTURE_SEED, REAL_SEED, postgres_database
from tests.helpers import ORIGIN

SEED = read_seed_dir(FIXTURE_SEED)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def client(fixture_db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=fixture_db_url))) as client:
        yield client


def test_json_export_nests_everything(client: TestClient) -> None:
    response = client.get("/v1/export?format=json")
    assert response.headers["content-type"] == "application/json"
    assert 'filename="therapy-kb-fixture-0.0.1.json"' in response.headers["content-disposition"]
    body = response.json()
    assert body["release"]["content_hash"] == SEED.content_hash()
    assert body["release"]["counts"]["modalities"] == 2
    assert [c["key"] for c in body["citations"]] == ["alpha2001", "delta2020", "gamma2010"]
    assert [c["slug"] for c in body["conditions"]] == ["low-mood", "mood-disorders", "worry"]
    assert [x["slug"] for x in body["modalities"]] == ["alpha", "beta"]
    # The nested modality is exactly what the detail endpoint serves, but that a download keeps
    # its links as paths (the same bytes whoever asks), where an answer names the origin.
    served = client.get("/v1/modalities/alpha").json()
    assert served["url"] == f"{ORIGIN}/v1/modalities/alpha"
    for indication in served["indications"]:
        indication["record"]["url"] = indication["record"]["url"].removeprefix(ORIGIN)
    assert body["modalities"][0] == {**served, "url": "/v1/modalities/alpha"}


def test_json_is_the_default(client: TestClient) -> None:
    assert client.get("/v1/export").json() == client.get("/v1/export?format=json").json()


def test_ndjson_records_describe_themselves(client: TestClient) -> None:
    response = client.get("/v1/export?format=ndjson")
    assert response.headers["content-type"].startswith("application/x-ndjson")
    records = [json.loads(line) for line in response.text.splitlines()]
    assert records[0]["type"] == "release"
    counts: dict[str, int] = {}
    for record in records:
        counts[record["type"]] = counts.get(record["type"], 0) + 1
    assert counts == {
        "release": 1,
        "modality": 2,
        "condition": 3,
        "condition_code": 4,
        "indication": 4,
        "guideline": 1,
        "effect": 2,
        "consideration": 6,
        "format": 3,
        "component": 2,
        "citation": 3,
        "claim_citation": 18,
    }
    beta_format = next(r for r in records if r["type"] == "format" and r["id"] == "beta#formats[0]")
    assert (beta_format["group_size_min"], beta_format["group_size_max"]) == (6, 10)


def read_tables(content: bytes) -> dict[str, pd.DataFrame]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        # read_csv with no options at all, as a researcher would.
        return {
            name.removesuffix(".csv"): pd.read_csv(io.BytesIO(archive.read(name)))
            for name in archive.namelist()
        }


def test_csv_zip_tables_join(client: TestClient) -> None:
    response = client.get("/v1/export?format=csv")
    assert response.headers["content-type"] == "application/zip"
    tables = read_tables(response.content)
    assert set(tables) == {
        "release",
        "modalities",
        "conditions",
        "condition_codes",
        "indications",
        "guidelines",
        "effects",
        "acceptability_figures",
        "harms",
        "certainty_ratings",
        "considerations",
        "formats",
        "components",
        "citations",
        "claim_citations",
        "trial_datasets",
        "trial_studies",
        "trial_comparisons",
    }
    assert tables["release"]["content_hash"][0] == SEED.content_hash()
    modalities = set(tables["modalities"]["slug"])
    conditions = set(tables["conditions"]["slug"])
    claims = set()
    for name in ("indications", "considerations", "formats", "components"):
        assert set(tables[name]["modality"]) <= modalities
        claims |= set(tables[name]["id"])
    assert set(tables["indications"]["condition"]) <= conditions
    # Guideline positions and effects join on the indication's id and cite known works.
    for name in ("guidelines", "effects", "acceptability_figures", "harms", "certainty_ratings"):
        assert set(tables[name]["indication"]) <= set(tables["indications"]["id"])
        assert set(tables[name]["citation"]) <= set(tables["citations"]["key"])
    effects = tables["effects"].merge(
        tables["indications"], left_on="indication", right_on="id", how="inner"
    )
    assert list(effects["condition"]) == ["low-mood", "low-mood"]
    assert list(effects["measure"]) == ["g", "OR"]
    assert list(effects["ci_low"]) == [0.4, 0.9]
    assert tables["guidelines"]["recommendation"].tolist() == ["first-line"]
    assert set(tables["condition_codes"]["condition"]) <= conditions
    links = tables["claim_citations"]
    assert len(links) == 18
    claim_links = links[links["claim_type"] != "modality"]
    assert set(claim_links["claim_id"]) == claims, "every claim is cited, every link resolves"
    assert set(links["citation"]) == set(tables["citations"]["key"])
    joined = tables["indications"].merge(tables["conditions"], left_on="condition", right_on="slug")
    assert len(joined) == len(tables["indications"])
    assert tables["citations"].set_index("key").loc["delta2020", "authors"] == "Fixture Institute"


def test_export_is_built_in_chunks(fixture_db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The export is built as a stream (the load keeps it, the command line writes it), never
    whole in memory."""
    monkeypatch.setattr(export_module, "FLUSH_BYTES", 256)
    engine = create_db_engine(Settings(database_url=fixture_db_url))
    try:
        with Session(engine) as session:
            release = current_release(session)
            assert release is not None
            for fmt in ExportFormat:
                chunks = [c for c in export_module.export(session, release, fmt) if c]
                assert len(chunks) > 3, fmt
    finally:
        engine.dispose()


def _exports(database_url: str) -> dict[str, bytes]:
    """What a database serves as the current release's export, in every format, and each
    table of it."""
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        out = {}
        for extension in ("json", "ndjson", "zip"):
            response = client.get(f"/v1/export.{extension}")
            assert response.status_code == 200, response.text
            out[extension] = response.content
        for table in export_module.EXPORT_TABLES:
            for extension in ("csv", "ndjson"):
                response = client.get(f"/v1/export/{table}.{extension}")
                assert response.status_code == 200, response.text
                out[f"{table}.{extension}"] = response.content
        return out


def _first_difference(a: bytes, b: bytes) -> tuple[bytes, bytes]:
    pairs = enumerate(zip(a, b, strict=False))
    at = next((i for i, (x, y) in pairs if x != y), min(len(a), len(b)))
    return a[max(at - 80, 0) : at + 80], b[max(at - 80, 0) : at + 80]


def test_the_same_release_exports_the_same_bytes_on_any_install(
    fixture_db_url: str, db_url: str
) -> None:
    """Loaded at another time into another database (on either engine), a release exports to
    the same bytes: nothing in an export says when or where it was loaded."""
    engine = create_db_engine(Settings(database_url=db_url))
    try:
        load_seed(engine, SEED)
        with Session(engine) as session:
            stored = {
                s.format: s.sha256 for s in session.execute(select(m.ReleaseSnapshot)).scalars()
            }
    finally:
        engine.dispose()
    here, there = _exports(fixture_db_url), _exports(db_url)
    assert here.keys() == there.keys()
    for name in here:
        assert here[name] == there[name], (name, _first_difference(here[name], there[name]))
    assert stored == {
        "json": hashlib.sha256(here["json"]).hexdigest(),
        "ndjson": hashlib.sha256(here["ndjson"]).hexdigest(),
        "csv": hashlib.sha256(here["zip"]).hexdigest(),
    }
    assert b"loaded_at" not in here["json"] + here["ndjson"] + here["release.csv"]


def test_each_table_is_the_zip_member(client: TestClient) -> None:
    zipped = client.get("/v1/export.zip").content
    lines = client.get("/v1/export.ndjson").content.splitlines(keepends=True)
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        names = archive.namelist()
        assert names == [f"{table}.csv" for table in export_module.EXPORT_TABLES]
        for name in names:
            table = name.removesuffix(".csv")
            response = client.get(f"/v1/export/{table}.csv")
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == "text/csv; charset=utf-8"
            assert response.content == archive.read(name), table
            ndjson = client.get(f"/v1/export/{table}.ndjson")
            assert ndjson.headers["content-type"] == "application/x-ndjson"
            records = [json.loads(line) for line in ndjson.content.splitlines()]
            rows = list(csv.DictReader(io.StringIO(response.text, newline="")))
            assert len(records) == len(rows), table
            assert all(line in lines for line in ndjson.content.splitlines(keepends=True))
    # Every line of the NDJSON export is in one table's.
    tables = b"".join(
        client.get(f"/v1/export/{t}.ndjson").content for t in export_module.EXPORT_TABLES
    )
    assert sorted(tables.splitlines()) == sorted(line.rstrip(b"\n") for line in lines)


def test_an_unknown_table_is_suggested(client: TestClient) -> None:
    response = client.get("/v1/export/indication.csv")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["suggestion"] == "indications"


def test_cli_export_writes_the_same_bytes(
    fixture_db_url: str, client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("THERAPY_KB_DATABASE_URL", fixture_db_url)
    get_settings.cache_clear()
    try:
        for fmt in ("json", "ndjson", "csv"):
            out = tmp_path / f"kb.{fmt}"
            result = CliRunner().invoke(cli, ["export", "--format", fmt, "--out", str(out)])
            assert result.exit_code == 0, result.output
            http = client.get(f"/v1/export?format={fmt}").content
            if fmt == "csv":
                written, served = read_tables(out.read_bytes()), read_tables(http)
                assert written.keys() == served.keys()
                for name in written:
                    pd.testing.assert_frame_equal(written[name], served[name])
            else:
                assert out.read_bytes() == http
        bad = CliRunner().invoke(cli, ["export", "--format", "xml", "--out", str(tmp_path / "x")])
        assert bad.exit_code == 1
        assert "--format must be one of" in bad.stderr
    finally:
        get_settings.cache_clear()


def test_real_seed_exports(real_db_url: str) -> None:
    seed = read_seed_dir(REAL_SEED)
    with TestClient(create_app(Settings(database_url=real_db_url))) as client:
        body = client.get("/v1/export?format=json").json()
        zipped = client.get("/v1/export?format=csv").content
        tables = read_tables(zipped)
        lines = client.get("/v1/export?format=ndjson").text.splitlines()
    assert len(body["modalities"]) == len(seed.modalities)
    assert len(tables["citations"]) == len(seed.citations)
    assert len(tables["indications"]) == sum(len(x.indications) for x in seed.modalities)
    # The curators' notes and the PubMed ids, in every export as in the seed.
    expected = {c.key: (c.note, c.pmid, c.pmcid) for c in seed.citations}
    ndjson = [json.loads(line) for line in lines]
    assert {
        r["key"]: (r["note"], r["pmid"], r["pmcid"]) for r in ndjson if r["type"] == "citation"
    } == expected
    assert {c["key"]: (c["note"], c["pmid"], c["pmcid"]) for c in body["citations"]} == expected
    # The certainty ratings and low-risk-of-bias figures, as the seed states them.
    ratings = {
        (indication_id(x.slug, i.condition, i.population.value, i.variant), c.citation, c.rating)
        for x in seed.modalities
        for i in x.indications
        for c in i.certainty
    }
    assert ratings, "the seed records certainty ratings"
    assert {
        (r["indication"], r["citation"], r["rating"])
        for r in tables["certainty_ratings"].to_dict("records")
    } == ratings
    assert {
        (r["indication"], r["citation"], r["rating"])
        for r in ndjson
        if r["type"] == "certainty_rating"
    } == ratings
    low = [
        (e.citation, e.low_risk_of_bias.value, e.low_risk_of_bias.ci_low)
        for x in seed.modalities
        for i in x.indications
        for e in i.effects
        if e.low_risk_of_bias is not None
    ]
    stated = tables["effects"].dropna(subset=["low_rob_value"])
    assert sorted(
        zip(stated["citation"], stated["low_rob_value"], stated["low_rob_ci_low"], strict=True)
    ) == (sorted(low))
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        rows = csv.DictReader(io.StringIO(archive.read("citations.csv").decode()))
        # An empty CSV cell is an absent value.
        assert {
            r["key"]: (r["note"] or None, r["pmid"] or None, r["pmcid"] or None) for r in rows
        } == expected


def test_the_stated_checksums_are_the_real_seeds(real_db_url: str) -> None:
    """README.md and CITATION.cff state the sha256 of the current release's exports; loaded on
    either engine, the real seed exports to exactly those bytes. After a content change,
    `make checksums` states the new ones."""
    engine = create_db_engine(Settings(database_url=real_db_url))
    try:
        with Session(engine) as session:
            release = current_release(session)
            assert release is not None
            stored = {
                s.format: s.sha256 for s in session.execute(select(m.ReleaseSnapshot)).scalars()
            }
    finally:
        engine.dispose()
    version = release.version
    expected = {fmt: stored[fmt] for fmt in EXTENSIONS}
    hint = "run `make checksums` to state the current release's"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert checksums_markdown(version, expected) in readme, hint
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["version"] == version
    stated = [i["value"] for i in cff["identifiers"]]
    assert stated == [f"sha256:{sha}" for sha in expected.values()], hint


def test_a_linguistic_collation_exports_the_same_bytes(
    postgres_server_url: str, tmp_path: Path
) -> None:
    """A PostgreSQL server set up with a language's collation (here ICU's English with
    punctuation ignored, as glibc's en_US orders text) exports a release to the same bytes as
    SQLite: exports order text byte by byte. The seed gains a condition, 'lowland', that such a
    collation puts before 'low-mood' and byte order after it."""
    seed = tmp_path / "seed"
    shutil.copytree(FIXTURE_SEED, seed)
    for path in seed.rglob("*.yaml"):
        path.write_text(path.read_text(encoding="utf-8").replace("worry", "lowland"))
    collation = "TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu " + (
        "ICU_LOCALE 'en-US-u-ka-shifted' LOCALE 'C.UTF-8'"
    )
    exported: dict[str, dict[str, str]] = {}
    with postgres_database(postgres_server_url, collation) as postgres_url:
        for engine_name, url in (
            ("sqlite", f"sqlite:///{tmp_path / 'kb.sqlite3'}"),
            ("postgresql", postgres_url),
        ):
            engine = create_db_engine(Settings(database_url=url))
            try:
                upgrade(engine)
                load_seed(engine, read_seed_dir(seed))
                with Session(engine) as session:
                    exported[engine_name] = {
                        s.format: s.sha256
                        for s in session.execute(select(m.ReleaseSnapshot)).scalars()
                    }
                    if engine_name == "postgresql":
                        order = session.execute(
                            text("SELECT slug FROM condition ORDER BY slug")
                        ).scalars()
                        assert list(order).index("lowland") < 1  # the collation differs
            finally:
                engine.dispose()
    assert exported["postgresql"] == exported["sqlite"]
