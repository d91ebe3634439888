"""Claims: the coded form of a visit, as it goes to the payer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from rehabill.domain.money import ZERO
from rehabill.domain.visit import Subscriber, Visit


class Frequency(StrEnum):
    """CLM05-3 claim frequency: original, replacement of a prior claim, or void."""

    ORIGINAL = "1"
    REPLACEMENT = "7"
    VOID = "8"


class ClaimStatus(StrEnum):
    """Where a claim is in its life (issue 6 status history)."""

    DRAFT = "draft"
    SCRUBBED = "scrubbed"
    HELD = "held"
    BATCHED = "batched"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    DENIED = "denied"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class ClaimLine:
    """One service line (837P loop 2400 / CMS-1500 box 24).

    ``therapist_minutes`` and ``assistant_minutes`` record the documented minutes behind the
    line, so a reviewer can see why it has its units and modifiers.
    """

    number: int
    code: str
    modifiers: tuple[str, ...]
    units: int
    charge: Decimal
    date_of_service: date
    diagnosis_pointers: tuple[int, ...] = (1,)
    control_number: str = ""
    therapist_minutes: int = 0
    assistant_minutes: int = 0
    service_index: int = 0

    # Written out as the dataclass would generate it: compiled by mypyc this is native code,
    # about 20x faster than the generated one (tests/domain/test_inits.py keeps them the same).
    def __init__(self, number: int, code: str, modifiers: tuple[str, ...], units: int,
                 charge: Decimal, date_of_service: date,
                 diagnosis_pointers: tuple[int, ...] = (1,), control_number: str = "",
                 therapist_minutes: int = 0, assistant_minutes: int = 0,
                 service_index: int = 0) -> None:
        object.__setattr__(self, "number", number)
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "modifiers", modifiers)
        object.__setattr__(self, "units", units)
        object.__setattr__(self, "charge", charge)
        object.__setattr__(self, "date_of_service", date_of_service)
        object.__setattr__(self, "diagnosis_pointers", diagnosis_pointers)
        object.__setattr__(self, "control_number", control_number)
        object.__setattr__(self, "therapist_minutes", therapist_minutes)
        object.__setattr__(self, "assistant_minutes", assistant_minutes)
        object.__setattr__(self, "service_index", service_index)

    @property
    def has_assistant_modifier(self) -> bool:
        """True when the line carries CQ or CO."""
        return "CQ" in self.modifiers or "CO" in self.modifiers


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One adjustment an earlier payer made: group (CO, PR, OA, PI, CR), CARC and amount."""

    group: str
    reason: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class LineAdjudication:
    """What an earlier payer did with one service line (837P loop 2430).

    ``line_number`` and ``control_number`` (REF*6R) tie it to the claim's line; ``code``,
    ``modifiers`` and ``units`` are as the payer adjudicated them, which may differ from billed.
    """

    line_number: int
    control_number: str
    paid: Decimal
    code: str
    modifiers: tuple[str, ...] = ()
    units: int = 1
    adjustments: tuple[Adjustment, ...] = ()

    @property
    def adjusted(self) -> Decimal:
        """Sum of the line's adjustments."""
        return sum((a.amount for a in self.adjustments), ZERO)


@dataclass(frozen=True, slots=True)
class PriorPayer:
    """An earlier payer's adjudication of the claim, for coordination of benefits (loop 2320).

    ``member_id``, ``relationship``, ``plan`` and ``group_number`` describe that payer's
    coverage; ``sequence`` its responsibility (primary for the payer billed before a secondary);
    ``subscriber`` names the insured when it is not the patient. ``paid`` is the payer's claim
    paid amount (837P 2320 AMT*D); ``adjustments`` are its claim-level adjustments and ``lines``
    its line-level adjudication.
    """

    payer_id: str
    payer_name: str
    member_id: str
    plan: str
    paid: Decimal
    adjudicated: date
    relationship: str = "self"
    group_number: str = ""
    sequence: str = "primary"
    subscriber: Subscriber | None = None
    adjustments: tuple[Adjustment, ...] = ()
    lines: tuple[LineAdjudication, ...] = ()

    @property
    def lines_paid(self) -> Decimal:
        """Sum of the line paid amounts."""
        return sum((line.paid for line in self.lines), ZERO)

    @property
    def adjusted(self) -> Decimal:
        """Sum of the claim-level adjustments."""
        return sum((a.amount for a in self.adjustments), ZERO)


@dataclass(frozen=True, slots=True)
class Claim:
    """A professional claim for one visit.

    ``prior_payers`` holds what earlier payers did with it when it bills a secondary (or later)
    coverage; empty for a claim to the first payer.
    """

    visit: Visit
    lines: tuple[ClaimLine, ...]
    frequency: Frequency = Frequency.ORIGINAL
    original_reference: str = ""
    claim_id_override: str = ""
    prior_payers: tuple[PriorPayer, ...] = ()

    # Written out as the dataclass would generate it: compiled by mypyc this is native code,
    # about 20x faster than the generated one (tests/domain/test_inits.py keeps them the same).
    def __init__(self, visit: Visit, lines: tuple[ClaimLine, ...],
                 frequency: Frequency = Frequency.ORIGINAL, original_reference: str = "",
                 claim_id_override: str = "", prior_payers: tuple[PriorPayer, ...] = ()) -> None:
        object.__setattr__(self, "visit", visit)
        object.__setattr__(self, "lines", lines)
        object.__setattr__(self, "frequency", frequency)
        object.__setattr__(self, "original_reference", original_reference)
        object.__setattr__(self, "claim_id_override", claim_id_override)
        object.__setattr__(self, "prior_payers", prior_payers)

    @property
    def claim_id(self) -> str:
        """Patient control number (CLM01); the visit id unless set."""
        return self.claim_id_override or self.visit.visit_id

    @property
    def total_charge(self) -> Decimal:
        """Sum of line charges (CLM02 must equal it)."""
        return sum((line.charge for line in self.lines), ZERO)

    @property
    def date_of_service(self) -> date:
        """The visit's date."""
        return self.visit.date_of_service
