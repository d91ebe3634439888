"""The Admin page's coverage editor: admins add and change a patient's primary and secondary
coverage; the forms are CSRF-protected, validated and audited, and the secondary is what
moving a balance to the secondary payer bills."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rehabill.services import billing as services
from rehabill.services.cycle import simulate_payers
from rehabill.simulate.payer import DenialRates
from rehabill.store import claims as store_claims
from rehabill.store.models import (
    AuditEventRow,
    ClaimRow,
    CoverageRow,
    LedgerEntryRow,
    PatientRow,
    VisitRow,
)
from rehabill.web import create_app
from rehabill.web.audit import InMemoryAuditLog
from rehabill.web.catalog import BooksCatalog, demo_catalog
from rehabill.web.users import InMemoryUserRepository, Role
from tests.web.books import make_books
from tests.web.conftest import FAST_PASSWORDS, SECRET, TODAY, USERS, login, settings

MEDIGAP = {"payer_id": "lsmgp", "payer_name": "Lone Star Medigap", "member_id": "MG1234567",
           "plan": "Medigap", "group_number": "PLAN-G", "relationship": "self",
           "sequence": "secondary"}


@pytest.fixture
def books() -> sessionmaker[Session]:
    return make_books()


@pytest.fixture
def audit() -> InMemoryAuditLog:
    return InMemoryAuditLog()


@pytest.fixture
def admin(books: sessionmaker[Session], audit: InMemoryAuditLog) -> Iterator[TestClient]:
    app: FastAPI = create_app(settings(), users=InMemoryUserRepository(tuple(USERS.values())),
                              audit=audit, passwords=FAST_PASSWORDS, today=TODAY, books=books,
                              catalog=demo_catalog(TODAY))
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["x-test-csrf"] = login(client, USERS[Role.ADMIN].username)
        yield client


def _patient(books: sessionmaker[Session]) -> tuple[int, str]:
    """A Medicare patient of the seeded practice: row id and the practice's id."""
    with books() as s:
        row = s.execute(select(PatientRow.id, PatientRow.external_id)
                        .join(VisitRow, VisitRow.patient_id == PatientRow.id)
                        .join(CoverageRow, CoverageRow.id == VisitRow.coverage_id)
                        .where(CoverageRow.plan == "medicare_part_b")
                        .order_by(PatientRow.id)).first()
    assert row is not None
    return int(row[0]), str(row[1])


def _coverages(books: sessionmaker[Session], patient_id: int) -> list[tuple[str, ...]]:
    with books() as s:
        return [tuple(r) for r in s.execute(
            select(CoverageRow.sequence, CoverageRow.member_id, CoverageRow.plan,
                   CoverageRow.group_number).where(CoverageRow.patient_id == patient_id)
            .order_by(CoverageRow.id))]


def test_coverages__page_lists_patients_with_their_coverages(
        admin: TestClient, books: sessionmaker[Session], audit: InMemoryAuditLog) -> None:
    assert 'href="/admin/coverages"' in admin.get("/admin").text
    patient_id, external = _patient(books)
    page = admin.get(f"/admin/coverages?patient={external}")
    assert page.status_code == 200
    assert external in page.text and "Primary" in page.text and "Medicare" in page.text
    assert f'action="/admin/patients/{patient_id}/coverages"' in page.text
    assert ("root", "read", "patient", str(patient_id)) in {
        (e.actor, e.action.value, e.entity, e.entity_id) for e in audit.events}
    assert "No patient id begins with" in admin.get("/admin/coverages?patient=nobody").text


def test_coverages__admin_adds_a_secondary_that_move_balance_bills(
        admin: TestClient, books: sessionmaker[Session], audit: InMemoryAuditLog) -> None:
    patient_id, external = _patient(books)
    csrf = admin.headers["x-test-csrf"]
    saved = admin.post(f"/admin/patients/{patient_id}/coverages",
                       data={"csrf_token": csrf, **MEDIGAP}, follow_redirects=False)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/admin/coverages?patient={external}&saved=1"
    page = admin.get(saved.headers["location"])
    assert "Coverage saved" in page.text and "MG1234567" in page.text
    assert _coverages(books, patient_id)[-1] == ("secondary", "MG1234567", "medigap", "PLAN-G")
    with books() as s:
        visit = s.scalars(select(VisitRow.id).where(VisitRow.patient_id == patient_id)).first()
        assert visit is not None
        coverage_id = store_claims.coverage_for(s, visit, "secondary")
        assert coverage_id is not None
        coverage = store_claims.load_coverages(s, [coverage_id])[coverage_id]
        event = s.execute(select(AuditEventRow.actor, AuditEventRow.action)
                          .where(AuditEventRow.entity == "coverage")).one()
    assert (coverage.payer_id, coverage.payer_name) == ("LSMGP", "Lone Star Medigap")
    assert tuple(event) == ("root", "add_coverage")
    assert ("root", "create", "coverage", str(coverage_id)) in {
        (e.actor, e.action.value, e.entity, e.entity_id) for e in audit.events}


