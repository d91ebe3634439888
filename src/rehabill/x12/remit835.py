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

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from rehabill.domain.collector import collector_paused
from rehabill.domain.findings import Finding, Location, Severity
from rehabill.domain.money import ZERO, format_amount
from rehabill.domain.pickling import pickle_by_fields as _pickle_by_fields
from rehabill.errors import InputError
from rehabill.x12 import balance835
from rehabill.x12.envelope import ENVELOPE_IDS, EnvelopeChecker, Transaction
from rehabill.x12.fastbuild import positional_builder
from rehabill.x12.tokens import Delimiters, Segment, detect_delimiters

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

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, group: str, reason: str, amount: Decimal,
                 quantity: Decimal | None = None) -> None:
        object.__setattr__(self, "group", group)
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "amount", amount)
        object.__setattr__(self, "quantity", quantity)

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

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, qualifier: str, value: str) -> None:
        object.__setattr__(self, "qualifier", qualifier)
        object.__setattr__(self, "value", value)


@dataclass(frozen=True, slots=True)
class DateRef:
    """A DTM: qualifier and CCYYMMDD date (kept as read)."""

    qualifier: str
    value: str

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, qualifier: str, value: str) -> None:
        object.__setattr__(self, "qualifier", qualifier)
        object.__setattr__(self, "value", value)


@dataclass(frozen=True, slots=True)
class AmountRef:
    """An AMT (qualifier, amount) or QTY (qualifier, quantity)."""

    qualifier: str
    amount: Decimal

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, qualifier: str, amount: Decimal) -> None:
        object.__setattr__(self, "qualifier", qualifier)
        object.__setattr__(self, "amount", amount)


@dataclass(frozen=True, slots=True)
class Remark:
    """An LQ remark: qualifier (HE = RARC, RX = NCPDP reject) and code."""

    qualifier: str
    code: str

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, qualifier: str, code: str) -> None:
        object.__setattr__(self, "qualifier", qualifier)
        object.__setattr__(self, "code", code)


@dataclass(frozen=True, slots=True)
class Procedure:
    """A composite procedure (SVC01/SVC06): qualifier, code, up to four modifiers, text."""

    qualifier: str
    code: str
    modifiers: tuple[str, ...] = ()
    description: str = ""

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, qualifier: str, code: str, modifiers: tuple[str, ...] = (),
                 description: str = "") -> None:
        object.__setattr__(self, "qualifier", qualifier)
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "modifiers", modifiers)
        object.__setattr__(self, "description", description)

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

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, entity: str, name: str, id_qualifier: str = "", id: str = "",
                 address: tuple[str, ...] = (), city: str = "", state: str = "", zip: str = "",
                 country: str = "", refs: tuple[RefId, ...] = (),
                 contacts: tuple[tuple[str, ...], ...] = ()) -> None:
        object.__setattr__(self, "entity", entity)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "id_qualifier", id_qualifier)
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "address", address)
        object.__setattr__(self, "city", city)
        object.__setattr__(self, "state", state)
        object.__setattr__(self, "zip", zip)
        object.__setattr__(self, "country", country)
        object.__setattr__(self, "refs", refs)
        object.__setattr__(self, "contacts", contacts)


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

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, entity: str, type: str, last: str = "", first: str = "", middle: str = "",
                 suffix: str = "", id_qualifier: str = "", id: str = "") -> None:
        object.__setattr__(self, "entity", entity)
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "last", last)
        object.__setattr__(self, "first", first)
        object.__setattr__(self, "middle", middle)
        object.__setattr__(self, "suffix", suffix)
        object.__setattr__(self, "id_qualifier", id_qualifier)
        object.__setattr__(self, "id", id)


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

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, procedure: Procedure, charge: Decimal, paid: Decimal, revenue_code: str = "",
                 units: Decimal | None = None, original: Procedure | None = None,
                 original_units: Decimal | None = None, dates: tuple[DateRef, ...] = (),
                 adjustments: tuple[Adjustment, ...] = (), refs: tuple[RefId, ...] = (),
                 amounts: tuple[AmountRef, ...] = (), quantities: tuple[AmountRef, ...] = (),
                 remarks: tuple[Remark, ...] = (), segment: int = 0) -> None:
        object.__setattr__(self, "procedure", procedure)
        object.__setattr__(self, "charge", charge)
        object.__setattr__(self, "paid", paid)
        object.__setattr__(self, "revenue_code", revenue_code)
        object.__setattr__(self, "units", units)
        object.__setattr__(self, "original", original)
        object.__setattr__(self, "original_units", original_units)
        object.__setattr__(self, "dates", dates)
        object.__setattr__(self, "adjustments", adjustments)
        object.__setattr__(self, "refs", refs)
        object.__setattr__(self, "amounts", amounts)
        object.__setattr__(self, "quantities", quantities)
        object.__setattr__(self, "remarks", remarks)
        object.__setattr__(self, "segment", segment)

    @property
    def control_number(self) -> str:
        """REF*6R: our line item control number (837P REF*6R), or ""."""
        for ref in self.refs:  # a loop, not next() over a generator: posting asks every SVC
            if ref.qualifier == "6R":
                return ref.value
        return ""

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

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, claim_id: str, status: str, charge: Decimal, paid: Decimal,
                 patient_responsibility: Decimal | None = None, filing_indicator: str = "",
                 payer_claim_number: str = "", extra: tuple[str, ...] = (),
                 adjustments: tuple[Adjustment, ...] = (), people: tuple[Person, ...] = (),
                 inpatient: tuple[str, ...] = (), outpatient: tuple[str, ...] = (),
                 refs: tuple[RefId, ...] = (), dates: tuple[DateRef, ...] = (),
                 contacts: tuple[tuple[str, ...], ...] = (), amounts: tuple[AmountRef, ...] = (),
                 quantities: tuple[AmountRef, ...] = (), lines: tuple[ServiceLine, ...] = (),
                 lx: str = "", segment: int = 0) -> None:
        object.__setattr__(self, "claim_id", claim_id)
        object.__setattr__(self, "status", status)
        object.__setattr__(self, "charge", charge)
        object.__setattr__(self, "paid", paid)
        object.__setattr__(self, "patient_responsibility", patient_responsibility)
        object.__setattr__(self, "filing_indicator", filing_indicator)
        object.__setattr__(self, "payer_claim_number", payer_claim_number)
        object.__setattr__(self, "extra", extra)
        object.__setattr__(self, "adjustments", adjustments)
        object.__setattr__(self, "people", people)
        object.__setattr__(self, "inpatient", inpatient)
        object.__setattr__(self, "outpatient", outpatient)
        object.__setattr__(self, "refs", refs)
        object.__setattr__(self, "dates", dates)
        object.__setattr__(self, "contacts", contacts)
        object.__setattr__(self, "amounts", amounts)
        object.__setattr__(self, "quantities", quantities)
        object.__setattr__(self, "lines", lines)
        object.__setattr__(self, "lx", lx)
        object.__setattr__(self, "segment", segment)

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
            "adjustment_totals": [
                {"group": group, "reason": reason, "amount": format_amount(amount)}
                for (group, reason), amount in self.adjustment_totals().items()],
            "remarks": list(self.remark_codes),
            "lines": [line.as_json() for line in self.lines],
        }

    def adjustment_totals(self) -> dict[tuple[str, str], Decimal]:
        """Claim- and line-level CAS amounts summed by (group, reason), in first-seen order."""
        totals: dict[tuple[str, str], Decimal] = {}
        for adjustment in (*self.adjustments,
                           *(a for line in self.lines for a in line.adjustments)):
            key = (adjustment.group, adjustment.reason)
            totals[key] = totals.get(key, ZERO) + adjustment.amount
        return totals


