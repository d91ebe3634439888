"""The documented visit: who was seen, by whom, for what, and what was done (DESIGN.md contract)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum


class Discipline(StrEnum):
    """The therapy discipline of a plan of care; sets the GP/GO/GN modifier."""

    PT = "pt"
    OT = "ot"
    SLP = "slp"

    @property
    def modifier(self) -> str:
        """GP for PT, GO for OT, GN for SLP (CMS Pub 100-04 ch.5 §20.1)."""
        return _DISCIPLINE_MODIFIER[self]

    @property
    def threshold_group(self) -> str:
        """KX threshold group: PT and SLP share one amount, OT has its own (SSA §1833(g))."""
        return "ot" if self is Discipline.OT else "pt_slp"


class Credential(StrEnum):
    """A clinician's credential as documented."""

    PT = "PT"
    PTA = "PTA"
    OT = "OT"
    OTA = "OTA"
    SLP = "SLP"
    SLPA = "SLPA"

    @property
    def discipline(self) -> Discipline:
        """The discipline this credential practises."""
        return _CREDENTIAL_DISCIPLINE[self]

    @property
    def is_assistant(self) -> bool:
        """True for PTA, OTA and SLPA."""
        return self in _ASSISTANT_CREDENTIALS

    @property
    def assistant_modifier(self) -> str:
        """CQ for a PTA, CO for an OTA, "" otherwise (42 CFR 410.59(a)(4), 410.60(a)(4))."""
        return _ASSISTANT_MODIFIER.get(self, "")


# Looked up rather than rebuilt on every call: these properties sit on the coding hot path.
_DISCIPLINE_MODIFIER = {Discipline.PT: "GP", Discipline.OT: "GO", Discipline.SLP: "GN"}
_CREDENTIAL_DISCIPLINE = {
    Credential.PT: Discipline.PT,
    Credential.PTA: Discipline.PT,
    Credential.OT: Discipline.OT,
    Credential.OTA: Discipline.OT,
    Credential.SLP: Discipline.SLP,
    Credential.SLPA: Discipline.SLP,
}
_ASSISTANT_CREDENTIALS = frozenset({Credential.PTA, Credential.OTA, Credential.SLPA})
_ASSISTANT_MODIFIER = {Credential.PTA: "CQ", Credential.OTA: "CO"}


class Mode(StrEnum):
    """How the patient was treated: alone with the clinician, in a group, or concurrently."""

    ONE_ON_ONE = "one_on_one"
    GROUP = "group"
    CONCURRENT = "concurrent"


class DistinctReason(StrEnum):
    """Why a service is distinct from another on the same day (NCCI modifier 59 / X{EPSU})."""

    SEPARATE_ENCOUNTER = "separate_encounter"
    SEPARATE_STRUCTURE = "separate_structure"
    SEPARATE_PRACTITIONER = "separate_practitioner"
    UNUSUAL_NON_OVERLAPPING = "unusual_non_overlapping"
    DISTINCT_PROCEDURAL = "distinct_procedural"

    @property
    def x_modifier(self) -> str:
        """XE/XS/XP/XU, or 59 when only a distinct procedure is documented (NCCI Manual ch.1 §E)."""
        return {
            "separate_encounter": "XE",
            "separate_structure": "XS",
            "separate_practitioner": "XP",
            "unusual_non_overlapping": "XU",
            "distinct_procedural": "59",
        }[self.value]


@dataclass(frozen=True, slots=True)
class Address:
    """A US postal address; zip is 5 or 9 digits."""

    line1: str
    city: str
    state: str
    zip: str
    line2: str = ""


@dataclass(frozen=True, slots=True)
class BillingProvider:
    """The practice (or group) that bills: NPI type 2, tax id, name, address."""

    npi: str
    tax_id: str
    name: str
    address: Address
    taxonomy: str = ""
    pay_to: Address | None = None
    """Where payment goes when it differs from ``address`` (837P loop 2010AB, CMS-1500 box 33)."""


@dataclass(frozen=True, slots=True)
class Provider:
    """A clinician: therapist or assistant."""

    npi: str
    first_name: str
    last_name: str
    credential: Credential

    @property
    def display_name(self) -> str:
        """"Ana Ruiz, PT"."""
        return f"{self.first_name} {self.last_name}, {self.credential.value}"


@dataclass(frozen=True, slots=True)
class Patient:
    """The person treated."""

    id: str
    first_name: str
    last_name: str
    birth_date: date
    sex: str
    address: Address | None = None


@dataclass(frozen=True, slots=True)
class Subscriber:
    """The insured person when it is not the patient."""

    first_name: str
    last_name: str
    birth_date: date | None = None
    sex: str = ""
    address: Address | None = None


@dataclass(frozen=True, slots=True)
class Coverage:
    """The payer and the member's plan; ``plan`` names the payer policy (``medicare_part_b``...).

    ``start`` and ``end`` are the coverage's effective and termination dates, both days
    covered; None leaves that side open (the visit file did not say). A payer denies a service
    outside them (CARC 26, 27), so the scrubber checks the date of service against them.
    """

    payer_id: str
    payer_name: str
    member_id: str
    plan: str
    relationship: str = "self"
    group_number: str = ""
    subscriber: Subscriber | None = None
    sequence: str = "primary"
    start: date | None = None
    end: date | None = None

    def is_active_on(self, day: date) -> bool:
        """True when ``day`` falls within the coverage's dates (an open side admits any day)."""
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@dataclass(frozen=True, slots=True)
class PlanOfCare:
    """The certified plan of care (42 CFR 424.24(c); Pub 100-02 ch.15 §220.1)."""

    start: date
    end: date
    certified_on: date | None = None
    certifying_npi: str = ""
    discipline: Discipline | None = None


