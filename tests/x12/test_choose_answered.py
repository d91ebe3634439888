"""Which of the claims that share a CLM01 a 277CA claim level answers.

Each case is a biller's: claim V-1 (charge 60.00) was sent; then it was corrected (frequency 7,
130.00), sent again after a rejection, or billed to the secondary payer, all under V-1; a 277CA
naming V-1 arrives.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from rehabill.x12.status import AckOutcome, SentClaim, StatusUpdate, choose_answered


def _ack(number: str = "", charge: str | None = None,
         outcome: AckOutcome = AckOutcome.ACCEPTED) -> StatusUpdate:
    return StatusUpdate("277CA", outcome, claim_id="V-1", payer_claim_number=number,
                        charge=Decimal(charge) if charge is not None else None)


ORIGINAL = SentClaim(1, "accepted", Decimal("60.00"), "ICN-1", sent=True)
# the correction stored, not sent yet; and the same correction once sent
CORRECTION_STORED = SentClaim(2, "scrubbed", Decimal("130.00"))
CORRECTION_SENT = SentClaim(2, "batched", Decimal("130.00"), sent=True)
# a claim the payer rejected (no number) and the claim sent again in its place
REJECTED = SentClaim(1, "rejected", Decimal("60.00"), sent=True)
RESENT = SentClaim(2, "batched", Decimal("65.00"), sent=True)
# the primary claim, and the secondary claim made from it (same charge)
PRIMARY = SentClaim(1, "paid", Decimal("60.00"), "ICN-P", sent=True)
SECONDARY_STORED = SentClaim(2, "scrubbed", Decimal("60.00"))
SECONDARY_SENT = SentClaim(2, "batched", Decimal("60.00"), sent=True)


@pytest.mark.parametrize(("update", "claims", "chosen"), [
    # the original's 277CA again, after the correction was stored: its REF*1K names it
    (_ack("ICN-1", "60.00"), (CORRECTION_STORED, ORIGINAL), ORIGINAL),
    # ... and without a REF*1K: the correction was never sent, so it cannot be the answer
    (_ack("", "60.00", AckOutcome.RECEIVED), (CORRECTION_STORED, ORIGINAL), ORIGINAL),
    # the correction's own 277CA: a new number, and the original already has another
    (_ack("ICN-2", "130.00"), (CORRECTION_SENT, ORIGINAL), CORRECTION_SENT),
    # the correction rejected (no number): the one waiting, with its charge
    (_ack("", "130.00", AckOutcome.REJECTED), (CORRECTION_SENT, ORIGINAL), CORRECTION_SENT),
    # the payer's late rejection of the first claim, after it was sent again (fixed charge)
    (_ack("", "60.00", AckOutcome.REJECTED), (RESENT, REJECTED), REJECTED),
    # the claim sent again accepted: the one waiting whose charge is the STC04
    (_ack("ICN-7", "65.00"), (RESENT, REJECTED), RESENT),
    # no STC04: the one waiting
    (_ack("ICN-7"), (RESENT, REJECTED), RESENT),
    # the primary payer's 277CA again, after the secondary claim was made
    (_ack("ICN-P", "60.00"), (SECONDARY_STORED, PRIMARY), PRIMARY),
    (_ack("", "60.00"), (SECONDARY_STORED, PRIMARY), PRIMARY),
    # the secondary payer's 277CA for the secondary claim (same charge, its own number)
    (_ack("ICN-S", "60.00"), (SECONDARY_SENT, PRIMARY), SECONDARY_SENT),
    # nothing sent, nothing fits: the newest, as before
    (_ack("", "999.00"), (CORRECTION_STORED, SentClaim(1, "scrubbed", Decimal("60.00"))),
     CORRECTION_STORED),
], ids=["original-by-ref1k", "original-only-one-sent", "correction-new-number",
        "correction-rejected", "late-rejection-of-first", "resent-accepted", "resent-no-stc04",
        "primary-by-ref1k", "primary-only-one-sent", "secondary-own-number", "newest"])
def test_choose_answered__ref1k_then_sent_waiting_and_charge_then_the_newest(
        update: StatusUpdate, claims: tuple[SentClaim, ...], chosen: SentClaim) -> None:
    assert choose_answered(update, claims) is chosen


def test_choose_answered__one_claim_is_its_own_answer() -> None:
    assert choose_answered(_ack("ICN-9", "1.00"), (ORIGINAL,)) is ORIGINAL
