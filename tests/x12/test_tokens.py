"""X12 tokenizer and envelope: delimiters from ISA, located envelope findings."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rehabill.x12.envelope import SegmentWriter, interchange_header, split_transactions
from rehabill.x12.tokens import Delimiters, detect_delimiters, iter_segments_from_chunks, tokenize


def small_file(d: Delimiters | None = None, *, se_count: int = 3) -> str:
    d = d or Delimiters()
    w = SegmentWriter(d)
    w.raw(interchange_header(sender_id="SENDER", receiver_id="RECEIVER", control_number=7,
                             created=datetime(2026, 3, 2, 9, 30), production=False,
                             delimiters=d))
    w.segment("GS", "HP", "SENDER", "RECEIVER", "20260302", "0930", "7", "X", "005010X221A1")
    w.segment("ST", "835", "0001", "005010X221A1")
    w.segment("BPR", "I", "100.00", "C", "ACH")
    w.segment("SE", str(se_count), "0001")
    w.segment("GE", "1", "7")
    w.segment("IEA", "1", "000000007")
    return w.text()


def test_isa_is_106_characters_and_delimiters_come_back() -> None:
    d = Delimiters("|", ">", "!", "\n")
    text = small_file(d)
    assert len(text.split("\n")[0]) == 105
    found, findings = detect_delimiters(text)
    assert findings == [] and found == d


def test_tokenize__segments_numbered_and_line_breaks_tolerated() -> None:
    text = small_file().replace("~", "~\r\n")
    d, segments, findings = tokenize(text)
    assert d == Delimiters() and findings == []
    assert [(s.number, s.id) for s in segments][:3] == [(1, "ISA"), (2, "GS"), (3, "ST")]
    assert segments[3].get(2) == "100.00" and segments[3].get(9) == ""


def test_chunks_give_the_same_segments() -> None:
    text = small_file()
    d, whole, _ = tokenize(text)
    assert d is not None
    chunks = [text[i:i + 7] for i in range(0, len(text), 7)]
    assert list(iter_segments_from_chunks(chunks, d)) == whole


def test_envelope__clean_file_has_no_findings() -> None:
    _, segments, _ = tokenize(small_file())
    findings: list = []
    (txn,) = list(split_transactions(segments, findings, "f.835"))
    assert findings == []
    assert (txn.set_id, txn.control_number, txn.version) == ("835", "0001", "005010X221A1")
    assert [s.id for s in txn.body] == ["BPR"]


def test_envelope__wrong_se_count_is_located() -> None:
    _, segments, _ = tokenize(small_file(se_count=9))
    findings: list = []
    list(split_transactions(segments, findings, "f.835"))
    (f,) = findings
    assert f.code == "x12.envelope.count_mismatch"
    assert (f.location.file, f.location.segment, f.location.element) == ("f.835", 5, "SE01")


@pytest.mark.parametrize(("text", "code"), [
    ("", "x12.envelope.no_isa"),
    ("GS*HP~", "x12.envelope.no_isa"),
    ("ISA*00*", "x12.envelope.short_isa"),
])
def test_unusable_header(text: str, code: str) -> None:
    d, segments, findings = tokenize(text)
    assert d is None and segments == [] and [f.code for f in findings] == [code]


def test_truncated_file__missing_trailers() -> None:
    text = small_file()
    cut = text[: text.index("SE*")]
    _, segments, _ = tokenize(cut)
    findings: list = []
    assert list(split_transactions(segments, findings)) == []
    assert {f.code for f in findings} == {"x12.envelope.missing_se", "x12.envelope.missing_ge",
                                         "x12.envelope.missing_iea"}


def test_writer__delimiters_in_data_cannot_break_the_file() -> None:
    w = SegmentWriter()
    w.segment("NM1", "QC", "1", "O*BRIEN~X", "", "")
    assert w.text() == "NM1*QC*1*O BRIEN X~"


def _reference_segment(d: Delimiters, seg_id: str, elements: tuple[object, ...]) -> str:
    """The writer's rule spelled out element by element: delimiters in data become spaces,
    composites join their cleaned parts, and trailing empty elements and components go."""
    table = str.maketrans(dict.fromkeys(d.all(), " "))
    values = []
    for e in elements:
        if isinstance(e, str):
            values.append(e.translate(table))
        else:
            parts = [p.translate(table) for p in e]  # type: ignore[attr-defined]
            while parts and parts[-1] == "":
                parts.pop()
            values.append(d.component.join(parts))
    while values and values[-1] == "":
        values.pop()
    return d.element.join((seg_id, *values)) + d.segment


_ELEMENT_TEXT = st.text(alphabet="AB1 *:^~|>!\n-", max_size=4)


@pytest.mark.parametrize("d", [Delimiters(), Delimiters("|", ">", "!", "\n")])
@given(elements=st.lists(st.one_of(_ELEMENT_TEXT, st.lists(_ELEMENT_TEXT, max_size=4).map(tuple)),
                         max_size=6))
@settings(max_examples=300, deadline=None)
def test_writer__segment_matches_the_element_by_element_rule(
        d: Delimiters, elements: list[object]) -> None:
    w = SegmentWriter(d)
    w.segment("NM1", *elements)  # type: ignore[arg-type]
    assert w.text() == _reference_segment(d, "NM1", tuple(elements))
    assert w.count == 1


@pytest.mark.parametrize("d", [Delimiters(), Delimiters("|", ">", "!", "\n")])
@given(first=st.lists(_ELEMENT_TEXT, min_size=2, max_size=2),
       elements=st.lists(st.one_of(_ELEMENT_TEXT, st.lists(_ELEMENT_TEXT, max_size=4).map(tuple)),
                         max_size=6))
@settings(max_examples=300, deadline=None)
def test_writer__a_headed_segment_is_the_segment_its_elements_make(
        d: Delimiters, first: list[str], elements: list[object]) -> None:
    """Two claims' CLM with the same charge and place: the second reuses what follows CLM01
    and is still exactly what ``segment`` writes, whatever the claim ids hold."""
    w = SegmentWriter(d)
    for value in first:
        w.headed("CLM", value, *elements)  # type: ignore[arg-type]
    assert w.text() == "".join(_reference_segment(d, "CLM", (value, *elements))
                               for value in first)
    assert w.count == 2


def test_writer__kept_segments_come_back_with_their_count() -> None:
    """A line's LX and SV1 written once and recalled for the next claim with the same line."""
    w = SegmentWriter()
    assert not w.recall("line")
    start = w.mark()
    w.segment("LX", "1")
    w.segment("SV1", ("HC", "97110"), "70.5", "UN", "2", "", "", ("1",))
    w.keep("line", start)
    assert w.recall("line")
    assert w.text() == "LX*1~SV1*HC:97110*70.5*UN*2***1~" * 2
    assert w.count == 4


@pytest.mark.parametrize("d", [Delimiters(), Delimiters("|", ">", "!", "\n")])
@given(head=st.lists(_ELEMENT_TEXT, max_size=4), last=st.lists(_ELEMENT_TEXT, min_size=2,
                                                              max_size=2))
@settings(max_examples=300, deadline=None)
def test_writer__a_tailed_segment_is_the_segment_its_elements_make(
        d: Delimiters, head: list[str], last: list[str]) -> None:
    """Two lines' REF*6R: the second reuses what comes before the control number and is still
    exactly what ``segment`` writes, whatever the control numbers hold."""
    w = SegmentWriter(d)
    for value in last:
        w.tailed("REF", *head, value)
    assert w.text() == "".join(_reference_segment(d, "REF", (*head, value)) for value in last)
    assert w.count == 2
