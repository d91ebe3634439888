"""Every data file the package reads ships in the wheel (``[tool.setuptools.package-data]``).

An installed (non-editable) rehabill found no web/static folder once: the web app's files were
missing from the package data, and only a test run against a built wheel showed it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "rehabill"


def test_package_data__covers_every_file_that_is_not_python() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["rehabill"]
    shipped = {path for pattern in patterns for path in PACKAGE.glob(pattern) if path.is_file()}
    data = {path for path in PACKAGE.rglob("*")
            if path.is_file() and path.suffix not in {".py", ".pyc", ".so"}
            and "__pycache__" not in path.parts}
    assert data - shipped == set()
