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
from functools import cache, partial
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rehabill.domain import Provider, Service, TherapyToDate, Visit
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
# A coverage is one by payer, member id and patient: new dates for it (a renewal, a
# termination learnt later) are that coverage's dates now, as a new plan or group is.
COVERAGE_UPDATE = ("plan", "relationship", "group_number", "sequence", "subscriber",
                   "start_date", "end_date")
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
#: The ``services`` columns in the order the rows are sent: a prepared row
#: (``PreparedVisits.services``) then the visit's row id, added by one tuple ``+``.
SERVICE_NAMES = (*mapping.SERVICE_COLUMNS, "position", "visit_id")


@dataclass(slots=True)
class PreparedVisits:
    """Visits made ready to write (``prepare_visits``), as plain values: no domain ``Visit``
    is kept, so an import can prepare a file in another process and send this back pickled.

    ``links`` holds, per visit, what its own row needs of its parents (``Link``); ``family``
    the parents' rows, each mapped once; from these two the parents' rows of any subset of
    the visits are collected as from the visits themselves (``_parts_of``).
    """

    keys: Sequence[str]  # the visit ids, in the order given
    rows: Sequence[tuple[Any, ...]]  # VISIT_NAMES, one per visit
    # SERVICE_NAMES but the visit's row id, per service of each visit; a service repeated at
    # the same position (the same object, ``parse_visit``) has one row, shared
    services: list[list[tuple[Any, ...]]]
    links: Sequence[Link]
    family: _Family
    stored: set[str] | None = None  # the visit ids stored when prepared (None: not read)
    parts: _Parts | None = None  # then the parents' rows of the visits not stored


def prepare_visits(dialect: Any, visits: Sequence[Visit], stored: set[str] | None = None
                   ) -> PreparedVisits:
    """The rows ``save_prepared`` writes, all but their row ids, converted for ``dialect``.

    Built before the write transaction (an import prepares a file's visits while no lock is
    held, in a helper process too), so the transaction only adds the ids. A file repeats most
    services, people and plans visit after visit (``parse_visit`` builds each once): each
    distinct one is converted once. Given the visit ids already ``stored``
    (``stored_visit_keys``, read before the transaction), the parents' rows of the other
    visits are collected too; ``save_prepared`` uses them only if the same ids are still the
    stored ones.
    """
    rows = [tuple(row) for row in driver_rows(dialect, VisitRow, VISIT_NAMES,
                                              [(*mapping.visit_row(v), False)
                                               for v in visits])]
    services = _service_rows(dialect, visits)
    links, family = _links(visits)
    keys = [v.visit_id for v in visits]
    if stored is None:
        return PreparedVisits(keys, rows, services, links, family)
    stored = {key for key in keys if key in stored}
    parts = _parts_of(links, family, [i for i, key in enumerate(keys) if key not in stored])
    return PreparedVisits(keys, rows, services, links, family, stored, parts)


def _service_rows(dialect: Any, visits: Sequence[Visit]) -> list[list[tuple[Any, ...]]]:
    """Each visit's ``services`` rows but the visit's row id (``PreparedVisits.services``):
    each distinct service converted once, and its row at each position built once."""
    distinct = {id(s): s for v in visits for s in v.services}
    cells = dict(zip(distinct, driver_rows(dialect, ServiceRow, mapping.SERVICE_COLUMNS,
                                           [mapping.service_row(s)
                                            for s in distinct.values()]), strict=True))
    placed: dict[tuple[int, int], tuple[Any, ...]] = {}
    out: list[list[tuple[Any, ...]]] = []
    for v in visits:
        rows = []
        for position, s in enumerate(v.services):
            row = placed.get((id(s), position))
            if row is None:
                row = placed[(id(s), position)] = (*cells[id(s)], position)
            rows.append(row)
        out.append(rows)
    return out


