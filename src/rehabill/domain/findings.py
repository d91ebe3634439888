"""Findings: problems in the data, returned as values (never raised)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from enum import StrEnum


class Severity(StrEnum):
    """How bad a finding is. An ERROR holds a claim back; WARNING and INFO do not."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Sort key: errors first."""
        return _RANK[self]


_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding points: a visit/claim/line/field, or a file/segment/element."""

    visit_id: str = ""
    claim_id: str = ""
    line: int | None = None
    field: str = ""
    file: str = ""
    segment: int | None = None
    segment_id: str = ""
    element: str = ""

    # Written out as the dataclass would generate it: compiled by mypyc this is native code,
    # about 20x faster than the generated one (tests/domain/test_inits.py keeps them the same).
    def __init__(self, visit_id: str = "", claim_id: str = "", line: int | None = None,
                 field: str = "", file: str = "", segment: int | None = None,
                 segment_id: str = "", element: str = "") -> None:
        object.__setattr__(self, "visit_id", visit_id)
        object.__setattr__(self, "claim_id", claim_id)
        object.__setattr__(self, "line", line)
        object.__setattr__(self, "field", field)
        object.__setattr__(self, "file", file)
        object.__setattr__(self, "segment", segment)
        object.__setattr__(self, "segment_id", segment_id)
        object.__setattr__(self, "element", element)

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file:
            parts.append(self.file)
        if self.segment is not None:
            seg = f"segment {self.segment}"
            if self.segment_id:
                seg += f" ({self.segment_id})"
            parts.append(seg)
        if self.element:
            parts.append(f"element {self.element}")
        if self.visit_id:
            parts.append(f"visit {self.visit_id}")
        if self.claim_id and self.claim_id != self.visit_id:
            parts.append(f"claim {self.claim_id}")
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.field:
            parts.append(self.field)
        return " / ".join(parts) if parts else "-"

    def as_dict(self) -> dict[str, object]:
        """The non-empty parts, for JSON output."""
        out: dict[str, object] = {}
        for name in _LOCATION_PARTS:
            value = getattr(self, name)
            if value not in ("", None):
                out[name] = value
        return out


_LOCATION_PARTS = tuple(f.name for f in fields(Location))


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: a stable dotted code, a severity, one sentence, where, and what to do.

    ``auto_fix`` is True when rehabill can apply the fix itself (only ever on request).
    """

    code: str
    severity: Severity
    message: str
    location: Location = field(default_factory=Location)
    fix: str = ""
    auto_fix: bool = False

    # Written out as the dataclass would generate it: compiled by mypyc this is native code,
    # about 20x faster than the generated one (tests/domain/test_inits.py keeps them the same).
    def __init__(self, code: str, severity: Severity, message: str,
                 location: Location | None = None, fix: str = "", auto_fix: bool = False) -> None:
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "severity", severity)
        object.__setattr__(self, "message", message)
        object.__setattr__(self, "location", Location() if location is None else location)
        object.__setattr__(self, "fix", fix)
        object.__setattr__(self, "auto_fix", auto_fix)

    @property
    def is_error(self) -> bool:
        """True for error-level findings."""
        return self.severity is Severity.ERROR

    def as_dict(self) -> dict[str, object]:
        """The contract's JSON shape: code, severity, message, location, fix."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "location": self.location.as_dict(),
            "fix": self.fix,
            "auto_fix": self.auto_fix,
        }


def has_errors(findings: Iterable[Finding]) -> bool:
    """True when any finding is an error."""
    return any(f.is_error for f in findings)


def sort_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Errors first, then warnings, then info; stable within a severity."""
    return tuple(sorted(findings, key=_severity_rank))


def _severity_rank(finding: Finding) -> int:
    return _RANK[finding.severity]
