"""The ICD-10-CM adapter over simple-icd-10-cm (the one third-party import the scrubber uses)."""

from __future__ import annotations

import os
import subprocess
import sys

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


def _loaded_after(statement: str) -> bool:
    """Whether a fresh interpreter has the code set's package loaded after ``statement``."""
    code = f"import sys\n{statement}\nprint('simple_icd_10_cm' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    return run.stdout.strip() == "True"


def test_code_set__not_loaded_by_processes_that_only_post_or_read_acks() -> None:
    # the cycle's clerks and payers import the services but never check a code
    assert not _loaded_after("import rehabill.services.cycle")


def test_code_set__loaded_with_the_scrub_settings_before_a_helper_is_forked() -> None:
    assert _loaded_after("import datetime\nfrom rehabill.services.scrubbing import "
                         "default_settings\ndefault_settings(datetime.date(2026, 3, 2))")
