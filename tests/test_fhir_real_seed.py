"""The FHIR R5 server over the real knowledge base in seed/, on both engines: every resource it
can answer with parses with the ``fhir.resources`` R5 models, and the searches integrators start
with find what the seed says."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.domain import indication_id
from app.fhir.resources import evidence_id
from app.fhir.terminology import CERTAINTY_OF, ICD_SYSTEMS
from app.main import create_app
from app.seeding import read_seed_dir
from tests.conftest import REAL_SEED
from tests.helpers import fhir_get, follow, ids

SEED = read_seed_dir(REAL_SEED)
INDICATIONS = [(x, i) for x in SEED.modalities for i in x.indications]


@pytest.fixture(scope="module")
def client(real_db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=real_db_url))) as client:
        yield client


@pytest.mark.parametrize(
    ("resource_type", "expected"),
    [
        ("PlanDefinition", len(SEED.modalities)),
        ("Evidence", len(INDICATIONS)),
        ("Citation", len(SEED.citations)),
    ],
)
def test_every_resource_validates(client: TestClient, resource_type: str, expected: int) -> None:
    """Each page of the whole search, followed to its end, and each resource read on its own."""
    found, total = follow(client, f"/fhir/{resource_type}?_count=7")
    assert total == len(found) == expected
    assert len({r["id"] for r in found}) == expected
    for resource in found:
        assert fhir_get(client, f"/fhir/{resource_type}/{resource['id']}") == resource


def test_capability_statement_validates(client: TestClient) -> None:
    assert fhir_get(client, "/fhir/metadata")["fhirVersion"] == "5.0.0"


def test_panic_disorder_by_icd_10_cm(client: TestClient) -> None:
    """``/fhir/Evidence?condition=F41.0``: the panic-disorder indications, graded, with their
    statistics."""
    expected = {
        evidence_id(indication_id(x.slug, i.condition, i.population.value, i.variant)): i
        for x, i in INDICATIONS
        if i.condition == "panic-disorder"
    }
    assert expected
    bundle = fhir_get(client, "/fhir/Evidence?condition=F41.0")
    assert sorted(ids(bundle)) == sorted(expected)
    assert bundle["total"] == len(expected)
    with_statistics = 0
    for entry in bundle["entry"]:
        evidence = entry["resource"]
        seed = expected[evidence["id"]]
        codes = [c["code"] for c in evidence["certainty"][0]["rating"]["coding"]]
        assert codes == [CERTAINTY_OF[seed.evidence][0], seed.evidence.value]
        statistics = evidence.get("statistic", [])
        # The recorded effects, then the pooled trial figure the level was graded by.
        recorded = [s["quantity"]["value"] for s in statistics[: len(seed.effects)]]
        assert recorded == [e.value for e in seed.effects]
        assert len(statistics) - len(seed.effects) in (0, 1)
        with_statistics += bool(statistics)
        concept = evidence["useContext"][0]["valueCodeableConcept"]
        assert {"system": ICD_SYSTEMS["icd-10-cm"], "code": "F41.0"}.items() <= next(
            c for c in concept["coding"] if c["code"] == "F41.0"
        ).items()
    assert with_statistics, "no panic-disorder indication has a pooled effect"
    system = fhir_get(client, "/fhir/Evidence?condition=http://hl7.org/fhir/sid/icd-10-cm|F41.0")
    assert ids(system) == ids(bundle)


def test_conditions_without_codes_are_named_in_text(client: TestClient) -> None:
    uncoded = {c.slug for c in SEED.conditions if not c.codes}
    cases = [(x, i) for x, i in INDICATIONS if i.condition in uncoded]
    assert cases, "the seed has no indication for a condition without codes"
    for x, i in cases:
        fhir_id = evidence_id(indication_id(x.slug, i.condition, i.population.value, i.variant))
        evidence = fhir_get(client, f"/fhir/Evidence/{fhir_id}")
        concept = evidence["useContext"][0]["valueCodeableConcept"]
        assert list(concept) == ["text"]


@pytest.mark.parametrize("slug", [x.slug for x in SEED.modalities])
def test_every_modality_is_searchable_as_an_intervention(client: TestClient, slug: str) -> None:
    found, total = follow(client, f"/fhir/Evidence?intervention=PlanDefinition/{slug}")
    seed = next(x for x in SEED.modalities if x.slug == slug)
    assert total == len(found) == len(seed.indications)


@pytest.mark.parametrize(("code", "slug"), [("6B40", "ptsd"), ("6B41", "complex-ptsd")])
def test_ptsd_and_complex_ptsd_are_searched_apart(client: TestClient, code: str, slug: str) -> None:
    """ICD-11 codes complex PTSD (6B41) as a sibling of PTSD (6B40), so a search by either code
    finds only that condition's indications."""
    expected = {
        evidence_id(indication_id(x.slug, i.condition, i.population.value, i.variant))
        for x, i in INDICATIONS
        if i.condition == slug
    }
    assert expected, f"the seed has no indication for {slug}"
    bundle = fhir_get(client, f"/fhir/Evidence?condition={code}")
    assert sorted(ids(bundle)) == sorted(expected)


def test_the_pooled_trial_figure_is_a_statistic_with_its_model(client: TestClient) -> None:
    """CBT for panic disorder in adults: graded by the pooled panic trials, which the Evidence
    states as a standardised mean difference with its intervals, heterogeneity, sample size,
    model, and the dataset it comes from (validated by ``fhir_get``)."""
    evidence = fhir_get(client, "/fhir/Evidence/cbt.panic-disorder.adults")
    basis = client.get("/v1/indications/cbt:panic-disorder:adults").json()["trial_basis"]
    pooled = evidence["statistic"][-1]
    assert pooled["statisticType"]["coding"][0]["code"] == "0000100"
    assert pooled["quantity"]["value"] == basis["estimate"]
    assert pooled["sampleSize"] == {
        "numberOfStudies": basis["k_studies"],
        "numberOfParticipants": basis["participants"],
    }
    kinds = {
        e["type"].get("text") or e["type"]["coding"][0]["display"]: e
        for e in pooled["attributeEstimate"]
    }
    assert kinds["Confidence interval"]["range"] == {
        "low": {"value": basis["ci_low"]},
        "high": {"value": basis["ci_high"]},
    }
    assert kinds["Prediction interval"]["range"]["low"] == {"value": basis["pi_low"]}
    assert kinds["Tau squared"]["quantity"]["value"] == basis["tau2"]
    assert kinds["I-squared"]["quantity"]["value"] == basis["i2"]
    assert kinds["Egger's test p-value"]["quantity"]["value"] == basis["egger_p"]
    models = " ".join(m["code"]["text"] for m in pooled["modelCharacteristic"])
    assert "REML" in models
    assert "Hartung-Knapp" in models
    notes = " ".join(n["text"] for n in pooled["note"])
    assert "/v1/pooled?modality=cbt&condition=panic-disorder" in notes
    datasets = [a for a in evidence["relatedArtifact"] if a.get("label") == "trial dataset"]
    assert [a["document"]["url"] for a in datasets] == [
        f"https://doi.org/{d['doi']}" for d in basis["datasets"]
    ]
    assert "version 23.0.0" in datasets[0]["citation"]
