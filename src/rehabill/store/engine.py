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

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from rehabill.settings import Settings

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_KIB = 262_144
SQLITE_MMAP_BYTES = 4 << 30
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
    return engine


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
        immediate = connection.get_execution_options().get(IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_session_factory(engine: Engine, *, immediate: bool = False) -> sessionmaker[Session]:
    """Sessions bound to ``engine``; objects stay usable after commit.

    Args:
        engine: the books' engine.
        immediate: on SQLite, begin every transaction with ``BEGIN IMMEDIATE`` (for writers
            that run while another process writes the same file; see the module docstring).
    """
    bind = engine.execution_options(**{IMMEDIATE: True}) if immediate else engine
    return sessionmaker(bind=bind, expire_on_commit=False)
