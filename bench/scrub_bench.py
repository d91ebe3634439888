"""Scrubber throughput: claims scrubbed per second on one core, against baselines from this run.

Generates >= 100k realistic visits in memory (mixed payers, disciplines, assistants, modes,
documented units/modifiers, NCCI pairs), then times, on one process (one core):

- floor:        a trivial pass over every service of every visit (the least any scrubber does);
- coding:       ``rehabill.coding.code_visit`` alone (building the claims);
- rules only:   ``rehabill.rules.scrub`` on visits already coded (the rule catalog's own cost);
- scrub_visit:  the whole job per visit (choose policy, code, run every rule, merge findings);
- scrub_visits: the same for the whole set as one batch, as ``rehabill scrub FILE`` and the
                books run it (same-day index per patient-day, the cyclic collector paused);

each on a stress set (random code mixes: about three findings per claim) and on a typical set
(usual documented combinations, clean claims); every visit is its own patient's.

Times are CPU time of this process (``time.process_time``), so "per core" holds even when
other work shares the machine.

It prints which build it runs (interpreted, or compiled by mypyc: ``bench/compiled_bench.py``
runs both). Run: ``PYTHONPATH=src python bench/scrub_bench.py [N]``.
"""

from __future__ import annotations

import gc
import random
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import date

from rehabill.domain import Coverage, Mode, Visit
from rehabill.reference import load
from rehabill.rules import RuleContext, ScrubSettings, scrub, scrub_visit, scrub_visits
from rehabill.rules import base as rules_base
from rehabill.rules.coder import code_for_policy
from rehabill.rules.policy import shipped_policies
from rehabill.services import icd10
from rehabill.testing import ASSISTANTS, visit_from_terms

TODAY = date(2026, 3, 10)
PLANS = ("medicare_part_b", "medicare_part_b", "medicare_part_b", "commercial",
         "lonestar_choice_ppo", "some_hmo")
DIAGNOSES = ("I69.351", "R26.89", "M54.50", "M54.5", "M17.11", "S83.511A", "R13.12")


def make_visits(n: int, seed: int = 11) -> list[Visit]:
    """``n`` varied visits; about a third trip at least one error rule."""
    rng = random.Random(seed)
    timed = [c.code for c in load().codes.all() if c.timed and c.code.startswith("97")]
    untimed = ["97161", "97164", "97150", "97012", "97014"]
    visits = []
    for i in range(n):
        terms = [f"{c}={rng.randint(0, 40)}/{rng.choice([0, 0, 0, rng.randint(0, 25)])}"
                 for c in rng.sample(timed, rng.randint(1, 4))]
        if rng.random() < 0.3:
            terms.append(rng.choice(untimed))
        visit = visit_from_terms(" ".join(terms), visit_id=f"V-{i}",
                                 diagnoses=tuple(rng.sample(DIAGNOSES, 2)),
                                 visit_number_in_episode=rng.randint(1, 35))
        visit = replace(visit, patient=replace(visit.patient, id=f"P-{i}"))
        plan = rng.choice(PLANS)
        if plan != "medicare_part_b":
            visit = replace(visit, coverage=Coverage("P1", "Payer", "W1", plan))
        if rng.random() < 0.2:
            visit = _document_units(visit, rng)
        if rng.random() < 0.05:
            visit = replace(visit, services=tuple(replace(s, mode=Mode.GROUP)
                                                  for s in visit.services))
        if visit.assistant is None and rng.random() < 0.05:
            visit = replace(visit, assistant=ASSISTANTS["OT"])
        visits.append(visit)
    return visits


TYPICAL = ("97530={a} 97110={b}", "97110={a} 97140={b}", "97112={a} 97116={b}",
           "97530={a} 97535={b}", "97110={a} 97112={b} 97140={c}", "97110={a}/{c} 97530={b}",
           "97161", "97164 97110={a}", "97140={a} 97035={c}")


