"""Visits in and out of the database, in bulk.

``save_visits`` upserts the people and payers a visit names (by natural key: NPI, the practice's
patient id, payer id + member id...) and inserts each visit once, by visit id; ``load_visits``
builds the domain ``Visit`` values back.
"""

from __future__ import annotations

import json
import sqlite3
from collections import namedtuple
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rehabill.domain import Authorization, PlanOfCare, Provider, Service, TherapyToDate, Visit
from rehabill.store import mapping
from rehabill.store.bulk import (
    ByIds,
    Key,
    Memo,
    Values,
    by_ids,
    chunked,
    column_readers,
    driver_rows,
    fetch,
    ids_in,
    insert_new_cells,
    raw_rows,
    send_rows,
    table_of,
    texts_in,
    upsert,
    value_reader,
)
from rehabill.store.models import (
    AuthorizationRow,
    ClaimRow,
    CoverageRow,
    PatientRow,
    PayerRow,
    PlanOfCareRow,
    PracticeRow,
    ProviderRow,
    ServiceRow,
    VisitRow,
)

PRACTICE_UPDATE = ("tax_id", "name", "taxonomy", "address_line1", "address_line2", "city",
                   "state", "zip")
PROVIDER_UPDATE = ("first_name", "last_name", "credential")
PATIENT_UPDATE = ("first_name", "last_name", "birth_date", "sex", "address_line1",
                  "address_line2", "city", "state", "zip")
# A payer's policy is the practice's choice (admin page); an import never overwrites it.
PAYER_UPDATE = ("name",)
COVERAGE_UPDATE = ("plan", "relationship", "group_number", "sequence", "subscriber")
POC_UPDATE = ("end_date", "certified_on", "certifying_npi")
AUTH_UPDATE = ("start_date", "end_date", "visits_approved", "visits_used", "units_approved",
               "units_used")


@dataclass(slots=True)
class SavedVisits:
    """What ``save_visits`` did: visit ids inserted (with their row ids) and already stored."""

    inserted: dict[str, int] = field(default_factory=dict)
    existing: list[str] = field(default_factory=list)


def stored_visit_keys(session: Session, keys: Sequence[str]) -> set[str]:
    """Which of these visit ids are already stored.

    On SQLite the ids go as one JSON parameter (``json_each``, built in from SQLite 3.38): an
    import asks for a month of ids inside its write transaction, and SQLAlchemy's rendering of
    thousands of ``IN`` values would cost more than the query.
    """
    if session.get_bind().dialect.name == "sqlite" and sqlite3.sqlite_version_info >= (3, 38):
        rows = session.connection().exec_driver_sql(
            'SELECT visit_key FROM visits WHERE visit_key IN (SELECT value FROM json_each(?))',
            (json.dumps(list(keys)),))
        return {key for (key,) in rows}
    found: set[str] = set()
    for part in chunked(keys):
        found.update(session.scalars(select(VisitRow.visit_key)
                                     .where(texts_in(session, VisitRow.visit_key, part))))
    return found


def save_visits(session: Session, visits: Sequence[Visit], *,
                import_file_id: int | None = None) -> SavedVisits:
    """Store visits not stored yet, upserting the practice, people, payer and plans they name.

    A visit id already stored is left alone (reported in ``existing``); this holds against a
    concurrent import too (``ON CONFLICT DO NOTHING`` on the visit id).
    """
    prepared = prepare_visits(session.get_bind().dialect, visits)
    return save_prepared(session, prepared, import_file_id=import_file_id)


#: The ``visits`` columns a visit fills by itself (``PreparedVisits.rows``), then its keys.
VISIT_NAMES = (*mapping.VISIT_COLUMNS, "is_draft")
SERVICE_NAMES = ("visit_id", "position", *mapping.SERVICE_COLUMNS)


