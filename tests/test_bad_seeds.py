"""Broken seed input: every defect is rejected, named by file and path, and changes nothing.

Each case in ``tests/fixtures/bad_seeds/<case>/`` is an overlay on the valid fixture seed
(``tests/fixtures/seed_small``): it holds only the files that differ, at the same relative paths,
plus ``expect.yaml``::

    file: modalities/alpha.yaml     # the seed-relative file the problem must name
    path: indications[0].evidence   # the path inside it ("" when about the whole file)
    message: Input should be        # a substring of the problem's message
    delete: [conditions.yaml]       # optional: seed-relative files to remove
    why: one line on the defect

Adding a case directory adds its tests.

Every case is checked by the reader alone (``read_seed_dir`` and the CLI's ``check``), with no
database: a seed is read and checked whole before the loader opens a transaction. One case per
engine loads a bad seed over a loaded one with ``therapy-kb seed`` and proves the database is
as it was.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings
from app.db import create_db_engine
from app.errors import SeedInvalid, SeedProblem
from app.seeding import read_seed_dir
from tests.conftest import FIXTURE_SEED
from tests.helpers import snapshot

BAD_SEEDS = Path(__file__).resolve().parent / "fixtures" / "bad_seeds"
CASES = sorted(p.name for p in BAD_SEEDS.iterdir() if p.is_dir())
MIN_CASES = 18
EXPECT_KEYS = {"file", "path", "message", "why", "delete"}
# The reader's message when a citation is cited by no claim.
UNCITED = "is not cited by any claim"


def expectation(case: str) -> dict[str, Any]:
    data = yaml.safe_load((BAD_SEEDS / case / "expect.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{case}/expect.yaml is not a mapping"
    return data


def overlay_files(case: str) -> list[Path]:
    """The seed-relative files a case replaces or adds (everything but expect.yaml)."""
    root = BAD_SEEDS / case
    return sorted(
        p.relative_to(root) for p in root.rglob("*") if p.is_file() and p.name != "expect.yaml"
    )


def build_seed(target: Path, *cases: str) -> Path:
    """Copy the valid fixture seed to ``target`` and apply the overlays of ``cases``."""
    shutil.copytree(FIXTURE_SEED, target)
    for case in cases:
        for rel in overlay_files(case):
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(BAD_SEEDS / case / rel, dest)
        for rel in expectation(case).get("delete") or []:
            (target / rel).unlink()
    return target


def names(problem: SeedProblem, rel: str) -> bool:
    """Whether ``problem`` names the seed-relative file ``rel``."""
    file = Path(problem.file).as_posix()
    return file == rel or file.endswith("/" + rel)


def rejection(seed_dir: Path) -> list[SeedProblem]:
    with pytest.raises(SeedInvalid) as caught:
        read_seed_dir(seed_dir)
    assert caught.value.problems, "SeedInvalid raised with no problems"
    return caught.value.problems


def listing(problems: list[SeedProblem], root: Path) -> str:
    return "\n".join("  " + str(p).replace(f"{root}/", "") for p in problems)


# --- the corpus itself --------------------------------------------------------------------


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= MIN_CASES, f"only {len(CASES)} bad seed cases: {CASES}"


def test_fixture_seed_is_valid() -> None:
    """The baseline every overlay starts from must itself be accepted."""
    seed = read_seed_dir(FIXTURE_SEED)
    assert seed.modalities
    assert seed.conditions
    assert seed.citations


@pytest.mark.parametrize("case", CASES)
def test_case_is_well_formed(case: str) -> None:
    expect = expectation(case)
    assert set(expect) <= EXPECT_KEYS, f"unknown keys {set(expect) - EXPECT_KEYS}"
    for key in ("file", "path", "message", "why"):
        assert isinstance(expect.get(key), str), f"expect.yaml needs a string '{key}'"
    for key in ("file", "message", "why"):
        assert expect[key], f"expect.yaml has an empty '{key}'"
    deleted = expect.get("delete") or []
    for rel in deleted:
        assert (FIXTURE_SEED / rel).is_file(), f"delete names {rel}, not in the fixture seed"
    changed = overlay_files(case)
    assert changed or deleted, "the case changes nothing"
    for rel in changed:
        original = FIXTURE_SEED / rel
        if original.is_file():
            assert (BAD_SEEDS / case / rel).read_bytes() != original.read_bytes(), (
                f"{rel} is identical to the fixture seed's"
            )


# --- the reader ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_bad_seed_is_rejected_with_file_and_path(case: str, tmp_path: Path) -> None:
    expect = expectation(case)
    root = build_seed(tmp_path / "seed", case)
    problems = rejection(root)
    shown = listing(problems, root)

    matching = [
        p
        for p in problems
        if names(p, expect["file"]) and p.path == expect["path"] and expect["message"] in p.message
    ]
    assert matching, (
        f"{case}: expected {expect['file']}: {expect['path']!r}: ...{expect['message']}...; "
        f"got:\n{shown}"
    )
    # One defect per case: nothing is reported in any other file.
    stray = [p for p in problems if not names(p, expect["file"])]
    assert not stray, f"{case}: problems outside {expect['file']}:\n{shown}"


def test_all_defects_in_different_files_are_reported(tmp_path: Path) -> None:
    """One seed set, five defects in five files: every one is reported, not just the first."""
    cases = [
        "bad-release-version",  # release.yaml (model)
        "duplicate-citation-key",  # citations.yaml (cross-file)
        "unknown-parent",  # conditions.yaml (cross-file)
        "unknown-citation-key",  # modalities/alpha.yaml (cross-file)
        "unknown-condition-slug",  # modalities/beta.yaml (cross-file)
    ]
    files = [rel for case in cases for rel in overlay_files(case)]
    assert len(files) == len(set(files)) == len(cases), "the overlays must touch distinct files"
    root = build_seed(tmp_path / "seed", *cases)
    problems = rejection(root)
    shown = listing(problems, root)

    assert len(problems) == len(cases), shown
    for case in cases:
        expect = expectation(case)
        assert any(
            names(p, expect["file"]) and p.path == expect["path"] and expect["message"] in p.message
            for p in problems
        ), f"{case} ({expect['file']}) not reported; got:\n{shown}"


def test_several_defects_in_one_file_are_all_reported(tmp_path: Path) -> None:
    root = build_seed(tmp_path / "seed", "malformed-doi")
    alpha = root / "modalities" / "alpha.yaml"
    text = alpha.read_text(encoding="utf-8")
    for old, new in [
        ("evidence: strong\n", "evidence: very-strong\n"),
        ("sessions: {min: 12, max: 16}\n", "sessions: {min: 16, max: 12}\n"),
    ]:
        assert text.count(old) == 1
        text = text.replace(old, new)
    alpha.write_text(text, encoding="utf-8")

    problems = rejection(root)
    shown = listing(problems, root)
    located = {(Path(p.file).relative_to(root).as_posix(), p.path) for p in problems}
    assert located == {
        ("citations.yaml", "citations[0].doi"),
        ("modalities/alpha.yaml", "indications[0].evidence"),
        ("modalities/alpha.yaml", "formats[0].sessions"),
    }, shown


# --- the CLI ------------------------------------------------------------------------------

CLI_CASES = ["unknown-citation-key", "min-greater-than-max", "malformed-doi", "parent-cycle"]
# The case loaded over a database: a defect only the cross-file checks find, so the reader
# has parsed every file before it refuses.
DATABASE_CASE = "unknown-citation-key"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def cli_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the CLI's settings at the per-test database."""
    monkeypatch.setenv("THERAPY_KB_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


def assert_cli_rejects(result: Any, root: Path, case: str) -> None:
    expect = expectation(case)
    assert result.exit_code == 1, result.output
    where = f"{root / expect['file']}: {expect['path']}: "
    assert where in result.stderr, f"{where!r} not in stderr:\n{result.stderr}"
    assert expect["message"] in result.stderr
    assert where not in result.stdout


def test_cli_check_accepts_fixture_seed(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["check", "--dir", str(FIXTURE_SEED)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: ")


@pytest.mark.parametrize("case", CLI_CASES)
def test_cli_check_rejects(case: str, runner: CliRunner, tmp_path: Path) -> None:
    root = build_seed(tmp_path / "seed", case)
    result = runner.invoke(cli, ["check", "--dir", str(root)])
    assert_cli_rejects(result, root, case)


def test_cli_seed_rejects_and_changes_nothing(
    runner: CliRunner, cli_db: str, tmp_path: Path
) -> None:
    case = DATABASE_CASE
    loaded = runner.invoke(cli, ["seed", "--dir", str(FIXTURE_SEED)])
    assert loaded.exit_code == 0, loaded.output
    engine = create_db_engine(get_settings())
    try:
        before = snapshot(engine)
        assert before["release"], "the CLI did not load the valid fixture seed"

        root = build_seed(tmp_path / "seed", case)
        result = runner.invoke(cli, ["seed", "--dir", str(root)])
        assert_cli_rejects(result, root, case)
        assert snapshot(engine) == before
    finally:
        engine.dispose()


# --- defects found while building the corpus (fixed; kept as regressions) -----------------


def test_impossible_date_is_a_seed_problem(tmp_path: Path) -> None:
    root = build_seed(tmp_path / "seed")
    release = root / "release.yaml"
    release.write_text(
        release.read_text(encoding="utf-8").replace("date: 2026-01-01", "date: 2026-13-01"),
        encoding="utf-8",
    )
    problems = rejection(root)
    assert any(names(p, "release.yaml") for p in problems), listing(problems, root)


def test_invalid_modality_does_not_make_its_citations_uncited(tmp_path: Path) -> None:
    root = build_seed(tmp_path / "seed", "invalid-evidence")
    problems = rejection(root)
    assert not [p for p in problems if UNCITED in p.message], listing(problems, root)


def test_duplicate_key_in_one_mapping_is_a_seed_problem(tmp_path: Path) -> None:
    root = build_seed(tmp_path / "seed")
    alpha = root / "modalities" / "alpha.yaml"
    alpha.write_text(
        alpha.read_text(encoding="utf-8").replace(
            "    evidence: strong\n", "    evidence: strong\n    evidence: limited\n"
        ),
        encoding="utf-8",
    )
    problems = rejection(root)
    assert any(
        names(p, "modalities/alpha.yaml") and "duplicate key 'evidence'" in p.message
        for p in problems
    ), listing(problems, root)


def test_yaml_boolean_is_not_a_count(tmp_path: Path) -> None:
    root = build_seed(tmp_path / "seed")
    alpha = root / "modalities" / "alpha.yaml"
    alpha.write_text(
        alpha.read_text(encoding="utf-8").replace("{min: 12, max: 16}", "{min: yes, max: 16}", 1),
        encoding="utf-8",
    )
    problems = rejection(root)
    assert [p.path for p in problems] == ["formats[0].sessions.min"], listing(problems, root)


# --- lay terms and code branches, read without a database ----------------------------------

WORRY = "  - slug: worry\n    name: Worry disorder\n"
LOW_MOOD = "    aliases: [persistent low mood]\n"


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        (WORRY, WORRY + "    lay_terms: [' ']\n", "conditions[2].lay_terms[0]", "at least 2"),
        (WORRY, WORRY + "    lay_terms: 'worrying'\n", "conditions[2].lay_terms", "list"),
        (
            WORRY,
            WORRY + "    lay_terms: [worry a lot, Worry a lot]\n",
            "conditions[2]",
            "duplicate lay term",
        ),
        (
            WORRY,
            WORRY + "    lay_terms: [feeling low]\n",
            "conditions[2].lay_terms[0]",
            "already used by 'low-mood'",
        ),
        (WORRY, WORRY + "    lay_term: [worry]\n", "conditions[2].lay_term", "Extra inputs"),
        (
            WORRY,
            WORRY + "    code_branches: [{system: icd-10-cm, code: 'F4x'}]\n",
            "conditions[2].code_branches[0]",
            "not a well-formed icd-10-cm code",
        ),
        (
            WORRY,
            WORRY + "    code_branches: [{system: icd-10-cm, code: F41, exclude: [F41]}]\n",
            "conditions[2].code_branches[0]",
            "cannot exclude itself",
        ),
        (
            WORRY,
            WORRY
            + "    code_branches: [{system: icd-10-cm, code: F41, exclude: [F41.9, F41.9]}]\n",
            "conditions[2].code_branches[0]",
            "duplicate excluded code",
        ),
        (
            WORRY,
            WORRY + "    code_branches: [{system: icd-10-cm, code: F41, except: [F41.9]}]\n",
            "conditions[2].code_branches[0].except",
            "Extra inputs",
        ),
        (
            WORRY,
            WORRY + "    code_branches: [{system: icd-10-cm, code: F99.1}]\n",
            "conditions[2].code_branches[0].code",
            "already used by 'low-mood'",
        ),
        (
            WORRY,
            WORRY + "    code_branches: [{system: icd-11, code: 6Z98}]\n",
            "conditions[2]",
            "duplicate code",
        ),
    ],
)
def test_bad_lay_terms_and_code_branches_are_refused(
    old: str, new: str, path: str, message: str, tmp_path: Path
) -> None:
    root = build_seed(tmp_path / "seed")
    conditions = root / "conditions.yaml"
    text = conditions.read_text(encoding="utf-8")
    assert old in text
    # The low-mood condition holds the lay term the cross-file case collides with.
    text = text.replace(LOW_MOOD, LOW_MOOD + "    lay_terms: [Feeling low]\n")
    conditions.write_text(text.replace(old, new, 1), encoding="utf-8")
    problems = rejection(root)
    assert any(
        names(p, "conditions.yaml") and p.path == path and message in p.message for p in problems
    ), listing(problems, root)
