"""The checks of the trial layer's files against each other and against the data files."""

from __future__ import annotations

from app.errors import SeedProblem
from app.seeding.trials.format import DatasetMapping, DatasetsFile, MappingFile

MAPPING_LABEL = "trials/mapping.yaml"


def required_columns(mapping: DatasetMapping) -> list[str]:
    columns = [mapping.study_column, mapping.instrument_column, mapping.g_column]
    columns += [mapping.se_column]
    columns += [c for c in (mapping.id_column, mapping.year_column, mapping.reference_column) if c]
    columns += [r.column for r in mapping.rules().values() if r is not None and r.column]
    return columns


def cross_check(
    datasets: DatasetsFile, mapping: MappingFile, conditions: set[str]
) -> list[SeedProblem]:
    file = MAPPING_LABEL
    names = {d.name for d in datasets.datasets}
    out = [
        SeedProblem(file, f"datasets.{n}", "no mapping for this dataset")
        for n in sorted(names - set(mapping.datasets))
    ]
    out += [
        SeedProblem(file, f"datasets.{n}", "not a dataset of datasets.yaml")
        for n in sorted(set(mapping.datasets) - names)
    ]
    out += [
        SeedProblem(file, f"duplicates.{d}", "not a dataset of datasets.yaml")
        for group in mapping.duplicates
        for d in group.datasets
        if d not in names
    ]
    for name, dataset in mapping.datasets.items():
        rule = dataset.condition
        slugs = [rule.value] if rule.column is None else list(rule.codes.values())
        out += [
            SeedProblem(file, f"datasets.{name}.condition", f"unknown condition {slug!r}")
            for slug in slugs
            if slug not in conditions
        ]
    return out
