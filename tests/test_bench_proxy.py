"""bench/proxy.py's own logic, without a topology: its options, and the report it makes of
wrk runs (the numbers here are made up; what is checked is the arithmetic and the shape)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from bench import proxy


def test_unknown_endpoints_are_refused_with_the_known_ones() -> None:
    with pytest.raises(SystemExit):
        proxy.parse_args(["--only", "detail,nope"])
    assert proxy.parse_args(["--only", "304, list"]).endpoints == ["304", "list"]
    assert proxy.parse_args([]).endpoints == list(proxy.PATHS)


def _run(rps: float, node_us: float) -> dict[str, Any]:
    return {
        "requests_per_sec": rps,
        "p50_ms": 1.0,
        "p99_ms": 2.0,
        "non_2xx_3xx": 0,
        "cpu_us_per_request": {"node": node_us, "wrk": 10.0},
    }


def test_the_summary_takes_medians_and_the_ratio_of_proxy_to_node() -> None:
    runs = {
        "detail": {
            "node": [_run(1000, 100), _run(3000, 300), _run(2000, 200)],
            "proxy": [_run(8000, 0), _run(4000, 0), _run(6000, 0)],
        }
    }
    [row] = proxy.summarise(runs)
    assert row["node"]["req_per_s"] == 2000
    assert row["proxy"]["req_per_s"] == 6000
    assert row["ratio"] == 3.0
    assert row["node"]["cpu_us_per_request"] == {"node": 200.0, "wrk": 10.0}
    table = proxy.table([row])
    assert "| detail" in table
    assert "3.00" in table


def test_processor_time_is_read_for_a_live_process_and_zero_for_a_gone_one() -> None:
    assert proxy.cpu_seconds(os.getpid()) >= 0
    assert proxy.cpu_seconds(2**22 + 1) == 0.0  # above Linux's highest process id
    assert os.getpid() in proxy.children(os.getppid())
