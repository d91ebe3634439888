"""Who can be seen and billed: the practice, its clinicians, and patients with their coverages.

Visit entry picks a patient and a coverage from a ``PatientCatalog``. Patients are addressed by
an opaque ``key`` (never a name or a record number) so URLs and logs carry nothing that
identifies a person. ``demo_catalog`` builds a small fictional practice with
``rehabill.testing``; the store's catalog replaces it when the lead wires the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Protocol

from rehabill import testing
from rehabill.domain.visit import (
    Address,
    Authorization,
    BillingProvider,
    Coverage,
    Patient,
    PlanOfCare,
    Provider,
    TherapyToDate,
)


@dataclass(frozen=True, slots=True)
class CoverageChoice:
    """A coverage a patient can be billed under, with its opaque key."""

    key: str
    coverage: Coverage

    @property
    def label(self) -> str:
        """"Medicare Part B · primary"."""
        return f"{self.coverage.payer_name or self.coverage.payer_id} · {self.coverage.sequence}"


@dataclass(frozen=True, slots=True)
class PatientChoice:
    """A patient in care: coverages, diagnoses and the current episode."""

    key: str
    patient: Patient
    coverages: tuple[CoverageChoice, ...]
    diagnoses: tuple[str, ...]
    plan_of_care: PlanOfCare | None = None
    authorization: Authorization | None = None
    visit_number_in_episode: int | None = None
    therapy_to_date: TherapyToDate = field(default_factory=TherapyToDate)

    @property
    def label(self) -> str:
        """"Lee, Mark"."""
        return f"{self.patient.last_name}, {self.patient.first_name}"

    def coverage(self, key: str) -> CoverageChoice | None:
        """The coverage with ``key``, or None."""
        return next((c for c in self.coverages if c.key == key), None)


class PatientCatalog(Protocol):
    """Read access to the practice's patients and clinicians."""

    @property
    def practice(self) -> BillingProvider:
        """The billing provider."""
        ...

    def patients(self) -> tuple[PatientChoice, ...]:
        """Patients in care, sorted by name."""
        ...

    def patient(self, key: str) -> PatientChoice | None:
        """The patient with ``key``, or None."""
        ...

    def clinicians(self) -> tuple[Provider, ...]:
        """Therapists and assistants who may render services."""
        ...


class InMemoryCatalog:
    """A catalog held in memory."""

    def __init__(self, practice: BillingProvider, patients: tuple[PatientChoice, ...],
                 clinicians: tuple[Provider, ...]) -> None:
        self._practice = practice
        self._patients = tuple(sorted(patients, key=lambda p: p.label))
        self._by_key = {p.key: p for p in patients}
        self._clinicians = clinicians

    @property
    def practice(self) -> BillingProvider:
        """The billing provider."""
        return self._practice

    def patients(self) -> tuple[PatientChoice, ...]:
        """Patients in care, sorted by name."""
        return self._patients

    def patient(self, key: str) -> PatientChoice | None:
        """The patient with ``key``, or None."""
        return self._by_key.get(key)

    def clinicians(self) -> tuple[Provider, ...]:
        """Therapists and assistants who may render services."""
        return self._clinicians


def demo_catalog(today: date) -> InMemoryCatalog:
    """A fictional practice with four patients in care around ``today``.

    Plans of care and authorizations are dated around ``today`` so a visit entered today is
    inside them. One Medicare patient is close to the KX threshold so KX appears as minutes grow.
    """
    poc = PlanOfCare(today - timedelta(days=21), today + timedelta(days=69),
                     today - timedelta(days=18), "1457390007")
    auth = Authorization("A-20431", today - timedelta(days=21), today + timedelta(days=69), 12, 5)
    austin = Address("2 Oak St", "Austin", "TX", "78702")
    patients = (
        PatientChoice("pt-7c1e2a", testing.PATIENT,
                      (CoverageChoice("cv-51d0a3", testing.MEDICARE),),
                      ("I69.351", "R26.89"), poc, auth, 6),
        PatientChoice("pt-2b9f44", Patient("P-2", "Rosa", "Alvarez", date(1984, 9, 12), "F",
                                           austin),
                      (CoverageChoice("cv-a8e217", Coverage(
                          "LSCHP", "Lone Star Choice PPO", "LSC88421907", "lonestar_choice_ppo")),),
                      ("M54.50", "M62.81"), poc, auth, 3),
        PatientChoice("pt-c04d6e", Patient("P-3", "Dana", "Whitfield", date(1948, 1, 30), "F",
                                           austin),
                      (CoverageChoice("cv-3f6b90", Coverage(
                          "MEDICARE", "Medicare Part B", "7HK2PQ4RT55", "medicare_part_b")),),
                      ("S72.001D", "R26.2"), poc, None, 14,
                      TherapyToDate(pt_slp=Decimal("2380.00"))),
        PatientChoice("pt-915a7b", Patient("P-4", "Eli", "Brooks", date(1961, 6, 3), "M", austin),
                      (CoverageChoice("cv-0e44c1", testing.COMMERCIAL),
                       CoverageChoice("cv-77b2d8", Coverage(
                           "MEDICARE", "Medicare Part B", "2WX7YT3ZQ18", "medicare_part_b",
                           sequence="secondary"))),
                      ("I63.9", "R13.12"), poc, auth, 2),
    )
    clinicians = (*testing.THERAPISTS.values(), *testing.ASSISTANTS.values())
    return InMemoryCatalog(testing.PRACTICE, patients, clinicians)
