"""A fast pass over a 277CA for what the books apply: each claim level's status update.

``scan_277ca`` reads a file of 277CA transaction sets into the ``StatusUpdate`` values that
``ack277.read_transaction(...).status_updates()`` gives, with the same findings (codes,
messages, locations, in the same order) as ``tokens.tokenize``, ``envelope.split_transactions``
and the reader, but without a ``Segment`` per segment or the service lines' values, which the
books do not keep: a month's 277CAs are tens of thousands of segments, most of them service
lines that repeat word for word. Service lines are still checked as the reader checks them
(their SVC02 amounts and STC composites), since a finding there refuses the file.
``tests/x12/test_ack277_scan.py`` holds the scan and the reader together, on mutated files too.
A file with any other transaction set (a 999) is left to the full readers (None).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from rehabill.domain.findings import Finding, Location, Severity
from rehabill.domain.pickling import pickle_by_fields as _pickle_by_fields
from rehabill.x12.ack277 import StatusCode, checked_amount
from rehabill.x12.envelope import ENVELOPE_IDS, EnvelopeChecker
from rehabill.x12.status import AckOutcome, StatusUpdate
from rehabill.x12.tokens import Delimiters, Segment, detect_delimiters

_STRIP = "\r\n\ufeff \t"  # what the tokenizer strips around a segment
_FIX = "Ask the payer for a corrected 277CA."
_SEEN_LIMIT = 20_000  # distinct segments remembered (bounded against adversarial input)
_SKIPPED = ("NM1", "BHT", "QTY", "AMT", "PER")  # nothing the books keep, never a finding


@dataclass(frozen=True, slots=True)
class UpdateScan:
    """What a file of 277CAs says: every claim level's update, the transaction sets' findings
    (in order, as the reader gives them), the envelope's, and how many sets were read."""

    updates: tuple[StatusUpdate, ...]
    findings: tuple[Finding, ...]
    envelope_findings: tuple[Finding, ...]
    transactions: int


class _Claim:
    __slots__ = ("claim_id", "date", "number", "payer_claim_number", "stcs")

    def __init__(self, number: int) -> None:
        self.number = number
        self.claim_id = self.payer_claim_number = self.date = ""
        self.stcs: list[str] = []


class _Set:
    """The open transaction set: its findings and updates, kept only once its SE is read."""

    def __init__(self, scan: _Scan) -> None:
        self.scan = scan
        self.findings: list[Finding] = []
        self.updates: list[StatusUpdate] = []
        self.level = ""
        self.claim: _Claim | None = None
        self.in_line = False

    def close_claim(self) -> None:
        claim = self.claim
        if claim is None:
            return
        self.claim = None
        self.in_line = False
        if not claim.claim_id:
            self.findings.append(Finding(
                "x12.277.missing_claim_id", Severity.ERROR,
                "A claim level has no TRN02 patient control number.",
                Location(file=self.scan.file, segment=claim.number, segment_id="HL"), _FIX))
        outcome, codes, reasons, charge = self.scan.claim_statuses(claim.stcs)
        self.updates.append(StatusUpdate(
            "277CA", outcome, claim_id=claim.claim_id, payer_claim_number=claim.payer_claim_number,
            codes=codes, reasons=reasons, segment=claim.number, charge=charge,
            service_date=claim.date))


_Summary = tuple[AckOutcome, tuple[str, ...], tuple[str, ...], Decimal | None]


