"""The scale benchmark: load time, memory and latency as the knowledge base grows.

    python -m bench.scale [--scales 10,100,1000] [--db sqlite|postgres] [--duration S]
                          [--connections C] [--threads T] [--json-out FILE]

For each N: writes a synthetic seed N times the real one (``bench/synth.py``) into a temp dir,
times ``therapy-kb check`` (read + validate only) and ``therapy-kb seed`` (the whole load, the
figure the target is about) into a fresh database, starts therapy-kb (1 uvicorn worker, as in
``bench.run``), and records:

- memory of the server process (``/proc/<pid>/status``): VmRSS when idle, after a warm-up and
  after the measured load, and VmHWM (the peak);
- the first (cold) request of each endpoint, and a 404 for an unknown slug;
- with wrk (short runs): p50/p99 of modality list (limit 50), detail, compare of 3 and search,
  twice: **hot**, one URL again and again as ``bench.run`` does (served from the response cache
  after the first request), and **spread**, each request a random URL out of many (every
  modality's detail, every page of the list, compares and searches across all copies), which
  with few URLs ends up cached and with many keeps missing the cache;
- the same spread on a second server with no response cache and no preloaded records
  (**cold**, report only), so every request runs its route and queries: the cost of a miss.

Targets at N = 1000: seed load <= 120 s on SQLite, list and detail p99 <= 25 ms,
search p99 <= 100 ms, RSS <= 500 MB (judged on the peak, VmHWM).
"""

from __future__ import annotations

import argparse
import itertools
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from bench import harness as h
from bench.synth import synthesize

HOT = {
    "list": "/v1/modalities?limit=50",
    "detail": "/v1/modalities/ipt",
    "compare": "/v1/compare?modalities=ipt,cbt,dbt",
    "search": "/v1/search?q=depression",
}
P99_TARGET_MS = {"list": 25.0, "detail": 25.0, "compare": None, "search": 100.0}
LOAD_TARGET_S = 120.0  # on SQLite
RSS_TARGET_MB = 500.0
TARGET_SCALE = 1000
MAX_PATHS = 20_000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n")[0])
    p.add_argument("--scales", default="10,100,1000", help="Comma-separated N (10,100,1000).")
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--duration", type=int, default=5, help="Seconds per wrk run (5).")
    p.add_argument("--warmup", type=int, default=2, help="Seconds of wrk per endpoint first (2).")
    p.add_argument("--connections", type=int, default=50, help="wrk -c (50).")
    p.add_argument("--threads", type=int, default=2, help="wrk -t (2).")
    p.add_argument(
        "--seed-timeout", type=float, default=3600, help="Give up on a seed load after S s."
    )
    p.add_argument("--json-out", type=Path, default=None, help="Write the results as JSON here.")
    p.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="Extra environment for therapy-kb (repeatable).",
    )
    args = p.parse_args(argv)
    try:
        args.scale_list = [int(x) for x in args.scales.split(",") if x.strip()]
    except ValueError:
        p.error("--scales wants comma-separated integers, e.g. 10,100,1000")
    if not args.scale_list or min(args.scale_list) < 1:
        p.error("--scales wants positive integers")
    return args


# --- the URLs of a synthetic seed ------------------------------------------------------------


def _suffix(i: int) -> str:
    return "" if i == 0 else f"-s{i:04d}"


def _sample(paths: list[str], limit: int = MAX_PATHS) -> list[str]:
    """At most ``limit`` paths, evenly spread over the list (deterministic)."""
    if len(paths) <= limit:
        return paths
    step = len(paths) / limit
    return [paths[int(k * step)] for k in range(limit)]


def spread_paths(seed_dir: Path, scale: int) -> dict[str, list[str]]:
    slugs = sorted(p.stem for p in (seed_dir / "modalities").glob("*.yaml"))
    base = sorted(s for s in slugs if not re.search(r"-s\d{4}$", s))
    triples = list(itertools.combinations(base, 3))
    # Search words: from the names of the real modalities and conditions.
    words: set[str] = set()
    conditions = yaml.safe_load((h.REAL_SEED / "conditions.yaml").read_text())["conditions"]
    names = [c["name"] for c in conditions]
    for path in sorted((h.REAL_SEED / "modalities").glob("*.yaml")):
        names.append(yaml.safe_load(path.read_text())["name"])
    for name in names:
        words.update(w for w in re.findall(r"[a-z]+", name.lower()) if len(w) >= 5)
    vocab = sorted(words)
    search = [f"/v1/search?q={w}" for w in vocab]
    search += [f"/v1/search?q={w}&offset=20" for w in vocab]
    search += [
        f"/v1/search?q={w}+s{i:04d}" for i in range(1, scale) for w in vocab[i % len(vocab) :][:3]
    ]
    return {
        "list": _sample([f"/v1/modalities?limit=50&offset={o}" for o in range(0, len(slugs), 50)]),
        "detail": _sample([f"/v1/modalities/{s}" for s in slugs]),
        "compare": _sample(
            [
                "/v1/compare?modalities=" + ",".join(s + _suffix(i) for s in t)
                for i in range(scale)
                for t in triples
            ]
        ),
        "search": _sample(search),
    }


