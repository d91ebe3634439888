"""NPI check digits (Luhn with the 80840 prefix)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rehabill.domain.npi import check_digit, is_valid_npi, make_npi


@pytest.mark.parametrize(("npi", "valid"), [
    ("1234567893", True),    # CMS's worked example
    ("1234567890", False),
    ("1306849450", True),
    ("123456789", False),
    ("12345678931", False),
    ("3234567893", False),   # NPIs start with 1 or 2
    ("12345678a3", False),
    ("１２３４５６７８９３", False),  # full-width digits are not ASCII
])
def test_is_valid_npi(npi: str, valid: bool) -> None:
    assert is_valid_npi(npi) is valid


@given(st.from_regex(r"[12][0-9]{8}", fullmatch=True), st.integers(1, 9))
def test_property__a_wrong_last_digit_is_caught(base: str, shift: int) -> None:
    npi = make_npi(base)
    assert is_valid_npi(npi)
    wrong = base + str((int(check_digit(base)) + shift) % 10)
    assert not is_valid_npi(wrong)
