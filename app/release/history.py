"""The history of releases: differences between two kept releases, computed from their JSON
exports, and the suggested citation of the current one.

Everything is keyed by ids that survive edits: a modality or condition by its slug, a citation
by its key, an indication by its id (``modality:condition:population[:variant]``, derived for
releases whose exports predate it), a pro or con by its modality and
statement, a component by its modality, kind and name, a format by its modality and delivery.
Positions (``ipt#indications[0]``) are not used: inserting one indication would renumber the rest.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from app import schemas as s
from app.domain import indication_id as make_indication_id

TITLE = "a cited knowledge base of psychotherapy modalities"
# Modality fields that are claims of their own, compared as claims rather than as fields.
CLAIM_LISTS = ("indications", "pros", "cons", "formats", "components", "included_citations")


def indication_id(modality: str, indication: dict[str, Any]) -> str:
    """The indication's own id; an export from before ids were exported gets the same one,
    built from its parts (those releases had no variants), so diffs across the change match."""
    if "id" in indication:
        return str(indication["id"])
    population = indication.get("population")
    if population is None:  # the first releases had no populations
        return f"{modality}:{indication['condition']}"
    return make_indication_id(modality, indication["condition"], population)


def _claims(modality: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    slug = modality["slug"]
    for kind in ("pros", "cons"):
        for c in modality[kind]:
            yield f"{slug}:{kind[:-1]}:{c['statement']}", c
    for c in modality["components"]:
        yield f"{slug}:component:{c['kind']}:{c['name']}", c
    for f in modality["formats"]:
        yield f"{slug}:format:{f['delivery']}", f


def _unique(pairs: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Ids made unique by a counter when a modality repeats one (two group formats)."""
    out: dict[str, dict[str, Any]] = {}
    for key, value in pairs:
        candidate, n = key, 1
        while candidate in out:
            n += 1
            candidate = f"{key} ({n})"
        out[candidate] = value
    return out


def _entities(snapshot: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    modalities = snapshot["modalities"]
    return {
        "modalities": {
            x["slug"]: {k: v for k, v in x.items() if k not in CLAIM_LISTS} for x in modalities
        },
        "conditions": {c["slug"]: c for c in snapshot["conditions"]},
        "indications": _unique(
            (indication_id(x["slug"], i), i) for x in modalities for i in x["indications"]
        ),
        "claims": _unique(pair for x in modalities for pair in _claims(x)),
        "citations": {c["key"]: c for c in snapshot["citations"]},
        # A release from before the trial layer has none.
        "datasets": {d["name"]: d for d in snapshot["release"].get("datasets", [])},
    }


# An indication's id and address follow from its other fields, and older exports lack them.
DERIVED_FIELDS = frozenset({"id", "record"})


def _changed_fields(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    keys = (old.keys() | new.keys()) - DERIVED_FIELDS
    return sorted(k for k in keys if old.get(k) != new.get(k))


def _section(
    name: str, old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]
) -> s.DiffSection:
    changed = []
    for key in sorted(old.keys() & new.keys()):
        fields = _changed_fields(old[key], new[key])
        if not fields:
            continue
        change = s.DiffChange(id=key, fields=fields)
        if name == "indications" and "evidence" in fields:
            change.old_evidence = old[key]["evidence"]
            change.new_evidence = new[key]["evidence"]
        if name == "datasets" and "version" in fields:
            change.old_version = old[key]["version"]
            change.new_version = new[key]["version"]
        changed.append(change)
    return s.DiffSection(
        added=sorted(new.keys() - old.keys()),
        removed=sorted(old.keys() - new.keys()),
        changed=changed,
    )


def diff(old_json: bytes, new_json: bytes) -> s.ReleaseDiff:
    old, new = json.loads(old_json), json.loads(new_json)
    before, after = _entities(old), _entities(new)
    return s.ReleaseDiff(
        old=old["release"]["version"],
        new=new["release"]["version"],
        old_content_hash=old["release"]["content_hash"],
        new_content_hash=new["release"]["content_hash"],
        **{name: _section(name, before[name], after[name]) for name in before},
    )


def markdown(d: s.ReleaseDiff) -> str:
    """The diff as a changelog section: grade changes first, then each kind of entity."""
    lines = [f"## Content changes from {d.old} to {d.new}", ""]
    grades = [c for c in d.indications.changed if c.old_evidence != c.new_evidence]
    if grades:
        lines += ["### Evidence levels", ""]
        lines += [f"- {c.id}: {c.old_evidence} → {c.new_evidence}" for c in grades]
        lines.append("")
    for name in ("modalities", "conditions", "indications", "claims", "citations", "datasets"):
        section: s.DiffSection = getattr(d, name)
        if section.empty:
            continue
        lines += [f"### {'Trial datasets' if name == 'datasets' else name.capitalize()}", ""]
        lines += [
            f"- version: {c.id} {c.old_version} → {c.new_version}"
            for c in section.changed
            if c.old_version is not None
        ]
        lines += [f"- added: {key}" for key in section.added]
        lines += [f"- removed: {key}" for key in section.removed]
        lines += [f"- changed: {c.id} ({', '.join(c.fields)})" for c in section.changed]
        lines.append("")
    if len(lines) == 2:
        lines += ["No content changes.", ""]
    return "\n".join(lines)


def suggested_citation(release: s.Meta, export: str) -> s.SuggestedCitation:
    """The current release as a reference: version and content hash pin the exact data, at
    ``export``, the absolute address of its JSON export (``Urls.export``)."""
    year = release.release_date.year
    text = (
        f"{release.name} (version {release.version}, released "
        f"{release.release_date.isoformat()}). {release.description.strip()} "
        f"Licence {release.license}. Content sha256:{release.content_hash}. "
        f"Data: {export}."
    )
    key = "".join(ch for ch in release.name if ch.isalnum()) + release.version.replace(".", "_")
    bibtex = "\n".join(
        [
            f"@misc{{{key},",
            f"  title = {{{{{release.name}}}: {TITLE}}},",
            f"  version = {{{release.version}}},",
            f"  year = {{{year}}},",
            f"  date = {{{release.release_date.isoformat()}}},",
            f"  note = {{Licence {release.license}; content sha256:{release.content_hash}}},",
            f"  howpublished = {{{export}}},",
            "}",
        ]
    )
    return s.SuggestedCitation(text=text, bibtex=bibtex)
