"""The X12 values whose ``__init__`` is written out (for mypyc) take the generated signature.

Compiled by mypyc, a dataclass's generated ``__init__`` stays interpreted, about 15 times slower
than a written-out one; the readers build these values per segment, line and claim. This holds
each one to what ``@dataclass`` would have generated (same parameters in field order, same
defaults, every field set from its parameter), and each one pickles to an equal value (the
cycle sends values between processes; compiled, ``domain.pickling`` makes that work).
"""

from __future__ import annotations

import inspect
import pickle
from decimal import Decimal

import pytest

from rehabill.x12 import ack277, ack999, envelope, p837_reader, remit835, status, tokens
from tests.inits import check_signature

WRITTEN_OUT = (
    tokens.Segment, envelope.Transaction, status.StatusUpdate,
    remit835.Adjustment, remit835.RefId, remit835.DateRef, remit835.AmountRef, remit835.Remark,
    remit835.Procedure, remit835.Party, remit835.Person, remit835.ServiceLine,
    remit835.ClaimPayment, remit835.PlbItem, remit835.ProviderAdjustment, remit835.Payment,
    remit835.Trace, remit835.HeaderGroup, remit835.Remittance,
    p837_reader.LineRead, p837_reader.ClaimRead, p837_reader.Transaction837P,
    ack277.StatusCode, ack277.LineAck, ack277.ClaimAck, ack277.Ack277,
    ack999.ElementError, ack999.SegmentError, ack999.SetResponse, ack999.Ack999,
)
COMPILED = not inspect.isfunction(tokens.detect_delimiters)


@pytest.mark.skipif(COMPILED, reason="a compiled __init__ has no Python source; same source")
@pytest.mark.parametrize("cls", WRITTEN_OUT, ids=lambda c: c.__name__)
def test_init__is_the_signature_the_dataclass_would_generate(cls: type) -> None:
    check_signature(cls)


ISA = ("ISA*00*          *00*          *ZZ*A              *ZZ*B              *260301*1200*^"
       "*00501*000000001*0*P*:~")


def test_segment__built_by_the_tokenizer_equals_the_constructed_one() -> None:
    delimiters, segments, _ = tokens.tokenize(ISA + "GS*HC*A*B~")
    assert delimiters is not None
    assert segments[1] == tokens.Segment("GS", ("HC", "A", "B"), 2)
    assert pickle.loads(pickle.dumps(segments[1])) == segments[1]


@pytest.mark.skipif(COMPILED, reason="compiled, a native class cannot be built by slot setters")
def test_split_segments__slot_setters_and_native_constructor_agree() -> None:
    text = ISA + "GS*HC*A*B~\r\n ST *837*0001~~BHT*0019*00*1~SE*3*0001~"
    delimiters = tokens.Delimiters()
    slots = list(tokens._split_slots(text, delimiters))
    native = list(tokens._split_native(text, delimiters))
    assert slots == native
    assert [(s.id, s.number) for s in slots] == [("ISA", 1), ("GS", 2), ("ST", 3), ("BHT", 4),
                                                 ("SE", 5)]
    assert all(type(s) is tokens.Segment for s in slots)


def test_split_segments__takes_the_path_of_its_build() -> None:
    assert tokens.NATIVE is COMPILED


def test_pickle__read_values_come_back_equal() -> None:
    line = remit835.ServiceLine(remit835.Procedure("HC", "97110", ("GP",)), Decimal("70.00"),
                                Decimal("50.00"), units=Decimal(2),
                                adjustments=(remit835.Adjustment("CO", "45", Decimal("20.00")),),
                                refs=(remit835.RefId("6R", "V-1-1"),), segment=12)
    claim = remit835.ClaimPayment("V-1", "1", Decimal("70.00"), Decimal("50.00"), lines=(line,))
    ack = ack277.ClaimAck("V-1", (ack277.StatusCode("A1", "20"),))
    for value in (line, claim, ack, ack999.SetResponse("0001", "837", "A")):
        back = pickle.loads(pickle.dumps(value))
        assert back == value
        assert type(back) is type(value)
