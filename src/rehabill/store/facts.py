"""Claim facts for the reports: the books' rows folded into ``rehabill.reports.ClaimFact``.

A handful of grouped queries (claims with their visit, payer and people; line codes; ledger
sums by claim, kind, group and CARC with payment dates; the first time each claim reached each
status), folded together in Python, so the whole book of a clinic-year is read in seconds.

A claim counts as denied when its first adjudication denied it whole or in part (some lines
denied, ``partially_paid``): denial analysis is about the money a denial holds up, and a
partly denied claim needs the same work. Its CARCs are the non-routine CO/OA/PI adjustments.

Signs: ledger entries take money off the insurance balance, so they are negative; the facts
show payments and adjustments as positive amounts and the balance as what is still open.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Engine,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ClauseElement

from rehabill.domain.collector import collector_paused
from rehabill.domain.money import ZERO
from rehabill.ledger import denials
from rehabill.reports import ClaimFact
from rehabill.store.bulk import chunked, ids_in
from rehabill.store.engine import IMMEDIATE
from rehabill.store.models import (
    BatchRow,
    ClaimLineRow,
    ClaimRow,
    ClaimStatusRow,
    LedgerEntryRow,
    PatientRow,
    PayerRow,
    ProviderRow,
    RemittanceRow,
    VisitRow,
)

ADJUDICATED = ("paid", "partially_paid", "denied", "closed")
PAID_KINDS = ("payment",)
CONTRACTUAL_KINDS = ("contractual", "payer_reduction", "adjustment")
OTHER_KINDS = ("other_adjustment", "reversal")
PATIENT_KINDS = ("patient_responsibility",)

Rows = list[tuple[Any, ...]]


def _rows(connection: Connection, query: ClauseElement) -> Rows:
    """Every row of ``query`` as the driver returns it, on the session's own connection.

    A clinic-year's facts read about 1.5 million grouped rows: SQLAlchemy's per-row result
    processing cost more than the conversions done here in bulk (amounts come as whole cents,
    days through ``_Days``). The constants are written into the SQL (``literal_binds``), so
    the DBAPI cursor needs no parameters; it runs in the session's transaction, so every
    query sees the same snapshot of the books.
    """
    sql = str(query.compile(dialect=connection.dialect,
                            compile_kwargs={"literal_binds": True}))
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _day(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


class _Days(dict[Any, "date | None"]):
    """A stored day or time (SQLite text, PostgreSQL date or datetime) as its ``date``, each
    distinct value converted once: a year of payments has a few hundred payment dates."""

    def __missing__(self, value: Any) -> date | None:
        day = self[value] = _day(value)
        return day


class _Dates(dict[Any, date]):
    """A stored date (SQLite text, PostgreSQL date) as a ``date``, each converted once."""

    def __missing__(self, value: Any) -> date:
        day = self[value] = value if isinstance(value, date) else date.fromisoformat(value)
        return day


class _Amounts(dict[int, Decimal]):
    """Whole cents as a ``Decimal`` amount (``12345`` → ``123.45``, zero ``0.00``), each
    distinct amount made once: fee schedules make the same amounts over and over."""

    def __missing__(self, cents: int) -> Decimal:
        amount = self[cents] = Decimal(cents).scaleb(-2)
        return amount


def _cents(amount: Any) -> ColumnElement[Any]:
    """``SUM(amount)`` in whole cents: exact on PostgreSQL's numeric, and on SQLite (which
    sums doubles) rounded back to the cent the stored amounts hold."""
    return cast(func.round(func.coalesce(func.sum(amount), 0) * 100), BigInteger)


def _sum_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return _cents(case((condition, LedgerEntryRow.amount)))


def _not_routine() -> ColumnElement[bool]:
    """An adjustment that is not normal business (``ledger.denials.is_routine``)."""
    routine = [and_(LedgerEntryRow.group_code == group, LedgerEntryRow.carc == carc)
               for group, carc in sorted(denials.ROUTINE)]
    return and_(LedgerEntryRow.group_code.in_(("CO", "OA", "PI")), LedgerEntryRow.carc != "",
                not_(or_(*routine)))


def _money(connection: Connection) -> tuple[dict[int, tuple[Any, ...]], dict[int, Any],
                                            dict[int, tuple[Any, Any]]]:
    """Each claim's ledger in whole cents, and what its first and last payment day come from.

    Returns ``(claim id, paid, contractual, patient, co45, total, low, high)`` per claim, the
    sums with the ledger's sign (money off the balance is negative); each dated remittance's
    payment date by id; and the days ``(first, last)`` of the claims whose entries are not
    all in one dated remittance.

    An entry's payment date is its remittance's (BPR16), else the day it was posted. Nearly
    every claim is paid in one remittance, so the grouped query keeps only the lowest and
    highest remittance id (0 for an entry without one): when they are the same dated
    remittance its date is both days. Comparing a date per ledger row cost as much as the
    five sums; the other claims' days are read exactly, by claim (``_payment_days``).
    """
    entry = LedgerEntryRow
    remittance = func.coalesce(entry.remittance_id, 0)
    query = (select(entry.claim_id, _sum_if(entry.kind.in_(PAID_KINDS)),
                    _sum_if(entry.kind.in_(CONTRACTUAL_KINDS)),
                    _sum_if(entry.kind.in_(PATIENT_KINDS)),
                    _sum_if(and_(entry.group_code == "CO", entry.carc == "45")),
                    _cents(entry.amount), func.min(remittance), func.max(remittance))
             .where(entry.claim_id.is_not(None))
             .group_by(entry.claim_id))
    money = {row[0]: row for row in _rows(connection, query)}
    dated = {remittance_id: day for remittance_id, day in _rows(
        connection, select(RemittanceRow.id, RemittanceRow.payment_date)) if day is not None}
    spread = [claim_id for claim_id, row in money.items()
              if row[6] != row[7] or row[6] not in dated]
    return money, dated, _payment_days(connection, spread)


def _payment_days(connection: Connection, claim_ids: list[int]) -> dict[int, tuple[Any, Any]]:
    """The first and last payment day of each of ``claim_ids``, entry by entry."""
    entry = LedgerEntryRow
    paid_on = func.coalesce(RemittanceRow.payment_date, entry.posted_at)
    out: dict[int, tuple[Any, Any]] = {}
    for part in chunked(claim_ids):
        query = (select(entry.claim_id, func.min(paid_on), func.max(paid_on))
                 .outerjoin(RemittanceRow, RemittanceRow.id == entry.remittance_id)
                 .where(ids_in(entry.claim_id, part))
                 .group_by(entry.claim_id))
        out.update((claim_id, (first, last)) for claim_id, first, last in
                   _rows(connection, query))
    return out


def _denied(connection: Connection) -> dict[int, tuple[int, tuple[str, ...]]]:
    """The money each claim's non-routine CO/OA/PI adjustments hold (positive cents) and their
    CARCs, in (kind, group, CARC) order, counting only the groups that still hold money.

    ``claim_id + 0`` keeps SQLite from reading the whole ledger through the claim index (a
    table lookup per entry): the few matching rows are grouped on their own and sorted here.
    """
    entry = LedgerEntryRow
    claim = (entry.claim_id + 0).label("claim")
    query = (select(claim, entry.kind, entry.group_code, entry.carc, _cents(entry.amount))
             .where(claim.is_not(None), _not_routine())
             .group_by(claim, entry.kind, entry.group_code, entry.carc))
    out: dict[int, tuple[int, tuple[str, ...]]] = {}
    for claim_id, _kind, group, carc, cents in sorted(_rows(connection, query)):
        if cents < 0:  # money held: the ledger's sign is negative
            held, reasons = out.get(claim_id, (0, ()))
            reason = f"{group}-{carc}"
            out[claim_id] = (held - cents,
                             reasons if reason in reasons else (*reasons, reason))
    return out


def _milestones(connection: Connection) -> dict[int, tuple[Any, ...]]:
    """What each claim's status history says about its first passes: one row per claim,
    ``(claim id, scrub, rejected, result)``.

    ``scrub`` is the first scrubbed-or-held row's id doubled, plus one when it was ``held``
    (odd: held before any clean scrub); ``rejected`` is 1 when the claim was ever rejected;
    ``result`` is the first adjudicated row's id times four plus the status's index in
    ``ADJUDICATED``. Three aggregates instead of a first id and time per status: the times
    are read (``_first_times``) only for the few claims that need them.
    """
    row = ClaimStatusRow
    row_id = cast(row.id, BigInteger)
    held = case((row.status == "held", 1), else_=0)
    result = case(*((row.status == s, n) for n, s in enumerate(ADJUDICATED)))
    query = (select(row.claim_id,
                    func.min(case((row.status.in_(("scrubbed", "held")), row_id * 2 + held))),
                    func.max(case((row.status == "rejected", 1), else_=0)),
                    func.min(case((row.status.in_(ADJUDICATED), row_id * 4 + result))))
             .group_by(row.claim_id))
    return {r[0]: r for r in _rows(connection, query)}


def _first_times(connection: Connection, claim_ids: list[int],
                 statuses: tuple[str, ...]) -> dict[tuple[int, str], Any]:
    """When each of ``claim_ids`` first reached each of ``statuses`` (earliest ``at``)."""
    row = ClaimStatusRow
    out: dict[tuple[int, str], Any] = {}
    for part in chunked(claim_ids):
        query = (select(row.claim_id, row.status, func.min(row.at))
                 .where(ids_in(row.claim_id, part), row.status.in_(statuses))
                 .group_by(row.claim_id, row.status))
        out.update(((claim_id, status), at) for claim_id, status, at in
                   _rows(connection, query))
    return out


def _codes(connection: Connection) -> dict[int, tuple[str, ...]]:
    """Each claim's procedure codes, in line order, each once."""
    out: dict[int, tuple[str, ...]] = {}
    last: int | None = None
    codes: list[str] = []
    for claim_id, code in _rows(connection, select(ClaimLineRow.claim_id, ClaimLineRow.code)
                                .order_by(ClaimLineRow.claim_id, ClaimLineRow.number)):
        if claim_id != last:
            if last is not None:
                out[last] = tuple(dict.fromkeys(codes))
            last, codes = claim_id, []
        codes.append(code)
    if last is not None:
        out[last] = tuple(dict.fromkeys(codes))
    return out


