"""The balance-only scan reports the same balancing findings as the full 835 reader."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rehabill.errors import InputError
from rehabill.x12.remit835 import read_835_text
from rehabill.x12.remit835_scan import scan_835

DATA = Path(__file__).resolve().parent.parent / "data" / "835"
FILES = sorted(DATA.glob("*.835"))
TEXTS = [p.read_text() for p in FILES]
BALANCING = {"x12.835.payment_unbalanced", "x12.835.claim_unbalanced",
             "x12.835.line_unbalanced", "x12.835.patient_responsibility_mismatch",
             "x12.835.missing_bpr", "x12.835.missing_trn"}


def _both(text: str) -> tuple[object, object]:
    try:
        payments, envelope = read_835_text(text, "f")
    except InputError:
        with pytest.raises(InputError):
            scan_835([text], "f")
        return None, None
    scan = scan_835([text[i:i + 64] for i in range(0, len(text), 64)], "f")
    full = ([sorted((f.code, f.location.segment, f.location.element) for f in p.findings
                    if f.code in BALANCING) for p in payments], envelope)
    fast = ([sorted((f.code, f.location.segment, f.location.element) for f in p.findings
                    if f.code in BALANCING) for p in scan.payments], list(scan.envelope_findings))
    return full, fast


@pytest.mark.parametrize("text", TEXTS, ids=[p.stem for p in FILES])
def test_scan_835__agrees_with_reader_on_golden_files(text: str) -> None:
    full, fast = _both(text)
    assert full == fast


def test_scan_835__totals() -> None:
    result = scan_835([(DATA / "multi_st.835").read_text()], "m")
    assert [(p.trace_number, str(p.amount), p.claims) for p in result.payments] == [
        ("EFT0325001", "80.00", 1), ("EFT0325002", "48.00", 1), ("NOPAY0325", "0.00", 1)]
    assert not result.has_errors
    assert scan_835([(DATA / "unbalanced.835").read_text()], "u").has_errors


@settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(TEXTS), st.lists(st.tuples(st.integers(0, 3000), st.sampled_from(
    ["", "*", "~", "9", "-", "CAS*PR*2*1~", "SVC*HC:1*5*1~", "PLB*1*2*WO*3~", "\n"])),
    max_size=6))
def test_scan_835__agrees_with_reader_on_mutated_files(text: str,
                                                       edits: list[tuple[int, str]]) -> None:
    for at, piece in edits:
        text = text[:at] + piece + text[at + 1:]
    full, fast = _both(text)
    assert full == fast
