"""Who can be seen and billed: the practice, its clinicians, and patients with their coverages.

Visit entry picks a patient and a coverage from a ``PatientCatalog``. Patients are addressed by
an opaque ``key`` (never a name or a record number) so URLs and logs carry nothing that
identifies a person. ``demo_catalog`` builds a small fictional practice with
``rehabill.testing`` and serves an app without a practice database; ``BooksCatalog`` reads
the practice's own patients, coverages, plans of care and authorizations from the database.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

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
from rehabill.services.uow import unit_of_work
from rehabill.store import catalog as store_catalog


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


class BooksCatalog:
    """The practice's patients from the database (``store.catalog``), for visit entry.

    Keys are keyed hashes of row ids (``pt-``/``cv-`` and 12 hex digits): stable for one
    ``secret``, so every worker sharing the secret agrees, and they name no person. The
    catalog is read again when the database changed (``catalog_version``, one cheap query
    per use) or the day changed; the plan of care and authorization offered are those in
    force today, else the newest. Before any practice is stored, the demo practice stands in
    as billing provider (nothing can be billed then: there are no patients either).
    """

    def __init__(self, factory: sessionmaker[Session], *, secret: str,
                 clock: Callable[[], date] = date.today) -> None:
        self._factory = factory
        self._secret = hashlib.sha256(b"rehabill-catalog:" + secret.encode()).digest()
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[Any, InMemoryCatalog] | None = None

    def forget(self) -> None:
        """Drop this worker's cached catalog (a coverage was changed in place, which the
        catalog's version, made of highest ids and counts, does not see)."""
        with self._lock:
            self._cached = None

    def _key(self, kind: str, row_id: int) -> str:
        digest = hmac.new(self._secret, f"{kind}:{row_id}".encode(), hashlib.sha256)
        return f"{kind}-{digest.hexdigest()[:12]}"

    def _current(self) -> InMemoryCatalog:
        today = self._clock()
        with unit_of_work(self._factory) as session:
            version = (today, store_catalog.catalog_version(session))
            cached = self._cached
            if cached is not None and cached[0] == version:
                return cached[1]
            stored = store_catalog.load_catalog(session, today.year)
        built = InMemoryCatalog(stored.practice or testing.PRACTICE,
                                tuple(self._choice(p, today) for p in stored.patients),
                                stored.clinicians)
        with self._lock:
            self._cached = (version, built)
        return built

    def _choice(self, stored: store_catalog.StoredPatient, today: date) -> PatientChoice:
        poc = _in_force(stored.plans_of_care, today)
        auth = _in_force(stored.authorizations, today)
        number = None
        if poc is not None:
            number = 1 + sum(1 for d in stored.visit_dates
                             if poc.start <= d <= poc.end and d < today)
        return PatientChoice(
            self._key("pt", stored.row_id), stored.patient,
            tuple(CoverageChoice(self._key("cv", row_id), coverage)
                  for row_id, coverage in stored.coverages),
            stored.diagnoses, poc, auth, number, stored.therapy_to_date)

    @property
    def practice(self) -> BillingProvider:
        """The billing provider."""
        return self._current().practice

    def patients(self) -> tuple[PatientChoice, ...]:
        """Patients in care, sorted by name."""
        return self._current().patients()

    def patient(self, key: str) -> PatientChoice | None:
        """The patient with ``key``, or None."""
        return self._current().patient(key)

    def clinicians(self) -> tuple[Provider, ...]:
        """Therapists and assistants who may render services."""
        return self._current().clinicians()


def _in_force(periods: tuple[Any, ...], today: date) -> Any:
    """The period (plan of care, authorization) covering today, else the newest, or None."""
    current = next((p for p in periods if p.start <= today <= p.end), None)
    return current if current is not None else (periods[0] if periods else None)
