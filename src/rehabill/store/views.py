"""Read queries for the web pages: claims with their people and money, the worklist,
remittances and suspense, the practice's set-up, and web-entered visits.

Each query returns small frozen values (never ORM rows) so templates cannot lazy-load, and
each list is bounded by ``limit``. Store functions never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from rehabill.domain.money import ZERO
from rehabill.errors import ConflictError
from rehabill.store.bulk import chunked, ids_in
from rehabill.store.models import (
    AcknowledgmentRow,
    AuditEventRow,
    AuthorizationRow,
    BatchClaimRow,
    ClaimLineRow,
    ClaimRow,
    ClaimStatusRow,
    CoverageRow,
    FileRow,
    FindingRow,
    LedgerEntryRow,
    PatientRow,
    PayerRow,
    PlanOfCareRow,
    PracticeRow,
    ProviderRow,
    RemittanceRow,
    ServiceRow,
    SuspenseItemRow,
    UserRow,
    VisitRow,
    WorklistItemRow,
)
from rehabill.store.types import to_money

DEFAULT_LIMIT = 200


@dataclass(frozen=True, slots=True)
class ClaimSummary:
    """A claim as a list shows it."""

    id: int
    claim_key: str
    visit_key: str
    patient_name: str
    payer_key: str
    payer_name: str
    date_of_service: date
    status: str
    frequency: str
    charge: Decimal
    paid: Decimal
    rendering_name: str


@dataclass(frozen=True, slots=True)
class LineView:
    """A service line of a claim."""

    number: int
    code: str
    modifiers: str
    units: int
    charge: Decimal
    minutes: int
    assistant_minutes: int


@dataclass(frozen=True, slots=True)
class FindingView:
    """A stored finding."""

    stage: str
    code: str
    severity: str
    message: str
    fix: str


@dataclass(frozen=True, slots=True)
class HistoryView:
    """One status change."""

    at: datetime
    from_status: str
    status: str
    actor: str
    note: str


@dataclass(frozen=True, slots=True)
class LedgerView:
    """One ledger entry."""

    posted_at: datetime
    kind: str
    group_code: str
    carc: str
    rarc: str
    amount: Decimal
    trace_number: str


@dataclass(frozen=True, slots=True)
class WorkItemView:
    """A worklist item with its claim."""

    id: int
    claim_id: int
    claim_key: str
    patient_name: str
    payer_name: str
    date_of_service: date
    claim_status: str
    charge: Decimal
    carc: str
    rarc: str
    reason: str
    next_action: str
    assignee: str
    notes: str
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ClaimDetail:
    """Everything the claim page shows."""

    claim: ClaimSummary
    payer_claim_number: str
    original_reference: str
    unit_method: str
    lines: tuple[LineView, ...]
    findings: tuple[FindingView, ...]
    history: tuple[HistoryView, ...]
    ledger: tuple[LedgerView, ...]
    work: tuple[WorkItemView, ...]


@dataclass(frozen=True, slots=True)
class RemittanceView:
    """A posted 835 payment."""

    id: int
    originator: str
    trace_number: str
    payer_name: str
    amount: Decimal
    method: str
    payment_date: date | None
    claims: int
    posted: Decimal
    file_name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SuspenseView:
    """Money or an 835 claim that matched nothing."""

    id: int
    claim_key: str
    amount: Decimal
    reason: str
    trace_number: str
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class FileView:
    """A file read or written."""

    id: int
    direction: str
    kind: str
    name: str
    size: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PayerView:
    """A payer and its policy."""

    id: int
    payer_key: str
    name: str
    policy: str
    claims: int


@dataclass(frozen=True, slots=True)
class ProviderView:
    """A clinician."""

    id: int
    npi: str
    name: str
    credential: str


@dataclass(frozen=True, slots=True)
class UserView:
    """A user (never the hash)."""

    username: str
    role: str
    provider_npi: str
    active: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class EpisodeAlert:
    """A patient's plan of care or authorization that needs attention soon."""

    kind: str  # "plan_of_care" or "authorization"
    patient_name: str
    detail: str
    ends: date
    severity: str  # "error" when already past, "warning" when close


def _name(last: str, first: str) -> str:
    return f"{last}, {first}"


