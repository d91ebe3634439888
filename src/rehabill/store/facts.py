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
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

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
    reasons: list[str] = field(default_factory=list)
    first_payment: date | None = None
    last_payment: date | None = None


def _day(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _money(session: Session) -> dict[int, _Money]:
    query = (select(LedgerEntryRow.claim_id, LedgerEntryRow.kind, LedgerEntryRow.group_code,
                    LedgerEntryRow.carc, func.sum(LedgerEntryRow.amount),
                    func.min(RemittanceRow.payment_date), func.max(RemittanceRow.payment_date),
                    func.min(LedgerEntryRow.posted_at))
             .outerjoin(RemittanceRow, RemittanceRow.id == LedgerEntryRow.remittance_id)
             .where(LedgerEntryRow.claim_id.is_not(None))
             .group_by(LedgerEntryRow.claim_id, LedgerEntryRow.kind, LedgerEntryRow.group_code,
                       LedgerEntryRow.carc))
    out: dict[int, _Money] = defaultdict(_Money)
    for claim_id, kind, group, carc, amount, first, last, posted in session.execute(query):
        if claim_id is None:
            continue
        value = -to_money(amount)
        m = out[claim_id]
        m.total += value
        if kind in PAID_KINDS:
            m.paid += value
        elif kind in PATIENT_KINDS:
            m.patient += value
        elif kind in CONTRACTUAL_KINDS:
            m.contractual += value
        else:
            m.other += value
        if group == "CO" and carc == "45":
            m.co45 += value
        if group in ("CO", "OA", "PI") and carc and not denials.is_routine(group, carc) \
                and value > 0:
            m.denied += value
            m.reasons.append(f"{group}-{carc}")
        start, end = _day(first) or _day(posted), _day(last) or _day(posted)
        m.first_payment = min(filter(None, (m.first_payment, start)), default=None)
        m.last_payment = max(filter(None, (m.last_payment, end)), default=None)
    return out


def _milestones(session: Session) -> dict[int, dict[str, tuple[int, Any]]]:
    """The first (history id, time) each claim reached each status."""
    query = (select(ClaimStatusRow.claim_id, ClaimStatusRow.status,
                    func.min(ClaimStatusRow.id), func.min(ClaimStatusRow.at))
             .group_by(ClaimStatusRow.claim_id, ClaimStatusRow.status))
    out: dict[int, dict[str, tuple[int, Any]]] = defaultdict(dict)
    for claim_id, status, first_id, first_at in session.execute(query):
        out[claim_id][status] = (first_id, first_at)
    return out


def _codes(session: Session) -> dict[int, tuple[str, ...]]:
    grouped: dict[int, list[str]] = defaultdict(list)
    for claim_id, code in session.execute(select(ClaimLineRow.claim_id, ClaimLineRow.code)
                                          .order_by(ClaimLineRow.claim_id,
                                                    ClaimLineRow.number)):
        grouped[claim_id].append(code)
    return {k: tuple(dict.fromkeys(v)) for k, v in grouped.items()}


def _first_of(seen: dict[str, tuple[int, Any]], statuses: Iterable[str]) -> str | None:
    found = [(seen[s][0], s) for s in statuses if s in seen]
    return min(found)[1] if found else None


def claim_facts(session: Session) -> list[ClaimFact]:
    """Every claim's money and milestones, for ``rehabill.reports``.

    Args:
        session: any session on the books (read only).

    Returns:
        One fact per claim, oldest claim first.
    """
    money = _money(session)
    seen = _milestones(session)
    codes = _codes(session)
    query = (select(ClaimRow.id, ClaimRow.claim_key, ClaimRow.total_charge,
                    PayerRow.payer_key, PayerRow.name, PatientRow.external_id,
                    ProviderRow.npi, VisitRow.date_of_service, BatchRow.created_at)
             .join(VisitRow, VisitRow.id == ClaimRow.visit_id)
             .join(PayerRow, PayerRow.id == ClaimRow.payer_id)
             .join(PatientRow, PatientRow.id == VisitRow.patient_id)
             .join(ProviderRow, ProviderRow.id == VisitRow.rendering_provider_id)
             .outerjoin(BatchRow, BatchRow.id == ClaimRow.batch_id)
             .order_by(ClaimRow.id))
    return [_fact(row, money.get(row[0]) or _Money(), seen.get(row[0], {}),
                  codes.get(row[0], ())) for row in session.execute(query)]


def _fact(row: Any, m: _Money, seen: dict[str, tuple[int, Any]],
          codes: tuple[str, ...]) -> ClaimFact:
    _cid, key, charge, payer_key, payer_name, patient, npi, dos, batched_at = row
    charge = to_money(charge)
    first_scrub = _first_of(seen, ("scrubbed", "held"))
    first_result = _first_of(seen, ADJUDICATED)
    adjudicated_on = None
    if first_result is not None:
        adjudicated_on = m.first_payment or _day(seen[first_result][1])
    submitted = _day(batched_at) or (_day(seen["batched"][1]) if "batched" in seen else None)
    return ClaimFact(
        claim_id=key, payer_id=payer_key, payer_name=payer_name or payer_key,
        patient_id=patient, rendering_npi=npi, date_of_service=dos, charge=charge,
        codes=codes, submitted_on=submitted, adjudicated_on=adjudicated_on,
        allowed=charge - m.co45 if first_result is not None else ZERO,
        paid=m.paid, contractual=m.contractual, other_adjustments=m.other,
        patient_responsibility=m.patient, balance=charge - m.total,
        scrub_clean_first_pass=first_scrub != "held",
        accepted_first_pass="rejected" not in seen,
        denied=first_result in ("denied", "partially_paid"),
        denial_reasons=tuple(dict.fromkeys(m.reasons)),
        denied_amount=m.denied, paid_first_pass=first_result in ("paid", "closed"),
        paid_on=m.last_payment if m.paid else None)


def kx_totals(session: Session, year: int) -> list[tuple[str, str, Decimal]]:
    """Each patient's allowed therapy amounts this year, PT+SLP and OT apart (KX threshold).

    A line's allowed amount is its charge less the payer's CO-45 contractual adjustment on it
    (the charge itself until the line is adjudicated). GO lines count toward OT, the rest
    toward the combined PT and SLP amount (42 CFR 410.59-410.62).

    Args:
        session: any session on the books.
        year: the calendar year of the dates of service.

    Returns:
        (patient id, "pt_slp" or "ot", allowed amount) for every patient with therapy.
    """
    co45 = {line: to_money(amount) for line, amount in session.execute(
        select(LedgerEntryRow.claim_line_id, func.sum(LedgerEntryRow.amount))
        .where(LedgerEntryRow.claim_line_id.is_not(None), LedgerEntryRow.group_code == "CO",
               LedgerEntryRow.carc == "45")
        .group_by(LedgerEntryRow.claim_line_id))}
    query = (select(ClaimLineRow.id, ClaimLineRow.modifiers, ClaimLineRow.charge,
                    PatientRow.external_id)
             .join(ClaimRow, ClaimRow.id == ClaimLineRow.claim_id)
             .join(VisitRow, VisitRow.id == ClaimRow.visit_id)
             .join(PatientRow, PatientRow.id == VisitRow.patient_id)
             .where(VisitRow.date_of_service >= date(year, 1, 1),
                    VisitRow.date_of_service <= date(year, 12, 31),
                    ClaimRow.frequency != "8", ClaimRow.status != "held"))
    totals: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for line_id, modifiers, charge, patient in session.execute(query):
        group = "ot" if "GO" in modifiers.split() else "pt_slp"
        totals[(patient, group)] += to_money(charge) + co45.get(line_id, ZERO)
    return [(patient, group, amount) for (patient, group), amount in sorted(totals.items())]
