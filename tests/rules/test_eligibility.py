"""eligibility.coverage_inactive: a visit outside its coverage's dates is denied (CARC 26/27)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from rehabill.domain import Finding, Severity, Visit
from rehabill.reference import load
from rehabill.rules import RuleContext, scrub
from rehabill.rules.eligibility import coverage_inactive
from rehabill.rules.policy import shipped_policies
from rehabill.testing import MEDICARE, visit_from_terms

TODAY = date(2026, 3, 20)


def _visit_on(day: date, start: date | None = None, end: date | None = None) -> Visit:
    coverage = replace(MEDICARE, start=start, end=end)
    return replace(visit_from_terms("97110=38"), date_of_service=day, coverage=coverage)


def _inactive(visit: Visit) -> list[Finding]:
    policy, fallback = shipped_policies().for_plan(visit.coverage.plan)
    ctx = RuleContext(load(), policy, TODAY, None, None, fallback)
    direct = list(coverage_inactive(visit, ctx))
    scrubbed = [f for f in scrub(visit, ctx) if f.code == "eligibility.coverage_inactive"]
    assert scrubbed == direct  # the screen never hides it
    return direct


def test_coverage_inactive__visit_after_the_coverage_ended() -> None:
    (finding,) = _inactive(_visit_on(date(2026, 3, 10), date(2025, 1, 1), date(2026, 2, 28)))
    assert finding.severity is Severity.ERROR
    assert finding.location.field == "coverage.end"
    assert "2026-03-10" in finding.message and "2025-01-01 to 2026-02-28" in finding.message
    assert "after its coverage by MEDICARE ended" in finding.message
    assert "Verify the patient's eligibility" in finding.fix and "CARC 27" in finding.fix


def test_coverage_inactive__visit_before_the_coverage_began() -> None:
    (finding,) = _inactive(_visit_on(date(2026, 3, 10), start=date(2026, 4, 1)))
    assert finding.location.field == "coverage.start"
    assert "before its coverage by MEDICARE began" in finding.message
    assert "2026-04-01 to open" in finding.message and "CARC 26" in finding.fix


@pytest.mark.parametrize(("start", "end"), [
    (None, date(2026, 3, 10)),               # the last covered day
    (date(2026, 3, 10), None),               # the first covered day
    (None, None),                            # open on both sides (no dates in the file)
    (date(2025, 1, 1), date(2026, 12, 31)),  # well within
])
def test_coverage_inactive__a_covered_day_is_clean(start: date | None,
                                                    end: date | None) -> None:
    assert _inactive(_visit_on(date(2026, 3, 10), start, end)) == []
