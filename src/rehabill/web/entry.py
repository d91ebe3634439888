"""Visit entry: the form's raw values, the visit they describe, and the live claim preview.

The form posts repeated service fields (``code``, ``minutes``, ...), one per row. ``VisitForm``
keeps the raw strings so the page can show exactly what was typed; ``to_visit`` turns them into
the DESIGN.md visit JSON and builds the ``Visit`` with ``parse_visit``, so the web form and the
visit file share one set of checks and one set of located findings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Any, Protocol

from rehabill.coding import CodingOptions, CodingResult, UnitMethod, code_visit
from rehabill.domain.findings import Finding, Location, Severity, sort_findings
from rehabill.domain.money import ZERO, format_amount
from rehabill.domain.parse import parse_visit
from rehabill.domain.visit import Address, Provider, Service, Visit
from rehabill.reference import Reference
from rehabill.web.catalog import PatientCatalog, PatientChoice

MAX_ROWS = 30
MAX_MINUTES_PER_DAY = 24 * 60
ROW_FIELDS = ("code", "minutes", "assistant_minutes", "mode", "activity", "goal", "assistance")
PREVIEW_VISIT_ID = "NEW"


class FormValues(Protocol):
    """What Starlette's FormData offers: ``get`` and ``getlist``."""

    def get(self, key: str, /) -> Any:
        """One value."""
        ...

    def getlist(self, key: str, /) -> list[Any]:
        """Every value of a repeated field."""
        ...


@dataclass(frozen=True, slots=True)
class ServiceRow:
    """One service row as typed."""

    code: str = ""
    minutes: str = ""
    assistant_minutes: str = ""
    mode: str = "one_on_one"
    activity: str = ""
    goal: str = ""
    assistance: str = ""

    @property
    def is_blank(self) -> bool:
        """A row with no code is an unused row."""
        return not self.code.strip()


@dataclass(frozen=True, slots=True)
class VisitForm:
    """The visit entry form as typed."""

    visit_id: str = ""
    patient: str = ""
    coverage: str = ""
    date_of_service: str = ""
    rendering_npi: str = ""
    assistant_npi: str = ""
    diagnoses: str = ""
    rows: tuple[ServiceRow, ...] = field(default_factory=lambda: (ServiceRow(),))

    @classmethod
    def from_form(cls, form: FormValues) -> VisitForm:
        """Read the posted fields (at most ``MAX_ROWS`` service rows)."""
        columns = [[_text(v) for v in form.getlist(name)][:MAX_ROWS] for name in ROW_FIELDS]
        rows = tuple(ServiceRow(*values) for values in zip_longest(*columns, fillvalue=""))
        return cls(
            visit_id=_text(form.get("visit_id")), patient=_text(form.get("patient")),
            coverage=_text(form.get("coverage")),
            date_of_service=_text(form.get("date_of_service")),
            rendering_npi=_text(form.get("rendering_npi")),
            assistant_npi=_text(form.get("assistant_npi")),
            diagnoses=_text(form.get("diagnoses")), rows=rows or (ServiceRow(),),
        )

    @classmethod
    def from_visit(cls, visit: Visit, patient_key: str, coverage_key: str) -> VisitForm:
        """The form that would save ``visit`` again (editing a draft)."""
        rows = tuple(ServiceRow(s.code, _minutes_text(s.minutes),
                                _minutes_text(s.assistant_minutes), s.mode.value, s.activity,
                                s.goal, s.assistance) for s in visit.services)
        return cls(visit.visit_id, patient_key, coverage_key,
                   visit.date_of_service.isoformat(), visit.rendering_provider.npi,
                   visit.assistant.npi if visit.assistant else "", ", ".join(visit.diagnoses),
                   rows or (ServiceRow(),))


def _text(value: object) -> str:
    return value.strip()[:200] if isinstance(value, str) else ""


def _minutes_text(minutes: int) -> str:
    return str(minutes) if minutes else ""


def _minutes_value(text: str) -> object:
    """Whole numbers become ints; anything else goes through as typed so parsing names it."""
    if not text:
        return None
    return int(text) if text.isdigit() else text


def _provider_json(provider: Provider) -> dict[str, str]:
    return {"npi": provider.npi, "first_name": provider.first_name,
            "last_name": provider.last_name, "credential": provider.credential.value}


def _address_json(address: Address | None) -> dict[str, str] | None:
    if address is None:
        return None
    return {"line1": address.line1, "line2": address.line2, "city": address.city,
            "state": address.state, "zip": address.zip}


