"""Validated seed → database, in one transaction.

The load compares each top-level entity (citation, condition, modality) with what is stored by
its key and a hash of its normalised content, and writes only the difference: an unchanged
entity keeps its rows and ids, a changed modality is replaced with its claims. Loading the same
files twice therefore writes nothing. Any error rolls the whole load back.

Every release loaded is also kept (``release_history``) with the bytes of its exports, in the
same transaction; a version already kept with other content is refused before any write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, text, update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from app import models as m
from app.domain import ClaimType
from app.errors import ReleaseConflict, SeedLocked
from app.seeding import format as sf
from app.seeding.derived import keep_release, rebuild_code_lookup, rebuild_search_index
from app.trial_records import TrialData

# An arbitrary, fixed key for PostgreSQL's advisory lock that serialises seed loads.
SEED_LOCK_KEY = 0x7468_6B62  # "thkb"

Parent = m.ParentCondition


# How many keys a report line names before it just counts the rest.
REPORT_KEYS = 20


@dataclass
class EntityDiff:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


@dataclass
class LoadReport:
    version: str
    content_hash: str
    previous_hash: str | None
    citations: EntityDiff
    conditions: EntityDiff
    modalities: EntityDiff
    trials: str | None = None  # what the trial layer holds, when the seed has one

    @property
    def changed(self) -> bool:
        return self.content_hash != self.previous_hash

    def lines(self) -> list[str]:
        release = f"release {self.version} (content {self.content_hash[:12]})"
        if not self.changed:
            return [f"unchanged: {release} is already loaded"]
        out = [f"loaded {release}; was content {(self.previous_hash or 'none')[:12]}"]
        for kind in ("citations", "conditions", "modalities"):
            diff: EntityDiff = getattr(self, kind)
            for verb in ("added", "changed", "removed"):
                keys = getattr(diff, verb)
                if keys:
                    shown = ", ".join(keys[:REPORT_KEYS])
                    more = f" and {len(keys) - REPORT_KEYS} more" if len(keys) > REPORT_KEYS else ""
                    out.append(f"{kind} {verb} ({len(keys)}): {shown}{more}")
        if self.trials:
            out.append(self.trials)
        return out


def _diff(stored: dict[str, str], wanted: dict[str, str]) -> EntityDiff:
    return EntityDiff(
        added=sorted(k for k in wanted if k not in stored),
        changed=sorted(k for k in wanted if k in stored and stored[k] != wanted[k]),
        removed=sorted(k for k in stored if k not in wanted),
    )


def _lock(session: Session) -> None:
    """Serialise seed loads: a second load waits for the first, then sees its result."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEED_LOCK_KEY})


def _write_options(engine: Engine) -> dict[str, str]:
    if engine.dialect.name == "sqlite":
        return {"sqlite_begin": "IMMEDIATE"}
    # READ COMMITTED, unlike the readers' REPEATABLE READ: after waiting for the advisory lock,
    # a load must see what the load before it committed.
    return {"isolation_level": "READ COMMITTED"}


def load_seed(engine: Engine, seed: sf.SeedSet, now: datetime | None = None) -> LoadReport:
    """Write ``seed`` to the database in one transaction and report what changed."""
    try:
        with Session(engine) as session:
            # On SQLite, "BEGIN IMMEDIATE" (see db.py) takes the write lock up front, so two
            # loads cannot both read the old state and then race to write.
            session.connection(execution_options=_write_options(engine))
            _lock(session)
            report = _apply(session, seed, now or datetime.now(UTC))
            session.commit()
            return report
    except OperationalError as exc:
        if "database is locked" in str(exc):
            raise SeedLocked("another seed load holds the database lock; try again") from exc
        raise


