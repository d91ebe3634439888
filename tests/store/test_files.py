"""Files by content hash, X12 control numbers per submitter, remittance keys, people records."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from rehabill.store import files as store_files
from rehabill.store import people
from rehabill.store import remittances as store_remittances
from rehabill.store.models import PayerRow, SubmitterCounterRow


def test_add_file__same_content_twice_is_refused(session: Session) -> None:
    first = store_files.add_file(session, direction="in", kind="835", path="a.835",
                                 sha256="ab" * 32, size=10)
    again = store_files.add_file(session, direction="in", kind="835", path="b.835",
                                 sha256="ab" * 32, size=10)
    assert first is not None and again is None
    found = store_files.find_file(session, "in", "ab" * 32)
    assert found is not None and found.path == "a.835"


def test_control_numbers__count_up_per_submitter(session: Session) -> None:
    a1 = store_files.next_control_numbers(session, "SUB-A", transactions=2)
    a2 = store_files.next_control_numbers(session, "SUB-A")
    b1 = store_files.next_control_numbers(session, "SUB-B")
    assert (a1.interchange, a1.group, a1.first_transaction) == (1, 1, 1)
    assert (a2.interchange, a2.group, a2.first_transaction) == (2, 2, 3)
    assert (b1.interchange, b1.first_transaction) == (1, 1)


def test_control_number_forecast__is_what_the_next_batches_take(session: Session) -> None:
    store_files.next_control_numbers(session, "SUB-A", transactions=4)
    forecast = store_files.ControlNumberForecast(session)
    expected = [forecast.next("SUB-A", transactions=2), forecast.next("SUB-A"),
                forecast.next("SUB-NEW", transactions=3)]
    taken = [store_files.next_control_numbers(session, "SUB-A", transactions=2),
             store_files.next_control_numbers(session, "SUB-A"),
             store_files.next_control_numbers(session, "SUB-NEW", transactions=3)]
    assert expected == taken
    assert (taken[0].interchange, taken[0].first_transaction, taken[1].first_transaction) == \
        (2, 5, 7)


def test_control_number_forecast__wraps_at_nine_digits_like_the_counter(
        session: Session) -> None:
    store_files.next_control_numbers(session, "SUB-W")
    session.execute(update(SubmitterCounterRow).values(
        interchange=store_files.X12_CONTROL_MAX, group_number=store_files.X12_CONTROL_MAX))
    forecast = store_files.ControlNumberForecast(session, lock=True).next("SUB-W")
    assert forecast == store_files.next_control_numbers(session, "SUB-W")
    assert (forecast.interchange, forecast.group) == (1, 1)


def test_add_remittance__same_payer_and_trace_is_refused(session: Session) -> None:
    payer = PayerRow(payer_key="MEDICARE", name="Medicare", policy="medicare_part_b")
    session.add(payer)
    session.flush()
    first = store_remittances.add_remittance(session, originator="1999999999",
                                             trace_number="T1", payer_id=payer.id,
                                             payment_amount=Decimal("10.00"))
    again = store_remittances.add_remittance(session, originator="1999999999",
                                             trace_number="T1", payment_amount=Decimal("10.00"))
    other = store_remittances.add_remittance(session, originator="1888888888",
                                             trace_number="T1", payment_amount=Decimal("1.00"))
    assert first is not None and again is None and other not in (None, first)
    assert store_remittances.remittance_id(session, "1999999999", "T1") == first
    assert store_remittances.payer_row_id(session, "MEDICARE") == payer.id


def test_ledger__sums_are_exact_decimals(session: Session) -> None:
    entries = [{"kind": "charge", "amount": Decimal("0.10")}] * 3 + \
        [{"kind": "payment", "amount": Decimal("-0.30")}]
    store_remittances.add_ledger_entries(session, entries)
    assert store_remittances.claim_ledger_total(session, None, "charge") == Decimal("0.30")  # type: ignore[arg-type]


def test_ledger__refuses_floats_and_unknown_kinds(session: Session) -> None:
    with pytest.raises(ValueError, match="unknown ledger entry kind"):
        store_remittances.add_ledger_entries(session, [{"kind": "gift", "amount": Decimal(1)}])
    with pytest.raises(Exception, match="money must be Decimal"):
        store_remittances.add_ledger_entries(session, [{"kind": "charge", "amount": 0.1}])


def test_people__users_audit_and_worklist(session: Session) -> None:
    user = people.add_user(session, username="bea", password_hash="$argon2id$x", role="biller")
    assert people.user_by_name(session, "bea") is user
    with pytest.raises(ValueError, match="role must be one of"):
        people.add_user(session, username="x", password_hash="h", role="owner")
    people.record_event(session, actor="bea", action="login", entity="user", entity_id="bea")
    session.flush()
    assert [e.action for e in people.audit_events(session, "user", "bea")] == ["login"]


def test_worklist__open_update_close(session: Session) -> None:
    from rehabill.errors import NotFoundError
    from rehabill.services.claims import code_claims
    from rehabill.store import visits as store_visits
    from rehabill.testing import visit_from_terms

    store_visits.save_visits(session, [visit_from_terms("97110=20", visit_id="V-w")])
    claim_id = code_claims(session).coded["V-w"]
    item_id = people.add_worklist_item(session, claim_id=claim_id, reason="Denied: CO-50",
                                       carc="50", next_action="Appeal with notes")
    assert [i.id for i in people.open_worklist(session)] == [item_id]
    people.update_worklist_item(session, item_id, assignee="bea", note="called payer")
    people.update_worklist_item(session, item_id, status="done", note="appeal sent")
    item = people.update_worklist_item(session, item_id)
    assert (item.assignee, item.status, item.notes) == ("bea", "done",
                                                        "called payer\nappeal sent")
    assert people.open_worklist(session) == []
    with pytest.raises(NotFoundError):
        people.update_worklist_item(session, 999_999)
    with pytest.raises(ValueError, match="status must be one of"):
        people.update_worklist_item(session, item_id, status="lost")
