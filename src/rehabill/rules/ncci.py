"""NCCI procedure-to-procedure (PTP) edits between the codes billed on one date.

Source: CMS NCCI Policy Manual for Medicare Services, ch.1 §E (modifiers 59 and XE/XS/XP/XU)
and ch.11 (physical medicine and rehabilitation); PTP edit tables, practitioner services.
A column-2 code is bundled into its column-1 partner: with modifier indicator 0 it can never be
billed with it; with indicator 1 it can when the services were distinct and the column-2 line
carries 59 or the right X modifier.
"""

from __future__ import annotations

from collections.abc import Iterator

from rehabill.domain.findings import Finding, Severity
from rehabill.domain.visit import Visit
from rehabill.reference import PtpEdit
from rehabill.rules.base import (
    DISTINCT_MODIFIERS,
    HAS_NCCI_PAIR,
    Rule,
    RuleContext,
    facts_of,
    finding,
    service_location,
)

SOURCE = "NCCI Policy Manual ch.1 §E, ch.11; NCCI PTP practitioner edits"


def bundled_pairs(visit: Visit, ctx: RuleContext) -> tuple[tuple[int, int, PtpEdit], ...]:
    """Every active PTP edit between two services of the visit.

    Returns:
        (column-1 service index, column-2 service index, edit) triples.
    """
    return facts_of(visit, ctx).pairs


def ptp_never_unbundled(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """An indicator-0 pair: the column-2 code can never be billed with the column-1 code."""
    for first, second, edit in bundled_pairs(visit, ctx):
        if edit.modifier_indicator == 0:
            yield finding(
                PTP_NEVER_UNBUNDLED,
                f"{edit.column2} is bundled into {edit.column1} on the same date (NCCI modifier "
                f"indicator 0, {edit.rationale.lower()}); no modifier can unbundle it.",
                service_location(visit, second, "code"),
                f"Remove {edit.column2} (services[{second}]); it is paid as part of "
                f"{edit.column1} (services[{first}]). Not fixed automatically.",
            )


def ptp_bundled(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """An indicator-1 pair with no documented reason the services were distinct."""
    for _, second, edit in bundled_pairs(visit, ctx):
        if edit.modifier_indicator == 1 and visit.services[second].distinct is None:
            yield finding(
                PTP_BUNDLED,
                f"{edit.column2} is bundled into {edit.column1} on the same date (NCCI modifier "
                f"indicator 1) and the visit does not document that they were distinct.",
                service_location(visit, second, "distinct"),
                f"Remove {edit.column2}, or document why it was distinct from {edit.column1} "
                f"(services[{second}].distinct) so the 59/X modifier can be added.",
            )


def ptp_modifier_missing(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """A documented distinct service whose column-2 line lacks the 59/X modifier."""
    for _, second, edit in bundled_pairs(visit, ctx):
        reason = visit.services[second].distinct
        if edit.modifier_indicator != 1 or reason is None:
            continue
        if DISTINCT_MODIFIERS.intersection(facts_of(visit, ctx).modifiers[second]):
            continue
        wanted = "59" if ctx.policy.distinct_modifiers == "59_only" else reason.x_modifier
        yield finding(
            PTP_MODIFIER_MISSING,
            f"{edit.column2} is documented as distinct from {edit.column1} "
            f"({reason.value}) but its line has no 59/X modifier.",
            service_location(visit, second, "modifiers"),
            f"Add modifier {wanted} to the {edit.column2} line.",
        )


PTP_NEVER_UNBUNDLED = Rule("ncci.ptp_never_unbundled", Severity.ERROR, ptp_never_unbundled,
                           "Code pair can never be billed together (NCCI indicator 0)", SOURCE,
                           needs=frozenset({HAS_NCCI_PAIR}))
PTP_BUNDLED = Rule("ncci.ptp_bundled", Severity.ERROR, ptp_bundled,
                   "Bundled code pair without documented distinct service (indicator 1)", SOURCE,
                   needs=frozenset({HAS_NCCI_PAIR}))
PTP_MODIFIER_MISSING = Rule("ncci.modifier_missing", Severity.ERROR, ptp_modifier_missing,
                            "Distinct service lacks its 59/X modifier", SOURCE,
                            needs=frozenset({HAS_NCCI_PAIR}))

RULES = (PTP_NEVER_UNBUNDLED, PTP_BUNDLED, PTP_MODIFIER_MISSING)
