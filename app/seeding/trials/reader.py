"""Reading the trial layer: the datasets file, each ``data.csv`` and the mapping, into records.

``read_trials(seed_dir)`` returns a ``TrialData`` (datasets, one comparison per usable row, the
rows left out with their reason) or raises ``SeedInvalid`` naming every problem with its file
and place: a changed or missing file, a missing column, a code the mapping does not know (with
its dataset, column, code and row), a number that does not parse. No database is involved.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from app.domain import (
    Delivery,
    LowRiskOfBias,
    OnlineVariant,
    OutcomeKind,
    TherapyFamily,
    TimePoint,
)
from app.errors import SeedInvalid, SeedProblem
from app.seeding.format import ConditionsFile
from app.seeding.trials.checks import cross_check, required_columns
from app.seeding.trials.csvfile import CsvRow, CsvTable, parse_number, read_table
from app.seeding.trials.duplicates import kept_elsewhere, trial_key
from app.seeding.trials.format import (
    DatasetMapping,
    DatasetsFile,
    MappingFile,
    Rule,
    Therapy,
)
from app.seeding.trials.signs import Agreement, agreement, arm1_better
from app.seeding.yaml_files import read_yaml, validate
from app.trial_records import TrialComparison, TrialData, TrialDataset, TrialExclusion

DATASETS_FILE = Path("trials") / "metapsy" / "datasets.yaml"
MAPPING_FILE = Path("trials") / "mapping.yaml"
NO_G = "No Hedges' g in the file (the row has event counts only)."
NO_SE = "No standard error for the row's g."

T = TypeVar("T")
_UNKNOWN = object()
_YEAR = re.compile(r"(?:19|20)\d\d")


def data_path(seed_dir: Path, dataset: str) -> Path:
    return seed_dir / "trials" / "metapsy" / dataset / "data.csv"


@dataclass
class _Context:
    """What a row's checks report to: the dataset, its file and the problems found."""

    dataset: str
    table: CsvTable
    problems: list[SeedProblem]

    def problem(self, row: CsvRow, column: str, message: str) -> None:
        where = f"row {row.number} (line {row.line}), column {column!r}"
        self.problems.append(SeedProblem(self.table.file, where, message))


def _apply(rule: Rule[T], row: CsvRow, field: str, ctx: _Context) -> tuple[Any, str | None]:
    """The rule's meaning for this row and, if the row is excluded by it, the reason."""
    if rule.column is None:
        return rule.value, None
    code = row.code(rule.column)
    if code in rule.codes:
        return rule.codes[code], None
    if code in rule.excluded:
        return None, rule.excluded[code]
    ctx.problem(
        row,
        rule.column,
        f"dataset {ctx.dataset}: unknown code {code!r} for {field}"
        " (add it to seed/trials/mapping.yaml, mapped or excluded with a reason)",
    )
    return _UNKNOWN, None


def _number(row: CsvRow, column: str | None, ctx: _Context) -> float | None:
    if column is None:
        return None
    try:
        return parse_number(row.get(column))
    except ValueError:
        ctx.problem(row, column, f"dataset {ctx.dataset}: not a number: {row.get(column)!r}")
        return None


def _count(row: CsvRow, columns: tuple[str, str], ctx: _Context) -> int | None:
    for column in columns:
        if column in ctx.table.columns:
            value = _number(row, column, ctx)
            if value is not None:
                return round(value)
    return None


def _year(row: CsvRow, mapping: DatasetMapping, study: str) -> int | None:
    source = row.get(mapping.year_column) if mapping.year_column else None
    found = _YEAR.search(source or study)
    return int(found.group()) if found else None


def _online(code: Any, therapy: Therapy | None) -> tuple[bool, OnlineVariant | None]:
    if code is None or code is _UNKNOWN or code == "not-online":
        return False, None
    if code == "online":
        return True, None
    variant = OnlineVariant(code)
    icbt = {OnlineVariant.guided_icbt, OnlineVariant.unguided_icbt}
    if variant in icbt and (therapy is None or therapy.family is not TherapyFamily.cbt):
        return True, None  # internet-delivered, but not CBT: no iCBT variant
    return True, variant