def _claim_query() -> Any:
    paid = (select(LedgerEntryRow.claim_id, func.sum(LedgerEntryRow.amount).label("paid"))
            .where(LedgerEntryRow.kind == "payment").group_by(LedgerEntryRow.claim_id)
            .subquery())
    return (select(ClaimRow.id, ClaimRow.claim_key, VisitRow.visit_key, PatientRow.last_name,
                   PatientRow.first_name, PayerRow.payer_key, PayerRow.name.label("payer_name"),
                   VisitRow.date_of_service, ClaimRow.status, ClaimRow.frequency,
                   ClaimRow.total_charge, paid.c.paid, ProviderRow.last_name.label("pl"),
                   ProviderRow.first_name.label("pf"))
            .join(VisitRow, VisitRow.id == ClaimRow.visit_id)
            .join(PatientRow, PatientRow.id == VisitRow.patient_id)
            .join(PayerRow, PayerRow.id == ClaimRow.payer_id)
            .join(ProviderRow, ProviderRow.id == VisitRow.rendering_provider_id)
            .outerjoin(paid, paid.c.claim_id == ClaimRow.id))


def _summary(row: Any) -> ClaimSummary:
    paid = to_money(row.paid) if row.paid is not None else ZERO
    return ClaimSummary(row.id, row.claim_key, row.visit_key,
                        _name(row.last_name, row.first_name), row.payer_key,
                        row.payer_name or row.payer_key, row.date_of_service, row.status,
                        row.frequency, to_money(row.total_charge), abs(paid),
                        f"{row.pf} {row.pl}")


def list_claims(session: Session, *, status: str = "", payer: str = "",
                date_from: date | None = None, date_to: date | None = None,
                limit: int = DEFAULT_LIMIT) -> list[ClaimSummary]:
    """Claims, newest service date first, filtered by status, payer key and service dates."""
    query = _claim_query()
    if status:
        query = query.where(ClaimRow.status == status)
    if payer:
        query = query.where(PayerRow.payer_key == payer)
    if date_from is not None:
        query = query.where(VisitRow.date_of_service >= date_from)
    if date_to is not None:
        query = query.where(VisitRow.date_of_service <= date_to)
    query = query.order_by(VisitRow.date_of_service.desc(), ClaimRow.id.desc()).limit(limit)
    return [_summary(r) for r in session.execute(query)]


def claims_by_id(session: Session, claim_ids: Sequence[int]) -> list[ClaimSummary]:
    """These claims (missing ids left out), by id."""
    out: list[ClaimSummary] = []
    for part in chunked(claim_ids):
        out.extend(_summary(r) for r in session.execute(
            _claim_query().where(ids_in(ClaimRow.id, part))))
    return sorted(out, key=lambda c: c.id)


def visit_keys_of_claims(session: Session, *, status: str = "",
                         claim_ids: Sequence[int] = ()) -> list[str]:
    """Visit ids of the claims in ``status`` (or of these claims), so a scrub can name them."""
    query = select(VisitRow.visit_key).join(ClaimRow, ClaimRow.visit_id == VisitRow.id)
    if status:
        query = query.where(ClaimRow.status == status)
    if claim_ids:
        query = query.where(ids_in(ClaimRow.id, list(claim_ids)))
    return sorted(set(session.scalars(query)))


def books_version(session: Session) -> tuple[Any, ...]:
    """A value that changes whenever claims, statuses, postings or visits change.

    Every such change inserts a row (statuses and ledger entries are append-only), so the
    highest ids and the worklist's last update are enough; each is an index lookup.
    """
    return tuple(session.execute(select(
        select(func.max(ClaimRow.id)).scalar_subquery(),
        select(func.max(ClaimStatusRow.id)).scalar_subquery(),
        select(func.max(LedgerEntryRow.id)).scalar_subquery(),
        select(func.max(VisitRow.id)).scalar_subquery(),
        select(func.max(WorklistItemRow.updated_at)).scalar_subquery(),
        select(func.count(AuthorizationRow.id)).scalar_subquery())).one())


def claim_status_counts(session: Session) -> dict[str, int]:
    """How many claims are in each status."""
    query = select(ClaimRow.status, func.count()).group_by(ClaimRow.status)
    return {status: count for status, count in session.execute(query)}


