"""NPI check digit: the Luhn formula over the NPI with the 80840 card-issuer prefix.

Source: CMS, "Requirements for Check Digit in the NPI" (45 CFR 162.406; the NPI is a 10-digit
number whose last digit is a Luhn check digit computed as if prefixed by 80840).
"""

from __future__ import annotations

_PREFIX_SUM = 24  # the Luhn contribution of the prefix 80840, fixed


def _luhn_sum(digits: str) -> int:
    total = _PREFIX_SUM
    for position, char in enumerate(reversed(digits)):
        d = ord(char) - 48
        if position % 2 == 0:  # rightmost digit of the base is doubled
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total


def check_digit(base: str) -> str:
    """The check digit for a 9-digit NPI base."""
    return str((10 - _luhn_sum(base) % 10) % 10)


def is_valid_npi(npi: str) -> bool:
    """True for 10 digits whose last is the Luhn check digit (with the 80840 prefix)."""
    return len(npi) == 10 and npi.isascii() and npi.isdigit() and npi[0] in "12" \
        and check_digit(npi[:9]) == npi[9]


def make_npi(base: str) -> str:
    """A valid NPI from a 9-digit base starting with 1 or 2 (for demos and tests)."""
    return base + check_digit(base)
