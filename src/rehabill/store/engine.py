"""Engines and sessions, built on request (no import-time engine).

SQLite gets foreign keys on, WAL, a busy timeout, and explicit ``BEGIN`` so that savepoints and
transactional DDL work (the pysqlite driver otherwise manages transactions itself).

Two processes writing one SQLite file at once need more: a deferred ``BEGIN`` reads a snapshot
and, if the other process commits before this transaction's first write, that write fails at
once with "database is locked" (SQLite cannot upgrade a stale snapshot, whatever the busy
timeout; sqlite.org/rescode.html#busy_snapshot). Sessions from
``make_session_factory(engine, immediate=True)`` begin with ``BEGIN IMMEDIATE`` instead: the
write lock is taken (waiting up to the busy timeout) before anything is read, so concurrent
writers queue instead of failing. PostgreSQL ignores the flag (its row locks do this).
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from rehabill.settings import Settings

SQLITE_BUSY_TIMEOUT_MS = 30_000
#: How long a writer waiting for SQLite's write lock sleeps between tries.
LOCK_POLL_SECONDS = 0.001
SQLITE_CACHE_KIB = 262_144
#: at most what SQLite builds allow by default (SQLITE_MAX_MMAP_SIZE, just under 2 GiB)
SQLITE_MMAP_BYTES = 2_000_000_000
#: The execution option that makes a SQLite transaction begin with ``BEGIN IMMEDIATE``.
IMMEDIATE = "rehabill_begin_immediate"


def make_engine(url: str | None = None, *, settings: Settings | None = None,
                **kwargs: Any) -> Engine:
    """An engine for ``url``, or for the settings' database when ``url`` is None.

    Args:
        url: a SQLAlchemy URL (``sqlite:///books.db``, ``postgresql+psycopg://...``).
        settings: where to read the URL from when ``url`` is None (default: the environment).
        **kwargs: passed to ``sqlalchemy.create_engine``.

    Returns:
        The engine; for SQLite with the pragmas above applied on every connection.
    """
    target = url or (settings or Settings()).resolved_database_url()
    parsed = make_url(target)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(target, **kwargs)
    if parsed.database in (None, "", ":memory:"):
        kwargs.setdefault("poolclass", StaticPool)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
    engine = create_engine(target, **kwargs)
    _configure_sqlite(engine)
    _bind_none_plainly()
    return engine


#: Gives None back for None, in C (an empty dict's ``get``): ``_bind_none_plainly``'s adapter.
_NONE: Any = {}.get


def _bind_none_plainly() -> None:
    """Have Python 3.11's sqlite3 bind None as NULL without first failing to adapt it.

    The driver adapts every value that is not an exact int, float, str or bytearray; for None,
    finding no adapter, it asks the prepare protocol for ``__adapt__`` and formats the
    AttributeError it gets: about 2,000 instructions per NULL, a tenth of an import's write
    transaction (a month's visits and services bind some 270,000). An adapter registered for
    None is found at once and returns None, which binds NULL as before. Process-wide and
    idempotent; nothing stored changes.
    """
    sqlite3.register_adapter(type(None), _NONE)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(IMMEDIATE, False):
            begin_immediate(connection.connection.driver_connection)
        else:
            connection.exec_driver_sql("BEGIN")


def begin_immediate(dbapi_connection: sqlite3.Connection, *,
                    timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> None:
    """``BEGIN IMMEDIATE``, waiting for the write lock by trying again every millisecond.

    SQLite's own busy handler sleeps longer the longer it waits (up to 100 ms between tries),
    so the write lock often lies free for tens of milliseconds after the other process
    commits; two processes taking turns (the cycle's billers and clerk) lost that at every
    turn. Waiting here instead costs a few microseconds per try.

    Args:
        dbapi_connection: the SQLite connection (its busy timeout is restored after).
        timeout_ms: how long to wait at most.

    Raises:
        sqlite3.OperationalError: the lock was not free within ``timeout_ms``, or another
            error.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    (restore,) = dbapi_connection.execute("PRAGMA busy_timeout").fetchone()
    dbapi_connection.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                busy = exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY  # or BUSY_RECOVERY...
                if not busy or time.monotonic() > deadline:
                    raise
            time.sleep(LOCK_POLL_SECONDS)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout={int(restore)}")


def make_session_factory(engine: Engine, *, immediate: bool = False) -> sessionmaker[Session]:
    """Sessions bound to ``engine``; objects stay usable after commit.

    Args:
        engine: the books' engine.
        immediate: on SQLite, begin every transaction with ``BEGIN IMMEDIATE`` (for writers
            that run while another process writes the same file; see the module docstring).
    """
    bind = engine.execution_options(**{IMMEDIATE: True}) if immediate else engine
    return sessionmaker(bind=bind, expire_on_commit=False)
