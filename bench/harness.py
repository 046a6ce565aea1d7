"""What ``bench.run`` and ``bench.scale`` share: a seeded database, servers as subprocesses,
``wrk`` runs and their parsing, memory readings from ``/proc``.

Every server is started in its own session (process group) and killed with it, on a normal
end, on an error and on Ctrl-C (``Servers`` is a context manager; SIGTERM is turned into
KeyboardInterrupt by ``install_sigterm``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REAL_SEED = ROOT / "seed"


def log(message: str) -> None:
    sys.stderr.write(f"[bench] {message}\n")
    sys.stderr.flush()


def install_sigterm() -> None:
    """Make SIGTERM (and SIGINT, even where a shell started us with it ignored) unwind like
    Ctrl-C, so the ``finally`` blocks kill the servers."""

    def handler(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the database -----------------------------------------------------------------------------


@dataclass
class Database:
    kind: str  # "sqlite" or "postgres"
    url: str
    workdir: Path
    cluster: Any = None  # tests.pgcluster.Cluster for postgres

    def close(self) -> None:
        if self.cluster is not None:
            from tests import pgcluster

            pgcluster.destroy_cluster(self.cluster)
            self.cluster = None


@contextmanager
def database(kind: str, keep: bool = False) -> Iterator[Database]:
    """An empty database of ``kind``: a SQLite file in a temp dir, or a throwaway cluster."""
    workdir = Path(tempfile.mkdtemp(prefix="therapy-kb-bench-"))
    db: Database | None = None
    try:
        if kind == "sqlite":
            db = Database(kind, f"sqlite:///{workdir / 'kb.sqlite3'}", workdir)
        elif kind == "postgres":
            from tests import pgcluster

            log("starting a throwaway PostgreSQL cluster (tests/pgcluster.py)")
            cluster = pgcluster.start_cluster()
            db = Database(kind, cluster.url, workdir, cluster)
        else:
            raise ValueError(f"unknown database kind {kind!r}")
        yield db
    finally:
        if db is not None:
            db.close()
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def plain_env(**extra: str) -> dict[str, str]:
    """Our environment without therapy-kb's settings, with the project on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("THERAPY_KB_")}
    env.pop("DATABASE_URL", None)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def create_postgres_database(server_url: str, name: str) -> str:
    """Create database ``name`` on the server of ``server_url``; return its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def app_env(db_url: str, **extra: str) -> dict[str, str]:
    """The environment of a therapy-kb process: ours, with the database URL and quiet logs."""
    # One JSON log line per request is a real cost; the reference app logs nothing either.
    return plain_env(THERAPY_KB_DATABASE_URL=db_url, THERAPY_KB_LOG_LEVEL="warning", **extra)


def cli(args: Sequence[str], env: dict[str, str], timeout: float = 3600) -> tuple[float, str]:
    """Run ``python -m app.cli ARGS``; return (seconds, stdout). Raises on failure."""
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(
            f"therapy-kb {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
        )
    return elapsed, proc.stdout


def migrate_and_seed(
    db: Database, seed_dir: Path, env_extra: dict[str, str] | None = None
) -> float:
    """``therapy-kb migrate`` then ``therapy-kb seed --dir``; returns the seed's wall time."""
    env = app_env(db.url, **(env_extra or {}))
    cli(["migrate"], env)
    seconds, out = cli(["seed", "--dir", str(seed_dir)], env)
    first = out.splitlines()[0] if out else ""
    log(f"seeded {seed_dir} in {seconds:.1f} s: {first}")
    return seconds


# --- servers ----------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


class Servers:
    """Starts uvicorn servers as subprocesses; kills every one of them on exit."""

    def __init__(self, logdir: Path) -> None:
        self.logdir = logdir
        self.started: list[Server] = []

    def __enter__(self) -> Servers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def start(self, name: str, target: str, env: dict[str, str], factory: bool = False) -> Server:
        port = free_port()
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            target,
            *(["--factory"] if factory else []),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        log_path = self.logdir / f"{name}.log"
        with log_path.open("wb") as handle:
            proc = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killed as one
            )
        server = Server(name, port, proc, log_path)
        self.started.append(server)
        return server

    def stop(self, server: Server) -> None:
        if server.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(server.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    server.proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if server in self.started:
            self.started.remove(server)

    def stop_all(self) -> None:
        for server in list(self.started):
            self.stop(server)


def http_get(
    url: str, headers: dict[str, str] | None = None, timeout: float = 10
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def wait_ready(server: Server, path: str, timeout: float = 60) -> None:
    """Poll ``path`` until it answers 200; fail early if the process died."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(
                f"{server.name} exited ({server.proc.returncode}):\n{server.log_tail()}"
            )
        try:
            status, _, _ = http_get(server.base + path, timeout=2)
            if status == 200:
                return
            last = f"status {status}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.1)
    raise RuntimeError(
        f"{server.name} not ready on {path} after {timeout} s ({last}):\n{server.log_tail()}"
    )


def recovery_seconds(server: Server, path: str = "/healthz", timeout: float = 120) -> float:
    """Seconds until ``path`` answers again after a load: ~0 for a healthy server; long when
    the load left it stalled (e.g. every worker thread waiting for a database connection)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if not server.alive():
            raise RuntimeError(f"{server.name} exited:\n{server.log_tail()}")
        try:
            status, _, _ = http_get(server.base + path, timeout=2)
            if status == 200:
                return round(time.monotonic() - started, 2)
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not answer {path} for {timeout} s after a load")


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).is_file():
        raise FileNotFoundError("py-spy is not installed: pip install py-spy")
    return found


def start_profiler(
    pid: int, seconds: int, outdir: Path, name: str
) -> list[subprocess.Popen[bytes]]:
    """py-spy record of ``pid`` for ``seconds``, as speedscope JSON and as folded stacks."""
    outdir.mkdir(parents=True, exist_ok=True)
    spies = []
    for fmt, suffix in (("speedscope", "speedscope.json"), ("raw", "folded")):
        cmd = [py_spy(), "record", "-p", str(pid), "-d", str(seconds), "-r", "200"]
        cmd += ["--nonblocking", "--gil", "-f", fmt, "-o", str(outdir / f"{name}.{suffix}")]
        spies.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    time.sleep(0.3)  # let py-spy attach before the load starts
    return spies


# --- memory -----------------------------------------------------------------------------------


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak) of a process, in MB (MiB), from /proc/<pid>/status."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024  # kB → MiB
    return {"rss_mb": round(out.get("VmRSS", 0.0), 1), "peak_mb": round(out.get("VmHWM", 0.0), 1)}


