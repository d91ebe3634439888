"""Batches of claims, acknowledgments, and finding claims again from what payers send back.

A 999 names a batch by its control numbers, a 277CA and an 835 name claims by CLM01 (the claim
key) and lines by REF*6R (the line control number); the lookups here turn those back into row
ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from rehabill.domain import Claim, ClaimStatus
from rehabill.store import mapping
from rehabill.store import visits as store_visits
from rehabill.store.bulk import (
    by_ids,
    chunked,
    fetch,
    ids_in,
    insert_all,
    raw_rows,
    table_of,
    texts_in,
    value_reader,
)
from rehabill.store.claims import claim_heads, lines_by_claim, load_claims
from rehabill.store.files import ControlNumbers, next_control_numbers
from rehabill.store.models import (
    AcknowledgmentRow,
    BatchClaimRow,
    BatchRow,
    ClaimLineRow,
    ClaimRow,
    ClaimStatusRow,
    CoverageRow,
    PatientRow,
    PayerRow,
    PracticeRow,
    VisitRow,
    utcnow,
)


class BatchEntry(NamedTuple):
    """What a batch needs of a claim before its file is written: the payer it bills, the
    837P grouping key (``x12.p837.grouping_key``'s fields, from the coverage the claim bills)
    and its practice's NPI and name (the default submitter)."""

    claim_id: int
    payer_key: str
    grouping_key: tuple[str, ...]
    practice_npi: str
    practice_name: str


def batch_entries(session: Session, claim_ids: Sequence[int]) -> dict[int, BatchEntry]:
    """Each claim's ``BatchEntry`` by row id, read in one query per chunk: no claim, visit or
    line is built (a helper process builds its payers' claims itself)."""
    claim, visit, practice = table_of(ClaimRow), table_of(VisitRow), table_of(PracticeRow)
    coverage, payer, patient = table_of(CoverageRow), table_of(PayerRow), table_of(PatientRow)
    billed = func.coalesce(claim.c.coverage_id, visit.c.coverage_id)  # a secondary's own
    out: dict[int, BatchEntry] = {}
    for part in chunked(claim_ids):
        query = (select(claim.c.id, practice.c.npi, practice.c.tax_id, payer.c.payer_key,
                        coverage.c.member_id, coverage.c.relationship, patient.c.external_id,
                        practice.c.name)
                 .join(visit, visit.c.id == claim.c.visit_id)
                 .join(practice, practice.c.id == visit.c.practice_id)
                 .join(patient, patient.c.id == visit.c.patient_id)
                 .join(coverage, coverage.c.id == billed)
                 .join(payer, payer.c.id == coverage.c.payer_id)
                 .where(ids_in(claim.c.id, part)))
        for cid, npi, tax_id, payer_key, member, relationship, patient_id, name in fetch(
                session, query):
            out[cid] = BatchEntry(cid, payer_key,
                                  (npi, tax_id, payer_key, member, relationship, patient_id),
                                  npi, name)
    return out


def load_batch_claims(session: Session, claim_ids: Sequence[int]) -> dict[int, Claim]:
    """The claims a batch file is written from, by row id: ``claims.load_claims`` without the
    visits' services, everything read as the driver's rows (``bulk.raw_rows``).

    A claim that bills another coverage or carries a prior payer's adjudication (a secondary
    claim) is loaded by ``claims.load_claims`` itself.
    """
    rows = claim_heads(session, claim_ids)
    plain = [r for r in rows if r.coverage_id is None and r.prior_claim_id is None]
    other = [r.id for r in rows if r.coverage_id is not None or r.prior_claim_id is not None]
    out = load_claims(session, other) if other else {}
    visits = store_visits.load_visits(session, [r.visit_id for r in plain], with_services=False)
    lines = lines_by_claim(session, [r.id for r in plain])
    build, no_lines = mapping.claim_from_columns, ()
    for r in plain:
        out[r.id] = build(r.claim_key, r.frequency, r.original_reference, visits[r.visit_id],
                          lines.get(r.id, no_lines))
    return out


@dataclass(frozen=True, slots=True)
class NewBatch:
    """A batch just made: its id and the control numbers its file must carry."""

    id: int
    interchange_control_number: int
    group_control_number: int
    first_transaction_control_number: int


class BatchChanged(Exception):
    """``create_batch`` found the books moved since its caller read them (numbers or claims
    not as expected): nothing may be kept of the unit of work."""


def create_batch(session: Session, *, kind: str, submitter_id: str, claim_ids: Sequence[int],
                 payer_id: int | None = None, transactions: int = 1,
                 actor: str = "", expect: ControlNumbers | None = None) -> NewBatch:
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
        expect: the numbers the caller forecast (``files.ControlNumberForecast``) and wrote
            into the batch's file; with it, every claim must still be ``scrubbed``.

    Returns:
        The batch id and control numbers.

    Raises:
        BatchChanged: with ``expect``, when the numbers taken differ or a claim is no longer
            ``scrubbed``; the caller must roll back.
    """
    numbers = next_control_numbers(session, submitter_id, transactions=transactions)
    if expect is not None and numbers != expect:
        raise BatchChanged(f"control numbers {numbers} taken, {expect} forecast")
    current = _statuses_and_charges(session, claim_ids)
    if expect is not None and (len(current) != len(claim_ids) or any(
            status != ClaimStatus.SCRUBBED.value for status, _ in current.values())):
        raise BatchChanged("a claim of the batch is no longer scrubbed")
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


_STATUS_AND_CHARGE = by_ids(table_of(ClaimRow).name, ("id", "status", "total_charge"))


def _statuses_and_charges(session: Session, claim_ids: Sequence[int]
                          ) -> dict[int, tuple[str, Decimal]]:
    """Each claim's status (for its history) and charge (the batch's total), by row id: one
    read per chunk, as the driver's rows (``bulk.raw_rows``; each distinct amount converted
    once), under the write lock where a batch is made."""
    charge, _ = value_reader(session.get_bind().dialect, table_of(ClaimRow), "total_charge")
    return {cid: (status, charge(total)) for part in chunked(claim_ids)
            for cid, status, total in raw_rows(session, _STATUS_AND_CHARGE, part)}


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
