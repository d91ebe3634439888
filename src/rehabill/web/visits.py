"""Saving documented visits: drafts a therapist can return to, and finalized visits for billing.

Handlers talk to the ``VisitService`` protocol; ``InMemoryVisitService`` serves tests and the
demo until the store's service (issue 6) is wired in by the lead.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from rehabill.domain.visit import Visit
from rehabill.errors import ConflictError


class VisitStatus(StrEnum):
    """A draft may change; a final visit goes on to claims and may not."""

    DRAFT = "draft"
    FINAL = "final"


@dataclass(frozen=True, slots=True)
class VisitRecord:
    """A saved visit with who saved it and the catalog keys it was entered under."""

    visit: Visit
    status: VisitStatus
    author: str
    patient_key: str
    coverage_key: str
    saved_at: datetime


class VisitService(Protocol):
    """Stores visits for the web app."""

    def new_visit_id(self) -> str:
        """A fresh opaque visit id."""
        ...

    def save(self, visit: Visit, *, status: VisitStatus, author: str, patient_key: str,
             coverage_key: str) -> VisitRecord:
        """Create or replace a draft, or finalize it; ConflictError for a final visit."""
        ...

    def get(self, visit_id: str) -> VisitRecord | None:
        """The visit, or None."""
        ...

    def recent(self, *, author: str | None, limit: int = 50) -> tuple[VisitRecord, ...]:
        """Newest first; only ``author``'s when given."""
        ...


class InMemoryVisitService:
    """Visits in a dict (tests and the demo)."""

    def __init__(self) -> None:
        self._visits: dict[str, VisitRecord] = {}
        self._lock = threading.Lock()

    def new_visit_id(self) -> str:
        """"V-" and eight random hex digits."""
        return f"V-{secrets.token_hex(4).upper()}"

    def save(self, visit: Visit, *, status: VisitStatus, author: str, patient_key: str,
             coverage_key: str) -> VisitRecord:
        """Create or replace a draft, or finalize it; ConflictError for a final visit."""
        record = VisitRecord(visit, status, author, patient_key, coverage_key, datetime.now(UTC))
        with self._lock:
            old = self._visits.get(visit.visit_id)
            if old is not None and old.status is VisitStatus.FINAL:
                raise ConflictError(f"visit {visit.visit_id} is final and cannot change")
            if old is not None and old.author != author:
                raise ConflictError(f"visit {visit.visit_id} belongs to another user")
            self._visits[visit.visit_id] = record
        return record

    def get(self, visit_id: str) -> VisitRecord | None:
        """The visit, or None."""
        return self._visits.get(visit_id)

    def recent(self, *, author: str | None, limit: int = 50) -> tuple[VisitRecord, ...]:
        """Newest first; only ``author``'s when given."""
        rows = [r for r in self._visits.values() if author is None or r.author == author]
        rows.sort(key=lambda r: r.saved_at, reverse=True)
        return tuple(rows[:limit])
