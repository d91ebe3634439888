"""835 Health Care Claim Payment/Advice (005010X221A1): model, reader, balancing.

Each ST..SE is one payment (one BPR/TRN): a file with many ISA/GS/ST holds many payments and
they are never merged. The reader takes segments from ``rehabill.x12.tokens`` one at a time, so
``iter_835`` reads a file of any size in memory bounded by one claim (plus, when asked to keep
them, the claims of the current payment).

Balancing follows the 005010X221A1 front matter ("Balancing"):

* transaction: BPR02 = Σ CLP04 − Σ PLB amounts;
* claim: CLP03 − CLP04 = Σ claim-level CAS + Σ line-level CAS;
* service line: SVC02 − SVC03 = Σ line-level CAS.

Problems are ``Finding`` values located by segment number and element; nothing here raises on
bad data. The only exception is ``rehabill.errors.InputError`` from ``read_835_text`` /
``iter_835`` when the file has no usable ISA header at all (nothing can be located in it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from rehabill.domain.findings import Finding, Severity
from rehabill.domain.money import ZERO, format_amount
from rehabill.errors import InputError
from rehabill.x12.envelope import Transaction, walk_transactions
from rehabill.x12.tokens import Delimiters, Segment, detect_delimiters, iter_segments_from_chunks

CLAIM_STATUSES = {
    "1": "processed as primary",
    "2": "processed as secondary",
    "3": "processed as tertiary",
    "4": "denied",
    "19": "processed as primary, forwarded to additional payer(s)",
    "20": "processed as secondary, forwarded to additional payer(s)",
    "21": "processed as tertiary, forwarded to additional payer(s)",
    "22": "reversal of previous payment",
    "23": "not our claim, forwarded to additional payer(s)",
    "25": "predetermination pricing only, no payment",
}
ADJUSTMENT_GROUPS = {
    "CO": "contractual obligation",
    "OA": "other adjustment",
    "PI": "payer-initiated reduction",
    "PR": "patient responsibility",
}


# --------------------------------------------------------------------------- model


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One CAS reason/amount(/quantity) triple, with its group code."""

    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None
    segment: int = field(default=0, compare=False)

    def as_json(self) -> dict[str, object]:
        """``{"group", "reason", "amount"}`` (plus ``quantity`` when present)."""
        out: dict[str, object] = {"group": self.group, "reason": self.reason,
                                  "amount": format_amount(self.amount)}
        if self.quantity is not None:
            out["quantity"] = _plain(self.quantity)
        return out


@dataclass(frozen=True, slots=True)
class RefId:
    """A REF: qualifier and value (e.g. 6R line control number, 1K payer claim number)."""

    qualifier: str
    value: str


@dataclass(frozen=True, slots=True)
class DateRef:
    """A DTM: qualifier and CCYYMMDD date (kept as read)."""

    qualifier: str
    value: str


@dataclass(frozen=True, slots=True)
class AmountRef:
    """An AMT (qualifier, amount) or QTY (qualifier, quantity)."""

    qualifier: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Remark:
    """An LQ remark: qualifier (HE = RARC, RX = NCPDP reject) and code."""

    qualifier: str
    code: str


@dataclass(frozen=True, slots=True)
class Procedure:
    """A composite procedure (SVC01/SVC06): qualifier, code, up to four modifiers, text."""

    qualifier: str
    code: str
    modifiers: tuple[str, ...] = ()
    description: str = ""

    def parts(self) -> tuple[str, ...]:
        """The components in element order, for writing."""
        mods = self.modifiers + ("",) * (4 - len(self.modifiers))
        return (self.qualifier, self.code, *mods[:4], self.description)


