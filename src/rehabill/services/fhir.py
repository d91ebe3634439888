"""FHIR R4 bundles → the DESIGN.md visit shape (docs/import.md lists the mapping).

One Encounter is one visit; its Procedures are the services; the Patient, the patient's
Coverage (order 1 first), the Practitioners (participants) and the Organization
(serviceProvider) fill in the rest. The patient's next Coverage in force (order 2, or a second
active one) becomes the visit's ``secondary_coverage``: stored as the patient's secondary
coverage, never billed by the visit itself. Each resource is validated with ``fhir.resources`` (R4B
models, which read R4 Patient, Coverage, Encounter and Procedure unchanged); a resource that
fails is reported with its entry number and the visit it belongs to is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from rehabill.domain import Finding, Location, Severity
from rehabill.services.sources import Source

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
TIN_SYSTEMS = frozenset({"urn:oid:2.16.840.1.113883.4.4", "http://hl7.org/fhir/sid/us-ssn"})
CODE_SYSTEMS = frozenset({"http://www.ama-assn.org/go/cpt", "urn:oid:2.16.840.1.113883.6.12",
                          "urn:oid:2.16.840.1.113883.6.285",
                          "http://terminology.hl7.org/CodeSystem/HCPCS"})
ICD10_SYSTEMS = frozenset({"http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-10"})
EXTENSION = "https://rehabill.org/fhir/StructureDefinition/"
USED = ("Patient", "Coverage", "Encounter", "Procedure", "Practitioner", "Organization",
        "Condition")
ASSISTANTS = frozenset({"PTA", "OTA", "SLPA"})


def read_bundle(bundle: dict[str, Any], path: str) -> Source:
    """Map a FHIR R4 Bundle (decoded JSON) to visit dicts, with located findings."""
    resources, findings, bad_visits = _validate(bundle, path)
    index = _Index(resources)
    items: list[object] = []
    places: dict[str, dict[str, str]] = {}
    for key, (entry, encounter) in resources.items():
        if not key.startswith("Encounter/"):
            continue
        visit, where = _visit(encounter, index, entry)
        if visit["visit_id"] in bad_visits:
            continue
        items.append(visit)
        places[visit["visit_id"]] = where
    return Source("fhir", items, findings, _InBundle(path, places))


def _validate(bundle: dict[str, Any], path: str
              ) -> tuple[dict[str, tuple[int, Any]], list[Finding], set[str]]:
    resources: dict[str, tuple[int, Any]] = {}
    findings: list[Finding] = []
    bad: set[str] = set()
    entries = bundle.get("entry") or []
    entries = entries if isinstance(entries, list) else []
    visit_ids = _raw_encounter_ids(entries)
    for number, entry in enumerate(entries):
        raw = entry.get("resource") if isinstance(entry, dict) else None
        kind = raw.get("resourceType") if isinstance(raw, dict) else None
        if kind not in USED or not isinstance(raw, dict):
            continue
        try:
            resource = get_fhir_model_class(kind).model_validate(raw)
        except ValidationError as exc:
            visit_id = _visit_of_raw(raw, visit_ids)
            bad.add(visit_id)
            findings.append(_invalid(path, number, kind, raw.get("id", ""), visit_id, exc))
            continue
        for key in _keys(entry, kind, resource):
            resources[key] = (number, resource)
    return resources, findings, bad


def _keys(entry: dict[str, Any], kind: str, resource: Any) -> list[str]:
    keys = [f"{kind}/{resource.id}"] if resource.id else []
    if isinstance(entry.get("fullUrl"), str):
        keys.append(entry["fullUrl"])
    return keys or [f"{kind}/#{id(resource)}"]


def _raw_encounter_ids(entries: list[Any]) -> dict[str, str]:
    """Visit ids of the raw Encounters, by every reference that may point at them."""
    out: dict[str, str] = {}
    for entry in entries:
        raw = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(raw, dict) or raw.get("resourceType") != "Encounter":
            continue
        visit_id = _encounter_id_raw(raw)
        out[f"Encounter/{raw.get('id', '')}"] = visit_id
        if isinstance(entry.get("fullUrl"), str):
            out[entry["fullUrl"]] = visit_id
    return out


def _visit_of_raw(raw: dict[str, Any], visit_ids: dict[str, str]) -> str:
    if raw.get("resourceType") == "Encounter":
        return _encounter_id_raw(raw)
    encounter = raw.get("encounter")
    ref = encounter.get("reference", "") if isinstance(encounter, dict) else ""
    return visit_ids.get(str(ref), "")


def _encounter_id_raw(raw: dict[str, Any]) -> str:
    for identifier in raw.get("identifier") or []:
        if isinstance(identifier, dict) and identifier.get("value"):
            return str(identifier["value"])
    return str(raw.get("id", ""))


def _invalid(path: str, number: int, kind: str, rid: str, visit_id: str,
             exc: ValidationError) -> Finding:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    why = str(first["msg"]).rstrip(".")
    return Finding("input.fhir_invalid_resource", Severity.ERROR,
                   f"{kind}/{rid} (entry {number}) is not valid FHIR: {where}: {why}.",
                   Location(file=path, visit_id=visit_id, field=f"entry {number} ({kind})"),
                   "Correct the resource in the bundle; its visit was skipped.")


class _Index:
    """Resources by reference ("Patient/1" or a fullUrl), and Procedures by encounter."""

    def __init__(self, resources: dict[str, tuple[int, Any]]) -> None:
        self.by_ref = resources
        self.procedures: dict[str, list[tuple[int, Any]]] = {}
        self.coverages: dict[str, list[Any]] = {}
        seen: set[int] = set()
        for number, res in resources.values():
            if id(res) in seen:
                continue
            seen.add(id(res))
            if res.get_resource_type() == "Procedure" and res.encounter is not None:
                target = self.get(res.encounter.reference)
                if target is not None:
                    self.procedures.setdefault(str(id(target)), []).append((number, res))
            if res.get_resource_type() == "Coverage":
                target = self.get(res.beneficiary.reference)
                if target is not None:
                    self.coverages.setdefault(str(id(target)), []).append(res)

    def get(self, reference: str | None) -> Any:
        found = self.by_ref.get(reference or "")
        return None if found is None else found[1]


def _visit(encounter: Any, index: _Index, entry: int) -> tuple[dict[str, Any], dict[str, str]]:
    visit_id = _first_identifier(encounter.identifier) or encounter.id or f"entry-{entry}"
    patient = index.get(encounter.subject.reference if encounter.subject else None)
    visit: dict[str, Any] = {"visit_id": visit_id}
    where = {"": f"entry {entry} (Encounter/{encounter.id})"}
    if encounter.period is not None and encounter.period.start is not None:
        visit["date_of_service"] = _iso(encounter.period.start)
    pos = _extension(encounter, "place-of-service")
    if pos is not None:
        visit["place_of_service"] = str(pos)
    org = index.get(encounter.serviceProvider.reference if encounter.serviceProvider else None)
    if org is not None:
        visit["billing_provider"] = _organization(org)
    if patient is not None:
        visit["patient"] = _patient(patient)
        ranked = _ranked_coverages(index.coverages.get(str(id(patient)), []),
                                   visit.get("date_of_service", ""))
        if ranked:
            visit["coverage"] = _coverage(ranked[0], index)
        if len(ranked) > 1:
            visit["secondary_coverage"] = {**_coverage(ranked[1], index),
                                           "sequence": "secondary"}
    visit.update(_participants(encounter, index))
    visit["diagnoses"] = _diagnoses(encounter, index)
    visit["services"] = []
    for i, (number, procedure) in enumerate(index.procedures.get(str(id(encounter)), [])):
        visit["services"].append(_service(procedure))
        where[f"services[{i}]"] = f"entry {number} (Procedure/{procedure.id})"
    return visit, where


def _first_identifier(identifiers: Any, system: str | None = None) -> str:
    for identifier in identifiers or []:
        if identifier.value and (system is None or identifier.system == system):
            return str(identifier.value)
    return ""


def _iso(value: date | datetime | str) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:10]


def _extension(resource: Any, name: str) -> Any:
    for ext in resource.extension or []:
        if ext.url == EXTENSION + name or ext.url.endswith("/" + name):
            for attr in ("valueInteger", "valueString", "valueCode", "valueDecimal"):
                value = getattr(ext, attr, None)
                if value is not None:
                    return value
            quantity = getattr(ext, "valueQuantity", None)
            if quantity is not None and quantity.value is not None:
                return int(quantity.value)
    return None


def _address(addresses: Any) -> dict[str, str] | None:
    for a in addresses or []:
        return {"line1": (a.line or [""])[0], "line2": " ".join((a.line or [])[1:]),
                "city": a.city or "", "state": a.state or "", "zip": a.postalCode or ""}
    return None


def _organization(org: Any) -> dict[str, Any]:
    tin = next((i.value for i in org.identifier or [] if i.system in TIN_SYSTEMS), "")
    out: dict[str, Any] = {"npi": _first_identifier(org.identifier, NPI_SYSTEM),
                           "tax_id": tin or "", "name": org.name or ""}
    address = _address(org.address)
    if address is not None:
        out["address"] = address
    return out


def _name(resource: Any) -> tuple[str, str]:
    for name in resource.name or []:
        return (" ".join(name.given or []), name.family or "")
    return ("", "")


def _patient(patient: Any) -> dict[str, Any]:
    first, last = _name(patient)
    sex = {"male": "M", "female": "F"}.get(patient.gender or "", "U")
    out: dict[str, Any] = {"id": _first_identifier(patient.identifier) or patient.id,
                           "first_name": first, "last_name": last, "sex": sex}
    if patient.birthDate is not None:
        out["birth_date"] = _iso(patient.birthDate)
    address = _address(patient.address)
    if address is not None:
        out["address"] = address
    return out


INACTIVE = frozenset({"cancelled", "entered-in-error", "draft"})


def _ranked_coverages(coverages: list[Any], day: str) -> list[Any]:
    """The patient's coverages in force on ``day``, by ``order`` (none counts as 1), then by
    place in the bundle: the first is billed, the second is the secondary. Cancelled, draft
    and erroneous coverages, and those whose period misses the day, count only when no other
    coverage is left (the visit still needs one to bill)."""
    by_order = sorted(coverages, key=lambda c: c.order if c.order is not None else 1)
    live = [c for c in by_order if c.status not in INACTIVE and _covers(c.period, day)]
    return live or by_order[:1]


def _covers(period: Any, day: str) -> bool:
    if period is None or not day:
        return True
    start = _iso(period.start) if period.start is not None else ""
    end = _iso(period.end) if period.end is not None else ""
    return (not start or start <= day) and (not end or day <= end)


def _coverage(coverage: Any, index: _Index) -> dict[str, Any]:
    payor = (coverage.payor or [None])[0]
    org = index.get(payor.reference) if payor is not None else None
    payer_id = _first_identifier(org.identifier) if org is not None else ""
    if not payer_id and payor is not None and payor.identifier is not None:
        payer_id = payor.identifier.value or ""
    plan = _class_value(coverage, "plan")
    relationship = ""
    if coverage.relationship is not None:
        relationship = next((cd.code for cd in coverage.relationship.coding or []), "") or ""
    out = {"payer_id": payer_id, "payer_name": (org.name if org is not None else None)
           or (payor.display if payor is not None else "") or "",
           "member_id": coverage.subscriberId or _first_identifier(coverage.identifier),
           "plan": plan, "group_number": _class_value(coverage, "group"),
           "relationship": relationship or "self",
           "sequence": "primary" if (coverage.order or 1) == 1 else "secondary"}
    out.update(_period(coverage.period))
    return out


def _period(period: Any) -> dict[str, str]:
    """``Coverage.period`` as the visit file's coverage ``start``/``end`` (a missing side is
    left out: open), so the scrubber sees a visit the coverage does not reach."""
    if period is None:
        return {}
    sides = {"start": period.start, "end": period.end}
    return {name: _iso(value) for name, value in sides.items() if value is not None}


def _class_value(coverage: Any, kind: str) -> str:
    """The value of the coverage's ``class`` of this type (plan, group...), or ""."""
    return next((str(c.value) for c in coverage.class_fhir or []
                 if any(cd.code == kind for cd in c.type.coding or [])), "")