def _record(
    name: str,
    row: CsvRow,
    mapping: DatasetMapping,
    results: dict[str, tuple[Any, str | None]],
    effect: tuple[float, float, OutcomeKind, int],
    ctx: _Context,
) -> TrialComparison:
    """The comparison record of a row whose every rule gave a meaning."""
    g, se, kind, sign = effect
    study = row.get(mapping.study_column) or ""
    therapy: Therapy = results["therapy"][0]
    delivery: Delivery | None = results["format"][0]
    online, online_variant = _online(results.get("online", (None, None))[0], therapy)
    population = results.get("population.age", (None, None))[0]
    override = results.get("population.target", (None, None))[0]
    comparator = results["comparator"][0]
    key = trial_key(study)
    also = tuple(
        m for m, flag in (("group", delivery is Delivery.group), ("online", online)) if flag
    )

    def cell(column: str | None) -> str | None:
        return row.get(column) if column else None

    return TrialComparison(
        dataset=name,
        row=row.number,
        source_id=cell(mapping.id_column),
        study=study,
        trial_key=key,
        year=_year(row, mapping, study),
        condition=results["condition"][0],
        modality=therapy.modality,
        family=therapy.family,
        variant=therapy.variant,
        online_variant=online_variant,
        also_counts_for=also,
        therapy_code=row.code(mapping.therapy.column or ""),
        comparator_code=row.code(mapping.comparator.column or ""),
        comparator=comparator,
        delivery=delivery,
        population=override or population,
        time=TimePoint(results["time"][0]),
        time_code=cell(mapping.time.column),
        instrument=cell(mapping.instrument_column),
        outcome_kind=kind,
        outcome_type=row.code(mapping.outcome.column or ""),
        n_arm1=_count(row, ("n_arm1", "totaln_arm1"), ctx),
        n_arm2=_count(row, ("n_arm2", "totaln_arm2"), ctx),
        source_g=g,
        source_se=se,
        sign=sign,
        g=sign * g + 0.0,  # + 0.0: no negative zero where g is 0
        se=se,
        low_risk_of_bias=LowRiskOfBias(results["risk_of_bias"][0]),
        risk_of_bias=cell(mapping.risk_of_bias.column),
        reference=cell(mapping.reference_column),
        aggregation_key=f"{name}/{key}/{comparator}",
    )


def _read_dataset(
    name: str, table: CsvTable, mapping: DatasetMapping, file: MappingFile, ctx: _Context
) -> tuple[list[TrialComparison], list[TrialExclusion]]:
    """Every row checked against the mapping (all rules, so every unknown code is reported),
    then made a record or left out with the first reason that applies."""
    signs = file.signs.get(name)
    comparisons: list[TrialComparison] = []
    exclusions: list[TrialExclusion] = []
    missing_signs: set[OutcomeKind] = set()
    for row in table.rows:
        results = {
            field: _apply(rule, row, field, ctx)
            for field, rule in mapping.rules().items()
            if rule is not None
        }
        g = _number(row, mapping.g_column, ctx)
        se = _number(row, mapping.se_column, ctx)
        if any(value is _UNKNOWN for value, _ in results.values()):
            continue
        kind: OutcomeKind | None = results["outcome"][0]
        entry = signs.entry(kind) if signs and kind else None
        if kind is not None and entry is None:
            missing_signs.add(kind)
            continue
        reasons = [reason for _, reason in results.values() if reason]
        if g is None:
            reasons.append(NO_G)
        elif se is None:
            reasons.append(NO_SE)
        if entry is not None and entry.excluded:
            reasons.append(f"The direction of g cannot be established: {entry.excluded}")
        if reasons or g is None or se is None or kind is None or entry is None:
            study = row.get(mapping.study_column) or ""
            exclusions.append(TrialExclusion(name, row.number, study, reasons[0]))
            continue
        assert entry.sign is not None  # an entry without a sign has a reason, handled above
        effect = (g, se, kind, entry.sign)
        comparisons.append(_record(name, row, mapping, results, effect, ctx))
    for kind in sorted(missing_signs):
        where = f"signs.{name}.{kind}"
        ctx.problems.append(SeedProblem(str(MAPPING_FILE), where, "no sign for this outcome kind"))
    return comparisons, exclusions


