"""The scaled-out topology of docs/deployment.md, on real components (tests/topology.py): a
PostgreSQL primary that takes the loads, a streaming replica the app nodes read, two app nodes
behind nginx with the repository's configuration. One topology for the module; the tests run in
file order and each leaves it whole (all nodes up, the replica streaming)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.conftest import FIXTURE_SEED
from tests.helpers import PATIENCE_SECONDS, copy_seed, in_ci, wait_until
from tests.topology import Topology

pytestmark = pytest.mark.topology

# A short max-age, so that the proxy's copy of an answer is renewed (revalidated by its ETag)
# within a second or so: how long the proxy may serve an older release is the operator's
# choice (THERAPY_KB_CACHE_MAX_AGE), and a test must not wait the default five minutes.
NODE_ENV = {"THERAPY_KB_CACHE_MAX_AGE": "1", "THERAPY_KB_RELEASE_CHECK_SECONDS": "0.2"}


@pytest.fixture(scope="module")
def topology() -> Iterator[Topology]:
    try:
        with Topology(FIXTURE_SEED, nodes=2, node_env=NODE_ENV) as started:
            yield started
    except (FileNotFoundError, KeyError) as exc:
        if in_ci():
            pytest.fail(f"CI must run the topology test: {exc}")
        pytest.skip(f"cannot build the topology here: {exc}")


def _meta(client: httpx.Client, url: str) -> tuple[int, str | None, str | None]:
    """Status, X-KB-Release and the body's content hash of ``GET /v1/meta``."""
    response = client.get(url)
    if response.status_code != 200:
        return response.status_code, None, None
    return 200, response.headers["x-kb-release"], response.json()["content_hash"]


def test_links_name_the_proxy_origin_which_only_the_proxy_can_set(topology: Topology) -> None:
    proxy = topology.nginx.base
    with httpx.Client(timeout=PATIENCE_SECONDS) as client:
        through = client.get(f"{proxy}/v1/modalities/alpha")
        assert through.status_code == 200
        assert through.json()["url"] == f"{proxy}/v1/modalities/alpha"

        # A client's own X-Forwarded-Host is replaced by nginx, never passed on.
        spoofed = client.get(
            f"{proxy}/v1/modalities/beta", headers={"X-Forwarded-Host": "attacker.example"}
        )
        assert spoofed.json()["url"] == f"{proxy}/v1/modalities/beta"

        # Straight to a node, from an address that is not the proxy's: not believed.
        node = topology.app_nodes[0].base
        direct = client.get(
            f"{node}/v1/modalities/alpha",
            headers={"X-Forwarded-Host": "attacker.example", "X-Forwarded-Proto": "https"},
        )
        assert direct.json()["url"] == f"{node}/v1/modalities/alpha"

        # Another Host through the same proxy: another cache entry, links on that host.
        other_host = f"localhost:{topology.nginx.port}"
        aliased = client.get(f"{proxy}/v1/modalities/alpha", headers={"Host": other_host})
        assert aliased.json()["url"] == f"http://{other_host}/v1/modalities/alpha"
        again = client.get(f"{proxy}/v1/modalities/alpha")
        assert again.json()["url"] == f"{proxy}/v1/modalities/alpha"


def test_the_proxy_cache_follows_etag_cache_control_and_vary(topology: Topology) -> None:
    url = f"{topology.nginx.base}/v1/citations/alpha2001"
    with httpx.Client(timeout=PATIENCE_SECONDS) as client:
        first = client.get(url)
        assert first.status_code == 200
        assert first.headers["cache-control"] == "public, max-age=1"
        wait_until(lambda: client.get(url).headers["x-cache-status"] == "HIT", "a cache hit")
        etag = first.headers["etag"]
        assert client.get(url).headers["etag"] == etag

        # If-None-Match: a 304, from the proxy's copy or after it revalidated with the node.
        revalidated = client.get(url, headers={"If-None-Match": etag})
        assert revalidated.status_code == 304
        assert revalidated.headers["etag"] == etag

        # Vary: Accept on this operation: each representation is kept apart.
        bibtex = client.get(url, headers={"Accept": "application/x-bibtex"})
        assert bibtex.status_code == 200
        assert bibtex.headers["content-type"].startswith("application/x-bibtex")
        assert "accept" in bibtex.headers["vary"].lower()
        json_again = client.get(url)
        assert json_again.headers["content-type"] == "application/json"
        assert json_again.json() == first.json()
        assert client.get(url, headers={"Accept": "application/x-bibtex"}).text == bibtex.text

        # An error carries no Cache-Control and is never kept.
        for _ in range(2):
            missing = client.get(f"{topology.nginx.base}/v1/modalities/no-such-modality")
            assert missing.status_code == 404
            assert missing.headers["x-cache-status"] == "MISS"


