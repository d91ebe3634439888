"""Bulk statements that behave the same on SQLite and PostgreSQL.

``INSERT ... ON CONFLICT`` on the natural key is the guard against double inserts: when two
transactions insert the same key, PostgreSQL makes the second wait for the first and then skips
(or updates) the row; SQLite allows one writer at a time.

How rows travel: below ``COPY_FROM`` rows, as SQLAlchemy statements (multi-row ``VALUES ...
RETURNING``). From ``COPY_FROM`` rows up, straight through the driver into a temporary staging
table (``COPY`` on PostgreSQL, the sqlite3 module's ``executemany`` on SQLite) and then one
``INSERT ... SELECT ... ON CONFLICT ... RETURNING``: SQLAlchemy's per-row parameter handling,
and psycopg's parsing of thousands of placeholders, would otherwise take most of the time.
The result, and the conflict behaviour, is the same either way (tests/store/test_bulk.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import itemgetter
from typing import Any, cast

from psycopg.types.json import Json
from sqlalchemy import ARRAY, JSON, Column, ColumnElement, String, Table, any_, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session

from rehabill.store.types import Money

Values = dict[str, Any]
Key = tuple[Any, ...]
CHUNK = 5000
COPY_FROM = 200  # rows; below this a plain statement is quicker


def chunked(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    """``items`` in slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def ids_in(column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    """``column IN (1, 2, ...)`` with the integers written into the SQL.

    Thousands of placeholders cost more to parse (psycopg) than the query costs to run; row
    ids are integers from the database, so writing them inline is safe.
    """
    return cast(ColumnElement[bool], column.in_(
        bindparam(f"ids_{column.key}", [int(i) for i in ids], expanding=True,
                  literal_execute=True)))


def key_in(session: Session, column: Any, keys: Sequence[str]) -> ColumnElement[bool]:
    """``column IN keys`` for text keys read from a payer's file (always bound, never inlined).

    On PostgreSQL one array parameter (``= ANY(...)``): thousands of placeholders cost
    psycopg more to parse than the lookup costs to run.
    """
    if session.get_bind().dialect.name == "postgresql":
        return cast(ColumnElement[bool],
                    column == any_(bindparam(f"keys_{column.key}", list(keys),
                                             type_=ARRAY(String()))))
    return cast(ColumnElement[bool], column.in_(list(keys)))


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
    get = itemgetter(*key)
    return list({get(row): row for row in rows}.values())


def _is_bulk(rows: Sequence[Values]) -> bool:
    return len(rows) >= COPY_FROM


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
    rows = unique_by(rows, key)
    if _is_bulk(rows):
        return _insert_select(session, table, rows, key, update, upsert=True)
    ids: dict[Key, int] = {}
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
    rows = unique_by(rows, key)
    if _is_bulk(rows):
        return _insert_select(session, table, rows, key, (), upsert=False)
    ids: dict[Key, int] = {}
    for part in chunked(rows):
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
    if _is_bulk(rows):
        _stage_write(session, table.name, _columns(table, rows), rows)
        return
    for part in chunked(rows):
        session.execute(table.insert(), list(part))


def _columns(table: Table, rows: Sequence[Values]) -> list[Column[Any]]:
    """The columns the rows give, plus those with a Python-side default (not the id)."""
    given = rows[0].keys()
    return [c for c in table.columns
            if c.name in given or (c.default is not None and not c.primary_key)]


def _defaults(columns: list[Column[Any]], given: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in columns:
        if c.name in given or c.default is None:
            continue
        arg = getattr(c.default, "arg", None)
        out[c.name] = arg(None) if callable(arg) else arg
    return out


def _driver_connection(session: Session) -> Any:
    raw = session.connection().connection.driver_connection
    if raw is None:
        raise RuntimeError("no open database connection")
    return raw


def _stage_write(session: Session, table_name: str, columns: list[Column[Any]],
                 rows: Sequence[Values]) -> None:
    """Write rows straight through the driver: ``COPY`` on PostgreSQL, ``executemany`` on SQLite.

    Values are prepared before anything is sent (defaults filled, floats refused in money
    columns, SQLite values converted by the column types), so a bad value raises without
    aborting the transaction.
    """
    dialect = session.get_bind().dialect
    defaults = _defaults(columns, rows[0].keys())
    spec = [(c.name, defaults.get(c.name)) for c in columns]
    if len(spec) == 1:
        raise ValueError("a bulk write needs at least two columns")
    money_at: list[int] = []  # SQLite: Money's own bind processor refuses floats
    convert: list[tuple[int, Callable[[Any], Any]]]
    if dialect.name == "postgresql":
        money_at = [i for i, c in enumerate(columns) if isinstance(c.type, Money)]
        convert = [(i, Json) for i, c in enumerate(columns) if isinstance(c.type, JSON)]
    else:
        convert = [(i, proc) for i, c in enumerate(columns)
                   if (proc := c.type.dialect_impl(dialect).bind_processor(dialect)) is not None]
    get = itemgetter(*(name for name, _ in spec))
    cells = []
    for row in rows:
        values = list(get({**defaults, **row} if defaults else row))
        for i in money_at:
            if isinstance(values[i], float):
                raise TypeError(f"{columns[i].name}: money must be Decimal, not float")
        for i, fn in convert:
            if values[i] is not None:
                values[i] = fn(values[i])
        cells.append(values)
    _send(session, table_name, [c.name for c in columns], cells)


def _send(session: Session, table_name: str, names: Sequence[str],
          cells: Iterable[Sequence[Any]]) -> None:
    """Rows of driver-ready values through the driver: ``COPY`` or ``executemany``."""
    quoted = ", ".join(f'"{name}"' for name in names)
    raw = _driver_connection(session)
    if session.get_bind().dialect.name != "postgresql":
        marks = ", ".join("?" for _ in names)
        raw.executemany(f'INSERT INTO "{table_name}" ({quoted}) VALUES ({marks})', cells)
        return
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table_name}" ({quoted}) FROM STDIN'
                                              ) as copy:
        for values in cells:
            copy.write_row(values)


