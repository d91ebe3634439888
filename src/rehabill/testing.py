"""Builders that tests and users' scripts share: visits in the domain's own notation.

``visit_from_terms("97112=24 97110=10/13 97161")`` builds a complete, valid Medicare visit whose
services are the CLI's TERMs (``CODE=MINUTES``, ``CODE=MINUTES/ASSISTANT_MINUTES``, bare ``CODE``).
Keyword overrides replace any top-level field of the visit.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from rehabill.domain.findings import Finding
from rehabill.domain.visit import (
    Address,
    Authorization,
    BillingProvider,
    Coverage,
    Credential,
    Patient,
    PlanOfCare,
    Provider,
    Service,
    Visit,
)

DOS = date(2026, 3, 2)
PRACTICE = BillingProvider(
    npi="1306849450",
    tax_id="123456789",
    name="Riverside Rehab",
    address=Address("1 Main St", "Austin", "TX", "787010001"),
)
PATIENT = Patient("P-1", "Mark", "Lee", date(1950, 5, 1), "M", Address("2 Oak St", "Austin", "TX",
                                                                       "78702"))
MEDICARE = Coverage("MEDICARE", "Medicare Part B", "1EG4TE5MK73", "medicare_part_b")
COMMERCIAL = Coverage("COMMERCIAL", "Generic Commercial", "XYZ123456789", "commercial")
THERAPISTS = {
    "PT": Provider("1467560003", "Ana", "Ruiz", Credential.PT),
    "OT": Provider("1245319599", "Lin", "Park", Credential.OT),
    "SLP": Provider("1386604221", "Sam", "Ode", Credential.SLP),
}
ASSISTANTS = {
    "PT": Provider("1588667638", "Joe", "Kim", Credential.PTA),
    "OT": Provider("1053382234", "Ivy", "Moss", Credential.OTA),
    "SLP": Provider("1912345679", "Ray", "Quinn", Credential.SLPA),
}


def service_from_term(term: str, **fields: Any) -> Service:
    """``"97110=10/13"`` → Service(code="97110", minutes=10, assistant_minutes=13)."""
    code, _, minutes = term.partition("=")
    therapist, _, assistant = minutes.partition("/")
    service = Service(
        code=code.strip().upper(),
        minutes=int(therapist) if therapist else 0,
        assistant_minutes=int(assistant) if assistant else 0,
        activity="documented activity",
        goal=f"functional goal for {code.strip()}",
        assistance="minimal assist",
    )
    return replace(service, **fields) if fields else service


def visit_from_terms(terms: str, discipline: str = "PT", **overrides: Any) -> Visit:
    """Build a valid visit whose services are the whitespace-separated TERMs."""
    services = tuple(service_from_term(t) for t in terms.split())
    has_assistant = any(s.assistant_minutes for s in services)
    visit = Visit(
        visit_id="V-1",
        date_of_service=DOS,
        billing_provider=PRACTICE,
        patient=PATIENT,
        coverage=MEDICARE,
        rendering_provider=THERAPISTS[discipline],
        assistant=ASSISTANTS[discipline] if has_assistant else None,
        services=services,
        diagnoses=("I69.351", "R26.89"),
        plan_of_care=PlanOfCare(date(2026, 2, 20), date(2026, 5, 20), date(2026, 2, 24),
                                "1457390007"),
        authorization=Authorization("A123", date(2026, 2, 20), date(2026, 5, 20), 12, 5),
        visit_number_in_episode=6,
    )
    return replace(visit, **overrides) if overrides else visit


def finding_codes(findings: tuple[Finding, ...] | list[Finding]) -> list[str]:
    """The codes of the findings, sorted: the usual thing a test compares."""
    return sorted(f.code for f in findings)