def claim_detail(session: Session, claim_id: int) -> ClaimDetail | None:
    """The claim with lines, findings, history, ledger entries and worklist items, or None."""
    row = session.execute(_claim_query().where(ClaimRow.id == claim_id)).first()
    if row is None:
        return None
    claim = session.get(ClaimRow, claim_id)
    if claim is None:  # pragma: no cover - the join found it
        return None
    lines = tuple(LineView(r.number, r.code, r.modifiers, r.units, to_money(r.charge),
                           r.therapist_minutes, r.assistant_minutes)
                  for r in session.scalars(select(ClaimLineRow)
                                           .where(ClaimLineRow.claim_id == claim_id)
                                           .order_by(ClaimLineRow.number)))
    findings = tuple(FindingView(r.stage, r.code, r.severity, r.message, r.fix)
                     for r in session.scalars(select(FindingRow)
                                              .where(FindingRow.claim_id == claim_id)
                                              .order_by(FindingRow.id)))
    history = tuple(HistoryView(r.at, r.from_status, r.status, r.actor, r.note)
                    for r in session.scalars(select(ClaimStatusRow)
                                             .where(ClaimStatusRow.claim_id == claim_id)
                                             .order_by(ClaimStatusRow.id)))
    ledger = tuple(LedgerView(r.posted_at, r.kind, r.group_code, r.carc, r.rarc,
                              to_money(r.amount), r.trace_number)
                   for r in session.scalars(select(LedgerEntryRow)
                                            .where(LedgerEntryRow.claim_id == claim_id)
                                            .order_by(LedgerEntryRow.id)))
    work = tuple(worklist(session, claim_id=claim_id, status=""))
    return ClaimDetail(_summary(row), claim.payer_claim_number, claim.original_reference,
                       claim.unit_method, lines, findings, history, ledger, work)


def worklist(session: Session, *, status: str = "open", assignee: str = "",
             claim_id: int | None = None, item_ids: Sequence[int] = (),
             limit: int = DEFAULT_LIMIT) -> list[WorkItemView]:
    """Worklist items with their claims; ``status`` "open" means not done, "" means any."""
    query = (select(WorklistItemRow, ClaimRow.claim_key, ClaimRow.status.label("claim_status"),
                    ClaimRow.total_charge, PatientRow.last_name, PatientRow.first_name,
                    PayerRow.name.label("payer_name"), PayerRow.payer_key,
                    VisitRow.date_of_service)
             .join(ClaimRow, ClaimRow.id == WorklistItemRow.claim_id)
             .join(VisitRow, VisitRow.id == ClaimRow.visit_id)
             .join(PatientRow, PatientRow.id == VisitRow.patient_id)
             .join(PayerRow, PayerRow.id == ClaimRow.payer_id))
    if status == "open":
        query = query.where(WorklistItemRow.status != "done")
    elif status:
        query = query.where(WorklistItemRow.status == status)
    if assignee:
        query = query.where(WorklistItemRow.assignee == assignee)
    if claim_id is not None:
        query = query.where(WorklistItemRow.claim_id == claim_id)
    if item_ids:
        query = query.where(ids_in(WorklistItemRow.id, list(item_ids)))
    query = query.order_by(WorklistItemRow.created_at, WorklistItemRow.id).limit(limit)
    out = []
    for item, key, claim_status, charge, last, first, payer_name, payer_key, dos in \
            session.execute(query):
        out.append(WorkItemView(item.id, item.claim_id, key, _name(last, first),
                                payer_name or payer_key, dos, claim_status, to_money(charge),
                                item.carc, item.rarc, item.reason, item.next_action,
                                item.assignee, item.notes, item.status, item.created_at))
    return out


def worklist_claim_ids(session: Session, item_ids: Sequence[int]) -> dict[int, int]:
    """``{worklist item id: claim id}`` for these items."""
    query = select(WorklistItemRow.id, WorklistItemRow.claim_id).where(
        ids_in(WorklistItemRow.id, list(item_ids)))
    return {item: claim for item, claim in session.execute(query)}


