"""Our records as FHIR R5 resources (plain JSON-ready dicts): one function per resource.

docs/fhir.md is the mapping table; tests/test_fhir.py parses every resource the server can
answer with the ``fhir.resources`` R5 models.
"""

from __future__ import annotations

from app import __version__
from app import models as m
from app import schemas as s
from app.domain import EVIDENCE_DEFINITIONS, Comparator, ComponentKind, EffectMeasure, Evidence
from app.fhir.terminology import (
    CERTAINTY_OF,
    CERTAINTY_RATING,
    COMPARATOR_TEXT,
    DELIVERY_TITLES,
    EVIDENCE_LEVEL_ID,
    FHIR_JSON,
    FHIR_VERSION,
    ICD_SYSTEMS,
    KIND_TITLES,
    POPULATION_TEXT,
    REVIEW_CERTAINTY,
    STATISTIC_OF,
    STATISTIC_TYPE,
    UCUM,
    WORK_IDENTIFIERS,
    Canonical,
    Json,
    coding,
    concept,
)
from app.queries.fhir import IndicationKey, IndicationRecord


def _drop_empty(resource: Json) -> Json:
    """FHIR forbids empty elements: null, empty strings, lists and objects are left out."""
    return {k: v for k, v in resource.items() if v not in (None, "", [], {})}


# Ids. FHIR ids allow letters, digits, '-' and '.'; slugs and populations have no dots, so a
# dot joins the parts of a natural key and each id maps back to its record.


def citation_id(key: str) -> str:
    return key.replace("_", ".")  # citation keys may hold '_', never '.'


def citation_key(fhir_id: str) -> str:
    return fhir_id.replace(".", "_")


def evidence_id(indication_id: str) -> str:
    """The indication's id with '.' for ':' (FHIR ids allow no colon)."""
    return indication_id.replace(":", ".")


def indication_key(fhir_id: str) -> IndicationKey | None:
    parts = fhir_id.split(".")
    return IndicationKey(*parts) if len(parts) in (3, 4) else None


def _common(resource_type: str, fhir_id: str, release: m.Release, canon: Canonical) -> Json:
    """The metadata every resource of a release shares."""
    return {
        "resourceType": resource_type,
        "id": fhir_id,
        "url": canon.resource(resource_type, fhir_id),
        "version": release.version,
        "status": "active",
        "date": release.release_date.isoformat(),
        "publisher": release.name,
    }


def cited(
    keys: list[str], titles: dict[str, str], canon: Canonical, kind: str = "citation"
) -> list[Json]:
    return [
        _drop_empty(
            {
                "type": kind,
                "display": titles.get(key),
                "resource": canon.resource("Citation", citation_id(key)),
                "resourceReference": {"reference": f"Citation/{citation_id(key)}"},
            }
        )
        for key in keys
    ]


def condition_concept(i: s.Indication) -> Json:
    """ICD-10-CM and ICD-11 codings; a condition without codes is named in text only."""
    return concept(
        *(coding(ICD_SYSTEMS[c.system], c.code, c.display) for c in i.codes),
        text=i.condition_name,
    )


# PlanDefinition ------------------------------------------------------------------------------


def computable_name(text: str) -> str:
    """A name a machine can use (FHIR's ``[A-Z][A-Za-z0-9_]*``): ``IPT``, ``OnlineTherapy``."""
    words = "".join(ch if ch.isalnum() else " " for ch in text).split()
    name = "".join(w[:1].upper() + w[1:] for w in words)
    return name if name[:1].isalpha() else f"M{name}"