@dataclass(slots=True)
class PreparedVisits:
    """Visits and the driver-ready values of their own rows (``prepare_visits``)."""

    visits: Sequence[Visit]
    rows: Sequence[Sequence[Any]]  # VISIT_NAMES, one per visit
    services: list[list[Sequence[Any]]]  # mapping.SERVICE_COLUMNS, per service of each visit
    stored: set[str] | None = None  # the visit ids stored when prepared (None: not read)
    parts: _Parts | None = None  # then the parents' rows of the visits not stored


def prepare_visits(dialect: Any, visits: Sequence[Visit], stored: set[str] | None = None
                   ) -> PreparedVisits:
    """The rows ``save_prepared`` writes, all but their row ids, converted for ``dialect``.

    Built before the write transaction (an import prepares a file's visits while no lock is
    held), so the transaction only adds the ids. A file repeats most services visit after
    visit (``parse_visit`` builds each once): each distinct service object is converted once.
    Given the visit ids already ``stored`` (``stored_visit_keys``, read before the
    transaction), the parents' rows of the other visits are collected too; ``save_prepared``
    uses them only if the same ids are still the stored ones.
    """
    rows = driver_rows(dialect, VisitRow, VISIT_NAMES,
                       [(*mapping.visit_row(v), False) for v in visits])
    distinct = {id(s): s for v in visits for s in v.services}
    cells = dict(zip(distinct, driver_rows(dialect, ServiceRow, mapping.SERVICE_COLUMNS,
                                           [mapping.service_row(s)
                                            for s in distinct.values()]), strict=True))
    services = [[cells[id(s)] for s in v.services] for v in visits]
    if stored is None:
        return PreparedVisits(visits, rows, services)
    stored = {v.visit_id for v in visits if v.visit_id in stored}
    parts = _collect_parts([v for v in visits if v.visit_id not in stored])
    return PreparedVisits(visits, rows, services, stored, parts)


def save_prepared(session: Session, prepared: PreparedVisits, *,
                  import_file_id: int | None = None) -> SavedVisits:
    """``save_visits`` for visits ``prepare_visits`` made ready (for this session's dialect)."""
    result = SavedVisits()
    visits = prepared.visits
    stored = stored_visit_keys(session, [v.visit_id for v in visits])
    result.existing = [v.visit_id for v in visits if v.visit_id in stored]
    todo = [i for i, v in enumerate(visits) if v.visit_id not in stored]
    if not todo:
        return result
    parts = prepared.parts
    if parts is None or stored != prepared.stored:  # none collected, or stale: visits came
        parts = _collect_parts([visits[i] for i in todo])
    ids = _write_parts(session, parts)
    rows = prepared.rows
    new = insert_new_cells(session, VisitRow, (*VISIT_NAMES, *mapping.VISIT_ID_COLUMNS),
                           [(*rows[i], *_visit_ids(visits[i], ids, import_file_id))
                            for i in todo], ("visit_key",))
    inserted = result.inserted = {key[0]: row_id for key, row_id in new.items()}
    result.existing += [visits[i].visit_id for i in todo if visits[i].visit_id not in inserted]
    services = prepared.services
    send_rows(session, table_of(ServiceRow).name, SERVICE_NAMES,
              [(inserted[visits[i].visit_id], position, *cells) for i in todo
               if visits[i].visit_id in inserted
               for position, cells in enumerate(services[i])])
    return result


@dataclass(slots=True)
class _Ids:
    practice: dict[Key, int]
    provider: dict[Key, int]
    patient: dict[Key, int]
    payer: dict[Key, int]
    coverage: dict[Key, int]
    poc: dict[Key, int]
    auth: dict[Key, int]


def _providers(v: Visit) -> list[Provider]:
    return [p for p in (v.rendering_provider, v.assistant, v.supervising_provider)
            if p is not None]


def _last(pairs: Iterable[tuple[Any, Any]]) -> list[Any]:
    """One value per key, the last one seen winning (values are mapped only once per key)."""
    return list(dict(pairs).values())


