"""Modifiers: GP/GO/GN, CQ/CO, 59/X and KX as the documentation and the payer require.

Sources: CMS Pub 100-04 ch.5 §20.1 (GP/GO/GN on every therapy line, matching the plan of
care); 42 CFR 410.59(a)(4)/410.60(a)(4) and the CY2020-2022 PFS rules (CQ/CO when an assistant
furnishes more than 10% of a service, the de minimis standard); NCCI Policy Manual ch.1 §E
(59/X only to bypass a PTP edit for a distinct service); SSA §1833(g)(5) and Pub 100-04 ch.5
§10.3 (KX above the yearly threshold; targeted medical review above $3,000).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from rehabill.domain.findings import Finding, Severity
from rehabill.domain.visit import Visit
from rehabill.rules.base import (
    ASSISTANT_MODIFIERS,
    DISCIPLINE_MODIFIERS,
    DISTINCT_MODIFIERS,
    HAS_ASSISTANT,
    HAS_DOCUMENTED_MODIFIERS,
    MAY_KX,
    X_MODIFIERS,
    Rule,
    RuleContext,
    facts_of,
    finding,
    lines_for,
    service_location,
    visit_location,
)

SOURCE_DISCIPLINE = "CMS Pub 100-04 ch.5 §20.1"
SOURCE_ASSISTANT = "42 CFR 410.59(a)(4), 410.60(a)(4); CY2020-2022 PFS final rules"
SOURCE_DISTINCT = "NCCI Policy Manual ch.1 §E"
SOURCE_KX = "SSA §1833(g); CMS Pub 100-04 ch.5 §10.3"


def discipline_missing(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """A billed line without any of GP/GO/GN."""
    if not ctx.policy.discipline_modifiers_required:
        return
    facts = facts_of(visit, ctx)
    wanted = facts.discipline.modifier
    for index, service in enumerate(visit.services):
        modifiers = facts.modifiers[index]
        if modifiers and not DISCIPLINE_MODIFIERS.intersection(modifiers):
            yield finding(
                DISCIPLINE_MISSING,
                f"{service.code} has no therapy discipline modifier ({wanted} expected).",
                service_location(visit, index, "modifiers"),
                f"Add {wanted} (rehabill can fix this: --fix).", auto_fix=True)


def discipline_wrong(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """A discipline modifier that does not match the plan of care's discipline."""
    facts = facts_of(visit, ctx)
    wanted = facts.discipline.modifier
    if not facts.all_modifiers & DISCIPLINE_MODIFIERS - {wanted}:
        return
    for index, service in enumerate(visit.services):
        present = DISCIPLINE_MODIFIERS.intersection(facts.modifiers[index])
        if present and present != {wanted}:
            found = ", ".join(sorted(present))
            yield finding(
                DISCIPLINE_WRONG,
                f"{service.code} carries {found} but the plan of care is "
                f"{facts.discipline.value.upper()} ({wanted}).",
                service_location(visit, index, "modifiers"),
                f"Replace {found} with {wanted} (rehabill can fix this: --fix).", auto_fix=True)


def _needs_assistant_modifier(visit: Visit, ctx: RuleContext, index: int) -> bool:
    """Coding's answer when a claim is there; else the 10% de minimis test on the minutes."""
    lines = lines_for(ctx.claim, index)
    if lines:
        return any(line.has_assistant_modifier for line in lines)
    service = visit.services[index]
    return service.assistant_minutes * 10 > service.total_minutes


