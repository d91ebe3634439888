"""The primary payer's adjudication, rebuilt from what its remittances posted (no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from rehabill.domain import Adjustment
from rehabill.store.mapping import Adjudicated, to_prior_payer
from rehabill.x12.p837 import check_claim
from tests.x12.helpers import claim_for, visit

PAID_ON = date(2026, 3, 20)


def test_to_prior_payer__lines_claim_level_and_a_cancelled_reversal() -> None:
    claim = claim_for(visit("97110=30 97140=15"))
    one, two = claim.lines  # 70.50 and 35.25
    posted = (
        Adjudicated(1, "payment", "", "", Decimal("45.12"), PAID_ON),
        Adjudicated(1, "contractual", "CO", "45", Decimal("14.10"), PAID_ON),
        Adjudicated(1, "patient_responsibility", "PR", "2", Decimal("11.28"), PAID_ON),
        # a reversal and its correction net to zero and leave no adjustment
        Adjudicated(1, "other_adjustment", "OA", "23", Decimal("0"), date(2026, 3, 27)),
        Adjudicated(2, "payment", "", "", Decimal("35.25"), PAID_ON),
        Adjudicated(None, "payment", "", "", Decimal("-1.60"), PAID_ON),
        Adjudicated(None, "contractual", "CO", "253", Decimal("1.60"), PAID_ON),
    )
    prior = to_prior_payer(claim, posted)
    assert (prior.payer_id, prior.member_id, prior.sequence) == (
        "MEDICARE", "1EG4TE5MK73", "primary")
    assert prior.paid == Decimal("78.77")
    assert prior.adjudicated == date(2026, 3, 27)
    assert prior.adjustments == (Adjustment("CO", "253", Decimal("1.60")),)
    first, second = prior.lines
    assert (first.line_number, first.control_number, first.paid) == (
        one.number, one.control_number, Decimal("45.12"))
    assert first.adjustments == (Adjustment("CO", "45", Decimal("14.10")),
                                 Adjustment("PR", "2", Decimal("11.28")))
    assert (second.paid, second.adjustments, second.code) == (Decimal("35.25"), (), two.code)
    assert check_claim(replace(claim, prior_payers=(prior,))) == []


def test_to_prior_payer__nothing_posted_dates_it_on_the_day_of_service() -> None:
    claim = claim_for(visit("97110=30"))
    prior = to_prior_payer(claim, ())
    assert (prior.paid, prior.lines, prior.adjudicated) == (
        Decimal("0"), (), claim.date_of_service)
