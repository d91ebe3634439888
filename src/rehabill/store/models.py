"""The tables: SQLAlchemy 2 declarative models, kept apart from the domain values.

``store.mapping`` turns domain values into rows and back; nothing outside ``store`` sees these
classes' SQL. Every table has an integer surrogate key ``id``; natural keys (NPI, the practice's
patient id, payer id + member id, visit id, payer + trace number) carry unique constraints, which
are what keep a repeated or concurrent import or posting from inserting twice.

Money columns are ``Money`` (``NUMERIC(12,2)``, ``Decimal`` in Python). Enumerations are short
strings holding the domain enum's value (``ClaimStatus``, ``Credential``...), so a new value
needs no migration on either database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from rehabill.store.types import Money

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Now, in UTC (the default of every timestamp column)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base with constraint names that are the same on SQLite and PostgreSQL."""

    metadata = MetaData(naming_convention=NAMING)


def _created() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), default=utcnow)


class PracticeRow(Base):
    """A practice or group that bills (837P loop 2010AA billing provider)."""

    __tablename__ = "practices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    npi: Mapped[str] = mapped_column(String(10), unique=True)
    tax_id: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    taxonomy: Mapped[str] = mapped_column(String(20), default="")
    address_line1: Mapped[str] = mapped_column(String(200))
    address_line2: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(2))
    zip: Mapped[str] = mapped_column(String(10))
    submitter_id: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = _created()


class ProviderRow(Base):
    """A clinician; ``supervisor_id`` names the therapist who supervises an assistant."""

    __tablename__ = "providers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    npi: Mapped[str] = mapped_column(String(10), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    credential: Mapped[str] = mapped_column(String(8))
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"))
    created_at: Mapped[datetime] = _created()


class PatientRow(Base):
    """A patient; ``external_id`` is the practice's own patient id (the visit file's patient.id)."""

    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("practice_id", "external_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    external_id: Mapped[str] = mapped_column(String(80))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    address_line1: Mapped[str | None] = mapped_column(String(200))
    address_line2: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(2))
    zip: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = _created()


class PayerRow(Base):
    """A payer, by its electronic payer id; ``policy`` names its payer policy file."""

    __tablename__ = "payers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payer_key: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    policy: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = _created()


