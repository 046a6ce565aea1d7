"""Parameters the faces share (the API's routes, FHIR and the explorer's pages), as
dependencies and plain functions that validate and resolve them, and the one rule for control
characters in a request's text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Query

from app.errors import InvalidParameter
from app.queries.common import condition_not_found, descendants, resolve_condition
from app.release import ReleaseDep

MAX_Q = 200

# NUL and the other C0 controls (tab and line feed aside, which a search may hold) and DEL:
# they have no place in a slug or a search, and PostgreSQL refuses NUL in text outright.
CONTROL_CHARACTERS = "\\x00-\\x08\\x0b-\\x1f\\x7f"
HAS_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")
# The same rule as a pattern for OpenAPI (ECMA-262 reads these escapes as Python does).
NO_CONTROLS_PATTERN = f"^[^{CONTROL_CHARACTERS}]*$"


@dataclass(frozen=True)
class ResolvedCondition:
    slug: str
    ids: list[int]  # the condition and every narrower one


def condition_filter(
    snapshot: ReleaseDep,
    condition: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=80,
            description="Condition slug, or an ICD-10-CM / ICD-11 code; "
            "includes narrower conditions.",
            examples=["major-depression", "F32.9", "6A70"],
        ),
    ] = None,
) -> ResolvedCondition | None:
    if condition is None:
        return None
    found = resolve_condition(snapshot.session, condition)
    if found is None or found.id is None:
        # A 404, like an unknown slug in a path: the condition named does not exist.
        raise condition_not_found(snapshot.session, snapshot.memo, condition)
    return ResolvedCondition(slug=found.slug, ids=descendants(snapshot.session, found.id))


MIN_COMPARE, MAX_COMPARE = 2, 6


def parse_modalities(values: list[str]) -> list[str]:
    """The slugs, whether given as repeated parameters, comma-separated, or both."""
    slugs = [part.strip() for value in values for part in value.split(",")]
    reasons = []
    if any(not slug for slug in slugs):
        reasons.append("empty entry in the list")
    repeated = sorted({slug for slug in slugs if slug and slugs.count(slug) > 1})
    if repeated:
        reasons.append(f"repeated: {', '.join(repeated)}")
    if not MIN_COMPARE <= len(slugs) <= MAX_COMPARE:
        reasons.append(f"give {MIN_COMPARE} to {MAX_COMPARE} modalities, not {len(slugs)}")
    if reasons:
        raise InvalidParameter(
            "modalities: " + "; ".join(reasons),
            errors=[{"parameter": "modalities", "reason": r} for r in reasons],
        )
    return slugs
