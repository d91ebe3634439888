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

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/reports/test_inits.py keeps it the same).
    def __init__(self, claim_id: str, payer_id: str, payer_name: str, patient_id: str,
                 rendering_npi: str, date_of_service: date, charge: Decimal,
                 codes: tuple[str, ...] = (), submitted_on: date | None = None,
                 adjudicated_on: date | None = None, allowed: Decimal = ZERO, paid: Decimal = ZERO,
                 contractual: Decimal = ZERO, other_adjustments: Decimal = ZERO,
                 patient_responsibility: Decimal = ZERO, balance: Decimal = ZERO,
                 scrub_clean_first_pass: bool = True, accepted_first_pass: bool = True,
                 denied: bool = False, denial_reasons: tuple[str, ...] = (),
                 denied_amount: Decimal = ZERO, paid_first_pass: bool = False,
                 paid_on: date | None = None, insurance_balance: Decimal | None = None) -> None:
        object.__setattr__(self, "claim_id", claim_id)
        object.__setattr__(self, "payer_id", payer_id)
        object.__setattr__(self, "payer_name", payer_name)
        object.__setattr__(self, "patient_id", patient_id)
        object.__setattr__(self, "rendering_npi", rendering_npi)
        object.__setattr__(self, "date_of_service", date_of_service)
        object.__setattr__(self, "charge", charge)
        object.__setattr__(self, "codes", codes)
        object.__setattr__(self, "submitted_on", submitted_on)
        object.__setattr__(self, "adjudicated_on", adjudicated_on)
        object.__setattr__(self, "allowed", allowed)
        object.__setattr__(self, "paid", paid)
        object.__setattr__(self, "contractual", contractual)
        object.__setattr__(self, "other_adjustments", other_adjustments)
        object.__setattr__(self, "patient_responsibility", patient_responsibility)
        object.__setattr__(self, "balance", balance)
        object.__setattr__(self, "scrub_clean_first_pass", scrub_clean_first_pass)
        object.__setattr__(self, "accepted_first_pass", accepted_first_pass)
        object.__setattr__(self, "denied", denied)
        object.__setattr__(self, "denial_reasons", denial_reasons)
        object.__setattr__(self, "denied_amount", denied_amount)
        object.__setattr__(self, "paid_first_pass", paid_first_pass)
        object.__setattr__(self, "paid_on", paid_on)
        object.__setattr__(self, "insurance_balance", insurance_balance)

    @property
    def open_insurance_balance(self) -> Decimal:
        """What the payer still owes (the whole balance unless the store splits it)."""
        return self.balance if self.insurance_balance is None else self.insurance_balance
