"""scrub_visit end to end with the coding engine, the safe fixes, and robustness."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import rehabill.rules as package
from rehabill.domain import Finding, Mode, Severity, TherapyToDate, Visit, parse_visits
from rehabill.reference import load
from rehabill.rules import (
    ALL_RULES,
    Rule,
    RuleContext,
    ScrubSettings,
    enabled_rules,
    scrub,
    scrub_visit,
)
from rehabill.rules.base import IcdStatus
from rehabill.rules.coder import code_for_policy
from rehabill.rules.policy import shipped_policies
from rehabill.testing import finding_codes, visit_from_terms

TODAY = date(2026, 3, 10)


def billable(code: str) -> IcdStatus:
    return IcdStatus.BILLABLE


SETTINGS = ScrubSettings(load(), TODAY, shipped_policies(), billable)


def svc(visit: Visit, index: int = 0, **fields: Any) -> Visit:
    services = list(visit.services)
    services[index] = replace(services[index], **fields)
    return replace(visit, services=tuple(services))


def test_scrub_visit__clean_visit_has_a_coded_claim_and_no_findings() -> None:
    result = scrub_visit(visit_from_terms("97530=25 97110=20 97161"), SETTINGS)
    assert result.findings == ()
    assert result.claim is not None
    assert [(line.code, line.units) for line in result.claim.lines] == \
        [("97530", 2), ("97110", 1), ("97161", 1)]
    assert result.policy.name == "medicare_part_b" and not result.has_errors


def test_scrub_visit__errors_come_first() -> None:
    visit = svc(replace(visit_from_terms("97530=25 97110=20"),
                        treatment_days_since_progress_report=11), 0, assistance="")
    severities = [f.severity for f in scrub_visit(visit, SETTINGS).findings]
    assert severities == sorted(severities, key=lambda s: s.rank)
    assert severities[0] is Severity.ERROR and severities[-1] is Severity.WARNING


def test_scrub_visit__documented_units_compared_under_the_payer_method() -> None:
    # 97530=25 and 97110=5: CMS gives 2 units for 30 minutes, both to 97530, so a documented
    # unit of 97110 is wrong; per-code gives 97110 nothing for its 5 minutes.
    visit = svc(visit_from_terms("97530=25 97110=5"), 1, units=1)
    assert "units.mismatch" in finding_codes(scrub_visit(visit, SETTINGS).findings)
    commercial = replace(visit, coverage=replace(visit.coverage, plan="commercial"))
    assert "units.below_eight_minutes" in finding_codes(scrub_visit(commercial, SETTINGS).findings)


def test_scrub_visit__cms_and_per_code_differ() -> None:
    # 97110=10 and 97140=10: CMS 20 min → 1 unit; per-code 10 ≥ 8 for each → 2 units.
    visit = svc(svc(visit_from_terms("97110=10 97140=10"), 0, units=1), 1, units=1)
    assert "units.mismatch" in finding_codes(scrub_visit(visit, SETTINGS).findings)
    commercial = replace(visit, coverage=replace(visit.coverage, plan="commercial"))
    assert "units.mismatch" not in finding_codes(scrub_visit(commercial, SETTINGS).findings)


def test_scrub_visit__fix_sets_units_and_discipline_modifier_and_reports_each() -> None:
    visit = svc(visit_from_terms("97530=25 97110=20"), 0, units=3, modifiers=("GO",))
    result = scrub_visit(visit, SETTINGS, fix=True)
    assert result.findings == ()
    assert {(c.field, c.before, c.after, c.reason) for c in result.changes} == {
        ("services[0].units", "3", "2", "units.mismatch"),
        ("services[0].modifiers", "GO", "GP", "modifiers.discipline_wrong"),
    }
    assert result.visit.services[0].units == 2
    assert result.visit.services[0].modifiers == ("GP",)


def test_scrub_visit__fix_sets_units_to_zero_under_eight_minutes() -> None:
    visit = replace(svc(visit_from_terms("97110=5"), 0, units=1),
                    coverage=replace(visit_from_terms("97110").coverage, plan="commercial"))
    result = scrub_visit(visit, SETTINGS, fix=True)
    assert [(c.field, c.after) for c in result.changes] == [("services[0].units", "0")]
    assert "units.below_eight_minutes" not in finding_codes(result.findings)


def test_scrub_visit__fix_leaves_unsafe_problems_alone() -> None:
    visit = svc(visit_from_terms("97530=25"), 0, mode=Mode.GROUP)
    result = scrub_visit(visit, SETTINGS, fix=True)
    assert result.changes == ()
    assert "mode.individual_code_in_group" in finding_codes(result.findings)


def test_scrub_visit__without_fix_changes_nothing() -> None:
    visit = svc(visit_from_terms("97110=20"), 0, modifiers=("KX",))
    result = scrub_visit(visit, SETTINGS)
    assert result.changes == () and result.visit is visit
    assert next(f for f in result.findings if f.code == "modifiers.discipline_missing").auto_fix


def test_scrub_visit__unknown_code_reported_once() -> None:
    result = scrub_visit(visit_from_terms("97999=20 97110=20"), SETTINGS)
    unknown = [f for f in result.findings if "unknown_code" in f.code]
    assert [f.code for f in unknown] == ["identity.unknown_code"]


def test_scrub_visit__without_coder_scrubs_documentation_only() -> None:
    result = scrub_visit(visit_from_terms("97110=20"), replace(SETTINGS, coder=None))
    assert result.claim is None and result.findings == ()


def test_scrub__a_failing_rule_becomes_one_finding_and_the_rest_still_run() -> None:
    def broken(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
        raise ZeroDivisionError("boom")

    policy = shipped_policies().by_plan["medicare_part_b"]
    rules = (Rule("test.broken", Severity.ERROR, broken, "t", "t"), *enabled_rules(policy))
    package._enabled_cache[id(policy)] = (policy, rules)
    package._needs_cache.clear()
    try:
        visit = replace(visit_from_terms("97110=20"), diagnoses=())
        codes = finding_codes(scrub(visit, RuleContext(load(), policy, TODAY)))
    finally:
        package._enabled_cache.pop(id(policy))
        package._needs_cache.clear()
    assert codes == ["identity.no_diagnosis", "scrub.rule_failed"]


VISIT_JSON = st.fixed_dictionaries({
    "visit_id": st.text(min_size=1, max_size=5),
    "date_of_service": st.dates(date(2024, 1, 1), date(2027, 12, 31)).map(str),
    "billing_provider": st.just({"npi": "1306849450", "tax_id": "12-3456789", "name": "R",
                                 "address": {"line1": "1", "city": "A", "state": "TX",
                                             "zip": "78701"}}),
    "patient": st.just({"id": "P", "first_name": "A", "last_name": "B",
                        "birth_date": "1950-01-01"}),
    "coverage": st.fixed_dictionaries({
        "payer_id": st.just("X"), "member_id": st.text(min_size=1, max_size=12),
        "plan": st.sampled_from(["medicare_part_b", "commercial", "lonestar_ppo", "zzz", ""])}),
    "rendering_provider": st.fixed_dictionaries({
        "npi": st.text("0123456789", min_size=1, max_size=11), "first_name": st.just("A"),
        "last_name": st.just("B"),
        "credential": st.sampled_from(["PT", "PTA", "OT", "OTA", "SLP", "SLPA"])}),
    "diagnoses": st.lists(st.text(min_size=1, max_size=8), max_size=3),
    "treatment_days_since_progress_report": st.none() | st.integers(0, 30),
    "total_treatment_minutes": st.none() | st.integers(0, 200),
    "services": st.lists(st.fixed_dictionaries({
        "code": st.sampled_from(["97110", "97530", "97150", "97161", "92507", "97012", "97140",
                                 "97750", "97535", "G0283", "99999"]),
        "minutes": st.integers(0, 90), "assistant_minutes": st.integers(0, 60),
        "mode": st.sampled_from(["one_on_one", "group", "concurrent"]),
        "units": st.none() | st.integers(0, 9),
        "modifiers": st.lists(st.sampled_from(["GP", "GO", "GN", "CQ", "CO", "59", "XS", "KX"]),
                              max_size=3),
        "distinct": st.sampled_from([None, "separate_structure", "distinct_procedural"]),
        "activity": st.sampled_from(["", "a", "b"]), "goal": st.sampled_from(["", "g", "h"]),
    }), min_size=1, max_size=5),
})


@settings(max_examples=150, deadline=None)
@given(VISIT_JSON, st.booleans())
def test_scrub_visit__never_raises_and_only_catalog_codes(raw: dict[str, Any],
                                                         fix: bool) -> None:
    parsed = parse_visits([raw])
    known = {r.code for r in ALL_RULES}
    for visit in parsed.visits:
        result = scrub_visit(visit, SETTINGS, fix=fix)
        for f in result.findings:
            assert f.code in known or f.code.startswith("coding."), f
            assert f.message and f.location.visit_id == visit.visit_id


def test_scrub_visits__each_visit_sees_the_patients_other_visits_that_day() -> None:
    first = visit_from_terms("97110=20 97140=15")
    second = replace(visit_from_terms("97110=23"), visit_id="V-2")
    other_patient = replace(second, visit_id="V-3",
                            patient=replace(second.patient, id="P-9"))
    other_day = replace(second, visit_id="V-4", date_of_service=date(2026, 3, 3))
    results = package.scrub_visits([first, second, other_patient, other_day], SETTINGS)
    codes = [finding_codes(r.findings) for r in results]
    assert codes[0] == codes[1] == ["same_day.duplicate_service"]
    assert codes[2] == codes[3] == []


@settings(max_examples=150, deadline=None)
@given(VISIT_JSON)
def test_scrub__skipping_rules_by_needs_and_policy_hides_no_finding(raw: dict[str, Any]) -> None:
    for visit in parse_visits([raw]).visits:
        policy, fallback = SETTINGS.policies.for_plan(visit.coverage.plan)
        claim, _ = code_for_policy(visit, policy, SETTINGS.reference)
        ctx = RuleContext(SETTINGS.reference, policy, TODAY, claim, billable, fallback)
        every = sorted((f.code, str(f.location), f.message)
                       for rule in ALL_RULES if rule.code not in policy.disabled_rules
                       for f in rule.function(visit, ctx))
        fast = sorted((f.code, str(f.location), f.message) for f in scrub(visit, ctx))
        assert fast == every


def test_scrub_visit__kx_rules_agree_with_coding_on_the_threshold() -> None:
    for to_date in ("2300.00", "2470.00", "2600.00"):
        visit = replace(visit_from_terms("97110=45"),
                        therapy_to_date=TherapyToDate(pt_slp=Decimal(to_date)))
        coded = scrub_visit(visit, SETTINGS)
        assert coded.claim is not None
        coding_adds_kx = any("KX" in line.modifiers for line in coded.claim.lines)
        without = finding_codes(scrub_visit(svc(visit, modifiers=("GP",)), SETTINGS).findings)
        with_kx = finding_codes(scrub_visit(svc(visit, modifiers=("GP", "KX")),
                                            SETTINGS).findings)
        assert ("modifiers.kx_missing" in without) is coding_adds_kx
        assert ("modifiers.kx_unsupported" in with_kx) is not coding_adds_kx