@dataclass(frozen=True, slots=True)
class Party:
    """Payer (N1*PR) or payee (N1*PE) with address, references and contacts."""

    entity: str
    name: str
    id_qualifier: str = ""
    id: str = ""
    address: tuple[str, ...] = ()
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""
    refs: tuple[RefId, ...] = ()
    contacts: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class Person:
    """An NM1 in loop 2100: QC patient, IL insured, 74 corrected insured, 82 rendering..."""

    entity: str
    type: str
    last: str = ""
    first: str = ""
    middle: str = ""
    suffix: str = ""
    id_qualifier: str = ""
    id: str = ""


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """One SVC with its dates, adjustments, references, amounts and remarks (loop 2110)."""

    procedure: Procedure
    charge: Decimal
    paid: Decimal
    revenue_code: str = ""
    units: Decimal | None = None
    original: Procedure | None = None
    original_units: Decimal | None = None
    dates: tuple[DateRef, ...] = ()
    adjustments: tuple[Adjustment, ...] = ()
    refs: tuple[RefId, ...] = ()
    amounts: tuple[AmountRef, ...] = ()
    quantities: tuple[AmountRef, ...] = ()
    remarks: tuple[Remark, ...] = ()
    segment: int = field(default=0, compare=False)

    @property
    def control_number(self) -> str:
        """REF*6R: our line item control number (837P REF*6R), or ""."""
        return next((r.value for r in self.refs if r.qualifier == "6R"), "")

    @property
    def service_date(self) -> str:
        """DTM*472 (or the 150 start date), CCYYMMDD, or ""."""
        for qualifier in ("472", "150"):
            for d in self.dates:
                if d.qualifier == qualifier:
                    return d.value
        return ""

    @property
    def allowed(self) -> Decimal | None:
        """AMT*B6 allowed amount, when the payer reported it."""
        return next((a.amount for a in self.amounts if a.qualifier == "B6"), None)

    def as_json(self) -> dict[str, object]:
        """The line as DESIGN.md JSON."""
        out: dict[str, object] = {
            "code": self.procedure.code, "qualifier": self.procedure.qualifier,
            "modifiers": list(self.procedure.modifiers),
            "charge": format_amount(self.charge), "paid": format_amount(self.paid),
            "units": _plain(self.units) if self.units is not None else None,
            "control_number": self.control_number, "service_date": self.service_date,
            "adjustments": [a.as_json() for a in self.adjustments],
            "remarks": [r.code for r in self.remarks],
        }
        if self.original is not None:
            out["original_code"] = self.original.code
            out["original_modifiers"] = list(self.original.modifiers)
        if self.allowed is not None:
            out["allowed"] = format_amount(self.allowed)
        return out


@dataclass(frozen=True, slots=True)
class ClaimPayment:
    """One CLP (loop 2100) with its adjustments, people, remarks and service lines.

    ``extra`` holds CLP08..CLP14 as read (facility code, frequency, DRG...), ``inpatient`` and
    ``outpatient`` the MIA/MOA elements; ``lx`` the header number (LX01) it was reported under.
    """

    claim_id: str
    status: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal | None = None
    filing_indicator: str = ""
    payer_claim_number: str = ""
    extra: tuple[str, ...] = ()
    adjustments: tuple[Adjustment, ...] = ()
    people: tuple[Person, ...] = ()
    inpatient: tuple[str, ...] = ()
    outpatient: tuple[str, ...] = ()
    refs: tuple[RefId, ...] = ()
    dates: tuple[DateRef, ...] = ()
    contacts: tuple[tuple[str, ...], ...] = ()
    amounts: tuple[AmountRef, ...] = ()
    quantities: tuple[AmountRef, ...] = ()
    lines: tuple[ServiceLine, ...] = ()
    lx: str = ""
    segment: int = field(default=0, compare=False)

    @property
    def is_reversal(self) -> bool:
        """CLP02 = 22: this claim reverses a previous payment."""
        return self.status == "22"

    @property
    def is_denied(self) -> bool:
        """CLP02 = 4."""
        return self.status == "4"

    @property
    def remark_codes(self) -> tuple[str, ...]:
        """Claim-level RARCs from MOA03..MOA07 and MIA05, MIA20..MIA24."""
        codes = [c for c in self.outpatient[2:7] if c]
        codes += [self.inpatient[i] for i in (4, 19, 20, 21, 22, 23)
                  if i < len(self.inpatient) and self.inpatient[i]]
        return tuple(codes)

    def person(self, entity: str) -> Person | None:
        """The NM1 with this entity code (QC, IL, 74, 82...), if any."""
        return next((p for p in self.people if p.entity == entity), None)

    def as_json(self) -> dict[str, object]:
        """The claim as DESIGN.md JSON."""
        responsibility = self.patient_responsibility
        patient = self.person("QC")
        return {
            "claim_id": self.claim_id, "status": self.status,
            "status_text": CLAIM_STATUSES.get(self.status, "unknown"),
            "charge": format_amount(self.charge), "paid": format_amount(self.paid),
            "patient_responsibility": format_amount(responsibility or ZERO),
            "payer_claim_number": self.payer_claim_number,
            "patient": f"{patient.last}, {patient.first}".strip(", ") if patient else "",
            "adjustments": [a.as_json() for a in self.adjustments],
            "remarks": list(self.remark_codes),
            "lines": [line.as_json() for line in self.lines],
        }


