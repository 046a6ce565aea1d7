"""Full-text search over modalities, conditions, claims and citations.

Each engine uses its own index (SQLite FTS5, PostgreSQL tsvector + GIN). Both weigh a
document's keywords (a condition's lay terms: "can't sleep") highest, its title next and its
body least, so an everyday phrase ranks the condition it belongs to first. User text never
reaches either query language as syntax: it is cut into word tokens, and each token is quoted
(FTS5) or passed as a bound lexeme (PostgreSQL), so quotes, operators, ``*``, ``NEAR``,
parentheses and SQL fragments are just words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select, text
from sqlmodel import Session

from app import models as m
from app import schemas as s
from app.domain import SearchType
from app.urls import Urls

# Letters and digits only: "_" and every other symbol separate words.
TOKEN_RE = re.compile(r"[^\W_]+", re.UNICODE)
MAX_TOKENS = 12


def tokens(q: str) -> list[str]:
    return TOKEN_RE.findall(q.lower())[:MAX_TOKENS]


SQLITE_SEARCH = text(
    """
    SELECT d.doc_type, d.ref, d.title, d.url,
           snippet(search_fts, -1, '<mark>', '</mark>', '…', 16) AS snippet,
           -bm25(search_fts, 4.0, 1.0, 8.0) AS score
    FROM search_fts JOIN search_document d ON d.id = search_fts.rowid
    WHERE search_fts MATCH :match
      AND (CAST(:doc_type AS text) IS NULL OR d.doc_type = :doc_type)
      AND (CAST(:variant AS text) IS NULL OR d.variant = :variant)
    ORDER BY score DESC, d.id
    LIMIT :limit OFFSET :offset
    """
)
# Without a type there is nothing to join for: every match is ranked on the index alone, and
# only the page's documents are read afterwards (a third of the time for a common word).
SQLITE_SEARCH_ANY = text(
    """
    SELECT rowid AS id, snippet(search_fts, -1, '<mark>', '</mark>', '…', 16) AS snippet,
           -bm25(search_fts, 4.0, 1.0, 8.0) AS score
    FROM search_fts WHERE search_fts MATCH :match
    ORDER BY score DESC, rowid
    LIMIT :limit OFFSET :offset
    """
)
DOCS = m.table(m.SearchDocument)
DOCUMENTS = select(DOCS.c.id, DOCS.c.doc_type, DOCS.c.ref, DOCS.c.title, DOCS.c.url)
SQLITE_COUNT = text("SELECT COUNT(*) FROM search_fts WHERE search_fts MATCH :match")
SQLITE_COUNT_TYPE = text(
    """
    SELECT COUNT(*) FROM search_fts JOIN search_document d ON d.id = search_fts.rowid
    WHERE search_fts MATCH :match
      AND (CAST(:doc_type AS text) IS NULL OR d.doc_type = :doc_type)
      AND (CAST(:variant AS text) IS NULL OR d.variant = :variant)
    """
)
POSTGRES_SEARCH = text(
    """
    SELECT d.doc_type, d.ref, d.title, d.url,
           ts_headline('english', d.title || '. ' || d.body, query,
                       'StartSel=<mark>, StopSel=</mark>, MaxWords=24, MinWords=8') AS snippet,
           ts_rank_cd('{0.1, 0.16, 0.4, 1.0}', d.search_vector, query) AS score
    FROM search_document d, to_tsquery('english', :match) AS query
    WHERE d.search_vector @@ query
      AND (CAST(:doc_type AS text) IS NULL OR d.doc_type = :doc_type)
      AND (CAST(:variant AS text) IS NULL OR d.variant = :variant)
    ORDER BY score DESC, d.id
    LIMIT :limit OFFSET :offset
    """
)
POSTGRES_COUNT = text(
    """
    SELECT COUNT(*) FROM search_document d, to_tsquery('english', :match) AS query
    WHERE d.search_vector @@ query
      AND (CAST(:doc_type AS text) IS NULL OR d.doc_type = :doc_type)
      AND (CAST(:variant AS text) IS NULL OR d.variant = :variant)
    """
)


# Every word must match; the last may be the start of a word ("cogn" finds "cognitive"), as in
# search-as-you-type. Only the last: a prefix match merges the postings of every word it
# starts, which on a large knowledge base costs ten times an exact (stemmed) match.


def _sqlite_match(words: list[str]) -> str:
    # Each token as a quoted FTS5 string; "cogn"* is a prefix query.
    *whole, last = words
    return " ".join([*(f'"{w}"' for w in whole), f'"{last}"*'])


def _postgres_match(words: list[str]) -> str:
    # Tokens are \w+ only, so they cannot carry tsquery syntax; ':*' asks for a prefix match.
    *whole, last = words
    return " & ".join([*whole, f"{last}:*"])


def search(
    session: Session,
    urls: Urls,
    q: str,
    doc_type: SearchType | None,
    limit: int,
    offset: int,
    variant: str | None = None,
) -> s.Page[s.SearchHit]:
    """Ranked hits; with a variant, only the indications and formats of that variant."""
    words = tokens(q)
    if not words:
        return s.Page[s.SearchHit](items=[], total=0, limit=limit, offset=offset)
    sqlite = session.get_bind().dialect.name == "sqlite"
    params = {
        "match": _sqlite_match(words) if sqlite else _postgres_match(words),
        "doc_type": doc_type.value if doc_type else None,
        "variant": variant,
        "limit": limit,
        "offset": offset,
    }
    rows: Sequence[tuple[Any, ...]]
    if not sqlite:
        total = session.execute(POSTGRES_COUNT, params).scalar_one()
        rows = session.execute(POSTGRES_SEARCH, params).all()
    elif doc_type is not None or variant is not None:
        total = session.execute(SQLITE_COUNT_TYPE, params).scalar_one()
        rows = session.execute(SQLITE_SEARCH, params).all()
    else:
        total = session.execute(SQLITE_COUNT, params).scalar_one()
        rows = _with_documents(session, session.execute(SQLITE_SEARCH_ANY, params).all())
    items = [
        s.SearchHit(
            type=doc_type_,
            id=ref,
            title=title,
            snippet=snippet,
            url=urls.absolute(url),  # the index keeps paths: one index for every host
            score=round(float(score), 6),
        )
        for doc_type_, ref, title, url, snippet, score in rows
    ]
    return s.Page[s.SearchHit](items=items, total=total, limit=limit, offset=offset)


def _with_documents(session: Session, hits: Sequence[Row[Any]]) -> list[tuple[Any, ...]]:
    """(type, ref, title, url, snippet, score) for ranked (id, snippet, score) hits."""
    found = session.execute(DOCUMENTS.where(DOCS.c.id.in_([h.id for h in hits])))
    docs = {doc.id: tuple(doc)[1:] for doc in found}  # id -> (type, ref, title, url)
    return [(*docs[h.id], h.snippet, h.score) for h in hits]
