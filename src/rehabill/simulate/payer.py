"""Payer simulator: adjudicate our claims like Medicare Part B or a commercial plan.

It answers a batch the way payers do: a 999 for the batch, a 277CA accepting or rejecting each
claim at the front door, and 835 payments for the accepted ones (plus, now and then, a later
payment that reverses and corrects a claim, and provider-level PLB adjustments). Everything is
decided by a seeded ``random.Random`` and the shipped reference data, so a seed gives the same
files every time.

How a line is priced (CMS Pub 100-04 ch.12 §20 and ch.5 for therapy; commercial plans price
as a percentage of Medicare):

* allowed = PFS national non-facility amount x units (x the commercial percentage), never more
  than the charge; lines with CQ/CO (therapy assistant) at 85% (42 CFR 414.1(b)/§1834(v));
  an optional MPPR-style reduction on every timed line after the highest-priced one;
* CO-45 = charge - allowed; PR-1 deductible from what remains of the patient's deductible;
  PR-2 coinsurance (Medicare 20%) of what the deductible leaves; PR-3 a commercial copay once
  per claim; CO-253 sequestration (2% of Medicare's payment);
* denials with the reasons payers use: CO-4 (no GP/GO/GN), CO-97 / CO-236 (NCCI PTP pair
  without a distinct-service modifier), CO-151 (Medicare) or CO-119 (commercial) over the MUE,
  CO-197 (commercial, no authorization), CO-29 (received after the filing limit), and at the
  configured rates CO-16 with a RARC (M51 / N290), CO-50 and the NCCI reasons.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, TypeVar, cast

from rehabill.domain.claim import Claim, ClaimLine
from rehabill.domain.money import CENT, ZERO, round_cents
from rehabill.domain.pickling import pickle_by_fields as _pickle_by_fields
from rehabill.domain.visit import (
    Address,
    Authorization,
    BillingProvider,
    Coverage,
    Credential,
    Patient,
    Provider,
    Visit,
)
from rehabill.errors import InputError
from rehabill.reference import Reference, load
from rehabill.reference.tables import PtpEdit
from rehabill.x12.ack277 import Ack277, ClaimAck, LineAck, StatusCode
from rehabill.x12.ack277 import write_277ca as write_277ca_text
from rehabill.x12.ack999 import Ack999, SetResponse
from rehabill.x12.ack999 import write_999 as write_999_text
from rehabill.x12.envelope import split_transactions
from rehabill.x12.fastbuild import positional_builder
from rehabill.x12.p837 import x12_date
from rehabill.x12.p837_reader import Transaction837P, read_837p
from rehabill.x12.remit835 import (
    Adjustment,
    AmountRef,
    ClaimPayment,
    DateRef,
    HeaderGroup,
    Party,
    Payment,
    Person,
    PlbItem,
    Procedure,
    ProviderAdjustment,
    RefId,
    Remark,
    Remittance,
    ServiceLine,
    Trace,
)
from rehabill.x12.remit835_write import write_835 as write_835_text
from rehabill.x12.tokens import tokenize

DISTINCT_MODIFIERS = frozenset({"59", "XE", "XS", "XP", "XU"})
DISCIPLINE_MODIFIERS = frozenset({"GP", "GO", "GN"})
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DenialRates:
    """Chances (0..1) that a line is denied for a reason at random, besides the rule-based ones."""

    missing_information: Decimal = Decimal("0.02")
    medical_necessity: Decimal = Decimal("0.01")
    bundling: Decimal = Decimal("0.01")
    claim_reversal: Decimal = Decimal("0.03")
    provider_adjustment: Decimal = Decimal("0.10")

    @classmethod
    def none(cls) -> DenialRates:
        """No random denials, reversals or PLBs (rule-based denials still apply)."""
        z = Decimal(0)
        return cls(z, z, z, z, z)


@dataclass(frozen=True, slots=True)
class PayerProfile:
    """How one payer prices and denies."""

    payer_id: str
    name: str
    medicare: bool
    percent_of_medicare: Decimal = Decimal("100")
    deductible: Decimal = Decimal("0")
    coinsurance: Decimal = Decimal("0.20")
    copay: Decimal = Decimal("0")
    assistant_rate: Decimal = Decimal("0.85")
    mppr_rate: Decimal | None = None
    sequestration: Decimal = Decimal("0")
    filing_limit_days: int = 365
    requires_authorization: bool = False
    rates: DenialRates = field(default_factory=DenialRates)

    @property
    def filing_indicator(self) -> str:
        """CLP06: MB (Medicare Part B) or 12 (a commercial plan answers as a PPO): the 835's
        list (005010X221A1 CLP06) has no CI, the 837P's SBR09 for commercial insurance."""
        return "MB" if self.medicare else "12"


