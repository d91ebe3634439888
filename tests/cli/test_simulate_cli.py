"""``rehabill simulate adjudicate``: files per payer, a JSON summary, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from rehabill.cli.main import build_app
from rehabill.domain.serialize import visit_to_json
from rehabill.simulate.clinic import ClinicSpec, generate_visits
from rehabill.x12.remit835 import read_835_text


def test_simulate_adjudicate__writes_999_277_835_per_payer(tmp_path: Path) -> None:
    visits = generate_visits(ClinicSpec(seed=5))[:40]
    source = tmp_path / "visits.json"
    source.write_text(json.dumps([visit_to_json(v) for v in visits]))
    out = tmp_path / "out"
    result = CliRunner().invoke(build_app(), ["simulate", "adjudicate", str(source), "--out",
                                              str(out), "--seed", "2", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    payers = {p["payer_id"] for p in summary["payers"]}
    assert payers == {v.coverage.payer_id for v in visits}
    for payer in payers:
        for suffix in ("999", "277", "835"):
            assert (out / f"{payer}.{suffix}").exists()
        payments, envelope = read_835_text((out / f"{payer}.835").read_text(), "x")
        assert envelope == [] and all(p.findings == () for p in payments)


def test_simulate_adjudicate__unreadable_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = CliRunner().invoke(build_app(), ["simulate", "adjudicate", str(bad)])
    assert result.exit_code == 2
