"""Claims, their lines, status history and findings, in bulk.

A claim's current status is ``claims.status``; every change also appends a row to
``claim_status_history`` (from, to, when, who, why), so the history is complete and the current
status needs no subquery.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from rehabill.domain import Claim, ClaimStatus, Finding, Location, Severity
from rehabill.store import mapping
from rehabill.store.bulk import chunked, ids_in, insert_all, insert_new, insert_rows, table_of
from rehabill.store.models import (
    ClaimLineRow,
    ClaimRow,
    ClaimStatusRow,
    FindingRow,
    PayerRow,
    VisitRow,
    utcnow,
)
from rehabill.store.visits import load_visits


@dataclass(frozen=True, slots=True)
class NewClaim:
    """A coded claim to store: the visit's row id, the claim, and its findings."""

    visit_row_id: int
    claim: Claim
    findings: tuple[Finding, ...] = ()
    unit_method: str = ""
    sequence: int = 1
    status: ClaimStatus | None = None  # overrides save_claims' status for this claim


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One entry of a claim's status history."""

    from_status: str
    status: ClaimStatus
    at: Any
    actor: str
    note: str


def save_claims(session: Session, claims: Sequence[NewClaim], *,
                status: ClaimStatus = ClaimStatus.DRAFT, actor: str = "",
                stage: str = "coding") -> dict[int, int]:
    """Store claims with their lines, first status and findings; ``{visit row id: claim id}``.

    A claim whose (visit, sequence) is already stored is skipped, also against a concurrent
    writer, so coding the same visit twice cannot make two claims.
    """
    payers = _payer_ids(session, {c.claim.visit.coverage.payer_id for c in claims})
    rows = [mapping.claim_values(c.claim, visit_id=c.visit_row_id,
                                 payer_id=payers[c.claim.visit.coverage.payer_id],
                                 status=c.status or status, sequence=c.sequence,
                                 unit_method=c.unit_method)
            for c in claims]
    new = insert_new(session, ClaimRow, rows, ("visit_id", "sequence"))
    ids = {c.visit_row_id: new[(c.visit_row_id, c.sequence)] for c in claims
           if (c.visit_row_id, c.sequence) in new}
    stored = [c for c in claims if (c.visit_row_id, c.sequence) in new]
    insert_all(session, ClaimLineRow,
               [mapping.claim_line_values(line, ids[c.visit_row_id])
                for c in stored for line in c.claim.lines])
    now = utcnow()
    insert_all(session, ClaimStatusRow,
               [{"claim_id": ids[c.visit_row_id], "from_status": "",
                 "status": (c.status or status).value,
                 "at": now, "actor": actor, "note": ""} for c in stored])
    add_findings(session, [(ids[c.visit_row_id], f) for c in stored for f in c.findings],
                 stage=stage)
    return ids


def _payer_ids(session: Session, keys: set[str]) -> dict[str, int]:
    query = select(PayerRow.payer_key, PayerRow.id).where(PayerRow.payer_key.in_(sorted(keys)))
    return {k: v for k, v in session.execute(query)}


def add_findings(session: Session, findings: Sequence[tuple[int | None, Finding]], *,
                 stage: str, file_id: int | None = None) -> None:
    """Store findings, each with the claim it is about (or None for a file-level finding).

    The findings of one call share one ``created_at`` (one stage's run, like a status change).
    """
    now = utcnow()
    insert_all(session, FindingRow, [
        {"claim_id": claim_id, "file_id": file_id, "stage": stage, "code": f.code,
         "severity": f.severity.value, "message": f.message, "location": f.location.as_dict(),
         "fix": f.fix, "auto_fix": f.auto_fix, "created_at": now}
        for claim_id, f in findings
    ])


def set_status(session: Session, claim_ids: Sequence[int], status: ClaimStatus, *,
               actor: str = "", note: str = "") -> None:
    """Move claims to ``status``, appending to each one's history."""
    now = utcnow()
    for part in chunked(claim_ids):
        current = {cid: st for cid, st in session.execute(
            select(ClaimRow.id, ClaimRow.status).where(ids_in(ClaimRow.id, part)))}
        session.execute(update(ClaimRow).where(ids_in(ClaimRow.id, part))
                        .values(status=status.value, updated_at=now)
                        .execution_options(synchronize_session=False))
        insert_all(session, ClaimStatusRow,
                   [{"claim_id": cid, "from_status": current[cid], "status": status.value,
                     "at": now, "actor": actor, "note": note} for cid in part if cid in current])