_NO_MONEY = (None, 0, 0, 0, 0, 0, None, None)
_NO_DAYS = (None, None)
_NEVER = (None, None, 0, None)
_NO_DENIAL = (0, ())


def claim_facts(session: Session) -> list[ClaimFact]:
    """Every claim's money and milestones, for ``rehabill.reports``.

    Args:
        session: any session on the books (read only).

    Returns:
        One fact per claim, oldest claim first.
    """
    # A clinic-year is millions of row tuples and a quarter of a million facts, none of them
    # in a reference cycle: the cyclic collector, run every few hundred allocations, would
    # walk them over and over (a third of the Python time) and can free nothing here.
    with collector_paused():
        return _claim_facts(session)


def _claim_facts(session: Session) -> list[ClaimFact]:
    connection = session.connection()
    money, dated, spread = _money(connection)
    denied = _denied(connection)
    seen = _milestones(connection)
    codes = _codes(connection)
    # the claims with their visits; payers, patients, providers and batches (a few thousand
    # rows) are looked up here rather than joined to every claim
    query = (select(ClaimRow.id, ClaimRow.claim_key,
                    cast(func.round(ClaimRow.total_charge * 100), BigInteger),
                    ClaimRow.payer_id, VisitRow.patient_id, VisitRow.rendering_provider_id,
                    VisitRow.date_of_service, ClaimRow.batch_id)
             .join(VisitRow, VisitRow.id == ClaimRow.visit_id)
             .order_by(ClaimRow.id))
    claims = _rows(connection, query)
    # read after the claims: rows that a claim refers to were there before it (and are never
    # deleted), even where each statement sees the books as they are then (read committed)
    payers = {id_: (key, name or key) for id_, key, name in
              _rows(connection, select(PayerRow.id, PayerRow.payer_key, PayerRow.name))}
    patients: dict[int, str] = dict(_rows(connection, select(PatientRow.id,
                                                              PatientRow.external_id)))
    npis: dict[int, str] = dict(_rows(connection, select(ProviderRow.id, ProviderRow.npi)))
    batches: dict[int, Any] = dict(_rows(connection, select(BatchRow.id, BatchRow.created_at)))
    # the times only a few claims need: when an unbatched claim was batched, and when a
    # claim with no ledger entry was first adjudicated
    batched = _first_times(connection, [r[0] for r in claims if r[7] not in batches],
                           ("batched",))
    results = _first_times(connection, [c for c, s in seen.items()
                                        if s[3] is not None and c not in money], ADJUDICATED)
    amounts, days, dates = _Amounts(), _Days(), _Dates()
    facts = []
    for claim_id, key, charge, payer_id, patient_id, provider_id, dos, batch_id in claims:
        payer_key, payer_name = payers[payer_id]
        _, paid, contractual, responsibility, co45, total, low, high = \
            money.get(claim_id, _NO_MONEY)
        if low == high and low in dated:  # all in one dated remittance
            first = last = dated[low]
        else:
            first, last = spread.get(claim_id, _NO_DAYS)
        _, scrub, rejected, result_key = seen.get(claim_id, _NEVER)
        held, reasons = denied.get(claim_id, _NO_DENIAL)
        result = ADJUDICATED[result_key % 4] if result_key is not None else None
        submitted_on = days[batches.get(batch_id)]
        if submitted_on is None:
            submitted_on = days[batched.get((claim_id, "batched"))]
        adjudicated_on = None
        if result is not None:
            adjudicated_on = days[first] or days[results.get((claim_id, result))]
        # positional, in ClaimFact's field order: keywords cost as much as the rest of the
        # fact (tests/store/test_facts.py pins every field)
        facts.append(ClaimFact(
            key, payer_key, payer_name, patients[patient_id], npis[provider_id], dates[dos],
            amounts[charge], codes.get(claim_id, ()), submitted_on, adjudicated_on,
            amounts[charge + co45] if result is not None else ZERO,  # allowed
            amounts[-paid], amounts[-contractual],
            amounts[paid + contractual + responsibility - total],  # other adjustments
            amounts[-responsibility], amounts[charge + total],  # patient, balance
            scrub is None or scrub % 2 == 0,  # clean on the first scrub
            not rejected,  # accepted on the first pass
            result in ("denied", "partially_paid"), reasons, amounts[held],
            result in ("paid", "closed"),  # paid on the first pass
            days[last] if paid else None))  # paid on
    return facts