@dataclass(frozen=True, slots=True)
class PlbItem:
    """One PLB adjustment: reason (WO, L6, FB, 72...), reference, amount (+ reduces BPR02)."""

    reason: str
    reference: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class ProviderAdjustment:
    """A PLB segment: provider id, fiscal period date and up to six adjustments."""

    provider_id: str
    period_end: str
    items: tuple[PlbItem, ...]
    segment: int = field(default=0, compare=False)

    @property
    def total(self) -> Decimal:
        """Σ of the item amounts."""
        return sum((i.amount for i in self.items), ZERO)


@dataclass(frozen=True, slots=True)
class Payment:
    """BPR: handling code, amount, credit/debit, method, format, banking (BPR06..15), date."""

    handling: str
    amount: Decimal
    credit_debit: str = "C"
    method: str = ""
    format: str = ""
    banking: tuple[str, ...] = ()
    date: str = ""


@dataclass(frozen=True, slots=True)
class Trace:
    """TRN: trace type, check/EFT trace number, originator id, supplemental id."""

    type: str
    number: str
    originator: str = ""
    supplemental: str = ""


@dataclass(frozen=True, slots=True)
class HeaderGroup:
    """An LX header number with its TS3/TS2 provider summary segments (elements as read)."""

    number: str
    summaries: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class Remittance:
    """One 835 transaction set: one payment with its claims, PLBs and findings."""

    control_number: str
    payment: Payment
    trace: Trace
    payer: Party
    payee: Party
    version: str = "005010X221A1"
    currency: tuple[str, ...] = ()
    refs: tuple[RefId, ...] = ()
    dates: tuple[DateRef, ...] = ()
    groups: tuple[HeaderGroup, ...] = ()
    claims: tuple[ClaimPayment, ...] = ()
    provider_adjustments: tuple[ProviderAdjustment, ...] = ()
    findings: tuple[Finding, ...] = field(default=(), compare=False)
    claim_count: int = field(default=0, compare=False)
    segment: int = field(default=0, compare=False)

    @property
    def kind(self) -> str:
        """Always "835"."""
        return "835"

    @property
    def has_errors(self) -> bool:
        """True when any finding is an error: such a payment must not be posted."""
        return any(f.is_error for f in self.findings)

    def as_json(self) -> dict[str, object]:
        """The DESIGN.md transaction JSON for ``rehabill x12 read --json``."""
        return {
            "kind": "835",
            "control_number": self.control_number,
            "findings": [f.as_dict() for f in self.findings],
            "payment": {
                "trace_number": self.trace.number, "amount": format_amount(self.payment.amount),
                "method": self.payment.method, "date": self.payment.date,
                "credit_debit": self.payment.credit_debit,
                "payer": self.payer.name, "payer_id": self.trace.originator,
                "payee": self.payee.name, "payee_id": self.payee.id,
            },
            "claims": [c.as_json() for c in self.claims],
            "provider_adjustments": [
                {"provider_id": p.provider_id, "period_end": p.period_end,
                 "reason": i.reason, "reference": i.reference,
                 "amount": format_amount(i.amount)}
                for p in self.provider_adjustments for i in p.items
            ],
        }


def _plain(value: Decimal) -> str:
    """A Decimal as plain digits (no exponent, no trailing zeros beyond what was read)."""
    text = format(value, "f")
    return text


# --------------------------------------------------------------------------- reader


def read_transaction(txn: Transaction, delimiters: Delimiters, file: str = "") -> Remittance:
    """Read one 835 transaction set (as split by ``rehabill.x12.envelope``).

    Args:
        txn: the ST..SE segments with their ISA and GS.
        delimiters: the file's delimiters (for composites such as SVC01 and PLB03).
        file: the file name for finding locations.

    Returns:
        The remittance, with its balancing and structure findings (never raises).
    """
    reader = _Reader(delimiters, file, keep_claims=True)
    segments = txn.segments
    reader.start(segments[0])
    for seg in segments[1:-1]:
        reader.feed(seg)
    last = segments[-1]
    return reader.finish(last if last.id == "SE" else None)


