"""Across claims: the same patient's other visits on the same date in the batch.

Sources: CMS Pub 100-04 ch.5 §20.2 (timed minutes are counted per day: services on one date
are billed together, not as separate claims that each round up); CARC 18 (exact duplicate claim
or service) and payers' per-day visit limits from the policy file.
"""

from __future__ import annotations

from collections.abc import Iterator

from rehabill.domain.findings import Finding, Location, Severity
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


NAMED_DUPLICATES = 5
"""Other visits named one finding each for a code billed again that day; the rest of them
get one finding that counts them. A code on at most six visits of the patient that day is
reported visit by visit; a malformed or hostile file putting thousands of visits on one
patient-day gets a few findings per visit instead of one per pair of visits."""


def duplicate_service(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """A code this visit bills is also billed on another claim for the patient that day.

    One finding per other visit and shared code, at the code's first line, ordered by the other
    visit then the line; past ``NAMED_DUPLICATES`` other visits for a code, one more finding
    counts the rest.
    """
    day = ctx.same_day
    if not day:
        return
    codes = facts_of(visit, ctx).codes
    first: dict[str, int] = {}  # each code's first line, in line order
    for index, service in enumerate(visit.services):
        if service.code in codes:
            first.setdefault(service.code, index)
    named = sorted(((position, index, other) for code, index in first.items()
                    for position, other in day.billing(code, NAMED_DUPLICATES)),
                   key=lambda named: named[:2])
    dos = visit.date_of_service.isoformat()
    where = {index: service_location(visit, index, "code") for index in first.values()}
    for _, index, other in named:
        yield _duplicate(visit, index, f"visit {other.visit_id}", dos, where[index])
    for code, index in first.items():
        more = day.count_billing(code) - NAMED_DUPLICATES
        if more > 0:
            yield _duplicate(visit, index, f"{more} more visit{'s' if more > 1 else ''}", dos,
                             where[index])


def _duplicate(visit: Visit, index: int, billed_on: str, dos: str, where: Location) -> Finding:
    return finding(
        DUPLICATE_SERVICE,
        f"{visit.services[index].code} is also billed on {billed_on} for the same patient "
        f"on {dos}.",
        where,
        "Bill the day's services on one claim (timed minutes are counted per day), "
        "or void the duplicate.")


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
