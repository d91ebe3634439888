"""Every rule: a visit that trips it and a near-identical visit that does not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from rehabill.domain import (
    Authorization,
    Claim,
    ClaimLine,
    Coverage,
    DistinctReason,
    Mode,
    PlanOfCare,
    Provider,
    TherapyToDate,
    Visit,
)
from rehabill.domain.visit import Credential
from rehabill.reference import load
from rehabill.rules import CATALOG, RuleContext, SameDay, scrub
from rehabill.rules.base import IcdStatus
from rehabill.rules.policy import shipped_policies
from rehabill.testing import ASSISTANTS, THERAPISTS, visit_from_terms

TODAY = date(2026, 3, 10)
LATER = date(2026, 7, 1)
ICD = {"I69.351": IcdStatus.BILLABLE, "R26.89": IcdStatus.BILLABLE, "M54.5": IcdStatus.HEADER,
       "M54.50": IcdStatus.BILLABLE}


def fake_icd(code: str) -> IcdStatus:
    return ICD.get(code, IcdStatus.UNKNOWN)


def svc(visit: Visit, index: int = 0, **fields: Any) -> Visit:
    """The visit with fields of ``services[index]`` replaced."""
    services = list(visit.services)
    services[index] = replace(services[index], **fields)
    return replace(visit, services=tuple(services))


def claim_for(visit: Visit, units: dict[int, int] | None = None,
              modifiers: dict[int, tuple[str, ...]] | None = None) -> Claim:
    """A hand-made coded claim: one line per service (units default 1)."""
    units = units or {}
    modifiers = modifiers or {}
    lines = tuple(
        ClaimLine(number=i + 1, code=s.code, modifiers=modifiers.get(i, ("GP",)),
                  units=units.get(i, 1), charge=Decimal("50.00"),
                  date_of_service=visit.date_of_service, service_index=i)
        for i, s in enumerate(visit.services))
    return Claim(visit, lines)


@dataclass(frozen=True)
class Case:
    """A rule code, the visit that trips it, the one that does not, and the run's setting."""

    trips: Visit
    clean: Visit
    policy: str | None = "medicare_part_b"  # None: the policy the visit's plan picks
    today: date = TODAY
    clean_today: date | None = None
    claim: Callable[[Visit], Claim] | None = None
    same_day: tuple[Visit, ...] = ()
    clean_same_day: tuple[Visit, ...] = ()


V = visit_from_terms
BASE = V("97530=25 97110=20 97161")
PTA_VISIT = V("97110=10/13")
OTA = ASSISTANTS["OT"]
PTA = Provider("1588667638", "Joe", "Kim", Credential.PTA)
DISTINCT = DistinctReason.SEPARATE_STRUCTURE
BUNDLED = V("97012 97140=20")
EXHAUSTED = Authorization("A123", date(2026, 2, 20), date(2026, 5, 20), 12, 12)
LATE_PLAN = PlanOfCare(date(2026, 2, 20), date(2026, 5, 20), date(2026, 3, 23), "1457390007")
LONG_PLAN = PlanOfCare(date(2026, 2, 20), date(2026, 7, 30), date(2026, 2, 24), "1457390007")
KX_BASE = svc(V("97110=60"), units=4)


def _todate(amount: str) -> TherapyToDate:
    return TherapyToDate(pt_slp=Decimal(amount))


