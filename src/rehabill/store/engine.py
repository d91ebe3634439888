"""Engines and sessions, built on request (no import-time engine).

SQLite gets foreign keys on, WAL, a busy timeout, and explicit ``BEGIN`` so that savepoints and
transactional DDL work (the pysqlite driver otherwise manages transactions itself).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from rehabill.settings import Settings

SQLITE_BUSY_TIMEOUT_MS = 30_000


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
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine``; objects stay usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)