def assistant_missing(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """Documented modifiers lack the CQ/CO the assistant's minutes call for."""
    if not ctx.policy.assistant_modifiers or visit.assistant is None:
        return
    wanted = visit.assistant.credential.assistant_modifier
    for index, service in enumerate(visit.services):
        if not wanted or not service.modifiers or ASSISTANT_MODIFIERS & set(service.modifiers):
            continue
        if _needs_assistant_modifier(visit, ctx, index):
            yield finding(
                ASSISTANT_MISSING,
                f"{service.code} has {service.assistant_minutes} assistant minutes of "
                f"{service.total_minutes} (over 10%) but no {wanted}.",
                service_location(visit, index, "modifiers"),
                f"Add {wanted} to the assistant's units (the payment is reduced by 15%).")


def assistant_unsupported(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """CQ/CO documented where the assistant's minutes do not call for it."""
    if not ctx.policy.assistant_modifiers:
        return  # assistant_not_adopted covers CQ/CO sent to such a payer
    for index, service in enumerate(visit.services):
        if not ASSISTANT_MODIFIERS & set(service.modifiers):
            continue
        if service.assistant_minutes == 0 or not _needs_assistant_modifier(visit, ctx, index):
            yield finding(
                ASSISTANT_UNSUPPORTED,
                f"{service.code} carries CQ/CO but has {service.assistant_minutes} assistant "
                f"minutes of {service.total_minutes} (10% or less).",
                service_location(visit, index, "modifiers"),
                "Remove CQ/CO; the service is the therapist's.")


def assistant_not_adopted(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """CQ/CO sent to a payer that has not adopted them."""
    facts = facts_of(visit, ctx)
    if ctx.policy.assistant_modifiers or not ASSISTANT_MODIFIERS & facts.all_modifiers:
        return
    for index, service in enumerate(visit.services):
        if ASSISTANT_MODIFIERS.intersection(facts.modifiers[index]):
            yield finding(
                ASSISTANT_NOT_ADOPTED,
                f"{service.code} carries CQ/CO, which {ctx.policy.title} does not use.",
                service_location(visit, index, "modifiers"),
                "Remove CQ/CO for this payer; check its rules on assistant services.")


def distinct_without_edit(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """59/X on a line that no NCCI edit on the visit needs it for (an audit target)."""
    facts = facts_of(visit, ctx)
    if not DISTINCT_MODIFIERS & facts.all_modifiers:
        return
    needed = {second for _, second, edit in facts.pairs if edit.modifier_indicator == 1}
    for index, service in enumerate(visit.services):
        present = DISTINCT_MODIFIERS.intersection(facts.modifiers[index])
        if present and index not in needed:
            yield finding(
                DISTINCT_WITHOUT_EDIT,
                f"{service.code} carries {', '.join(sorted(present))} but no code on the visit "
                f"bundles it; 59/X without an edit to bypass is an audit target.",
                service_location(visit, index, "modifiers"),
                "Remove the 59/X modifier.")


def x_not_accepted(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """XE/XS/XP/XU sent to a payer that accepts only 59."""
    facts = facts_of(visit, ctx)
    if ctx.policy.distinct_modifiers != "59_only" or not X_MODIFIERS & facts.all_modifiers:
        return
    for index, service in enumerate(visit.services):
        present = X_MODIFIERS.intersection(facts.modifiers[index])
        if present:
            yield finding(
                X_NOT_ACCEPTED,
                f"{service.code} carries {', '.join(sorted(present))}; {ctx.policy.title} "
                f"accepts only 59.",
                service_location(visit, index, "modifiers"), "Replace the X modifier with 59.")


def _year_to_date(visit: Visit, ctx: RuleContext) -> tuple[Decimal, Decimal] | None:
    """(accrued with this claim, KX threshold), or None when no threshold applies."""
    if not ctx.policy.kx_threshold:
        return None
    threshold = ctx.reference.thresholds.for_date(visit.date_of_service)
    facts = facts_of(visit, ctx)
    if threshold is None or facts.allowed_estimate is None:
        return None
    before = visit.therapy_to_date.for_group(facts.discipline.threshold_group)
    return before + facts.allowed_estimate, threshold.kx


def _has_kx(visit: Visit, ctx: RuleContext) -> bool:
    return "KX" in facts_of(visit, ctx).all_modifiers


def kx_missing(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """The year's therapy amount passes the KX threshold and no line carries KX."""
    amounts = _year_to_date(visit, ctx)
    if amounts is None or _has_kx(visit, ctx):
        return
    after, kx = amounts
    if after > kx:
        yield finding(
            KX_MISSING,
            f"Therapy this year reaches about ${after:.2f} with this claim, over the "
            f"${kx:.2f} KX threshold ({visit.discipline.threshold_group}).",
            visit_location(visit, "services"),
            "Add KX to the lines over the threshold once the record supports medical "
            "necessity; without it they are denied.")


def kx_unsupported(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """KX on a claim that does not reach the threshold."""
    amounts = _year_to_date(visit, ctx)
    if amounts is None or not _has_kx(visit, ctx):
        return
    after, kx = amounts
    if after <= kx:
        yield finding(
            KX_UNSUPPORTED,
            f"KX is billed but therapy this year is about ${after:.2f}, under the ${kx:.2f} "
            f"threshold.", visit_location(visit, "services"),
            "Remove KX; it attests the threshold has been passed.")


def medical_review_threshold(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """This claim takes the year's therapy past the targeted medical review amount."""
    threshold = ctx.reference.thresholds.for_date(visit.date_of_service)
    amounts = _year_to_date(visit, ctx)
    if amounts is None or threshold is None:
        return
    after, _ = amounts
    if after > threshold.medical_review:
        yield finding(
            MEDICAL_REVIEW_THRESHOLD,
            f"Therapy this year reaches about ${after:.2f}, past the "
            f"${threshold.medical_review:.2f} targeted medical review amount.",
            visit_location(visit, "services"),
            "Make sure the plan of care and progress reports justify continued therapy.")


DISCIPLINE_MISSING = Rule("modifiers.discipline_missing", Severity.ERROR, discipline_missing,
                          "Line without GP/GO/GN", SOURCE_DISCIPLINE,
                          applies=lambda p: p.discipline_modifiers_required,
                          needs=frozenset({HAS_DOCUMENTED_MODIFIERS}))
DISCIPLINE_WRONG = Rule("modifiers.discipline_wrong", Severity.ERROR, discipline_wrong,
                        "GP/GO/GN does not match the plan of care", SOURCE_DISCIPLINE,
                        needs=frozenset({HAS_DOCUMENTED_MODIFIERS}))
ASSISTANT_MISSING = Rule("modifiers.assistant_missing", Severity.ERROR, assistant_missing,
                         "CQ/CO missing where the assistant's minutes call for it",
                         SOURCE_ASSISTANT,
                         applies=lambda p: p.assistant_modifiers,
                         needs=frozenset({HAS_DOCUMENTED_MODIFIERS, HAS_ASSISTANT}))
ASSISTANT_UNSUPPORTED = Rule("modifiers.assistant_unsupported", Severity.ERROR,
                             assistant_unsupported,
                             "CQ/CO not supported by the minutes", SOURCE_ASSISTANT,
                             applies=lambda p: p.assistant_modifiers,
                             needs=frozenset({HAS_DOCUMENTED_MODIFIERS}))
ASSISTANT_NOT_ADOPTED = Rule("modifiers.assistant_not_adopted", Severity.WARNING,
                             assistant_not_adopted,
                             "CQ/CO sent to a payer that does not use them",
                             SOURCE_ASSISTANT + "; payer policy",
                             applies=lambda p: not p.assistant_modifiers,
                             needs=frozenset({HAS_DOCUMENTED_MODIFIERS}))
DISTINCT_WITHOUT_EDIT = Rule("modifiers.distinct_without_edit", Severity.WARNING,
                             distinct_without_edit,
                             "59/X without an NCCI edit that needs it", SOURCE_DISTINCT,
                             needs=frozenset({HAS_DOCUMENTED_MODIFIERS}))
X_NOT_ACCEPTED = Rule("modifiers.x_not_accepted", Severity.ERROR, x_not_accepted,
                      "X modifier sent to a payer that accepts only 59",
                      SOURCE_DISTINCT + "; payer policy",
                      applies=lambda p: p.distinct_modifiers == "59_only",
                      needs=frozenset({HAS_DOCUMENTED_MODIFIERS}))
KX_MISSING = Rule("modifiers.kx_missing", Severity.ERROR, kx_missing,
                  "Over the KX threshold without KX", SOURCE_KX,
                  applies=lambda p: p.kx_threshold, needs=frozenset({MAY_KX}))
KX_UNSUPPORTED = Rule("modifiers.kx_unsupported", Severity.WARNING, kx_unsupported,
                      "KX billed under the threshold", SOURCE_KX,
                      applies=lambda p: p.kx_threshold, needs=frozenset({MAY_KX}))
MEDICAL_REVIEW_THRESHOLD = Rule("modifiers.medical_review_threshold", Severity.WARNING,
                                medical_review_threshold,
                                "Past the targeted medical review amount", SOURCE_KX,
                                applies=lambda p: p.kx_threshold, needs=frozenset({MAY_KX}))

RULES = (DISCIPLINE_MISSING, DISCIPLINE_WRONG, ASSISTANT_MISSING, ASSISTANT_UNSUPPORTED,
         ASSISTANT_NOT_ADOPTED, DISTINCT_WITHOUT_EDIT, X_NOT_ACCEPTED, KX_MISSING,
         KX_UNSUPPORTED, MEDICAL_REVIEW_THRESHOLD)