def save_prepared(session: Session, prepared: PreparedVisits, *,
                  import_file_id: int | None = None) -> SavedVisits:
    """``save_visits`` for visits ``prepare_visits`` made ready (for this session's dialect).

    The stored ids are read again here, in the write transaction: a visit stored since the
    visits were prepared (another import, or an earlier file of the same run) is reported as
    ``existing`` and left alone, and the parents' rows are then collected again from the
    visits still to store.
    """
    result = SavedVisits()
    keys = prepared.keys
    stored = stored_visit_keys(session, keys)
    result.existing = [key for key in keys if key in stored]
    todo = [i for i, key in enumerate(keys) if key not in stored]
    if not todo:
        return result
    parts = prepared.parts
    if parts is None or stored != prepared.stored:  # none collected, or stale: visits came
        parts = _parts_of(prepared.links, prepared.family, todo)
    ids = _write_parts(session, parts)
    rows, links = prepared.rows, prepared.links
    # visits sharing every parent share their Link (``_links``): their ids are looked up once
    foreign: dict[int, tuple[int | None, ...]] = {}
    cells = []
    for i in todo:
        link = links[i]
        tail = foreign.get(id(link))
        if tail is None:
            tail = foreign[id(link)] = _visit_ids(link, ids, import_file_id)
        cells.append(rows[i] + tail)
    new = insert_new_cells(session, VisitRow, (*VISIT_NAMES, *mapping.VISIT_ID_COLUMNS),
                           cells, ("visit_key",))
    inserted = result.inserted = dict(zip(map(itemgetter(0), new), new.values(), strict=True))
    services = prepared.services
    out: list[tuple[Any, ...]] = []
    for i in todo:
        row_id = inserted.get(keys[i])
        if row_id is None:
            result.existing.append(keys[i])
            continue
        visit = (row_id,)
        out += [row + visit for row in services[i]]
    send_rows(session, table_of(ServiceRow).name, SERVICE_NAMES, out)
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


Who = tuple[str, str]  # a patient: the practice's NPI and its patient id


@dataclass(slots=True)
class _Parts:
    """The rows the visits' parents write (``_parts_of``), all but the row ids of their
    own parents, which ``_write_parts`` fills in."""

    practices: list[Values]
    providers: list[Values]
    patients: list[tuple[str, Values]]  # practice NPI; practice_id to fill
    payers: list[Values]
    coverages: list[tuple[Who, str, Values]]  # payer key; patient_id and payer_id to fill
    plans: list[tuple[Who, Values]]  # patient_id to fill
    authorizations: list[tuple[Who, Values]]  # patient_id to fill
    supervisors: list[tuple[str, str]]  # assistant's NPI, supervisor's NPI


#: A prepared visit's parent: its natural key (the NPI, the practice's patient id, the
#: authorization number) and the index of its row in ``_Family``.
Named = tuple[str, int]
CoverageRef = tuple[str, str, int]  # payer id, member id, row index
PlanRef = tuple[date, str, int]  # start, discipline ("" for none), row index


#: What a prepared visit's own row needs of its parents: their natural keys (to find the row
#: ids ``_write_parts`` returns) and where their rows are in ``_Family``; a part many visits
#: share (``parse_visit`` builds each once) has one reference, shared too. In order: the
#: practice (by the billing provider's NPI), the patient, the coverage, the rendering
#: provider, the assistant, the supervising provider, the plan of care, the authorization,
#: and the NPI supervising the assistant (None: none recorded). A plain tuple: a month's
#: links pickle in half the time of named ones.
Link = tuple[Named, Named, CoverageRef, Named, Named | None, Named | None, PlanRef | None,
             Named | None, str | None]


@dataclass(slots=True)
class _Family:
    """The parents' rows of a set of visits, each distinct part mapped once (``_links``)."""

    practices: list[Values] = field(default_factory=list)
    providers: list[Values] = field(default_factory=list)
    patients: list[Values] = field(default_factory=list)
    coverages: list[tuple[Values, Values]] = field(default_factory=list)  # payer's, its own
    plans: list[Values] = field(default_factory=list)
    authorizations: list[Values] = field(default_factory=list)