@dataclass(frozen=True, slots=True)
class Authorization:
    """A payer's prior authorization."""

    number: str
    start: date
    end: date
    visits_approved: int | None = None
    visits_used: int = 0
    units_approved: int | None = None
    units_used: int = 0


@dataclass(frozen=True, slots=True)
class Service:
    """One documented service: a code with the therapist's and the assistant's minutes.

    ``minutes`` are the therapist's (time together with the assistant counts as the
    therapist's); ``assistant_minutes`` are the assistant's own. ``units`` and ``modifiers``
    are what the documentation *claims* (optional); coding computes its own.
    """

    code: str
    minutes: int = 0
    assistant_minutes: int = 0
    mode: Mode = Mode.ONE_ON_ONE
    activity: str = ""
    goal: str = ""
    assistance: str = ""
    distinct: DistinctReason | None = None
    units: int | None = None
    modifiers: tuple[str, ...] = ()
    charge: Decimal | None = None

    @property
    def total_minutes(self) -> int:
        """Therapist plus assistant minutes."""
        return self.minutes + self.assistant_minutes


@dataclass(frozen=True, slots=True)
class TherapyToDate:
    """Allowed amounts already accrued this calendar year, by KX threshold group."""

    pt_slp: Decimal = Decimal("0")
    ot: Decimal = Decimal("0")

    def for_group(self, group: str) -> Decimal:
        """The amount for "pt_slp" or "ot"."""
        return self.ot if group == "ot" else self.pt_slp


@dataclass(frozen=True, slots=True)
class Visit:
    """A documented visit, as in the DESIGN.md visit file."""

    visit_id: str
    date_of_service: date
    billing_provider: BillingProvider
    patient: Patient
    coverage: Coverage
    rendering_provider: Provider
    services: tuple[Service, ...]
    diagnoses: tuple[str, ...] = ()
    place_of_service: str = "11"
    assistant: Provider | None = None
    supervising_provider: Provider | None = None
    plan_of_care: PlanOfCare | None = None
    authorization: Authorization | None = None
    visit_number_in_episode: int | None = None
    treatment_days_since_progress_report: int | None = None
    total_treatment_minutes: int | None = None
    therapy_to_date: TherapyToDate = field(default_factory=TherapyToDate)
    onset_date: date | None = None
    referring_npi: str = ""

    # Written out as the dataclass would generate it: compiled by mypyc this is native code,
    # about 20x faster than the generated one (tests/domain/test_inits.py keeps them the same);
    # a scrub builds every stored visit again (store.visits.load_visits).
    def __init__(self, visit_id: str, date_of_service: date, billing_provider: BillingProvider,
                 patient: Patient, coverage: Coverage, rendering_provider: Provider,
                 services: tuple[Service, ...], diagnoses: tuple[str, ...] = (),
                 place_of_service: str = "11", assistant: Provider | None = None,
                 supervising_provider: Provider | None = None,
                 plan_of_care: PlanOfCare | None = None,
                 authorization: Authorization | None = None,
                 visit_number_in_episode: int | None = None,
                 treatment_days_since_progress_report: int | None = None,
                 total_treatment_minutes: int | None = None,
                 therapy_to_date: TherapyToDate | None = None, onset_date: date | None = None,
                 referring_npi: str = "") -> None:
        object.__setattr__(self, "visit_id", visit_id)
        object.__setattr__(self, "date_of_service", date_of_service)
        object.__setattr__(self, "billing_provider", billing_provider)
        object.__setattr__(self, "patient", patient)
        object.__setattr__(self, "coverage", coverage)
        object.__setattr__(self, "rendering_provider", rendering_provider)
        object.__setattr__(self, "services", services)
        object.__setattr__(self, "diagnoses", diagnoses)
        object.__setattr__(self, "place_of_service", place_of_service)
        object.__setattr__(self, "assistant", assistant)
        object.__setattr__(self, "supervising_provider", supervising_provider)
        object.__setattr__(self, "plan_of_care", plan_of_care)
        object.__setattr__(self, "authorization", authorization)
        object.__setattr__(self, "visit_number_in_episode", visit_number_in_episode)
        days_since = treatment_days_since_progress_report
        object.__setattr__(self, "treatment_days_since_progress_report", days_since)
        object.__setattr__(self, "total_treatment_minutes", total_treatment_minutes)
        accrued = TherapyToDate() if therapy_to_date is None else therapy_to_date
        object.__setattr__(self, "therapy_to_date", accrued)
        object.__setattr__(self, "onset_date", onset_date)
        object.__setattr__(self, "referring_npi", referring_npi)

    @property
    def discipline(self) -> Discipline:
        """The discipline of the plan of care, else the rendering therapist's."""
        if self.plan_of_care is not None and self.plan_of_care.discipline is not None:
            return self.plan_of_care.discipline
        return self.rendering_provider.credential.discipline
