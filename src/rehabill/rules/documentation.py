"""Documentation behind each timed service: what was done, toward which goal, with what help.

Source: CMS Pub 100-02 ch.15 §220.3 (treatment notes record each intervention and the time
spent); Medicare contractors' outpatient PT/OT LCDs and billing articles: 97530
"therapeutic activities" are dynamic functional activities distinct from 97110 exercise and from
97535 self-care training, and that functional training records the level of assistance.
"""

from __future__ import annotations

from collections.abc import Iterator

from rehabill.domain.findings import Finding, Severity
from rehabill.domain.visit import Service, Visit
from rehabill.rules.base import (
    FUNCTIONAL_CODES,
    HAS_97530_97110,
    HAS_97530_97535,
    MAY_NO_ACTIVITY,
    MAY_NO_ASSISTANCE,
    MAY_NO_GOAL,
    Rule,
    RuleContext,
    facts_of,
    finding,
    service_location,
)

SOURCE = "CMS Pub 100-02 ch.15 §220.3; MAC outpatient PT/OT LCDs"


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def activity_missing(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """A timed service with no documented activity."""
    codes = ctx.reference.codes
    for index, service in enumerate(visit.services):
        if not service.activity.strip() and codes.is_timed(service.code):
            yield finding(
                ACTIVITY_MISSING, f"Timed code {service.code} has no documented activity.",
                service_location(visit, index, "activity"),
                "Document what the patient did (services[].activity).")


def goal_missing(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """A timed service with no functional goal it serves."""
    codes = ctx.reference.codes
    for index, service in enumerate(visit.services):
        if not service.goal.strip() and codes.is_timed(service.code):
            yield finding(
                GOAL_MISSING, f"Timed code {service.code} names no functional goal.",
                service_location(visit, index, "goal"),
                "Link the service to a plan-of-care goal (services[].goal).")


def assistance_missing(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """A functional-training service without the level of assistance."""
    if not FUNCTIONAL_CODES & facts_of(visit, ctx).codes:
        return
    for index, service in enumerate(visit.services):
        if service.code in FUNCTIONAL_CODES and not service.assistance.strip():
            yield finding(
                ASSISTANCE_MISSING,
                f"{service.code} is functional training but no assistance level is recorded.",
                service_location(visit, index, "assistance"),
                "Record the assistance level (e.g. \"moderate assist\", \"stand-by\").")


def _first(visit: Visit, code: str) -> tuple[int, Service] | None:
    for index, service in enumerate(visit.services):
        if service.code == code:
            return index, service
    return None


def purpose_not_distinct(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """97530 and 97110 on one visit documented with the same goal and the same activity."""
    codes = facts_of(visit, ctx).codes
    if "97530" not in codes or "97110" not in codes:
        return
    a, b = _first(visit, "97530"), _first(visit, "97110")
    if a is None or b is None:
        return
    same_goal = _norm(a[1].goal) == _norm(b[1].goal)
    same_activity = _norm(a[1].activity) == _norm(b[1].activity)
    if same_goal and same_activity:
        yield finding(
            PURPOSE_NOT_DISTINCT,
            "97530 and 97110 are documented with the same activity and goal, so the "
            "functional activity is indistinguishable from exercise.",
            service_location(visit, b[0], "goal"),
            "Document the functional task of 97530 and the exercise of 97110 separately.")


def activities_not_distinct(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """97530 and 97535 on one visit share an activity or a goal."""
    codes = facts_of(visit, ctx).codes
    if "97530" not in codes or "97535" not in codes:
        return
    a, b = _first(visit, "97530"), _first(visit, "97535")
    if a is None or b is None:
        return
    shared = [name for name, x, y in (("activity", a[1].activity, b[1].activity),
                                       ("goal", a[1].goal, b[1].goal)) if _norm(x) == _norm(y)]
    if shared:
        yield finding(
            ACTIVITIES_NOT_DISTINCT,
            f"97530 and 97535 share the same {' and '.join(shared)}; each needs its own.",
            service_location(visit, b[0], shared[0]),
            "Document a distinct activity and goal for 97535 (self-care) and 97530.")


ACTIVITY_MISSING = Rule("documentation.activity_missing", Severity.ERROR, activity_missing,
                        "Timed service without a documented activity", SOURCE,
                        needs=frozenset({MAY_NO_ACTIVITY}))
GOAL_MISSING = Rule("documentation.goal_missing", Severity.ERROR, goal_missing,
                    "Timed service without a functional goal", SOURCE,
                    needs=frozenset({MAY_NO_GOAL}))
ASSISTANCE_MISSING = Rule("documentation.assistance_missing", Severity.WARNING,
                          assistance_missing,
                          "Functional training without an assistance level", SOURCE,
                          needs=frozenset({MAY_NO_ASSISTANCE}))
PURPOSE_NOT_DISTINCT = Rule("documentation.purpose_not_distinct", Severity.WARNING,
                            purpose_not_distinct,
                            "97530 and 97110 documented with the same purpose", SOURCE,
                            needs=frozenset({HAS_97530_97110}))
ACTIVITIES_NOT_DISTINCT = Rule("documentation.activities_not_distinct", Severity.WARNING,
                               activities_not_distinct,
                               "97530 and 97535 share an activity or goal", SOURCE,
                               needs=frozenset({HAS_97530_97535}))

RULES = (ACTIVITY_MISSING, GOAL_MISSING, ASSISTANCE_MISSING, PURPOSE_NOT_DISTINCT,
         ACTIVITIES_NOT_DISTINCT)
