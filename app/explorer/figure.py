"""The explorer's figures, drawn as SVG by matplotlib (the Agg family of backends: no display,
no browser): rows of estimates with intervals on one axis (a forest plot), in two layouts.

- ``wide``: the label of each row at its left, its figures at its right, for a wide screen.
- ``phone``: the label above each row, across the plot's width, figures included, drawn narrow
  enough that 11 pt text stays at least 11 px on a 375 px screen (the figure is about as many
  points wide as the screen has pixels for it).

Text is kept as SVG text (``svg.fonttype: none``), so it can be selected, found and measured;
the figure names DejaVu Sans, the font matplotlib measured it with, then sans-serif fonts of
similar width. Under every axis: "favours control ← → favours the therapy".
"""

from __future__ import annotations

import io
import math
import re
import textwrap
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# A figure's text never goes below this size in the SVG's own units (points).
FONT_PT = 11.0
# The phone layout is this wide (4.7 in, 338 pt): 11 pt text shows at 11 px or more on an image
# 343 px wide, what a 375 px screen leaves inside the page's margins.
PHONE_WIDTH_IN = 4.7
WIDE_WIDTH_IN = 11.0
LINE_IN = 11 * 1.3 / 72  # one line of text
# Labels are wrapped to these many characters (DejaVu Sans at 11 pt averages about 6.5 pt a
# character, so a phone line is about 50 of them).
PHONE_CHARS, WIDE_CHARS = 50, 60
RATIO_TICKS = [0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0, 20.0]
INK, ACCENT, MUTED, GRID = "#1f2937", "#1d4ed8", "#6b7280", "#e5e7eb"

FAMILY = "font-family: 'DejaVu Sans'"
FALLBACK = "font-family: 'DejaVu Sans', Verdana, 'Bitstream Vera Sans', sans-serif"
CLIP_ID_RE = re.compile(r'(?<=id=")p[0-9a-f]{10}(?=")|(?<=url\(#)p[0-9a-f]{10}(?=\))')
# matplotlib's rc parameters are process-wide, and a figure is not safe to share: one at a time.
_lock = threading.Lock()


class Layout(StrEnum):
    wide = "wide"
    phone = "phone"


class Mark(StrEnum):
    """How a row's estimate is drawn."""

    square = "square"  # an estimate with its interval
    hollow = "hollow"  # an estimate whose source states no interval, or a study at high risk
    open_circle = "open-circle"  # a study whose risk of bias was not assessed
    diamond = "diamond"  # a pooled estimate: the diamond spans its interval


@dataclass(frozen=True)
class Row:
    label: str
    figures: str  # the estimate as text, shown beside (wide) or after (phone) the label
    value: float
    low: float | None
    high: float | None
    mark: Mark = Mark.square
    size: float = 6.0  # the marker's size in points (weight, for studies)
    # A prediction interval, drawn as a wide grey bar under a pooled diamond.
    pi_low: float | None = None
    pi_high: float | None = None


@dataclass(frozen=True)
class Panel:
    title: str
    rows: Sequence[Row]
    ratio: bool = False  # a log axis with no effect at 1
    favours: tuple[str, str] = ("favours control", "favours the therapy")


def forest_svg(panels: Sequence[Panel], layout: Layout, note: str | None = None) -> str:
    """Panels of rows, stacked, as an SVG document; deterministic for the same input."""
    if not panels or not any(p.rows for p in panels):
        raise ValueError("nothing to plot")
    phone = layout is Layout.phone
    extra_in = 1.35  # title, axis, ticks and the favours line
    placed = [_place(p.rows, phone) for p in panels]
    heights = [units * LINE_IN + extra_in for _, units in placed]
    note_in = (
        (len(textwrap.wrap(note, PHONE_CHARS if phone else 2 * WIDE_CHARS)) + 1) * LINE_IN
        if note
        else 0.0
    )
    with _figure_context():
        from matplotlib.figure import Figure

        fig = Figure(
            figsize=(PHONE_WIDTH_IN if phone else WIDE_WIDTH_IN, sum(heights) + note_in),
            layout="constrained",
        )
        axes = fig.subplots(len(panels), 1, squeeze=False, height_ratios=heights)[:, 0]
        for ax, panel, (ys, units) in zip(axes, panels, placed, strict=True):
            _forest_panel(ax, panel, phone, ys, units)
        if note:
            _note(fig, note, PHONE_CHARS if phone else 2 * WIDE_CHARS)
        return _svg(fig)