@dataclass(frozen=True, slots=True)
class PlbItem:
    """One PLB adjustment: reason (WO, L6, FB, 72...), reference, amount (+ reduces BPR02)."""

    reason: str
    reference: str
    amount: Decimal

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, reason: str, reference: str, amount: Decimal) -> None:
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "reference", reference)
        object.__setattr__(self, "amount", amount)


@dataclass(frozen=True, slots=True)
class ProviderAdjustment:
    """A PLB segment: provider id, fiscal period date and up to six adjustments."""

    provider_id: str
    period_end: str
    items: tuple[PlbItem, ...]
    segment: int = field(default=0, compare=False)

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, provider_id: str, period_end: str, items: tuple[PlbItem, ...],
                 segment: int = 0) -> None:
        object.__setattr__(self, "provider_id", provider_id)
        object.__setattr__(self, "period_end", period_end)
        object.__setattr__(self, "items", items)
        object.__setattr__(self, "segment", segment)

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

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, handling: str, amount: Decimal, credit_debit: str = "C", method: str = "",
                 format: str = "", banking: tuple[str, ...] = (), date: str = "") -> None:
        object.__setattr__(self, "handling", handling)
        object.__setattr__(self, "amount", amount)
        object.__setattr__(self, "credit_debit", credit_debit)
        object.__setattr__(self, "method", method)
        object.__setattr__(self, "format", format)
        object.__setattr__(self, "banking", banking)
        object.__setattr__(self, "date", date)


@dataclass(frozen=True, slots=True)
class Trace:
    """TRN: trace type, check/EFT trace number, originator id, supplemental id."""

    type: str
    number: str
    originator: str = ""
    supplemental: str = ""

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, type: str, number: str, originator: str = "",
                 supplemental: str = "") -> None:
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "number", number)
        object.__setattr__(self, "originator", originator)
        object.__setattr__(self, "supplemental", supplemental)


