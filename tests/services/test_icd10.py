"""The ICD-10-CM adapter: the shipped table derived from simple-icd-10-cm, which must answer
as the package does."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


def _ask(statement: str, question: str) -> str:
    """What ``question`` prints in a fresh interpreter after ``statement``."""
    code = f"import sys\n{statement}\nprint({question})"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    return run.stdout.strip()


SCRUB_SETTINGS = ("import datetime\nfrom rehabill.services.scrubbing import default_settings\n"
                  "default_settings(datetime.date(2026, 3, 2))")


def test_code_set__the_scrub_never_parses_the_packages_xml() -> None:
    # the package's import parses its whole release (1.5 s of CPU); the table answers instead
    assert not _loaded_after("import rehabill.services.cycle")
    assert not _loaded_after(SCRUB_SETTINGS)


def test_code_set__loaded_with_the_scrub_settings_before_a_helper_is_forked() -> None:
    assert _ask(SCRUB_SETTINGS, "__import__('rehabill.services.icd10', fromlist=['x'])"
                ".code_set.cache_info().currsize") == "1"


def test_table__is_the_installed_package_code_set() -> None:
    """The shipped table is what ``python -m rehabill.services.icd10 --write`` builds from
    the pinned package (rebuild it when the package is upgraded)."""
    shipped = resources.files("rehabill.reference").joinpath("data", icd10.TABLE).read_bytes()
    assert gzip.decompress(shipped).decode("ascii") == icd10.table_text()


def test_check__answers_as_the_package_for_every_code_with_and_without_its_dot() -> None:
    icd = icd10.package()
    codes = [*icd.get_all_codes(True), *icd.get_all_codes(False)]
    assert len(codes) > 190_000
    assert [c for c in codes if icd10.check(c) is not icd10.package_check(c)] == []


@pytest.mark.parametrize("code", [
    "", " ", "M54.", "m54.50", " M54.50", "M54.50 ", "M545", "M54..5", "A00-A09", "1", "22",
    "C7A", "C7A.0", "C7A0", "M1A", "M1A.0", "D3A", "S72.001A", "S72001A", "M.54", ".M54"])
def test_check__answers_as_the_package_for_odd_input(code: str) -> None:
    assert icd10.check(code) is icd10.package_check(code)


@given(st.text(alphabet="ACDMRSZ0123456789.-X a", max_size=9))
def test_check__answers_as_the_package_for_any_text(code: str) -> None:
    assert icd10.check(code) is icd10.package_check(code)
