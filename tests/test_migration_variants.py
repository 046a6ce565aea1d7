"""The direction-and-variant migration goes down and up over a loaded real knowledge base: the
downgrade drops what the older schema cannot hold (indications of a variant) and marks their
modalities for rewriting, so the next load restores everything."""

from __future__ import annotations

from sqlalchemy import func, inspect, select, text

from app import models as m
from app.config import Settings
from app.db import create_db_engine
from app.migrate import downgrade, upgrade
from app.seeding import load_seed, read_seed_dir
from tests.conftest import REAL_SEED

BEFORE = "c8d9e0f1a2b3"  # the revision before directions and variants


def test_down_and_up_over_variants(empty_db_url: str) -> None:
    engine = create_db_engine(Settings(database_url=empty_db_url))
    seed = read_seed_dir(REAL_SEED)
    every = sum(len(x.indications) for x in seed.modalities)
    plain = sum(1 for x in seed.modalities for i in x.indications if i.variant is None)
    assert plain < every
    try:
        upgrade(engine)
        load_seed(engine, seed)
        downgrade(engine, BEFORE)
        assert "variant" not in {c["name"] for c in inspect(engine).get_columns("indication")}
        assert "direction" not in {
            c["name"] for c in inspect(engine).get_columns("indication_effect")
        }
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(m.Indication)).scalar() == plain
            orphans = conn.execute(
                text(
                    "SELECT COUNT(*) FROM claim_citation WHERE indication_id IS NOT NULL"
                    " AND indication_id NOT IN (SELECT id FROM indication)"
                )
            ).scalar()
            assert orphans == 0
        upgrade(engine)
        # The upgrade marks every modality for rewriting, so the directions come back.
        report = load_seed(engine, seed)
        assert sorted(report.modalities.changed) == sorted(x.slug for x in seed.modalities)
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(m.Indication)).scalar() == every
            unstated = conn.execute(
                select(func.count())
                .select_from(m.IndicationEffect)
                .where(m.IndicationEffect.direction.is_(None))  # type: ignore[union-attr]
            ).scalar()
            assert unstated == 1  # the one effect whose source does not state it
    finally:
        engine.dispose()