def plan_definition(
    x: s.ModalityDetail, titles: dict[str, str], release: m.Release, canon: Canonical
) -> Json:
    """A modality as a treatment protocol: its formats and components are its actions."""
    own_keys = list(
        dict.fromkeys([*x.citations, *(k for c in x.pros + x.cons for k in c.citations)])
    )
    usage = "\n".join(
        [
            *(f"- Pro: {c.statement}" + (f". {c.detail}" if c.detail else "") for c in x.pros),
            *(f"- Con: {c.statement}" + (f". {c.detail}" if c.detail else "") for c in x.cons),
        ]
    )
    kinds = dict.fromkeys(c.kind for c in x.components)  # in the order the seed gives them
    actions = [_components_action(kind, x.components, titles, canon) for kind in kinds]
    if x.formats:
        actions.append(
            {
                "title": "Formats",
                "description": "The usual ways of delivering it, with their numbers.",
                "groupingBehavior": "logical-group",
                "action": [_format_action(f, titles, canon) for f in x.formats],
            }
        )
    return _drop_empty(
        _common("PlanDefinition", x.slug, release, canon)
        | {
            "identifier": [{"system": canon.identifiers("modality"), "value": x.slug}],
            "name": computable_name(x.abbreviation),
            "title": x.name,
            "subtitle": x.abbreviation,
            "type": concept(
                coding(
                    "http://terminology.hl7.org/CodeSystem/plan-definition-type",
                    "clinical-protocol",
                    "Clinical Protocol",
                )
            ),
            "description": f"{x.description.strip()}\n\n{x.origin.strip()}",
            "purpose": x.summary,
            "usage": usage,
            "topic": [concept(coding(canon.code_system("modality-category"), x.category.value))],
            "copyright": f"Licensed under {release.license}.",
            "copyrightLabel": release.license,
            "relatedArtifact": cited(own_keys, titles, canon),
            "goal": [{"description": {"text": goal}} for goal in x.goals],
            "action": actions,
        }
    )


def _components_action(
    kind: ComponentKind, components: list[s.Component], titles: dict[str, str], canon: Canonical
) -> Json:
    return {
        "title": KIND_TITLES[kind],
        "code": concept(coding(canon.code_system("component-kind"), kind.value)),
        "groupingBehavior": "logical-group",
        "action": [
            _drop_empty(
                {
                    "title": c.name,
                    "description": c.description,
                    "documentation": cited(c.citations, titles, canon),
                }
            )
            for c in components
            if c.kind is kind
        ],
    }


def _format_action(f: s.Format, titles: dict[str, str], canon: Canonical) -> Json:
    repeat: Json = {}
    said = []
    if f.sessions is not None:
        said.append(_span(f.sessions, "session"))
        # count is a positive integer: a range from zero is said in words only.
        if f.sessions.min > 0:
            repeat["count"] = f.sessions.min
            if f.sessions.max > f.sessions.min:
                repeat["countMax"] = f.sessions.max
    if f.session_minutes is not None:
        said.append(f"of {_span(f.session_minutes, 'minute')}")
        repeat |= {"duration": f.session_minutes.min, "durationUnit": "min"}
        if f.session_minutes.max > f.session_minutes.min:
            repeat["durationMax"] = f.session_minutes.max
    if f.weeks is not None:
        said.append(f"over {_span(f.weeks, 'week')}")
        repeat["boundsRange"] = {
            "low": {"value": f.weeks.min, "unit": "wk", "system": UCUM, "code": "wk"},
            "high": {"value": f.weeks.max, "unit": "wk", "system": UCUM, "code": "wk"},
        }
    if f.group_size is not None:
        said.append(f"in groups of {f.group_size.min}-{f.group_size.max}")
    return _drop_empty(
        {
            "title": DELIVERY_TITLES[f.delivery],
            "description": f.notes,
            "textEquivalent": " ".join(said).capitalize() + "." if said else None,
            "code": concept(coding(canon.code_system("delivery"), f.delivery.value)),
            "documentation": cited(f.citations, titles, canon),
            "timingTiming": {"repeat": repeat} if repeat else None,
        }
    )


def _span(r: s.Range, unit: str) -> str:
    amount = f"{r.min}" if r.min == r.max else f"{r.min}-{r.max}"
    return f"{amount} {unit}{'' if r.max == 1 else 's'}"


# Evidence ------------------------------------------------------------------------------------


def _variable_role(code: str) -> Json:
    return concept(coding("http://terminology.hl7.org/CodeSystem/variable-role", code))