def _practitioner(practitioner: Any) -> dict[str, Any]:
    first, last = _name(practitioner)
    credential = ""
    for q in practitioner.qualification or []:
        credential = next((c.code for c in q.code.coding or [] if c.code), "") or credential
        if credential:
            break
    return {"npi": _first_identifier(practitioner.identifier, NPI_SYSTEM)
            or _first_identifier(practitioner.identifier),
            "first_name": first, "last_name": last, "credential": credential}


def _participants(encounter: Any, index: _Index) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for participant in encounter.participant or []:
        who = index.get(participant.individual.reference if participant.individual else None)
        if who is None or who.get_resource_type() != "Practitioner":
            continue
        person = _practitioner(who)
        slot = "assistant" if person["credential"].upper() in ASSISTANTS else "rendering_provider"
        out.setdefault(slot, person)
    return out


def _codes(concept: Any, systems: frozenset[str]) -> list[str]:
    if concept is None:
        return []
    return [c.code for c in concept.coding or [] if c.code and c.system in systems]


def _diagnoses(encounter: Any, index: _Index) -> list[str]:
    ranked = sorted(encounter.diagnosis or [], key=lambda d: d.rank or 99)
    codes: list[str] = []
    for diagnosis in ranked:
        condition = index.get(diagnosis.condition.reference if diagnosis.condition else None)
        if condition is not None:
            codes.extend(_codes(condition.code, ICD10_SYSTEMS))
    for reason in encounter.reasonCode or []:
        codes.extend(_codes(reason, ICD10_SYSTEMS))
    return list(dict.fromkeys(codes))


