"""Coordination of benefits from the practice's own data to the secondary's 837P (SQLite and
PostgreSQL): a patient's secondary coverage arrives with the visits (the demo practice's visit
file, or a FHIR bundle), the primary pays with a patient share, the biller moves that share to
the secondary, and the secondary claim's 837P validates."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rehabill.domain import ClaimStatus
from rehabill.services import billing
from rehabill.services.fhir import EXTENSION
from rehabill.simulate import clinic, payer
from rehabill.store import claims as store_claims
from rehabill.store.models import ClaimRow, CoverageRow, LedgerEntryRow, VisitRow
from rehabill.x12.p837 import check_claim, x12_amount
from rehabill.x12.reader import read_x12
from tests.services.test_cob import bill_and_post
from tests.services.test_import_coverages import fhir_with_secondary
from tests.x12.helpers import pyx12_errors

TODAY = date(2026, 7, 20)
Factory = sessionmaker[Session]


def _paid_with_patient_share(factory: Factory) -> list[int]:
    """Claims the primary paid that left a patient share (PR) and whose patient has a
    secondary coverage."""
    with factory() as s:
        paid = store_claims.claim_ids_by_status(s, ClaimStatus.PAID)
        query = (select(ClaimRow.id).join(VisitRow, VisitRow.id == ClaimRow.visit_id)
                 .join(CoverageRow, CoverageRow.patient_id == VisitRow.patient_id)
                 .join(LedgerEntryRow, LedgerEntryRow.claim_id == ClaimRow.id)
                 .where(ClaimRow.id.in_(paid), CoverageRow.sequence == "secondary",
                        LedgerEntryRow.group_code == "PR").distinct().order_by(ClaimRow.id))
        return list(s.scalars(query))


def _move_and_check_837(factory: Factory, claim_id: int, tmp_path: Path, primary_payer: str,
                        secondary_payer: str, today: date = TODAY) -> None:
    with factory() as s:
        primary = store_claims.load_claims(s, [claim_id])[claim_id]
        posted = store_claims.adjudications(s, [claim_id])[claim_id]
    share = sum((a.amount for a in posted if a.group == "PR"), Decimal(0))
    assert primary.visit.coverage.payer_id == primary_payer and share > 0

    moved = billing.move_balance(factory, claim_id, to="secondary", actor="bea", today=today)

    assert moved >= share
    batch = billing.build_batch(factory, outbox=tmp_path / "outbox-secondary", today=today)
    [file] = batch.files
    assert (file.payer_id, file.claims) == (secondary_payer, 1)
    text = Path(file.path).read_text()
    assert pyx12_errors(text) == []
    assert "SBR*S*" in text and "SBR*P*" in text and f"SVD*{primary_payer}*" in text
    [read] = read_x12(text)
    assert read["findings"] == []
    with factory() as s:
        new_id = s.scalars(select(ClaimRow.id).where(ClaimRow.prior_claim_id == claim_id)
                           ).one()
        secondary = store_claims.load_claims(s, [new_id])[new_id]
    assert secondary.visit.coverage.payer_id == secondary_payer
    [prior] = secondary.prior_payers
    assert f"AMT*D*{x12_amount(prior.paid)}~" in text
    assert [f.code for f in check_claim(secondary) if f.is_error] == []


def test_demo_practice__medicare_paid_claim_moves_to_the_secondary(
        session_factory: Factory, tmp_path: Path) -> None:
    spec = clinic.ClinicSpec(seed=11, start=date(2026, 5, 4), patients=12, weeks=6,
                             mistake_rate=0.0)
    visits = clinic.generate_visits(spec)
    visit_file = clinic.write_visit_file(visits, tmp_path / "visits.json", seed=spec.seed)
    bill_and_post(session_factory, visit_file, tmp_path)
    claims = _paid_with_patient_share(session_factory)
    assert claims, "no Medicare-paid claim with a patient share for a patient with a secondary"
    secondaries = clinic.secondary_coverages(visits, spec.seed)
    with session_factory() as s:
        patient = store_claims.load_claims(s, [claims[0]])[claims[0]].visit.patient.id
    _move_and_check_837(session_factory, claims[0], tmp_path, "MEDICARE",
                        secondaries[patient].payer_id)


def _billable(bundle: dict[str, Any]) -> dict[str, Any]:
    """The sample bundle made billable without a plan of care or an authorization (the FHIR
    reader maps neither, and Medicare requires a plan): a commercial primary, and each
    service's activity, goal and assistance documented."""
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource.get("id") == "payer-1":
            resource["name"] = "Lone Star Health Plan"
            resource["identifier"][0]["value"] = "LSHP1"
        elif resource.get("id") == "cov-1":
            resource["subscriberId"] = "LSH123456789"
            resource["class"] = [{"type": {"coding": [{"code": "plan"}]}, "value": "commercial"},
                                 {"type": {"coding": [{"code": "group"}]}, "value": "GRP1001"}]
        elif resource.get("resourceType") == "Procedure":
            resource.setdefault("note", [{"text": "hip abductor strengthening"}])
            resource.setdefault("extension", []).extend([
                {"url": EXTENSION + "goal", "valueString": "stand 10 minutes for cooking"},
                {"url": EXTENSION + "assistance", "valueString": "moderate assist"}])
    return bundle


@pytest.mark.parametrize("order", [2, None])
def test_fhir_bundle__primary_paid_claim_moves_to_the_secondary(
        session_factory: Factory, tmp_path: Path, order: int | None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # this commercial payer asks for no prior authorization (FHIR brings none), and the
    # patient met the deductible: it pays, leaving coinsurance and copay to the patient
    monkeypatch.setattr(payer, "COMMERCIAL", replace(
        payer.COMMERCIAL, requires_authorization=False, deductible=Decimal(0)))
    bundle = _billable(fhir_with_secondary(order=order))
    if order is None:  # the primary's Coverage first in the bundle, neither ordered
        entries = bundle["entry"]
        primary = next(e for e in entries if e["resource"].get("id") == "cov-1")
        del primary["resource"]["order"]
        entries.remove(primary)
        entries.insert(0, primary)
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    today = date(2026, 3, 20)  # within the commercial filing window of the 2026-03-02 visit
    bill_and_post(session_factory, path, tmp_path, today)
    [claim_id] = _paid_with_patient_share(session_factory)
    _move_and_check_837(session_factory, claim_id, tmp_path, "LSHP1", "LSMGP", today)