def iter_835(chunks: Iterable[str], file: str = "", *, keep_claims: bool = True,
             envelope_findings: list[Finding] | None = None
             ) -> Iterator[ClaimPayment | Remittance]:
    """Stream an 835 file: each claim as it closes, then its payment at SE.

    Memory stays bounded by one claim when ``keep_claims`` is False (the ``Remittance``
    values then carry ``claims=()`` but their findings and ``claim_count`` are complete).

    Args:
        chunks: the file's text in pieces of any size (e.g. ``iter(lambda: f.read(1 << 20), "")``).
        file: the file name for finding locations.
        keep_claims: keep each payment's claims in its ``Remittance`` value.
        envelope_findings: a list that receives envelope findings (ISA/GS/ST counts and control
            numbers); a file with any error there must not be posted.

    Yields:
        ``ClaimPayment`` values as each claim closes and a ``Remittance`` at each SE.

    Raises:
        InputError: when the file has no usable ISA header.
    """
    stream = iter(chunks)
    head = ""
    for chunk in stream:
        head += chunk
        if len(head.lstrip("\ufeff \t\r\n")) >= 106:
            break
    delimiters, problems = detect_delimiters(head, file)
    if delimiters is None:
        raise InputError(problems[0].message if problems else "not an X12 file", location=file)
    sink = envelope_findings if envelope_findings is not None else []

    def chained() -> Iterator[str]:
        yield head
        yield from stream

    segments = iter_segments_from_chunks(chained(), delimiters)
    reader: _Reader | None = None
    for _isa, _gs, seg in walk_transactions(segments, sink, file):
        sid = seg.id
        if sid == "ST":
            if reader is not None:
                yield from reader.drain(None)
            reader = _Reader(delimiters, file, keep_claims=keep_claims)
            reader.start(seg)
        elif sid == "SE":
            if reader is not None:
                yield from reader.drain(seg)
            reader = None
        elif reader is not None:
            closed = reader.feed(seg)
            if closed is not None:
                yield closed
    if reader is not None:
        yield from reader.drain(None)


def read_835_text(text: str, file: str = "") -> tuple[list[Remittance], list[Finding]]:
    """Read every payment in an 835 file's text.

    Args:
        text: the whole file.
        file: the file name for finding locations.

    Returns:
        The payments (each with its own findings) and the envelope findings of the file.

    Raises:
        InputError: when the text has no usable ISA header.
    """
    envelope: list[Finding] = []
    payments = [item for item in iter_835([text], file, envelope_findings=envelope)
                if isinstance(item, Remittance)]
    return payments, envelope


class _LineBuilder:
    __slots__ = ("adjustments", "amounts", "charge", "dates", "original", "original_units",
                 "paid", "procedure", "quantities", "refs", "remarks", "revenue", "segment",
                 "units")

    def __init__(self, seg: Segment, procedure: Procedure, charge: Decimal, paid: Decimal,
                 units: Decimal | None, original: Procedure | None,
                 original_units: Decimal | None) -> None:
        self.segment = seg
        self.procedure = procedure
        self.charge = charge
        self.paid = paid
        self.revenue = seg.get(4)
        self.units = units
        self.original = original
        self.original_units = original_units
        self.dates: list[DateRef] = []
        self.adjustments: list[Adjustment] = []
        self.refs: list[RefId] = []
        self.amounts: list[AmountRef] = []
        self.quantities: list[AmountRef] = []
        self.remarks: list[Remark] = []

    def build(self) -> ServiceLine:
        return ServiceLine(self.procedure, self.charge, self.paid, self.revenue, self.units,
                           self.original, self.original_units, tuple(self.dates),
                           tuple(self.adjustments), tuple(self.refs), tuple(self.amounts),
                           tuple(self.quantities), tuple(self.remarks), self.segment.number)


class _ClaimBuilder:
    __slots__ = (
        "adjustments",
        "amounts",
        "charge",
        "contacts",
        "dates",
        "inpatient",
        "lines",
        "lx",
        "outpatient",
        "paid",
        "people",
        "quantities",
        "refs",
        "responsibility",
        "segment",
    )

    def __init__(self, seg: Segment, charge: Decimal, paid: Decimal,
                 responsibility: Decimal | None, lx: str) -> None:
        self.segment = seg
        self.charge = charge
        self.paid = paid
        self.responsibility = responsibility
        self.lx = lx
        self.adjustments: list[Adjustment] = []
        self.people: list[Person] = []
        self.inpatient: tuple[str, ...] = ()
        self.outpatient: tuple[str, ...] = ()
        self.refs: list[RefId] = []
        self.dates: list[DateRef] = []
        self.contacts: list[tuple[str, ...]] = []
        self.amounts: list[AmountRef] = []
        self.quantities: list[AmountRef] = []
        self.lines: list[ServiceLine] = []

    def build(self) -> ClaimPayment:
        seg = self.segment
        return ClaimPayment(seg.get(1), seg.get(2), self.charge, self.paid, self.responsibility,
                            seg.get(6), seg.get(7), _trim(seg.elements[7:]),
                            tuple(self.adjustments), tuple(self.people), self.inpatient,
                            self.outpatient, tuple(self.refs), tuple(self.dates),
                            tuple(self.contacts), tuple(self.amounts), tuple(self.quantities),
                            tuple(self.lines), self.lx, seg.number)


