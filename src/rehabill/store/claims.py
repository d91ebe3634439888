"""Claims, their lines, status history and findings, in bulk.

A claim's current status is ``claims.status``; every change also appends a row to
``claim_status_history`` (from, to, when, who, why), so the history is complete and the current
status needs no subquery.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import Any, NamedTuple, cast

from sqlalchemy import Row, func, select, text, update
from sqlalchemy.orm import Session

from rehabill.domain import Claim, ClaimLine, ClaimStatus, Coverage, Finding, Location, Severity
from rehabill.store import mapping
from rehabill.store.bulk import (
    Memo,
    by_ids,
    chunked,
    driver_rows,
    ids_in,
    insert_all,
    insert_new,
    insert_rows,
    raw_rows,
    table_of,
    value_reader,
)
from rehabill.store.models import (
    ClaimLineRow,
    ClaimRow,
    ClaimStatusRow,
    CoverageRow,
    FindingRow,
    LedgerEntryRow,
    PayerRow,
    RemittanceRow,
    VisitRow,
    utcnow,
)
from rehabill.store.types import to_money
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


class CodedClaim(NamedTuple):
    """A coded claim as plain values, ready to store (what a helper process sends back).

    ``values`` are the ``claims`` columns (``mapping.claim_values``), ``lines`` the
    ``claim_lines`` columns after ``claim_id`` (``mapping.claim_line_row``), one tuple per
    line.
    """

    visit_row_id: int
    values: dict[str, Any]
    lines: tuple[tuple[Any, ...], ...]
    findings: tuple[Finding, ...]
    status: ClaimStatus


def save_claims(session: Session, claims: Sequence[NewClaim], *,
                status: ClaimStatus = ClaimStatus.DRAFT, actor: str = "",
                stage: str = "coding") -> dict[int, int]:
    """Store claims with their lines, first status and findings; ``{visit row id: claim id}``.

    A claim whose (visit, sequence) is already stored is skipped, also against a concurrent
    writer, so coding the same visit twice cannot make two claims.
    """
    payers = payer_ids(session, {c.claim.visit.coverage.payer_id for c in claims})
    return save_coded_claims(session, [CodedClaim(
        c.visit_row_id,
        mapping.claim_values(c.claim, visit_id=c.visit_row_id,
                             payer_id=payers[c.claim.visit.coverage.payer_id],
                             status=c.status or status, sequence=c.sequence,
                             unit_method=c.unit_method),
        tuple(mapping.claim_line_row(line) for line in c.claim.lines),
        c.findings, c.status or status) for c in claims], actor=actor, stage=stage)


def save_coded_claims(session: Session, claims: Sequence[CodedClaim], *, actor: str = "",
                      stage: str = "scrub") -> dict[int, int]:
    """Store claims given as plain values (``CodedClaim``) with their lines, first status and
    findings; ``{visit row id: claim id}``. A claim whose (visit, sequence) is already stored
    is skipped, also against a concurrent writer."""
    new = insert_new(session, ClaimRow, [c.values for c in claims], ("visit_id", "sequence"))
    stored = [(new[key], c) for c in claims
              if (key := (c.values["visit_id"], c.values["sequence"])) in new]
    # rows as tuples (a tuple's ``+`` copies it in one go): a scrub writes a month's claims
    lines: list[tuple[Any, ...]] = []
    for claim_id, c in stored:
        head = (claim_id,)
        lines += [head + line for line in c.lines]
    insert_rows(session, ClaimLineRow, ("claim_id", *mapping.CLAIM_LINE_COLUMNS), lines)
    now = utcnow()
    values = _STATUS_VALUES
    insert_rows(session, ClaimStatusRow, _HISTORY_COLUMNS,
                [(claim_id, "", values[c.status], now, actor, "") for claim_id, c in stored])
    add_findings(session, [(claim_id, f) for claim_id, c in stored for f in c.findings],
                 stage=stage)
    return {c.visit_row_id: claim_id for claim_id, c in stored}


def payer_ids(session: Session, keys: Iterable[str]) -> dict[str, int]:
    """Payers' row ids by payer id."""
    query = select(PayerRow.payer_key, PayerRow.id).where(
        PayerRow.payer_key.in_(sorted(set(keys))))
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


_STATUS_VALUES = {status: status.value for status in ClaimStatus}
#: A ``claim_status_history`` row as the bulk writers give it.
_HISTORY_COLUMNS = ("claim_id", "from_status", "status", "at", "actor", "note")


