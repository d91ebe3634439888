"""The whole billing cycle on SQLite and PostgreSQL, and the books checked against the 835s.

visits → import → scrub → 837P batches → payer simulator (999, 277CA, 835) → acknowledgments →
posting → claim facts. For every claim, what the ledger says it was paid and adjusted must be
what the payers' 835s say, and ``charge = payments + adjustments + patient responsibility +
open balance``; posting the same payments again changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from rehabill.cli.main import build_app
from rehabill.domain.money import ZERO
from rehabill.ledger import denials
from rehabill.services import billing
from rehabill.services.cycle import CycleResult, run_cycle, write_visit_file
from rehabill.simulate.clinic import ClinicSpec, generate_visits
from rehabill.store.facts import claim_facts, kx_totals
from rehabill.store.models import (
    ClaimLineRow,
    ClaimRow,
    ClaimStatusRow,
    LedgerEntryRow,
    PatientRow,
    VisitRow,
)
from rehabill.x12.remit835 import read_835_text

TODAY = date(2026, 7, 6)
Factory = sessionmaker[Session]


@pytest.fixture(scope="module")
def visit_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = ClinicSpec(seed=3, start=date(2026, 6, 1), weeks=4, patients=10, mistake_rate=0.1)
    return write_visit_file(generate_visits(spec), tmp_path_factory.mktemp("e2e") / "v.json")


@pytest.fixture
def cycle(session_factory: Factory, visit_file: Path, tmp_path: Path) -> CycleResult:
    return run_cycle(session_factory, visit_file, outbox=tmp_path / "outbox",
                     inbox=tmp_path / "inbox", today=TODAY, seed=5)


def _from_835s(files: list[Path]) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """Paid and adjusted (every CAS, claim and line level) per claim, as the payers said."""
    paid: dict[str, Decimal] = defaultdict(lambda: ZERO)
    adjusted: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for path in files:
        payments, _ = read_835_text(path.read_text(), str(path))
        for payment in payments:
            for cp in payment.claims:
                paid[cp.claim_id] += cp.paid
                adjusted[cp.claim_id] += sum((a.amount for a in cp.adjustments), ZERO)
                adjusted[cp.claim_id] += sum((a.amount for line in cp.lines
                                              for a in line.adjustments), ZERO)
    return paid, adjusted


def _entries(factory: Factory) -> int:
    with factory() as s:
        return int(s.execute(select(func.count()).select_from(LedgerEntryRow)).scalar_one())


def test_cycle__books_match_the_payers_and_balance(session_factory: Factory,
                                                   cycle: CycleResult) -> None:
    assert cycle.scrub is not None and cycle.scrub.held  # the planted mistakes are held
    assert cycle.batch is not None and cycle.batch.claims > 0
    assert all(not p.refused for p in cycle.posts) and cycle.posts
    eras = [p for p in cycle.inbox_files if p.suffix == ".835"]
    paid, adjusted = _from_835s(eras)
    with session_factory() as s:
        facts = claim_facts(s)
    assert len(facts) == cycle.scrub.coded
    for f in facts:
        assert f.charge == (f.paid + f.contractual + f.other_adjustments
                            + f.patient_responsibility + f.balance), f.claim_id
        assert f.paid == paid.get(f.claim_id, ZERO), f.claim_id
        adjustments = f.contractual + f.other_adjustments + f.patient_responsibility
        assert adjustments == adjusted.get(f.claim_id, ZERO), f.claim_id
        if f.claim_id in cycle.scrub.held:
            assert f.balance == f.charge and f.submitted_on is None
    posted = [f for f in facts if f.claim_id in paid]
    assert posted and all(f.adjudicated_on is not None for f in posted)


def test_cycle__posting_the_same_835s_again_changes_nothing(
        session_factory: Factory, cycle: CycleResult, tmp_path: Path) -> None:
    before = _entries(session_factory)
    eras = [p for p in cycle.inbox_files if p.suffix == ".835"]
    assert all(billing.post_remittance(session_factory, p).already_read for p in eras)
    for era in eras:  # other bytes, same payments: refused by trace number, not by hash
        copy = tmp_path / f"copy-{era.name}"
        copy.write_text(era.read_text() + "\n")
        report = billing.post_remittance(session_factory, copy)
        assert not report.posted_traces and report.duplicate_traces
    assert _entries(session_factory) == before
    with session_factory() as s:
        statuses = set(s.scalars(select(ClaimRow.status)))
    assert statuses <= {"held", "rejected", "paid", "partially_paid", "denied", "closed",
                        "accepted"}


def test_demo__no_serve_prints_the_reports_and_exits_0(tmp_path: Path) -> None:
    db = tmp_path / "demo" / "demo.db"
    result = CliRunner().invoke(build_app(), ["demo", "--db", str(db), "--no-serve",
                                              "--patients", "3"])
    assert result.exit_code == 0, result.output
    for text in ("The billing cycle", "A/R aging", "Denials by carc", "Payment trends",
                 "clean-claim rate", "Worklist", "Setup took", "rehabill report kpis"):
        assert text in result.output
    assert list((db.parent / "outbox").glob("*.837"))
    assert list((db.parent / "inbox").glob("*.835"))
    again = CliRunner().invoke(build_app(), ["demo", "--db", str(db), "--no-serve",
                                             "--patients", "2"])
    assert again.exit_code == 0  # an earlier demo is replaced


def test_demo__refuses_a_database_it_did_not_make(tmp_path: Path) -> None:
    db = tmp_path / "books.db"
    db.write_bytes(b"")
    result = CliRunner().invoke(build_app(), ["demo", "--db", str(db), "--no-serve"])
    assert result.exit_code == 2
    assert "is not a rehabill demo" in result.output


def test_cycle__facts_agree_with_a_row_by_row_fold_of_the_books(
        session_factory: Factory, cycle: CycleResult) -> None:
    """The grouped SQL behind the facts says what reading every ledger and history row says."""
    money: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    history: dict[int, list[tuple[int, str]]] = defaultdict(list)
    with session_factory() as s:
        for e in s.scalars(select(LedgerEntryRow).where(LedgerEntryRow.claim_id.is_not(None))):
            m = money[e.claim_id]  # type: ignore[index]
            m["total"] -= e.amount
            m["paid"] -= e.amount if e.kind == "payment" else ZERO
            m["co45"] -= e.amount if (e.group_code, e.carc) == ("CO", "45") else ZERO
            m[f"{e.kind} {e.group_code}-{e.carc}"] -= e.amount
        for h in s.scalars(select(ClaimStatusRow).order_by(ClaimStatusRow.id)):
            history[h.claim_id].append((h.id, h.status))
        keys = {key: id_ for key, id_ in s.execute(select(ClaimRow.claim_key, ClaimRow.id))}
        facts = claim_facts(s)
        kx = kx_totals(s, TODAY.year)
        lines = s.execute(select(PatientRow.external_id, ClaimLineRow.id, ClaimLineRow.modifiers,
                                 ClaimLineRow.charge)
                          .join(ClaimRow, ClaimRow.id == ClaimLineRow.claim_id)
                          .join(VisitRow, VisitRow.id == ClaimRow.visit_id)
                          .join(PatientRow, PatientRow.id == VisitRow.patient_id)
                          .where(ClaimRow.frequency != "8", ClaimRow.status != "held")).all()
        co45_by_line: dict[int, Decimal] = defaultdict(lambda: ZERO)
        for e in s.scalars(select(LedgerEntryRow).where(LedgerEntryRow.group_code == "CO",
                                                        LedgerEntryRow.carc == "45")):
            if e.claim_line_id is not None:
                co45_by_line[e.claim_line_id] += e.amount
    assert any(f.denied for f in facts) and any(not f.scrub_clean_first_pass for f in facts)
    for f in facts:
        m, steps = money[keys[f.claim_id]], [st for _, st in history[keys[f.claim_id]]]
        assert (f.paid, f.balance) == (m["paid"], f.charge - m["total"]), f.claim_id
        denied = {k.split()[1]: v for k, v in m.items() if " " in k and v > 0
                  and k.split()[1][:2] in ("CO", "OA", "PI")
                  and not denials.is_routine(*k.split()[1].split("-"))}
        assert set(f.denial_reasons) == set(denied), f.claim_id
        assert f.denied_amount == sum(denied.values(), ZERO), f.claim_id
        first_scrub = next((st for st in steps if st in ("scrubbed", "held")), None)
        assert f.scrub_clean_first_pass == (first_scrub != "held"), f.claim_id
        assert f.accepted_first_pass == ("rejected" not in steps), f.claim_id
        result = next((st for st in steps if st in ("paid", "partially_paid", "denied",
                                                    "closed")), None)
        assert f.denied == (result in ("denied", "partially_paid")), f.claim_id
        assert f.allowed == (f.charge - m["co45"] if result else ZERO), f.claim_id
    expected: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for patient, line_id, modifiers, charge in lines:
        kind = "ot" if "GO" in modifiers.split() else "pt_slp"
        expected[(patient, kind)] += charge + co45_by_line[line_id]
    assert kx == sorted((p, k, v) for (p, k), v in expected.items())


def _charge_and_co45(session: Session, claim_id: int) -> tuple[Decimal, Decimal]:
    charge = session.scalar(select(ClaimRow.total_charge).where(ClaimRow.id == claim_id))
    co45 = session.scalar(select(func.coalesce(func.sum(LedgerEntryRow.amount), 0))
                          .where(LedgerEntryRow.claim_id == claim_id,
                                 LedgerEntryRow.carc == "45", LedgerEntryRow.group_code == "CO"))
    return Decimal(charge), Decimal(co45).quantize(Decimal("0.01"))


def test_kx_totals__a_corrected_claim_replaces_and_a_void_removes_the_visit(
        session_factory: Factory, cycle: CycleResult) -> None:
    """Until the payer adjudicates the corrected claim, its lines count at their charge."""
    with session_factory() as s:
        before = sum((v for _, _, v in kx_totals(s, TODAY.year)), ZERO)
        paid = list(s.scalars(select(ClaimRow.id).where(ClaimRow.status == "paid",
                                                         ClaimRow.payer_claim_number != "")
                              .order_by(ClaimRow.id)))
        _, corrected_co45 = _charge_and_co45(s, paid[0])
        void_charge, void_co45 = _charge_and_co45(s, paid[1])
    assert corrected_co45 < 0 and void_co45 < 0
    billing.resubmit_claim(session_factory, paid[0], frequency="7", actor="t", today=TODAY)
    with session_factory() as s:
        corrected = sum((v for _, _, v in kx_totals(s, TODAY.year)), ZERO)
    assert corrected == before - corrected_co45  # not the visit twice
    billing.resubmit_claim(session_factory, paid[1], frequency="8", actor="t", today=TODAY)
    with session_factory() as s:
        voided = sum((v for _, _, v in kx_totals(s, TODAY.year)), ZERO)
    assert voided == corrected - (void_charge + void_co45)
