"""NPI check digit (45 CFR 162.406; CMS NPI check-digit standard: Luhn over "80840" + 9 digits)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=4096)
def is_valid_npi(npi: str) -> bool:
    """True when ``npi`` is 10 digits whose last digit is the Luhn check over 80840 + the first 9.

    Kept per NPI (the check is pure): a month's claims name the practice's few dozen NPIs
    tens of thousands of times, and ``check_claim`` checks two or three per claim.

    Args:
        npi: the identifier as written.

    Returns:
        Whether it is a well-formed NPI (not whether it is enrolled).
    """
    if len(npi) != 10 or not npi.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed("80840" + npi[:9])):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10 == int(npi[9])