@dataclass(frozen=True, slots=True)
class HeaderGroup:
    """An LX header number with its TS3/TS2 provider summary segments (elements as read)."""

    number: str
    summaries: tuple[tuple[str, ...], ...] = ()

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, number: str, summaries: tuple[tuple[str, ...], ...] = ()) -> None:
        object.__setattr__(self, "number", number)
        object.__setattr__(self, "summaries", summaries)


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

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, control_number: str, payment: Payment, trace: Trace, payer: Party,
                 payee: Party, version: str = "005010X221A1", currency: tuple[str, ...] = (),
                 refs: tuple[RefId, ...] = (), dates: tuple[DateRef, ...] = (),
                 groups: tuple[HeaderGroup, ...] = (), claims: tuple[ClaimPayment, ...] = (),
                 provider_adjustments: tuple[ProviderAdjustment, ...] = (),
                 findings: tuple[Finding, ...] = (), claim_count: int = 0,
                 segment: int = 0) -> None:
        object.__setattr__(self, "control_number", control_number)
        object.__setattr__(self, "payment", payment)
        object.__setattr__(self, "trace", trace)
        object.__setattr__(self, "payer", payer)
        object.__setattr__(self, "payee", payee)
        object.__setattr__(self, "version", version)
        object.__setattr__(self, "currency", currency)
        object.__setattr__(self, "refs", refs)
        object.__setattr__(self, "dates", dates)
        object.__setattr__(self, "groups", groups)
        object.__setattr__(self, "claims", claims)
        object.__setattr__(self, "provider_adjustments", provider_adjustments)
        object.__setattr__(self, "findings", findings)
        object.__setattr__(self, "claim_count", claim_count)
        object.__setattr__(self, "segment", segment)

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
#
# The reader works on raw element lists (``["CLP", "V-1", "1", ...]``) rather than Segment
# values: an 835 of 100k claims has over a million segments, and building an object per
# segment costs more than everything else the reader does. Values that repeat (procedures,
# dates, whole CAS segments, AMT, LQ) are shared between claims: they are immutable, so
# sharing is safe, and it keeps memory and time down.


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
        reader.feed([seg.id, *seg.elements], seg.number)
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
    checker = EnvelopeChecker(sink, file)
    state = _Stream(delimiters, file, keep_claims, checker)
    for pieces in split_pieces(itertools.chain((head,), stream), delimiters.segment):
        if pieces is None:
            too_long_finding(checker, state.number + 1)
        else:
            yield from state.run(pieces)
    yield from state.close()


MAX_SEGMENT_LENGTH = 1_000_000


def split_pieces(chunks: Iterable[str], terminator: str) -> Iterator[list[str] | None]:
    """Raw segment texts, a list per chunk; None where a segment ran past the length limit.

    Line breaks are not X12 data: when the terminator is not itself a line break they are
    dropped, which reads "one segment per line" files and files wrapped at a fixed width (80
    columns) alike. Text that runs past ``MAX_SEGMENT_LENGTH`` without a terminator (a wrong
    terminator, a binary file) is dropped rather than copied again with every chunk, so a
    reader never slows to a crawl on it.
    """
    unwrap = terminator not in "\r\n"
    tail = ""
    for chunk in chunks:
        if unwrap and ("\n" in chunk or "\r" in chunk):
            chunk = chunk.replace("\r", "").replace("\n", "")
        pieces = (tail + chunk).split(terminator)
        tail = pieces.pop()
        yield pieces
        if len(tail) > MAX_SEGMENT_LENGTH:
            tail = ""
            yield None
    if tail.strip(_STRIP):
        yield [tail]


def too_long_finding(checker: EnvelopeChecker, number: int) -> None:
    """Record that text after segment ``number - 1`` ran past the segment length limit."""
    checker.findings.append(Finding(
        "x12.envelope.segment_too_long", Severity.ERROR,
        f"After segment {number - 1}, more than {MAX_SEGMENT_LENGTH} characters have no segment "
        "terminator; they were skipped.",
        Location(file=checker.file, segment=number), "Check the terminator in the ISA header "
        "(its last character) and that the file is X12 text."))


_STRIP = "\r\n\ufeff \t"


