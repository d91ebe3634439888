"""Small pure helpers the rules rely on: filing deadlines."""

from __future__ import annotations

from datetime import date

import pytest

from rehabill.rules.policy import shipped_policies
from rehabill.rules.timing import add_months, filing_deadline


@pytest.mark.parametrize(("start", "months", "end"), [
    (date(2026, 3, 2), 12, date(2027, 3, 2)),
    (date(2024, 2, 29), 12, date(2025, 2, 28)),
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2026, 11, 30), 3, date(2027, 2, 28)),
])
def test_add_months__clamps_to_month_end(start: date, months: int, end: date) -> None:
    assert add_months(start, months) == end


def test_filing_deadline__medicare_months_commercial_days() -> None:
    book = shipped_policies()
    dos = date(2026, 3, 2)
    assert filing_deadline(dos, book.by_plan["medicare_part_b"]) == date(2027, 3, 2)
    assert filing_deadline(dos, book.default) == date(2026, 5, 31)
    assert filing_deadline(dos, book.by_plan["lonestar_choice_ppo"]) == date(2026, 6, 5)
