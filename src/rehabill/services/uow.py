"""The unit of work: one transaction per use case; the only place in rehabill that commits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker


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
