"""837P reader: claims, lines and totals back from any 005010X222A1 transaction, with findings.

It reads what others write too: segments it does not use are skipped, delimiters come from the
ISA, and every problem is a finding located by segment number and element. The checks are the
structural and semantic ones a payer front end applies before adjudication (005010X222A1):

- HL01 unique and ascending, HL02 naming an earlier HL, HL03 levels nested 20 → 22 → 23;
- CLM02 equal to the sum of the claim's SV102 charges;
- SV107 pointers within the HI diagnosis codes; DTP dates that exist on the calendar;
- every claim with at least one line, every line with a service date (DTP*472);
- NPIs passing the check digit. Envelope counts are checked by :mod:`rehabill.x12.envelope`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from rehabill.domain.findings import Finding, Location, Severity
from rehabill.domain.money import ZERO, format_amount
from rehabill.domain.pickling import pickle_by_fields as _pickle_by_fields
from rehabill.x12.envelope import ENVELOPE_IDS, EnvelopeChecker, Transaction
from rehabill.x12.fastbuild import positional_builder
from rehabill.x12.npi import is_valid_npi
from rehabill.x12.tokens import Delimiters, Segment, detect_delimiters

_PAD = ("",) * 12  # appended to a segment's elements so that fixed positions can be indexed
DIAGNOSIS_QUALIFIERS = frozenset({"ABK", "ABF", "BK", "BF"})
NPI_QUALIFIER = "XX"


@dataclass(frozen=True, slots=True)
class LineRead:
    """One 2400 service line as read."""

    number: int
    code: str
    modifiers: tuple[str, ...]
    charge: Decimal
    units: Decimal
    diagnosis_pointers: tuple[int, ...]
    date_of_service: date | None
    control_number: str
    segment: int

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, number: int, code: str, modifiers: tuple[str, ...], charge: Decimal,
                 units: Decimal, diagnosis_pointers: tuple[int, ...], date_of_service: date | None,
                 control_number: str, segment: int) -> None:
        object.__setattr__(self, "number", number)
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "modifiers", modifiers)
        object.__setattr__(self, "charge", charge)
        object.__setattr__(self, "units", units)
        object.__setattr__(self, "diagnosis_pointers", diagnosis_pointers)
        object.__setattr__(self, "date_of_service", date_of_service)
        object.__setattr__(self, "control_number", control_number)
        object.__setattr__(self, "segment", segment)

    def as_json(self) -> dict[str, object]:
        """The DESIGN.md line shape (code, modifiers, units, charge) plus what else was read."""
        return {
            "number": self.number,
            "code": self.code,
            "modifiers": list(self.modifiers),
            "units": _units_json(self.units),
            "charge": _amount_text(self.charge),
            "diagnosis_pointers": list(self.diagnosis_pointers),
            "date_of_service": _iso(self.date_of_service),
            "control_number": self.control_number,
        }


@dataclass(frozen=True, slots=True)
class ClaimRead:
    """One 2300 claim as read, with the parties above it in the hierarchy."""

    claim_id: str
    charge: Decimal
    place_of_service: str
    frequency: str
    diagnoses: tuple[str, ...]
    lines: tuple[LineRead, ...]
    billing_npi: str
    payer_id: str
    member_id: str
    patient_last_name: str
    patient_first_name: str
    rendering_npi: str
    supervising_npi: str
    prior_authorization: str
    original_reference: str
    dates: tuple[tuple[str, date], ...]
    segment: int
    billing_name: str = ""  # 2010AA NM103
    billing_tax_id: str = ""  # 2010AA REF*EI

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, claim_id: str, charge: Decimal, place_of_service: str, frequency: str,
                 diagnoses: tuple[str, ...], lines: tuple[LineRead, ...], billing_npi: str,
                 payer_id: str, member_id: str, patient_last_name: str, patient_first_name: str,
                 rendering_npi: str, supervising_npi: str, prior_authorization: str,
                 original_reference: str, dates: tuple[tuple[str, date], ...],
                 segment: int, billing_name: str = "", billing_tax_id: str = "") -> None:
        object.__setattr__(self, "claim_id", claim_id)
        object.__setattr__(self, "charge", charge)
        object.__setattr__(self, "place_of_service", place_of_service)
        object.__setattr__(self, "frequency", frequency)
        object.__setattr__(self, "diagnoses", diagnoses)
        object.__setattr__(self, "lines", lines)
        object.__setattr__(self, "billing_npi", billing_npi)
        object.__setattr__(self, "payer_id", payer_id)
        object.__setattr__(self, "member_id", member_id)
        object.__setattr__(self, "patient_last_name", patient_last_name)
        object.__setattr__(self, "patient_first_name", patient_first_name)
        object.__setattr__(self, "rendering_npi", rendering_npi)
        object.__setattr__(self, "supervising_npi", supervising_npi)
        object.__setattr__(self, "prior_authorization", prior_authorization)
        object.__setattr__(self, "original_reference", original_reference)
        object.__setattr__(self, "dates", dates)
        object.__setattr__(self, "segment", segment)
        object.__setattr__(self, "billing_name", billing_name)
        object.__setattr__(self, "billing_tax_id", billing_tax_id)

    @property
    def line_total(self) -> Decimal:
        """Sum of SV102."""
        return sum((line.charge for line in self.lines), ZERO)

    def as_json(self) -> dict[str, object]:
        """The DESIGN.md claim shape (claim_id, charge, lines) plus what else was read."""
        return {
            "claim_id": self.claim_id,
            "charge": _amount_text(self.charge),
            "frequency": self.frequency,
            "place_of_service": self.place_of_service,
            "diagnoses": list(self.diagnoses),
            "billing_npi": self.billing_npi,
            "billing_name": self.billing_name,
            "billing_tax_id": self.billing_tax_id,
            "rendering_npi": self.rendering_npi,
            "supervising_npi": self.supervising_npi,
            "payer_id": self.payer_id,
            "member_id": self.member_id,
            "patient": {"last_name": self.patient_last_name,
                        "first_name": self.patient_first_name},
            "prior_authorization": self.prior_authorization,
            "original_reference": self.original_reference,
            "dates": {qualifier: day.isoformat() for qualifier, day in self.dates},
            "lines": [line.as_json() for line in self.lines],
        }


@dataclass(frozen=True, slots=True)
class Transaction837P:
    """One 837P transaction set: its claims and everything found wrong with it."""

    control_number: str
    version: str
    claims: tuple[ClaimRead, ...]
    findings: tuple[Finding, ...]
    #: GS06 of the functional group the set came in (what a 999's AK102 echoes).
    group_control_number: str = ""

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, control_number: str, version: str, claims: tuple[ClaimRead, ...],
                 findings: tuple[Finding, ...], group_control_number: str = "") -> None:
        object.__setattr__(self, "control_number", control_number)
        object.__setattr__(self, "version", version)
        object.__setattr__(self, "claims", claims)
        object.__setattr__(self, "findings", findings)
        object.__setattr__(self, "group_control_number", group_control_number)

    @property
    def total_charge(self) -> Decimal:
        """Sum of CLM02 over the claims."""
        return sum((c.charge for c in self.claims), ZERO)

    def as_json(self) -> dict[str, object]:
        """The ``rehabill x12 read --json`` shape for an 837P (DESIGN.md)."""
        return {
            "kind": "837P",
            "control_number": self.control_number,
            "version": self.version,
            "totals": {"claims": len(self.claims),
                       "lines": sum(len(c.lines) for c in self.claims),
                       "charge": format_amount(self.total_charge)},
            "claims": [c.as_json() for c in self.claims],
            "findings": [f.as_dict() for f in self.findings],
        }


_amount_text = lru_cache(maxsize=4096)(format_amount)


@lru_cache(maxsize=4096)
def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


@lru_cache(maxsize=256)
def _units_json(units: Decimal) -> int | str:
    """Whole units as an int (the usual case); fractional ones as a decimal string."""
    return int(units) if units == units.to_integral_value() else str(units)


class _Line:
    """A 2400 line while it is read (``segment`` is its LX's number)."""

    __slots__ = ("charge", "code", "control_number", "day", "modifiers", "number", "pointers",
                 "segment", "units")

    def __init__(self, number: int, segment: int) -> None:
        self.number = number
        self.segment = segment
        self.code = ""
        self.modifiers: tuple[str, ...] = ()
        self.charge = ZERO
        self.units = _NO_UNITS
        self.pointers: tuple[int, ...] = ()
        self.day: date | None = None
        self.control_number = ""

    def freeze(self) -> LineRead:
        return _new_line(self.number, self.code, self.modifiers, self.charge, self.units,
                         self.pointers, self.day, self.control_number, self.segment)


class _Claim:
    """A 2300 claim while it is read (``segment`` is its CLM's number)."""

    __slots__ = ("charge", "claim_id", "context", "dates", "diagnoses", "frequency", "lines",
                 "original_reference", "place_of_service", "prior_authorization",
                 "rendering_npi", "segment", "supervising_npi")

    def __init__(self, segment: int, claim_id: str, charge: Decimal, place_of_service: str,
                 frequency: str, context: dict[str, str]) -> None:
        self.segment = segment
        self.claim_id = claim_id
        self.charge = charge
        self.place_of_service = place_of_service
        self.frequency = frequency
        self.context = context
        self.diagnoses: list[str] = []
        self.lines: list[_Line] = []
        self.rendering_npi = ""
        self.supervising_npi = ""
        self.prior_authorization = ""
        self.original_reference = ""
        self.dates: list[tuple[str, date]] = []

    def freeze(self) -> ClaimRead:
        c = self.context
        return _new_claim(
            self.claim_id, self.charge, self.place_of_service, self.frequency,
            tuple(self.diagnoses), tuple([line.freeze() for line in self.lines]),
            c.get("billing_npi", ""), c.get("payer_id", ""), c.get("member_id", ""),
            c.get("patient_last", ""), c.get("patient_first", ""),
            self.rendering_npi or c.get("rendering_npi", ""), self.supervising_npi,
            self.prior_authorization, self.original_reference, tuple(self.dates),
            self.segment, c.get("billing_name", ""), c.get("billing_tax_id", ""))


_NO_UNITS = Decimal(0)
_new_line = positional_builder(LineRead)
_new_claim = positional_builder(ClaimRead)
_EXPECTED_PARENT = {"20": None, "22": "20", "23": "22"}
#: What a subscriber's HL keeps of its billing provider's (2010AA) context.
_BILLING = ("billing_npi", "billing_name", "billing_tax_id")


class _Reader:
    """One pass over a transaction's segments, keeping just enough state for the hierarchy.

    Segments arrive as raw element lists (``p[0]`` the id, ``p[k]`` element k, padded so the
    positions a handler reads exist) with their segment number: building a ``Segment`` per
    segment cost more than reading it.
    """

    def __init__(self, delimiters: Delimiters, file: str) -> None:
        self.d = delimiters
        self.component = delimiters.component
        self.file = file
        self.findings: list[Finding] = []
        self.claims: list[ClaimRead] = []
        self.hl_levels: dict[str, str] = {}
        self.last_hl = 0
        self.context: dict[str, str] = {}
        self.claim: _Claim | None = None
        self.line: _Line | None = None
        self.handlers: dict[str, Callable[[list[str], int], None]] = {
            "HL": self.on_hl, "NM1": self.on_nm1, "CLM": self.on_clm, "HI": self.on_hi,
            "LX": self.on_lx, "SV1": self.on_sv1, "DTP": self.on_dtp, "REF": self.on_ref,
        }

    # -- findings ---------------------------------------------------------------------------

    def find(self, code: str, message: str, p: list[str], n: int, element: int | None,
             fix: str, severity: Severity = Severity.ERROR) -> None:
        sid = p[0]
        name = f"{sid}{element:02d}" if element is not None else ""
        self.findings.append(Finding(f"x12.837p.{code}", severity, message,
                                     Location(file=self.file, segment=n, segment_id=sid,
                                              element=name), fix))

    def amount(self, p: list[str], n: int, position: int) -> Decimal:
        raw = p[position]
        value = _parse_amount(raw)
        if value is None:
            self.find("bad_amount", f"{p[0]}{position:02d} is {raw!r}, not an amount.", p, n,
                      position, "Write the amount as digits with an optional decimal point.")
            return ZERO
        return value

    def day(self, p: list[str], n: int) -> date | None:
        """The date in a DTP (D8, or the first day of an RD8 range)."""
        fmt, raw = p[2], p[3]
        day, problem = _parse_date(fmt, raw)
        if problem == "format":
            self.find("bad_date", f"DTP{p[1]} date {raw!r} ({fmt}) is not CCYYMMDD.", p, n, 3,
                      "Write dates as D8 CCYYMMDD (or RD8 CCYYMMDD-CCYYMMDD).")
        elif problem:
            self.find("bad_date", f"DTP{p[1]} date {raw!r} is not a real date.", p, n, 3,
                      "Correct the date.")
        return day

    # -- segments ---------------------------------------------------------------------------

    def run(self, segments: tuple[Segment, ...]) -> None:
        handlers = self.handlers
        for seg in segments:
            handler = handlers.get(seg.id)
            if handler is not None:
                handler([seg.id, *seg.elements, *_PAD], seg.number)
        self.end_claim()

    def on_hl(self, p: list[str], n: int) -> None:
        self.end_claim()
        number, parent, level = p[1], p[2], p[3]
        is_number = number.isascii() and number.isdigit()  # int() refuses digits such as "²"
        if not is_number:
            self.find("hl_bad_number", f"HL01 is {number!r}, not a number.", p, n, 1,
                      "Number HL segments 1, 2, 3... in order.")
        elif number in self.hl_levels:
            self.find("hl_duplicate", f"HL01 {number} is used twice.", p, n, 1,
                      "Give every HL its own number.")
        elif int(number) != self.last_hl + 1:
            self.find("hl_out_of_order", f"HL01 is {number}; {self.last_hl + 1} was expected.",
                      p, n, 1, "Number HL segments 1, 2, 3... in order.", Severity.WARNING)
        if is_number:
            self.last_hl = int(number)
        expected_parent = _EXPECTED_PARENT.get(level, "?")
        if expected_parent == "?":
            self.find("hl_bad_level", f"HL03 level {level!r} is not 20, 22 or 23 in an 837P.",
                      p, n, 3, "Use 20 (billing provider), 22 (subscriber) or 23 (patient).")
        elif expected_parent is not None and parent not in self.hl_levels:
            self.find("hl_parent_missing", f"HL {number} names parent {parent!r}, which is not "
                      "an earlier HL.", p, n, 2, "Point HL02 at the HL this level belongs to.")
        elif expected_parent is not None and self.hl_levels[parent] != expected_parent:
            self.find("hl_bad_parent", f"HL {number} (level {level}) has parent {parent} at "
                      f"level {self.hl_levels[parent]}, not {expected_parent}.", p, n, 2,
                      "Nest patient (23) under subscriber (22) under billing provider (20).")
        elif expected_parent is None and parent:
            self.find("hl_bad_parent", f"Billing provider HL {number} has parent {parent}.",
                      p, n, 2, "A 2000A HL has no parent.")
        self.hl_levels[number] = level
        if level == "20":
            self.context = {}
        elif level == "22":
            self.context = {key: self.context.get(key, "") for key in _BILLING}

    def on_nm1(self, p: list[str], n: int) -> None:
        entity = p[1]
        npi = p[9] if p[8] == NPI_QUALIFIER else ""
        if npi and not _npi_ok(npi):
            self.find("invalid_npi", f"NPI {npi!r} (NM1*{entity}) fails the check digit.", p, n,
                      9, "Correct the NPI; NPPES lists the right one.")
        if entity == "85":
            self.context["billing_npi"] = npi
            self.context["billing_name"] = p[3]
        elif entity == "IL" and self.claim is None:  # inside a claim: 2330A other subscriber
            self.context["member_id"] = p[9]
            self.context["patient_last"], self.context["patient_first"] = p[3], p[4]
        elif entity == "QC":
            self.context["patient_last"], self.context["patient_first"] = p[3], p[4]
        elif entity == "PR" and self.claim is None:
            self.context["payer_id"] = p[9]
        elif entity == "82" and self.claim is not None and self.line is None:
            self.claim.rendering_npi = npi
        elif entity == "DQ" and self.claim is not None and self.line is None:
            self.claim.supervising_npi = npi

    def on_clm(self, p: list[str], n: int) -> None:
        self.end_claim()
        location = p[5].split(self.component) if p[5] else []
        pos = location[0] if location else ""
        frequency = location[2] if len(location) > 2 else ""
        if frequency not in ("1", "6", "7", "8"):
            self.find("bad_frequency", f"CLM05-3 frequency {frequency!r} is not 1, 6, 7 or 8.",
                      p, n, 5, "Use 1 (original), 7 (replacement) or 8 (void).")
        if not p[1]:
            self.find("missing_claim_id", "CLM01 (patient control number) is empty.", p, n, 1,
                      "Give every claim its own id.")
        self.claim = _Claim(n, p[1], self.amount(p, n, 2), pos, frequency, dict(self.context))
        self.line = None

    def on_hi(self, p: list[str], n: int) -> None:
        if self.claim is None or self.line is not None:
            return
        component = self.component
        diagnoses = self.claim.diagnoses
        for value in p[1:]:
            if not value:
                continue
            parts = value.split(component)
            if len(parts) >= 2 and parts[0] in DIAGNOSIS_QUALIFIERS:
                diagnoses.append(parts[1])

    def on_lx(self, p: list[str], n: int) -> None:
        if self.claim is None:
            self.find("line_outside_claim", "LX before any CLM.", p, n, None,
                      "Service lines belong to a claim.")
            return
        number = p[1]
        expected = len(self.claim.lines) + 1
        if number != str(expected):
            self.find("lx_sequence", f"LX01 is {number!r}; {expected} was expected.", p, n, 1,
                      "Number the lines of each claim 1, 2, 3...", Severity.WARNING)
        self.line = _Line(expected, n)
        self.claim.lines.append(self.line)

    def on_sv1(self, p: list[str], n: int) -> None:
        line = self.line
        if line is None:
            self.find("sv1_outside_line", "SV1 without an LX.", p, n, None,
                      "Start every service line with LX.")
            return
        first = p[1]
        code, modifiers, good = _parse_procedure(first, self.component)
        if not good:
            self.find("bad_procedure", f"SV101 {first!r} is not HC:code.", p, n, 1,
                      "Write the procedure as HC:code:modifiers.")
        line.code = code
        line.modifiers = modifiers
        line.charge = self.amount(p, n, 2)
        line.units = self.amount(p, n, 4)
        if line.units <= 0:
            self.find("bad_units", f"SV104 units {p[4]!r} must be more than zero.", p, n, 4,
                      "Bill at least one unit, or drop the line.")
        count = len(self.claim.diagnoses) if self.claim is not None else 0
        line.pointers = self.pointers(p, n, count)

    def pointers(self, p: list[str], n: int, count: int) -> tuple[int, ...]:
        raw = p[7]
        out, bad, highest = _parse_pointers(raw, self.component)
        if bad or not raw or highest > count or highest > 12 or (out and min(out) < 1):
            self.pointer_findings(p, n, count, out, bad)
        return out

    def pointer_findings(self, p: list[str], n: int, count: int, out: tuple[int, ...],
                         bad: tuple[str, ...]) -> None:
        limit = min(count, 12)
        for text in bad:
            self.find("bad_pointer", f"SV107 pointer {text!r} is not a number.", p, n, 7,
                      "Point at a diagnosis in the claim's HI segment (1-12).")
        for pointer in out:
            if not 0 < pointer <= limit:
                self.find("bad_pointer", f"SV107 pointer '{pointer}' does not point at one of "
                          f"the claim's {count} diagnoses.", p, n, 7,
                          "Point at a diagnosis in the claim's HI segment (1-12).")
        if not p[7]:
            self.find("missing_pointer", "SV107 has no diagnosis pointer.", p, n, 7,
                      "Point the line at one to four HI diagnoses.")

    def on_dtp(self, p: list[str], n: int) -> None:
        if self.claim is None:
            return
        day = self.day(p, n)
        if day is None:
            return
        qualifier = p[1]
        if self.line is not None:
            if qualifier == "472":
                self.line.day = day
        else:
            self.claim.dates.append((qualifier, day))

    def on_ref(self, p: list[str], n: int) -> None:
        qualifier, value = p[1], p[2]
        if self.claim is None:
            if qualifier == "EI":  # 2010AA: the billing provider's EIN
                self.context["billing_tax_id"] = value
            return
        if not value and (len(p) - len(_PAD)) < 3:
            return
        if self.line is not None:
            if qualifier == "6R":
                self.line.control_number = value
        elif qualifier == "G1":
            self.claim.prior_authorization = value
        elif qualifier == "F8":
            self.claim.original_reference = value

    # -- claim end --------------------------------------------------------------------------

    def end_claim(self) -> None:
        claim = self.claim
        if claim is None:
            return
        self.claim, self.line = None, None
        n = claim.segment
        clm = ["CLM"]
        if not claim.diagnoses:
            self.find("missing_diagnosis", f"Claim {claim.claim_id} has no HI diagnosis codes.",
                      clm, n, None, "Add the HI segment with ABK (principal) diagnosis.")
        lines = claim.lines
        if not lines:
            self.find("no_lines", f"Claim {claim.claim_id} has no service lines.", clm, n, None,
                      "Every claim needs at least one LX/SV1 line.")
        if len(lines) > 50:
            self.find("too_many_lines", f"Claim {claim.claim_id} has {len(lines)} lines; "
                      "the 837P allows 50.", clm, n, None, "Split the claim.")
        total = sum([line.charge for line in lines], ZERO)
        if lines and total != claim.charge:
            self.find("charge_mismatch", f"CLM02 is {format_amount(claim.charge)} but the lines "
                      f"add up to {format_amount(total)}.", clm, n, 2,
                      "Make CLM02 the sum of the SV102 line charges.")
        if claim.frequency in ("7", "8") and not claim.original_reference:
            self.find("missing_original_reference", f"Claim {claim.claim_id} has frequency "
                      f"{claim.frequency} but no REF*F8 original claim number.", clm, n, 5,
                      "Add REF*F8 with the payer's claim control number.")
        for line in lines:
            if line.day is None:
                self.find("missing_service_date", f"Line {line.number} of claim "
                          f"{claim.claim_id} has no DTP*472 service date.", ["LX"],
                          line.segment, None, "Add DTP*472*D8*CCYYMMDD after SV1.")
        self.claims.append(claim.freeze())


@lru_cache(maxsize=1024)
def _parse_procedure(value: str, component: str) -> tuple[str, tuple[str, ...], bool]:
    """SV101: the code, its modifiers, and whether it is a usable qualifier:code."""
    procedure = value.split(component) if value else []
    good = len(procedure) >= 2 and procedure[0] in ("HC", "ER", "IV", "WK")
    return (procedure[1] if len(procedure) > 1 else "",
            tuple(m for m in procedure[2:6] if m), good)


@lru_cache(maxsize=4096)
def _parse_amount(raw: str) -> Decimal | None:
    """An R amount, or None when it is not a finite number (cached: amounts repeat a lot)."""
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


@lru_cache(maxsize=4096)
def _parse_date(fmt: str, raw: str) -> tuple[date | None, str]:
    """A D8/RD8 date and "" , or None and "format" / "real" for what is wrong with it."""
    text = raw.split("-")[0] if fmt == "RD8" else raw
    if fmt not in ("D8", "RD8") or len(text) != 8 or not text.isdigit():
        return None, "format"
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:])), ""
    except ValueError:
        return None, "real"


