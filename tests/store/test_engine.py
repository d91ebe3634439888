"""Settings and engines: built on request, SQLite by default, the URL from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from rehabill.settings import Settings
from rehabill.store import make_engine


def test_settings__default_is_a_sqlite_file_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REHABILL_DATABASE_URL", raising=False)
    monkeypatch.delenv("REHABILL_DB_PATH", raising=False)
    assert Settings().resolved_database_url() == "sqlite:///rehabill.db"


def test_settings__url_wins_over_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REHABILL_DB_PATH", "/tmp/x.db")
    assert Settings().resolved_database_url() == "sqlite:////tmp/x.db"
    monkeypatch.setenv("REHABILL_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert Settings().resolved_database_url() == "postgresql+psycopg://u@h/db"


def test_make_engine__sqlite_has_foreign_keys_and_wal(tmp_path: Path) -> None:
    engine = make_engine(settings=Settings(db_path=tmp_path / "b.db"))
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()
    assert (tmp_path / "b.db").exists()
