"""A fast balance-only pass over an 835: "does this file balance?" in half the reader's time.

``scan_835`` checks the envelope, the amounts and the three balancing rules without building
claim objects. It reports the same balancing findings, with the same codes and locations, as
the full reader (``tests/x12/test_remit835_scan.py`` holds the two together); structure
problems beyond amounts (unknown segments, bad status or group codes, misplaced loops) are the
full reader's job, so posting (``rehabill.ledger.post_era``) validates with the full reader.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from rehabill.domain.findings import Finding, Location, Severity
from rehabill.domain.money import ZERO
from rehabill.domain.pickling import pickle_by_fields as _pickle_by_fields
from rehabill.errors import InputError
from rehabill.x12 import balance835
from rehabill.x12.envelope import ENVELOPE_IDS, EnvelopeChecker
from rehabill.x12.remit835 import split_pieces, too_long_finding
from rehabill.x12.tokens import Segment, detect_delimiters

_STRIP = "\r\n\ufeff \t"
_DIGITS = frozenset("0123456789")


def _skip(raw: str, number: int) -> None:
    """A body segment that carries no amount."""


@dataclass(frozen=True, slots=True)
class PaymentScan:
    """One transaction's totals and balancing findings."""

    control_number: str
    trace_number: str
    payer_id: str
    amount: Decimal
    claims: int
    paid: Decimal
    provider_adjustments: Decimal
    findings: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class ScanResult:
    """Every payment's scan, and the file's envelope findings."""

    payments: tuple[PaymentScan, ...]
    envelope_findings: tuple[Finding, ...] = field(default=())

    @property
    def has_errors(self) -> bool:
        """True when anything would stop posting."""
        return any(f.is_error for f in self.envelope_findings) or any(
            f.is_error for p in self.payments for f in p.findings)


class _Line:
    __slots__ = ("adjusted", "charge", "code", "number", "paid")

    def __init__(self, number: int, code: str, charge: Decimal, paid: Decimal) -> None:
        self.number, self.code, self.charge, self.paid = number, code, charge, paid
        self.adjusted = ZERO


class _Claim:
    __slots__ = ("adjusted", "charge", "claim_id", "number", "paid", "patient",
                 "responsibility")

    def __init__(self, number: int, claim_id: str, charge: Decimal, paid: Decimal,
                 responsibility: Decimal | None) -> None:
        self.number, self.claim_id, self.charge, self.paid = number, claim_id, charge, paid
        self.responsibility = responsibility
        self.adjusted = ZERO
        self.patient = ZERO


