"""The scaled-out topology of docs/deployment.md on this machine's loopback, from Debian's
packages: a PostgreSQL primary, a streaming replica made by ``pg_basebackup``, app nodes
(``therapy-kb serve``, read-only, reading the replica) and nginx in front with the
repository's own configuration (``deploy/nginx/therapy-kb.conf.template``).

Everything lives in one temporary directory and listens on free ports of 127.0.0.1; nginx
connects to the nodes from 127.0.0.2, the one address the nodes trust for ``X-Forwarded-*``,
so a client on 127.0.0.1 talking to a node directly is not believed. ``Topology`` is a context
manager: whatever it started is stopped, and the directory removed, however the block ends.
PostgreSQL runs as the ``postgres`` user when we are root (``initdb`` refuses root), as in
``tests/pgcluster.py``. ``tests/test_topology.py`` and ``bench/proxy.py`` use it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from types import TracebackType

import httpx

from tests.helpers import wait_until
from tests.pgcluster import find_bindir, free_port

ROOT = Path(__file__).resolve().parent.parent
NGINX_TEMPLATE = ROOT / "deploy" / "nginx" / "therapy-kb.conf.template"
# The address nginx connects to the nodes from, and the only one they trust as a proxy.
PROXY_ADDRESS = "127.0.0.2"


def find_nginx() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


def _log_tail(log: Path) -> Callable[[], str]:
    return lambda: log.read_text(errors="replace")[-3000:] if log.exists() else ""


@dataclass
class Postgres:
    """One PostgreSQL server of the topology (the primary or a replica)."""

    name: str
    bindir: Path
    datadir: Path
    port: int
    run_as: str | None
    options: str

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def log(self) -> Path:
        return self.datadir.parent / f"{self.name}.log"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.run_as:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}")
        return done

    def start(self) -> None:
        # -l: the server's output to a file, so that pg_ctl's own pipes reach end-of-file.
        self.run(
            "pg_ctl", "-D", str(self.datadir), "-l", str(self.log), "-o", self.options,
            "-w", "-t", "120", "start",
        )  # fmt: skip

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        # The server's own lock file (pg_ctl status would refuse root).
        return (self.datadir / "postmaster.pid").exists()


@dataclass
class AppNode:
    """One ``therapy-kb serve`` process (one uvicorn worker), in a process group of its own."""

    name: str
    port: int
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def upstream(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.spawn()
        self.wait_ready()

    def spawn(self) -> None:
        command = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--workers", "1"]
        with self.log.open("ab") as handle:
            self.proc = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self) -> None:
        wait_until(
            lambda: self.proc is None or self.proc.poll() is not None or self.ready(), "ready"
        )
        if self.proc is None or self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited:\n{self.log.read_text(errors='replace')}")

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.base}/readyz", timeout=10).status_code == 200
        except httpx.TransportError:
            return False

    def signal(self, sig: signal.Signals) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)

    def kill(self) -> None:
        """SIGKILL: the node dies at once, mid-request, as a crash would end it."""
        self.signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=60)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class Nginx:
    binary: str
    prefix: Path
    port: int
    workers: str = "1"
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def error_log(self) -> Path:
        return self.prefix / "error.log"

    def configure(self, upstreams: list[str]) -> Path:
        """nginx.conf for this prefix around the repository's server configuration."""
        server = Template(NGINX_TEMPLATE.read_text()).safe_substitute(
            THERAPY_KB_NGINX_LISTEN=f"127.0.0.1:{self.port}",
            THERAPY_KB_NGINX_UPSTREAMS=" ".join(
                f"server {u} max_fails=1 fail_timeout=5s;" for u in upstreams
            ),
            THERAPY_KB_NGINX_CACHE_DIR=str(self.prefix / "cache"),
        )
        (self.prefix / "therapy-kb.conf").write_text(server)
        temp = self.prefix / "temp"
        temp.mkdir(exist_ok=True)
        # As root the workers would switch to nobody, who cannot enter this private directory.
        user = "user root;\n" if os.geteuid() == 0 else ""
        conf = self.prefix / "nginx.conf"
        conf.write_text(
            f"{user}worker_processes {self.workers};\npid {self.prefix / 'nginx.pid'};\n"
            f"error_log {self.error_log} warn;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            f"    access_log off;\n"
            f"    client_body_temp_path {temp / 'body'};\n"
            f"    proxy_temp_path {temp / 'proxy'};\n"
            f"    proxy_bind {PROXY_ADDRESS};\n"
            f"    include {self.prefix / 'therapy-kb.conf'};\n"
            "}\n"
        )
        return conf

    def start(self, upstreams: list[str]) -> None:
        conf = self.configure(upstreams)
        check = subprocess.run(
            [self.binary, "-t", "-p", str(self.prefix), "-e", str(self.error_log), "-c", str(conf)],
            capture_output=True,
            text=True,
            check=False,
        )
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t refused the configuration:\n{check.stderr}")
        self.proc = subprocess.Popen(
            [self.binary, "-p", str(self.prefix), "-e", str(self.error_log), "-c", str(conf)]
            + ["-g", "daemon off;"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

        def up() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited:\n{self.error_log.read_text(errors='replace')}")
            try:
                return httpx.get(f"{self.base}/readyz", timeout=10).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(up, "nginx answers", _log_tail(self.error_log))

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGQUIT)  # graceful: workers finish what they serve
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)


