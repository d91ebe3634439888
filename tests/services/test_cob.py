"""Coordination of benefits on the books (SQLite and PostgreSQL): the primary payer pays, the
balance moves to the secondary payer, and a secondary claim carries the primary's adjudication."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from rehabill.domain import ClaimStatus, Coverage
from rehabill.errors import ConflictError
from rehabill.services import billing
from rehabill.services.cycle import simulate_payers, write_visit_file
from rehabill.services.imports import import_file
from rehabill.simulate.clinic import ClinicSpec, generate_visits
from rehabill.simulate.payer import DenialRates
from rehabill.store import claims as store_claims
from rehabill.store import mapping
from rehabill.store.models import (
    AuditEventRow,
    ClaimRow,
    CoverageRow,
    LedgerEntryRow,
    PayerRow,
    VisitRow,
)
from rehabill.x12.p837 import check_claim, x12_amount
from rehabill.x12.reader import read_x12
from tests.x12.helpers import pyx12_errors, render, settings

TODAY = date(2026, 7, 20)
Factory = sessionmaker[Session]
SECONDARY = Coverage("60054", "Aetna", "W123456789", "commercial", group_number="GRP100",
                     sequence="secondary")


@pytest.fixture(scope="module")
def visit_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    visits = generate_visits(ClinicSpec(seed=11, patients=6, weeks=4, mistake_rate=0.15))
    return write_visit_file(visits, tmp_path_factory.mktemp("visits") / "visits.json")


def bill_and_post(factory: Factory, visit_file: Path, tmp_path: Path,
                  today: date = TODAY) -> None:
    """Import, scrub, batch; the simulated payers answer (no denials); post it all."""
    report = import_file(factory, visit_file)
    assert report.imported
    billing.scrub_stored_claims(factory, today=today)
    batch = billing.build_batch(factory, outbox=tmp_path / "outbox", today=today)
    answers = simulate_payers([Path(f.path) for f in batch.files], tmp_path / "inbox",
                              rates=DenialRates.none())
    for p in answers:
        if p.suffix != ".835":
            billing.read_acknowledgments(factory, p)
    for p in answers:
        if p.suffix == ".835":
            billing.post_remittance(factory, p)


def _paid_by_primary(factory: Factory, visit_file: Path, tmp_path: Path) -> int:
    """Bill, let the simulated payers answer, post everything; a claim the primary paid with a
    contractual write-off (CO-45) and coinsurance for the patient (PR-2)."""
    bill_and_post(factory, visit_file, tmp_path)
    with factory() as s:
        paid = store_claims.claim_ids_by_status(s, ClaimStatus.PAID)
        for claim_id in paid:
            codes = {(g, c) for g, c in s.execute(
                select(LedgerEntryRow.group_code, LedgerEntryRow.carc)
                .where(LedgerEntryRow.claim_id == claim_id))}
            if {("CO", "45"), ("PR", "2")} <= codes:
                return claim_id
    raise AssertionError("no claim paid with CO-45 and PR-2")


def _add_secondary(factory: Factory, claim_id: int) -> None:
    with factory.begin() as s:
        patient_id = s.execute(select(VisitRow.patient_id).join(
            ClaimRow, ClaimRow.visit_id == VisitRow.id).where(ClaimRow.id == claim_id)).scalar_one()
        payer = s.execute(select(PayerRow.id).where(PayerRow.payer_key == "60054")).scalar()
        if payer is None:
            row = PayerRow(**mapping.payer_values(SECONDARY))
            s.add(row)
            s.flush()
            payer = row.id
        s.add(CoverageRow(**mapping.coverage_values(SECONDARY, patient_id, payer)))


def _count(factory: Factory, model: type) -> int:  # type: ignore[type-arg]
    with factory() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def test_move_balance__bills_the_secondary_with_the_primarys_adjudication(
        session_factory: Factory, visit_file: Path, tmp_path: Path) -> None:
    primary_id = _paid_by_primary(session_factory, visit_file, tmp_path)
    _add_secondary(session_factory, primary_id)
    with session_factory() as s:
        primary = store_claims.load_claims(s, [primary_id])[primary_id]
        posted = store_claims.adjudications(s, [primary_id])[primary_id]
    patient_share = sum((a.amount for a in posted if a.group == "PR"), Decimal(0))
    primary_paid = sum((a.amount for a in posted if a.kind == "payment"), Decimal(0))
    assert patient_share > 0 and primary_paid > 0

    moved = billing.move_balance(session_factory, primary_id, to="secondary", actor="t",
                                 today=TODAY)

    assert moved == patient_share  # the primary left nothing but the patient's share
    with session_factory() as s:
        new_id = s.execute(select(func.max(ClaimRow.id))).scalar_one()
        row = s.get(ClaimRow, new_id)
        assert row is not None
        assert (row.prior_claim_id, row.sequence, row.frequency) == (primary_id, 2, "1")
        assert row.status in ("scrubbed", "held") and row.coverage_id is not None
        event = s.execute(select(AuditEventRow.detail).where(
            AuditEventRow.action == "move_balance")).scalar_one()
        assert event["new_claim"] == new_id
        secondary = store_claims.load_claims(s, [new_id])[new_id]
    assert secondary.visit.coverage == SECONDARY
    assert secondary.claim_id == primary.claim_id and secondary.lines == primary.lines
    [prior] = secondary.prior_payers
    assert prior.payer_id == primary.visit.coverage.payer_id
    assert prior.member_id == primary.visit.coverage.member_id
    assert prior.paid == primary_paid
    assert {(a.group, a.reason) for line in prior.lines for a in line.adjustments} >= {
        ("CO", "45"), ("PR", "2")}
    assert [f.code for f in check_claim(secondary) if f.is_error] == []

    text = render([secondary], settings())
    assert pyx12_errors(text) == []
    assert f"~AMT*D*{x12_amount(prior.paid)}~" in text
    assert text.count("SVD*") == len(primary.lines)
    [read] = read_x12(text)
    assert read["findings"] == []


def test_move_balance__the_next_batch_goes_to_the_secondary_payer(
        session_factory: Factory, visit_file: Path, tmp_path: Path) -> None:
    primary_id = _paid_by_primary(session_factory, visit_file, tmp_path)
    _add_secondary(session_factory, primary_id)
    billing.move_balance(session_factory, primary_id, to="secondary", actor="t", today=TODAY)
    with session_factory() as s:
        new_id = s.execute(select(func.max(ClaimRow.id))).scalar_one()
        status = s.execute(select(ClaimRow.status).where(ClaimRow.id == new_id)).scalar_one()
    assert status == "scrubbed"
    batch = billing.build_batch(session_factory, outbox=tmp_path / "outbox2", today=TODAY)
    [file] = batch.files
    assert file.payer_id == "60054" and file.claims == 1
    text = Path(file.path).read_text()
    assert pyx12_errors(text) == []
    assert "SBR*S*" in text and "SVD*" in text and "OI***Y***Y" in text
    before = (_count(session_factory, ClaimRow), _count(session_factory, LedgerEntryRow))
    with pytest.raises(ConflictError, match=f"already billed to the secondary payer as claim "
                                            f"{new_id}"):
        billing.move_balance(session_factory, primary_id, to="secondary", actor="t",
                             today=TODAY)
    assert (_count(session_factory, ClaimRow), _count(session_factory, LedgerEntryRow)) == before


def test_move_balance__no_secondary_coverage_is_a_conflict_and_writes_nothing(
        session_factory: Factory, visit_file: Path, tmp_path: Path) -> None:
    primary_id = _paid_by_primary(session_factory, visit_file, tmp_path)
    before = (_count(session_factory, ClaimRow), _count(session_factory, LedgerEntryRow),
              _count(session_factory, AuditEventRow))
    with pytest.raises(ConflictError, match="no secondary coverage"):
        billing.move_balance(session_factory, primary_id, to="secondary", actor="t",
                             today=TODAY)
    assert (_count(session_factory, ClaimRow), _count(session_factory, LedgerEntryRow),
            _count(session_factory, AuditEventRow)) == before
