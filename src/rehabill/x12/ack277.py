"""277CA Claim Acknowledgment (005010X214): read and write.

A 277CA is a hierarchy of HL levels: 20 the payer (information source), 21 us or our
clearinghouse (information receiver), 19 each billing provider and PT each claim. A claim level
carries our patient control number (TRN02, from CLM01), the payer's claim number (REF*1K) and
one or more STC statuses: STC01 is a composite category:status:entity (e.g. "A2:20:PR"), STC03
the action (WQ accept, U reject), STC04 the claim charge; STC10 and STC11 add more composites.
Category codes (the health care claim status category list): A0/A1 received or forwarded, A2
accepted into adjudication, A3 returned as unprocessable, A4 not found, A5 split, A6/A7/A8
rejected for missing, invalid or inconsistent information; P pending; E errors in the response.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from rehabill.domain.findings import Finding, Severity
from rehabill.domain.money import format_amount
from rehabill.domain.pickling import pickle_by_fields as _pickle_by_fields
from rehabill.errors import InputError
from rehabill.x12.envelope import (
    SegmentWriter,
    Transaction,
    open_interchange,
    split_transactions,
    write_trailers,
)
from rehabill.x12.remit835 import Procedure
from rehabill.x12.remit835_write import amount_text
from rehabill.x12.status import AckOutcome, StatusUpdate
from rehabill.x12.tokens import Delimiters, Segment, tokenize

CATEGORIES = {
    "A0": "forwarded to another entity", "A1": "received (not yet accepted)",
    "A2": "accepted into adjudication", "A3": "returned as unprocessable",
    "A4": "not found", "A5": "split into more than one claim",
    "A6": "rejected for missing information", "A7": "rejected for invalid information",
    "A8": "rejected for relational field error",
}
_REJECTED = frozenset({"A3", "A4", "A6", "A7", "A8"})
_ACCEPTED = frozenset({"A2", "A5"})


@dataclass(frozen=True, slots=True)
class StatusCode:
    """One STC composite: category, status code, entity, with STC02..STC04 of its segment."""

    category: str
    code: str
    entity: str = ""
    date: str = ""
    action: str = ""
    amount: Decimal | None = None

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, category: str, code: str, entity: str = "", date: str = "", action: str = "",
                 amount: Decimal | None = None) -> None:
        object.__setattr__(self, "category", category)
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "entity", entity)
        object.__setattr__(self, "date", date)
        object.__setattr__(self, "action", action)
        object.__setattr__(self, "amount", amount)

    @property
    def outcome(self) -> AckOutcome:
        """What the category means for the claim."""
        if self.category in _REJECTED:
            return AckOutcome.REJECTED
        if self.category in _ACCEPTED:
            return AckOutcome.ACCEPTED
        if self.category.startswith("P"):
            return AckOutcome.PENDING
        return AckOutcome.RECEIVED

    def describe(self) -> str:
        """E.g. "A7:21 (rejected for invalid information; status code 21)"."""
        meaning = CATEGORIES.get(self.category, "status category " + self.category)
        entity = f", entity {self.entity}" if self.entity else ""
        return f"{self.category}:{self.code} ({meaning}; status code {self.code}{entity})"


@dataclass(frozen=True, slots=True)
class LineAck:
    """A service line status (SVC, STC, REF*FJ line control number, DTP*472)."""

    procedure: Procedure
    charge: Decimal
    units: str = ""
    control_number: str = ""
    service_date: str = ""
    statuses: tuple[StatusCode, ...] = ()

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, procedure: Procedure, charge: Decimal, units: str = "",
                 control_number: str = "", service_date: str = "",
                 statuses: tuple[StatusCode, ...] = ()) -> None:
        object.__setattr__(self, "procedure", procedure)
        object.__setattr__(self, "charge", charge)
        object.__setattr__(self, "units", units)
        object.__setattr__(self, "control_number", control_number)
        object.__setattr__(self, "service_date", service_date)
        object.__setattr__(self, "statuses", statuses)


@dataclass(frozen=True, slots=True)
class ClaimAck:
    """A claim level (HL PT): who, our id (TRN02), the payer's (REF*1K), its statuses."""

    claim_id: str
    statuses: tuple[StatusCode, ...]
    payer_claim_number: str = ""
    patient_last: str = ""
    patient_first: str = ""
    member_id: str = ""
    provider_npi: str = ""
    service_date: str = ""
    lines: tuple[LineAck, ...] = ()
    segment: int = field(default=0, compare=False)
    # 2100C NM103, the billing provider's name: written, not read back (a claim is its
    # provider's by the NPI, NM109), so it stays out of equality like ``segment``.
    provider_name: str = field(default="", compare=False)

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, claim_id: str, statuses: tuple[StatusCode, ...],
                 payer_claim_number: str = "", patient_last: str = "", patient_first: str = "",
                 member_id: str = "", provider_npi: str = "", service_date: str = "",
                 lines: tuple[LineAck, ...] = (), segment: int = 0,
                 provider_name: str = "") -> None:
        object.__setattr__(self, "claim_id", claim_id)
        object.__setattr__(self, "statuses", statuses)
        object.__setattr__(self, "payer_claim_number", payer_claim_number)
        object.__setattr__(self, "patient_last", patient_last)
        object.__setattr__(self, "patient_first", patient_first)
        object.__setattr__(self, "member_id", member_id)
        object.__setattr__(self, "provider_npi", provider_npi)
        object.__setattr__(self, "service_date", service_date)
        object.__setattr__(self, "lines", lines)
        object.__setattr__(self, "segment", segment)
        object.__setattr__(self, "provider_name", provider_name)

    @property
    def charge(self) -> Decimal | None:
        """The claim's total charge: the first STC04 of the claim level (None when absent)."""
        return next((s.amount for s in self.statuses if s.amount is not None), None)

    @property
    def outcome(self) -> AckOutcome:
        """Rejected when any status rejects, else accepted when any accepts, else received."""
        outcomes = {s.outcome for s in self.statuses}
        for outcome in (AckOutcome.REJECTED, AckOutcome.ACCEPTED, AckOutcome.PENDING):
            if outcome in outcomes:
                return outcome
        return AckOutcome.RECEIVED


