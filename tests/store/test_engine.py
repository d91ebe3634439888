"""Settings and engines: built on request, SQLite by default, the URL from the environment."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from rehabill.settings import Settings
from rehabill.store import make_engine, make_session_factory
from rehabill.store.engine import SQLITE_CACHE_KIB, SQLITE_MMAP_BYTES, begin_immediate


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
        # a clinic-year's books are hundreds of MB: a page cache of 2 MB (the default) made
        # every write read its index pages again
        assert conn.execute(text("PRAGMA cache_size")).scalar() == -SQLITE_CACHE_KIB
        assert conn.execute(text("PRAGMA mmap_size")).scalar() == SQLITE_MMAP_BYTES
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


def test_begin_immediate__takes_the_lock_as_soon_as_the_other_writer_commits(
        tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    make_engine(f"sqlite:///{path}").dispose()  # a WAL file
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    waiter = sqlite3.connect(path, isolation_level=None, timeout=7)
    holder.execute("BEGIN IMMEDIATE")
    released = threading.Timer(0.2, lambda: holder.execute("COMMIT"))
    released.start()
    start = time.monotonic()
    begin_immediate(waiter)
    waited = time.monotonic() - start
    released.join()
    assert 0.15 < waited < 1.0
    assert waiter.in_transaction
    waiter.execute("COMMIT")
    assert waiter.execute("PRAGMA busy_timeout").fetchone() == (7000,)
    holder.close()
    waiter.close()


def test_begin_immediate__gives_up_after_its_timeout(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    make_engine(f"sqlite:///{path}").dispose()
    holder = sqlite3.connect(path, isolation_level=None)
    waiter = sqlite3.connect(path, isolation_level=None, timeout=7)
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        begin_immediate(waiter, timeout_ms=50)
    assert not waiter.in_transaction
    assert waiter.execute("PRAGMA busy_timeout").fetchone() == (7000,)
    holder.execute("ROLLBACK")
    holder.close()
    waiter.close()


def test_make_engine__none_still_binds_as_null(tmp_path: Path) -> None:
    """The adapter that spares the driver's failed lookup for None binds NULL, in a plain
    execute and in an executemany."""
    engine = make_engine(f"sqlite:///{tmp_path / 'books.db'}")
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        assert raw.execute("SELECT typeof(?), ? IS NULL", (None, None)).fetchone() == ("null", 1)
        raw.execute("CREATE TEMP TABLE t (a, b)")
        raw.executemany("INSERT INTO t VALUES (?, ?)", [(1, None), (None, "x")])
        assert raw.execute("SELECT typeof(a), typeof(b) FROM t").fetchall() == [
            ("integer", "null"), ("null", "text")]
    engine.dispose()