MEDICARE = PayerProfile("MEDICARE", "MEDICARE PART B", True, deductible=Decimal("257.00"),
                        sequestration=Decimal("0.02"))
COMMERCIAL = PayerProfile("COMMERCIAL", "GENERIC COMMERCIAL", False,
                          percent_of_medicare=Decimal("115"), deductible=Decimal("500.00"),
                          coinsurance=Decimal("0.10"), copay=Decimal("30.00"),
                          filing_limit_days=90, requires_authorization=True)


@dataclass(frozen=True, slots=True)
class Adjudication:
    """What the payer sends back for a batch: 999, 277CA and 835 payments (models)."""

    ack_999: Ack999
    ack_277: Ack277
    payments: tuple[Remittance, ...]

    def texts(self, *, payer_id: str, submitter_id: str) -> dict[str, str]:
        """The three files' text by suggested file suffix ("999", "277", "835")."""
        return {
            "999": write_999_text([self.ack_999], sender_id=payer_id, receiver_id=submitter_id),
            "277": write_277ca_text([self.ack_277], sender_id=payer_id,
                                    receiver_id=submitter_id),
            "835": write_835_text(self.payments, sender_id=payer_id, receiver_id=submitter_id),
        }


@dataclass(slots=True)
class _Priced:
    """A line's adjudication in progress (mutable while built)."""

    line: ClaimLine
    allowed: Decimal = ZERO
    adjustments: list[Adjustment] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)
    denied: bool = False

    # Written out as the dataclass would generate it (None stands for a new empty list): mypyc
    # compiles this one, not a generated __init__.
    def __init__(self, line: ClaimLine, allowed: Decimal = ZERO,
                 adjustments: list[Adjustment] | None = None, remarks: list[str] | None = None,
                 denied: bool = False) -> None:
        self.line = line
        self.allowed = allowed
        self.adjustments = [] if adjustments is None else adjustments
        self.remarks = [] if remarks is None else remarks
        self.denied = denied

    def deny(self, reason: str, remark: str = "") -> None:
        self.denied = True
        self.allowed = ZERO
        self.adjustments = [Adjustment("CO", reason, self.line.charge)]
        self.remarks = [remark] if remark else []

    @property
    def paid(self) -> Decimal:
        return self.line.charge - sum((a.amount for a in self.adjustments), ZERO)