@dataclass(frozen=True, slots=True)
class Ack277:
    """One 277CA transaction: the payer, the receiver, and every claim's status."""

    control_number: str
    reference: str
    created: str
    payer_name: str
    payer_id: str
    receiver_name: str
    receiver_id: str
    receiver_statuses: tuple[StatusCode, ...] = ()
    claims: tuple[ClaimAck, ...] = ()
    findings: tuple[Finding, ...] = field(default=(), compare=False)

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, control_number: str, reference: str, created: str, payer_name: str,
                 payer_id: str, receiver_name: str, receiver_id: str,
                 receiver_statuses: tuple[StatusCode, ...] = (), claims: tuple[ClaimAck, ...] = (),
                 findings: tuple[Finding, ...] = ()) -> None:
        object.__setattr__(self, "control_number", control_number)
        object.__setattr__(self, "reference", reference)
        object.__setattr__(self, "created", created)
        object.__setattr__(self, "payer_name", payer_name)
        object.__setattr__(self, "payer_id", payer_id)
        object.__setattr__(self, "receiver_name", receiver_name)
        object.__setattr__(self, "receiver_id", receiver_id)
        object.__setattr__(self, "receiver_statuses", receiver_statuses)
        object.__setattr__(self, "claims", claims)
        object.__setattr__(self, "findings", findings)

    @property
    def kind(self) -> str:
        """Always "277CA"."""
        return "277CA"

    def status_updates(self) -> tuple[StatusUpdate, ...]:
        """One update per claim, naming each STC in plain words."""
        return tuple(
            StatusUpdate("277CA", c.outcome, claim_id=c.claim_id,
                         payer_claim_number=c.payer_claim_number,
                         codes=tuple(f"{s.category}:{s.code}" for s in c.statuses),
                         reasons=tuple(s.describe() for s in c.statuses), segment=c.segment,
                         charge=c.charge, service_date=c.service_date)
            for c in self.claims)

    def as_json(self) -> dict[str, object]:
        """The DESIGN.md transaction JSON (kind "277CA")."""
        return {
            "kind": "277CA", "control_number": self.control_number,
            "findings": [f.as_dict() for f in self.findings],
            "payer": self.payer_name, "reference": self.reference,
            "claims": [
                {"claim_id": c.claim_id, "payer_claim_number": c.payer_claim_number,
                 "outcome": c.outcome.value,
                 "statuses": [{"category": s.category, "code": s.code, "entity": s.entity,
                               "action": s.action, "message": s.describe(),
                               "amount": format_amount(s.amount) if s.amount is not None
                               else None} for s in c.statuses],
                 "lines": [{"code": x.procedure.code, "control_number": x.control_number,
                            "statuses": [f"{s.category}:{s.code}" for s in x.statuses]}
                           for x in c.lines]}
                for c in self.claims],
            "status_updates": [u.as_json() for u in self.status_updates()],
        }