def remittances(session: Session, limit: int = 100) -> list[RemittanceView]:
    """Posted 835 payments, newest first, with how many claims and how much each posted."""
    posted = (select(LedgerEntryRow.remittance_id,
                     func.count(func.distinct(LedgerEntryRow.claim_id)).label("claims"),
                     func.sum(LedgerEntryRow.amount).label("posted"))
              .where(LedgerEntryRow.kind == "payment")
              .group_by(LedgerEntryRow.remittance_id).subquery())
    query = (select(RemittanceRow, PayerRow.name, posted.c.claims, posted.c.posted, FileRow.path)
             .outerjoin(PayerRow, PayerRow.id == RemittanceRow.payer_id)
             .outerjoin(posted, posted.c.remittance_id == RemittanceRow.id)
             .outerjoin(FileRow, FileRow.id == RemittanceRow.file_id)
             .order_by(RemittanceRow.id.desc()).limit(limit))
    return [RemittanceView(r.id, r.originator, r.trace_number, name or r.originator,
                           to_money(r.payment_amount), r.payment_method, r.payment_date,
                           claims or 0, abs(to_money(amount)) if amount is not None else ZERO,
                           _file_name(path), r.created_at)
            for r, name, claims, amount, path in session.execute(query)]


def _file_name(path: str | None) -> str:
    return (path or "").replace("\\", "/").rsplit("/", 1)[-1]


def suspense(session: Session, *, status: str = "open", limit: int = 100) -> list[SuspenseView]:
    """Suspense items (open ones by default), newest first."""
    query = select(SuspenseItemRow)
    if status:
        query = query.where(SuspenseItemRow.status == status)
    query = query.order_by(SuspenseItemRow.id.desc()).limit(limit)
    return [SuspenseView(r.id, r.claim_key, to_money(r.amount), r.reason, r.trace_number,
                         r.status, r.created_at) for r in session.scalars(query)]


def files(session: Session, *, direction: str = "in", kinds: Sequence[str] = (),
          limit: int = 50) -> list[FileView]:
    """Files read (``in``) or written (``out``), newest first."""
    query = select(FileRow).where(FileRow.direction == direction)
    if kinds:
        query = query.where(FileRow.kind.in_(list(kinds)))
    query = query.order_by(FileRow.id.desc()).limit(limit)
    return [FileView(r.id, r.direction, r.kind, _file_name(r.path), r.size, r.created_at)
            for r in session.scalars(query)]


def file_path(session: Session, file_id: int, direction: str = "out") -> tuple[str, str] | None:
    """(path, kind) of a stored file, or None."""
    row = session.get(FileRow, file_id)
    if row is None or row.direction != direction:
        return None
    return row.path, row.kind


def batch_files(session: Session, batch_ids: Sequence[int]) -> list[FileView]:
    """The outbox files written for these batches."""
    if not batch_ids:
        return []
    query = select(FileRow).where(ids_in(FileRow.batch_id, list(batch_ids))).order_by(FileRow.id)
    return [FileView(r.id, r.direction, r.kind, _file_name(r.path), r.size, r.created_at)
            for r in session.scalars(query)]


def files_for_claims(session: Session, claim_ids: Sequence[int]) -> list[FileView]:
    """The outbox files of the batches these claims are in, newest first."""
    batch_ids = {b for b in session.scalars(select(ClaimRow.batch_id).where(
        ids_in(ClaimRow.id, list(claim_ids)))) if b is not None}
    return sorted(batch_files(session, sorted(batch_ids)), key=lambda f: -f.id)


def payers(session: Session) -> list[PayerView]:
    """Payers with their policy and how many claims they have."""
    counts = (select(ClaimRow.payer_id, func.count().label("n"))
              .group_by(ClaimRow.payer_id).subquery())
    query = (select(PayerRow, counts.c.n).outerjoin(counts, counts.c.payer_id == PayerRow.id)
             .order_by(PayerRow.name, PayerRow.payer_key))
    return [PayerView(r.id, r.payer_key, r.name, r.policy, n or 0)
            for r, n in session.execute(query)]


def payer_policies(session: Session) -> dict[str, str]:
    """The payer policy chosen for each payer that has one, by payer id (``payers.policy``)."""
    query = select(PayerRow.payer_key, PayerRow.policy).where(PayerRow.policy != "")
    return {key: policy for key, policy in session.execute(query)}


def set_payer_policy(session: Session, payer_id: int, policy: str) -> bool:
    """Name the payer policy a payer is scrubbed under; False when there is no such payer."""
    row = session.get(PayerRow, payer_id)
    if row is None:
        return False
    row.policy = policy
    session.flush()
    return True


