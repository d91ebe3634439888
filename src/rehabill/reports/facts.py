"""What reports need to know about a claim, as one flat value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from rehabill.domain.money import ZERO


@dataclass(frozen=True, slots=True)
class ClaimFact:
    """One claim's money and milestones.

    ``charge = paid + contractual + other_adjustments + patient_responsibility + balance``
    holds for a posted claim (the ledger guarantees it). ``scrub_clean_first_pass`` is True when
    the claim's first scrub had no error finding; ``accepted_first_pass`` when the clearinghouse
    (999/277CA) accepted its first submission; ``denied`` when the payer's first adjudication
    paid nothing and denied the claim (CARCs in ``denial_reasons``).
    """

    claim_id: str
    payer_id: str
    payer_name: str
    patient_id: str
    rendering_npi: str
    date_of_service: date
    charge: Decimal
    codes: tuple[str, ...] = ()
    submitted_on: date | None = None
    adjudicated_on: date | None = None
    allowed: Decimal = ZERO
    paid: Decimal = ZERO
    contractual: Decimal = ZERO
    other_adjustments: Decimal = ZERO
    patient_responsibility: Decimal = ZERO
    balance: Decimal = ZERO
    scrub_clean_first_pass: bool = True
    accepted_first_pass: bool = True
    denied: bool = False
    denial_reasons: tuple[str, ...] = ()
    denied_amount: Decimal = ZERO
    paid_first_pass: bool = False
    paid_on: date | None = None
    insurance_balance: Decimal | None = None

    @property
    def open_insurance_balance(self) -> Decimal:
        """What the payer still owes (the whole balance unless the store splits it)."""
        return self.balance if self.insurance_balance is None else self.insurance_balance
