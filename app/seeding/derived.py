"""What a seed load derives from the content, inside the load's transaction: the search
documents (each engine's full-text index, built by the migrations, follows them), and the kept
release with the bytes of its exports."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, text
from sqlmodel import Session, col

from app import icd
from app import models as m
from app.domain import (
    ClaimType,
    ExportFormat,
    SearchType,
    claim_path,
    claim_ref,
    indication_id,
)
from app.export import export
from app.queries.meta import meta
from app.seeding.format import Condition
from app.urls import citation_path, condition_path, indication_path, modality_path


def _doc(
    doc_type: SearchType,
    ref: str,
    title: str,
    parts: list[Any],
    url: str,
    keywords: list[str] | None = None,
    variant: str | None = None,
) -> dict[str, Any]:
    body = " ".join(str(p) for p in parts if p)
    # One phrase per line: the indexes see separate phrases, and a snippet never joins two.
    words = "\n".join(keywords or [])
    return {
        "doc_type": doc_type.value,
        "ref": ref,
        "title": title,
        "keywords": words,
        "body": body,
        "url": url,
        "variant": variant,
    }


def rebuild_search_index(session: Session) -> None:
    docs: list[dict[str, Any]] = []
    modalities = {x.id: x for x in session.execute(select(m.Modality)).scalars()}
    for x in modalities.values():
        docs.append(
            _doc(
                SearchType.modality,
                x.slug,
                f"{x.name} ({x.abbreviation})",
                [*x.aliases, x.summary, x.description, x.origin, *x.goals],
                modality_path(x.slug),
            )
        )
    codes: dict[int, list[str]] = {}
    for code in session.execute(select(m.ConditionCode)).scalars():
        codes.setdefault(code.condition_id, []).extend([code.code, code.display])
    conditions = {c.id: c for c in session.execute(select(m.Condition)).scalars()}
    for c in conditions.values():
        docs.append(
            _doc(
                SearchType.condition,
                c.slug,
                c.name,
                [*c.aliases, c.description, *codes.get(c.id or 0, [])],
                condition_path(c.slug),
                keywords=c.lay_terms,
            )
        )

    def claim(
        modality_id: int,
        claim_type: ClaimType,
        position: int,
        kind: str | None,
        title: str,
        parts: list[Any],
    ) -> None:
        slug = modalities[modality_id].slug
        ref = claim_ref(slug, claim_path(claim_type, position, kind))
        docs.append(_doc(SearchType.claim, ref, title, parts, modality_path(ref)))

    for i in session.execute(select(m.Indication)).scalars():
        x, cond = modalities[i.modality_id], conditions[i.condition_id]
        # An indication is found by its one id, and leads to its own record.
        ref = indication_id(x.slug, cond.slug, i.population, i.variant)
        docs.append(
            _doc(
                SearchType.claim,
                ref,
                f"{x.abbreviation}{f' ({i.variant})' if i.variant else ''} for {cond.name}",
                [i.summary, i.grade_basis or "", i.population, i.variant, i.evidence],
                indication_path(ref),
                variant=i.variant,
            )
        )
    for c in session.execute(select(m.Consideration)).scalars():
        claim(c.modality_id, ClaimType.consideration, c.position, c.kind, c.statement, [c.detail])
    for f in session.execute(select(m.Format)).scalars():
        x = modalities[f.modality_id]
        ref = claim_ref(x.slug, claim_path(ClaimType.format, f.position))
        docs.append(
            _doc(
                SearchType.claim,
                ref,
                f"{x.abbreviation}: {f.delivery} format",
                [f.notes, f.variant],
                modality_path(ref),
                variant=f.variant,
            )
        )
    for comp in session.execute(select(m.Component)).scalars():
        claim(
            comp.modality_id,
            ClaimType.component,
            comp.position,
            None,
            comp.name,
            [comp.description, comp.kind.replace("_", " ")],
        )

    for cit in session.execute(select(m.Citation)).scalars():
        authors = [a.get("family") or a.get("literal") for a in cit.authors]
        docs.append(
            _doc(
                SearchType.citation,
                cit.key,
                cit.title,
                [*authors, cit.year, cit.container_title, cit.publisher, cit.doi],
                citation_path(cit.key),
            )
        )

    session.execute(delete(m.SearchDocument))
    if docs:
        session.execute(insert(m.SearchDocument), docs)
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("INSERT INTO search_fts(search_fts) VALUES ('rebuild')"))


def rebuild_code_lookup(session: Session, conditions: list[Condition]) -> None:
    """Which condition each ICD code leads to, from the conditions' codes and branches by the
    classifications' hierarchies (app/icd.py). Rebuilt whole by every load that changes content:
    a code's condition depends on every other condition's claims, not only its own."""
    ids: dict[str, int | None] = {
        c.slug: c.id for c in session.execute(select(m.Condition)).scalars()
    }
    branches: list[icd.Branch] = []
    for c in conditions:
        branches += [icd.Branch(code.system, code.code, c.slug) for code in c.codes]
        for branch in c.code_branches:
            branches.append(icd.Branch(branch.system, branch.code, c.slug))
            branches.extend(icd.Branch(branch.system, x, None) for x in branch.exclude)
    rows = [
        {
            "system": e.system.value,
            "code": e.code,
            "title": e.title,
            "condition_id": None if e.condition is None else ids[e.condition],
        }
        for e in icd.lookup_table(branches)
    ]
    session.execute(delete(m.CodeLookup))
    if rows:
        session.execute(insert(m.CodeLookup), rows)


def keep_release(session: Session, now: datetime) -> None:
    """Record the loaded release in the history, with each export format as it is served now.

    The bytes are built once, here, by the API's own export (``app.export``), and served as
    stored: an old release's export never depends on code or data that came after it."""
    release = session.execute(select(m.Release)).scalar_one()
    counts = meta(session, release).counts
    record_id = session.execute(
        insert(m.ReleaseRecord)
        .values(
            name=release.name,
            version=release.version,
            license=release.license,
            description=release.description,
            release_date=release.release_date,
            content_hash=release.content_hash,
            loaded_at=now,
            counts=dict(counts),
        )
        .returning(col(m.ReleaseRecord.id))
    ).scalar_one()
    for fmt in ExportFormat:
        body = b"".join(export(session, release, fmt))
        session.execute(
            insert(m.ReleaseSnapshot).values(
                release_id=record_id,
                format=fmt.value,
                sha256=hashlib.sha256(body).hexdigest(),
                body=body,
            )
        )
