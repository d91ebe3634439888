"""ICD-10-CM checking through the third-party ``simple_icd_10_cm`` code set (shell side).

The scrubber's rules are pure and import only rehabill and the standard library, so the one
import of the third-party package lives here and reaches the rules as a plain function
(``ScrubSettings.icd``). Swapping the code set (a newer release, a database table) means
changing this module only; tests can hand the rules a dictionary-backed checker instead.

The package ships one release (April 2026); a code's validity is judged against it, not
against the release in force on each date of service.
"""

from __future__ import annotations

import warnings
from functools import cache, lru_cache
from types import ModuleType

from rehabill.rules.base import IcdStatus

CODE_SET = "ICD-10-CM April 2026 (simple-icd-10-cm 1.5.0)"


@lru_cache(maxsize=65536)
def check(code: str) -> IcdStatus:
    """BILLABLE for a leaf code, HEADER for a category/subcategory with children, else UNKNOWN.

    Args:
        code: an ICD-10-CM code, with or without the dot.

    Returns:
        The code's status in the shipped code set.
    """
    icd = code_set()
    try:
        if not icd.is_valid_item(code) or icd.is_chapter_or_block(code):
            return IcdStatus.UNKNOWN
        return IcdStatus.BILLABLE if icd.is_leaf(code) else IcdStatus.HEADER
    except (ValueError, KeyError):
        return IcdStatus.UNKNOWN


@cache
def code_set() -> ModuleType:
    """The code set, loaded on the first check.

    Importing the package parses its whole XML release (about three seconds of CPU), so it is
    loaded when a code is first checked, not when this module is imported: the billing
    cycle's clerk and payer processes import the scrubbing services with the rest of
    ``services`` but never check a code.
    """
    with warnings.catch_warnings():
        # the package reads its data with a deprecated importlib.resources call at import
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as icd
    module: ModuleType = icd
    return module
