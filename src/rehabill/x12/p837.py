"""837P writer: professional claims as an X12 005010X222A1 batch, streamed to a text sink.

The structure follows the ASC X12N 005010X222A1 implementation guide (Health Care Claim:
Professional): a header (BHT, 1000A submitter with PER, 1000B receiver), then a hierarchy of
HL levels: 2000A billing provider (20) → 2000B subscriber (22) → 2000C patient (23, only when the
patient is not the subscriber) → 2300 claims → 2400 service lines. Each HL names its parent in
HL02 and says in HL04 whether children follow.

Claims are grouped as they arrive: consecutive claims with the same billing provider share a
2000A, with the same subscriber and payer a 2000B, with the same dependent patient a 2000C. Feed
claims sorted by :func:`grouping_key` for the tightest batch; any order is still valid. Memory
does not grow with the batch: text goes to the sink every few claims.

Guide limits honoured: at most 100 claims (2300) under one subscriber or patient HL, at most 50
lines (2400) per claim (longer claims get a finding from :func:`check_claim`), and at most
``claims_per_transaction`` (guide recommendation: 5000) claims per ST/SE.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from rehabill.domain.claim import (
    Adjustment,
    Claim,
    ClaimLine,
    Frequency,
    LineAdjudication,
    PriorPayer,
)
from rehabill.domain.findings import Finding, Location, Severity
from rehabill.domain.money import format_amount
from rehabill.domain.pickling import pickle_by_fields as _pickle_by_fields
from rehabill.domain.visit import Address, Credential, Patient, Provider, Visit
from rehabill.errors import ConfigError
from rehabill.x12.envelope import (
    SegmentWriter,
    interchange_header,
    write_group_header,
    write_trailers,
)
from rehabill.x12.npi import is_valid_npi
from rehabill.x12.tokens import Delimiters

VERSION = "005010X222A1"
MAX_CLAIMS_PER_HL = 100
MAX_LINES_PER_CLAIM = 50
MAX_DIAGNOSES = 12
MAX_POINTERS = 4
MAX_CLAIM_ID = 20
MAX_CAS_PAIRS = 6

#: SBR09 claim filing indicator by coverage plan (005010X222A1 2000B SBR09 code list).
FILING_INDICATORS: dict[str, str] = {
    "medicare_part_b": "MB",
    "medicare": "MB",
    "medicare_advantage": "16",
    "medicaid": "MC",
    "commercial": "CI",
    "bcbs": "BL",
    "blue_cross": "BL",
    "hmo": "HM",
    "ppo": "12",
    "pos": "13",
    "epo": "14",
    "indemnity": "15",
    "workers_comp": "WC",
    "auto": "AM",
    "liability": "LM",
    "tricare": "CH",
    "champus": "CH",
    "va": "VA",
    "other_federal": "OF",
    "other_non_federal": "11",
    "title_v": "TV",
}

#: SBR01 payer responsibility by coverage sequence.
RESPONSIBILITY = {"primary": "P", "secondary": "S", "tertiary": "T"}

#: PAT01 individual relationship code by coverage relationship (2000C).
RELATIONSHIPS = {
    "spouse": "01",
    "child": "19",
    "employee": "20",
    "unknown": "21",
    "life_partner": "53",
    "other": "G8",
}

#: PRV03 provider taxonomy by credential (NUCC code set), for 2310B.
TAXONOMY = {
    Credential.PT: "225100000X",
    Credential.PTA: "225200000X",
    Credential.OT: "225X00000X",
    Credential.OTA: "224Z00000X",
    Credential.SLP: "235Z00000X",
    Credential.SLPA: "235500000X",
}


@dataclass(frozen=True, slots=True)
class BatchSettings:
    """Who sends to whom, with which control numbers: everything the envelope needs.

    The caller owns the control numbers (the shell keeps a persistent counter) so that every
    interchange it sends is unique (X12.5: ISA13 unique per sender/receiver pair). ``created``
    is passed in so that writing stays a pure function of its inputs.
    """

    submitter_name: str
    submitter_id: str
    receiver_name: str
    receiver_id: str
    interchange_control_number: int
    created: datetime
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    group_control_number: int = 0
    first_transaction_number: int = 1
    interchange_sender_id: str = ""
    interchange_receiver_id: str = ""
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    application_sender_code: str = ""
    application_receiver_code: str = ""
    production: bool = False
    delimiters: Delimiters = field(default_factory=Delimiters)
    claims_per_transaction: int = 5000
    batch_reference: str = ""
    line_breaks: bool = False
    uppercase: bool = True

    def __post_init__(self) -> None:
        if not (self.contact_phone or self.contact_email):
            raise ConfigError("the 1000A submitter PER needs a contact phone or e-mail")
        if not 0 < self.interchange_control_number < 1_000_000_000:
            raise ConfigError("the interchange control number must be 1..999999999")
        if self.claims_per_transaction < 1:
            raise ConfigError("claims_per_transaction must be at least 1")

    @property
    def group_number(self) -> int:
        """GS06, defaulting to the interchange control number."""
        return self.group_control_number or self.interchange_control_number


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """What a write produced: counts and the control numbers used."""

    claims: int
    lines: int
    transactions: int
    segments: int
    characters: int
    total_charge: Decimal
    interchange_control_number: int
    transaction_numbers: tuple[str, ...]


def grouping_key(claim: Claim) -> tuple[str, ...]:
    """Sort key that puts claims sharing a billing provider, subscriber/payer and patient together.

    Args:
        claim: any claim.

    Returns:
        A tuple of strings; sort a batch by it before writing for the fewest HL levels.
    """
    v = claim.visit
    return (v.billing_provider.npi, v.billing_provider.tax_id, v.coverage.payer_id,
            v.coverage.member_id, v.coverage.relationship, v.patient.id)


@lru_cache(maxsize=4096)
def x12_amount(value: Decimal) -> str:
    """An amount as X12 R data: cents, trailing fractional zeros dropped ("80", "80.5")."""
    text = format_amount(value)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


@lru_cache(maxsize=4096)
def x12_date(value: date) -> str:
    """A D8 date: CCYYMMDD."""
    return value.strftime("%Y%m%d")


def filing_indicator(plan: str) -> str:
    """SBR09 for a coverage plan name ("ZZ" mutually defined when unknown)."""
    return FILING_INDICATORS.get(plan.lower(), "ZZ")


def diagnosis_code(code: str) -> str:
    """ICD-10-CM as X12 wants it: no decimal point, upper case ("I69.351" → "I69351")."""
    return code.replace(".", "").strip().upper()


def supervising_provider(visit: Visit, claim: Claim) -> Provider | None:
    """The 2310D supervising provider: the visit's, else the therapist who supervised the
    assistant on an assistant-furnished claim (CQ/CO lines, 42 CFR 410.59(a)(4)); None when
    the claim has no assistant services or the supervisor is already the rendering provider."""
    supervisor = visit.supervising_provider
    if supervisor is None and visit.assistant is not None and any(
            line.has_assistant_modifier for line in claim.lines):
        supervisor = visit.rendering_provider
    if supervisor is None or supervisor.npi == visit.rendering_provider.npi:
        return None
    return supervisor


class Writer837P:
    """Streams claims into one interchange; call :meth:`add` per claim, then :meth:`close`.

    Example::

        with open(path, "w") as out:
            writer = Writer837P(settings, out.write)
            for claim in claims:
                writer.add(claim)
            summary = writer.close()
    """

    def __init__(self, settings: BatchSettings, sink: Callable[[str], object],
                 flush_every: int = 64, *, envelope: bool = True) -> None:
        self.settings = settings
        self._envelope = envelope
        self._sink = sink
        self._flush_every = flush_every
        self._w = SegmentWriter(settings.delimiters)
        self._claims = 0
        self._lines = 0
        self._total = Decimal("0")
        self._segments = 0
        self._chars = 0
        self._transaction_numbers: list[str] = []
        self._in_transaction = False
        self._claims_in_transaction = 0
        self._hl = 0
        self._billing_key: object = None
        self._billing_hl = 0
        self._subscriber_key: object = None
        self._subscriber_hl = 0
        self._patient_key: object = None
        self._claims_in_hl = 0
        self._closed = False
        if envelope:
            _open_interchange(self._w, settings)
            self._segments += 1  # the ISA (written raw, so not in the writer's count)

    # -- envelope ---------------------------------------------------------------------------

    def _open_transaction(self) -> None:
        s = self.settings
        number = f"{s.first_transaction_number + len(self._transaction_numbers):04d}"
        self._transaction_numbers.append(number)
        self._segments += self._w.count
        self._w.reset_count()
        w = self._w
        w.segment("ST", "837", number, VERSION)
        reference = s.batch_reference or str(s.interchange_control_number)
        w.segment("BHT", "0019", "00", f"{reference}-{number}", s.created.strftime("%Y%m%d"),
                  s.created.strftime("%H%M"), "CH")
        w.segment("NM1", "41", "2", s.submitter_name, "", "", "", "", "46", s.submitter_id)
        contact = ["IC", s.contact_name]
        if s.contact_phone:
            contact += ["TE", s.contact_phone]
        if s.contact_email:
            contact += ["EM", s.contact_email]
        w.segment("PER", *contact)
        w.segment("NM1", "40", "2", s.receiver_name, "", "", "", "", "46", s.receiver_id)
        self._in_transaction = True
        self._claims_in_transaction = 0
        self._hl = 0
        self._billing_key = self._subscriber_key = self._patient_key = None

    def _close_transaction(self) -> None:
        count = self._w.count + 1
        self._w.segment("SE", str(count), self._transaction_numbers[-1])
        self._in_transaction = False

    # -- hierarchy --------------------------------------------------------------------------

    def _next_hl(self, parent: int, level: str, has_children: bool) -> int:
        self._hl += 1
        self._w.segment("HL", str(self._hl), str(parent) if parent else "", level,
                        "1" if has_children else "0")
        return self._hl

    def _place(self, claim: Claim) -> None:
        """Open the HL levels this claim needs (reusing the current ones when they match)."""
        v = claim.visit
        billing_key = (v.billing_provider,)
        is_self = v.coverage.relationship in ("self", "")
        subscriber_key = (v.coverage, is_self, v.patient if is_self else None)
        patient_key = None if is_self else v.patient
        full = self._claims_in_hl >= MAX_CLAIMS_PER_HL
        if billing_key != self._billing_key:
            self._billing_hl = self._next_hl(0, "20", True)
            self._write_billing_provider(v)
            self._billing_key, self._subscriber_key = billing_key, None
        if subscriber_key != self._subscriber_key or (is_self and full):
            self._subscriber_hl = self._next_hl(self._billing_hl, "22", not is_self)
            self._write_subscriber(v, is_self)
            self._subscriber_key, self._patient_key = subscriber_key, None
            self._claims_in_hl = 0
        if not is_self and (patient_key != self._patient_key or full):
            self._next_hl(self._subscriber_hl, "23", False)
            self._write_patient(v)
            self._patient_key = patient_key
            self._claims_in_hl = 0

    # -- loops ------------------------------------------------------------------------------

    def _u(self, text: str) -> str:
        """Names and addresses in upper case (what most payer front ends expect)."""
        return text.upper() if self.settings.uppercase else text

    def _address(self, address: Address) -> None:
        self._w.segment("N3", self._u(address.line1), self._u(address.line2))
        self._w.segment("N4", self._u(address.city), address.state.upper(), address.zip)

    def _write_billing_provider(self, v: Visit) -> None:
        """2000A PRV, 2010AA name/address/EIN, 2010AB pay-to address when it differs."""
        bp = v.billing_provider
        w = self._w
        if bp.taxonomy:
            w.segment("PRV", "BI", "PXC", bp.taxonomy)
        w.segment("NM1", "85", "2", self._u(bp.name), "", "", "", "", "XX", bp.npi)
        self._address(bp.address)
        w.segment("REF", "EI", bp.tax_id)
        if bp.pay_to is not None and bp.pay_to != bp.address:
            w.segment("NM1", "87", "2")
            self._address(bp.pay_to)

    def _write_subscriber(self, v: Visit, is_self: bool) -> None:
        """2000B SBR, 2010BA subscriber, 2010BB payer."""
        c = v.coverage
        w = self._w
        w.segment("SBR", RESPONSIBILITY.get(c.sequence, "P"), "18" if is_self else "",
                  c.group_number, "", "", "", "", "", filing_indicator(c.plan))
        if is_self:
            self._person("IL", v.patient.last_name, v.patient.first_name, c.member_id)
            if v.patient.address is not None:
                self._address(v.patient.address)
            self._demographics(v.patient.birth_date, v.patient.sex)
        else:
            sub = c.subscriber
            last = sub.last_name if sub else v.patient.last_name
            first = sub.first_name if sub else ""
            self._person("IL", last, first, c.member_id)
            if sub is not None and sub.address is not None:
                self._address(sub.address)
            if sub is not None and sub.birth_date is not None:
                self._demographics(sub.birth_date, sub.sex or "U")
        w.segment("NM1", "PR", "2", self._u(c.payer_name or c.payer_id), "", "", "", "", "PI",
                  c.payer_id)

    def _write_patient(self, v: Visit) -> None:
        """2000C PAT and 2010CA patient name, address, demographics."""
        p: Patient = v.patient
        self._w.segment("PAT", RELATIONSHIPS.get(v.coverage.relationship, "G8"))
        self._w.segment("NM1", "QC", "1", self._u(p.last_name), self._u(p.first_name))
        if p.address is not None:
            self._address(p.address)
        self._demographics(p.birth_date, p.sex)

    def _person(self, entity: str, last: str, first: str, member_id: str) -> None:
        self._w.segment("NM1", entity, "1", self._u(last), self._u(first), "", "", "", "MI",
                        member_id)

    def _demographics(self, birth_date: date, sex: str) -> None:
        self._w.segment("DMG", "D8", x12_date(birth_date), sex if sex in ("M", "F") else "U")

    def _write_claim(self, claim: Claim, total: Decimal) -> None:
        """2300 CLM (``total``: the claim's charge), dates, references, HI, then 2310B/2310D
        and the 2400 lines."""
        v = claim.visit
        w = self._w
        w.headed("CLM", claim.claim_id, x12_amount(total), "", "",
                  (v.place_of_service, "B", claim.frequency.value), "Y", "A", "Y", "Y")
        if v.onset_date is not None:
            w.repeated("DTP", "431", "D8", x12_date(v.onset_date))
        if v.plan_of_care is not None:
            w.repeated("DTP", "454", "D8", x12_date(v.plan_of_care.start))
        if v.authorization is not None and v.authorization.number:
            w.segment("REF", "G1", v.authorization.number)
        if claim.frequency is not Frequency.ORIGINAL and claim.original_reference:
            w.segment("REF", "F8", claim.original_reference)
        diagnoses = v.diagnoses[:MAX_DIAGNOSES]
        key = ("HI", diagnoses)  # a patient's codes recur visit after visit
        if diagnoses and not w.recall(key):
            start = w.mark()
            w.segment("HI", *[(("ABK" if i == 0 else "ABF"), diagnosis_code(code))
                              for i, code in enumerate(diagnoses)])
            w.keep(key, start)
        self._write_providers(v, claim)
        for prior in claim.prior_payers:
            self._write_prior_payer(v, prior)
        for index, line in enumerate(claim.lines[:MAX_LINES_PER_CLAIM], start=1):
            self._write_line(index, line, len(diagnoses))
            if claim.prior_payers:
                self._write_line_adjudication(line, claim.prior_payers)

    def _write_providers(self, v: Visit, claim: Claim) -> None:
        """2310B rendering provider (when not the billing one), 2310D supervising provider."""
        r = v.rendering_provider
        w = self._w
        # a practice's few therapists render every claim: their NM1 and PRV built once each
        key = ("NM1", "82", r.last_name, r.first_name, r.npi, r.credential)
        if r.npi != v.billing_provider.npi and not w.recall(key):
            start = w.mark()
            w.segment("NM1", "82", "1", self._u(r.last_name), self._u(r.first_name), "", "", "",
                      "XX", r.npi)
            w.segment("PRV", "PE", "PXC", TAXONOMY[r.credential])
            w.keep(key, start)
        supervisor = supervising_provider(v, claim)
        if supervisor is not None:
            self._w.repeated("NM1", "DQ", "1", self._u(supervisor.last_name),
                             self._u(supervisor.first_name), "", "", "", "XX", supervisor.npi)

    def _write_line(self, index: int, line: ClaimLine, diagnoses: int) -> None:
        """2400 LX, SV1 (HC:code:modifiers, charge, UN, units, pointers), DTP*472, REF*6R."""
        w = self._w
        # a month repeats its line shapes (position, code, charge, units): LX and SV1 once
        key = (index, line.code, line.modifiers, line.charge, line.units,
               line.diagnosis_pointers, diagnoses)
        if not w.recall(key):
            start = w.mark()
            w.segment("LX", str(index))
            pointers = tuple([str(p) for p in line.diagnosis_pointers[:MAX_POINTERS]
                              if 0 < p <= diagnoses]) or (("1",) if diagnoses else ())
            w.segment("SV1", ("HC", line.code, *line.modifiers[:4]), x12_amount(line.charge),
                      "UN", str(line.units), "", "", pointers)
            w.keep(key, start)
        day = line.date_of_service
        if not w.recall(day):  # a date: no other key is one
            start = w.mark()
            w.segment("DTP", "472", "D8", x12_date(day))
            w.keep(day, start)
        if line.control_number:
            w.tailed("REF", "6R", line.control_number)

    def _write_prior_payer(self, v: Visit, prior: PriorPayer) -> None:
        """2320 other subscriber (SBR, CAS, AMT*D, OI), 2330A subscriber, 2330B payer."""
        w = self._w
        is_self = prior.relationship in ("self", "")
        w.segment("SBR", RESPONSIBILITY.get(prior.sequence, "P"),
                  "18" if is_self else RELATIONSHIPS.get(prior.relationship, "G8"),
                  prior.group_number, "", "", "", "", "", filing_indicator(prior.plan))
        self._write_adjustments(prior.adjustments)
        w.segment("AMT", "D", x12_amount(prior.paid))
        w.segment("OI", "", "", "Y", "", "", "Y")
        sub = prior.subscriber
        if sub is not None and not is_self:
            self._person("IL", sub.last_name, sub.first_name, prior.member_id)
        else:
            self._person("IL", v.patient.last_name, v.patient.first_name, prior.member_id)
        w.segment("NM1", "PR", "2", self._u(prior.payer_name or prior.payer_id), "", "", "", "",
                  "PI", prior.payer_id)
        if not prior.lines:
            w.segment("DTP", "573", "D8", x12_date(prior.adjudicated))

    def _write_adjustments(self, adjustments: tuple[Adjustment, ...]) -> None:
        """CAS segments: one per group code, at most six reason/amount pairs each."""
        by_group: dict[str, list[Adjustment]] = {}
        for adjustment in adjustments:
            by_group.setdefault(adjustment.group, []).append(adjustment)
        for group, items in by_group.items():
            for start in range(0, len(items), MAX_CAS_PAIRS):
                elements: list[str] = [group]
                for a in items[start:start + MAX_CAS_PAIRS]:
                    elements += [a.reason, x12_amount(a.amount), ""]
                self._w.segment("CAS", *elements)

    def _write_line_adjudication(self, line: ClaimLine, priors: tuple[PriorPayer, ...]) -> None:
        """2430 per earlier payer that adjudicated the line: SVD, CAS, DTP*573."""
        for prior in priors:
            done = line_adjudication(prior, line)
            if done is None:
                continue
            self._w.segment("SVD", prior.payer_id, x12_amount(done.paid),
                            ("HC", done.code, *done.modifiers[:4]), "", str(done.units))
            self._write_adjustments(done.adjustments)
            self._w.segment("DTP", "573", "D8", x12_date(prior.adjudicated))

    # -- public -----------------------------------------------------------------------------

    def add(self, claim: Claim) -> None:
        """Write one claim (opening transactions and HL levels as needed)."""
        if self._closed:
            raise RuntimeError("the writer is closed")
        if self._in_transaction and \
                self._claims_in_transaction >= self.settings.claims_per_transaction:
            self._close_transaction()
        if not self._in_transaction:
            self._open_transaction()
        self._place(claim)
        total = claim.total_charge
        self._write_claim(claim, total)
        self._claims += 1
        self._claims_in_transaction += 1
        self._claims_in_hl += 1
        self._lines += min(len(claim.lines), MAX_LINES_PER_CLAIM)
        self._total += total
        if self._claims % self._flush_every == 0:
            self._flush()

    def _flush(self) -> None:
        text = self._w.take()
        if text:
            if self.settings.line_breaks:
                text = text.replace(self.settings.delimiters.segment,
                                    self.settings.delimiters.segment + "\n")
            self._chars += len(text)
            self._sink(text)

    def close(self) -> BatchSummary:
        """Write the trailers (SE, GE, IEA), flush, and say what was written.

        An empty batch still holds one transaction with only its header, which the guide does
        not allow; callers should not write a batch without claims.
        """
        if not self._closed:
            if not self._in_transaction and not self._transaction_numbers:
                self._open_transaction()
            if self._in_transaction:
                self._close_transaction()
            self._segments += self._w.count
            self._w.reset_count()
            if self._envelope:
                _close_interchange(self._w, self.settings, len(self._transaction_numbers))
            self._segments += self._w.count
            self._flush()
            self._closed = True
        return BatchSummary(self._claims, self._lines, len(self._transaction_numbers),
                            self._segments, self._chars, self._total,
                            self.settings.interchange_control_number,
                            tuple(self._transaction_numbers))


def _open_interchange(w: SegmentWriter, s: BatchSettings) -> None:
    """The ISA and GS of the interchange."""
    w.raw(interchange_header(
        sender_id=s.interchange_sender_id or s.submitter_id,
        receiver_id=s.interchange_receiver_id or s.receiver_id,
        control_number=s.interchange_control_number, created=s.created,
        production=s.production, delimiters=s.delimiters,
        sender_qualifier=s.sender_qualifier, receiver_qualifier=s.receiver_qualifier))
    write_group_header(w, functional_id="HC",
                       sender_code=s.application_sender_code or s.submitter_id,
                       receiver_code=s.application_receiver_code or s.receiver_id,
                       control_number=s.group_number, created=s.created, version=VERSION)


def _close_interchange(w: SegmentWriter, s: BatchSettings, transactions: int) -> None:
    """The GE and IEA of the interchange."""
    write_trailers(w, group_control_number=s.group_number, transactions=transactions,
                   interchange_control_number=s.interchange_control_number)


def envelope_837p(settings: BatchSettings, transactions: int) -> tuple[str, str]:
    """The interchange's text before its first ST (ISA, GS) and after its last SE (GE, IEA).

    With the transaction sets written apart (``write_837p(..., envelope=False)``, each with
    its own ``first_transaction_number``), head + the sets in order + tail is the file one
    ``write_837p`` of all the claims writes, byte for byte: each set starts its HL numbering
    and grouping afresh, so sets can be written in parallel.

    Args:
        settings: the interchange's settings.
        transactions: how many transaction sets the file holds (GE01).
    """
    w = SegmentWriter(settings.delimiters)
    _open_interchange(w, settings)
    head = w.take()
    _close_interchange(w, settings, transactions)
    tail = w.take()
    if settings.line_breaks:
        end = settings.delimiters.segment
        head, tail = head.replace(end, end + "\n"), tail.replace(end, end + "\n")
    return head, tail


def write_837p(claims: Iterable[Claim], settings: BatchSettings,
               sink: Callable[[str], object], *, envelope: bool = True) -> BatchSummary:
    """Write ``claims`` as one 837P interchange, chunk by chunk into ``sink``.

    Args:
        claims: the claims, ideally sorted by :func:`grouping_key`; consumed lazily.
        settings: submitter, receiver, control numbers, delimiters, test/production.
        sink: called with each chunk of text (``file.write``, ``list.append``...).
        envelope: False to write only the transaction sets (ST to SE), numbered from
            ``settings.first_transaction_number``; ``envelope_837p`` gives the rest.

    Returns:
        Counts, total charge and the control numbers used (without the envelope's segments
        when ``envelope`` is False).
    """
    writer = Writer837P(settings, sink, envelope=envelope)
    for claim in claims:
        writer.add(claim)
    return writer.close()


def render_837p(claims: Iterable[Claim], settings: BatchSettings) -> str:
    """The whole 837P as one string (for small batches and tests).

    Args:
        claims: the claims to write.
        settings: envelope settings.

    Returns:
        The X12 text.
    """
    chunks: list[str] = []
    write_837p(claims, settings, chunks.append)
    return "".join(chunks)


def line_adjudication(prior: PriorPayer, line: ClaimLine) -> LineAdjudication | None:
    """The earlier payer's adjudication of ``line``: matched by REF*6R control number when
    both have one, else by line number; None when the payer did not report the line."""
    for done in prior.lines:
        if line.control_number and done.control_number:
            if done.control_number == line.control_number:
                return done
        elif done.line_number == line.number:
            return done
    return None


def check_claim(claim: Claim) -> list[Finding]:
    """What the 837P guide needs that a claim lacks: findings, errors hold the claim back.

    These are X12-specific requirements (005010X222A1), not payer rules: the scrubber covers
    those. Args:
        claim: a coded claim.

    Returns:
        Findings with codes ``x12.837p.*``, located by visit and field.
    """
    v = claim.visit
    out: list[Finding] = []

    def add(code: str, message: str, field_name: str, fix: str,
            severity: Severity = Severity.ERROR) -> None:
        out.append(Finding(f"x12.837p.{code}", severity, message,
                           Location(visit_id=v.visit_id, claim_id=claim.claim_id,
                                    field=field_name), fix))

    for name, npi in _npis(v):
        if not is_valid_npi(npi):
            add("invalid_npi", f"NPI {npi!r} ({name}) fails the NPI check digit.", f"{name}.npi",
                "Correct the NPI; NPPES lists the right one.")
    if len(v.billing_provider.tax_id) != 9 or not v.billing_provider.tax_id.isdigit():
        add("invalid_tax_id", f"Tax id {v.billing_provider.tax_id!r} is not 9 digits.",
            "billing_provider.tax_id", "Enter the practice's EIN as 9 digits.")
    if len(v.billing_provider.address.zip) != 9:
        add("billing_zip_not_9", f"Billing provider ZIP {v.billing_provider.address.zip!r} must "
            "have 9 digits in loop 2010AA.", "billing_provider.address.zip",
            "Enter the ZIP+4 of the practice address.")
    if len(claim.claim_id) > MAX_CLAIM_ID:
        add("long_claim_id", f"Claim id {claim.claim_id!r} is {len(claim.claim_id)} characters; "
            f"many payers keep only {MAX_CLAIM_ID} of CLM01 and echo that in the 835.",
            "visit_id", f"Use visit ids of at most {MAX_CLAIM_ID} characters.", Severity.WARNING)
    _check_people(claim, add)
    _check_lines(claim, add)
    _check_prior_payers(claim, add)
    return out


def _npis(v: Visit) -> list[tuple[str, str]]:
    pairs = [("billing_provider", v.billing_provider.npi),
             ("rendering_provider", v.rendering_provider.npi)]
    if v.supervising_provider is not None:
        pairs.append(("supervising_provider", v.supervising_provider.npi))
    return pairs


def _check_people(claim: Claim, add: Callable[..., None]) -> None:
    v = claim.visit
    c = v.coverage
    if c.sequence not in ("", "primary") and not claim.prior_payers:
        add("secondary_without_prior_payer", f"Coverage sequence {c.sequence!r} needs what the "
            "earlier payer paid and adjusted (loops 2320 and 2430), and the claim has none.",
            "coverage.sequence", "Bill the primary payer first, then move the balance to the "
            "secondary once its remittance is posted.")
    if filing_indicator(c.plan) == "ZZ":
        add("unknown_plan", f"Coverage plan {c.plan!r} has no claim filing indicator; ZZ is "
            "sent.", "coverage.plan", "Use a known plan name (commercial, medicare_part_b...).",
            Severity.WARNING)
    is_self = c.relationship in ("self", "")
    if is_self and v.patient.address is None:
        add("missing_patient_address", "The patient is the subscriber, so loop 2010BA needs "
            "the patient's address.", "patient.address", "Add the patient's address.")
    if not is_self:
        if c.relationship not in RELATIONSHIPS:
            add("unknown_relationship", f"Relationship {c.relationship!r} is not one of self, "
                f"{', '.join(RELATIONSHIPS)}; G8 (other) is sent.", "coverage.relationship",
                "Use a known relationship.", Severity.WARNING)
        if c.subscriber is None:
            add("missing_subscriber", "The patient is not the subscriber, but the coverage has "
                "no subscriber name.", "coverage.subscriber", "Add the subscriber's name.")
        if v.patient.address is None:
            add("missing_patient_address", "Loop 2010CA needs the patient's address.",
                "patient.address", "Add the patient's address.")
    if claim.frequency is not Frequency.ORIGINAL and not claim.original_reference:
        add("missing_original_reference", f"Frequency {claim.frequency.value} needs the payer's "
            "claim control number of the original claim (REF*F8).", "original_reference",
            "Enter the payer claim number from the 835 or 277CA.")


def _check_prior_payers(claim: Claim, add: Callable[..., None]) -> None:
    """COB balancing (005010X222A1 section 1.4.4): per line, paid plus adjustments equals the
    line charge; per payer, the claim paid amount equals the line payments less the
    claim-level adjustments."""
    for prior in claim.prior_payers:
        if not prior.lines:
            continue
        for line in claim.lines:
            done = line_adjudication(prior, line)
            if done is not None and done.paid + done.adjusted != line.charge:
                add("cob_line_unbalanced", f"Line {line.number} ({line.code}): {prior.payer_id} "
                    f"paid {format_amount(done.paid)} and adjusted {format_amount(done.adjusted)}"
                    f", which is not the charge {format_amount(line.charge)}.",
                    f"lines[{line.number}].prior_payers",
                    "Copy the payer's line payment and every line adjustment from its 835.")
        expected = prior.lines_paid - prior.adjusted
        if prior.paid != expected:
            add("cob_claim_unbalanced", f"{prior.payer_id} paid {format_amount(prior.paid)} on "
                f"the claim, but its line payments less claim adjustments come to "
                f"{format_amount(expected)}.", "prior_payers",
                "Copy the payer's claim payment (CLP04) and claim-level adjustments from its 835.")


def _check_lines(claim: Claim, add: Callable[..., None]) -> None:
    v = claim.visit
    if not v.diagnoses:
        add("missing_diagnosis", "The claim has no diagnosis; HI is required.", "diagnoses",
            "Add the ICD-10-CM codes treated.")
    if len(v.diagnoses) > MAX_DIAGNOSES:
        add("too_many_diagnoses", f"{len(v.diagnoses)} diagnoses; an 837P holds 12.",
            "diagnoses", "Keep the 12 most relevant diagnoses.")
    if not claim.lines:
        add("no_lines", "The claim has no service lines.", "lines", "Code the visit first.")
    if len(claim.lines) > MAX_LINES_PER_CLAIM:
        add("too_many_lines", f"{len(claim.lines)} lines; an 837P claim holds 50.", "lines",
            "Split the visit into two claims.")
    for line in claim.lines:
        bad = [p for p in line.diagnosis_pointers if not 0 < p <= min(len(v.diagnoses), 12)]
        if bad or len(line.diagnosis_pointers) > MAX_POINTERS:
            add("bad_pointer", f"Line {line.number} ({line.code}) points at diagnoses "
                f"{list(line.diagnosis_pointers)}; the claim has {len(v.diagnoses)}.",
                f"lines[{line.number}].diagnosis_pointers",
                "Point at 1 to 4 of the claim's diagnoses.")
        if line.units < 1:
            add("zero_units", f"Line {line.number} ({line.code}) has {line.units} units.",
                f"lines[{line.number}].units", "Drop the line or correct its minutes.")


# Compiled by mypyc, frozen values pickle through their constructor (a no-op otherwise).
_pickle_by_fields(__name__)
