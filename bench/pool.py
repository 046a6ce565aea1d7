"""How long the meta-analysis takes on the largest cell: CBT against every control in the
depression dataset at post-treatment (the ``depression_cbt_any`` rows of
tests/fixtures/metafor/rows.csv).

    python -m bench.pool [--processes 10] [--warm 200]

"Cold" is the first analysis in a fresh Python process, after the imports (each of
``--processes`` processes times one REML and then one Paule–Mandel analysis: aggregation
and pooling); "warm" is the median of ``--warm`` analyses repeated in one process. The
import of app.meta_analysis (numpy, scipy) is reported on its own.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROWS = ROOT / "tests" / "fixtures" / "metafor" / "rows.csv"
CELL = "depression_cbt_any"


def _once() -> dict[str, float]:
    """One fresh process: import, then the first REML and the first PM analysis, in ms."""
    started = time.perf_counter()
    from app.meta_analysis import EffectRow, meta_analysis

    imported = time.perf_counter()
    with ROWS.open(newline="") as f:
        rows = [
            EffectRow(r["study"], float(r["g"]), float(r["se"]), r["comparator"])
            for r in csv.DictReader(f)
            if r["subset"] == CELL
        ]
    timings = {"import": (imported - started) * 1000, "rows": float(len(rows))}
    for method in ("REML", "PM"):
        t0 = time.perf_counter()
        result = meta_analysis(rows, method)
        timings[method] = (time.perf_counter() - t0) * 1000
        assert result is not None
        timings["k"] = float(result.k)
    return timings


def _warm(repeats: int) -> dict[str, float]:
    from app.meta_analysis import EffectRow, meta_analysis

    with ROWS.open(newline="") as f:
        rows = [
            EffectRow(r["study"], float(r["g"]), float(r["se"]), r["comparator"])
            for r in csv.DictReader(f)
            if r["subset"] == CELL
        ]
    warm: dict[str, float] = {}
    for method in ("REML", "PM"):
        samples = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            meta_analysis(rows, method)
            samples.append((time.perf_counter() - t0) * 1000)
        warm[method] = statistics.median(samples)
    return warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=10)
    parser.add_argument("--warm", type=int, default=200)
    parser.add_argument("--once", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.once:
        sys.stdout.write(json.dumps(_once()) + "\n")
        return
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-m", "bench.pool", "--once"],
                cwd=ROOT,
                capture_output=True,
                check=True,
                text=True,
            ).stdout
        )
        for _ in range(args.processes)
    ]
    warm = _warm(args.warm)
    first = runs[0]
    lines = [
        f"{CELL}: {int(first['rows'])} rows, k = {int(first['k'])} effects after aggregation",
        f"import app.meta_analysis: median {statistics.median(r['import'] for r in runs):.1f} ms",
    ]
    for method in ("REML", "PM"):
        cold = [r[method] for r in runs]
        lines.append(
            f"{method}: cold median {statistics.median(cold):.2f} ms, max {max(cold):.2f} ms "
            f"({len(cold)} processes); warm median {warm[method]:.2f} ms ({args.warm} runs)"
        )
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