@dataclass
class Topology:
    """Primary, one streaming replica, ``nodes`` app nodes reading it, nginx in front.

        ``seed_dir`` is loaded on the primary (migrate, then seed, as a deployment does) while the
    XX
    """

    seed_dir: Path
    nodes: int = 2
    node_env: dict[str, str] = field(default_factory=dict)
    nginx_workers: str = "1"
    root: Path = field(init=False)
    primary: Postgres = field(init=False)
    replica: Postgres = field(init=False)
    app_nodes: list[AppNode] = field(init=False)
    nginx: Nginx = field(init=False)
    _stack: ExitStack = field(init=False)

    def __enter__(self) -> Topology:
        bindir = find_bindir()
        if bindir is not None:
            # initdb may be a link on PATH; pg_basebackup is beside the real one.
            bindir = (bindir / "initdb").resolve().parent
        binary = find_nginx()
        if bindir is None or binary is None:
            raise FileNotFoundError(
                "PostgreSQL server binaries and nginx are needed "
                "(Debian: apt-get install postgresql nginx-light)"
            )
        self._stack = ExitStack()
        try:
            self._start(bindir, binary)
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stack.close()

    def _start(self, bindir: Path, nginx_binary: str) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="therapy-kb-topology-"))
        self._stack.callback(shutil.rmtree, self.root, ignore_errors=True)
        run_as = None
        if os.geteuid() == 0:
            run_as = "postgres"
            pwd.getpwnam(run_as)  # KeyError when the user does not exist
            self.root.chmod(0o711)  # postgres may enter, not list
        common = "-c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
        self.primary = self._cluster("primary", bindir, run_as, common)
        self._initdb(self.primary)
        self.primary.start()
        self._stack.callback(self._stop_pg, self.primary)

        # The replica: a base backup of the primary that keeps streaming its WAL (-R writes
        # primary_conninfo and standby.signal); a slot keeps the WAL it has not received yet,
        # so a replica that was down catches up when it returns.
        replica_options = common + " -c hot_standby=on -c hot_standby_feedback=on"
        self.replica = self._cluster("replica", bindir, run_as, replica_options)
        self.replica.datadir.rmdir()  # pg_basebackup makes it
        self.primary.run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary.port), "-U", "postgres",
            "-D", str(self.replica.datadir), "-R", "-X", "stream", "-C", "-S", "replica1",
            "--checkpoint=fast",
        )  # fmt: skip
        self.replica.start()
        self._stack.callback(self._stop_pg, self.replica)

        self.app_nodes = []
        for i in range(self.nodes):
            node = AppNode(
                f"node{i + 1}", free_port(), self._node_env(), self.root / f"node{i + 1}.log"
            )
            self.app_nodes.append(node)
        self._stack.callback(self._stop_nodes)
        for node in self.app_nodes:
            node.spawn()  # all at once: each spends its start importing
        # The first release, while the nodes start: they are ready once the replica has it.
        self.load(self.seed_dir)
        for node in self.app_nodes:
            node.wait_ready()

        prefix = self.root / "nginx"
        prefix.mkdir()
        self.nginx = Nginx(nginx_binary, prefix, free_port(), self.nginx_workers)
        self._stack.callback(self.nginx.stop)
        self.nginx.start([node.upstream for node in self.app_nodes])

    def _stop_nodes(self) -> None:
        for node in self.app_nodes:
            node.signal(signal.SIGTERM)  # all at once: each finishes what it serves
        for node in self.app_nodes:
            node.stop()

    def _cluster(self, name: str, bindir: Path, run_as: str | None, options: str) -> Postgres:
        top = self.root / name
        top.mkdir()
        datadir = top / "data"
        datadir.mkdir()
        if run_as:
            entry = pwd.getpwnam(run_as)
            for path in (top, datadir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        port = free_port()
        return Postgres(name, bindir, datadir, port, run_as, f"-p {port} -k {top} {options}")

    @staticmethod
    def _initdb(pg: Postgres) -> None:
        pg.run("initdb", "-D", str(pg.datadir), "-A", "trust", "-U", "postgres", "--no-sync")

    @staticmethod
    def _stop_pg(pg: Postgres) -> None:
        if pg.running():
            pg.stop()

    def _node_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("THERAPY_KB_")}
        env.pop("DATABASE_URL", None)
        env.update(
            THERAPY_KB_DATABASE_URL=self.replica.url,
            THERAPY_KB_READ_ONLY="true",
            THERAPY_KB_TRUSTED_PROXIES=f'["{PROXY_ADDRESS}"]',
            THERAPY_KB_LOG_LEVEL="warning",
            THERAPY_KB_DB_TIMEOUT_SECONDS="2",
        )
        env.update(self.node_env)
        return env

    def cli(self, url: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``therapy-kb ARGS`` against the database at ``url``, as an operator runs it."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("THERAPY_KB_")}
        env.update(THERAPY_KB_DATABASE_URL=url, THERAPY_KB_LOG_LEVEL="warning")
        result = subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"therapy-kb {' '.join(args)} failed:\n{result.stderr}")
        return result

    def load(self, seed_dir: Path) -> str:
        """A release onto the primary, as ``therapy-kb migrate`` then ``therapy-kb seed`` load
        it (in this process: an interpreter start each would be most of their time); returns
        its content hash."""
        from app.config import Settings
        from app.db import create_db_engine
        from app.migrate import upgrade
        from app.seeding import load_seed, read_seed_dir

        seed = read_seed_dir(seed_dir)
        engine = create_db_engine(Settings(database_url=self.primary.url))
        try:
            upgrade(engine)
            load_seed(engine, seed)
        finally:
            engine.dispose()
        return seed.content_hash()
