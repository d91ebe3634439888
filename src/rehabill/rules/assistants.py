"""Therapy assistants (PTA, OTA, SLPA): who may render what, and under whose supervision.

Source: 42 CFR 410.59(a)(2), 410.60(a)(2) (services of PTAs/OTAs furnished under a therapist's
supervision; private practice general supervision since the CY2025 PFS final rule); Pub 100-02
ch.15 §230.1-230.2 (evaluations and re-evaluations are the therapist's, never the assistant's);
§230.3 (Medicare does not recognize speech-language pathology assistants for billing).
"""

from __future__ import annotations

from collections.abc import Iterator

from rehabill.domain.findings import Finding, Severity
from rehabill.domain.visit import Credential, Visit
from rehabill.reference import EVALUATION_CODES
from rehabill.rules.base import (
    HAS_ASSISTANT,
    MAY_SLPA,
    Rule,
    RuleContext,
    facts_of,
    finding,
    service_location,
    visit_location,
)

SOURCE = "42 CFR 410.59-410.60; CMS Pub 100-02 ch.15 §230.1-230.3"


def _assistant_minutes(visit: Visit, ctx: RuleContext) -> int:
    return facts_of(visit, ctx).assistant_minutes


def no_supervising_therapist(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """Assistant services with no therapist on the claim to supervise them."""
    rendering = visit.rendering_provider
    if rendering.credential.is_assistant:
        supervisor = visit.supervising_provider
        if supervisor is None or supervisor.credential.is_assistant:
            yield finding(
                NO_SUPERVISING_THERAPIST,
                f"The rendering provider {rendering.display_name} is an assistant and no "
                f"supervising therapist is on the claim.",
                visit_location(visit, "supervising_provider"),
                "Bill under the supervising therapist (rendering_provider) and name the "
                "assistant in assistant.")


def assistant_not_named(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """Assistant minutes documented but no assistant named on the visit."""
    if visit.assistant is None and _assistant_minutes(visit, ctx) > 0:
        yield finding(
            ASSISTANT_NOT_NAMED,
            f"The visit documents {_assistant_minutes(visit, ctx)} assistant minutes but names no "
            f"assistant.",
            visit_location(visit, "assistant"),
            "Name the assistant who furnished the minutes (assistant), or move the minutes "
            "to the therapist if the therapist furnished them.")


def evaluation_by_assistant(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """An evaluation or re-evaluation with assistant minutes or an assistant rendering it."""
    if not EVALUATION_CODES & facts_of(visit, ctx).codes:
        return
    by_assistant = visit.rendering_provider.credential.is_assistant
    for index, service in enumerate(visit.services):
        if service.code in EVALUATION_CODES and (by_assistant or service.assistant_minutes):
            yield finding(
                EVALUATION_BY_ASSISTANT,
                f"Evaluation {service.code} is documented as furnished by an assistant; "
                f"evaluations are the therapist's alone.",
                service_location(visit, index, "assistant_minutes"),
                "Bill the evaluation only for the therapist who performed it; remove the "
                "assistant's part.")


def slpa_not_billable(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """SLPA services billed to a payer that does not recognize them (Medicare)."""
    if ctx.policy.slpa_billable:
        return
    slpa = visit.assistant is not None and visit.assistant.credential is Credential.SLPA
    minutes = _assistant_minutes(visit, ctx)
    if (slpa and minutes) or visit.rendering_provider.credential is Credential.SLPA:
        yield finding(
            SLPA_NOT_BILLABLE,
            f"{ctx.policy.title} does not recognize speech-language pathology assistants; "
            f"{minutes} SLPA minutes are billed.",
            visit_location(visit, "assistant"),
            "Bill only the SLP's own minutes; the SLPA's time is not payable by this payer.")


def assistant_discipline_mismatch(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """The assistant practises another discipline than the plan of care (an OTA on a PT plan)."""
    assistant = visit.assistant
    if assistant is None:
        return
    discipline = facts_of(visit, ctx).discipline
    if assistant.credential.discipline is discipline:
        return
    yield finding(
        ASSISTANT_DISCIPLINE_MISMATCH,
        f"Assistant {assistant.display_name} cannot furnish {discipline.value.upper()} "
        f"services.",
        visit_location(visit, "assistant.credential"),
        "Name an assistant of the plan's discipline, or bill under the right plan of care.")


def direct_supervision(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """The payer requires direct (on-site) supervision of assistants."""
    if ctx.policy.assistant_supervision == "direct" and _assistant_minutes(visit, ctx) > 0:
        yield finding(
            DIRECT_SUPERVISION,
            f"{ctx.policy.title} requires direct supervision of assistants; the visit has "
            f"{_assistant_minutes(visit, ctx)} assistant minutes.",
            visit_location(visit, "assistant"),
            "Confirm the supervising therapist was on site and say so in the note.")


NO_SUPERVISING_THERAPIST = Rule(
    "assistants.no_supervising_therapist", Severity.ERROR, no_supervising_therapist,
    "Assistant renders with no supervising therapist on the claim", SOURCE,
                                needs=frozenset({HAS_ASSISTANT}))
ASSISTANT_NOT_NAMED = Rule(
    "assistants.assistant_not_named", Severity.ERROR, assistant_not_named,
    "Assistant minutes without a named assistant", SOURCE,
                           needs=frozenset({HAS_ASSISTANT}))
EVALUATION_BY_ASSISTANT = Rule(
    "assistants.evaluation_by_assistant", Severity.ERROR, evaluation_by_assistant,
    "Evaluation furnished by an assistant", SOURCE,
                               needs=frozenset({HAS_ASSISTANT}))
SLPA_NOT_BILLABLE = Rule(
    "assistants.slpa_not_billable", Severity.ERROR, slpa_not_billable,
    "SLPA services billed to a payer that does not recognize SLPAs", SOURCE,
                         applies=lambda p: not p.slpa_billable,
                         needs=frozenset({HAS_ASSISTANT, MAY_SLPA}))
ASSISTANT_DISCIPLINE_MISMATCH = Rule(
    "assistants.discipline_mismatch", Severity.ERROR, assistant_discipline_mismatch,
    "Assistant of another discipline than the plan of care", SOURCE,
                                     needs=frozenset({HAS_ASSISTANT}))
DIRECT_SUPERVISION = Rule(
    "assistants.direct_supervision", Severity.WARNING, direct_supervision,
    "Payer requires direct supervision of assistants", SOURCE + "; payer policy",
                          applies=lambda p: p.assistant_supervision == "direct",
                          needs=frozenset({HAS_ASSISTANT}))

RULES = (NO_SUPERVISING_THERAPIST, ASSISTANT_NOT_NAMED, EVALUATION_BY_ASSISTANT,
         SLPA_NOT_BILLABLE, ASSISTANT_DISCIPLINE_MISMATCH, DIRECT_SUPERVISION)