class PayerSimulator:
    """Adjudicates batches for one payer profile; deductibles carry over between batches."""

    def __init__(self, profile: PayerProfile, *, seed: int = 0,
                 reference: Reference | None = None) -> None:
        self.profile = profile
        self.random = random.Random(seed)
        self.reference = reference or load()
        self.deductible_met: dict[str, Decimal] = {}
        self.claim_counter = 0
        self.trace_counter = 0
        self._bundling: dict[tuple[str, date], tuple[PtpEdit, ...]] = {}
        self._memo: dict[tuple[object, tuple[object, ...]], object] = {}
        self._prices: dict[tuple[str, date, int, bool], Decimal] = {}
        self._odds = _Odds.of(profile.rates)
        # TRN03: "1" + a 9-digit id; each payer its own, so trace keys never collide.
        self.originator = "1" + f"{zlib.crc32(profile.payer_id.encode()) % 10**9:09d}"

    # ------------------------------------------------------------------ batch

    def adjudicate(self, claims: Sequence[Claim], *, received: date | None = None,
                   group_control_number: str = "1", set_control_number: str = "0001",
                   paid_on: date | None = None, not_after: date | None = None
                   ) -> Adjudication:
        """Answer one 837P batch.

        Args:
            claims: our claims, in batch order.
            received: when the payer received the batch (default: a week after the last DOS).
            group_control_number: the batch's GS06 (echoed in the 999 AK1).
            set_control_number: the batch's ST02 (echoed in the 999 AK2).
            paid_on: the payment date (default: received + 14 days).
            not_after: no payment, reversal or correction is dated later than this (a
                simulation run "today" never pays in the future).

        Returns:
            The 999, the 277CA and the 835 payments.
        """
        last = max((c.date_of_service for c in claims), default=date(2026, 1, 1))
        received = received or last + timedelta(days=7)
        paid_on = paid_on or received + timedelta(days=14)
        if not_after is not None:
            paid_on = min(paid_on, not_after)
        totals = [c.total_charge for c in claims]  # CLM02 of each, summed once
        acks = [self._front_door(c, received, t) for c, t in zip(claims, totals, strict=True)]
        accepted = [c for c, ack in zip(claims, acks, strict=True)
                    if ack.statuses[0].category == "A2"]
        ack999 = Ack999("0001", "HC", group_control_number, "005010X222A1",
                        (SetResponse("837", set_control_number, "005010X222A1", "A"),),
                        "A", 1, 1, 1)
        ack277 = Ack277("0001", f"B{group_control_number}", x12_date(received),
                        self.profile.name, self.profile.payer_id, "SUBMITTER", "SUBMITTER",
                        (StatusCode("A1", "19", "PR", x12_date(received), "WQ",
                                    sum(totals, ZERO)),),
                        tuple(acks))
        return Adjudication(ack999, ack277,
                            self._payments(accepted, received, paid_on, not_after))

    def _front_door(self, claim: Claim, received: date, total: Decimal) -> ClaimAck:
        """277CA: reject what a payer's front-end edits reject, accept the rest.

        Claim-level edits: no member id (A7:164, entity IL), no valid billing NPI (A7:562,
        entity 85), no diagnosis (A7:254). A line whose charge is not positive rejects the
        claim (A7:178 "submitted charges") and is itself reported in loop 2220D with STC03
        "U": 005010X214 reports service lines only to reject them (their STC03 takes U alone),
        so an accepted claim's lines are not listed.
        """
        visit = claim.visit
        day = x12_date(received)
        problem = None
        if not visit.coverage.member_id.strip():
            problem = ("164", "IL")
        elif not (visit.billing_provider.npi.isdigit() and len(visit.billing_provider.npi) == 10):
            problem = ("562", "85")
        elif not visit.diagnoses:
            problem = ("254", "")
        bad_lines = [x for x in claim.lines if x.charge <= 0]
        if problem is None and bad_lines:
            problem = ("178", "")
        status = (StatusCode("A7", problem[0], problem[1], day, "U", total)
                  if problem else StatusCode("A2", "20", "PR", day, "WQ", total))
        self.claim_counter += 1
        dos = x12_date(claim.date_of_service)
        rejected = self._shared(_line_rejected, day) if bad_lines else ()
        return ClaimAck(claim.claim_id, (status,), self._payer_claim_number(),
                        visit.patient.last_name.upper(), visit.patient.first_name.upper(),
                        visit.coverage.member_id, visit.billing_provider.npi,
                        f"{dos}-{dos}", tuple(
                            LineAck(self._procedure(x), x.charge, str(x.units),
                                    x.control_number, "", rejected)
                            for x in bad_lines),
                        provider_name=visit.billing_provider.name.upper())

    def _payer_claim_number(self) -> str:
        return f"{self.profile.payer_id[:3]}{self.random.randrange(10**9, 10**10)}"

    # ------------------------------------------------------------------ 835

    def _payments(self, claims: Sequence[Claim], received: date, paid_on: date,
                  not_after: date | None = None) -> tuple[Remittance, ...]:
        if not claims:
            return ()
        answers = [self.adjudicate_claim(c, received) for c in claims]
        main = self._remittance(answers, paid_on, claims[0])
        redo = [(a, c) for a, c in zip(answers, claims, strict=True)
                if a.paid > 0 and self._chance(self._odds.claim_reversal)]
        if not redo:
            return (main,)
        later = paid_on + timedelta(days=21)
        if not_after is not None:
            later = max(min(later, not_after), paid_on)
        corrected: list[ClaimPayment] = []
        for answer, claim in redo:
            corrected += [reverse_claim(answer), self._correct(answer, claim)]
        return main, self._remittance(corrected, later, claims[0], plb=False)

    def _remittance(self, answers: Sequence[ClaimPayment], paid_on: date, first: Claim,
                    *, plb: bool = True) -> Remittance:
        self.trace_counter += 1
        provider = first.visit.billing_provider
        adjustments: tuple[ProviderAdjustment, ...] = ()
        if plb and self._chance(self._odds.provider_adjustment):
            adjustments = (self._plb(provider.npi, paid_on),)
        total = sum((a.paid for a in answers), ZERO) - sum((p.total for p in adjustments), ZERO)
        if total < 0:
            # BPR02 cannot be negative: the payer forwards the balance (PLB FB) and takes it
            # from a later payment (005010X221A1 PLB, reason FB "forwarding balance").
            forward = PlbItem("FB", self._payer_claim_number(), total)
            adjustments = (*adjustments, ProviderAdjustment(
                first.visit.billing_provider.npi, f"{paid_on.year}1231", (forward,)))
            total = ZERO
        method = "ACH" if total > 0 else "NON"
        trace = f"{'EFT' if total > 0 else 'NP'}{paid_on:%y%m%d}{self.trace_counter:05d}"
        return Remittance(
            f"{self.trace_counter:04d}",
            Payment("I" if total > 0 else "H", total, "C", method, "CCP" if total > 0 else "",
                    ("01", "111000025", "DA", "123456789", "1512345678", "", "01",
                     "222000111", "DA", "987654321") if total > 0 else (),
                    x12_date(paid_on)),
            Trace("1", trace, self.originator),
            self._shared(_payer_party, self.profile.name, self.profile.payer_id),
            Party("PE", provider.name.upper(), "XX", provider.npi,
                  refs=(RefId("TJ", provider.tax_id),) if provider.tax_id else ()),
            dates=(DateRef("405", x12_date(paid_on)),),
            groups=(HeaderGroup("1"),), claims=tuple(answers),
            provider_adjustments=adjustments)

    def _plb(self, npi: str, paid_on: date) -> ProviderAdjustment:
        if self.random.randrange(2):
            item = PlbItem("L6", "INTEREST", -Decimal(self.random.randrange(50, 900)) / 100)
        else:
            item = PlbItem("WO", self._payer_claim_number(),
                           Decimal(self.random.randrange(500, 4000)) / 100)
        return ProviderAdjustment(npi, f"{paid_on.year}1231", (item,))

    def _chance(self, odds: int) -> bool:
        """True ``odds`` times in 10,000 (one draw, whatever the odds).

        The draw is ``randrange(10_000)`` as ``random.Random`` makes it (14 random bits until
        they are below 10,000: ``_randbelow``), without its argument checks; it is made three
        times a line (tests/simulate/test_payer.py holds the two the same).
        """
        draw = self.random.getrandbits(14)
        while draw >= 10_000:
            draw = self.random.getrandbits(14)
        return draw < odds

    def _shared(self, make: Callable[..., T], *args: Any) -> T:
        """``make(*args)``, built once per run for each set of arguments: the immutable parts
        every answer repeats (a code's procedure, a day's dates and statuses)."""
        key = (make, args)
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) >= 65536:  # a long run's codes x days must not pile up
                self._memo.clear()
            found = self._memo[key] = make(*args)
        return cast(T, found)

    # ------------------------------------------------------------------ one claim

    def adjudicate_claim(self, claim: Claim, received: date) -> ClaimPayment:
        """Price and adjudicate one claim into its CLP loop (balanced by construction).

        Args:
            claim: our claim.
            received: when the payer received it (for timely filing).

        Returns:
            The claim payment with line-level CAS and remarks.
        """
        priced = [_Priced(line) for line in claim.lines]
        late = (received - claim.date_of_service).days > self.profile.filing_limit_days
        for item in priced:
            self._price(item, claim)
        if late:
            for item in priced:
                item.deny("29")
        else:
            self._rule_denials(priced, claim)
            self._random_denials(priced)
            self._patient_share(priced, claim)
        return self._claim_payment(claim, priced, late)

    def _price(self, item: _Priced, claim: Claim) -> None:
        line = item.line
        assisted = "CQ" in line.modifiers or "CO" in line.modifiers
        if self.profile.mppr_rate is None:
            # Without MPPR a fee-schedule price depends on the code, day, units and CQ/CO
            # alone, and a clinic bills the same few: each is worked out once per run.
            key = (line.code, line.date_of_service, line.units, assisted)
            fee = self._prices.get(key)
            if fee is None:
                fee, scheduled = self._fee_price(line, assisted, claim)
                if scheduled:
                    if len(self._prices) >= 65536:  # a long run's codes x days
                        self._prices.clear()
                    self._prices[key] = fee
        else:
            fee = self._fee_price(line, assisted, claim)[0]
        item.allowed = min(fee, line.charge)
        if line.charge > item.allowed:
            item.adjustments.append(Adjustment("CO", "45", line.charge - item.allowed))

    def _fee_price(self, line: ClaimLine, assisted: bool, claim: Claim
                   ) -> tuple[Decimal, bool]:
        """The payer's price of ``line`` before it is held to the charge (in cents), and
        whether it is the fee schedule's (not a share of the charge, for a code without a
        fee)."""
        row = self.reference.fees.get(line.code, line.date_of_service)
        base = row.nonfac_amount * line.units if row is not None else line.charge * Decimal(
            "0.60")
        if not self.profile.medicare:
            base = base * self.profile.percent_of_medicare / 100
        if assisted:
            base = base * self.profile.assistant_rate
        if (self.profile.mppr_rate is not None and self.reference.codes.is_timed(line.code)
                and line is not _highest(claim.lines, self)):
            base = base * self.profile.mppr_rate
        return round_cents(base), row is not None

    def _rule_denials(self, priced: list[_Priced], claim: Claim) -> None:
        on = claim.date_of_service
        codes = {p.line.code for p in priced}
        for item in priced:
            line = item.line
            if self.profile.medicare and DISCIPLINE_MODIFIERS.isdisjoint(line.modifiers):
                item.deny("4", "N519")
                continue
            edits = self._bundled_into(line.code, on)
            edit = next((e for e in edits if e.column1 in codes), None) if edits else None
            # Indicator 0: no modifier unbundles the pair; 1: 59/X{EPSU} does (NCCI ch.1 §E).
            if edit is not None and (edit.modifier_indicator == 0
                                     or DISTINCT_MODIFIERS.isdisjoint(line.modifiers)):
                item.deny("97" if edit.modifier_indicator == 1 else "236", "M15")
                continue
            mue = self.reference.mue.get(line.code, on)
            if mue is not None and line.units > mue.value:
                item.deny("151" if self.profile.medicare else "119", "N362")
                continue
            if self.profile.requires_authorization and claim.visit.authorization is None:
                item.deny("197", "N54")

    def _bundled_into(self, code: str, on: date) -> tuple[PtpEdit, ...]:
        """The NCCI edits in force on ``on`` that bundle ``code`` (as column 2) into another
        code, in the table's order; asked for every line, answered once per code and day."""
        key = (code, on)
        found = self._bundling.get(key)
        if found is None:
            if len(self._bundling) >= 65536:  # codes x days of a long run must not pile up
                self._bundling.clear()
            found = self._bundling[key] = tuple(
                e for e in self.reference.ncci.partners(code, on) if e.column2 == code)
        return found

    def _random_denials(self, priced: list[_Priced]) -> None:
        odds = self._odds
        for item in priced:
            if item.denied:
                continue
            if self._chance(odds.missing_information):
                item.deny("16", self.random.choice(("M51", "N290", "MA130")))
            elif self._chance(odds.medical_necessity):
                item.deny("50", "N115")
            elif self._chance(odds.bundling):
                item.deny(self.random.choice(("97", "236")), "M15")

    def _patient_share(self, priced: list[_Priced], claim: Claim) -> None:
        patient = claim.visit.patient.id
        met = self.deductible_met.get(patient, ZERO)
        profile = self.profile
        copay_left = profile.copay
        # Only the adjustments that come out above zero are written, so the steps that cannot
        # give one are skipped: a deductible already met, no copay (Medicare), no
        # sequestration (commercial). ``remaining`` only feeds amounts rounded to cents.
        for item in priced:
            if item.denied or item.allowed <= 0:
                continue
            remaining = item.allowed
            adjustments = item.adjustments
            if met < profile.deductible:
                deductible = min(profile.deductible - met, remaining)
                met += deductible
                remaining -= deductible
                adjustments.append(Adjustment("PR", "1", deductible))
            copay = ZERO
            if copay_left:
                copay = min(copay_left, remaining)
                copay_left -= copay
                remaining -= copay
            if copay:
                adjustments.append(Adjustment("PR", "3", copay))
            else:
                coinsurance = (remaining * profile.coinsurance).quantize(
                    CENT, rounding=ROUND_HALF_UP)
                if coinsurance > 0:
                    remaining -= coinsurance
                    adjustments.append(Adjustment("PR", "2", coinsurance))
            if profile.sequestration:
                sequestration = round_cents(remaining * profile.sequestration)
                if sequestration > 0:
                    adjustments.append(Adjustment("CO", "253", sequestration))
        self.deductible_met[patient] = met

    def _claim_payment(self, claim: Claim, priced: list[_Priced], late: bool) -> ClaimPayment:
        # One pass over the lines for every total the CLP needs (the same sums, in order).
        lines = []
        paid = patient = allowed = ZERO
        all_denied, any_denied = True, False
        for item in priced:
            x = self._service_line(item)
            lines.append(x)
            paid += x.paid
            for a in x.adjustments:
                if a.group == "PR":
                    patient += a.amount
            allowed += item.allowed
            if item.denied:
                any_denied = True
            else:
                all_denied = False
        visit = claim.visit
        dos = x12_date(claim.date_of_service)
        remarks = ("", "", "MA01") if self.profile.medicare and any_denied else ()
        return ClaimPayment(
            claim.claim_id, "4" if all_denied else "1", claim.total_charge, paid, patient,
            self.profile.filing_indicator, self._payer_claim_number(), ("11", "1"),
            people=self._shared(_patient_names, visit.patient.last_name,
                                visit.patient.first_name, visit.coverage.member_id),
            outpatient=remarks, dates=self._shared(_claim_dates, dos),
            amounts=(AmountRef("AU", allowed),) if not late else (), lines=tuple(lines),
            lx="1")

    def _service_line(self, item: _Priced) -> ServiceLine:
        line = item.line
        return ServiceLine(
            self._procedure(line), line.charge, item.paid,
            units=Decimal(line.units),
            dates=self._shared(_line_dates, line.date_of_service),
            adjustments=tuple(item.adjustments),
            refs=(RefId("6R", line.control_number),) if line.control_number else (),
            amounts=(AmountRef("B6", item.allowed),) if not item.denied else (),
            remarks=tuple([self._shared(Remark, "HE", r) for r in item.remarks])
            if item.remarks else ())

    def _procedure(self, line: ClaimLine) -> Procedure:
        """SVC01 / 277CA SVC01 of a line: one value per code and modifiers for the run (the
        277CA and the 835 both ask, for every line)."""
        return self._shared(Procedure, "HC", line.code, line.modifiers)

    def _correct(self, answer: ClaimPayment, claim: Claim) -> ClaimPayment:
        """A corrected payment: the payer re-prices one line a little lower (CO-45)."""
        lines = list(answer.lines)
        index = next((i for i, x in enumerate(lines) if x.paid > 0), None)
        if index is not None:
            cut = min(lines[index].paid, Decimal(self.random.randrange(100, 1000)) / 100)
            x = lines[index]
            lines[index] = replace(x, paid=x.paid - cut,
                                   adjustments=(*x.adjustments, Adjustment("CO", "45", cut)))
        paid = sum((x.paid for x in lines), ZERO)
        return replace(answer, paid=paid, payer_claim_number=self._payer_claim_number(),
                       lines=tuple(lines))