def make_typical_visits(n: int, seed: int = 5) -> list[Visit]:
    """``n`` visits as practices usually document them (most are clean)."""
    rng = random.Random(seed)
    visits = []
    for i in range(n):
        terms = rng.choice(TYPICAL).format(a=rng.randint(15, 30), b=rng.randint(8, 25),
                                            c=rng.randint(8, 15))
        visit = visit_from_terms(terms, visit_id=f"T-{i}")
        visits.append(replace(visit, patient=replace(visit.patient, id=f"P-{i}"), services=tuple(
            replace(s, activity=f"activity for {s.code}") for s in visit.services)))
    return visits


def _document_units(visit: Visit, rng: random.Random) -> Visit:
    return replace(visit, services=tuple(
        replace(s, units=max(0, (s.total_minutes + 7) // 15 + rng.choice([0, 0, 1, -1])),
                modifiers=rng.choice([("GP",), ("GO",), ("GP", "CQ"), ("GP", "59")]))
        for s in visit.services))


def timed(label: str, n: int, seconds: float, floor: float) -> None:
    print(f"{label:<34} {n / seconds:>12,.0f} claims/s/core   {seconds / floor:>7.1f}x floor")


def measure(label: str, visits: list[Visit], settings: ScrubSettings, floor: float) -> None:
    """Time coding, the rules alone and the whole scrub_visit over ``visits``."""
    n, reference, book = len(visits), settings.reference, settings.policies
    t0 = time.process_time()
    coded = []
    for visit in visits:
        policy, fallback = book.for_plan(visit.coverage.plan)
        claim, _ = code_for_policy(visit, policy, reference)
        coded.append(RuleContext(reference, policy, TODAY, claim, icd10.check, fallback))
    coding = time.process_time() - t0

    t0 = time.process_time()
    for visit, ctx in zip(visits, coded, strict=True):
        scrub(visit, ctx)
    rules_only = time.process_time() - t0
    del coded

    t0 = time.process_time()
    results = [scrub_visit(visit, settings) for visit in visits]
    whole = time.process_time() - t0
    del results

    t0 = time.process_time()
    results = scrub_visits(visits, settings)
    batch = time.process_time() - t0

    print(f"-- {label}: {n:,} visits")
    timed("coding only (code_visit)", n, coding, floor)
    timed("rules only (scrub, pre-coded)", n, rules_only, floor)
    timed("scrub_visit (policy+code+rules)", n, whole, floor)
    timed("scrub_visits (the batch, as CLI)", n, batch, floor)
    counts = Counter(f.code for r in results for f in r.findings)
    print(f"   held {sum(r.has_errors for r in results):,}; "
          f"{sum(counts.values()) / n:.2f} findings per claim; top: {counts.most_common(4)}")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    compiled = rules_base.__file__ is not None and not rules_base.__file__.endswith(".py")
    print(f"build: {'compiled by mypyc' if compiled else 'interpreted'} ({rules_base.__file__})")
    t0 = time.process_time()
    stress, typical = make_visits(n), make_typical_visits(n)
    print(f"generated 2 x {n:,} visits in {time.process_time() - t0:.1f}s (not timed below)")
    gc.collect()
    gc.freeze()  # the generated input is long-lived: keep the cyclic GC from rescanning it
    settings = ScrubSettings(load(), TODAY, shipped_policies(), icd10.check)
    for visit in stress[:2000] + typical[:2000]:  # warm caches: ICD, fees, policies
        scrub_visit(visit, settings)

    t0 = time.process_time()
    total = 0
    for visit in stress:
        for service in visit.services:
            total += service.minutes + service.assistant_minutes
    floor = time.process_time() - t0
    print(f"{'floor (sum every service minutes)':<34} {n / floor:>12,.0f} claims/s/core")
    measure("stress set (random codes, many findings)", stress, settings, floor)
    measure("typical set (usual documentation, clean)", typical, settings, floor)


if __name__ == "__main__":
    main()
