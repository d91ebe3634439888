"""Build hook: plain Python by default; ``REHABILL_COMPILE=1`` compiles the pure core with mypyc.

The compiled modules are the same source (type-checked by ``mypy --strict`` anyway) turned into
C extensions: the scrubber and the coder run about twice as fast. Only wheels are compiled, never
an editable install (the extensions would shadow the sources being edited). CI builds the
compiled wheel and runs the core's tests against it (``.ci/run``).
"""

from __future__ import annotations

import os
import sys

from setuptools import setup

# The pure core: values, reference tables, coding, rules (the scrubber), X12 (reading and writing
# every file of the cycle), the ledger (posting), the reports, and the demo's clinic generator and
# payer simulator (pure but for reading their own files; the payers run in their own process).
COMPILED = [
    "src/rehabill/domain",
    "src/rehabill/reference/__init__.py",
    "src/rehabill/reference/tables.py",
    "src/rehabill/coding",
    "src/rehabill/rules",
    "src/rehabill/x12",
    "src/rehabill/ledger",
    "src/rehabill/reports",
    "src/rehabill/simulate/payer.py",
    "src/rehabill/simulate/clinic.py",
]

ext_modules = []
if os.environ.get("REHABILL_COMPILE", "") == "1":
    if any(arg.startswith("editable") for arg in sys.argv):
        sys.exit("REHABILL_COMPILE=1 builds wheels only, not an editable install")
    from mypyc.build import mypycify

    ext_modules = mypycify(COMPILED, opt_level="3", debug_level="0")

setup(ext_modules=ext_modules)