@dataclass(frozen=True, slots=True)
class _Odds:
    """The denial rates as chances in 10,000 (what one ``randrange(10_000)`` draw is below)."""

    missing_information: int
    medical_necessity: int
    bundling: int
    claim_reversal: int
    provider_adjustment: int

    @classmethod
    def of(cls, rates: DenialRates) -> _Odds:
        return cls(*(int(getattr(rates, f.name) * 10_000) for f in fields(cls)))


def _line_rejected(day: str) -> tuple[StatusCode, ...]:
    """Loop 2220D's status of a line with no positive charge: rejected (STC03 U)."""
    return (StatusCode("A7", "178", "", day, "U"),)


def _payer_party(name: str, payer_id: str) -> Party:
    """Loop 1000A as a payer sends it (005010X221A1): N1*PR, the address, REF*2U the payer id
    the claims were billed to (837P loop 2010BB NM109; the 835's TRN03 is "1" and an EIN-style
    number, not that id), so posting knows the 835's payer (``ledger.payer_ids``); and the
    required PER*BL, the payer's technical contact."""
    return Party("PR", name, address=("PO BOX 1000",), city="DALLAS", state="TX",
                 zip="75201", refs=(RefId("2U", payer_id),),
                 contacts=(("BL", "EDI SUPPORT", "TE", "8005550100"),))


