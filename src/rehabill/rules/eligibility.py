"""Eligibility: the coverage billed must be in force on the date of service.

Sources: 42 CFR 424.5(a)(1) (Medicare pays only for services furnished to a beneficiary
entitled to them); every payer's member agreement likewise covers only the days between the
coverage's effective and termination dates. A claim outside them is denied with X12 Claim
Adjustment Reason Code 26 ("expenses incurred prior to coverage") or 27 ("expenses incurred
after coverage terminated"), X12 CARC list
(``reference/data/carc_rarc_group_codes_2024-06.csv``). Both dates are covered days;
an absent date leaves that side open, so a visit file without dates is never flagged.
"""

from __future__ import annotations

from collections.abc import Iterator

from rehabill.domain.findings import Finding, Severity
from rehabill.domain.visit import Coverage, Visit
from rehabill.rules.base import MAY_COVERAGE, Rule, RuleContext, finding, visit_location

SOURCE = ("42 CFR 424.5(a)(1); payer eligibility (member's coverage dates); "
          "X12 CARC 26 and 27")


def _span(coverage: Coverage) -> str:
    start = "open" if coverage.start is None else coverage.start.isoformat()
    end = "open" if coverage.end is None else coverage.end.isoformat()
    return f"{start} to {end}"


def coverage_inactive(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """The date of service falls before the coverage began (CARC 26) or after it ended
    (CARC 27): the payer billed owes nothing for it."""
    coverage, dos = visit.coverage, visit.date_of_service
    if coverage.is_active_on(dos):
        return
    before = coverage.start is not None and dos < coverage.start
    why = (f"before its coverage by {coverage.payer_id} began" if before
           else f"after its coverage by {coverage.payer_id} ended")
    carc = "26" if before else "27"
    yield finding(
        COVERAGE_INACTIVE,
        f"The date of service {dos.isoformat()} is {why} (member {coverage.member_id}, "
        f"covered {_span(coverage)}).",
        visit_location(visit, "coverage.start" if before else "coverage.end"),
        "Verify the patient's eligibility on the date of service and bill the payer that "
        f"covered that day, or the patient when none did; {coverage.payer_id} would deny "
        f"the claim (CARC {carc}).")


COVERAGE_INACTIVE = Rule("eligibility.coverage_inactive", Severity.ERROR, coverage_inactive,
                         "Date of service outside the coverage's dates", SOURCE,
                         needs=frozenset({MAY_COVERAGE}))

RULES = (COVERAGE_INACTIVE,)