def kx_totals(session: Session, year: int) -> list[tuple[str, str, Decimal]]:
    """Each patient's allowed therapy amounts this year, PT+SLP and OT apart (KX threshold).

    A line's allowed amount is its charge less the payer's CO-45 contractual adjustment on it
    (the charge itself until the line is adjudicated). Only each visit's newest claim that was
    not held counts: a corrected claim replaces the one before it and a void (frequency 8)
    takes the visit out. GO lines count toward OT, the rest
    toward the combined PT and SLP amount (42 CFR 410.59-410.62).

    Args:
        session: any session on the books.
        year: the calendar year of the dates of service.

    Returns:
        (patient id, "pt_slp" or "ot", allowed amount) for every patient with therapy.
    """
    entry, line = LedgerEntryRow, ClaimLineRow
    # a corrected (7) or void (8) claim replaces the visit's earlier ones at the payer: only
    # each visit's newest claim that left the practice counts, and a void counts nothing
    later = aliased(ClaimRow)
    replaced = (select(later.id).where(later.visit_id == ClaimRow.visit_id,
                                       later.sequence > ClaimRow.sequence,
                                       later.status != "held").exists())
    is_ot = (literal(" ") + line.modifiers + literal(" ")).like("% GO %")
    kind = case((is_ot, "ot"), else_="pt_slp").label("kind")

    def by_patient(amount: Any, query: Select[Any]) -> Select[Any]:
        """The year's counted lines, ``amount`` summed per patient and threshold group.

        Charges and CO-45 amounts are summed apart and added in Python, and "no later claim"
        is an index lookup (NOT EXISTS on visit and sequence): no aggregate sits inside
        another query, so no plan can run one per row (PostgreSQL did, with the stale
        statistics a bulk load leaves when autovacuum has not run)."""
        inner = (query.add_columns(PatientRow.external_id.label("patient"), kind,
                                   amount.label("amount"))
                 .join(ClaimRow, ClaimRow.id == line.claim_id)
                 .join(VisitRow, VisitRow.id == ClaimRow.visit_id)
                 .join(PatientRow, PatientRow.id == VisitRow.patient_id)
                 .where(VisitRow.date_of_service >= date(year, 1, 1),
                        VisitRow.date_of_service <= date(year, 12, 31),
                        ClaimRow.frequency != "8", ClaimRow.status != "held", ~replaced)
                 .subquery())
        return (select(inner.c.patient, inner.c.kind, _cents(inner.c.amount))
                .group_by(inner.c.patient, inner.c.kind))

    connection = session.connection()
    cents: dict[tuple[str, str], int] = defaultdict(int)
    charges = by_patient(line.charge, select().select_from(line))
    adjusted = by_patient(entry.amount, select().select_from(entry)
                          .join(line, line.id == entry.claim_line_id)
                          .where(entry.group_code == "CO", entry.carc == "45"))
    for query in (charges, adjusted):
        for patient, group, amount in connection.execute(query):
            cents[(patient, group)] += int(amount)
    return [(patient, group, Decimal(amount).scaleb(-2))
            for (patient, group), amount in sorted(cents.items())]