def _claim_dates(dos: str) -> tuple[DateRef, ...]:
    return (DateRef("232", dos), DateRef("233", dos))


def _patient_names(last: str, first: str, member_id: str) -> tuple[Person, ...]:
    return (Person("QC", "1", last.upper(), first.upper(), "", "", "MI", member_id),)


def _line_dates(day: date) -> tuple[DateRef, ...]:
    return (DateRef("472", x12_date(day)),)


def _highest(lines: Sequence[ClaimLine], sim: PayerSimulator) -> ClaimLine | None:
    """The line with the highest fee-schedule amount (MPPR leaves it whole)."""
    def fee(line: ClaimLine) -> Decimal:
        row = sim.reference.fees.get(line.code, line.date_of_service)
        return row.nonfac_amount if row is not None else ZERO
    return max(lines, key=fee, default=None)


def reverse_claim(answer: ClaimPayment) -> ClaimPayment:
    """The CLP02=22 reversal of a payment: every amount negated.

    (005010X221A1 front matter, "Reversals and Corrections".)

    Args:
        answer: the claim payment being taken back.

    Returns:
        The reversal, with the same claim id and payer claim number.
    """
    return replace(
        answer, status="22", charge=-answer.charge, paid=-answer.paid,
        patient_responsibility=-(answer.patient_responsibility or ZERO),
        adjustments=tuple(replace(a, amount=-a.amount) for a in answer.adjustments),
        amounts=(), lines=tuple(
            replace(x, charge=-x.charge, paid=-x.paid, amounts=(), adjustments=tuple(
                replace(a, amount=-a.amount) for a in x.adjustments))
            for x in answer.lines))


