"""999 Implementation Acknowledgment (005010X231A1): read and write.

A 999 answers one functional group (AK1 names its GS06) with one AK2 loop per transaction set
(AK2 names the 837's ST02). IK3 names a segment in error (by id and position in the set), IK4
an element in it, IK5 the set's verdict (A accepted, E accepted with errors, R/M/W/X
rejected) and AK9 the group's (A, E, P partially accepted, R/M/W/X rejected). The code lists
below are summarised in our own words from the 005010X231A1 guide.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from rehabill.domain.findings import Finding, Severity
from rehabill.domain.pickling import pickle_by_fields as _pickle_by_fields
from rehabill.errors import InputError
from rehabill.x12.envelope import (
    Transaction,
    open_interchange,
    split_transactions,
    write_trailers,
)
from rehabill.x12.status import AckOutcome, StatusUpdate
from rehabill.x12.tokens import Delimiters, Segment, tokenize

SEGMENT_ERRORS = {
    "1": "segment id not recognised", "2": "segment not expected here",
    "3": "a required segment is missing", "4": "a loop repeats too often",
    "5": "the segment repeats too often", "6": "segment not in the transaction set",
    "7": "segment out of order", "8": "the segment has element errors",
    "I4": "a segment the guide says not to use is present",
    "I6": "a segment the guide requires in this situation is missing",
    "I7": "a loop occurs fewer times than required",
    "I8": "a segment occurs fewer times than required",
    "I9": "a segment the guide says not to use in this situation is present",
}
ELEMENT_ERRORS = {
    "1": "required element missing", "2": "conditionally required element missing",
    "3": "too many elements", "4": "value too short", "5": "value too long",
    "6": "invalid character", "7": "invalid code value", "8": "invalid date",
    "9": "invalid time", "10": "element present when it must not be",
    "12": "too many repetitions", "13": "too many components",
    "I10": "element the guide says not to use is present",
    "I11": "too few repetitions", "I12": "value does not match the guide's pattern",
    "I13": "element the guide says not to use in this situation is present",
    "I6": "code value not used by this guide",
    "I9": "element the guide requires in this situation is missing",
}
OUTCOMES = {
    "A": AckOutcome.ACCEPTED, "E": AckOutcome.ACCEPTED_WITH_ERRORS,
    "P": AckOutcome.PARTIALLY_ACCEPTED, "R": AckOutcome.REJECTED, "M": AckOutcome.REJECTED,
    "W": AckOutcome.REJECTED, "X": AckOutcome.REJECTED,
}


@dataclass(frozen=True, slots=True)
class ElementError:
    """IK4: element position (IK401 components joined by ":"), element number, code, value."""

    position: str
    reference: str
    code: str
    bad_value: str = ""

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, position: str, reference: str, code: str, bad_value: str = "") -> None:
        object.__setattr__(self, "position", position)
        object.__setattr__(self, "reference", reference)
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "bad_value", bad_value)

    def describe(self) -> str:
        """One phrase, e.g. "element 03 (ref 1028): invalid code value ('ZZ')"."""
        text = ELEMENT_ERRORS.get(self.code, f"error {self.code}")
        where = f"element {self.position}" + (f" (ref {self.reference})" if self.reference else "")
        value = f" ({self.bad_value!r})" if self.bad_value else ""
        return f"{where}: {text}{value}"


@dataclass(frozen=True, slots=True)
class SegmentError:
    """IK3: segment id, its position in the set, loop id and code, with its IK4s."""

    segment_id: str
    position: str
    loop: str
    code: str
    elements: tuple[ElementError, ...] = ()

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, segment_id: str, position: str, loop: str, code: str,
                 elements: tuple[ElementError, ...] = ()) -> None:
        object.__setattr__(self, "segment_id", segment_id)
        object.__setattr__(self, "position", position)
        object.__setattr__(self, "loop", loop)
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "elements", elements)

    def describe(self) -> str:
        """One sentence naming the segment, its position and each element in error."""
        text = SEGMENT_ERRORS.get(self.code, f"error {self.code}")
        head = f"Segment {self.segment_id} at position {self.position}"
        head += f" (loop {self.loop})" if self.loop else ""
        details = "; ".join(e.describe() for e in self.elements)
        return f"{head}: {text}" + (f"; {details}" if details else "") + "."


@dataclass(frozen=True, slots=True)
class SetResponse:
    """AK2 loop: our transaction set (ST01, ST02, version), its errors and IK5 verdict."""

    set_id: str
    control_number: str
    version: str = ""
    status: str = "A"
    codes: tuple[str, ...] = ()
    errors: tuple[SegmentError, ...] = ()
    segment: int = field(default=0, compare=False)

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, set_id: str, control_number: str, version: str = "", status: str = "A",
                 codes: tuple[str, ...] = (), errors: tuple[SegmentError, ...] = (),
                 segment: int = 0) -> None:
        object.__setattr__(self, "set_id", set_id)
        object.__setattr__(self, "control_number", control_number)
        object.__setattr__(self, "version", version)
        object.__setattr__(self, "status", status)
        object.__setattr__(self, "codes", codes)
        object.__setattr__(self, "errors", errors)
        object.__setattr__(self, "segment", segment)

    @property
    def outcome(self) -> AckOutcome:
        """IK501 as an outcome (an unknown code counts as rejected)."""
        return OUTCOMES.get(self.status, AckOutcome.REJECTED)


@dataclass(frozen=True, slots=True)
class Ack999:
    """One 999 transaction: the group it answers, each set's verdict and the group's."""

    control_number: str
    group_code: str
    group_control_number: str
    group_version: str
    responses: tuple[SetResponse, ...]
    group_status: str
    included: int = 0
    received: int = 0
    accepted: int = 0
    group_codes: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = field(default=(), compare=False)

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, control_number: str, group_code: str, group_control_number: str,
                 group_version: str, responses: tuple[SetResponse, ...], group_status: str,
                 included: int = 0, received: int = 0, accepted: int = 0,
                 group_codes: tuple[str, ...] = (), findings: tuple[Finding, ...] = ()) -> None:
        object.__setattr__(self, "control_number", control_number)
        object.__setattr__(self, "group_code", group_code)
        object.__setattr__(self, "group_control_number", group_control_number)
        object.__setattr__(self, "group_version", group_version)
        object.__setattr__(self, "responses", responses)
        object.__setattr__(self, "group_status", group_status)
        object.__setattr__(self, "included", included)
        object.__setattr__(self, "received", received)
        object.__setattr__(self, "accepted", accepted)
        object.__setattr__(self, "group_codes", group_codes)
        object.__setattr__(self, "findings", findings)

    @property
    def kind(self) -> str:
        """Always "999"."""
        return "999"

    @property
    def outcome(self) -> AckOutcome:
        """AK901 as an outcome."""
        return OUTCOMES.get(self.group_status, AckOutcome.REJECTED)

    def status_updates(self) -> tuple[StatusUpdate, ...]:
        """One update per transaction set answered, with every error spelled out."""
        return tuple(
            StatusUpdate("999", r.outcome, self.group_control_number, r.control_number,
                         codes=tuple(e.code for e in r.errors) + r.codes,
                         reasons=tuple(e.describe() for e in r.errors), segment=r.segment)
            for r in self.responses)

    def as_json(self) -> dict[str, object]:
        """The DESIGN.md transaction JSON (kind "999")."""
        return {
            "kind": "999", "control_number": self.control_number,
            "findings": [f.as_dict() for f in self.findings],
            "group_control_number": self.group_control_number,
            "outcome": self.outcome.value,
            "counts": {"included": self.included, "received": self.received,
                       "accepted": self.accepted},
            "transactions": [
                {"control_number": r.control_number, "set_id": r.set_id,
                 "outcome": r.outcome.value, "codes": list(r.codes),
                 "errors": [{"segment_id": e.segment_id, "position": e.position,
                             "loop": e.loop, "code": e.code, "message": e.describe(),
                             "elements": [{"position": x.position, "reference": x.reference,
                                           "code": x.code, "bad_value": x.bad_value}
                                          for x in e.elements]}
                            for e in r.errors]}
                for r in self.responses],
            "status_updates": [u.as_json() for u in self.status_updates()],
        }


def _count(seg: Segment, position: int, findings: list[Finding], file: str) -> int:
    raw = seg.get(position)
    if raw.isascii() and raw.isdigit():
        return int(raw)
    if raw:
        findings.append(Finding("x12.999.bad_number", Severity.ERROR,
                                f"{seg.id}{position:02d} is {raw!r}, not a count.",
                                seg.location(file, position), "Ask the sender for a new 999."))
    return 0


def read_transaction(txn: Transaction, delimiters: Delimiters, file: str = "") -> Ack999:
    """Read one 999 transaction set.

    Args:
        txn: the ST..SE segments with their envelope.
        delimiters: the file's delimiters (for the IK401 composite).
        file: the file name for finding locations.

    Returns:
        The acknowledgment with structure findings (never raises).
    """
    findings: list[Finding] = []
    st = txn.segments[0]
    if st.get(1) != "999":
        findings.append(Finding("x12.999.not_999", Severity.ERROR,
                                f"ST01 is {st.get(1)!r}, not 999.", st.location(file, 1),
                                "Read this transaction with the reader for its own type."))
    ak1: Segment | None = None
    ak9: Segment | None = None
    responses: list[SetResponse] = []
    current: Segment | None = None
    errors: list[SegmentError] = []
    elements: list[ElementError] = []
    ik3: Segment | None = None

    def close_ik3() -> None:
        nonlocal ik3
        if ik3 is not None:
            errors.append(SegmentError(ik3.get(1), ik3.get(2), ik3.get(3), ik3.get(4),
                                       tuple(elements)))
        ik3 = None
        elements.clear()

    def close_ak2(ik5: Segment | None) -> None:
        nonlocal current
        close_ik3()
        if current is None:
            return
        ak2 = current
        status = ik5.get(1) if ik5 is not None else ""
        if ik5 is None:
            findings.append(Finding("x12.999.missing_ik5", Severity.ERROR,
                                    f"The response to set {ak2.get(2)} has no IK5 verdict.",
                                    ak2.location(file), "Treat the set as not acknowledged."))
        codes = tuple(c for c in (ik5.elements[1:6] if ik5 is not None else ()) if c)
        responses.append(SetResponse(ak2.get(1), ak2.get(2), ak2.get(3), status, codes,
                                     tuple(errors), ak2.number))
        errors.clear()
        current = None

    for seg in txn.body:
        sid = seg.id
        if sid == "AK1":
            ak1 = seg
        elif sid == "AK2":
            close_ak2(None)
            current = seg
        elif sid == "IK3":
            close_ik3()
            ik3 = seg
        elif sid == "IK4":
            if ik3 is None:
                findings.append(Finding("x12.999.misplaced_segment", Severity.WARNING,
                                        "IK4 without an IK3 before it.", seg.location(file),
                                        "The element error was skipped."))
            else:
                # IK401 is a composite (element:component:repeat); kept joined with ":".
                position = ":".join(seg.components(1, delimiters))
                elements.append(ElementError(position, seg.get(2), seg.get(3), seg.get(4)))
        elif sid == "IK5":
            close_ak2(seg)
        elif sid == "AK9":
            close_ak2(None)
            ak9 = seg
        elif sid != "CTX":
            findings.append(Finding("x12.999.unknown_segment", Severity.WARNING,
                                    f"Segment {sid!r} is not part of a 999.", seg.location(file),
                                    "The segment was skipped."))
    close_ak2(None)
    for name, found in (("AK1", ak1), ("AK9", ak9)):
        if found is None:
            findings.append(Finding(f"x12.999.missing_{name.lower()}", Severity.ERROR,
                                    f"The 999 has no {name} segment.", st.location(file),
                                    "Ask the sender for a complete 999."))
    nine = ak9 or Segment("AK9", (), 0)
    return Ack999(
        control_number=st.get(2), group_code=ak1.get(1) if ak1 else "",
        group_control_number=ak1.get(2) if ak1 else "",
        group_version=ak1.get(3) if ak1 else "", responses=tuple(responses),
        group_status=nine.get(1), included=_count(nine, 2, findings, file),
        received=_count(nine, 3, findings, file), accepted=_count(nine, 4, findings, file),
        group_codes=tuple(c for c in nine.elements[4:9] if c), findings=tuple(findings))


def read_text(text: str, file: str = "") -> tuple[list[Ack999], list[Finding]]:
    """Read every 999 in a file's text: the acknowledgments and the envelope findings.

    Raises:
        InputError: when the text has no usable ISA header.
    """
    delimiters, segments, findings = tokenize(text, file)
    if delimiters is None:
        raise InputError(findings[0].message if findings else "not an X12 file", location=file)
    acks = [read_transaction(t, delimiters, file)
            for t in split_transactions(segments, findings, file)]
    return acks, findings


def write_999(acks: Iterable[Ack999], *, sender_id: str, receiver_id: str,
              control_number: int = 1, created: datetime | None = None,
              delimiters: Delimiters | None = None) -> str:
    """One interchange with one FA group holding each acknowledgment as its own ST.

    Args:
        acks: the acknowledgments.
        sender_id: ISA06/GS02 (who acknowledges: the payer or clearinghouse).
        receiver_id: ISA08/GS03 (the submitter).
        control_number: ISA13/GS06.
        created: the interchange date/time (default 2026-01-01 00:00).
        delimiters: the delimiters (default ``* : ^ ~``).

    Returns:
        The file's text.
    """
    w = open_interchange(sender_id=sender_id, receiver_id=receiver_id,
                         control_number=control_number, created=created or datetime(2026, 1, 1),
                         delimiters=delimiters or Delimiters(), functional_id="FA",
                         version="005010X231A1")
    sets = 0
    for sets, ack in enumerate(acks, start=1):
        w.reset_count()
        st02 = ack.control_number or f"{sets:04d}"
        w.segment("ST", "999", st02, "005010X231A1")
        w.segment("AK1", ack.group_code, ack.group_control_number, ack.group_version)
        for r in ack.responses:
            w.segment("AK2", r.set_id, r.control_number, r.version)
            for e in r.errors:
                w.segment("IK3", e.segment_id, e.position, e.loop, e.code)
                for x in e.elements:
                    w.segment("IK4", tuple(x.position.split(":")), x.reference, x.code,
                              x.bad_value)
            w.segment("IK5", r.status, *r.codes)
        w.segment("AK9", ack.group_status, str(ack.included), str(ack.received),
                  str(ack.accepted), *ack.group_codes)
        w.segment("SE", str(w.count + 1), st02)
    write_trailers(w, group_control_number=control_number, transactions=sets,
                   interchange_control_number=control_number)
    return w.text()


# Compiled by mypyc, frozen values pickle through their constructor (a no-op otherwise).
_pickle_by_fields(__name__)
