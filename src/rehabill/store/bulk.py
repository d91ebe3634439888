"""Bulk statements that behave the same on SQLite and PostgreSQL.

``INSERT ... ON CONFLICT`` on the natural key is the guard against double inserts: when two
transactions insert the same key, PostgreSQL makes the second wait for the first and then skips
(or updates) the row; SQLite allows one writer at a time. Rows go in as one ``executemany``
(SQLAlchemy batches them into multi-row ``VALUES`` with ``RETURNING``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session

Values = dict[str, Any]
Key = tuple[Any, ...]
CHUNK = 5000


def chunked(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    """``items`` in slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def table_of(model: type[DeclarativeBase]) -> Table:
    """The Core table of a model class."""
    return cast(Table, model.__table__)


def _insert(session: Session, table: Table) -> Any:
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"rehabill supports SQLite and PostgreSQL, not {name}")


def unique_by(rows: Iterable[Values], key: Sequence[str]) -> list[Values]:
    """One row per key, the last one seen winning (a statement may touch a row only once)."""
    out: dict[Key, Values] = {}
    for row in rows:
        out[tuple(row[k] for k in key)] = row
    return list(out.values())


def upsert(session: Session, model: type[DeclarativeBase], rows: Sequence[Values],
           key: Sequence[str], update: Sequence[str]) -> dict[Key, int]:
    """Insert ``rows`` or update ``update`` columns where ``key`` exists; ids by key.

    Args:
        session: the unit of work's session.
        model: the model class (its ``id`` column is returned).
        rows: column values; every row has the same columns.
        key: the natural key columns (a unique constraint).
        update: the columns a re-import may change.

    Returns:
        ``{key tuple: id}`` for every row, inserted or updated.
    """
    table = table_of(model)
    ids: dict[Key, int] = {}
    rows = unique_by(rows, key)
    for part in chunked(rows):
        stmt = _insert(session, table)
        set_ = {c: stmt.excluded[c] for c in update} or {key[0]: stmt.excluded[key[0]]}
        stmt = stmt.on_conflict_do_update(index_elements=list(key), set_=set_)
        stmt = stmt.returning(table.c.id, *(table.c[k] for k in key))
        for row in session.execute(stmt, list(part)):
            ids[tuple(row[1:])] = row[0]
    return ids


def insert_new(session: Session, model: type[DeclarativeBase], rows: Sequence[Values],
               key: Sequence[str]) -> dict[Key, int]:
    """Insert the rows whose ``key`` is not stored yet; ids of the rows this call inserted."""
    table = table_of(model)
    ids: dict[Key, int] = {}
    for part in chunked(unique_by(rows, key)):
        stmt = _insert(session, table).on_conflict_do_nothing(index_elements=list(key))
        stmt = stmt.returning(table.c.id, *(table.c[k] for k in key))
        for row in session.execute(stmt, list(part)):
            ids[tuple(row[1:])] = row[0]
    return ids


def insert_ignore(session: Session, model: type[DeclarativeBase], rows: Sequence[Values],
                  key: Sequence[str]) -> None:
    """Insert the rows whose ``key`` is not stored yet (no ids returned)."""
    table = table_of(model)
    for part in chunked(unique_by(rows, key)):
        stmt = _insert(session, table).on_conflict_do_nothing(index_elements=list(key))
        session.execute(stmt, list(part))


def insert_all(session: Session, model: type[DeclarativeBase], rows: Sequence[Values]) -> None:
    """Plain bulk insert (rows whose parents this unit of work just inserted)."""
    table = table_of(model)
    for part in chunked(rows):
        session.execute(table.insert(), list(part))