@lru_cache(maxsize=1024)
def _parse_pointers(raw: str, component: str
                    ) -> tuple[tuple[int, ...], tuple[str, ...], int]:
    """SV107's pointers as numbers, the parts that are not numbers, and the highest pointer."""
    parts = raw.split(component) if raw else []
    # isascii: str.isdigit accepts digits such as "²" that int() refuses.
    numbers = tuple(int(p) for p in parts if p.isascii() and p.isdigit())
    return (numbers, tuple(p for p in parts if not (p.isascii() and p.isdigit())),
            max(numbers, default=0))


_npi_ok = lru_cache(maxsize=1024)(is_valid_npi)


def read_837p(transaction: Transaction, delimiters: Delimiters,
              file: str = "") -> Transaction837P:
    """Read one 837P transaction set into claims and located findings.

    Args:
        transaction: the ST..SE segments and their envelope (from ``split_transactions``).
        delimiters: the file's delimiters (for composites such as SV101 and CLM05).
        file: the file name for finding locations.

    Returns:
        The claims read and every finding, in file order.
    """
    reader = _Reader(delimiters, file)
    version = transaction.version
    if "X222" not in version:
        st = transaction.segments[0]
        reader.find("not_professional", f"Version {version!r} is not the professional 837 "
                    "(005010X222A1); only 837P is read.", ["ST"], st.number, 3,
                    "Send 837P files (X222); 837I (X223) and 837D (X224) are not read.")
        return Transaction837P(transaction.control_number, version, (),
                               tuple(reader.findings), transaction.group.get(6))
    reader.run(transaction.body)
    return Transaction837P(transaction.control_number, version, tuple(reader.claims),
                           tuple(reader.findings), transaction.group.get(6))


