"""Bulk insert helpers give the same ids and conflict behaviour for small and large batches.

Large batches take the COPY path on PostgreSQL (``bulk.COPY_FROM``), small ones a plain
statement; both must skip existing keys, update on upsert, and return ids by key.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from rehabill.store import bulk
from rehabill.store import visits as store_visits
from rehabill.store.models import (
    CoverageRow,
    LedgerEntryRow,
    PatientRow,
    PayerRow,
    PlanOfCareRow,
    PracticeRow,
    ServiceRow,
    VisitRow,
)
from rehabill.testing import visit_from_terms


def _practice(session: Session) -> int:
    row = PracticeRow(npi="1306849450", tax_id="1", name="P", address_line1="1", city="A",
                      state="TX", zip="78701")
    session.add(row)
    session.flush()
    return row.id


def _patients(practice_id: int, n: int, last: str = "Lee") -> list[dict[str, object]]:
    return [{"practice_id": practice_id, "external_id": f"P-{i}", "first_name": "A",
             "last_name": last, "birth_date": date(1950, 1, 1), "sex": "F",
             "address_line1": None, "address_line2": "", "city": None, "state": None,
             "zip": None} for i in range(n)]


@pytest.mark.parametrize("n", [3, bulk.COPY_FROM + 50])
def test_insert_new__skips_stored_keys_and_returns_new_ids(session: Session, n: int) -> None:
    practice_id = _practice(session)
    first = bulk.insert_new(session, PatientRow, _patients(practice_id, n // 2),
                            ("practice_id", "external_id"))
    second = bulk.insert_new(session, PatientRow, _patients(practice_id, n),
                             ("practice_id", "external_id"))
    assert len(first) == n // 2 and len(second) == n - n // 2
    assert not set(first.values()) & set(second.values())
    stored = session.execute(select(PatientRow.external_id, PatientRow.id)).all()
    assert {(practice_id, k): v for k, v in stored} == {**first, **second}


@pytest.mark.parametrize("n", [3, bulk.COPY_FROM + 50])
def test_upsert__updates_and_returns_every_id(session: Session, n: int) -> None:
    practice_id = _practice(session)
    first = bulk.upsert(session, PatientRow, _patients(practice_id, n),
                        ("practice_id", "external_id"), ("last_name",))
    again = bulk.upsert(session, PatientRow, _patients(practice_id, n, "Park"),
                        ("practice_id", "external_id"), ("last_name",))
    assert first == again and len(first) == n
    session.expire_all()
    assert set(session.scalars(select(PatientRow.last_name))) == {"Park"}


@pytest.mark.parametrize("n", [3, bulk.COPY_FROM + 50])
def test_insert_all__fills_defaults_and_json(session: Session, n: int) -> None:
    practice_id = _practice(session)
    patients = bulk.insert_new(session, PatientRow, _patients(practice_id, n),
                               ("practice_id", "external_id"))
    payer = PayerRow(payer_key="X", name="X", policy="")
    session.add(payer)
    session.flush()
    bulk.insert_all(session, CoverageRow, [
        {"patient_id": pid, "payer_id": payer.id, "member_id": f"M{pid}",
         "subscriber": {"first_name": "S"}} for pid in patients.values()])
    rows = session.scalars(select(CoverageRow)).all()
    assert len(rows) == n
    assert {(r.plan, r.sequence, r.subscriber["first_name"]) for r in rows} == \
        {("", "primary", "S")}
    assert all(r.created_at is not None for r in rows)


@pytest.mark.parametrize("n", [1, bulk.COPY_FROM + 1])
def test_insert_all__refuses_float_money(session: Session, n: int) -> None:
    rows = [{"kind": "charge", "amount": 1.5}] * n
    with pytest.raises(Exception, match="float"):  # SQLAlchemy wraps the TypeError
        bulk.insert_all(session, LedgerEntryRow, rows)
    bulk.insert_all(session, LedgerEntryRow, [{"kind": "charge", "amount": Decimal("1.5")}] * n)


@pytest.mark.parametrize("n", [3, bulk.COPY_FROM + 50])
def test_upsert__date_keys_and_timestamps_survive_both_paths(session: Session, n: int) -> None:
    practice_id = _practice(session)
    patients = bulk.insert_new(session, PatientRow, _patients(practice_id, n),
                               ("practice_id", "external_id"))
    rows = [{"patient_id": pid, "start_date": date(2026, 1, 1 + i % 28),
             "end_date": date(2026, 6, 30), "certified_on": None, "certifying_npi": "",
             "discipline": "pt"} for i, pid in enumerate(patients.values())]
    ids = bulk.upsert(session, PlanOfCareRow, rows, ("patient_id", "start_date", "discipline"),
                      ("end_date",))
    assert set(ids) == {(r["patient_id"], r["start_date"], "pt") for r in rows}
    session.expire_all()
    stored = session.scalars(select(PatientRow)).all()
    assert all(isinstance(p.created_at, datetime) for p in stored)
    assert {p.birth_date for p in stored} == {date(1950, 1, 1)}


def test_fetch__reads_what_session_execute_reads(session: Session) -> None:
    """``bulk.fetch`` (driver cursor, column-wise conversion) gives the same values as a
    SQLAlchemy read, for every column type the visit tables use (dates, money, JSON, text)."""
    visit = visit_from_terms("97530=25 97110=10/13 97161", visit_id="V-fetch")
    store_visits.save_visits(session, [visit])
    for model in (VisitRow, ServiceRow, PatientRow, CoverageRow, LedgerEntryRow):
        table = bulk.table_of(model)
        query = select(table).order_by(table.c.id)
        expected = [tuple(row) for row in session.execute(query)]
        assert bulk.fetch(session, query) == expected, model.__name__


@pytest.mark.parametrize("n", [3, bulk.COPY_FROM + 50])
def test_insert_new_cells__stores_and_returns_what_insert_new_does(session: Session,
                                                                    n: int) -> None:
    practice_id = _practice(session)
    key = ("practice_id", "external_id")
    rows = _patients(practice_id, n)
    first = bulk.insert_new(session, PatientRow, rows[:n // 2], key)
    names = list(rows[0])
    cells = bulk.driver_rows(session.get_bind().dialect, PatientRow, names,
                             [tuple(r.values()) for r in rows])
    second = bulk.insert_new_cells(session, PatientRow, names, cells, key)
    assert list(second) == [(practice_id, f"P-{i}") for i in range(n // 2, n)]
    assert not set(first.values()) & set(second.values())
    stored = session.execute(select(PatientRow.external_id, PatientRow.birth_date,
                                    PatientRow.city).order_by(PatientRow.id)).all()
    assert stored == [(f"P-{i}", date(1950, 1, 1), None) for i in range(n)]
    assert bulk.insert_new_cells(session, PatientRow, names, cells, key) == {}


@pytest.mark.parametrize("n", [4, bulk.COPY_FROM + 50])
def test_insert_new_cells__returns_the_stored_id_of_each_row_it_inserted(session: Session,
                                                                          n: int) -> None:
    """Every row new (the ids known without reading them back on SQLite), after rows stored
    before, with a key given twice (the last row wins) and none given: the ids are the ones
    stored."""
    practice_id = _practice(session)
    key = ("practice_id", "external_id")
    rows = _patients(practice_id, n)
    bulk.insert_new(session, PatientRow, rows[:2], key)
    names = list(rows[0])
    later = [*rows[2:], {**rows[-1], "last_name": "Kim"}]
    cells = bulk.driver_rows(session.get_bind().dialect, PatientRow, names,
                             [tuple(r.values()) for r in later])
    ids = bulk.insert_new_cells(session, PatientRow, names, cells, key)
    stored = session.execute(select(PatientRow.practice_id, PatientRow.external_id,
                                    PatientRow.id, PatientRow.last_name)
                             .order_by(PatientRow.id)).all()
    assert ids == {(p, e): i for p, e, i, _ in stored if e not in ("P-0", "P-1")}
    assert [last for *_, last in stored][-1] == "Kim" and len(stored) == n
