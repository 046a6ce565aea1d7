"""The bulk export, as a stream of byte chunks: nested JSON, NDJSON, or a zip of CSV tables.

Nothing is built whole in memory: rows stream from the database in batches, and each format
yields its bytes as it goes. The HTTP route and ``therapy-kb export`` share these generators.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from app import models as m
from app import schemas as s
from app.domain import EXPORT_EXTENSIONS, ExportFormat
from app.errors import NotFound
from app.queries.citations import all_citations
from app.queries.conditions import condition_summaries
from app.queries.export import TABLES
from app.queries.meta import meta
from app.queries.modalities import modality_details
from app.queries.ordering import bytewise
from app.queries.trial_table import load_trial_table
from app.suggest import suggest
from app.urls import PATHS

MODALITY_BATCH = 100
FLUSH_BYTES = 64 * 1024
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say


def attachment(name: str, version: str, fmt: ExportFormat) -> str:
    """The ``Content-Disposition`` of a release's export: a file named for the release."""
    return f'attachment; filename="{name}-{version}.{EXPORT_EXTENSIONS[fmt]}"'


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


# What the release record of an export leaves out: when this database loaded the release. The
# bytes then depend on the content alone, so the same release exported on any install has the
# same sha256 (``/v1/meta`` and ``/v1/releases`` still say when it was loaded here).
NOT_CONTENT = {"loaded_at"}


def _release_record(session: Session, release: m.Release) -> dict[str, Any]:
    return meta(session, release).model_dump(mode="json", exclude=NOT_CONTENT)


def export(session: Session, release: m.Release, fmt: ExportFormat) -> Iterator[bytes]:
    if fmt is ExportFormat.json:
        return _json(session, release)
    if fmt is ExportFormat.ndjson:
        return _ndjson(session, release)
    return _csv_zip(session, release)


def _modality_batches(session: Session) -> Iterator[list[s.ModalityDetail]]:
    # The records as the API serves them, pooled figures included.
    trials = load_trial_table(session)
    offset = 0
    while True:
        rows = list(
            session.execute(
                select(m.Modality)
                .order_by(bytewise(m.Modality.slug))
                .limit(MODALITY_BATCH)
                .offset(offset)
            ).scalars()
        )
        if not rows:
            return
        yield modality_details(session, PATHS, rows, trials)
        offset += len(rows)


# The trial layer's tables, in the JSON export as the flat rows the other formats have.
TRIAL_TABLES = ("trial_datasets", "trial_studies", "trial_comparisons")


def _json(session: Session, release: m.Release) -> Iterator[bytes]:
    """{"release": …, "citations": […], "conditions": […], "modalities": […],
    "trial_datasets": […], "trial_studies": […], "trial_comparisons": […]}"""
    yield ('{"release":' + _dumps(_release_record(session, release))).encode()
    sections: list[tuple[str, Iterator[Any]]] = [
        ("citations", iter(all_citations(session, PATHS))),
        ("conditions", condition_summaries(session, PATHS)),
        ("modalities", (d for batch in _modality_batches(session) for d in batch)),
        *((name, TABLES[name][1](session)) for name in TRIAL_TABLES),
    ]
    for name, items in sections:
        yield f',"{name}":['.encode()
        buffer: list[str] = []
        size = 0
        for n, item in enumerate(items):
            body = _dumps(item) if isinstance(item, dict) else item.model_dump_json()
            text = ("," if n else "") + body
            buffer.append(text)
            size += len(text)
            if size >= FLUSH_BYTES:
                yield "".join(buffer).encode()
                buffer, size = [], 0
        yield ("".join(buffer) + "]").encode()
    yield b"}\n"


def _ndjson(session: Session, release: m.Release) -> Iterator[bytes]:
    """One self-describing record per line: {"type": "release" | "modality" | …, …}."""
    yield (_dumps({"type": "release", **_release_record(session, release)}) + "\n").encode()
    for table, (_, rows) in TABLES.items():
        record_type = _record_type(table)
        buffer: list[str] = []
        size = 0
        for row in rows(session):
            line = _dumps({"type": record_type, **row}) + "\n"
            buffer.append(line)
            size += len(line)
            if size >= FLUSH_BYTES:
                yield "".join(buffer).encode()
                buffer, size = [], 0
        if buffer:
            yield "".join(buffer).encode()


def _record_type(table: str) -> str:
    # "modalities" → "modality", "claim_citations" → "claim_citation", "citations" → "citation"
    if table.endswith("ies"):
        return table[:-3] + "y"
    return table[:-1]


class _Sink(io.RawIOBase):
    """A write-only stream that hands back what was written since the last ``take``."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.parts.append(chunk)
        self.size += len(chunk)
        return len(chunk)

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts, self.size = [], 0
        return out


def _csv_zip(session: Session, release: m.Release) -> Iterator[bytes]:
    """A zip of CSV files, one per table, plus release.csv; UTF-8, comma, header row."""
    sink = _Sink()
    # A zip written to an unseekable stream: sizes go in data descriptors after each file.
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        record = _release_record(session, release)
        release_row = {k: v for k, v in record.items() if k not in ("counts", "evidence_scale")}
        tables: dict[str, tuple[list[str], Iterator[dict[str, Any]]]] = {
            "release": (list(release_row), iter([release_row])),
            **{name: (columns, rows(session)) for name, (columns, rows) in TABLES.items()},
        }
        for name, (columns, rows) in tables.items():
            # A fixed timestamp and mode: the same release zips to the same bytes, whenever.
            info = zipfile.ZipInfo(f"{name}.csv", date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with archive.open(info, "w") as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                writer = csv.DictWriter(text, fieldnames=columns)
                writer.writeheader()
                for row in rows:
                    writer.writerow(row)
                    if sink.size >= FLUSH_BYTES:
                        text.flush()
                        yield sink.take()
                text.flush()
                text.detach()
            yield sink.take()
    yield sink.take()


# ---------------------------------------------------------------------------------------------
# One table of an export: the zip's member, or the NDJSON export's lines of its records

# The export's tables: the release's own row, then every table of app.queries.export.
EXPORT_TABLES = ("release", *TABLES)


def no_such_table(name: str) -> NotFound:
    close = suggest(name, EXPORT_TABLES)
    detail = f"no table '{name}' in the export" + (f"; did you mean '{close}'?" if close else "")
    return NotFound(detail, **({"suggestion": close} if close else {}))


def table_bytes(whole: bytes, fmt: ExportFormat, table: str) -> bytes:
    """One table of a whole export in ``fmt``: the zip's ``{table}.csv`` as it is stored in the
    zip, or the NDJSON lines of that table's records (each line as the whole export has it)."""
    if fmt is ExportFormat.csv:
        with zipfile.ZipFile(io.BytesIO(whole)) as archive:
            return archive.read(f"{table}.csv")
    if fmt is ExportFormat.ndjson:
        # Every line starts with its type, written first by _ndjson with these separators.
        start = f'{{"type":{_dumps(_record_type(table) if table != "release" else table)},'
        lines = whole.splitlines(keepends=True)
        return b"".join(line for line in lines if line.startswith(start.encode()))
    raise ValueError(f"the {fmt.value} export has no tables")