class _Scan:
    """Running totals of the open transaction."""

    def __init__(self, file: str, st: Segment, amounts: dict[str, Decimal],
                 cas_totals: dict[str, tuple[bool, Decimal]], element: str,
                 component: str) -> None:
        self.file = file
        self.cas_totals = cas_totals
        self.element = element
        self.component = component
        self.handlers: dict[str, Callable[[str, int], None] | None] = {
            "CAS": self.cas, "SVC": self.svc, "CLP": self.clp, "PLB": self.plb, "LX": self.lx,
            "BPR": self.bpr, "TRN": self.trn,
            **dict.fromkeys(ENVELOPE_IDS, None)}
        self.st = st
        self.findings: list[Finding] = []
        self.amount: Decimal | None = None
        self.bpr_number = 0
        self.credit = True
        self.trace = ""
        self.payer_id = ""
        self.has_trace = False
        self.claims = 0
        self.paid = ZERO
        self.plb_total = ZERO
        self.amounts = amounts
        self.claim: _Claim | None = None
        self.line: _Line | None = None

    def find(self, code: str, message: str, sid: str, number: int, element: int | None,
             fix: str, severity: Severity = Severity.ERROR) -> None:
        name = f"{sid}{element:02d}" if element is not None else ""
        self.findings.append(Finding(f"x12.835.{code}", severity, message, Location(
            file=self.file, segment=number, segment_id=sid, element=name), fix))

    def amount_of(self, p: list[str], number: int, position: int, required: bool = True
                  ) -> Decimal | None:
        raw = p[position] if position < len(p) else ""
        value = self.amounts.get(raw)
        if value is not None:
            return value
        if not raw:
            if required:
                self.find("missing_element", f"{p[0]}{position:02d} is required but empty.",
                          p[0], number, position, "Ask the payer for a corrected 835.")
                return ZERO
            return None
        if len(raw) <= 18 and raw[-1] in _DIGITS and "E" not in raw and "e" not in raw:
            try:
                value = Decimal(raw)
            except (InvalidOperation, ValueError):
                value = None
        if value is None:
            self.find("bad_amount", f"{p[0]}{position:02d} is {raw!r}, not a number.", p[0],
                      number, position, "Ask the payer for a corrected 835.")
            return ZERO if required else None
        if len(self.amounts) < 20_000:
            self.amounts[raw] = value
        return value

    def cas(self, raw: str, number: int) -> None:
        line, claim = self.line, self.claim
        if line is None and claim is None:
            return
        cached = self.cas_totals.get(raw)
        if cached is None:
            p = raw.split(self.element)
            before = len(self.findings)
            total = ZERO
            for position in (3, 6, 9, 12, 15, 18):
                if position - 1 < len(p) and p[position - 1]:
                    total += self.amount_of(p, number, position) or ZERO
            cached = (len(p) > 1 and p[1] == "PR", total)
            if len(self.findings) == before and len(self.cas_totals) < 20_000:
                self.cas_totals[raw] = cached
        is_pr, total = cached
        if line is not None:
            line.adjusted += total
        if claim is not None:
            claim.adjusted += total
            if is_pr:
                claim.patient += total

    def close_line(self) -> None:
        line = self.line
        if line is None:
            return
        self.line = None
        if line.charge - line.paid != line.adjusted:
            self.findings.append(balance835.line_unbalanced(
                self.file, line.number, line.code, line.charge, line.paid, line.adjusted))

    def close_claim(self) -> None:
        self.close_line()
        claim = self.claim
        if claim is None:
            return
        self.claim = None
        if claim.charge - claim.paid != claim.adjusted:
            self.findings.append(balance835.claim_unbalanced(
                self.file, claim.number, claim.claim_id, claim.charge, claim.paid,
                claim.adjusted))
        if claim.responsibility is not None and claim.patient != claim.responsibility:
            self.findings.append(balance835.patient_responsibility_mismatch(
                self.file, claim.number, claim.claim_id, claim.responsibility, claim.patient))
        self.claims += 1
        self.paid += claim.paid

    def svc(self, raw: str, number: int) -> None:
        if self.claim is None:
            return
        self.close_line()
        p = raw.split(self.element)
        code = p[1].split(self.component)[1:2] if len(p) > 1 else []
        self.line = _Line(number, code[0] if code else "", self.amount_of(p, number, 2) or ZERO,
                          self.amount_of(p, number, 3) or ZERO)

    def clp(self, raw: str, number: int) -> None:
        self.close_claim()
        p = raw.split(self.element)
        self.claim = _Claim(number, p[1] if len(p) > 1 else "",
                            self.amount_of(p, number, 3) or ZERO,
                            self.amount_of(p, number, 4) or ZERO,
                            self.amount_of(p, number, 5, False))

    def plb(self, raw: str, number: int) -> None:
        self.close_claim()
        p = raw.split(self.element)
        for position in range(4, 15, 2):
            if position - 1 < len(p) and p[position - 1]:
                self.plb_total += self.amount_of(p, number, position) or ZERO

    def lx(self, raw: str, number: int) -> None:
        self.close_claim()

    def bpr(self, raw: str, number: int) -> None:
        p = raw.split(self.element)
        self.amount = self.amount_of(p, number, 2) or ZERO
        self.credit = (p[3] if len(p) > 3 else "") != "D"
        self.bpr_number = number

    def trn(self, raw: str, number: int) -> None:
        p = raw.split(self.element)
        self.has_trace = True
        self.trace = p[2] if len(p) > 2 else ""
        self.payer_id = p[3] if len(p) > 3 else ""

    def finish(self) -> PaymentScan:
        self.close_claim()
        number = self.st.number
        if self.amount is None:
            self.find("missing_bpr", "The transaction has no BPR payment segment.", "ST",
                      number, None,
                      "The payment amount is unknown; ask the payer for a corrected 835.")
        if not self.has_trace:
            self.find("missing_trn", "The transaction has no TRN trace number.", "ST", number,
                      None, "The check/EFT number is unknown; ask the payer for a corrected 835.")
        expected = self.paid - self.plb_total
        if self.amount is not None:
            signed = self.amount if self.credit else -self.amount
            if signed != expected:
                self.findings.append(balance835.payment_unbalanced(
                    self.file, self.bpr_number, self.amount, self.paid, self.plb_total))
        return PaymentScan(self.st.get(2), self.trace, self.payer_id, self.amount or ZERO,
                           self.claims,
                           self.paid, self.plb_total, tuple(self.findings))


