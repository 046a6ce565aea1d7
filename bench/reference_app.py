"""The reference: the framework's ceiling on this machine, for the ratios in ``bench.run``.

A minimal FastAPI app with one ``async def`` route returning a constant dict, built once at
import, shaped like a modality detail response (``GET /v1/modalities/ipt``: top-level text,
goals, citation keys, and lists of indications with codes, pros, cons, formats and components)
and of the same size. The size defaults to that of the real IPT detail measured on the seed of
2026-11-26 (16,378 bytes); ``bench.run`` measures the live response and passes its size in
``BENCH_REFERENCE_BYTES`` so the two bodies stay alike as the content changes.

    uvicorn bench.reference_app:app --workers 1 --loop uvloop --http httptools --no-access-log

Three routes, all ``async def`` with no middleware and no dependencies:

- ``/reference`` (what ``bench.run`` measures by default): returns the dict with a
  ``-> dict[str, Any]`` annotation, so FastAPI validates and serialises it with pydantic-core
  (as it does a route's response model). On the benchmark machine this is the "bare FastAPI
  route returning a constant dict" that the targets were set against: about 10-11k req/s
  with wrk at 50 connections.
- ``/reference-untyped``: the same dict without an annotation, so FastAPI runs
  ``jsonable_encoder`` over it on every request; at this body size that walk dominates
  (about 1.7k req/s): a ceiling so low that every ratio to it would flatter therapy-kb.
- ``/reference-raw``: the body pre-encoded to bytes once, the most a FastAPI route can do.
"""

from __future__ import annotations

import json
import os
from typing import Any

from fastapi import FastAPI
from fastapi.responses import Response

DEFAULT_BYTES = 16_378
PATH = "/reference"

_WORDS = (
    "structured time limited psychotherapy relieves symptoms by working on one current "
    "interpersonal problem grief dispute life transition lack of close relationships evidence "
    "trial meta analysis depression anxiety sessions weekly therapist patient"
).split()


def _words(n: int, seed: int) -> str:
    """About ``n`` characters of plain words (deterministic)."""
    out: list[str] = []
    size = 0
    i = seed
    while size < n:
        word = _WORDS[i % len(_WORDS)]
        out.append(word)
        size += len(word) + 1
        i += 7
    return " ".join(out)[:n].rstrip() + "."


def _codes(i: int) -> list[dict[str, str]]:
    return [
        {"system": "icd-10-cm", "code": f"F3{i % 10}.{j}", "display": _words(40, i + j)}
        for j in range(1 + i % 4)
    ]


def _skeleton(f: float) -> dict[str, Any]:
    """The shape of a modality detail, every text about ``f`` times the IPT entry's length."""

    def _text(n: int, seed: int) -> str:
        return _words(max(1, round(n * f)), seed)

    return {
        "slug": "reference",
        "name": "Reference modality",
        "abbreviation": "REF",
        "category": "approach",
        "aliases": ["reference therapy"],
        "summary": _text(220, 1),
        "description": _text(1400, 2),
        "origin": _text(500, 3),
        "goals": [_text(90, 10 + i) for i in range(5)],
        "citations": [f"author{2000 + i}" for i in range(8)],
        "indications": [
            {
                "condition": f"condition-{i}",
                "condition_name": _text(25, 20 + i),
                "codes": _codes(i),
                "evidence": "moderate",
                "population": "adults",
                "summary": _text(150, 30 + i),
                "citations": [f"author{2000 + i}", f"author{2010 + i}"],
            }
            for i in range(10)
        ],
        "pros": [
            {"statement": _text(40, 40 + i), "detail": _text(260, 50 + i), "citations": ["a2001"]}
            for i in range(6)
        ],
        "cons": [
            {"statement": _text(40, 60 + i), "detail": _text(260, 70 + i), "citations": ["a2002"]}
            for i in range(6)
        ],
        "formats": [
            {
                "delivery": "individual",
                "sessions": {"min": 12, "max": 16},
                "weeks": {"min": 12, "max": 16},
                "session_minutes": None,
                "group_size": None,
                "notes": _text(200, 80 + i),
                "citations": ["a2003", "a2004"],
            }
            for i in range(3)
        ],
        "components": [
            {
                "kind": "technique",
                "name": _text(25, 90 + i),
                "description": _text(300, 100 + i),
                "citations": ["a2005", "a2006"],
            }
            for i in range(9)
        ],
        "included_citations": None,
    }


def _encoded_size(body: dict[str, Any]) -> int:
    # As Starlette's JSONResponse renders it.
    return len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())


def build_body(target_bytes: int) -> dict[str, Any]:
    """A detail-shaped dict whose JSON is ``target_bytes`` long (or the skeleton's minimum)."""
    f = 1.0
    for _ in range(4):
        f *= target_bytes / _encoded_size(_skeleton(f))
    body = _skeleton(f)
    # Rounding leaves a few characters over or under: trim or pad the description to land exactly.
    delta = target_bytes - _encoded_size(body)
    if delta > 0:
        body["description"] += "x" * delta
    elif delta < 0 and len(body["description"]) > -delta + 1:
        body["description"] = body["description"][:delta]
    return body


BODY: dict[str, Any] = build_body(int(os.environ.get("BENCH_REFERENCE_BYTES", DEFAULT_BYTES)))
BODY_BYTES = _encoded_size(BODY)

app = FastAPI(title="therapy-kb reference", docs_url=None, redoc_url=None, openapi_url=None)


RAW = json.dumps(BODY, ensure_ascii=False, separators=(",", ":")).encode()


@app.get(PATH)
async def reference() -> dict[str, Any]:
    return BODY


@app.get(PATH + "-untyped")
async def reference_untyped():  # type: ignore[no-untyped-def]  # no annotation: no response model
    return BODY


@app.get(PATH + "-raw")
async def reference_raw() -> Response:
    return Response(RAW, media_type="application/json")
