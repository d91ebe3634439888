"""``rehabill units`` and ``rehabill codes`` from the command line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rehabill.cli.main import build_app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(build_app(), list(args))
    return result.exit_code, result.stdout, result.stderr


def test_units_json__contract() -> None:
    code, out, _ = run("units", "97112=24", "97110=23", "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"method", "total_timed_minutes", "total_units", "lines", "explanation"}
    assert data["method"] == "cms" and data["total_timed_minutes"] == 47
    assert data["total_units"] == 3
    assert [(x["code"], x["units"], x["modifiers"]) for x in data["lines"]] == [
        ("97112", 2, ["GP"]), ("97110", 1, ["GP"])]


def test_units_json__same_code_with_and_without_cq() -> None:
    _, out, _ = run("units", "97110=14/14", "--json")
    assert [(x["code"], x["units"], x["modifiers"]) for x in json.loads(out)["lines"]] == [
        ("97110", 1, ["GP"]), ("97110", 1, ["GP", "CQ"])]


def test_units_json__ot_discipline_per_code() -> None:
    _, out, _ = run("units", "--method", "per-code", "--discipline", "ot", "97530=10/20",
                    "97165", "--json")
    data = json.loads(out)
    assert data["method"] == "per-code"
    assert [(x["code"], x["modifiers"]) for x in data["lines"]] == [
        ("97530", ["GO"]), ("97530", ["GO", "CO"]), ("97165", ["GO"])]


def test_units_human__table_and_explanation() -> None:
    code, out, _ = run("units", "97112=24", "97110=23")
    assert code == 0
    assert "47 timed min → 3 timed units" in out
    assert "largest remainder: 97112 (9 min)" in out


@pytest.mark.parametrize(("term", "message"), [
    ("99999=10", "not a therapy code"),
    ("97110=abc", "whole number"),
    ("97110=-3", "whole number"),
    ("97110", "timed code"),
    ("97161=20/10", "evaluation"),
    ("97110=2000", "more than a day"),
    ("97110=²", "whole number"),
    ("97110=١٥", "whole number"),
])
def test_units__bad_input_is_one_line_and_exit_2(term: str, message: str) -> None:
    code, out, err = run("units", term)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert out == ""


def test_units__a_day_of_more_than_24_hours_is_refused() -> None:
    code, _, err = run("units", "97110=1000", "97140=1000")
    assert code == 2 and "more than a day" in err


def test_units__slp_assistant_minutes_make_one_line() -> None:
    _, out, _ = run("units", "--discipline", "slp", "97530=30/30", "--json")
    assert [(x["units"], x["modifiers"]) for x in json.loads(out)["lines"]] == [(4, ["GN"])]


def test_codes__facts_as_of_a_date() -> None:
    code, out, _ = run("codes", "97530", "--date", "2026-03-02", "--json")
    assert code == 0
    (fact,) = json.loads(out)
    assert fact["timed"] is True and fact["mue"] == {
        "value": 6, "mai": 3, "meaning": "Date of Service Edit: Clinical"}
    assert fact["national_amount"]["non_facility"] == "35.07"
    assert {"code": "97150", "column": 2, "modifier_indicator": 1,
            "rationale": "Mutually exclusive procedures"} in fact["ncci_partners"]


def test_codes__unknown_code_exits_1() -> None:
    code, _, err = run("codes", "12345")
    assert code == 1 and "not a therapy code" in err


def test_codes__human_and_list() -> None:
    code, out, _ = run("codes", "97150", "--date", "2026-03-02")
    assert code == 0 and "untimed" in out and "modifier indicator 1" in out
    code, out, _ = run("codes")
    assert code == 0 and "97530" in out and "92507" in out


def test_version() -> None:
    code, out, _ = run("--version")
    assert code == 0 and out.startswith("rehabill ")
