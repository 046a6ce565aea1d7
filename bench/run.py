"""The throughput benchmark: therapy-kb against a reference FastAPI app, with wrk.

    python -m bench.run [--db sqlite|postgres] [--duration S] [--rounds N] [--connections C]
                        [--threads T] [--only NAME,...] [--scale N] [--json-out FILE]
                        [--compare-with SQLITE.json]

1. Builds a seeded knowledge base: a SQLite file in a temp dir, or (``--db postgres``) a
   throwaway cluster from ``tests/pgcluster.py``; ``python -m app.cli migrate`` and ``seed``.
   ``--scale N`` seeds a synthetic base N times the real one (``bench/synth.py``).
2. Starts therapy-kb (``uvicorn app.main:create_app --factory``) and the reference app
   (``bench/reference_app.py``, a constant dict the size of the IPT detail) as subprocesses:
   1 worker each, uvloop, httptools, no access log. Both stay up for the whole run, idle
   except while measured; only one is measured at a time.
3. For each round and each endpoint, runs ``wrk --latency`` against the reference and against
   therapy-kb, back to back (the order flips every round), after a short warm-up of each.
4. Prints the medians over rounds: req/s, p50, p99, the ratio to the reference measured next to
   it, the target and whether it is met. ``--json-out`` writes the same as JSON.

The servers are killed at the end, on errors and on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import harness as h

DETAIL = "/v1/modalities/ipt"
# The largest cell of the trial data: CBT against any control in major depression.
POOLED = "/v1/pooled?modality=cbt&condition=major-depression&comparator=control"


@dataclass(frozen=True)
class Endpoint:
    name: str
    label: str
    path: str
    min_ratio: float | None  # None: report only
    max_p99_ms: float | None
    revalidate: bool = False  # send If-None-Match with the detail's ETag

    @property
    def target(self) -> str:
        if self.min_ratio is None:
            return "report only"
        return f">= {self.min_ratio:.2f}, p99 <= {self.max_p99_ms:g} ms"


ENDPOINTS = [
    Endpoint("detail", "modality detail", DETAIL, 0.80, 20),
    Endpoint("list", "modality list", "/v1/modalities?limit=50", 0.80, 20),
    Endpoint("condition", "condition detail", "/v1/conditions/major-depression", 0.80, 20),
    Endpoint("map-page", "explorer: evidence map", "/", 0.80, 20),
    Endpoint(
        "condition-page", "explorer: condition page", "/conditions/major-depression", 0.80, 20
    ),
    Endpoint("compare", "compare of 3", "/v1/compare?modalities=ipt,cbt,dbt", 0.70, 20),
    Endpoint("search", "search", "/v1/search?q=depression", 0.50, 50),
    Endpoint("export", "JSON export", "/v1/export?format=json", None, None),
    Endpoint("pooled", "pooled, largest cell (cached)", POOLED, None, None),
    Endpoint("304", "304 revalidation", DETAIL, 0.90, 20, revalidate=True),
]
BY_NAME = {e.name: e for e in ENDPOINTS}
PG_WITHIN = 0.15
REFERENCE_PATHS = {
    "typed": "/reference",
    "untyped": "/reference-untyped",
    "raw": "/reference-raw",
}  # PostgreSQL within 15% of SQLite


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.run", description="therapy-kb vs a reference FastAPI app, with wrk."
    )
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--duration", type=int, default=10, help="Seconds per wrk run (10).")
    p.add_argument("--rounds", type=int, default=3, help="Rounds; the median is reported (3).")
    p.add_argument("--connections", type=int, default=50, help="wrk -c (50).")
    p.add_argument("--threads", type=int, default=2, help="wrk -t (2).")
    p.add_argument("--warmup", type=int, default=2, help="Seconds of wrk per endpoint first (2).")
    p.add_argument(
        "--only",
        default="",
        help=f"Comma-separated endpoints to measure, of: {','.join(BY_NAME)} (all).",
    )
    p.add_argument("--scale", type=int, default=1, help="Seed N times the real seed (1).")
    p.add_argument("--seed-dir", type=Path, default=None, help="Seed directory (./seed).")
    p.add_argument("--json-out", type=Path, default=None, help="Write the results as JSON here.")
    p.add_argument(
        "--compare-with",
        type=Path,
        default=None,
        help="A SQLite result JSON: also report this run's req/s relative to it (PostgreSQL).",
    )
    p.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="Extra environment for therapy-kb, e.g. THERAPY_KB_LOG_LEVEL=info (repeatable).",
    )
    p.add_argument(
        "--reference",
        choices=sorted(REFERENCE_PATHS),
        default="typed",
        help="Which reference route (bench/reference_app.py): typed (default: the dict, "
        "serialised by pydantic-core), untyped (jsonable_encoder) or raw (pre-encoded bytes).",
    )
    p.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="DIR",
        help="Before measuring, record therapy-kb with py-spy (pip install py-spy) during an "
        "extra, uncounted wrk run per endpoint: DIR/<endpoint>.speedscope.json and "
        "DIR/<endpoint>.folded (GIL-holding samples only: CPU in Python and in C it calls).",
    )
    p.add_argument("--fail-on-miss", action="store_true", help="Exit 1 when a target is missed.")
    args = p.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(BY_NAME)
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        p.error(f"--only: unknown endpoint(s) {', '.join(unknown)}; known: {', '.join(BY_NAME)}")
    args.endpoints = [BY_NAME[n] for n in names]
    for value in args.env:
        if "=" not in value:
            p.error(f"--env wants NAME=VALUE, not {value!r}")
    if min(args.duration, args.rounds, args.connections, args.threads) < 1 or args.warmup < 0:
        p.error("--duration, --rounds, --connections and --threads must be positive")
    return args


def check_endpoints(kb: h.Server, endpoints: list[Endpoint], etag: str) -> None:
    """Every URL answers as it should before anything is measured (no benchmarking of 404s)."""
    for e in endpoints:
        headers = {"If-None-Match": etag} if e.revalidate else {}
        status, _, body = h.http_get(kb.base + e.path, headers)
        expected = 304 if e.revalidate else 200
        if status != expected:
            raise RuntimeError(f"{e.path} answered {status}, not {expected}: {body[:500]!r}")


def measure(
    args: argparse.Namespace, kb: h.Server, ref: h.Server, etag: str
) -> dict[str, dict[str, list[h.WrkResult]]]:
    wrk_args = {"connections": args.connections, "threads": args.threads}
    ref_url = ref.base + REFERENCE_PATHS[args.reference]
    if args.warmup:
        h.log(f"warm-up: {args.warmup} s of wrk on the reference and on each endpoint")
        h.run_wrk(ref_url, args.warmup, **wrk_args)
        for e in args.endpoints:
            headers = {"If-None-Match": etag} if e.revalidate else None
            h.run_wrk(kb.base + e.path, args.warmup, headers=headers, **wrk_args)
    if args.profile is not None:
        for e in args.endpoints:
            h.log(f"profiling {e.name}: py-spy on therapy-kb during {args.duration} s of wrk")
            headers = {"If-None-Match": etag} if e.revalidate else None
            spies = h.start_profiler(kb.pid, args.duration, args.profile, e.name)
            h.run_wrk(kb.base + e.path, args.duration, headers=headers, **wrk_args)
            for spy in spies:
                spy.wait(timeout=60)
        h.log(f"profiles in {args.profile} (these runs are not counted)")
    runs: dict[str, dict[str, list[h.WrkResult]]] = {
        e.name: {"kb": [], "ref": []} for e in args.endpoints
    }
    for r in range(args.rounds):
        for e in args.endpoints:
            headers = {"If-None-Match": etag} if e.revalidate else None
            order = ["ref", "kb"] if r % 2 == 0 else ["kb", "ref"]
            for who in order:
                if who == "ref":
                    result = h.run_wrk(ref_url, args.duration, **wrk_args)
                else:
                    result = h.run_wrk(kb.base + e.path, args.duration, headers=headers, **wrk_args)
                    result.extra["recovery_s"] = h.recovery_seconds(kb)
                runs[e.name][who].append(result)
            kb_r, ref_r = runs[e.name]["kb"][-1], runs[e.name]["ref"][-1]
            h.log(
                f"round {r + 1}/{args.rounds} {e.name:<9} "
                f"therapy-kb {kb_r.requests_per_sec:8.0f}/s p99 {kb_r.p99_ms:6.2f} ms | "
                f"reference {ref_r.requests_per_sec:8.0f}/s p99 {ref_r.p99_ms:6.2f} ms"
            )
            for server in (kb, ref):
                if not server.alive():
                    raise RuntimeError(f"{server.name} died:\n{server.log_tail()}")
    return runs


def summarise(
    endpoints: list[Endpoint], runs: dict[str, dict[str, list[h.WrkResult]]]
) -> list[dict[str, Any]]:
    rows = []
    for e in endpoints:
        kb_runs, ref_runs = runs[e.name]["kb"], runs[e.name]["ref"]
        rps = h.median([x.requests_per_sec for x in kb_runs])
        ref_rps = h.median([x.requests_per_sec for x in ref_runs])
        p50 = h.median([x.p50_ms for x in kb_runs])
        p99 = h.median([x.p99_ms for x in kb_runs])
        ratio = rps / ref_rps if ref_rps else float("nan")
        errors = sum(x.non_2xx_3xx for x in kb_runs) + sum(not x.requests for x in kb_runs)
        socket_errors = sum(x.socket_errors for x in kb_runs)
        met: bool | None = None
        if e.min_ratio is not None and e.max_p99_ms is not None:
            met = ratio >= e.min_ratio and p99 <= e.max_p99_ms and errors == 0
        rows.append(
            {
                "endpoint": e.name,
                "label": e.label,
                "path": e.path,
                "if_none_match": e.revalidate,
                "req_per_s": round(rps, 1),
                "p50_ms": round(p50, 3),
                "p99_ms": round(p99, 3),
                "reference_req_per_s": round(ref_rps, 1),
                "reference_p99_ms": round(h.median([x.p99_ms for x in ref_runs]), 3),
                "ratio": round(ratio, 3),
                "target": e.target,
                "min_ratio": e.min_ratio,
                "max_p99_ms": e.max_p99_ms,
                "met": met,
                "non_2xx_3xx": errors,
                "socket_errors": socket_errors,
                "rounds": {
                    "therapy_kb": [x.to_json() for x in kb_runs],
                    "reference": [x.to_json() for x in ref_runs],
                },
            }
        )
    return rows


def _met(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "NO")


def table(rows: list[dict[str, Any]]) -> str:
    return h.format_table(
        ["endpoint", "req/s", "p50 ms", "p99 ms", "ratio to reference", "target", "met?"],
        [
            [
                r["label"],
                f"{r['req_per_s']:.0f}",
                f"{r['p50_ms']:.2f}",
                f"{r['p99_ms']:.2f}",
                f"{r['ratio']:.2f}",
                r["target"],
                _met(r["met"]),
            ]
            for r in rows
        ],
    )


def compare_with(rows: list[dict[str, Any]], path: Path) -> list[dict[str, Any]]:
    """This run's req/s over the SQLite run's, per endpoint (raw, and of the ratios to the
    reference, which cancels drift of the machine between the two runs)."""
    other = {r["endpoint"]: r for r in json.loads(path.read_text())["endpoints"]}
    out = []
    for r in rows:
        base = other.get(r["endpoint"])
        if base is None:
            continue
        raw = r["req_per_s"] / base["req_per_s"] if base["req_per_s"] else float("nan")
        normalised = r["ratio"] / base["ratio"] if base["ratio"] else float("nan")
        met = None if r["min_ratio"] is None else raw >= 1 - PG_WITHIN
        out.append(
            {
                "endpoint": r["endpoint"],
                "label": r["label"],
                "sqlite_req_per_s": base["req_per_s"],
                "req_per_s": r["req_per_s"],
                "ratio": round(raw, 3),
                "ratio_of_reference_ratios": round(normalised, 3),
                "sqlite_p99_ms": base["p99_ms"],
                "p99_ms": r["p99_ms"],
                "target": f">= {1 - PG_WITHIN:.2f}" if met is not None else "report only",
                "met": met,
            }
        )
    return out


def compare_table(rows: list[dict[str, Any]]) -> str:
    return h.format_table(
        [
            "endpoint",
            "SQLite req/s",
            "PG req/s",
            "PG/SQLite",
            "PG/SQLite (vs ref)",
            "SQLite p99",
            "PG p99",
            "target",
            "met?",
        ],
        [
            [
                r["label"],
                f"{r['sqlite_req_per_s']:.0f}",
                f"{r['req_per_s']:.0f}",
                f"{r['ratio']:.2f}",
                f"{r['ratio_of_reference_ratios']:.2f}",
                f"{r['sqlite_p99_ms']:.2f}",
                f"{r['p99_ms']:.2f}",
                r["target"],
                _met(r["met"]),
            ]
            for r in rows
        ],
    )


def cold_pooled(kb: h.Server) -> dict[str, float]:
    """The largest cell computed cold, as one request each (client-side time, loopback): first
    with nothing kept (the trial table read, then the analysis), then by a method not yet asked
    for (the table kept per release, the analysis run afresh: no answer is in the cache)."""
    out: dict[str, float] = {}
    for name, path in (("first_request_ms", POOLED), ("pool_only_ms", POOLED + "&method=pm")):
        started = time.perf_counter()
        status, _, _ = h.http_get(kb.base + path)
        out[name] = round((time.perf_counter() - started) * 1000, 1)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status}")
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    h.wrk_path()  # fail before building anything
    extra_env = dict(v.split("=", 1) for v in args.env)
    started = time.monotonic()
    with h.database(args.db) as db, h.Servers(db.workdir) as servers:
        seed_dir = args.seed_dir or h.REAL_SEED
        if args.scale > 1:
            from bench.synth import synthesize

            stats = synthesize(db.workdir / "seed", args.scale, seed_dir)
            h.log(f"synthetic seed: {stats.line()}")
            seed_dir = db.workdir / "seed"
        seed_seconds = h.migrate_and_seed(db, seed_dir, extra_env)

        kb = servers.start(
            "therapy-kb", "app.main:create_app", h.app_env(db.url, **extra_env), factory=True
        )
        h.wait_ready(kb, "/readyz")
        pooled_cold = cold_pooled(kb)
        h.log(f"pooled, largest cell, cold: {pooled_cold}")
        status, headers, body = h.http_get(kb.base + DETAIL)
        if status != 200 or "etag" not in headers:
            raise RuntimeError(f"GET {DETAIL}: {status}, headers {headers}")
        etag = headers["etag"]
        ref_env = h.plain_env(BENCH_REFERENCE_BYTES=str(len(body)))
        ref = servers.start("reference", "bench.reference_app:app", ref_env)
        h.wait_ready(ref, "/reference")
        _, _, ref_body = h.http_get(ref.base + REFERENCE_PATHS[args.reference])
        h.log(
            f"therapy-kb pid {kb.pid} on :{kb.port}; reference pid {ref.pid} on :{ref.port}; "
            f"bodies {len(body)} / {len(ref_body)} bytes; ETag {etag}"
        )
        check_endpoints(kb, args.endpoints, etag)
        runs = measure(args, kb, ref, etag)
        memory = {"therapy_kb": h.memory_mb(kb.pid), "reference": h.memory_mb(ref.pid)}
    rows = summarise(args.endpoints, runs)
    targeted = [r for r in rows if r["met"] is not None]
    result: dict[str, Any] = {
        "db": args.db,
        "machine": h.machine(),
        "config": {
            "duration_s": args.duration,
            "rounds": args.rounds,
            "connections": args.connections,
            "threads": args.threads,
            "warmup_s": args.warmup,
            "scale": args.scale,
            "reference": f"{args.reference} ({REFERENCE_PATHS[args.reference]})",
            "server": "uvicorn --workers 1 --loop uvloop --http httptools --no-access-log",
            "env": {"THERAPY_KB_LOG_LEVEL": "warning", **extra_env},
        },
        "seed_seconds": round(seed_seconds, 2),
        "pooled_cold_ms": pooled_cold,
        "detail_body_bytes": len(body),
        "reference_body_bytes": len(ref_body),
        "memory_mb": memory,
        "endpoints": rows,
        "all_met": all(r["met"] for r in targeted),
        "wall_seconds": round(time.monotonic() - started, 1),
    }
    if args.compare_with is not None:
        result["compare_with"] = {
            "file": str(args.compare_with),
            "endpoints": compare_with(rows, args.compare_with),
        }
        result["all_met"] = result["all_met"] and all(
            r["met"] for r in result["compare_with"]["endpoints"] if r["met"] is not None
        )
    return result


def report(result: dict[str, Any]) -> str:
    c = result["config"]
    m = result["machine"]
    lines = [
        f"therapy-kb {m['revision']} on {result['db']} (scale {c['scale']}), 1 uvicorn worker; "
        f"wrk -t{c['threads']} -c{c['connections']} -d{c['duration_s']}s, "
        f"median of {c['rounds']} round(s); "
        f"{m['nproc']} CPUs ({m['cpu']}), {m['memory_gib']} GiB",
        f"reference {c['reference']}: constant dict, {result['reference_body_bytes']} bytes "
        f"(detail {result['detail_body_bytes']} bytes): "
        + ", ".join(
            f"{r['endpoint']} {r['reference_req_per_s']:.0f}/s" for r in result["endpoints"]
        ),
        "",
        table(result["endpoints"]),
    ]
    for r in result["endpoints"]:
        stalls = [x["extra"].get("recovery_s", 0) for x in r["rounds"]["therapy_kb"]]
        if r["non_2xx_3xx"] or r["socket_errors"] or max(stalls, default=0) > 1:
            lines.append(
                f"warning: {r['label']}: {r['non_2xx_3xx']} non-2xx/3xx answers (or empty runs), "
                f"{r['socket_errors']} socket errors; /healthz answered "
                f"{max(stalls, default=0):.1f} s after the worst run"
            )
    if "compare_with" in result:
        lines += ["", f"PostgreSQL vs SQLite ({result['compare_with']['file']}):", ""]
        lines.append(compare_table(result["compare_with"]["endpoints"]))
    cold = result.get("pooled_cold_ms")
    if cold:
        lines += [
            "",
            f"pooled, largest cell ({POOLED}), computed cold: first request "
            f"{cold['first_request_ms']} ms (trial table read + analysis), a new method "
            f"{cold['pool_only_ms']} ms (analysis only)",
        ]
    lines += ["", "every target met" if result["all_met"] else "some targets NOT met"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    h.install_sigterm()
    try:
        result = run(args)
    except KeyboardInterrupt:
        h.log("interrupted; servers stopped")
        return 130
    except (RuntimeError, FileNotFoundError, ValueError) as exc:
        h.log(f"error: {exc}")
        return 1
    sys.stdout.write(report(result) + "\n")
    sys.stdout.flush()
    if args.json_out is not None:
        h.write_json(args.json_out, result)
        h.log(f"wrote {args.json_out}")
    return 1 if args.fail_on_miss and not result["all_met"] else 0


if __name__ == "__main__":
    sys.exit(main())
