"""Random-effects meta-analysis of trial effect sizes: pure functions, no I/O.

Two steps, each matching R's metafor (the reference implementation; ``tests/fixtures/metafor``
holds the check, docs/meta-analysis.md the methods):

1. :func:`aggregate` merges the rows (comparisons) of a study against one comparator (several
   instruments, several arms) into one effect, assuming a correlation ``rho`` (default 0.6)
   between them: metafor's ``aggregate(x, cluster=..., rho=0.6)``.
2. :func:`pool` pools those effects with a random-effects model: tau² by REML (default) or
   Paule–Mandel, the Hartung–Knapp(–Sidik–Jonkman) interval and prediction interval
   (``rma(..., test="knha")`` and ``predict()``), Q, I², and Egger's regression test
   (``regtest(model="lm")``) from ten pooled effects on.

What is written here and why: numpy does the arithmetic and scipy gives the t, chi² and normal
distributions (from ``scipy.special``, which imports in a fraction of the time ``scipy.stats``
takes) and the root finder (Paule–Mandel's equation). The estimators themselves are
written out because no maintained Python library provides them as metafor defines them:
statsmodels' ``combine_effects`` has DerSimonian–Laird and Paule–Mandel ("iterated") but no
REML, no prediction interval and no Egger test, and its Paule–Mandel iteration stops by default
at a loose tolerance (1e-5 on Q), reporting non-convergence only in a flag; taking it (with
pandas and patsy) for one root of a monotone function was not worth it. REML follows metafor's
Fisher scoring step for step (same start, same step halving at the boundary, same check against
tau² = 0), iterated to a far tighter threshold, so the figures agree with R to well under 1e-6.
Where Fisher scoring does not settle (metafor then stops with an error), the root of the REML
score is found by Brent's method instead.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import optimize, special

Method = Literal["REML", "PM"]
Array = npt.NDArray[np.float64]

#: The correlation assumed between the rows merged into one effect of a study.
DEFAULT_RHO = 0.6
#: Egger's test is only reported from this many pooled effects on.
EGGER_MIN_K = 10

# Fisher scoring for REML stops when tau² moves by less than this (metafor's default is 1e-5).
_REML_THRESHOLD = 1e-12
_REML_MAX_ITER = 100
# metafor's knha: a weighted residual sum of squares at or below machine epsilon counts as 0.
_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True, slots=True)
class EffectRow:
    """One row of trial data (one comparison): a standardised mean difference (Hedges' g) and
    its standard error.

    ``comparator`` is the caller's key that separates a study's rows into effects pooled apart,
    normally the comparator class: rows with the same ``study`` and ``comparator`` are merged
    into one effect by :func:`aggregate`; rows of one study with different keys stay separate.
    """

    study: str
    g: float
    se: float
    comparator: str = ""


@dataclass(frozen=True, slots=True)
class StudyEffect:
    """One effect of one study against one comparator, its rows merged: the unit that is pooled.

    ``comparisons`` is the number of rows merged into it.
    """

    study: str
    comparator: str
    g: float
    se: float
    comparisons: int = 1


@dataclass(frozen=True, slots=True)
class Interval:
    lower: float
    upper: float


@dataclass(frozen=True, slots=True)
class PooledEffect:
    """A pooled effect and what describes it; ``None`` where a figure is not defined.

    ``pooled`` is False when there was one effect: the figures are then that effect's own (its
    g, its standard error and the normal interval around it), with no tau², Q, I², prediction
    interval or Egger test.
    """

    method: Method
    pooled: bool
    k: int  # effects pooled, after aggregation: one per study and comparator
    studies: int  # distinct studies among them
    comparisons: int  # rows before aggregation
    participants: int | None  # as counted by the caller
    estimate: float
    se: float
    ci: Interval
    # The test of estimate = 0: t on k - 1 df (normal when k = 1); None when se is 0.
    p_value: float | None
    tau2: float | None
    i2: float | None  # percent
    q: float | None
    q_df: int | None
    q_p: float | None
    prediction: Interval | None
    egger_p: float | None


def _check(study: str, g: float, se: float, where: str) -> None:
    if not math.isfinite(g):
        raise ValueError(f"{where} (study {study!r}): g must be a finite number, got {g!r}")
    if not (math.isfinite(se) and se > 0):
        raise ValueError(
            f"{where} (study {study!r}): the standard error must be a positive finite number, "
            f"got {se!r}"
        )


def aggregate(rows: Iterable[EffectRow], rho: float = DEFAULT_RHO) -> tuple[StudyEffect, ...]:
    """Merge the rows of each (study, comparator) into one effect, in order of first appearance.

    The rows of a group are taken as correlated with ``rho`` (compound symmetry):
    V_ij = rho * se_i * se_j, V_ii = se_i². The merged effect is the generalised least squares
    mean, (1' V⁻¹ g) / (1' V⁻¹ 1), with variance 1 / (1' V⁻¹ 1). Pass the rows of one time
    point: this function merges whatever it is given.
    """
    if not 0 <= rho < 1:
        raise ValueError(f"rho must be in [0, 1), got {rho!r}")
    groups: dict[tuple[str, str], list[EffectRow]] = {}
    for i, row in enumerate(rows):
        _check(row.study, row.g, row.se, f"row {i}")
        groups.setdefault((row.study, row.comparator), []).append(row)
    merged: list[StudyEffect] = []
    for (study, comparator), members in groups.items():
        if len(members) == 1:
            merged.append(StudyEffect(study, comparator, members[0].g, members[0].se))
            continue
        # V = (1 - rho) diag(se²) + rho se se' is a diagonal plus a rank-one matrix, so V⁻¹ has
        # a closed form (Sherman–Morrison). With b = 1/se², c = 1/se and m rows:
        #   (1 - rho) 1'V⁻¹1 = Σb - rho (Σc)² / (1 - rho + rho m)
        #   (1 - rho) 1'V⁻¹g = Σbg - rho (Σc)(Σcg) / (1 - rho + rho m)
        # Plain floats: a linear solve per study costs more than the whole pooling.
        shrink = rho / (1 - rho + rho * len(members))
        sum_b = sum_bg = sum_c = sum_cg = 0.0
        for m in members:
            c = 1 / m.se
            sum_b += c * c
            sum_bg += c * c * m.g
            sum_c += c
            sum_cg += c * m.g
        total = sum_b - shrink * sum_c * sum_c  # (1 - rho) 1'V⁻¹1
        estimate = (sum_bg - shrink * sum_c * sum_cg) / total
        se = math.sqrt((1 - rho) / total)
        merged.append(StudyEffect(study, comparator, estimate, se, len(members)))
    return tuple(merged)


def _reml_loglik(y: Array, v: Array, tau2: float) -> float:
    """The REML log-likelihood of the intercept-only model, without its constant."""
    w = 1 / (v + tau2)
    mu = float(w @ y) / float(w.sum())
    return -0.5 * (
        float(np.log(v + tau2).sum()) + math.log(float(w.sum())) + float(w @ (y - mu) ** 2)
    )


def _reml_step(y: Array, v: Array, tau2: float) -> float:
    """metafor's Fisher scoring step, (y'PPy - tr P) / tr PP, in closed form for an intercept."""
    w = 1 / (v + tau2)
    sw, sw2 = float(w.sum()), float(w @ w)
    mu = float(w @ y) / sw
    r = y - mu
    tr_p = sw - sw2 / sw
    tr_pp = sw2 - 2 * float(w @ (w * w)) / sw + (sw2 / sw) ** 2
    return (float((w * w) @ (r * r)) - tr_p) / tr_pp


def _fisher_scoring(y: Array, v: Array) -> float | None:
    """metafor's REML iteration; None when it does not settle."""
    # metafor starts from the Hedges (HE) estimate, truncated at 0.
    tau2 = max(0.0, float(np.var(y, ddof=1)) - float(v.mean()))
    for _ in range(_REML_MAX_ITER):
        step = _reml_step(y, v, tau2)
        if tau2 + step < 0:
            # metafor halves the step until it stays at or above 0. When the likelihood falls
            # from 0 on, those halvings only creep towards 0: the maximum is the boundary.
            if _reml_step(y, v, 0.0) <= 0:
                return 0.0
            while tau2 + step < 0:
                step /= 2
        tau2 += step
        if abs(step) <= _REML_THRESHOLD:
            return tau2
    return None


