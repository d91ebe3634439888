"""Visit JSON (the DESIGN.md contract) in; visits or located findings out."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import pytest

from rehabill.domain import Credential, DistinctReason, Mode, parse_visits

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