# --- wrk --------------------------------------------------------------------------------------


@dataclass
class WrkResult:
    requests_per_sec: float
    p50_ms: float
    p99_ms: float
    requests: int = 0
    non_2xx_3xx: int = 0
    socket_errors: int = 0
    extra: dict[str, float] = field(default_factory=dict)  # other percentiles, in ms

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_PCT_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)%\s+(\d+(?:\.\d+)?)(us|ms|s|m|h)\s*$")


def to_ms(value: str, unit: str) -> float:
    return float(value) * UNITS_MS[unit]


def parse_wrk(output: str) -> WrkResult:
    """Parse ``wrk --latency`` output: Requests/sec and the 50%/99% latency lines (→ ms)."""
    rps_match = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    if rps_match is None:
        raise ValueError(f"no 'Requests/sec' in wrk output:\n{output}")
    percentiles: dict[str, float] = {}
    in_distribution = False
    for line in output.splitlines():
        if "Latency Distribution" in line:
            in_distribution = True
            continue
        if in_distribution:
            m = _PCT_RE.match(line)
            if m is None:
                if percentiles:
                    break
                continue
            percentiles[m.group(1)] = to_ms(m.group(2), m.group(3))
    if "50" not in percentiles or "99" not in percentiles:
        raise ValueError(f"no 50%/99% latency lines (was --latency given?):\n{output}")
    total = re.search(r"^\s*(\d+) requests in", output, re.M)
    non_ok = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sock = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests_per_sec=float(rps_match.group(1)),
        p50_ms=percentiles["50"],
        p99_ms=percentiles["99"],
        requests=int(total.group(1)) if total else 0,
        non_2xx_3xx=int(non_ok.group(1)) if non_ok else 0,
        socket_errors=sum(int(g) for g in sock.groups()) if sock else 0,
        extra={k: v for k, v in percentiles.items() if k not in ("50", "99")},
    )


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise FileNotFoundError(
            "wrk is not installed; `make bench` installs it (apt-get install -y wrk)"
        )
    return found


def run_wrk(
    url: str,
    duration: int,
    connections: int,
    threads: int,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
) -> WrkResult:
    """One wrk run; with ``script``, a Lua file that picks each request's path."""
    cmd = [
        wrk_path(),
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{duration}s",
        "--timeout",
        "10s",
        "--latency",
    ]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    if script is not None:
        cmd += ["-s", str(script)]
    cmd.append(url)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr}\n{proc.stdout}")
    return parse_wrk(proc.stdout)


WRK_RANDOM_PATHS = """-- Written by bench: each request asks for one of these paths, at random.
local paths = {
%s
}
local n = #paths
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
function init(args)
  math.randomseed(12345 + 7919 * id)
end
function request()
  return wrk.format("GET", paths[math.random(n)])
end
"""


def write_path_script(path: Path, paths: Sequence[str]) -> Path:
    """A wrk Lua script that requests ``paths`` in random order (seeded per thread)."""
    if not paths or any(not p.isascii() or '"' in p or "\\" in p for p in paths):
        raise ValueError("paths must be a non-empty list of plain ASCII URL paths")
    lines = ",\n".join(f'  "{p}"' for p in paths)
    path.write_text(WRK_RANDOM_PATHS % lines)
    return path


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def machine() -> dict[str, Any]:
    """nproc, CPU model and memory, for the record."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "revision": revision(),
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_gib": mem_gib,
        "python": sys.version.split()[0],
    }


def revision() -> str:
    """The commit measured, with "+dirty" when app/, seed/ or migrations/ have local changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "app", "seed", "migrations"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return (commit or "unknown") + ("+dirty" if dirty else "")


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table, columns padded for the terminal."""
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    return "\n".join(out)
