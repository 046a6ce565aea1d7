"""What building FHIR resources with the ``fhir.resources`` R5 models would cost per answer,
against the plain dicts ``app/fhir/resources.py`` builds today.

    python -m bench.fhir_build [--runs 7] [--page 20]

Seeds a SQLite database from ``seed/``, reads every indication as ``/fhir/Evidence`` does, and
times, per resource (best of ``--runs`` passes over all of them, in µs):

- ``dict``: building the Evidence as a dict (what the routes do), and encoding it as the
  response does (``FhirResponse.render``);
- ``model``: the same dict validated into the ``Evidence`` model, which is what building with
  the models costs on top of assembling the values (a constructor validates the same fields),
  and the model written back to JSON (``model_dump_json``);

and the same for a searchset ``Bundle`` of ``--page`` Evidence (the default page size): validated
whole from the dict (which validates each Evidence again), and put together from Evidence
models already built.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from fhir.resources.bundle import Bundle, BundleEntry, BundleEntrySearch, BundleLink
from fhir.resources.evidence import Evidence
from sqlmodel import Session

from app.config import Settings
from app.db import create_db_engine
from app.fhir import resources as fr
from app.fhir.search import FhirResponse
from app.fhir.terminology import Canonical
from app.queries import current_release
from app.queries.fhir import IndicationSearch, Window, citation_titles, indication_page
from bench import harness as h

BASE = "http://localhost:8000/fhir"
CANON = Canonical(BASE)  # where canonical URLs live (app.main hands the routes one)


def best_us(work: Callable[[], object], per: int, runs: int) -> float:
    """The fastest of ``runs`` calls of ``work``, in µs per one of the ``per`` items it does."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times) / per * 1e6


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.fhir_build", description=__doc__)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--page", type=int, default=20)
    args = p.parse_args(argv)
    with h.database("sqlite") as db:
        h.migrate_and_seed(db, h.REAL_SEED)
        engine = create_db_engine(Settings(database_url=db.url))
        with Session(engine) as session:
            release = current_release(session)
            assert release is not None
            _, records = indication_page(session, IndicationSearch(), Window(10_000, 0))
            keys = {
                k
                for r in records
                for k in (
                    *r.indication.citations,
                    *(e.citation for e in r.indication.effects),
                    *(g.citation for g in r.indication.guidelines),
                )
            }
            titles = citation_titles(session, keys)
        engine.dispose()

    n, runs = len(records), args.runs
    dicts = [fr.evidence(r, titles, release, CANON) for r in records]
    models = [Evidence.model_validate(d) for d in dicts]
    page = dicts[: args.page]
    links = {"self": f"{BASE}/Evidence?_count={args.page}"}
    bundle = fr.searchset(n, page, BASE, links)
    bundle_model = Bundle.model_validate(bundle)
    page_models = models[: args.page]

    def wrap(built: list[Evidence]) -> Bundle:
        """A searchset of Evidence models already built (what a route would do with them)."""
        return Bundle(
            type="searchset",
            total=n,
            link=[BundleLink(relation=rel, url=url) for rel, url in links.items()],
            entry=[
                BundleEntry(
                    fullUrl=f"{BASE}/Evidence/{m.id}",
                    resource=m,
                    search=BundleEntrySearch(mode="match"),
                )
                for m in built
            ],
        )

    assert json.loads(wrap(page_models).model_dump_json()) == bundle
    # The models write what they read: the same JSON document, key order aside.
    assert json.loads(models[0].model_dump_json()) == dicts[0], "the models change the resource"

    def render(resource: Any) -> bytes:
        return bytes(FhirResponse(resource).body)

    rows: list[tuple[str, float, float]] = [
        (
            "Evidence: build",
            best_us(lambda: [fr.evidence(r, titles, release, CANON) for r in records], n, runs),
            best_us(
                lambda: [
                    Evidence.model_validate(fr.evidence(r, titles, release, CANON)) for r in records
                ],
                n,
                runs,
            ),
        ),
        (
            "Evidence: encode",
            best_us(lambda: [render(d) for d in dicts], n, runs),
            best_us(lambda: [m.model_dump_json() for m in models], n, runs),
        ),
        (
            f"Bundle of {len(page)}: build",
            best_us(lambda: fr.searchset(n, page, BASE, links), 1, runs),
            best_us(lambda: Bundle.model_validate(fr.searchset(n, page, BASE, links)), 1, runs),
        ),
        (
            f"Bundle of {len(page)}: wrap built models",
            best_us(lambda: fr.searchset(n, page, BASE, links), 1, runs),
            best_us(lambda: wrap(page_models), 1, runs),
        ),
        (
            f"Bundle of {len(page)}: encode",
            best_us(lambda: render(bundle), 1, runs),
            best_us(bundle_model.model_dump_json, 1, runs),
        ),
    ]
    sizes = sum(len(render(d)) for d in dicts) / n
    table = h.format_table(
        ["", "dicts (µs)", "fhir.resources models (µs)", "ratio"],
        [(label, f"{a:,.1f}", f"{b:,.1f}", f"{b / a:.1f}") for label, a, b in rows],
    )
    head = f"{n} Evidence resources, {sizes:,.0f} bytes each on average; best of {runs} runs"
    sys.stdout.write("\n".join([h.revision(), head, table, ""]))


if __name__ == "__main__":
    main()