CASES: dict[str, Case] = {
    "identity.no_diagnosis": Case(replace(BASE, diagnoses=()), BASE),
    "identity.icd_invalid": Case(replace(BASE, diagnoses=("I69.351", "XYZ")), BASE),
    "identity.icd_not_billable": Case(replace(BASE, diagnoses=("M54.5",)),
                                      replace(BASE, diagnoses=("M54.50",))),
    "identity.npi_invalid": Case(
        replace(BASE, rendering_provider=replace(THERAPISTS["PT"], npi="1467560004")), BASE),
    "identity.unknown_code": Case(V("97999=20"), V("97110=20")),
    "identity.code_discipline": Case(V("97116=30", "OT"), V("97110=30", "OT")),
    "identity.member_id_invalid": Case(
        replace(BASE, coverage=replace(BASE.coverage, member_id="123456789A")), BASE),
    "identity.required_field_missing": Case(
        replace(BASE, patient=replace(BASE.patient, address=None)), BASE),
    "timing.filing_expired": Case(BASE, BASE, today=date(2027, 3, 3),
                                  clean_today=date(2027, 3, 2)),
    "timing.filing_closing": Case(BASE, BASE, today=date(2027, 2, 20),
                                  clean_today=date(2027, 1, 30)),
    "timing.future_service": Case(BASE, BASE, today=date(2026, 3, 1),
                                  clean_today=date(2026, 3, 2)),
    "policy.code_not_covered": Case(V("97014"), V("G0283")),
    "policy.units_per_day": Case(
        svc(svc(V("97110=53 97140=53"), 0, units=4), 1, units=3),
        svc(svc(V("97110=53 97140=53"), 0, units=3), 1, units=3), "lonestar_choice_ppo"),
    "policy.visits_per_year": Case(replace(BASE, visit_number_in_episode=31),
                                   replace(BASE, visit_number_in_episode=30),
                                   "lonestar_choice_ppo"),
    "episode.no_plan_of_care": Case(replace(BASE, plan_of_care=None), BASE),
    "episode.outside_plan_of_care": Case(replace(BASE, date_of_service=date(2026, 5, 21)),
                                         replace(BASE, date_of_service=date(2026, 5, 20)),
                                         today=LATER),
    "episode.certification_overdue": Case(
        replace(BASE, date_of_service=date(2026, 3, 23),
                plan_of_care=replace(LATE_PLAN, certified_on=None)),
        replace(BASE, date_of_service=date(2026, 3, 22),
                plan_of_care=replace(LATE_PLAN, certified_on=None)), today=LATER),
    "episode.certification_late": Case(
        replace(BASE, plan_of_care=LATE_PLAN),
        replace(BASE, plan_of_care=replace(LATE_PLAN, certified_on=date(2026, 3, 22)))),
    "episode.recertification_due": Case(
        replace(BASE, date_of_service=date(2026, 5, 26), plan_of_care=LONG_PLAN),
        replace(BASE, date_of_service=date(2026, 5, 25), plan_of_care=LONG_PLAN), today=LATER),
    "episode.progress_report_overdue": Case(
        replace(BASE, treatment_days_since_progress_report=11),
        replace(BASE, treatment_days_since_progress_report=10)),
    "episode.certifying_npi_missing": Case(
        replace(BASE, plan_of_care=replace(LATE_PLAN, certifying_npi="")),
        replace(BASE, plan_of_care=LATE_PLAN)),
    "episode.authorization_missing": Case(replace(BASE, authorization=None), BASE,
                                          "lonestar_choice_ppo"),
    "episode.authorization_out_of_range": Case(
        replace(BASE, authorization=replace(EXHAUSTED, visits_used=0, end=date(2026, 3, 1))),
        replace(BASE, authorization=replace(EXHAUSTED, visits_used=0, end=date(2026, 3, 2)))),
    "episode.authorization_exhausted": Case(
        replace(BASE, authorization=EXHAUSTED),
        replace(BASE, authorization=replace(EXHAUSTED, visits_used=11))),
    "eligibility.coverage_inactive": Case(
        replace(BASE, coverage=replace(BASE.coverage, end=date(2026, 3, 1))),
        replace(BASE, coverage=replace(BASE.coverage, end=date(2026, 3, 2)))),
    "ncci.ptp_never_unbundled": Case(V("97161 97750=20"), V("97161 97110=20")),
    "ncci.ptp_bundled": Case(BUNDLED, svc(BUNDLED, 1, distinct=DISTINCT,
                                          modifiers=("GP", "XS"))),
    "ncci.modifier_missing": Case(svc(BUNDLED, 1, distinct=DISTINCT),
                                  svc(BUNDLED, 1, distinct=DISTINCT, modifiers=("GP", "XS"))),
    "mue.units_exceeded": Case(svc(V("97110=100"), units=7), svc(V("97110=100"), units=6)),
    "units.mismatch": Case(svc(V("97110=38"), units=3), svc(V("97110=38"), units=2),
                           claim=lambda v: claim_for(v, {0: 2})),
    "units.below_eight_minutes": Case(svc(V("97110=7"), units=1), svc(V("97110=8"), units=1),
                                      "commercial_default"),
    "units.timed_without_minutes": Case(V("97110"), V("97110=15")),
    "units.untimed_over_one": Case(svc(V("97161"), units=2), svc(V("97161"), units=1)),
    "units.treatment_time_short": Case(replace(V("97110=40"), total_treatment_minutes=39),
                                       replace(V("97110=40"), total_treatment_minutes=40)),
    "modifiers.discipline_missing": Case(svc(V("97110=30"), modifiers=("KX",)),
                                         svc(V("97110=30"), modifiers=("GP", "KX"))),
    "modifiers.discipline_wrong": Case(svc(V("97110=30"), modifiers=("GO",)),
                                       svc(V("97110=30"), modifiers=("GP",))),
    "modifiers.assistant_missing": Case(svc(PTA_VISIT, modifiers=("GP",)),
                                        svc(PTA_VISIT, modifiers=("GP", "CQ"))),
    "modifiers.assistant_unsupported": Case(svc(V("97110=23"), modifiers=("GP", "CQ")),
                                            svc(PTA_VISIT, modifiers=("GP", "CQ"))),
    "modifiers.assistant_not_adopted": Case(svc(PTA_VISIT, modifiers=("GP", "CQ")),
                                            svc(PTA_VISIT, modifiers=("GP",)),
                                            "commercial_default"),
    "modifiers.distinct_without_edit": Case(svc(V("97110=30"), modifiers=("GP", "59")),
                                            svc(V("97110=30"), modifiers=("GP",))),
    "modifiers.x_not_accepted": Case(
        svc(BUNDLED, 1, distinct=DISTINCT, modifiers=("GP", "XS")),
        svc(BUNDLED, 1, distinct=DISTINCT, modifiers=("GP", "59")), "lonestar_choice_ppo"),
    "modifiers.kx_missing": Case(replace(KX_BASE, therapy_to_date=_todate("2470")),
                                 replace(KX_BASE, therapy_to_date=_todate("2000"))),
    "modifiers.kx_unsupported": Case(
        replace(svc(KX_BASE, modifiers=("GP", "KX")), therapy_to_date=_todate("100")),
        replace(svc(KX_BASE, modifiers=("GP", "KX")), therapy_to_date=_todate("2470"))),
    "modifiers.medical_review_threshold": Case(
        replace(KX_BASE, therapy_to_date=_todate("2990")),
        replace(KX_BASE, therapy_to_date=_todate("2800"))),
    "mode.individual_code_in_group": Case(svc(V("97530=30"), mode=Mode.GROUP),
                                          svc(V("97530=30"), mode=Mode.ONE_ON_ONE)),
    "mode.group_code_one_on_one": Case(V("97150"), svc(V("97150"), mode=Mode.GROUP)),
    "mode.group_billed_twice": Case(
        svc(svc(V("97150 97150"), 0, mode=Mode.GROUP), 1, mode=Mode.CONCURRENT),
        svc(V("97150"), mode=Mode.GROUP)),
    "assistants.no_supervising_therapist": Case(
        replace(V("97110=30"), rendering_provider=PTA),
        replace(V("97110=30"), rendering_provider=PTA, supervising_provider=THERAPISTS["PT"])),
    "assistants.assistant_not_named": Case(replace(PTA_VISIT, assistant=None), PTA_VISIT),
    "assistants.evaluation_by_assistant": Case(V("97161=0/20"), V("97161")),
    "assistants.slpa_not_billable": Case(V("92507=10/20", "SLP"), V("92507=10/20", "SLP"),
                                         "medicare_part_b"),
    "assistants.discipline_mismatch": Case(replace(PTA_VISIT, assistant=OTA), PTA_VISIT),
    "assistants.direct_supervision": Case(PTA_VISIT, V("97110=23"), "lonestar_choice_ppo"),
    "documentation.activity_missing": Case(svc(BASE, activity=" "), BASE),
    "documentation.goal_missing": Case(svc(BASE, goal=""), BASE),
    "documentation.assistance_missing": Case(svc(BASE, assistance=""), BASE),
    "documentation.purpose_not_distinct": Case(
        svc(BASE, 1, goal="functional goal for 97530"), BASE),
    "documentation.activities_not_distinct": Case(
        V("97530=20 97535=20"), svc(V("97530=20 97535=20"), 1, activity="dressing practice",
                                    goal="dress upper body alone")),
}
# Across claims: the patient's other visit that day bills the same code, or another code.
CASES["same_day.duplicate_service"] = Case(
    BASE, BASE, same_day=(replace(V("97110=20"), visit_id="V-2"),),
    clean_same_day=(replace(V("97140=20"), visit_id="V-2"),))