# --- one scale ---------------------------------------------------------------------------------


def timed_get(url: str) -> tuple[int, float]:
    started = time.perf_counter()
    status, _, _ = h.http_get(url, timeout=60)
    return status, (time.perf_counter() - started) * 1000


def measure_scale(
    args: argparse.Namespace, n: int, workdir: Path, db_url: str, extra_env: dict[str, str]
) -> dict[str, Any]:
    seed_dir = workdir / f"seed-{n}"
    started = time.perf_counter()
    stats = synthesize(seed_dir, n)
    h.log(f"N={n}: synthesised in {time.perf_counter() - started:.1f} s: {stats.line()}")
    env = h.app_env(db_url, **extra_env)
    check_s, _ = h.cli(["check", "--dir", str(seed_dir)], env, timeout=args.seed_timeout)
    h.cli(["migrate"], env)
    seed_s, out = h.cli(["seed", "--dir", str(seed_dir)], env, timeout=args.seed_timeout)
    h.log(f"N={n}: check {check_s:.1f} s, seed {seed_s:.1f} s: {out.splitlines()[0]}")
    paths = spread_paths(seed_dir, n)

    result: dict[str, Any] = {
        "scale": n,
        "data": {
            "modalities": stats.modalities,
            "conditions": stats.conditions,
            "citations": stats.citations,
            "claims": stats.claims,
            "claim_citations": stats.citation_links,
            "yaml_mb": round(stats.bytes / 1e6, 1),
        },
        "check_s": round(check_s, 2),
        "seed_s": round(seed_s, 2),
    }
    wrk_args = {"connections": args.connections, "threads": args.threads}
    with h.Servers(workdir) as servers:
        kb = servers.start(f"therapy-kb-{n}", "app.main:create_app", env, factory=True)
        started = time.perf_counter()
        h.wait_ready(kb, "/readyz", timeout=300)
        result["ready_s"] = round(time.perf_counter() - started, 2)
        memory = {"idle": h.memory_mb(kb.pid)}
        cold = {}
        for name, path in HOT.items():
            status, ms = timed_get(kb.base + path)
            if status != 200:
                raise RuntimeError(f"GET {path}: {status}")
            cold[name] = round(ms, 2)
        statuses = []
        for plist in paths.values():  # every spread path must exist: sample a few
            for path in plist[:: max(1, len(plist) // 5)][:5]:
                status, _ = timed_get(kb.base + path)
                statuses.append((status, path))
        bad = [(s, p) for s, p in statuses if s != 200]
        if bad:
            raise RuntimeError(f"spread paths that do not answer 200: {bad}")
        not_found = [timed_get(kb.base + f"/v1/modalities/no-such-modality-{k}") for k in range(3)]
        cold["404"] = round(h.median([ms for _, ms in not_found]), 2)
        result["first_request_ms"] = cold

        scripts = {
            name: h.write_path_script(workdir / f"paths-{n}-{name}.lua", plist)
            for name, plist in paths.items()
        }
        if args.warmup:
            for name, path in HOT.items():
                h.run_wrk(kb.base + path, args.warmup, **wrk_args)
                h.run_wrk(kb.base + "/", args.warmup, script=scripts[name], **wrk_args)
                settle(kb)
        memory["warm"] = h.memory_mb(kb.pid)
        latency: dict[str, Any] = {}
        for name, path in HOT.items():
            hot = h.run_wrk(kb.base + path, args.duration, **wrk_args)
            hot_recovery, hot_drain = settle(kb)
            spread = h.run_wrk(kb.base + "/", args.duration, script=scripts[name], **wrk_args)
            spread_recovery, spread_drain = settle(kb)
            latency[name] = {
                "hot": {**hot.to_json(), "recovery_s": hot_recovery, "drain_s": hot_drain},
                "spread": {
                    **spread.to_json(),
                    "recovery_s": spread_recovery,
                    "drain_s": spread_drain,
                },
                "spread_urls": len(paths[name]),
                "max_p99_ms": P99_TARGET_MS[name],
            }
            h.log(
                f"N={n} {name:<8} hot {hot.requests_per_sec:7.0f}/s p50 {hot.p50_ms:6.2f} p99 "
                f"{hot.p99_ms:6.2f} ms | spread {spread.requests_per_sec:7.0f}/s p50 "
                f"{spread.p50_ms:6.2f} p99 {spread.p99_ms:6.2f} ms; /healthz answered "
                f"{hot_recovery:.1f} s / {spread_recovery:.1f} s after"
            )
            if not kb.alive():
                raise RuntimeError(f"therapy-kb died:\n{kb.log_tail()}")
        memory["after_load"] = h.memory_mb(kb.pid)
        result["memory_mb"] = memory
        result["latency"] = latency
        servers.stop(kb)
        # Cold: the same spread with nothing in memory (no response cache, no preloaded
        # records), so every request runs its route and queries: what a miss costs at this N.
        cold_env = {
            **env,
            "THERAPY_KB_RESPONSE_CACHE_ENTRIES": "0",
            "THERAPY_KB_PRELOAD_MB": "0",
        }
        cold_kb = servers.start(f"therapy-kb-{n}-cold", "app.main:create_app", cold_env, True)
        h.wait_ready(cold_kb, "/readyz", timeout=300)
        for name in HOT:
            run = h.run_wrk(cold_kb.base + "/", args.duration, script=scripts[name], **wrk_args)
            recovery, drain = settle(cold_kb)
            latency[name]["cold"] = {**run.to_json(), "recovery_s": recovery, "drain_s": drain}
            h.log(
                f"N={n} {name:<8} cold {run.requests_per_sec:7.0f}/s p50 {run.p50_ms:6.2f} "
                f"p99 {run.p99_ms:6.2f} ms"
            )
    return result


def settle(kb: h.Server) -> tuple[float, float]:
    """After a run: seconds until ``/healthz`` answers (a stall shows here), then until
    ``/readyz`` does. ``/readyz`` queues for the database behind whatever the run left in
    flight, so the next run starts on an idle server instead of measuring this one's backlog."""
    return h.recovery_seconds(kb), h.recovery_seconds(kb, "/readyz")


def judge(result: dict[str, Any], db: str) -> None:
    """Fill in met? per target; the targets are set for N = 1000 (shown for every N)."""
    met: dict[str, bool | None] = {}
    met["load"] = result["seed_s"] <= LOAD_TARGET_S if db == "sqlite" else None
    met["rss"] = result["memory_mb"]["after_load"]["peak_mb"] <= RSS_TARGET_MB
    for name, lat in result["latency"].items():
        limit = lat["max_p99_ms"]
        for mode in ("hot", "spread"):
            r = lat[mode]
            answered = r["requests"] > 0 and r["non_2xx_3xx"] == 0
            ok = None if limit is None else (answered and r["p99_ms"] <= limit)
            met[f"{name}_{mode}"] = ok
    result["met"] = met


def _yn(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "NO")


def tables(results: list[dict[str, Any]], db: str) -> str:
    load_rows = []
    for r in results:
        mem = r["memory_mb"]
        load_rows.append(
            [
                str(r["scale"]),
                str(r["data"]["modalities"]),
                str(r["data"]["claims"]),
                str(r["data"]["citations"]),
                f"{r['data']['yaml_mb']:.1f}",
                f"{r['check_s']:.1f}",
                f"{r['seed_s']:.1f}" + ("" if db == "sqlite" else ""),
                f"{mem['idle']['rss_mb']:.0f}",
                f"{mem['warm']['rss_mb']:.0f}",
                f"{mem['after_load']['rss_mb']:.0f}",
                f"{mem['after_load']['peak_mb']:.0f}",
                f"{r['first_request_ms']['404']:.1f}",
                _yn(r["met"]["load"]),
                _yn(r["met"]["rss"]),
            ]
        )
    lat_rows = []
    for r in results:
        for name, lat in r["latency"].items():
            hot, spread = lat["hot"], lat["spread"]
            limit = lat["max_p99_ms"]
            ok = [r["met"][f"{name}_hot"], r["met"][f"{name}_spread"]]
            lat_rows.append(
                [
                    str(r["scale"]),
                    name,
                    f"{r['first_request_ms'][name]:.1f}",
                    f"{hot['requests_per_sec']:.0f}",
                    f"{hot['p50_ms']:.2f}",
                    f"{hot['p99_ms']:.2f}",
                    f"{spread['requests_per_sec']:.0f}",
                    f"{spread['p50_ms']:.2f}",
                    f"{spread['p99_ms']:.2f}",
                    str(lat["spread_urls"]),
                    "report only" if limit is None else f"p99 <= {limit:g} ms",
                    "-" if limit is None else f"{_yn(ok[0])} / {_yn(ok[1])}",
                ]
            )
    cold_rows = [
        [
            str(r["scale"]),
            name,
            f"{lat['cold']['requests_per_sec']:.0f}",
            f"{lat['cold']['p50_ms']:.2f}",
            f"{lat['cold']['p99_ms']:.2f}",
            str(lat["spread_urls"]),
        ]
        for r in results
        for name, lat in r["latency"].items()
        if "cold" in lat
    ]
    notes = [
        f"note: N={r['scale']} {name} {mode}: {lat[mode]['requests']} answers"
        f" ({lat[mode]['non_2xx_3xx']} non-2xx/3xx, {lat[mode]['socket_errors']} socket errors);"
        f" /healthz answered {lat[mode]['recovery_s']:.1f} s after the run"
        for r in results
        for name, lat in r["latency"].items()
        for mode in ("hot", "spread", "cold")
        if mode in lat
        and (
            lat[mode]["recovery_s"] > 1
            or lat[mode]["requests"] == 0
            or lat[mode]["non_2xx_3xx"]
            or lat[mode]["socket_errors"]
        )
    ]
    return "\n".join(
        [
            f"Load and memory ({db}; seed = `therapy-kb seed` wall time, load target <= "
            f"{LOAD_TARGET_S:g} s on SQLite; memory of the server process in MiB, target peak "
            f"<= {RSS_TARGET_MB:g}):",
            "",
            h.format_table(
                [
                    "N",
                    "modalities",
                    "claims",
                    "citations",
                    "YAML MB",
                    "check s",
                    "seed s",
                    "RSS idle",
                    "RSS warm",
                    "RSS after load",
                    "peak (HWM)",
                    "404 ms",
                    "load met?",
                    "RSS met?",
                ],
                load_rows,
            ),
            "",
            "Latency (wrk; hot = one URL, cached after the first request; spread = random URLs "
            "out of many; first = the first, uncached request, ms):",
            "",
            h.format_table(
                [
                    "N",
                    "endpoint",
                    "first ms",
                    "hot req/s",
                    "hot p50",
                    "hot p99",
                    "spread req/s",
                    "spread p50",
                    "spread p99",
                    "spread URLs",
                    "target",
                    "met? (hot / spread)",
                ],
                lat_rows,
            ),
            "",
            "Cold (report only): the spread again on a server with no response cache and no "
            "preloaded records, so every request runs its queries:",
            "",
            h.format_table(
                ["N", "endpoint", "cold req/s", "cold p50", "cold p99", "URLs"], cold_rows
            ),
            *notes,
        ]
    )


def run(args: argparse.Namespace, results: list[dict[str, Any]]) -> dict[str, Any]:
    """Measure every N, appending to ``results`` as each finishes (kept on an error)."""
    h.wrk_path()
    extra_env = dict(v.split("=", 1) for v in args.env)
    with h.database(args.db) as db:
        for n in args.scale_list:
            if db.kind == "sqlite":
                url = f"sqlite:///{db.workdir / f'kb-{n}.sqlite3'}"
            else:
                url = h.create_postgres_database(db.url, f"bench_n{n}")
            result = measure_scale(args, n, db.workdir, url, extra_env)
            judge(result, args.db)
            results.append(result)
            if args.json_out is not None:
                h.write_json(args.json_out, _document(args, results))
            # The seed directory of this N is no longer needed.
            shutil.rmtree(db.workdir / f"seed-{n}", ignore_errors=True)
    return _document(args, results)


def _document(args: argparse.Namespace, results: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "db": args.db,
        "machine": h.machine(),
        "config": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "connections": args.connections,
            "threads": args.threads,
            "env": {"THERAPY_KB_LOG_LEVEL": "warning", **dict(v.split("=", 1) for v in args.env)},
        },
        "results": results,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    h.install_sigterm()
    results: list[dict[str, Any]] = []
    status = 0
    try:
        run(args, results)
    except KeyboardInterrupt:
        h.log("interrupted; servers stopped")
        status = 130
    except (RuntimeError, FileNotFoundError, ValueError, subprocess.TimeoutExpired) as exc:
        h.log(f"error: {exc}")
        status = 1
    if results:
        if status:
            h.log(f"partial results: {len(results)} of {len(args.scale_list)} scales")
        sys.stdout.write(tables(results, args.db) + "\n")
        sys.stdout.flush()
    if status:
        return status
    if args.json_out is not None:
        h.log(f"wrote {args.json_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