def providers(session: Session) -> list[ProviderView]:
    """Clinicians by name."""
    query = select(ProviderRow).order_by(ProviderRow.last_name, ProviderRow.first_name)
    return [ProviderView(r.id, r.npi, f"{r.first_name} {r.last_name}", r.credential)
            for r in session.scalars(query)]


def practices(session: Session) -> list[PracticeRow]:
    """Billing practices (rows are detached-safe: the session does not expire on commit)."""
    return list(session.scalars(select(PracticeRow).order_by(PracticeRow.name)))


def users(session: Session) -> list[UserView]:
    """Every user, by username, with the clinician's NPI."""
    query = (select(UserRow, ProviderRow.npi).outerjoin(ProviderRow,
                                                        ProviderRow.id == UserRow.provider_id)
             .order_by(UserRow.username))
    return [UserView(u.username, u.role, npi or "", u.active, u.created_at)
            for u, npi in session.execute(query)]


def provider_id_by_npi(session: Session, npi: str) -> int | None:
    """The row id of the clinician with this NPI, or None."""
    return session.scalars(select(ProviderRow.id).where(ProviderRow.npi == npi)).first()


def provider_label(session: Session, provider_id: int | None) -> tuple[str, str]:
    """(NPI, "First Last") of a clinician row; ("", "") for None."""
    if provider_id is None:
        return "", ""
    row = session.get(ProviderRow, provider_id)
    return (row.npi, f"{row.first_name} {row.last_name}") if row else ("", "")


def provider_npi(session: Session, provider_id: int | None) -> str:
    """The NPI of a clinician row ("" for None)."""
    if provider_id is None:
        return ""
    return session.scalars(select(ProviderRow.npi).where(ProviderRow.id == provider_id)
                           ).first() or ""


def episode_alerts(session: Session, today: date, *, within_days: int = 14,
                   limit: int = 50) -> list[EpisodeAlert]:
    """Plans of care ending and authorizations ending or running out of visits.

    A plan of care must be recertified before it ends (Medicare Benefit Policy Manual ch. 15
    §220.1.3); an authorization's visits or dates running out stops payment for later visits.
    """
    alerts: list[EpisodeAlert] = []
    soon = date.fromordinal(today.toordinal() + within_days)
    for poc, last, first in session.execute(
            select(PlanOfCareRow, PatientRow.last_name, PatientRow.first_name)
            .join(PatientRow, PatientRow.id == PlanOfCareRow.patient_id)
            .where(PlanOfCareRow.end_date <= soon,
                   PlanOfCareRow.end_date >= date.fromordinal(today.toordinal() - within_days))
            .order_by(PlanOfCareRow.end_date).limit(limit)):
        alerts.append(EpisodeAlert("plan_of_care", _name(last, first),
                                   "plan of care ends; recertify before the next visit",
                                   poc.end_date, "error" if poc.end_date < today else "warning"))
    for auth, last, first in session.execute(
            select(AuthorizationRow, PatientRow.last_name, PatientRow.first_name)
            .join(PatientRow, PatientRow.id == AuthorizationRow.patient_id)
            .where(AuthorizationRow.end_date >= date.fromordinal(today.toordinal()
                                                                 - within_days))
            .order_by(AuthorizationRow.end_date).limit(limit * 4)):
        left = (auth.visits_approved - auth.visits_used) if auth.visits_approved else None
        if auth.end_date <= soon or (left is not None and left <= 2):
            what = f"authorization {auth.number}: " + (
                f"{left} visit(s) left" if left is not None else "no visit count")
            alerts.append(EpisodeAlert("authorization", _name(last, first),
                                       f"{what}; ask the payer for more before they run out",
                                       auth.end_date,
                                       "error" if auth.end_date < today or left == 0
                                       else "warning"))
    return sorted(alerts, key=lambda a: (a.severity != "error", a.ends))[:limit]


# --- web-entered visits -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VisitStub:
    """A stored visit's keys for the visit list: row id, visit id, claim (if coded)."""

    row_id: int
    visit_key: str
    rendering_npi: str
    claim_status: str | None
    created_at: datetime


