"""The unit of work: one transaction per use case; the only place in rehabill that commits.

``reading`` is its read-only twin, for work that reads, computes, then writes in a unit of work.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from rehabill.store.engine import IMMEDIATE


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session in a transaction: committed when the block ends, rolled back on an exception.

    Args:
        factory: the session factory (``store.make_session_factory(engine)``).

    Yields:
        The session; store functions flush but never commit.
    """
    with factory() as session, session.begin():
        yield session


@contextmanager
def reading(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session in a transaction that only reads: on SQLite it never takes the write lock,
    even from a factory whose transactions begin ``IMMEDIATE`` (``store.engine``), so a
    second process writing the same file is not kept waiting while this one computes.

    Args:
        factory: the session factory.

    Yields:
        The session; nothing it does is committed (the transaction is rolled back).
    """
    with factory() as session:
        session.connection(execution_options={IMMEDIATE: False})
        try:
            yield session
        finally:
            session.rollback()
