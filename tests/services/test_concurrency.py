"""Two writers at once on PostgreSQL cannot double-insert: unique keys + ON CONFLICT are the guard.

These tests commit for real (in the session's own schema), so every key they use is fresh.
Two threads, each with its own connection and transaction, are made to overlap on purpose: the
first holds its uncommitted insert while the second tries the same key.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from rehabill.errors import ConflictError
from rehabill.ledger import PostingResult, post_payment
from rehabill.services.claims import code_claims
from rehabill.services.imports import ImportReport, import_file
from rehabill.services.uow import unit_of_work
from rehabill.simulate.payer import MEDICARE, PayerSimulator
from rehabill.store import claims as store_claims
from rehabill.store import make_session_factory
from rehabill.store import remittances as store_remittances
from rehabill.store import visits as store_visits
from rehabill.store.files import next_control_numbers
from rehabill.store.models import (
    LedgerEntryRow,
    PayerRow,
    RemittanceRow,
    ServiceRow,
    VisitRow,
)
from rehabill.store.postings import SqlPostingStore
from rehabill.testing import PATIENT, visit_from_terms

pytestmark = pytest.mark.postgres
DATA = Path(__file__).parents[1] / "data" / "import"
OVERLAP_S = 0.3  # long enough for the second writer to reach the row lock


def _overlap(first: Callable[[threading.Event], Any], second: Callable[[], Any]
             ) -> tuple[Any, Any]:
    """Run ``first`` until it calls back (its rows written, not committed), then ``second``.

    ``first`` receives an event to wait on before it commits; it is released once ``second``
    has had time to block on the same key.
    """
    release = threading.Event()
    written = threading.Event()

    def run_first() -> Any:
        return first(_Hold(written, release))  # type: ignore[arg-type]

    with ThreadPoolExecutor(max_workers=2) as pool:
        a = pool.submit(run_first)
        assert written.wait(10), "the first writer never reached its insert"
        b = pool.submit(second)
        time.sleep(OVERLAP_S)
        assert not b.done(), "the second writer should be waiting for the first"
        release.set()
        return a.result(timeout=10), b.result(timeout=10)


class _Hold:
    """Passed to the first writer: ``wait()`` says "written" and blocks until released."""

    def __init__(self, written: threading.Event, release: threading.Event) -> None:
        self.written = written
        self.release = release

    def wait(self) -> None:
        self.written.set()
        assert self.release.wait(10)


def _payer(engine: Engine) -> int:
    with unit_of_work(make_session_factory(engine)) as s:
        payer = PayerRow(payer_key=f"P-{uuid.uuid4().hex[:8]}", name="Race Payer", policy="x")
        s.add(payer)
        s.flush()
        return payer.id


def test_remittance__two_transactions_same_trace_number_end_with_one(pg_engine: Engine) -> None:
    payer_id = _payer(pg_engine)
    trace = f"TRN-{uuid.uuid4().hex[:10]}"
    factory = make_session_factory(pg_engine)

    def add(session: Session) -> int | None:
        return store_remittances.add_remittance(session, originator="1999999999",
                                                trace_number=trace, payer_id=payer_id,
                                                payment_amount=Decimal("120.00"))

    def first(hold: _Hold) -> int | None:
        with unit_of_work(factory) as s:
            got = add(s)
            hold.wait()
            return got

    def second() -> int | None:
        with unit_of_work(factory) as s:
            return add(s)

    a, b = _overlap(first, second)  # type: ignore[arg-type]
    assert a is not None and b is None
    with factory() as s:
        count = s.execute(select(func.count()).select_from(RemittanceRow)
                          .where(RemittanceRow.trace_number == trace)).scalar_one()
    assert count == 1


def _visits_file(tmp_path: Path, name: str, prefix: str, indent: int | None) -> Path:
    data = json.loads((DATA / "visits.json").read_text())
    visits = data["visits"][:2]
    for v in visits:
        v["visit_id"] = f"{prefix}-{v['visit_id']}"
        v["patient"]["id"] = f"{prefix}-{v['patient']['id']}"
    path = tmp_path / name
    path.write_text(json.dumps(visits, indent=indent))  # same visits, different bytes
    return path


def test_import__two_imports_of_the_same_visits_at_once_store_them_once(
        pg_engine: Engine, tmp_path: Path) -> None:
    prefix = uuid.uuid4().hex[:8]
    one = _visits_file(tmp_path, "one.json", prefix, None)
    two = _visits_file(tmp_path, "two.json", prefix, 2)
    factory = make_session_factory(pg_engine)

    def first(hold: _Hold) -> ImportReport:
        return import_file(factory, one, on_progress=lambda done, total: hold.wait())

    a, b = _overlap(first, lambda: import_file(factory, two))  # type: ignore[arg-type]
    assert len(a.imported) == 2 and b.imported == []
    assert sorted(b.duplicates) == sorted(a.imported)
    with factory() as s:
        keys = s.scalars(select(VisitRow.visit_key).where(VisitRow.visit_key.like(f"{prefix}-%")))
        assert sorted(keys) == sorted(a.imported)
        services = s.execute(select(func.count()).select_from(ServiceRow).join(VisitRow)
                             .where(VisitRow.visit_key.like(f"{prefix}-%"))).scalar_one()
        assert services == 4


def test_import__the_same_file_twice_at_once_is_imported_once(pg_engine: Engine,
                                                              tmp_path: Path) -> None:
    path = _visits_file(tmp_path, "same.json", uuid.uuid4().hex[:8], None)
    factory = make_session_factory(pg_engine)

    def first(hold: _Hold) -> ImportReport:
        return import_file(factory, path, on_progress=lambda done, total: hold.wait())

    a, b = _overlap(first, lambda: import_file(factory, path))  # type: ignore[arg-type]
    assert len(a.imported) == 2
    assert b.imported == [] and b.already_imported_at


def test_control_numbers__concurrent_batches_never_share_a_number(pg_engine: Engine) -> None:
    submitter = f"S-{uuid.uuid4().hex[:8]}"
    factory = make_session_factory(pg_engine)

    def take(_: int) -> tuple[int, int, int]:
        with unit_of_work(factory) as s:
            n = next_control_numbers(s, submitter, transactions=3)
            return n.interchange, n.group, n.first_transaction

    with ThreadPoolExecutor(max_workers=4) as pool:
        taken = list(pool.map(take, range(12)))
    assert sorted(t[0] for t in taken) == list(range(1, 13))
    assert sorted(t[2] for t in taken) == list(range(1, 37, 3))


def test_post_era__two_processes_posting_the_same_payment_post_it_once(
        pg_engine: Engine) -> None:
    prefix = uuid.uuid4().hex[:8]
    factory = make_session_factory(pg_engine)
    with unit_of_work(factory) as s:
        patient = replace(PATIENT, id=f"{prefix}-P")
        visits = [visit_from_terms("97110=38 97530=25", visit_id=f"{prefix}-{i}",
                                   patient=patient) for i in range(3)]
        store_visits.save_visits(s, visits)
        coded = code_claims(s, visit_ids=[v.visit_id for v in visits])
        claims = list(store_claims.load_claims(s, list(coded.coded.values())).values())
    sim = PayerSimulator(MEDICARE, seed=9)
    sim.originator = f"1{prefix}"  # a trace key of this test's own
    [payment, *_] = sim.adjudicate(claims).payments

    def first(hold: _Hold) -> PostingResult:
        with unit_of_work(factory) as s:
            result = post_payment(SqlPostingStore(s), payment)
            hold.wait()
            return result

    def second() -> str:
        try:
            with unit_of_work(factory) as s:
                post_payment(SqlPostingStore(s), payment)
        except ConflictError as error:
            return error.message
        return "posted twice"

    a, b = _overlap(first, second)  # type: ignore[arg-type]
    assert a.posted and "already posted" in b
    with factory() as s:
        [remittance] = s.scalars(select(RemittanceRow.id).where(
            RemittanceRow.originator == f"1{prefix}")).all()
        entries = s.execute(select(func.count()).select_from(LedgerEntryRow).where(
            LedgerEntryRow.remittance_id == remittance)).scalar_one()
    assert entries == len(a.entries) + len(a.provider_entries)
