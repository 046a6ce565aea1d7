"""Reading one dataset's ``data.csv``: checksum first, then the rows as text.

The files are semicolon-separated, with a decimal comma, ``NA`` for a missing value and (in
most) a leading unnamed column holding the row number. Some reference strings carry broken
characters from their source: bytes that are not UTF-8 are replaced rather than refused, since
the checksum already proves the file is the published one.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from app.errors import SeedProblem

MISSING = "NA"


@dataclass(frozen=True, slots=True)
class CsvRow:
    number: int  # position among the data rows, from 1
    line: int  # the file line the row ends on (a quoted value may hold line breaks)
    values: dict[str, str]

    def get(self, column: str) -> str | None:
        """The cell as written, or None when it is empty or ``NA``."""
        value = self.values.get(column)
        if value is None:
            return None
        value = value.strip()
        return None if value in ("", MISSING) else value

    def code(self, column: str) -> str:
        """The cell as a code: ``NA`` stands for itself (a mapping lists it like any code)."""
        value = self.values.get(column, "").strip()
        return value or MISSING


@dataclass(frozen=True, slots=True)
class CsvTable:
    file: str
    columns: tuple[str, ...]
    rows: tuple[CsvRow, ...]


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_table(path: Path, label: str, sha256: str) -> CsvTable | SeedProblem:
    """The file's rows, or the one problem that stops it being read."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return SeedProblem(label, "", "the dataset's data file is missing")
    except OSError as exc:
        return SeedProblem(label, "", f"cannot read file: {exc.strerror}")
    found = sha256_of(raw)
    if found != sha256:
        return SeedProblem(
            label,
            "",
            f"the file has changed: its sha256 is {found}, datasets.yaml gives {sha256}",
        )
    reader = csv.reader(
        io.StringIO(raw.decode("utf-8", errors="replace"), newline=""), delimiter=";"
    )
    try:
        header = next(reader)
    except StopIteration:
        return SeedProblem(label, "", "the file is empty")
    columns = tuple(header)
    rows: list[CsvRow] = []
    try:
        for number, cells in enumerate(reader, start=1):
            if len(cells) != len(columns):
                return SeedProblem(
                    label,
                    f"row {number} (line {reader.line_num})",
                    f"{len(cells)} values for {len(columns)} columns",
                )
            rows.append(CsvRow(number, reader.line_num, dict(zip(columns, cells, strict=True))))
    except csv.Error as exc:
        return SeedProblem(label, f"line {reader.line_num}", f"not valid CSV: {exc}")
    return CsvTable(label, columns, tuple(rows))


def parse_number(text: str | None) -> float | None:
    """A number written with a decimal comma (or point); None for a missing value."""
    if text is None:
        return None
    return float(text.replace(",", "."))
