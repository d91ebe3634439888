"""Audit events: who read or wrote which patient data, when, through which route.

Handlers call ``AuditSink.record`` for every read and write of patient data (HIPAA
§164.312(b), audit controls). An event carries opaque ids and the route *template* only, never
names, dates of birth or member ids. The lead wires a sink over the store's audit table; tests
use ``InMemoryAuditLog``.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol


class AuditAction(StrEnum):
    """What was done to the data."""

    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    PROCESS = "process"  # patient data sent in a request and computed on, not stored


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One access to patient data."""

    at: datetime
    actor: str
    role: str
    action: AuditAction
    entity: str
    entity_id: str
    route: str


class AuditSink(Protocol):
    """Receives every audit event; must not raise for a well-formed event."""

    def record(self, event: AuditEvent) -> None:
        """Keep the event."""
        ...


class InMemoryAuditLog:
    """Keeps the most recent events in memory (tests and the demo)."""

    def __init__(self, maxlen: int = 50_000) -> None:
        self._events: deque[AuditEvent] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def record(self, event: AuditEvent) -> None:
        """Keep the event."""
        with self._lock:
            self._events.append(event)

    @property
    def events(self) -> tuple[AuditEvent, ...]:
        """The events kept, oldest first."""
        with self._lock:
            return tuple(self._events)

    def clear(self) -> None:
        """Forget every event (tests)."""
        with self._lock:
            self._events.clear()


def event(actor: str, role: str, action: AuditAction, entity: str, entity_id: str,
          route: str) -> AuditEvent:
    """An event stamped now (UTC)."""
    return AuditEvent(datetime.now(UTC), actor, role, action, entity, entity_id, route)