def test_coverages__admin_changes_a_coverage(admin: TestClient,
                                             books: sessionmaker[Session]) -> None:
    patient_id, _ = _patient(books)
    csrf = admin.headers["x-test-csrf"]
    admin.post(f"/admin/patients/{patient_id}/coverages", data={"csrf_token": csrf, **MEDIGAP})
    page = admin.get("/admin/coverages").text
    [coverage_id] = re.findall(rf'action="/admin/patients/{patient_id}/coverages/(\d+)"[^>]*>'
                               r'(?:(?!</form>).)*MG1234567', page, re.S)
    changed = admin.post(f"/admin/patients/{patient_id}/coverages/{coverage_id}",
                         data={"csrf_token": csrf, **MEDIGAP, "member_id": "MG7654321",
                               "group_number": "PLAN-N"}, follow_redirects=False)
    assert changed.status_code == 303
    assert _coverages(books, patient_id)[-1] == ("secondary", "MG7654321", "medigap", "PLAN-N")


@pytest.mark.parametrize(("form", "status", "says"), [
    ({"member_id": ""}, 422, "needs the payer id and the member id"),
    ({"sequence": "fourth"}, 422, "primary, secondary, tertiary or former"),
    ({"relationship": "cousin"}, 422, "relationship"),
])
def test_coverages__bad_forms_are_refused_with_a_reason(
        admin: TestClient, books: sessionmaker[Session], form: dict[str, str], status: int,
        says: str) -> None:
    patient_id, _ = _patient(books)
    before = _coverages(books, patient_id)
    response = admin.post(f"/admin/patients/{patient_id}/coverages",
                          data={"csrf_token": admin.headers["x-test-csrf"], **MEDIGAP, **form})
    assert response.status_code == status and says in response.text
    assert _coverages(books, patient_id) == before


def test_coverages__a_second_secondary_or_the_same_member_is_a_conflict(
        admin: TestClient, books: sessionmaker[Session]) -> None:
    patient_id, _ = _patient(books)
    csrf = admin.headers["x-test-csrf"]
    admin.post(f"/admin/patients/{patient_id}/coverages", data={"csrf_token": csrf, **MEDIGAP})
    again = admin.post(f"/admin/patients/{patient_id}/coverages",
                       data={"csrf_token": csrf, **MEDIGAP, "sequence": "tertiary"})
    assert again.status_code == 409 and "already has a coverage with payer LSMGP" in again.text
    other = admin.post(f"/admin/patients/{patient_id}/coverages",
                       data={"csrf_token": csrf, **MEDIGAP, "payer_id": "TXMCD",
                             "member_id": "512345678"})
    assert other.status_code == 409 and "already has a secondary coverage" in other.text
    page = admin.get("/admin/coverages").text
    [old_id] = re.findall(rf'/admin/patients/{patient_id}/coverages/(\d+)"[^>]*>'
                          r'(?:(?!</form>).)*MG1234567', page, re.S)
    retired = admin.post(f"/admin/patients/{patient_id}/coverages/{old_id}",
                         data={"csrf_token": csrf, **MEDIGAP, "sequence": "former"},
                         follow_redirects=False)
    assert retired.status_code == 303
    replaced = admin.post(f"/admin/patients/{patient_id}/coverages",
                          data={"csrf_token": csrf, **MEDIGAP, "payer_id": "TXMCD",
                                "member_id": "512345678"}, follow_redirects=False)
    assert replaced.status_code == 303
    assert [c[:2] for c in _coverages(books, patient_id)[-2:]] == [
        ("former", "MG1234567"), ("secondary", "512345678")]