def visit_stubs(session: Session, *, rendering_npi: str | None = None,
                visit_keys: Sequence[str] = (), limit: int = 50) -> list[VisitStub]:
    """Stored visits, newest first (only one clinician's when ``rendering_npi`` is given)."""
    query = (select(VisitRow.id, VisitRow.visit_key, ProviderRow.npi, ClaimRow.status,
                    VisitRow.created_at)
             .join(ProviderRow, ProviderRow.id == VisitRow.rendering_provider_id)
             .outerjoin(ClaimRow, (ClaimRow.visit_id == VisitRow.id) & (ClaimRow.sequence == 1)))
    if rendering_npi is not None:
        query = query.where(ProviderRow.npi == rendering_npi)
    if visit_keys:
        query = query.where(VisitRow.visit_key.in_(list(visit_keys)))
    query = query.order_by(VisitRow.id.desc()).limit(limit)
    return [VisitStub(*row) for row in session.execute(query)]


def visit_authors(session: Session, visit_keys: Sequence[str]) -> dict[str, str]:
    """Who first saved each visit (the actor of its first audit event through the web)."""
    out: dict[str, str] = {}
    for part in chunked(visit_keys):
        query = (select(AuditEventRow.entity_id, AuditEventRow.actor)
                 .where(AuditEventRow.entity == "visit",
                        AuditEventRow.action.in_(("create", "save")),
                        AuditEventRow.entity_id.in_(part))
                 .order_by(AuditEventRow.id.desc()))
        out.update({key: actor for key, actor in session.execute(query)})
    return out


def delete_unclaimed_visit(session: Session, visit_key: str) -> bool:
    """Remove a stored visit that has no claim (a draft being replaced); False otherwise."""
    row_id = session.scalars(select(VisitRow.id).where(VisitRow.visit_key == visit_key)).first()
    if row_id is None:
        return False
    if session.scalars(select(ClaimRow.id).where(ClaimRow.visit_id == row_id)).first():
        return False
    session.execute(delete(ServiceRow).where(ServiceRow.visit_id == row_id))
    session.execute(delete(VisitRow).where(VisitRow.id == row_id))
    return True


def coverage_keys(session: Session, visit_row_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """``{visit row id: (patient external id, payer key + member id)}``."""
    query = (select(VisitRow.id, PatientRow.external_id, PayerRow.payer_key,
                    CoverageRow.member_id)
             .join(PatientRow, PatientRow.id == VisitRow.patient_id)
             .join(CoverageRow, CoverageRow.id == VisitRow.coverage_id)
             .join(PayerRow, PayerRow.id == CoverageRow.payer_id)
             .where(ids_in(VisitRow.id, list(visit_row_ids))))
    return {vid: (pid, f"{payer}:{member}") for vid, pid, payer, member in session.execute(query)}


def reopen_held_claim(session: Session, claim_id: int) -> str | None:
    """Delete a held claim (its lines, findings and status history) and return its visit key,
    so the visit can be corrected and coded again; None when there is no such claim.

    Only a claim that never left the practice may go: ``held`` status, no batch, nothing
    recorded against it by a payer (acknowledgments, ledger entries, worklist items), and no
    other claim for its visit (a held corrected claim is fixed by resubmitting), else
    ``ConflictError``. The caller turns the visit back into a draft.
    """
    row = session.get(ClaimRow, claim_id)
    if row is None:
        return None
    sent = (row.status != "held" or row.batch_id is not None
            or session.scalars(select(BatchClaimRow.id)
                               .where(BatchClaimRow.claim_id == claim_id)).first()
            or session.scalars(select(AcknowledgmentRow.id)
                               .where(AcknowledgmentRow.claim_id == claim_id)).first()
            or session.scalars(select(LedgerEntryRow.id)
                               .where(LedgerEntryRow.claim_id == claim_id)).first()
            or session.scalars(select(WorklistItemRow.id)
                               .where(WorklistItemRow.claim_id == claim_id)).first()
            # a corrected claim (sequence 2+) has a sent original: the visit stays final
            or session.scalars(select(ClaimRow.id).where(ClaimRow.visit_id == row.visit_id,
                                                         ClaimRow.id != claim_id)).first())
    if sent:
        raise ConflictError("Only a held claim that was never sent can be reopened for "
                            "correction.")
    visit_key = session.scalars(select(VisitRow.visit_key)
                                .where(VisitRow.id == row.visit_id)).one()
    for table in (FindingRow, ClaimStatusRow, ClaimLineRow):
        session.execute(delete(table).where(table.claim_id == claim_id))
    session.execute(delete(ClaimRow).where(ClaimRow.id == claim_id))
    return str(visit_key)