def evidence(
    r: IndicationRecord, titles: dict[str, str], release: m.Release, canon: Canonical
) -> Json:
    """An indication as a graded finding: population, intervention, certainty, statistics."""
    i = r.indication
    population = f"{POPULATION_TEXT[i.population]} with {i.condition_name.lower()}"
    return _drop_empty(
        _common("Evidence", evidence_id(i.id), release, canon)
        | {
            "title": f"{r.abbreviation}{f' ({i.variant})' if i.variant else ''} for"
            f" {i.condition_name} ({i.population.value})",
            "description": i.summary,
            "useContext": [
                {
                    "code": coding(
                        "http://terminology.hl7.org/CodeSystem/usage-context-type",
                        "focus",
                        "Clinical Focus",
                    ),
                    "valueCodeableConcept": condition_concept(i),
                }
            ],
            "copyright": f"Licensed under {release.license}.",
            "relatedArtifact": [
                {
                    "type": "depends-on",
                    "label": "intervention",
                    "display": r.modality_name,
                    "resource": canon.resource("PlanDefinition", r.modality),
                    "resourceReference": {"reference": f"PlanDefinition/{r.modality}"},
                },
                *cited(i.citations, titles, canon),
                *(_guideline(g, titles, canon) for g in i.guidelines),
                *(_dataset(d) for d in (i.trial_basis.datasets if i.trial_basis else [])),
            ],
            "contained": [
                {
                    "resourceType": "EvidenceVariable",
                    "id": "intervention",
                    "status": "active",
                    "title": r.modality_name,
                    "characteristic": [
                        {"definitionCanonical": canon.resource("PlanDefinition", r.modality)}
                    ],
                }
            ],
            "variableDefinition": [
                {
                    "description": population,
                    "variableRole": _variable_role("population"),
                },
                {
                    "description": f"{r.modality_name} ({r.abbreviation})",
                    "variableRole": _variable_role("exposure"),
                    "observed": {"reference": "#intervention", "display": r.modality_name},
                },
            ],
            "statistic": [
                *(_statistic(e, titles) for e in i.effects),
                *([_pooled_statistic(i.trial_basis)] if i.trial_basis else []),
            ],
            "note": [{"text": text} for text in _acceptability_and_harms(i, titles)] or None,
            "certainty": [_certainty(i, titles, release, canon)],
        }
    )


def _certainty(
    i: s.Indication, titles: dict[str, str], release: m.Release, canon: Canonical
) -> Json:
    """Our level, and under it each cited review's own rating of its evidence (our levels and
    GRADE's share no scale: the review's rating is a subcomponent, rated by the review)."""
    level, basis = i.evidence, i.grade_basis
    code, display = CERTAINTY_OF[level]
    return _drop_empty(
        {
            "subcomponent": [_review_certainty(c, titles) for c in i.certainty] or None,
            "description": basis,
            "type": concept(
                coding(
                    "http://terminology.hl7.org/CodeSystem/certainty-type",
                    "Overall",
                )
            ),
            "rating": concept(
                coding(CERTAINTY_RATING, code, display),
                coding(canon.evidence_level, level.value),
                text=level.value,
            ),
            "rater": release.name,
        }
    )


def _review_certainty(c: s.CertaintyRating, titles: dict[str, str]) -> Json:
    code, display = REVIEW_CERTAINTY[c.rating]
    text = f"{c.comparison} ({c.system})"
    if c.highest is not None:
        text += f"; rated {c.rating.value} to {c.highest.value}"
    if c.note:
        text += f". {c.note}"
    return _drop_empty(
        {
            "description": text,
            "type": concept(
                coding("http://terminology.hl7.org/CodeSystem/certainty-type", "Overall")
            ),
            "rating": concept(coding(CERTAINTY_RATING, code, display), text=c.rating.value),
            "rater": titles.get(c.citation, c.citation),
        }
    )