def test_coverages__no_csrf_no_such_patient_and_other_roles(
        admin: TestClient, books: sessionmaker[Session]) -> None:
    patient_id, _ = _patient(books)
    assert admin.post(f"/admin/patients/{patient_id}/coverages",
                      data=MEDIGAP).status_code == 403
    assert admin.post("/admin/patients/999999/coverages",
                      data={"csrf_token": admin.headers["x-test-csrf"], **MEDIGAP}
                      ).status_code == 404
    assert admin.post(f"/admin/patients/{patient_id}/coverages/999999",
                      data={"csrf_token": admin.headers["x-test-csrf"], **MEDIGAP}
                      ).status_code == 404
    login(admin, USERS[Role.BILLER].username)
    assert admin.get("/admin/coverages").status_code == 403


def _paid_medicare_claim(books: sessionmaker[Session], tmp_path: Path) -> int:
    """Bill the seeded practice, let the simulated payers pay, post; a Medicare claim paid
    with a patient share (PR)."""
    services.scrub_stored_claims(books, today=TODAY)
    batch = services.build_batch(books, outbox=tmp_path / "outbox", today=TODAY)
    answers = simulate_payers([Path(f.path) for f in batch.files], tmp_path / "inbox",
                              rates=DenialRates.none())
    for path in sorted(answers, key=lambda p: p.suffix == ".835"):
        if path.suffix == ".835":
            services.post_remittance(books, path)
        else:
            services.read_acknowledgments(books, path)
    with books() as s:
        found = s.scalars(
            select(ClaimRow.id).join(VisitRow, VisitRow.id == ClaimRow.visit_id)
            .join(CoverageRow, CoverageRow.id == VisitRow.coverage_id)
            .join(LedgerEntryRow, LedgerEntryRow.claim_id == ClaimRow.id)
            .where(ClaimRow.status == "paid", CoverageRow.plan == "medicare_part_b",
                   LedgerEntryRow.group_code == "PR").order_by(ClaimRow.id)).first()
    assert found is not None
    return int(found)


def test_claim_page__bill_secondary_once_the_admin_added_it(
        admin: TestClient, books: sessionmaker[Session], tmp_path: Path) -> None:
    claim_id = _paid_medicare_claim(books, tmp_path)
    csrf = admin.headers["x-test-csrf"]
    page = admin.get(f"/claims/{claim_id}").text
    assert f'action="/claims/{claim_id}/move?to=secondary"' in page
    refused = admin.post(f"/claims/{claim_id}/move?to=secondary", data={"csrf_token": csrf})
    assert refused.status_code == 409 and "no secondary coverage" in refused.text
    with books() as s:
        patient_id = s.scalars(select(VisitRow.patient_id).join(
            ClaimRow, ClaimRow.visit_id == VisitRow.id).where(ClaimRow.id == claim_id)).one()
    added = admin.post(f"/admin/patients/{patient_id}/coverages",
                       data={"csrf_token": csrf, **MEDIGAP}, follow_redirects=False)
    assert added.status_code == 303

    moved = admin.post(f"/claims/{claim_id}/move?to=secondary", data={"csrf_token": csrf})

    assert moved.status_code == 200 and "to the secondary payer" in moved.text
    with books() as s:
        new = s.execute(select(ClaimRow.id, ClaimRow.status, ClaimRow.coverage_id)
                        .where(ClaimRow.prior_claim_id == claim_id)).one()
    assert new.status == "scrubbed" and new.coverage_id is not None
    again = admin.post(f"/claims/{claim_id}/move?to=secondary", data={"csrf_token": csrf})
    assert again.status_code == 409 and "already billed to the secondary" in again.text


def test_coverages__visit_entry_offers_the_changed_coverage(
        books: sessionmaker[Session], audit: InMemoryAuditLog) -> None:
    catalog = BooksCatalog(books, secret=SECRET, clock=lambda: TODAY)
    app = create_app(settings(), users=InMemoryUserRepository(tuple(USERS.values())),
                     audit=audit, passwords=FAST_PASSWORDS, today=TODAY, books=books,
                     catalog=catalog)
    patient_id, external = _patient(books)
    with TestClient(app) as client:
        csrf = login(client, USERS[Role.ADMIN].username)
        client.post(f"/admin/patients/{patient_id}/coverages",
                    data={"csrf_token": csrf, **MEDIGAP})
        [chosen] = [p for p in catalog.patients() if p.patient.id == external]
        [(key, medigap)] = [(c.key, c.coverage) for c in chosen.coverages
                            if c.coverage.payer_id == "LSMGP"]
        assert medigap.member_id == "MG1234567"
        page = client.get(f"/admin/coverages?patient={external}").text
        [coverage_id] = re.findall(rf'/admin/patients/{patient_id}/coverages/(\d+)"[^>]*>'
                                   r'(?:(?!</form>).)*MG1234567', page, re.S)
        client.post(f"/admin/patients/{patient_id}/coverages/{coverage_id}",
                    data={"csrf_token": csrf, **MEDIGAP, "member_id": "MG7654321"})
        [chosen] = [p for p in catalog.patients() if p.patient.id == external]
        coverage = chosen.coverage(key)
        assert coverage is not None and coverage.coverage.member_id == "MG7654321"
        client.post(f"/admin/patients/{patient_id}/coverages/{coverage_id}",
                    data={"csrf_token": csrf, **MEDIGAP, "sequence": "former"})
    [chosen] = [p for p in catalog.patients() if p.patient.id == external]
    assert chosen.coverage(key) is None  # no longer in force: not offered for new visits