class _Scan:
    """The file: its envelope, the open set, and what repeats (read once)."""

    def __init__(self, file: str, delimiters: Delimiters) -> None:
        self.file = file
        self.d = delimiters
        self.element = delimiters.element
        self.envelope: list[Finding] = []
        self.checker = EnvelopeChecker(self.envelope, file)
        self.set: _Set | None = None
        self.findings: list[Finding] = []
        self.updates: list[StatusUpdate] = []
        self.transactions = 0
        self.foreign = False  # a set that is not a 277: the full readers read the file
        self.stc_seen: dict[str, tuple[StatusCode, ...]] = {}
        self.svc_seen: set[str] = set()
        self.summaries: dict[tuple[str, ...], _Summary] = {}
        self.handlers: dict[str, Callable[[_Set, str, int], None]] = {
            "STC": self.stc, "REF": self.ref, "SVC": self.svc, "HL": self.hl, "TRN": self.trn,
            "DTP": self.dtp, "DTM": self.dtp, **dict.fromkeys(_SKIPPED, _skip)}

    # -- the reader's checks, on a Segment built only for a segment not seen before
    def segment(self, raw: str, number: int) -> Segment:
        parts = raw.split(self.element)
        return Segment(parts[0].strip(), tuple(parts[1:]), number)

    def find(self, findings: list[Finding], code: str, message: str, seg: Segment,
             element: int | None) -> None:
        findings.append(Finding(f"x12.277.{code}", Severity.ERROR, message,
                                seg.location(self.file, element), _FIX))

    def amount(self, findings: list[Finding], seg: Segment, position: int) -> Decimal | None:
        raw = seg.get(position)
        if not raw:
            return None
        value = checked_amount(raw)
        if value is None:
            self.find(findings, "bad_amount", f"{seg.id}{position:02d} is {raw!r}, not a number.",
                      seg, position)
        return value

    def statuses(self, findings: list[Finding], seg: Segment) -> tuple[StatusCode, ...]:
        out: list[StatusCode] = []
        for position in (1, 10, 11):
            parts = seg.components(position, self.d)
            if not parts:
                continue
            if len(parts) < 2 or not parts[0]:
                self.find(findings, "bad_status", f"STC{position:02d} is "
                          f"{seg.get(position)!r}; it needs a category and a status code.", seg,
                          position)
                continue
            out.append(StatusCode(parts[0], parts[1], parts[2] if len(parts) > 2 else "",
                                  seg.get(2), seg.get(3), self.amount(findings, seg, 4)))
        return tuple(out)

    def claim_statuses(self, stcs: list[str]) -> _Summary:
        """Outcome, codes, reasons and charge (the first STC04) of a claim level's STCs."""
        key = tuple(stcs)
        found = self.summaries.get(key)
        if found is None:
            statuses = [s for raw in stcs for s in self.stc_seen.get(raw) or self.statuses(
                [], self.segment(raw, 0))]
            outcomes = {s.outcome for s in statuses}
            outcome = next((o for o in (AckOutcome.REJECTED, AckOutcome.ACCEPTED,
                                        AckOutcome.PENDING) if o in outcomes),
                           AckOutcome.RECEIVED)
            found = (outcome, tuple(f"{s.category}:{s.code}" for s in statuses),
                     tuple(s.describe() for s in statuses),
                     next((s.amount for s in statuses if s.amount is not None), None))
            if len(self.summaries) < _SEEN_LIMIT:
                self.summaries[key] = found
        return found

    # -- body segments (``ack277._Reader.feed``)
    def stc(self, txn: _Set, raw: str, number: int) -> None:
        if raw not in self.stc_seen:
            findings = txn.findings
            before = len(findings)
            found = self.statuses(findings, self.segment(raw, number))
            if len(findings) == before and len(self.stc_seen) < _SEEN_LIMIT:
                self.stc_seen[raw] = found
        if not txn.in_line and txn.claim is not None:
            txn.claim.stcs.append(raw)

    def ref(self, txn: _Set, raw: str, number: int) -> None:
        if txn.in_line or txn.claim is None:
            return  # a line's REF*FJ: not kept
        parts = raw.split(self.element)
        if len(parts) > 1 and parts[1] == "1K":
            txn.claim.payer_claim_number = parts[2] if len(parts) > 2 else ""

    def svc(self, txn: _Set, raw: str, number: int) -> None:
        if txn.claim is None:
            return
        txn.in_line = True
        if raw not in self.svc_seen:
            findings = txn.findings
            before = len(findings)
            self.amount(findings, self.segment(raw, number), 2)
            if len(findings) == before and len(self.svc_seen) < _SEEN_LIMIT:
                self.svc_seen.add(raw)

    def hl(self, txn: _Set, raw: str, number: int) -> None:
        txn.close_claim()
        parts = raw.split(self.element)
        txn.level = parts[3] if len(parts) > 3 else ""
        if txn.level == "PT":
            txn.claim = _Claim(number)

    def trn(self, txn: _Set, raw: str, number: int) -> None:
        if txn.claim is not None and not txn.in_line:
            parts = raw.split(self.element)
            txn.claim.claim_id = parts[2] if len(parts) > 2 else ""

    def dtp(self, txn: _Set, raw: str, number: int) -> None:
        if txn.claim is None or txn.in_line:
            return  # a line's date: not kept
        parts = raw.split(self.element)
        if len(parts) > 1 and parts[1] == "472":
            txn.claim.date = (parts[3] if len(parts) > 3 else "") or \
                (parts[2] if len(parts) > 2 else "")

    def unknown(self, txn: _Set, sid: str, number: int) -> None:
        txn.findings.append(Finding("x12.277.unknown_segment", Severity.WARNING,
                                    f"Segment {sid!r} is not part of a 277CA.",
                                    Location(file=self.file, segment=number, segment_id=sid),
                                    "The segment was skipped."))

    # -- the envelope (``envelope.split_transactions``)
    def envelope_segment(self, seg: Segment) -> None:
        if not self.checker.envelope(seg):
            return
        if seg.id == "ST":
            if seg.get(1) != "277":
                self.foreign = True
            self.set = _Set(self)
            return
        txn, self.set = self.set, None  # an SE that closes the open set
        if txn is not None and self.checker.isa is not None and self.checker.gs is not None:
            txn.close_claim()
            self.findings.extend(txn.findings)
            self.updates.extend(txn.updates)
            self.transactions += 1


