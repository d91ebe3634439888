"""Safe automatic fixes: only what is unambiguous, and every change reported.

Two kinds only: put the plan's discipline modifier (GP/GO/GN) on a line that lacks it or carries
the wrong one (Pub 100-04 ch.5 §20.1), and set documented units to what coding computes from
the minutes (Pub 100-04 ch.5 §20.2). Everything else needs a person.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from rehabill.domain.findings import Finding
from rehabill.domain.visit import Service, Visit
from rehabill.rules.base import DISCIPLINE_MODIFIERS, RuleContext, coded_units

_MODIFIER_FIXES = frozenset({"modifiers.discipline_missing", "modifiers.discipline_wrong"})
_UNIT_FIXES = frozenset({"units.mismatch", "units.below_eight_minutes", "units.untimed_over_one"})


@dataclass(frozen=True, slots=True)
class Change:
    """One automatic change: where, from what, to what, and the finding that asked for it."""

    visit_id: str
    field: str
    before: str
    after: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        """JSON shape: visit_id, field, before, after, reason."""
        return {"visit_id": self.visit_id, "field": self.field, "before": self.before,
                "after": self.after, "reason": self.reason}


def apply_fixes(visit: Visit, findings: Iterable[Finding],
                ctx: RuleContext) -> tuple[Visit, tuple[Change, ...]]:
    """Apply the safe fixes the findings call for.

    Args:
        visit: the visit as documented.
        findings: its findings (only ``auto_fix`` ones of the two safe kinds are used).
        ctx: the context the findings came from (its coded claim gives the units).

    Returns:
        The fixed visit and the changes made (the same visit and () when nothing applies).
    """
    services = list(visit.services)
    changes: list[Change] = []
    for f in findings:
        if not f.auto_fix or f.location.line is None:
            continue
        index = f.location.line - 1
        if not 0 <= index < len(services):
            continue
        before = services[index]
        after = _fixed(visit, before, index, f.code, ctx)
        if after is None or after == before:
            continue
        services[index] = after
        changes.extend(_describe(visit, index, before, after, f.code))
    if not changes:
        return visit, ()
    return replace(visit, services=tuple(services)), tuple(changes)


def _fixed(visit: Visit, service: Service, index: int, code: str,
           ctx: RuleContext) -> Service | None:
    if code in _MODIFIER_FIXES:
        wanted = visit.discipline.modifier
        kept = tuple(m for m in service.modifiers if m not in DISCIPLINE_MODIFIERS)
        return replace(service, modifiers=(wanted, *kept))
    if code in _UNIT_FIXES and ctx.claim is not None and service.code in ctx.reference.codes:
        return replace(service, units=coded_units(ctx.claim, index))
    return None


def _describe(visit: Visit, index: int, before: Service, after: Service,
              reason: str) -> list[Change]:
    out = []
    if before.modifiers != after.modifiers:
        out.append(Change(visit.visit_id, f"services[{index}].modifiers",
                          " ".join(before.modifiers) or "-", " ".join(after.modifiers), reason))
    if before.units != after.units:
        out.append(Change(visit.visit_id, f"services[{index}].units", str(before.units),
                          str(after.units), reason))
    return out
