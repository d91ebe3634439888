"""Bulk statements that behave the same on SQLite and PostgreSQL.

``INSERT ... ON CONFLICT`` on the natural key is the guard against double inserts: when two
transactions insert the same key, PostgreSQL makes the second wait for the first and then skips
(or updates) the row; SQLite allows one writer at a time.

How rows travel: below ``COPY_FROM`` rows, as SQLAlchemy statements (multi-row ``VALUES ...
RETURNING``). From ``COPY_FROM`` rows up, straight through the driver into a temporary staging
table (``COPY`` on PostgreSQL, the sqlite3 module's ``executemany`` on SQLite) and then one
``INSERT ... SELECT ... ON CONFLICT ... RETURNING``: SQLAlchemy's per-row parameter handling,
and psycopg's parsing of thousands of placeholders, would otherwise take most of the time.
``insert_new`` on SQLite skips the staging table (``_insert_new_sqlite``). Values are converted
for the driver column by column. The result, and the conflict behaviour, is the same either way
(tests/store/test_bulk.py). ``fetch`` is the read side: large reads by row id as plain tuples.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache, partial
from operator import itemgetter
from typing import Any, cast

from psycopg.types.json import Json
from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    Date,
    Select,
    Table,
    any_,
    bindparam,
    literal_column,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session

from rehabill.domain.money import CENT
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
    numbers = ",".join([str(int(i)) for i in ids])
    if not numbers:  # SQLAlchemy's own form of an empty IN (PostgreSQL refuses "IN ()")
        return cast(ColumnElement[bool], column.in_([]))
    # Written as text: the compiler's literal rendering costs ~2 µs an id (5,000 per chunk).
    return cast(ColumnElement[bool],
                column.op("IN", is_comparison=True)(literal_column(f"({numbers})")))


def texts_in(session: Session, column: Any, texts: Sequence[str]) -> ColumnElement[bool]:
    """``column IN (...)`` for text keys, as one array parameter on PostgreSQL.

    ``= ANY(%s)`` sends the keys as one value, where thousands of placeholders would cost
    psycopg more to parse than the query costs to run; SQLite gets a plain ``IN``.
    """
    if session.get_bind().dialect.name == "postgresql":
        keys = bindparam(f"keys_{column.key}", list(texts), type_=postgresql.ARRAY(column.type))
        return cast(ColumnElement[bool], column == any_(keys))
    return cast(ColumnElement[bool], column.in_(list(texts)))


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
    if _is_bulk(rows) and session.get_bind().dialect.name == "sqlite":
        return _insert_new_sqlite(session, table, rows, key)
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
    if len(columns) == 1:
        raise ValueError("a bulk write needs at least two columns")
    send_rows(session, table_name, [c.name for c in columns], _cells(dialect, columns, rows))


def send_rows(session: Session, table_name: str, names: Sequence[str],
              cells: Iterable[Sequence[Any]]) -> None:
    """Rows of driver-ready values (nothing converted: the caller's job) straight through the
    driver into ``table_name``'s columns ``names``: ``COPY`` on PostgreSQL, ``executemany``
    on SQLite."""
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


def _cells(dialect: Any, columns: list[Column[Any]], rows: Sequence[Values]
           ) -> list[tuple[Any, ...]]:
    """The rows as driver-ready tuples, built column by column (one pass per column is much
    quicker than converting each row's values one by one)."""
    given = rows[0].keys()
    defaults = _defaults(columns, given)
    count = len(rows)
    out: list[Sequence[Any]] = []
    for c in columns:
        convert = _converter(dialect, c)
        if c.name not in given:  # a Python-side default: one value for every row
            value = defaults[c.name]
            if value is not None and convert is not None:
                value = convert(value)
            out.append([value] * count)
            continue
        name = c.name
        values = [row[name] for row in rows]
        first = values[0]
        if convert is None:
            out.append(values)
        elif all(v is first for v in values):  # one value for all (a timestamp): convert once
            out.append([None if first is None else convert(first)] * count)
        else:
            out.append([None if v is None else convert(v) for v in values])
    return list(zip(*out, strict=True))


def _converter(dialect: Any, column: Column[Any]) -> Callable[[Any], Any] | None:
    """What a value of ``column`` needs before the driver takes it (None: nothing)."""
    kind = column.type
    if dialect.name == "postgresql":
        if isinstance(kind, Money):
            return partial(_refuse_float, column.name)
        return Json if isinstance(kind, JSON) else None
    if isinstance(kind, Money):
        return _money_text
    proc: Callable[[Any], Any] | None = kind.dialect_impl(dialect).bind_processor(dialect)
    if proc is not None and type(kind) is Date:
        return partial(_iso_date, proc)
    return proc


def _refuse_float(name: str, value: Any) -> Any:
    if isinstance(value, float):
        raise TypeError(f"{name}: money must be Decimal, not float")
    return value


def _money_text(value: Any) -> str:
    """SQLite: money is bound as text (``types.Money``), floats refused."""
    if isinstance(value, float | bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"money must be Decimal or int, not {type(value).__name__}")
    return str(value)


def _iso_date(proc: Callable[[Any], Any], value: Any) -> Any:
    """SQLite: a date as the dialect writes it (YYYY-MM-DD), without its per-value formatting."""
    return value.isoformat() if type(value) is date else proc(value)


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
    send_rows(session, table.name, names,
              driver_rows(session.get_bind().dialect, model, names, rows))


def driver_rows(dialect: Any, model: type[DeclarativeBase], names: Sequence[str],
                rows: Sequence[Sequence[Any]]) -> Sequence[Sequence[Any]]:
    """Rows of values in ``names`` order, converted for the driver as ``insert_rows`` converts
    them (money as Decimal, never float): what ``send_rows`` and ``insert_new_cells`` take.

    A caller may convert before its write transaction and send inside it.
    """
    table = table_of(model)
    convert = [(i, fn) for i, name in enumerate(names)
               if (fn := _converter(dialect, table.c[name])) is not None]
    if not convert or not rows:
        return rows
    # Column by column; a value object repeated down a column (the posting time, a fee, a
    # date of service) is converted once (by identity: every value is alive until the end).
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
    for i, fn in convert:
        memo: dict[int, Any] = {}
        converted: list[Any] = []
        for value in columns[i]:
            if value is None:
                converted.append(None)
                continue
            after = memo.get(id(value))
            if after is None:
                after = memo[id(value)] = fn(value)
            converted.append(after)
        columns[i] = converted
    return list(zip(*columns, strict=True))


def insert_new_cells(session: Session, model: type[DeclarativeBase], names: Sequence[str],
                     cells: Sequence[Sequence[Any]], key: Sequence[str]) -> dict[Key, int]:
    """``insert_new`` for rows of driver-ready values (``driver_rows``) in ``names`` order.

    No dict per row, and nothing converted here: the import's visits go in this way, their
    values converted before the write transaction. Columns with a Python-side default that
    ``names`` leaves out are filled as ``insert_new`` fills them (one value for every row);
    the rows stored and the ids returned are ``insert_new``'s.
    """
    table = table_of(model)
    unique = _unique_cells(cells, [names.index(k) for k in key])
    if not unique:
        return {}
    dialect = session.get_bind().dialect
    extra = [c for c in table.columns
             if c.name not in names and c.default is not None and not c.primary_key]
    if extra:
        filled = _defaults(extra, ())
        tail = tuple(driver_rows(dialect, model, [c.name for c in extra],
                                 [tuple(filled[c.name] for c in extra)])[0])
        names = [*names, *(c.name for c in extra)]
        # a tuple's ``+`` copies it in one go; unpacking both would build a list first
        unique = [row + tail if type(row) is tuple else (*row, *tail) for row in unique]
    if dialect.name == "sqlite":
        return _insert_new_sqlite_cells(session, table, names, unique, key)
    return _insert_select_cells(session, table, names, unique, key, (), upsert=False)


def _unique_cells(cells: Sequence[Sequence[Any]], at: Sequence[int]) -> Sequence[Sequence[Any]]:
    """One row per key (the values at ``at``), the last one seen winning; ``cells`` itself
    when no key repeats (an import's visits, whose ids the parse already made unique)."""
    if len(at) == 1:  # one key column: the value itself is the key, no tuple per row
        (i,) = at
        by_key: dict[Any, Sequence[Any]] = {row[i]: row for row in cells}
    else:
        by_key = {tuple([row[i] for i in at]): row for row in cells}
    return cells if len(by_key) == len(cells) else list(by_key.values())


def _insert_new_sqlite(session: Session, table: Table, rows: Sequence[Values],
                       key: Sequence[str]) -> dict[Key, int]:
    """SQLite: ``INSERT ... ON CONFLICT DO NOTHING`` straight into the table, then read back
    the rows above the highest id seen before.

    SQLite has one writer at a time: from its first write to its commit a transaction holds
    the write lock, and before that, a write on a snapshot another writer has since changed
    fails (WAL's SQLITE_BUSY_SNAPSHOT) instead of interleaving. So no other rows can land
    between the read of the highest id and this insert, and a new row's id is always above
    the table's highest: the rows above it are exactly the ones this call inserted. That
    saves the staging table's second write.
    """
    columns = _columns(table, rows)
    cells = _cells(session.get_bind().dialect, columns, rows)
    return _insert_new_sqlite_cells(session, table, [c.name for c in columns], cells, key)


def _insert_new_sqlite_cells(session: Session, table: Table, columns: Sequence[str],
                             cells: Sequence[Sequence[Any]], key: Sequence[str]
                             ) -> dict[Key, int]:
    """``_insert_new_sqlite`` for driver-ready rows in ``columns`` order."""
    conn = session.connection()
    before = conn.exec_driver_sql(f'SELECT max(id) FROM "{table.name}"').scalar() or 0
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    conflict = ", ".join(f'"{k}"' for k in key)
    conn.exec_driver_sql(  # the driver's executemany, its errors wrapped as SQLAlchemy's
        f'INSERT INTO "{table.name}" ({names}) VALUES ({marks}) '
        f"ON CONFLICT ({conflict}) DO NOTHING", cells)
    ids = _consecutive_ids(session, table, columns, cells, key, before)
    if ids is not None:
        return ids
    query = (select(table.c.id, *(table.c[k] for k in key)).where(table.c.id > before)
             .order_by(table.c.id))
    return {tuple(row[1:]): row[0] for row in fetch(session, query)}


def _consecutive_ids(session: Session, table: Table, columns: Sequence[str],
                     cells: Sequence[Sequence[Any]], key: Sequence[str], before: int
                     ) -> dict[Key, int] | None:
    """The ids ``_insert_new_sqlite_cells`` just gave, without reading the rows back, when
    every row went in and the key columns read back as they were sent (else None).

    SQLite gives a new row an id above every id in the table (one more than the highest),
    so in one writer's ``executemany`` the ids rise in the order of the rows. When the table
    then holds exactly ``len(cells)`` rows above ``before`` and the highest is ``before +
    len(cells)``, no row was skipped and the k-th row got ``before + k``: an import of a
    month's visits is spared reading 20,000 ids and keys back.
    """
    dialect = session.get_bind().dialect
    if any(_reader(dialect, table.c[k].type) is not None for k in key):
        return None
    count, top = session.connection().exec_driver_sql(
        f'SELECT count(*), max(id) FROM "{table.name}" WHERE id > ?', (before,)).one()
    if count != len(cells) or top != before + len(cells):
        return None
    at = [list(columns).index(k) for k in key]
    keys = zip(*[[row[i] for row in cells] for i in at], strict=True)  # key tuples, in C
    return dict(zip(keys, range(before + 1, before + len(cells) + 1), strict=True))


def _insert_select(session: Session, table: Table, rows: Sequence[Values],
                   key: Sequence[str], update: Sequence[str], *, upsert: bool
                   ) -> dict[Key, int]:
    """Stage the rows in a temporary table, then one ``INSERT ... SELECT ... ON CONFLICT``."""
    columns = _columns(table, rows)
    if len(columns) == 1:
        raise ValueError("a bulk write needs at least two columns")
    cells = _cells(session.get_bind().dialect, columns, rows)
    return _insert_select_cells(session, table, [c.name for c in columns], cells, key, update,
                                upsert=upsert)


def _insert_select_cells(session: Session, table: Table, columns: Sequence[str],
                         cells: Sequence[Sequence[Any]], key: Sequence[str],
                         update: Sequence[str], *, upsert: bool) -> dict[Key, int]:
    """``_insert_select`` for driver-ready rows in ``columns`` order."""
    dialect = session.get_bind().dialect
    pg = dialect.name == "postgresql"
    names = ", ".join(f'"{c}"' for c in columns)
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
    send_rows(session, stage, columns, cells)
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


@dataclass(frozen=True, slots=True)
class ByIds:
    """The SQL text of a read of some columns of a table by row ids (``by_ids``), without them."""

    head: str  # up to "IN ("
    tail: str  # from ")"

    def sql(self, ids: Sequence[int]) -> str:
        """The statement for these ids, written in as integers (as ``ids_in`` writes them)."""
        return f"{self.head}{','.join([str(int(i)) for i in ids])}{self.tail}"


@cache
def by_ids(table: str, columns: tuple[str, ...], key: str = "id",
           order: tuple[str, ...] = ()) -> ByIds:
    """``SELECT columns FROM table WHERE key IN (...) [ORDER BY order]`` as text, built once.

    The same text on SQLite and PostgreSQL (quoted names, integers written in): the hot reads
    by row id (``store.visits.load_visits``, a batch's claim lines) skip SQLAlchemy's compiling
    of a statement per chunk as well as its result processing (``raw_rows``).
    """
    names = ", ".join(f'"{c}"' for c in columns)
    tail = ")" + (" ORDER BY " + ", ".join(f'"{c}"' for c in order) if order else "")
    return ByIds(f'SELECT {names} FROM "{table}" WHERE "{key}" IN (', tail)


def raw_rows(session: Session, read: ByIds, ids: Sequence[int]) -> list[Any]:
    """The driver's own rows of ``read`` for these (at least one) ids, nothing converted: a
    caller converts the values that need it (``value_reader``, ``column_readers``)."""
    return _driver_rows_of(session, read.sql(ids))


def column_readers(dialect: Any, table: Table, columns: Sequence[str]
                   ) -> tuple[Callable[[Any], Any] | None, ...]:
    """How each column's driver value becomes its Python value, as ``fetch`` converts it (None:
    as it is): on SQLite dates come as ISO text and money as an integer or a double, on
    PostgreSQL dates as dates and money as ``Decimal`` (made cent-exact either way)."""
    return tuple(_reader(dialect, table.c[name].type) for name in columns)


class Memo(dict[Any, Any]):
    """Each distinct value converted once by ``convert`` (None stays None; no ``convert``: the
    value as it is), for the hot reads of ``raw_rows``: a month's visits repeat a few hundred
    dates, amounts and diagnosis lists, and a few thousand services. Read ``memo[value]``.
    """

    __slots__ = ("convert",)

    def __init__(self, convert: Callable[[Any], Any] | None) -> None:
        super().__init__()
        self.convert = convert
        self[None] = None

    def __missing__(self, value: Any) -> Any:
        out = self[value] = value if self.convert is None else self.convert(value)
        return out


def value_reader(dialect: Any, table: Table, name: str) -> tuple[Callable[[Any], Any], bool]:
    """What turns the driver's values of one column into Python values (None stays None), as
    ``fetch`` converts them, for the hot reads of ``raw_rows``; and whether it keeps each
    distinct value's result (a caller may then key its own memo by the driver's values).

    A ``Memo`` converts each distinct value once, except amounts on PostgreSQL: hashing the
    driver's ``Decimal`` costs about four times making it cent-exact again.
    """
    kind = table.c[name].type
    if dialect.name == "postgresql" and isinstance(kind, Money):
        return _cents, False
    read: Callable[[Any], Any] = Memo(_reader(dialect, kind)).__getitem__
    return read, True


def _cents(value: Any) -> Decimal | None:
    """PostgreSQL: a stored amount (the driver's ``Decimal``) made cent-exact, as
    ``_money_value`` makes it."""
    if type(value) is Decimal:
        return value.quantize(CENT)
    return None if value is None else _money_value(value)


def _driver_rows_of(session: Session, sql: str) -> list[Any]:
    session.connection()  # the session's transaction begins, as for any statement
    cursor = _driver_connection(session).cursor()
    try:
        cursor.execute(sql)
        rows: list[Any] = cursor.fetchall()
    finally:
        cursor.close()
    return rows


def fetch(session: Session, query: Select[Any]) -> list[tuple[Any, ...]]:
    """The rows of a Core ``select`` as plain tuples, values converted as its column types do.

    For large reads by row id: the query runs on the driver's own cursor and values are
    converted column by column, without SQLAlchemy's per-row result objects. Every parameter
    is written into the SQL (``literal_binds``), so use it for queries on integers and
    constants, never on text a user typed.
    """
    dialect = session.connection().dialect
    sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    data = _driver_rows_of(session, sql)
    convert = [(i, fn) for i, c in enumerate(query.selected_columns)
               if (fn := _reader(dialect, c.type)) is not None]
    if not data or not convert:
        return [tuple(row) for row in data]
    columns: list[Sequence[Any]] = list(zip(*data, strict=True))
    for i, fn in convert:
        columns[i] = [None if v is None else fn(v) for v in columns[i]]
    return list(zip(*columns, strict=True))


def _reader(dialect: Any, kind: Any) -> Callable[[Any], Any] | None:
    """How a driver value of this column type becomes its Python value (None: as it is)."""
    if isinstance(kind, Money):
        return _money_value
    if dialect.name == "sqlite" and type(kind) is Date:
        return date.fromisoformat
    proc: Callable[[Any], Any] | None = kind.dialect_impl(dialect).result_processor(
        dialect, None)
    return proc


def _money_value(value: Any) -> Decimal:
    """A stored amount as a cent-exact ``Decimal`` (as ``types.Money`` reads it): PostgreSQL
    gives a ``Decimal``, SQLite an integer or a double."""
    if isinstance(value, float):
        return Decimal(repr(value)).quantize(CENT)
    return Decimal(value).quantize(CENT)
