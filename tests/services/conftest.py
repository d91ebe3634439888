"""Fixtures the service tests share: a small clinic's visit file, two empty books."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rehabill.services.cycle import write_visit_file
from rehabill.simulate.clinic import ClinicSpec, generate_visits
from tests.db import fresh_urls


@pytest.fixture(scope="module")
def visit_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four weeks of six patients' visits, some with the mistakes the scrubber catches."""
    visits = generate_visits(ClinicSpec(seed=11, patients=6, weeks=4, mistake_rate=0.15))
    return write_visit_file(visits, tmp_path_factory.mktemp("visits") / "visits.json")


@pytest.fixture(params=["sqlite", "postgresql"])
def two_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two empty books of the same kind, each of which other processes can open."""
    with fresh_urls(request.param, tmp_path, ["books_a", "books_b"]) as urls:
        yield urls[0], urls[1]