def _apply(session: Session, seed: sf.SeedSet, now: datetime) -> LoadReport:
    stored_release = session.execute(select(m.Release.content_hash)).scalar_one_or_none()
    stored = {
        "citations": dict(session.execute(select(m.Citation.key, m.Citation.content_hash)).all()),
        "conditions": dict(
            session.execute(select(m.Condition.slug, m.Condition.content_hash)).all()
        ),
        "modalities": dict(session.execute(select(m.Modality.slug, m.Modality.content_hash)).all()),
    }
    wanted_citations = {c.key: c for c in seed.citations}
    wanted_conditions = {c.slug: c for c in seed.conditions}
    wanted_modalities = {x.slug: x for x in seed.modalities}
    hashes = {
        "citations": {k: sf.canonical_hash(v) for k, v in wanted_citations.items()},
        "conditions": {k: sf.canonical_hash(v) for k, v in wanted_conditions.items()},
        "modalities": {k: sf.canonical_hash(v) for k, v in wanted_modalities.items()},
    }
    # A database upgraded from a release without grade bases keeps its indications until they
    # are rewritten: treat their modalities as changed, whatever their stored hash says.
    stale = _modalities_missing_grade_basis(session)
    # A migration that adds what only a load can fill clears the modalities' hashes.
    stale += [slug for slug, hashed in stored["modalities"].items() if not hashed]
    for slug in stale:
        stored["modalities"][slug] = ""
    # Likewise a database upgraded from a release without the code lookup (or lay terms): its
    # conditions are rewritten and the lookup derived again.
    stale_conditions = _conditions_missing_lookup(session)
    if stale_conditions:
        stored["conditions"] = dict.fromkeys(stored["conditions"], "")
    report = LoadReport(
        version=seed.release.version,
        content_hash=seed.content_hash(),
        previous_hash=stored_release,
        citations=_diff(stored["citations"], hashes["citations"]),
        conditions=_diff(stored["conditions"], hashes["conditions"]),
        modalities=_diff(stored["modalities"], hashes["modalities"]),
        trials=_trials_line(seed.trials),
    )
    # A version names one content, forever: refuse before anything is written.
    kept = session.execute(
        select(m.ReleaseRecord.content_hash).where(
            col(m.ReleaseRecord.version) == seed.release.version
        )
    ).scalar_one_or_none()
    if kept is not None and kept != report.content_hash:
        raise ReleaseConflict(
            f"release {seed.release.version} was loaded before with other content "
            f"({kept[:12]}, these files are {report.content_hash[:12]}); "
            "give the changed content a new version",
            version=seed.release.version,
        )
    if report.changed or stale or stale_conditions:
        _write(session, seed, report, now, hashes, wanted_citations, wanted_conditions)
    if kept is None:
        keep_release(session, now)
    return report


def _write(
    session: Session,
    seed: sf.SeedSet,
    report: LoadReport,
    now: datetime,
    hashes: dict[str, dict[str, str]],
    wanted_citations: dict[str, sf.Citation],
    wanted_conditions: dict[str, sf.Condition],
) -> None:
    wanted_modalities = {x.slug: x for x in seed.modalities}
    # 0. The trial layer is rewritten whole (a few thousand rows): first out, so that no trial
    # row holds on to a condition that goes away; back in at step 4b.
    for trial_table in (m.TrialComparison, m.TrialStudy, m.TrialDataset):
        session.execute(delete(trial_table))

    # 1. Drop modalities that go away or change; their claims and links cascade with them.
    doomed = report.modalities.removed + report.modalities.changed
    if doomed:
        session.execute(delete(m.Modality).where(col(m.Modality.slug).in_(doomed)))

    # 2. Citations: update in place (ids, and so the links of unchanged claims, survive).
    _upsert_citations(session, report.citations, wanted_citations, hashes["citations"])

    # 3. Conditions, then their parents and codes, then the removals.
    _upsert_conditions(session, report.conditions, wanted_conditions, hashes["conditions"])

    # 4. New and changed modalities with all their claims, in bulk.
    fresh = [
        wanted_modalities[s] for s in sorted(report.modalities.added + report.modalities.changed)
    ]
    _insert_modalities(session, fresh, hashes["modalities"])

    # 4b. The trial layer, when the seed has one.
    if seed.trials is not None:
        _insert_trials(session, seed.trials)

    # 5. The search index and the code lookup mirror the content.
    rebuild_search_index(session)
    rebuild_code_lookup(session, seed.conditions)

    # 6. The release row names what is loaded now.
    session.execute(delete(m.Release))
    release = seed.release
    session.execute(
        insert(m.Release).values(
            name=release.name,
            version=release.version,
            license=release.license,
            description=release.description,
            release_date=release.date,
            content_hash=report.content_hash,
            loaded_at=now,
        )
    )


