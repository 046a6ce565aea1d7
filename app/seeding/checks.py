"""The checks across seed files: one function per rule, each yielding the problems it finds.

``read_seed_dir`` runs every rule in ``CHECKS`` over what it read, after each file on its own
has passed the format (``app.seeding.format``). A rule that needs a file which could not be
read stays quiet about it: that file's own problem is already reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from app.errors import SeedProblem
from app.seeding.format import Citation, Condition, Modality
from app.suggest import suggest

# Seed files are written by hand: suggest only a name that is clearly the one meant.
CUTOFF = 75


@dataclass(frozen=True)
class SeedFiles:
    """What the reader found: each file's label (None when it could not be read) and models."""

    citations_file: str | None
    citations: list[Citation]
    conditions_file: str | None
    conditions: list[Condition]
    modalities: list[tuple[str, Modality]]  # (file, modality) for every valid modality file
    all_modalities_valid: bool
    citation_keys: set[str] = field(init=False)
    condition_slugs: set[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "citation_keys", {c.key for c in self.citations})
        object.__setattr__(self, "condition_slugs", {c.slug for c in self.conditions})


def _did_you_mean(value: str, known: set[str]) -> str:
    close = suggest(value, known, cutoff=CUTOFF)
    return f" (did you mean '{close}'?)" if close else ""


def _claims(modality: Modality) -> Iterator[tuple[str, list[str]]]:
    """Every cited statement of a modality file, with its path in the file."""
    yield "citations", modality.citations
    for part in ("indications", "pros", "cons", "formats", "components"):
        for i, claim in enumerate(getattr(modality, part)):
            yield f"{part}[{i}].citations", claim.citations


def _duplicates(file: str | None, part: str, keys: list[str], what: str) -> Iterator[SeedProblem]:
    """A problem for each entry of a top-level list whose key an earlier entry already has."""
    seen: set[str] = set()
    field = "key" if part == "citations" else "slug"
    for i, key in enumerate(keys):
        if key in seen:
            yield SeedProblem(file or "", f"{part}[{i}].{field}", f"duplicate {what} '{key}'")
        seen.add(key)


def unique_citation_keys(seed: SeedFiles) -> Iterator[SeedProblem]:
    keys = [c.key for c in seed.citations]
    yield from _duplicates(seed.citations_file, "citations", keys, "citation key")


def unique_condition_slugs(seed: SeedFiles) -> Iterator[SeedProblem]:
    slugs = [c.slug for c in seed.conditions]
    yield from _duplicates(seed.conditions_file, "conditions", slugs, "condition slug")


def unique_condition_codes(seed: SeedFiles) -> Iterator[SeedProblem]:
    """A code is one condition's, as a code or as a branch: two claims on it would leave the
    lookup to choose."""
    owners: dict[tuple[str, str], str] = {}
    for i, condition in enumerate(seed.conditions):
        claims = [("codes", j, c.system, c.code) for j, c in enumerate(condition.codes)]
        claims += [
            ("code_branches", j, b.system, b.code) for j, b in enumerate(condition.code_branches)
        ]
        for field_name, j, system, code in claims:
            owner = owners.setdefault((system.value, code), condition.slug)
            if owner != condition.slug:
                yield SeedProblem(
                    seed.conditions_file or "",
                    f"conditions[{i}].{field_name}[{j}].code",
                    f"{system.value} code '{code}' is already used by '{owner}'",
                )


def unique_lay_terms(seed: SeedFiles) -> Iterator[SeedProblem]:
    """A lay term leads to one condition: the same phrase on two would tie in search."""
    owners: dict[str, str] = {}
    for i, condition in enumerate(seed.conditions):
        for j, term in enumerate(condition.lay_terms):
            owner = owners.setdefault(term.casefold(), condition.slug)
            if owner != condition.slug:
                yield SeedProblem(
                    seed.conditions_file or "",
                    f"conditions[{i}].lay_terms[{j}]",
                    f"lay term '{term}' is already used by '{owner}'",
                )