KxTotals = list[tuple[str, str, Decimal]]


def facts_and_kx(session: Session, year: int) -> tuple[list[ClaimFact], KxTotals]:
    """``claim_facts`` and ``kx_totals`` for one screen of reports, read at the same time.

    The KX sums are almost all database work (two grouped queries) and the facts half Python,
    so the KX queries run on a connection of their own in a second thread while this one
    reads the facts: SQLite releases the interpreter while it runs a query and PostgreSQL
    runs it in the server, so the two overlap on two cores. Each is read in its own
    transaction (two snapshots, as two reports asked one after the other would be). A
    session bound to one connection, or a database in memory (one shared connection), reads
    them one after the other in its own transaction.

    Args:
        session: a session on the books (read only).
        year: the KX threshold year.
    """
    bind = session.get_bind()
    if not isinstance(bind, Engine) or _in_memory(bind):
        return claim_facts(session), kx_totals(session, year)
    with ThreadPoolExecutor(max_workers=1) as pool:
        kx = pool.submit(_kx_apart, bind, year)
        facts = claim_facts(session)
        return facts, kx.result()


def _kx_apart(engine: Engine, year: int) -> KxTotals:
    reads = engine.execution_options(**{IMMEDIATE: False})  # a read takes no write lock
    with Session(reads) as session, session.begin():
        return kx_totals(session, year)


def _in_memory(engine: Engine) -> bool:
    url = engine.url
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
