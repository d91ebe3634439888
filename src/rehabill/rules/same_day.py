"""Across claims: the same patient's other visits on the same date in the batch.

Sources: CMS Pub 100-04 ch.5 §20.2 (timed minutes are counted per day: services on one date
are billed together, not as separate claims that each round up); CARC 18 (exact duplicate claim
or service) and payers' per-day visit limits from the policy file.
"""

from __future__ import annotations

from collections.abc import Iterator

from rehabill.domain.findings import Finding, Severity
from rehabill.domain.visit import Visit
from rehabill.rules.base import (
    HAS_SAME_DAY,
    Rule,
    RuleContext,
    facts_of,
    finding,
    service_location,
    visit_location,
)

SOURCE = "CMS Pub 100-04 ch.5 §20.2; CARC 18 (duplicate service)"


def duplicate_service(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """A code this visit bills is also billed on another claim for the patient that day."""
    if not ctx.same_day:
        return
    for other in ctx.same_day:
        shared = set(facts_of(visit, ctx).codes & {s.code for s in other.services})
        for index, service in enumerate(visit.services):
            if service.code in shared:
                yield finding(
                    DUPLICATE_SERVICE,
                    f"{service.code} is also billed on visit {other.visit_id} for the same "
                    f"patient on {visit.date_of_service.isoformat()}.",
                    service_location(visit, index, "code"),
                    "Bill the day's services on one claim (timed minutes are counted per day), "
                    "or void the duplicate.")
                shared.discard(service.code)


def visits_per_day(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """More visits for the patient on the date than the payer pays."""
    limit = ctx.policy.visits_per_day
    count = len(ctx.same_day) + 1
    if limit is not None and count > limit:
        yield finding(
            VISITS_PER_DAY,
            f"The patient has {count} visits on {visit.date_of_service.isoformat()}; "
            f"{ctx.policy.title} pays {limit} per day.",
            visit_location(visit, "date_of_service"),
            "Combine the day's services on one claim, or get the payer's approval.")


DUPLICATE_SERVICE = Rule("same_day.duplicate_service", Severity.ERROR, duplicate_service,
                         "Same code billed on two claims for the patient that day", SOURCE,
                         needs=frozenset({HAS_SAME_DAY}))
VISITS_PER_DAY = Rule("same_day.visits_per_day", Severity.ERROR, visits_per_day,
                      "More visits per day than the payer allows", "Payer policy file",
                      applies=lambda p: p.visits_per_day is not None,
                      needs=frozenset({HAS_SAME_DAY}))

RULES = (DUPLICATE_SERVICE, VISITS_PER_DAY)
