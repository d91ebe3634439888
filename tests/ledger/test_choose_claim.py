"""Which of the claims that share a CLM01 a CLP pays (an original and its corrected or void claim).

Each case is a biller's: claim V-1 was sent and accepted as ICN-1, then corrected (frequency 7,
REF*F8 ICN-1) or voided (8); an 835 arrives naming V-1.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from rehabill.domain.claim import Claim, ClaimLine, ClaimStatus, Frequency
from rehabill.ledger import (
    ClaimSet,
    NextAction,
    PostingSource,
    StoredClaim,
    choose_claim,
    payer_ids,
    post_claim,
    summarize,
)
from rehabill.testing import visit_from_terms
from rehabill.x12.remit835 import (
    Adjustment,
    ClaimPayment,
    Party,
    Payment,
    Procedure,
    RefId,
    Remittance,
    ServiceLine,
    Trace,
)

DOS = date(2026, 3, 2)
SOURCE = PostingSource("late.835", "MEDICARE", "T1", 0)


def _claim(*lines: tuple[str, str], frequency: Frequency = Frequency.ORIGINAL,
           reference: str = "") -> Claim:
    visit = visit_from_terms("97110=30", visit_id="V-1", date_of_service=DOS)
    return Claim(visit, tuple(ClaimLine(n, code, ("GP",), 1, Decimal(charge), DOS)
                              for n, (code, charge) in enumerate(lines, start=1)),
                 frequency, reference)


ORIGINAL = _claim(("97110", "60.00"))
CORRECTED = _claim(("97110", "60.00"), ("97530", "70.00"), frequency=Frequency.REPLACEMENT,
                   reference="ICN-1")
VOID = _claim(("97110", "60.00"), frequency=Frequency.VOID, reference="ICN-1")


def _set(*claims: tuple[Claim, str]) -> ClaimSet:
    """Newest first; the newest has ref "" (entries name it by CLM01 alone)."""
    return ClaimSet(tuple(StoredClaim(c, "" if i == 0 else f"row{i}", number)
                          for i, (c, number) in enumerate(claims)))


def _paid(charge: str, *codes: str, number: str = "", frequency: str = "1",
          status: str = "1") -> ClaimPayment:
    lines = tuple(ServiceLine(Procedure("HC", code, ("GP",)), Decimal("60.00") if i == 0
                              else Decimal("70.00"), Decimal("48.00") if i == 0
                              else Decimal("56.00"), units=Decimal(1),
                              adjustments=(Adjustment("CO", "45", Decimal("12.00") if i == 0
                                                      else Decimal("14.00")),))
                  for i, code in enumerate(codes))
    return ClaimPayment("V-1", status, Decimal(charge), sum((x.paid for x in lines),
                                                            Decimal("0.00")),
                        payer_claim_number=number, extra=("11", frequency), lines=lines)


@pytest.mark.parametrize(("payment", "chosen"), [
    # the payer's claim number says which: the original's late 835
    (_paid("60.00", "97110", number="ICN-1"), "row1"),
    # an unknown number: the charge and lines fit the original only
    (_paid("60.00", "97110", number="ICN-9"), "row1"),
    # an unknown number, and the corrected claim's charge and lines
    (_paid("130.00", "97110", "97530", number="ICN-9"), ""),
    # nothing fits: the newest, as posting always did
    (_paid("999.00", "97112", number="ICN-9"), ""),
], ids=["by-clp07", "fits-original", "fits-correction", "nothing-fits"])
def test_choose_claim__clp07_then_what_fits_then_the_newest(payment: ClaimPayment,
                                                            chosen: str) -> None:
    claim, ref, _ = choose_claim(payment, _set((CORRECTED, ""), (ORIGINAL, "ICN-1")))
    assert ref == chosen
    assert claim is (ORIGINAL if chosen else CORRECTED)


def test_choose_claim__clp09_7_or_8_chooses_among_claims_that_fit_and_1_says_nothing() -> None:
    """A void and a corrected claim of the same lines both fit a CLP of that charge."""
    same = replace(CORRECTED, lines=ORIGINAL.lines)
    claims = _set((VOID, ""), (same, "ICN-2"), (ORIGINAL, "ICN-1"))
    assert choose_claim(_paid("60.00", "97110", number="X", frequency="7"), claims)[1] == "row1"
    assert choose_claim(_paid("60.00", "97110", number="X", frequency="8"), claims)[1] == ""
    assert choose_claim(_paid("60.00", "97110", number="X", frequency="1"), claims)[1] == ""


def test_choose_claim__one_claim_is_posted_as_always() -> None:
    assert choose_claim(_paid("60.00", "97110"), ORIGINAL) == (ORIGINAL, "", None)
    assert choose_claim(_paid("60.00", "97110"), None) == (None, "", None)


def test_post_claim__the_originals_late_payment_is_posted_to_it_and_balances() -> None:
    payment = _paid("60.00", "97110", number="ICN-1")
    result = post_claim(payment, _set((CORRECTED, ""), (ORIGINAL, "ICN-1")), source=SOURCE)
    assert {e.claim_ref for e in result.entries} == {"row1"}
    [change] = result.status_changes
    assert (change.claim_ref, change.status) == ("row1", ClaimStatus.PAID)
    original = summarize("V-1", ORIGINAL.total_charge, result.entries, "row1")
    assert original.is_balanced and original.open_balance == 0
    corrected = summarize("V-1", CORRECTED.total_charge, result.entries)
    assert corrected.open_balance == CORRECTED.total_charge and corrected.paid == 0


def test_post_claim__a_replaced_claims_reversal_closes_it() -> None:
    paid = _paid("60.00", "97110", number="ICN-1")
    reversal = replace(paid, status="22", charge=-paid.charge, paid=-paid.paid, lines=tuple(
        replace(x, charge=-x.charge, paid=-x.paid, adjustments=tuple(
            replace(a, amount=-a.amount) for a in x.adjustments)) for x in paid.lines))
    claims = _set((CORRECTED, ""), (ORIGINAL, "ICN-1"))
    [change] = post_claim(reversal, claims, source=SOURCE).status_changes
    assert change.status is ClaimStatus.CLOSED and "corrected claim" in change.reason
    [change] = post_claim(reversal, ORIGINAL, source=SOURCE).status_changes
    assert change.status is ClaimStatus.ACCEPTED  # not replaced: the payer owes an answer


def test_post_claim__a_replaced_claims_denial_says_follow_the_replacement() -> None:
    denied = ClaimPayment("V-1", "4", Decimal("60.00"), Decimal("0.00"),
                          payer_claim_number="ICN-1",
                          adjustments=(Adjustment("CO", "16", Decimal("60.00")),))
    for claims, action in [(_set((CORRECTED, ""), (ORIGINAL, "ICN-1")),
                            NextAction.FOLLOW_REPLACEMENT),
                           (_set((VOID, ""), (ORIGINAL, "ICN-1")), NextAction.FOLLOW_REPLACEMENT),
                           (ORIGINAL, NextAction.CORRECT_AND_RESUBMIT)]:
        result = post_claim(denied, claims, source=SOURCE)
        [item] = result.worklist
        assert item.action is action
        assert result.status_changes[0].status is ClaimStatus.DENIED


def test_post_claim__the_status_change_carries_the_clp07_of_the_claim_it_pays() -> None:
    """The store keeps the CLP07 on a claim with no payer claim number yet."""
    paid = _paid("130.00", "97110", "97530", number="ICN-2", frequency="7")
    [change] = post_claim(paid, _set((CORRECTED, ""), (ORIGINAL, "ICN-1")),
                          source=SOURCE).status_changes
    assert (change.claim_ref, change.payer_claim_number) == ("", "ICN-2")


def test_post_claim__a_voids_reversal_posted_to_the_original_leaves_it_the_originals_number(
        ) -> None:
    """The CLP07 of a reversal reported under the void claim is the void's number: it goes
    with the void's change, not the original's (which keeps ICN-1)."""
    reversal = replace(_paid("60.00", "97110", number="VOID-7", frequency="8"),
                       status="22", charge=Decimal("-60.00"), paid=Decimal("-48.00"))
    original, void = post_claim(reversal, _set((VOID, ""), (ORIGINAL, "ICN-1")),
                                source=SOURCE).status_changes
    assert (original.claim_ref, original.payer_claim_number) == ("row1", "")
    assert (void.claim_ref, void.payer_claim_number) == ("", "VOID-7")


def _billed(*claims: tuple[Claim, str, str]) -> ClaimSet:
    """Newest first, each (claim, payer claim number, payer id it was billed to)."""
    return ClaimSet(tuple(StoredClaim(c, "" if i == 0 else f"row{i}", number, payer)
                          for i, (c, number, payer) in enumerate(claims)))


# the primary claim (Medicare numbered it ICN-1), and the secondary claim made from it: same
# CLM01, same charge and lines, billed to Aetna (60054)
SECONDARY = ORIGINAL
PRIMARY_AND_SECONDARY = _billed((SECONDARY, "", "60054"), (ORIGINAL, "ICN-1", "MEDICARE"))


@pytest.mark.parametrize(("payment", "payers", "chosen"), [
    # Medicare reprocesses the claim under a new number (unknown CLP07): the primary claim
    (_paid("60.00", "97110", number="ICN-9"), {"MEDICARE", "1999999999"}, "row1"),
    # ... even when nothing fits (the payer changed the charge): Medicare's newest claim
    (_paid("999.00", "97112", number="ICN-9"), {"MEDICARE"}, "row1"),
    # Aetna's answer to the secondary claim
    (_paid("60.00", "97110", number="AET-1"), {"60054"}, ""),
    # an 835 whose payer ids name no claim's payer: as before, the newest that fits
    (_paid("60.00", "97110", number="X-1"), {"1999999999"}, ""),
    # the CLP07 is still the first word
    (_paid("60.00", "97110", number="ICN-1"), {"60054"}, "row1"),
], ids=["primary-renumbered", "primary-nothing-fits", "secondary", "payer-unknown",
        "by-clp07"])
def test_choose_claim__prefers_the_claims_billed_to_the_835s_payer(
        payment: ClaimPayment, payers: set[str], chosen: str) -> None:
    _, ref, replaced_by = choose_claim(payment, PRIMARY_AND_SECONDARY, frozenset(payers))
    assert (ref, replaced_by) == (chosen, None)


def test_choose_claim__a_correction_to_the_secondary_payer_does_not_replace_the_primary(
        ) -> None:
    """A 7 replaces a claim at its own payer: the primary claim is not 'already replaced'."""
    fixed = replace(CORRECTED, lines=ORIGINAL.lines)
    claims = _billed((fixed, "", "60054"), (SECONDARY, "AET-1", "60054"),
                     (ORIGINAL, "ICN-1", "MEDICARE"))
    assert choose_claim(_paid("60.00", "97110", number="ICN-1"), claims,
                        frozenset({"MEDICARE"}))[1:] == ("row2", None)
    assert choose_claim(_paid("60.00", "97110", number="AET-1"), claims,
                        frozenset({"60054"}))[1:] == ("row1", Frequency.REPLACEMENT)


def test_payer_ids__n104_ref_2u_and_trn03() -> None:
    era = Remittance("0001", Payment("I", Decimal("48.00"), "C", "ACH"),
                     Trace("1", "EFT1", "1999999999"),
                     Party("PR", "MEDICARE PART B", "XV", "PLANID",
                           refs=(RefId("2U", "MEDICARE"), RefId("EO", "CLEARINGHOUSE"))),
                     Party("PE", "RIVERSIDE REHAB"))
    assert payer_ids(era) == {"PLANID", "MEDICARE", "1999999999"}