class _Stream:
    """The envelope and the open transaction while ``iter_835`` reads."""

    def __init__(self, delimiters: Delimiters, file: str, keep_claims: bool,
                 checker: EnvelopeChecker) -> None:
        self.d = delimiters
        self.file = file
        self.keep = keep_claims
        self.checker = checker
        self.reader: _Reader | None = None
        self.number = 0
        # Segments after ``counted`` and up to ``number`` went through the fast path: body
        # segments of the open set, added to the envelope's SE01 count in one step.
        self.counted = 0
        self.last: Segment | None = None
        self.caches = _Caches()

    def run(self, pieces: list[str]) -> Iterator[ClaimPayment | Remittance]:
        strip = _STRIP
        number = self.number
        reader = self.reader
        # ``fast`` is empty unless a transaction set is open, so a hit both finds the handler
        # and says the segment is a body segment. A hit means the segment starts with a known
        # id and its separator (so nothing to strip in front); only its end needs a look.
        fast = reader.fast if reader is not None else _NO_HANDLERS
        for raw in pieces:
            handler = fast.get(raw[:4]) or fast.get(raw[:3])
            if handler is not None and raw[-1] not in strip:
                number += 1
                closed = handler(raw, number)
                if closed is not None:
                    yield closed
                continue
            if not raw or raw[0] in strip or raw[-1] in strip:
                raw = raw.strip(strip)
                if not raw:
                    continue
            number += 1
            yield from self._slow(raw, number)
            reader = self.reader
            fast = reader.fast if reader is not None else _NO_HANDLERS
        self.checker.body += number - self.counted
        self.number = self.counted = number

    def _slow(self, raw: str, number: int) -> Iterator[ClaimPayment | Remittance]:
        """A segment the fast path does not take: envelope, unknown, or padded with blanks."""
        checker = self.checker
        reader = self.reader
        checker.body += number - 1 - self.counted
        self.counted = number
        parts = raw.split(self.d.element)
        if reader is not None and parts[0].strip() not in ENVELOPE_IDS:
            checker.body += 1
            closed = reader.feed(parts, number)
            if closed is not None:
                yield closed
            return
        seg = Segment(parts[0].strip(), tuple(parts[1:]), number)
        self.last = seg
        if not checker.envelope(seg):
            return
        if seg.id == "ST":
            if reader is not None:
                yield from reader.drain(None)
            self.reader = _Reader(self.d, self.file, keep_claims=self.keep, caches=self.caches)
            self.reader.start(seg)
        elif reader is not None:
            yield from reader.drain(seg)
            self.reader = None

    def close(self) -> Iterator[ClaimPayment | Remittance]:
        if self.reader is not None:
            yield from self.reader.drain(None)
            self.reader = None
        self.checker.finish(self.last)


_NO_HANDLERS: dict[str, Callable[[str, int], ClaimPayment | None]] = {}


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
    # Every claim is kept, and the objects hold no reference cycles: with the cyclic
    # collector on, its scans over the growing heap more than double the time.
    with collector_paused():
        payments = [item for item in iter_835([text], file, envelope_findings=envelope)
                    if isinstance(item, Remittance)]
    return payments, envelope


class _Caches:
    """Shared immutable values by their raw text (bounded, so adversarial input cannot grow it)."""

    LIMIT = 20_000

    def __init__(self) -> None:
        self.amounts: dict[str, Decimal] = {}
        self.procedures: dict[str, Procedure] = {}
        self.dates: dict[str, DateRef] = {}
        self.cas: dict[str, tuple[str, tuple[Adjustment, ...], Decimal]] = {}
        self.amts: dict[str, AmountRef] = {}
        self.remarks: dict[str, Remark] = {}

    def trim(self) -> None:
        """Forget everything once any table is over its limit."""
        if max(len(self.amounts), len(self.procedures), len(self.dates), len(self.cas),
               len(self.amts), len(self.remarks)) > self.LIMIT:
            self.amounts.clear()
            self.procedures.clear()
            self.dates.clear()
            self.cas.clear()
            self.amts.clear()
            self.remarks.clear()


_BLANKS = [""] * 20
# The reader builds these once or more per claim; see ``rehabill.x12.fastbuild``.
_new_line = positional_builder(ServiceLine)
_new_claim = positional_builder(ClaimPayment)
_new_person = positional_builder(Person)
_new_ref = positional_builder(RefId)


class _LineBuilder:
    __slots__ = ("adjusted", "adjustments", "amounts", "charge", "dates", "number", "original",
                 "original_units", "paid", "patient", "procedure", "quantities", "refs",
                 "remarks", "revenue", "units")

    def __init__(self, number: int, procedure: Procedure, charge: Decimal, paid: Decimal,
                 revenue: str, units: Decimal | None, original: Procedure | None,
                 original_units: Decimal | None) -> None:
        self.number = number
        self.procedure = procedure
        self.charge = charge
        self.paid = paid
        self.revenue = revenue
        self.units = units
        self.original = original
        self.original_units = original_units
        self.adjusted = ZERO
        self.patient = ZERO
        self.dates: list[DateRef] = []
        self.adjustments: list[Adjustment] = []
        self.refs: list[RefId] = []
        self.amounts: list[AmountRef] = []
        self.quantities: list[AmountRef] = []
        self.remarks: list[Remark] = []

    def build(self) -> ServiceLine:
        return _new_line(self.procedure, self.charge, self.paid, self.revenue, self.units,
                         self.original, self.original_units, tuple(self.dates),
                         tuple(self.adjustments), tuple(self.refs), tuple(self.amounts),
                         tuple(self.quantities), tuple(self.remarks), self.number)


