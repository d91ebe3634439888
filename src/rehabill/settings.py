"""Settings for the shell (store, services, CLI, web), read from the environment.

Built on demand by ``Settings()`` in a factory or a Typer callback; there is no import-time
settings object. Every field can be set by an environment variable ``REHABILL_<NAME>``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where the books live.

    ``database_url`` (``REHABILL_DATABASE_URL``) wins when set, e.g.
    ``postgresql+psycopg://user@host/dbname``; otherwise the SQLite file ``db_path``
    (``REHABILL_DB_PATH``, default ``rehabill.db`` in the current directory) is used.
    """

    model_config = SettingsConfigDict(env_prefix="REHABILL_", extra="ignore")

    database_url: str = ""
    db_path: Path = Path("rehabill.db")
    outbox: Path = Path("outbox")

    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL to connect to."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.db_path}"
