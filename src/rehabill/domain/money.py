"""Money: ``Decimal`` only, built here. A float anywhere near an amount is a bug."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def D(value: str | int | Decimal) -> Decimal:
    """Build an amount from a string, int or Decimal; floats are refused.

    Args:
        value: "123.45", 123 or a Decimal.

    Returns:
        The Decimal (not rounded).

    Raises:
        TypeError: for a float or any other type.
        ValueError: for a string that is not a number.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise TypeError(f"money must be str, int or Decimal, not {type(value).__name__}")
    try:
        result = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not result.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return result


def parse_amount(value: object) -> Decimal | None:
    """Return the amount in ``value`` (str, int or Decimal), or None when it is not one."""
    if isinstance(value, float | bool):
        return None
    if not isinstance(value, str | int | Decimal):
        return None
    try:
        return D(value)
    except ValueError:
        return None


def round_cents(value: Decimal) -> Decimal:
    """Round half-up to cents, as payers and statements do."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def format_amount(value: Decimal) -> str:
    """The contract's decimal string: two places, no exponent ("123.45")."""
    return f"{round_cents(value):.2f}"
