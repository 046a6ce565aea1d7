"""compose.scaleout.yaml, the topology of docs/deployment.md for Docker, as far as it can be
checked without an engine: ``docker-compose config`` accepts it, and what it resolves to wires
the loader to the primary, the read-only app nodes to the replica, and nginx in front of every
node with the configuration tests/test_topology.py runs."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from tests.helpers import in_ci

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "compose.scaleout.yaml"


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    binary = shutil.which("docker-compose")
    if binary is None:
        reason = "docker-compose is not installed (Debian: apt-get install docker-compose)"
        if in_ci():
            pytest.fail(f"CI=true requires docker-compose: {reason}")
        pytest.skip(reason)
    result = subprocess.run(
        [binary, "-f", str(COMPOSE), "config"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        # Only the file's own defaults: no password or worker count from the caller's shell.
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    assert isinstance(resolved, dict)
    return resolved


def _url(service: dict[str, Any]) -> Any:
    return make_url(service["environment"]["THERAPY_KB_DATABASE_URL"])


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path → host path of each bind mount (short or long form)."""
    mounts = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
        else:
            source, target = volume["source"], volume["target"]
        mounts[target] = source
    return mounts


def test_the_services_of_the_topology(config: dict[str, Any]) -> None:
    assert set(config["services"]) == {"primary", "replica", "loader", "app1", "app2", "nginx"}


def test_only_the_loader_writes_and_it_writes_to_the_primary(config: dict[str, Any]) -> None:
    services = config["services"]
    loader = services["loader"]
    assert _url(loader).host == "primary"
    assert "THERAPY_KB_READ_ONLY" not in loader["environment"]
    command = " ".join(loader["entrypoint"])
    assert command.index("therapy-kb migrate") < command.index("therapy-kb seed")
    assert loader["depends_on"]["primary"]["condition"] == "service_healthy"


def test_app_nodes_read_the_replica_and_trust_only_nginx(config: dict[str, Any]) -> None:
    services = config["services"]
    nginx_address = services["nginx"]["networks"]["kb"]["ipv4_address"]
    for name in ("app1", "app2"):
        node = services[name]
        env = node["environment"]
        assert _url(node).host == "replica"
        assert env["THERAPY_KB_READ_ONLY"] == "true"
        assert yaml.safe_load(env["THERAPY_KB_TRUSTED_PROXIES"]) == [nginx_address]
        # Serve only: the image's entrypoint would migrate and seed.
        assert node["entrypoint"] == ["therapy-kb"]
        assert node["command"] == ["serve"]
        assert node["depends_on"]["loader"]["condition"] == "service_completed_successfully"
        assert node["depends_on"]["replica"]["condition"] == "service_healthy"
        assert "ports" not in node


def test_the_replica_streams_from_the_primary(config: dict[str, Any]) -> None:
    replica = config["services"]["replica"]
    assert replica["depends_on"]["primary"]["condition"] == "service_healthy"
    script = Path(_mounts(replica)[replica["entrypoint"][0]])
    text = script.read_text()
    assert "pg_basebackup" in text
    assert "--host=primary" in text
    assert "--write-recovery-conf" in text
    assert "--slot=" in text
    assert "hot_standby_feedback=on" in replica["command"]
    primary_init = _mounts(config["services"]["primary"])
    [init_script] = [Path(s) for t, s in primary_init.items() if "initdb.d" in t]
    assert "REPLICATION" in init_script.read_text()


def test_nginx_fronts_every_node_with_the_repository_configuration(
    config: dict[str, Any],
) -> None:
    nginx = config["services"]["nginx"]
    template = Path(_mounts(nginx)["/etc/nginx/templates/therapy-kb.conf.template"])
    assert template == ROOT / "deploy" / "nginx" / "therapy-kb.conf.template"
    upstreams = nginx["environment"]["THERAPY_KB_NGINX_UPSTREAMS"]
    for name in ("app1", "app2"):
        assert f"server {name}:8000" in upstreams
    assert {d: nginx["depends_on"][d]["condition"] for d in ("app1", "app2")} == {
        "app1": "service_healthy",
        "app2": "service_healthy",
    }
    # The proxy alone is published, on the loopback interface.
    published = [s for s, service in config["services"].items() if service.get("ports")]
    assert published == ["nginx"]
    [port] = nginx["ports"]
    assert (port if isinstance(port, str) else port.get("host_ip", "")).startswith("127.0.0.1")


def test_nginx_is_given_every_value_its_template_asks_for(config: dict[str, Any]) -> None:
    """The image fills ``${NAME}`` from its environment; a name compose does not set would reach
    nginx as written. The topology test fills the same names (tests/topology.py)."""
    nginx = config["services"]["nginx"]
    template = Path(_mounts(nginx)["/etc/nginx/templates/therapy-kb.conf.template"]).read_text()
    asked = set(re.findall(r"\$\{(\w+)\}", template))
    assert asked == {n for n in nginx["environment"] if n.startswith("THERAPY_KB_NGINX_")}
    topology_source = (ROOT / "tests" / "topology.py").read_text()
    assert all(f"{name}=" in topology_source for name in asked)
