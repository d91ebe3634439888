"""Turn visit JSON (already decoded) into ``Visit`` values, with located findings for bad input.

The shape is the DESIGN.md visit-file contract. Nothing here raises on bad data: a visit that
cannot be built yields ``input.*`` findings and is skipped; the others go on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, TypeGuard, TypeVar

from rehabill.domain.findings import Finding, Location, Severity
from rehabill.domain.money import parse_amount
from rehabill.domain.visit import (
    Address,
    Authorization,
    BillingProvider,
    Coverage,
    Credential,
    Discipline,
    DistinctReason,
    Mode,
    Patient,
    PlanOfCare,
    Provider,
    Service,
    Subscriber,
    TherapyToDate,
    Visit,
)

#: Parts of visits already built while reading one file, by kind and raw content (see
#: ``parse_visit``). The values are frozen, so visits may share them.
Shared = dict[tuple[object, ...], object]
T = TypeVar("T")


class _Bad(Exception):
    """Internal: one field cannot be used; becomes a finding."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


@dataclass(slots=True)
class ParseResult:
    """Visits that could be built, and findings for everything that could not."""

    visits: list[Visit] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def visit_list(data: object) -> tuple[list[object], list[Finding]]:
    """Accept a list of visits or ``{"visits": [...]}``; anything else is one finding."""
    if isinstance(data, Mapping) and isinstance(data.get("visits"), list):
        return list(data["visits"]), []
    if isinstance(data, list):
        return list(data), []
    finding = Finding(
        "input.not_a_visit_list",
        Severity.ERROR,
        "The file holds neither a list of visits nor an object with a \"visits\" list.",
        Location(field="$"),
        "Wrap the visits in a JSON list or in {\"visits\": [...]}.",
    )
    return [], [finding]


def parse_visits(data: object) -> ParseResult:
    """Build every usable visit in ``data``.

    Args:
        data: decoded JSON: a list of visit objects or ``{"visits": [...]}``.

    Returns:
        The visits that could be built and one finding per problem, located by visit and field.
    """
    result = ParseResult()
    items, findings = visit_list(data)
    result.findings.extend(findings)
    seen: set[str] = set()
    shared: Shared = {}
    for index, item in enumerate(items):
        visit, problems = parse_visit(item, index, shared)
        result.findings.extend(problems)
        if visit is None:
            continue
        if visit.visit_id in seen:
            result.findings.append(
                Finding(
                    "input.duplicate_visit_id",
                    Severity.ERROR,
                    f"Visit id {visit.visit_id} appears more than once in the file.",
                    Location(visit_id=visit.visit_id, field="visit_id"),
                    "Give each visit its own id; the repeat was skipped.",
                )
            )
            continue
        seen.add(visit.visit_id)
        result.visits.append(visit)
    return result


def parse_visit(item: object, index: int = 0, shared: Shared | None = None
                ) -> tuple[Visit | None, list[Finding]]:
    """Build one visit, or return None with the findings that explain why not.

    Args:
        item: one decoded visit object.
        index: its place in the file (names a visit without an id).
        shared: parts already built for earlier visits of the same file. A file repeats each
            patient, coverage, provider, plan and many services visit after visit; a part whose
            raw JSON is the same as one built before (same keys in the same order, same values
            of the same JSON types) is that part again, so it is built once. Only parts that
            could be built are kept: a bad one is read again and gives its finding each time.

    Returns:
        The visit (or None) and the findings that explain what could not be used.
    """
    fallback_id = f"#{index + 1}"
    if not _is_object(item):
        return None, [_input_finding(fallback_id, "$", "a visit must be a JSON object")]
    raw_id = item.get("visit_id")
    visit_id = str(raw_id) if isinstance(raw_id, str | int) and str(raw_id) else fallback_id
    try:
        return _visit(item, visit_id, shared), []
    except _Bad as bad:
        return None, [_input_finding(visit_id, bad.path, bad.message)]


def _input_finding(visit_id: str, path: str, message: str) -> Finding:
    return Finding(
        "input.invalid_field",
        Severity.ERROR,
        f"Field {path} is unusable: {message}.",
        Location(visit_id=visit_id, field=path),
        "Correct the field in the visit file and import it again.",
    )


def _is_object(value: object) -> TypeGuard[Mapping[str, Any]]:
    """A JSON object (decoded JSON gives a dict; the ABC check is the slow path)."""
    return type(value) is dict or isinstance(value, Mapping)


