"""Every table's rows of a book, as text, for the benches' ``--dump``: two trees' books are
the same when their dumps are (timestamps and Alembic's version left out)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import DateTime, Engine, MetaData, select


def table_rows(engine: Engine, cell: Callable[[object], str] = str
               ) -> dict[str, list[list[str]]]:
    """Each table's rows, sorted by every column, each value through ``cell``."""
    meta = MetaData()
    meta.reflect(engine)
    tables: dict[str, list[list[str]]] = {}
    with engine.connect() as conn:
        for name, table in sorted(meta.tables.items()):
            columns = [c for c in table.columns
                       if not isinstance(c.type, DateTime) and c.name != "version_num"]
            if not columns:
                continue
            rows = conn.execute(select(*columns).order_by(*columns)).all()
            tables[name] = [[cell(v) for v in row] for row in rows]
    return tables