def _reml_score_root(y: Array, v: Array) -> float:
    """The REML maximum as the root of the score, y'PPy - tr P, bracketed; 0 if it is at 0.

    Fisher scoring can oscillate without settling when the sampling variances differ by orders
    of magnitude (metafor then stops with an error, and suggests a smaller step); the score's
    root is where a smaller step would have led.
    """
    if _reml_step(y, v, 0.0) <= 0:
        return 0.0
    upper = max(1.0, float(np.var(y, ddof=1)))
    # The score is negative for a large enough tau² (it falls like (k - 1) / tau²).
    while _reml_step(y, v, upper) > 0:
        upper *= 10
    root: float = optimize.brentq(
        lambda tau2: _reml_step(y, v, tau2), 0.0, upper, xtol=1e-15, rtol=4 * _EPS, maxiter=500
    )
    return root


def _tau2_reml(y: Array, v: Array) -> float:
    tau2 = _fisher_scoring(y, v)
    if tau2 is None:
        tau2 = _reml_score_root(y, v)
    # As metafor does: a local maximum lower than the likelihood at tau² = 0 gives way to 0.
    if tau2 > 0 and _reml_loglik(y, v, 0.0) - _reml_loglik(y, v, tau2) > 1e-12:
        tau2 = 0.0
    return tau2


