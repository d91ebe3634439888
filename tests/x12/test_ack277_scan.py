"""The 277CA scan gives the reader's status updates and findings, on mutated files too."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rehabill.x12 import ack277
from rehabill.x12.ack277_scan import scan_277ca
from rehabill.x12.envelope import split_transactions
from rehabill.x12.tokens import tokenize

DATA = Path(__file__).resolve().parent.parent / "data" / "ack"
CLAIMS = (DATA / "claims.277").read_text()
# a payer's 277CA as the simulator writes it: claim levels with service lines under them
LINES = (
    "ISA*00*          *00*          *ZZ*BBPPO          *ZZ*1306849450     *260101*0000*^*00501*"
    "000000001*0*T*:~GS*HN*BBPPO*1306849450*20260101*0000*1*X*005010X214~"
    "ST*277*0001*005010X214~BHT*0085*08*B1*20260403**TH~HL*1**20*1~"
    "NM1*PR*2*GENERIC COMMERCIAL*****PI*BBPPO~TRN*1*B1~HL*2*1*21*1~"
    "NM1*41*2*SUBMITTER*****46*SUBMITTER~TRN*2*B1~STC*A1:19:PR*20260403*WQ*248.00~"
    "QTY*90*2~QTY*AA*0~HL*3*2*19*1~NM1*85*2******XX*1306849450~HL*4*3*PT~"
    "NM1*QC*1*WALKER*MARIA****MI*BBP130937025~TRN*2*V-1800-14~"
    "STC*A2:20:PR*20260403*WQ*189.00~REF*1K*BBP3337446730~DTP*472*RD8*20260302-20260302~"
    "SVC*HC:97116:GP*59*****1~STC*A2:20*20260403*WQ~REF*FJ*V-1800-14-1~"
    "SVC*HC:97110:GP*59*****1~STC*A2:20*20260403*WQ~REF*FJ*V-1800-14-2~"
    "HL*5*3*PT~NM1*QC*1*WALKER*MARIA****MI*BBP130937025~TRN*2*V-1800-15~"
    "STC*A7:21:PR*20260403*U*59.00******A7:145:QC~DTP*472*D8*20260309~"
    "SVC*HC:97110:GP*59*****1~STC*A7:453*20260403*U~REF*FJ*V-1800-15-1~DTP*472*D8*20260309~"
    "SE*35*0001~GE*1*1~IEA*1*000000001~")
TEXTS = {"claims": CLAIMS, "lines": LINES, "lines_crlf": LINES.replace("~", "~\r\n")}


def _read(text: str) -> tuple[object, ...] | None:
    """What the service read before the scan: tokenize, the transaction sets, the reader."""
    delimiters, segments, envelope = tokenize(text, "f")
    if delimiters is None or any(s.id == "ST" and s.get(1) != "277" for s in segments):
        return None
    updates, found, sets = [], [], 0
    for txn in split_transactions(segments, envelope, "f"):
        ack = ack277.read_transaction(txn, delimiters, "f")
        updates.extend(ack.status_updates())
        found.extend(ack.findings)
        sets += 1
    return tuple(updates), tuple(found), tuple(envelope), sets


def _scanned(text: str) -> tuple[object, ...] | None:
    scan = scan_277ca(text, "f")
    if scan is None:
        return None
    return scan.updates, scan.findings, scan.envelope_findings, scan.transactions


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_scan_277ca__agrees_with_reader(name: str) -> None:
    assert _scanned(TEXTS[name]) == _read(TEXTS[name])


def test_scan_277ca__claim_updates() -> None:
    scan = scan_277ca(LINES, "f")
    assert scan is not None and not scan.findings and not scan.envelope_findings
    assert [(u.claim_id, u.outcome.value, u.payer_claim_number, u.codes, str(u.charge),
             u.service_date, u.segment) for u in scan.updates] == [
        ("V-1800-14", "accepted", "BBP3337446730", ("A2:20",), "189.00",
         "20260302-20260302", 16),
        ("V-1800-15", "rejected", "", ("A7:21", "A7:145"), "59.00", "20260309", 28)]


def test_scan_277ca__leaves_a_999_to_the_full_readers() -> None:
    text = (DATA / "accepted.999").read_text()
    assert scan_277ca(text, "f") is None
    assert scan_277ca("not X12", "f") is None


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(TEXTS)), st.lists(st.tuples(st.integers(0, 2000), st.sampled_from(
    ["", "*", "~", ":", "9", "E", "-", "\n", " ", "STC*A7*x~", "STC*A2:20*1*WQ*1E5~",
     "SVC*HC:1*abc~", "SVC*HC:1*~", "HL*9*3*PT~", "HL*9*3*19~", "TRN*2*X~", "REF*1K*Z~",
     "DTP*472*D8*2026~", "DTM*472~", "ZZZ*1~", "SE*1*2~", "ST*277*9~", "GE*1*1~", "IEA*1~",
     "NM1*QC*1*A~", "*~", "H *1~", "HL **3*PT~", "STC *A2:20~", "\x0bHL*1~", "STCX*A1:1~",
     "ST*999*1~", "\ufeff", "\t", "SE*3*0001~ST*277*0002~"])), max_size=6))
def test_scan_277ca__agrees_with_reader_on_mutated_files(name: str,
                                                        edits: list[tuple[int, str]]) -> None:
    text = TEXTS[name]
    for at, piece in edits:
        text = text[:at] + piece + text[at + 1:]
    assert _scanned(text) == _read(text)
