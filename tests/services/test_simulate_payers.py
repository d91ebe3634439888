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
#: and DTP*009, the provider's name and 2200C TRN/STC, no service lines on accepted claims;
#: and since the payee and the 277CA's provider carry the name and EIN the 837P billed):
#: a change that is only meant to be faster must write these files, byte for byte.
GOLDEN_ANSWERS = {
    "a-0001.277": "1aed195f64c8574e1e15df72b72e4b8158e82d4d636184a7f171a2b298759950",
    "a-0001.835": "aaccd3f0c4d9392ac052f8ae2fb0019b99e95f45d9ff49385cad51b60c1b5249",
    "a-0001.999": "359b14eb70c7466721c4fcd2e241fbccb05d20ad6e6c547de26488f271eb1694",
    "a-0002.277": "cd61b64721e4b42e63ea7cad63e1d00970ffba785a7d6583c1ad90da0a4437e7",
    "a-0002.835": "145c875d5899390f06dc997549254cfe3dcc42baf4251fe5fe161b88438d3db9",
    "a-0002.999": "ea76e3865acea152924b949cae63802402a9c0f886403b98d64f16987b179f47",
    "a-0003.277": "5bb3e34b247c4475ec18ece73416fdf99feb195fd0a2d9381bea3034f8e4dc5d",
    "a-0003.835": "76a0f6c53fc34cbd8d5ca8e6f5087a020594712027a5f3631db876411f93c9e7",
    "a-0003.999": "46bf092400d56003428adb3957947262d2f9495abb0e363f941c354638f7a993",
    "b-0001.277": "209ef17889f09de5be7b212774690222401ea8e5e435801e110cf0ab1f0bf815",
    "b-0001.835": "b7c039dc7aea599bf46456c725e2adeb4a8200b1f6f569d552a94c05518ec35f",
    "b-0001.999": "541689e4d5058a6f61d8b2260ddd8628721c5420ca00a1ff965cd44f0ecaef97",
    "b-0002.277": "fe52803fcd68639980c2a88ba085fe328982a678d42d03811b1d1763d1a0fa6a",
    "b-0002.835": "090ed72857be183ae29d44e3e075166c75b43f514ea7809f4e685afd80846fc9",
    "b-0002.999": "a66a041b76b677eefab307766a7887453e67e615a1cd346fae9e951f42055092",
    "b-0003.277": "6f8614a86d1a52264ea75e6814c335da4089a6daa64abee4f76cfc63099111be",
    "b-0003.835": "772db83dd273e5501a18ef8e82669676daf1cf48042ad0ce268614574916b1bb",
    "b-0003.999": "79f74002278ae9beb1ebff8739044b036c002a96c7cb3d999043479610061a86",
    "c-0001.277": "82bf4c615ff6286a4dc52e88a4c6c818b98273e75bb0b7a48372b5bfae7094c0",
    "c-0001.835": "08b05bc46950fffaf8a8f644c6dd9f753c17c14685baafc92ad2c766b3735ef2",
    "c-0001.999": "b7cbeee000466533020f60617ccd5c48de6b875d32dc56850917c854bd503b8d",
    "c-0002.277": "b3462db7bbba49294a91d0699faf00ba7e8ba2ecbd209ad7c26f5c65f8cfd6ae",
    "c-0002.835": "8dfe949df898eeb7ecaa0d3cb7fb329f784c19ac16effaa64463758b1e6c159f",
    "c-0002.999": "ae5b0916e32fdd7fee7cc338e3377c00c78e29f29bc9f233aeac6caac84b93d7",
    "c-0003.277": "3951694dd1317976d08de69151a907219a064313db9267002bb2d4ea20122ae6",
    "c-0003.835": "c5386a11d372996e01b393074b827327779e635818a4fcdac0a68641609da411",
    "c-0003.999": "782f23435e61f668b5858c0b74fc709e9f8c2448502f6f74adcc5f0764761a81",
    "d-0001.277": "68a63b56ba44a88ae74f3593a0cedf86976a6a47ac506c5204d1a30c14225298",
    "d-0001.835": "1fef811217ffd68dbe0f01cd1fa552c593fe30a0a8c1601fa75dbc74d5127c49",
    "d-0001.999": "dc5d465d1686b373276c2c5094aaee7f662689e53f1b1a9ab368a3da8e8a4c48",
    "d-0002.277": "9c621669dedd6536f2b0903fe221a3a8e09bf211675501e9558bf79574c4d720",
    "d-0002.835": "c39e5c78423f3ff2b69ef126d0692a12d57ab6aa29314aa60e55b82f97bc8edd",
    "d-0002.999": "6833ca24111d2262d29b831ac2fb946b9645f25c4b384aadcff67fa4077a4553",
    "d-0003.277": "a54228fd3b813b293a72c8b0cc87477c1ccb59567fc378c3f0f5e67e52aca555",
    "d-0003.835": "769f11fa7c7a67f49f7cc5e804ab0d6303a94dd87b4d39753c10cc67391bb77e",
    "d-0003.999": "cceab74249af3c405ac110ec2dbd830c3915e3e6ade9e6695c20f85a2454a137",
}


def test_simulate_payers__answers_are_the_golden_files_byte_for_byte(
        batches: list[Path], tmp_path: Path) -> None:
    answers = _answers(batches, tmp_path, 1)
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in answers.items()}
    assert digests == GOLDEN_ANSWERS
