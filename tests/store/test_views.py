"""The web's read queries on both databases: claims with money, worklist, suspense, alerts,
web-entered visits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from rehabill import testing
from rehabill.services.claims import code_claims
from rehabill.services.uow import unit_of_work
from rehabill.store import people, views
from rehabill.store import remittances as store_remittances
from rehabill.store import visits as store_visits


def _seed(factory: sessionmaker[Session]) -> int:
    with unit_of_work(factory) as session:
        store_visits.save_visits(session, [
            testing.visit_from_terms("97530=25 97110=23", visit_id="V-1"),
            testing.visit_from_terms("97110=38", visit_id="V-2",
                                     date_of_service=date(2026, 3, 9))])
        report = code_claims(session, actor="t")
        claim_id = report.coded["V-1"]
        people.add_worklist_item(session, claim_id=claim_id, carc="50", reason="not necessary",
                                 next_action="appeal")
        store_remittances.add_suspense_item(session, amount=Decimal("9.99"), reason="no claim")
    return claim_id


def test_views__claims_filter_and_detail(session_factory: sessionmaker[Session]) -> None:
    claim_id = _seed(session_factory)
    with unit_of_work(session_factory) as session:
        every = views.list_claims(session)
        march_9 = views.list_claims(session, date_from=date(2026, 3, 5))
        assert [c.visit_key for c in every] == ["V-2", "V-1"]
        assert [c.visit_key for c in march_9] == ["V-2"]
        assert views.list_claims(session, status="paid") == []
        assert views.claim_status_counts(session) == {"draft": 2}
        detail = views.claim_detail(session, claim_id)
        assert detail is not None
        assert [line.code for line in detail.lines] == ["97530", "97110"]
        assert detail.claim.paid == Decimal("0") and detail.claim.patient_name == "Lee, Mark"
        assert [h.status for h in detail.history] == ["draft"]
        assert [w.carc for w in detail.work] == ["50"]
        assert views.claim_detail(session, 10_000) is None


def test_views__worklist_suspense_and_version(session_factory: sessionmaker[Session]) -> None:
    _seed(session_factory)
    with unit_of_work(session_factory) as session:
        before = views.books_version(session)
        items = views.worklist(session)
        assert [(w.carc, w.next_action, w.claim_key) for w in items] == [("50", "appeal",
                                                                           "V-1")]
        people.update_worklist_item(session, items[0].id, status="done", note="ok")
        assert views.worklist(session) == []
        assert [s.amount for s in views.suspense(session)] == [Decimal("9.99")]
        assert views.books_version(session) != before
        assert views.visit_keys_of_claims(session, status="draft") == ["V-1", "V-2"]


def test_views__drafts_can_be_replaced_until_claimed(
        session_factory: sessionmaker[Session]) -> None:
    with unit_of_work(session_factory) as session:
        store_visits.save_visits(session, [testing.visit_from_terms("97110=20",
                                                                    visit_id="V-D")])
        stub = views.visit_stubs(session, visit_keys=["V-D"])[0]
        assert stub.claim_status is None and stub.rendering_npi
        assert views.delete_unclaimed_visit(session, "V-D")
        assert views.visit_stubs(session, visit_keys=["V-D"]) == []
    _seed(session_factory)
    with unit_of_work(session_factory) as session:
        assert not views.delete_unclaimed_visit(session, "V-1")


def test_views__episode_alerts(session_factory: sessionmaker[Session]) -> None:
    _seed(session_factory)
    with unit_of_work(session_factory) as session:
        visit = store_visits.load_visits(session, list(
            store_visits.visit_row_ids(session, ["V-1"]).values()))
        poc = next(iter(visit.values())).plan_of_care
        assert poc is not None
        alerts = views.episode_alerts(session, poc.end)
        assert any(a.kind == "plan_of_care" for a in alerts)
        assert views.episode_alerts(session, date(2020, 1, 1)) == []
