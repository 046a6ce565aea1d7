"""Numbers in formats stay structured: a session, week or minute count that a format's notes
state is also in its ``sessions``, ``weeks`` or ``session_minutes`` range (read without a
database). Months are not converted: "4 to 5 months" is no week count."""

from __future__ import annotations

import re

import pytest

from app.seeding import read_seed_dir
from app.seeding.format import Format, Range
from tests.conftest import REAL_SEED

SEED = read_seed_dir(REAL_SEED)

WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twelve": 12,
    "sixteen": 16,
    "twenty": 20,
}
NUMBER = r"(\d+|" + "|".join(WORDS) + r")"
# "N", "N to M", "N-M", never inside a hyphenated word ("one-to-one sessions" states no
# count); for sessions, then up to two words ("weekly", "group", "regular").
COUNT = rf"(?<![\w-]){NUMBER}(?:\s*(?:to|-|–)\s*{NUMBER})?"
FILLER = r"(?:[a-z]+\s+){0,2}?"
PATTERNS = {
    "sessions": re.compile(rf"{COUNT}\s+{FILLER}sessions?\b", re.IGNORECASE),
    "weeks": re.compile(rf"{COUNT}[\s-]+weeks?\b", re.IGNORECASE),
    "years": re.compile(rf"{COUNT}[\s-]+years?\b", re.IGNORECASE),
    "session_minutes": re.compile(rf"{COUNT}[\s-]+minutes?\b", re.IGNORECASE),
}


def _number(text: str) -> int:
    return int(text) if text.isdigit() else WORDS[text.lower()]


def stated(notes: str) -> dict[str, set[int]]:
    """The counts ``notes`` states, by the field that must hold them (years as weeks)."""
    found: dict[str, set[int]] = {"sessions": set(), "weeks": set(), "session_minutes": set()}
    for kind, pattern in PATTERNS.items():
        for match in pattern.finditer(notes):
            numbers = {_number(n) for n in match.groups() if n}
            if kind == "years":
                found["weeks"] |= {52 * n for n in numbers}
            else:
                found[kind] |= numbers
    return found


@pytest.mark.parametrize(
    ("notes", "expected"),
    [
        ("usually 8 regular sessions with usually 8 participants", {"sessions": {8}}),
        ("usually 6 to 8 structured sessions", {"sessions": {6, 8}}),
        (
            "16 weekly sessions over 4 months, each lasting about 90 minutes",
            {
                "sessions": {16},
                "session_minutes": {90},
            },
        ),
        ("up to 20 sessions over 20 weeks (4 to 5 months)", {"sessions": {20}, "weeks": {20}}),
        ("completed within about 12-16 weeks", {"weeks": {12, 16}}),
        ("The adult trials delivered one year of DBT", {"weeks": {52}}),
        ("within the one-year DBT programme", {"weeks": {52}}),
        ("a fixed course of 12 weekly sessions", {"sessions": {12}}),
        ("20 group sessions", {"sessions": {20}}),
        ("access for 12 months", {}),
        ("less frequent (typically monthly) maintenance sessions", {}),
        ("One-to-one sessions; the protocol sets a course of 16", {}),
        ("twice a week at the start", {}),
    ],
)
def test_stated_reads_counts_from_prose(notes: str, expected: dict[str, set[int]]) -> None:
    found = {kind: numbers for kind, numbers in stated(notes).items() if numbers}
    assert found == expected


def formats() -> list[tuple[str, Format]]:
    return [(f"{x.slug}#formats[{i}]", f) for x in SEED.modalities for i, f in enumerate(x.formats)]


@pytest.mark.parametrize(("ref", "fmt"), formats(), ids=[ref for ref, _ in formats()])
def test_counts_in_notes_are_in_the_structured_fields(ref: str, fmt: Format) -> None:
    for kind, numbers in stated(fmt.notes or "").items():
        field: Range | None = getattr(fmt, kind)
        for n in sorted(numbers):
            assert field is not None, f"{ref}: the notes state {n} ({kind}) but {kind} is empty"
            assert field.min <= n <= field.max, (
                f"{ref}: the notes state {n} ({kind}), outside {field.min}-{field.max}"
            )


def test_most_formats_carry_a_number() -> None:
    """Every format whose notes state a count carries it (above); this keeps the count of
    formats without any number from growing unnoticed."""
    bare = [ref for ref, f in formats() if not (f.sessions or f.weeks or f.session_minutes)]
    assert bare == ["dbt#formats[1]", "online#formats[3]"]