def _links(visits: Sequence[Visit]) -> tuple[list[Link], _Family]:
    """Each visit's ``Link`` and the rows of its parents, each part (the same object) mapped
    once: a clinic-month names a few thousand parts for 20,000 visits."""
    family = _Family()
    practices: dict[int, Named] = {}
    providers: dict[int, Named] = {}
    patients: dict[int, Named] = {}
    coverages: dict[int, CoverageRef] = {}
    plans: dict[int, PlanRef] = {}
    authorizations: dict[int, Named] = {}

    def provider(p: Provider) -> Named:
        ref = providers[id(p)] = (p.npi, len(family.providers))
        family.providers.append(mapping.provider_values(p))
        return ref

    links: list[Link] = []
    # visits naming the same parts (the same objects) share one Link: a patient's visits of
    # a month mostly do, and ``save_prepared`` looks a Link's row ids up once
    same: dict[tuple[int, ...], Link] = {}
    for v in visits:
        bp, patient, coverage, rendering = \
            v.billing_provider, v.patient, v.coverage, v.rendering_provider
        assistant, supervising, poc, auth = \
            v.assistant, v.supervising_provider, v.plan_of_care, v.authorization
        parts = (id(bp), id(patient), id(coverage), id(rendering), id(assistant),
                 id(supervising), id(poc), id(auth))
        known = same.get(parts)
        if known is not None:
            links.append(known)
            continue
        practice_ref = practices.get(id(bp))
        if practice_ref is None:
            practice_ref = practices[id(bp)] = (bp.npi, len(family.practices))
            family.practices.append(mapping.practice_values(bp))
        patient_ref = patients.get(id(patient))
        if patient_ref is None:
            patient_ref = patients[id(patient)] = (patient.id, len(family.patients))
            family.patients.append(mapping.patient_values(patient, 0))
        coverage_ref = coverages.get(id(coverage))
        if coverage_ref is None:
            coverage_ref = coverages[id(coverage)] = (coverage.payer_id, coverage.member_id,
                                                      len(family.coverages))
            family.coverages.append((mapping.payer_values(coverage),
                                     mapping.coverage_values(coverage, 0, 0)))
        plan_ref = None if poc is None else plans.get(id(poc))
        if poc is not None and plan_ref is None:
            plan_ref = plans[id(poc)] = (poc.start, poc.discipline.value if poc.discipline
                                         else "", len(family.plans))
            family.plans.append(mapping.plan_of_care_values(poc, 0))
        auth_ref = None if auth is None else authorizations.get(id(auth))
        if auth is not None and auth_ref is None:
            auth_ref = authorizations[id(auth)] = (auth.number, len(family.authorizations))
            family.authorizations.append(mapping.authorization_values(auth, 0))
        supervisor = None
        if assistant is not None:
            chief = supervising or rendering
            supervisor = None if chief.credential.is_assistant else chief.npi
        link = same[parts] = (
            practice_ref, patient_ref, coverage_ref,
            providers.get(id(rendering)) or provider(rendering),
            None if assistant is None else providers.get(id(assistant)) or provider(assistant),
            None if supervising is None
            else providers.get(id(supervising)) or provider(supervising),
            plan_ref, auth_ref, supervisor)
        links.append(link)
    return links, family


