"""Import visits from a file (JSON, CSV or FHIR R4 bundle) into the books, in one unit of work.

Two steps: ``prepare_file`` reads and parses the file and makes its rows ready without writing
(in another process too: what it returns pickles), and ``import_prepared`` writes them in the
unit of work, checking again what was imported meanwhile; ``import_file`` is the two in turn.

Idempotent twice over: a file whose content (SHA-256) was imported before is a no-op that says
when; a visit id already stored is skipped and reported. Visits with input findings are reported
with their locations and skipped; the rest go in.

A visit may name the patient's ``secondary_coverage`` (same fields as ``coverage``; the FHIR
reader fills it from a patient's second Coverage). It is stored as the patient's secondary
coverage, which ``rehabill claim move-balance --to secondary`` bills; the visit still bills its
``coverage``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from rehabill.domain import (
    Coverage,
    Finding,
    Location,
    Severity,
    Visit,
    parse_visit,
    sort_findings,
)
from rehabill.domain.collector import collector_paused
from rehabill.domain.parse import Shared
from rehabill.errors import InputError
from rehabill.services.sources import Source, as_is, read_source
from rehabill.services.uow import reading, unit_of_work
from rehabill.store import claims as store_claims
from rehabill.store import coverages as store_coverages
from rehabill.store import files as store_files
from rehabill.store import people
from rehabill.store import visits as store_visits

Progress = Callable[[int, int], None]
Secondary = tuple[str, str, Coverage]  # practice NPI, patient id, the secondary coverage
Parsed = tuple[int, list[Visit], list[Secondary]]  # items, their visits, secondaries: a step
Part = tuple[int, store_visits.PreparedVisits, list[Secondary]]  # a step made ready to write
# Visits parsed and stored per step. Each step upserts the practice, people, payers and plans
# its visits name, so a patient seen all month is written once per step: a month-sized step
# writes each of them once (a clinic-month is ~20,000 visits) and still reports progress.
STEP = 20_000


@dataclass(slots=True)
class ImportReport:
    """What an import did. ``exit_code`` is 0 when nothing was rejected, else 1."""

    path: str
    kind: str = ""
    sha256: str = ""
    total: int = 0
    already_imported_at: str = ""
    imported: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 when every visit went in (or was already in), 1 when any was rejected."""
        return 1 if self.rejected else 0

    def as_dict(self) -> dict[str, object]:
        """JSON for ``rehabill import --json``."""
        return {
            "file": self.path, "kind": self.kind, "sha256": self.sha256,
            "already_imported": bool(self.already_imported_at),
            "already_imported_at": self.already_imported_at or None,
            "visits": self.total, "imported": len(self.imported),
            "duplicates": self.duplicates, "rejected": self.rejected,
            "findings": [f.as_dict() for f in self.findings],
        }


def import_file(factory: sessionmaker[Session], path: Path, *,
                on_progress: Progress | None = None, actor: str = "") -> ImportReport:
    """Import the visits in ``path``: ``prepare_file``, then ``import_prepared``.

    Args:
        factory: session factory of the books.
        path: a visit file (.json visits or FHIR Bundle, .csv).
        on_progress: called with (visits done, visits in the file) as the import goes.
        actor: who imports (for the audit trail).

    Returns:
        The report: imported, duplicate and rejected visit ids and located findings.

    Raises:
        InputError: the file cannot be read or is not a visit file at all (exit 2).
    """
    with collector_paused():
        return _import_prepared(factory, _prepare_file(factory, path), on_progress, actor)


@dataclass(slots=True)
class PreparedFile:
    """A visit file read, parsed and made ready to write (``prepare_file``), as plain values.

    It pickles cheaply (no domain ``Visit``: ``store.visits.PreparedVisits``), so the file can
    be prepared in another process (``services.cycle.run_months`` prepares the next month's
    file in the billers' helper process) and written here by ``import_prepared``.
    """

    report: ImportReport  # what is known before the write (all of it, if already imported)
    size: int  # bytes
    parts: list[Part] = field(default_factory=list)
    locate: Callable[[Finding], Finding] = as_is  # the file's locator (it pickles)
    before: int = 0  # visits counted done before the first part: those rejected by the reader


def prepare_file(factory: sessionmaker[Session], path: Path) -> PreparedFile:
    """Read ``path``, parse its visits and make their rows ready, writing nothing.

    Everything an import does before its write transaction: the file's SHA-256 looked up
    (a file seen before is not even parsed), its visits parsed and checked (input findings,
    rejected visits), the visit ids already stored read, and the rows converted for the
    books' database. Only reads, without a write lock.

    Args:
        factory: session factory of the books.
        path: a visit file (.json visits or FHIR Bundle, .csv).

    Returns:
        The prepared file, for ``import_prepared``.

    Raises:
        InputError: the file cannot be read or is not a visit file at all (exit 2).
    """
    with collector_paused():
        return _prepare_file(factory, path)