def insert_rows(session: Session, model: type[DeclarativeBase], names: Sequence[str],
                rows: Sequence[Sequence[Any]]) -> None:
    """Plain bulk insert of rows given as tuples, one value per column of ``names``.

    The fast path for the many rows a posting writes: no dict per row. Every column a row
    needs must be named (Python-side defaults are not filled in); values are converted by the
    column types as ``insert_all`` does (money as Decimal, never float).
    """
    if not rows:
        return
    table = table_of(model)
    if len(rows) < COPY_FROM:
        insert_all(session, model, [dict(zip(names, row, strict=True)) for row in rows])
        return
    dialect = session.get_bind().dialect
    columns = [table.c[name] for name in names]
    convert: list[tuple[int, Callable[[Any], Any]]]
    if dialect.name == "postgresql":
        convert = [(i, Json) for i, c in enumerate(columns) if isinstance(c.type, JSON)]
        convert += [(i, _refuse_float) for i, c in enumerate(columns)
                    if isinstance(c.type, Money)]
    else:
        convert = [(i, proc) for i, c in enumerate(columns)
                   if (proc := c.type.dialect_impl(dialect).bind_processor(dialect)) is not None]
    if not convert:
        _send(session, table.name, names, rows)
        return
    # A value repeated down a column (the posting time, a file id) is converted once.
    seen: list[tuple[Any, Any]] = [(None, None)] * len(columns)
    cells = []
    for row in rows:
        values = list(row)
        for i, fn in convert:
            value = values[i]
            if value is not None:
                before, after = seen[i]
                if value is not before:
                    after = fn(value)
                    seen[i] = (value, after)
                values[i] = after
        cells.append(values)
    _send(session, table.name, names, cells)


def _refuse_float(value: Any) -> Any:
    if isinstance(value, float):
        raise TypeError("money must be Decimal, not float")
    return value


def _insert_select(session: Session, table: Table, rows: Sequence[Values],
                   key: Sequence[str], update: Sequence[str], *, upsert: bool
                   ) -> dict[Key, int]:
    """Stage the rows in a temporary table, then one ``INSERT ... SELECT ... ON CONFLICT``."""
    dialect = session.get_bind().dialect
    pg = dialect.name == "postgresql"
    columns = _columns(table, rows)
    names = ", ".join(f'"{c.name}"' for c in columns)
    stage = f"stage_{uuid.uuid4().hex[:12]}"
    conflict = ", ".join(f'"{k}"' for k in key)
    if upsert:
        sets = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in (update or key[:1]))
        action = f"DO UPDATE SET {sets}"
    else:
        action = "DO NOTHING"
    returning = ", ".join(["id", *(f'"{k}"' for k in key)])
    conn = session.connection()
    conn.exec_driver_sql(
        f'CREATE TEMP TABLE "{stage}" ON COMMIT DROP AS SELECT {names} FROM "{table.name}" '
        "WITH NO DATA" if pg else
        f'CREATE TEMP TABLE "{stage}" AS SELECT {names} FROM "{table.name}" WHERE 0')
    _stage_write(session, stage, columns, rows)
    # "WHERE true" keeps SQLite from reading ON CONFLICT as a join's ON
    result = conn.exec_driver_sql(
        f'INSERT INTO "{table.name}" ({names}) SELECT {names} FROM "{stage}" WHERE true '
        f"ON CONFLICT ({conflict}) {action} RETURNING {returning}").all()
    conn.exec_driver_sql(f'DROP TABLE "{stage}"')
    procs = [table.c[k].type.dialect_impl(dialect).result_processor(dialect, None)
             for k in key]
    if not any(procs):
        return {tuple(row[1:]): row[0] for row in result}
    return {tuple(v if p is None or v is None else p(v)
                  for v, p in zip(row[1:], procs, strict=True)): row[0] for row in result}
