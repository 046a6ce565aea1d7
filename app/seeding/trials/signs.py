"""The direction of a dataset's effects, read from the raw arm columns.

For a row, ``arm1_better`` says whether the therapy arm (arm 1) did better than the comparator
by the raw figures: a lower mean score (or change score) on an instrument where lower is
better, a higher one where higher is better, a higher rate of a good event or a lower rate of a
bad one. ``agreement`` counts, per dataset and outcome kind, the rows whose oriented g
(``sign * g``) is positive exactly when arm 1 did better. The mapping pins the sign with these
counts and the dissenting rows; the tests recompute them from the files.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain import OutcomeKind
from app.seeding.trials.csvfile import CsvRow, parse_number
from app.seeding.trials.format import DatasetSigns


def _pair(row: CsvRow, first: str, second: str, digits_only: bool) -> tuple[float, float] | None:
    a, b = row.get(first), row.get(second)
    if a is None or b is None:
        return None
    if digits_only and (len(a) != len(b) or not (a.isdigit() and b.isdigit())):
        # Without their decimal separator, two means compare only when written alike.
        return None
    try:
        x, y = parse_number(a), parse_number(b)
    except ValueError:
        return None
    return None if x is None or y is None else (x, y)


def arm1_better(
    row: CsvRow, kind: OutcomeKind, instrument: str | None, signs: DatasetSigns
) -> bool | None:
    """Whether the raw arm columns say the therapy arm did better; None if they cannot tell."""
    if kind is OutcomeKind.events:
        entry = signs.events
        events = _pair(row, "event_arm1", "event_arm2", False)
        totals = _pair(row, "totaln_arm1", "totaln_arm2", False)
        if entry is None or events is None or totals is None or 0 in totals:
            return None
        rate1, rate2 = events[0] / totals[0], events[1] / totals[1]
        if rate1 == rate2:
            return None
        more_events = rate1 > rate2
        return more_events if entry.events_mean == "benefit" else not more_events
    lost = signs.means_lost_decimal_separator
    pair = _pair(row, "mean_arm1", "mean_arm2", lost) or _pair(
        row, "mean_change_arm1", "mean_change_arm2", lost
    )
    if pair is None or pair[0] == pair[1]:
        return None
    lower = pair[0] < pair[1]
    return not lower if instrument in signs.higher_is_better else lower


@dataclass(frozen=True, slots=True)
class Agreement:
    checked: int
    agree: int
    dissent: tuple[int, ...]  # row numbers

    @property
    def share(self) -> float:
        return self.agree / self.checked if self.checked else 0.0


def agreement(rows: list[tuple[CsvRow, float, bool | None]], sign: int) -> Agreement:
    """Count agreement over (row, source g, arm 1 better) triples; g = 0 tells nothing."""
    checked = agree = 0
    dissent: list[int] = []
    for row, g, better in rows:
        if better is None or g == 0:
            continue
        checked += 1
        if (sign * g > 0) == better:
            agree += 1
        else:
            dissent.append(row.number)
    return Agreement(checked, agree, tuple(dissent))
