"""``rehabill scrub`` and ``rehabill rules`` through Typer's CliRunner."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rehabill.cli.main import build_app
from rehabill.rules import CATALOG

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "scrub_sample.json"
GOLDEN = ROOT / "tests" / "data" / "scrub_sample.expected.json"
TODAY = "2026-03-10"


def run(*args: str) -> Any:
    return CliRunner().invoke(build_app(), list(args))


def sample_visit(visit_id: str) -> dict[str, Any]:
    visits: list[dict[str, Any]] = json.loads(SAMPLE.read_text())["visits"]
    return next(v for v in visits if v["visit_id"] == visit_id)


def write(tmp_path: Path, data: object, name: str = "visits.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def test_scrub_sample__matches_the_golden_file() -> None:
    result = run("scrub", str(SAMPLE), "--json", "--today", TODAY)
    assert result.exit_code == 1
    produced = json.loads(result.output)
    if os.environ.get("REHABILL_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(produced, indent=1) + "\n")
    assert produced == json.loads(GOLDEN.read_text())


def test_scrub_sample__covers_every_rule() -> None:
    golden = json.loads(GOLDEN.read_text())
    codes = {f["code"] for claim in golden["claims"] for f in claim["findings"]}
    assert set(CATALOG) <= codes


def test_scrub__clean_file_exits_0_with_claim_lines(tmp_path: Path) -> None:
    path = write(tmp_path, [sample_visit("V-2001")])
    result = run("scrub", str(path), "--json", "--today", TODAY)
    assert result.exit_code == 0
    claim = json.loads(result.output)["claims"][0]
    assert claim["visit_id"] == "V-2001" and claim["findings"] == []
    assert [(x["code"], x["modifiers"], x["units"]) for x in claim["lines"]] == \
        [("97530", ["GP"], 2), ("97110", ["GP"], 1)]
    assert all(isinstance(x["charge"], str) for x in claim["lines"])


def test_scrub__warnings_only_exit_0(tmp_path: Path) -> None:
    path = write(tmp_path, {"visits": [sample_visit("V-2052")]})
    result = run("scrub", str(path), "--today", TODAY)
    assert result.exit_code == 0
    assert "documentation.assistance_missing" in result.output


def test_scrub__human_output_groups_by_visit_errors_first_with_fixes(tmp_path: Path) -> None:
    path = write(tmp_path, [sample_visit("V-2001"), sample_visit("V-2036")])
    result = run("scrub", str(path), "--today", TODAY)
    assert result.exit_code == 0
    text = result.output
    assert text.index("V-2001") < text.index("V-2036")
    assert "V-2036  [commercial_default]  ready (1 warning)" in text
    assert "fix: Remove CQ/CO for this payer" in text
    assert "2 visits scrubbed: 2 ready, 0 held" in text


def test_scrub__errors_listed_before_warnings(tmp_path: Path) -> None:
    visit = sample_visit("V-2019")
    visit["services"][0]["assistance"] = ""
    result = run("scrub", str(write(tmp_path, [visit])), "--today", TODAY)
    assert result.exit_code == 1
    assert result.output.index("error   episode.progress") < \
        result.output.index("warning documentation.assistance_missing")


def test_scrub__malformed_json_is_located_and_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, '[{"visit_id": "V-1",\n  "services": [}]')
    result = run("scrub", str(path))
    assert result.exit_code == 2
    assert f"{path}:2:" in result.output and "input.malformed_json" in result.output


def test_scrub__missing_file_exits_2(tmp_path: Path) -> None:
    result = run("scrub", str(tmp_path / "nope.json"))
    assert result.exit_code == 2 and "cannot read" in result.output


def test_scrub__not_a_visit_list_exits_2(tmp_path: Path) -> None:
    result = run("scrub", str(write(tmp_path, {"visit": []})))
    assert result.exit_code == 2 and "input.not_a_visit_list" in result.output


def test_scrub__bad_visit_is_located_and_the_rest_still_scrubbed(tmp_path: Path) -> None:
    bad = sample_visit("V-2001") | {"visit_id": "V-BAD", "coverage": "medicare"}
    path = write(tmp_path, [bad, sample_visit("V-2001")])
    result = run("scrub", str(path), "--json", "--today", TODAY)
    assert result.exit_code == 1
    claims = {c["visit_id"]: c for c in json.loads(result.output)["claims"]}
    assert claims["V-BAD"]["findings"][0]["code"] == "input.invalid_field"
    assert claims["V-BAD"]["findings"][0]["location"] == {"visit_id": "V-BAD",
                                                          "field": "coverage"}
    assert claims["V-2001"]["findings"] == [] and claims["V-2001"]["lines"]


def test_scrub__fix_applies_safe_fixes_and_reports_them(tmp_path: Path) -> None:
    path = write(tmp_path, [sample_visit("V-2028"), sample_visit("V-2042")])
    result = run("scrub", str(path), "--json", "--fix", "--today", TODAY)
    claims = {c["visit_id"]: c for c in json.loads(result.output)["claims"]}
    fixed = claims["V-2028"]
    assert fixed["findings"] == [] and not fixed["held"]
    assert {(c["field"], c["before"], c["after"]) for c in fixed["changes"]} == {
        ("services[0].units", "3", "2"), ("services[0].modifiers", "KX", "GP KX")}
    assert claims["V-2042"]["changes"] == [] and claims["V-2042"]["held"]
    assert result.exit_code == 1
    text = run("scrub", str(path), "--fix", "--today", TODAY).output
    assert "fixed   services[0].units: 3 -> 2 (units.mismatch)" in text
    assert "2 changes made by --fix" in text


def test_scrub__payer_policy_file_applies_to_every_visit(tmp_path: Path) -> None:
    policy = write(tmp_path, 'name = "strict"\n[limits]\nunits_per_day = 2\n'
                             '[filing]\ndays = 90\n', "strict.toml")
    path = write(tmp_path, [sample_visit("V-2001")])
    result = run("scrub", str(path), "--json", "--payer-policy", str(policy),
                 "--today", TODAY)
    claim = json.loads(result.output)["claims"][0]
    assert claim["policy"] == "strict"
    assert [f["code"] for f in claim["findings"]] == ["policy.units_per_day"]
    assert result.exit_code == 1


@pytest.mark.parametrize(("text", "where"), [
    ('name = "x"\n[units]\nmethod = "minutes"\n[filing]\ndays = 1\n', "units.method"),
    ('name = "x"\n[filing]\ndays = 1\n[rules]\ndisabled = ["no.such"]\n', "rules.disabled"),
    ("name = \n", "not valid TOML"),
])
def test_scrub__bad_policy_file_is_located_and_exits_2(tmp_path: Path, text: str,
                                                      where: str) -> None:
    policy = write(tmp_path, text, "bad.toml")
    path = write(tmp_path, [sample_visit("V-2001")])
    result = run("scrub", str(path), "--payer-policy", str(policy))
    assert result.exit_code == 2
    assert "bad.toml" in result.output and where in result.output
    assert "Traceback" not in result.output


def test_scrub__bad_today_exits_2(tmp_path: Path) -> None:
    result = run("scrub", str(write(tmp_path, [])), "--today", "03/10/2026")
    assert result.exit_code == 2


def test_rules__prints_the_catalog() -> None:
    result = run("rules")
    assert result.exit_code == 0
    for code, rule in CATALOG.items():
        assert code in result.output and rule.title in result.output


def test_rules__json_lists_code_severity_title_source() -> None:
    rows = json.loads(run("rules", "--json").output)
    assert [r["code"] for r in rows] == list(CATALOG)
    assert set(rows[0]) == {"code", "severity", "title", "source"}


def test_scrub__fix_output_writes_the_fixed_visit_file(tmp_path: Path) -> None:
    source = [sample_visit("V-2028"), sample_visit("V-2029"), sample_visit("V-2042")]
    path = write(tmp_path, {"visits": source})
    before = path.read_text()
    out = tmp_path / "fixed.json"
    result = run("scrub", str(path), "--fix", "-o", str(out), "--today", TODAY)
    assert result.exit_code == 1  # V-2042 still needs a person
    assert path.read_text() == before
    fixed = {v["visit_id"]: v for v in json.loads(out.read_text())["visits"]}
    assert fixed["V-2028"]["services"][0]["units"] == 2
    assert fixed["V-2028"]["services"][0]["modifiers"] == ["GP", "KX"]
    assert fixed["V-2029"]["services"][0]["units"] == 0
    assert fixed["V-2042"] == sample_visit("V-2042")
    assert fixed["V-2028"]["note"] == sample_visit("V-2028")["note"]
    again = json.loads(run("scrub", str(out), "--json", "--today", TODAY).output)
    auto = [f for c in again["claims"] for f in c["findings"] if f["auto_fix"]]
    assert auto == []


def test_scrub__output_without_fix_is_a_usage_error(tmp_path: Path) -> None:
    path = write(tmp_path, [sample_visit("V-2001")])
    result = run("scrub", str(path), "-o", str(tmp_path / "x.json"))
    assert result.exit_code == 2 and not (tmp_path / "x.json").exists()
