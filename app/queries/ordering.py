"""Text ordered byte by byte on either engine.

A PostgreSQL server set up with a language's collation (glibc's ``en_US``, ICU's English with
punctuation ignored) sorts ``lowland`` before ``low-mood``; SQLite and the ``C`` collation sort
by bytes. Exports must not depend on how a server was set up (the same release has the same
checksum on any install), so what they are ordered by is compared bytewise: ``COLLATE "C"`` on
PostgreSQL, SQLite's default ``BINARY`` elsewhere.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.types import String


class Bytewise(ColumnElement[str]):
    """A text expression compared byte by byte (see the module docstring)."""

    inherit_cache = True
    type = String()

    def __init__(self, clause: ColumnElement[Any]) -> None:
        self.clause = clause


def bytewise(clause: Any) -> Bytewise:
    return Bytewise(clause)


@compiles(Bytewise)
def _default(element: Bytewise, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clause, **kw))


@compiles(Bytewise, "postgresql")
def _postgresql(element: Bytewise, compiler: Any, **kw: Any) -> str:
    return f'{compiler.process(element.clause, **kw)} COLLATE "C"'
