"""Fixtures for the X12 tests: golden files (REHABILL_REGEN_GOLDEN=1 rewrites them)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "data"


def check_golden(path: Path, actual: object) -> None:
    """Assert ``actual`` equals the JSON in ``path`` (or write it when regenerating)."""
    text = json.dumps(actual, indent=2, sort_keys=True) + "\n"
    if os.environ.get("REHABILL_REGEN_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path.name} is missing: run with REHABILL_REGEN_GOLDEN=1 and review it"
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(text)


@pytest.fixture
def golden() -> Callable[[Path, object], None]:
    """The golden-file comparison."""
    return check_golden


@pytest.fixture
def data_dir() -> Path:
    """tests/data."""
    return DATA
