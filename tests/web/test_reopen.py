"""Fix-and-rescrub: a held claim is reopened for correction (removed, its visit a draft again),
the visit is edited in the entry form and finalized into a freshly scrubbed claim."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from rehabill.domain import ClaimStatus, Finding, Location, Severity
from rehabill.services.uow import unit_of_work
from rehabill.store import claims as store_claims
from rehabill.store.models import (
    AuditEventRow,
    ClaimRow,
    ClaimStatusRow,
    FindingRow,
    ServiceRow,
    VisitRow,
)
from rehabill.web import create_app
from rehabill.web.audit import InMemoryAuditLog
from rehabill.web.catalog import demo_catalog
from rehabill.web.sql import SqlVisitService
from rehabill.web.users import InMemoryUserRepository
from rehabill.web.visits import VisitStatus
from tests.web.books import make_books
from tests.web.conftest import FAST_PASSWORDS, TODAY, USERS, login, settings, visit_form


@pytest.fixture
def books() -> sessionmaker[Session]:
    return make_books(seed=False)


@pytest.fixture
def visits(books: sessionmaker[Session]) -> SqlVisitService:
    return SqlVisitService(books, demo_catalog(TODAY), clock=lambda: TODAY)


@pytest.fixture
def app(books: sessionmaker[Session], visits: SqlVisitService,
        audit: InMemoryAuditLog) -> FastAPI:
    return create_app(settings(), users=InMemoryUserRepository(tuple(USERS.values())),
                      audit=audit, visits=visits, passwords=FAST_PASSWORDS, today=TODAY,
                      books=books, catalog=demo_catalog(TODAY))


def _finalize(app: FastAPI, **extra: str) -> str:
    """The therapist finalizes a visit; its visit id."""
    with TestClient(app) as client:
        csrf = login(client, "ana")
        saved = client.post("/visits", data={**visit_form(csrf, **extra), "action": "finalize"},
                            follow_redirects=False)
    assert saved.status_code == 303, saved.text[:500]
    return str(saved.headers["location"].split("/")[2].split("?")[0])


def _hold(books: sessionmaker[Session]) -> int:
    """Put the one claim on hold with a scrub error, as the scrubber does."""
    with unit_of_work(books) as session:
        claim_id = session.scalars(select(ClaimRow.id)).one()
        store_claims.set_status(session, [claim_id], ClaimStatus.HELD, actor="scrub")
        store_claims.add_findings(session, [(claim_id, Finding(
            "scrub.test_error", Severity.ERROR, "The payer needs a fix.", Location(),
            "fix it"))], stage="scrub")
    return claim_id


def _count(books: sessionmaker[Session], table: type, **where: object) -> int:
    with unit_of_work(books) as session:
        query = select(func.count()).select_from(table)
        for name, value in where.items():
            query = query.where(getattr(table, name) == value)
        return int(session.scalar(query) or 0)


def test_reopen__held_claim_is_reopened_edited_and_finalized_into_a_scrubbed_claim(
        app: FastAPI, books: sessionmaker[Session], visits: SqlVisitService,
        audit: InMemoryAuditLog) -> None:
    visit_id = _finalize(app)
    claim_id = _hold(books)
    with TestClient(app) as biller:
        csrf = login(biller, "bea")
        detail = biller.get(f"/claims/{claim_id}")
        assert "Reopen for correction" in detail.text
        page = biller.post(f"/claims/{claim_id}/reopen", data={"csrf_token": csrf})
        assert page.status_code == 200 and "draft again" in page.text
        assert biller.post(f"/claims/{claim_id}/reopen",
                           data={"csrf_token": csrf}).status_code == 404
    assert _count(books, ClaimRow) == 0
    assert _count(books, FindingRow, claim_id=claim_id) == 0
    assert _count(books, ClaimStatusRow, claim_id=claim_id) == 0
    with unit_of_work(books) as session:
        assert session.scalars(select(VisitRow.is_draft)).one() is True
        assert ("bea", "reopen", "claim", str(claim_id)) in {
            (r.actor, r.action, r.entity, r.entity_id)
            for r in session.scalars(select(AuditEventRow))}
    record = visits.get(visit_id)
    assert record is not None and record.status is VisitStatus.DRAFT
    assert {("update", "claim", str(claim_id)), ("update", "visit", visit_id)} <= {
        (e.action.value, e.entity, e.entity_id) for e in audit.events}

    with TestClient(app) as therapist:
        csrf = login(therapist, "ana")
        form = therapist.get(f"/visits/{visit_id}/edit")
        assert form.status_code == 200 and f'value="{visit_id}"' in form.text
        saved = therapist.post("/visits", data={**visit_form(csrf, minutes=("38",)),
                                                "visit_id": visit_id, "action": "finalize"},
                               follow_redirects=False)
        assert saved.status_code == 303, saved.text[:500]
    with unit_of_work(books) as session:
        claims = session.execute(select(ClaimRow.id, ClaimRow.status)).all()
        minutes = session.scalars(select(ServiceRow.minutes)).all()
    assert [status for _, status in claims] == ["scrubbed"]
    assert minutes == [38]
    record = visits.get(visit_id)
    assert record is not None and record.status is VisitStatus.FINAL


def test_reopen__admin_lands_in_the_visit_entry_form(app: FastAPI,
                                                     books: sessionmaker[Session]) -> None:
    visit_id = _finalize(app)
    claim_id = _hold(books)
    with TestClient(app) as admin:
        csrf = login(admin, "root")
        moved = admin.post(f"/claims/{claim_id}/reopen", data={"csrf_token": csrf},
                           follow_redirects=False)
        assert moved.status_code == 303
        assert moved.headers["location"] == f"/visits/{visit_id}/edit"
        assert "Edit draft visit" in admin.get(moved.headers["location"]).text


@pytest.mark.parametrize("status", ["scrubbed", "draft", "batched", "denied"])
def test_reopen__only_a_held_claim_can_be_reopened(app: FastAPI, books: sessionmaker[Session],
                                                   status: str) -> None:
    _finalize(app)
    with unit_of_work(books) as session:
        claim_id = session.scalars(select(ClaimRow.id)).one()
        store_claims.set_status(session, [claim_id], ClaimStatus(status), actor="test")
    with TestClient(app) as biller:
        csrf = login(biller, "bea")
        refused = biller.post(f"/claims/{claim_id}/reopen", data={"csrf_token": csrf})
        assert refused.status_code == 409
        assert "Reopen for correction" not in biller.get(f"/claims/{claim_id}").text
    assert _count(books, ClaimRow) == 1
