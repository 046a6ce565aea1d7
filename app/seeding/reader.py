"""Reading a seed directory: each YAML file parsed safely and validated against its model
(``app.seeding.format``), then the files checked against each other (``app.seeding.checks``).

``read_seed_dir`` raises ``SeedInvalid`` naming *every* problem with its file and the path
inside it. No database is involved: ``therapy-kb check`` is this.
"""

from __future__ import annotations

from pathlib import Path

from app.errors import SeedInvalid, SeedProblem
from app.seeding.checks import SeedFiles, cross_check
from app.seeding.format import CitationsFile, ConditionsFile, Modality, Release, SeedSet
from app.seeding.yaml_files import Parsed, read_yaml, validate
from app.trial_records import TrialData


def read_seed_dir(directory: Path | str) -> SeedSet:
    """Read and validate a seed directory; raise ``SeedInvalid`` listing every problem."""
    root = Path(directory)
    problems: list[SeedProblem] = []
    if not root.is_dir():
        raise SeedInvalid([SeedProblem(str(root), "", "not a directory")])

    def label(path: Path) -> str:
        return str(path)

    def required(name: str) -> Parsed | None:
        path = root / name
        if not path.is_file():
            problems.append(SeedProblem(label(path), "", "required file is missing"))
            return None
        return read_yaml(path, label(path), problems)

    release = validate(Release, required("release.yaml"), problems)
    citations_file = validate(CitationsFile, required("citations.yaml"), problems)
    conditions_file = validate(ConditionsFile, required("conditions.yaml"), problems)

    modality_dir = root / "modalities"
    modality_paths = (
        sorted([*modality_dir.glob("*.yaml"), *modality_dir.glob("*.yml")])
        if modality_dir.is_dir()
        else []
    )
    if not modality_paths:
        problems.append(SeedProblem(label(modality_dir), "", "no modality files (*.yaml)"))
    modalities: list[tuple[str, Modality]] = []
    for path in modality_paths:
        parsed = read_yaml(path, label(path), problems)
        modality = validate(Modality, parsed, problems)
        if modality is not None:
            modalities.append((label(path), modality))

    citations = citations_file.citations if citations_file else []
    conditions = conditions_file.conditions if conditions_file else []
    problems.extend(
        cross_check(
            SeedFiles(
                citations_file=label(root / "citations.yaml") if citations_file else None,
                citations=citations,
                conditions_file=label(root / "conditions.yaml") if conditions_file else None,
                conditions=conditions,
                modalities=modalities,
                all_modalities_valid=len(modalities) == len(modality_paths),
            )
        )
    )
    trials = _read_trials(root, problems) if (root / "trials").is_dir() else None
    if problems or release is None:
        raise SeedInvalid(problems)
    return SeedSet(
        trials=trials,
        release=release,
        citations=sorted(citations, key=lambda c: c.key),
        conditions=sorted(conditions, key=lambda c: c.slug),
        modalities=sorted((m for _, m in modalities), key=lambda m: m.slug),
    )


def _read_trials(root: Path, problems: list[SeedProblem]) -> TrialData | None:
    """The trial layer, its problems added to the seed's, so that one check reports all."""
    # Imported here: the trial reader builds on this module's YAML reading.
    from app.seeding.trials import read_trials

    try:
        return read_trials(root)
    except SeedInvalid as exc:
        problems.extend(exc.problems)
        return None
