"""The sentences a condition page leads with: what to offer first, by the guidelines, and where
the evidence is strongest, readable in a few seconds. Built from the condition's indications
alone (pure: no query, no markup)."""

from __future__ import annotations

from collections.abc import Iterable

from app import schemas as s
from app.domain import Evidence, Recommendation

EVIDENCE_ORDER = list(Evidence)  # strongest first


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _grouped(pairs: Iterable[tuple[str, str]]) -> str:
    """'A and B (NICE); C (APA, NICE)': names grouped by what they share, in first-seen order."""
    of: dict[str, list[str]] = {}
    for name, tag in pairs:
        of.setdefault(name, [])
        if tag not in of[name]:
            of[name].append(tag)
    groups: dict[tuple[str, ...], list[str]] = {}
    for name, tags in of.items():
        groups.setdefault(tuple(tags), []).append(name)
    return "; ".join(f"{_join(names)} ({', '.join(tags)})" for tags, names in groups.items())


def _by_guideline(indications: list[s.ConditionIndication], position: Recommendation) -> str:
    return _grouped(
        (i.modality_name, g.body)
        for i in indications
        for g in i.guidelines
        if g.recommendation is position
    )


def lead_sentences(condition: s.ConditionDetail) -> list[str]:
    indications = condition.modalities
    if not indications:
        return [f"No therapy is indicated for {condition.name} in this release."]
    out = []
    first = _by_guideline(indications, Recommendation.first_line)
    if first:
        out.append(f"First-line by guideline: {first}.")
    else:
        recommended = _by_guideline(indications, Recommendation.recommended)
        out.append(
            f"Recommended by guideline: {recommended}; none names a first line."
            if recommended
            else "No guideline here names a first-line or recommended therapy."
        )
    best = min(EVIDENCE_ORDER.index(i.evidence) for i in indications)
    at_best = _grouped(
        (i.modality_name, i.population.value.replace("-", " "))
        for i in indications
        if EVIDENCE_ORDER.index(i.evidence) == best
    )
    out.append(f"Strongest evidence ({EVIDENCE_ORDER[best].value}): {at_best}.")
    # The indication with the most trials against any control, as the page's trial plots show.
    pools = [
        (p.k_studies, i, p)
        for i in indications
        for p in i.pooled
        if p.comparator == "control" and p.estimate is not None
    ]
    if pools:
        k, i, p = max(pools, key=lambda x: x[0])
        interval = (
            f" [{p.ci_low:.2f}, {p.ci_high:.2f}]"
            if p.ci_low is not None and p.ci_high is not None
            else ""
        )
        # One study is its own figure, not a pooled one.
        figure = "g" if k == 1 else "pooled g"
        out.append(
            f"Most trials: {i.modality_name} against any control, {k} stud"
            f"{'y' if k == 1 else 'ies'}, {figure} {p.estimate:.2f}{interval}."
        )
    return out
