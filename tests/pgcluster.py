"""A throwaway PostgreSQL cluster for the test suite.

``initdb`` refuses to run as root, so when the tests run as root the server runs as the
``postgres`` user, in a temporary directory, on a free loopback port.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def find_bindir() -> Path | None:
    """The directory holding initdb and pg_ctl, newest version first, or None."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
        reverse=True,
    )
    return Path(candidates[0]).parent if candidates else None


def free_port() -> int:
    """A free TCP port on loopback (the OS picks one)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    bindir: Path
    datadir: Path
    port: int
    run_as: str | None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def to_json(self) -> str:
        """What another process needs to use and stop this cluster (see ``from_json``)."""
        return json.dumps(
            {
                "bindir": str(self.bindir),
                "datadir": str(self.datadir),
                "port": self.port,
                "run_as": self.run_as,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Cluster:
        data = json.loads(text)
        return cls(
            bindir=Path(data["bindir"]),
            datadir=Path(data["datadir"]),
            port=int(data["port"]),
            run_as=data["run_as"],
        )

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.run_as:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        # -l sends the server's output to a file: otherwise the postmaster would inherit our
        # pipes and the call would never see end-of-file.
        log = str(self.datadir.parent / "server.log")
        self._run(
            "pg_ctl", "-D", str(self.datadir), "-l", log, "-o", options, "-w", "-t", "60", "start"
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop")


def start_cluster() -> Cluster:
    bindir = find_bindir()
    if bindir is None:
        raise FileNotFoundError("PostgreSQL server binaries (initdb, pg_ctl) not found")
    run_as = None
    if os.geteuid() == 0:
        run_as = "postgres"
        pwd.getpwnam(run_as)  # KeyError when the user does not exist
    root = Path(tempfile.mkdtemp(prefix="therapy-kb-pg-"))
    datadir = root / "data"
    datadir.mkdir()
    if run_as:
        entry = pwd.getpwnam(run_as)
        os.chown(root, entry.pw_uid, entry.pw_gid)
        os.chown(datadir, entry.pw_uid, entry.pw_gid)
    cluster = Cluster(bindir=bindir, datadir=datadir, port=free_port(), run_as=run_as)
    cluster._run(
        "initdb", "-D", str(datadir), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"
    )
    cluster.start()
    return cluster


def destroy_cluster(cluster: Cluster) -> None:
    try:
        cluster.stop()
    finally:
        shutil.rmtree(cluster.datadir.parent, ignore_errors=True)
