"""Claim status updates: what a 999 or 277CA says about the claims we sent.

Both acknowledgment readers turn what they read into ``StatusUpdate`` values; the service layer
applies them to stored claims (a 999 names an 837 transaction set by its ST02, so its update
applies to every claim in that set; a 277CA names each claim by its patient control number).
"""

from __future__ import annotations

from dataclasses import dataclass
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

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/x12/test_inits.py keeps it the same).
    def __init__(self, source: str, outcome: AckOutcome, group_control_number: str = "",
                 set_control_number: str = "", claim_id: str = "", payer_claim_number: str = "",
                 codes: tuple[str, ...] = (), reasons: tuple[str, ...] = (),
                 segment: int = 0) -> None:
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "outcome", outcome)
        object.__setattr__(self, "group_control_number", group_control_number)
        object.__setattr__(self, "set_control_number", set_control_number)
        object.__setattr__(self, "claim_id", claim_id)
        object.__setattr__(self, "payer_claim_number", payer_claim_number)
        object.__setattr__(self, "codes", codes)
        object.__setattr__(self, "reasons", reasons)
        object.__setattr__(self, "segment", segment)

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
        }


# Compiled by mypyc, frozen values pickle through their constructor (a no-op otherwise).
_pickle_by_fields(__name__)