def profile_for(plan: str, profiles: Mapping[str, PayerProfile] | None = None) -> PayerProfile:
    """The profile for a coverage plan name: Medicare for ``medicare*``, else commercial."""
    if profiles and plan in profiles:
        return profiles[plan]
    return MEDICARE if plan.startswith("medicare") else COMMERCIAL


def write_files(adjudication: Adjudication, directory: Path, stem: str, *,
                payer_id: str, submitter_id: str) -> list[Path]:
    """Write ``stem.999``, ``stem.277`` and ``stem.835`` into ``directory`` (shell I/O).

    Args:
        adjudication: what the simulator decided.
        directory: where to write (created when missing).
        stem: the file name stem.
        payer_id: the payer's interchange id.
        submitter_id: our interchange id.

    Returns:
        The paths written.
    """
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix, text in adjudication.texts(payer_id=payer_id, submitter_id=submitter_id).items():
        path = directory / f"{stem}.{suffix}"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def simulate_batches(claims: Iterable[Claim], *, seed: int = 0,
                     received: date | None = None) -> dict[str, Adjudication]:
    """Adjudicate claims grouped by payer (coverage.payer_id), one simulator per payer.

    Args:
        claims: our claims (any payers).
        seed: the random seed (each payer's simulator gets seed + its order).
        received: when payers received the batches.

    Returns:
        The adjudication per payer id.
    """
    by_payer: dict[str, list[Claim]] = {}
    for claim in claims:
        by_payer.setdefault(claim.visit.coverage.payer_id, []).append(claim)
    out = {}
    for offset, (payer_id, group) in enumerate(sorted(by_payer.items())):
        profile = replace(profile_for(group[0].visit.coverage.plan), payer_id=payer_id)
        sim = PayerSimulator(profile, seed=seed + offset)
        out[payer_id] = sim.adjudicate(group, received=received)
    return out


