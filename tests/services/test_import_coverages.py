"""Importing a patient's secondary coverage: a FHIR bundle's order-2 (or second active)
Coverage, and a visit file's ``secondary_coverage``, reach the books as the patient's secondary
coverage while the visit still bills the primary (SQLite and PostgreSQL)."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rehabill.services.imports import import_file
from rehabill.store import claims as store_claims
from rehabill.store import coverages as store_coverages
from rehabill.store import visits as store_visits
from rehabill.store.models import CoverageRow, PayerRow

DATA = Path(__file__).parents[1] / "data" / "import"
Factory = sessionmaker[Session]


def fhir_with_secondary(order: int | None = 2, status: str = "active",
                        period: dict[str, str] | None = None) -> dict[str, Any]:
    """The sample bundle plus a Medigap payer and the patient's Coverage by it."""
    bundle: dict[str, Any] = json.loads((DATA / "fhir_bundle.json").read_text())
    payer = {"fullUrl": "urn:uuid:payer-2", "resource": {
        "resourceType": "Organization", "id": "payer-2", "name": "Lone Star Medigap",
        "identifier": [{"system": "https://rehabill.org/payer-id", "value": "LSMGP"}]}}
    coverage: dict[str, Any] = {
        "resourceType": "Coverage", "id": "cov-2", "status": status,
        "subscriberId": "MG778899", "beneficiary": {"reference": "urn:uuid:pat-1"},
        "payor": [{"reference": "urn:uuid:payer-2"}],
        "relationship": {"coding": [{"code": "self"}]},
        "class": [{"type": {"coding": [{"code": "plan"}]}, "value": "medigap_g"},
                  {"type": {"coding": [{"code": "group"}]}, "value": "GRP-G1"}]}
    if order is not None:
        coverage["order"] = order
    if period is not None:
        coverage["period"] = period
    # the secondary comes first in the bundle: order, not place, decides
    bundle["entry"][2:2] = [payer, {"fullUrl": "urn:uuid:cov-2", "resource": coverage}]
    return bundle


