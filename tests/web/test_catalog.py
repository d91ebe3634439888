"""Visit entry's patients come from the practice database when the app has one (coverages,
plans of care, authorizations and this year's therapy amounts from the store), and from the
demo practice only without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from rehabill import testing
from rehabill.services.uow import unit_of_work
from rehabill.store import visits as store_visits
from rehabill.store.models import ClaimRow, PatientRow, ProviderRow, VisitRow
from rehabill.web import create_app
from rehabill.web.catalog import BooksCatalog
from rehabill.web.sql import SqlVisitService
from rehabill.web.users import InMemoryUserRepository
from tests.web.books import make_books
from tests.web.conftest import (
    FAST_PASSWORDS,
    MEDICARE_PATIENT,
    SECRET,
    TODAY,
    USERS,
    login,
    settings,
    visit_form,
)


@pytest.fixture(scope="module")
def books() -> sessionmaker[Session]:
    return make_books()


@pytest.fixture
def catalog(books: sessionmaker[Session]) -> BooksCatalog:
    return BooksCatalog(books, secret=SECRET, clock=lambda: TODAY)


def test_catalog__patients_come_from_the_database(books: sessionmaker[Session],
                                                  catalog: BooksCatalog) -> None:
    with unit_of_work(books) as session:
        stored = {r.external_id: r for r in session.scalars(select(PatientRow))}
        npis = set(session.scalars(select(ProviderRow.npi)))
    patients = catalog.patients()
    assert {p.patient.id for p in patients} == set(stored)
    assert [p.label for p in patients] == sorted(p.label for p in patients)
    assert {c.npi for c in catalog.clinicians()} == npis
    assert catalog.practice.name == "Riverside Rehab"
    for choice in patients:
        assert choice.key.startswith("pt-") and choice.patient.id not in choice.key
        assert choice.coverages and all(c.key.startswith("cv-") for c in choice.coverages)
        assert catalog.patient(choice.key) == choice
        poc = choice.plan_of_care
        assert poc is not None and poc.start <= TODAY <= poc.end  # the plan in force today
        assert choice.diagnoses  # the latest visit's
        assert choice.visit_number_in_episode is not None and choice.visit_number_in_episode > 1
        assert choice.therapy_to_date.pt_slp + choice.therapy_to_date.ot > 0  # claims coded
    commercial = [p for p in patients if p.coverages[0].coverage.payer_id != "MEDICARE"]
    assert commercial and all(p.authorization is not None for p in commercial)
    assert catalog.patient(MEDICARE_PATIENT) is None  # no demo patient with books


def test_catalog__keys_are_stable_for_one_secret_only(books: sessionmaker[Session],
                                                      catalog: BooksCatalog) -> None:
    again = BooksCatalog(books, secret=SECRET, clock=lambda: TODAY)
    other = BooksCatalog(books, secret="another-secret-" * 3, clock=lambda: TODAY)
    keys = [p.key for p in catalog.patients()]
    assert keys == [p.key for p in again.patients()]
    assert not set(keys) & {p.key for p in other.patients()}


def test_catalog__a_patient_added_to_the_books_appears() -> None:
    books = make_books(seed=False)
    catalog = BooksCatalog(books, secret=SECRET, clock=lambda: TODAY)
    assert catalog.patients() == ()
    visit = testing.visit_from_terms("97110=30", visit_id="V-NEW")
    with unit_of_work(books) as session:
        store_visits.save_visits(session, [replace(visit, date_of_service=date(2026, 2, 27))])
    (choice,) = catalog.patients()
    assert choice.patient.id == visit.patient.id
    assert choice.coverages[0].coverage.member_id == visit.coverage.member_id
    assert catalog.practice.npi == visit.billing_provider.npi


def test_catalog__app_without_books_uses_the_demo_practice() -> None:
    app = create_app(settings(), users=InMemoryUserRepository(tuple(USERS.values())),
                     passwords=FAST_PASSWORDS, today=TODAY)
    with TestClient(app) as client:
        login(client, "ana")
        page = client.get("/visits/new").text
    assert MEDICARE_PATIENT in page and "Whitfield" in page


def test_catalog__a_visit_entered_for_a_stored_patient_is_billed_to_them(
        books: sessionmaker[Session], catalog: BooksCatalog) -> None:
    visits = SqlVisitService(books, catalog, clock=lambda: TODAY)
    app = create_app(settings(), users=InMemoryUserRepository(tuple(USERS.values())),
                     passwords=FAST_PASSWORDS, today=TODAY, books=books, visits=visits)
    chosen = catalog.patients()[0]
    clinician = next(c for c in catalog.clinicians() if c.credential.value == "PT")
    with unit_of_work(books) as session:
        patients_before = session.scalar(select(func.count()).select_from(PatientRow))
    with TestClient(app) as client:
        csrf = login(client, "ana")
        page = client.get("/visits/new").text
        assert chosen.key in page and "Whitfield" not in page
        saved = client.post("/visits", data={
            **visit_form(csrf, patient=chosen.key, diagnoses=", ".join(chosen.diagnoses)),
            "rendering_npi": clinician.npi, "action": "finalize"}, follow_redirects=False)
        assert saved.status_code == 303, saved.text[:800]
        visit_id = saved.headers["location"].split("/")[2].split("?")[0]
    record = visits.get(visit_id)
    assert record is not None and record.patient_key == chosen.key
    with unit_of_work(books) as session:
        row = session.scalars(select(VisitRow).where(VisitRow.visit_key == visit_id)).one()
        patient = session.get(PatientRow, row.patient_id)
        claims = session.scalars(select(ClaimRow.status).where(ClaimRow.visit_id == row.id)).all()
        patients_after = session.scalar(select(func.count()).select_from(PatientRow))
    assert patient is not None and patient.external_id == chosen.patient.id
    assert patients_after == patients_before
    assert claims and claims[0] in ("scrubbed", "held")
