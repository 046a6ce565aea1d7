"""The engine and the session factory. Nothing here runs at import time: the engine is built
from ``Settings`` in the app's lifespan (or by the CLI) and handed around explicitly; a request's
session comes from ``app.release.ReleaseDep``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool
from sqlmodel import Session

from app.config import Settings


def create_db_engine(settings: Settings) -> Engine:
    url = make_url(settings.database_url)
    timeout = settings.db_timeout_seconds
    connect_args: dict[str, Any]
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            from pathlib import Path

            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"check_same_thread": False, "timeout": max(timeout, 5.0)}
        engine = create_engine(
            url,
            connect_args=connect_args,
            poolclass=QueuePool,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout_seconds,
            echo=settings.log_sql,
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    # A statement that takes longer than this is cancelled by the server, not left to hang.
    options = f"-c statement_timeout={int(timeout * 1000)}"
    if settings.read_only:
        # The server itself refuses a write from a serving node, whichever server it reaches
        # (a replica refuses writes anyway; the primary would not).
        options += " -c default_transaction_read_only=on"
    connect_args = {"connect_timeout": max(1, int(timeout)), "options": options}
    return create_engine(
        url,
        connect_args=connect_args,
        pool_pre_ping=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        # Each request reads one snapshot, so a seed load committing midway through a request
        # cannot show it half of the old release and half of the new.
        isolation_level="REPEATABLE READ",
        echo=settings.log_sql,
    )


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module (which begins lazily and only
    # before DML), so that _sqlite_on_begin decides how every transaction starts.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # SQLite leaves foreign keys off unless every connection asks for them.
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets readers keep reading the old snapshot while a seed load writes the new one.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    # A seed load asks for IMMEDIATE: it takes the write lock before reading what is stored.
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for requests (``app.release.snapshot`` opens one per request and reads the
    release as its first statement)."""
    return sessionmaker(engine, class_=Session)