def _write(tmp_path: Path, data: object, name: str = "bundle.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def _coverages(factory: Factory) -> dict[str, tuple[str, str, str, str]]:
    with factory() as s:
        rows = s.execute(select(PayerRow.payer_key, CoverageRow.member_id, CoverageRow.plan,
                                CoverageRow.group_number, CoverageRow.sequence)
                         .join(PayerRow, PayerRow.id == CoverageRow.payer_id)).all()
    return {key: (member, plan, group, seq) for key, member, plan, group, seq in rows}


def _visit_coverage(factory: Factory, visit_id: str) -> tuple[str, str]:
    with factory() as s:
        row_id = store_visits.visit_row_ids(s, [visit_id])[visit_id]
        visit = store_visits.load_visits(s, [row_id])[row_id]
    return visit.coverage.payer_id, visit.coverage.sequence


def test_fhir_import__order_2_coverage_is_the_patients_secondary(
        session_factory: Factory, tmp_path: Path) -> None:
    report = import_file(session_factory, _write(tmp_path, fhir_with_secondary()))
    assert report.imported == ["F-1001"]
    assert _coverages(session_factory) == {
        "MEDICARE": ("1EG4TE5MK73", "medicare_part_b", "", "primary"),
        "LSMGP": ("MG778899", "medigap_g", "GRP-G1", "secondary")}
    assert _visit_coverage(session_factory, "F-1001") == ("MEDICARE", "primary")
    with session_factory() as s:
        row_id = store_visits.visit_row_ids(s, ["F-1001"])["F-1001"]
        secondary = store_claims.coverage_for(s, row_id, "secondary")
        assert secondary is not None
        assert store_claims.load_coverages(s, [secondary])[secondary].payer_name == \
            "Lone Star Medigap"


def test_fhir_import__a_second_active_coverage_without_order_is_the_secondary(
        session_factory: Factory, tmp_path: Path) -> None:
    bundle = fhir_with_secondary(order=None)
    del bundle["entry"][5]["resource"]["order"]  # cov-1 (now entry 5) has no order either
    bundle["entry"][2:4] = [bundle["entry"][5], *bundle["entry"][2:4]]  # cov-1 first
    del bundle["entry"][6]
    import_file(session_factory, _write(tmp_path, bundle))
    assert {k: v[3] for k, v in _coverages(session_factory).items()} == {
        "MEDICARE": "primary", "LSMGP": "secondary"}
    assert _visit_coverage(session_factory, "F-1001") == ("MEDICARE", "primary")


@pytest.mark.parametrize(("status", "period"), [
    ("cancelled", None),
    ("active", {"start": "2025-01-01", "end": "2025-12-31"}),  # ended before the visit
])
def test_fhir_import__a_coverage_not_in_force_is_not_stored(
        session_factory: Factory, tmp_path: Path, status: str,
        period: dict[str, str] | None) -> None:
    import_file(session_factory, _write(tmp_path, fhir_with_secondary(status=status,
                                                                      period=period)))
    assert set(_coverages(session_factory)) == {"MEDICARE"}


def test_fhir_import__is_idempotent_with_the_secondary(
        session_factory: Factory, tmp_path: Path) -> None:
    bundle = fhir_with_secondary()
    import_file(session_factory, _write(tmp_path, bundle))
    again = import_file(session_factory, _write(tmp_path, bundle))
    assert again.already_imported_at
    changed = copy.deepcopy(bundle)  # another export of the same encounters
    changed["entry"][3]["resource"]["class"][1]["value"] = "GRP-G2"
    report = import_file(session_factory, _write(tmp_path, changed, "second.json"))
    assert report.imported == [] and report.duplicates == ["F-1001"]
    with session_factory() as s:
        assert len(s.scalars(select(CoverageRow.id)).all()) == 2
    assert _coverages(session_factory)["LSMGP"] == ("MG778899", "medigap_g", "GRP-G2",
                                                   "secondary")


def test_json_import__secondary_coverage_field(session_factory: Factory,
                                               tmp_path: Path) -> None:
    data = json.loads((DATA / "visits.json").read_text())
    visits = data["visits"][:2]
    visits[0]["secondary_coverage"] = {"payer_id": "TXMCD", "payer_name": "Texas Medicaid",
                                       "member_id": "512345678", "plan": "Medicaid"}
    visits[1]["secondary_coverage"] = {"payer_id": "TXMCD", "member_id": ""}
    report = import_file(session_factory, _write(tmp_path, visits, "visits.json"))
    assert report.imported == [visits[0]["visit_id"]]
    assert report.rejected == [visits[1]["visit_id"]]
    [finding] = report.findings
    assert (finding.code, finding.location.field) == ("input.invalid_field",
                                                      "secondary_coverage.member_id")
    assert _coverages(session_factory)["TXMCD"] == ("512345678", "medicaid", "", "secondary")
    with session_factory() as s:
        [patient] = store_coverages.patients_with_coverages(s, visits[0]["patient"]["id"])
    assert [c.coverage.sequence for c in patient.coverages] == ["primary", "secondary"]
    assert [c.visits for c in patient.coverages] == [1, 0]


def test_csv_import__secondary_coverage_columns(session_factory: Factory,
                                               tmp_path: Path) -> None:
    lines = (DATA / "visits.csv").read_text().splitlines()
    header = lines[0] + ",secondary_coverage.payer_id,secondary_coverage.member_id"
    rows = [line + (",TXMCD,512345678" if line.startswith("C-1,") else ",,")
            for line in lines[1:]]
    path = tmp_path / "visits.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    report = import_file(session_factory, path)
    assert "C-1" in report.imported
    assert _coverages(session_factory)["TXMCD"] == ("512345678", "", "", "secondary")


def test_import__a_new_secondary_replaces_the_old_one(session_factory: Factory,
                                                      tmp_path: Path) -> None:
    data = json.loads((DATA / "visits.json").read_text())
    first, second = data["visits"][:2]
    second["patient"] = first["patient"]  # two visits of one patient
    first["secondary_coverage"] = {"payer_id": "LSMGP", "member_id": "MG1", "plan": "medigap"}
    second["secondary_coverage"] = {"payer_id": "TXMCD", "member_id": "512345678",
                                    "plan": "medicaid"}
    import_file(session_factory, _write(tmp_path, [first], "first.json"))
    import_file(session_factory, _write(tmp_path, [second], "second.json"))
    coverages = _coverages(session_factory)
    assert (coverages["LSMGP"][3], coverages["TXMCD"][3]) == ("former", "secondary")
    with session_factory() as s:
        row_id = store_visits.visit_row_ids(s, [first["visit_id"]])[first["visit_id"]]
        secondary = store_claims.coverage_for(s, row_id, "secondary")
        assert secondary is not None
        assert store_claims.load_coverages(s, [secondary])[secondary].payer_id == "TXMCD"


def test_import__secondary_coverage_dates_are_kept_and_checked(session_factory: Factory,
                                                               tmp_path: Path) -> None:
    """A secondary's ``start``/``end`` (JSON, and a FHIR order-2 Coverage's period) reach the
    books; a bad one rejects the visit at its field, as the primary's would."""
    data = json.loads((DATA / "visits.json").read_text())
    visits = data["visits"][:2]
    visits[0]["secondary_coverage"] = {"payer_id": "TXMCD", "member_id": "512345678",
                                       "start": "2026-01-01", "end": "2026-12-31"}
    visits[1]["secondary_coverage"] = {"payer_id": "TXMCD", "member_id": "612345678",
                                       "start": "2026-06-01", "end": "2026-05-31"}
    report = import_file(session_factory, _write(tmp_path, visits, "visits.json"))
    assert report.rejected == [visits[1]["visit_id"]]
    assert [f.location.field for f in report.findings] == ["secondary_coverage.end"]
    with session_factory() as s:
        dates = s.execute(select(CoverageRow.start_date, CoverageRow.end_date)
                          .where(CoverageRow.member_id == "512345678")).one()
    assert tuple(dates) == (date(2026, 1, 1), date(2026, 12, 31))
    bundle = fhir_with_secondary(period={"start": "2026-01-01"})
    import_file(session_factory, _write(tmp_path, bundle))
    with session_factory() as s:
        dates = s.execute(select(CoverageRow.start_date, CoverageRow.end_date)
                          .where(CoverageRow.member_id == "MG778899")).one()
    assert tuple(dates) == (date(2026, 1, 1), None)