def _trials_line(trials: TrialData | None) -> str | None:
    if trials is None:
        return None
    studies = len({(c.dataset, c.trial_key) for c in trials.comparisons})
    return (
        f"trial layer: {len(trials.datasets)} datasets, {studies} studies,"
        f" {len(trials.comparisons)} comparisons ({len(trials.exclusions)} rows left out)"
    )


def _insert_trials(session: Session, trials: TrialData) -> None:
    """Datasets, then one study per dataset and trial, then every comparison."""
    dataset_ids = _bulk_insert_ids(
        session,
        m.TrialDataset,
        [{**asdict(d), "position": position} for position, d in enumerate(trials.datasets)],
    )
    by_name = {d.name: i for d, i in zip(trials.datasets, dataset_ids, strict=True)}
    studies: dict[tuple[str, str], dict[str, Any]] = {}
    for c in trials.comparisons:
        study = studies.setdefault(
            (c.dataset, c.trial_key),
            {
                "dataset_id": by_name[c.dataset],
                "trial_key": c.trial_key,
                "label": c.study,
                "year": c.year,
                "reference": c.reference,
            },
        )
        if study["reference"] is None:
            study["reference"] = c.reference
    study_ids = dict(
        zip(studies, _bulk_insert_ids(session, m.TrialStudy, list(studies.values())), strict=True)
    )
    condition_ids = _ids(session, m.Condition, m.Condition.slug)
    rows = []
    for c in trials.comparisons:
        row = asdict(c)
        for moved in ("dataset", "study", "trial_key", "reference", "condition"):
            del row[moved]
        row["online"] = "online" in row.pop("also_counts_for")
        rows.append(
            {
                **row,
                "study_id": study_ids[(c.dataset, c.trial_key)],
                "condition_id": condition_ids[c.condition],
            }
        )
    if rows:
        session.execute(insert(m.TrialComparison), rows)


def _conditions_missing_lookup(session: Session) -> bool:
    """Conditions with codes but no code lookup: loaded before the lookup existed."""
    coded = session.execute(select(m.ConditionCode.id).limit(1)).first() is not None
    looked_up = session.execute(select(m.CodeLookup.id).limit(1)).first() is not None
    return coded and not looked_up


def _modalities_missing_grade_basis(session: Session) -> list[str]:
    return list(
        session.execute(
            select(m.Modality.slug)
            .join(m.Indication, col(m.Indication.modality_id) == m.Modality.id)
            .where(col(m.Indication.grade_basis).is_(None))
            .distinct()
        ).scalars()
    )


def _citation_row(citation: sf.Citation, content_hash: str) -> dict[str, Any]:
    row = citation.model_dump(mode="json", exclude={"authors"})
    row["authors"] = [a.model_dump(exclude_none=True) for a in citation.authors]
    row["content_hash"] = content_hash
    return row


def _upsert_citations(
    session: Session, diff: EntityDiff, wanted: dict[str, sf.Citation], hashes: dict[str, str]
) -> None:
    if diff.added:
        session.execute(
            insert(m.Citation), [_citation_row(wanted[k], hashes[k]) for k in diff.added]
        )
    for key in diff.changed:
        session.execute(
            update(m.Citation)
            .where(col(m.Citation.key) == key)
            .values(**_citation_row(wanted[key], hashes[key]))
        )
    if diff.removed:
        session.execute(delete(m.Citation).where(col(m.Citation.key).in_(diff.removed)))


