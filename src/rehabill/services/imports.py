"""Import visits from a file (JSON, CSV or FHIR R4 bundle) into the books, in one unit of work.

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
from dataclasses import dataclass, field
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
from rehabill.errors import InputError
from rehabill.services import scrubbing
from rehabill.services.sources import Source, read_source
from rehabill.services.uow import unit_of_work
from rehabill.store import claims as store_claims
from rehabill.store import coverages as store_coverages
from rehabill.store import files as store_files
from rehabill.store import people
from rehabill.store import visits as store_visits

Progress = Callable[[int, int], None]
Secondary = tuple[str, str, Coverage]  # practice NPI, patient id, the secondary coverage
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
    """Import the visits in ``path``.

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
        return _import_file(factory, path, on_progress, actor)


def _import_file(factory: sessionmaker[Session], path: Path, on_progress: Progress | None,
                 actor: str) -> ImportReport:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", location=str(path)) from None
    report = ImportReport(str(path), sha256=hashlib.sha256(data).hexdigest())
    with unit_of_work(factory) as session:  # a file seen before is not even parsed
        seen = store_files.find_file(session, "in", report.sha256)
    if seen is not None:
        return _already(report, seen.kind, str(seen.created_at))
    # A big file: the helper process reads it too, meanwhile, to parse its share at once.
    helper = scrubbing.helper_for(factory, len(data) // VISIT_BYTES, PARALLEL_IMPORT)
    if helper is not None:
        helper.submit(_warm_helper, str(path), report.sha256)
    source = read_source(path, data)
    report.kind = source.kind
    with unit_of_work(factory) as session:
        file_id = store_files.add_file(session, direction="in", kind=source.kind,
                                       path=str(path), sha256=report.sha256, size=len(data))
        if file_id is None:  # another import of the same file committed meanwhile
            return _already(report, source.kind, "just now (by another import)")
        _import_items(factory, session, source, file_id, report, on_progress, path,
                      report.sha256)
        store_claims.add_findings(session, [(None, f) for f in report.findings if f.is_error],
                                  stage="import", file_id=file_id)
        people.record_event(session, actor=actor, action="import", entity="file",
                            entity_id=str(file_id), detail={
                                "path": str(path), "kind": source.kind,
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


#: Below this many visits in a file, an import parses them in this process alone: the helper
#: saves ~60 µs a visit it parses, and its first use in a process costs a fork (~40 ms).
PARALLEL_IMPORT = 2_000
#: Pieces each step of an import is cut into to share with the helper process.
PIECES = 8
#: Bytes of a visit in a visit file, about (to judge a file's size before reading it).
VISIT_BYTES = 1_500


def _import_items(factory: sessionmaker[Session], session: Session, source: Source,
                  file_id: int, report: ImportReport, on_progress: Progress | None,
                  path: Path, sha256: str) -> None:
    skipped = list(dict.fromkeys(f.location.visit_id for f in source.findings if f.is_error))
    report.total = len(source.items) + len(skipped)
    report.findings.extend(source.findings)
    report.rejected.extend(skipped)
    done = len(skipped)
    seen: set[str] = set()
    helper = scrubbing.helper_for(factory, len(source.items), PARALLEL_IMPORT)
    steps = [(start, min(start + STEP, len(source.items)))
             for start in range(0, len(source.items), STEP)]

    def here(start: int, stop: int, *_: object) -> list[Parsed]:
        return _parse(source, start, stop)

    # The helper parses from the front of each step, every step sent at once (it works ahead
    # while this process stores); it reads the file itself (str(path), its SHA-256).
    shares = [scrubbing.share_out(helper, [
        (piece_start, piece_stop, str(path), sha256)
        for piece_start, piece_stop in _pieces(start, stop, PIECES if helper else 1)],
        here, _parse_in_helper) for start, stop in steps]
    for (start, stop), results in zip(steps, shares, strict=True):
        parsed = [item for piece in results() for item in piece]
        secondaries: list[Secondary] = []
        records = _collect(parsed, source, seen, report, secondaries)
        saved = store_visits.save_visit_records(session, records, import_file_id=file_id)
        _save_secondaries(session, secondaries)
        report.imported.extend(saved.inserted)
        report.duplicates.extend(saved.existing)
        report.findings.extend(_duplicate(v, source) for v in saved.existing)
        done += stop - start
        if on_progress is not None:
            on_progress(done, report.total)


def _pieces(start: int, stop: int, count: int) -> list[tuple[int, int]]:
    size = max(1, -(-(stop - start) // count))
    return [(i, min(i + size, stop)) for i in range(start, stop, size)]


# One item of a visit file, parsed: the visit's rows (None when it cannot be built), its
# located findings, its secondary coverage, and its place in the file ("#12").
Parsed = tuple[store_visits.VisitRecord | None, list[Finding], Coverage | None, str]

#: In the helper process: the last visit file it read, by path and SHA-256.
_SOURCES: dict[tuple[str, str], Source] = {}


def _parse_in_helper(_factory: object, start: int, stop: int, path: str,
                     sha256: str) -> list[Parsed]:
    """``_parse`` in the helper process, on the file read there (kept for the next piece)."""
    return _parse(_read_in_helper(_factory, path, sha256), start, stop)


def _warm_helper(_factory: object, path: str, sha256: str) -> None:
    """In the helper process: read the file before its pieces come (nothing sent back)."""
    _read_in_helper(_factory, path, sha256)


def _read_in_helper(_factory: object, path: str, sha256: str) -> Source:
    """In the helper process: the visit file, read once for all the pieces it parses."""
    source = _SOURCES.get((path, sha256))
    if source is None:
        data = Path(path).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise InputError("the file changed during its import", location=path)
        _SOURCES.clear()
        source = _SOURCES[(path, sha256)] = read_source(Path(path), data)
    return source


def _parse(source: Source, start: int, stop: int) -> list[Parsed]:
    """Parse ``source.items[start:stop]`` into plain values (no report, no state)."""
    out: list[Parsed] = []
    for index in range(start, stop):
        item = source.items[index]
        visit, problems = parse_visit(item, index)
        secondary = None
        if visit is not None and isinstance(item, Mapping) and "secondary_coverage" in item:
            secondary, bad = _secondary_coverage(item["secondary_coverage"], visit.visit_id)
            problems = [*problems, *bad]
            visit = None if bad else visit
            if secondary is not None and visit is not None and _same_plan(secondary, visit):
                secondary = None  # the visit's own coverage stays what the visit bills
        located = [source.locate(f) for f in problems]
        record = store_visits.visit_record(visit) if visit is not None else None
        out.append((record, located, secondary, f"#{index + 1}"))
    return out


def _collect(parsed: list[Parsed], source: Source, seen: set[str], report: ImportReport,
             secondaries: list[Secondary]) -> list[store_visits.VisitRecord]:
    """The records to store, in file order; repeated visit ids and unusable items reported."""
    records: list[store_visits.VisitRecord] = []
    for record, located, secondary, place in parsed:
        if record is not None and record.visit_id in seen:
            located.append(source.locate(Finding(
                "input.duplicate_visit_id", Severity.ERROR,
                f"Visit id {record.visit_id} appears more than once in the file.",
                Location(visit_id=record.visit_id, field="visit_id"),
                "Give each visit its own id; the repeat was skipped.")))
            record = None
        report.findings.extend(located)
        if record is None:
            report.rejected.append(located[0].location.visit_id if located else place)
            continue
        seen.add(record.visit_id)
        records.append(record)
        if secondary is not None:
            secondaries.append((record.npi, record.patient, secondary))
    return records


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
    if bad:
        return None, bad
    text = {name: str(raw.get(name, "")).strip() for name in COVERAGE_TEXTS}
    return Coverage(text["payer_id"], text["payer_name"], text["member_id"],
                    text["plan"].lower(), text["relationship"].lower() or "self",
                    text["group_number"], sequence="secondary"), []


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


def _duplicate(visit_id: str, source: Source) -> Finding:
    return source.locate(Finding(
        "import.visit_already_stored", Severity.INFO,
        f"Visit {visit_id} is already in the books; it was left as it is.",
        Location(visit_id=visit_id, field="visit_id"),
        "Nothing to do. To change a stored visit, correct its claim instead."))