def _statistic(e: s.Effect, titles: dict[str, str]) -> Json:
    (code, display), name = STATISTIC_OF[e.measure]
    source = titles.get(e.citation, e.citation)
    notes = [
        e.note,
        _oriented_note(e),
        f"Stated in: {source} (Citation/{citation_id(e.citation)}).",
    ]
    has_size = e.studies is not None or e.participants is not None
    return _drop_empty(
        {
            "description": f"{name[:1].upper()}{name[1:]} against "
            f"{COMPARATOR_TEXT[e.comparator]}: {e.outcome}",
            "note": [{"text": text} for text in notes if text],
            "statisticType": concept(coding(STATISTIC_TYPE, code, display), text=name),
            "quantity": {"value": e.value},
            "sampleSize": _drop_empty(
                {"numberOfStudies": e.studies, "numberOfParticipants": e.participants}
            )
            if has_size
            else None,
            "attributeEstimate": [
                {
                    "description": "95% interval, as the source states it",
                    "type": concept(
                        coding(
                            "http://terminology.hl7.org/CodeSystem/attribute-estimate-type",
                            "C53324",
                            "Confidence interval",
                        )
                    ),
                    "level": 0.95,
                    "range": {"low": {"value": e.ci_low}, "high": {"value": e.ci_high}},
                }
            ]
            if e.ci_low is not None and e.ci_high is not None
            else None,
        }
    )


def _pooled_statistic(b: s.IndicationTrialBasis) -> Json:
    """The pooled trial figure the level was graded by (our own computation on the trial
    datasets), with its model, intervals, heterogeneity and sample size. Codes only where the
    standard code systems are already used for the recorded effects; the rest is text."""
    (code, display), _ = STATISTIC_OF[EffectMeasure.g]
    against = ", ".join(COMPARATOR_TEXT[Comparator(c)] for c in b.comparators)
    low = b.low_risk_of_bias
    if low.check == "not-assessable":
        low_text = (
            f"Low-risk-of-bias check not assessable: {low.k_studies} of the studies rated at low"
            f" risk of bias (3 needed). Reproduce: {low.url}"
        )
    else:
        low_text = (
            f"In the {low.k_studies} studies at low risk of bias alone: g {low.estimate:.4g}"
            f" (95% interval {low.ci_low:.4g} to {low.ci_high:.4g}); the effect"
            f" {'holds' if low.check == 'holds' else 'is not shown there'}. Reproduce:"
            f" {low.url}"
        )
    notes = [
        "Pooled by this knowledge base from randomised trials in the datasets named in"
        f" relatedArtifact; positive values favour the therapy. Comparators: {b.reason}.",
        low_text,
        None
        if b.population_stated
        else "The datasets record no ages: the figure covers trials of any age.",
        None
        if b.decides
        else "This figure does not decide the level (one study, or waiting lists alone).",
        f"Reproduce: {b.url}",
    ]
    estimates: list[Json] = [
        {
            "description": "95% confidence interval (Hartung-Knapp)",
            "type": concept(
                coding(
                    "http://terminology.hl7.org/CodeSystem/attribute-estimate-type",
                    "C53324",
                    "Confidence interval",
                )
            ),
            "level": 0.95,
            "range": {"low": {"value": b.ci_low}, "high": {"value": b.ci_high}},
        }
    ]
    if b.pi_low is not None and b.pi_high is not None:
        estimates.append(
            {
                "description": "95% prediction interval: where the effect of a new, similar"
                " trial is expected",
                "type": concept(text="Prediction interval"),
                "level": 0.95,
                "range": {"low": {"value": b.pi_low}, "high": {"value": b.pi_high}},
            }
        )
    if b.tau2 is not None:
        estimates.append(
            {
                "description": "Between-study variance, tau² (REML)",
                "type": concept(text="Tau squared"),
                "quantity": {"value": b.tau2},
            }
        )
    if b.i2 is not None:
        estimates.append(
            {
                "description": "I²: the share of the variation between trials not due to chance",
                "type": concept(text="I-squared"),
                "quantity": {"value": b.i2, "unit": "%", "system": UCUM, "code": "%"},
            }
        )
    if b.egger_p is not None:
        estimates.append(
            {
                "description": "Egger's regression test for small-study effects (p-value)",
                "type": concept(text="Egger's test p-value"),
                "quantity": {"value": b.egger_p},
            }
        )
    return _drop_empty(
        {
            "description": f"Hedges' g pooled from randomised trials against {against}",
            "note": [{"text": text} for text in notes if text],
            "statisticType": concept(coding(STATISTIC_TYPE, code, display), text="Hedges' g"),
            "quantity": {"value": b.estimate},
            "sampleSize": _drop_empty(
                {"numberOfStudies": b.k_studies, "numberOfParticipants": b.participants}
            ),
            "attributeEstimate": estimates,
            "modelCharacteristic": [
                {
                    "code": concept(
                        text="Random-effects model, between-study variance estimated by"
                        " restricted maximum likelihood (REML)"
                    )
                },
                {
                    "code": concept(
                        text="Hartung-Knapp (Sidik-Jonkman) method for the interval: t"
                        " distribution on k - 1 degrees of freedom"
                    )
                },
                {
                    "code": concept(
                        text="Comparisons within one trial and comparator class merged first,"
                        " assuming a correlation of 0.6"
                    )
                },
            ],
        }
    )


