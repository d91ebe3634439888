"""Units: what the documented minutes support under the payer's unit method.

Source: CMS Pub 100-04 ch.5 §20.2 (timed codes: 15-minute units; a unit needs at least 8
minutes; Medicare totals the timed minutes of the visit, the "8-minute rule"); CPT time rules
(per-code method: each code on its own); untimed codes are one unit per session. The coded
claim (``rehabill.coding``, run with the policy's unit method) is the reference for units.
"""

from __future__ import annotations

from collections.abc import Iterator

from rehabill.domain.findings import Finding, Severity
from rehabill.domain.visit import Visit
from rehabill.rules.base import (
    HAS_DOCUMENTED_UNITS,
    HAS_TOTAL_TIME,
    MAY_NO_MINUTES,
    Rule,
    RuleContext,
    coded_units,
    facts_of,
    finding,
    service_location,
    visit_location,
)

SOURCE = "CMS Pub 100-04 ch.5 §20.2; CPT time rules"


def timed_minutes(visit: Visit, ctx: RuleContext) -> int:
    """Therapist plus assistant minutes of the visit's timed services."""
    return facts_of(visit, ctx).timed_minutes


def units_mismatch(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """Documented units differ from what coding computes from the minutes."""
    claim = ctx.claim
    if claim is None:
        return
    method = ctx.policy.unit_method
    codes = ctx.reference.codes
    for index, service in enumerate(visit.services):
        if service.units is None or service.code not in codes:
            continue
        if _under_eight(visit, ctx, index) or (service.units > 1 and not codes.is_timed(
                service.code)):
            continue  # below_eight_minutes / untimed_over_one say it more precisely
        expected = coded_units(claim, index)
        if service.units != expected:
            yield finding(
                UNITS_MISMATCH,
                f"{service.code} documents {service.units} units but its minutes support "
                f"{expected} under the {method} method.",
                service_location(visit, index, "units"),
                f"Bill {expected} units (rehabill can fix this: --fix).", auto_fix=True)


def _under_eight(visit: Visit, ctx: RuleContext, index: int) -> bool:
    """Units documented for a timed service whose minutes (per the method) do not reach 8."""
    service = visit.services[index]
    if not service.units or not ctx.reference.codes.is_timed(service.code):
        return False
    if ctx.policy.unit_method == "per-code":
        return service.total_minutes < 8
    return timed_minutes(visit, ctx) < 8


def below_eight_minutes(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """Units billed for a timed code whose minutes do not reach 8."""
    per_code = ctx.policy.unit_method == "per-code"
    for index, service in enumerate(visit.services):
        if _under_eight(visit, ctx, index):
            minutes = service.total_minutes if per_code else timed_minutes(visit, ctx)
            scope = f"{service.code} has" if per_code else "the visit's timed codes have"
            yield finding(
                BELOW_EIGHT_MINUTES,
                f"{service.code} bills {service.units} units but {scope} only {minutes} "
                f"minutes; a unit needs at least 8.",
                service_location(visit, index, "units"),
                "Bill no units for it (the minutes still count toward the total under the CMS "
                "method).", auto_fix=ctx.claim is not None)


def timed_without_minutes(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """A timed code with no minutes documented."""
    codes = ctx.reference.codes
    for index, service in enumerate(visit.services):
        if service.total_minutes == 0 and codes.is_timed(service.code):
            yield finding(
                TIMED_WITHOUT_MINUTES,
                f"Timed code {service.code} has no minutes documented.",
                service_location(visit, index, "minutes"),
                "Record the therapist's (and assistant's) minutes for the service.")


def untimed_over_one(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """More than one unit documented for an untimed (per-session) code."""
    codes = ctx.reference.codes
    for index, service in enumerate(visit.services):
        if service.units is not None and service.units > 1 and service.code in codes \
                and not codes.is_timed(service.code):
            yield finding(
                UNTIMED_OVER_ONE,
                f"Untimed code {service.code} documents {service.units} units; it is one unit "
                f"per session whatever its length.",
                service_location(visit, index, "units"),
                "Bill 1 unit (rehabill can fix this: --fix).", auto_fix=ctx.claim is not None)


def treatment_time_short(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """Total treatment time is less than the timed minutes documented."""
    total = visit.total_treatment_minutes
    if total is None:
        return
    timed = timed_minutes(visit, ctx)
    if total < timed:
        yield finding(
            TREATMENT_TIME_SHORT,
            f"Total treatment time is {total} minutes but the timed codes document {timed}.",
            visit_location(visit, "total_treatment_minutes"),
            "Correct the total treatment time or the minutes of the timed codes.")


UNITS_MISMATCH = Rule("units.mismatch", Severity.ERROR, units_mismatch,
                      "Documented units differ from what the minutes support", SOURCE,
                      needs=frozenset({HAS_DOCUMENTED_UNITS}))
BELOW_EIGHT_MINUTES = Rule("units.below_eight_minutes", Severity.ERROR, below_eight_minutes,
                           "Timed units billed for under 8 minutes", SOURCE,
                           needs=frozenset({HAS_DOCUMENTED_UNITS}))
TIMED_WITHOUT_MINUTES = Rule("units.timed_without_minutes", Severity.ERROR,
                             timed_without_minutes, "Timed code without minutes", SOURCE,
                             needs=frozenset({MAY_NO_MINUTES}))
UNTIMED_OVER_ONE = Rule("units.untimed_over_one", Severity.ERROR, untimed_over_one,
                        "Untimed code billed for more than one unit", SOURCE,
                        needs=frozenset({HAS_DOCUMENTED_UNITS}))
TREATMENT_TIME_SHORT = Rule("units.treatment_time_short", Severity.ERROR, treatment_time_short,
                            "Total treatment time less than the timed minutes", SOURCE,
                            needs=frozenset({HAS_TOTAL_TIME}))

RULES = (UNITS_MISMATCH, BELOW_EIGHT_MINUTES, TIMED_WITHOUT_MINUTES, UNTIMED_OVER_ONE,
         TREATMENT_TIME_SHORT)
