"""How long a whole bibliography takes to answer: ``GET /v1/citations.bib`` (and ``.ris``,
``.csl.json``, ``.txt``) without ``limit``, over the whole stack, in one process.

    python -m bench.bibliography [--repeat 20] [--style apa]

The database is THERAPY_KB_DATABASE_URL's (``make run`` loads seed/ into it). The app runs with
its answer cache off (``THERAPY_KB_RESPONSE_CACHE_ENTRIES=0``), so every request reaches the
route: "first" is the first answer of the release in this process (it renders and keeps the
text in the release's memo), "again" the median and largest of ``--repeat`` answers after it
(each a database read and the kept text). Times in milliseconds, as JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from fastapi.testclient import TestClient

from app.config import get_settings
from app.main import create_app

PATHS = ["/v1/citations.bib", "/v1/citations.ris", "/v1/citations.csl.json", "/v1/citations.txt"]


def _ms(client: TestClient, url: str) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.text
    return elapsed, len(response.content)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--style", default="apa")
    args = parser.parse_args(argv)
    settings = get_settings().model_copy(update={"response_cache_entries": 0})
    results = {}
    with TestClient(create_app(settings)) as client:
        works = client.get("/v1/meta").json()["counts"]["citations"]
        for path in PATHS:
            url = f"{path}?style={args.style}" if path.endswith(".txt") else path
            first, size = _ms(client, url)
            again = [_ms(client, url)[0] for _ in range(args.repeat)]
            results[url] = {
                "works": works,
                "bytes": size,
                "first_ms": round(first, 1),
                "again_median_ms": round(statistics.median(again), 1),
                "again_max_ms": round(max(again), 1),
            }
    sys.stdout.write(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