def scan_835(chunks: Iterable[str], file: str = "") -> ScanResult:
    """Check an 835's envelope and balancing without building claims.

    Args:
        chunks: the file's text in pieces of any size.
        file: the file name for finding locations.

    Returns:
        The per-payment totals and findings, and the envelope findings.

    Raises:
        InputError: when the file has no usable ISA header.
    """
    stream = iter(chunks)
    head = ""
    for chunk in stream:
        head += chunk
        if len(head.lstrip(_STRIP)) >= 106:
            break
    delimiters, problems = detect_delimiters(head, file)
    if delimiters is None:
        raise InputError(problems[0].message if problems else "not an X12 file", location=file)
    state = _State(file, delimiters.element, delimiters.component)
    for pieces in split_pieces(itertools.chain((head,), stream), delimiters.segment):
        if pieces is None:
            too_long_finding(state.checker, state.number + 1)
        else:
            state.run(pieces)
    return state.close()


class _State:
    """The envelope, the open transaction and the finished ones."""

    def __init__(self, file: str, element: str, component: str) -> None:
        self.file = file
        self.element = element
        self.component = component
        self.envelope: list[Finding] = []
        self.checker = EnvelopeChecker(self.envelope, file)
        self.payments: list[PaymentScan] = []
        self.amounts: dict[str, Decimal] = {}
        self.cas_totals: dict[str, tuple[bool, Decimal]] = {}
        self.scan: _Scan | None = None
        self.number = 0
        self.last: Segment | None = None

    def run(self, pieces: list[str]) -> None:
        checker, element, component = self.checker, self.element, self.component
        scan = self.scan
        number = self.number
        body = 0
        handlers = scan.handlers if scan is not None else {}
        # Inside a set, an unlisted id is a body segment with nothing to add (``_skip``);
        # outside one, everything goes through the envelope checker (None).
        default = _skip if scan is not None else None
        for raw in pieces:
            if not raw or raw[0] in _STRIP or raw[-1] in _STRIP:
                raw = raw.strip(_STRIP)
                if not raw:
                    continue
            number += 1
            # Segment ids are two or three characters: slice rather than split, and split
            # only the segments that carry amounts.
            sid = raw[:3]
            if sid[-1:] == element:
                sid = sid[:2]
            elif raw[3:4] not in ("", element):
                sid = raw.partition(element)[0]  # not an X12 id; the reader calls it unknown
            handler = handlers.get(sid, default)
            if handler is not None:
                body += 1
                if handler is not _skip:
                    handler(raw, number)
                continue
            checker.body += body
            body = 0
            p = raw.split(element)
            seg = Segment(p[0].strip(), tuple(p[1:]), number)
            self.last = seg
            if checker.envelope(seg):
                if scan is not None:
                    self.payments.append(scan.finish())
                scan = (_Scan(self.file, seg, self.amounts, self.cas_totals, element,
                              component) if seg.id == "ST" else None)
                handlers = scan.handlers if scan is not None else {}
                default = _skip if scan is not None else None
        checker.body += body
        self.scan = scan
        self.number = number

    def close(self) -> ScanResult:
        if self.scan is not None:
            self.payments.append(self.scan.finish())
        self.checker.finish(self.last)
        return ScanResult(tuple(self.payments), tuple(self.envelope))


# Compiled by mypyc, frozen values pickle through their constructor (a no-op otherwise).
_pickle_by_fields(__name__)
