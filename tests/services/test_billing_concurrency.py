"""Two processes posting the same ERA at once on PostgreSQL post it once (issue 6).

The test commits for real, so it works in its own throw-away schema.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from rehabill.services import billing
from rehabill.services.cycle import simulate_payers, write_visit_file
from rehabill.services.imports import import_file
from rehabill.simulate.clinic import ClinicSpec, generate_visits
from rehabill.store import make_engine, make_session_factory, migrate
from rehabill.store.models import LedgerEntryRow, RemittanceRow
from tests.db import postgres_url, schema_url


@pytest.fixture
def pg_books() -> Iterator[Engine]:
    url = postgres_url()
    schema = f"rehabill_conc_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(schema_url(url, schema))
    try:
        migrate(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


def _count(factory: sessionmaker[Session], model: type) -> int:  # type: ignore[type-arg]
    with factory() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def test_post_remittance__two_at_once_post_once(pg_books: Engine, tmp_path: Path) -> None:
    factory = make_session_factory(pg_books)
    spec = ClinicSpec(seed=8, start=date(2026, 6, 1), weeks=3, patients=5, mistake_rate=0.0)
    import_file(factory, write_visit_file(generate_visits(spec), tmp_path / "v.json"))
    billing.scrub_stored_claims(factory, today=date(2026, 6, 25))
    batch = billing.build_batch(factory, outbox=tmp_path / "out", today=date(2026, 6, 25))
    era = next(p for p in simulate_payers([Path(f.path) for f in batch.files], tmp_path / "in")
               if p.suffix == ".835")
    gate = threading.Barrier(2)

    def post(_: int) -> billing.PostReport:
        gate.wait()
        return billing.post_remittance(factory, era)

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(post, range(2))
    winners = [r for r in (first, second) if r.posted_traces]
    losers = [r for r in (first, second) if not r.posted_traces]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0].already_read or losers[0].duplicate_traces
    entries = _count(factory, LedgerEntryRow)
    assert entries > 0
    assert _count(factory, RemittanceRow) == len(winners[0].posted_traces)
    assert billing.post_remittance(factory, era).already_read
    assert _count(factory, LedgerEntryRow) == entries
