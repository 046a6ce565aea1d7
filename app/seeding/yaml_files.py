"""Reading one seed YAML file safely (a duplicate key is an error) and validating it against
its model, every problem reported with its file and the path inside it. Shared by the seed
reader (``app.seeding.reader``) and the trial reader (``app.seeding.trials.reader``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from app.errors import SeedProblem


@dataclass
class Parsed:
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


def read_yaml(path: Path, label: str, problems: list[SeedProblem]) -> Parsed | None:
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
    return Parsed(label, data)


M = TypeVar("M", bound=BaseModel)


def validate(
    model: type[M], parsed: Parsed | None, problems: list[SeedProblem], prefix: str = ""
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
