"""The vocabulary of our FHIR resources: code systems and the tables that map our closed
vocabularies (evidence levels, effect measures, comparators …) to FHIR codes and words.

docs/fhir.md shows each mapping; a change here is a change there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.domain import (
    Certainty,
    CodeSystem,
    Comparator,
    ComponentKind,
    Delivery,
    EffectMeasure,
    Evidence,
    Population,
)
from app.http.problems import FHIR_JSON  # the one error writer sends it too

__all__ = ["FHIR_JSON"]

FHIR_VERSION = "5.0.0"


@dataclass(frozen=True)
class Canonical:
    """Where the canonical URLs of our resources and code systems live: under the service's
    configured public origin (``THERAPY_KB_PUBLIC_URL``), the same whichever address a client
    used (``app.main`` hands it to the FHIR routes)."""

    base: str  # e.g. https://kb.example.org/fhir

    def resource(self, resource_type: str, fhir_id: str) -> str:
        return f"{self.base}/{resource_type}/{fhir_id}"

    def code_system(self, name: str) -> str:
        return f"{self.base}/CodeSystem/{name}"

    def identifiers(self, name: str) -> str:
        """The system of one kind of our identifiers (``modality``, ``citation-key``)."""
        return f"{self.base}/{name}"

    @property
    def evidence_level(self) -> str:
        return self.code_system(EVIDENCE_LEVEL_ID)


Json = dict[str, Any]

ICD_SYSTEMS: dict[CodeSystem, str] = {
    CodeSystem.icd_10_cm: "http://hl7.org/fhir/sid/icd-10-cm",
    CodeSystem.icd_11: "http://id.who.int/icd/release/11/mms",
}
SYSTEM_OF_URI = {uri: system for system, uri in ICD_SYSTEMS.items()}

# Our evidence level → GRADE certainty rating (docs/fhir.md says why).
CERTAINTY_RATING = "http://terminology.hl7.org/CodeSystem/certainty-rating"
CERTAINTY_OF: dict[Evidence, tuple[str, str]] = {
    Evidence.strong: ("high", "High quality"),
    Evidence.moderate: ("moderate", "Moderate quality"),
    Evidence.limited: ("low", "Low quality"),
    Evidence.insufficient: ("very-low", "Very low quality"),
}
EVIDENCE_LEVEL_ID = "evidence-level"  # served: GET /fhir/CodeSystem/evidence-level
# A cited review's own rating (GRADE's levels, or its quality judgement mapped to them).
REVIEW_CERTAINTY: dict[Certainty, tuple[str, str]] = {
    Certainty.high: ("high", "High quality"),
    Certainty.moderate: ("moderate", "Moderate quality"),
    Certainty.low: ("low", "Low quality"),
    Certainty.very_low: ("very-low", "Very low quality"),
}

STATISTIC_TYPE = "http://terminology.hl7.org/CodeSystem/statistic-type"
SMD = ("0000100", "Standardized Mean Difference")
STATISTIC_OF: dict[EffectMeasure, tuple[tuple[str, str], str]] = {
    EffectMeasure.g: (SMD, "Hedges' g"),
    EffectMeasure.d: (SMD, "Cohen's d"),
    EffectMeasure.smd: (SMD, "standardised mean difference"),
    EffectMeasure.rr: (("C93152", "Relative Risk"), "risk ratio"),
    EffectMeasure.or_: (("C16932", "Odds Ratio"), "odds ratio"),
    EffectMeasure.hr: (("C93150", "Hazard Ratio"), "hazard ratio"),
    EffectMeasure.md: (("0000457", "Mean Difference"), "mean difference"),
}
COMPARATOR_TEXT: dict[Comparator, str] = {
    Comparator.waitlist: "a waiting list",
    Comparator.usual_care: "usual care",
    Comparator.placebo: "placebo",
    Comparator.mixed_control: "control conditions (waiting list, usual care or placebo)",
    Comparator.active_psychotherapy: "another psychotherapy",
    Comparator.pharmacotherapy: "medication",
    Comparator.no_treatment: "no treatment",
    Comparator.other_control: "another inactive control",
    Comparator.other: "another comparator",
}
POPULATION_TEXT: dict[Population, str] = {
    Population.adults: "Adults",
    Population.adolescents: "Adolescents",
    Population.children: "Children",
    Population.older_adults: "Older adults",
    Population.perinatal: "Perinatal women",
    Population.mixed: "People of mixed ages",
}
KIND_TITLES: dict[ComponentKind, str] = {
    ComponentKind.problem_area: "Problem areas",
    ComponentKind.skill_module: "Skill modules",
    ComponentKind.treatment_mode: "Treatment modes",
    ComponentKind.phase: "Phases",
    ComponentKind.technique: "Techniques",
}
DELIVERY_TITLES: dict[Delivery, str] = {
    Delivery.individual: "Individual",
    Delivery.group: "Group",
    Delivery.online_synchronous: "Online, live",
    Delivery.online_guided: "Online, guided",
    Delivery.self_guided: "Self-guided",
    Delivery.telephone: "Telephone",
    Delivery.guided_self_help: "Guided self-help",
    Delivery.couple: "Couple",
    Delivery.mixed: "Mixed formats",
}
WORK_IDENTIFIERS = {  # citation field → identifier system
    "doi": "https://doi.org",
    "pmid": "https://pubmed.ncbi.nlm.nih.gov",
    "pmcid": "https://www.ncbi.nlm.nih.gov/pmc",
    "isbn": "urn:isbn",
}
UCUM = "http://unitsofmeasure.org"


def coding(system: str, code: str, display: str | None = None) -> Json:
    out = {"system": system, "code": code}
    return out | {"display": display} if display else out


def concept(*codings: Json, text: str | None = None) -> Json:
    out: Json = {"coding": list(codings)} if codings else {}
    return out | {"text": text} if text else out