def _q(y: Array, v: Array, tau2: float) -> float:
    """The generalised Q statistic: the weighted squared deviations at this tau²."""
    w = 1 / (v + tau2)
    mu = float(w @ y) / float(w.sum())
    return float(w @ (y - mu) ** 2)


def _tau2_pm(y: Array, v: Array) -> float:
    """Paule–Mandel: the tau² at which the generalised Q equals its expectation, k - 1."""
    target = len(y) - 1

    def excess(tau2: float) -> float:
        return _q(y, v, tau2) - target

    if excess(0.0) < 0:
        return 0.0
    # Q falls monotonically in tau²; metafor searches up to max(100, 10 * MAD(y)²) and fails
    # beyond it. Widening the bracket instead cannot change a root metafor finds.
    mad = 1.4826 * float(np.median(np.abs(y - np.median(y))))
    upper = max(100.0, 10 * mad * mad)
    while excess(upper) > 0:
        upper *= 10
    root: float = optimize.brentq(excess, 0.0, upper, xtol=1e-15, rtol=4 * _EPS, maxiter=500)
    return root


def _t_two_sided_p(t_value: float, df: int) -> float:
    return 2 * float(special.stdtr(df, -abs(t_value)))


def _egger_p(y: Array, v: Array) -> float | None:
    """Egger's test: weighted regression of g on its standard error; the slope's p-value."""
    k = len(y)
    sqrt_w = 1 / np.sqrt(v)
    design = np.column_stack([np.ones(k), np.sqrt(v)]) * sqrt_w[:, None]
    if np.linalg.matrix_rank(design) < 2:
        return None  # every standard error equal: there is no slope to test
    coef, rss, _, _ = np.linalg.lstsq(design, y * sqrt_w, rcond=None)
    sigma2 = float(rss[0]) / (k - 2) if len(rss) else 0.0
    cov = sigma2 * np.linalg.inv(design.T @ design)
    se_slope = math.sqrt(float(cov[1, 1]))
    if se_slope == 0:
        return None
    t_value = float(coef[1]) / se_slope
    return _t_two_sided_p(t_value, k - 2)


