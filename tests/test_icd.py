"""Codes by the classifications' hierarchies (app/icd.py): the pure lookup, and every code in
seed/ held against ICD-10-CM as the simple-icd-10-cm package ships it (no database)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from app import icd
from app.domain import CodeSystem
from app.seeding import read_seed_dir
from tests.conftest import REAL_SEED

SEED = read_seed_dir(REAL_SEED)
CM = CodeSystem.icd_10_cm
ICD11 = CodeSystem.icd_11


class Tree:
    """A small made-up classification: parent of each code, and titles."""

    def __init__(self, parents: dict[str, str | None]) -> None:
        self.parents = parents

    def depth(self, code: str) -> int | None:
        if code not in self.parents:
            return None
        steps, parent = 0, self.parents[code]
        while parent is not None:
            steps, parent = steps + 1, self.parents[parent]
        return steps

    def title(self, code: str) -> str | None:
        return f"title of {code}" if code in self.parents else None

    def below(self, code: str) -> list[str]:
        children = [c for c, p in self.parents.items() if p == code]
        return [x for c in children for x in (c, *self.below(c))]


# A1 holds A1.1 and A1.2; A1.2 holds A1.21 and A1.22; A1.3 holds A1.31.
TREE = Tree(
    {
        "A1": None,
        "A1.1": "A1",
        "A1.2": "A1",
        "A1.21": "A1.2",
        "A1.22": "A1.2",
        "A1.3": "A1",
        "A1.31": "A1.3",
        "B2": None,
    }
)


def table(*branches: icd.Branch) -> dict[str, str | None]:
    return {e.code: e.condition for e in icd.lookup_table(branches, {CM: TREE})}


def test_a_code_leads_to_the_deepest_branch_above_it() -> None:
    found = table(icd.Branch(CM, "A1", "broad"), icd.Branch(CM, "A1.2", "narrow"))
    assert found == {
        "A1": "broad",
        "A1.1": "broad",
        "A1.2": "narrow",
        "A1.21": "narrow",
        "A1.22": "narrow",
        "A1.3": "broad",
        "A1.31": "broad",
    }


def test_an_excluded_branch_leads_nowhere_but_a_deeper_claim_in_it_still_counts() -> None:
    found = table(
        icd.Branch(CM, "A1", "broad"),
        icd.Branch(CM, "A1.2", None),  # excluded from 'broad'
        icd.Branch(CM, "A1.22", "other"),
    )
    assert found["A1.2"] is None
    assert found["A1.21"] is None
    assert found["A1.22"] == "other"
    assert found["A1.31"] == "broad"


def test_the_order_of_the_branches_does_not_matter() -> None:
    branches = [icd.Branch(CM, "A1.2", "narrow"), icd.Branch(CM, "A1", "broad")]
    assert table(*branches) == table(*reversed(branches))


def test_a_code_the_classification_does_not_know_is_kept_as_it_is() -> None:
    assert table(icd.Branch(CM, "Z9", "odd")) == {"Z9": "odd"}


def test_lookup_rows_carry_the_classifications_titles() -> None:
    entries = icd.lookup_table([icd.Branch(CM, "A1.3", "x")], {CM: TREE})
    assert [(e.code, e.title) for e in entries] == [
        ("A1.3", "title of A1.3"),
        ("A1.31", "title of A1.31"),
    ]


def test_a_system_without_a_hierarchy_keeps_its_branch_codes_alone() -> None:
    entries = icd.lookup_table([icd.Branch(ICD11, "6A70", "d")], {})
    assert [(e.system, e.code, e.condition) for e in entries] == [(ICD11, "6A70", "d")]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("6A70", ["6A70"]),
        ("6a70.1", ["6A70.1", "6A70"]),
        ("6A70.01", ["6A70.01", "6A70.0", "6A70"]),
        # ICD-10-CM codes are looked up as they are: the lookup holds every code under a branch.
        ("F32.81", ["F32.81"]),
        ("F43.10", ["F43.10"]),
        ("major-depression", ["MAJOR-DEPRESSION"]),
    ],
)
def test_candidates_climb_only_icd_11_subcategories(code: str, expected: list[str]) -> None:
    assert icd.candidates(code) == expected


@pytest.mark.parametrize(
    ("code", "system"),
    [
        ("F32.1", CM),
        ("f43.10", CM),
        ("F20-F29", CM),
        ("G47.00", CM),
        ("6A70", ICD11),
        ("6B41", ICD11),
        ("7a00", ICD11),
        ("6A70.1", ICD11),
        ("ptsd", None),
        ("F3", None),
        ("6A7", None),
    ],
)
def test_system_of_reads_a_codes_shape(code: str, system: CodeSystem | None) -> None:
    assert icd.system_of(code) == system


# --- the real seed against ICD-10-CM ----------------------------------------------------------


def branches_of_seed() -> list[icd.Branch]:
    found: list[icd.Branch] = []
    for c in SEED.conditions:
        found += [icd.Branch(code.system, code.code, c.slug) for code in c.codes]
        for b in c.code_branches:
            found.append(icd.Branch(b.system, b.code, c.slug))
            found += [icd.Branch(b.system, x, None) for x in b.exclude]
    return found


@pytest.fixture(scope="module")
def lookup() -> dict[tuple[CodeSystem, str], str | None]:
    return {(e.system, e.code): e.condition for e in icd.lookup_table(branches_of_seed())}


@pytest.mark.parametrize(
    ("system", "code", "condition"),
    [
        (CM, "F32.1", "major-depression"),
        (CM, "F32.5", "major-depression"),
        (CM, "F32.9", "major-depression"),
        (CM, "F33.1", "recurrent-depression"),
        (CM, "F43.1", "ptsd"),
        (CM, "F43.10", "ptsd"),
        (CM, "F41.9", "anxiety-disorders"),
        (CM, "F41.1", "generalized-anxiety-disorder"),
        (CM, "F40.1", "social-anxiety-disorder"),
        (CM, "G47.00", "insomnia"),
        (CM, "F51.01", "insomnia"),
        (CM, "F50.01", "anorexia-nervosa"),
        (CM, "F50.82", "eating-disorders"),
        (CM, "F60.3", "borderline-personality-disorder"),
        (CM, "F60.5", "personality-disorders"),
        (CM, "F29", "psychosis"),
        # Excluded branches: premenstrual dysphoric disorder sits under F32.8, and depression
        # not otherwise specified (F32.A) is not major depression; schizotypal disorder is in
        # the psychotic block but not in this condition.
        (CM, "F32.81", None),
        (CM, "F32.A", None),
        (CM, "F21", None),
    ],
)
def test_seed_codes_lead_by_hierarchy(
    lookup: dict[tuple[CodeSystem, str], str | None],
    system: CodeSystem,
    code: str,
    condition: str | None,
) -> None:
    assert (system, code) in lookup, f"{code} is not in the lookup"
    assert lookup[(system, code)] == condition


def test_icd_11_codes_climb_to_their_stem(
    lookup: dict[tuple[CodeSystem, str], str | None],
) -> None:
    rows = {code: cond for (system, code), cond in lookup.items() if system is ICD11}

    def leads_to(code: str) -> str | None:
        return next(rows[c] for c in icd.candidates(code) if c in rows)

    assert leads_to("6A70.1") == "major-depression"
    assert leads_to("6A70.01") == "major-depression"
    assert leads_to("6B41") == "complex-ptsd"
    assert leads_to("6B40") == "ptsd"
    assert not any(c in rows for c in icd.candidates("6B4"))


def seed_cm_codes() -> list[tuple[str, str, str, str | None]]:
    """(condition, place, code, display) of every ICD-10-CM code in conditions.yaml."""
    found: list[tuple[str, str, str, str | None]] = []
    for c in SEED.conditions:
        found += [(c.slug, "codes", x.code, x.display) for x in c.codes if x.system is CM]
        for b in c.code_branches:
            if b.system is CM:
                found.append((c.slug, "code_branches", b.code, None))
                found += [(c.slug, "exclude", x, None) for x in b.exclude]
    return found


@pytest.mark.parametrize(
    ("condition", "place", "code", "display"), seed_cm_codes(), ids=lambda v: str(v)
)
def test_every_icd_10_cm_code_in_seed_is_in_the_classification(
    condition: str, place: str, code: str, display: str | None
) -> None:
    """A listed code exists and its display is the classification's title; a branch exists and
    its title shares a word with the condition's name or aliases; an excluded code lies under
    its branch."""
    lib = icd._icd10cm()
    assert lib.is_valid_item(code), f"{condition}: {code} is not an ICD-10-CM code"
    title = lib.get_description(code)
    if place == "codes":
        assert display == title, f"{condition}: {code} is titled {title!r}"
    elif place == "code_branches":
        found = next(c for c in SEED.conditions if c.slug == condition)
        assert _stems(title) & _stems(" ".join([found.name, *found.aliases])), (
            f"{condition}: branch {code} is titled {title!r}"
        )
    else:
        branch = next(
            b
            for c in SEED.conditions
            if c.slug == condition
            for b in c.code_branches
            if code in b.exclude
        )
        assert branch.code in lib.get_ancestors(code), f"{code} is not under {branch.code}"


# Words that say nothing of which condition a title names.
GENERIC = {"disorder", "disorders", "other", "unspecified", "specific", "episode", "single"}


def _stems(text: str) -> set[str]:
    words = re.findall(r"[a-z]+", text.lower())
    return {w[:6] for w in words if len(w) >= 5 and w not in GENERIC}


@pytest.mark.parametrize(
    ("condition", "code"),
    [(c.slug, x.code) for c in SEED.conditions for x in c.codes if x.system is ICD11],
)
def test_every_icd_11_code_in_seed_is_a_stem_code(condition: str, code: str) -> None:
    """No offline copy of ICD-11 can be installed, so its codes are held to the MMS code
    syntax only: a stem code, each one the condition's own."""
    assert icd.system_of(code) is ICD11, f"{condition}: {code}"
    assert "." not in code, f"{condition}: {code} is a subcategory; list its stem code"


def test_complex_ptsd_is_its_own_condition() -> None:
    owners = {(x.system, x.code): c.slug for c in SEED.conditions for x in c.codes}
    assert owners[(ICD11, "6B41")] == "complex-ptsd"
    assert owners[(ICD11, "6B40")] == "ptsd"


def test_serving_never_imports_the_classification() -> None:
    """The app, its routes and queries run without the ICD-10-CM package loaded: only a seed
    load (and these tests) pay its import, seconds and a couple of hundred megabytes."""
    code = (
        "import sys\n"
        "from app.main import create_app\n"
        "from app.config import Settings\n"
        "create_app(Settings(database_url='sqlite://'))\n"
        "assert 'simple_icd_10_cm' not in sys.modules, 'imported while serving'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REAL_SEED.parent)
