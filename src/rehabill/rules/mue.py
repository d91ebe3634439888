"""Medically Unlikely Edits: the most units of a code one patient gets on one date.

Source: CMS MUE tables (practitioner services) and the NCCI Policy Manual introduction on MUE
adjudication indicators: MAI 1 is a claim-line edit, MAI 2 an absolute date-of-service limit
(no appeal), MAI 3 a clinical date-of-service limit (appealable with documentation).
"""

from __future__ import annotations

from collections.abc import Iterator

from rehabill.domain.findings import Finding, Severity
from rehabill.domain.visit import Visit
from rehabill.rules.base import MAY_MUE, Rule, RuleContext, facts_of, finding, service_location

SOURCE = "CMS MUE practitioner table; NCCI Policy Manual, MUE adjudication indicators"

_MAI_FIX = {
    1: "split the units over lines only if each line is a separate, documented service",
    2: "MAI 2 is an absolute limit: units over it are never paid, not even on appeal",
    3: "units over it are denied; appeal with documentation if they were medically necessary",
}


def units_over_mue(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """Units of a code on the date exceed its MUE value."""
    table = ctx.reference.mue
    for code, units in facts_of(visit, ctx).units.items():
        mue = table.get(code, visit.date_of_service)
        if mue is None or units <= mue.value:
            continue
        index = next(i for i, s in enumerate(visit.services) if s.code == code)
        yield finding(
            UNITS_OVER_MUE,
            f"{code} is billed for {units} units on {visit.date_of_service.isoformat()}; its "
            f"MUE is {mue.value} (MAI {mue.mai}, {mue.mai_meaning}).",
            service_location(visit, index, "units"),
            f"Bill at most {mue.value} units of {code}; "
            f"{_MAI_FIX.get(mue.mai, 'check the MUE table')}.",
        )


UNITS_OVER_MUE = Rule("mue.units_exceeded", Severity.ERROR, units_over_mue,
                      "Units of a code over its MUE for the date", SOURCE,
                      needs=frozenset({MAY_MUE}))

RULES = (UNITS_OVER_MUE,)
