"""The closed vocabularies of the domain, shared by the seed format, the tables and the API.

Each enum is a ``StrEnum`` so its values are the strings that appear in YAML, in the database
CHECK constraints and in JSON.
"""

from enum import StrEnum

API_VERSION = "v1"
# A slug names a modality or condition in URLs: lower-case words joined by hyphens.
SLUG_RE = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


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

# The grading rubric (docs/evidence-grading.md): what a level requires of the literature, for one
# modality, condition and population. Served with the scale at /v1/meta.
EVIDENCE_CRITERIA: dict[Evidence, tuple[str, ...]] = {
    Evidence.strong: (
        "A current national guideline recommends it for this condition and population (NICE"
        " 'offer', APA, VA/DoD, AASM), or APA Division 12 rates it as having strong research"
        " support.",
        "And a significant pooled effect (95% interval excluding no effect, favouring the"
        " therapy) against control in this population: where the release's trial data covers"
        " the indication, its own pooled figure, against usual care, placebo or no treatment when"
        " at least 3 studies used them, otherwise against every control with that caveat stated;"
        " elsewhere a meta-analysis recorded with its interval. A figure against waiting lists"
        " alone never decides a level.",
        "And the effect holds in the studies at low risk of bias alone: at least 3 such studies"
        " whose Hartung-Knapp 95% interval excludes no effect. Otherwise the level is capped at"
        " moderate; with fewer than 3 rated studies the grade basis says the check is not"
        " assessable.",
        "Capped at moderate when a systematic review cited for the main comparison rates the"
        " certainty or quality of its evidence low or very low (by GRADE or its authors' own"
        " rating); the same rating caps every entry it applies to, and the grade basis names it.",
    ),
    Evidence.moderate: (
        "A significant pooled effect against control without a guideline recommendation (or with"
        " only a 'consider'), or benefit against control in two or more randomised trials or one"
        " large, well-designed trial.",
        "Or a case that would be strong but for the low-risk-of-bias check or a low certainty"
        " rating.",
    ),
    Evidence.limited: (
        "Pilot or feasibility trials, a single small randomised trial, an adaptation of a tested"
        " treatment, comparisons only against another active treatment, or indirect evidence"
        " from another population or format.",
    ),
    Evidence.insufficient: (
        "Used or recommended in practice literature, but no controlled trial was found, or"
        " trials found no benefit; listed so the gap is visible.",
    ),
}


class Population(StrEnum):
    adults = "adults"
    adolescents = "adolescents"
    children = "children"
    older_adults = "older-adults"
    perinatal = "perinatal"
    mixed = "mixed"


class Recommendation(StrEnum):
    """A guideline's position on a treatment for a condition, strongest first."""

    first_line = "first-line"
    recommended = "recommended"
    consider = "consider"
    research_only = "research-only"
    not_recommended = "not-recommended"


class EffectMeasure(StrEnum):
    """How a pooled or trial effect is expressed."""

    g = "g"  # Hedges' g
    d = "d"  # Cohen's d
    smd = "SMD"  # standardised mean difference
    rr = "RR"  # risk ratio
    or_ = "OR"  # odds ratio
    hr = "HR"  # hazard ratio
    md = "MD"  # mean difference on the outcome's own scale

    @property
    def null_value(self) -> float:
        """The value meaning no effect: 1 for ratios, 0 for differences."""
        return 1.0 if self in RATIO_MEASURES else 0.0


RATIO_MEASURES = frozenset({EffectMeasure.rr, EffectMeasure.or_, EffectMeasure.hr})


class AcceptabilityMeasure(StrEnum):
    """How a dropout figure is expressed: a ratio against a comparator (above 1: more dropout
    with the therapy), or the proportion of people who dropped out."""

    rr = "RR"
    or_ = "OR"
    proportion = "proportion"


class EffectDirection(StrEnum):
    """Which way a recorded figure favours the therapy the indication is about (not the
    comparator): what lets a program tell benefit from harm whatever the sign convention of
    the cited work."""

    higher_favours_therapy = "higher-favours-therapy"
    lower_favours_therapy = "lower-favours-therapy"


def oriented(
    measure: EffectMeasure,
    direction: EffectDirection,
    value: float,
    ci_low: float | None,
    ci_high: float | None,
) -> tuple[float, float | None, float | None]:
    """The figure turned so that it favours the therapy above no effect: a difference negated,
    a ratio inverted, the interval's ends swapped, when lower values favoured it."""
    if direction is EffectDirection.higher_favours_therapy:
        return value, ci_low, ci_high
    if measure in RATIO_MEASURES:
        return (
            1.0 / value,
            None if ci_high is None else 1.0 / ci_high,
            None if ci_low is None else 1.0 / ci_low,
        )
    return (
        -value,
        None if ci_high is None else -ci_high,
        None if ci_low is None else -ci_low,
    )


