"""The web's collaborators on the store: users, the audit log and visits in the database,
and the whole app wired to them (log in, save a draft, finalize into a claim)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rehabill import testing
from rehabill.errors import ConflictError
from rehabill.services.uow import unit_of_work
from rehabill.store.models import AuditEventRow, ClaimRow
from rehabill.web import create_app
from rehabill.web.audit import AuditAction, event
from rehabill.web.catalog import demo_catalog
from rehabill.web.sql import SqlAuditSink, SqlUserRepository, SqlVisitService
from rehabill.web.users import Role, User
from rehabill.web.visits import VisitStatus
from tests.web.books import make_books
from tests.web.conftest import FAST_PASSWORDS, PASSWORD, TODAY, login, settings, visit_form


@pytest.fixture
def books() -> sessionmaker[Session]:
    return make_books(seed=False)


def _user(name: str, role: Role = Role.THERAPIST, npi: str = "") -> User:
    return User(name, FAST_PASSWORDS.hash(PASSWORD), role, provider_npi=npi)


def _visit(visit_id: str, npi: str = "1467560003") -> object:
    visit = testing.visit_from_terms("97530=25 97110=10", visit_id=visit_id)
    return replace(visit, rendering_provider=replace(visit.rendering_provider, npi=npi))


def test_sql_users__add_then_get_case_insensitively(books: sessionmaker[Session]) -> None:
    users = SqlUserRepository(books)
    users.add(_user("Bea", Role.BILLER))
    found = users.get_by_username("BEA")
    assert found is not None
    assert (found.username, found.role, found.active) == ("bea", Role.BILLER, True)
    assert users.get_by_username("nobody") is None


def test_sql_users__taken_username_is_a_conflict(books: sessionmaker[Session]) -> None:
    users = SqlUserRepository(books)
    users.add(_user("ana"))
    with pytest.raises(ConflictError):
        users.add(_user("ANA"))


def test_sql_users__therapist_is_linked_to_their_clinician(books: sessionmaker[Session]) -> None:
    visits = SqlVisitService(books, demo_catalog(TODAY))
    visits.save(_visit("V-A"), status=VisitStatus.DRAFT, author="ana",  # type: ignore[arg-type]
                patient_key="", coverage_key="")
    users = SqlUserRepository(books)
    users.add(_user("ana", npi="1467560003"))
    found = users.get_by_username("ana")
    assert found is not None and found.provider_npi == "1467560003"
    assert found.label == "Ana Ruiz"


def test_sql_audit__every_event_is_a_row(books: sessionmaker[Session]) -> None:
    SqlAuditSink(books).record(event("bea", "biller", AuditAction.READ, "claim", "7",
                                     "/claims/{claim_id}"))
    with unit_of_work(books) as session:
        row = session.scalars(select(AuditEventRow)).one()
    assert (row.actor, row.action, row.entity, row.entity_id) == ("bea", "read", "claim", "7")
    assert row.detail["route"] == "/claims/{claim_id}"


def test_sql_visits__draft_is_replaced_then_finalized_into_a_claim(
        books: sessionmaker[Session]) -> None:
    visits = SqlVisitService(books, demo_catalog(TODAY))
    first = _visit("V-1")
    visits.save(first, status=VisitStatus.DRAFT, author="ana",  # type: ignore[arg-type]
                patient_key="pt-7c1e2a", coverage_key="cv-51d0a3")
    record = visits.get("V-1")
    assert record is not None and record.status is VisitStatus.DRAFT
    assert record.patient_key == "pt-7c1e2a"
    changed = testing.visit_from_terms("97530=38", visit_id="V-1")
    visits.save(changed, status=VisitStatus.FINAL, author="ana", patient_key="pt-7c1e2a",
                coverage_key="cv-51d0a3")
    record = visits.get("V-1")
    assert record is not None and record.status is VisitStatus.FINAL
    assert [s.minutes for s in record.visit.services] == [38]
    with unit_of_work(books) as session:
        assert session.scalars(select(ClaimRow.status)).all() == ["scrubbed"]
    with pytest.raises(ConflictError):
        visits.save(changed, status=VisitStatus.DRAFT, author="ana", patient_key="",
                    coverage_key="")


def test_sql_visits__a_therapist_sees_only_their_own(books: sessionmaker[Session]) -> None:
    visits = SqlVisitService(books, demo_catalog(TODAY))
    users = SqlUserRepository(books)
    for key, npi in (("V-ANA", "1467560003"), ("V-LIN", "1245319599")):
        visits.save(_visit(key, npi), status=VisitStatus.DRAFT,  # type: ignore[arg-type]
                    author="x", patient_key="", coverage_key="")
    users.add(_user("ana", npi="1467560003"))
    users.add(_user("lin", npi="1245319599"))
    assert [r.visit.visit_id for r in visits.recent(author="ana")] == ["V-ANA"]
    assert [r.author for r in visits.recent(author="lin")] == ["lin"]
    assert {r.visit.visit_id for r in visits.recent(author=None)} == {"V-ANA", "V-LIN"}


def test_sql_app__log_in_save_and_finalize_with_audit_rows(books: sessionmaker[Session]) -> None:
    users = SqlUserRepository(books)
    users.add(_user("ana", npi="1467560003"))
    app = create_app(settings(), users=users, audit=SqlAuditSink(books),
                     visits=SqlVisitService(books, demo_catalog(TODAY)),
                     catalog=demo_catalog(TODAY), passwords=FAST_PASSWORDS, today=TODAY,
                     books=books)
    with TestClient(app) as client:
        csrf = login(client, "ana")
        saved = client.post("/visits", data={**visit_form(csrf), "action": "finalize"},
                            follow_redirects=False)
        assert saved.status_code == 303, saved.text[:500]
        page = client.get(saved.headers["location"])
        assert page.status_code == 200 and "Final" in page.text
        assert "ana" not in saved.headers["location"]
    with unit_of_work(books) as session:
        actions = {(r.actor, r.action, r.entity) for r in session.scalars(select(AuditEventRow))}
        statuses = session.scalars(select(ClaimRow.status)).all()
    assert len(statuses) == 1 and statuses[0] in ("scrubbed", "held")
    assert ("ana", "create", "visit") in actions
    assert ("ana", "read", "visit") in actions


def test_sql_visits__a_draft_is_never_billed_by_the_database_scrub(
        books: sessionmaker[Session]) -> None:
    from rehabill.services import billing

    visits = SqlVisitService(books, demo_catalog(TODAY))
    visits.save(_visit("V-DRAFT"), status=VisitStatus.DRAFT, author="ana",  # type: ignore[arg-type]
                patient_key="", coverage_key="")
    report = billing.scrub_stored_claims(books, today=TODAY)
    with unit_of_work(books) as session:
        assert session.scalars(select(ClaimRow)).all() == []
    assert report is not None
    record = visits.get("V-DRAFT")
    assert record is not None and record.status is VisitStatus.DRAFT
