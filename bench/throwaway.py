"""A throw-away PostgreSQL schema for one benchmark run: made, used by URL, dropped."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text


@contextmanager
def pg_schema(url: str) -> Iterator[str]:
    """A new schema on the PostgreSQL at ``url``; yields the URL whose connections use it
    (``search_path``), and drops the schema with everything in it at the end."""
    schema = f"rehabill_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()
