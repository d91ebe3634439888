"""Visit JSON (the DESIGN.md contract) in; visits or located findings out."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from types import MappingProxyType

import pytest

from rehabill.domain import Credential, DistinctReason, Mode, parse_visit, parse_visits

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "visit.json").read_text())[0]


def test_contract_example_parses() -> None:
    result = parse_visits([EXAMPLE])
    assert result.findings == []
    (visit,) = result.visits
    assert visit.visit_id == "V-1001" and visit.date_of_service == date(2026, 3, 2)
    assert visit.assistant is not None and visit.assistant.credential is Credential.PTA
    assert [s.code for s in visit.services] == ["97530", "97110", "97161"]
    assert visit.services[1].assistant_minutes == 13
    assert visit.services[0].mode is Mode.ONE_ON_ONE
    assert visit.plan_of_care is not None and visit.plan_of_care.certifying_npi == "1457390007"


def test_visits_wrapper_object() -> None:
    assert len(parse_visits({"visits": [EXAMPLE]}).visits) == 1


@pytest.mark.parametrize(("path", "value", "field"), [
    (("date_of_service",), "2026-02-30", "date_of_service"),
    (("patient",), None, "patient"),
    (("services",), [], "services"),
    (("services", 0, "minutes"), -5, "services[0].minutes"),
    (("services", 0, "minutes"), "ten", "services[0].minutes"),
    (("services", 0, "mode"), "solo", "services[0].mode"),
    (("rendering_provider", "credential"), "MD", "rendering_provider.credential"),
    (("services", 0, "distinct"), "because", "services[0].distinct"),
])
def test_bad_field__located_finding_and_the_rest_still_parse(path: tuple[object, ...],
                                                             value: object, field: str) -> None:
    bad = copy.deepcopy(EXAMPLE)
    bad["visit_id"] = "V-BAD"
    target = bad
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    result = parse_visits([bad, EXAMPLE])
    assert [v.visit_id for v in result.visits] == ["V-1001"]
    assert [(f.code, f.location.visit_id, f.location.field) for f in result.findings] == [
        ("input.invalid_field", "V-BAD", field)]


def test_not_a_list() -> None:
    result = parse_visits({"nope": 1})
    assert [f.code for f in result.findings] == ["input.not_a_visit_list"]


def test_duplicate_visit_id() -> None:
    result = parse_visits([EXAMPLE, EXAMPLE])
    assert len(result.visits) == 1
    assert [f.code for f in result.findings] == ["input.duplicate_visit_id"]


def test_distinct_reason() -> None:
    data = copy.deepcopy(EXAMPLE)
    data["services"][0]["distinct"] = "separate_encounter"
    (visit,) = parse_visits([data]).visits
    assert visit.services[0].distinct is DistinctReason.SEPARATE_ENCOUNTER


@pytest.mark.parametrize(("path", "value", "field"), [
    (("diagnoses",), "I69.351", "diagnoses"),
    (("plan_of_care",), "soon", "plan_of_care"),
    (("patient", "first_name"), None, "patient.first_name"),
    (("patient", "first_name"), ["x"], "patient.first_name"),
    (("patient", "birth_date"), None, "patient.birth_date"),
    (("patient", "birth_date"), 19500501, "patient.birth_date"),
    (("patient", "address"), "2 Oak St", "patient.address"),
    (("plan_of_care", "discipline"), "chiro", "plan_of_care.discipline"),
    (("therapy_to_date",), 5, "therapy_to_date"),
    (("therapy_to_date",), {"pt_slp": 12.5}, "therapy_to_date.pt_slp"),
    (("services", 0), "97530", "services[0]"),
    (("services", 0, "modifiers"), "GP", "services[0].modifiers"),
    (("services", 0, "charge"), "lots", "services[0].charge"),
    (("visit_number_in_episode",), True, "visit_number_in_episode"),
])
def test_more_bad_fields(path: tuple[object, ...], value: object, field: str) -> None:
    test_bad_field__located_finding_and_the_rest_still_parse(path, value, field)


def test_a_visit_that_is_not_an_object() -> None:
    result = parse_visits(["V-1", EXAMPLE])
    assert [(f.location.visit_id, f.location.field) for f in result.findings] == [("#1", "$")]


def test_optional_fields__subscriber_discipline_amounts_modifiers() -> None:
    data = copy.deepcopy(EXAMPLE)
    data["coverage"]["relationship"] = "spouse"
    data["coverage"]["subscriber"] = {"first_name": "Ann", "last_name": "Lee",
                                      "birth_date": "1952-01-02", "sex": "f",
                                      "address": {"line1": "2 Oak St", "city": "Austin",
                                                  "state": "tx", "zip": "78702-1234"}}
    data["plan_of_care"]["discipline"] = "OT"
    data["therapy_to_date"] = {"pt_slp": "100.50", "ot": 7}
    data["services"][0]["modifiers"] = ["gp", "59"]
    data["services"][0]["charge"] = "70.00"
    (visit,) = parse_visits([data]).visits
    sub = visit.coverage.subscriber
    assert sub is not None and sub.sex == "F" and sub.address is not None
    assert sub.address.state == "TX" and sub.address.zip == "787021234"
    assert visit.discipline.value == "ot"
    assert str(visit.therapy_to_date.pt_slp) == "100.50" and visit.therapy_to_date.ot == 7
    assert visit.services[0].modifiers == ("GP", "59")


def test_billing_provider_pay_to_address__optional() -> None:
    data = copy.deepcopy(EXAMPLE)
    data["billing_provider"]["pay_to_address"] = {"line1": "PO Box 9", "city": "Austin",
                                                  "state": "tx", "zip": "78701-9999"}
    (visit,) = parse_visits([data]).visits
    pay_to = visit.billing_provider.pay_to
    assert pay_to is not None and pay_to.zip == "787019999" and pay_to.state == "TX"
    (plain,) = parse_visits([EXAMPLE]).visits
    assert plain.billing_provider.pay_to is None


def test_a_number_where_text_is_expected_is_read_as_its_digits() -> None:
    visit = copy.deepcopy(EXAMPLE)
    visit["coverage"]["member_id"] = 1234567890  # spreadsheets export ids as numbers
    (parsed,) = parse_visits([visit]).visits
    assert parsed.coverage.member_id == "1234567890"


def _clinic_items() -> list[object]:
    from rehabill.domain.serialize import visit_to_json
    from rehabill.simulate.clinic import ClinicSpec, generate_visits

    visits = generate_visits(ClinicSpec(seed=11, start=date(2026, 1, 5), weeks=6, patients=25,
                                        mistake_rate=0.05))
    return json.loads(json.dumps([visit_to_json(v) for v in visits]))  # decoded as from a file


def test_parse_visit__shared_parts_build_equal_visits_and_findings() -> None:
    items = _clinic_items()
    shared: dict[tuple[object, ...], object] = {}
    alone = [parse_visit(item, i) for i, item in enumerate(items)]
    together = [parse_visit(item, i, shared) for i, item in enumerate(items)]
    assert together == alone
    assert len(shared) < sum(len(v.services) + 4 for v, _ in alone if v is not None)
    parts = {id(v.patient) for v, _ in together if v is not None}
    assert len(parts) < len(items)  # a patient seen again is the part built the first time


def test_parse_visit__a_visits_own_dates_codes_and_amounts_are_shared_too() -> None:
    """The date of service, onset date, diagnosis list and therapy amounts a file repeats are
    built once: the store converts each distinct value once for its rows."""
    items = [item for item in _clinic_items() if item.get("therapy_to_date") is not None]
    shared: dict[tuple[object, ...], object] = {}
    visits = [v for v, _ in (parse_visit(item, i, shared) for i, item in enumerate(items))
              if v is not None]
    assert len(visits) == len(items) > 50
    for field in ("date_of_service", "diagnoses", "therapy_to_date"):
        written = {json.dumps(item[field]) for item in items}  # as the file writes them
        assert len({id(getattr(v, field)) for v in visits}) == len(written) < len(items)


@pytest.mark.parametrize(("changes", "field"), [
    ({"diagnoses": "I69.351", "date_of_service": "2026-13-01"}, "diagnoses"),
    ({"date_of_service": "", "onset_date": "someday"}, "date_of_service"),
    ({"onset_date": "2026-02-30"}, "onset_date"),
    ({"therapy_to_date": {"pt_slp": 1.5, "ot": "0"}}, "therapy_to_date.pt_slp"),
    ({"therapy_to_date": "1.50"}, "therapy_to_date"),
])
def test_parse_visit__shared_visit_values_refuse_as_before(changes: dict[str, object],
                                                           field: str) -> None:
    """A bad date, diagnosis list or amount is refused with its own finding, the first bad
    field in the order the visit is read, whether or not good ones were seen before."""
    shared: dict[tuple[object, ...], object] = {}
    assert parse_visit(copy.deepcopy(EXAMPLE), 0, shared)[0] is not None
    item = {**copy.deepcopy(EXAMPLE), **changes}
    for parts in (shared, None):
        visit, findings = parse_visit(item, 0, parts)
        assert visit is None and [f.location.field for f in findings] == [field]


@pytest.mark.parametrize(("path", "first", "again"), [
    (("authorization", "visits_approved"), 1, True),
    (("services", 0, "minutes"), 25, True),
    (("services", 0, "units"), 1, "1"),
    (("services", 0, "charge"), "12.50", 12.5),
    (("patient", "birth_date"), "1950-01-01", "1950-1-1"),
    (("services", 0, "modifiers"), ["GP"], ["GP", 59]),
    (("patient", "address", "zip"), "78702", 78702.0),
])
def test_parse_visit__shared_parts_keep_json_types_apart(path: tuple[object, ...],
                                                         first: object, again: object) -> None:
    """``1`` and ``True`` are equal in Python but not the same JSON: the second is still read
    (and refused) on its own."""
    shared: dict[tuple[object, ...], object] = {}
    results = []
    for value in (first, again, first):
        item = copy.deepcopy(EXAMPLE)
        target = item
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        results.append(parse_visit(item, 0, shared))
        assert results[-1] == parse_visit(item, 0)
    assert results[0][0] is not None and results[2][0] is not None
    assert results[1][0] is None and results[1][1][0].code == "input.invalid_field"


def test_parse_visit__shared_parts_skip_other_mappings() -> None:
    item = copy.deepcopy(EXAMPLE)
    item["patient"] = MappingProxyType(item["patient"])
    shared: dict[tuple[object, ...], object] = {}
    assert parse_visit(item, 0, shared) == parse_visit(item, 0)
    assert not any(key[0] == "patient" for key in shared)


def test_coverage_dates__read_as_the_effective_and_termination_days() -> None:
    data = copy.deepcopy(EXAMPLE)
    data["coverage"]["start"] = "2025-01-01"
    data["coverage"]["end"] = "2026-02-28"
    (visit,) = parse_visits([data]).visits
    assert (visit.coverage.start, visit.coverage.end) == (date(2025, 1, 1), date(2026, 2, 28))


def test_coverage_dates__absent_means_open() -> None:
    (visit,) = parse_visits([EXAMPLE]).visits
    assert visit.coverage.start is None and visit.coverage.end is None


@pytest.mark.parametrize(("key", "value", "message"), [
    ("start", "2026-13-01", "is not a date"),
    ("end", 20260228, "must be a date string"),
    ("end", "2023-12-31", "2023-12-31 is before the coverage's start 2024-01-01"),
])
def test_coverage_dates__bad_date_or_end_before_start_is_a_located_finding(
        key: str, value: object, message: str) -> None:
    bad = copy.deepcopy(EXAMPLE)
    bad["visit_id"] = "V-BAD"
    bad["coverage"]["start"] = "2024-01-01"
    bad["coverage"][key] = value
    result = parse_visits([bad, EXAMPLE])
    assert [v.visit_id for v in result.visits] == ["V-1001"]
    (finding,) = result.findings
    assert (finding.code, finding.location.visit_id, finding.location.field) == (
        "input.invalid_field", "V-BAD", f"coverage.{key}")
    assert message in finding.message