def set_statuses(session: Session, changes: Sequence[tuple[int, ClaimStatus, str]], *,
                 actor: str = "", known: Mapping[int, str] | None = None,
                 missing_numbers: Mapping[int, str] | None = None) -> None:
    """Apply (claim id, status, note) changes in order, appending each to the claim's history.

    A claim may change more than once (an ERA's reversal and its correction): each change
    starts from the one before, and the claim ends in its last status. Unknown ids are
    skipped. ``known`` holds the claims' current statuses when the caller has just read
    them in this unit of work (they are not read again). ``missing_numbers`` gives some of
    the changed claims a payer claim number (an 835's CLP07), kept only by a claim that has
    none yet (as ``books.set_payer_claim_numbers(only_missing=True)``), in the same update
    as the status: each claim row is rewritten once, not twice.
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
    values = _STATUS_VALUES  # an enum's .value costs a descriptor call; 25,000 a big ERA
    for cid, status, note in changes:
        before = current.get(cid)
        if before is not None:
            value = values[status]
            history.append((cid, before, value, now, actor, note))
            current[cid] = value
    if missing_numbers:
        numbers = {cid: number[:80] for cid, number in missing_numbers.items() if number}
        _set_statuses_and_numbers(session, [(cid, current[cid], numbers.get(cid, ""))
                                            for cid in ids if cid in current], now)
    else:
        _set_final_statuses(session, {cid: current[cid] for cid in ids if cid in current},
                            now)
    insert_rows(session, ClaimStatusRow, _HISTORY_COLUMNS, history)


def _set_final_statuses(session: Session, final: Mapping[int, str], now: datetime) -> None:
    """Each claim's last status, one UPDATE per status (and 5,000 claims)."""
    by_status: dict[str, list[int]] = {}
    for cid, value in final.items():
        by_status.setdefault(value, []).append(cid)
    for value, claim_ids in by_status.items():
        _move(session, claim_ids, value, now)


def _move(session: Session, claim_ids: Sequence[int], value: str, now: Any) -> None:
    """Set the claims' status (and ``updated_at``), a chunk of ids at a time.

    On SQLite the statement goes straight to the driver, its ids written inline (row ids from
    the database, so safe): built through SQLAlchemy, each chunk's statement is new to its
    cache and compiled again, which cost more than SQLite's own work on a 999's thousands of
    claims. The values are bound as SQLAlchemy binds them (``driver_rows``).
    """
    if session.get_bind().dialect.name != "sqlite":
        for part in chunked(claim_ids):
            session.execute(update(ClaimRow).where(ids_in(ClaimRow.id, part))
                            .values(status=value, updated_at=now)
                            .execution_options(synchronize_session=False))
        return
    ((status, at),) = driver_rows(session.get_bind().dialect, ClaimRow,
                                  ("status", "updated_at"), [(value, now)])
    connection = session.connection()
    for part in chunked(claim_ids):
        numbers = ",".join([str(int(i)) for i in part])
        connection.exec_driver_sql(
            f"UPDATE claims SET status = ?, updated_at = ? WHERE claims.id IN ({numbers})",
            (status, at))


_NUMBER_IF_MISSING = ("CASE WHEN {number} <> '' AND (claims.payer_claim_number IS NULL OR "
                      "claims.payer_claim_number = '') THEN {number} "
                      "ELSE claims.payer_claim_number END")


