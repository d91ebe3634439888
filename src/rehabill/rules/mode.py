"""Treatment mode: one-on-one, group and concurrent sessions bill different codes.

Source: CMS Pub 100-02 ch.15 §230.A-C: group therapy (two or more patients, same or different
activities) is billed with 97150 (92508 for speech-language pathology) once per patient per
session; Medicare Part B bills concurrent therapy as group therapy; one-on-one codes such as
97530 require direct one-on-one contact.
"""

from __future__ import annotations

from collections.abc import Iterator

from rehabill.domain.findings import Finding, Severity
from rehabill.domain.visit import Discipline, Mode, Visit
from rehabill.reference import GROUP_CODES
from rehabill.rules.base import (
    HAS_GROUP,
    Rule,
    RuleContext,
    facts_of,
    finding,
    service_location,
)

SOURCE = "CMS Pub 100-02 ch.15 §230.A-C"


def group_code_for(visit: Visit) -> str:
    """97150 for PT/OT, 92508 for SLP."""
    return "92508" if visit.discipline is Discipline.SLP else "97150"


def individual_code_in_group(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """A one-on-one code billed for a group or concurrent session."""
    if facts_of(visit, ctx).one_on_one:
        return
    for index, service in enumerate(visit.services):
        if service.mode is Mode.ONE_ON_ONE or service.code in GROUP_CODES:
            continue
        group = group_code_for(visit)
        yield finding(
            INDIVIDUAL_CODE_IN_GROUP,
            f"{service.code} is a one-on-one code but the service was documented as "
            f"{service.mode.value}.",
            service_location(visit, index, "code"),
            f"Bill the session as {group} (one unit per session), or correct the mode if the "
            f"patient was treated one-on-one. Not fixed automatically.",
        )


def group_code_one_on_one(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """A group code billed for a session documented as one-on-one."""
    if not GROUP_CODES & facts_of(visit, ctx).codes:
        return
    for index, service in enumerate(visit.services):
        if service.code in GROUP_CODES and service.mode is Mode.ONE_ON_ONE:
            yield finding(
                GROUP_CODE_ONE_ON_ONE,
                f"{service.code} is a group code but the service was documented as one-on-one.",
                service_location(visit, index, "mode"),
                "Record the mode as group (or concurrent), or bill the one-on-one codes "
                "actually performed.",
            )


def group_billed_twice(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """More than one group or concurrent session billed for the same visit."""
    facts = facts_of(visit, ctx)
    if facts.one_on_one and not GROUP_CODES & facts.codes:
        return
    sessions = [i for i, s in enumerate(visit.services)
                if s.code in GROUP_CODES or s.mode is not Mode.ONE_ON_ONE]
    if len(sessions) > 1:
        codes = ", ".join(visit.services[i].code for i in sessions)
        yield finding(
            GROUP_BILLED_TWICE,
            f"The visit bills {len(sessions)} group/concurrent services ({codes}); a group or "
            f"concurrent session is billed once per patient.",
            service_location(visit, sessions[1], "code"),
            f"Bill one {group_code_for(visit)} for the session and remove the others.",
        )


INDIVIDUAL_CODE_IN_GROUP = Rule(
    "mode.individual_code_in_group", Severity.ERROR, individual_code_in_group,
    "One-on-one code billed for a group or concurrent session", SOURCE,
                                needs=frozenset({HAS_GROUP}))
GROUP_CODE_ONE_ON_ONE = Rule(
    "mode.group_code_one_on_one", Severity.ERROR, group_code_one_on_one,
    "Group code billed for a one-on-one session", SOURCE,
                             needs=frozenset({HAS_GROUP}))
GROUP_BILLED_TWICE = Rule(
    "mode.group_billed_twice", Severity.ERROR, group_billed_twice,
    "Group or concurrent session billed more than once", SOURCE,
                          needs=frozenset({HAS_GROUP}))

RULES = (INDIVIDUAL_CODE_IN_GROUP, GROUP_CODE_ONE_ON_ONE, GROUP_BILLED_TWICE)