def visit_json(form: VisitForm, chosen: PatientChoice, catalog: PatientCatalog,
               visit_id: str) -> dict[str, Any]:
    """The DESIGN.md visit JSON for the form (coverage and clinicians from the catalog)."""
    practice = catalog.practice
    clinicians = {c.npi: c for c in catalog.clinicians()}
    coverage = chosen.coverage(form.coverage) or chosen.coverages[0]
    cov = coverage.coverage
    patient = chosen.patient
    rendering = clinicians.get(form.rendering_npi)
    assistant = clinicians.get(form.assistant_npi)
    data: dict[str, Any] = {
        "visit_id": visit_id,
        "date_of_service": form.date_of_service,
        "billing_provider": {"npi": practice.npi, "tax_id": practice.tax_id,
                             "name": practice.name,
                             "address": _address_json(practice.address)},
        "patient": {"id": patient.id, "first_name": patient.first_name,
                    "last_name": patient.last_name,
                    "birth_date": patient.birth_date.isoformat(), "sex": patient.sex,
                    "address": _address_json(patient.address)},
        "coverage": {"payer_id": cov.payer_id, "payer_name": cov.payer_name,
                     "member_id": cov.member_id, "plan": cov.plan,
                     "relationship": cov.relationship, "sequence": cov.sequence},
        "rendering_provider": _provider_json(rendering) if rendering else None,
        "assistant": _provider_json(assistant) if assistant else None,
        "diagnoses": [d.strip() for d in form.diagnoses.replace(";", ",").split(",")
                      if d.strip()],
        "visit_number_in_episode": chosen.visit_number_in_episode,
        "therapy_to_date": {"pt_slp": str(chosen.therapy_to_date.pt_slp),
                            "ot": str(chosen.therapy_to_date.ot)},
        "services": [
            {"code": row.code, "minutes": _minutes_value(row.minutes),
             "assistant_minutes": _minutes_value(row.assistant_minutes),
             "mode": row.mode or "one_on_one", "activity": row.activity, "goal": row.goal,
             "assistance": row.assistance}
            for row in form.rows if not row.is_blank
        ],
    }
    if chosen.plan_of_care is not None:
        poc = chosen.plan_of_care
        data["plan_of_care"] = {
            "start": poc.start.isoformat(), "end": poc.end.isoformat(),
            "certified_on": poc.certified_on.isoformat() if poc.certified_on else None,
            "certifying_npi": poc.certifying_npi}
    if chosen.authorization is not None:
        auth = chosen.authorization
        data["authorization"] = {
            "number": auth.number, "start": auth.start.isoformat(), "end": auth.end.isoformat(),
            "visits_approved": auth.visits_approved, "visits_used": auth.visits_used}
    return data


def _entry_finding(code: str, severity: Severity, message: str, field_name: str,
                   fix: str) -> Finding:
    return Finding(code, severity, message, Location(field=field_name), fix)


def to_visit(form: VisitForm, catalog: PatientCatalog, visit_id: str = PREVIEW_VISIT_ID
             ) -> tuple[Visit | None, tuple[Finding, ...]]:
    """The visit the form describes, or None with findings that say what is missing."""
    chosen = catalog.patient(form.patient)
    if chosen is None:
        return None, (_entry_finding("entry.no_patient", Severity.INFO,
                                     "No patient is chosen for this visit yet.", "patient",
                                     "Pick the patient seen."),)
    if not any(not row.is_blank for row in form.rows):
        return None, (_entry_finding("entry.no_services", Severity.INFO,
                                     "No service is entered yet.", "services",
                                     "Add each service furnished with its minutes."),)
    if form.rendering_npi not in {c.npi for c in catalog.clinicians()}:
        return None, (_entry_finding("entry.no_clinician", Severity.ERROR,
                                     "No treating clinician is chosen for this visit.",
                                     "rendering_npi", "Pick the clinician who treated."),)
    visit, findings = parse_visit(visit_json(form, chosen, catalog, visit_id))
    if visit is not None:
        too_long = minutes_findings(visit)
        if too_long:
            return None, too_long
    return visit, tuple(findings)


def minutes_findings(visit: Visit) -> tuple[Finding, ...]:
    """A service whose minutes exceed a day cannot be coded (the CLI refuses them too)."""
    return tuple(
        _entry_finding("entry.minutes_over_a_day", Severity.ERROR,
                       f"{service.code} has {service.total_minutes} minutes, more than a day.",
                       f"services[{index}].minutes", "Enter the minutes actually spent.")
        for index, service in enumerate(visit.services)
        if service.total_minutes > MAX_MINUTES_PER_DAY)


OptionsFor = Callable[[Visit], CodingOptions]
"""The payer's coding options for a visit (the lead wires the scrubber's payer policies in)."""


def options_for_plan(visit: Visit) -> CodingOptions:
    """Default: Medicare plans by CMS total time with KX, other plans per code."""
    return CodingOptions.for_plan(visit.coverage.plan)


Scrubber = Callable[[Visit, CodingResult], Sequence[Finding]]
"""Finds problems in a coded visit; the lead wires ``rules.scrub`` in, ``entry_checks`` is the
default until then."""


def entry_checks(ref: Reference) -> Scrubber:
    """Problems a therapist can fix while typing: minutes that bill nothing, missing pieces.

    These look only at what the form holds; payer rules (NCCI, MUE, plan of care, KX...) are
    the scrubber's (``rehabill.rules``), which replaces this when the lead wires it in.
    """

    def check(visit: Visit, result: CodingResult) -> tuple[Finding, ...]:
        found: list[Finding] = []
        for index, service in enumerate(visit.services):
            found.extend(_service_checks(service, f"services[{index}]", visit, result, ref))
        return tuple(found)

    return check