def pool(
    effects: Sequence[StudyEffect],
    method: Method = "REML",
    *,
    participants: int | None = None,
    level: float = 0.95,
) -> PooledEffect | None:
    """Pool the effects (one per study and comparator) with a random-effects model; None when
    there is none.

    With one effect nothing is pooled (see :class:`PooledEffect`). From two on, every figure
    is metafor's for ``rma(yi, vi, method=method, test="knha")``: with two, the intervals use
    a t distribution with one degree of freedom and are very wide, which is what two studies
    can tell.
    """
    if method not in ("REML", "PM"):
        raise ValueError(f"method must be 'REML' or 'PM', got {method!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    if participants is not None and participants < 0:
        raise ValueError(f"participants must not be negative, got {participants!r}")
    for i, e in enumerate(effects):
        _check(e.study, e.g, e.se, f"effect {i}")
    k = len(effects)
    if k == 0:
        return None
    studies = len({e.study for e in effects})
    comparisons = sum(e.comparisons for e in effects)
    if k == 1:
        only = effects[0]
        z = -float(special.ndtri((1 - level) / 2))
        return PooledEffect(
            method=method,
            pooled=False,
            k=1,
            studies=1,
            comparisons=comparisons,
            participants=participants,
            estimate=only.g,
            se=only.se,
            ci=Interval(only.g - z * only.se, only.g + z * only.se),
            p_value=2 * float(special.ndtr(-abs(only.g / only.se))),
            tau2=None,
            i2=None,
            q=None,
            q_df=None,
            q_p=None,
            prediction=None,
            egger_p=None,
        )

    y = np.array([e.g for e in effects])
    v = np.array([e.se for e in effects]) ** 2
    tau2 = _tau2_reml(y, v) if method == "REML" else _tau2_pm(y, v)

    w = 1 / (v + tau2)
    estimate = float(w @ y) / float(w.sum())
    # Hartung–Knapp: the model's variance scaled by the weighted residual mean square, as is
    # (no truncation at 1), and a t distribution with k - 1 degrees of freedom.
    rss = float(w @ (y - estimate) ** 2)
    scale = 0.0 if rss <= _EPS else rss / (k - 1)
    se = math.sqrt(scale / float(w.sum()))
    crit = -float(special.stdtrit(k - 1, (1 - level) / 2))
    p_value = None if se == 0 else _t_two_sided_p(estimate / se, k - 1)
    spread = crit * math.sqrt(se * se + tau2)

    # Heterogeneity, from the fixed-effect weights.
    w_fe = 1 / v
    q = max(0.0, _q(y, v, 0.0))
    sum_w = float(w_fe.sum())
    typical_v = (k - 1) * sum_w / (sum_w * sum_w - float(w_fe @ w_fe))
    return PooledEffect(
        method=method,
        pooled=True,
        k=k,
        studies=studies,
        comparisons=comparisons,
        participants=participants,
        estimate=estimate,
        se=se,
        ci=Interval(estimate - crit * se, estimate + crit * se),
        p_value=p_value,
        tau2=tau2,
        i2=100 * tau2 / (typical_v + tau2),
        q=q,
        q_df=k - 1,
        q_p=float(special.chdtrc(k - 1, q)),
        prediction=Interval(estimate - spread, estimate + spread),
        egger_p=_egger_p(y, v) if k >= EGGER_MIN_K else None,
    )


def meta_analysis(
    rows: Iterable[EffectRow],
    method: Method = "REML",
    *,
    rho: float = DEFAULT_RHO,
    participants: int | None = None,
    level: float = 0.95,
) -> PooledEffect | None:
    """:func:`aggregate` then :func:`pool`: the whole analysis of one set of rows."""
    return pool(aggregate(rows, rho), method, participants=participants, level=level)
