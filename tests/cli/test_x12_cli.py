"""``rehabill x12 837p`` and ``rehabill x12 read`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rehabill.cli.main import build_app
from tests.x12.helpers import pyx12_errors

DATA = Path(__file__).parent.parent / "data"
VISITS = DATA / "visits_837p.json"
TODAY = "2026-04-01"


@pytest.fixture()
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    runner = CliRunner(env={"REHABILL_STATE_DIR": str(tmp_path / "state")})

    def invoke(*args: str) -> tuple[int, str, str]:
        if args[:2] == ("x12", "837p") or args[:1] == ("cms1500",):
            args = (*args, "--today", TODAY)  # filing windows judged on a fixed date
        result = runner.invoke(build_app(), list(args))
        return result.exit_code, result.stdout, result.stderr

    return invoke


def test_x12_837p__writes_clean_visits_and_lists_held_ones(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "batch.x12"
    code, stdout, _ = run("x12", "837p", str(VISITS), "-o", str(out), "--json")
    assert code == 1  # two visits held back
    data = json.loads(stdout)
    assert data["written"] == ["V-1002", "V-1001"]
    assert [h["visit_id"] for h in data["held"]] == ["V-1004", "V-1003"]
    assert data["held"][1]["findings"][0]["code"] == "identity.npi_invalid"
    text = out.read_text()
    assert pyx12_errors(text) == []
    assert not (tmp_path / "batch.x12.part").exists()


def test_x12_837p__control_numbers_come_from_a_persistent_counter(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    numbers = []
    for name in ("a.x12", "b.x12"):
        run("x12", "837p", str(VISITS), "-o", str(tmp_path / name))
        text = (tmp_path / name).read_text()
        assert pyx12_errors(text) == []
        numbers.append(text[90:99])
    assert numbers == ["000000001", "000000002"]
    assert (tmp_path / "state" / "x12-interchange-control-number").read_text() == "2\n"


def test_x12_837p__explicit_control_number_and_production(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "p.x12"
    code, stdout, _ = run("x12", "837p", str(VISITS), "-o", str(out), "--control-number", "42",
                          "--production", "--contact-phone", "5125550100")
    assert code == 1
    assert "interchange 000000042" in stdout
    assert "Held back V-1003:" in stdout
    text = out.read_text()
    assert text[90:99] == "000000042" and text[102] == "P"
    assert pyx12_errors(text) == []


@pytest.mark.parametrize(("args", "message"), [
    (["--method", "fortnightly"], "--method must be one of"),
    (["--production"], "needs --contact-phone"),
])
def test_x12_837p__usage_errors_exit_2(run, tmp_path: Path, args: list[str],  # type: ignore[no-untyped-def]
                                       message: str) -> None:
    code, _, stderr = run("x12", "837p", str(VISITS), "-o", str(tmp_path / "x.x12"), *args)
    assert code == 2
    assert message in stderr


def test_x12_837p__unreadable_visit_file_exits_2(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, _, stderr = run("x12", "837p", str(bad), "-o", str(tmp_path / "x.x12"))
    assert code == 2 and "not JSON" in stderr
    code, _, _ = run("x12", "837p", str(tmp_path / "missing.json"), "-o", str(tmp_path / "x"))
    assert code == 2


def test_x12_read__json_contract_for_837p(run) -> None:  # type: ignore[no-untyped-def]
    code, stdout, _ = run("x12", "read", str(DATA / "837p_golden.x12"), "--json")
    assert code == 0
    [tx] = json.loads(stdout)
    assert tx["kind"] == "837P" and tx["findings"] == []
    claim = tx["claims"][0]
    assert {"claim_id", "charge", "lines"} <= set(claim)
    assert claim["charge"] == "176.25"
    line = claim["lines"][1]
    assert (line["code"], line["modifiers"], line["units"], line["charge"]) == (
        "97110", ["GP", "CQ"], 2, "70.50")


def test_x12_read__error_findings_exit_1_with_located_lines(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "broken.x12"
    broken.write_text((DATA / "837p_golden.x12").read_text().replace("CLM*V-1002*141*",
                                                                     "CLM*V-1002*142*"))
    code, stdout, _ = run("x12", "read", str(broken))
    assert code == 1
    assert f"{broken}:38 CLM02: error x12.837p.charge_mismatch" in stdout
    assert "837P 0001: 4 claims, 7 lines, charges 494.50" in stdout


def test_x12_read__unreadable_exits_2(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    junk = tmp_path / "junk.x12"
    junk.write_text("hello")
    assert run("x12", "read", str(junk))[0] == 2
    assert run("x12", "read", str(tmp_path / "nope.x12"))[0] == 2


def test_cms1500__prints_clean_visits_and_holds_the_rest(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import pypdfium2 as pdfium

    out = tmp_path / "claims.pdf"
    code, stdout, _ = run("cms1500", str(VISITS), "-o", str(out))
    assert code == 1
    assert "Printed 2 claims" in stdout and "Held back V-1003:" in stdout
    document = pdfium.PdfDocument(out.read_bytes())
    assert len(document) == 2
    text = document[0].get_textpage().get_text_range()
    assert "V-1002" in text