def _service_checks(service: Service, where: str, visit: Visit, result: CodingResult,
                    ref: Reference) -> list[Finding]:
    found: list[Finding] = []
    timed = ref.codes.is_timed(service.code) if service.code in ref.codes else False
    if timed and service.total_minutes == 0:
        found.append(_entry_finding(
            "entry.timed_without_minutes", Severity.ERROR,
            f"{service.code} is a timed code but has no minutes.", f"{where}.minutes",
            "Enter the minutes the therapist (and assistant) spent on it."))
    elif timed and result.units.units_for(service.code) == 0:
        found.append(_entry_finding(
            "entry.minutes_bill_no_unit", Severity.WARNING,
            f"{service.code}'s {service.total_minutes} minutes bill no unit under the "
            f"{result.units.method.value} method.", f"{where}.minutes",
            "Check the minutes; they still count toward the visit's total time."))
    if service.assistant_minutes and visit.assistant is None:
        found.append(_entry_finding(
            "entry.assistant_not_named", Severity.ERROR,
            f"{service.code} has {service.assistant_minutes} assistant minutes but no "
            "assistant is named.", "assistant_npi", "Pick the assistant who treated."))
    if timed and service.total_minutes and not service.goal:
        found.append(_entry_finding(
            "entry.goal_missing", Severity.WARNING,
            f"{service.code} does not name the functional goal it works toward.",
            f"{where}.goal", "Name the plan-of-care goal this service serves."))
    return found


@dataclass(frozen=True, slots=True)
class LineView:
    """A claim line as the preview shows it."""

    code: str
    label: str
    modifiers: tuple[str, ...]
    units: int
    charge: str
    therapist_minutes: int
    assistant_minutes: int


@dataclass(frozen=True, slots=True)
class MethodView:
    """The claim under one unit method."""

    method: UnitMethod
    lines: tuple[LineView, ...]
    total_timed_minutes: int
    total_units: int
    total_charge: str
    explanation: tuple[str, ...]

    @property
    def title(self) -> str:
        """"CMS total time" or "Per code"."""
        return "CMS total time" if self.method is UnitMethod.CMS else "Per code"

    @property
    def phrase(self) -> str:
        """"CMS total-time" or "per-code", for a sentence."""
        return "CMS total-time" if self.method is UnitMethod.CMS else "per-code"


@dataclass(frozen=True, slots=True)
class Preview:
    """What the live panel shows: the billed claim, the other method when it differs in kind,
    and every finding (input, coding, entry/scrub), errors first."""

    billed: MethodView | None
    other: MethodView | None
    findings: tuple[Finding, ...]
    payer: str = ""

    @property
    def error_count(self) -> int:
        """How many error findings."""
        return sum(1 for f in self.findings if f.is_error)

    @property
    def warning_count(self) -> int:
        """How many warning findings."""
        return sum(1 for f in self.findings if f.severity is Severity.WARNING)


def unique_findings(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    """Each finding once (a scrubber may report coding's findings again), errors first."""
    seen: set[tuple[str, str, str]] = set()
    out: list[Finding] = []
    for f in findings:
        key = (f.code, str(f.location), f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return sort_findings(out)


def method_view(result: CodingResult, ref: Reference) -> MethodView:
    """The preview of one coding result."""
    lines = tuple(
        LineView(line.code, _label(ref, line.code), line.modifiers, line.units,
                 format_amount(line.charge), line.therapist_minutes, line.assistant_minutes)
        for line in result.claim.lines)
    total = sum((line.charge for line in result.claim.lines), ZERO)
    return MethodView(result.units.method, lines, result.units.total_timed_minutes,
                      result.units.total_units, format_amount(total), result.units.explanation)


def _label(ref: Reference, code: str) -> str:
    info = ref.codes.get(code)
    return info.label if info is not None else ""


def build_preview(form: VisitForm, catalog: PatientCatalog, ref: Reference,
                  scrubber: Scrubber, options_for: OptionsFor = options_for_plan
                  ) -> tuple[Visit | None, Preview]:
    """Code the form's visit under the payer's method (and CMS beside a per-code payer)."""
    visit, findings = to_visit(form, catalog, form.visit_id or PREVIEW_VISIT_ID)
    if visit is None:
        return None, Preview(None, None, sort_findings(findings))
    options = options_for(visit)
    result = code_visit(visit, reference=ref, options=options)
    other = None
    if options.method is UnitMethod.PER_CODE:
        other = method_view(code_visit(visit, reference=ref, options=options,
                                       method=UnitMethod.CMS), ref)
    everything = unique_findings((*findings, *result.findings, *scrubber(visit, result)))
    payer = visit.coverage.payer_name or visit.coverage.payer_id
    return visit, Preview(method_view(result, ref), other, sort_findings(everything), payer)
