"""simulate_payers: the same answers, byte for byte, from one process or several."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from rehabill.coding import code_visit
from rehabill.domain.claim import Claim
from rehabill.services import cycle
from rehabill.simulate.clinic import ClinicSpec, generate_visits
from rehabill.x12.p837 import BatchSettings, grouping_key, render_837p

TODAY = date(2026, 7, 20)


def _write(path: Path, claims: list[Claim], number: int) -> Path:
    settings = BatchSettings(
        submitter_name="RIVERSIDE REHAB", submitter_id="RR0001", receiver_name="CH",
        receiver_id="CH0001", interchange_control_number=number,
        created=datetime(2026, 7, 18, 9, 30), contact_phone="5125550100",
        claims_per_transaction=25)
    path.write_text(render_837p(sorted(claims, key=grouping_key), settings), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Files as a practice sends them over a while: a payer in several files (deductibles
    carry over), several payers in one file (one simulator per transaction's payer)."""
    visits = generate_visits(ClinicSpec(seed=5, patients=30, weeks=6, mistake_rate=0.0))
    by_payer: dict[str, list[Claim]] = {}
    for visit in visits:
        claim = code_visit(visit).claim
        if claim is not None:
            by_payer.setdefault(visit.coverage.payer_id, []).append(claim)
    medicare, lshp, bbppo = by_payer["MEDICARE"], by_payer["LSHP1"], by_payer["BBPPO"]
    half = len(medicare) // 2
    folder = tmp_path_factory.mktemp("outbox")
    return [_write(folder / "a.837", medicare[:half], 1),
            _write(folder / "b.837", lshp, 2),
            _write(folder / "c.837", medicare[half:], 3),
            _write(folder / "d.837", bbppo, 4)]


def _answers(batch_files: list[Path], inbox: Path, workers: int) -> dict[str, bytes]:
    paths = cycle.simulate_payers(batch_files, inbox, seed=3, not_after=TODAY,
                                  workers=workers)
    return {p.name: p.read_bytes() for p in paths}


def test_simulate_payers__workers_write_the_same_files_as_one_process(
        batches: list[Path], tmp_path: Path) -> None:
    one = _answers(batches, tmp_path / "one", 1)
    assert len(one) == 3 * sum(p.read_text().count("~ST*837*") for p in batches)
    assert _answers(batches, tmp_path / "two", 2) == one


def test_simulate_payers__a_wrong_guess_of_the_payers_falls_back_to_one_process(
        batches: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one = _answers(batches, tmp_path / "one", 1)
    # Every file looks like its own payer, so Medicare's two files go to two workers.
    monkeypatch.setattr(cycle, "_payer_ids", lambda text: {str(hash(text))})
    assert len(cycle._by_payer(list(enumerate(batches)))) == 4
    assert _answers(batches, tmp_path / "two", 2) == one


def test_by_payer__files_sharing_a_payer_stay_together_in_order(batches: list[Path]) -> None:
    mixed = batches[3].with_name("e.837")
    mixed.write_text(batches[3].read_text().replace("*PI*BBPPO~", "*PI*LSHP1~", 1))
    parts = cycle._by_payer(list(enumerate([*batches, mixed])))
    assert sorted(parts) == [[(0, batches[0]), (2, batches[2])],
                             [(1, batches[1]), (3, batches[3]), (4, mixed)]]