def known_parents(seed: SeedFiles) -> Iterator[SeedProblem]:
    for i, condition in enumerate(seed.conditions):
        if condition.parent is not None and condition.parent not in seed.condition_slugs:
            yield SeedProblem(
                seed.conditions_file or "",
                f"conditions[{i}].parent",
                f"unknown condition '{condition.parent}'"
                + _did_you_mean(condition.parent, seed.condition_slugs),
            )


def parents_without_cycles(seed: SeedFiles) -> Iterator[SeedProblem]:
    """A cycle would loop forever in the API's tree queries."""
    parents = {c.slug: c.parent for c in seed.conditions}
    for i, condition in enumerate(seed.conditions):
        seen = {condition.slug}
        node = condition.parent
        while node is not None:
            if node in seen:
                yield SeedProblem(
                    seed.conditions_file or "",
                    f"conditions[{i}].parent",
                    f"parent chain of '{condition.slug}' forms a cycle",
                )
                break
            seen.add(node)
            node = parents.get(node)


def unique_modality_slugs(seed: SeedFiles) -> Iterator[SeedProblem]:
    first_in: dict[str, str] = {}
    for file, modality in seed.modalities:
        if modality.slug in first_in:
            yield SeedProblem(
                file,
                "slug",
                f"duplicate modality slug '{modality.slug}' (also in {first_in[modality.slug]})",
            )
        else:
            first_in[modality.slug] = file


def known_citations(seed: SeedFiles) -> Iterator[SeedProblem]:
    if seed.citations_file is None:
        return
    for file, modality in seed.modalities:
        for path, keys in _claims(modality):
            for k, key in enumerate(keys):
                if key not in seed.citation_keys:
                    yield SeedProblem(
                        file,
                        f"{path}[{k}]",
                        f"unknown citation '{key}'" + _did_you_mean(key, seed.citation_keys),
                    )


def evidence_cites_the_indications_works(seed: SeedFiles) -> Iterator[SeedProblem]:
    """A guideline position, an effect, a dropout figure, a harm or a certainty rating cites one
    work, which the indication also cites."""
    for file, modality in seed.modalities:
        for i, indication in enumerate(modality.indications):
            for part in ("guidelines", "effects", "acceptability", "harms", "certainty"):
                for j, item in enumerate(getattr(indication, part)):
                    path = f"indications[{i}].{part}[{j}].citation"
                    if seed.citations_file is not None and item.citation not in seed.citation_keys:
                        yield SeedProblem(
                            file,
                            path,
                            f"unknown citation '{item.citation}'"
                            + _did_you_mean(item.citation, seed.citation_keys),
                        )
                    elif item.citation not in indication.citations:
                        yield SeedProblem(
                            file, path, f"'{item.citation}' is not among the indication's citations"
                        )


def known_conditions(seed: SeedFiles) -> Iterator[SeedProblem]:
    if seed.conditions_file is None:
        return
    for file, modality in seed.modalities:
        for i, indication in enumerate(modality.indications):
            if indication.condition not in seed.condition_slugs:
                yield SeedProblem(
                    file,
                    f"indications[{i}].condition",
                    f"unknown condition '{indication.condition}'"
                    + _did_you_mean(indication.condition, seed.condition_slugs),
                )


def every_citation_cited(seed: SeedFiles) -> Iterator[SeedProblem]:
    # Only when every modality file was read: an invalid one may cite what looks unused.
    if not seed.modalities or not seed.all_modalities_valid or seed.citations_file is None:
        return
    used = {key for _, modality in seed.modalities for _, keys in _claims(modality) for key in keys}
    for i, citation in enumerate(seed.citations):
        if citation.key not in used:
            yield SeedProblem(
                seed.citations_file,
                f"citations[{i}]",
                f"citation '{citation.key}' is not cited by any claim",
            )


Check = Callable[[SeedFiles], Iterator[SeedProblem]]

CHECKS: list[Check] = [
    unique_citation_keys,
    unique_condition_slugs,
    unique_condition_codes,
    unique_lay_terms,
    known_parents,
    parents_without_cycles,
    unique_modality_slugs,
    known_citations,
    evidence_cites_the_indications_works,
    known_conditions,
    every_citation_cited,
]


def cross_check(seed: SeedFiles) -> list[SeedProblem]:
    """Every problem every rule finds."""
    return [problem for check in CHECKS for problem in check(seed)]
