"""Small behaviours of the domain values: findings, locations, credentials, claims."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rehabill.coding import code_visit
from rehabill.domain import (
    Coverage,
    Credential,
    Discipline,
    Finding,
    Location,
    Severity,
    has_errors,
    parse_amount,
    sort_findings,
)
from rehabill.testing import THERAPISTS, visit_from_terms


def test_location__reads_like_a_path() -> None:
    assert str(Location()) == "-"
    assert str(Location(visit_id="V-1", claim_id="C-9", line=2, field="units")) == (
        "visit V-1 / claim C-9 / line 2 / units")
    assert str(Location(file="era.835", segment=12, segment_id="CLP", element="CLP04")) == (
        "era.835 / segment 12 (CLP) / element CLP04")
    assert str(Location(file="x.835", segment=3)) == "x.835 / segment 3"
    assert Location(visit_id="V-1", line=0).as_dict() == {"visit_id": "V-1", "line": 0}


def test_findings__errors_first_and_json_shape() -> None:
    info = Finding("a.info", Severity.INFO, "i")
    error = Finding("a.error", Severity.ERROR, "e", Location(visit_id="V"), "fix it", True)
    warning = Finding("a.warning", Severity.WARNING, "w")
    assert sort_findings([info, error, warning]) == (error, warning, info)
    assert has_errors([info, error]) and not has_errors([info, warning])
    assert error.as_dict() == {"code": "a.error", "severity": "error", "message": "e",
                               "location": {"visit_id": "V"}, "fix": "fix it", "auto_fix": True}


def test_credentials() -> None:
    assert [c.is_assistant for c in Credential] == [False, True, False, True, False, True]
    assert Credential.OTA.discipline is Discipline.OT
    assert Credential.SLPA.assistant_modifier == ""
    assert THERAPISTS["PT"].display_name == "Ana Ruiz, PT"
    assert Discipline.SLP.threshold_group == "pt_slp" and Discipline.OT.threshold_group == "ot"


def test_claim__id_total_and_date() -> None:
    claim = code_visit(visit_from_terms("97110=30")).claim
    assert claim.claim_id == "V-1" and claim.total_charge == Decimal("118.00")
    assert claim.date_of_service == claim.visit.date_of_service
    assert not claim.lines[0].has_assistant_modifier


def test_parse_amount__rejects_non_amounts() -> None:
    assert parse_amount(None) is None and parse_amount(True) is None
    assert parse_amount("x") is None and parse_amount(3) == Decimal(3)


def test_prior_payer__sums_what_the_earlier_payer_paid_and_adjusted() -> None:
    from datetime import date

    from rehabill.domain import Adjustment, LineAdjudication, PriorPayer

    lines = (LineAdjudication(1, "V-1-1", Decimal("60"), "97110", ("GP",), 2,
                              (Adjustment("CO", "45", Decimal("10")),
                               Adjustment("PR", "2", Decimal("15")))),
             LineAdjudication(2, "V-1-2", Decimal("20"), "97140"))
    primary = PriorPayer("MEDICARE", "Medicare Part B", "1EG4TE5MK73", "medicare_part_b",
                         Decimal("78"), date(2026, 3, 20),
                         adjustments=(Adjustment("CO", "253", Decimal("2")),), lines=lines)
    assert lines[0].adjusted == Decimal("25")
    assert lines[1].adjusted == Decimal("0")
    assert primary.lines_paid == Decimal("80")
    assert primary.adjusted == Decimal("2")
    assert primary.sequence == "primary"


@pytest.mark.parametrize(("start", "end", "day", "active"), [
    (None, None, date(2026, 3, 10), True),
    (None, date(2026, 2, 28), date(2026, 2, 28), True),
    (None, date(2026, 2, 28), date(2026, 3, 10), False),
    (date(2026, 4, 1), None, date(2026, 3, 10), False),
    (date(2026, 3, 10), None, date(2026, 3, 10), True),
])
def test_coverage_is_active_on__both_ends_are_covered_days(
        start: date | None, end: date | None, day: date, active: bool) -> None:
    coverage = Coverage("MEDICARE", "Medicare Part B", "1EG4TE5MK73", "medicare_part_b",
                        start=start, end=end)
    assert coverage.is_active_on(day) is active
