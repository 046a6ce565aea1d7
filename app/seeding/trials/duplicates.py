"""One trial, counted once: a trial held in several datasets keeps the rows of one of them.

A trial is known by its first author's surname and its year (``trial_key``). Only datasets that
``mapping.yaml`` groups under ``duplicates`` are compared: across unrelated conditions the same
author and year name different trials (or subgroups of different people), not one trial twice.
"""

from __future__ import annotations

import re
import unicodedata

from app.seeding.trials.csvfile import CsvTable
from app.seeding.trials.format import DatasetMapping, MappingFile


def trial_key(study: str) -> str:
    """A trial's identity: the first author's surname and the year (with any letter after it).

    "Andrade et al. (2016)", "Andrade, 2016" and "Andrade 2016" are one key, andrade-2016.
    """
    text = unicodedata.normalize("NFKD", study).encode("ascii", "ignore").decode().lower()
    found = re.search(r"((?:19|20)\d\d)([a-z]?)", text)
    if found is None:
        return re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    head = re.split(r"[,&(]| et al| and ", text[: found.start()])[0]
    return f"{re.sub(r'[^a-z]', '', head)}-{found.group(1)}{found.group(2)}"


def kept_elsewhere(
    file: MappingFile, tables: dict[str, CsvTable], mappings: dict[str, DatasetMapping]
) -> dict[tuple[str, str], str]:
    """(dataset, trial key) → the dataset that keeps that trial, for every trial kept elsewhere."""
    held: dict[str, set[str]] = {
        name: {trial_key(r.get(mappings[name].study_column) or "") for r in table.rows}
        for name, table in tables.items()
    }
    elsewhere: dict[tuple[str, str], str] = {}
    for group in file.duplicates:
        present = [d for d in group.datasets if d in held]
        for i, keeper in enumerate(present):
            for other in present[i + 1 :]:
                for key in held[keeper] & held[other]:
                    elsewhere.setdefault((other, key), keeper)
    return elsewhere
