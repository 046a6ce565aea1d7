"""The closed vocabularies of the domain, shared by the seed format, the tables and the API.

Each enum is a ``StrEnum`` so its values are the strings that appear in YAML, in the database
CHECK constraints and in JSON.
"""

from enum import StrEnum

API_VERSION = "v1"


class Category(StrEnum):
    approach = "approach"
    delivery = "delivery"


class Evidence(StrEnum):
    """Ordered from strongest to weakest; ``rank`` gives the order (higher is stronger)."""

    strong = "strong"
    moderate = "moderate"
    limited = "limited"
    insufficient = "insufficient"

    @property
    def rank(self) -> int:
        return EVIDENCE_RANK[self]


EVIDENCE_RANK: dict[Evidence, int] = {
    Evidence.strong: 4,
    Evidence.moderate: 3,
    Evidence.limited: 2,
    Evidence.insufficient: 1,
}

EVIDENCE_DEFINITIONS: dict[Evidence, str] = {
    Evidence.strong: "Consistent benefit in several well-designed RCTs or meta-analyses.",
    Evidence.moderate: (
        "Benefit in at least one well-designed RCT or a smaller meta-analysis; some inconsistency."
    ),
    Evidence.limited: "Adaptations, pilot trials, or indirect evidence only.",
    Evidence.insufficient: (
        "Claimed in practice literature but not supported by trials found; "
        "shown so users see the gap."
    ),
}


class Population(StrEnum):
    adults = "adults"
    adolescents = "adolescents"
    children = "children"
    older_adults = "older-adults"
    perinatal = "perinatal"
    students = "students"
    mixed = "mixed"


class ConsiderationKind(StrEnum):
    pro = "pro"
    con = "con"


class Delivery(StrEnum):
    individual = "individual"
    group = "group"
    online_synchronous = "online-synchronous"
    online_guided = "online-guided"
    self_guided = "self-guided"
    telephone = "telephone"


class ComponentKind(StrEnum):
    problem_area = "problem_area"
    skill_module = "skill_module"
    treatment_mode = "treatment_mode"
    phase = "phase"
    technique = "technique"


class CodeSystem(StrEnum):
    icd_10_cm = "icd-10-cm"
    icd_11 = "icd-11"


class CitationType(StrEnum):
    article_journal = "article-journal"
    book = "book"
    chapter = "chapter"
    report = "report"
    webpage = "webpage"


class ClaimType(StrEnum):
    """The kinds of statement that carry citations."""

    modality = "modality"
    indication = "indication"
    consideration = "consideration"
    # Shadows str.format; the name is public (the "format" claim type), so it stays.
    format = "format"  # type: ignore[assignment]
    component = "component"


class SearchType(StrEnum):
    """What a search hit can be."""

    modality = "modality"
    condition = "condition"
    claim = "claim"
    citation = "citation"


def claim_path(claim_type: ClaimType | str, position: int, kind: str | None = None) -> str:
    """Where a claim sits in its modality's seed file: ``indications[0]``, ``pros[2]`` …

    The path is the claim's public id within its modality (``ipt#pros[2]``); a modality-level
    claim (its description, origin and goals) has the empty path.
    """
    claim_type = ClaimType(claim_type)
    if claim_type is ClaimType.modality:
        return ""
    if claim_type is ClaimType.consideration:
        return f"{kind}s[{position}]"
    return f"{claim_type.value}s[{position}]"


def claim_ref(modality_slug: str, path: str) -> str:
    return f"{modality_slug}#{path}" if path else modality_slug