def import_prepared(factory: sessionmaker[Session], prepared: PreparedFile, *,
                    on_progress: Progress | None = None, actor: str = "") -> ImportReport:
    """Write a prepared file's visits in one unit of work (the second step of ``import_file``).

    The file may have been prepared a while ago: in the transaction a file of the same
    content imported since is found (reported as already imported, nothing written), and a
    visit id stored since is reported as a duplicate and left alone
    (``store.visits.save_prepared`` reads the stored ids again).

    Args:
        factory: session factory of the books.
        prepared: what ``prepare_file`` gave (used once).
        on_progress: called with (visits done, visits in the file) as the import goes.
        actor: who imports (for the audit trail).

    Returns:
        The report, as ``import_file`` gives it.
    """
    with collector_paused():
        return _import_prepared(factory, prepared, on_progress, actor)


def _prepare_file(factory: sessionmaker[Session], path: Path) -> PreparedFile:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", location=str(path)) from None
    report = ImportReport(str(path), sha256=hashlib.sha256(data).hexdigest())
    with reading(factory) as session:  # a file seen before is not even parsed
        seen = store_files.find_file(session, "in", report.sha256)
    if seen is not None:
        return PreparedFile(_already(report, seen.kind, str(seen.created_at)), len(data))
    source = read_source(path, data)
    report.kind = source.kind
    # Parsed, and the rows made ready, before the transaction: another process writing the
    # same books (a SQLite file allows one writer at a time) waits only while they are written.
    parsed = _parse_items(source, report)
    with reading(factory) as session:  # takes no write lock: a writer elsewhere goes on
        dialect = session.get_bind().dialect
        stored = store_visits.stored_visit_keys(
            session, [v.visit_id for _, visits, _ in parsed for v in visits])
    parts = [(count, store_visits.prepare_visits(dialect, visits, stored), secondaries)
             for count, visits, secondaries in parsed]
    return PreparedFile(report, len(data), parts, source.locate,
                        report.total - len(source.items))


def _import_prepared(factory: sessionmaker[Session], prepared: PreparedFile,
                     on_progress: Progress | None, actor: str) -> ImportReport:
    known = prepared.report
    report = replace(known, imported=list(known.imported), duplicates=list(known.duplicates),
                     rejected=list(known.rejected), findings=list(known.findings))
    if report.already_imported_at:
        return report
    with unit_of_work(factory) as session:
        file_id = store_files.add_file(session, direction="in", kind=report.kind,
                                       path=report.path, sha256=report.sha256,
                                       size=prepared.size)
        if file_id is None:  # imported since it was prepared, or by another import meanwhile
            seen = store_files.find_file(session, "in", report.sha256)
            return _already(ImportReport(report.path, sha256=report.sha256), report.kind,
                            "just now (by another import)" if seen is None
                            else str(seen.created_at))
        _save_items(session, prepared, file_id, report, on_progress)
        store_claims.add_findings(session, [(None, f) for f in report.findings if f.is_error],
                                  stage="import", file_id=file_id)
        people.record_event(session, actor=actor, action="import", entity="file",
                            entity_id=str(file_id), detail={
                                "path": report.path, "kind": report.kind,
                                "imported": len(report.imported),
                                "duplicates": len(report.duplicates),
                                "rejected": len(report.rejected)})
    report.findings = list(sort_findings(report.findings))
    return report


def _already(report: ImportReport, kind: str, when: str) -> ImportReport:
    report.kind = kind
    report.already_imported_at = when
    report.findings.append(_already_imported(report.path, when))
    return report


def _already_imported(path: str, when: str) -> Finding:
    return Finding("import.file_already_imported", Severity.INFO,
                   f"This file (same content) was already imported at {when}; nothing to do.",
                   Location(file=path), "Nothing to do; change the file to import new visits.")


def _parse_items(source: Source, report: ImportReport) -> list[Parsed]:
    """The source's visits parsed in steps of ``STEP`` items: (items, visits, secondaries) per
    step; problems and rejected visits go into ``report``."""
    skipped = list(dict.fromkeys(f.location.visit_id for f in source.findings if f.is_error))
    report.total = len(source.items) + len(skipped)
    report.findings.extend(source.findings)
    report.rejected.extend(skipped)
    seen: set[str] = set()
    shared: Shared = {}  # a part repeated through the file is built once (parse_visit)
    parts: list[Parsed] = []
    for start in range(0, len(source.items), STEP):
        part = source.items[start:start + STEP]
        secondaries: list[Secondary] = []
        visits = _parse(part, start, source, seen, shared, report, secondaries)
        parts.append((len(part), visits, secondaries))
    return parts


def _save_items(session: Session, prepared: PreparedFile, file_id: int, report: ImportReport,
                on_progress: Progress | None) -> None:
    """Save the prepared visits step by step: new ones inserted, known ones reported."""
    done = prepared.before
    for count, visits, secondaries in prepared.parts:
        saved = store_visits.save_prepared(session, visits, import_file_id=file_id)
        _save_secondaries(session, secondaries)
        report.imported.extend(saved.inserted)
        report.duplicates.extend(saved.existing)
        report.findings.extend(_duplicate(v, prepared.locate) for v in saved.existing)
        done += count
        if on_progress is not None:
            on_progress(done, report.total)


