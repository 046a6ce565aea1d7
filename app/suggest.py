"""The one "did you mean" helper, for unknown slugs, citation keys and style names."""

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