_STRIP = "\r\n\ufeff \t"


def read_837p_text(text: str, file: str = "") -> tuple[list[Transaction837P], list[Finding]]:
    """Read every 837P transaction set in a file's text in one pass, checking the envelope.

    The same reading and checks as ``tokenize`` + ``split_transactions`` + ``read_837p``
    (``tests/x12/test_p837_reader.py`` holds them together), without building a ``Segment``
    for every segment: only envelope segments become values. Sets whose ST01 is not 837 are
    skipped; like ``split_transactions``, a set without its SE, or outside ISA/GS, yields
    nothing (the envelope findings say why).

    Args:
        text: the whole X12 file.
        file: the file name for finding locations.

    Returns:
        The 837P transactions read, and the file's envelope findings (including an unusable
        ISA header or a missing final terminator, as ``tokenize`` reports them).
    """
    delimiters, envelope = detect_delimiters(text, file)
    if delimiters is None:
        return [], envelope
    checker = EnvelopeChecker(envelope, file)
    results: list[Transaction837P] = []
    reader: _Reader | None = None
    handlers: dict[str, Callable[[list[str], int], None]] = {}
    st: Segment | None = None
    element = delimiters.element
    number = 0
    pieces = text.split(delimiters.segment)
    body = 0  # body segments not yet added to checker.body (added before each envelope check)
    for raw in pieces:
        if not raw or raw[0] in _STRIP or raw[-1] in _STRIP:
            raw = raw.strip(_STRIP)
            if not raw:
                continue
        number += 1
        p = raw.split(element)
        handler = handlers.get(p[0])
        if handler is not None:
            body += 1
            p.extend(_PAD)
            handler(p, number)
            continue
        p[0] = p[0].strip()
        if st is not None and p[0] not in ENVELOPE_IDS:
            body += 1
            handler = handlers.get(p[0])
            if handler is not None:
                p.extend(_PAD)
                handler(p, number)
            continue
        checker.body += body
        body = 0
        seg = Segment(p[0], tuple(p[1:]), number)
        if not checker.envelope(seg):
            continue
        if seg.id == "ST":
            st = seg
            reader = _Reader(delimiters, file) if seg.get(1) == "837" else None
            handlers = reader.handlers if reader is not None else {}
            continue
        if reader is not None and st is not None and checker.isa and checker.gs:
            results.append(_finish(reader, st, checker.gs))
        st, reader, handlers = None, None, {}
    checker.body += body
    last = _last_segment(pieces, element, number)
    checker.finish(last)
    _check_terminated(text, delimiters, last, file, envelope)
    return results, envelope


