"""The web app's collaborators on the store: users, the audit log and visits in the database.

``SqlUserRepository``, ``SqlAuditSink`` and ``SqlVisitService`` implement the protocols of
``users.py``, ``audit.py`` and ``visits.py`` over a SQLAlchemy session factory; each call is one
unit of work (``services.uow.unit_of_work``), so any web worker sees what another wrote.

Visits: a web-entered visit is stored in the ``visits`` table as soon as it is saved. A *draft*
is a stored visit marked ``is_draft`` (saving it again replaces it), which nothing codes into a
claim — not the billing cycle, not ``rehabill scrub``; *finalizing* clears the mark and codes it
into a claim, which makes it final. "Own" visits are those whose rendering clinician is the
user's linked clinician (``users.provider_id``), or, for a user with no clinician, the visits
they created (from the audit log).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from rehabill.domain.visit import Visit
from rehabill.errors import ConflictError
from rehabill.services import billing
from rehabill.services.uow import unit_of_work
from rehabill.store import people, views
from rehabill.store import visits as store_visits
from rehabill.web.audit import AuditEvent
from rehabill.web.catalog import PatientCatalog
from rehabill.web.users import Role, User
from rehabill.web.visits import VisitRecord, VisitStatus

log = logging.getLogger(__name__)
Factory = sessionmaker[Session]
Finalize = Callable[[Factory, str, str, date], None]


class SqlUserRepository:
    """Users in the ``users`` table; a therapist's name comes from their linked clinician."""

    def __init__(self, factory: Factory) -> None:
        self._factory = factory

    def get_by_username(self, username: str) -> User | None:
        """The user, or None (usernames are stored lower-case)."""
        with unit_of_work(self._factory) as session:
            row = people.user_by_name(session, username.strip().lower())
            if row is None:
                return None
            npi, name = views.provider_label(session, row.provider_id)
            return User(row.username, row.password_hash, Role(row.role), name, npi, row.active)

    def add(self, user: User) -> None:
        """Store a new user; ConflictError when the username is taken (also by a concurrent
        add: the unique username refuses the second insert)."""
        key = user.username.strip().lower()
        try:
            with unit_of_work(self._factory) as session:
                if people.user_by_name(session, key) is not None:
                    raise ConflictError(f"username {user.username!r} is taken")
                provider_id = views.provider_id_by_npi(session, user.provider_npi) \
                    if user.provider_npi else None
                people.add_user(session, username=key, password_hash=user.password_hash,
                                role=user.role.value, provider_id=provider_id)
        except IntegrityError:
            raise ConflictError(f"username {user.username!r} is taken") from None

    def all(self) -> tuple[views.UserView, ...]:
        """Every user (no hashes)."""
        with unit_of_work(self._factory) as session:
            return tuple(views.users(session))


class SqlAuditSink:
    """Audit events in the ``audit_events`` table (action and route; opaque ids only)."""

    def __init__(self, factory: Factory) -> None:
        self._factory = factory

    def record(self, event: AuditEvent) -> None:
        """Append the event in its own transaction (an audit trail survives a failed request);
        a database failure is logged, never raised into the request."""
        try:
            with unit_of_work(self._factory) as session:
                people.record_event(session, actor=event.actor, action=event.action.value,
                                    entity=event.entity, entity_id=event.entity_id,
                                    detail={"role": event.role, "route": event.route,
                                            "at": event.at.isoformat()})
        except SQLAlchemyError:
            log.exception("could not record an audit event")


def code_into_claim(factory: Factory, visit_key: str, actor: str, today: date) -> None:
    """Finalize: code and scrub this one visit into a claim (``scrubbed`` or ``held``)."""
    billing.scrub_stored_claims(factory, today=today, visit_keys=[visit_key], actor=actor)


class SqlVisitService:
    """Web-entered visits in the ``visits`` table (see the module docstring)."""

    def __init__(self, factory: Factory, catalog: PatientCatalog, *,
                 clock: Callable[[], date] = date.today,
                 finalize: Finalize = code_into_claim) -> None:
        self._factory = factory
        self._catalog = catalog
        self._clock = clock
        self._finalize = finalize

    def new_visit_id(self) -> str:
        """"V-" and eight random hex digits."""
        return f"V-{secrets.token_hex(4).upper()}"

    def save(self, visit: Visit, *, status: VisitStatus, author: str, patient_key: str,
             coverage_key: str) -> VisitRecord:
        """Create or replace a draft, or finalize it; ConflictError for a final visit."""
        with unit_of_work(self._factory) as session:
            stub = next(iter(views.visit_stubs(session, visit_keys=[visit.visit_id])), None)
            if stub is not None and stub.claim_status is not None:
                raise ConflictError(f"visit {visit.visit_id} is final and cannot change")
            if stub is not None:
                views.delete_unclaimed_visit(session, visit.visit_id)
            store_visits.save_visits(session, [visit])
            store_visits.set_draft(session, [visit.visit_id], status is VisitStatus.DRAFT)
            people.record_event(session, actor=author, action="save", entity="visit",
                                entity_id=visit.visit_id, detail={"status": status.value})
        if status is VisitStatus.FINAL:
            self._finalize(self._factory, visit.visit_id, author, self._clock())
        return VisitRecord(visit, status, author, patient_key, coverage_key, datetime.now(UTC))

    def get(self, visit_id: str) -> VisitRecord | None:
        """The visit, or None."""
        records = self._records(visit_keys=[visit_id], limit=1)
        return records[0] if records else None

    def recent(self, *, author: str | None, limit: int = 50) -> tuple[VisitRecord, ...]:
        """Newest first; only ``author``'s own when given."""
        if author is None:
            return self._records(limit=limit)
        with unit_of_work(self._factory) as session:
            row = people.user_by_name(session, author)
            npi = views.provider_npi(session, row.provider_id) if row else ""
        if npi:
            return self._records(rendering_npi=npi, limit=limit)
        mine = self._records(limit=limit * 4)
        return tuple(r for r in mine if r.author == author)[:limit]

    def _records(self, *, rendering_npi: str | None = None, visit_keys: list[str] | None = None,
                 limit: int = 50) -> tuple[VisitRecord, ...]:
        with unit_of_work(self._factory) as session:
            stubs = views.visit_stubs(session, rendering_npi=rendering_npi,
                                      visit_keys=visit_keys or (), limit=limit)
            loaded = store_visits.load_visits(session, [s.row_id for s in stubs])
            creators = views.visit_authors(session, [s.visit_key for s in stubs])
            owners = {u.provider_npi: u.username for u in views.users(session) if u.provider_npi}
        return tuple(self._record(s, loaded[s.row_id], owners.get(s.rendering_npi)
                                  or creators.get(s.visit_key, ""))
                     for s in stubs if s.row_id in loaded)

    def _record(self, stub: views.VisitStub, visit: Visit, author: str) -> VisitRecord:
        status = VisitStatus.DRAFT if stub.claim_status is None else VisitStatus.FINAL
        patient_key, coverage_key = "", ""
        for choice in self._catalog.patients():
            if choice.patient.id == visit.patient.id:
                patient_key = choice.key
                coverage_key = next((c.key for c in choice.coverages
                                     if c.coverage.member_id == visit.coverage.member_id), "")
                break
        saved = stub.created_at if stub.created_at.tzinfo else \
            stub.created_at.replace(tzinfo=UTC)
        return VisitRecord(visit, status, author, patient_key, coverage_key, saved)