def claims_from_837p(transaction: Transaction837P) -> list[Claim]:
    """Our claims as a payer sees them in an 837P (the simulator needs only these fields).

    The 837P does not carry everything a ``Visit`` holds (birth date, credentials, plan of
    care); the values the payer cannot see are filled with neutral placeholders. The plan is
    Medicare Part B for payer ids that name Medicare, commercial otherwise; the patient is
    identified by member id (deductibles follow it).

    Args:
        transaction: one 837P as read by ``rehabill.x12.p837_reader.read_837p``.

    Returns:
        One claim per CLM, lines as billed (REF*6R kept as the line control number).
    """
    claims = []
    # The parts many claims repeat (a practice, a patient, a therapist) are built once.
    shared: dict[tuple[object, ...], object] = {}

    def once(*key: Any) -> Any:
        found = shared.get(key)
        if found is None:
            found = shared[key] = key[0](*key[1:])
        return found

    nowhere = Address("", "", "", "")
    born = date(1950, 1, 1)
    for read in transaction.claims:
        day = min((x.date_of_service for x in read.lines if x.date_of_service is not None),
                  default=date(2026, 1, 1))
        plan = "medicare_part_b" if "MEDICARE" in read.payer_id.upper() else "commercial"
        visit = Visit(
            visit_id=read.claim_id, date_of_service=day,
            billing_provider=once(BillingProvider, read.billing_npi, read.billing_tax_id,
                                  read.billing_name or "BILLING PROVIDER", nowhere),
            patient=once(Patient, read.member_id or read.claim_id, read.patient_first_name,
                         read.patient_last_name, born, "U"),
            coverage=once(Coverage, read.payer_id, read.payer_id, read.member_id, plan),
            rendering_provider=once(Provider, read.rendering_npi or read.billing_npi, "", "",
                                    Credential.PT),
            services=(), diagnoses=read.diagnoses,
            authorization=once(Authorization, read.prior_authorization, day, day)
            if read.prior_authorization else None)
        lines = tuple([
            _new_claim_line(x.number, x.code, x.modifiers, int(x.units), x.charge,
                            x.date_of_service or day, x.diagnosis_pointers or (1,),
                            x.control_number, 0, 0, 0)
            for x in read.lines])
        claims.append(Claim(visit, lines, claim_id_override=read.claim_id))
    return claims


