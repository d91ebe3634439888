"""835 writer: read ∘ write round-trips (Hypothesis) and the golden files re-written."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rehabill.x12.remit835 import (
    Adjustment,
    AmountRef,
    ClaimPayment,
    DateRef,
    HeaderGroup,
    Party,
    Payment,
    PlbItem,
    Procedure,
    ProviderAdjustment,
    RefId,
    Remark,
    Remittance,
    ServiceLine,
    Trace,
    read_835_text,
)
from rehabill.x12.remit835_write import amount_text, write_835
from rehabill.x12.tokens import Delimiters, detect_delimiters

DATA = Path(__file__).resolve().parent.parent / "data" / "835"

text = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -.,/", min_size=1, max_size=12
               ).map(str.strip).filter(bool)
code = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=5)
money = st.integers(-10**7, 10**7).map(lambda c: Decimal(c).scaleb(-2))
qty = st.integers(1, 99).map(Decimal)
day = st.dates().map(lambda d: d.strftime("%Y%m%d"))


def _procedure() -> st.SearchStrategy[Procedure]:
    return st.builds(Procedure, st.sampled_from(["HC", "AD", "ER"]), code,
                     st.lists(st.sampled_from(["GP", "GO", "GN", "CQ", "KX", "59", "XU"]),
                              max_size=4).map(tuple), st.just(""))


adjustment = st.builds(Adjustment, st.sampled_from(["CO", "PR", "OA", "PI"]), code, money,
                       st.none() | qty)
line = st.builds(
    ServiceLine, _procedure(), money, money, st.just(""), st.none() | qty,
    st.none() | _procedure(), st.none(),
    st.lists(st.builds(DateRef, st.just("472"), day), max_size=1).map(tuple),
    st.lists(adjustment, max_size=8).map(tuple),
    st.lists(st.builds(RefId, st.just("6R"), text), max_size=1).map(tuple),
    st.lists(st.builds(AmountRef, st.just("B6"), money), max_size=1).map(tuple),
    st.just(()),
    st.lists(st.builds(Remark, st.just("HE"), code), max_size=2).map(tuple),
)


@st.composite
def claims(draw: st.DrawFn, lx: str) -> ClaimPayment:
    return ClaimPayment(
        claim_id=draw(text), status=draw(st.sampled_from(["1", "2", "4", "19", "22"])),
        charge=draw(money), paid=draw(money), patient_responsibility=draw(st.none() | money),
        filing_indicator=draw(st.sampled_from(["MB", "CI", "12"])),
        payer_claim_number=draw(text), extra=draw(st.sampled_from([(), ("11", "1")])),
        adjustments=tuple(draw(st.lists(adjustment, max_size=7))),
        people=(), outpatient=draw(st.sampled_from([(), ("", "", "MA01"), ("", "", "N1", "N2")])),
        lines=tuple(draw(st.lists(line, max_size=3))), lx=lx,
    )


@st.composite
def remittances(draw: st.DrawFn) -> Remittance:
    groups = draw(st.lists(st.integers(1, 9), unique=True, max_size=2))
    claim_list: list[ClaimPayment] = []
    for number in groups:
        claim_list += draw(st.lists(claims(str(number)), min_size=1, max_size=3))
    plbs = draw(st.lists(st.builds(
        ProviderAdjustment, text, day,
        st.lists(st.builds(PlbItem, st.sampled_from(["WO", "L6", "FB", "72"]), code, money),
                 min_size=1, max_size=6).map(tuple)), max_size=2))
    return Remittance(
        control_number=draw(st.integers(1, 9999).map(lambda n: f"{n:04d}")),
        payment=Payment("I", draw(money), "C", "ACH", "CCP", ("01", "111000025"), draw(day)),
        trace=Trace("1", draw(text), "1512345678"),
        payer=Party("PR", draw(text), address=("PO BOX 1",), city="DALLAS", state="TX",
                    zip="75201"),
        payee=Party("PE", draw(text), "XX", "1306849450", refs=(RefId("TJ", "123456789"),)),
        groups=tuple(HeaderGroup(str(n)) for n in groups),
        claims=tuple(claim_list), provider_adjustments=tuple(plbs),
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(remittances(), min_size=1, max_size=3),
       st.sampled_from([Delimiters(), Delimiters("|", ">", "}", "\n"), Delimiters("*", ":", "^",
                                                                                 "'")]))
def test_write_835__round_trips(payments: list[Remittance], delimiters: Delimiters) -> None:
    written = write_835(payments, delimiters=delimiters)
    read, envelope = read_835_text(written, "w.835")
    assert envelope == []
    assert read == payments
    for payment in read:
        assert not {f.code for f in payment.findings} & {
            "x12.835.unknown_segment", "x12.835.misplaced_segment", "x12.835.bad_amount"}
    assert write_835(read, delimiters=delimiters) == written


@pytest.mark.parametrize("name", ["reversal_correction", "plb_recoupment", "claim_level_cas",
                                  "multi_st", "changed_procedure", "odd_delimiters",
                                  "debit_recoupment"])
def test_write_835__golden_files_survive_rewrite(name: str) -> None:
    original = (DATA / f"{name}.835").read_text()
    delimiters, _ = detect_delimiters(original)
    payments, _ = read_835_text(original, name)
    again, envelope = read_835_text(write_835(payments, delimiters=delimiters), name)
    assert envelope == []
    assert again == payments
    assert [p.findings for p in again] == [()] * len(again)


def test_write_835__cas_holds_one_group_and_at_most_six_triples() -> None:
    from rehabill.x12.envelope import SegmentWriter
    from rehabill.x12.remit835_write import _adjustments

    adjustments = [*(Adjustment("CO", str(45 + i), Decimal(i + 1)) for i in range(7)),
                   Adjustment("PR", "2", Decimal("1.50"), Decimal(2)),
                   Adjustment("CO", "253", Decimal("-0.04"))]
    w = SegmentWriter()
    _adjustments(w, adjustments)
    assert w.text().split("~")[:-1] == [
        "CAS*CO*45*1**46*2**47*3**48*4**49*5**50*6",
        "CAS*CO*51*7",
        "CAS*PR*2*1.50*2",
        "CAS*CO*253*-0.04",
    ]
    assert w.count == 4


@pytest.mark.parametrize("text", ["0", "0.00", "-0.00", "35.25", "-12.5", "100", "1E+2",
                                  "-4.5E+3", "0.0000001", "1.000000000", "12345678901234567890",
                                  "1E-7", "0.000001", "NaN", "Infinity", "-Infinity"])
def test_amount_text__writes_what_format_f_writes(text: str) -> None:
    assert amount_text(Decimal(text)) == format(Decimal(text), "f")


@settings(max_examples=300, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_amount_text__never_scientific_and_the_same_as_format_f(value: Decimal) -> None:
    assert amount_text(value) == format(value, "f")
