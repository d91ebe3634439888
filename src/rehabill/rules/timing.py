"""Timing: when a claim may be, and may no longer be, filed.

Source: CMS Pub 100-04 ch.1 §70 (Medicare: no later than 12 months after the date of service);
commercial filing windows come from the payer's policy file. "Today" is the run's date, passed
in through the context, so results are reproducible.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from rehabill.domain.findings import Finding, Severity
from rehabill.domain.visit import Visit
from rehabill.rules.base import MAY_FILING, Rule, RuleContext, finding, visit_location
from rehabill.rules.checks import add_months as add_months
from rehabill.rules.checks import deadline
from rehabill.rules.policy import Policy

SOURCE = "CMS Pub 100-04 ch.1 §70; payer policy filing window"


def filing_deadline(dos: date, policy: Policy) -> date:
    """The last day a claim for ``dos`` can be filed under ``policy``.

    Args:
        dos: the date of service.
        policy: the payer policy (``timely_filing_months`` or ``timely_filing_days``).

    Returns:
        The deadline (inclusive).
    """
    return deadline(dos, policy.timely_filing_months, policy.timely_filing_days)


def filing_expired(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """Past the payer's timely filing limit."""
    deadline = filing_deadline(visit.date_of_service, ctx.policy)
    if ctx.today > deadline:
        yield finding(
            FILING_EXPIRED,
            f"The filing window for {visit.date_of_service.isoformat()} closed on "
            f"{deadline.isoformat()} ({ctx.policy.title}); today is {ctx.today.isoformat()}.",
            visit_location(visit, "date_of_service"),
            "The payer will deny it (CARC 29); file only with proof of timely filing or an "
            "allowed exception.")


def filing_closing(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """The filing window closes soon."""
    deadline = filing_deadline(visit.date_of_service, ctx.policy)
    left = (deadline - ctx.today).days
    if 0 <= left <= ctx.policy.filing_warning_days:
        yield finding(
            FILING_CLOSING,
            f"The filing window closes on {deadline.isoformat()}, in {left} days.",
            visit_location(visit, "date_of_service"), "Send this claim first.")


def future_service(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """A date of service after today."""
    if visit.date_of_service > ctx.today:
        yield finding(
            FUTURE_SERVICE,
            f"The date of service {visit.date_of_service.isoformat()} is after today "
            f"({ctx.today.isoformat()}).",
            visit_location(visit, "date_of_service"),
            "Correct the date; services cannot be billed before they happen.")


FILING_EXPIRED = Rule("timing.filing_expired", Severity.ERROR, filing_expired,
                      "Past the timely filing limit", SOURCE, needs=frozenset({MAY_FILING}))
FILING_CLOSING = Rule("timing.filing_closing", Severity.WARNING, filing_closing,
                      "Timely filing limit is near", SOURCE, needs=frozenset({MAY_FILING}))
FUTURE_SERVICE = Rule("timing.future_service", Severity.ERROR, future_service,
                      "Date of service in the future", SOURCE, needs=frozenset({MAY_FILING}))

RULES = (FILING_EXPIRED, FILING_CLOSING, FUTURE_SERVICE)
