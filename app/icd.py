"""Codes by the classifications' own hierarchies: which condition an ICD code leads to.

A condition claims branches of a classification: each code it lists, and each of its
``code_branches``, with the codes under them; a branch may name ``exclude`` codes whose own
branches belong elsewhere (to another condition, or to none). A code leads to the condition of
the deepest claimed branch it lies in, so F32.1 leads to major depression through F32 while
F32.81 (under the excluded F32.8) leads to nothing.

Two classifications, two ways of knowing the hierarchy:

- ICD-10-CM: the CMS tabular list as the ``simple-icd-10-cm`` package ships it. It is read once
  per seed load (``lookup_table``), never while serving: importing it parses the whole tabular
  list (seconds, and a couple of hundred megabytes held for the life of the process). Every code
  under a claimed branch is written to the lookup, so a code that is not there is not a code we
  know, and an ICD-10-CM code never leads anywhere by its spelling.
- ICD-11 MMS: no offline copy of the classification can be installed here (the Python clients
  ask the WHO API). Stem codes such as 6A70 are not ordered by their characters (blocks group
  them), so nothing is inferred above a stem code; below one, MMS subcategories extend their
  parent's code by one character after the dot (6A70.1 under 6A70), and ``candidates`` walks
  only those steps.

Nothing here touches the database: ``app.seeding.derived`` writes the lookup, and
``app.queries.common.code_condition`` reads it for a code's ``candidates``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Protocol

from app.domain import CodeSystem

# A code's shape says its system: ICD-10-CM codes are a letter and two digits (F32, F32.1,
# F20-F29); ICD-11 stem codes have a letter in second place (6A70, 7A00, 6A70.1).
ICD10CM_SHAPE = re.compile(r"^[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?(?:-[A-Z][0-9][0-9A-Z])?$")
ICD11_SHAPE = re.compile(r"^[0-9A-Z][A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,3})?$")


def system_of(code: str) -> CodeSystem | None:
    """The system a code's shape belongs to, or None when it looks like neither."""
    upper = code.strip().upper()
    if ICD10CM_SHAPE.match(upper):
        return CodeSystem.icd_10_cm
    if ICD11_SHAPE.match(upper):
        return CodeSystem.icd_11
    return None


def candidates(code: str) -> list[str]:
    """The codes to look up for ``code``, deepest first: the code itself (upper case), then, for
    an ICD-11 subcategory, its parents up to the stem code (6A70.01, 6A70.0, 6A70)."""
    upper = code.strip().upper()
    found = [upper]
    if system_of(upper) is CodeSystem.icd_11 and "." in upper:
        stem, _, tail = upper.partition(".")
        found += [f"{stem}.{tail[:n]}" for n in range(len(tail) - 1, 0, -1)]
        found.append(stem)
    return found


@dataclass(frozen=True)
class Branch:
    """A claimed branch: ``code`` and what lies under it lead to ``condition``; None means
    the branch is excluded, leading to no condition."""

    system: CodeSystem
    code: str
    condition: str | None


@dataclass(frozen=True)
class Entry:
    """One row of the lookup: a code, its title where the classification gives one, and the
    condition it leads to (None: a known code that leads to no condition)."""

    system: CodeSystem
    code: str
    title: str | None
    condition: str | None


class Hierarchy(Protocol):
    """What the lookup needs to know of a classification: whether it knows a code, its depth,
    title and the codes under it. ``None`` from ``depth`` means the code is unknown."""

    def depth(self, code: str) -> int | None: ...

    def title(self, code: str) -> str | None: ...

    def below(self, code: str) -> list[str]: ...


class Icd10Cm:
    """ICD-10-CM through ``simple-icd-10-cm``, imported on first use."""

    @staticmethod
    def _lib() -> ModuleType:
        return _icd10cm()

    def depth(self, code: str) -> int | None:
        lib = self._lib()
        return len(lib.get_ancestors(code)) if lib.is_valid_item(code) else None

    def title(self, code: str) -> str | None:
        lib = self._lib()
        return str(lib.get_description(code)) if lib.is_valid_item(code) else None

    def below(self, code: str) -> list[str]:
        lib = self._lib()
        return [str(c) for c in lib.get_descendants(code)] if lib.is_valid_item(code) else []


@cache
def _icd10cm() -> ModuleType:
    # Imported here, not at the top: only the seed load and the content tests need it. It reads
    # its data through importlib.resources calls that warn of their deprecation.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm

    module: ModuleType = simple_icd_10_cm
    return module


def lookup_table(
    branches: Iterable[Branch], hierarchies: dict[CodeSystem, Hierarchy] | None = None
) -> list[Entry]:
    """Every code the branches reach, each with the condition of the deepest branch it lies in.

    A system with a hierarchy has each branch expanded to the codes under it; a system without
    one (ICD-11 here) keeps the branch codes alone, and ``candidates`` climbs to them when a
    code is looked up. A code the hierarchy does not know is kept as it is, so that a seed's
    own codes always lead to their condition."""
    known: dict[CodeSystem, Hierarchy] = (
        {CodeSystem.icd_10_cm: Icd10Cm()} if hierarchies is None else hierarchies
    )
    table: dict[tuple[CodeSystem, str], Entry] = {}
    for branch, depth in sorted(_with_depths(branches, known), key=lambda pair: pair[1]):
        # Shallow branches first, so a deeper branch (or exclusion) overwrites what it holds.
        tree = known.get(branch.system)
        codes = [branch.code, *(tree.below(branch.code) if tree and depth >= 0 else [])]
        for code in codes:
            title = tree.title(code) if tree else None
            table[(branch.system, code)] = Entry(branch.system, code, title, branch.condition)
    return [table[key] for key in sorted(table)]


def _with_depths(
    branches: Iterable[Branch], known: dict[CodeSystem, Hierarchy]
) -> Iterator[tuple[Branch, int]]:
    for branch in branches:
        tree = known.get(branch.system)
        if tree is None:
            # Without a hierarchy, depth is the subcategory level: stems before 6A70.1.
            yield branch, branch.code.count(".") + len(branch.code.partition(".")[2])
            continue
        depth = tree.depth(branch.code)
        yield branch, -1 if depth is None else depth
