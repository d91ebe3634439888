"""X12 envelopes: ISA/IEA, GS/GE, ST/SE, read into transactions and written with correct counts.

Reading checks what X12.5 and every 5010 guide require of the envelope: control numbers that
match (ISA13/IEA02, GS06/GE02, ST02/SE02) and counts that match (IEA01 groups, GE01 transaction
sets, SE01 segments including ST and SE). Problems are findings located by segment number.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from rehabill.domain.findings import Finding, Location, Severity
from rehabill.domain.pickling import pickle_by_fields as _pickle_by_fields
from rehabill.x12.tokens import Delimiters, Segment


@dataclass(frozen=True, slots=True)
class Transaction:
    """One transaction set (ST..SE inclusive) with the ISA and GS around it."""

    interchange: Segment
    group: Segment
    segments: tuple[Segment, ...]

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, interchange: Segment, group: Segment, segments: tuple[Segment, ...]) -> None:
        object.__setattr__(self, "interchange", interchange)
        object.__setattr__(self, "group", group)
        object.__setattr__(self, "segments", segments)

    @property
    def set_id(self) -> str:
        """ST01: "837", "835", "999", "277"."""
        return self.segments[0].get(1)

    @property
    def control_number(self) -> str:
        """ST02."""
        return self.segments[0].get(2)

    @property
    def version(self) -> str:
        """ST03 when present, else GS08 (e.g. "005010X222A1")."""
        return self.segments[0].get(3) or self.group.get(8)

    @property
    def body(self) -> tuple[Segment, ...]:
        """The segments between ST and SE."""
        return self.segments[1:-1]


def _finding(code: str, message: str, segment: Segment | None, file: str, element: int | None,
             fix: str, severity: Severity = Severity.ERROR) -> Finding:
    where = segment.location(file, element) if segment is not None else Location(file=file)
    return Finding(f"x12.envelope.{code}", severity, message, where, fix)


def split_transactions(segments: Iterable[Segment], findings: list[Finding],
                       file: str = "") -> Iterator[Transaction]:
    """Yield each transaction set in order, appending envelope findings to ``findings``.

    A transaction is yielded once its SE is read (so callers can stream); envelope problems
    anywhere in the file are appended as they are met, and callers that must not act on a
    file with envelope errors check ``findings`` at the end before committing anything.
    A transaction set holds all its segments; for one huge set use ``walk_transactions``.
    """
    open_set: list[Segment] = []
    for isa, gs, seg in walk_transactions(segments, findings, file):
        if seg.id == "ST":
            open_set = [seg]
        elif seg.id == "SE":
            open_set.append(seg)
            if isa is not None and gs is not None:
                yield Transaction(isa, gs, tuple(open_set))
            open_set = []
        else:
            open_set.append(seg)


def walk_transactions(segments: Iterable[Segment], findings: list[Finding], file: str = ""
                      ) -> Iterator[tuple[Segment | None, Segment | None, Segment]]:
    """Yield ``(isa, gs, segment)`` for every segment from ST to SE, one at a time.

    This is the streaming form of ``split_transactions``: nothing is buffered, so a single
    transaction set of any size is read in constant memory. An SE is yielded only when an ST
    is open; ``isa``/``gs`` are None for a set outside its envelope (already a finding).
    Envelope findings are appended to ``findings`` as they are met (see ``EnvelopeChecker``).
    """
    checker = EnvelopeChecker(findings, file)
    last: Segment | None = None
    for seg in segments:
        last = seg
        if checker.st is not None and seg.id not in ENVELOPE_IDS:
            checker.body += 1
            yield checker.isa, checker.gs, seg
        elif checker.envelope(seg):
            yield checker.isa, checker.gs, seg
    checker.finish(last)


class EnvelopeChecker:
    """Incremental envelope checks, one segment at a time (the engine of ``walk_transactions``).

    Checks what X12.5 requires of the envelope: control numbers that match (ISA13/IEA02,
    GS06/GE02, ST02/SE02) and counts that match (IEA01 groups, GE01 sets, SE01 segments
    including ST and SE). A streaming reader calls ``envelope`` for ISA/IEA/GS/GE/ST/SE and
    adds 1 to ``body`` for every other segment while ``st`` is set; ``finish`` at the end.
    """

    def __init__(self, findings: list[Finding], file: str = "") -> None:
        self.findings = findings
        self.file = file
        self.isa: Segment | None = None
        self.gs: Segment | None = None
        self.st: Segment | None = None
        self.body = 0
        self.groups = 0
        self.sets = 0

    def envelope(self, seg: Segment) -> bool:
        """Check an envelope segment (or a data segment outside any set).

        Returns:
            True for an ST, and for an SE that closes an open ST (the segments a reader of
            transactions must see); False otherwise.
        """
        handler = _ENVELOPE_HANDLERS.get(seg.id)
        if handler is None:
            self.findings.append(_finding("outside_transaction", f"Segment {seg.id} is "
                                          "outside any transaction set.", seg, self.file, None,
                                          "Data segments belong between ST and SE."))
            return False
        return handler(self, seg)

    def _isa(self, seg: Segment) -> bool:
        if self.isa is not None:
            self.findings.append(_finding("missing_iea", "Interchange "
                                          f"{self.isa.get(13)} has no IEA before the next ISA.",
                                          seg, self.file, None, "Add the IEA trailer."))
        self.isa, self.groups = seg, 0
        return False

    def _iea(self, seg: Segment) -> bool:
        if self.isa is None:
            self.findings.append(_finding("unexpected", "IEA without an ISA.", seg, self.file,
                                          None, "Remove the stray IEA or restore its ISA."))
        else:
            _check_equal(self.findings, seg, 2, self.isa.get(13), "ISA13", self.file)
            _check_count(self.findings, seg, 1, self.groups, "functional groups", self.file)
        self.isa = None
        return False

    def _gs(self, seg: Segment) -> bool:
        if self.isa is None:
            self.findings.append(_finding("unexpected", "GS outside an interchange.", seg,
                                          self.file, None, "Every GS must sit inside ISA/IEA."))
        self.gs, self.sets = seg, 0
        self.groups += 1
        return False

    def _ge(self, seg: Segment) -> bool:
        if self.gs is None:
            self.findings.append(_finding("unexpected", "GE without a GS.", seg, self.file, None,
                                          "Remove the stray GE or restore its GS."))
        else:
            _check_equal(self.findings, seg, 2, self.gs.get(6), "GS06", self.file)
            _check_count(self.findings, seg, 1, self.sets, "transaction sets", self.file)
        self.gs = None
        return False

    def _st(self, seg: Segment) -> bool:
        if self.st is not None:
            self.findings.append(_finding("missing_se", f"Transaction {self.st.get(2)} has no "
                                          "SE before the next ST.", seg, self.file, None,
                                          "Add the SE trailer with the segment count."))
        if self.gs is None or self.isa is None:
            self.findings.append(_finding("unexpected", "ST outside a functional group.", seg,
                                          self.file, None, "Every ST must sit inside GS/GE."))
        self.st, self.body = seg, 0
        self.sets += 1
        return True

    def _se(self, seg: Segment) -> bool:
        if self.st is None:
            self.findings.append(_finding("unexpected", "SE without an ST.", seg, self.file,
                                          None, "Remove the stray SE or restore its ST."))
            return False
        _check_equal(self.findings, seg, 2, self.st.get(2), "ST02", self.file)
        _check_count(self.findings, seg, 1, self.body + 2, "segments", self.file)
        self.st = None
        return True

    def finish(self, last: Segment | None) -> None:
        """Findings for whatever is still open at the end of the file."""
        if self.st is not None:
            self.findings.append(_finding("missing_se", f"Transaction {self.st.get(2)} ends "
                                          "without an SE.", last, self.file, None,
                                          "The file is truncated."))
        if self.gs is not None:
            self.findings.append(_finding("missing_ge", "The file ends without a GE.", last,
                                          self.file, None, "The file is truncated."))
        if self.isa is not None:
            self.findings.append(_finding("missing_iea", "The file ends without an IEA.", last,
                                          self.file, None, "The file is truncated."))


_ENVELOPE_HANDLERS = {
    "ISA": EnvelopeChecker._isa, "IEA": EnvelopeChecker._iea, "GS": EnvelopeChecker._gs,
    "GE": EnvelopeChecker._ge, "ST": EnvelopeChecker._st, "SE": EnvelopeChecker._se,
}


ENVELOPE_IDS = frozenset({"SE", "ST", "GE", "IEA", "GS", "ISA"})


def _check_equal(findings: list[Finding], seg: Segment, position: int, expected: str,
                 name: str, file: str) -> None:
    if seg.get(position).strip() != expected.strip():
        findings.append(_finding(
            "control_mismatch",
            f"{seg.id}{position:02d} is {seg.get(position)!r} but {name} is {expected!r}.",
            seg, file, position, f"Make {seg.id}{position:02d} equal {name}."))


def _check_count(findings: list[Finding], seg: Segment, position: int, actual: int, what: str,
                 file: str) -> None:
    value = seg.get(position).strip()
    if not (value.isascii() and value.isdigit()) or int(value) != actual:
        findings.append(_finding(
            "count_mismatch",
            f"{seg.id}{position:02d} says {value!r} {what}, but there are {actual}.",
            seg, file, position, f"Set {seg.id}{position:02d} to {actual}."))


#: How many distinct texts a ``SegmentWriter`` keeps for each way of reusing them (a file's
#: must not pile up): past it, that memo starts afresh.
_MEMO_LIMIT = 16384


class SegmentWriter:
    """Builds segments with the chosen delimiters, trimming trailing empty elements.

    Data that contains a delimiter character has it replaced with a space, so a name such as
    "O*Brien" cannot break the file. ``count`` is the number of segments written since the last
    ``reset_count`` (for SE01).
    """

    def __init__(self, delimiters: Delimiters | None = None) -> None:
        self.delimiters = d = delimiters or Delimiters()
        self._parts: list[str] = []
        self.count = 0
        self._clean = str.maketrans(dict.fromkeys(d.all(), " "))
        self._element = d.element
        self._terminator = d.segment
        self._others = (d.component, d.repetition, d.segment)
        self._memo: dict[tuple[str, tuple[str | tuple[str, ...], ...]], str] = {}
        self._groups: dict[Hashable, tuple[str, int]] = {}
        self._tails: dict[tuple[str, tuple[str | tuple[str, ...], ...]], str] = {}
        self._heads: dict[tuple[str, tuple[str, ...]], str] = {}

    def clean(self, value: str) -> str:
        """``value`` with delimiter characters replaced by spaces."""
        return value.translate(self._clean)

    def segment(self, seg_id: str, *elements: str | Sequence[str]) -> None:
        """Append one segment; a tuple or list element is a composite."""
        sep = self._element
        try:
            body = sep.join(elements)  # type: ignore[arg-type]
        except TypeError:  # a composite among the elements
            self._parts.append(self._with_composites(seg_id, elements))
        else:
            # Clean data (the usual case) joins as it is: no element holds an element
            # separator (the count says so) nor another delimiter. Anything else is written
            # element by element, exactly as before.
            component, repetition, terminator = self._others
            if (body.count(sep) != len(elements) - 1 or component in body
                    or repetition in body or terminator in body):
                self._parts.append(self._general(seg_id, elements))
            else:
                self._parts.append(f"{seg_id}{sep}{body}".rstrip(sep) + terminator)
        self.count += 1

    def repeated(self, seg_id: str, *elements: str | tuple[str, ...]) -> None:
        """``segment`` for values that recur across a file (a code's SV1, a day's DTP): the
        text is built once per writer and appended again (composites as tuples)."""
        key = (seg_id, elements)
        text = self._memo.get(key)
        if text is None:
            if len(self._memo) >= _MEMO_LIMIT:  # a file's distinct segments must not pile up
                self._memo.clear()
            self.segment(seg_id, *elements)
            self._memo[key] = self._parts[-1]
        else:
            self._parts.append(text)
            self.count += 1

    def headed(self, seg_id: str, first: str, *rest: str | tuple[str, ...]) -> None:
        """``segment`` for a segment whose first element is its own (CLM01, a claim's id) and
        whose other elements recur across a file (composites as tuples): those are built
        once per writer, and a clean first element is put in front of them."""
        sep = self._element
        if not self._plain(first):
            self.segment(seg_id, first, *rest)
            return
        key = (seg_id, rest)
        tail = self._tails.get(key)
        if tail is None:
            if len(self._tails) >= _MEMO_LIMIT:
                self._tails.clear()
            self.segment(seg_id, "X", *rest)  # a clean, non-empty stand-in: nothing trimmed
            tail = self._tails[key] = self._parts.pop()[len(seg_id) + len(sep) + 1:]
            self.count -= 1
        self._parts.append(f"{seg_id}{sep}{first}{tail}")
        self.count += 1

    def tailed(self, seg_id: str, *elements: str) -> None:
        """``segment`` for a segment whose last element is its own (REF*6R's line control
        number) and whose others recur across a file: those are built once per writer, and
        a clean last element is put after them."""
        terminator = self._terminator
        last = elements[-1]
        if not self._plain(last):
            self.segment(seg_id, *elements)
            return
        key = (seg_id, elements[:-1])
        head = self._heads.get(key)
        if head is None:
            if len(self._heads) >= _MEMO_LIMIT:
                self._heads.clear()
            self.segment(seg_id, *elements[:-1], "X")  # a clean, non-empty stand-in
            head = self._heads[key] = self._parts.pop()[:-1 - len(terminator)]
            self.count -= 1
        self._parts.append(f"{head}{last}{terminator}")
        self.count += 1

    def _plain(self, value: str) -> bool:
        """``value`` is not empty and holds no delimiter: ``headed``/``tailed`` may put it
        next to text built before as it is (anything else goes through ``segment``)."""
        component, repetition, terminator = self._others
        return bool(value) and not (self._element in value or component in value
                                    or repetition in value or terminator in value)

    def recall(self, key: Hashable) -> bool:
        """Append the segments kept under ``key`` (``keep``) again and say so; False when
        none are kept (write them, then ``keep`` them). For runs of segments that recur
        across a file as a whole (a line's LX and SV1): one look-up for the run. Keys of
        different kinds of run must never be equal (give each kind its own shape)."""
        kept = self._groups.get(key)
        if kept is None:
            return False
        self._parts.append(kept[0])
        self.count += kept[1]
        return True

    def mark(self) -> tuple[int, int]:
        """Where the next segment goes (for ``keep``)."""
        return len(self._parts), self.count

    def keep(self, key: Hashable, start: tuple[int, int]) -> None:
        """Keep the segments written since ``start`` (``mark``) under ``key`` for ``recall``."""
        if len(self._groups) >= _MEMO_LIMIT:  # a file's distinct runs must not pile up
            self._groups.clear()
        self._groups[key] = ("".join(self._parts[start[0]:]), self.count - start[1])

    def _with_composites(self, seg_id: str, elements: Sequence[str | Sequence[str]]) -> str:
        """The same fast join when the data is clean, composites joined part by part."""
        component, repetition, terminator = self._others
        values: list[str] = []
        for e in elements:
            if isinstance(e, str):
                if component in e:
                    return self._general(seg_id, elements)
                values.append(e)
            else:
                value = component.join(e)
                if value.count(component) != len(e) - 1:
                    return self._general(seg_id, elements)
                values.append(value.rstrip(component))
        sep = self._element
        body = sep.join(values)
        if body.count(sep) != len(values) - 1 or repetition in body or terminator in body:
            return self._general(seg_id, elements)
        return f"{seg_id}{sep}{body}".rstrip(sep) + terminator

    def _general(self, seg_id: str, elements: Sequence[str | Sequence[str]]) -> str:
        table = self._clean
        values = [e.translate(table) if isinstance(e, str) else self._composite(e)
                  for e in elements]
        while values and values[-1] == "":
            values.pop()
        return self._element.join((seg_id, *values)) + self._terminator

    def _composite(self, parts: str | Sequence[str]) -> str:
        table = self._clean
        cleaned = [p.translate(table) for p in parts]
        while cleaned and cleaned[-1] == "":
            cleaned.pop()
        return self.delimiters.component.join(cleaned)

    def raw(self, text: str) -> None:
        """Append text as it is (the fixed-width ISA)."""
        self._parts.append(text)

    def reset_count(self) -> None:
        """Start counting segments for a new transaction set."""
        self.count = 0

    def text(self) -> str:
        """Everything written so far."""
        return "".join(self._parts)

    def take(self) -> str:
        """Everything written so far, clearing the buffer (for streaming to disk)."""
        out = "".join(self._parts)
        self._parts.clear()
        return out


def interchange_header(*, sender_id: str, receiver_id: str, control_number: int,
                       created: datetime, production: bool, delimiters: Delimiters,
                       sender_qualifier: str = "ZZ", receiver_qualifier: str = "ZZ",
                       ack_requested: bool = False) -> str:
    """The fixed-width 106-character ISA segment, terminator included (X12.5, version 00501).

    Raises:
        ValueError: when a control number or id does not fit its fixed width.
    """
    if not 0 < control_number < 1_000_000_000:
        raise ValueError(f"ISA13 control number {control_number} must be 1..999999999")
    if len(sender_id) > 15 or len(receiver_id) > 15:
        raise ValueError("ISA06/ISA08 ids are at most 15 characters")
    d = delimiters
    elements = (
        "ISA", "00", " " * 10, "00", " " * 10,
        sender_qualifier.ljust(2), sender_id.ljust(15),
        receiver_qualifier.ljust(2), receiver_id.ljust(15),
        created.strftime("%y%m%d"), created.strftime("%H%M"),
        d.repetition, "00501", f"{control_number:09d}", "1" if ack_requested else "0",
        "P" if production else "T", d.component,
    )
    text = d.element.join(elements) + d.segment
    if len(text) != 106:
        raise ValueError(f"ISA is {len(text)} characters, not 106")
    return text


def write_group_header(writer: SegmentWriter, *, functional_id: str, sender_code: str,
                       receiver_code: str, control_number: int, created: datetime,
                       version: str) -> None:
    """Write a GS segment (X12.6): functional id ("HC" claims, "HP" remittances...), codes,
    CCYYMMDD date, HHMM time, group control number, "X" agency and the guide's version."""
    writer.segment("GS", functional_id, sender_code, receiver_code, created.strftime("%Y%m%d"),
                   created.strftime("%H%M"), str(control_number), "X", version)


def write_trailers(writer: SegmentWriter, *, group_control_number: int, transactions: int,
                   interchange_control_number: int) -> None:
    """Write GE (transaction-set count) and IEA (one functional group) trailers."""
    writer.segment("GE", str(transactions), str(group_control_number))
    writer.segment("IEA", "1", f"{interchange_control_number:09d}")


def open_interchange(*, sender_id: str, receiver_id: str, control_number: int,
                     created: datetime, delimiters: Delimiters, functional_id: str,
                     version: str, production: bool = False) -> SegmentWriter:
    """A writer holding an ISA and one GS whose group control number is the interchange's.

    The shape every single-group file rehabill writes shares (999 "FA", 277CA "HN", 835 "HP");
    close it with ``write_trailers`` after the transaction sets.
    """
    writer = SegmentWriter(delimiters)
    writer.raw(interchange_header(sender_id=sender_id, receiver_id=receiver_id,
                                  control_number=control_number, created=created,
                                  production=production, delimiters=delimiters))
    write_group_header(writer, functional_id=functional_id, sender_code=sender_id,
                       receiver_code=receiver_id, control_number=control_number,
                       created=created, version=version)
    return writer


# Compiled by mypyc, frozen values pickle through their constructor (a no-op otherwise).
_pickle_by_fields(__name__)
