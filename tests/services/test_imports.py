"""Importing visits: JSON, CSV and FHIR; idempotent by visit id and by file; bad visits skipped."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from rehabill.errors import InputError
from rehabill.services.imports import import_file
from rehabill.services.uow import unit_of_work
from rehabill.store import people
from rehabill.store import visits as store_visits
from rehabill.store.models import (
    CoverageRow,
    FindingRow,
    PatientRow,
    ProviderRow,
    ServiceRow,
    VisitRow,
)

DATA = Path(__file__).parents[1] / "data" / "import"


def _count(session: Session, model: type) -> int:  # type: ignore[type-arg]
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())


@pytest.mark.parametrize(("name", "imported", "rejected", "where"), [
    ("visits.json", ["V-1001", "V-1002"], ["V-1003"], "services[0].minutes"),
    ("visits.csv", ["C-1", "C-2"], ["C-3"], "row 6, column service.minutes"),
    ("fhir_bundle.json", ["F-1001"], ["enc-2"],
     "entry 11 (Procedure/proc-3): services[0].minutes"),
])
def test_import__stores_good_visits_and_locates_bad_ones(
        session_factory: sessionmaker[Session], name: str, imported: list[str],
        rejected: list[str], where: str) -> None:
    report = import_file(session_factory, DATA / name)
    assert sorted(report.imported) == imported
    assert report.rejected == rejected
    assert report.exit_code == 1
    [finding] = report.findings
    assert finding.location.field == where
    assert finding.location.file.endswith(name)
    with session_factory() as s:
        assert store_visits.stored_visit_keys(s, imported + rejected) == set(imported)


def test_import__fhir_maps_people_payer_minutes_and_diagnoses(
        session_factory: sessionmaker[Session]) -> None:
    import_file(session_factory, DATA / "fhir_bundle.json")
    with session_factory() as s:
        ids = store_visits.visit_row_ids(s, ["F-1001"])
        visit = store_visits.load_visits(s, [ids["F-1001"]])[ids["F-1001"]]
    assert visit.patient.id == "P-1" and visit.patient.sex == "M"
    assert (visit.coverage.payer_id, visit.coverage.member_id, visit.coverage.plan) == \
        ("MEDICARE", "1EG4TE5MK73", "medicare_part_b")
    assert visit.rendering_provider.npi == "1467560003"
    assert visit.assistant is not None and visit.assistant.credential.value == "PTA"
    assert visit.diagnoses == ("I69.351", "R26.89")
    assert [(s.code, s.minutes, s.assistant_minutes) for s in visit.services] == \
        [("97530", 25, 0), ("97110", 10, 13)]
    assert visit.billing_provider.tax_id == "123456789"


def test_import__keeps_rejections_and_an_audit_event(
        session_factory: sessionmaker[Session]) -> None:
    report = import_file(session_factory, DATA / "visits.json", actor="bea")
    with session_factory() as s:
        stored = s.execute(select(FindingRow.stage, FindingRow.code, FindingRow.file_id)).all()
        [(stage, code, file_id)] = stored
        assert (stage, code) == ("import", "input.invalid_field")
        [event] = people.audit_events(s, "file", str(file_id))
    assert (event.actor, event.action) == ("bea", "import")
    assert event.detail["imported"] == len(report.imported) == 2


def test_import__same_file_twice_is_a_noop(session_factory: sessionmaker[Session]) -> None:
    first = import_file(session_factory, DATA / "visits.json")
    second = import_file(session_factory, DATA / "visits.json")
    assert len(first.imported) == 2
    assert second.already_imported_at
    assert second.imported == [] and second.exit_code == 0
    assert [f.code for f in second.findings] == ["import.file_already_imported"]
    with session_factory() as s:
        assert _count(s, VisitRow) == 2


def test_import__same_visit_in_another_file_is_a_noop_that_says_so(
        session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    data = json.loads((DATA / "visits.json").read_text())
    data["visits"] = data["visits"][:2]
    data["visits"][1]["services"][0]["minutes"] = 55  # changed content, same visit id
    copy = tmp_path / "again.json"
    copy.write_text(json.dumps(data))
    import_file(session_factory, DATA / "visits.json")
    report = import_file(session_factory, copy)
    assert report.imported == []
    assert report.duplicates == ["V-1001", "V-1002"]
    assert {f.code for f in report.findings} == {"import.visit_already_stored"}
    with session_factory() as s:
        assert _count(s, ServiceRow) == 4
        minutes = s.scalars(select(ServiceRow.minutes).join(VisitRow)
                            .where(VisitRow.visit_key == "V-1002")).all()
        assert minutes == [40]


def test_import__upserts_people_by_natural_key(session_factory: sessionmaker[Session],
                                               tmp_path: Path) -> None:
    import_file(session_factory, DATA / "visits.json")
    data = json.loads((DATA / "visits.json").read_text())
    visit = data["visits"][1]
    visit["visit_id"] = "V-2002"
    visit["patient"]["last_name"] = "Diaz-Ortiz"
    (tmp_path / "more.json").write_text(json.dumps([visit]))
    import_file(session_factory, tmp_path / "more.json")
    with session_factory() as s:
        assert _count(s, PatientRow) == 2
        assert _count(s, CoverageRow) == 2
        assert _count(s, ProviderRow) == 3
        names = s.scalars(select(PatientRow.last_name).where(PatientRow.external_id == "P-2"))
        assert list(names) == ["Diaz-Ortiz"]


@pytest.mark.parametrize(("content", "suffix", "message"), [
    (b"{not json", ".json", "not valid JSON"),
    (b'{"resourceType": "Patient"}', ".json", "rehabill reads Bundles"),
    (b'"a string"', ".json", "neither a list"),
    (b"visit_id,service.code,service.minuts\nV,97110,3\n", ".csv", "service.minuts"),
    (b"date_of_service\n2026-01-01\n", ".csv", "lacks the column(s) visit_id, service.code"),
    (b"\xff\xfe\x00", ".json", "not UTF-8"),
])
def test_import__unusable_file_raises_input_error(
        session_factory: sessionmaker[Session], tmp_path: Path, content: bytes, suffix: str,
        message: str) -> None:
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")) as exc:
        import_file(session_factory, path)
    assert exc.value.exit_code == 2


def test_import__csv_rows_of_one_visit_must_agree(session_factory: sessionmaker[Session],
                                                  tmp_path: Path) -> None:
    lines = (DATA / "visits.csv").read_text().splitlines()
    lines[2] = lines[2].replace("2026-03-02", "2026-03-03", 1)
    path = tmp_path / "v.csv"
    path.write_text("\n".join(lines) + "\n")
    report = import_file(session_factory, path)
    assert "C-1" in report.rejected
    assert any(f.code == "input.csv_inconsistent_visit" and
               f.location.field == "row 3, column date_of_service" for f in report.findings)


def test_import__progress_reports_every_visit(session_factory: sessionmaker[Session]) -> None:
    seen: list[tuple[int, int]] = []
    import_file(session_factory, DATA / "visits.json", on_progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (3, 3)


def test_unit_of_work__rolls_back_on_error(session_factory: sessionmaker[Session],
                                           tmp_path: Path) -> None:
    shutil.copy(DATA / "visits.json", tmp_path / "v.json")
    with pytest.raises(RuntimeError), unit_of_work(session_factory) as s:
        s.add(ProviderRow(npi="1999999999", first_name="A", last_name="B", credential="PT"))
        s.flush()
        raise RuntimeError("boom")
    with session_factory() as s:
        assert _count(s, ProviderRow) == 0


def test_import__fhir_invalid_resources_reject_their_visit_once(
        session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    bundle = json.loads((DATA / "fhir_bundle.json").read_text())
    for entry in bundle["entry"]:
        if entry["resource"]["id"] in ("proc-1", "proc-2"):
            entry["resource"]["performedPeriod"] = {"start": "yesterday"}
    path = tmp_path / "bad_bundle.json"
    path.write_text(json.dumps(bundle))
    report = import_file(session_factory, path)
    assert report.rejected == ["F-1001", "enc-2"]
    assert report.total == 2 and report.imported == []
    invalid = [f for f in report.findings if f.code == "input.fhir_invalid_resource"]
    assert [f.location.field for f in invalid] == ["entry 8 (Procedure)", "entry 9 (Procedure)"]
    assert "performedPeriod.start" in invalid[0].message
    assert not invalid[0].message.endswith("..")


def test_import__a_clinic_file_reads_back_as_its_visits_in_file_order(
        session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    """Large enough for the bulk paths (``bulk.COPY_FROM``): each visit's row, services, people
    and plans read back as the visit parsed alone, row ids follow the file, and a second file
    that repeats some visits (changed) leaves them as they were and says so."""
    from datetime import date

    from rehabill.domain import parse_visit
    from rehabill.domain.serialize import visit_to_json
    from rehabill.simulate.clinic import ClinicSpec, generate_visits
    from rehabill.store.bulk import COPY_FROM

    visits = generate_visits(ClinicSpec(seed=3, start=date(2026, 1, 5), weeks=10,
                                        patients=40, mistake_rate=0.0))
    items = json.loads(json.dumps([visit_to_json(v) for v in visits]))
    half = len(items) // 2
    assert half > COPY_FROM
    repeated = json.loads(json.dumps(items[half - 20:half]))
    for item in repeated:
        item["services"][0]["minutes"] = 1
    (tmp_path / "a.json").write_text(json.dumps(items[:half]))
    (tmp_path / "b.json").write_text(json.dumps(repeated + items[half:]))
    first = import_file(session_factory, tmp_path / "a.json")
    second = import_file(session_factory, tmp_path / "b.json")
    keys = [item["visit_id"] for item in items]
    assert first.imported == keys[:half] and second.imported == keys[half:]
    assert second.duplicates == keys[half - 20:half]
    with session_factory() as s:
        ids = store_visits.visit_row_ids(s, keys)
        assert [ids[k] for k in keys] == sorted(ids.values())
        loaded = store_visits.load_visits(s, list(ids.values()))
    parsed = [parse_visit(item)[0] for item in items]
    # an authorization is the patient's (its use counted up visit by visit): the last one wins
    last = {(v.patient.id, v.authorization.number): v.authorization
            for v in parsed if v is not None and v.authorization is not None}
    expected = {v.visit_id: replace(v, authorization=v.authorization and
                                    last[(v.patient.id, v.authorization.number)])
                for v in parsed if v is not None}
    assert {v.visit_id: v for v in loaded.values()} == expected


def _with_coverage_dates(name: str, folder: Path, start: str, end: str) -> Path:
    """A copy of the sample file ``name`` whose first patient's Medicare coverage runs from
    ``start`` to ``end`` (JSON ``coverage.start/end``, CSV columns, FHIR ``Coverage.period``)."""
    target = folder / name
    if name == "visits.csv":
        lines = (DATA / name).read_text().splitlines()
        header = lines[0] + ",coverage.start,coverage.end"
        rows = [line + (f",{start},{end}" if line.startswith("C-1,") else ",,")
                for line in lines[1:]]
        target.write_text("\n".join([header, *rows]) + "\n")
        return target
    data = json.loads((DATA / name).read_text())
    if name == "fhir_bundle.json":
        for entry in data["entry"]:
            if entry["resource"]["resourceType"] == "Coverage":
                entry["resource"]["period"] = {"start": start, "end": end}
    else:
        data["visits"][0]["coverage"].update(start=start, end=end)
    target.write_text(json.dumps(data))
    return target


@pytest.mark.parametrize(("name", "visit_id"), [
    ("visits.json", "V-1001"), ("visits.csv", "C-1"), ("fhir_bundle.json", "F-1001")])
def test_import__coverage_dates_come_back_from_the_books(
        session_factory: sessionmaker[Session], tmp_path: Path, name: str,
        visit_id: str) -> None:
    """The visit on 2026-03-02 is the coverage's last day: stored, read back, not flagged."""
    path = _with_coverage_dates(name, tmp_path, "2025-01-01", "2026-03-02")
    report = import_file(session_factory, path)
    assert visit_id in report.imported
    with session_factory() as s:
        ids = store_visits.visit_row_ids(s, [visit_id])
        visit = store_visits.load_visits(s, [ids[visit_id]])[ids[visit_id]]
    assert (visit.coverage.start, visit.coverage.end) == (date(2025, 1, 1), date(2026, 3, 2))
    assert visit.coverage.is_active_on(visit.date_of_service)


