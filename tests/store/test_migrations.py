"""The one Alembic history builds exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib.resources

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from rehabill.store import current_revision, head_revision, make_engine, migrate
from rehabill.store.models import Base


def test_migrate__database_is_at_head(db_engine: Engine) -> None:
    assert current_revision(db_engine) == head_revision() == "0006"


def test_migrate__schema_matches_the_models(db_engine: Engine) -> None:
    with db_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)
    assert diff == []


def test_migrate__twice_is_a_noop(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'books.db'}")
    assert current_revision(engine) is None
    migrate(engine)
    migrate(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_migrations__ship_as_package_data() -> None:
    root = importlib.resources.files("rehabill.store") / "migrations"
    assert (root / "env.py").is_file()
    assert (root / "script.py.mako").is_file()
    assert any(p.name.startswith("0001_") for p in (root / "versions").iterdir())


def test_migrate__upgrades_a_0001_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine, "0001")
    assert current_revision(engine) == "0001"
    migrate(engine)
    assert current_revision(engine) == "0006"
    with engine.connect() as conn:
        columns = {row[1] for row in conn.execute(text("PRAGMA table_info(visits)"))}
        claim_columns = {row[1] for row in conn.execute(text("PRAGMA table_info(claims)"))}
    assert "is_draft" in columns
    assert {"coverage_id", "prior_claim_id"} <= claim_columns
    engine.dispose()


def test_migrate__downgrades_0003_and_back(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from alembic import command
    from sqlalchemy import text

    from rehabill.store.migrate import alembic_config

    engine = make_engine(f"sqlite:///{tmp_path / 'down.db'}")
    migrate(engine)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0002")
    with engine.connect() as conn:
        claim_columns = {row[1] for row in conn.execute(text("PRAGMA table_info(claims)"))}
    assert "prior_claim_id" not in claim_columns
    migrate(engine)
    assert current_revision(engine) == "0006"
    engine.dispose()


def test_migrate__upgrades_a_0002_database_that_holds_rows(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Rebuilding ``claims`` (0003) must not trip over the rows that refer to it."""
    from datetime import date, datetime

    from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, MetaData, Numeric, text

    engine = make_engine(f"sqlite:///{tmp_path / 'full.db'}")
    migrate(engine, "0002")
    meta = MetaData()
    meta.reflect(engine)
    samples = [(Boolean, False), (DateTime, datetime(2026, 1, 5, 9)), (Date, date(2026, 1, 5)),
               (Integer, 1), (Numeric, 0), (JSON, {})]
    with engine.begin() as conn:
        for table in meta.sorted_tables:  # one row each, every reference to row 1 of its table
            if table.name == "alembic_version":
                continue
            row = {c.name: next((v for kind, v in samples if isinstance(c.type, kind)), "x")
                   for c in table.columns}
            conn.execute(table.insert().values(**row))
    migrate(engine)
    assert current_revision(engine) == "0006"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM claim_lines")).scalar() == 1
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_migrate__0005_ledger_entries_keep_their_file_through_the_remittance(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An entry posted before 0005 keeps its row; its file is its remittance's, and the
    downgrade writes it back into ``source_file_id``."""
    from datetime import date, datetime

    from alembic import command
    from sqlalchemy import Date, DateTime, Integer, MetaData, Numeric, text

    from rehabill.store.migrate import alembic_config

    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    migrate(engine, "0004")
    meta = MetaData()
    meta.reflect(engine, only=["files", "remittances", "ledger_entries"])
    rows = {"files": {"id": 7, "sha256": "x"},
            "remittances": {"id": 3, "file_id": 7, "payer_id": None},
            "ledger_entries": {"remittance_id": 3, "source_file_id": 7, "claim_id": None,
                               "claim_line_id": None, "kind": "payment"}}
    samples = [(DateTime, datetime(2026, 1, 5, 9)), (Date, date(2026, 1, 5)), (Integer, 1),
               (Numeric, 10)]
    with engine.begin() as conn:
        for name, given in rows.items():
            table = meta.tables[name]
            values = {c.name: given[c.name] if c.name in given else None if c.foreign_keys
                      else next((v for kind, v in samples if isinstance(c.type, kind)), "")
                      for c in table.columns if c.name != "id" or c.name in given}
            conn.execute(table.insert().values(**values))
    migrate(engine)
    with engine.connect() as conn:
        columns = {row[1] for row in conn.execute(text("PRAGMA table_info(ledger_entries)"))}
        assert "source_file_id" not in columns
        assert conn.execute(text(
            "SELECT r.file_id FROM ledger_entries e JOIN remittances r "
            "ON r.id = e.remittance_id")).scalar() == 7
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0004")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT source_file_id FROM ledger_entries")).scalar() == 7
    engine.dispose()


def test_migrate__0006_coverages_stored_before_have_open_dates(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A coverage stored before 0006 keeps its row with both dates open (NULL); the
    downgrade drops the two columns again."""
    from datetime import date, datetime

    from alembic import command
    from sqlalchemy import JSON, Date, DateTime, Integer, MetaData, text

    from rehabill.store.migrate import alembic_config

    engine = make_engine(f"sqlite:///{tmp_path / 'coverages.db'}")
    migrate(engine, "0005")
    meta = MetaData()
    meta.reflect(engine, only=["practices", "patients", "payers", "coverages"])
    samples = [(DateTime, datetime(2026, 1, 5, 9)), (Date, date(2026, 1, 5)), (Integer, 1),
               (JSON, None)]
    with engine.begin() as conn:
        for name in ("practices", "patients", "payers", "coverages"):
            table = meta.tables[name]
            values = {c.name: "1EG4TE5MK73" if c.name == "member_id" else
                      next((v for kind, v in samples if isinstance(c.type, kind)), "x")
                      for c in table.columns}
            conn.execute(table.insert().values(**values))
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT member_id, start_date, end_date FROM coverages")
                            ).one() == ("1EG4TE5MK73", None, None)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0005")
    with engine.connect() as conn:
        columns = {row[1] for row in conn.execute(text("PRAGMA table_info(coverages)"))}
        assert "start_date" not in columns and "end_date" not in columns
        assert conn.execute(text("SELECT count(*) FROM coverages")).scalar() == 1
    engine.dispose()