def _note(fig: Any, note: str, chars: int) -> None:
    fig.supxlabel("\n".join(textwrap.wrap(note, chars)), fontsize=FONT_PT, color=MUTED)


def funnel_svg(
    points: Sequence[tuple[float, float]],
    estimate: float,
    title: str,
    layout: Layout,
    note: str | None = None,
) -> str:
    """Effects (g, standard error) against their standard error, the most precise at the top,
    with the pooled estimate and the region where 95% of effects would fall without
    small-study effects or heterogeneity."""
    if not points:
        raise ValueError("nothing to plot")
    phone = layout is Layout.phone
    with _figure_context():
        from matplotlib.figure import Figure

        width = PHONE_WIDTH_IN if phone else 7.0
        fig = Figure(figsize=(width, width * 0.9), layout="constrained")
        ax = fig.subplots()
        top = max(se for _, se in points) * 1.08
        z = 1.959963984540054  # the normal 0.975 quantile
        ax.fill(
            [estimate - z * top, estimate, estimate + z * top],
            [top, 0, top],
            color="#f3f4f6",
            edgecolor=MUTED,
            linewidth=0.8,
            linestyle="--",
        )
        ax.axvline(estimate, color=ACCENT, linewidth=1.2)
        ax.axvline(0, color=MUTED, linewidth=1, linestyle=":")
        ax.plot(
            [g for g, _ in points],
            [se for _, se in points],
            marker="o",
            linestyle="none",
            markersize=5,
            markerfacecolor="white",
            markeredgecolor=INK,
        )
        ax.set_ylim(top, 0)
        ax.set_ylabel("standard error")
        ax.set_xlabel("Hedges' g (right of 0 favours the therapy)")
        ax.set_title(
            "\n".join(textwrap.wrap(title, PHONE_CHARS - 5 if phone else 70)),
            fontsize=FONT_PT + 1,
            fontweight="bold",
            loc="left",
        )
        if note:
            _note(fig, note, PHONE_CHARS if phone else 80)
        _plain(ax)
        return _svg(fig)


@contextmanager
def _figure_context() -> Iterator[None]:
    """The lock and the rc parameters every figure is drawn under."""
    import matplotlib

    matplotlib.use("Agg")
    with (
        _lock,
        matplotlib.rc_context(
            {
                "svg.hashsalt": "therapy-kb",
                "svg.fonttype": "none",
                "font.family": "DejaVu Sans",
                "font.size": FONT_PT,
                "axes.titlesize": FONT_PT + 1,
                "axes.labelsize": FONT_PT,
                "xtick.labelsize": FONT_PT,
                "ytick.labelsize": FONT_PT,
            }
        ),
    ):
        yield


def _svg(fig: Any) -> str:
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None})
    # A reader without DejaVu Sans gets a sans-serif of similar width, not the browser's serif.
    return _stable_ids(out.getvalue()).replace(FAMILY, FALLBACK)


def _stable_ids(svg: str) -> str:
    """Clip-path ids numbered in order of appearance. matplotlib derives some from ``id()`` of
    Python objects, so the same figure would differ between draws and between workers, and so
    would its ETag."""
    ids = dict.fromkeys(CLIP_ID_RE.findall(svg))
    renamed = {old: f"clip{n}" for n, old in enumerate(ids, 1)}
    return CLIP_ID_RE.sub(lambda m: renamed[m.group(0)], svg) if renamed else svg


