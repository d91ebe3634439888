"""simulate_payers: the same answers, byte for byte, from one process or several."""

from __future__ import annotations

import hashlib
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


#: SHA-256 of every answer to ``batches`` (seed 3, not after TODAY), as the simulator wrote
#: them before its work was made cheaper (the 277CAs since they date claims and lines with
#: DTP*472, as 005010X214 asks, not DTM, and since they pass pyx12's X214 map: BHT05, DTP*050
#: and DTP*009, the provider's name and 2200C TRN/STC, no service lines on accepted claims):
#: a change that is only meant to be faster must write these files, byte for byte.
GOLDEN_ANSWERS = {
    "a-0001.277": "f03ad654d85ce6c81893d069552e44857fc625d852aa05bd0bf43f116a853148",
    "a-0001.835": "30934279b727c222666b7492d94c6119e953d2d68fad26eb886146d7d3a2f694",
    "a-0001.999": "359b14eb70c7466721c4fcd2e241fbccb05d20ad6e6c547de26488f271eb1694",
    "a-0002.277": "9b6fab96ef8677aea1d36033424d363d275227e152519e62582414a1e5580ba4",
    "a-0002.835": "735e68bdb966d94f5ce20fc5785deec46b362b4ef97c2eed102fe995779553ce",
    "a-0002.999": "ea76e3865acea152924b949cae63802402a9c0f886403b98d64f16987b179f47",
    "a-0003.277": "fec3b4a0dc7f32c63a6bf662bd8d7c3d9f63fa0930077695ef35dc2f371674a3",
    "a-0003.835": "630ac8eae12f8255019b62bfec09a8b9b2d39b493ceadbcc7e49dc928a228c8c",
    "a-0003.999": "46bf092400d56003428adb3957947262d2f9495abb0e363f941c354638f7a993",
    "b-0001.277": "49bc28306aaf676b040983bd6f6b58efe4baa6385976040cad13fba064edc7be",
    "b-0001.835": "d6d27c62f06aa8a8dc3f01514409ebc10fdf16b841b5fb6cee45222fb4da39d5",
    "b-0001.999": "541689e4d5058a6f61d8b2260ddd8628721c5420ca00a1ff965cd44f0ecaef97",
    "b-0002.277": "09287d3ea9b1c5c67300d40c01104e0c6875c5c86e261bd861c700bc2e3810ab",
    "b-0002.835": "f4be96a9318d6a0685411e92ed0ac6f00856598dd690bfdb7bd3668cff08de33",
    "b-0002.999": "a66a041b76b677eefab307766a7887453e67e615a1cd346fae9e951f42055092",
    "b-0003.277": "2b531a8f887098f5fb30ac04ed9b6067ff5035cdf38444d467ab64467bfe5083",
    "b-0003.835": "5e2677413647fa43b79017a125d831b15e2691202113d67628875c82687d9479",
    "b-0003.999": "79f74002278ae9beb1ebff8739044b036c002a96c7cb3d999043479610061a86",
    "c-0001.277": "db6b2adf518b55377f807ab2fa7f422694b699ff92e12c6a0ad1c2aaaa6360de",
    "c-0001.835": "65be4c77d8ffc816f6dc478d170a355e8dd3255b35ddb663a7627a70e437bd89",
    "c-0001.999": "b7cbeee000466533020f60617ccd5c48de6b875d32dc56850917c854bd503b8d",
    "c-0002.277": "61d38f1d3a3413ea4c887c0f8af78d935bacefc8e9e01286052a378ed8cbbfdb",
    "c-0002.835": "6b3f5bd8611da99d26977bec83cd77c2cd3ec858d643fddedfbe197994957428",
    "c-0002.999": "ae5b0916e32fdd7fee7cc338e3377c00c78e29f29bc9f233aeac6caac84b93d7",
    "c-0003.277": "113d0e1fd2a05220e6ffba64afad4ffd5525f9ff270566c3decd1b6252c18fa8",
    "c-0003.835": "6a39f7c9a47c7a63ea641eeb1eab8c9974ced1f827079bec278ed028fdb61fb4",
    "c-0003.999": "782f23435e61f668b5858c0b74fc709e9f8c2448502f6f74adcc5f0764761a81",
    "d-0001.277": "53525f09b9990e8748669c1a207d03ef4262f43fc0abc47a02769b433e0b463a",
    "d-0001.835": "a8e2ed08f92691735d009a0ac5e1c6c1c58a180463941266bcb7c6eab3db7e9d",
    "d-0001.999": "dc5d465d1686b373276c2c5094aaee7f662689e53f1b1a9ab368a3da8e8a4c48",
    "d-0002.277": "9bc8e1e99ff54b0c140ce7056aeb1ba127bf45f9f7a9958a46ce928bd6412044",
    "d-0002.835": "96acf43b82d5134a0b644cb097f91f4c1b86d0d765857af4b1d0fe8648c1b40d",
    "d-0002.999": "6833ca24111d2262d29b831ac2fb946b9645f25c4b384aadcff67fa4077a4553",
    "d-0003.277": "f5a754fbf30eca14236dc54cba6d80c83c37664dc4f003d1a22ad01e84581531",
    "d-0003.835": "aab1ce0eee9a98fe7b59af8e055f28d712ebe596118d09fce83152dfb7e8eb7a",
    "d-0003.999": "cceab74249af3c405ac110ec2dbd830c3915e3e6ade9e6695c20f85a2454a137",
}


def test_simulate_payers__answers_are_the_golden_files_byte_for_byte(
        batches: list[Path], tmp_path: Path) -> None:
    answers = _answers(batches, tmp_path, 1)
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in answers.items()}
    assert digests == GOLDEN_ANSWERS
