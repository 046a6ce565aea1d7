"""The trial layer in the database: loaded with the release, in the same transaction and the
same content hash; a bad or changed data file refuses the whole load and leaves the database as
it was; the migration's CHECK constraints follow the vocabularies; a new dataset version shows
in the release diff."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, inspect, select
from sqlmodel import Session

from app import models as m
from app.config import Settings
from app.domain import Comparator, Delivery, LowRiskOfBias, Population, TherapyFamily
from app.errors import SeedInvalid
from app.main import create_app
from app.release.history import diff, markdown
from app.seeding import load as seeding_load
from app.seeding import load_seed, read_seed_dir
from tests.conftest import FIXTURE_SEED, REAL_SEED
from tests.helpers import copy_seed, snapshot

REAL = read_seed_dir(REAL_SEED)
assert REAL.trials is not None


def _count(engine: Engine, table: Any) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(table)).scalar_one())


def test_the_real_seed_loads_its_trials(engine: Engine) -> None:
    load_seed(engine, REAL)
    assert REAL.trials is not None
    assert _count(engine, m.TrialDataset) == len(REAL.trials.datasets)
    assert _count(engine, m.TrialComparison) == len(REAL.trials.comparisons)
    studies = {(c.dataset, c.trial_key) for c in REAL.trials.comparisons}
    assert _count(engine, m.TrialStudy) == len(studies)
    with Session(engine) as session:
        stored = {
            (name, row): (g, source_g, sign)
            for name, row, g, source_g, sign in session.execute(
                select(
                    m.TrialDataset.name,
                    m.TrialComparison.row,
                    m.TrialComparison.g,
                    m.TrialComparison.source_g,
                    m.TrialComparison.sign,
                )
                .join(m.TrialStudy, m.TrialStudy.id == m.TrialComparison.study_id)
                .join(m.TrialDataset, m.TrialDataset.id == m.TrialStudy.dataset_id)
            ).all()
        }
    for c in REAL.trials.comparisons:
        assert stored[(c.dataset, c.row)] == (c.g, c.source_g, c.sign)
    # Loading the same files again writes nothing.
    before = snapshot(engine)
    assert not load_seed(engine, read_seed_dir(REAL_SEED)).changed
    assert snapshot(engine) == before


def test_a_seed_without_trials_keeps_its_hash() -> None:
    """The trial layer is optional; where it is absent the content hash is what it was."""
    small = read_seed_dir(FIXTURE_SEED)
    assert small.trials is None
    assert small.content_hash() == small.model_copy(update={"trials": None}).content_hash()
    assert REAL.content_hash() != REAL.model_copy(update={"trials": None}).content_hash()


def test_the_mapping_is_in_the_content_hash(tmp_path: Path) -> None:
    seed_dir = copy_seed(REAL_SEED, tmp_path / "seed")
    mapping = seed_dir / "trials" / "mapping.yaml"
    text = mapping.read_text()
    mapping.write_text(text.replace("mixed: eating-disorders", "mixed: anorexia-nervosa", 1))
    assert read_seed_dir(seed_dir).content_hash() != REAL.content_hash()


def _changed_file(seed_dir: Path) -> Path:
    data = seed_dir / "trials" / "metapsy" / "gad-psyctr" / "data.csv"
    data.write_bytes(data.read_bytes().replace(b";", b",", 1))
    return data


def test_a_changed_data_file_refuses_the_load_and_names_it(engine: Engine, tmp_path: Path) -> None:
    load_seed(engine, read_seed_dir(FIXTURE_SEED))
    before = snapshot(engine)
    seed_dir = copy_seed(REAL_SEED, tmp_path / "seed", version="9.9.9")
    _changed_file(seed_dir)
    with pytest.raises(SeedInvalid) as refused:
        load_seed(engine, read_seed_dir(seed_dir))
    assert "gad-psyctr/data.csv" in refused.value.detail
    assert "sha256" in refused.value.detail
    assert snapshot(engine) == before


def test_an_unknown_code_names_dataset_column_and_code(tmp_path: Path) -> None:
    seed_dir = copy_seed(REAL_SEED, tmp_path / "seed")
    mapping_file = seed_dir / "trials" / "mapping.yaml"
    mapping = mapping_file.read_text()
    mapping_file.write_text(
        # The data's code is "binge eating disorder": the mapping now knows another one.
        mapping.replace("binge eating disorder: binge-eating", "binge eating: binge-eating", 1)
    )
    with pytest.raises(SeedInvalid) as refused:
        read_seed_dir(seed_dir)
    detail = refused.value.detail
    assert "ed-psyctr" in detail
    assert "'diagnosis'" in detail
    assert "'binge eating disorder'" in detail


def test_a_failure_while_writing_trials_leaves_the_database_as_it_was(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_seed(engine, read_seed_dir(FIXTURE_SEED))
    before = snapshot(engine)
    real_insert = seeding_load._insert_trials

    def half_then_fail(session: Session, trials: Any) -> None:
        real_insert(session, trials)  # every trial row written inside the transaction ...
        raise RuntimeError("simulated failure after the trial rows were written")

    monkeypatch.setattr(seeding_load, "_insert_trials", half_then_fail)
    with pytest.raises(RuntimeError):
        load_seed(engine, REAL)
    assert snapshot(engine) == before  # ... and none of it, nor anything else, stays


def _check_values(engine: Engine, table: str, column: str) -> set[str]:
    checks = inspect(engine).get_check_constraints(table)
    found = next(c for c in checks if c["name"] == f"ck_{table}_{column}")
    return set(re.findall(r"'([^']*)'", found["sqltext"]))


@pytest.mark.parametrize(
    ("table", "column", "vocabulary"),
    [
        ("format", "delivery", Delivery),
        ("indication_effect", "comparator", Comparator),
        ("trial_comparison", "comparator", Comparator),
        ("trial_comparison", "delivery", Delivery),
        ("trial_comparison", "family", TherapyFamily),
        ("trial_comparison", "population", Population),
        ("trial_comparison", "low_risk_of_bias", LowRiskOfBias),
    ],
)
def test_the_migrated_check_constraints_are_the_vocabularies(
    engine: Engine, table: str, column: str, vocabulary: Any
) -> None:
    """The drift test compares columns, not CHECK constraints: this compares these."""
    assert _check_values(engine, table, column) == {member.value for member in vocabulary}


def test_a_new_dataset_version_is_in_the_release_diff(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    load_seed(engine, REAL)
    old_version = yaml.safe_load((REAL_SEED / "release.yaml").read_text())["version"]
    seed_dir = copy_seed(REAL_SEED, tmp_path / "seed", version="99.0.0")
    datasets_file = seed_dir / "trials" / "metapsy" / "datasets.yaml"
    listed = yaml.safe_load(datasets_file.read_text())
    before = listed["datasets"][0]["version"]
    listed["datasets"][0]["version"] = "99.0.0"
    datasets_file.write_text(yaml.safe_dump(listed, sort_keys=False))
    load_seed(engine, read_seed_dir(seed_dir))
    name = listed["datasets"][0]["name"]
    with TestClient(create_app(settings)) as client:
        body = client.get(f"/v1/releases/{old_version}/diff/99.0.0").json()
    change = next(c for c in body["datasets"]["changed"] if c["id"] == name)
    assert (change["old_version"], change["new_version"]) == (before, "99.0.0")
    assert "version" in change["fields"]


def test_the_markdown_diff_names_a_dataset_version() -> None:
    def snap(version: str) -> bytes:
        release = {
            "version": version,
            "content_hash": version,
            "datasets": [
                {"name": "gad-psyctr", "version": version, "doi": "x", "licence": "ODC-By-1.0"}
            ],
        }
        body = {"release": release, "modalities": [], "conditions": [], "citations": []}
        return json.dumps(body).encode()

    text = markdown(diff(snap("1.0.0"), snap("2.0.0")))
    assert "### Trial datasets" in text
    assert "gad-psyctr 1.0.0 → 2.0.0" in text
