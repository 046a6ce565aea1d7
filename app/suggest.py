"""The one "did you mean" helper, for unknown slugs, citation keys, style names and codes."""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import fuzz, process

# Similarity (0-100, rapidfuzz's normalised Indel ratio) below which nothing is suggested:
# 'ipy' still finds 'ipt' (67), 'xyz' finds nothing.
CUTOFF = 60.0


def suggest(value: str, known: Iterable[str], cutoff: float = CUTOFF) -> str | None:
    """The known value nearest to ``value``, when one is close enough. Compared in C: about
    0.2 ms against 6,000 slugs, where difflib took 5-25 ms."""
    close = process.extractOne(value, known, scorer=fuzz.ratio, score_cutoff=cutoff)
    return None if close is None else str(close[0])


def nearest(value: str, known: Iterable[str], limit: int = 3, cutoff: float = CUTOFF) -> list[str]:
    """Up to ``limit`` known values nearest to ``value``, nearest first (ties in their given
    order), each close enough."""
    found = process.extract(value, known, scorer=fuzz.ratio, score_cutoff=cutoff, limit=limit)
    return [str(match[0]) for match in found]