def _service(procedure: Any) -> dict[str, Any]:
    codes = _codes(procedure.code, CODE_SYSTEMS) or [
        c.code for c in (procedure.code.coding if procedure.code else None) or [] if c.code]
    out: dict[str, Any] = {"code": codes[0] if codes else ""}
    minutes = _extension(procedure, "therapist-minutes")
    if minutes is None:
        minutes = _extension(procedure, "minutes")
    if minutes is None and procedure.performedPeriod is not None:
        period = procedure.performedPeriod
        if period.start is not None and period.end is not None:
            minutes = int((period.end - period.start).total_seconds() // 60)
    if minutes is not None:
        out["minutes"] = minutes
    for key, ext in (("assistant_minutes", "assistant-minutes"), ("mode", "mode"),
                     ("goal", "goal"), ("assistance", "assistance")):
        value = _extension(procedure, ext)
        if value is not None:
            out[key] = value
    if procedure.note:
        out["activity"] = procedure.note[0].text or ""
    return out


@dataclass(frozen=True, slots=True)
class _InBundle:
    """Locate a finding in a FHIR bundle: the resource its visit (or service) came from."""

    path: str
    places: dict[str, dict[str, str]]

    def __call__(self, f: Finding) -> Finding:
        where = self.places.get(f.location.visit_id, {})
        service = f.location.field.split(".", 1)[0]
        place = where.get(service) or where.get("", "")
        field = f"{place}: {f.location.field}" if place else f.location.field
        return replace(f, location=replace(f.location, file=self.path, field=field))
