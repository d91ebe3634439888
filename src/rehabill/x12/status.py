"""Claim status updates: what a 999 or 277CA says about the claims we sent.

Both acknowledgment readers turn what they read into ``StatusUpdate`` values; the service layer
applies them to stored claims (a 999 names an 837 transaction set by its ST02, so its update
applies to every claim in that set; a 277CA names each claim by its patient control number).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from rehabill.domain.claim import ClaimStatus
from rehabill.domain.pickling import pickle_by_fields as _pickle_by_fields


class AckOutcome(StrEnum):
    """What the receiver did with what we sent."""

    ACCEPTED = "accepted"
    ACCEPTED_WITH_ERRORS = "accepted_with_errors"
    PARTIALLY_ACCEPTED = "partially_accepted"
    RECEIVED = "received"
    PENDING = "pending"
    REJECTED = "rejected"

    @property
    def claim_status(self) -> ClaimStatus | None:
        """The claim status this outcome moves a claim to (None: leave it where it is)."""
        if self in (AckOutcome.ACCEPTED, AckOutcome.ACCEPTED_WITH_ERRORS):
            return ClaimStatus.ACCEPTED
        if self is AckOutcome.REJECTED:
            return ClaimStatus.REJECTED
        return None


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """One status change to apply.

    ``source`` is "999" or "277CA"; ``group_control_number`` is the GS06 of the batch we sent;
    ``set_control_number`` the ST02 of the 837 transaction set (999) and ``claim_id`` our
    patient control number (277CA; "" for a 999, which speaks for the whole set).
    ``reasons`` are plain sentences naming the codes, segment and element in error.
    A 277CA also says which of our claims it answers beyond the CLM01 (005010X214 loop
    2200D): ``charge`` is the claim's total charge (STC04, None when absent) and
    ``service_date`` its service dates (DTP*472, "CCYYMMDD" or "CCYYMMDD-CCYYMMDD").
    """

    source: str
    outcome: AckOutcome
    group_control_number: str = ""
    set_control_number: str = ""
    claim_id: str = ""
    payer_claim_number: str = ""
    codes: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    segment: int = 0
    charge: Decimal | None = None
    service_date: str = ""

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, source: str, outcome: AckOutcome, group_control_number: str = "",
                 set_control_number: str = "", claim_id: str = "", payer_claim_number: str = "",
                 codes: tuple[str, ...] = (), reasons: tuple[str, ...] = (),
                 segment: int = 0, charge: Decimal | None = None,
                 service_date: str = "") -> None:
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "outcome", outcome)
        object.__setattr__(self, "group_control_number", group_control_number)
        object.__setattr__(self, "set_control_number", set_control_number)
        object.__setattr__(self, "claim_id", claim_id)
        object.__setattr__(self, "payer_claim_number", payer_claim_number)
        object.__setattr__(self, "codes", codes)
        object.__setattr__(self, "reasons", reasons)
        object.__setattr__(self, "segment", segment)
        object.__setattr__(self, "charge", charge)
        object.__setattr__(self, "service_date", service_date)

    @property
    def claim_status(self) -> ClaimStatus | None:
        """The claim status to set, or None to leave it."""
        return self.outcome.claim_status

    def as_json(self) -> dict[str, object]:
        """JSON for CLI/web output."""
        return {
            "source": self.source, "outcome": self.outcome.value,
            "claim_status": self.claim_status.value if self.claim_status else None,
            "group_control_number": self.group_control_number,
            "set_control_number": self.set_control_number, "claim_id": self.claim_id,
            "payer_claim_number": self.payer_claim_number, "codes": list(self.codes),
            "reasons": list(self.reasons),
            "charge": str(self.charge) if self.charge is not None else None,
            "service_date": self.service_date,
        }


@dataclass(frozen=True, slots=True)
class SentClaim:
    """One of our claims under the CLM01 a 277CA names, as the books hold it.

    ``ref`` is opaque here (the store's row id); ``sent`` says the claim went out in a batch;
    ``payer_claim_number`` is the number the payer gave it ("" while unknown).
    """

    ref: int
    status: str
    charge: Decimal
    payer_claim_number: str = ""
    sent: bool = False

    @property
    def is_awaiting(self) -> bool:
        """Sent, and not yet answered with a payer claim number or a rejection."""
        return self.sent and not self.payer_claim_number and self.status in _AWAITING


_AWAITING = frozenset({"batched", "accepted"})  # "accepted" also after a 999 alone


def choose_answered(update: StatusUpdate, claims: Sequence[SentClaim]) -> SentClaim:
    """The claim a 277CA claim level answers, among the claims stored under its CLM01.

    An original, its corrected (7) or void (8) claim, a claim sent again after a rejection
    and a claim billed to the secondary payer share one CLM01 (the 277CA's TRN02), so the
    277CA's other claim-level data decide (005010X214 loop 2200D), in order:

    1. the claim whose payer claim number is the 277CA's REF*1K (the payer's own name for it);
       a claim with another payer claim number is another of the payer's claims, so it is
       left out of what follows;
    2. among the claims sent in a batch (a claim not sent yet cannot be answered): the newest
       still waiting for its answer whose charge is the STC04, else the newest whose charge is
       the STC04, else the newest waiting, else the newest sent;
    3. the newest, when none was sent.

    The service dates (DTP*472) are the visit's on every claim of one CLM01, so they cannot
    tell these claims apart.

    Args:
        update: the 277CA's claim-level update.
        claims: the CLM01's claims, newest first (at least one).

    Returns:
        The claim the update is for.
    """
    number = update.payer_claim_number
    if number:
        named = next((c for c in claims if c.payer_claim_number == number), None)
        if named is not None:
            return named
        claims = [c for c in claims if not c.payer_claim_number] or claims
    pool = [c for c in claims if c.sent] or claims
    charge = update.charge
    fitting = [c for c in pool if charge is None or c.charge == charge]
    return next((c for c in fitting if c.is_awaiting), None) or next(iter(fitting), None) \
        or next((c for c in pool if c.is_awaiting), pool[0])


# Compiled by mypyc, frozen values pickle through their constructor (a no-op otherwise).
_pickle_by_fields(__name__)
