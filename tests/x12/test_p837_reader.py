"""837P reader and the X12 dispatcher: others' files, located findings, unknown kinds."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rehabill.x12.reader import has_error_findings, is_unreadable, read_x12

from .helpers import pyx12_errors

DATA = Path(__file__).parent.parent / "data"
GOLDEN = (DATA / "837p_golden.x12").read_text()
OTHER = (DATA / "837p_other_vendor.x12").read_text()


def codes_and_places(text: str) -> list[tuple[str, int, str]]:
    return [(f["code"], f["location"].get("segment", 0), f["location"].get("element", ""))
            for r in read_x12(text, "t.x12") for f in r["findings"]]  # type: ignore[union-attr]


def test_read__other_vendor_837p_with_its_own_delimiters_and_loops() -> None:
    assert pyx12_errors(OTHER) == []
    [result] = read_x12(OTHER, "other.x12")
    assert result["kind"] == "837P"
    assert result["findings"] == []
    assert result["totals"] == {"claims": 2, "lines": 3, "charge": "385.50"}
    first, second = result["claims"]  # type: ignore[misc]
    assert first["claim_id"] == "PCN-1"
    assert first["patient"] == {"last_name": "STONE", "first_name": "MIA"}
    assert first["rendering_npi"] == "1467560003"
    # 2010AA's name and EIN reach every claim under it, past the subscriber HLs
    assert [(c["billing_name"], c["billing_tax_id"]) for c in (first, second)] == [
        ("LAKESIDE THERAPY LLC", "391234567")] * 2
    assert first["dates"] == {"431": "2026-03-01"}
    assert first["lines"][0] == {
        "number": 1, "code": "92507", "modifiers": ["GN"], "units": 1, "charge": "200.00",
        "diagnosis_pointers": [1, 2], "date_of_service": "2026-04-02", "control_number": "L-1"}
    assert second["lines"][0]["modifiers"] == ["GN", "KX"]
    assert second["charge"] == "85.50"


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("CLM*V-1002*141*", "CLM*V-1002*142*", [("x12.837p.charge_mismatch", 38, "CLM02")]),
    ("SV1*HC:97140:GP*35.25*UN*1***1~", "SV1*HC:97140:GP*35.25*UN*1***3~",
     [("x12.837p.bad_pointer", 49, "SV107")]),
    ("DTP*431*D8*20260115~", "DTP*431*D8*20260230~", [("x12.837p.bad_date", 39, "DTP03")]),
    ("HL*4*3*23*0~", "HL*4*9*23*0~", [("x12.837p.hl_parent_missing", 59, "HL02")]),
    ("HL*4*3*23*0~", "HL*4*1*23*0~", [("x12.837p.hl_bad_parent", 59, "HL02")]),
    ("HL*3*1*22*1~", "HL*2*1*22*1~", [("x12.837p.hl_duplicate", 52, "HL01"),
                                        ("x12.837p.hl_out_of_order", 59, "HL01"),
                                        ("x12.837p.hl_parent_missing", 59, "HL02")]),
    ("REF*F8*PAYER-CCN-778~\n", "", [("x12.837p.missing_original_reference", 82, "CLM05"),
                                      ("x12.envelope.count_mismatch", 93, "SE01")]),
    ("SE*92*0001", "SE*90*0001", [("x12.envelope.count_mismatch", 94, "SE01")]),
    ("GE*1*101", "GE*2*101", [("x12.envelope.count_mismatch", 95, "GE01")]),
    ("XX*1467560003~", "XX*1467560004~", [("x12.837p.invalid_npi", 24, "NM109")]),
    ("SV1*HC:97161:GP*35.25*UN*1***1~", "SV1*HC:97161:GP*35.25*UN*0***1~",
     [("x12.837p.bad_units", 35, "SV104")]),
    ("*11:B:1*Y*A*Y*Y~\nDTP*454*D8*20260220~\nREF*G1*A123~\nHI",
     "*11:B:5*Y*A*Y*Y~\nDTP*454*D8*20260220~\nREF*G1*A123~\nHI",
     [("x12.837p.bad_frequency", 20, "CLM05")]),
])
def test_read__findings_are_located_by_segment_and_element(
        old: str, new: str, expected: list[tuple[str, int, str]]) -> None:
    assert old in GOLDEN
    text = GOLDEN.replace(old, new, 1)
    assert codes_and_places(text) == expected
    assert has_error_findings(read_x12(text))


def test_read__a_claim_without_lines_or_diagnoses() -> None:
    text = ("ISA*00*          *00*          *ZZ*A              *ZZ*B              *260101*1200*^*"
            "00501*000000001*0*T*:~GS*HC*A*B*20260101*1200*1*X*005010X222A1~"
            "ST*837*0001*005010X222A1~HL*1**20*1~HL*2*1*22*0~CLM*X*10***11:B:1~"
            "SE*5*0001~GE*1*1~IEA*1*000000001~")
    assert [c for c, _, _ in codes_and_places(text)] == ["x12.837p.missing_diagnosis",
                                                         "x12.837p.no_lines"]


def test_read__unknown_transaction_kind_gets_a_finding() -> None:
    text = GOLDEN.replace("ST*837*0001*005010X222A1", "ST*270*0001*005010X222A1")
    [result] = read_x12(text)
    assert result["kind"] == "270"
    assert [f["code"] for f in result["findings"]] == ["x12.reader.unknown_kind"]  # type: ignore[union-attr]


def test_read__institutional_837_is_not_read_as_professional() -> None:
    text = GOLDEN.replace("005010X222A1", "005010X223A2")
    [result] = read_x12(text)
    assert [f["code"] for f in result["findings"]] == ["x12.837p.not_professional"]  # type: ignore[union-attr]


@pytest.mark.parametrize("text", ["", "hello", "ISA*00*short~"])
def test_read__unreadable_files_are_flagged(text: str) -> None:
    results = read_x12(text, "bad.x12")
    assert results[0]["kind"] == "X12"
    assert is_unreadable(results)


def test_read__truncated_file_keeps_its_transactions_and_says_so() -> None:
    text = GOLDEN[: GOLDEN.index("GE*")]
    [result] = read_x12(text)
    assert result["kind"] == "837P"
    assert {f["code"] for f in result["findings"]} == {  # type: ignore[union-attr]
        "x12.envelope.missing_ge", "x12.envelope.missing_iea"}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(GOLDEN) - 1), st.integers(0, 12),
                          st.sampled_from(["", "*", ":", "~", "~\n", "X", "9", "-", "HL*", "LX*",
                                           "SV1*", "CLM*", "DTP*472*D8*", "HI*ABK:"])),
                max_size=6))
def test_read__never_raises_on_damaged_files(edits: list[tuple[int, int, str]]) -> None:
    text = GOLDEN
    for start, length, insert in edits:
        text = text[:start] + insert + text[start + length:]
    results = read_x12(text, "damaged.x12")
    assert isinstance(results, list) and results
    for result in results:
        assert isinstance(result["findings"], list)


def test_read__envelope_findings_go_to_the_transaction_they_sit_in() -> None:
    from .helpers import claim_for, render, settings, visit

    claims = [claim_for(visit("97110=15", visit_id=f"V-{i}")) for i in range(4)]
    text = render(claims, settings(claims_per_transaction=2))
    second_se = text.rindex("SE*")
    broken = text[:second_se] + text[second_se:].replace("*0002~", "*0009~", 1)
    first, second = read_x12(broken)
    assert first["findings"] == []
    assert [f["code"] for f in second["findings"]] == ["x12.envelope.control_mismatch"]  # type: ignore[union-attr]


def _via_segments(text: str) -> tuple[list[object], list[object]]:
    """The reference path: tokenize, split the envelope, read each 837 set."""
    from rehabill.x12.envelope import split_transactions
    from rehabill.x12.p837_reader import read_837p
    from rehabill.x12.tokens import tokenize

    delimiters, segments, findings = tokenize(text, "t.x12")
    if delimiters is None:
        return [], list(findings)
    read = [read_837p(t, delimiters, "t.x12") for t in split_transactions(segments, findings,
                                                                            "t.x12")
            if t.set_id == "837"]
    return list(read), list(findings)


MUTATIONS = [
    ("", ""), ("SE*92*0001~", ""), ("IEA*1*000000101~", "IEA*1*000000101"),
    ("IEA*1*000000101~", "IEA*1*000000101~SD*1"), ("IEA|1|000004321~", "IEA|1|000004321"),
    ("~", "~\r\n"), ("~", "~ "), ("ST*837*0001*005010X222A1~", "ST*837*0001*005010X223A2~"),
    ("ST*837*0001*005010X222A1~", "ST*837*0001*005010X222A1~ST*837*0002*005010X222A1~"),
    ("GS*", "GE*1*1~GS*"), ("LX*1~", "LX*7~"), ("SV1*", " SV1*"), ("HL*", "HL *"),
    ("NM1*", "NM1~"), ("REF*", "REF~"), ("DTP*472*D8*", "DTP*472*RD8*"),
] + [(old, new) for old, new, _ in [
    ("CLM*V-1002*141*", "CLM*V-1002*142*", 0), ("HL*4*3*23*0~", "HL*4*9*23*0~", 0),
    ("HL*3*1*22*1~", "HL*2*1*22*1~", 0), ("REF*F8*PAYER-CCN-778~\n", "", 0),
    ("XX*1467560003~", "XX*1467560004~", 0),
    ("SV1*HC:97161:GP*35.25*UN*1***1~", "SV1*HC:97161:GP*35.25*UN*0***1~", 0)]]


@pytest.mark.parametrize(("old", "new"), MUTATIONS)
@pytest.mark.parametrize("source", ["golden", "other"])
def test_read_837p_text__agrees_with_the_segment_path(source: str, old: str, new: str) -> None:
    from rehabill.x12.p837_reader import read_837p_text

    base = GOLDEN if source == "golden" else OTHER
    text = base.replace(old, new) if old else base
    assert read_837p_text(text, "t.x12") == _via_segments(text)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=len(GOLDEN)), st.integers(min_value=0, max_value=40),
       st.text(alphabet="*:~^ABC019\n ", max_size=6))
def test_read_837p_text__agrees_on_damaged_files(start: int, length: int, insert: str) -> None:
    from rehabill.x12.p837_reader import read_837p_text

    text = GOLDEN[:start] + insert + GOLDEN[start + length:]
    assert read_837p_text(text, "t.x12") == _via_segments(text)


def test_read__a_non_ascii_digit_is_a_finding_not_a_crash() -> None:
    text = GOLDEN.replace("HL*2*", "HL*\u00b2*", 1)
    assert ("x12.837p.hl_bad_number", 13, "HL01") in codes_and_places(text)
