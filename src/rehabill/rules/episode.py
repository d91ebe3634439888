"""The episode of care: plan of care, certification, progress reports and authorization.

Source: 42 CFR 424.24(c); CMS Pub 100-02 ch.15 §220.1.1-220.1.3 (plan of care; initial
certification within 30 days of the start of treatment, delayed certification with a reason,
recertification at least every 90 days) and §220.3 (progress report at least once every 10
treatment days). Authorization limits come from the payer's policy.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from rehabill.domain.findings import Finding, Severity
from rehabill.domain.visit import Visit
from rehabill.rules.base import (
    HAS_PROGRESS_COUNT,
    MAY_AUTHORIZATION,
    MAY_PLAN,
    NO_AUTHORIZATION,
    NO_PLAN,
    Rule,
    RuleContext,
    facts_of,
    finding,
    visit_location,
)

SOURCE = "42 CFR 424.24(c); CMS Pub 100-02 ch.15 §220.1.3, §220.3"


def no_plan_of_care(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """The payer requires a plan of care and the visit has none."""
    if ctx.policy.plan_of_care_required and visit.plan_of_care is None:
        yield finding(
            NO_PLAN_OF_CARE, f"{ctx.policy.title} requires a plan of care; the visit has none.",
            visit_location(visit, "plan_of_care"),
            "Attach the certified plan of care (start, end, certified_on, certifying_npi).")


def outside_plan_of_care(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """The date of service is before the plan starts or after it ends."""
    plan = visit.plan_of_care
    dos = visit.date_of_service
    if plan is not None and not plan.start <= dos <= plan.end:
        yield finding(
            OUTSIDE_PLAN_OF_CARE,
            f"The date of service {dos.isoformat()} is outside the plan of care "
            f"({plan.start.isoformat()} to {plan.end.isoformat()}).",
            visit_location(visit, "plan_of_care"),
            "Bill under the plan in force on that date, or update and recertify the plan.")


def certification_overdue(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """The plan is not certified and the certification window has closed."""
    plan, days = visit.plan_of_care, ctx.policy.certification_days
    if plan is None or days is None or plan.certified_on is not None:
        return
    deadline = plan.start + timedelta(days=days)
    if visit.date_of_service > deadline:
        yield finding(
            CERTIFICATION_OVERDUE,
            f"The plan of care starting {plan.start.isoformat()} is not certified and "
            f"certification was due by {deadline.isoformat()}.",
            visit_location(visit, "plan_of_care.certified_on"),
            "Get the physician/NPP signature; a delayed certification needs a reason "
            "(Pub 100-02 ch.15 §220.1.3D).")


def certification_late(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """The plan was certified after the window: a delayed certification needs its reason."""
    plan, days = visit.plan_of_care, ctx.policy.certification_days
    if plan is None or days is None or plan.certified_on is None:
        return
    deadline = plan.start + timedelta(days=days)
    if plan.certified_on > deadline:
        yield finding(
            CERTIFICATION_LATE,
            f"The plan of care was certified on {plan.certified_on.isoformat()}, after the "
            f"{days}-day window that ended {deadline.isoformat()}.",
            visit_location(visit, "plan_of_care.certified_on"),
            "Keep the reason for the delayed certification with the record.")


def recertification_due(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """The date of service is beyond the span one certification covers."""
    plan, days = visit.plan_of_care, ctx.policy.recertification_days
    if plan is None or days is None:
        return
    anchor = plan.certified_on or plan.start
    limit = max(plan.start, anchor) + timedelta(days=days)
    if visit.date_of_service > limit:
        yield finding(
            RECERTIFICATION_DUE,
            f"The certification of {anchor.isoformat()} covers {days} days, to "
            f"{limit.isoformat()}; the visit is on {visit.date_of_service.isoformat()}.",
            visit_location(visit, "plan_of_care"),
            "Recertify the plan of care before billing this visit.")


def progress_report_overdue(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """More treatment days since the last progress report than the payer allows."""
    days, since = ctx.policy.progress_report_days, visit.treatment_days_since_progress_report
    if days is not None and since is not None and since > days:
        yield finding(
            PROGRESS_REPORT_OVERDUE,
            f"This is treatment day {since} since the last progress report; one is due at "
            f"least every {days} treatment days.",
            visit_location(visit, "treatment_days_since_progress_report"),
            "Write the progress report (by the therapist) with this visit.")


def certifying_npi_missing(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """The plan of care does not name the certifying physician/NPP."""
    plan = visit.plan_of_care
    if ctx.policy.plan_of_care_required and plan is not None and not plan.certifying_npi:
        yield finding(
            CERTIFYING_NPI_MISSING, "The plan of care does not name the certifying NPI.",
            visit_location(visit, "plan_of_care.certifying_npi"),
            "Add the NPI of the physician/NPP who certified the plan.")


def authorization_missing(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """The payer requires prior authorization and none is on the visit."""
    if ctx.policy.authorization_required and visit.authorization is None:
        yield finding(
            AUTHORIZATION_MISSING,
            f"{ctx.policy.title} requires prior authorization; the visit has none.",
            visit_location(visit, "authorization"),
            "Obtain the authorization and record its number, dates and visits.")


def authorization_out_of_range(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """The date of service is outside the authorization's dates."""
    auth = visit.authorization
    dos = visit.date_of_service
    if auth is not None and not auth.start <= dos <= auth.end:
        yield finding(
            AUTHORIZATION_OUT_OF_RANGE,
            f"Authorization {auth.number} runs {auth.start.isoformat()} to "
            f"{auth.end.isoformat()}; the visit is on {dos.isoformat()}.",
            visit_location(visit, "authorization"),
            "Request an extension or a new authorization covering the date.")


