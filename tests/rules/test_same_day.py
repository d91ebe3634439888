"""The same-day rules over a batch: indexed once per patient-day, the findings of comparing pairs.

``scrub_visits`` used to hand every visit a tuple of the patient's other visits that day and the
rules compared them pair by pair: N^2 time and memory for N visits on one patient-day. The
reference below is that formulation, kept to prove the indexed batch gives the same findings.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import rehabill.rules as package
from rehabill.domain import Finding, Visit
from rehabill.reference import load
from rehabill.rules import RuleContext, SameDay, ScrubResult, ScrubSettings, same_day
from rehabill.rules.base import IcdStatus, facts_of, finding, service_location, visit_location
from rehabill.rules.policy import shipped_policies
from rehabill.testing import PATIENT, visit_from_terms

TODAY = date(2026, 3, 10)
DOS = "2026-03-02"
SETTINGS = ScrubSettings(load(), TODAY, shipped_policies(), lambda code: IcdStatus.BILLABLE)
NAMED = same_day.NAMED_DUPLICATES


def on_plan(visit: Visit, plan: str) -> Visit:
    return replace(visit, coverage=replace(visit.coverage, plan=plan))


# The reference: the same-day rules as they were, reading every other visit.

def _others(day: SameDay) -> tuple[Visit, ...]:
    """Every other visit the view stands for, listed in full (what the batch used to pass)."""
    return tuple(v for v in day.day.visits if v is not day.seen_from)


def _pairwise_duplicate_service(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    for other in _others(ctx.same_day):
        shared = set(facts_of(visit, ctx).codes & {s.code for s in other.services})
        for index, service in enumerate(visit.services):
            if service.code in shared:
                yield finding(
                    same_day.DUPLICATE_SERVICE,
                    f"{service.code} is also billed on visit {other.visit_id} for the same "
                    f"patient on {visit.date_of_service.isoformat()}.",
                    service_location(visit, index, "code"),
                    "Bill the day's services on one claim (timed minutes are counted per day), "
                    "or void the duplicate.")
                shared.discard(service.code)


def _pairwise_visits_per_day(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    limit = ctx.policy.visits_per_day
    count = len(_others(ctx.same_day)) + 1
    if limit is not None and count > limit:
        yield finding(
            same_day.VISITS_PER_DAY,
            f"The patient has {count} visits on {visit.date_of_service.isoformat()}; "
            f"{ctx.policy.title} pays {limit} per day.",
            visit_location(visit, "date_of_service"),
            "Combine the day's services on one claim, or get the payer's approval.")


PAIRWISE = {
    same_day.DUPLICATE_SERVICE.code: replace(same_day.DUPLICATE_SERVICE,
                                             function=_pairwise_duplicate_service),
    same_day.VISITS_PER_DAY.code: replace(same_day.VISITS_PER_DAY,
                                          function=_pairwise_visits_per_day),
}


@contextmanager
def _pairwise_rules() -> Iterator[None]:
    saved = package.ALL_RULES
    package.ALL_RULES = tuple(PAIRWISE.get(rule.code, rule) for rule in saved)
    package._enabled_cache.clear()
    package._needs_cache.clear()
    try:
        yield
    finally:
        package.ALL_RULES = saved
        package._enabled_cache.clear()
        package._needs_cache.clear()


def pairwise_scrub_visits(visits: list[Visit], fix: bool) -> list[ScrubResult]:
    """``scrub_visits`` as it was: each visit is given a tuple of every other visit of its
    patient-day (every copy of itself left out), and the rules compare pairs."""
    by_day: dict[tuple[str, date], list[Visit]] = {}
    for visit in visits:
        by_day.setdefault((visit.patient.id, visit.date_of_service), []).append(visit)
    with _pairwise_rules():
        return [package.scrub_visit(visit, SETTINGS, fix=fix, same_day=tuple(
            other for other in by_day[(visit.patient.id, visit.date_of_service)]
            if other is not visit)) for visit in visits]


TERMS = ("97110=20", "97140=15", "97530=25", "97112=10", "97161", "97110=8", "97140=30")


@st.composite
def batches(draw: Any) -> list[Visit]:
    """A few visits over two patients, two dates and two payers (one paying a visit a day),
    listed in any order, the same visit object possibly more than once; never more than
    ``NAMED + 1`` listed, so no code is billed past the named duplicates."""
    pool = []
    for number in range(draw(st.integers(1, 5))):
        visit = visit_from_terms(
            " ".join(draw(st.lists(st.sampled_from(TERMS), min_size=1, max_size=3))),
            visit_id=draw(st.sampled_from(("V-1", "V-2", f"V-{number + 10}"))),
            patient=replace(PATIENT, id=draw(st.sampled_from(("P-1", "P-2")))),
            date_of_service=draw(st.sampled_from((date(2026, 3, 2), date(2026, 3, 3)))))
        visit = on_plan(visit, draw(st.sampled_from(("medicare_part_b", "lonestar_choice_ppo"))))
        if draw(st.booleans()):  # documented units the fixes will correct
            first = replace(visit.services[0], units=draw(st.integers(0, 4)))
            visit = replace(visit, services=(first, *visit.services[1:]))
        pool.append(visit)
    picks = draw(st.lists(st.integers(0, len(pool) - 1), min_size=1, max_size=NAMED + 1))
    return [pool[i] for i in picks]


@settings(max_examples=250, deadline=None)
@given(batches(), st.booleans())
def test_scrub_visits__same_results_as_comparing_every_pair(visits: list[Visit],
                                                          fix: bool) -> None:
    assert package.scrub_visits(visits, SETTINGS, fix=fix) == pairwise_scrub_visits(visits, fix)


def test_scrub_visits__same_results_as_comparing_every_pair_on_a_busy_day() -> None:
    a = replace(visit_from_terms("97110=20 97140=15 97110=10"), visit_id="V-A")
    b = replace(visit_from_terms("97140=20 97530=25"), visit_id="V-B")
    c = on_plan(replace(visit_from_terms("97530=25 97110=20"), visit_id="V-C"),
                "lonestar_choice_ppo")
    d = replace(visit_from_terms("97110=20"), visit_id="V-D")
    # [b, d, b]: b's two listings are neighbours among the 97140 visits, not in the day.
    for visits in ([a, b, c], [c, a, c, b], [a, a, b], [a, a], [b, c, b, c, a, b], [a, b, d, b],
                   [d, b, d, b, d, a]):
        for fix in (False, True):
            assert package.scrub_visits(visits, SETTINGS, fix=fix) == \
                pairwise_scrub_visits(visits, fix)


def duplicates(result: ScrubResult) -> list[tuple[str, str]]:
    return [(f.location.field, f.message) for f in result.findings
            if f.code == same_day.DUPLICATE_SERVICE.code]


def test_duplicate_service__past_the_named_visits_one_finding_counts_the_rest() -> None:
    base = visit_from_terms("97110=20")
    visits = [replace(base, visit_id=f"V-{i}") for i in range(NAMED + 3)]
    results = package.scrub_visits(visits, SETTINGS)
    assert duplicates(results[0]) == [
        ("services[0].code", f"97110 is also billed on {where} for the same patient on {DOS}.")
        for where in [f"visit V-{i}" for i in range(1, NAMED + 1)] + ["2 more visits"]]
    assert duplicates(results[-1])[-1][1] == \
        f"97110 is also billed on 2 more visits for the same patient on {DOS}."
    one_more = package.scrub_visits(visits[:NAMED + 2], SETTINGS)
    assert duplicates(one_more[0])[-1][1] == \
        f"97110 is also billed on 1 more visit for the same patient on {DOS}."


def test_duplicate_service__a_visit_listed_again_and_again_is_not_its_own_duplicate() -> None:
    alone = visit_from_terms("97110=20")
    other = replace(alone, visit_id="V-2")
    results = package.scrub_visits([alone] * 2000 + [other], SETTINGS)
    assert duplicates(results[0]) == duplicates(results[1999]) == [
        ("services[0].code", f"97110 is also billed on visit V-2 for the same patient on {DOS}.")]
    assert [m for _, m in duplicates(results[-1])] == [
        f"97110 is also billed on visit V-1 for the same patient on {DOS}."] * NAMED + [
        f"97110 is also billed on {2000 - NAMED} more visits for the same patient on {DOS}."]


def test_scrub_visits__twenty_thousand_visits_on_one_patient_day_in_linear_time() -> None:
    base = on_plan(visit_from_terms("97110=20"), "lonestar_choice_ppo")
    n = 20_000
    visits = [replace(base, visit_id=f"V-{i}") for i in range(n)]
    start = time.perf_counter()
    results = package.scrub_visits(visits, SETTINGS)
    elapsed = time.perf_counter() - start
    # Comparing pairs took 26 s for 1,000 such visits and ran out of 4 GiB at 20,000.
    assert elapsed < 30, elapsed
    rest = f"97110 is also billed on {n - 1 - NAMED} more visits for the same patient on {DOS}."
    per_day = f"The patient has {n} visits on {DOS}; Lone Star Choice PPO pays 1 per day."
    for i, result in enumerate(results):
        named = [j for j in range(NAMED + 1) if j != i][:NAMED]
        assert [f.message for f in result.findings] == [
            f"97110 is also billed on visit V-{j} for the same patient on {DOS}." for j in named
        ] + [rest, per_day], i
