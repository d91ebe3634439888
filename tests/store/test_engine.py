"""Settings and engines: built on request, SQLite by default, the URL from the environment."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from rehabill.settings import Settings
from rehabill.store import make_engine, make_session_factory


def test_settings__default_is_a_sqlite_file_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REHABILL_DATABASE_URL", raising=False)
    monkeypatch.delenv("REHABILL_DB_PATH", raising=False)
    assert Settings().resolved_database_url() == "sqlite:///rehabill.db"


def test_settings__url_wins_over_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REHABILL_DB_PATH", "/tmp/x.db")
    assert Settings().resolved_database_url() == "sqlite:////tmp/x.db"
    monkeypatch.setenv("REHABILL_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert Settings().resolved_database_url() == "postgresql+psycopg://u@h/db"


def test_make_engine__sqlite_has_foreign_keys_and_wal(tmp_path: Path) -> None:
    engine = make_engine(settings=Settings(db_path=tmp_path / "b.db"))
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()
    assert (tmp_path / "b.db").exists()


def _race(factory: sessionmaker[Session]) -> list[BaseException]:
    """One writer reads, another writer commits, then the first writes: what failed."""
    failed: list[BaseException] = []
    first_read, second_done = threading.Event(), threading.Event()

    def first() -> None:
        try:
            with factory() as session, session.begin():
                session.execute(text("SELECT count(*) FROM t")).scalar()
                first_read.set()
                second_done.wait(1.0)  # deferred: the other commits now; immediate: it queues
                session.execute(text("INSERT INTO t VALUES (1)"))
        except OperationalError as error:
            failed.append(error)
        finally:
            first_read.set()

    def second() -> None:
        first_read.wait()
        with factory() as session, session.begin():
            session.execute(text("INSERT INTO t VALUES (2)"))
        second_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failed


def test_immediate_sessions__two_sqlite_writers_queue_instead_of_failing(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    deferred = _race(make_session_factory(engine))
    assert len(deferred) == 1 and "locked" in str(deferred[0])  # the stale snapshot's write
    assert _race(make_session_factory(engine, immediate=True)) == []
    with engine.connect() as conn:  # deferred: only the second writer's row; immediate: both
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 3
    engine.dispose()
