"""Certainty ratings of cited reviews and low-risk-of-bias figures of recorded effects: stored by
a load and served on each engine, with the rubric's verdict (``grading``) on every indication,
computed by ``app.grading`` as the content test computes it from the seed files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine

from app import models as m
from app.config import Settings
from app.main import create_app
from app.seeding import load_seed, read_seed_dir
from tests.conftest import FIXTURE_SEED, REAL_SEED
from tests.helpers import copy_seed
from tests.test_content_grades import grade_every

RATING = {
    "citation": "alpha2001",
    "comparison": "Alpha therapy against treatment as usual",
    "rating": "low",
    "highest": "moderate",
    "system": "GRADE",
    "note": "Most comparisons moderate to low.",
}
LOW_ROB = {"value": 0.5, "ci_low": 0.2, "ci_high": 0.8, "studies": 4, "note": "Six-item tool."}


@pytest.fixture
def rated_seed(tmp_path: Path) -> Path:
    """The fixture seed with a certainty rating on alpha's first indication and a
    low-risk-of-bias figure on its first effect (against a waiting list) and on a new effect
    against usual care."""
    root = copy_seed(FIXTURE_SEED, tmp_path / "seed")
    path = root / "modalities" / "alpha.yaml"
    alpha = yaml.safe_load(path.read_text())
    first = alpha["indications"][0]
    first["certainty"] = [RATING]
    first["effects"][0]["low_risk_of_bias"] = LOW_ROB
    first["effects"].append(
        {
            "measure": "SMD",
            "direction": "lower-favours-therapy",
            "value": -0.4,
            "ci_low": -0.6,
            "ci_high": -0.2,
            "comparator": "usual-care",
            "outcome": "Low-mood symptoms after treatment",
            "citation": "alpha2001",
            "low_risk_of_bias": {"value": -0.3, "ci_low": -0.5, "ci_high": -0.1, "studies": 3},
        }
    )
    path.write_text(yaml.safe_dump(alpha, sort_keys=False))
    return root


def test_ratings_and_figures_are_stored_and_served(engine: Engine, rated_seed: Path) -> None:
    load_seed(engine, read_seed_dir(rated_seed))
    with engine.connect() as conn:
        stored = [r for (r,) in conn.execute(select(m.Indication.certainty)) if r]
        figures = [r for (r,) in conn.execute(select(m.IndicationEffect.low_risk_of_bias)) if r]
    assert stored == [[RATING]]
    assert LOW_ROB in figures
    assert len(figures) == 2
    settings = Settings(database_url=str(engine.url.render_as_string(hide_password=False)))
    with TestClient(create_app(settings)) as client:
        body = client.get("/v1/indications/alpha:low-mood:adults").json()
        fhir = client.get("/fhir/Evidence/alpha.low-mood.adults").json()
    # In FHIR, under our level, rated by the review.
    (review,) = fhir["certainty"][0]["subcomponent"]
    assert [c["code"] for c in review["rating"]["coding"]] == ["low"]
    assert review["rater"] == "A fixture trial of talking therapy"
    assert review["description"].startswith("Alpha therapy against treatment as usual (GRADE)")
    assert body["certainty"] == [RATING]
    waitlist, _, usual_care = body["effects"]
    assert waitlist["low_risk_of_bias"] == {**LOW_ROB, "check": "holds"}
    # Lower favours the therapy: the oriented interval (0.1 to 0.5) lies above no effect.
    assert usual_care["low_risk_of_bias"]["check"] == "holds"
    # A guideline's first-line position and an effect against usual care that holds in its
    # low-risk studies would make it strong, but the review's low rating caps it.
    assert body["grading"] == {
        "floor": "moderate",
        "ceiling": "moderate",
        "criteria_met": [
            "guideline recommends",
            "significant pooled effect against control (recorded effect)",
            "low-risk-of-bias check: holds",
            "GRADE certainty low or very low",
        ],
    }


def test_without_ratings_or_figures_the_fields_are_empty(engine: Engine) -> None:
    load_seed(engine, read_seed_dir(FIXTURE_SEED))
    settings = Settings(database_url=str(engine.url.render_as_string(hide_password=False)))
    with TestClient(create_app(settings)) as client:
        body = client.get("/v1/indications/alpha:low-mood:adults").json()
    assert body["certainty"] == []
    assert all(e["low_risk_of_bias"] is None for e in body["effects"])
    # Only a waiting-list effect: no pooled effect against control.
    assert (body["grading"]["floor"], body["grading"]["ceiling"]) == ("insufficient", "moderate")


@pytest.fixture(scope="module")
def real_client(http_real_db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=http_real_db_url))) as client:
        yield client


def test_the_api_grades_every_indication_as_the_content_test_does(
    real_client: TestClient,
) -> None:
    expected = {
        g.id: {
            "floor": g.verdict.floor.value,
            "ceiling": g.verdict.ceiling.value,
            "criteria_met": list(g.verdict.met),
        }
        for g in grade_every(read_seed_dir(REAL_SEED))
    }
    served = {}
    url: str | None = "/v1/indications?limit=100"
    while url:
        response = real_client.get(url)
        assert response.status_code == 200
        served |= {i["id"]: i["grading"] for i in response.json()["items"]}
        url = response.links.get("next", {}).get("url")
    assert served == expected
    capped = [
        k for k, v in served.items() if "GRADE certainty low or very low" in v["criteria_met"]
    ]
    assert len(capped) >= 6
