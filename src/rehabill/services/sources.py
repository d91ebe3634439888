"""Visit files in three formats, read into the DESIGN.md visit shape (decoded JSON objects).

JSON is the contract itself; CSV has one row per service whose columns are the contract's field
paths (docs/import.md); FHIR R4 bundles are mapped by ``services.fhir``. Every source yields the
same dicts, so ``rehabill.domain.parse_visits`` checks them all alike, and a ``Locator`` turns
a finding's contract path back into a place in the file (CSV row and column, FHIR resource).

A file that cannot be used at all raises ``InputError`` (exit 2); problems inside a visit are
findings (the visit is skipped, the rest go on).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rehabill.domain import Finding, Location, Severity
from rehabill.errors import InputError

VISIT_FIELDS = (
    "visit_id", "date_of_service", "place_of_service", "diagnoses", "visit_number_in_episode",
    "treatment_days_since_progress_report", "total_treatment_minutes", "onset_date",
    "referring_npi",
    "billing_provider.npi", "billing_provider.tax_id", "billing_provider.name",
    "billing_provider.taxonomy", "billing_provider.address.line1",
    "billing_provider.address.line2", "billing_provider.address.city",
    "billing_provider.address.state", "billing_provider.address.zip",
    "patient.id", "patient.first_name", "patient.last_name", "patient.birth_date", "patient.sex",
    "patient.address.line1", "patient.address.line2", "patient.address.city",
    "patient.address.state", "patient.address.zip",
    "coverage.payer_id", "coverage.payer_name", "coverage.member_id", "coverage.plan",
    "coverage.relationship", "coverage.group_number", "coverage.sequence", "coverage.start",
    "coverage.end",
    "coverage.subscriber.first_name", "coverage.subscriber.last_name",
    "coverage.subscriber.birth_date", "coverage.subscriber.sex",
    "secondary_coverage.payer_id", "secondary_coverage.payer_name",
    "secondary_coverage.member_id", "secondary_coverage.plan",
    "secondary_coverage.relationship", "secondary_coverage.group_number",
    "secondary_coverage.start", "secondary_coverage.end",
    "rendering_provider.npi", "rendering_provider.first_name", "rendering_provider.last_name",
    "rendering_provider.credential",
    "assistant.npi", "assistant.first_name", "assistant.last_name", "assistant.credential",
    "supervising_provider.npi", "supervising_provider.first_name",
    "supervising_provider.last_name", "supervising_provider.credential",
    "plan_of_care.start", "plan_of_care.end", "plan_of_care.certified_on",
    "plan_of_care.certifying_npi", "plan_of_care.discipline",
    "authorization.number", "authorization.start", "authorization.end",
    "authorization.visits_approved", "authorization.visits_used",
    "authorization.units_approved", "authorization.units_used",
    "therapy_to_date.pt_slp", "therapy_to_date.ot",
)
SERVICE_FIELDS = (
    "service.code", "service.minutes", "service.assistant_minutes", "service.mode",
    "service.activity", "service.goal", "service.assistance", "service.distinct",
    "service.units", "service.modifiers", "service.charge",
)
INT_FIELDS = frozenset({
    "visit_number_in_episode", "treatment_days_since_progress_report",
    "total_treatment_minutes", "authorization.visits_approved", "authorization.visits_used",
    "authorization.units_approved", "authorization.units_used", "minutes",
    "assistant_minutes", "units",
})
LIST_FIELDS = frozenset({"diagnoses", "modifiers"})
REQUIRED_COLUMNS = ("visit_id", "service.code")


def as_is(f: Finding) -> Finding:
    """A locator that leaves a finding where it is."""
    return f


@dataclass(slots=True)
class Source:
    """A visit file read into contract dicts, with findings about the file and a locator.

    The locators are plain values (they pickle): an import prepared in another process
    (``imports.prepare_file``) still locates the duplicates it meets when it writes.
    """

    kind: str
    items: list[object]
    findings: list[Finding] = field(default_factory=list)
    locate: Callable[[Finding], Finding] = as_is


def read_source(path: Path, data: bytes) -> Source:
    """Read a visit file by its content: a FHIR bundle, a JSON visit list, or CSV.

    Raises:
        InputError: the file is not UTF-8, not valid JSON/CSV, or not a visit file at all.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", location=str(path)) from None
    if path.suffix.lower() == ".csv":
        return read_csv(text, str(path))
    try:
        decoded = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                         location=str(path)) from None
    if isinstance(decoded, dict) and decoded.get("resourceType") == "Bundle":
        from rehabill.services.fhir import read_bundle  # fhir imports Source from here

        return read_bundle(decoded, str(path))
    if isinstance(decoded, dict) and "resourceType" in decoded:
        raise InputError(f"a FHIR {decoded['resourceType']} resource; rehabill reads Bundles",
                         location=str(path))
    if isinstance(decoded, dict) and isinstance(decoded.get("visits"), list):
        return json_source(decoded["visits"], str(path))
    if isinstance(decoded, list):
        return json_source(decoded, str(path))
    raise InputError('neither a list of visits, {"visits": [...]}, nor a FHIR Bundle',
                     location=str(path))