class CoverageRow(Base):
    """A patient's coverage by a payer (primary, secondary...), by payer + member id."""

    __tablename__ = "coverages"
    __table_args__ = (UniqueConstraint("payer_id", "member_id", "patient_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    payer_id: Mapped[int] = mapped_column(ForeignKey("payers.id"))
    member_id: Mapped[str] = mapped_column(String(80))
    plan: Mapped[str] = mapped_column(String(80), default="")
    relationship: Mapped[str] = mapped_column(String(20), default="self")
    group_number: Mapped[str] = mapped_column(String(80), default="")
    sequence: Mapped[str] = mapped_column(String(20), default="primary")
    subscriber: Mapped[dict[str, object] | None] = mapped_column(JSON)
    start_date: Mapped[date | None] = mapped_column(Date)  # effective; NULL: open
    end_date: Mapped[date | None] = mapped_column(Date)  # terminated after; NULL: open
    created_at: Mapped[datetime] = _created()


class PlanOfCareRow(Base):
    """A certified plan of care; ``discipline`` is "" when the visit did not say."""

    __tablename__ = "plans_of_care"
    __table_args__ = (UniqueConstraint("patient_id", "start_date", "discipline"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    certified_on: Mapped[date | None] = mapped_column(Date)
    certifying_npi: Mapped[str] = mapped_column(String(10), default="")
    discipline: Mapped[str] = mapped_column(String(8), default="")


class AuthorizationRow(Base):
    """A payer's prior authorization for a patient."""

    __tablename__ = "authorizations"
    __table_args__ = (UniqueConstraint("patient_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    number: Mapped[str] = mapped_column(String(80))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    visits_approved: Mapped[int | None] = mapped_column(Integer)
    visits_used: Mapped[int] = mapped_column(Integer, default=0)
    units_approved: Mapped[int | None] = mapped_column(Integer)
    units_used: Mapped[int] = mapped_column(Integer, default=0)


class FileRow(Base):
    """A file read or written: imports, outbox batches, acknowledgments, remittances.

    ``sha256`` with ``direction`` is unique, which makes re-reading the same file a no-op.
    """

    __tablename__ = "files"
    __table_args__ = (UniqueConstraint("direction", "sha256"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))  # "in" or "out"
    kind: Mapped[str] = mapped_column(String(20))  # visits-json, visits-csv, fhir, 837P, 835...
    path: Mapped[str] = mapped_column(String(1000))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    interchange_control_number: Mapped[str] = mapped_column(String(9), default="")
    created_at: Mapped[datetime] = _created()


class VisitRow(Base):
    """A documented visit (the DESIGN.md visit contract), by its visit id."""

    __tablename__ = "visits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visit_key: Mapped[str] = mapped_column(String(80), unique=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    coverage_id: Mapped[int] = mapped_column(ForeignKey("coverages.id"))
    rendering_provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    assistant_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"))
    supervising_provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"))
    plan_of_care_id: Mapped[int | None] = mapped_column(ForeignKey("plans_of_care.id"))
    authorization_id: Mapped[int | None] = mapped_column(ForeignKey("authorizations.id"))
    date_of_service: Mapped[date] = mapped_column(Date, index=True)
    place_of_service: Mapped[str] = mapped_column(String(2), default="11")
    diagnoses: Mapped[str] = mapped_column(String(200), default="")  # "I69.351 R26.89"
    visit_number_in_episode: Mapped[int | None] = mapped_column(Integer)
    treatment_days_since_progress_report: Mapped[int | None] = mapped_column(Integer)
    total_treatment_minutes: Mapped[int | None] = mapped_column(Integer)
    therapy_to_date_pt_slp: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    therapy_to_date_ot: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    onset_date: Mapped[date | None] = mapped_column(Date)
    referring_npi: Mapped[str] = mapped_column(String(10), default="")
    # A web draft is stored but not yet documentation to bill: nothing codes it into a claim.
    is_draft: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    import_file_id: Mapped[int | None] = mapped_column(ForeignKey("files.id"))
    created_at: Mapped[datetime] = _created()


class ServiceRow(Base):
    """One documented service of a visit; ``position`` is its index in the visit."""

    __tablename__ = "services"
    __table_args__ = (UniqueConstraint("visit_id", "position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"))
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(5))
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    assistant_minutes: Mapped[int] = mapped_column(Integer, default=0)
    mode: Mapped[str] = mapped_column(String(20), default="one_on_one")
    activity: Mapped[str] = mapped_column(Text, default="")
    goal: Mapped[str] = mapped_column(Text, default="")
    assistance: Mapped[str] = mapped_column(Text, default="")
    distinct: Mapped[str | None] = mapped_column(String(30))
    units: Mapped[int | None] = mapped_column(Integer)
    modifiers: Mapped[str] = mapped_column(String(20), default="")  # "GP 59"
    charge: Mapped[Decimal | None] = mapped_column(Money())


class SubmitterCounterRow(Base):
    """Persistent X12 control numbers per submitter (ISA13, GS06, ST02 are never reused)."""

    __tablename__ = "submitter_counters"
    submitter_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    interchange: Mapped[int] = mapped_column(Integer, default=0)
    group_number: Mapped[int] = mapped_column(Integer, default=0)
    transaction_set: Mapped[int] = mapped_column(Integer, default=0)


class BatchRow(Base):
    """A batch of claims sent together (one 837P interchange, or one CMS-1500 print run)."""

    __tablename__ = "batches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # "837P" or "CMS-1500"
    submitter_id: Mapped[str] = mapped_column(String(80), default="")
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("payers.id"))
    interchange_control_number: Mapped[str] = mapped_column(String(9), default="")
    group_control_number: Mapped[str] = mapped_column(String(9), default="")
    status: Mapped[str] = mapped_column(String(20), default="created")
    claim_count: Mapped[int] = mapped_column(Integer, default=0)
    total_charge: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    created_at: Mapped[datetime] = _created()


class ClaimRow(Base):
    """A claim for a visit. A corrected (7) or void (8) claim is a new row with ``sequence`` + 1.

    ``status`` is the current ``ClaimStatus``; ``claim_status_history`` keeps every change.
    ``coverage_id`` is the coverage billed when it is not the visit's (a secondary claim), and
    ``prior_claim_id`` the earlier payer's claim whose adjudication a secondary claim carries.
    """

    __tablename__ = "claims"
    __table_args__ = (UniqueConstraint("visit_id", "sequence"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_key: Mapped[str] = mapped_column(String(80), index=True)  # CLM01
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"))
    sequence: Mapped[int] = mapped_column(Integer, default=1)
    payer_id: Mapped[int] = mapped_column(ForeignKey("payers.id"))
    frequency: Mapped[str] = mapped_column(String(1), default="1")
    original_reference: Mapped[str] = mapped_column(String(80), default="")
    status: Mapped[str] = mapped_column(String(20), index=True)
    unit_method: Mapped[str] = mapped_column(String(20), default="")
    total_charge: Mapped[Decimal] = mapped_column(Money())
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"), index=True)
    payer_claim_number: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _created()
    coverage_id: Mapped[int | None] = mapped_column(ForeignKey("coverages.id"))
    prior_claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"))


class ClaimLineRow(Base):
    """A service line of a claim (837P loop 2400)."""

    __tablename__ = "claim_lines"
    __table_args__ = (UniqueConstraint("claim_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"))
    number: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(5))
    modifiers: Mapped[str] = mapped_column(String(20), default="")  # "GP CQ KX"
    units: Mapped[int] = mapped_column(Integer)
    charge: Mapped[Decimal] = mapped_column(Money())
    date_of_service: Mapped[date] = mapped_column(Date)
    diagnosis_pointers: Mapped[str] = mapped_column(String(20), default="1")  # "1 2"
    control_number: Mapped[str] = mapped_column(String(80), default="", index=True)  # REF*6R
    therapist_minutes: Mapped[int] = mapped_column(Integer, default=0)
    assistant_minutes: Mapped[int] = mapped_column(Integer, default=0)
    service_index: Mapped[int] = mapped_column(Integer, default=0)


class ClaimStatusRow(Base):
    """One status change of a claim: from what to what, when, by whom, why."""

    __tablename__ = "claim_status_history"
    # by claim and status: the facts' reading of every claim's history needs no table lookup
    __table_args__ = (Index("ix_claim_status_history_claim_id_status", "claim_id", "status"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"))
    from_status: Mapped[str] = mapped_column(String(20), default="")
    status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = _created()
    actor: Mapped[str] = mapped_column(String(80), default="")
    note: Mapped[str] = mapped_column(Text, default="")


class FindingRow(Base):
    """A finding about a claim (coding, scrubbing, acknowledgment) or an imported file."""

    __tablename__ = "findings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), index=True)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("files.id"))
    stage: Mapped[str] = mapped_column(String(20))  # import, coding, scrub, ack, remit
    code: Mapped[str] = mapped_column(String(80))
    severity: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text)
    location: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    fix: Mapped[str] = mapped_column(Text, default="")
    auto_fix: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = _created()


class BatchClaimRow(Base):
    """Which claims went in which batch, with the transaction's ST02 control number."""

    __tablename__ = "batch_claims"
    __table_args__ = (UniqueConstraint("batch_id", "claim_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    transaction_control_number: Mapped[str] = mapped_column(String(9), default="")


class AcknowledgmentRow(Base):
    """A 999 (per transaction set) or 277CA (per claim) answer to a batch."""

    __tablename__ = "acknowledgments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id"))
    kind: Mapped[str] = mapped_column(String(6))  # "999" or "277CA"
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), index=True)
    control_number: Mapped[str] = mapped_column(String(80), default="")
    status_code: Mapped[str] = mapped_column(String(10))  # A, E, R, P / A1, A3...
    accepted: Mapped[bool] = mapped_column(Boolean)
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = _created()


class RemittanceRow(Base):
    """One 835 transaction: a payment (or no-payment notice) with its trace number (TRN02).

    Unique by payer (TRN03 originator) + trace number: the guard that keeps an ERA from being
    posted twice, even by two processes at once. ``payer_id`` links our payer when it is known.
    """

    __tablename__ = "remittances"
    __table_args__ = (UniqueConstraint("originator", "trace_number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    originator: Mapped[str] = mapped_column(String(80))  # TRN03: the payer, as the 835 names it
    trace_number: Mapped[str] = mapped_column(String(80))  # TRN02: check or EFT trace number
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("payers.id"))
    file_id: Mapped[int | None] = mapped_column(ForeignKey("files.id"))
    payment_amount: Mapped[Decimal] = mapped_column(Money())
    payment_method: Mapped[str] = mapped_column(String(3), default="")
    payment_date: Mapped[date | None] = mapped_column(Date)
    payee_npi: Mapped[str] = mapped_column(String(10), default="")
    created_at: Mapped[datetime] = _created()


class LedgerEntryRow(Base):
    """One posting: charge, payment, adjustment, patient responsibility, reversal, or PLB.

    Entries are never changed; a correction is a ``reversal`` entry. The remittance (whose
    row names its file), ``trace_number`` and ``segment_number`` say where in which 835 the
    amount came from.
    """

    __tablename__ = "ledger_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), index=True)
    claim_line_id: Mapped[int | None] = mapped_column(ForeignKey("claim_lines.id"))
    remittance_id: Mapped[int | None] = mapped_column(ForeignKey("remittances.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    group_code: Mapped[str] = mapped_column(String(2), default="")
    carc: Mapped[str] = mapped_column(String(5), default="")
    rarc: Mapped[str] = mapped_column(String(60), default="")  # space separated
    detail: Mapped[str] = mapped_column(String(80), default="")
    amount: Mapped[Decimal] = mapped_column(Money())
    trace_number: Mapped[str] = mapped_column(String(80), default="")
    segment_number: Mapped[int | None] = mapped_column(Integer)
    posted_at: Mapped[datetime] = _created()


class SuspenseItemRow(Base):
    """Money or an 835 claim that could not be matched to a stored claim; waits for a person."""

    __tablename__ = "suspense_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    remittance_id: Mapped[int | None] = mapped_column(ForeignKey("remittances.id"))
    file_id: Mapped[int | None] = mapped_column(ForeignKey("files.id"))
    claim_key: Mapped[str] = mapped_column(String(80), default="")
    amount: Mapped[Decimal] = mapped_column(Money())
    reason: Mapped[str] = mapped_column(Text)
    trace_number: Mapped[str] = mapped_column(String(80), default="")
    segment_number: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = _created()
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WorklistItemRow(Base):
    """A claim that needs a person: a denial or rejection, why, and what to do next."""

    __tablename__ = "worklist_items"
    __table_args__ = (Index("ix_worklist_items_status_assignee", "status", "assignee"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    carc: Mapped[str] = mapped_column(String(5), default="")
    rarc: Mapped[str] = mapped_column(String(60), default="")  # space separated
    reason: Mapped[str] = mapped_column(Text)
    next_action: Mapped[str] = mapped_column(Text, default="")
    assignee: Mapped[str] = mapped_column(String(80), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, in_progress, done
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _created()


class UserRow(Base):
    """A person who signs in to the web app: therapist, biller or admin (argon2 hash only)."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # therapist, biller, admin
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = _created()


class AuditEventRow(Base):
    """Who did what to which record, when."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = _created()
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(80))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(80))
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
