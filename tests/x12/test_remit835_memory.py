"""Streaming: reading an 835 of 100k claims takes no more memory than one of 10k."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

import pytest

from rehabill.x12.remit835 import ClaimPayment, Remittance, iter_835

HEAD = ("ISA*00*          *00*          *ZZ*MEDICARE       *ZZ*RIVERSIDE      *260315*1200*^*"
        "00501*000000101*0*T*:~GS*HP*MEDICARE*RIVERSIDE*20260315*1200*101*X*005010X221A1~"
        "ST*835*0001*005010X221A1~BPR*I*{total}*C*ACH************20260316~"
        "TRN*1*EFT1*1512345678~N1*PR*MEDICARE~N1*PE*RIVERSIDE*XX*1306849450~LX*1~")
CLAIM = ("CLP*V-{n:07d}*1*100.00*64.00*16.00*MB*P{n}~NM1*QC*1*LEE*MARK****MI*X{n}~"
         "SVC*HC:97110:GP*100.00*64.00**2~DTM*472*20260302~CAS*CO*45*20.00~CAS*PR*2*16.00~"
         "REF*6R*V-{n:07d}-1~")
SEGMENTS_PER_CLAIM = 7


def _file(claims: int) -> Iterator[str]:
    """The file in ~64 KB chunks, generated as it is read (nothing held)."""
    yield HEAD.format(total=f"{claims * 64}.00")
    buffer: list[str] = []
    for n in range(claims):
        buffer.append(CLAIM.format(n=n))
        if len(buffer) == 300:
            yield "".join(buffer)
            buffer.clear()
    yield "".join(buffer)
    segments = 7 + claims * SEGMENTS_PER_CLAIM
    yield f"SE*{segments}*0001~GE*1*101~IEA*1*000000101~"


def _peak(claims: int) -> tuple[int, int, int]:
    tracemalloc.start()
    envelope: list[object] = []
    count = findings = 0
    for item in iter_835(_file(claims), "m.835", keep_claims=False,
                         envelope_findings=envelope):  # type: ignore[arg-type]
        if isinstance(item, ClaimPayment):
            count += 1
        elif isinstance(item, Remittance):
            findings += len(item.findings)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, count, findings + len(envelope)


@pytest.mark.slow
def test_iter_835__memory_is_flat_from_10k_to_100k_claims() -> None:
    small, small_count, small_findings = _peak(10_000)
    large, large_count, large_findings = _peak(100_000)
    assert (small_count, large_count) == (10_000, 100_000)
    assert small_findings == large_findings == 0
    assert large < small * 1.5 + 1_000_000, (small, large)