def _plans(visits: Sequence[Visit]) -> list[tuple[Visit, PlanOfCare]]:
    """Each patient's plans of care, once per (start, discipline); the last visit's wins."""
    out: dict[tuple[Any, ...], tuple[Visit, PlanOfCare]] = {}
    for v in visits:
        if v.plan_of_care is not None:
            p = v.plan_of_care
            out[(v.billing_provider.npi, v.patient.id, p.start, p.discipline)] = (v, p)
    return list(out.values())


def _authorizations(visits: Sequence[Visit]) -> list[tuple[Visit, Authorization]]:
    """Each patient's authorizations, once per number; the last visit's wins."""
    out: dict[tuple[str, str, str], tuple[Visit, Authorization]] = {}
    for v in visits:
        if v.authorization is not None:
            out[(v.billing_provider.npi, v.patient.id, v.authorization.number)] = \
                (v, v.authorization)
    return list(out.values())


Who = tuple[str, str]  # a patient: the practice's NPI and its patient id


@dataclass(slots=True)
class _Parts:
    """The rows the visits' parents write (``_collect_parts``), all but the row ids of their
    own parents, which ``_write_parts`` fills in."""

    practices: list[Values]
    providers: list[Values]
    patients: list[tuple[str, Values]]  # practice NPI; practice_id to fill
    payers: list[Values]
    coverages: list[tuple[Who, str, Values]]  # payer key; patient_id and payer_id to fill
    plans: list[tuple[Who, Values]]  # patient_id to fill
    authorizations: list[tuple[Who, Values]]  # patient_id to fill
    supervisors: list[tuple[str, str]]  # assistant's NPI, supervisor's NPI


def _collect_parts(visits: Sequence[Visit]) -> _Parts:
    """The parents' rows, each once by natural key (the last visit's wins), without a session:
    an import collects them before its write transaction."""
    def who(v: Visit) -> Who:
        return (v.billing_provider.npi, v.patient.id)

    return _Parts(
        practices=[mapping.practice_values(b) for b in _last(
            (v.billing_provider.npi, v.billing_provider) for v in visits)],
        providers=[mapping.provider_values(p) for p in _last(
            (p.npi, p) for v in visits for p in _providers(v))],
        patients=[(v.billing_provider.npi, mapping.patient_values(v.patient, 0))
                  for v in _last((who(v), v) for v in visits)],
        payers=[mapping.payer_values(c) for c in _last(
            (v.coverage.payer_id, v.coverage) for v in visits)],
        coverages=[(who(v), v.coverage.payer_id, mapping.coverage_values(v.coverage, 0, 0))
                   for v in _last(((*who(v), v.coverage.payer_id, v.coverage.member_id), v)
                                  for v in visits)],
        plans=[(who(v), mapping.plan_of_care_values(p, 0)) for v, p in _plans(visits)],
        authorizations=[(who(v), mapping.authorization_values(a, 0))
                        for v, a in _authorizations(visits)],
        supervisors=_supervisors(visits),
    )


def _write_parts(session: Session, parts: _Parts) -> _Ids:
    """Upsert the parents, parents first, and return their row ids by natural key."""
    practice = upsert(session, PracticeRow, parts.practices, ("npi",), PRACTICE_UPDATE)
    provider = upsert(session, ProviderRow, parts.providers, ("npi",), PROVIDER_UPDATE)
    patient = upsert(session, PatientRow, [
        {**values, "practice_id": practice[(npi,)]} for npi, values in parts.patients],
        ("practice_id", "external_id"), PATIENT_UPDATE)
    payer = upsert(session, PayerRow, parts.payers, ("payer_key",), PAYER_UPDATE)

    def patient_id(who: Who) -> int:
        return patient[(practice[(who[0],)], who[1])]

    coverage = upsert(session, CoverageRow, [
        {**values, "patient_id": patient_id(who), "payer_id": payer[(payer_key,)]}
        for who, payer_key, values in parts.coverages],
        ("payer_id", "member_id", "patient_id"), COVERAGE_UPDATE)
    poc = upsert(session, PlanOfCareRow, [
        {**values, "patient_id": patient_id(who)} for who, values in parts.plans],
        ("patient_id", "start_date", "discipline"), POC_UPDATE)
    _set_supervisors(session, parts.supervisors, provider)
    auth = upsert(session, AuthorizationRow, [
        {**values, "patient_id": patient_id(who)} for who, values in parts.authorizations],
        ("patient_id", "number"), AUTH_UPDATE)
    return _Ids(practice, provider, patient, payer, coverage, poc, auth)