def authorization_exhausted(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """The authorization has no visits or units left for this visit."""
    auth = visit.authorization
    if auth is None:
        return
    if auth.visits_approved is not None and auth.visits_used + 1 > auth.visits_approved:
        yield finding(
            AUTHORIZATION_EXHAUSTED,
            f"Authorization {auth.number} approved {auth.visits_approved} visits and "
            f"{auth.visits_used} are used; this visit is beyond it.",
            visit_location(visit, "authorization.visits_used"),
            "Request more visits before billing this one.")
    if auth.units_approved is not None:
        units = sum(facts_of(visit, ctx).units.values())
        if auth.units_used + units > auth.units_approved:
            yield finding(
                AUTHORIZATION_EXHAUSTED,
                f"Authorization {auth.number} approved {auth.units_approved} units; "
                f"{auth.units_used} used plus {units} on this visit is over it.",
                visit_location(visit, "authorization.units_used"),
                "Request more units before billing this visit.")


NO_PLAN_OF_CARE = Rule("episode.no_plan_of_care", Severity.ERROR, no_plan_of_care,
                       "No plan of care where the payer requires one", SOURCE,
                       applies=lambda p: p.plan_of_care_required,
                       needs=frozenset({NO_PLAN}))
OUTSIDE_PLAN_OF_CARE = Rule("episode.outside_plan_of_care", Severity.ERROR,
                            outside_plan_of_care, "Date of service outside the plan of care",
                            SOURCE,
                            needs=frozenset({MAY_PLAN}))
CERTIFICATION_OVERDUE = Rule("episode.certification_overdue", Severity.ERROR,
                             certification_overdue,
                             "Plan of care not certified within the window", SOURCE,
                             applies=lambda p: p.certification_days is not None,
                             needs=frozenset({MAY_PLAN}))
CERTIFICATION_LATE = Rule("episode.certification_late", Severity.WARNING, certification_late,
                          "Delayed certification (needs a documented reason)", SOURCE,
                          applies=lambda p: p.certification_days is not None,
                          needs=frozenset({MAY_PLAN}))
RECERTIFICATION_DUE = Rule("episode.recertification_due", Severity.ERROR, recertification_due,
                           "Plan of care needs recertification", SOURCE,
                           applies=lambda p: p.recertification_days is not None,
                           needs=frozenset({MAY_PLAN}))
PROGRESS_REPORT_OVERDUE = Rule("episode.progress_report_overdue", Severity.ERROR,
                               progress_report_overdue, "Progress report overdue", SOURCE,
                               applies=lambda p: p.progress_report_days is not None,
                               needs=frozenset({HAS_PROGRESS_COUNT}))
CERTIFYING_NPI_MISSING = Rule("episode.certifying_npi_missing", Severity.ERROR,
                              certifying_npi_missing,
                              "Plan of care without the certifying NPI", SOURCE,
                              applies=lambda p: p.plan_of_care_required,
                              needs=frozenset({MAY_PLAN}))
AUTHORIZATION_MISSING = Rule("episode.authorization_missing", Severity.ERROR,
                             authorization_missing,
                             "No prior authorization where the payer requires one",
                             "Payer policy",
                             applies=lambda p: p.authorization_required,
                             needs=frozenset({NO_AUTHORIZATION}))
AUTHORIZATION_OUT_OF_RANGE = Rule("episode.authorization_out_of_range", Severity.ERROR,
                                  authorization_out_of_range,
                                  "Date of service outside the authorization", "Payer policy",
                                  needs=frozenset({MAY_AUTHORIZATION}))
AUTHORIZATION_EXHAUSTED = Rule("episode.authorization_exhausted", Severity.ERROR,
                               authorization_exhausted,
                               "Authorization has no visits or units left", "Payer policy",
                               needs=frozenset({MAY_AUTHORIZATION}))

RULES = (NO_PLAN_OF_CARE, OUTSIDE_PLAN_OF_CARE, CERTIFICATION_OVERDUE, CERTIFICATION_LATE,
         RECERTIFICATION_DUE, PROGRESS_REPORT_OVERDUE, CERTIFYING_NPI_MISSING,
         AUTHORIZATION_MISSING, AUTHORIZATION_OUT_OF_RANGE, AUTHORIZATION_EXHAUSTED)
