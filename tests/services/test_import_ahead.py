"""An import in two steps: a file prepared (read, parsed, its rows made ready) ahead of time,
maybe in another process, and written later; what was imported meanwhile still counts."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from rehabill.services.imports import (
    PreparedFile,
    import_file,
    import_prepared,
    prepare_file,
)
from rehabill.store.models import FileRow, ServiceRow, VisitRow

DATA = Path(__file__).parents[1] / "data" / "import"
Factory = sessionmaker[Session]


def _sent(prepared: PreparedFile) -> PreparedFile:
    """The prepared file as a helper process sends it back."""
    back: PreparedFile = pickle.loads(pickle.dumps(prepared))
    return back


def _one_visit_of(name: str, visit_id: str, folder: Path) -> Path:
    """Another file with one visit of one service, whose id is also in the sample file
    ``name`` (with more services there)."""
    data = json.loads((DATA / "visits.json").read_text())
    visit = data["visits"][0]
    visit["visit_id"] = visit_id
    visit["services"] = visit["services"][:1]
    path = folder / f"first-{Path(name).stem}.json"
    path.write_text(json.dumps([visit]))
    return path


@pytest.mark.parametrize(("name", "visit_id", "first", "where"), [
    ("visits.json", "V-1002", "V-1001", "visit_id"),
    ("visits.csv", "C-2", "C-1", "row 4, column visit_id"),
    ("fhir_bundle.json", "F-1001", "", "entry 7 (Encounter/enc-1): visit_id"),
])
def test_import_prepared__a_visit_imported_after_the_file_was_prepared_is_a_duplicate(
        session_factory: Factory, tmp_path: Path, name: str, visit_id: str, first: str,
        where: str) -> None:
    """Month B is prepared; then a file A holding one of B's visits is imported: B's import
    reports that visit as already stored (located in B) and does not store it twice."""
    prepared = _sent(prepare_file(session_factory, DATA / name))
    earlier = import_file(session_factory, _one_visit_of(name, visit_id, tmp_path))
    assert earlier.imported == [visit_id]
    report = import_prepared(session_factory, prepared, actor="biller")
    assert report.duplicates == [visit_id]
    assert report.imported == ([first] if first else [])
    [duplicate] = [f for f in report.findings if f.code == "import.visit_already_stored"]
    assert duplicate.location.file.endswith(name) and duplicate.location.field == where
    with session_factory() as s:
        stored = s.scalars(select(VisitRow.import_file_id)
                           .where(VisitRow.visit_key == visit_id)).all()
        file_a = s.scalar(select(FileRow.id).where(FileRow.sha256 == earlier.sha256))
        assert stored == [file_a]  # stored once, by file A, with file A's one service
        assert s.scalar(select(func.count()).select_from(ServiceRow).join(VisitRow)
                        .where(VisitRow.visit_key == visit_id)) == 1


def test_import_prepared__a_file_imported_after_it_was_prepared_is_already_imported(
        session_factory: Factory) -> None:
    prepared = _sent(prepare_file(session_factory, DATA / "visits.json"))
    import_file(session_factory, DATA / "visits.json")
    report = import_prepared(session_factory, prepared)
    with session_factory() as s:
        [when] = s.scalars(select(FileRow.created_at)).all()
        assert s.scalar(select(func.count()).select_from(VisitRow)) == 2
    assert report.already_imported_at == str(when)
    assert report.imported == [] and report.exit_code == 0
    assert [f.code for f in report.findings] == ["import.file_already_imported"]


def test_prepare_file__a_file_imported_before_is_not_parsed_and_imports_nothing(
        session_factory: Factory) -> None:
    imported = import_file(session_factory, DATA / "visits.csv")
    prepared = _sent(prepare_file(session_factory, DATA / "visits.csv"))
    assert prepared.parts == [] and prepared.report.already_imported_at
    report = import_prepared(session_factory, prepared)
    assert report.as_dict() == import_file(session_factory, DATA / "visits.csv").as_dict()
    assert report.kind == imported.kind and report.sha256 == imported.sha256


@pytest.mark.parametrize(("name", "imported", "rejected", "where"), [
    ("visits.json", ["V-1001", "V-1002"], ["V-1003"], "services[0].minutes"),
    ("visits.csv", ["C-1", "C-2"], ["C-3"], "row 6, column service.minutes"),
    ("fhir_bundle.json", ["F-1001"], ["enc-2"],
     "entry 11 (Procedure/proc-3): services[0].minutes"),
])
def test_import_prepared__reports_what_import_file_reports(
        session_factory: Factory, name: str, imported: list[str], rejected: list[str],
        where: str) -> None:
    """Prepared and sent through a pickle, the file imports as ``import_file`` imports it
    (tests/services/test_imports.py): good visits stored, bad ones located, progress told."""
    seen: list[tuple[int, int]] = []
    prepared = _sent(prepare_file(session_factory, DATA / name))
    report = import_prepared(session_factory, prepared, actor="biller",
                             on_progress=lambda d, t: seen.append((d, t)))
    assert sorted(report.imported) == imported and report.rejected == rejected
    assert [f.location.field for f in report.findings] == [where]
    assert seen[-1] == (report.total, report.total) and report.exit_code == 1
    with session_factory() as s:
        assert sorted(s.scalars(select(VisitRow.visit_key))) == imported
