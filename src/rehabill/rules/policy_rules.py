"""Payer policy: what a payer's policy file says beyond the general rules.

Source: the payer's policy file (rehabill/rules/policies/*.toml or ``--payer-policy``):
codes not covered, units per day, visits per year; and which policy a visit got.
"""

from __future__ import annotations

from collections.abc import Iterator

from rehabill.domain.findings import Finding, Severity
from rehabill.domain.visit import Visit
from rehabill.rules.base import (
    MAY_NOT_COVERED,
    USES_DEFAULT_POLICY,
    Rule,
    RuleContext,
    facts_of,
    finding,
    service_location,
    visit_location,
)

SOURCE = "Payer policy file"


def code_not_covered(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """A code the payer does not pay."""
    excluded = ctx.policy.codes_not_covered
    for index, service in enumerate(visit.services):
        if service.code in excluded:
            yield finding(
                CODE_NOT_COVERED,
                f"{ctx.policy.title} does not cover {service.code}.",
                service_location(visit, index, "code"),
                "Remove the line, bill the payer's covered equivalent (e.g. G0283 for "
                "Medicare e-stim), or get an advance notice signed if the patient will pay.")


def units_per_day(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """More units on the date than the payer allows."""
    limit = ctx.policy.units_per_day
    if limit is None:
        return
    total = sum(facts_of(visit, ctx).units.values())
    if total > limit:
        yield finding(
            UNITS_PER_DAY,
            f"The visit bills {total} units; {ctx.policy.title} pays at most {limit} per day.",
            visit_location(visit, "services"),
            f"Bill at most {limit} units, or get the payer's approval for more.")


def visits_per_year(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """More visits this calendar year than the benefit allows.

    The visit file carries the visit's number in its episode; when the plan of care started
    in the same calendar year that number is a lower bound of the visits this year, so a number
    over the cap is certainly over it.
    """
    limit, number, plan = ctx.policy.visits_per_year, visit.visit_number_in_episode, \
        visit.plan_of_care
    if limit is None or number is None or plan is None:
        return
    if plan.start.year == visit.date_of_service.year and number > limit:
        yield finding(
            VISITS_PER_YEAR,
            f"This is visit {number} of the year; {ctx.policy.title} covers {limit}.",
            visit_location(visit, "visit_number_in_episode"),
            "Ask the payer for a benefit exception, or tell the patient before treating.")


def fallback_policy(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """The coverage plan named no known policy, so the default policy was used."""
    if ctx.policy_fallback:
        yield finding(
            FALLBACK_POLICY,
            f"Plan {visit.coverage.plan!r} has no payer policy; the default "
            f"{ctx.policy.name!r} was used.",
            visit_location(visit, "coverage.plan"),
            "Name a shipped plan (see docs/rules.md) or pass --payer-policy FILE.")


CODE_NOT_COVERED = Rule("policy.code_not_covered", Severity.ERROR, code_not_covered,
                        "Code not covered by the payer", SOURCE,
                        applies=lambda p: bool(p.codes_not_covered),
                        needs=frozenset({MAY_NOT_COVERED}))
UNITS_PER_DAY = Rule("policy.units_per_day", Severity.ERROR, units_per_day,
                     "More units per day than the payer allows", SOURCE,
                     applies=lambda p: p.units_per_day is not None)
VISITS_PER_YEAR = Rule("policy.visits_per_year", Severity.ERROR, visits_per_year,
                       "More visits per year than the payer allows", SOURCE,
                       applies=lambda p: p.visits_per_year is not None)
FALLBACK_POLICY = Rule("policy.default_used", Severity.INFO, fallback_policy,
                       "Unknown plan: the default policy was used", SOURCE,
                       needs=frozenset({USES_DEFAULT_POLICY}))

RULES = (CODE_NOT_COVERED, UNITS_PER_DAY, VISITS_PER_YEAR, FALLBACK_POLICY)