def _coverage_id(admin: TestClient, patient_id: int, member_id: str) -> str:
    page = admin.get("/admin/coverages").text
    [found] = re.findall(rf'action="/admin/patients/{patient_id}/coverages/(\d+)"[^>]*>'
                         rf'(?:(?!</form>).)*{member_id}', page, re.S)
    return str(found)


def _dates(books: sessionmaker[Session], coverage_id: str) -> tuple[object, object]:
    with books() as s:
        row = s.execute(select(CoverageRow.start_date, CoverageRow.end_date)
                        .where(CoverageRow.id == int(coverage_id))).one()
    return (str(row[0]) if row[0] else None, str(row[1]) if row[1] else None)


def test_coverages__admin_sets_changes_and_opens_the_dates_in_force(
        admin: TestClient, books: sessionmaker[Session]) -> None:
    """A Medigap plan in force from January, terminated at the end of June by a phone call:
    the page shows the dates, the scrubber then holds visits after June 30."""
    patient_id, external = _patient(books)
    csrf = admin.headers["x-test-csrf"]
    added = admin.post(f"/admin/patients/{patient_id}/coverages",
                       data={"csrf_token": csrf, **MEDIGAP, "dated": "1", "start": "2026-01-01",
                             "end": ""},
                       follow_redirects=False)
    assert added.status_code == 303
    coverage_id = _coverage_id(admin, patient_id, "MG1234567")
    assert _dates(books, coverage_id) == ("2026-01-01", None)
    ended = admin.post(f"/admin/patients/{patient_id}/coverages/{coverage_id}",
                       data={"csrf_token": csrf, **MEDIGAP, "dated": "1",
                             "start": "2026-01-01", "end": "2026-06-30"}, follow_redirects=False)
    assert ended.status_code == 303
    assert _dates(books, coverage_id) == ("2026-01-01", "2026-06-30")
    page = admin.get(f"/admin/coverages?patient={external}").text
    assert "2026-01-01 to 2026-06-30" in page
    assert 'name="end" type="date" value="2026-06-30"' in page
    # a script that sends no dates changes the plan and keeps them
    admin.post(f"/admin/patients/{patient_id}/coverages/{coverage_id}",
               data={"csrf_token": csrf, **MEDIGAP, "group_number": "PLAN-N"})
    assert _dates(books, coverage_id) == ("2026-01-01", "2026-06-30")
    # emptied fields open both sides again
    admin.post(f"/admin/patients/{patient_id}/coverages/{coverage_id}",
               data={"csrf_token": csrf, **MEDIGAP, "dated": "1", "start": "", "end": ""})
    assert _dates(books, coverage_id) == (None, None)
    with books() as s:
        event = s.execute(select(AuditEventRow.detail).where(
            AuditEventRow.entity == "coverage").order_by(AuditEventRow.id.desc())).first()
    assert event is not None and '"end": null' in str(event[0]).replace("'", '"').replace(
        "None", "null")


@pytest.mark.parametrize(("dates", "says"), [
    ({"start": "2026-07-01", "end": "2026-06-30"}, "cannot end before it starts"),
    ({"start": "07/01/2026", "end": ""}, "start date as YYYY-MM-DD"),
    ({"start": "", "end": "2026-02-30"}, "end date as YYYY-MM-DD"),
])
def test_coverages__impossible_dates_are_refused_with_a_reason(
        admin: TestClient, books: sessionmaker[Session], dates: dict[str, str],
        says: str) -> None:
    patient_id, _ = _patient(books)
    before = _coverages(books, patient_id)
    response = admin.post(f"/admin/patients/{patient_id}/coverages",
                          data={"csrf_token": admin.headers["x-test-csrf"], **MEDIGAP,
                                "dated": "1", **dates})
    assert response.status_code == 422 and says in response.text
    assert _coverages(books, patient_id) == before
