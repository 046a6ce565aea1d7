"""app/meta_analysis.py against R's metafor, on real trial rows, and its edge cases.

The reference figures in tests/fixtures/metafor were written by ``pool.R`` from ``rows.csv``
(the subsets are chosen in ``select_rows.py``); the header of each file names the versions of R
and metafor that wrote it.
"""

from __future__ import annotations

import ast
import csv
import importlib.util
import io
import math
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from app import meta_analysis as ma
from app.domain import TimePoint
from app.meta_analysis import EffectRow, Interval, StudyEffect, aggregate, meta_analysis, pool
from app.seeding.trials import read_trials
from tests.helpers import require_metafor

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "metafor"
TOLERANCE = 1e-6


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def _rows() -> dict[str, list[EffectRow]]:
    subsets: dict[str, list[EffectRow]] = defaultdict(list)
    for row in _read(FIXTURES / "rows.csv"):
        subsets[row["subset"]].append(
            EffectRow(row["study"], float(row["g"]), float(row["se"]), row["comparator"])
        )
    return subsets


def _number(text: str) -> float | None:
    return None if text == "NA" else float(text)


ROWS = _rows()
EXPECTED = _read(FIXTURES / "expected.csv")
AGGREGATED = _read(FIXTURES / "aggregated.csv")


def _close(actual: float | None, expected: float | None) -> bool:
    if actual is None or expected is None:
        return actual is None and expected is None
    return math.isclose(actual, expected, rel_tol=0, abs_tol=TOLERANCE)


def test_the_rows_are_the_trial_data_s_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """rows.csv is what select_rows.py takes from seed/trials/metapsy, value for value."""
    spec = importlib.util.spec_from_file_location("select_rows", FIXTURES / "select_rows.py")
    assert spec is not None
    assert spec.loader is not None
    select_rows = importlib.util.module_from_spec(spec)
    # Its dataclasses look their module up while they are built.
    monkeypatch.setitem(sys.modules, "select_rows", select_rows)
    spec.loader.exec_module(select_rows)
    written = io.StringIO()
    select_rows.write(ROOT / "seed" / "trials" / "metapsy", written)
    assert written.getvalue() == (FIXTURES / "rows.csv").read_text()


def test_the_fixtures_cover_what_they_should() -> None:
    """Enough subsets, with the cases the check against metafor exists for."""
    reml = {e["subset"]: e for e in EXPECTED if e["method"] == "REML"}
    pm = {e["subset"]: e for e in EXPECTED if e["method"] == "PM"}
    assert len(reml) >= 22
    assert set(reml) == set(pm) == set(ROWS)
    ks = {int(e["k"]) for e in reml.values()}
    assert {1, 2, 3} <= ks
    assert any(float(e["tau2"]) < 1e-8 for e in reml.values())  # REML at its boundary
    assert sum(e["egger_p"] != "NA" for e in reml.values()) >= 10
    # Within-study aggregation really merges rows (k below the number of rows) ...
    assert sum(int(e["k"]) < int(e["comparisons"]) for e in reml.values()) >= 10
    # ... and keeps a study's effects against different kinds of control apart.
    largest = ROWS["depression_cbt_any"]
    assert len({(r.study, r.comparator) for r in largest}) > len({r.study for r in largest})


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda e: f"{e['subset']}-{e['method']}")
def test_pooled_figures_match_metafor(expected: dict[str, str]) -> None:
    method = expected["method"]
    assert method in ("REML", "PM")
    result = meta_analysis(ROWS[expected["subset"]], "REML" if method == "REML" else "PM")
    assert result is not None
    assert (result.k, result.comparisons) == (int(expected["k"]), int(expected["comparisons"]))
    actual: dict[str, float | None] = {
        "estimate": result.estimate,
        "se": result.se,
        "ci_lb": result.ci.lower,
        "ci_ub": result.ci.upper,
        "pval": result.p_value,
    }
    if result.k == 1:
        # One study: metafor falls back to the normal interval, which is the study's own; its
        # tau² = 0, I² = 0 and Q = 0 say nothing, and are not given here.
        assert not result.pooled
        assert (result.tau2, result.i2, result.q, result.prediction) == (None, None, None, None)
        expected = {name: value for name, value in expected.items() if name in actual}
    else:
        assert result.pooled
        assert result.prediction is not None
        actual |= {
            "tau2": result.tau2,
            "i2": result.i2,
            "q": result.q,
            "q_p": result.q_p,
            "pi_lb": result.prediction.lower,
            "pi_ub": result.prediction.upper,
            "egger_p": result.egger_p,
        }
        assert result.q_df == result.k - 1
    assert actual.keys() == expected.keys() - {"subset", "method", "k", "comparisons"}
    wrong = {
        name: (value, expected[name])
        for name, value in actual.items()
        if not _close(value, _number(expected[name]))
    }
    assert wrong == {}


