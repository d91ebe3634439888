"""999 and 277CA: golden files, status updates, writer round-trips."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rehabill.domain.claim import ClaimStatus
from rehabill.x12 import ack277, ack999
from rehabill.x12.ack277 import Ack277, ClaimAck, LineAck, StatusCode
from rehabill.x12.ack999 import Ack999, ElementError, SegmentError, SetResponse
from rehabill.x12.envelope import split_transactions
from rehabill.x12.remit835 import Procedure
from rehabill.x12.status import AckOutcome
from rehabill.x12.tokens import tokenize

DATA = Path(__file__).resolve().parent.parent / "data" / "ack"


@pytest.mark.parametrize("name", ["rejected.999", "accepted.999", "claims.277"])
def test_read_ack__golden(name: str, golden: Callable[[Path, object], None]) -> None:
    reader = ack999.read_text if name.endswith("999") else ack277.read_text
    acks, envelope = reader((DATA / name).read_text(), name)
    golden(DATA / f"{name}.json", {"envelope_findings": [f.as_dict() for f in envelope],
                                   "transactions": [a.as_json() for a in acks]})


def test_read_999__rejected_set_names_segment_and_element() -> None:
    (ack,), envelope = ack999.read_text((DATA / "rejected.999").read_text(), "r")
    assert envelope == [] and ack.findings == ()
    assert ack.outcome is AckOutcome.PARTIALLY_ACCEPTED
    first, second = ack.status_updates()
    assert (first.set_control_number, first.claim_status) == ("0001", ClaimStatus.ACCEPTED)
    assert (second.set_control_number, second.claim_status) == ("0002", ClaimStatus.REJECTED)
    assert "Segment NM1 at position 14 (loop 2010BA)" in second.reasons[0]
    assert "element 9 (ref 67): invalid code value ('1EG4TE5MK7')" in second.reasons[0]
    assert ack.responses[1].errors[1].elements[0].position == "5:3"


def test_read_999__accepted_with_errors() -> None:
    (ack,), _ = ack999.read_text((DATA / "accepted.999").read_text(), "a")
    assert [u.outcome for u in ack.status_updates()] == [AckOutcome.ACCEPTED_WITH_ERRORS]
    assert (ack.included, ack.received, ack.accepted) == (1, 1, 1)


def test_read_277__claim_statuses() -> None:
    (ack,), envelope = ack277.read_text((DATA / "claims.277").read_text(), "c")
    assert envelope == [] and ack.findings == ()
    accepted, rejected = ack.claims
    assert (accepted.claim_id, accepted.payer_claim_number) == ("V-1001", "2026063000101")
    assert accepted.outcome is AckOutcome.ACCEPTED
    assert [(s.category, s.code) for s in rejected.statuses] == [("A7", "21"), ("A7", "145")]
    assert rejected.outcome is AckOutcome.REJECTED
    assert rejected.lines[0].control_number == "V-1002-1"
    assert rejected.lines[0].statuses[0].code == "453"
    assert ack.receiver_statuses[0].outcome is AckOutcome.RECEIVED


def test_read_999__missing_ik5_and_ak9_are_findings() -> None:
    text = (DATA / "accepted.999").read_text().replace("IK5*E~\n", "").replace(
        "AK9*E*1*1*1~\n", "").replace("SE*6*", "SE*4*")
    (ack,), envelope = ack999.read_text(text, "m")
    assert envelope == []
    assert sorted(f.code for f in ack.findings) == ["x12.999.missing_ak9", "x12.999.missing_ik5"]


def test_write_999__round_trips() -> None:
    ack = Ack999("0001", "HC", "17", "005010X222A1", (
        SetResponse("837", "0001", "005010X222A1", "A"),
        SetResponse("837", "0002", "005010X222A1", "R", ("5",), (
            SegmentError("CLM", "22", "2300", "8", (ElementError("5:3", "1331", "7", "99"),)),
        )),
    ), "P", 2, 2, 1)
    (again,), envelope = ack999.read_text(ack999.write_999([ack], sender_id="CH",
                                                           receiver_id="US"), "w")
    assert envelope == [] and again.findings == ()
    assert again == ack


words = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=10)
status = st.builds(StatusCode, st.sampled_from(["A1", "A2", "A3", "A6", "A7", "P1"]),
                   st.sampled_from(["19", "20", "21", "145", "453"]),
                   st.sampled_from(["", "PR", "QC"]), st.just("20260304"),
                   st.sampled_from(["WQ", "U"]),
                   st.none() | st.integers(0, 10**6).map(lambda c: Decimal(c).scaleb(-2)))
# A service line's STC has no STC04 (005010X214 loop 2220D: not used; the SVC02 is the charge).
line_status = status.map(lambda s: StatusCode(s.category, s.code, s.entity, s.date, s.action))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.builds(
    ClaimAck, words, st.lists(status, min_size=1, max_size=2).map(tuple), words, words, words,
    words, st.sampled_from(["1306849450", "1215930367"]), st.just("20260302-20260302"),
    st.lists(st.builds(LineAck, st.builds(Procedure, st.just("HC"), words, st.just(("GP",))),
                       st.integers(0, 10**5).map(lambda c: Decimal(c).scaleb(-2)),
                       st.just("1"), words, st.just(""),
                       st.lists(line_status, max_size=1).map(tuple)), max_size=2).map(tuple)),
    max_size=5))
def test_write_277ca__round_trips(claims: list[ClaimAck]) -> None:
    ack = Ack277("0001", "BATCH1", "20260304", "MEDICARE", "MAC01", "RIVERSIDE", "RIV", (
        StatusCode("A1", "19", "PR", "20260304", "WQ", Decimal("10.00")),), tuple(claims))
    (again,), envelope = ack277.read_text(
        ack277.write_277ca([ack], sender_id="MEDICARE", receiver_id="RIV"), "w")
    assert envelope == [] and again.findings == ()
    assert again == ack


@pytest.mark.parametrize(("name", "module", "kind"), [("rejected.999", ack999, "999"),
                                                      ("claims.277", ack277, "277CA")])
def test_read_transaction__dispatcher_entry_point(name: str, module: object, kind: str) -> None:
    delimiters, segments, findings = tokenize((DATA / name).read_text(), name)
    assert delimiters is not None
    (txn,) = list(split_transactions(segments, findings, name))
    result = module.read_transaction(txn, delimiters, name)  # type: ignore[attr-defined]
    assert result.as_json()["kind"] == kind and result.findings == ()


def test_read_277__update_carries_stc04_charge_and_dtp_service_date() -> None:
    """005010X214 sends the service date as DTP*472 (older writers DTM*472): both read."""
    text = (DATA / "claims.277").read_text().replace("DTM*472", "DTP*472")
    (ack,), _ = ack277.read_text(text, "c")
    assert ack.findings == ()
    accepted, rejected = ack.status_updates()
    assert (accepted.charge, accepted.service_date) == (Decimal("180.00"),
                                                        "20260302-20260302")
    assert accepted.payer_claim_number == "2026063000101"
    assert rejected.charge == Decimal("180.00")


def test_write_277ca__dates_claims_and_lines_with_dtp_472() -> None:
    """005010X214 loops 2200D and 2220D date the service with DTP*472 (Claim Level Service
    Date, required; Service Line Date), not the 835's DTM; with the provider named and the
    line rejected (2220D takes STC03 U alone), pyx12's X214 map finds nothing to say."""
    from tests.x12.helpers import pyx12_errors

    rejected = StatusCode("A7", "178", "", "20260304", "U", Decimal("120.00"))
    line = LineAck(Procedure("HC", "97530", ("GP",)), Decimal("120.00"), units="2",
                   control_number="V-1001-01-1", service_date="20260302-20260302",
                   statuses=(StatusCode("A7", "178", "", "20260304", "U"),))
    claim = ClaimAck("V-1001-01", (rejected,), payer_claim_number="PCN123", patient_last="LEE",
                     patient_first="MARK", member_id="1EG4TE5MK73", provider_npi="1306849450",
                     service_date="20260302-20260302", lines=(line,),
                     provider_name="RIVERSIDE REHAB")
    ack = Ack277("0001", "BATCH1", "20260304", "MEDICARE", "MAC01", "RIVERSIDE", "RIV", (
        StatusCode("A1", "19", "PR", "20260304", "WQ", Decimal("120.00")),), (claim,))
    text = ack277.write_277ca([ack], sender_id="MEDICARE", receiver_id="RIV")
    assert text.count("~DTP*472*RD8*20260302-20260302~") == 2 and "DTM" not in text
    assert pyx12_errors(text) == []