def _upsert_conditions(
    session: Session, diff: EntityDiff, wanted: dict[str, sf.Condition], hashes: dict[str, str]
) -> None:
    def row(slug: str) -> dict[str, Any]:
        c = wanted[slug]
        return {
            "slug": c.slug,
            "name": c.name,
            "aliases": list(c.aliases),
            "lay_terms": list(c.lay_terms),
            "description": c.description,
            "content_hash": hashes[slug],
        }

    touched = diff.added + diff.changed
    if diff.changed:
        # Codes of changed conditions are rewritten; clear them first so a code may move.
        changed_ids = select(m.Condition.id).where(col(m.Condition.slug).in_(diff.changed))
        session.execute(
            delete(m.ConditionCode).where(col(m.ConditionCode.condition_id).in_(changed_ids))
        )
        for slug in diff.changed:
            session.execute(
                update(m.Condition).where(col(m.Condition.slug) == slug).values(**row(slug))
            )
    if diff.added:
        session.execute(insert(m.Condition), [row(s) for s in diff.added])
    if touched:
        ids = _ids(session, m.Condition, m.Condition.slug)
        for slug in touched:
            parent = wanted[slug].parent
            session.execute(
                update(m.Condition)
                .where(col(m.Condition.slug) == slug)
                .values(parent_id=ids[parent] if parent else None)
            )
        codes = [
            {
                "condition_id": ids[slug],
                "system": code.system.value,
                "code": code.code,
                "display": code.display,
                "position": position,
            }
            for slug in touched
            for position, code in enumerate(wanted[slug].codes)
        ]
        if codes:
            session.execute(insert(m.ConditionCode), codes)
    if diff.removed:
        # Children first, so no parent is deleted while a child still points at it.
        removed = set(diff.removed)
        while removed:
            leaves = removed - set(
                session.execute(
                    select(Parent.c.slug)
                    .join(m.Condition, m.Condition.parent_id == Parent.c.id)
                    .where(Parent.c.slug.in_(removed))
                ).scalars()
            )
            if not leaves:  # a cycle; the seed validator rules these out
                raise ValueError(f"conditions form a parent cycle: {sorted(removed)}")
            session.execute(delete(m.Condition).where(col(m.Condition.slug).in_(leaves)))
            removed -= leaves


def _ids(session: Session, table: Any, key_column: Any) -> dict[str, int]:
    return dict(session.execute(select(key_column, table.id)).all())