def set_statuses(session: Session, changes: Sequence[tuple[int, ClaimStatus, str]], *,
                 actor: str = "", known: Mapping[int, str] | None = None) -> None:
    """Apply (claim id, status, note) changes in order, appending each to the claim's history.

    A claim may change more than once (an ERA's reversal and its correction): each change
    starts from the one before, and the claim ends in its last status. Unknown ids are
    skipped. ``known`` holds the claims' current statuses when the caller has just read
    them in this unit of work (they are not read again).
    """
    ids = list(dict.fromkeys(cid for cid, _, _ in changes))
    current: dict[int, str] = {}
    if known is not None:
        current.update((cid, known[cid]) for cid in ids if cid in known)
    for part in chunked([cid for cid in ids if cid not in current]):
        current.update({cid: st for cid, st in session.execute(
            select(ClaimRow.id, ClaimRow.status).where(ids_in(ClaimRow.id, part)))})
    now = utcnow()
    history = []
    for cid, status, note in changes:
        before = current.get(cid)
        if before is not None:
            history.append((cid, before, status.value, now, actor, note))
            current[cid] = status.value
    final: dict[str, list[int]] = {}
    for cid in ids:
        if cid in current:
            final.setdefault(current[cid], []).append(cid)
    for value, claim_ids in final.items():
        for part in chunked(claim_ids):
            session.execute(update(ClaimRow).where(ids_in(ClaimRow.id, part))
                            .values(status=value, updated_at=now)
                            .execution_options(synchronize_session=False))
    insert_rows(session, ClaimStatusRow,
                ("claim_id", "from_status", "status", "at", "actor", "note"), history)


def status_history(session: Session, claim_id: int) -> list[StatusChange]:
    """A claim's status changes, oldest first."""
    query = (select(ClaimStatusRow).where(ClaimStatusRow.claim_id == claim_id)
             .order_by(ClaimStatusRow.id))
    return [StatusChange(r.from_status, ClaimStatus(r.status), r.at, r.actor, r.note)
            for r in session.scalars(query)]


def claim_ids_by_status(session: Session, status: ClaimStatus) -> list[int]:
    """Row ids of the claims currently in ``status``, oldest first."""
    query = select(ClaimRow.id).where(ClaimRow.status == status.value).order_by(ClaimRow.id)
    return list(session.scalars(query))


def claim_findings(session: Session, claim_id: int) -> list[Finding]:
    """The stored findings of a claim, as domain values (oldest first)."""
    query = select(FindingRow).where(FindingRow.claim_id == claim_id).order_by(FindingRow.id)
    return [Finding(r.code, Severity(r.severity), r.message, _location(r.location), r.fix,
                    r.auto_fix) for r in session.scalars(query)]


def _location(data: dict[str, Any]) -> Location:
    return Location(**data)


def load_claims(session: Session, claim_ids: Sequence[int], *,
                with_services: bool = True) -> dict[int, Claim]:
    """The domain claims for these row ids, with their visits and lines.

    The visits are loaded in one call, so the patients, coverages and providers they share
    are read and mapped once however many chunks the claims take. ``with_services=False``
    leaves the visits' documented services out: what writes a claim (837P, CMS-1500) reads
    its lines, and a month's services are the biggest table it would otherwise read.
    """
    table = table_of(ClaimRow)
    columns = [table.c[name] for name in ("id", "visit_id", *mapping.CLAIM_COLUMNS)]
    rows = [row for part in chunked(claim_ids)
            for row in session.execute(select(*columns).where(ids_in(table.c.id, part)))]
    visits = load_visits(session, [r.visit_id for r in rows], with_services=with_services)
    out: dict[int, Claim] = {}
    for part in chunked(rows):
        lines = _lines_by_claim(session, [r.id for r in part])
        for row in part:
            out[row.id] = mapping.to_claim(row, visits[row.visit_id], lines.get(row.id, ()))
    return out


def _lines_by_claim(session: Session, claim_ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
    grouped: dict[int, list[Any]] = {}
    table = table_of(ClaimLineRow)
    columns = [table.c[name] for name in mapping.CLAIM_LINE_COLUMNS]
    query = (select(table.c.claim_id, *columns).where(ids_in(table.c.claim_id, claim_ids))
             .order_by(table.c.claim_id, table.c.number))
    build = mapping.claim_line_from_columns
    for row in session.execute(query):
        claim_id = row[0]
        lines = grouped.get(claim_id)
        if lines is None:
            lines = grouped[claim_id] = []
        lines.append(build(*row[1:]))
    return {k: tuple(v) for k, v in grouped.items()}


def claim_row(session: Session, claim_id: int) -> Row[Any] | None:
    """The claim's row with its visit id (``visit_key``), or None."""
    query = (select(ClaimRow.__table__, VisitRow.visit_key)
             .join(VisitRow, VisitRow.id == ClaimRow.visit_id).where(ClaimRow.id == claim_id))
    return session.execute(query).first()
