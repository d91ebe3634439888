"""Claim facts for the reports: the books' rows folded into ``rehabill.reports.ClaimFact``.

A handful of grouped queries (claims with their visit, payer and people; line codes; ledger
sums by claim, kind, group and CARC with payment dates; the first time each claim reached each
status), folded together in Python, so the whole book of a clinic-year is read in seconds.

A claim counts as denied when its first adjudication denied it whole or in part (some lines
denied, ``partially_paid``): denial analysis is about the money a denial holds up, and a
partly denied claim needs the same work. Its CARCs are the non-routine CO/OA/PI adjustments.

Signs: ledger entries take money off the insurance balance, so they are negative; the facts
show payments and adjustments as positive amounts and the balance as what is still open.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased

from rehabill.domain.money import ZERO
from rehabill.ledger import denials
from rehabill.reports import ClaimFact
from rehabill.store.models import (
    BatchRow,
    ClaimLineRow,
    ClaimRow,
    ClaimStatusRow,
    LedgerEntryRow,
    PatientRow,
    PayerRow,
    ProviderRow,
    RemittanceRow,
    VisitRow,
)
from rehabill.store.types import to_money

ADJUDICATED = ("paid", "partially_paid", "denied", "closed")
PAID_KINDS = ("payment",)
CONTRACTUAL_KINDS = ("contractual", "payer_reduction", "adjustment")
OTHER_KINDS = ("other_adjustment", "reversal")
PATIENT_KINDS = ("patient_responsibility",)


@dataclass(slots=True)
class _Money:
    paid: Decimal = ZERO
    contractual: Decimal = ZERO
    other: Decimal = ZERO
    patient: Decimal = ZERO
    co45: Decimal = ZERO
    total: Decimal = ZERO
    denied: Decimal = ZERO
    reasons: tuple[str, ...] = ()
    first_payment: date | None = None
    last_payment: date | None = None


_NO_MONEY = _Money()


def _day(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _cents(amount: Any) -> ColumnElement[Any]:
    """``SUM(amount)`` in whole cents: exact on PostgreSQL's numeric, and on SQLite (which
    sums doubles) rounded back to the cent the stored amounts hold."""
    return cast(func.round(func.coalesce(func.sum(amount), 0) * 100), BigInteger)


def _amount(cents: int) -> Decimal:
    """Cents from ``_cents`` as a positive-for-the-practice amount (ledger signs are negative)."""
    return Decimal(-int(cents)).scaleb(-2) if cents else ZERO


def _sum_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return _cents(case((condition, LedgerEntryRow.amount)))


def _not_routine() -> ColumnElement[bool]:
    """An adjustment that is not normal business (``ledger.denials.is_routine``)."""
    routine = [and_(LedgerEntryRow.group_code == group, LedgerEntryRow.carc == carc)
               for group, carc in sorted(denials.ROUTINE)]
    return and_(LedgerEntryRow.group_code.in_(("CO", "OA", "PI")), LedgerEntryRow.carc != "",
                not_(or_(*routine)))


def _money(connection: Connection) -> dict[int, _Money]:
    """Each claim's ledger folded into payments, adjustments and dates: one row per claim.

    An entry's payment date is its remittance's (BPR16), else the day it was posted.
    """
    entry = LedgerEntryRow
    paid_on = func.coalesce(RemittanceRow.payment_date, entry.posted_at)
    query = (select(entry.claim_id, _sum_if(entry.kind.in_(PAID_KINDS)),
                    _sum_if(entry.kind.in_(CONTRACTUAL_KINDS)),
                    _sum_if(entry.kind.in_(PATIENT_KINDS)),
                    _sum_if(and_(entry.group_code == "CO", entry.carc == "45")),
                    _cents(entry.amount), func.min(paid_on), func.max(paid_on))
             .outerjoin(RemittanceRow, RemittanceRow.id == entry.remittance_id)
             .where(entry.claim_id.is_not(None))
             .group_by(entry.claim_id))
    out: dict[int, _Money] = {}
    for claim_id, paid, contractual, patient, co45, total, first, last in \
            connection.execute(query):
        m = out[claim_id] = _Money(paid=_amount(paid), contractual=_amount(contractual),
                                   patient=_amount(patient), co45=_amount(co45),
                                   total=_amount(total), first_payment=_day(first),
                                   last_payment=_day(last))
        m.other = m.total - m.paid - m.contractual - m.patient
    _denied(connection, out)
    return out


def _denied(connection: Connection, money: dict[int, _Money]) -> None:
    """Add the money held by non-routine CO/OA/PI adjustments and their CARCs."""
    entry = LedgerEntryRow
    query = (select(entry.claim_id, entry.group_code, entry.carc, _cents(entry.amount))
             .where(entry.claim_id.is_not(None), _not_routine())
             .group_by(entry.claim_id, entry.kind, entry.group_code, entry.carc)
             .order_by(entry.claim_id, entry.kind, entry.group_code, entry.carc))
    for claim_id, group, carc, cents in connection.execute(query):
        value = _amount(cents)
        if value > 0 and claim_id in money:
            m = money[claim_id]
            m.denied += value
            reason = f"{group}-{carc}"
            if reason not in m.reasons:
                m.reasons = (*m.reasons, reason)


class _Seen(NamedTuple):
    """When a claim first reached the statuses the reports ask about (history ids, times)."""

    scrubbed: int | None
    held: int | None
    rejected: int | None
    batched_at: Any
    results: tuple[tuple[int | None, Any], ...]  # per ADJUDICATED status: (first id, time)


def _milestones(connection: Connection) -> dict[int, _Seen]:
    """The first time each claim reached each status that matters: one row per claim."""
    row = ClaimStatusRow

    def first(status: str, column: Any) -> ColumnElement[Any]:
        return func.min(case((row.status == status, column)))

    query = (select(row.claim_id, first("scrubbed", row.id), first("held", row.id),
                    first("rejected", row.id), first("batched", row.at),
                    *(first(s, c) for s in ADJUDICATED for c in (row.id, row.at)))
             .group_by(row.claim_id))
    out: dict[int, _Seen] = {}
    for claim_id, scrubbed, held, rejected, batched_at, *results in connection.execute(query):
        out[claim_id] = _Seen(scrubbed, held, rejected, batched_at,
                              tuple(zip(results[::2], results[1::2], strict=True)))
    return out


_NEVER = _Seen(None, None, None, None, ((None, None),) * len(ADJUDICATED))


def _codes(connection: Connection) -> dict[int, tuple[str, ...]]:
    grouped: dict[int, list[str]] = defaultdict(list)
    for claim_id, code in connection.execute(select(ClaimLineRow.claim_id, ClaimLineRow.code)
                                             .order_by(ClaimLineRow.claim_id,
                                                       ClaimLineRow.number)):
        grouped[claim_id].append(code)
    return {k: tuple(dict.fromkeys(v)) for k, v in grouped.items()}


def claim_facts(session: Session) -> list[ClaimFact]:
    """Every claim's money and milestones, for ``rehabill.reports``.

    Args:
        session: any session on the books (read only).

    Returns:
        One fact per claim, oldest claim first.
    """
    connection = session.connection()
    money = _money(connection)
    seen = _milestones(connection)
    codes = _codes(connection)
    query = (select(ClaimRow.id, ClaimRow.claim_key, ClaimRow.total_charge,
                    PayerRow.payer_key, PayerRow.name, PatientRow.external_id,
                    ProviderRow.npi, VisitRow.date_of_service, BatchRow.created_at)
             .join(VisitRow, VisitRow.id == ClaimRow.visit_id)
             .join(PayerRow, PayerRow.id == ClaimRow.payer_id)
             .join(PatientRow, PatientRow.id == VisitRow.patient_id)
             .join(ProviderRow, ProviderRow.id == VisitRow.rendering_provider_id)
             .outerjoin(BatchRow, BatchRow.id == ClaimRow.batch_id)
             .order_by(ClaimRow.id))
    return [_fact(row, money.get(row[0], _NO_MONEY), seen.get(row[0], _NEVER),
                  codes.get(row[0], ())) for row in connection.execute(query)]


def _first_result(seen: _Seen) -> tuple[str | None, Any]:
    """The first adjudicated status the claim reached, and when."""
    best: tuple[int, str, Any] | None = None
    for status, (first_id, at) in zip(ADJUDICATED, seen.results, strict=True):
        if first_id is not None and (best is None or first_id < best[0]):
            best = (first_id, status, at)
    return (best[1], best[2]) if best is not None else (None, None)


def _fact(row: Any, m: _Money, seen: _Seen, codes: tuple[str, ...]) -> ClaimFact:
    _cid, key, charge, payer_key, payer_name, patient, npi, dos, batched_at = row
    charge = to_money(charge)
    held_first = seen.held is not None and (seen.scrubbed is None or seen.held < seen.scrubbed)
    first_result, result_at = _first_result(seen)
    adjudicated_on = None
    if first_result is not None:
        adjudicated_on = m.first_payment or _day(result_at)
    return ClaimFact(
        claim_id=key, payer_id=payer_key, payer_name=payer_name or payer_key,
        patient_id=patient, rendering_npi=npi, date_of_service=dos,
        charge=charge, codes=codes,
        submitted_on=_day(batched_at) or _day(seen.batched_at),
        adjudicated_on=adjudicated_on,
        allowed=charge - m.co45 if first_result is not None else ZERO,
        paid=m.paid, contractual=m.contractual, other_adjustments=m.other,
        patient_responsibility=m.patient, balance=charge - m.total,
        scrub_clean_first_pass=not held_first,
        accepted_first_pass=seen.rejected is None,
        denied=first_result in ("denied", "partially_paid"),
        denial_reasons=m.reasons,
        denied_amount=m.denied, paid_first_pass=first_result in ("paid", "closed"),
        paid_on=m.last_payment if m.paid else None)


def kx_totals(session: Session, year: int) -> list[tuple[str, str, Decimal]]:
    """Each patient's allowed therapy amounts this year, PT+SLP and OT apart (KX threshold).

    A line's allowed amount is its charge less the payer's CO-45 contractual adjustment on it
    (the charge itself until the line is adjudicated). Only each visit's newest claim that was
    not held counts: a corrected claim replaces the one before it and a void (frequency 8)
    takes the visit out. GO lines count toward OT, the rest
    toward the combined PT and SLP amount (42 CFR 410.59-410.62).

    Args:
        session: any session on the books.
        year: the calendar year of the dates of service.

    Returns:
        (patient id, "pt_slp" or "ot", allowed amount) for every patient with therapy.
    """
    entry, line = LedgerEntryRow, ClaimLineRow
    # a corrected (7) or void (8) claim replaces the visit's earlier ones at the payer: only
    # each visit's newest claim that left the practice counts, and a void counts nothing
    later = aliased(ClaimRow)
    replaced = (select(later.id).where(later.visit_id == ClaimRow.visit_id,
                                       later.sequence > ClaimRow.sequence,
                                       later.status != "held").exists())
    is_ot = (literal(" ") + line.modifiers + literal(" ")).like("% GO %")
    kind = case((is_ot, "ot"), else_="pt_slp").label("kind")

    def by_patient(amount: Any, query: Select[Any]) -> Select[Any]:
        """The year's counted lines, ``amount`` summed per patient and threshold group.

        Charges and CO-45 amounts are summed apart and added in Python, and "no later claim"
        is an index lookup (NOT EXISTS on visit and sequence): no aggregate sits inside
        another query, so no plan can run one per row (PostgreSQL did, with the stale
        statistics a bulk load leaves when autovacuum has not run)."""
        inner = (query.add_columns(PatientRow.external_id.label("patient"), kind,
                                   amount.label("amount"))
                 .join(ClaimRow, ClaimRow.id == line.claim_id)
                 .join(VisitRow, VisitRow.id == ClaimRow.visit_id)
                 .join(PatientRow, PatientRow.id == VisitRow.patient_id)
                 .where(VisitRow.date_of_service >= date(year, 1, 1),
                        VisitRow.date_of_service <= date(year, 12, 31),
                        ClaimRow.frequency != "8", ClaimRow.status != "held", ~replaced)
                 .subquery())
        return (select(inner.c.patient, inner.c.kind, _cents(inner.c.amount))
                .group_by(inner.c.patient, inner.c.kind))

    connection = session.connection()
    cents: dict[tuple[str, str], int] = defaultdict(int)
    charges = by_patient(line.charge, select().select_from(line))
    adjusted = by_patient(entry.amount, select().select_from(entry)
                          .join(line, line.id == entry.claim_line_id)
                          .where(entry.group_code == "CO", entry.carc == "45"))
    for query in (charges, adjusted):
        for patient, group, amount in connection.execute(query):
            cents[(patient, group)] += int(amount)
    return [(patient, group, Decimal(amount).scaleb(-2))
            for (patient, group), amount in sorted(cents.items())]