def _plain(ax: Any) -> None:
    ax.grid(axis="x", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _draw_row(ax: Any, y: float, row: Row) -> None:
    # A diamond is as tall as a row's line of text allows.
    if row.pi_low is not None and row.pi_high is not None:
        ax.plot([row.pi_low, row.pi_high], [y, y], color=MUTED, linewidth=3, alpha=0.5)
    if row.mark is Mark.diamond and row.low is not None and row.high is not None:
        ax.fill(
            [row.low, row.value, row.high, row.value],
            [y, y + 0.35, y, y - 0.35],
            color=INK,
            zorder=3,
        )
        return
    if row.low is not None and row.high is not None:
        ax.plot([row.low, row.high], [y, y], color=INK, linewidth=1.3)
    marker = {Mark.square: "s", Mark.hollow: "s", Mark.open_circle: "o", Mark.diamond: "D"}
    filled = row.mark in (Mark.square, Mark.diamond)
    ax.plot(
        [row.value],
        [y],
        marker=marker[row.mark],
        markersize=row.size,
        markerfacecolor=ACCENT if filled else "white",
        markeredgecolor=ACCENT,
        markeredgewidth=1.4,
        linestyle="none",
        zorder=4,
    )


def _limits(rows: Sequence[Row], ratio: bool) -> tuple[float, float]:
    null = 1.0 if ratio else 0.0
    values = [
        v for r in rows for v in (r.value, r.low, r.high, r.pi_low, r.pi_high) if v is not None
    ] + [null]
    low, high = min(values), max(values)
    if ratio:
        low, high = min(low, 1 / high), max(high, 1 / low)  # symmetric about 1
        pad = (math.log10(high) - math.log10(low)) * 0.06 or 0.1
        return 10 ** (math.log10(low) - pad), 10 ** (math.log10(high) + pad)
    pad = (high - low) * 0.06 or 0.5
    return low - pad, high + pad


def _text(row: Row, phone: bool) -> str:
    """A row's label wrapped to the layout's width (the phone's carries its figures)."""
    if phone:
        return "\n".join(textwrap.wrap(f"{row.label}: {row.figures}", PHONE_CHARS))
    return "\n".join(textwrap.wrap(row.label, WIDE_CHARS))


def _place(rows: Sequence[Row], phone: bool) -> tuple[list[float], float]:
    """Each row's y (in lines of text, the first row at the top) and the lines they take: a
    row is as tall as its wrapped label, and on a phone the label stands above the row."""
    ys: list[float] = []
    top = 0.0
    for row in rows:
        lines = _text(row, phone).count("\n") + 1
        height = lines + 1.0 if phone else max(lines, 1) + 0.5
        # A phone's row sits below its label; a wide row in the middle of its label.
        ys.append(-(top + height) + 0.6 if phone else -(top + height / 2))
        top += height
    return ys, top


def _forest_panel(ax: Any, panel: Panel, phone: bool, ys: list[float], units: float) -> None:
    from matplotlib.ticker import NullFormatter, ScalarFormatter
    from matplotlib.transforms import blended_transform_factory

    rows = panel.rows
    null = 1.0 if panel.ratio else 0.0
    for y, row in zip(ys, rows, strict=True):
        _draw_row(ax, y, row)
    ax.axvline(null, color=MUTED, linewidth=1, linestyle="--")
    ax.set_ylim(-units, 0)
    if phone:
        ax.set_yticks([])
        left = blended_transform_factory(ax.transAxes, ax.transData)
        for y, row in zip(ys, rows, strict=True):
            ax.text(
                0.0,
                y + 0.45,
                _text(row, phone),
                transform=left,
                fontsize=FONT_PT,
                va="bottom",
                ha="left",
                linespacing=1.1,
                clip_on=False,
            )
    else:
        ax.set_yticks(ys, [_text(r, phone) for r in rows])
        # The figures stand on the right, as tick labels of a twin axis (so the layout fits).
        right = ax.twinx()
        right.set_ylim(ax.get_ylim())
        right.set_yticks(ys, [r.figures for r in rows])
        right.tick_params(length=0)
        for side in ("top", "right"):
            right.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    lo, hi = _limits(rows, panel.ratio)
    if panel.ratio:
        ax.set_xscale("log")
        ax.set_xlim(lo, hi)
        ax.set_xticks([t for t in RATIO_TICKS if lo <= t <= hi], minor=False)
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
    else:
        ax.set_xlim(lo, hi)
    ax.set_title(
        "\n".join(textwrap.wrap(panel.title, PHONE_CHARS - 5 if phone else 2 * WIDE_CHARS)),
        fontsize=FONT_PT + 1,
        fontweight="bold",
        loc="left",
    )
    control, therapy = panel.favours
    ax.set_xlabel(f"{control} ←   → {therapy}")
    _plain(ax)