# Lines as claims_from_837p reads them: ClaimLine without its frozen __init__ (the minutes
# and service index the 837P does not carry are 0, ClaimLine's defaults).
_new_claim_line = positional_builder(ClaimLine)


def adjudicate_837p(text: str, *, seed: int = 0, file: str = "",
                    received: date | None = None) -> dict[str, Adjudication]:
    """Answer every 837P transaction in a file, per payer, echoing its GS06/ST02 in the 999.

    Args:
        text: the 837P file.
        seed: the random seed.
        file: the file name for findings.
        received: when payers received it.

    Returns:
        The adjudication per payer id (one per payer and transaction set, last one wins for
        a payer that appears in two sets).

    Raises:
        InputError: when the file has no usable ISA header.
    """
    delimiters, segments, findings = tokenize(text, file)
    if delimiters is None:
        raise InputError(findings[0].message if findings else "not an X12 file", location=file)
    out: dict[str, Adjudication] = {}
    for offset, txn in enumerate(split_transactions(segments, findings, file)):
        if txn.set_id != "837":
            continue
        claims = claims_from_837p(read_837p(txn, delimiters, file))
        by_payer: dict[str, list[Claim]] = {}
        for claim in claims:
            by_payer.setdefault(claim.visit.coverage.payer_id, []).append(claim)
        for number, (payer_id, group) in enumerate(sorted(by_payer.items())):
            profile = replace(profile_for(group[0].visit.coverage.plan), payer_id=payer_id)
            sim = PayerSimulator(profile, seed=seed + offset * 100 + number)
            out[payer_id] = sim.adjudicate(group, received=received,
                                           group_control_number=txn.group.get(6),
                                           set_control_number=txn.control_number)
    return out


# Compiled by mypyc, frozen values pickle through their constructor (a no-op otherwise).
_pickle_by_fields(__name__)