def _parts_of(links: Sequence[Link], family: _Family, todo: Iterable[int]) -> _Parts:
    """The parents' rows of the visits ``todo`` (indexes into ``links``), each once by natural
    key in the order first named, the last visit's wins; no session is needed, so an import
    collects them before its write transaction."""
    practices: dict[str, int] = {}
    providers: dict[str, int] = {}
    patients: dict[Who, int] = {}
    payers: dict[str, int] = {}
    coverages: dict[tuple[str, str, str, str], int] = {}
    plans: dict[tuple[str, str, date, str], int] = {}
    authorizations: dict[tuple[str, str, str], int] = {}
    supervisors: dict[str, str] = {}
    for i in todo:
        practice, patient, coverage, rendering, assistant, supervising, plan, auth, chief = \
            links[i]
        npi, patient_id = practice[0], patient[0]
        practices[npi] = practice[1]
        providers[rendering[0]] = rendering[1]
        if assistant is not None:
            providers[assistant[0]] = assistant[1]
            if chief is not None:
                supervisors[assistant[0]] = chief
        if supervising is not None:
            providers[supervising[0]] = supervising[1]
        patients[(npi, patient_id)] = patient[1]
        payers[coverage[0]] = coverage[2]
        coverages[(npi, patient_id, coverage[0], coverage[1])] = coverage[2]
        if plan is not None:
            plans[(npi, patient_id, plan[0], plan[1])] = plan[2]
        if auth is not None:
            authorizations[(npi, patient_id, auth[0])] = auth[1]
    return _Parts(
        practices=[family.practices[i] for i in practices.values()],
        providers=[family.providers[i] for i in providers.values()],
        patients=[(who[0], family.patients[i]) for who, i in patients.items()],
        payers=[family.coverages[i][0] for i in payers.values()],
        coverages=[((k[0], k[1]), k[2], family.coverages[i][1])
                   for k, i in coverages.items()],
        plans=[((k[0], k[1]), family.plans[i]) for k, i in plans.items()],
        authorizations=[((k[0], k[1]), family.authorizations[i])
                        for k, i in authorizations.items()],
        supervisors=list(supervisors.items()),
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


def _set_supervisors(session: Session, pairs: list[tuple[str, str]],
                     ids: dict[Key, int]) -> None:
    by_id = {ids[(assistant,)]: ids[(supervisor,)] for assistant, supervisor in pairs}
    if by_id:
        session.execute(update(ProviderRow),  # ORM bulk UPDATE by primary key
                        [{"id": a, "supervisor_id": s} for a, s in sorted(by_id.items())])


def _visit_ids(link: Link, ids: _Ids, import_file_id: int | None) -> tuple[int | None, ...]:
    """The visit's foreign keys in ``mapping.VISIT_ID_COLUMNS`` order."""
    practice, patient, coverage, rendering, assistant, supervising, plan, auth, _ = link
    practice_id = ids.practice[(practice[0],)]
    patient_id = ids.patient[(practice_id, patient[0])]
    return (
        practice_id,
        patient_id,
        ids.coverage[(ids.payer[(coverage[0],)], coverage[1], patient_id)],
        ids.provider[(rendering[0],)],
        None if assistant is None else ids.provider[(assistant[0],)],
        None if supervising is None else ids.provider[(supervising[0],)],
        None if plan is None else ids.poc[(patient_id, plan[0], plan[1])],
        None if auth is None else ids.auth[(patient_id, auth[0])],
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
                with_services: bool = True, memo: VisitMemo | None = None) -> dict[int, Visit]:
    """The domain visits for these row ids (missing ids are left out).

    One query per table and chunk, read as the driver's own rows (``bulk.raw_rows``):
    scrubbing reads back every visit an import just stored, so this is on the cycle's hot path.
    With ``with_services=False`` each visit's services are left empty (for claim writers, which
    read the claim lines instead). ``memo``: what earlier calls of one use case read and built
    (``VisitMemo``), used and added to; by default nothing is kept beyond this call.
    """
    out: dict[int, Visit] = {}
    loader = memo if memo is not None else VisitMemo(session.get_bind().dialect)
    loader.service = Memo(loader._service)  # a call's own: a run's would pile up
    for part in chunked(visit_ids):
        rows = raw_rows(session, _VISITS, part)
        services = loader.services(session, part) if with_services else {}
        loader.parents(session, rows)
        loader.visits(rows, services, out)
    return out


#: What ``load_visits`` reads of ``visits``, in the order ``VisitMemo.visits`` unpacks it: the
#: row id, ``mapping.VISIT_COLUMNS``, then the parents' row ids (``mapping.VISIT_ID_COLUMNS``
#: but the import file's).
_VISIT_READ = ("id", *mapping.VISIT_COLUMNS, *mapping.VISIT_ID_COLUMNS[:-1])
_VISITS = by_ids(table_of(VisitRow).name, _VISIT_READ)
_SERVICES = by_ids(table_of(ServiceRow).name, ("visit_id", *mapping.SERVICE_COLUMNS),
                   key="visit_id", order=("visit_id", "position"))


class VisitMemo:
    """What ``load_visits`` has read and built: the parents by row id, mapped once, and each
    distinct driver value converted once.

    Each call makes its own unless given one, so by default a parent changed between two calls
    is read again. A use case that reads its visits in many calls (a scrub's pieces, a few
    hundred visits each, naming mostly the same patients, coverages and providers) may keep one
    for its run: a parent is then read and mapped once, and later calls see it as first read
    (a run's visits are chosen when it starts; keep a memo no longer than one run). The
    services are each call's own (a month's are mostly distinct, and would pile up). Values are
    built by ``mapping``'s positional constructors (``x12.fastbuild``): the domain values of a
    visit have no ``__post_init__`` (nothing to validate on the way back), and the field order
    is the dataclass's own.
    """

    def __init__(self, dialect: Any) -> None:
        self.dialect = dialect
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
        self.readers: dict[str, list[tuple[int, Callable[[Any], Any]]]] = {}

    def payer_row_ids(self) -> dict[str, int]:
        """The row id of each payer read so far, by payer id (every visit's coverage's)."""
        return {row.payer_key: row.id for row in self.maps["payer"].values()}

    def _service(self, values: tuple[Any, ...]) -> Service:
        """The service of a ``services`` row's ``mapping.SERVICE_COLUMNS`` (charge last)."""
        (code, minutes, assistant_minutes, mode, activity, goal, assistance, distinct, units,
         modifiers, charge) = values
        return mapping.service_from_columns(code, minutes, assistant_minutes, mode, activity,
                                            goal, assistance, distinct, units, modifiers,
                                            self.money(charge))

    def services(self, session: Session, visit_ids: Sequence[int]
                 ) -> dict[int, tuple[Service, ...]]:
        """The visits' services in order, by visit row id (equal services built once)."""
        service = self.service
        return {visit_id: tuple([service[row[1:]] for row in rows]) for visit_id, rows in
                groupby(raw_rows(session, _SERVICES, visit_ids), itemgetter(0))}

    def _load(self, session: Session, name: str, table: Any, ids: Iterable[int | None],
              build: Any) -> dict[int, Any]:
        """Read and map the rows of ``table`` among ``ids`` not read yet (into ``maps[name]``)."""
        have = self.maps[name]
        missing = sorted({i for i in ids if i is not None and i not in have})
        if not missing:
            return have
        read, names, make = _parent_read(table)
        convert = self.readers.get(name)
        if convert is None:  # once per table and memo (SQLAlchemy's type lookups)
            convert = self.readers[name] = [
                (i, fn) for i, fn in enumerate(column_readers(self.dialect, table, names))
                if fn is not None]
        for part in chunked(missing):
            for values in raw_rows(session, read, part):
                if convert:
                    values = list(values)
                    for i, fn in convert:
                        if values[i] is not None:
                            values[i] = fn(values[i])
                row = make(values)
                have[row.id] = build(row)
        return have

    def parents(self, session: Session, rows: Sequence[Any]) -> None:
        """Read and map the parents these ``_VISIT_READ`` rows name and not read yet."""
        if not rows:
            return
        (_, _, _, _, _, _, _, _, _, _, _, _, practice, patient, coverage, rendering, assistant,
         supervising, plan, authorization) = zip(*rows, strict=True)
        load = partial(self._load, session)
        load("practice", PracticeRow.__table__, practice, mapping.to_billing_provider)
        load("provider", ProviderRow.__table__, {*rendering, *assistant, *supervising},
             mapping.to_provider)
        load("patient", PatientRow.__table__, patient, mapping.to_patient)
        mapped = self.maps["coverage"]
        new = {i for i in coverage if i not in mapped}  # a memo's coverages are mapped
        if new:
            rows_of = load("coverage_row", CoverageRow.__table__, new, lambda r: r)
            payers = load("payer", PayerRow.__table__, {rows_of[i].payer_id for i in new
                                                        if i in rows_of}, lambda r: r)
            for row_id in new:
                row = rows_of.get(row_id)
                if row is not None:
                    mapped[row_id] = mapping.to_coverage(row, payers[row.payer_id])
        load("poc", PlanOfCareRow.__table__, plan, mapping.to_plan_of_care)
        load("auth", AuthorizationRow.__table__, authorization, mapping.to_authorization)

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
    """How ``VisitMemo`` reads a parent table: its columns but ``created_at`` (which no domain
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
