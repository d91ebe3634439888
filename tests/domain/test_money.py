"""Money is Decimal only."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rehabill.domain import D, format_amount, parse_amount, round_cents


def test_d__refuses_floats() -> None:
    with pytest.raises(TypeError):
        D(1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["abc", "", "NaN", "Infinity"])
def test_d__refuses_non_numbers(bad: str) -> None:
    with pytest.raises(ValueError):
        D(bad)


def test_round_and_format() -> None:
    assert round_cents(Decimal("2.345")) == Decimal("2.35")
    assert format_amount(Decimal("12")) == "12.00"
    assert parse_amount(1.5) is None and parse_amount("3.10") == Decimal("3.10")