CASES["same_day.visits_per_day"] = Case(
    BASE, BASE, "lonestar_choice_ppo", same_day=(replace(V("97140=20"), visit_id="V-2"),))
# SLPA: the same visit trips under Medicare and is clean under a payer that bills SLPAs.
CLEAN_POLICY = {"assistants.slpa_not_billable": "commercial_default"}
# A plan with no shipped policy uses the default: a near-identical visit with a known plan.
CASES["policy.default_used"] = Case(
    replace(BASE, coverage=Coverage("ACME", "Acme Health", "X1", "acme_gold")),
    replace(BASE, coverage=Coverage("ACME", "Acme Health", "X1", "commercial")), policy=None)


def _run(visit: Visit, case: Case, today: date, policy: str | None,
         same_day: tuple[Visit, ...] = ()) -> list[str]:
    chosen, fallback = shipped_policies().for_plan(policy or visit.coverage.plan)
    claim = case.claim(visit) if case.claim else None
    ctx = RuleContext(load(), chosen, today, claim, fake_icd, fallback,
                      same_day=SameDay.of(same_day))
    return [f.code for f in scrub(visit, ctx)]


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule__trips_and_near_identical_visit_does_not(code: str) -> None:
    case = CASES[code]
    assert code in _run(case.trips, case, case.today, case.policy, case.same_day)
    clean_policy = CLEAN_POLICY.get(code, case.policy)
    assert code not in _run(case.clean, case, case.clean_today or case.today, clean_policy,
                            case.clean_same_day)


def test_rule_cases__cover_the_whole_catalog() -> None:
    assert set(CASES) == set(CATALOG)


def test_base_visit__is_clean_under_medicare() -> None:
    codes = _run(BASE, Case(BASE, BASE), TODAY, "medicare_part_b")
    assert codes == []