def _supervisors(visits: Sequence[Visit]) -> list[tuple[str, str]]:
    """An assistant is supervised by the visit's supervising provider, else its therapist (the
    last visit's wins)."""
    pairs: dict[str, str] = {}
    for v in visits:
        supervisor = v.supervising_provider or v.rendering_provider
        if v.assistant is not None and not supervisor.credential.is_assistant:
            pairs[v.assistant.npi] = supervisor.npi
    return list(pairs.items())


def _set_supervisors(session: Session, pairs: list[tuple[str, str]],
                     ids: dict[Key, int]) -> None:
    by_id = {ids[(assistant,)]: ids[(supervisor,)] for assistant, supervisor in pairs}
    if by_id:
        session.execute(update(ProviderRow),  # ORM bulk UPDATE by primary key
                        [{"id": a, "supervisor_id": s} for a, s in sorted(by_id.items())])


def _visit_ids(v: Visit, ids: _Ids, import_file_id: int | None) -> tuple[int | None, ...]:
    """The visit's foreign keys in ``mapping.VISIT_ID_COLUMNS`` order."""
    practice_id = ids.practice[(v.billing_provider.npi,)]
    patient_id = ids.patient[(practice_id, v.patient.id)]
    poc = v.plan_of_care
    return (
        practice_id,
        patient_id,
        ids.coverage[(ids.payer[(v.coverage.payer_id,)], v.coverage.member_id, patient_id)],
        ids.provider[(v.rendering_provider.npi,)],
        ids.provider[(v.assistant.npi,)] if v.assistant else None,
        ids.provider[(v.supervising_provider.npi,)] if v.supervising_provider else None,
        (ids.poc[(patient_id, poc.start, poc.discipline.value if poc.discipline else "")]
         if poc else None),
        ids.auth[(patient_id, v.authorization.number)] if v.authorization else None,
        import_file_id,
    )


def visit_ids_without_claims(session: Session, visit_keys: Sequence[str] | None = None
                             ) -> list[int]:
    """Row ids of stored visits that have no claim yet (all, or among ``visit_keys``)."""
    query = (select(VisitRow.id).outerjoin(ClaimRow, ClaimRow.visit_id == VisitRow.id)
             .where(ClaimRow.id.is_(None), VisitRow.is_draft.is_(False)).order_by(VisitRow.id))
    if visit_keys is None:
        return list(session.scalars(query))
    out: list[int] = []
    for part in chunked(visit_keys):
        out.extend(session.scalars(query.where(texts_in(session, VisitRow.visit_key, part))))
    return sorted(out)


def set_draft(session: Session, visit_keys: Sequence[str], draft: bool) -> None:
    """Mark stored visits as drafts (never coded into claims) or as final documentation."""
    for part in chunked(visit_keys):
        session.execute(update(VisitRow).where(VisitRow.visit_key.in_(part))
                        .values(is_draft=draft))


def visit_row_ids(session: Session, visit_keys: Sequence[str]) -> dict[str, int]:
    """Row ids of stored visits by visit id."""
    out: dict[str, int] = {}
    for part in chunked(visit_keys):
        out.update({k: v for k, v in session.execute(
            select(VisitRow.visit_key, VisitRow.id)
            .where(texts_in(session, VisitRow.visit_key, part)))})
    return out


