"""Users, audit events and worklist items: the records people act on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rehabill.errors import NotFoundError
from rehabill.store.bulk import insert_all
from rehabill.store.models import AuditEventRow, UserRow, WorklistItemRow, utcnow

ROLES = ("therapist", "biller", "admin")


def add_user(session: Session, *, username: str, password_hash: str, role: str,
             provider_id: int | None = None) -> UserRow:
    """Add a user (the password is already hashed with argon2 by the caller).

    Raises:
        ValueError: for a role other than therapist, biller or admin.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    user = UserRow(username=username, password_hash=password_hash, role=role,
                   provider_id=provider_id, active=True, created_at=utcnow())
    session.add(user)
    session.flush()
    return user


def user_by_name(session: Session, username: str) -> UserRow | None:
    """The user with this username, or None."""
    return session.scalars(select(UserRow).where(UserRow.username == username)).first()


def record_event(session: Session, *, actor: str, action: str, entity: str, entity_id: str,
                 detail: dict[str, Any] | None = None) -> None:
    """Append an audit event: who did what to which record (now)."""
    session.add(AuditEventRow(actor=actor, action=action, entity=entity, entity_id=entity_id,
                              detail=detail or {}, at=utcnow()))


def audit_events(session: Session, entity: str, entity_id: str) -> list[AuditEventRow]:
    """A record's audit trail, oldest first."""
    query = (select(AuditEventRow).where(AuditEventRow.entity == entity,
                                         AuditEventRow.entity_id == entity_id)
             .order_by(AuditEventRow.id))
    return list(session.scalars(query))


def add_worklist_item(session: Session, *, claim_id: int, reason: str, carc: str = "",
                      rarc: str = "", next_action: str = "", assignee: str = "") -> int:
    """Open a worklist item for a claim; its id."""
    now = utcnow()
    item = WorklistItemRow(claim_id=claim_id, carc=carc, rarc=rarc, reason=reason,
                           next_action=next_action, assignee=assignee, notes="", status="open",
                           created_at=now, updated_at=now)
    session.add(item)
    session.flush()
    return item.id


def add_worklist_items(session: Session, items: Sequence[tuple[int, str]], *,
                       next_action: str = "") -> None:
    """Open a worklist item for each (claim id, reason), in one bulk insert (the claims of
    one file, each with its own reason)."""
    now = utcnow()
    insert_all(session, WorklistItemRow, [
        {"claim_id": cid, "carc": "", "rarc": "", "reason": reason, "next_action": next_action,
         "assignee": "", "notes": "", "status": "open", "created_at": now, "updated_at": now}
        for cid, reason in items])


def open_worklist(session: Session, assignee: str | None = None) -> list[WorklistItemRow]:
    """Open worklist items (of one assignee, or all), oldest first."""
    query = select(WorklistItemRow).where(WorklistItemRow.status != "done")
    if assignee is not None:
        query = query.where(WorklistItemRow.assignee == assignee)
    return list(session.scalars(query.order_by(WorklistItemRow.id)))


WORK_STATUSES = ("open", "in_progress", "done")


def update_worklist_item(session: Session, item_id: int, *, status: str | None = None,
                         assignee: str | None = None, note: str = "") -> WorklistItemRow:
    """Change a worklist item's status or assignee and append a note (notes are never lost).

    Raises:
        NotFoundError: no item with this id.
        ValueError: a status other than open, in_progress, done.
    """
    item = session.get(WorklistItemRow, item_id)
    if item is None:
        raise NotFoundError(f"no worklist item {item_id}")
    if status is not None:
        if status not in WORK_STATUSES:
            raise ValueError(f"status must be one of {', '.join(WORK_STATUSES)}, not {status!r}")
        item.status = status
    if assignee is not None:
        item.assignee = assignee
    if note:
        item.notes = f"{item.notes}\n{note}".strip()
    item.updated_at = utcnow()
    session.flush()
    return item
