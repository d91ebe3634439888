"""835 reader: golden files for the hard cases, balancing findings, streaming."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from rehabill.domain.findings import Finding
from rehabill.errors import InputError
from rehabill.testing import finding_codes
from rehabill.x12.envelope import split_transactions
from rehabill.x12.remit835 import (
    ClaimPayment,
    Remittance,
    iter_835,
    read_835_text,
    read_transaction,
)
from rehabill.x12.remit835_scan import scan_835
from rehabill.x12.tokens import tokenize

DATA = Path(__file__).resolve().parent.parent / "data"
GOLDEN = sorted((DATA / "835").glob("*.835"))


def _read(path: Path) -> tuple[list[Remittance], list[object]]:
    payments, envelope = read_835_text(path.read_text(encoding="utf-8"), path.name)
    return payments, [f.as_dict() for f in envelope]


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_read_835__golden(path: Path, golden: Callable[[Path, object], None]) -> None:
    payments, envelope = _read(path)
    golden(path.with_suffix(".json"),
                 {"envelope_findings": envelope, "transactions": [p.as_json() for p in payments]})


def test_read_835__reversal_then_correction_are_two_claims() -> None:
    payments, _ = _read(DATA / "835" / "reversal_correction.835")
    reversal, correction = payments[0].claims
    assert reversal.is_reversal and reversal.paid == Decimal("-101.60")
    assert correction.status == "1" and correction.paid == Decimal("162.00")
    assert correction.person("74") is not None
    assert payments[0].provider_adjustments[0].items[0].reason == "L6"
    assert payments[0].findings == ()


def test_read_835__plb_recoupment_reduces_payment() -> None:
    payments, _ = _read(DATA / "835" / "plb_recoupment.835")
    (payment,) = payments
    assert [(i.reason, i.reference, i.amount) for i in payment.provider_adjustments[0].items] == [
        ("WO", "ACME-69005", Decimal("80.00")), ("FB", "REFUND0212", Decimal("20.00")),
        ("72", "ACME-69100", Decimal("5.00"))]
    assert payment.payment.amount == Decimal("36.75")
    assert payment.findings == ()


def test_read_835__claim_level_cas_is_kept() -> None:
    payments, _ = _read(DATA / "835" / "claim_level_cas.835")
    denied, deductible, secondary = payments[0].claims
    assert [(a.group, a.reason, a.amount) for a in denied.adjustments] == [
        ("CO", "29", Decimal("210.00"))]
    assert denied.remark_codes == ("MA130", "N211")
    assert [(a.group, a.reason) for a in deductible.adjustments] == [
        ("PR", "1"), ("CO", "45"), ("CO", "16")]
    assert secondary.adjustments[0].group == "OA"


def test_read_835__multi_st_payments_stay_separate() -> None:
    payments, envelope = _read(DATA / "835" / "multi_st.835")
    assert envelope == []
    assert [p.trace.number for p in payments] == ["EFT0325001", "EFT0325002", "NOPAY0325"]
    assert [p.payment.amount for p in payments] == [Decimal("80.00"), Decimal("48.00"),
                                                    Decimal("0.00")]
    assert [p.payee.id for p in payments] == ["1306849450", "1215930367", "1306849450"]


def test_read_835__changed_procedure_keeps_original() -> None:
    payments, _ = _read(DATA / "835" / "changed_procedure.835")
    line = payments[0].claims[0].lines[0]
    assert line.procedure.code == "97140"
    assert line.original is not None
    assert (line.original.code, line.original.modifiers) == ("97124", ("GP", "59"))
    assert line.original_units == Decimal("3")


def test_read_835__odd_delimiters_and_repetition_separator() -> None:
    payments, envelope = _read(DATA / "835" / "odd_delimiters.835")
    assert envelope == [] and payments[0].findings == ()
    claim = payments[0].claims[0]
    patient = claim.person("QC")
    assert patient is not None
    assert (patient.last, patient.first) == ("O*BRIEN^JR", "PAT~RICK")
    assert claim.lines[0].procedure.modifiers == ("GP", "KX")


def test_read_835__unbalanced_findings_are_located() -> None:
    payments, envelope = _read(DATA / "835" / "unbalanced.835")
    findings = payments[0].findings
    assert finding_codes(findings) == sorted([
        "x12.835.bad_claim_status", "x12.835.bad_group", "x12.835.bad_amount",
        "x12.835.misplaced_segment", "x12.835.line_unbalanced", "x12.835.claim_unbalanced",
        "x12.835.payment_unbalanced"])
    by_code = {f.code: f.location for f in findings}
    assert (by_code["x12.835.payment_unbalanced"].segment,
            by_code["x12.835.payment_unbalanced"].element) == (4, "BPR02")
    assert by_code["x12.835.bad_amount"].element == "CAS03"
    assert {f["code"] for f in envelope} == {"x12.envelope.count_mismatch",
                                            "x12.envelope.control_mismatch"}


def test_read_transaction__matches_streaming_reader() -> None:
    text = (DATA / "835" / "multi_st.835").read_text()
    delimiters, segments, _ = tokenize(text)
    assert delimiters is not None
    envelope: list[object] = []
    via_split = [read_transaction(t, delimiters, "f") for t in
                 split_transactions(segments, envelope, "f")]  # type: ignore[arg-type]
    via_stream, _ = read_835_text(text, "f")
    assert via_split == via_stream


def test_iter_835__streams_claims_without_keeping_them() -> None:
    text = (DATA / "835" / "claim_level_cas.835").read_text()
    chunks = [text[i:i + 7] for i in range(0, len(text), 7)]
    items = list(iter_835(chunks, "f", keep_claims=False))
    claims = [i for i in items if isinstance(i, ClaimPayment)]
    payments = [i for i in items if isinstance(i, Remittance)]
    assert [c.claim_id for c in claims] == ["V-3001", "V-3002", "V-3003"]
    assert payments[0].claims == () and payments[0].claim_count == 3
    assert payments[0].findings == ()


@pytest.mark.parametrize("text", ["", "hello", "ISA*00", "GS*HP~ST*835~"])
def test_read_835__unusable_header_is_input_error(text: str) -> None:
    with pytest.raises(InputError):
        read_835_text(text, "f")


def test_read_835__debit_payment_with_recoupments_balances() -> None:
    payments, envelope = _read(DATA / "835" / "debit_recoupment.835")
    (payment,) = payments
    assert envelope == [] and payment.findings == ()
    assert (payment.payment.credit_debit, payment.payment.amount) == ("D", Decimal("15.00"))
    assert payment.provider_adjustments[0].total == Decimal("60.00")
    assert payment.currency == ("PR", "USD")
    assert payment.groups[0].summaries[0][:2] == ("TS3", "1306849450")
    claim = payment.claims[0]
    assert [p.entity for p in claim.people] == ["QC", "IL"]
    assert claim.contacts == (("CX", "CLAIMS", "TE", "8005550000"),)


def test_iter_835__runaway_segment_is_skipped_with_a_finding() -> None:
    head = (DATA / "835" / "multi_st.835").read_text()[:107]
    blob = "X" * 1_500_000
    chunks = [head] + [blob[i:i + 65536] for i in range(0, len(blob), 65536)]
    envelope: list[Finding] = []
    list(iter_835(chunks, "r.835", envelope_findings=envelope))
    assert "x12.envelope.segment_too_long" in {f.code for f in envelope}
    scan = scan_835(chunks, "r.835")
    assert "x12.envelope.segment_too_long" in {f.code for f in scan.envelope_findings}


def test_read_835__svc_findings_come_in_element_order() -> None:
    text = (DATA / "835" / "changed_procedure.835").read_text(encoding="utf-8")
    start = text.index("SVC*")
    end = text.index("~", start)
    parts = text[start:end].split("*")
    parts[2], parts[5:] = "X1", ["Y2"]
    payments, _ = read_835_text(text[:start] + "*".join(parts) + text[end:], "f")
    located = [(f.code, f.location.element) for f in payments[0].findings
               if f.code == "x12.835.bad_amount"]
    assert located == [("x12.835.bad_amount", "SVC02"), ("x12.835.bad_amount", "SVC05")]
