"""What each trial data file holds and lacks, measured on the files (docs/meta-analysis.md).

``python -m app.seeding.trials.profile [seed_dir]`` prints the table the documentation gives.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from app.seeding.trials.csvfile import CsvTable
from app.seeding.trials.reader import load_tables


@dataclass(frozen=True, slots=True)
class ColumnState:
    present: bool
    missing: int  # rows whose cell is empty or NA

    def __str__(self) -> str:
        if not self.present:
            return "no column"
        return f"{self.missing} NA" if self.missing else "complete"


@dataclass(frozen=True, slots=True)
class DatasetProfile:
    dataset: str
    rows: int
    time: ColumnState
    format: ColumnState
    year: ColumnState
    risk_of_bias: ColumnState  # the column the mapping reads; NR counts as missing
    row_id: ColumnState
    repeated_ids: int  # rows whose `.id` another row already has
    without_g: int


def _state(table: CsvTable, column: str | None, missing: tuple[str, ...] = ()) -> ColumnState:
    if column is None or column not in table.columns:
        return ColumnState(False, 0)
    empty = sum(1 for r in table.rows if r.get(column) is None or r.get(column) in missing)
    return ColumnState(True, empty)


def profile(seed_dir: Path | str) -> list[DatasetProfile]:
    _, mapping, tables = load_tables(Path(seed_dir))
    out = []
    for name, table in tables.items():
        ids = Counter(r.get(".id") for r in table.rows if r.get(".id") is not None)
        out.append(
            DatasetProfile(
                dataset=name,
                rows=len(table.rows),
                time=_state(table, "time"),
                format=_state(table, "format"),
                year=_state(table, "year"),
                risk_of_bias=_state(table, mapping.datasets[name].risk_of_bias.column, ("NR",)),
                row_id=_state(table, ".id"),
                repeated_ids=sum(n - 1 for n in ids.values()),
                without_g=sum(1 for r in table.rows if r.get(".g") is None),
            )
        )
    return out


def main(argv: list[str]) -> None:
    seed = Path(argv[1]) if len(argv) > 1 else Path("seed")
    print("dataset\trows\ttime\tformat\tyear\trisk_of_bias\t.id\trepeated_ids\twithout_g")  # noqa: T201
    for p in profile(seed):
        cells = [p.dataset, p.rows, p.time, p.format, p.year, p.risk_of_bias, p.row_id]
        cells += [p.repeated_ids, p.without_g]
        print("\t".join(str(c) for c in cells))  # noqa: T201


if __name__ == "__main__":
    main(sys.argv)
