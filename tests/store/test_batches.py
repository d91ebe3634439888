"""Batches take control numbers and mark claims batched; payer answers find their claims."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from rehabill.domain import ClaimStatus
from rehabill.services.claims import code_claims
from rehabill.store import batches
from rehabill.store import claims as store_claims
from rehabill.store import files as store_files
from rehabill.store import visits as store_visits
from rehabill.store.models import AcknowledgmentRow, BatchRow, ClaimRow
from rehabill.testing import visit_from_terms


def _claims(session: Session, n: int) -> list[int]:
    visits = [visit_from_terms("97110=38 97530=25", visit_id=f"V-{i}") for i in range(n)]
    store_visits.save_visits(session, visits)
    coded = code_claims(session)
    return [coded.coded[f"V-{i}"] for i in range(n)]


def test_create_batch__numbers_claims_and_marks_them_batched(session: Session) -> None:
    claim_ids = _claims(session, 5)
    first = batches.create_batch(session, kind="837P", submitter_id="SUB", claim_ids=claim_ids,
                                 transactions=2, actor="bea")
    assert (first.interchange_control_number, first.first_transaction_control_number) == (1, 1)
    assert batches.batch_claim_ids(session, first.id) == claim_ids
    assert store_claims.claim_ids_by_status(session, ClaimStatus.BATCHED) == claim_ids
    row = session.get(BatchRow, first.id)
    assert row is not None and row.claim_count == 5
    assert row.total_charge == sum(
        (r.total_charge for r in session.scalars(select(ClaimRow))), Decimal("0.00"))
    second = batches.create_batch(session, kind="837P", submitter_id="SUB", claim_ids=[])
    assert (second.interchange_control_number, second.first_transaction_control_number) == \
        (2, 3)
    assert batches.batch_by_control_number(session, "SUB", "000000001") == first.id


def test_claim_lookups__by_clm01_and_line_control_number(session: Session) -> None:
    [claim_id] = _claims(session, 1)
    assert batches.claim_ids_by_key(session, ["V-0", "nope"]) == {"V-0": claim_id}
    lines = batches.line_ids_by_control_number(session, claim_id)
    assert sorted(lines) == ["V-0-1", "V-0-2"]


def test_add_acknowledgments__stores_answers(session: Session) -> None:
    [claim_id] = _claims(session, 1)
    file_id = store_files.add_file(session, direction="in", kind="277CA", path="a.277",
                                   sha256="cd" * 32, size=1)
    batches.add_acknowledgments(session, [{"file_id": file_id, "kind": "277CA",
                                           "claim_id": claim_id, "status_code": "A1",
                                           "accepted": True}])
    [ack] = session.scalars(select(AcknowledgmentRow)).all()
    assert (ack.claim_id, ack.status_code, ack.accepted) == (claim_id, "A1", True)
