"""Database fixtures for the store and services tests: every test runs on SQLite and PostgreSQL.

PostgreSQL comes from ``REHABILL_TEST_POSTGRES_URL`` (e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/test``). Each test session works in its own
schema, created and migrated at the start and dropped at the end, so runs are isolated and can
be repeated. Without the variable the PostgreSQL variants skip, except under ``CI=true``, where
they fail. Each test runs in a transaction that is rolled back (the services' commits only
release a savepoint).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from rehabill.store import make_engine, migrate

PG_ENV = "REHABILL_TEST_POSTGRES_URL"


def postgres_url() -> str:
    """The PostgreSQL test URL, or skip (fail under CI) when it is not set."""
    url = os.environ.get(PG_ENV, "")
    if url:
        return url
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{PG_ENV} is not set; CI must run the PostgreSQL tests")
    pytest.skip(f"{PG_ENV} is not set")


def schema_url(url: str, schema: str) -> str:
    """``url`` with every connection's search_path set to ``schema``."""
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL schema for this test session (dropped afterwards)."""
    url = postgres_url()
    schema = f"rehabill_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(schema_url(url, schema))
    try:
        migrate(engine)
        engine.dispose()
        yield schema_url(url, schema)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_engine(pg_schema_url: str) -> Iterator[Engine]:
    """An engine on the session's PostgreSQL schema (for tests that commit for real)."""
    engine = make_engine(pg_schema_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A migrated engine: in-memory SQLite, or the session's PostgreSQL schema."""
    if request.param == "sqlite":
        engine = make_engine("sqlite://")
        migrate(engine)
        yield engine
        engine.dispose()
    else:
        yield request.getfixturevalue("pg_engine")


@pytest.fixture
def session_factory(db_engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions inside one transaction that is rolled back after the test."""
    connection = db_engine.connect()
    outer = connection.begin()
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                           expire_on_commit=False)
    yield factory
    outer.rollback()
    connection.close()


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """One session of the rolled-back transaction."""
    with session_factory() as s:
        yield s


@contextmanager
def fresh_urls(kind: str, folder: Path, names: Sequence[str]) -> Iterator[list[str]]:
    """URLs of empty books of one kind, one per name, for tests that commit for real, migrate
    themselves or open connections from other processes: SQLite files in ``folder``, or
    PostgreSQL schemas of their own (dropped afterwards; skipped, or failed under CI, when
    PostgreSQL is not configured)."""
    if kind == "sqlite":
        yield [f"sqlite:///{folder / name}.db" for name in names]
        return
    url = postgres_url()
    schemas = [f"rehabill_{name}_{uuid.uuid4().hex[:10]}" for name in names]
    admin = make_engine(url)
    with admin.begin() as conn:
        for schema in schemas:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield [schema_url(url, schema) for schema in schemas]
    finally:
        with admin.begin() as conn:
            for schema in schemas:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def pg_fresh_url(tmp_path: Path) -> Iterator[str]:
    """A PostgreSQL URL on an empty schema of its own, dropped after the test."""
    with fresh_urls("postgresql", tmp_path, ["own"]) as urls:
        yield urls[0]