def _parse(items: list[object], offset: int, source: Source, seen: set[str], shared: Shared,
           report: ImportReport, secondaries: list[Secondary]) -> list[Visit]:
    visits: list[Visit] = []
    for index, item in enumerate(items, start=offset):
        visit, problems = parse_visit(item, index, shared)
        secondary = None
        if visit is not None and isinstance(item, Mapping) and "secondary_coverage" in item:
            secondary, bad = _secondary_coverage(item["secondary_coverage"], visit.visit_id)
            problems = [*problems, *bad]
            visit = None if bad else visit
            if secondary is not None and visit is not None and _same_plan(secondary, visit):
                secondary = None  # the visit's own coverage stays what the visit bills
        located = [source.locate(f) for f in problems]
        if visit is not None and visit.visit_id in seen:
            located.append(source.locate(Finding(
                "input.duplicate_visit_id", Severity.ERROR,
                f"Visit id {visit.visit_id} appears more than once in the file.",
                Location(visit_id=visit.visit_id, field="visit_id"),
                "Give each visit its own id; the repeat was skipped.")))
            visit = None
        report.findings.extend(located)
        if visit is None:
            report.rejected.append(located[0].location.visit_id if located else f"#{index + 1}")
            continue
        seen.add(visit.visit_id)
        visits.append(visit)
        if secondary is not None:
            secondaries.append((visit.billing_provider.npi, visit.patient.id, secondary))
    return visits


COVERAGE_TEXTS = ("payer_id", "payer_name", "member_id", "plan", "relationship",
                  "group_number")


def _secondary_coverage(raw: object, visit_id: str) -> tuple[Coverage | None, list[Finding]]:
    """The visit's ``secondary_coverage`` (null: none), or findings for what is wrong in it."""
    if raw is None:
        return None, []
    path = "secondary_coverage"
    if not isinstance(raw, Mapping):
        return None, [_bad_field(visit_id, path, "must be an object")]
    bad = [_bad_field(visit_id, f"{path}.{name}", "must be text") for name in COVERAGE_TEXTS
           if not isinstance(raw.get(name, ""), str)]
    bad += [_bad_field(visit_id, f"{path}.{name}", "is required") for name in
            ("payer_id", "member_id") if isinstance(raw.get(name, ""), str)
            and not str(raw.get(name, "")).strip()]
    start, end, bad_dates = _coverage_dates(raw, visit_id, path)
    bad += bad_dates
    if bad:
        return None, bad
    text = {name: str(raw.get(name, "")).strip() for name in COVERAGE_TEXTS}
    return Coverage(text["payer_id"], text["payer_name"], text["member_id"],
                    text["plan"].lower(), text["relationship"].lower() or "self",
                    text["group_number"], sequence="secondary", start=start, end=end), []


def _coverage_dates(raw: Mapping[str, object], visit_id: str, path: str
                    ) -> tuple[date | None, date | None, list[Finding]]:
    """A secondary coverage's ``start`` and ``end`` (absent: open), or findings when one is
    not a YYYY-MM-DD date or the end comes before the start, as for the visit's coverage."""
    days: dict[str, date | None] = {}
    bad: list[Finding] = []
    for name in ("start", "end"):
        value = raw.get(name)
        days[name] = None
        if value is None or value == "":
            continue
        days[name] = _iso_date(value)
        if days[name] is None:
            bad.append(_bad_field(visit_id, f"{path}.{name}", "must be a date (YYYY-MM-DD)"))
    start, end = days["start"], days["end"]
    if start is not None and end is not None and end < start:
        bad.append(_bad_field(visit_id, f"{path}.end", "must not be before the start"))
    return start, end, bad


def _iso_date(value: object) -> date | None:
    """A YYYY-MM-DD string as a date; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _same_plan(coverage: Coverage, visit: Visit) -> bool:
    return (coverage.payer_id, coverage.member_id) == (visit.coverage.payer_id,
                                                       visit.coverage.member_id)


def _bad_field(visit_id: str, path: str, problem: str) -> Finding:
    return Finding("input.invalid_field", Severity.ERROR,
                   f"Field {path} is unusable: it {problem}.",
                   Location(visit_id=visit_id, field=path),
                   "Correct the field in the visit file and import it again.")


def _save_secondaries(session: Session, secondaries: list[Secondary]) -> None:
    """Store each patient's secondary coverage (the last visit's wins; the one it replaces
    becomes ``former``) once the visits (and so the patients) are stored."""
    last = {(npi, patient): (npi, patient, c) for npi, patient, c in secondaries}
    ids = store_coverages.patient_ids(session, [(npi, p) for npi, p, _ in last.values()])
    store_coverages.save_coverages(session, [(ids[(npi, p)], c) for npi, p, c in last.values()
                                             if (npi, p) in ids])


def _duplicate(visit_id: str, locate: Callable[[Finding], Finding]) -> Finding:
    return locate(Finding(
        "import.visit_already_stored", Severity.INFO,
        f"Visit {visit_id} is already in the books; it was left as it is.",
        Location(visit_id=visit_id, field="visit_id"),
        "Nothing to do. To change a stored visit, correct its claim instead."))
