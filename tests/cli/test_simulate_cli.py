"""``rehabill simulate adjudicate``: files per payer, a JSON summary, exit codes."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from typer.testing import CliRunner

from rehabill.cli.main import build_app
from rehabill.coding import code_visit
from rehabill.domain.serialize import visit_to_json
from rehabill.ledger import MemoryPostingStore, post_payment
from rehabill.simulate.clinic import ClinicSpec, generate_visits
from rehabill.x12 import ack999
from rehabill.x12.p837 import BatchSettings, render_837p
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


def test_simulate_adjudicate__reads_an_837p_and_echoes_its_control_numbers(
        tmp_path: Path) -> None:
    claims = [code_visit(v).claim for v in generate_visits(ClinicSpec(seed=9))[:30]]
    settings = BatchSettings("RIVERSIDE REHAB", "RIVERSIDE", "CLEARINGHOUSE", "CH", 42,
                             datetime(2026, 9, 1, 8, 0), contact_phone="5125550100",
                             group_control_number=42)
    batch = tmp_path / "batch.837"
    batch.write_text(render_837p(claims, settings))
    out = tmp_path / "out"
    result = CliRunner().invoke(build_app(), ["simulate", "adjudicate", str(batch), "-o",
                                              str(out), "--json"])
    assert result.exit_code == 0, result.output
    store = MemoryPostingStore(claims)
    for payer in {c.visit.coverage.payer_id for c in claims}:
        (ack,), _ = ack999.read_text((out / f"{payer}.999").read_text(), "a")
        assert ack.group_control_number == "42"
        payments, envelope = read_835_text((out / f"{payer}.835").read_text(), "p")
        assert envelope == []
        for payment in payments:
            posted = post_payment(store, payment, file=f"{payer}.835")
            assert posted.suspense == () and posted.findings == ()
    assert store.entries
    for claim_id in {e.claim_id for e in store.entries}:
        assert store.balance(claim_id).open_balance == 0
