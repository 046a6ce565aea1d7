"""The seed loader: one transaction, idempotent, an exact report of what changed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, text

from app.seeding import load as seeding_load
from app.seeding import load_seed, read_seed_dir
from tests.conftest import FIXTURE_SEED
from tests.helpers import copy_seed, snapshot, write_grown_seed


def _edit(path: Path, change: dict[str, object]) -> None:
    data = yaml.safe_load(path.read_text())
    data.update(change)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_first_load_adds_everything(engine: Engine) -> None:
    report = load_seed(engine, read_seed_dir(FIXTURE_SEED))
    assert report.previous_hash is None
    assert report.modalities.added == ["alpha", "beta"]
    assert report.conditions.added == ["low-mood", "mood-disorders", "worry"]
    assert report.citations.added == ["alpha2001", "delta2020", "gamma2010"]
    with engine.connect() as conn:
        links = conn.execute(
            text("SELECT claim_type, COUNT(*) FROM claim_citation GROUP BY claim_type")
        ).all()
        parent = conn.execute(
            text(
                "SELECT p.slug FROM condition c JOIN condition p ON p.id = c.parent_id"
                " WHERE c.slug = 'low-mood'"
            )
        ).scalar_one()
    # alpha cites: 1 (modality) + 3 (indications) + 3 (considerations) + 1 (format) + 2 (components)
    # beta cites:  1 + 2 + 3 + 2 + 0
    assert dict(links) == {
        "modality": 2,
        "indication": 5,
        "consideration": 6,
        "format": 3,
        "component": 2,
    }
    assert parent == "mood-disorders"


def test_loading_twice_changes_nothing(engine: Engine) -> None:
    seed = read_seed_dir(FIXTURE_SEED)
    load_seed(engine, seed)
    before = snapshot(engine)
    report = load_seed(engine, seed)
    assert not report.changed
    assert report.lines() == [
        f"unchanged: release {seed.release.version} (content {seed.content_hash()[:12]})"
        " is already loaded"
    ]
    assert snapshot(engine) == before


def test_changed_files_report_exactly_what_changed(engine: Engine, tmp_path: Path) -> None:
    load_seed(engine, read_seed_dir(FIXTURE_SEED))
    seed_dir = copy_seed(FIXTURE_SEED, tmp_path / "seed", version="0.0.2")
    _edit(seed_dir / "modalities" / "alpha.yaml", {"summary": "A changed summary."})
    (seed_dir / "modalities" / "beta.yaml").unlink()
    citations = yaml.safe_load((seed_dir / "citations.yaml").read_text())
    # delta2020 was cited only by beta: it must go with it, or it would be uncited.
    citations["citations"] = [c for c in citations["citations"] if c["key"] != "delta2020"]
    citations["citations"][0]["title"] = "A retitled fixture trial"
    (seed_dir / "citations.yaml").write_text(yaml.safe_dump(citations))

    report = load_seed(engine, read_seed_dir(seed_dir))

    assert report.modalities.added == []
    assert report.modalities.changed == ["alpha"]
    assert report.modalities.removed == ["beta"]
    assert report.citations.changed == ["alpha2001"]
    assert report.citations.removed == ["delta2020"]
    assert report.conditions.added == report.conditions.changed == report.conditions.removed == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT slug, summary FROM modality")).all() == [
            ("alpha", "A changed summary.")
        ]
        assert conn.execute(text("SELECT COUNT(*) FROM consideration")).scalar_one() == 3


def test_unchanged_entities_keep_their_rows(engine: Engine, tmp_path: Path) -> None:
    load_seed(engine, read_seed_dir(FIXTURE_SEED))
    with engine.connect() as conn:
        beta_rows = conn.execute(
            text(
                "SELECT f.id FROM format f JOIN modality m ON m.id = f.modality_id"
                " WHERE m.slug = 'beta' ORDER BY f.id"
            )
        ).all()
    seed_dir = copy_seed(FIXTURE_SEED, tmp_path / "seed", version="0.0.2")
    _edit(seed_dir / "modalities" / "alpha.yaml", {"origin": "Revised origin."})
    load_seed(engine, read_seed_dir(seed_dir))
    with engine.connect() as conn:
        after = conn.execute(
            text(
                "SELECT f.id FROM format f JOIN modality m ON m.id = f.modality_id"
                " WHERE m.slug = 'beta' ORDER BY f.id"
            )
        ).all()
    assert after == beta_rows


def test_condition_changes_move_codes_and_parents(engine: Engine, tmp_path: Path) -> None:
    load_seed(engine, read_seed_dir(FIXTURE_SEED))
    seed_dir = copy_seed(FIXTURE_SEED, tmp_path / "seed", version="0.0.2")
    conditions = yaml.safe_load((seed_dir / "conditions.yaml").read_text())
    by_slug = {c["slug"]: c for c in conditions["conditions"]}
    # Move the ICD-11 code from low-mood to worry, and make worry a child of mood-disorders.
    code = by_slug["low-mood"]["codes"].pop()
    by_slug["worry"]["codes"] = [code]
    by_slug["worry"]["parent"] = "mood-disorders"
    (seed_dir / "conditions.yaml").write_text(yaml.safe_dump(conditions))

    report = load_seed(engine, read_seed_dir(seed_dir))

    assert report.conditions.changed == ["low-mood", "worry"]
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.slug, cc.code FROM condition_code cc JOIN condition c"
                " ON c.id = cc.condition_id WHERE cc.system = 'icd-11'"
            )
        ).all()
        parent = conn.execute(
            text(
                "SELECT p.slug FROM condition c JOIN condition p ON p.id = c.parent_id"
                " WHERE c.slug = 'worry'"
            )
        ).scalar_one()
    assert rows == [("worry", "6Z99")]
    assert parent == "mood-disorders"


def test_removing_a_parent_condition(engine: Engine, tmp_path: Path) -> None:
    load_seed(engine, read_seed_dir(FIXTURE_SEED))
    seed_dir = copy_seed(FIXTURE_SEED, tmp_path / "seed", version="0.0.2")
    conditions = yaml.safe_load((seed_dir / "conditions.yaml").read_text())
    conditions["conditions"] = [
        c for c in conditions["conditions"] if c["slug"] != "mood-disorders"
    ]
    for c in conditions["conditions"]:
        c.pop("parent", None)
    (seed_dir / "conditions.yaml").write_text(yaml.safe_dump(conditions))
    report = load_seed(engine, read_seed_dir(seed_dir))
    assert report.conditions.removed == ["mood-disorders"]
    assert report.conditions.changed == ["low-mood"]


def test_database_error_mid_load_leaves_database_unchanged(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_seed(engine, read_seed_dir(FIXTURE_SEED))
    before = snapshot(engine)
    seed_dir = copy_seed(FIXTURE_SEED, tmp_path / "seed", version="0.0.2")
    _edit(seed_dir / "modalities" / "alpha.yaml", {"summary": "Never stored."})

    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("simulated failure after the old rows were deleted")

    # Fails after step 1 (the old alpha rows are already deleted inside the transaction).
    monkeypatch.setattr(seeding_load, "_upsert_citations", explode)
    with pytest.raises(RuntimeError):
        load_seed(engine, read_seed_dir(seed_dir))
    assert snapshot(engine) == before


def test_content_hash_ignores_yaml_formatting(tmp_path: Path) -> None:
    seed_dir = copy_seed(FIXTURE_SEED, tmp_path / "seed")
    for path in [seed_dir / "citations.yaml", *sorted((seed_dir / "modalities").glob("*.yaml"))]:
        data = yaml.safe_load(path.read_text())
        # Reordered keys, flow style, different quoting: the same content.
        path.write_text(yaml.safe_dump(data, sort_keys=True, default_flow_style=True, width=40))
    assert read_seed_dir(seed_dir).content_hash() == read_seed_dir(FIXTURE_SEED).content_hash()


def test_content_hash_changes_with_content(tmp_path: Path) -> None:
    seed_dir = copy_seed(FIXTURE_SEED, tmp_path / "seed")
    _edit(seed_dir / "release.yaml", {"version": "0.0.2"})
    assert read_seed_dir(seed_dir).content_hash() != read_seed_dir(FIXTURE_SEED).content_hash()


def test_report_lines_name_at_most_twenty_keys(engine: Engine, tmp_path: Path) -> None:
    seed_dir = write_grown_seed(tmp_path / "grown", FIXTURE_SEED, extra=30)
    lines = load_seed(engine, read_seed_dir(seed_dir)).lines()
    conditions = next(line for line in lines if line.startswith("conditions added"))
    assert conditions.startswith("conditions added (33): ")
    assert conditions.endswith(" and 13 more")
    assert conditions.count(",") == 19