def _dataset(d: s.DatasetAttribution) -> Json:
    """A trial dataset the pooled figure comes from, credited with its version and DOI."""
    return {
        "type": "citation",
        "label": "trial dataset",
        "display": f"Metapsy {d.name}, version {d.version} ({d.licence})",
        "citation": f"Metapsy {d.name}, version {d.version}. doi:{d.doi}. Licence {d.licence}.",
        "document": {"url": f"https://doi.org/{d.doi}", "title": f"Metapsy {d.name}"},
    }


def _acceptability_and_harms(i: s.Indication, titles: dict[str, str]) -> list[str]:
    """Dropout figures and harms as notes, each naming its source."""

    def source(key: str) -> str:
        return f"{titles.get(key, key)} (Citation/{citation_id(key)})"

    notes = []
    for a in i.acceptability:
        interval = (
            f" (95% interval {a.ci_low:g} to {a.ci_high:g})"
            if a.ci_low is not None and a.ci_high is not None
            else ""
        )
        against = f" against {COMPARATOR_TEXT[a.comparator]}" if a.comparator else ""
        theirs = f" ({a.comparator_value:g} with the comparator)" if a.comparator_value else ""
        caveat = f" {a.note}" if a.note else ""
        notes.append(
            f"Acceptability: {a.outcome}, {a.measure.value} {a.value:g}{interval}{theirs}"
            f"{against}.{caveat} Stated in: {source(a.citation)}."
        )
    notes += [f"Harms: {h.statement} Stated in: {source(h.citation)}." for h in i.harms]
    return notes


def _oriented_note(e: s.Effect) -> str | None:
    """The direction, and the figure turned to favour the therapy, as a note: the quantity
    stays the source's own figure."""
    if e.direction is None or e.oriented is None:
        return None
    o = e.oriented
    interval = (
        f" (95% interval {o.ci_low:.4g} to {o.ci_high:.4g})"
        if o.ci_low is not None and o.ci_high is not None
        else ""
    )
    no_effect = e.measure.null_value
    return (
        f"Direction: {e.direction.value}. Oriented so that above {no_effect:g} favours the"
        f" therapy: {o.value:.4g}{interval}."
    )


def _guideline(g: s.GuidelinePosition, titles: dict[str, str], canon: Canonical) -> Json:
    position = f"{g.body}, {g.document}: {g.recommendation.value}"
    return _drop_empty(
        {
            "type": "justification",
            "label": g.recommendation.value,
            "display": f"{position}. {g.note}" if g.note else position,
            "resource": canon.resource("Citation", citation_id(g.citation)),
            "resourceReference": {"reference": f"Citation/{citation_id(g.citation)}"},
        }
    )


# Citation ------------------------------------------------------------------------------------