def _at(base: str, key: str) -> str:
    """The contract path of ``key`` inside ``base`` (built only when a finding needs it)."""
    return f"{base}.{key}" if base else key


def _content_key(d: Mapping[str, Any]) -> tuple[object, ...] | None:
    """The raw content of a decoded JSON object as a hashable value, or None when it holds
    something not worth keying (a float, a list of non-strings, a non-dict mapping).

    Equal keys mean equal content of equal JSON types: a value's type is part of its key
    (``1``, ``True`` and ``"1"`` parse differently), and an object is keyed by its items in
    order (the same content in another order is only a miss).
    """
    if type(d) is not dict:
        return None
    parts: list[object] = []
    for name, value in d.items():
        kind = type(value)
        if kind is str:
            parts.append((name, value))
        elif kind is dict:
            inner = _content_key(value)
            if inner is None:
                return None
            parts.append((name, inner))
        elif kind is list:
            if not all(type(x) is str for x in value):
                return None
            parts.append((name, "list", tuple(value)))
        elif value is None or kind is int or kind is bool:
            parts.append((name, kind, value))
        else:
            return None
    return tuple(parts)


def _built(shared: Shared | None, kind: str, d: Mapping[str, Any], path: str,
           build: Callable[[Mapping[str, Any], str], T]) -> T:
    """``build(d, path)``, or the value built before from the same raw content."""
    key = None if shared is None else _content_key(d)
    if shared is None or key is None:
        return build(d, path)
    full = (kind, key)
    hit = shared.get(full)
    if hit is not None:
        return hit  # type: ignore[return-value]  # stored below by the same kind's builder
    value = build(d, path)
    shared[full] = value
    return value


def _visit(d: Mapping[str, Any], visit_id: str, shared: Shared | None) -> Visit:
    _text(d, "visit_id", "")
    services_raw = d.get("services")
    if not isinstance(services_raw, list) or not services_raw:
        raise _Bad("services", "a visit needs a non-empty list of services")
    services = tuple(_built(shared, "service", s, f"services[{i}]", _service)
                     if _is_object(s) else _service(s, f"services[{i}]")
                     for i, s in enumerate(services_raw))
    diagnoses = _diagnoses(d.get("diagnoses", []), shared)  # checked first, as it always was
    day = _shared_date(shared, d, "date_of_service")
    if day is None:
        raise _Bad("date_of_service", "is required (YYYY-MM-DD)")
    therapy = d.get("therapy_to_date")
    return Visit(
        visit_id=visit_id,
        date_of_service=day,
        place_of_service=_text(d, "place_of_service", "", default="11"),
        billing_provider=_built(shared, "billing_provider", _obj(d, "billing_provider"),
                                "billing_provider", _billing_provider),
        patient=_built(shared, "patient", _obj(d, "patient"), "patient", _patient),
        coverage=_built(shared, "coverage", _obj(d, "coverage"), "coverage", _coverage),
        rendering_provider=_built(shared, "provider", _obj(d, "rendering_provider"),
                                  "rendering_provider", _provider),
        assistant=_optional(d, "assistant", shared, "provider", _provider),
        supervising_provider=_optional(d, "supervising_provider", shared, "provider",
                                       _provider),
        diagnoses=diagnoses,
        plan_of_care=_optional(d, "plan_of_care", shared, "plan_of_care", _plan_of_care),
        authorization=_optional(d, "authorization", shared, "authorization", _authorization),
        visit_number_in_episode=_int_or_none(d, "visit_number_in_episode", ""),
        treatment_days_since_progress_report=_int_or_none(
            d, "treatment_days_since_progress_report", ""),
        total_treatment_minutes=_int_or_none(d, "total_treatment_minutes", ""),
        therapy_to_date=_built(shared, "therapy_to_date", therapy, "therapy_to_date",
                               _therapy_to_date) if _is_object(therapy)
        else _therapy_to_date(therapy, "therapy_to_date"),
        onset_date=_shared_date(shared, d, "onset_date"),
        referring_npi=_text(d, "referring_npi", "", default=""),
        services=services,
    )


def _diagnoses(raw: object, shared: Shared | None) -> tuple[str, ...]:
    """The visit's diagnosis codes; a list seen before in the file is that tuple again (a
    clinic-month repeats a few dozen lists)."""
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise _Bad("diagnoses", "must be a list of ICD-10-CM code strings")
    if shared is None:
        return tuple([x.strip().upper() for x in raw])
    key = ("diagnoses", *raw)
    hit = shared.get(key)
    if hit is None:
        hit = shared[key] = tuple([x.strip().upper() for x in raw])
    return hit  # type: ignore[return-value]  # stored just above