class _ClaimBuilder:
    __slots__ = ("adjusted", "adjustments", "amounts", "charge", "contacts", "dates", "extra",
                 "inpatient", "lines", "lx", "number", "outpatient", "paid", "patient", "people",
                 "quantities", "raw", "refs", "responsibility")

    def __init__(self, raw: list[str], number: int, charge: Decimal, paid: Decimal,
                 responsibility: Decimal | None, lx: str) -> None:
        self.raw = raw
        self.number = number
        self.charge = charge
        self.paid = paid
        self.responsibility = responsibility
        self.lx = lx
        self.adjusted = ZERO
        self.patient = ZERO
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
        p = self.raw
        return _new_claim(p[1], p[2], self.charge, self.paid, self.responsibility, p[6], p[7],
                          _trim(tuple(p[8:])), tuple(self.adjustments), tuple(self.people),
                          self.inpatient, self.outpatient, tuple(self.refs), tuple(self.dates),
                          tuple(self.contacts), tuple(self.amounts), tuple(self.quantities),
                          tuple(self.lines), self.lx, self.number)


class _PartyBuilder:
    __slots__ = ("address", "city", "contacts", "country", "entity", "id", "id_qualifier",
                 "name", "refs", "state", "zip")

    def __init__(self, p: list[str]) -> None:
        self.entity, self.name, self.id_qualifier, self.id = p[1], p[2], p[3], p[4]
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


def _pad(p: list[str], size: int) -> list[str]:
    if len(p) < size:
        p.extend(_BLANKS[: size - len(p)])
    return p


_EMPTY_PARTY = Party("", "")
_DIGITS = frozenset("0123456789")