class _LineBuilder:
    __slots__ = ("charge", "control_number", "procedure", "service_date", "statuses", "units")

    def __init__(self, procedure: Procedure, charge: Decimal, units: str) -> None:
        self.procedure, self.charge, self.units = procedure, charge, units
        self.control_number = self.service_date = ""
        self.statuses: list[StatusCode] = []

    def build(self) -> LineAck:
        return LineAck(self.procedure, self.charge, self.units, self.control_number,
                       self.service_date, tuple(self.statuses))


class _ClaimBuilder:
    __slots__ = ("claim_id", "lines", "member_id", "patient_first", "patient_last",
                 "payer_claim_number", "provider_npi", "segment", "service_date", "statuses")

    def __init__(self, provider_npi: str, segment: int) -> None:
        self.provider_npi, self.segment = provider_npi, segment
        self.claim_id = self.payer_claim_number = self.service_date = ""
        self.patient_last = self.patient_first = self.member_id = ""
        self.statuses: list[StatusCode] = []
        self.lines: list[LineAck] = []

    def build(self) -> ClaimAck:
        return ClaimAck(self.claim_id, tuple(self.statuses), self.payer_claim_number,
                        self.patient_last, self.patient_first, self.member_id,
                        self.provider_npi, self.service_date, tuple(self.lines), self.segment)


_SEEN_LIMIT = 20_000  # distinct segments remembered (bounded against adversarial input)


