"""Alembic, configured in code: no ``alembic.ini``; the scripts ship in ``store/migrations``."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

SCRIPT_LOCATION = "rehabill.store:migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the shipped scripts, optionally on an open connection."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database behind ``engine`` to ``revision`` (default: the newest).

    On SQLite a migration that alters a table rebuilds it (Alembic's batch mode: copy, drop
    the old table, rename), and dropping a table that other rows refer to fails while
    foreign keys are enforced. So, as SQLite's own procedure for such changes says
    (sqlite.org/lang_altertable.html, "other kinds of table schema changes"), enforcement is
    switched off outside the transaction, every foreign key is checked before the commit (a
    violation rolls the whole upgrade back), and enforcement is switched on again.

    Raises:
        RuntimeError: on SQLite, the upgraded database would break a foreign key.
    """
    with engine.connect() as connection:
        raw = connection.connection.driver_connection if connection.dialect.name == "sqlite" \
            else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction
        try:
            with connection.begin():
                command.upgrade(alembic_config(connection), revision)
                if raw is not None and connection.exec_driver_sql(
                        "PRAGMA foreign_key_check").first() is not None:
                    raise RuntimeError("the migration would break a foreign key; "
                                       "nothing was changed")
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision shipped with this version of rehabill."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
