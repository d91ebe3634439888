"""The practice's patients in care as visit entry needs them: each patient with coverages,
plans of care, authorizations, the diagnoses of the latest visit and this year's therapy
amounts (KX threshold), plus the practice and its clinicians.

Read-only; values are frozen domain values (never ORM rows), bounded by ``limit``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rehabill.domain import Authorization, PlanOfCare, Provider
from rehabill.domain.visit import BillingProvider, Coverage, Patient, TherapyToDate
from rehabill.store import facts, mapping
from rehabill.store.bulk import chunked, ids_in
from rehabill.store.models import (
    AuthorizationRow,
    CoverageRow,
    PatientRow,
    PayerRow,
    PlanOfCareRow,
    PracticeRow,
    ProviderRow,
    VisitRow,
)
from rehabill.store.views import books_version

DEFAULT_LIMIT = 2000
SEQUENCE_ORDER = {"primary": 0, "secondary": 1, "tertiary": 2}


@dataclass(frozen=True, slots=True)
class StoredPatient:
    """A patient with what the database knows about their care."""

    row_id: int
    patient: Patient
    coverages: tuple[tuple[int, Coverage], ...]  # (coverage row id, coverage), primary first
    plans_of_care: tuple[PlanOfCare, ...]  # newest start first
    authorizations: tuple[Authorization, ...]  # newest start first
    diagnoses: tuple[str, ...]  # of the latest visit
    visit_dates: tuple[date, ...]  # dates of service, for the visit number in an episode
    therapy_to_date: TherapyToDate


@dataclass(frozen=True, slots=True)
class StoredCatalog:
    """The practice (None before anything is imported), clinicians and patients."""

    practice: BillingProvider | None
    clinicians: tuple[Provider, ...]
    patients: tuple[StoredPatient, ...]


def catalog_version(session: Session) -> tuple[Any, ...]:
    """A value that changes when the catalog may have changed (new people, payers, coverages,
    plans, authorizations, visits or postings); each part is an index lookup or a count."""
    return (*books_version(session), *session.execute(select(
        select(func.max(PatientRow.id)).scalar_subquery(),
        select(func.max(CoverageRow.id)).scalar_subquery(),
        select(func.max(PlanOfCareRow.id)).scalar_subquery(),
        select(func.max(AuthorizationRow.id)).scalar_subquery(),
        select(func.sum(AuthorizationRow.visits_used)).scalar_subquery(),
        select(func.max(ProviderRow.id)).scalar_subquery(),
        select(func.max(PracticeRow.id)).scalar_subquery(),
        select(func.max(PayerRow.id)).scalar_subquery())).one())


def load_catalog(session: Session, year: int, *, limit: int = DEFAULT_LIMIT) -> StoredCatalog:
    """Everything visit entry offers, from the database.

    Args:
        session: any session on the books.
        year: the calendar year whose therapy amounts count toward the KX threshold.
        limit: at most this many patients (by name).

    Returns:
        The practice (the first one stored), every clinician, and the patients by name.
    """
    practice_row = session.scalars(select(PracticeRow).order_by(PracticeRow.id)).first()
    practice = mapping.to_billing_provider(practice_row) if practice_row else None
    clinicians = tuple(mapping.to_provider(r) for r in session.scalars(
        select(ProviderRow).order_by(ProviderRow.last_name, ProviderRow.first_name)))
    rows = session.scalars(select(PatientRow).order_by(PatientRow.last_name,
                                                      PatientRow.first_name, PatientRow.id)
                           .limit(limit)).all()
    ids = [r.id for r in rows]
    coverages = _coverages(session, ids)
    plans = _grouped(session, PlanOfCareRow, ids, mapping.to_plan_of_care)
    auths = _grouped(session, AuthorizationRow, ids, mapping.to_authorization)
    diagnoses, dates = _visits(session, ids)
    totals: dict[str, dict[str, Decimal]] = {}
    for external_id, group, amount in facts.kx_totals(session, year):
        totals.setdefault(external_id, {})[group] = amount
    patients = []
    for row in rows:
        amounts = totals.get(row.external_id, {})
        patients.append(StoredPatient(
            row.id, mapping.to_patient(row), tuple(coverages.get(row.id, ())),
            tuple(plans.get(row.id, ())), tuple(auths.get(row.id, ())),
            diagnoses.get(row.id, ()), tuple(dates.get(row.id, ())),
            TherapyToDate(amounts.get("pt_slp", Decimal("0")), amounts.get("ot", Decimal("0")))))
    return StoredCatalog(practice, clinicians, tuple(patients))


def _coverages(session: Session, patient_ids: Sequence[int]
               ) -> dict[int, list[tuple[int, Coverage]]]:
    out: dict[int, list[tuple[int, Coverage]]] = {}
    for part in chunked(patient_ids):
        query = (select(CoverageRow, PayerRow).join(PayerRow, PayerRow.id == CoverageRow.payer_id)
                 .where(ids_in(CoverageRow.patient_id, part),
                        CoverageRow.sequence != "former")  # no longer in force
                 .order_by(CoverageRow.id))
        for coverage, payer in session.execute(query):
            out.setdefault(coverage.patient_id, []).append(
                (coverage.id, mapping.to_coverage(coverage, payer)))
    for found in out.values():
        found.sort(key=lambda pair: SEQUENCE_ORDER.get(pair[1].sequence, 9))
    return out


def _grouped(session: Session, table: Any, patient_ids: Sequence[int], build: Any
             ) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {}
    for part in chunked(patient_ids):
        query = (select(table).where(ids_in(table.patient_id, part))
                 .order_by(table.start_date.desc(), table.id.desc()))
        for row in session.scalars(query):
            out.setdefault(row.patient_id, []).append(build(row))
    return out


def _visits(session: Session, patient_ids: Sequence[int]
            ) -> tuple[dict[int, tuple[str, ...]], dict[int, list[date]]]:
    diagnoses: dict[int, tuple[str, ...]] = {}
    dates: dict[int, list[date]] = {}
    for part in chunked(patient_ids):
        query = (select(VisitRow.patient_id, VisitRow.date_of_service, VisitRow.diagnoses)
                 .where(ids_in(VisitRow.patient_id, part))
                 .order_by(VisitRow.date_of_service.desc(), VisitRow.id.desc()))
        for patient_id, day, codes in session.execute(query):
            if patient_id not in diagnoses:
                diagnoses[patient_id] = tuple(codes.split())
            dates.setdefault(patient_id, []).append(day)
    return diagnoses, dates