class _Reader:
    """Walks the HL levels of one 277CA."""

    def __init__(self, delimiters: Delimiters, file: str) -> None:
        self.d = delimiters
        self.file = file
        self.findings: list[Finding] = []
        self.level = ""
        self.head: dict[str, str] = {}
        self.receiver_statuses: list[StatusCode] = []
        self.provider_npi = ""
        self.claims: list[ClaimAck] = []
        self.claim: _ClaimBuilder | None = None
        self.line: _LineBuilder | None = None
        # STC and SVC segments repeat word for word (every line accepted alike); what they
        # read to is immutable, so each distinct one is read once (only when it was clean).
        self.stc_seen: dict[tuple[str, ...], tuple[StatusCode, ...]] = {}
        self.svc_seen: dict[str, Procedure] = {}

    def find(self, code: str, message: str, seg: Segment, element: int | None) -> None:
        self.findings.append(Finding(f"x12.277.{code}", Severity.ERROR, message,
                                     seg.location(self.file, element),
                                     "Ask the payer for a corrected 277CA."))

    def amount(self, seg: Segment, position: int) -> Decimal | None:
        raw = seg.get(position)
        if not raw:
            return None
        value = checked_amount(raw)
        if value is None:
            self.find("bad_amount", f"{seg.id}{position:02d} is {raw!r}, not a number.", seg,
                      position)
        return value

    def statuses(self, seg: Segment) -> list[StatusCode]:
        out: list[StatusCode] = []
        for position in (1, 10, 11):
            parts = seg.components(position, self.d)
            if not parts:
                continue
            if len(parts) < 2 or not parts[0]:
                self.find("bad_status", f"STC{position:02d} is {seg.get(position)!r}; it needs "
                          "a category and a status code.", seg, position)
                continue
            out.append(StatusCode(parts[0], parts[1], parts[2] if len(parts) > 2 else "",
                                  seg.get(2), seg.get(3), self.amount(seg, 4)))
        return out

    def close_line(self) -> None:
        if self.line is not None and self.claim is not None:
            self.claim.lines.append(self.line.build())
        self.line = None

    def close_claim(self) -> None:
        self.close_line()
        if self.claim is not None:
            claim = self.claim.build()
            if not claim.claim_id:
                self.find("missing_claim_id", "A claim level has no TRN02 patient control "
                          "number.", Segment("HL", (), claim.segment), None)
            self.claims.append(claim)
        self.claim = None

    def feed(self, seg: Segment) -> None:
        sid = seg.id
        # the most frequent segments first (every service line has SVC, STC and REF)
        if sid == "STC":
            self.stc(seg)
        elif sid == "REF":
            qualifier = seg.get(1)
            if self.line is not None and qualifier == "FJ":
                self.line.control_number = seg.get(2)
            elif self.line is None and self.claim is not None and qualifier == "1K":
                self.claim.payer_claim_number = seg.get(2)
        elif sid == "SVC":
            if self.claim is not None:
                self.svc(seg)
        elif sid == "HL":
            self.close_claim()
            self.level = seg.get(3)
            if self.level == "PT":
                self.claim = _ClaimBuilder(self.provider_npi, seg.number)
        elif sid == "NM1":
            self.nm1(seg)
        elif sid == "TRN":
            if self.claim is not None and self.line is None:
                self.claim.claim_id = seg.get(2)
        elif sid in ("DTP", "DTM"):  # 005010X214 sends DTP*472; older writers DTM*472
            if seg.get(1) == "472":
                target = self.line or self.claim
                if target is not None:
                    target.service_date = seg.get(3) or seg.get(2)
        elif sid == "BHT":
            self.head["reference"], self.head["created"] = seg.get(3), seg.get(4)
        elif sid not in ("QTY", "AMT", "PER"):
            self.findings.append(Finding("x12.277.unknown_segment", Severity.WARNING,
                                         f"Segment {sid!r} is not part of a 277CA.",
                                         seg.location(self.file), "The segment was skipped."))

    def svc(self, seg: Segment) -> None:
        self.close_line()
        composite = seg.get(1)
        procedure = self.svc_seen.get(composite)
        if procedure is None:
            parts = (*seg.components(1, self.d), "", "")
            procedure = Procedure(parts[0], parts[1], tuple(m for m in parts[2:6] if m))
            if len(self.svc_seen) < _SEEN_LIMIT:
                self.svc_seen[composite] = procedure
        self.line = _LineBuilder(procedure, self.amount(seg, 2) or Decimal(0), seg.get(7))

    def stc(self, seg: Segment) -> None:
        found = self.stc_seen.get(seg.elements)
        if found is None:
            before = len(self.findings)
            found = tuple(self.statuses(seg))
            if len(self.findings) == before and len(self.stc_seen) < _SEEN_LIMIT:
                self.stc_seen[seg.elements] = found
        if self.line is not None:
            self.line.statuses.extend(found)
        elif self.claim is not None:
            self.claim.statuses.extend(found)
        elif self.level == "21":
            self.receiver_statuses.extend(found)

    def nm1(self, seg: Segment) -> None:
        entity = seg.get(1)
        if entity == "PR":
            self.head["payer_name"], self.head["payer_id"] = seg.get(3), seg.get(9)
        elif entity == "41":
            self.head["receiver_name"], self.head["receiver_id"] = seg.get(3), seg.get(9)
        elif entity == "85":
            self.provider_npi = seg.get(9)
        elif entity == "QC" and self.claim is not None:
            self.claim.patient_last, self.claim.patient_first = seg.get(3), seg.get(4)
            self.claim.member_id = seg.get(9)


