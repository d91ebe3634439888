"""The 8-minute rule, in the notation of the CLI: "CODE=MIN" or "CODE=MIN/ASSISTANT_MIN"."""

from __future__ import annotations

import pickle
from dataclasses import astuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rehabill.coding import UnitMethod, compute, units, units_for_minutes
from rehabill.domain import Service
from rehabill.reference import load
from rehabill.testing import visit_from_terms

REF = load()
TIMED = sorted(c.code for c in REF.codes.all() if c.timed)


def bill(terms: str, method: str = "cms") -> str:
    """Billed lines as "CODE xN" (with "+A" for CQ/CO units), in claim order."""
    result = compute(visit_from_terms(terms).services, UnitMethod(method), REF.codes.is_timed)
    return " ".join(f"{line.code}x{line.units}{'+A' if line.by_assistant else ''}"
                    for line in result.lines if line.units)


@pytest.mark.parametrize(("minutes", "units"), [
    (0, 0), (7, 0), (8, 1), (22, 1), (23, 2), (37, 2), (38, 3), (52, 3), (53, 4), (67, 4),
    (68, 5), (82, 5), (83, 6), (97, 6), (98, 7), (112, 7), (113, 8), (127, 8), (128, 9),
    (142, 9), (143, 10), (247, 16), (248, 17),
])
def test_units_for_minutes__cms_table(minutes: int, units: int) -> None:
    assert units_for_minutes(minutes) == units


@pytest.mark.parametrize(("terms", "billed"), [
    # CMS Pub 100-04 ch.5 §20.2 examples
    ("97112=24 97110=23", "97112x2 97110x1"),       # 47 min: 9 left beats 8 left
    ("97112=20 97110=20", "97112x1 97110x2"),       # 40 min: tie on 5 left, either is right
    ("97110=33 97140=7", "97110x2 97140x1"),        # 40 min: 7 left beats 3 left
    ("97110=18 97140=13 97035=10", "97110x1 97140x1 97035x1"),  # 41 min
    ("97112=7 97110=7 97140=7", "97110x1"),         # 21 min: one unit; a tie, the lower code
    ("97110=7", ""),                                # a lone service under 8 minutes bills nothing
    ("97110=8", "97110x1"),
    ("97110=5 97140=3", "97110x1"),                 # two ≤7 add to 8: the one with most minutes
    ("97140=3 97110=5", "97110x1"),
    ("97110=16 97140=6", "97110x1"),                # 22 min: 1 unit; 97110 keeps its full block
    ("97110=15 97140=7 97035=7", "97110x1 97035x1"),  # 29 min: 2 units
    ("97530=60 97110=45 97140=30", "97530x4 97110x3 97140x2"),   # 135 min → 9 units
    ("97530=130", "97530x9"),                       # more than 8 units: the table continues
    ("97161 97110=10", "97161x1 97110x1"),          # untimed: 1 unit, not part of the total
    ("97150 97010", "97150x1 97010x1"),
])
def test_cms_total_time_method(terms: str, billed: str) -> None:
    assert bill(terms) == billed


@pytest.mark.parametrize(("terms", "billed"), [
    ("97112=24 97110=23", "97112x2 97110x2"),
    ("97112=7 97110=7 97140=7", ""),
    ("97110=33 97140=7", "97110x2"),
    ("97110=8 97140=8", "97110x1 97140x1"),
    ("97161 97530=22", "97161x1 97530x1"),
])
def test_per_code_method(terms: str, billed: str) -> None:
    assert bill(terms, "per-code") == billed


@pytest.mark.parametrize(("terms", "billed"), [
    # CY2022 PFS final rule / CMS CQ-CO billing examples
    ("97110=13/23 97140=30", "97110x1 97110x1+A 97140x2"),  # PT ≥ 8 of the final unit
    ("97110=5/10", "97110x1+A"),          # PTA ≥ 8, PT < 8: the final unit takes CQ
    ("97110=10/5", "97110x1"),            # PT ≥ 8: no CQ
    ("97110=14/14", "97110x1 97110x1+A"),  # two units left, each 9-14 min: one of each
    ("97110=20/20", "97110x1 97110x2+A"),  # third unit: PTA 5 of 10 min is over 10%
    ("97110=15/1", "97110x1"),            # PTA within the de minimis
    ("97110=7/1", "97110x1+A"),           # 1 of 8 min is 12.5%: over the de minimis
    ("97110=0/30", "97110x2+A"),          # all by the assistant
    ("97110=30/0", "97110x2"),
    ("97150=20/10", "97150x1+A"),         # untimed: assistant over 10% of the service
    ("97150=45/5", "97150x1"),            # untimed: exactly 10% is within the de minimis
])
def test_assistant_split(terms: str, billed: str) -> None:
    assert bill(terms) == billed


def test_explanation__names_minutes_and_units() -> None:
    result = compute(visit_from_terms("97112=24 97110=23").services, UnitMethod.CMS,
                     REF.codes.is_timed)
    assert result.explanation[0].startswith("47 timed minutes → 3 units")
    assert "97112 has 24 min: 1 full unit + 9 min left" in result.explanation
    assert any("largest remainder: 97112 (9 min)" in n for n in result.explanation)


def test_explanation__tie_says_either_choice_is_correct() -> None:
    result = compute(visit_from_terms("97112=20 97110=20").services, UnitMethod.CMS,
                     REF.codes.is_timed)
    assert any(n.startswith("tie: 97110, 97112") and "either" in n for n in result.explanation)


