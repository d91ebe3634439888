"""ICD-10-CM checking against the code set of ``simple_icd_10_cm`` (shell side).

The scrubber's rules are pure and import only rehabill and the standard library, so the code
set reaches them as a plain function (``ScrubSettings.icd``, this module's ``check``). Swapping
the code set (a newer release, a database table) means changing this module only; tests can
hand the rules a dictionary-backed checker instead.

The source is the third-party package's release (April 2026). Importing it parses its whole
XML file, about 1.5 s of CPU in every process that checks a code (the billers, the demo,
``rehabill scrub``); what the scrubber asks of it, each code's status, is shipped instead as
a table derived from it (``reference/data/icd10cm_2026-04.txt.gz``, 98,000 codes, read in a
few tens of milliseconds). ``python -m rehabill.services.icd10 --write`` rebuilds the table from
the installed package, and ``tests/services/test_icd10.py`` holds the two to the same answers
for every code, with and without its dot, and for malformed input.

A code's validity is judged against that release, not against the release in force on each
date of service.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import warnings
from collections.abc import Mapping
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from types import ModuleType

from rehabill.rules.base import IcdStatus

CODE_SET = "ICD-10-CM April 2026 (simple-icd-10-cm 1.5.0)"
#: The shipped table: each category, subcategory and code with its status, in the package's
#: dotted form ("M54.50"), one per line after the ``#`` header lines.
TABLE = "icd10cm_2026-04.txt.gz"
_STATUS = {"B": IcdStatus.BILLABLE, "H": IcdStatus.HEADER}


@lru_cache(maxsize=65536)
def check(code: str) -> IcdStatus:
    """BILLABLE for a leaf code, HEADER for a category/subcategory with children, else UNKNOWN.

    As the package answers: a code is found as written or, from four characters on, with a
    dot after its third (``M5450`` is ``M54.50``); case and spaces count; chapters and blocks
    (``M50-M54``) are UNKNOWN.

    Args:
        code: an ICD-10-CM code, with or without the dot.

    Returns:
        The code's status in the shipped code set.
    """
    table = code_set()
    found = table.get(code)
    if found is None and len(code) >= 4:
        found = table.get(f"{code[:3]}.{code[3:]}")
    return IcdStatus.UNKNOWN if found is None else found


@cache
def code_set() -> Mapping[str, IcdStatus]:
    """The shipped table, loaded on the first check (and before the scrub forks a helper,
    which then inherits it)."""
    data = resources.files("rehabill.reference").joinpath("data", TABLE).read_bytes()
    table: dict[str, IcdStatus] = {}
    status = _STATUS
    for line in gzip.decompress(data).decode("ascii").splitlines():
        if line and not line.startswith("#"):
            code, _, flag = line.partition("\t")
            table[code] = status[flag]
    return table


def package() -> ModuleType:
    """The ``simple_icd_10_cm`` package, the table's source (imported on first use: its
    import parses the whole XML release)."""
    with warnings.catch_warnings():
        # the package reads its data with a deprecated importlib.resources call at import
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as icd
    module: ModuleType = icd
    return module


def package_check(code: str) -> IcdStatus:
    """``check`` as the package itself answers it (the table's definition)."""
    icd = package()
    try:
        if not icd.is_valid_item(code) or icd.is_chapter_or_block(code):
            return IcdStatus.UNKNOWN
        return IcdStatus.BILLABLE if icd.is_leaf(code) else IcdStatus.HEADER
    except (ValueError, KeyError):
        return IcdStatus.UNKNOWN


def table_text() -> str:
    """The table's text, from the installed package: every item it lists (dotted) that is
    not a chapter or block, with B (billable) or H (header)."""
    lines = [f"# {CODE_SET}: each code's status for rehabill's scrubber (B billable, H header)",
             "# built by: python -m rehabill.services.icd10 --write"]
    for code in package().get_all_codes(True):
        status = package_check(code)
        if status is not IcdStatus.UNKNOWN:
            lines.append(f"{code}\t{'B' if status is IcdStatus.BILLABLE else 'H'}")
    return "\n".join(lines) + "\n"


def write_table(path: Path) -> None:
    """Write ``table_text`` gzipped, byte for byte the same on every run (no time stamp)."""
    path.write_bytes(gzip.compress(table_text().encode("ascii"), compresslevel=9, mtime=0))


def main() -> None:
    """``python -m rehabill.services.icd10 --write [PATH]``: rebuild the shipped table."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--write", nargs="?", type=Path, metavar="PATH",
                        const=Path(str(resources.files("rehabill.reference")
                                       .joinpath("data", TABLE))))
    args = parser.parse_args()
    if args.write is not None:
        write_table(args.write)
        sys.stdout.write(f"wrote {args.write}\n")


if __name__ == "__main__":
    main()