def read_transaction(txn: Transaction, delimiters: Delimiters, file: str = "") -> Ack277:
    """Read one 277CA transaction set.

    Args:
        txn: the ST..SE segments with their envelope.
        delimiters: the file's delimiters (for the STC composites).
        file: the file name for finding locations.

    Returns:
        The acknowledgment with structure findings (never raises).
    """
    reader = _Reader(delimiters, file)
    st = txn.segments[0]
    if st.get(1) != "277":
        reader.find("not_277", f"ST01 is {st.get(1)!r}, not 277.", st, 1)
    for seg in txn.body:
        reader.feed(seg)
    reader.close_claim()
    h = reader.head
    return Ack277(st.get(2), h.get("reference", ""), h.get("created", ""),
                  h.get("payer_name", ""), h.get("payer_id", ""), h.get("receiver_name", ""),
                  h.get("receiver_id", ""), tuple(reader.receiver_statuses),
                  tuple(reader.claims), tuple(reader.findings))


def read_text(text: str, file: str = "") -> tuple[list[Ack277], list[Finding]]:
    """Read every 277CA in a file's text: the acknowledgments and the envelope findings.

    Raises:
        InputError: when the text has no usable ISA header.
    """
    delimiters, segments, findings = tokenize(text, file)
    if delimiters is None:
        raise InputError(findings[0].message if findings else "not an X12 file", location=file)
    acks = [read_transaction(t, delimiters, file)
            for t in split_transactions(segments, findings, file)]
    return acks, findings


def checked_amount(raw: str) -> Decimal | None:
    """An X12 amount (R: at most 18 characters, no exponent) as a finite ``Decimal``, or None
    when ``raw`` is not one (the readers report it as ``x12.277.bad_amount``)."""
    try:
        value = Decimal(raw) if len(raw) <= 18 and "E" not in raw.upper() else None
    except (InvalidOperation, ValueError):
        return None
    return value if value is not None and value.is_finite() else None


def _stc(w: SegmentWriter, statuses: Iterable[StatusCode], *, amount: bool = True) -> None:
    """STC01 (with STC10/STC11 not written: one composite a segment), STC02 the date, STC03
    the action, STC04 the charge; ``amount=False`` leaves STC04 out, as loop 2220D asks (its
    STC04 is not used: the line's charge is the SVC02)."""
    for s in statuses:
        w.repeated("STC", (s.category, s.code, s.entity), s.date, s.action,
                   amount_text(s.amount) if amount else "")


def write_277ca(acks: Iterable[Ack277], *, sender_id: str, receiver_id: str,
                control_number: int = 1, created: datetime | None = None,
                delimiters: Delimiters | None = None) -> str:
    """One interchange with one HN group holding each 277CA as its own ST.

    Args:
        acks: the acknowledgments (claims grouped under their ``provider_npi`` in order).
        sender_id: ISA06/GS02 (the payer or clearinghouse).
        receiver_id: ISA08/GS03 (the submitter).
        control_number: ISA13/GS06.
        created: the interchange date/time (default 2026-01-01 00:00); its time is each
            transaction's BHT05 too (BHT04 is the ack's ``created`` date).
        delimiters: the delimiters (default ``* : ^ ~``).

    Returns:
        The file's text.
    """
    created = created or datetime(2026, 1, 1)
    w = open_interchange(sender_id=sender_id, receiver_id=receiver_id,
                         control_number=control_number, created=created,
                         delimiters=delimiters or Delimiters(), functional_id="HN",
                         version="005010X214")
    sets = 0
    for sets, ack in enumerate(acks, start=1):
        _transaction(w, ack, ack.control_number or f"{sets:04d}", f"{created:%H%M}")
    write_trailers(w, group_control_number=control_number, transactions=sets,
                   interchange_control_number=control_number)
    return w.text()


