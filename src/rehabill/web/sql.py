"""The web app's users and audit trail on the books (the store's ``users`` and
``audit_events`` tables), behind the ``UserRepository`` and ``AuditSink`` protocols.

Each call is its own short unit of work, so the repository can be shared by every request and
worker. Usernames are stored lower-case (the protocol compares them case-insensitively).
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from rehabill.errors import ConflictError
from rehabill.services.uow import unit_of_work
from rehabill.store import people
from rehabill.store.models import ProviderRow
from rehabill.web.audit import AuditEvent
from rehabill.web.users import Role, User

log = logging.getLogger(__name__)


class SqlUserRepository:
    """``UserRepository`` over the store's ``users`` table."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def get_by_username(self, username: str) -> User | None:
        """The user, or None."""
        with unit_of_work(self.factory) as session:
            row = people.user_by_name(session, username.strip().lower())
            if row is None:
                return None
            npi = ""
            if row.provider_id is not None:
                npi = session.scalars(select(ProviderRow.npi).where(
                    ProviderRow.id == row.provider_id)).first() or ""
            return User(row.username, row.password_hash, Role(row.role), row.username, npi,
                        row.active)

    def add(self, user: User) -> None:
        """Store a new user; raises ConflictError when the username is taken."""
        try:
            with unit_of_work(self.factory) as session:
                provider_id = None
                if user.provider_npi:
                    provider_id = session.scalars(select(ProviderRow.id).where(
                        ProviderRow.npi == user.provider_npi)).first()
                people.add_user(session, username=user.username.strip().lower(),
                                password_hash=user.password_hash, role=user.role.value,
                                provider_id=provider_id)
        except IntegrityError:
            raise ConflictError(f"username {user.username!r} is taken") from None


class SqlAuditSink:
    """``AuditSink`` over the store's ``audit_events`` (``store.people.record_event``)."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def record(self, event: AuditEvent) -> None:
        """Keep the event (a database failure is logged, never raised into the request)."""
        try:
            with unit_of_work(self.factory) as session:
                people.record_event(session, actor=event.actor, action=event.action.value,
                                    entity=event.entity, entity_id=event.entity_id,
                                    detail={"role": event.role, "route": event.route,
                                            "at": event.at.isoformat()})
        except SQLAlchemyError:
            log.exception("could not record an audit event")
