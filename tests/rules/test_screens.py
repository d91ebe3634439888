"""The per-visit screens (``Rule.needs``) only skip rules that cannot fire.

The scrubber leaves a rule out when a cheap screen in ``compute_facts`` says it cannot fire;
these properties run every enabled rule directly on varied visits (plans, authorizations,
dates around the filing window and the coverage's dates, year-to-date amounts near KX,
diagnoses, NPIs, member ids, modifiers, units) and require the same findings from the screened run.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from rehabill.domain import Mode, TherapyToDate, Visit
from rehabill.domain.visit import Authorization, PlanOfCare
from rehabill.reference import load
from rehabill.rules import ALL_RULES, RuleContext, scrub
from rehabill.rules.base import IcdStatus
from rehabill.rules.coder import code_for_policy
from rehabill.rules.policy import shipped_policies
from rehabill.testing import COMMERCIAL, visit_from_terms

TODAY = date(2026, 3, 10)
BOOK = shipped_policies()
REF = load()
CODES = ["97110", "97530", "97535", "97112", "97140", "97116", "97150", "97161", "92507",
         "97012", "G0283", "97750", "99999", "97542"]


def icd(code: str) -> IcdStatus:
    return {"M54.5": IcdStatus.HEADER, "Z99.999": IcdStatus.UNKNOWN}.get(code,
                                                                         IcdStatus.BILLABLE)


def day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


TERM = st.tuples(st.sampled_from(CODES), st.integers(0, 40), st.sampled_from([0, 0, 5, 12]))

VISITS = st.builds(
    lambda terms, dos, plan, auth, to_date, dx, npi, member, plan_name, mods, units, mode,
    text, discipline, cover: _covered(
        _visit(terms, dos, plan, auth, to_date, dx, npi, member, plan_name, mods, units, mode,
               text, discipline), cover),
    st.lists(TERM, min_size=1, max_size=4),
    st.integers(-420, 5),
    st.none() | st.tuples(st.integers(-200, 0), st.integers(-10, 120),
                          st.none() | st.integers(-5, 60), st.sampled_from(["", "1457390007"])),
    st.none() | st.tuples(st.integers(-60, 5), st.integers(-5, 60), st.integers(0, 14),
                          st.none() | st.integers(0, 12)),
    st.sampled_from(["0", "2300", "2400", "2470", "2999", "3050"]),
    st.lists(st.sampled_from(["I69.351", "M54.5", "Z99.999", "bad", "R26.89"]), max_size=2),
    st.sampled_from(["1306849450", "1306849451"]),
    st.sampled_from(["1EG4TE5MK73", "12345"]),
    st.sampled_from(["medicare_part_b", "commercial", "lonestar_choice_ppo", "zzz"]),
    st.sampled_from([(), ("GP",), ("GO",), ("GP", "CQ"), ("GP", "59"), ("GP", "KX"), ("XS",)]),
    st.sampled_from([None, 0, 1, 2, 5]),
    st.sampled_from([Mode.ONE_ON_ONE, Mode.ONE_ON_ONE, Mode.GROUP]),
    st.sampled_from(["", "same", "a"]),
    st.sampled_from(["PT", "OT", "SLP"]),
    # the coverage's start and end around the date of service (None: open)
    st.tuples(st.none() | st.integers(-3, 3), st.none() | st.integers(-3, 3)),
)


def _covered(visit: Visit, cover: tuple[int | None, int | None]) -> Visit:
    start, end = (None if d is None else visit.date_of_service + timedelta(days=d)
                  for d in cover)
    if start is not None and end is not None and end < start:
        start, end = end, start
    return replace(visit, coverage=replace(visit.coverage, start=start, end=end))


def _visit(terms: list[tuple[str, int, int]], dos: int, plan: tuple[int, int, int | None, str]
           | None, auth: tuple[int, int, int, int | None] | None, to_date: str, dx: list[str],
           npi: str, member: str, plan_name: str, mods: tuple[str, ...], units: int | None,
           mode: Mode, text: str, discipline: str) -> Visit:
    visit = visit_from_terms(" ".join(f"{c}={t}/{a}" for c, t, a in terms), discipline)
    when = day(dos)
    services = tuple(replace(s, modifiers=mods if i == 0 else s.modifiers,
                             units=units if i == 0 else s.units, mode=mode if i == 0 else s.mode,
                             activity=text or s.activity, goal=text or s.goal,
                             assistance=text)
                     for i, s in enumerate(visit.services))
    coverage = replace(visit.coverage if plan_name == "medicare_part_b" else COMMERCIAL,
                       plan=plan_name, member_id=member)
    return replace(
        visit, date_of_service=when, services=services, diagnoses=tuple(dx),
        coverage=coverage, referring_npi=npi,
        plan_of_care=None if plan is None else PlanOfCare(
            when + timedelta(days=plan[0]), when + timedelta(days=plan[1]),
            None if plan[2] is None else when + timedelta(days=plan[0] + plan[2]), plan[3]),
        authorization=None if auth is None else Authorization(
            "A1", when + timedelta(days=auth[0]), when + timedelta(days=auth[1]), 12, auth[2],
            auth[3]),
        therapy_to_date=TherapyToDate(pt_slp=Decimal(to_date), ot=Decimal(to_date)))


@settings(max_examples=400, deadline=None)
@given(VISITS, st.booleans())
def test_screens__skip_no_finding_that_running_every_rule_gives(visit: Visit,
                                                                coded: bool) -> None:
    policy, fallback = BOOK.for_plan(visit.coverage.plan)
    claim = code_for_policy(visit, policy, REF)[0] if coded else None
    ctx = RuleContext(REF, policy, TODAY, claim, icd, fallback)
    every = sorted((f.code, str(f.location), f.message)
                   for rule in ALL_RULES if rule.code not in policy.disabled_rules
                   for f in rule.function(visit, ctx))
    fast = sorted((f.code, str(f.location), f.message) for f in scrub(visit, ctx))
    assert fast == every