def load_visits(session: Session, visit_ids: Sequence[int], *,
                with_services: bool = True) -> dict[int, Visit]:
    """The domain visits for these row ids (missing ids are left out).

    One query per table and chunk, read as the driver's own rows (``bulk.raw_rows``):
    scrubbing reads back every visit an import just stored, so this is on the cycle's hot path.
    With ``with_services=False`` each visit's services are left empty (for claim writers, which
    read the claim lines instead).
    """
    out: dict[int, Visit] = {}
    loader = _Loader(session)
    for part in chunked(visit_ids):
        rows = raw_rows(session, _VISITS, part)
        services = loader.services(part) if with_services else {}
        loader.parents(rows)
        loader.visits(rows, services, out)
    return out


#: What ``load_visits`` reads of ``visits``, in the order ``_Loader.visits`` unpacks it: the
#: row id, ``mapping.VISIT_COLUMNS``, then the parents' row ids (``mapping.VISIT_ID_COLUMNS``
#: but the import file's).
_VISIT_READ = ("id", *mapping.VISIT_COLUMNS, *mapping.VISIT_ID_COLUMNS[:-1])
_VISITS = by_ids(table_of(VisitRow).name, _VISIT_READ)
_SERVICES = by_ids(table_of(ServiceRow).name, ("visit_id", *mapping.SERVICE_COLUMNS),
                   key="visit_id", order=("visit_id", "position"))


