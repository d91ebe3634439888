"""The shipped tables answer "as of date D" and know where they came from."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rehabill.domain import Discipline
from rehabill.reference import load

REF = load()


def test_codes__timed_and_untimed() -> None:
    assert REF.codes.is_timed("97530")
    assert not REF.codes.is_timed("97161")
    assert not REF.codes.is_timed("97150")
    assert not REF.codes.is_timed("99999")
    assert REF.codes.get("97161").disciplines == frozenset({Discipline.PT})  # type: ignore[union-attr]


def test_ncci__pair_found_in_either_order() -> None:
    edit = REF.ncci.edit_for("97530", "97150", date(2026, 3, 2))
    assert edit is not None
    assert (edit.column1, edit.column2, edit.modifier_indicator) == ("97150", "97530", 1)
    assert REF.ncci.edit_for("97150", "97530", date(2026, 3, 2)) == edit


def test_ncci__deleted_edit_is_in_force_only_before_its_deletion_date() -> None:
    # 97140/97530 was deleted at the end of 2019.
    assert REF.ncci.edit_for("97140", "97530", date(2019, 6, 1)) is not None
    assert REF.ncci.edit_for("97140", "97530", date(2026, 3, 2)) is None


def test_mue__valid_from() -> None:
    mue = REF.mue.get("97110", date(2026, 3, 2))
    assert mue is not None and (mue.value, mue.mai) == (6, 3)
    assert REF.mue.get("97110", date(2020, 1, 1)) is None


@pytest.mark.parametrize(("year", "amount"), [(2025, "28.79"), (2026, "29.06")])
def test_fees__by_calendar_year(year: int, amount: str) -> None:
    row = REF.fees.get("97110", date(year, 6, 1))
    assert row is not None and row.nonfac_amount == Decimal(amount)


def test_fees__unpublished_year_answers_none() -> None:
    assert REF.fees.get("97110", date(2030, 1, 1)) is None


@pytest.mark.parametrize(("year", "kx"), [(2024, "2330.00"), (2025, "2410.00"), (2026, "2480.00")])
def test_thresholds(year: int, kx: str) -> None:
    threshold = REF.thresholds.for_date(date(year, 1, 1))
    assert threshold is not None
    assert threshold.kx == Decimal(kx) and threshold.medical_review == Decimal("3000.00")


def test_adjustment_codes() -> None:
    assert REF.adjustments.group("CO") is not None
    assert REF.adjustments.carc("45") is not None
    assert REF.adjustments.rarc("N290") is not None
    assert REF.adjustments.is_carc_valid_on("45", date(2026, 1, 1))


def test_every_table_has_a_source() -> None:
    names = {s.name for s in REF.sources}
    assert names == {"therapy_codes", "ncci_ptp", "mue", "pfs", "adjustment_codes", "thresholds",
                     "icd10cm"}
    assert all(s.source and s.version for s in REF.sources)