def _bulk_insert_ids(session: Session, table: Any, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert many rows and return their new ids in the order of ``rows``."""
    if not rows:
        return []
    result = session.execute(
        insert(table).returning(table.id, sort_by_parameter_order=True), list(rows)
    )
    return list(result.scalars())


def _insert_modalities(
    session: Session, modalities: list[sf.Modality], hashes: dict[str, str]
) -> None:
    if not modalities:
        return
    citation_ids = _ids(session, m.Citation, m.Citation.key)
    condition_ids = _ids(session, m.Condition, m.Condition.slug)
    modality_ids = _bulk_insert_ids(
        session,
        m.Modality,
        [
            {
                "slug": x.slug,
                "name": x.name,
                "abbreviation": x.abbreviation,
                "category": x.category.value,
                "aliases": list(x.aliases),
                "summary": x.summary,
                "description": x.description,
                "origin": x.origin,
                "goals": list(x.goals),
                "content_hash": hashes[x.slug],
            }
            for x in modalities
        ],
    )

    links: list[dict[str, Any]] = []

    def link(
        claim_type: ClaimType, modality_id: int, claim_id: int | None, keys: list[str]
    ) -> None:
        column = m.CLAIM_COLUMNS[claim_type]
        for position, key in enumerate(keys):
            row: dict[str, Any] = {
                "claim_type": claim_type.value,
                "modality_id": modality_id,
                "indication_id": None,
                "consideration_id": None,
                "format_id": None,
                "component_id": None,
                "citation_id": citation_ids[key],
                "position": position,
            }
            if column is not None:
                row[column] = claim_id
            links.append(row)

    for modality, modality_id in zip(modalities, modality_ids, strict=True):
        link(ClaimType.modality, modality_id, None, modality.citations)

    def claims(
        claim_type: ClaimType,
        table: Any,
        rows_of: Any,
    ) -> list[tuple[Any, int]]:
        """Insert one kind of claim with its citation links; returns (claim, new id) pairs."""
        rows: list[dict[str, Any]] = []
        cited: list[tuple[Any, int]] = []
        for modality, modality_id in zip(modalities, modality_ids, strict=True):
            for position, (claim, row) in enumerate(rows_of(modality)):
                rows.append({"modality_id": modality_id, "position": position, **row})
                cited.append((claim, modality_id))
        ids = _bulk_insert_ids(session, table, rows)
        for claim_id, (claim, modality_id) in zip(ids, cited, strict=True):
            link(claim_type, modality_id, claim_id, claim.citations)
        return [(claim, claim_id) for claim_id, (claim, _) in zip(ids, cited, strict=True)]

    indications = claims(
        ClaimType.indication,
        m.Indication,
        lambda x: [
            (
                i,
                {
                    "condition_id": condition_ids[i.condition],
                    "evidence": i.evidence.value,
                    "population": i.population.value,
                    "variant": i.variant,
                    "acceptability": [a.model_dump(mode="json") for a in i.acceptability],
                    "harms": [h.model_dump(mode="json") for h in i.harms],
                    "certainty": [c.model_dump(mode="json") for c in i.certainty],
                    "summary": i.summary,
                    "grade_basis": i.grade_basis,
                },
            )
            for i in x.indications
        ],
    )
    _insert_evidence_details(session, indications, citation_ids)
    claims(
        ClaimType.consideration,
        m.Consideration,
        lambda x: [
            # Positions count within each kind, so a claim's path is pros[i] or cons[i].
            (c, {"kind": kind, "statement": c.statement, "detail": c.detail, "position": i})
            for kind, part in (("pro", x.pros), ("con", x.cons))
            for i, c in enumerate(part)
        ],
    )
    claims(ClaimType.format, m.Format, lambda x: [(f, _format_row(f)) for f in x.formats])
    claims(
        ClaimType.component,
        m.Component,
        lambda x: [
            (c, {"kind": c.kind.value, "name": c.name, "description": c.description})
            for c in x.components
        ],
    )
    if links:
        session.execute(insert(m.ClaimCitation), links)


def _insert_evidence_details(
    session: Session, indications: list[tuple[sf.Indication, int]], citation_ids: dict[str, int]
) -> None:
    """The guideline positions and effects of freshly inserted indications."""
    guidelines = [
        {
            "indication_id": indication_id,
            "body": g.body,
            "document": g.document,
            "recommendation": g.recommendation.value,
            "citation_id": citation_ids[g.citation],
            "note": g.note,
            "position": position,
        }
        for indication, indication_id in indications
        for position, g in enumerate(indication.guidelines)
    ]
    effects = [
        {
            "indication_id": indication_id,
            **e.model_dump(mode="json", exclude={"citation"}),
            "citation_id": citation_ids[e.citation],
            "position": position,
        }
        for indication, indication_id in indications
        for position, e in enumerate(indication.effects)
    ]
    if guidelines:
        session.execute(insert(m.IndicationGuideline), guidelines)
    if effects:
        session.execute(insert(m.IndicationEffect), effects)


def _format_row(f: sf.Format) -> dict[str, Any]:
    row: dict[str, Any] = {"delivery": f.delivery.value, "variant": f.variant, "notes": f.notes}
    for name in ("sessions", "weeks", "session_minutes", "group_size"):
        rng: sf.Range | None = getattr(f, name)
        row[f"{name}_min"] = rng.min if rng else None
        row[f"{name}_max"] = rng.max if rng else None
    return row
