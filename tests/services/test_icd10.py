"""The ICD-10-CM adapter over simple-icd-10-cm (the one third-party import the scrubber uses)."""

from __future__ import annotations

import pytest

from rehabill.rules import IcdStatus
from rehabill.services import icd10


@pytest.mark.parametrize(("code", "status"), [
    ("I69.351", IcdStatus.BILLABLE),
    ("M54.50", IcdStatus.BILLABLE),
    ("M54.5", IcdStatus.HEADER),
    ("M54", IcdStatus.HEADER),
    ("M50-M54", IcdStatus.UNKNOWN),
    ("R26.8X", IcdStatus.UNKNOWN),
    ("", IcdStatus.UNKNOWN),
    ("not a code", IcdStatus.UNKNOWN),
])
def test_check__status_of_code(code: str, status: IcdStatus) -> None:
    assert icd10.check(code) is status
