"""Coding throughput: visits coded per second, against a floor measured in the same run.

The floor is the cost of only summing each visit's minutes and applying the unit table, which
any correct coder must at least do; the ratio says how much the full engine (allocation, CQ/CO
split, modifiers, NCCI, KX, charges) costs on top.
"""

from __future__ import annotations

import random
import time

from rehabill.coding import code_visit, units_for_minutes
from rehabill.reference import load
from rehabill.testing import visit_from_terms

N = 20_000


def make_visits(n: int, seed: int = 7) -> list:  # type: ignore[type-arg]
    rng = random.Random(seed)
    timed = [c.code for c in load().codes.all() if c.timed and c.code.startswith("97")]
    visits = []
    for i in range(n):
        codes = rng.sample(timed, rng.randint(1, 4))
        terms = " ".join(f"{c}={rng.randint(0, 40)}/{rng.choice([0, 0, rng.randint(0, 25)])}"
                         for c in codes)
        visits.append(visit_from_terms(terms, visit_id=f"V-{i}"))
    return visits


def main() -> None:
    visits = make_visits(N)
    load()
    t0 = time.perf_counter()
    floor = 0
    for v in visits:
        floor += units_for_minutes(sum(s.minutes + s.assistant_minutes for s in v.services))
    t_floor = time.perf_counter() - t0
    t0 = time.perf_counter()
    units = 0
    for v in visits:
        units += code_visit(v).units.timed_units
    t_code = time.perf_counter() - t0
    print(f"visits: {N}")
    print(f"floor (sum minutes + table): {N / t_floor:,.0f} visits/s")
    print(f"code_visit (full coding):    {N / t_code:,.0f} visits/s")
    print(f"ratio full/floor time: {t_code / t_floor:.1f}x")
    print(f"sanity: CMS units {units} == table units {floor}: {units == floor}")


if __name__ == "__main__":
    main()