def citation(c: s.Citation, release: m.Release, canon: Canonical) -> Json:
    """A cited work, with its DOI, PubMed and other identifiers."""
    identifiers = [
        {"system": system, "value": value}
        for field, system in WORK_IDENTIFIERS.items()
        if (value := getattr(c, field))
    ]
    web = [{"url": f"https://doi.org/{c.doi}"}] if c.doi else []
    if c.source_url:
        web.append({"url": c.source_url})
    form = _drop_empty(
        {
            "publishedIn": _drop_empty(
                {
                    "title": c.container_title,
                    "publisher": {"display": c.publisher} if c.publisher else None,
                }
            ),
            "volume": c.volume,
            "issue": c.issue,
            "pageString": c.pages,
            "publicationDateText": str(c.year) if c.year else None,
        }
    )
    authors = [
        {"contributor": {"display": _author(a)}, "rankingOrder": n}
        for n, a in enumerate(c.authors, start=1)
    ]
    return _drop_empty(
        _common("Citation", citation_id(c.key), release, canon)
        | {
            "identifier": [{"system": canon.identifiers("citation-key"), "value": c.key}],
            "title": c.title,
            "note": [{"text": c.note}] if c.note else None,
            "citedArtifact": _drop_empty(
                {
                    "identifier": identifiers,
                    "title": [{"text": c.title}],
                    "classification": [
                        {
                            "classifier": [
                                concept(coding(canon.code_system("csl-type"), c.type.value))
                            ]
                        }
                    ],
                    "publicationForm": [form] if form else None,
                    "webLocation": web,
                    "contributorship": {"complete": True, "entry": authors} if authors else None,
                }
            ),
        }
    )


def _author(a: s.Author) -> str:
    if a.literal:
        return a.literal
    return f"{a.family}, {a.given}" if a.given else a.family or ""


# Bundle and CapabilityStatement --------------------------------------------------------------


def searchset(total: int, entries: list[Json], base: str, links: dict[str, str]) -> Json:
    """A page of search results; ``links`` maps relation (self, next, previous) to URL."""
    return _drop_empty(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": total,
            "link": [{"relation": rel, "url": url} for rel, url in links.items()],
            "entry": [
                {
                    "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                    "resource": r,
                    "search": {"mode": "match"},
                }
                for r in entries
            ],
        }
    )


def capability_statement(
    release: m.Release,
    base: str,
    search_params: dict[str, list[Json]],
    rest_doc: str,
    canon: Canonical,
) -> Json:
    """What this server does: read and search of three resource types, JSON only."""
    return {
        "resourceType": "CapabilityStatement",
        "id": "therapy-kb",
        "url": canon.resource("CapabilityStatement", "therapy-kb"),
        "version": release.version,
        "name": "TherapyKb",
        "title": "therapy-kb FHIR R5 server",
        "status": "active",
        "experimental": False,
        "date": release.release_date.isoformat(),
        "publisher": release.name,
        "description": "A read-only FHIR R5 view of a cited knowledge base of psychotherapy"
        " modalities: treatment protocols (PlanDefinition), graded findings per condition"
        " (Evidence) and the works they cite (Citation).",
        "kind": "instance",
        "software": {"name": "therapy-kb", "version": __version__},
        "implementation": {"description": f"{release.name} {release.version}", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": ["json", FHIR_JSON],
        "rest": [
            {
                "mode": "server",
                "documentation": rest_doc,
                "resource": [
                    {
                        "type": resource_type,
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": params,
                    }
                    for resource_type, params in search_params.items()
                ]
                # The code systems of our own vocabularies that are served, read by their id.
                + [{"type": "CodeSystem", "interaction": [{"code": "read"}]}],
            }
        ],
    }


# CodeSystem ----------------------------------------------------------------------------------


def evidence_level_code_system(release: m.Release, canon: Canonical) -> Json:
    """Our evidence levels, the codes of every Evidence's certainty rating beside GRADE's, as a
    CodeSystem at their system URL: each with its definition and rank (higher is stronger)."""
    return _drop_empty(
        {
            **_common("CodeSystem", EVIDENCE_LEVEL_ID, release, canon),
            "url": canon.evidence_level,
            "name": "EvidenceLevel",
            "title": f"{release.name} evidence levels",
            "description": "How strong the evidence for an indication is, by the knowledge base's"
            " written grading rubric; strongest first. Each maps to a GRADE certainty rating"
            " (docs/fhir.md).",
            "caseSensitive": True,
            "content": "complete",
            "count": len(Evidence),
            "property": [
                {
                    "code": "rank",
                    "description": "The level's order: higher is stronger.",
                    "type": "integer",
                }
            ],
            "concept": [
                {
                    "code": level.value,
                    "display": level.value.capitalize(),
                    "definition": EVIDENCE_DEFINITIONS[level],
                    "property": [{"code": "rank", "valueInteger": level.rank}],
                }
                for level in Evidence
            ],
        }
    )