def test_import__csv_coverage_ending_before_it_starts_rejects_the_visit_at_its_cell(
        session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    path = _with_coverage_dates("visits.csv", tmp_path, "2026-03-01", "2026-02-28")
    report = import_file(session_factory, path)
    assert "C-1" in report.rejected
    [finding] = [f for f in report.findings if f.location.visit_id == "C-1"]
    assert finding.code == "input.invalid_field"
    assert finding.location.field == "row 2, column coverage.end"
    assert "before the coverage's start 2026-03-01" in finding.message


def test_import__a_later_file_s_coverage_dates_replace_the_stored_ones(
        session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    """Payer, member id and patient name one coverage: a later visit's dates (here the
    termination learnt afterwards) are its dates for every visit billing it."""
    import_file(session_factory, DATA / "visits.json")
    data = json.loads((DATA / "visits.json").read_text())
    later = data["visits"][0]
    later.update(visit_id="V-1101", date_of_service="2026-03-10")
    later["coverage"]["end"] = "2026-02-28"
    (tmp_path / "later.json").write_text(json.dumps([later]))
    import_file(session_factory, tmp_path / "later.json")
    with session_factory() as s:
        assert _count(s, CoverageRow) == 2
        ids = store_visits.visit_row_ids(s, ["V-1001", "V-1101"])
        loaded = store_visits.load_visits(s, list(ids.values()))
    assert {loaded[i].coverage.end for i in ids.values()} == {date(2026, 2, 28)}
