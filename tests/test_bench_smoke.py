"""A few-second smoke run of the benchmark harness (bench/), so it keeps working.

Not a timed test: it checks that the harness builds, serves, measures and reports, never what
the numbers are. The wrk runs skip when wrk is missing, except under CI=true, where .ci/run is
expected to have installed it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.domain import CodeSystem
from app.seeding import read_seed_dir
from app.seeding.format import CODE_PATTERNS
from bench import harness
from bench.synth import fake_code
from tests.helpers import in_ci

ROOT = Path(__file__).resolve().parent.parent


needs_wrk = pytest.mark.skipif(
    shutil.which("wrk") is None and not in_ci(),
    reason="wrk is not installed (`make bench` installs it: apt-get install wrk); "
    "under CI=true this test runs and fails instead",
)

WRK_OUTPUT = """\
Running 1s test @ http://127.0.0.1:8000/v1/modalities/ipt
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.95ms    1.21ms  25.31ms   90.12%
    Req/Sec     8.20k   512.33     9.01k    70.00%
  Latency Distribution
     50%  812.00us
     75%    3.10ms
     90%    4.00ms
     99%    1.20s
  16321 requests in 1.00s, 260.12MB read
  Non-2xx or 3xx responses: 3
Requests/sec:  16215.43
Transfer/sec:    258.50MB
"""


def test_parse_wrk_converts_every_unit_to_ms() -> None:
    result = harness.parse_wrk(WRK_OUTPUT)
    assert result.requests_per_sec == pytest.approx(16215.43)
    assert result.p50_ms == pytest.approx(0.812)
    assert result.p99_ms == pytest.approx(1200.0)
    assert result.extra == {"75": pytest.approx(3.1), "90": pytest.approx(4.0)}
    assert result.requests == 16321
    assert result.non_2xx_3xx == 3


def test_parse_wrk_refuses_output_without_latency_distribution() -> None:
    without = "\n".join(line for line in WRK_OUTPUT.splitlines() if "%  " not in line)
    with pytest.raises(ValueError, match="--latency"):
        harness.parse_wrk(without)


def test_synthetic_codes_are_well_formed_and_distinct() -> None:
    for system in CodeSystem:
        codes = [fake_code(system.value, n) for n in (0, 1, 35, 36, 46_655, 46_656, 999_999)]
        assert len(set(codes)) == len(codes)
        assert all(CODE_PATTERNS[system].match(code) for code in codes), codes


def test_synth_scale_2_passes_check(tmp_path: Path) -> None:
    out = tmp_path / "seed2"
    synth = subprocess.run(
        [sys.executable, "-m", "bench.synth", "--scale", "2", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert synth.returncode == 0, synth.stderr
    real = read_seed_dir(harness.REAL_SEED)
    check = subprocess.run(
        [sys.executable, "-m", "app.cli", "check", "--dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stderr
    assert (
        f"{2 * len(real.modalities)} modalities, {2 * len(real.conditions)} conditions, "
        f"{2 * len(real.citations)} citations"
    ) in check.stdout
    assert (out / "modalities" / "ipt.yaml").is_file()
    assert (out / "modalities" / "ipt-s0001.yaml").is_file()


@needs_wrk
def test_bench_run_smoke(tmp_path: Path) -> None:
    json_out = tmp_path / "bench.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--duration",
            "1",
            "--rounds",
            "1",
            "--warmup",
            "1",
            "--only",
            "detail,304",
            "--json-out",
            str(json_out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, f"bench.run failed:\n{proc.stdout}\n{proc.stderr}"
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| ")]
    header = [cell.strip() for cell in rows[0].split("|")[1:-1]]
    assert header == [
        "endpoint",
        "req/s",
        "p50 ms",
        "p99 ms",
        "ratio to reference",
        "target",
        "met?",
    ]
    labels = [row.split("|")[1].strip() for row in rows[1:]]
    assert labels == ["modality detail", "304 revalidation"]

    result = json.loads(json_out.read_text())
    assert [r["endpoint"] for r in result["endpoints"]] == ["detail", "304"]
    for row in result["endpoints"]:
        assert row["req_per_s"] > 0
        assert row["reference_req_per_s"] > 0
        assert 0 < row["p50_ms"] <= row["p99_ms"]
        assert row["non_2xx_3xx"] == 0  # the 304s count as 3xx: nothing failed
    assert result["detail_body_bytes"] == result["reference_body_bytes"]