def _shared_date(shared: Shared | None, d: Mapping[str, Any], key: str) -> date | None:
    """``_date_or_none`` of a visit's own date; a date written before in the file is that
    date again (a month has a few dozen): the store converts each distinct one once."""
    value = d.get(key)
    if shared is None or type(value) is not str:
        return _date_or_none(d, key, "")
    full = ("date", value)
    hit = shared.get(full)
    if hit is None:
        hit = _date_or_none(d, key, "")
        if hit is not None:
            shared[full] = hit
    return hit  # type: ignore[return-value]  # a date, stored just above


def _optional(d: Mapping[str, Any], key: str, shared: Shared | None, kind: str,
              build: Callable[[Mapping[str, Any], str], T]) -> T | None:
    value = d.get(key)
    if value is None:
        return None
    if not _is_object(value):
        raise _Bad(key, "must be an object")
    return _built(shared, kind, value, key, build)


def _obj(d: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = d.get(key)
    if not _is_object(value):
        raise _Bad(key, "is missing or not an object")
    return value


def _text(d: Mapping[str, Any], key: str, base: str, *, default: str | None = None) -> str:
    """The text at ``key``; ``base`` is the path of ``d`` (for the finding's field)."""
    value = d.get(key)
    if type(value) is str and value:  # the common case, checked first
        return value.strip()
    if value is None or value == "":
        if default is not None:
            return default
        raise _Bad(_at(base, key), "is required")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _Bad(_at(base, key), f"must be text, not {type(value).__name__}")
    return str(value).strip()


def _date(d: Mapping[str, Any], key: str, base: str) -> date:
    value = _date_or_none(d, key, base)
    if value is None:
        raise _Bad(_at(base, key), "is required (YYYY-MM-DD)")
    return value


def _date_or_none(d: Mapping[str, Any], key: str, base: str) -> date | None:
    value = d.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _Bad(_at(base, key), "must be a date string YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Bad(_at(base, key), f"{value!r} is not a date (YYYY-MM-DD)") from None


def _int_or_none(d: Mapping[str, Any], key: str, base: str) -> int | None:
    value = d.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(_at(base, key), f"must be a whole number, not {value!r}")
    if value < 0:
        raise _Bad(_at(base, key), f"must not be negative ({value})")
    return value


def _address(value: object, path: str) -> Address:
    if not _is_object(value):
        raise _Bad(path, "must be an object with line1, city, state, zip")
    return Address(
        line1=_text(value, "line1", path),
        line2=_text(value, "line2", path, default=""),
        city=_text(value, "city", path),
        state=_text(value, "state", path).upper(),
        zip=_text(value, "zip", path).replace("-", ""),
    )


def _billing_provider(d: Mapping[str, Any], p: str) -> BillingProvider:
    pay_to = d.get("pay_to_address")
    return BillingProvider(
        npi=_text(d, "npi", p),
        tax_id=_text(d, "tax_id", p).replace("-", ""),
        name=_text(d, "name", p),
        address=_address(d.get("address"), "billing_provider.address"),
        taxonomy=_text(d, "taxonomy", p, default=""),
        pay_to=None if pay_to is None else _address(pay_to, "billing_provider.pay_to_address"),
    )


def _patient(d: Mapping[str, Any], p: str) -> Patient:
    address = d.get("address")
    return Patient(
        id=_text(d, "id", p),
        first_name=_text(d, "first_name", p),
        last_name=_text(d, "last_name", p),
        birth_date=_date(d, "birth_date", p),
        sex=_text(d, "sex", p, default="U").upper(),
        address=None if address is None else _address(address, "patient.address"),
    )


def _coverage(d: Mapping[str, Any], p: str) -> Coverage:
    sub = d.get("subscriber")
    subscriber = None
    if _is_object(sub):
        s = "coverage.subscriber"
        address = sub.get("address")
        subscriber = Subscriber(
            first_name=_text(sub, "first_name", s),
            last_name=_text(sub, "last_name", s),
            birth_date=_date_or_none(sub, "birth_date", s),
            sex=_text(sub, "sex", s, default="").upper(),
            address=None if address is None else _address(address, "coverage.subscriber.address"),
        )
    start = _date_or_none(d, "start", p)
    end = _date_or_none(d, "end", p)
    if start is not None and end is not None and end < start:
        raise _Bad(_at(p, "end"), f"{end.isoformat()} is before the coverage's start "
                   f"{start.isoformat()}")
    return Coverage(
        payer_id=_text(d, "payer_id", p),
        payer_name=_text(d, "payer_name", p, default=""),
        member_id=_text(d, "member_id", p),
        plan=_text(d, "plan", p, default="").lower(),
        relationship=_text(d, "relationship", p, default="self").lower(),
        group_number=_text(d, "group_number", p, default=""),
        subscriber=subscriber,
        sequence=_text(d, "sequence", p, default="primary").lower(),
        start=start,
        end=end,
    )


def _provider(d: Mapping[str, Any], path: str) -> Provider:
    raw = _text(d, "credential", path).upper()
    try:
        credential = Credential(raw)
    except ValueError:
        raise _Bad(f"{path}.credential", f"{raw!r} is not one of PT, PTA, OT, OTA, SLP, SLPA") \
            from None
    return Provider(
        npi=_text(d, "npi", path),
        first_name=_text(d, "first_name", path),
        last_name=_text(d, "last_name", path),
        credential=credential,
    )


def _plan_of_care(d: Mapping[str, Any], path: str) -> PlanOfCare:
    raw = d.get("discipline")
    discipline = None
    if raw is not None:
        try:
            discipline = Discipline(str(raw).lower())
        except ValueError:
            raise _Bad(f"{path}.discipline", f"{raw!r} is not pt, ot or slp") from None
    return PlanOfCare(
        start=_date(d, "start", path),
        end=_date(d, "end", path),
        certified_on=_date_or_none(d, "certified_on", path),
        certifying_npi=_text(d, "certifying_npi", path, default=""),
        discipline=discipline,
    )


def _authorization(d: Mapping[str, Any], path: str) -> Authorization:
    return Authorization(
        number=_text(d, "number", path),
        start=_date(d, "start", path),
        end=_date(d, "end", path),
        visits_approved=_int_or_none(d, "visits_approved", path),
        visits_used=_int_or_none(d, "visits_used", path) or 0,
        units_approved=_int_or_none(d, "units_approved", path),
        units_used=_int_or_none(d, "units_used", path) or 0,
    )


def _therapy_to_date(value: object, path: str) -> TherapyToDate:
    if value is None:
        return TherapyToDate()
    if not _is_object(value):
        raise _Bad("therapy_to_date", "must be an object {\"pt_slp\": \"0.00\", \"ot\": \"0.00\"}")
    return TherapyToDate(
        pt_slp=_amount(value, "pt_slp", "therapy_to_date") or Decimal("0"),
        ot=_amount(value, "ot", "therapy_to_date") or Decimal("0"),
    )


def _amount(d: Mapping[str, Any], key: str, base: str) -> Decimal | None:
    value = d.get(key)
    if value is None:
        return None
    amount = parse_amount(value)
    if amount is None:
        raise _Bad(_at(base, key),
                   f"{value!r} is not an amount (use a decimal string such as \"12.50\")")
    return amount


_MODES = {m.value: m for m in Mode}


def _service(value: object, path: str) -> Service:
    if not _is_object(value):
        raise _Bad(path, "a service must be an object")
    code = _text(value, "code", path).upper()
    mode_raw = _text(value, "mode", path, default="one_on_one").lower()
    mode = _MODES.get(mode_raw)
    if mode is None:
        raise _Bad(f"{path}.mode", f"{mode_raw!r} is not one_on_one, group or concurrent")
    distinct_raw = value.get("distinct")
    distinct = None
    if distinct_raw not in (None, "", False):
        try:
            distinct = DistinctReason(str(distinct_raw).lower())
        except ValueError:
            allowed = ", ".join(r.value for r in DistinctReason)
            raise _Bad(f"{path}.distinct", f"{distinct_raw!r} is not one of {allowed}") from None
    modifiers_raw = value.get("modifiers", [])
    if not isinstance(modifiers_raw, list) or not all(isinstance(m, str) for m in modifiers_raw):
        raise _Bad(f"{path}.modifiers", "must be a list of two-character modifiers")
    return Service(
        code=code,
        minutes=_int_or_none(value, "minutes", path) or 0,
        assistant_minutes=_int_or_none(value, "assistant_minutes", path) or 0,
        mode=mode,
        activity=_text(value, "activity", path, default=""),
        goal=_text(value, "goal", path, default=""),
        assistance=_text(value, "assistance", path, default=""),
        distinct=distinct,
        units=_int_or_none(value, "units", path),
        modifiers=tuple(m.strip().upper() for m in modifiers_raw),
        charge=_amount(value, "charge", path),
    )
