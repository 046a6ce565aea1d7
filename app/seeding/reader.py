"""Reading a seed directory: each YAML file parsed safely and validated against its model
(``app.seeding.format``), then the files checked against each other (``app.seeding.checks``).

``read_seed_dir`` raises ``SeedInvalid`` naming *every* problem with its file and the path
inside it. No database is involved: ``therapy-kb check`` is this.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from app.errors import SeedInvalid, SeedProblem
from app.seeding.checks import SeedFiles, cross_check
from app.seeding.format import CitationsFile, ConditionsFile, Modality, Release, SeedSet
from app.trial_records import TrialData


@dataclass
class _Parsed:
    file: str
    data: Any


def _loc(parts: Iterable[int | str]) -> str:
    """Render a Pydantic location as ``indications[2].citations[0]``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


# libyaml's parser when PyYAML was built with it (about ten times faster on a large seed), with
# the same safe constructors either way.
if yaml.__with_libyaml__:
    from yaml import CSafeLoader as _SafeLoader
else:  # pragma: no cover  (PyYAML built without libyaml)
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


class _UniqueKeyLoader(_SafeLoader):
    """A safe loader that refuses a key given twice in one mapping (the last would win)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path, label: str, problems: list[SeedProblem]) -> _Parsed | None:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.append(SeedProblem(label, "", f"cannot read file: {exc.strerror}"))
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(SeedProblem(label, f"byte {exc.start}", "file is not valid UTF-8 text"))
        return None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506  (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        problems.append(SeedProblem(label, where, f"YAML syntax error: {reason}"))
        return None
    except ValueError as exc:
        # PyYAML builds dates itself: "2026-13-01" raises ValueError, not YAMLError.
        problems.append(SeedProblem(label, "", f"invalid value: {exc}"))
        return None
    if data is None:
        problems.append(SeedProblem(label, "", "file is empty"))
        return None
    if not isinstance(data, dict):
        problems.append(
            SeedProblem(label, "", f"expected a mapping at the top, found {type(data).__name__}")
        )
        return None
    return _Parsed(label, data)


M = TypeVar("M", bound=BaseModel)


def _validate(
    model: type[M], parsed: _Parsed | None, problems: list[SeedProblem], prefix: str = ""
) -> M | None:
    if parsed is None:
        return None
    try:
        return model.model_validate(parsed.data)
    except ValidationError as exc:
        for err in exc.errors(include_url=False, include_context=False):
            loc = _loc(err["loc"])
            path = f"{prefix}{loc}" if prefix else loc
            message = err["msg"].removeprefix("Value error, ")
            problems.append(SeedProblem(parsed.file, path, message))
        return None


def read_seed_dir(directory: Path | str) -> SeedSet:
    """Read and validate a seed directory; raise ``SeedInvalid`` listing every problem."""
    root = Path(directory)
    problems: list[SeedProblem] = []
    if not root.is_dir():
        raise SeedInvalid([SeedProblem(str(root), "", "not a directory")])

    def label(path: Path) -> str:
        return str(path)

    def required(name: str) -> _Parsed | None:
        path = root / name
        if not path.is_file():
            problems.append(SeedProblem(label(path), "", "required file is missing"))
            return None
        return _read_yaml(path, label(path), problems)

    release = _validate(Release, required("release.yaml"), problems)
    citations_file = _validate(CitationsFile, required("citations.yaml"), problems)
    conditions_file = _validate(ConditionsFile, required("conditions.yaml"), problems)

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
        parsed = _read_yaml(path, label(path), problems)
        modality = _validate(Modality, parsed, problems)
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
