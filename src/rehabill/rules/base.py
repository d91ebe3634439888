"""What every rule shares: the ``Rule`` record, the per-claim ``RuleContext`` and helpers.

A rule is a plain function ``rule(visit, ctx) -> Iterable[Finding]``. The context carries
everything a rule may consult besides the visit: the reference tables, the payer policy, the
coded claim (None when coding was not run), the "today" of the run (timely filing is judged
against it, never against the wall clock) and an optional ICD-10-CM checker supplied by the
shell. Rules read; they never write and never raise on bad data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from rehabill.domain.claim import Claim, ClaimLine
from rehabill.domain.findings import Finding, Location, Severity
from rehabill.domain.visit import Service, Visit
from rehabill.reference import Reference
from rehabill.rules.policy import Policy


class IcdStatus(StrEnum):
    """What the ICD-10-CM checker says about one code."""

    BILLABLE = "billable"
    HEADER = "header"
    UNKNOWN = "unknown"


IcdCheck = Callable[[str], IcdStatus]
"""A function the shell supplies (``rehabill.services.icd10.check``); the core stays pure."""


@dataclass(frozen=True, slots=True)
class RuleContext:
    """Everything a rule may consult about one claim besides the visit itself.

    Attributes:
        reference: the shipped tables (``rehabill.reference.load()``).
        policy: the payer policy chosen for this visit's coverage plan.
        today: the date the claim would be sent; timely filing is judged against it.
        claim: the coded claim from ``rehabill.coding``, or None when coding was not run.
        icd: the ICD-10-CM checker, or None to check the code format only.
        policy_fallback: True when the plan named no known policy and the default was used.
    """

    reference: Reference
    policy: Policy
    today: date
    claim: Claim | None = None
    icd: IcdCheck | None = None
    policy_fallback: bool = False


RuleFunction = Callable[[Visit, RuleContext], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class Rule:
    """One registered rule: stable dotted code, severity, the function, a title and its source."""

    code: str
    severity: Severity
    function: RuleFunction
    title: str
    source: str


def service_location(visit: Visit, index: int, field: str = "") -> Location:
    """The location of ``visit.services[index]`` (line numbers are 1-based)."""
    path = f"services[{index}]" + (f".{field}" if field else "")
    return Location(visit_id=visit.visit_id, line=index + 1, field=path)


def visit_location(visit: Visit, field: str = "") -> Location:
    """The location of a visit-level field."""
    return Location(visit_id=visit.visit_id, field=field)


def finding(rule: Rule, message: str, location: Location, fix: str,
            *, auto_fix: bool = False) -> Finding:
    """A finding carrying the rule's code and severity."""
    return Finding(rule.code, rule.severity, message, location, fix, auto_fix)


def lines_for(claim: Claim | None, index: int) -> tuple[ClaimLine, ...]:
    """The coded claim's lines built from ``visit.services[index]`` (empty without a claim)."""
    if claim is None:
        return ()
    return tuple(line for line in claim.lines if line.service_index == index)


def coded_units(claim: Claim, index: int) -> int:
    """Units coding gave ``visit.services[index]``, summed over its lines (CQ/no-CQ splits)."""
    return sum(line.units for line in claim.lines if line.service_index == index)


def billed_units(visit: Visit, ctx: RuleContext) -> dict[str, int]:
    """Units per code that the claim bills: the coded claim's, else what the visit documents.

    Without a coded claim an untimed service counts one unit and a timed service counts its
    documented ``units`` (or nothing when none is documented).
    """
    totals: dict[str, int] = {}
    if ctx.claim is not None:
        for line in ctx.claim.lines:
            totals[line.code] = totals.get(line.code, 0) + line.units
        return totals
    codes = ctx.reference.codes
    for service in visit.services:
        units = service.units
        if units is None:
            units = 0 if codes.is_timed(service.code) else 1
        totals[service.code] = totals.get(service.code, 0) + units
    return totals


def billed_modifiers(visit: Visit, ctx: RuleContext, index: int) -> tuple[str, ...]:
    """Modifiers billed for ``visit.services[index]``: documented ones, else the coded lines'."""
    service: Service = visit.services[index]
    if service.modifiers:
        return service.modifiers
    found: list[str] = []
    for line in lines_for(ctx.claim, index):
        found.extend(m for m in line.modifiers if m not in found)
    return tuple(found)


DISCIPLINE_MODIFIERS = frozenset({"GP", "GO", "GN"})
ASSISTANT_MODIFIERS = frozenset({"CQ", "CO"})
DISTINCT_MODIFIERS = frozenset({"59", "XE", "XS", "XP", "XU"})
X_MODIFIERS = frozenset({"XE", "XS", "XP", "XU"})