def _load_files(
    seed_dir: Path, problems: list[SeedProblem]
) -> tuple[DatasetsFile, MappingFile, dict[str, CsvTable]] | None:
    datasets = validate(
        DatasetsFile, read_yaml(seed_dir / DATASETS_FILE, str(DATASETS_FILE), problems), problems
    )
    mapping = validate(
        MappingFile, read_yaml(seed_dir / MAPPING_FILE, str(MAPPING_FILE), problems), problems
    )
    conditions = validate(
        ConditionsFile,
        read_yaml(seed_dir / "conditions.yaml", "conditions.yaml", problems),
        problems,
    )
    if datasets is None or mapping is None or conditions is None:
        return None
    for problem in cross_check(datasets, mapping, {c.slug for c in conditions.conditions}):
        problems.append(problem)
    tables: dict[str, CsvTable] = {}
    for entry in datasets.datasets:
        path = data_path(seed_dir, entry.name)
        label = str(path.relative_to(seed_dir))
        found = read_table(path, label, entry.sha256)
        if isinstance(found, SeedProblem):
            problems.append(found)
            continue
        dataset_mapping = mapping.datasets.get(entry.name)
        if dataset_mapping is None:
            continue
        missing = [c for c in required_columns(dataset_mapping) if c not in found.columns]
        for column in dict.fromkeys(missing):
            problems.append(
                SeedProblem(label, f"column {column!r}", f"dataset {entry.name}: column missing")
            )
        if not missing:
            tables[entry.name] = found
    return datasets, mapping, tables


def load_tables(seed_dir: Path) -> tuple[DatasetsFile, MappingFile, dict[str, CsvTable]]:
    """The two reviewed files and every data file, checked; raise ``SeedInvalid`` if any fails."""
    problems: list[SeedProblem] = []
    loaded = _load_files(seed_dir, problems)
    if loaded is None or problems:
        raise SeedInvalid(problems)
    return loaded


def read_trials(seed_dir: Path | str) -> TrialData:
    """Read and check the trial layer; raise ``SeedInvalid`` listing every problem."""
    problems: list[SeedProblem] = []
    loaded = _load_files(Path(seed_dir), problems)
    if loaded is None:
        raise SeedInvalid(problems)
    # The files that passed their checks are still read, so that one load reports every
    # problem: a changed file does not hide an unknown code in another.
    datasets, mapping, tables = loaded
    comparisons: list[TrialComparison] = []
    exclusions: list[TrialExclusion] = []
    for name, table in tables.items():
        ctx = _Context(name, table, problems)
        found, left = _read_dataset(name, table, mapping.datasets[name], mapping, ctx)
        comparisons += found
        exclusions += left
    if problems:
        raise SeedInvalid(problems)
    elsewhere = kept_elsewhere(mapping, tables, mapping.datasets)
    kept: list[TrialComparison] = []
    for c in comparisons:
        keeper = elsewhere.get((c.dataset, c.trial_key))
        if keeper is None:
            kept.append(c)
        else:
            reason = f"The same trial is held in {keeper}, whose rows are kept."
            exclusions.append(TrialExclusion(c.dataset, c.row, c.study, reason))
    records = tuple(
        TrialDataset(
            name=d.name,
            title=d.title,
            version=d.version,
            commit=d.commit,
            doi=d.doi,
            licence=d.licence,
            last_search=d.last_search,
            sha256=d.sha256,
            rows=len(tables[d.name].rows),
        )
        for d in datasets.datasets
    )
    order: Callable[[TrialExclusion], tuple[str, int]] = lambda e: (e.dataset, e.row)  # noqa: E731
    return TrialData(records, tuple(kept), tuple(sorted(exclusions, key=order)))


def measure_signs(seed_dir: Path | str) -> dict[tuple[str, OutcomeKind], Agreement]:
    """Recompute, from the raw arm columns, how far each pinned sign agrees with the data."""
    _, mapping, tables = load_tables(Path(seed_dir))
    problems: list[SeedProblem] = []
    out: dict[tuple[str, OutcomeKind], Agreement] = {}
    for name, table in tables.items():
        dataset = mapping.datasets[name]
        signs = mapping.signs.get(name)
        if signs is None:
            continue
        ctx = _Context(name, table, problems)
        by_kind: dict[OutcomeKind, list[tuple[CsvRow, float, bool | None]]] = {}
        for row in table.rows:
            kind, _ = _apply(dataset.outcome, row, "outcome", ctx)
            g = _number(row, dataset.g_column, ctx)
            if not isinstance(kind, OutcomeKind) or g is None:
                continue
            instrument = row.get(dataset.instrument_column)
            better = arm1_better(row, kind, instrument, signs)
            by_kind.setdefault(kind, []).append((row, g, better))
        for kind, rows in by_kind.items():
            entry = signs.entry(kind)
            if entry is not None and entry.sign is not None:
                out[(name, kind)] = agreement(rows, entry.sign)
    if problems:
        raise SeedInvalid(problems)
    return out
