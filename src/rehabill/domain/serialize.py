"""Visits back to the DESIGN.md visit JSON (the inverse of ``parse``).

``parse_visits([visit_to_json(v)]).visits == [v]`` for every visit (a property test holds it).
Optional fields that are empty are left out, as a person writing the file would.
"""

from __future__ import annotations

from typing import Any

from rehabill.domain.money import ZERO
from rehabill.domain.visit import (
    Address,
    Authorization,
    BillingProvider,
    Coverage,
    Mode,
    Patient,
    PlanOfCare,
    Provider,
    Service,
    Visit,
)


def _drop_empty(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v not in (None, "", [], {})}


def address_to_json(a: Address) -> dict[str, Any]:
    """An address object."""
    return _drop_empty({"line1": a.line1, "line2": a.line2, "city": a.city, "state": a.state,
                        "zip": a.zip})


def _billing(b: BillingProvider) -> dict[str, Any]:
    return _drop_empty({"npi": b.npi, "tax_id": b.tax_id, "name": b.name,
                        "address": address_to_json(b.address), "taxonomy": b.taxonomy})


def _patient(p: Patient) -> dict[str, Any]:
    return _drop_empty({"id": p.id, "first_name": p.first_name, "last_name": p.last_name,
                        "birth_date": p.birth_date.isoformat(), "sex": p.sex,
                        "address": None if p.address is None else address_to_json(p.address)})


def _coverage(c: Coverage) -> dict[str, Any]:
    sub = c.subscriber
    subscriber = None if sub is None else _drop_empty({
        "first_name": sub.first_name, "last_name": sub.last_name,
        "birth_date": None if sub.birth_date is None else sub.birth_date.isoformat(),
        "sex": sub.sex, "address": None if sub.address is None else address_to_json(sub.address)})
    return _drop_empty({"payer_id": c.payer_id, "payer_name": c.payer_name,
                        "member_id": c.member_id, "plan": c.plan, "relationship": c.relationship,
                        "group_number": c.group_number, "subscriber": subscriber,
                        "sequence": c.sequence,
                        "start": None if c.start is None else c.start.isoformat(),
                        "end": None if c.end is None else c.end.isoformat()})


def provider_to_json(p: Provider) -> dict[str, Any]:
    """A provider object."""
    return {"npi": p.npi, "first_name": p.first_name, "last_name": p.last_name,
            "credential": p.credential.value}


def _plan(p: PlanOfCare) -> dict[str, Any]:
    return _drop_empty({"start": p.start.isoformat(), "end": p.end.isoformat(),
                        "certified_on": None if p.certified_on is None else
                        p.certified_on.isoformat(),
                        "certifying_npi": p.certifying_npi,
                        "discipline": None if p.discipline is None else p.discipline.value})


def _authorization(a: Authorization) -> dict[str, Any]:
    out = _drop_empty({"number": a.number, "start": a.start.isoformat(),
                       "end": a.end.isoformat(), "visits_approved": a.visits_approved,
                       "units_approved": a.units_approved})
    if a.visits_used:
        out["visits_used"] = a.visits_used
    if a.units_used:
        out["units_used"] = a.units_used
    return out


def service_to_json(s: Service) -> dict[str, Any]:
    """A service object."""
    out: dict[str, Any] = {"code": s.code}
    if s.minutes:
        out["minutes"] = s.minutes
    if s.assistant_minutes:
        out["assistant_minutes"] = s.assistant_minutes
    if s.mode is not Mode.ONE_ON_ONE:
        out["mode"] = s.mode.value
    out.update(_drop_empty({"activity": s.activity, "goal": s.goal, "assistance": s.assistance,
                            "distinct": None if s.distinct is None else s.distinct.value,
                            "modifiers": list(s.modifiers)}))
    if s.units is not None:
        out["units"] = s.units
    if s.charge is not None:
        out["charge"] = str(s.charge)
    return out


def visit_to_json(v: Visit) -> dict[str, Any]:
    """A visit as the DESIGN.md visit-file object.

    Args:
        v: the visit.

    Returns:
        A JSON-ready dict (amounts as decimal strings, dates as YYYY-MM-DD).
    """
    out: dict[str, Any] = {
        "visit_id": v.visit_id,
        "date_of_service": v.date_of_service.isoformat(),
        "place_of_service": v.place_of_service,
        "billing_provider": _billing(v.billing_provider),
        "patient": _patient(v.patient),
        "coverage": _coverage(v.coverage),
        "rendering_provider": provider_to_json(v.rendering_provider),
    }
    optional: dict[str, Any] = {
        "assistant": None if v.assistant is None else provider_to_json(v.assistant),
        "supervising_provider": None if v.supervising_provider is None else
        provider_to_json(v.supervising_provider),
        "diagnoses": list(v.diagnoses),
        "plan_of_care": None if v.plan_of_care is None else _plan(v.plan_of_care),
        "authorization": None if v.authorization is None else _authorization(v.authorization),
        "visit_number_in_episode": v.visit_number_in_episode,
        "treatment_days_since_progress_report": v.treatment_days_since_progress_report,
        "total_treatment_minutes": v.total_treatment_minutes,
        "onset_date": None if v.onset_date is None else v.onset_date.isoformat(),
        "referring_npi": v.referring_npi,
    }
    out.update(_drop_empty(optional))
    ttd = v.therapy_to_date
    if ttd.pt_slp != ZERO or ttd.ot != ZERO:
        out["therapy_to_date"] = {"pt_slp": str(ttd.pt_slp), "ot": str(ttd.ot)}
    out["services"] = [service_to_json(s) for s in v.services]
    return out
