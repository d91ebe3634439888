"""Coding stored visits into draft claims."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rehabill.coding import code_visit
from rehabill.domain import ClaimStatus
from rehabill.services.claims import code_claims
from rehabill.services.imports import import_file
from rehabill.services.uow import unit_of_work
from rehabill.store import claims as store_claims
from rehabill.store import visits as store_visits
from rehabill.store.models import ClaimRow, FindingRow
from rehabill.testing import visit_from_terms

DATA = Path(__file__).parents[1] / "data" / "import"


def test_code_claims__stores_draft_claims_equal_to_coding(
        session_factory: sessionmaker[Session]) -> None:
    import_file(session_factory, DATA / "visits.json")
    with unit_of_work(session_factory) as s:
        report = code_claims(s)
    assert sorted(report.coded) == ["V-1001", "V-1002"]
    with session_factory() as s:
        claim_id = report.coded["V-1001"]
        stored = store_claims.load_claims(s, [claim_id])[claim_id]
        expected = code_visit(stored.visit).claim
        assert stored == expected
        assert [h.status for h in store_claims.status_history(s, claim_id)] == \
            [ClaimStatus.DRAFT]
        assert store_claims.claim_ids_by_status(s, ClaimStatus.DRAFT) == \
            sorted(report.coded.values())


def test_code_claims__twice_is_a_noop(session_factory: sessionmaker[Session]) -> None:
    import_file(session_factory, DATA / "visits.json")
    with unit_of_work(session_factory) as s:
        first = code_claims(s)
    with unit_of_work(session_factory) as s:
        second = code_claims(s)
    assert len(first.coded) == 2 and second.coded == {}
    with session_factory() as s:
        assert len(s.scalars(select(ClaimRow.id)).all()) == 2


def test_code_claims__keeps_coding_findings_with_the_claim(session: Session) -> None:
    visit = visit_from_terms("97110=20 99999=10", visit_id="V-unknown")
    store_visits.save_visits(session, [visit])
    report = code_claims(session, visit_ids=["V-unknown"])
    assert report.with_errors == ["V-unknown"]
    claim_id = report.coded["V-unknown"]
    codes = session.scalars(select(FindingRow.code).where(FindingRow.claim_id == claim_id))
    assert list(codes) == ["coding.unknown_code"]
    [finding] = store_claims.claim_findings(session, claim_id)
    assert finding.location.field == "services[1].code"


def test_set_status__appends_history(session: Session) -> None:
    visit = visit_from_terms("97110=20", visit_id="V-s")
    store_visits.save_visits(session, [visit])
    claim_id = code_claims(session).coded["V-s"]
    store_claims.set_status(session, [claim_id], ClaimStatus.SCRUBBED, actor="biller")
    store_claims.set_status(session, [claim_id], ClaimStatus.BATCHED, actor="biller")
    history = store_claims.status_history(session, claim_id)
    assert [(h.from_status, h.status.value) for h in history] == [
        ("", "draft"), ("draft", "scrubbed"), ("scrubbed", "batched")]
    assert store_claims.claim_ids_by_status(session, ClaimStatus.BATCHED) == [claim_id]


def test_set_statuses__a_claim_changing_twice_ends_in_its_last_status(session: Session) -> None:
    store_visits.save_visits(session, [visit_from_terms("97110=20", visit_id="V-a"),
                                       visit_from_terms("97110=20", visit_id="V-b")])
    coded = code_claims(session).coded
    a, b = coded["V-a"], coded["V-b"]
    store_claims.set_statuses(session, [
        (b, ClaimStatus.PAID, "paid b"), (a, ClaimStatus.ACCEPTED, "reversal a"),
        (a, ClaimStatus.PAID, "paid a"), (404, ClaimStatus.PAID, "unknown")], actor="era")
    history = store_claims.status_history(session, a)
    assert [(h.from_status, h.status.value, h.note) for h in history] == [
        ("", "draft", ""), ("draft", "accepted", "reversal a"), ("accepted", "paid", "paid a")]
    assert store_claims.claim_ids_by_status(session, ClaimStatus.PAID) == sorted([a, b])
