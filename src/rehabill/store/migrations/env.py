"""Alembic environment: runs on the connection that ``store.migrate`` passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from rehabill.store.models import Base


def run_migrations_online() -> None:
    """Migrate on the caller's connection (SQLite in batch mode so ALTERs work there)."""
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("rehabill migrations run through rehabill.store.migrate(engine)")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("rehabill migrations run online only")
run_migrations_online()
