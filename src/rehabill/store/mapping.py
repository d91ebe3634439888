"""Domain values ⇄ rows. Domain values know nothing of tables; this module knows both.

``*_values`` functions turn a domain value into the column values of its row (a dict, ready for
a bulk ``insert``); ``to_*`` functions turn a row back into the domain value. A "row" is either a
model instance or a Core result row with the same column names, so bulk reads need no ORM
objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Row

from rehabill.domain import (
    ZERO,
    Address,
    Adjustment,
    Authorization,
    BillingProvider,
    Claim,
    ClaimLine,
    ClaimStatus,
    Coverage,
    Credential,
    Discipline,
    DistinctReason,
    Frequency,
    LineAdjudication,
    Mode,
    Patient,
    PlanOfCare,
    PriorPayer,
    Provider,
    Service,
    Subscriber,
    TherapyToDate,
    Visit,
)
from rehabill.store.models import (
    AuthorizationRow,
    ClaimLineRow,
    ClaimRow,
    CoverageRow,
    PatientRow,
    PayerRow,
    PlanOfCareRow,
    PracticeRow,
    ProviderRow,
    ServiceRow,
    VisitRow,
)
from rehabill.x12.fastbuild import positional_builder

Values = dict[str, Any]


def _join(items: tuple[str, ...]) -> str:
    return " ".join(items)


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def split_codes(text: str) -> tuple[str, ...]:
    """The codes of a space-separated column (``visits.diagnoses``, ``services.modifiers``)."""
    return tuple(text.split())


def practice_values(bp: BillingProvider) -> Values:
    """Columns of ``practices`` for a billing provider."""
    a = bp.address
    return {"npi": bp.npi, "tax_id": bp.tax_id, "name": bp.name, "taxonomy": bp.taxonomy,
            "address_line1": a.line1, "address_line2": a.line2, "city": a.city,
            "state": a.state, "zip": a.zip}


def to_billing_provider(row: PracticeRow | Row[Any]) -> BillingProvider:
    """The billing provider of a ``practices`` row."""
    address = Address(row.address_line1, row.city, row.state, row.zip, row.address_line2)
    return BillingProvider(row.npi, row.tax_id, row.name, address, row.taxonomy)


def provider_values(p: Provider) -> Values:
    """Columns of ``providers`` for a clinician."""
    return {"npi": p.npi, "first_name": p.first_name, "last_name": p.last_name,
            "credential": p.credential.value}


def to_provider(row: ProviderRow | Row[Any]) -> Provider:
    """The clinician of a ``providers`` row."""
    return Provider(row.npi, row.first_name, row.last_name, Credential(row.credential))


def patient_values(p: Patient, practice_id: int) -> Values:
    """Columns of ``patients``; the address columns are NULL when the visit gave none."""
    a = p.address
    return {"practice_id": practice_id, "external_id": p.id, "first_name": p.first_name,
            "last_name": p.last_name, "birth_date": p.birth_date, "sex": p.sex,
            "address_line1": a.line1 if a else None, "address_line2": a.line2 if a else "",
            "city": a.city if a else None, "state": a.state if a else None,
            "zip": a.zip if a else None}


def to_patient(row: PatientRow | Row[Any]) -> Patient:
    """The patient of a ``patients`` row."""
    address = None
    if row.address_line1 is not None:
        address = Address(row.address_line1, row.city or "", row.state or "", row.zip or "",
                          row.address_line2)
    return Patient(row.external_id, row.first_name, row.last_name, row.birth_date, row.sex,
                   address)


def payer_values(c: Coverage) -> Values:
    """Columns of ``payers`` from a coverage. ``policy`` starts empty (scrubbed by each
    coverage's plan) until the practice chooses one on the admin page."""
    return {"payer_key": c.payer_id, "name": c.payer_name, "policy": ""}


def _address_json(a: Address | None) -> dict[str, str] | None:
    if a is None:
        return None
    return {"line1": a.line1, "line2": a.line2, "city": a.city, "state": a.state, "zip": a.zip}


def _address_from_json(d: object) -> Address | None:
    if not isinstance(d, dict):
        return None
    return Address(d["line1"], d["city"], d["state"], d["zip"], d.get("line2", ""))


def subscriber_json(s: Subscriber | None) -> dict[str, object] | None:
    """The subscriber as a JSON object (kept whole in ``coverages.subscriber``)."""
    if s is None:
        return None
    return {"first_name": s.first_name, "last_name": s.last_name,
            "birth_date": s.birth_date.isoformat() if s.birth_date else None, "sex": s.sex,
            "address": _address_json(s.address)}


def to_subscriber(d: object) -> Subscriber | None:
    """The subscriber kept in ``coverages.subscriber``."""
    if not isinstance(d, dict):
        return None
    birth = d.get("birth_date")
    return Subscriber(d["first_name"], d["last_name"],
                      date.fromisoformat(birth) if isinstance(birth, str) else None,
                      d.get("sex", ""), _address_from_json(d.get("address")))


def coverage_values(c: Coverage, patient_id: int, payer_id: int) -> Values:
    """Columns of ``coverages``."""
    return {"patient_id": patient_id, "payer_id": payer_id, "member_id": c.member_id,
            "plan": c.plan, "relationship": c.relationship, "group_number": c.group_number,
            "sequence": c.sequence, "subscriber": subscriber_json(c.subscriber),
            "start_date": c.start, "end_date": c.end}


def to_coverage(row: CoverageRow | Row[Any], payer: PayerRow | Row[Any]) -> Coverage:
    """The coverage of a ``coverages`` row and its payer."""
    return Coverage(payer.payer_key, payer.name, row.member_id, row.plan, row.relationship,
                    row.group_number, to_subscriber(row.subscriber), row.sequence,
                    row.start_date, row.end_date)


def plan_of_care_values(p: PlanOfCare, patient_id: int) -> Values:
    """Columns of ``plans_of_care``."""
    return {"patient_id": patient_id, "start_date": p.start, "end_date": p.end,
            "certified_on": p.certified_on, "certifying_npi": p.certifying_npi,
            "discipline": p.discipline.value if p.discipline else ""}


def to_plan_of_care(row: PlanOfCareRow | Row[Any]) -> PlanOfCare:
    """The plan of care of a ``plans_of_care`` row."""
    return PlanOfCare(row.start_date, row.end_date, row.certified_on, row.certifying_npi,
                      Discipline(row.discipline) if row.discipline else None)


def authorization_values(a: Authorization, patient_id: int) -> Values:
    """Columns of ``authorizations``."""
    return {"patient_id": patient_id, "number": a.number, "start_date": a.start,
            "end_date": a.end, "visits_approved": a.visits_approved,
            "visits_used": a.visits_used, "units_approved": a.units_approved,
            "units_used": a.units_used}


def to_authorization(row: AuthorizationRow | Row[Any]) -> Authorization:
    """The authorization of an ``authorizations`` row."""
    return Authorization(row.number, row.start_date, row.end_date, row.visits_approved,
                         row.visits_used, row.units_approved, row.units_used)


def service_values(s: Service, visit_id: int, position: int) -> Values:
    """Columns of ``services`` for the service at ``position`` in its visit."""
    return {"visit_id": visit_id, "position": position,
            **dict(zip(SERVICE_COLUMNS, service_row(s), strict=True))}


def service_row(s: Service) -> tuple[Any, ...]:
    """``service_values`` without the visit id and position, as a tuple in
    ``SERVICE_COLUMNS`` order (bulk writes)."""
    return (s.code, s.minutes, s.assistant_minutes, s.mode.value, s.activity, s.goal,
            s.assistance, s.distinct.value if s.distinct else None, s.units,
            _join(s.modifiers), s.charge)


SERVICE_COLUMNS = ("code", "minutes", "assistant_minutes", "mode", "activity", "goal",
                   "assistance", "distinct", "units", "modifiers", "charge")
_MODES = {m.value: m for m in Mode}
_DISTINCT = {d.value: d for d in DistinctReason}


def to_service(row: ServiceRow | Row[Any]) -> Service:
    """The service of a ``services`` row."""
    return service_from_columns(*(getattr(row, c) for c in SERVICE_COLUMNS))


def service_from_columns(code: str, minutes: int, assistant_minutes: int, mode: str,
                         activity: str, goal: str, assistance: str, distinct: str | None,
                         units: int | None, modifiers: str, charge: Any) -> Service:
    """The service from its ``SERVICE_COLUMNS`` values, in that order (bulk reads)."""
    return _new_service(code, minutes, assistant_minutes, _MODES[mode], activity, goal,
                        assistance, _DISTINCT[distinct] if distinct else None, units,
                        _split(modifiers), charge)


#: Positional constructors (``x12.fastbuild``) for the values bulk reads build by the
#: thousand: every field in declaration order, none of them validated (the visit's values have
#: no ``__post_init__``), twice as quick as the generated ``__init__`` when interpreted.
new_visit = positional_builder(Visit)
# a scrub reads back each service of a month's visits (most are distinct: their own notes)
_new_service = positional_builder(Service)
new_therapy_to_date = positional_builder(TherapyToDate)


def visit_values(v: Visit, ids: dict[str, int | None]) -> Values:
    """Columns of ``visits``; ``ids`` holds the foreign keys already resolved.

    ``ids`` keys: practice_id, patient_id, coverage_id, rendering_provider_id, assistant_id,
    supervising_provider_id, plan_of_care_id, authorization_id, import_file_id.
    """
    return {**dict(zip(VISIT_COLUMNS, visit_row(v), strict=True)), **ids}


def visit_row(v: Visit) -> tuple[Any, ...]:
    """``visit_values`` without the foreign keys, as a tuple in ``VISIT_COLUMNS`` order (bulk
    writes)."""
    return (v.visit_id, v.date_of_service, v.place_of_service, _join(v.diagnoses),
            v.visit_number_in_episode, v.treatment_days_since_progress_report,
            v.total_treatment_minutes, v.therapy_to_date.pt_slp, v.therapy_to_date.ot,
            v.onset_date, v.referring_npi)


VISIT_COLUMNS = ("visit_key", "date_of_service", "place_of_service", "diagnoses",
                 "visit_number_in_episode", "treatment_days_since_progress_report",
                 "total_treatment_minutes", "therapy_to_date_pt_slp", "therapy_to_date_ot",
                 "onset_date", "referring_npi")
#: The foreign keys of ``visits`` (``visit_values``' ``ids``), in the order bulk writes use.
VISIT_ID_COLUMNS = ("practice_id", "patient_id", "coverage_id", "rendering_provider_id",
                    "assistant_id", "supervising_provider_id", "plan_of_care_id",
                    "authorization_id", "import_file_id")


def to_visit(row: VisitRow | Row[Any], *, billing_provider: BillingProvider, patient: Patient,
             coverage: Coverage, rendering_provider: Provider, services: tuple[Service, ...],
             assistant: Provider | None = None, supervising_provider: Provider | None = None,
             plan_of_care: PlanOfCare | None = None,
             authorization: Authorization | None = None) -> Visit:
    """The visit of a ``visits`` row, given its already-mapped parts."""
    return Visit(
        visit_id=row.visit_key, date_of_service=row.date_of_service,
        billing_provider=billing_provider, patient=patient, coverage=coverage,
        rendering_provider=rendering_provider, services=services,
        diagnoses=_split(row.diagnoses), place_of_service=row.place_of_service,
        assistant=assistant, supervising_provider=supervising_provider,
        plan_of_care=plan_of_care, authorization=authorization,
        visit_number_in_episode=row.visit_number_in_episode,
        treatment_days_since_progress_report=row.treatment_days_since_progress_report,
        total_treatment_minutes=row.total_treatment_minutes,
        therapy_to_date=TherapyToDate(row.therapy_to_date_pt_slp, row.therapy_to_date_ot),
        onset_date=row.onset_date, referring_npi=row.referring_npi,
    )


def claim_values(claim: Claim, *, visit_id: int, payer_id: int, status: ClaimStatus,
                 sequence: int = 1, unit_method: str = "") -> Values:
    """Columns of ``claims`` for a coded claim."""
    return {"claim_key": claim.claim_id, "visit_id": visit_id, "sequence": sequence,
            "payer_id": payer_id, "frequency": claim.frequency.value,
            "original_reference": claim.original_reference, "status": status.value,
            "unit_method": unit_method, "total_charge": claim.total_charge}


def claim_line_values(line: ClaimLine, claim_id: int) -> Values:
    """Columns of ``claim_lines``."""
    return {"claim_id": claim_id, **dict(zip(CLAIM_LINE_COLUMNS, claim_line_row(line),
                                             strict=True))}


def claim_line_row(line: ClaimLine) -> tuple[Any, ...]:
    """``claim_line_values`` without the claim id, as a tuple in ``CLAIM_LINE_COLUMNS``
    order (bulk writes)."""
    return (line.number, line.code, _join(line.modifiers), line.units, line.charge,
            line.date_of_service, _pointer_text(line.diagnosis_pointers),
            line.control_number, line.therapist_minutes, line.assistant_minutes,
            line.service_index)


@lru_cache(maxsize=1024)
def _pointer_text(pointers: tuple[int, ...]) -> str:
    """``claim_lines.diagnosis_pointers`` ("1 2"), written once per distinct pointer list: a
    scrub writes a month's lines, which point at a handful of different lists."""
    return " ".join(str(p) for p in pointers)


CLAIM_LINE_COLUMNS = ("number", "code", "modifiers", "units", "charge", "date_of_service",
                      "diagnosis_pointers", "control_number", "therapist_minutes",
                      "assistant_minutes", "service_index")


def to_claim_line(row: ClaimLineRow | Row[Any]) -> ClaimLine:
    """The claim line of a ``claim_lines`` row."""
    return claim_line_from_columns(*(getattr(row, c) for c in CLAIM_LINE_COLUMNS))


def claim_line_from_columns(number: int, code: str, modifiers: str, units: int, charge: Any,
                            date_of_service: date, diagnosis_pointers: str,
                            control_number: str, therapist_minutes: int,
                            assistant_minutes: int, service_index: int) -> ClaimLine:
    """The claim line from its ``CLAIM_LINE_COLUMNS`` values, in that order (bulk reads)."""
    return _new_claim_line(number, code, _modifiers(modifiers), units, charge, date_of_service,
                           _pointers(diagnosis_pointers), control_number, therapist_minutes,
                           assistant_minutes, service_index)


# A month's batch reads tens of thousands of lines with a few dozen distinct modifier and
# pointer texts: each is split once, and each line built without the frozen __init__.
_new_claim_line = positional_builder(ClaimLine)
#: ``ClaimLine``'s positional constructor (every field, in order), for bulk reads.
new_claim_line = _new_claim_line


@lru_cache(maxsize=1024)
def _modifiers(text: str) -> tuple[str, ...]:
    return tuple(text.split())


@lru_cache(maxsize=1024)
def _pointers(text: str) -> tuple[int, ...]:
    return split_pointers(text)


def split_pointers(text: str) -> tuple[int, ...]:
    """The diagnosis pointers of ``claim_lines.diagnosis_pointers`` ("1 2")."""
    return tuple(int(p) for p in text.split())


#: The ``claims`` columns ``to_claim`` reads.
CLAIM_COLUMNS = ("claim_key", "frequency", "original_reference")


@dataclass(frozen=True, slots=True)
class Adjudicated:
    """One netted amount a payer posted to a claim: line number (None at claim level), ledger
    kind, CAS group and reason, amount as the payer reported it (positive), remittance date."""

    line: int | None
    kind: str
    group: str
    reason: str
    amount: Decimal
    paid_on: date | None


def to_prior_payer(claim: Claim, posted: tuple[Adjudicated, ...]) -> PriorPayer:
    """The earlier payer's adjudication of ``claim`` (the coverage it billed) from what its
    remittances posted: payments and adjustments per line, the rest at claim level."""
    c = claim.visit.coverage
    by_line: dict[int | None, list[Adjudicated]] = {}
    for item in posted:
        if item.amount or item.kind == "payment":
            by_line.setdefault(item.line, []).append(item)
    lines = tuple(_line_adjudication(line, by_line.get(line.number, ()))
                  for line in claim.lines if line.number in by_line)
    paid = sum((a.amount for a in posted if a.kind == "payment"), ZERO)
    days = [a.paid_on for a in posted if a.paid_on is not None]
    return PriorPayer(c.payer_id, c.payer_name, c.member_id, c.plan, paid,
                      max(days) if days else claim.date_of_service, c.relationship,
                      c.group_number, c.sequence, c.subscriber,
                      _adjustments(by_line.get(None, ())), lines)


def _line_adjudication(line: ClaimLine, posted: Sequence[Adjudicated]) -> LineAdjudication:
    paid = sum((a.amount for a in posted if a.kind == "payment"), ZERO)
    return LineAdjudication(line.number, line.control_number, paid, line.code, line.modifiers,
                            line.units, _adjustments(posted))


def _adjustments(posted: Sequence[Adjudicated]) -> tuple[Adjustment, ...]:
    return tuple(Adjustment(a.group, a.reason, a.amount) for a in posted
                 if a.kind != "payment" and a.amount)


def to_claim(row: ClaimRow | Row[Any], visit: Visit, lines: tuple[ClaimLine, ...]) -> Claim:
    """The claim of a ``claims`` row (``CLAIM_COLUMNS`` at least), its visit and its lines
    (in line-number order)."""
    return claim_from_columns(row.claim_key, row.frequency, row.original_reference, visit,
                              lines)


_FREQUENCIES = {f.value: f for f in Frequency}
_new_claim = positional_builder(Claim)
_NO_PRIOR_PAYERS: tuple[PriorPayer, ...] = ()


def claim_from_columns(claim_key: str, frequency: str, original_reference: str, visit: Visit,
                       lines: tuple[ClaimLine, ...]) -> Claim:
    """``to_claim`` from its ``CLAIM_COLUMNS`` values, in that order (bulk reads)."""
    override = "" if claim_key == visit.visit_id else claim_key
    kind = _FREQUENCIES.get(frequency)
    return _new_claim(visit, lines, Frequency(frequency) if kind is None else kind,
                      original_reference, override, _NO_PRIOR_PAYERS)
