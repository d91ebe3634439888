"""Small, cached predicates shared by the rules and by the per-visit screen in ``base``.

The rule modules state each rule; ``base.compute_facts`` screens a visit with the same
predicates so the scrubber can leave out rules that cannot fire. Keeping the predicates here
(not in the rule modules, which import ``base``) lets both use one definition.
Sources: ICD-10-CM code format (ICD-10-CM Official Guidelines §I.B); CMS MBI format
specification; 45 CFR 162.406 (NPI check digit); CMS Pub 100-04 ch.1 §70 (filing window).
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from functools import lru_cache

from rehabill.domain.npi import is_valid_npi

ICD_FORMAT = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
"""An ICD-10-CM code as written: a letter, two characters, a dot and up to four more."""

_MBI_LETTER = "AC-HJKMNP-RT-Y"
MBI = re.compile(
    rf"^[1-9][{_MBI_LETTER}][{_MBI_LETTER}0-9][0-9][{_MBI_LETTER}][{_MBI_LETTER}0-9][0-9]"
    rf"[{_MBI_LETTER}]{{2}}[0-9]{{2}}$")
"""A Medicare Beneficiary Identifier (11 characters; no S, L, O, I, B, Z)."""

npi_is_valid = lru_cache(maxsize=8192)(is_valid_npi)
"""The domain's NPI check, cached: the same few NPIs appear on every claim of a practice."""


@lru_cache(maxsize=8192)
def is_mbi(member_id: str) -> bool:
    """True when ``member_id`` (dashes ignored, any case) is written as an MBI."""
    return MBI.match(member_id.replace("-", "").upper()) is not None


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months, clamped to the month's last day (Feb 29 + 12 → Feb 28)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@lru_cache(maxsize=4096)
def deadline(dos: date, months: int | None, days: int | None) -> date:
    """The last filing day for ``dos``: ``months`` later when set, else ``days`` later."""
    return add_months(dos, months) if months is not None else dos + timedelta(days=days or 0)