class _Loader:
    """What one ``load_visits`` call has read and built: the parents by row id, mapped once,
    and each distinct driver value converted once.

    Nothing outlives the call, so a parent changed between two calls is read again. Values are
    built by ``mapping``'s positional constructors (``x12.fastbuild``): the domain values of a
    visit have no ``__post_init__`` (nothing to validate on the way back), and the field order
    is the dataclass's own.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = dialect = session.get_bind().dialect
        visit = table_of(VisitRow)
        # every date column reads as the date of service does, every amount as the therapy
        self.date, _ = value_reader(dialect, visit, "date_of_service")
        self.money, memoized = value_reader(dialect, visit, "therapy_to_date_pt_slp")
        self.split = Memo(mapping.split_codes)
        # each distinct pair of amounts built once, where amounts are cheap to hash (SQLite)
        self.therapy: dict[tuple[Any, Any], TherapyToDate] | None = {} if memoized else None
        self.service = Memo(self._service)
        self.maps: dict[str, dict[int, Any]] = {name: {} for name in (
            "practice", "provider", "patient", "coverage_row", "payer", "coverage", "poc",
            "auth")}

    def _service(self, values: tuple[Any, ...]) -> Service:
        """The service of a ``services`` row's ``mapping.SERVICE_COLUMNS`` (charge last)."""
        (code, minutes, assistant_minutes, mode, activity, goal, assistance, distinct, units,
         modifiers, charge) = values
        return mapping.service_from_columns(code, minutes, assistant_minutes, mode, activity,
                                            goal, assistance, distinct, units, modifiers,
                                            self.money(charge))

    def services(self, visit_ids: Sequence[int]) -> dict[int, tuple[Service, ...]]:
        """The visits' services in order, by visit row id (equal services built once)."""
        service = self.service
        return {visit_id: tuple([service[row[1:]] for row in rows]) for visit_id, rows in
                groupby(raw_rows(self.session, _SERVICES, visit_ids), itemgetter(0))}

    def _load(self, name: str, table: Any, ids: Iterable[int | None], build: Any
              ) -> dict[int, Any]:
        """Read and map the rows of ``table`` among ``ids`` not read yet (into ``maps[name]``)."""
        have = self.maps[name]
        missing = sorted({i for i in ids if i is not None and i not in have})
        if not missing:
            return have
        read, names, make = _parent_read(table)
        convert = [(i, fn) for i, fn in enumerate(column_readers(self.dialect, table, names))
                   if fn is not None]
        for part in chunked(missing):
            for values in raw_rows(self.session, read, part):
                if convert:
                    values = list(values)
                    for i, fn in convert:
                        if values[i] is not None:
                            values[i] = fn(values[i])
                row = make(values)
                have[row.id] = build(row)
        return have

    def parents(self, rows: Sequence[Any]) -> None:
        """Read and map the parents these ``_VISIT_READ`` rows name and not read yet."""
        if not rows:
            return
        (_, _, _, _, _, _, _, _, _, _, _, _, practice, patient, coverage, rendering, assistant,
         supervising, plan, authorization) = zip(*rows, strict=True)
        self._load("practice", PracticeRow.__table__, practice, mapping.to_billing_provider)
        self._load("provider", ProviderRow.__table__, {*rendering, *assistant, *supervising},
                   mapping.to_provider)
        self._load("patient", PatientRow.__table__, patient, mapping.to_patient)
        coverages = self._load("coverage_row", CoverageRow.__table__, coverage, lambda r: r)
        payers = self._load("payer", PayerRow.__table__,
                            {c.payer_id for c in coverages.values()}, lambda r: r)
        mapped = self.maps["coverage"]
        for row_id, row in coverages.items():
            if row_id not in mapped:
                mapped[row_id] = mapping.to_coverage(row, payers[row.payer_id])
        self._load("poc", PlanOfCareRow.__table__, plan, mapping.to_plan_of_care)
        self._load("auth", AuthorizationRow.__table__, authorization, mapping.to_authorization)

    def visits(self, rows: Sequence[Any], services: dict[int, tuple[Service, ...]],
               out: dict[int, Visit]) -> None:
        """Build the visits of ``_VISIT_READ`` rows into ``out``, by row id."""
        maps = self.maps
        practices, providers, patients = maps["practice"], maps["provider"], maps["patient"]
        coverages, plans, authorizations = maps["coverage"], maps["poc"], maps["auth"]
        date_of, split, therapy, money = self.date, self.split, self.therapy, self.money
        new_visit, new_therapy = mapping.new_visit, mapping.new_therapy_to_date
        no_services: tuple[Service, ...] = ()
        for (row_id, key, day, place, diagnoses, number, days_since, minutes, pt_slp, ot,
             onset, referring, practice, patient, coverage, rendering, assistant, supervising,
             plan, authorization) in rows:
            known = None if therapy is None else therapy.get((pt_slp, ot))
            if known is None:
                accrued = new_therapy(money(pt_slp), money(ot))
                if therapy is not None:
                    therapy[(pt_slp, ot)] = accrued
            else:
                accrued = known
            # Visit's fields in order (a parent id of None gets None: no parent has that key)
            out[row_id] = new_visit(
                key, date_of(day), practices[practice], patients[patient], coverages[coverage],
                providers[rendering], services.get(row_id, no_services), split[diagnoses],
                place, providers.get(assistant), providers.get(supervising), plans.get(plan),
                authorizations.get(authorization), number, days_since, minutes, accrued,
                date_of(onset), referring)


@cache
def _parent_read(table: Any) -> tuple[ByIds, tuple[str, ...], Callable[[Iterable[Any]], Any]]:
    """How ``_Loader`` reads a parent table: its columns but ``created_at`` (which no domain
    value holds, and SQLite would parse from text), and a named record of them (what the
    ``mapping.to_*`` read)."""
    names = tuple(c.name for c in table.columns if c.name != "created_at")
    record = namedtuple(f"{table.name}_record", names)  # type: ignore[misc]
    make: Callable[[Iterable[Any]], Any] = record._make
    return by_ids(table.name, names), names, make


def visit_days(session: Session, visit_ids: Sequence[int]) -> dict[int, date]:
    """Each stored visit's date of service, by row id (to split work by day)."""
    table = table_of(VisitRow)
    out: dict[int, date] = {}
    for part in chunked(visit_ids):
        out.update(fetch(session, select(table.c.id, table.c.date_of_service)
                         .where(ids_in(table.c.id, part))))
    return out