def _set_statuses_and_numbers(session: Session, rows: Sequence[tuple[int, str, str]],
                              now: datetime) -> None:
    """(claim id, last status, payer claim number or "") rows: the status, and the number where
    the claim has none, in one rewrite of each claim row.

    On PostgreSQL every update of a claim writes a new row version and an entry in each of its
    five indexes (the status is indexed, so none is a heap-only update): setting the CLP07 in
    an update of its own, after the status, doubled that work for nearly every claim an 835
    pays. PostgreSQL gets one statement over three arrays; SQLite the driver's executemany.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        for part in chunked(rows):
            session.execute(text(
                "UPDATE claims SET status = v.status, updated_at = :now, payer_claim_number = "
                + _NUMBER_IF_MISSING.format(number="v.pcn")
                + " FROM unnest(CAST(:ids AS integer[]), CAST(:statuses AS varchar[]), "
                "CAST(:pcns AS varchar[])) AS v(id, status, pcn) WHERE claims.id = v.id"),
                {"now": now, "ids": [r[0] for r in part], "statuses": [r[1] for r in part],
                 "pcns": [r[2] for r in part]})
        return
    if dialect.name == "sqlite":
        ((when,),) = driver_rows(dialect, ClaimRow, ("updated_at",), [(now,)])
        session.connection().exec_driver_sql(
            "UPDATE claims SET status = ?1, updated_at = ?2, payer_claim_number = "
            + _NUMBER_IF_MISSING.format(number="?3") + " WHERE claims.id = ?4",
            [(value, when, number, cid) for cid, value, number in rows])
        return
    _set_final_statuses(session, {cid: value for cid, value, _ in rows}, now)
    numbered = [{"cid": cid, "pcn": number} for cid, _, number in rows if number]
    if numbered:
        session.execute(text("UPDATE claims SET payer_claim_number = :pcn WHERE claims.id = :cid"
                             " AND (claims.payer_claim_number IS NULL OR "
                             "claims.payer_claim_number = '')"), numbered)


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


class ClaimHead(NamedTuple):
    """What ``load_claims`` reads of a ``claims`` row: ids, ``mapping.CLAIM_COLUMNS``, and
    the coverage and prior claim a claim to another payer names."""

    id: int
    visit_id: int
    claim_key: str
    frequency: str
    original_reference: str
    coverage_id: int | None
    prior_claim_id: int | None


_HEADS = by_ids(table_of(ClaimRow).name, ClaimHead._fields)
_LINES = by_ids(table_of(ClaimLineRow).name, ("claim_id", *mapping.CLAIM_LINE_COLUMNS),
                key="claim_id", order=("claim_id", "number"))


def claim_heads(session: Session, claim_ids: Sequence[int]) -> list[ClaimHead]:
    """The ``ClaimHead`` of each stored claim among these row ids (no value needs converting)."""
    make = ClaimHead._make
    return [make(row) for part in chunked(claim_ids)
            for row in raw_rows(session, _HEADS, part)]


def lines_by_claim(session: Session, claim_ids: Sequence[int]
                   ) -> dict[int, tuple[ClaimLine, ...]]:
    """The claims' lines in line-number order, by claim row id (claims without lines left
    out), read as the driver's rows: each distinct amount, date, modifier and pointer text
    converted once."""
    dialect, table = session.get_bind().dialect, table_of(ClaimLineRow)
    amount, _ = value_reader(dialect, table, "charge")
    date_of, _ = value_reader(dialect, table, "date_of_service")
    modifiers, pointers = Memo(mapping.split_codes), Memo(mapping.split_pointers)
    new_line = mapping.new_claim_line
    out: dict[int, tuple[ClaimLine, ...]] = {}
    for part in chunked(claim_ids):
        for claim_id, rows in groupby(raw_rows(session, _LINES, part), itemgetter(0)):
            out[claim_id] = tuple([new_line(
                number, code, modifiers[mods], units, amount(charge), date_of(dos),
                pointers[points], control, therapist, assistant, index)
                for (_, number, code, mods, units, charge, dos, points, control, therapist,
                     assistant, index) in rows])
    return out


def load_claims(session: Session, claim_ids: Sequence[int], *,
                with_services: bool = True) -> dict[int, Claim]:
    """The domain claims for these row ids, with their visits and lines.

    The visits are loaded in one call, so the patients, coverages and providers they share
    are read and mapped once however many chunks the claims take. ``with_services=False``
    leaves the visits' documented services out: what writes a claim (837P, CMS-1500) reads
    its lines, and a month's services are the biggest table it would otherwise read.
    """
    rows = claim_heads(session, claim_ids)
    visits = load_visits(session, [r.visit_id for r in rows], with_services=with_services)
    lines = lines_by_claim(session, [r.id for r in rows])
    build, no_lines = mapping.claim_from_columns, ()
    out: dict[int, Claim] = {}
    for row in rows:
        out[row.id] = build(row.claim_key, row.frequency, row.original_reference,
                            visits[row.visit_id], lines.get(row.id, no_lines))
    _bill_other_coverage(session, rows, out)
    return out


def _bill_other_coverage(session: Session, rows: Sequence[Any], out: dict[int, Claim]) -> None:
    """Claims that bill a coverage other than the visit's (a secondary claim): that coverage,
    and the earlier payers' adjudication from the prior claim's posted remittances."""
    other = [r for r in rows if r.coverage_id is not None or r.prior_claim_id is not None]
    if not other:
        return
    coverages = load_coverages(session, [r.coverage_id for r in other if r.coverage_id])
    prior_ids = sorted({r.prior_claim_id for r in other if r.prior_claim_id is not None})
    priors = load_claims(session, prior_ids) if prior_ids else {}
    done = adjudications(session, prior_ids)
    for row in other:
        claim = out[row.id]
        visit = claim.visit
        if row.coverage_id is not None:
            visit = replace(visit, coverage=coverages[row.coverage_id])
        prior_payers = claim.prior_payers
        prior = priors.get(row.prior_claim_id) if row.prior_claim_id is not None else None
        if prior is not None:
            prior_payers = (*prior.prior_payers, mapping.to_prior_payer(
                prior, done.get(row.prior_claim_id, ())))
        out[row.id] = replace(claim, visit=visit, prior_payers=prior_payers)


def set_billing(session: Session, claim_id: int, *, coverage_id: int | None,
                prior_claim_id: int | None) -> None:
    """Record which coverage a claim bills and whose adjudication it carries."""
    session.execute(update(ClaimRow).where(ClaimRow.id == claim_id)
                    .values(coverage_id=coverage_id, prior_claim_id=prior_claim_id)
                    .execution_options(synchronize_session=False))


def claim_carrying(session: Session, prior_claim_id: int) -> int | None:
    """The claim that already bills another payer with ``prior_claim_id``'s adjudication."""
    query = (select(ClaimRow.id).where(ClaimRow.prior_claim_id == prior_claim_id)
             .order_by(ClaimRow.id).limit(1))
    return session.execute(query).scalar()