class Comparator(StrEnum):
    """What an effect was measured against."""

    waitlist = "waitlist"
    usual_care = "usual-care"
    placebo = "placebo"
    mixed_control = "mixed-control"  # waiting list, usual care or placebo pooled together
    active_psychotherapy = "active-psychotherapy"
    pharmacotherapy = "pharmacotherapy"
    # Inactive controls the trial data names and the classes above do not hold: no treatment at
    # all, and other inactive conditions (psychoeducation, attention or computer controls,
    # befriending, supportive counselling offered as a control).
    no_treatment = "no-treatment"
    other_control = "other-control"
    other = "other"

    @property
    def is_control(self) -> bool:
        return self in CONTROL_COMPARATORS


CONTROL_COMPARATORS = frozenset(
    {
        Comparator.waitlist,
        Comparator.usual_care,
        Comparator.placebo,
        Comparator.mixed_control,
        Comparator.no_treatment,
        Comparator.other_control,
    }
)


class TherapyFamily(StrEnum):
    """The broad family a trial's therapy belongs to (a closed list; ``other`` holds the rest)."""

    cbt = "cbt"
    behavioural_activation = "behavioural-activation"
    problem_solving = "problem-solving"
    third_wave = "third-wave"
    psychodynamic = "psychodynamic"
    ipt = "ipt"
    dbt = "dbt"
    emdr = "emdr"
    other = "other"


# One vocabulary of variants per modality, shared by the trial layer and the curated layer.
class OnlineVariant(StrEnum):
    guided_icbt = "guided-icbt"
    unguided_icbt = "unguided-icbt"
    videoconference = "videoconference"


class DbtVariant(StrEnum):
    standard = "standard"
    dbt_a = "dbt-a"
    skills_only = "skills-only"


class CbtVariant(StrEnum):
    cbt_i = "cbt-i"
    erp = "erp"
    prolonged_exposure = "prolonged-exposure"
    cpt = "cpt"
    tf_cbt = "tf-cbt"
    cbt_e = "cbt-e"
    cbtp = "cbtp"


MODALITY_VARIANTS: dict[str, type[StrEnum]] = {
    "online": OnlineVariant,
    "dbt": DbtVariant,
    "cbt": CbtVariant,
}


def variants_of(modality: str) -> tuple[str, ...]:
    """The variants a modality may name (none for a modality without a vocabulary)."""
    vocabulary = MODALITY_VARIANTS.get(modality)
    return tuple(v.value for v in vocabulary) if vocabulary else ()


ALL_VARIANTS: tuple[str, ...] = tuple(
    dict.fromkeys(v.value for vocabulary in MODALITY_VARIANTS.values() for v in vocabulary)
)

# Each variant's name in words, as pages show it (a test holds it to ALL_VARIANTS).
VARIANT_NAMES = {
    "guided-icbt": "guided internet CBT",
    "unguided-icbt": "unguided internet CBT",
    "videoconference": "by videoconference",
    "standard": "standard",
    "dbt-a": "DBT for adolescents",
    "skills-only": "skills training only",
    "cbt-i": "CBT for insomnia",
    "erp": "exposure and response prevention",
    "prolonged-exposure": "prolonged exposure",
    "cpt": "cognitive processing therapy",
    "tf-cbt": "trauma-focused CBT",
    "cbt-e": "enhanced CBT",
    "cbtp": "CBT for psychosis",
}


class Certainty(StrEnum):
    """How a cited review rates the certainty (or quality) of its evidence for a comparison:
    GRADE's four levels, to which a review's own quality judgement is mapped as it states it."""

    high = "high"
    moderate = "moderate"
    low = "low"
    very_low = "very-low"


# A rating of these caps a level at moderate (docs/evidence-grading.md).
LOW_CERTAINTY = frozenset({Certainty.low, Certainty.very_low})


class LowRiskOfBias(StrEnum):
    """Whether a trial was judged at low risk of bias; a missing rating is never low."""

    yes = "yes"
    no = "no"
    not_assessed = "not-assessed"


class TimePoint(StrEnum):
    post = "post"
    follow_up = "follow-up"


class OutcomeKind(StrEnum):
    """What a trial effect was computed from: scores (means, change scores, test statistics) or
    counts of people with an event (response, remission, attempts)."""

    continuous = "continuous"
    events = "events"


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
    # Formats the trial data names: guided self-help whose medium (book or internet) is not
    # stated, couple therapy, and mixed or other formats.
    guided_self_help = "guided-self-help"
    couple = "couple"
    mixed = "mixed"


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


class ExportFormat(StrEnum):
    """The whole knowledge base as one download: nested JSON, NDJSON records, or CSV tables."""

    json = "json"
    ndjson = "ndjson"
    csv = "csv"


EXPORT_MEDIA_TYPES = {
    ExportFormat.json: "application/json",
    ExportFormat.ndjson: "application/x-ndjson",
    ExportFormat.csv: "application/zip",
}
EXPORT_EXTENSIONS = {
    ExportFormat.json: "json",
    ExportFormat.ndjson: "ndjson",
    ExportFormat.csv: "zip",
}


def indication_id(
    modality: str, condition: str, population: str, variant: str | None = None
) -> str:
    """An indication's one public id, ``modality:condition:population[:variant]``: the same in
    JSON, the exports, search, release diffs and (with ``.`` for ``:``) FHIR. Slugs, populations
    and variants hold no colon, so the id splits back into its parts."""
    parts = [modality, condition, population, *([variant] if variant else [])]
    return ":".join(parts)