def _last_segment(pieces: list[str], element: str, number: int) -> Segment | None:
    """The file's last segment (numbered ``number``), for end-of-file findings."""
    for raw in reversed(pieces):
        raw = raw.strip(_STRIP)
        if raw:
            parts = raw.split(element)
            return Segment(parts[0].strip(), tuple(parts[1:]), number)
    return None


def _finish(reader: _Reader, st: Segment, gs: Segment) -> Transaction837P:
    """The transaction read between ``st`` and its SE (the version as ``Transaction`` has it)."""
    version = st.get(3) or gs.get(8)
    if "X222" not in version:
        fresh = _Reader(reader.d, reader.file)
        fresh.find("not_professional", f"Version {version!r} is not the professional 837 "
                   "(005010X222A1); only 837P is read.", ["ST"], st.number, 3,
                   "Send 837P files (X222); 837I (X223) and 837D (X224) are not read.")
        return Transaction837P(st.get(2), version, (), tuple(fresh.findings), gs.get(6))
    reader.end_claim()
    return Transaction837P(st.get(2), version, tuple(reader.claims), tuple(reader.findings),
                           gs.get(6))


def _check_terminated(text: str, delimiters: Delimiters, last: Segment | None, file: str,
                      findings: list[Finding]) -> None:
    """``tokenize``'s warning when the last segment has no terminator (first, as there)."""
    trailing = "".join(c for c in "\r\n \t" if c != delimiters.segment)
    if last is not None and not text.rstrip(trailing).endswith(delimiters.segment):
        findings.insert(0, Finding("x12.envelope.unterminated", Severity.WARNING,
                                f"The last segment ({last.id}) has no segment terminator.",
                                last.location(file), "The file may be truncated; check IEA."))


# Compiled by mypyc, frozen values pickle through their constructor (a no-op otherwise).
_pickle_by_fields(__name__)