def load_coverages(session: Session, coverage_ids: Sequence[int]) -> dict[int, Coverage]:
    """Coverages by row id, with their payers."""
    query = (select(CoverageRow, PayerRow).join(PayerRow, PayerRow.id == CoverageRow.payer_id)
             .where(ids_in(CoverageRow.id, sorted(set(coverage_ids)))))
    return {c.id: mapping.to_coverage(c, p) for c, p in session.execute(query)}


def coverage_for(session: Session, visit_row_id: int, sequence: str) -> int | None:
    """The row id of the visit's patient's coverage with this sequence (the oldest), or None."""
    query = (select(CoverageRow.id)
             .join(VisitRow, VisitRow.patient_id == CoverageRow.patient_id)
             .where(VisitRow.id == visit_row_id, CoverageRow.sequence == sequence)
             .order_by(CoverageRow.id).limit(1))
    return session.execute(query).scalar()


#: Ledger entry kinds that record what a payer did (an 835's payments and CAS adjustments).
ADJUDICATION_KINDS = ("payment", "contractual", "payer_reduction", "other_adjustment",
                      "patient_responsibility")


def adjudications(session: Session, claim_ids: Sequence[int]
                  ) -> dict[int, tuple[mapping.Adjudicated, ...]]:
    """What payers posted to these claims from their remittances, netted per line, kind,
    group and reason code (a reversal and its correction cancel out)."""
    if not claim_ids:
        return {}
    entry = LedgerEntryRow
    query = (select(entry.claim_id, ClaimLineRow.number, entry.kind, entry.group_code,
                    entry.carc, func.sum(entry.amount), func.max(RemittanceRow.payment_date))
             .join(RemittanceRow, RemittanceRow.id == entry.remittance_id)
             .outerjoin(ClaimLineRow, ClaimLineRow.id == entry.claim_line_id)
             .where(ids_in(entry.claim_id, claim_ids), entry.kind.in_(ADJUDICATION_KINDS))
             .group_by(entry.claim_id, ClaimLineRow.number, entry.kind, entry.group_code,
                       entry.carc)
             .order_by(entry.claim_id, ClaimLineRow.number, entry.kind, entry.group_code,
                       entry.carc))
    out: dict[int, list[mapping.Adjudicated]] = {}
    for claim_id, line, kind, group, carc, amount, paid_on in session.execute(query):
        out.setdefault(cast(int, claim_id), []).append(mapping.Adjudicated(
            line, kind, group, carc, -to_money(amount), paid_on))
    return {k: tuple(v) for k, v in out.items()}


def claim_row(session: Session, claim_id: int) -> Row[Any] | None:
    """The claim's row with its visit id (``visit_key``), or None."""
    query = (select(ClaimRow.__table__, VisitRow.visit_key)
             .join(VisitRow, VisitRow.id == ClaimRow.visit_id).where(ClaimRow.id == claim_id))
    return session.execute(query).first()