def test_a_new_release_reaches_every_node_and_no_answer_mixes_two(
    topology: Topology, tmp_path: Path
) -> None:
    seed = copy_seed(FIXTURE_SEED, tmp_path / "seed", version="0.0.2")
    release_file = seed / "release.yaml"
    release = yaml.safe_load(release_file.read_text())
    release["description"] = "The fixture seed, released again by the topology test."
    release_file.write_text(yaml.safe_dump(release, sort_keys=False))
    bases = [topology.nginx.base, *(node.base for node in topology.app_nodes)]
    with httpx.Client(timeout=PATIENCE_SECONDS) as client:
        old = {_meta(client, f"{base}/v1/meta")[2] for base in bases}
    assert len(old) == 1

    stop = threading.Event()
    mixed: list[tuple[str, str | None, str | None]] = []
    answers = itertools.count()

    def read_all_the_time() -> None:
        # One reader going round the proxy and the nodes: enough to meet the change on each,
        # without taking the processor from the load.
        with httpx.Client(timeout=PATIENCE_SECONDS) as client:
            for base in itertools.cycle(bases):
                if stop.is_set():
                    return
                status, header, body = _meta(client, f"{base}/v1/meta")
                next(answers)
                if status != 200 or header != body:
                    mixed.append((base, header or str(status), body))

    reader = threading.Thread(target=read_all_the_time)
    reader.start()
    try:
        new = topology.load(seed)  # on the primary: migrations first, then the seed load
        assert new not in old

        def everyone_reports_it() -> bool:
            with httpx.Client(timeout=PATIENCE_SECONDS) as client:
                return all(_meta(client, f"{base}/v1/meta")[2] == new for base in bases) and all(
                    client.get(f"{node.base}/readyz").json()["release"] == new
                    for node in topology.app_nodes
                )

        wait_until(everyone_reports_it, "every node, and the proxy, serve the new release")
    finally:
        stop.set()
        reader.join()
    assert mixed == []
    assert next(answers) > len(bases), "the readers ran while the release changed"


def test_a_replica_refuses_a_load(topology: Topology) -> None:
    refused = topology.cli(topology.replica.url, "seed", "--dir", str(FIXTURE_SEED), check=False)
    assert refused.returncode == 1
    assert "nothing was loaded" in refused.stderr
    assert "read-only transaction" in refused.stderr


def test_killing_a_node_loses_no_request_the_proxy_could_retry(topology: Topology) -> None:
    victim = topology.app_nodes[0]
    error_log = topology.nginx.error_log
    log_start = error_log.stat().st_size if error_log.exists() else 0
    numbers = itertools.count()
    outcomes: list[tuple[bool, int | str]] = []  # (after the kill, status or error)
    killed = threading.Event()
    stop = threading.Event()

    def ask_all_the_time() -> None:
        with httpx.Client(base_url=topology.nginx.base, timeout=PATIENCE_SECONDS) as client:
            while not stop.is_set():
                # A query nobody asked before: nothing kept, so each reaches a node.
                path = f"/v1/search?q=node{next(numbers)}"
                after = killed.is_set()
                try:
                    outcomes.append((after, client.get(path).status_code))
                except httpx.TransportError as exc:
                    outcomes.append((after, repr(exc)))

    clients = [threading.Thread(target=ask_all_the_time) for _ in range(6)]
    for thread in clients:
        thread.start()
    try:
        wait_until(lambda: len(outcomes) >= 60, "requests flowing through both nodes")
        victim.kill()
        killed.set()
        wait_until(
            lambda: sum(after for after, _ in outcomes) >= 200, "requests flowing after the kill"
        )
    finally:
        stop.set()
        for thread in clients:
            thread.join()
        victim.start()  # the next test finds both nodes again

    log = error_log.read_text(errors="replace")[log_start:]
    # nginx met the dead node (a refused connection or a reset) and went to the other one.
    assert f'upstream: "http://{victim.upstream}' in log, log
    # What nginx cannot retry: an answer that had already started to reach the client.
    unretriable = log.count("while reading upstream")
    failed = [outcome for outcome in outcomes if outcome[1] != 200]
    assert len(failed) <= unretriable, (failed, log)


def test_without_the_replica_a_miss_is_503_with_retry_after_and_the_cache_serves(
    topology: Topology,
) -> None:
    proxy = topology.nginx.base
    kept = f"{proxy}/v1/modalities/beta"
    with httpx.Client(timeout=PATIENCE_SECONDS) as client:
        before = client.get(kept)
        assert before.status_code == 200
        wait_until(lambda: client.get(kept).headers["x-cache-status"] == "HIT", "kept")

        topology.replica.stop()
        try:
            wait_until(
                lambda: all(
                    client.get(f"{node.base}/readyz").status_code == 503
                    for node in topology.app_nodes
                ),
                "every node sees the replica gone",
            )
            for n in range(4):  # both nodes, in turn
                miss = client.get(f"{proxy}/v1/search?q=outage{n}")
                assert miss.status_code == 503, miss.text
                assert miss.headers["content-type"] == "application/problem+json"
                assert int(miss.headers["retry-after"]) > 0
                assert "cache-control" not in miss.headers
            # What the proxy keeps is served, past its max-age (proxy_cache_use_stale).
            served = client.get(kept)
            assert served.status_code == 200
            assert served.headers["x-cache-status"] in {"HIT", "STALE", "UPDATING"}
            assert served.content == before.content
        finally:
            topology.replica.start()

        wait_until(
            lambda: client.get(f"{proxy}/v1/search?q=back").status_code == 200,
            "answers again once the replica is back",
        )
        wait_until(
            lambda: all(node.ready() for node in topology.app_nodes), "every node ready again"
        )
