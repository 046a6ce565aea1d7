"""Throughput through nginx with its cache warm, against one app node alone (``make bench-proxy``).

    python -m bench.proxy [--duration S] [--rounds N] [--connections C] [--threads T]
                          [--warmup S] [--only detail,list,condition,304] [--nginx-workers N]
                          [--seed-dir DIR] [--json-out FILE]

1. Builds the topology of docs/deployment.md on loopback (``tests/topology.py``): a PostgreSQL
   primary loaded with ``seed/``, a streaming replica, two read-only app nodes (``therapy-kb
   serve``, one uvicorn worker each) reading it, nginx in front with
   ``deploy/nginx/therapy-kb.conf.template``.
2. Warms both caches: the node's in-memory answers (by asking it) and nginx's (asking until it
   says ``X-Cache-Status: HIT``).
3. For each round and endpoint runs ``wrk --latency`` against one node directly and against
   nginx, back to back, the order flipping every round; meanwhile it reads the processor time
   (user + system, from ``/proc``) that nginx's workers, each node and wrk spent.
4. Prints the medians: req/s, p50, p99, the ratio proxy / node, and the processor time per
   request of each process, which says where the time goes. ``--json-out`` writes the same.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import harness as h

PATHS = {
    "detail": "/v1/modalities/ipt",
    "list": "/v1/modalities?limit=50",
    "condition": "/v1/conditions/major-depression",
    "304": "/v1/modalities/ipt",
}
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Target:
    name: str
    base: str
    pids: dict[str, list[int]]  # what to read processor time from, by role


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.proxy", description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=int, default=10, help="Seconds per wrk run (10).")
    p.add_argument("--rounds", type=int, default=3, help="Rounds; the median is reported (3).")
    p.add_argument("--connections", type=int, default=50, help="wrk -c (50).")
    p.add_argument("--threads", type=int, default=2, help="wrk -t (2).")
    p.add_argument("--warmup", type=int, default=2, help="Seconds of wrk per target first (2).")
    p.add_argument("--only", default="", help=f"Endpoints, of: {','.join(PATHS)} (all).")
    p.add_argument(
        "--nginx-workers", default="1", help="nginx worker_processes: a number or auto (1)."
    )
    p.add_argument("--seed-dir", type=Path, default=h.REAL_SEED, help="Seed to load (./seed).")
    p.add_argument("--json-out", type=Path, default=None, help="Write the results as JSON here.")
    args = p.parse_args(argv)
    args.endpoints = [n.strip() for n in args.only.split(",") if n.strip()] or list(PATHS)
    unknown = [n for n in args.endpoints if n not in PATHS]
    if unknown:
        p.error(f"--only: unknown endpoint(s) {', '.join(unknown)}; known: {', '.join(PATHS)}")
    if min(args.duration, args.rounds, args.connections, args.threads) < 1 or args.warmup < 0:
        p.error("--duration, --rounds, --connections and --threads must be positive")
    return args


def cpu_seconds(pid: int) -> float:
    """User + system time of a process so far, from /proc/<pid>/stat (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def wrk_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk is a child we waited for
    return usage.ru_utime + usage.ru_stime


def etag_of(url: str) -> str:
    response = httpx.get(url, timeout=60)
    response.raise_for_status()
    return response.headers["etag"]


def warm(target: Target, path: str, headers: dict[str, str]) -> None:
    """Ask until the answer comes from the cache in front of the routes (nginx's, or the
    node's memory, which the second request finds)."""
    with httpx.Client(timeout=60) as client:
        for _ in range(1000):
            response = client.get(target.base + path, headers=headers)
            if response.status_code not in (200, 304):
                raise RuntimeError(f"{target.name} {path}: {response.status_code}")
            if target.name == "node" or response.headers.get("x-cache-status") == "HIT":
                return
        raise RuntimeError(f"nginx never kept {path}")


def run_one(
    args: argparse.Namespace, target: Target, path: str, headers: dict[str, str]
) -> dict[str, Any]:
    before = {role: sum(cpu_seconds(p) for p in pids) for role, pids in target.pids.items()}
    wrk_before = wrk_cpu()
    result = h.run_wrk(
        target.base + path,
        args.duration,
        args.connections,
        args.threads,
        headers=headers or None,
    )
    spent = {
        role: sum(cpu_seconds(p) for p in pids) - before[role] for role, pids in target.pids.items()
    }
    spent["wrk"] = wrk_cpu() - wrk_before
    requests = max(result.requests, 1)
    return {
        **result.to_json(),
        "cpu_us_per_request": {role: round(s / requests * 1e6, 1) for role, s in spent.items()},
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    h.install_sigterm()
    from tests.topology import Topology

    h.log(f"building the topology (primary, replica, 2 nodes, nginx) with {args.seed_dir}")
    topology = Topology(
        args.seed_dir,
        nodes=2,
        node_env={"THERAPY_KB_LOG_LEVEL": "warning"},
        nginx_workers=args.nginx_workers,
    )
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    with topology:
        node = topology.app_nodes[0]
        assert node.proc is not None
        assert topology.nginx.proc is not None
        nginx_workers = children(topology.nginx.proc.pid)
        targets = {
            "node": Target("node", node.base, {"node": [node.proc.pid]}),
            "proxy": Target(
                "proxy",
                topology.nginx.base,
                {
                    "nginx": nginx_workers,
                    **{n.name: [n.proc.pid] for n in topology.app_nodes if n.proc is not None},
                },
            ),
        }
        for name in args.endpoints:
            path = PATHS[name]
            results[name] = {"node": [], "proxy": []}
            headers = {
                t: {"If-None-Match": etag_of(target.base + path)} if name == "304" else {}
                for t, target in targets.items()
            }
            for t, target in targets.items():
                warm(target, path, headers[t])
                if args.warmup:
                    h.run_wrk(
                        target.base + path,
                        args.warmup,
                        args.connections,
                        args.threads,
                        headers=headers[t] or None,
                    )
            for r in range(args.rounds):
                order = ["node", "proxy"] if r % 2 == 0 else ["proxy", "node"]
                for t in order:
                    results[name][t].append(run_one(args, targets[t], path, headers[t]))
                node_run, proxy_run = results[name]["node"][-1], results[name]["proxy"][-1]
                h.log(
                    f"round {r + 1}/{args.rounds} {name:<9} node "
                    f"{node_run['requests_per_sec']:8.0f}/s | proxy "
                    f"{proxy_run['requests_per_sec']:8.0f}/s"
                )
            # Every proxied request of the runs was a hit: the nodes were never asked.
            check = httpx.get(topology.nginx.base + path, headers=headers["proxy"], timeout=60)
            if check.headers.get("x-cache-status") != "HIT":
                h.log(f"warning: {path} was not a cache hit at the end")

    rows = summarise(results)
    sys.stdout.write(table(rows) + "\n")
    sys.stdout.flush()
    if args.json_out is not None:
        h.write_json(
            args.json_out,
            {
                "machine": h.machine(),
                "load_average": os.getloadavg(),
                "settings": {k: str(v) for k, v in vars(args).items()},
                "endpoints": rows,
            },
        )
        h.log(f"wrote {args.json_out}")
    return 0


def summarise(results: dict[str, dict[str, list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    rows = []
    for name, runs in results.items():
        row: dict[str, Any] = {"endpoint": name, "path": PATHS[name]}
        for t in ("node", "proxy"):
            row[t] = {
                "req_per_s": round(h.median([x["requests_per_sec"] for x in runs[t]]), 1),
                "p50_ms": round(h.median([x["p50_ms"] for x in runs[t]]), 3),
                "p99_ms": round(h.median([x["p99_ms"] for x in runs[t]]), 3),
                "non_2xx_3xx": sum(x["non_2xx_3xx"] for x in runs[t]),
                "cpu_us_per_request": {
                    role: round(h.median([x["cpu_us_per_request"][role] for x in runs[t]]), 1)
                    for role in runs[t][0]["cpu_us_per_request"]
                },
                "rounds": runs[t],
            }
        row["ratio"] = round(row["proxy"]["req_per_s"] / row["node"]["req_per_s"], 3)
        rows.append(row)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    def cpu(costs: dict[str, float]) -> str:
        return ", ".join(f"{role} {us:.0f}" for role, us in costs.items())

    return h.format_table(
        [
            "endpoint",
            "node req/s",
            "node p99 ms",
            "proxy req/s",
            "proxy p99 ms",
            "proxy / node",
            "CPU µs/request, node alone",
            "CPU µs/request, through the proxy",
        ],
        [
            [
                r["endpoint"],
                f"{r['node']['req_per_s']:.0f}",
                f"{r['node']['p99_ms']:.2f}",
                f"{r['proxy']['req_per_s']:.0f}",
                f"{r['proxy']['p99_ms']:.2f}",
                f"{r['ratio']:.2f}",
                cpu(r["node"]["cpu_us_per_request"]),
                cpu(r["proxy"]["cpu_us_per_request"]),
            ]
            for r in rows
        ],
    )


if __name__ == "__main__":
    sys.exit(main())