def test_same_code_twice__minutes_are_summed() -> None:
    assert bill("97110=10 97110=10") == "97110x1"


service_terms = st.lists(
    st.tuples(st.sampled_from(TIMED), st.integers(0, 60), st.integers(0, 60)),
    min_size=1, max_size=6, unique_by=lambda t: t[0],
).map(lambda ts: " ".join(f"{c}={t}/{a}" for c, t, a in ts))


@given(service_terms)
def test_property__cms_total_equals_the_table(terms: str) -> None:
    visit = visit_from_terms(terms)
    result = compute(visit.services, UnitMethod.CMS, REF.codes.is_timed)
    total = sum(s.total_minutes for s in visit.services)
    assert result.timed_units == units_for_minutes(total)
    assert result.total_timed_minutes == total


@given(service_terms, st.sampled_from(["cms", "per-code"]))
def test_property__no_code_gets_more_than_its_minutes_allow(terms: str, method: str) -> None:
    visit = visit_from_terms(terms)
    result = compute(visit.services, UnitMethod(method), REF.codes.is_timed)
    for service in visit.services:
        # A code's own minutes justify at most ceil(minutes/15) units under either method.
        limit = -(-service.total_minutes // 15)
        assert result.units_for(service.code) <= limit
        if service.total_minutes >= 15:
            assert result.units_for(service.code) >= 1


@given(service_terms, st.integers(0, 5), st.integers(1, 30), st.sampled_from(["cms", "per-code"]))
def test_property__adding_minutes_never_lowers_the_total(terms: str, which: int, extra: int,
                                                          method: str) -> None:
    visit = visit_from_terms(terms)
    before = compute(visit.services, UnitMethod(method), REF.codes.is_timed).timed_units
    services = list(visit.services)
    i = which % len(services)
    services[i] = services[i].__class__(services[i].code, services[i].minutes + extra,
                                        services[i].assistant_minutes)
    after = compute(services, UnitMethod(method), REF.codes.is_timed).timed_units
    assert after >= before


@given(service_terms, st.sampled_from(["cms", "per-code"]))
def test_property__assistant_split_keeps_the_code_total(terms: str, method: str) -> None:
    visit = visit_from_terms(terms)
    split = compute(visit.services, UnitMethod(method), REF.codes.is_timed)
    whole = compute(visit.services, UnitMethod(method), REF.codes.is_timed,
                    split_assistant=False)
    assert split.total_units == whole.total_units
    for service in visit.services:
        assert split.units_for(service.code) == whole.units_for(service.code)


@given(service_terms, st.randoms(use_true_random=False), st.sampled_from(["cms", "per-code"]))
def test_property__the_order_services_are_typed_in_never_matters(terms: str, rnd, method: str
                                                                  ) -> None:  # type: ignore[no-untyped-def]
    services = list(visit_from_terms(terms).services)
    shuffled = services[:]
    rnd.shuffle(shuffled)

    def billed(ss):  # type: ignore[no-untyped-def]
        result = compute(ss, UnitMethod(method), REF.codes.is_timed)
        return sorted((line.code, line.units, line.by_assistant) for line in result.lines)

    assert billed(services) == billed(shuffled)


@pytest.mark.parametrize(("terms", "billed"), [
    # A tie between a therapist's and an assistant's remainder: the final unit is the
    # therapist's (no CQ), whichever order the codes are typed in.
    ("97112=0/8 97140=8", "97140x1"),
    ("97140=8 97112=0/8", "97140x1"),
    ("97112=0/7 97140=7", "97140x1"),
    ("97112=0/22 97140=22", "97112x1+A 97140x2"),
    ("97140=22 97112=0/22", "97140x2 97112x1+A"),
    ("97112=1/7 97140=8", "97140x1"),   # more therapist minutes never adds a CQ unit
])
def test_cross_code_ties_prefer_the_therapists_final_unit(terms: str, billed: str) -> None:
    assert bill(terms) == billed


minute_triples = st.lists(
    st.tuples(st.sampled_from([*TIMED, "97161", "97150"]), st.integers(-2, 60),
              st.integers(0, 60)),
    min_size=1, max_size=5)


@given(minute_triples, st.sampled_from(list(UnitMethod)), st.booleans())
def test_unit_rows__are_the_lines_of_compute(triples: list[tuple[str, int, int]],
                                               method: UnitMethod, split: bool) -> None:
    # Claim building reads the plain rows; they must be exactly compute()'s lines.
    services = [Service(c, t, a) for c, t, a in triples]
    result = compute(services, method, REF.codes.is_timed, split_assistant=split)
    rows = units.unit_rows(services, method, REF.codes.is_timed, split)
    assert rows == tuple(astuple(line) for line in result.lines)
    assert result.method is method


def test_code_minutes__is_a_value() -> None:
    a, b = units.CodeMinutes.of("97110", 10, 5), units.CodeMinutes.of("97110", 10, 5)
    assert a == b and hash(a) == hash(b) and a != units.CodeMinutes.of("97110", 10, 6)
    assert a.total == 15 and (a == ("97110",)) is False
    assert pickle.loads(pickle.dumps(a)) == a
    assert repr(a) == ("CodeMinutes(code='97110', therapist=10, assistant=5, timed=True, "
                       "position=0, total=15)")