class _Reader:
    """State machine over one transaction's segments (ST .. SE), on raw element lists."""

    def __init__(self, delimiters: Delimiters, file: str, *, keep_claims: bool,
                 caches: _Caches | None = None) -> None:
        self.d = delimiters
        self.el = delimiters.element
        self.file = file
        self.keep = keep_claims
        self.caches = caches or _Caches()
        self.caches.trim()
        self.amounts = self.caches.amounts
        self.date_refs = self.caches.dates
        self.cas_values = self.caches.cas
        self.amount_refs = self.caches.amts
        self.findings: list[Finding] = []
        self.st: Segment | None = None
        self.payment: Payment | None = None
        self.payment_number = 0
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
        self.handlers: dict[str, Callable[[str, int], ClaimPayment | None]] = {
            "BPR": self._bpr, "TRN": self._trn, "CUR": self._cur, "REF": self._ref,
            "DTM": self._dtm, "N1": self._n1, "N3": self._n3, "N4": self._n4, "PER": self._per,
            "RDM": self._ignore, "LX": self._lx, "TS3": self._ts, "TS2": self._ts,
            "CLP": self._clp, "CAS": self._cas, "NM1": self._nm1, "MIA": self._mia,
            "MOA": self._moa, "AMT": self._amt, "QTY": self._qty, "SVC": self._svc,
            "LQ": self._lq, "PLB": self._plb,
        }
        # The same handlers keyed by the segment's first characters up to and including the
        # first element separator ("CLP*", "LQ*"): ``_Stream.run`` finds a segment's handler
        # with one slice and one lookup, without splitting it first.
        self.fast = {sid + self.el: handler for sid, handler in self.handlers.items()}

    # ------------------------------------------------------------------ plumbing

    def _find(self, code: str, message: str, p: list[str], number: int, element: int | None,
              fix: str, severity: Severity = Severity.ERROR) -> None:
        name = f"{p[0]}{element:02d}" if element is not None else ""
        where = Location(file=self.file, segment=number, segment_id=p[0], element=name)
        self.findings.append(Finding(f"x12.835.{code}", severity, message, where, fix))

    def _amount(self, p: list[str], number: int, position: int, *,
                required: bool = True) -> Decimal | None:
        raw = p[position]
        cached = self.caches.amounts.get(raw)
        if cached is not None:
            return cached
        if not raw:
            if required:
                self._find("missing_element", f"{p[0]}{position:02d} is required but empty.",
                           p, number, position, "Ask the payer for a corrected 835.")
                return ZERO
            return None
        value: Decimal | None = None
        # X12 R type: digits, an optional sign and decimal point, at most 18 characters; no
        # exponent (which would also let "1E999999" through to overflow later arithmetic).
        if len(raw) <= 18 and raw[-1] in _DIGITS and "E" not in raw and "e" not in raw:
            try:
                value = Decimal(raw)
            except (InvalidOperation, ValueError):
                value = None
        if value is None:
            self._find("bad_amount", f"{p[0]}{position:02d} is {raw!r}, not a number.", p,
                       number, position, "Ask the payer for a corrected 835.")
            return ZERO if required else None
        self.caches.amounts[raw] = value
        return value

    def _close_line(self) -> None:
        line = self.line
        if line is None:
            return
        self.line = None
        if line.charge - line.paid != line.adjusted:
            self.findings.append(balance835.line_unbalanced(
                self.file, line.number, line.procedure.code, line.charge, line.paid,
                line.adjusted))
        claim = self.claim
        if claim is not None:
            claim.lines.append(line.build())
            claim.adjusted += line.adjusted
            claim.patient += line.patient

    def _close_claim(self) -> ClaimPayment | None:
        if self.line is not None:
            self._close_line()
        claim = self.claim
        if claim is None:
            return None
        self.claim = None
        built = claim.build()
        if claim.charge - claim.paid != claim.adjusted:
            self.findings.append(balance835.claim_unbalanced(
                self.file, claim.number, built.claim_id, claim.charge, claim.paid,
                claim.adjusted))
        if claim.responsibility is not None and claim.patient != claim.responsibility:
            self.findings.append(balance835.patient_responsibility_mismatch(
                self.file, claim.number, built.claim_id, claim.responsibility, claim.patient))
        self.claim_count += 1
        self.total_paid += claim.paid
        if self.keep:
            self.claims.append(built)
        return built

    # ------------------------------------------------------------------ entry points

    def start(self, st: Segment) -> None:
        self.st = st
        if st.get(1) != "835":
            self._find("not_835", f"ST01 is {st.get(1)!r}, not 835.", ["ST"], st.number, 1,
                       "Read this transaction with the reader for its own type.")

    def feed(self, p: list[str], number: int) -> ClaimPayment | None:
        """Take one body segment as split; return a claim when this segment closed one."""
        p[0] = p[0].strip()
        handler = self.handlers.get(p[0])
        if handler is None:
            self._find("unknown_segment", f"Segment {p[0]!r} is not part of an 835.", p,
                       number, None, "Check the file; the segment was skipped.",
                       Severity.WARNING)
            return None
        return handler(self.el.join(p), number)

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
            self.lx, self.summaries = "", []
        st_parts = ["ST"]
        if self.payment is None:
            self._find("missing_bpr", "The transaction has no BPR payment segment.", st_parts,
                       st.number, None,
                       "The payment amount is unknown; ask the payer for a corrected 835.")
        if self.trace is None:
            self._find("missing_trn", "The transaction has no TRN trace number.", st_parts,
                       st.number, None,
                       "The check/EFT number is unknown; ask the payer for a corrected 835.")
        payment = self.payment or Payment("", ZERO)
        expected = self.total_paid - self.total_plb
        if self.payment is not None:
            amount = payment.amount if payment.credit_debit != "D" else -payment.amount
            if amount != expected:
                self.findings.append(balance835.payment_unbalanced(
                    self.file, self.payment_number, payment.amount, self.total_paid,
                    self.total_plb))
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

    def _ignore(self, raw: str, n: int) -> None:
        return None

    def _bpr(self, raw: str, n: int) -> None:
        p = raw.split(self.el)
        _pad(p, 17)
        amount = self._amount(p, n, 2) or ZERO
        self.payment = Payment(p[1], amount, p[3], p[4], p[5], _trim(tuple(p[6:16])), p[16])
        self.payment_number = n

    def _trn(self, raw: str, n: int) -> None:
        p = raw.split(self.el)
        _pad(p, 5)
        if not p[2]:
            self._find("missing_element", "TRN02 (check or EFT trace number) is empty.", p, n,
                       2, "Ask the payer for the trace number.")
        self.trace = Trace(p[1], p[2], p[3], p[4])

    def _cur(self, raw: str, n: int) -> None:
        p = raw.split(self.el)
        self.currency = _trim(tuple(p[1:]))

    def _ref(self, raw: str, n: int) -> None:
        p = raw.split(self.el)
        ref = _new_ref(p[1], p[2]) if len(p) > 2 else RefId(*_pad(p, 3)[1:3])
        if self.line is not None:
            self.line.refs.append(ref)
        elif self.claim is not None:
            self.claim.refs.append(ref)
        elif self.party is not None:
            self.party.refs.append(ref)
        else:
            self.refs.append(ref)

    def _dtm(self, raw: str, n: int) -> None:
        ref = self.date_refs.get(raw)
        if ref is None:
            p = _pad(raw.split(self.el), 3)
            value = p[2]
            ref = DateRef(p[1], value)
            if len(value) == 8 and value.isascii() and value.isdigit():
                self.caches.dates[raw] = ref
            else:
                self._find("bad_date", f"DTM02 is {value!r}, not a CCYYMMDD date.", p, n, 2,
                           "Ask the payer for a corrected 835.", Severity.WARNING)
        if self.line is not None:
            self.line.dates.append(ref)
        elif self.claim is not None:
            self.claim.dates.append(ref)
        else:
            self.dates.append(ref)

    def _n1(self, raw: str, n: int) -> None:
        p = raw.split(self.el)
        party = _PartyBuilder(_pad(p, 5))
        if party.entity == "PR":
            self.payer = party
        elif party.entity == "PE":
            self.payee = party
        else:
            self._find("unexpected_party", f"N101 is {party.entity!r}; an 835 names only the "
                       "payer (PR) and the payee (PE).", p, n, 1, "The party was skipped.",
                       Severity.WARNING)
        self.party = party

    def _n3(self, raw: str, n: int) -> None:
        if self.party is None:
            self._misplaced(raw, n)
            return
        p = raw.split(self.el)
        self.party.address = _trim(tuple(p[1:3]))

    def _n4(self, raw: str, n: int) -> None:
        if self.party is None:
            self._misplaced(raw, n)
            return
        p = raw.split(self.el)
        _pad(p, 5)
        self.party.city, self.party.state, self.party.zip, self.party.country = p[1:5]

    def _per(self, raw: str, n: int) -> None:
        p = raw.split(self.el)
        contact = _trim(tuple(p[1:]))
        if self.claim is not None:
            self.claim.contacts.append(contact)
        elif self.party is not None:
            self.party.contacts.append(contact)
        else:
            self._misplaced(raw, n)

    def _misplaced(self, raw: str, n: int) -> None:
        p = raw.split(self.el)
        self._find("misplaced_segment", f"Segment {p[0]} is out of place here.", p, n, None,
                   "Check the loop structure; the segment was skipped.", Severity.WARNING)

    def _lx(self, raw: str, n: int) -> ClaimPayment | None:
        p = raw.split(self.el)
        closed = self._close_claim()
        self.party = None
        if self.lx or self.summaries:
            self.groups.append(HeaderGroup(self.lx, tuple(self.summaries)))
        self.lx = _pad(p, 2)[1]
        self.summaries = []
        return closed

    def _ts(self, raw: str, n: int) -> None:
        if self.claim is not None or not self.lx:
            self._misplaced(raw, n)
            return
        p = raw.split(self.el)
        self.summaries.append((p[0], *_trim(tuple(p[1:]))))

    # ------------------------------------------------------------------ claims

    def _clp(self, raw: str, n: int) -> ClaimPayment | None:
        p = raw.split(self.el)
        closed = self._close_claim() if self.claim is not None else None
        self.party = None
        if len(p) < 8:
            _pad(p, 8)
        if not p[1]:
            self._find("missing_element", "CLP01 (our patient control number) is empty.", p, n,
                       1, "The claim cannot be matched; it goes to suspense.")
        if p[2] not in CLAIM_STATUSES:
            self._find("bad_claim_status", f"CLP02 is {p[2]!r}, not a claim status code.", p,
                       n, 2, "Ask the payer what the claim's status is.")
        # A cache hit first (nearly every amount repeats); ``_amount`` reads and checks a new
        # one. ``or ZERO`` as ``_amount``'s callers always had it.
        get = self.amounts.get
        charge = get(p[3]) or self._amount(p, n, 3) or ZERO
        paid = get(p[4]) or self._amount(p, n, 4) or ZERO
        responsibility = get(p[5])
        if responsibility is None and p[5]:
            responsibility = self._amount(p, n, 5, required=False)
        self.claim = _ClaimBuilder(p, n, charge, paid, responsibility, self.lx)
        return closed

    def _cas(self, raw: str, n: int) -> None:
        target = self.line if self.line is not None else self.claim
        if target is None:
            self._misplaced(raw, n)
            return
        cached = self.cas_values.get(raw)
        if cached is None:
            cached = self._parse_cas(raw, raw.split(self.el), n)
        group, adjustments, total = cached
        target.adjustments.extend(adjustments)
        target.adjusted += total
        if group == "PR":
            target.patient += total

    def _parse_cas(self, raw: str, p: list[str], n: int
                   ) -> tuple[str, tuple[Adjustment, ...], Decimal]:
        before = len(self.findings)
        group = _pad(p, 20)[1]
        if group not in ADJUSTMENT_GROUPS:
            self._find("bad_group", f"CAS01 is {group!r}, not CO, OA, PI or PR.", p, n, 1,
                       "Ask the payer which group the adjustment belongs to.",
                       Severity.WARNING if group == "CR" else Severity.ERROR)
        if len(_trim(tuple(p))) > 20:
            self._find("too_many_elements", "CAS holds more than six reason/amount triples.",
                       p, n, 20, "Only the first six were read.")
        adjustments: list[Adjustment] = []
        total = ZERO
        for position in (2, 5, 8, 11, 14, 17):
            reason = p[position]
            if not reason:
                if p[position + 1]:
                    self._find("missing_element", f"CAS{position:02d} (reason) is empty but "
                               f"CAS{position + 1:02d} has an amount.", p, n, position,
                               "Ask the payer for the reason code.")
                continue
            amount = self._amount(p, n, position + 1) or ZERO
            quantity = self._amount(p, n, position + 2, required=False)
            adjustments.append(Adjustment(group, reason, amount, quantity))
            total += amount
        if not adjustments:
            self._find("missing_element", "CAS02 (reason code) is empty.", p, n, 2,
                       "Ask the payer for the reason code.")
        result = (group, tuple(adjustments), total)
        if len(self.findings) == before:
            self.caches.cas[raw] = result
        return result

    def _nm1(self, raw: str, n: int) -> None:
        if self.claim is None:
            self._misplaced(raw, n)
            return
        p = raw.split(self.el)
        if len(p) < 10:
            _pad(p, 10)
        self.claim.people.append(_new_person(p[1], p[2], p[3], p[4], p[5], p[7], p[8], p[9]))

    def _mia(self, raw: str, n: int) -> None:
        if self.claim is None:
            self._misplaced(raw, n)
            return
        p = raw.split(self.el)
        self.claim.inpatient = _trim(tuple(p[1:]))

    def _moa(self, raw: str, n: int) -> None:
        if self.claim is None:
            self._misplaced(raw, n)
            return
        p = raw.split(self.el)
        self.claim.outpatient = _trim(tuple(p[1:]))

    def _amount_ref(self, raw: str, n: int) -> AmountRef:
        value = self.amount_refs.get(raw)
        if value is None:
            before = len(self.findings)
            p = _pad(raw.split(self.el), 3)
            value = AmountRef(p[1], self._amount(p, n, 2) or ZERO)
            if len(self.findings) == before:
                self.caches.amts[raw] = value
        return value

    def _amt(self, raw: str, n: int) -> None:
        target = self.line if self.line is not None else self.claim
        if target is None:
            self._misplaced(raw, n)
            return
        target.amounts.append(self._amount_ref(raw, n))

    def _qty(self, raw: str, n: int) -> None:
        target = self.line if self.line is not None else self.claim
        if target is None:
            self._misplaced(raw, n)
            return
        target.quantities.append(self._amount_ref(raw, n))

    def _procedure(self, p: list[str], n: int, position: int) -> Procedure | None:
        value = p[position]
        if not value:
            return None
        found = self.caches.procedures.get(value)
        if found is not None:
            return found
        parts = value.split(self.d.component)
        if len(parts) < 2 or not parts[1]:
            self._find("bad_procedure", f"{p[0]}{position:02d} is {value!r}; it needs a "
                       "qualifier and a code (e.g. HC:97110).", p, n, position,
                       "Ask the payer for a corrected 835.")
            return Procedure(parts[0], parts[1] if len(parts) > 1 else "")
        found = Procedure(parts[0], parts[1], tuple(m for m in parts[2:6] if m),
                          parts[6] if len(parts) > 6 else "")
        self.caches.procedures[value] = found
        return found

    def _svc(self, raw: str, n: int) -> None:
        if self.claim is None:
            self._misplaced(raw, n)
            return
        p = raw.split(self.el)
        if self.line is not None:
            self._close_line()
        if len(p) < 8:
            _pad(p, 8)
        procedure = self.caches.procedures.get(p[1]) or self._procedure(p, n, 1)
        if procedure is None:
            self._find("missing_element", "SVC01 (procedure) is empty.", p, n, 1,
                       "The line cannot be matched; it goes to suspense.")
            procedure = Procedure("", "")
        # In element order, so findings come in the order of the elements they point at.
        get = self.amounts.get
        charge = get(p[2]) or self._amount(p, n, 2) or ZERO
        paid = get(p[3]) or self._amount(p, n, 3) or ZERO
        units = get(p[5])
        if units is None and p[5]:
            units = self._amount(p, n, 5, required=False)
        self.line = _LineBuilder(n, procedure, charge, paid, p[4], units,
                                 self._procedure(p, n, 6) if p[6] else None,
                                 self._amount(p, n, 7, required=False) if p[7] else None)

    def _lq(self, raw: str, n: int) -> None:
        if self.line is None:
            self._misplaced(raw, n)
            return
        remark = self.caches.remarks.get(raw)
        if remark is None:
            p = _pad(raw.split(self.el), 3)
            remark = self.caches.remarks[raw] = Remark(p[1], p[2])
        self.line.remarks.append(remark)

    def _plb(self, raw: str, n: int) -> ClaimPayment | None:
        p = raw.split(self.el)
        closed = self._close_claim()
        _pad(p, 15)
        items: list[PlbItem] = []
        for position in range(3, 15, 2):
            value = p[position]
            if not value:
                continue
            reason, _, reference = value.partition(self.d.component)
            amount = self._amount(p, n, position + 1) or ZERO
            items.append(PlbItem(reason, reference, amount))
        if not items:
            self._find("missing_element", "PLB03 (adjustment reason) is empty.", p, n, 3,
                       "Ask the payer what the provider adjustment is for.")
        plb = ProviderAdjustment(p[1], p[2], tuple(items), n)
        self.total_plb += plb.total
        self.plbs.append(plb)
        return closed


# Compiled by mypyc, frozen values pickle through their constructor (a no-op otherwise).
_pickle_by_fields(__name__)