@pytest.mark.parametrize("subset", sorted(ROWS))
def test_aggregated_effects_match_metafor(subset: str) -> None:
    expected = {a["cluster"]: a for a in AGGREGATED if a["subset"] == subset}
    merged = aggregate(ROWS[subset], rho=0.6)
    assert len(merged) == len(expected)
    for effect in merged:
        reference = expected[f"{effect.study}|{effect.comparator}"]
        assert math.isclose(effect.g, float(reference["yi"]), rel_tol=0, abs_tol=TOLERANCE)
        assert math.isclose(effect.se**2, float(reference["vi"]), rel_tol=0, abs_tol=TOLERANCE)


def _run_pool_r(rows: Path, out: Path) -> None:
    """pool.R on ``rows``, writing into ``out``; skipped without R, except in CI."""
    require_metafor()
    run = subprocess.run(
        ["Rscript", str(FIXTURES / "pool.R"), str(rows), str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr


def test_committed_figures_are_what_metafor_writes(tmp_path: Path) -> None:
    """pool.R, run again on rows.csv, writes the figures that are committed."""
    _run_pool_r(FIXTURES / "rows.csv", tmp_path)
    for name in ("expected.csv", "aggregated.csv"):
        committed, fresh = _read(FIXTURES / name), _read(tmp_path / name)
        assert len(fresh) == len(committed), name
        for old, new in zip(committed, fresh, strict=True):
            assert old.keys() == new.keys(), name
            for column, value in old.items():
                if value in ("NA", "REML", "PM") or column in ("subset", "cluster"):
                    assert new[column] == value, (name, old["subset"], column)
                else:
                    assert math.isclose(float(new[column]), float(value), abs_tol=1e-9), (
                        name,
                        old["subset"],
                        column,
                    )


# Standard errors two orders of magnitude apart: metafor's Fisher scoring does not settle.
OSCILLATING_G = [-0.52, 0.34, -0.09, 0.21, -0.02, -0.11]
OSCILLATING_SE = [0.124, 0.015, 1.32, 1.392, 1.135, 0.662]


def _simulate(path: Path, sets: int, seed: int) -> dict[str, list[EffectRow]]:
    """Random sets in the layout of rows.csv: 2 to 40 studies, 1 to 3 rows each, tau from 0 to
    1.5, standard errors up to two orders of magnitude apart in one set; and, first, the set on
    which Fisher scoring does not settle."""
    rng = np.random.default_rng(seed)
    subsets: dict[str, list[EffectRow]] = defaultdict(list)
    with path.open("w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["subset", "dataset", "study", "comparator", "cluster", "g", "se", "n"])
        for i, (g, se) in enumerate(zip(OSCILLATING_G, OSCILLATING_SE, strict=True)):
            subsets["oscillating"].append(EffectRow(f"study{i}", g, se, "c"))
            out.writerow(["oscillating", "simulated", f"study{i}", "c", f"study{i}|c", g, se, "NA"])
        for s in range(sets):
            name = f"sim{s:03d}"
            k = int(rng.choice([2, 3, 4, 6, 10, 15, 40]))
            tau = float(rng.choice([0.0, 0.1, 0.5, 1.5]))
            spread = float(rng.choice([1.5, 10.0, 100.0]))
            for i in range(k):
                true = rng.normal(0.5, tau)
                for _ in range(int(rng.choice([1, 1, 2, 3]))):
                    se = rng.uniform(0.05, 0.4) * spread ** rng.uniform(-0.5, 0.5)
                    g = float(true + rng.normal(0, se))
                    subsets[name].append(EffectRow(f"study{i}", g, se, "c"))
                    out.writerow([name, "simulated", f"study{i}", "c", f"study{i}|c", g, se, "NA"])
    return subsets


def test_simulated_sets_match_metafor(tmp_path: Path) -> None:
    """Beyond the real rows: random sets, including the awkward ones (tau² at 0, standard
    errors far apart, where metafor's Fisher scoring needs its smaller step)."""
    simulated = _simulate(tmp_path / "rows.csv", sets=150, seed=20261206)
    _run_pool_r(tmp_path / "rows.csv", tmp_path)
    expected = _read(tmp_path / "expected.csv")
    assert len(expected) == 2 * len(simulated)
    wrong = []
    for e in expected:
        result = meta_analysis(simulated[e["subset"]], "REML" if e["method"] == "REML" else "PM")
        assert result is not None
        assert result.prediction is not None
        actual = {
            "estimate": result.estimate,
            "se": result.se,
            "tau2": result.tau2,
            "i2": result.i2,
            "q": result.q,
            "pi_lb": result.prediction.lower,
            "pi_ub": result.prediction.upper,
            "egger_p": result.egger_p,
        }
        wrong += [
            (e["subset"], e["method"], name, value, e[name])
            for name, value in actual.items()
            if not _close(value, _number(e[name]))
        ]
    assert wrong == []


# Edge cases, by hand.


def _effects(*pairs: tuple[float, float]) -> list[StudyEffect]:
    return [StudyEffect(f"s{i}", "", g, se) for i, (g, se) in enumerate(pairs)]


def test_no_effect_is_no_result() -> None:
    assert pool([]) is None
    assert meta_analysis([]) is None


def test_one_effect_is_its_own_figure() -> None:
    result = meta_analysis([EffectRow("a", 0.5, 0.2), EffectRow("a", 0.7, 0.25)])
    assert result is not None
    (merged,) = aggregate([EffectRow("a", 0.5, 0.2), EffectRow("a", 0.7, 0.25)])
    assert not result.pooled
    assert (result.k, result.studies, result.comparisons) == (1, 1, 2)
    assert (result.estimate, result.se) == (merged.g, merged.se)
    z = 1.959963984540054  # the normal 97.5% quantile
    assert result.ci.lower == pytest.approx(merged.g - z * merged.se, abs=1e-12)
    assert result.ci.upper == pytest.approx(merged.g + z * merged.se, abs=1e-12)
    assert result.tau2 is result.i2 is result.q is result.prediction is result.egger_p is None


def test_homogeneous_effects_put_tau2_at_zero() -> None:
    # Spread far less than the standard errors allow: Q < k - 1, tau² = 0 by both methods.
    effects = _effects((0.40, 0.3), (0.42, 0.3), (0.38, 0.25), (0.41, 0.35))
    for method in ("REML", "PM"):
        result = pool(effects, method)
        assert result is not None
        assert result.tau2 == 0.0
        assert result.i2 == 0.0
        assert result.q is not None
        assert result.q < 3


def test_identical_effects_give_a_zero_width_interval_as_metafor_does() -> None:
    # Hartung–Knapp scales the variance by the weighted residual mean square, which is 0 here;
    # metafor (test="knha", no ad hoc correction) reports the same estimate, se and interval.
    # Its p-value of 0 comes from dividing by that se of 0, so none is given here.
    result = pool(_effects((0.5, 0.2), (0.5, 0.3), (0.5, 0.25)))
    assert result is not None
    assert (result.estimate, result.se, result.tau2, result.q) == (0.5, 0.0, 0.0, 0.0)
    assert result.ci == Interval(0.5, 0.5)
    assert result.p_value is None


def test_two_studies_are_pooled_with_one_degree_of_freedom() -> None:
    result = pool(_effects((0.2, 0.1), (0.9, 0.1)))
    assert result is not None
    assert result.pooled
    assert result.q_df == 1
    assert result.egger_p is None  # fewer than ten effects


def test_egger_needs_ten_effects() -> None:
    nine = _effects(*[(0.1 * i, 0.1 + 0.02 * i) for i in range(9)])
    ten = _effects(*[(0.1 * i, 0.1 + 0.02 * i) for i in range(10)])
    nine_result, ten_result = pool(nine), pool(ten)
    assert nine_result is not None
    assert ten_result is not None
    assert nine_result.egger_p is None
    assert ten_result.egger_p is not None


@pytest.mark.parametrize("se", [0.0, -0.1, math.nan, math.inf])
def test_a_standard_error_that_is_not_positive_is_refused(se: float) -> None:
    with pytest.raises(ValueError, match=r"row 1 \(study 'b'\): the standard error must be"):
        aggregate([EffectRow("a", 0.1, 0.2), EffectRow("b", 0.3, se)])
    with pytest.raises(ValueError, match=r"effect 0 \(study 's0'\): the standard error"):
        pool(_effects((0.1, se)))


def test_a_missing_effect_is_refused() -> None:
    with pytest.raises(ValueError, match="g must be a finite number"):
        aggregate([EffectRow("a", math.nan, 0.2)])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"method": "DL"}, "method must be 'REML' or 'PM'"),
        ({"level": 1.0}, "level must be in"),
        ({"participants": -1}, "participants must not be negative"),
    ],
)
def test_bad_arguments_are_refused(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pool(_effects((0.1, 0.2), (0.3, 0.2)), **arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize("rho", [-0.1, 1.0, 1.5])
def test_rho_outside_its_range_is_refused(rho: float) -> None:
    with pytest.raises(ValueError, match="rho must be in"):
        aggregate([EffectRow("a", 0.1, 0.2)], rho=rho)


def test_a_study_s_effects_against_different_comparators_stay_apart() -> None:
    rows = [
        EffectRow("a", 0.5, 0.2, "wl"),
        EffectRow("a", 0.7, 0.2, "wl"),
        EffectRow("a", 0.1, 0.3, "cau"),
        EffectRow("b", 0.4, 0.25, "wl"),
    ]
    merged = aggregate(rows)
    assert [(m.study, m.comparator, m.comparisons) for m in merged] == [
        ("a", "wl", 2),
        ("a", "cau", 1),
        ("b", "wl", 1),
    ]
    # Two rows with equal standard errors: their mean, with variance v (1 + rho) / 2.
    assert merged[0].g == pytest.approx(0.6)
    assert merged[0].se == pytest.approx(math.sqrt(0.04 * 1.6 / 2))
    result = pool(merged, participants=120)
    assert result is not None
    assert (result.k, result.studies, result.comparisons, result.participants) == (3, 2, 4, 120)


def test_the_module_imports_nothing_from_the_app() -> None:
    """Pure statistics: no HTTP, no database, nothing of the app but its domain vocabulary."""
    tree = ast.parse(Path(ma.__file__).read_text())
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    } | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert {m for m in imported if m.startswith("app")} <= {"app.domain"}


def test_reml_where_fisher_scoring_oscillates() -> None:
    """Standard errors two orders of magnitude apart: Fisher scoring does not settle.

    metafor stops here with "Fisher scoring algorithm did not converge"; its remedy, a smaller
    step, finds the maximum these figures come from: in R,
    rma(yi = y, sei = se, method = "REML", test = "knha",
        control = list(stepadj = 0.5, threshold = 1e-12, maxiter = 1000)).
    """
    result = pool(_effects(*zip(OSCILLATING_G, OSCILLATING_SE, strict=True)))
    assert result is not None
    assert result.tau2 == pytest.approx(0.19290626167314165, abs=TOLERANCE)
    assert result.estimate == pytest.approx(-0.065928325829367404, abs=TOLERANCE)
    assert result.se == pytest.approx(0.16878033442251006, abs=TOLERANCE)
    assert result.i2 == pytest.approx(84.028947262047154, abs=TOLERANCE)


def test_every_cell_of_the_trial_data_pools() -> None:
    """The trial layer's records, grouped by condition and family (and comparator), all pool to
    finite figures by both methods: nothing in the real data trips the estimators."""
    data = read_trials(ROOT / "seed")
    cells: dict[tuple[str, ...], list[EffectRow]] = defaultdict(list)
    for c in data.comparisons:
        if c.time != TimePoint.post:
            continue
        row = EffectRow(f"{c.dataset}/{c.trial_key}", c.g, c.se, c.comparator)
        cells[(c.condition, c.family)].append(row)
        cells[(c.condition, c.family, c.comparator)].append(row)
    assert len(cells) > 50
    for cell, rows in cells.items():
        for method in ("REML", "PM"):
            result = meta_analysis(rows, "REML" if method == "REML" else "PM")
            assert result is not None
            figures = [result.estimate, result.se, result.ci.lower, result.ci.upper]
            if result.pooled:
                assert result.tau2 is not None
                assert result.i2 is not None
                assert result.prediction is not None
                figures += [result.tau2, result.i2, result.prediction.lower]
            assert all(math.isfinite(f) for f in figures), (cell, method)
