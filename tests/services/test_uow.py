"""``reading``: a read-only transaction that never queues for SQLite's write lock."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text

from rehabill.services.uow import reading, unit_of_work
from rehabill.store import make_engine, make_session_factory


def test_reading__reads_while_another_writer_holds_the_lock(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    writers = make_session_factory(engine, immediate=True)
    counted: list[int] = []

    def read() -> None:
        with reading(writers) as session:
            counted.append(int(session.execute(text("SELECT count(*) FROM t")).scalar_one()))

    with unit_of_work(writers) as session:  # holds the write lock (BEGIN IMMEDIATE)
        session.execute(text("INSERT INTO t VALUES (2)"))
        reader = threading.Thread(target=read)
        reader.start()
        reader.join(5.0)  # an IMMEDIATE begin would wait here for the busy timeout (30 s)
        assert not reader.is_alive()
    assert counted == [1]  # the committed snapshot, without the uncommitted row
    with reading(writers) as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 2
    engine.dispose()