def _transaction(w: SegmentWriter, ack: Ack277, st02: str, time: str) -> None:
    """One 277CA as 005010X214 lays it out: BHT (BHT05 the time is required); 2000A the payer
    with its 2200A TRN and the batch's receipt (DTP*050) and process (DTP*009) dates, both
    required (the ack's ``created`` day: the payer acknowledges a batch the day it receives
    and processes it); 2000B us; 2000C each billing provider; 2000D each claim."""
    w.reset_count()
    w.segment("ST", "277", st02, "005010X214")
    w.segment("BHT", "0085", "08", ack.reference, ack.created, time, "TH")
    w.segment("HL", "1", "", "20", "1")
    w.segment("NM1", "PR", "2", ack.payer_name, "", "", "", "", "PI", ack.payer_id)
    w.segment("TRN", "1", ack.reference)
    w.segment("DTP", "050", "D8", ack.created)
    w.segment("DTP", "009", "D8", ack.created)
    w.segment("HL", "2", "1", "21", "1")
    w.segment("NM1", "41", "2", ack.receiver_name, "", "", "", "", "46", ack.receiver_id)
    w.segment("TRN", "2", ack.reference)
    _stc(w, ack.receiver_statuses)
    accepted = sum(1 for c in ack.claims if c.outcome is not AckOutcome.REJECTED)
    w.segment("QTY", "90", str(accepted))
    w.segment("QTY", "AA", str(len(ack.claims) - accepted))
    number = 2
    claims = ack.claims
    start = 0
    while start < len(claims):
        npi = claims[start].provider_npi
        end = start + 1
        while end < len(claims) and claims[end].provider_npi == npi:
            end += 1
        number = _provider(w, ack.reference, claims[start:end], number)
        start = end
    w.segment("SE", str(w.count + 1), st02)


def _provider(w: SegmentWriter, reference: str, claims: Sequence[ClaimAck], number: int
              ) -> int:
    """Loop 2000C for one billing provider's run of claims, then each claim's 2000D; returns
    the last HL number used.

    2100C names the provider (NM103 required, NM109 the NPI); 2200C, required, traces it
    (TRN*1, TRN02 the batch's BHT03 as X12 RFI 960 recommends) and says the payer received
    its claims (STC A1:19 "entity acknowledges receipt", entity 85 the billing provider;
    STC02 not used, STC04 the total of the claims' charges)."""
    number += 1
    provider_hl = str(number)
    first = claims[0]
    w.segment("HL", provider_hl, "2", "19", "1")
    w.segment("NM1", "85", "2", first.provider_name, "", "", "", "", "XX", first.provider_npi)
    w.segment("TRN", "1", reference)
    total = sum((c.charge or Decimal(0) for c in claims), Decimal(0))
    w.segment("STC", ("A1", "19", "85"), "", "WQ", amount_text(total))
    for claim in claims:
        number += 1
        _claim(w, claim, str(number), provider_hl)
    return number


def _claim(w: SegmentWriter, claim: ClaimAck, hl: str, provider_hl: str) -> None:
    """Loop 2000D: the patient, the claim's TRN02 and statuses, REF*1K, DTP*472, and its
    2220D service lines; a line's STC (STC03 "U": the loop reports rejected lines) has no
    STC04."""
    w.segment("HL", hl, provider_hl, "PT")
    w.segment("NM1", "QC", "1", claim.patient_last, claim.patient_first, "", "", "", "MI",
              claim.member_id)
    w.segment("TRN", "2", claim.claim_id)
    _stc(w, claim.statuses)
    if claim.payer_claim_number:
        w.segment("REF", "1K", claim.payer_claim_number)
    if claim.service_date:
        w.repeated("DTP", "472", "RD8", claim.service_date)
    for line in claim.lines:
        w.repeated("SVC", line.procedure.parts()[:6], amount_text(line.charge), "", "", "",
                   "", line.units)
        _stc(w, line.statuses, amount=False)
        if line.control_number:
            w.segment("REF", "FJ", line.control_number)
        if line.service_date:
            w.repeated("DTP", "472", "RD8", line.service_date)


# Compiled by mypyc, frozen values pickle through their constructor (a no-op otherwise).
_pickle_by_fields(__name__)