def _skip(txn: _Set, raw: str, number: int) -> None:
    """A body segment that carries nothing the books keep."""


def _exact_id(raw: str, element: str) -> str:
    """The segment's id as the tokenizer reads it: its first element, stripped."""
    return raw.split(element, 1)[0].strip()


def scan_277ca(text: str, file: str = "") -> UpdateScan | None:
    """Every claim level's status update in a file of 277CAs, as the reader gives them.

    Args:
        text: the file's text.
        file: the file name for finding locations.

    Returns:
        The updates with the sets' and the envelope's findings; None when the file has no
        usable ISA or holds a transaction set that is not a 277 (the full readers say what).
    """
    delimiters, _ = detect_delimiters(text, file)
    if delimiters is None:
        return None
    scan = _Scan(file, delimiters)
    checker, element, handlers = scan.checker, delimiters.element, scan.handlers
    number = body = 0
    last = ""
    txn = scan.set
    for raw in text.split(delimiters.segment):
        if not raw or raw[0] in _STRIP or raw[-1] in _STRIP:
            raw = raw.strip(_STRIP)
            if not raw:
                continue
        number += 1
        last = raw
        # Ids are two or three letters: sliced, not split (an id the slice gets wrong, with
        # white space or more letters, matches no handler and is read exactly below).
        sid = raw[:3] if raw[3:4] == element else raw[:2] if raw[2:3] == element else raw
        handler = handlers.get(sid)
        if handler is None:
            sid = _exact_id(raw, element)
            handler = handlers.get(sid)
        if txn is not None:  # inside a set: a handler's segment is never an envelope one
            if handler is not None:
                body += 1
                if handler is not _skip:
                    handler(txn, raw, number)
                continue
            if sid not in ENVELOPE_IDS:
                body += 1
                scan.unknown(txn, sid, number)
                continue
        checker.body += body
        body = 0
        scan.envelope_segment(scan.segment(raw, number))
        if scan.foreign:
            return None
        txn = scan.set
    checker.body += body
    return _finish(scan, text, delimiters, (last, number) if number else None)


def _finish(scan: _Scan, text: str, delimiters: Delimiters, last: tuple[str, int] | None
            ) -> UpdateScan:
    """The envelope's end (``EnvelopeChecker.finish``) and the tokenizer's check that the last
    segment is terminated (its finding comes first, as ``tokenize`` gives it)."""
    tail = scan.segment(*last) if last is not None else None
    scan.checker.finish(tail)
    first: list[Finding] = []
    trailing = "".join(c for c in "\r\n \t" if c != delimiters.segment)
    if tail is not None and not text.rstrip(trailing).endswith(delimiters.segment):
        first.append(Finding("x12.envelope.unterminated", Severity.WARNING,
                             f"The last segment ({tail.id}) has no segment terminator.",
                             tail.location(scan.file), "The file may be truncated; check IEA."))
    return UpdateScan(tuple(scan.updates), tuple(scan.findings),
                      (*first, *scan.envelope), scan.transactions)


# Compiled by mypyc, frozen values pickle through their constructor (a no-op otherwise).
_pickle_by_fields(__name__)