class _PartyBuilder:
    __slots__ = ("address", "city", "contacts", "country", "entity", "id", "id_qualifier",
                 "name", "refs", "state", "zip")

    def __init__(self, seg: Segment) -> None:
        self.entity = seg.get(1)
        self.name = seg.get(2)
        self.id_qualifier = seg.get(3)
        self.id = seg.get(4)
        self.address: tuple[str, ...] = ()
        self.city = self.state = self.zip = self.country = ""
        self.refs: list[RefId] = []
        self.contacts: list[tuple[str, ...]] = []

    def build(self) -> Party:
        return Party(self.entity, self.name, self.id_qualifier, self.id, self.address,
                     self.city, self.state, self.zip, self.country, tuple(self.refs),
                     tuple(self.contacts))


def _trim(values: tuple[str, ...]) -> tuple[str, ...]:
    end = len(values)
    while end and not values[end - 1]:
        end -= 1
    return values[:end]


_EMPTY_PARTY = Party("", "")


class _Reader:
    """State machine over one transaction's segments (ST .. SE)."""

    def __init__(self, delimiters: Delimiters, file: str, *, keep_claims: bool) -> None:
        self.d = delimiters
        self.file = file
        self.keep = keep_claims
        self.findings: list[Finding] = []
        self.st: Segment | None = None
        self.payment: Payment | None = None
        self.payment_seg: Segment | None = None
        self.trace: Trace | None = None
        self.currency: tuple[str, ...] = ()
        self.refs: list[RefId] = []
        self.dates: list[DateRef] = []
        self.payer: _PartyBuilder | None = None
        self.payee: _PartyBuilder | None = None
        self.party: _PartyBuilder | None = None
        self.groups: list[HeaderGroup] = []
        self.lx: str = ""
        self.summaries: list[tuple[str, ...]] = []
        self.claim: _ClaimBuilder | None = None
        self.line: _LineBuilder | None = None
        self.claims: list[ClaimPayment] = []
        self.plbs: list[ProviderAdjustment] = []
        self.claim_count = 0
        self.total_paid = ZERO
        self.total_plb = ZERO
        self.handlers = {
            "BPR": self._bpr, "TRN": self._trn, "CUR": self._cur, "REF": self._ref,
            "DTM": self._dtm, "N1": self._n1, "N3": self._n3, "N4": self._n4, "PER": self._per,
            "RDM": self._ignore, "LX": self._lx, "TS3": self._ts, "TS2": self._ts,
            "CLP": self._clp, "CAS": self._cas, "NM1": self._nm1, "MIA": self._mia,
            "MOA": self._moa, "AMT": self._amt, "QTY": self._qty, "SVC": self._svc,
            "LQ": self._lq, "PLB": self._plb,
        }

    # ------------------------------------------------------------------ plumbing

    def _find(self, code: str, message: str, seg: Segment, element: int | None, fix: str,
              severity: Severity = Severity.ERROR) -> None:
        self.findings.append(Finding(f"x12.835.{code}", severity, message,
                                     seg.location(self.file, element), fix))

    def _amount(self, seg: Segment, position: int, *, required: bool = True) -> Decimal | None:
        raw = seg.get(position)
        if not raw:
            if required:
                self._find("missing_element", f"{seg.id}{position:02d} is required but empty.",
                           seg, position, "Ask the payer for a corrected 835.")
                return ZERO
            return None
        try:
            # X12 R type: at most 18 characters and never an exponent (which would also let
            # "1E999999" through to overflow later arithmetic).
            value = Decimal(raw) if len(raw) <= 18 and "E" not in raw.upper() else None
        except (InvalidOperation, ValueError):
            value = None
        if value is None or not value.is_finite():
            self._find("bad_amount", f"{seg.id}{position:02d} is {raw!r}, not a number.", seg,
                       position, "Ask the payer for a corrected 835.")
            return ZERO if required else None
        return value

    def _close_line(self) -> None:
        line = self.line
        if line is None:
            return
        self.line = None
        built = line.build()
        adjusted = sum((a.amount for a in built.adjustments), ZERO)
        if built.charge - built.paid != adjusted:
            seg = line.segment
            self._find("line_unbalanced",
                       f"Line {built.procedure.code}: charge {built.charge} − paid {built.paid}"
                       f" = {built.charge - built.paid} but its CAS adjustments sum to "
                       f"{adjusted}.", seg, 2,
                       "SVC02 − SVC03 must equal the line's CAS amounts; ask the payer.")
        if self.claim is not None:
            self.claim.lines.append(built)

    def _close_claim(self) -> ClaimPayment | None:
        self._close_line()
        claim = self.claim
        if claim is None:
            return None
        self.claim = None
        built = claim.build()
        adjusted = sum((a.amount for a in built.adjustments), ZERO)
        for line in built.lines:
            adjusted += sum((a.amount for a in line.adjustments), ZERO)
        seg = claim.segment
        if built.charge - built.paid != adjusted:
            self._find("claim_unbalanced",
                       f"Claim {built.claim_id}: charge {built.charge} − paid {built.paid} = "
                       f"{built.charge - built.paid} but claim and line CAS sum to {adjusted}.",
                       seg, 4, "CLP03 − CLP04 must equal all CAS amounts; ask the payer.")
        if built.patient_responsibility is not None:
            pr = sum((a.amount for a in built.adjustments if a.group == "PR"), ZERO)
            pr += sum((a.amount for line in built.lines for a in line.adjustments
                       if a.group == "PR"), ZERO)
            if pr != built.patient_responsibility:
                self._find("patient_responsibility_mismatch",
                           f"Claim {built.claim_id}: CLP05 is {built.patient_responsibility} "
                           f"but the PR adjustments sum to {pr}.", seg, 5,
                           "Bill the patient the PR adjustments; ask the payer to confirm.",
                           Severity.WARNING)
        self.claim_count += 1
        self.total_paid += built.paid
        if self.keep:
            self.claims.append(built)
        return built

    def _close_party(self) -> None:
        self.party = None

    # ------------------------------------------------------------------ entry points

    def start(self, st: Segment) -> None:
        self.st = st
        if st.get(1) != "835":
            self._find("not_835", f"ST01 is {st.get(1)!r}, not 835.", st, 1,
                       "Read this transaction with the reader for its own type.")

    def feed(self, seg: Segment) -> ClaimPayment | None:
        """Take one body segment; return a claim when this segment closed one."""
        handler = self.handlers.get(seg.id)
        if handler is None:
            self._find("unknown_segment", f"Segment {seg.id!r} is not part of an 835.", seg,
                       None, "Check the file; the segment was skipped.", Severity.WARNING)
            return None
        return handler(seg)

    def drain(self, se: Segment | None) -> Iterator[ClaimPayment | Remittance]:
        """The last claim (if one is open), then the payment."""
        closed = self._close_claim()
        if closed is not None:
            yield closed
        yield self.finish(se)

    def finish(self, se: Segment | None) -> Remittance:
        st = self.st or Segment("ST", ("835", ""), 0)
        self._close_claim()
        if self.lx or self.summaries:
            self.groups.append(HeaderGroup(self.lx, tuple(self.summaries)))
        if self.payment is None:
            self._find("missing_bpr", "The transaction has no BPR payment segment.", st, None,
                       "The payment amount is unknown; ask the payer for a corrected 835.")
        if self.trace is None:
            self._find("missing_trn", "The transaction has no TRN trace number.", st, None,
                       "The check/EFT number is unknown; ask the payer for a corrected 835.")
        payment = self.payment or Payment("", ZERO)
        expected = self.total_paid - self.total_plb
        if self.payment is not None and self.payment_seg is not None:
            amount = payment.amount if payment.credit_debit != "D" else -payment.amount
            if amount != expected:
                self._find("payment_unbalanced",
                           f"BPR02 is {payment.amount} but Σ CLP04 ({self.total_paid}) − "
                           f"Σ PLB ({self.total_plb}) = {expected}.", self.payment_seg, 2,
                           "Do not post until the payer confirms the payment amount.")
        return Remittance(
            control_number=st.get(2), payment=payment,
            trace=self.trace or Trace("", ""),
            payer=self.payer.build() if self.payer else _EMPTY_PARTY,
            payee=self.payee.build() if self.payee else _EMPTY_PARTY,
            version=st.get(3) or "005010X221A1", currency=self.currency,
            refs=tuple(self.refs), dates=tuple(self.dates), groups=tuple(self.groups),
            claims=tuple(self.claims), provider_adjustments=tuple(self.plbs),
            findings=tuple(self.findings), claim_count=self.claim_count, segment=st.number)

    # ------------------------------------------------------------------ header

    def _ignore(self, seg: Segment) -> None:
        return None

    def _bpr(self, seg: Segment) -> None:
        amount = self._amount(seg, 2)
        self.payment = Payment(seg.get(1), amount or ZERO, seg.get(3), seg.get(4), seg.get(5),
                               _trim(seg.elements[5:15]), seg.get(16))
        self.payment_seg = seg

    def _trn(self, seg: Segment) -> None:
        if not seg.get(2):
            self._find("missing_element", "TRN02 (check or EFT trace number) is empty.", seg, 2,
                       "Ask the payer for the trace number.")
        self.trace = Trace(seg.get(1), seg.get(2), seg.get(3), seg.get(4))

    def _cur(self, seg: Segment) -> None:
        self.currency = _trim(seg.elements)

    def _ref(self, seg: Segment) -> None:
        ref = RefId(seg.get(1), seg.get(2))
        if self.line is not None:
            self.line.refs.append(ref)
        elif self.claim is not None:
            self.claim.refs.append(ref)
        elif self.party is not None:
            self.party.refs.append(ref)
        else:
            self.refs.append(ref)

    def _dtm(self, seg: Segment) -> None:
        value = seg.get(2)
        if not (len(value) == 8 and value.isdigit()):
            self._find("bad_date", f"DTM02 is {value!r}, not a CCYYMMDD date.", seg, 2,
                       "Ask the payer for a corrected 835.", Severity.WARNING)
        ref = DateRef(seg.get(1), value)
        if self.line is not None:
            self.line.dates.append(ref)
        elif self.claim is not None:
            self.claim.dates.append(ref)
        else:
            self.dates.append(ref)

    def _n1(self, seg: Segment) -> None:
        party = _PartyBuilder(seg)
        if party.entity == "PR":
            self.payer = party
        elif party.entity == "PE":
            self.payee = party
        else:
            self._find("unexpected_party", f"N101 is {party.entity!r}; an 835 names only the "
                       "payer (PR) and the payee (PE).", seg, 1, "The party was skipped.",
                       Severity.WARNING)
        self.party = party

    def _n3(self, seg: Segment) -> None:
        if self.party is None:
            self._misplaced(seg)
            return
        self.party.address = _trim(seg.elements[:2])

    def _n4(self, seg: Segment) -> None:
        if self.party is None:
            self._misplaced(seg)
            return
        self.party.city, self.party.state = seg.get(1), seg.get(2)
        self.party.zip, self.party.country = seg.get(3), seg.get(4)

    def _per(self, seg: Segment) -> None:
        contact = _trim(seg.elements)
        if self.claim is not None:
            self.claim.contacts.append(contact)
        elif self.party is not None:
            self.party.contacts.append(contact)
        else:
            self._misplaced(seg)

    def _misplaced(self, seg: Segment) -> None:
        self._find("misplaced_segment", f"Segment {seg.id} is out of place here.", seg, None,
                   "Check the loop structure; the segment was skipped.", Severity.WARNING)

    def _lx(self, seg: Segment) -> ClaimPayment | None:
        closed = self._close_claim()
        self.party = None
        if self.lx or self.summaries:
            self.groups.append(HeaderGroup(self.lx, tuple(self.summaries)))
        self.lx = seg.get(1)
        self.summaries = []
        return closed

    def _ts(self, seg: Segment) -> None:
        if self.claim is not None or not self.lx:
            self._misplaced(seg)
            return
        self.summaries.append((seg.id, *_trim(seg.elements)))

    # ------------------------------------------------------------------ claims

    def _clp(self, seg: Segment) -> ClaimPayment | None:
        closed = self._close_claim()
        self.party = None
        if not seg.get(1):
            self._find("missing_element", "CLP01 (our patient control number) is empty.", seg,
                       1, "The claim cannot be matched; it goes to suspense.")
        status = seg.get(2)
        if status not in CLAIM_STATUSES:
            self._find("bad_claim_status", f"CLP02 is {status!r}, not a claim status code.",
                       seg, 2, "Ask the payer what the claim's status is.")
        charge = self._amount(seg, 3) or ZERO
        paid = self._amount(seg, 4) or ZERO
        responsibility = self._amount(seg, 5, required=False)
        self.claim = _ClaimBuilder(seg, charge, paid, responsibility, self.lx)
        return closed

    def _cas(self, seg: Segment) -> None:
        target = self.line.adjustments if self.line is not None else (
            self.claim.adjustments if self.claim is not None else None)
        if target is None:
            self._misplaced(seg)
            return
        group = seg.get(1)
        if group not in ADJUSTMENT_GROUPS:
            self._find("bad_group", f"CAS01 is {group!r}, not CO, OA, PI or PR.", seg, 1,
                       "Ask the payer which group the adjustment belongs to.",
                       Severity.WARNING if group == "CR" else Severity.ERROR)
        elements = seg.elements
        if len(_trim(elements)) > 19:
            self._find("too_many_elements", "CAS holds more than six reason/amount triples.",
                       seg, 20, "Only the first six were read.")
        found = False
        for position in (2, 5, 8, 11, 14, 17):
            reason = seg.get(position)
            if not reason:
                if seg.get(position + 1):
                    self._find("missing_element", f"CAS{position:02d} (reason) is empty but "
                               f"CAS{position + 1:02d} has an amount.", seg, position,
                               "Ask the payer for the reason code.")
                continue
            found = True
            amount = self._amount(seg, position + 1) or ZERO
            quantity = self._amount(seg, position + 2, required=False)
            target.append(Adjustment(group, reason, amount, quantity, seg.number))
        if not found:
            self._find("missing_element", "CAS02 (reason code) is empty.", seg, 2,
                       "Ask the payer for the reason code.")

    def _nm1(self, seg: Segment) -> None:
        if self.claim is None:
            self._misplaced(seg)
            return
        self.claim.people.append(Person(seg.get(1), seg.get(2), seg.get(3), seg.get(4),
                                        seg.get(5), seg.get(7), seg.get(8), seg.get(9)))

    def _mia(self, seg: Segment) -> None:
        if self.claim is None:
            self._misplaced(seg)
            return
        self.claim.inpatient = _trim(seg.elements)

    def _moa(self, seg: Segment) -> None:
        if self.claim is None:
            self._misplaced(seg)
            return
        self.claim.outpatient = _trim(seg.elements)

    def _amt(self, seg: Segment) -> None:
        value = AmountRef(seg.get(1), self._amount(seg, 2) or ZERO)
        if self.line is not None:
            self.line.amounts.append(value)
        elif self.claim is not None:
            self.claim.amounts.append(value)
        else:
            self._misplaced(seg)

    def _qty(self, seg: Segment) -> None:
        value = AmountRef(seg.get(1), self._amount(seg, 2) or ZERO)
        if self.line is not None:
            self.line.quantities.append(value)
        elif self.claim is not None:
            self.claim.quantities.append(value)
        else:
            self._misplaced(seg)

    def _procedure(self, seg: Segment, position: int) -> Procedure | None:
        value = seg.get(position)
        if not value:
            return None
        parts = value.split(self.d.component)
        if len(parts) < 2 or not parts[1]:
            self._find("bad_procedure", f"{seg.id}{position:02d} is {value!r}; it needs a "
                       "qualifier and a code (e.g. HC:97110).", seg, position,
                       "Ask the payer for a corrected 835.")
        mods = tuple(m for m in parts[2:6] if m)
        return Procedure(parts[0], parts[1] if len(parts) > 1 else "", mods,
                         parts[6] if len(parts) > 6 else "")

    def _svc(self, seg: Segment) -> None:
        if self.claim is None:
            self._misplaced(seg)
            return
        self._close_line()
        procedure = self._procedure(seg, 1) or Procedure("", "")
        if not seg.get(1):
            self._find("missing_element", "SVC01 (procedure) is empty.", seg, 1,
                       "The line cannot be matched; it goes to suspense.")
        self.line = _LineBuilder(seg, procedure, self._amount(seg, 2) or ZERO,
                                 self._amount(seg, 3) or ZERO,
                                 self._amount(seg, 5, required=False),
                                 self._procedure(seg, 6), self._amount(seg, 7, required=False))

    def _lq(self, seg: Segment) -> None:
        if self.line is None:
            self._misplaced(seg)
            return
        self.line.remarks.append(Remark(seg.get(1), seg.get(2)))

    def _plb(self, seg: Segment) -> ClaimPayment | None:
        closed = self._close_claim()
        items: list[PlbItem] = []
        for position in range(3, 15, 2):
            value = seg.get(position)
            if not value:
                continue
            reason, _, reference = value.partition(self.d.component)
            amount = self._amount(seg, position + 1) or ZERO
            items.append(PlbItem(reason, reference, amount))
        if not items:
            self._find("missing_element", "PLB03 (adjustment reason) is empty.", seg, 3,
                       "Ask the payer what the provider adjustment is for.")
        plb = ProviderAdjustment(seg.get(1), seg.get(2), tuple(items), seg.number)
        self.total_plb += plb.total
        self.plbs.append(plb)
        return closed

