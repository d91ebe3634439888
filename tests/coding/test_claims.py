"""Claim building: modifiers (GP/GO/GN, CQ/CO, 59/X, KX), charges and line numbering."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from rehabill.coding import CodingOptions, UnitMethod, claims, code_visit, expected_allowed
from rehabill.coding.claims import expected_allowed_total
from rehabill.coding.modifiers import needs_kx, order_modifiers
from rehabill.domain import D, DistinctReason, Service, TherapyToDate
from rehabill.reference import load
from rehabill.testing import ASSISTANTS, COMMERCIAL, visit_from_terms


def lines(visit) -> list[str]:  # type: ignore[no-untyped-def]
    """Lines as "CODE-MOD-MOD xUNITS"."""
    return [f"{'-'.join((line.code, *line.modifiers))} x{line.units}"
            for line in code_visit(visit).claim.lines]


@pytest.mark.parametrize(("discipline", "terms", "expected"), [
    ("PT", "97110=30", ["97110-GP x2"]),
    ("OT", "97535=30", ["97535-GO x2"]),
    ("SLP", "92507", ["92507-GN x1"]),
    ("PT", "97110=0/30", ["97110-GP-CQ x2"]),
    ("OT", "97530=10/20", ["97530-GO x1", "97530-GO-CO x1"]),
    ("SLP", "92507=10/20", ["92507-GN x1"]),  # SLPAs have no modifier: Medicare does not
])                                             # recognise them (the scrubber says so)
def test_discipline_and_assistant_modifiers(discipline: str, terms: str,
                                            expected: list[str]) -> None:
    assert lines(visit_from_terms(terms, discipline)) == expected


def _with_distinct(terms: str, code: str, reason: DistinctReason | None):  # type: ignore[no-untyped-def]
    visit = visit_from_terms(terms)
    services = tuple(replace(s, distinct=reason) if s.code == code else s for s in visit.services)
    return replace(visit, services=services)


def test_ncci_indicator_1__distinct_column2_gets_x_modifier() -> None:
    visit = _with_distinct("97150 97530=20", "97530", DistinctReason.SEPARATE_ENCOUNTER)
    assert lines(visit) == ["97150-GP x1", "97530-GP-XE x1"]


def test_ncci_indicator_1__not_documented_distinct_gets_nothing() -> None:
    assert lines(visit_from_terms("97150 97530=20")) == ["97150-GP x1", "97530-GP x1"]


def test_ncci_indicator_1__payer_that_takes_only_59() -> None:
    visit = _with_distinct("97150 97530=20", "97530", DistinctReason.SEPARATE_ENCOUNTER)
    claim = code_visit(visit, options=CodingOptions(use_59_only=True)).claim
    assert claim.lines[1].modifiers == ("GP", "59")


def test_ncci_indicator_0__never_unbundled() -> None:
    visit = _with_distinct("97162 97161", "97161", DistinctReason.SEPARATE_ENCOUNTER)
    assert lines(visit) == ["97162-GP x1", "97161-GP x1"]


def test_ncci__pair_deleted_before_the_date_of_service_needs_nothing() -> None:
    # 97140/97530 was an NCCI pair until 2020; it is not in force in 2026.
    visit = _with_distinct("97140=15 97530=15", "97530", DistinctReason.SEPARATE_ENCOUNTER)
    assert lines(visit) == ["97140-GP x1", "97530-GP x1"]


def test_kx__lines_past_the_threshold() -> None:
    visit = visit_from_terms("97530=25 97110=10/13 97161",
                             therapy_to_date=TherapyToDate(pt_slp=D("2400.00")))
    result = code_visit(visit)
    assert [line.modifiers for line in result.claim.lines] == [
        ("GP",), ("GP", "KX"), ("GP", "KX")]
    assert any(note.startswith("KX: PT and SLP allowed amounts this year $2400.00")
               for note in result.units.explanation)


def test_kx__ot_has_its_own_threshold() -> None:
    visit = visit_from_terms("97535=30", "OT", therapy_to_date=TherapyToDate(pt_slp=D("5000")))
    assert lines(visit) == ["97535-GO x2"]
    visit = visit_from_terms("97535=30", "OT", therapy_to_date=TherapyToDate(ot=D("2479")))
    assert lines(visit) == ["97535-GO-KX x2"]


def test_kx__not_for_a_commercial_plan() -> None:
    visit = visit_from_terms("97110=30", coverage=COMMERCIAL,
                             therapy_to_date=TherapyToDate(pt_slp=D("9000")))
    assert lines(visit) == ["97110-GP x2"]


@pytest.mark.parametrize(("before", "amounts", "flags"), [
    ("0", ["100"], (False,)),
    ("2400", ["70.14", "29.06", "100"], (False, True, True)),
    ("2480", ["0.01"], (True,)),
    ("2479.99", ["0.01"], (False,)),
])
def test_needs_kx(before: str, amounts: list[str], flags: tuple[bool, ...]) -> None:
    assert needs_kx(D(before), [D(a) for a in amounts], D("2480.00")) == flags


def test_commercial_plan_uses_per_code_units() -> None:
    visit = visit_from_terms("97112=24 97110=23", coverage=COMMERCIAL)
    result = code_visit(visit)
    assert result.units.method is UnitMethod.PER_CODE
    assert [line.units for line in result.claim.lines] == [2, 2]


def test_charges__documented_charge_wins_else_twice_national_rounded_up() -> None:
    visit = visit_from_terms("97110=30 97140=15")
    services = (visit.services[0], replace(visit.services[1], charge=Decimal("40.00")))
    claim = code_visit(replace(visit, services=services)).claim
    # 97110 2026 national non-facility $29.06 x 2 = $58.12 → $59.00 a unit
    assert [(line.code, line.charge) for line in claim.lines] == [
        ("97110", Decimal("118.00")), ("97140", Decimal("40.00"))]
    assert claim.total_charge == Decimal("158.00")


def test_lines__numbered_with_control_numbers_and_pointers() -> None:
    claim = code_visit(visit_from_terms("97530=25 97110=0/23")).claim
    assert [(line.number, line.control_number) for line in claim.lines] == [
        (1, "V-1-1"), (2, "V-1-2")]
    assert all(line.diagnosis_pointers == (1, 2) for line in claim.lines)
    assert all(line.date_of_service == date(2026, 3, 2) for line in claim.lines)


def test_unknown_code__left_off_with_a_located_error() -> None:
    visit = visit_from_terms("97110=30")
    visit = replace(visit, services=(*visit.services, Service("99213", minutes=20)))
    result = code_visit(visit)
    assert [line.code for line in result.claim.lines] == ["97110"]
    assert [(f.code, f.location.field) for f in result.findings] == [
        ("coding.unknown_code", "services[1].code")]


def test_unknown_code__first_leaves_each_line_pointing_at_its_own_service() -> None:
    # found by the scrubber's screening property: the lines' service indexes counted only the
    # known services, so a finding about 97110's modifiers pointed at the unknown code
    visit = visit_from_terms("97110=30 97150")
    visit = replace(visit, services=(Service("99999"), *visit.services))
    lines = code_visit(visit).claim.lines
    assert [(line.code, line.service_index) for line in lines] == [("97110", 1), ("97150", 2)]
    assert all(visit.services[line.service_index].code == line.code for line in lines)


def test_order_modifiers() -> None:
    assert order_modifiers(["KX", "59", "CQ", "GP", "GP"]) == ("GP", "CQ", "59", "KX")


def test_slp_assistant_minutes__one_line_no_modifier() -> None:
    # Medicare has no SLPA modifier, so the units are not split into identical lines.
    assert lines(visit_from_terms("92507=10/20 97530=30/30", "SLP")) == [
        "92507-GN x1", "97530-GN x4"]


def test_payer_without_assistant_modifiers__one_line_per_code() -> None:
    claim = code_visit(visit_from_terms("97110=20/20"),
                       options=CodingOptions(assistant_modifiers=False)).claim
    assert [(line.modifiers, line.units) for line in claim.lines] == [(("GP",), 3)]


def test_rendering_provider_is_an_assistant__all_units_cq_and_an_error() -> None:
    visit = visit_from_terms("97110=30", rendering_provider=ASSISTANTS["PT"])
    result = code_visit(visit)
    assert [(line.modifiers, line.units) for line in result.claim.lines] == [(("GP", "CQ"), 2)]
    assert [f.code for f in result.findings] == ["coding.rendering_is_assistant"]


def test_assistant_of_another_discipline__modifier_follows_the_plan_and_an_error() -> None:
    visit = visit_from_terms("97110=0/30", assistant=ASSISTANTS["OT"])
    result = code_visit(visit)
    assert result.claim.lines[0].modifiers == ("GP", "CQ")
    assert [f.code for f in result.findings] == ["coding.assistant_discipline_mismatch"]


def test_kx__year_without_a_shipped_fee_schedule_uses_the_nearest_year() -> None:
    visit = visit_from_terms("97110=60", date_of_service=date(2024, 6, 3),
                             therapy_to_date=TherapyToDate(pt_slp=D("2300")))
    assert lines(visit) == ["97110-GP-KX x4"]   # $2,330 threshold in 2024


def test_kx__year_without_a_shipped_threshold_warns() -> None:
    visit = visit_from_terms("97110=30", date_of_service=date(2027, 2, 1),
                             therapy_to_date=TherapyToDate(pt_slp=D("9000")))
    result = code_visit(visit)
    assert result.claim.lines[0].modifiers == ("GP", "KX")
    assert [f.code for f in result.findings] == ["coding.kx_threshold_unknown"]


def test_medicare_advantage__cms_units_without_kx() -> None:
    options = CodingOptions.for_plan("medicare_advantage")
    assert options.method is UnitMethod.CMS and not options.kx


def test_same_code_twice__first_documented_charge_is_used() -> None:
    visit = visit_from_terms("97110=10 97110=10")
    services = (visit.services[0], replace(visit.services[1], charge=Decimal("1.00")))
    claim = code_visit(replace(visit, services=services)).claim
    assert [(line.units, line.charge) for line in claim.lines] == [(1, Decimal("1.00"))]


def _allowed_by_line(claim_lines, on: date):  # type: ignore[no-untyped-def]
    return sum((expected_allowed(line, replace(visit_from_terms("97110=8"), date_of_service=on),
                                 load()) for line in claim_lines), Decimal(0))


@pytest.mark.parametrize("to_date", ["0", "2400.00", "9000"])
def test_expected_allowed_total__remembered_sum_only_for_the_same_lines(to_date: str) -> None:
    # Coding remembers its last KX sum for the scrubber; any other lines, year or tables must
    # be summed afresh, and the remembered sum must equal the fresh one.
    visit = visit_from_terms("97110=20/10 97140=25", therapy_to_date=TherapyToDate(D(to_date)))
    claim = code_visit(visit).claim
    ref, on = load(), visit.date_of_service
    fresh = _allowed_by_line(claim.lines, on)
    assert claims._LAST_TOTAL[0][0] is claim.lines
    assert expected_allowed_total(claim.lines, on, ref, Decimal(0)) == fresh
    assert str(expected_allowed_total(claim.lines, on, ref, Decimal(0))) == str(fresh)
    fewer = claim.lines[:1]
    assert expected_allowed_total(fewer, on, ref) == _allowed_by_line(fewer, on)
    copy = tuple(replace(line, units=line.units + 1) for line in claim.lines)
    assert expected_allowed_total(copy, on, ref) == _allowed_by_line(copy, on)
    other_year = date(on.year - 1, 6, 1)
    assert expected_allowed_total(claim.lines, other_year, ref) \
        == _allowed_by_line(claim.lines, other_year)
    assert expected_allowed_total((), on, ref, Decimal(0)) == Decimal(0)
    assert str(expected_allowed_total((), on, ref, Decimal(0))) == "0"
