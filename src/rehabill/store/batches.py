"""Batches of claims, acknowledgments, and finding claims again from what payers send back.

A 999 names a batch by its control numbers, a 277CA and an 835 name claims by CLM01 (the claim
key) and lines by REF*6R (the line control number); the lookups here turn those back into row
ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rehabill.domain import ClaimStatus
from rehabill.store.bulk import chunked, ids_in, insert_all, texts_in
from rehabill.store.files import next_control_numbers
from rehabill.store.models import (
    AcknowledgmentRow,
    BatchClaimRow,
    BatchRow,
    ClaimLineRow,
    ClaimRow,
    ClaimStatusRow,
    utcnow,
)


@dataclass(frozen=True, slots=True)
class NewBatch:
    """A batch just made: its id and the control numbers its file must carry."""

    id: int
    interchange_control_number: int
    group_control_number: int
    first_transaction_control_number: int


def create_batch(session: Session, *, kind: str, submitter_id: str, claim_ids: Sequence[int],
                 payer_id: int | None = None, transactions: int = 1,
                 actor: str = "") -> NewBatch:
    """Put claims in a new batch, take its control numbers, and mark the claims ``batched``.

    Args:
        session: the unit of work's session.
        kind: "837P" or "CMS-1500".
        submitter_id: whose control-number counter to use (ISA06 / the practice's submitter).
        claim_ids: the claims, in the order they go in the file.
        payer_id: the payer the batch is for, when it is for one.
        transactions: how many ST/SE transaction sets the file holds; claims are spread over
            them in order, as evenly as possible.
        actor: who made the batch (status history).

    Returns:
        The batch id and control numbers.
    """
    numbers = next_control_numbers(session, submitter_id, transactions=transactions)
    # One read per chunk gives each claim's status (for its history) and charge (the total).
    current: dict[int, tuple[str, Decimal]] = {}
    for part in chunked(claim_ids):
        query = select(ClaimRow.id, ClaimRow.status, ClaimRow.total_charge).where(
            ids_in(ClaimRow.id, part))
        current.update((cid, (status, charge)) for cid, status, charge in session.execute(query))
    batch = BatchRow(kind=kind, submitter_id=submitter_id, payer_id=payer_id,
                     interchange_control_number=str(numbers.interchange),
                     group_control_number=str(numbers.group), status="created",
                     claim_count=len(claim_ids),
                     total_charge=sum((c for _, c in current.values()), Decimal("0.00")),
                     created_at=utcnow())
    session.add(batch)
    session.flush()
    per_set = max(1, -(-len(claim_ids) // transactions))
    insert_all(session, BatchClaimRow, [
        {"batch_id": batch.id, "claim_id": cid,
         "transaction_control_number": str(numbers.first_transaction + i // per_set)}
        for i, cid in enumerate(claim_ids)])
    _mark_batched(session, claim_ids, current, batch.id, actor)
    return NewBatch(batch.id, numbers.interchange, numbers.group, numbers.first_transaction)


def _mark_batched(session: Session, claim_ids: Sequence[int],
                  current: dict[int, tuple[str, Decimal]], batch_id: int, actor: str) -> None:
    """What ``claims.set_status`` does for ``batched``, with the batch id set by the same
    update: the claims move to ``batched`` and each one's history gets the change."""
    now = utcnow()
    status = ClaimStatus.BATCHED.value
    for part in chunked(claim_ids):
        session.execute(update(ClaimRow).where(ids_in(ClaimRow.id, part))
                        .values(batch_id=batch_id, status=status, updated_at=now)
                        .execution_options(synchronize_session=False))
    insert_all(session, ClaimStatusRow, [
        {"claim_id": cid, "from_status": current[cid][0], "status": status, "at": now,
         "actor": actor, "note": f"batch {batch_id}"} for cid in claim_ids if cid in current])


def batch_claim_ids(session: Session, batch_id: int) -> list[int]:
    """The claims of a batch, in file order."""
    query = (select(BatchClaimRow.claim_id).where(BatchClaimRow.batch_id == batch_id)
             .order_by(BatchClaimRow.id))
    return list(session.scalars(query))


def batch_by_control_number(session: Session, submitter_id: str,
                            interchange_control_number: int | str) -> int | None:
    """The batch sent with this ISA13 by this submitter (what a 999 or TA1 answers)."""
    query = select(BatchRow.id).where(
        BatchRow.submitter_id == submitter_id,
        BatchRow.interchange_control_number == str(int(interchange_control_number)))
    return session.scalars(query).first()


def claim_ids_by_key(session: Session, claim_keys: Sequence[str]) -> dict[str, int]:
    """The newest claim (highest sequence) for each CLM01, by CLM01; unknown keys left out."""
    out: dict[str, tuple[int, int]] = {}
    for part in chunked(claim_keys):
        query = select(ClaimRow.claim_key, ClaimRow.sequence, ClaimRow.id).where(
            texts_in(session, ClaimRow.claim_key, part))
        for key, sequence, cid in session.execute(query).all():
            if key not in out or sequence > out[key][0]:
                out[key] = (sequence, cid)
    return {k: v[1] for k, v in out.items()}


def line_ids_by_control_number(session: Session, claim_id: int) -> dict[str, int]:
    """A claim's lines by their REF*6R line control number."""
    query = select(ClaimLineRow.control_number, ClaimLineRow.id).where(
        ClaimLineRow.claim_id == claim_id)
    return {k: v for k, v in session.execute(query).all()}


def add_acknowledgments(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Store 999/277CA answers (columns of ``acknowledgments``; file_id, kind, status_code,
    accepted, and batch_id and/or claim_id)."""
    now = utcnow()
    insert_all(session, AcknowledgmentRow, [{"created_at": now, "message": "",
                                             "control_number": "", **row} for row in rows])