def json_source(items: list[object], path: str) -> Source:
    """The DESIGN.md visit list; findings only gain the file name."""
    return Source("visits-json", items, [], InFile(path))


@dataclass(frozen=True, slots=True)
class InFile:
    """Locate a finding in a JSON visit file: it gains the file name."""

    path: str

    def __call__(self, f: Finding) -> Finding:
        return replace(f, location=replace(f.location, file=self.path))


def read_csv(text: str, path: str) -> Source:
    """One row per service; visit columns repeat on each of the visit's rows (docs/import.md).

    Raises:
        InputError: no header, missing required columns, or columns rehabill does not know.
    """
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputError(f"CSV lacks the column(s) {', '.join(missing)}", location=path)
    unknown = [c for c in header if c not in VISIT_FIELDS and c not in SERVICE_FIELDS]
    if unknown:
        raise InputError(f"CSV has column(s) rehabill does not know: {', '.join(unknown)} "
                         "(see docs/import.md)", location=f"{path}:1")
    reader.fieldnames = header
    grouped: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for row in reader:
        cells = {k: (v or "").strip() for k, v in row.items() if k is not None}
        grouped.setdefault(cells.get("visit_id", ""), []).append((reader.line_num, cells))
    items: list[object] = []
    findings: list[Finding] = []
    rows_of: dict[str, list[int]] = {}
    for visit_id, rows in grouped.items():
        conflict = _inconsistent(visit_id, rows, path)
        if conflict is not None:
            findings.append(conflict)
            continue
        items.append(_csv_visit(rows))
        rows_of[visit_id] = [line for line, _ in rows]
    return Source("visits-csv", items, findings, InCsv(path, rows_of))


def _inconsistent(visit_id: str, rows: list[tuple[int, dict[str, str]]], path: str
                  ) -> Finding | None:
    first_line, first = rows[0]
    for line, cells in rows[1:]:
        for column in VISIT_FIELDS:
            if cells.get(column, "") != first.get(column, ""):
                return Finding(
                    "input.csv_inconsistent_visit", Severity.ERROR,
                    f"Visit {visit_id} has {column} {first.get(column, '')!r} on row "
                    f"{first_line} but {cells.get(column, '')!r} on row {line}.",
                    Location(visit_id=visit_id, file=path, field=f"row {line}, column {column}"),
                    "Repeat the same visit columns on every row of a visit; the visit was "
                    "skipped.")
    return None


def _csv_visit(rows: list[tuple[int, dict[str, str]]]) -> dict[str, Any]:
    visit: dict[str, Any] = {}
    first = rows[0][1]
    for column in VISIT_FIELDS:
        _put(visit, column.split("."), first.get(column, ""))
    visit["services"] = []
    for _, cells in rows:
        service: dict[str, Any] = {}
        for column in SERVICE_FIELDS:
            _put(service, column.split(".")[1:], cells.get(column, ""))
        visit["services"].append(service)
    return visit


def _put(target: dict[str, Any], path: list[str], raw: str) -> None:
    """Set target[a][b]... from a cell; empty cells are absent, numbers become ints."""
    if raw == "":
        return
    name = path[-1]
    value: object = raw
    if name in LIST_FIELDS:
        value = [part for part in re.split(r"[\s;|,]+", raw) if part]
    elif name in INT_FIELDS and raw.isdigit():
        value = int(raw)
    node = target
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[name] = value


_SERVICE_PATH = re.compile(r"^services\[(\d+)\]\.?(.*)$")


@dataclass(frozen=True, slots=True)
class InCsv:
    """Locate a finding in a CSV visit file: the row of the visit's service it names (else
    the visit's first row) and the column."""

    path: str
    rows_of: dict[str, list[int]]  # the file's line numbers of each visit's rows

    def __call__(self, f: Finding) -> Finding:
        rows = self.rows_of.get(f.location.visit_id)
        if not rows:
            return replace(f, location=replace(f.location, file=self.path))
        match = _SERVICE_PATH.match(f.location.field)
        if match and int(match.group(1)) < len(rows):
            row, column = rows[int(match.group(1))], "service." + (match.group(2) or "code")
        else:
            row, column = rows[0], f.location.field
        where = f"row {row}, column {column}"
        return replace(f, location=replace(f.location, file=self.path, field=where))
