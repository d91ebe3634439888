"""Queries the billing services need beyond the basic claim and batch functions.

Batches by group control number (what a 999 answers), the claims of one transaction set, claim
rows for resubmission, the ledger balance of a claim, remittance payment details and the
worklist as rows. Store functions never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Row, func, select, text, update
from sqlalchemy.orm import Session

from rehabill.domain import (
    Address,
    BillingProvider,
    Claim,
    ClaimLine,
    Coverage,
    Credential,
    Frequency,
    Patient,
    Provider,
    TherapyToDate,
    Visit,
)
from rehabill.ledger import ClaimSet, StoredClaim
from rehabill.store import mapping
from rehabill.store.bulk import chunked, fetch, ids_in, insert_rows, table_of, texts_in
from rehabill.store.models import (
    AcknowledgmentRow,
    BatchClaimRow,
    BatchRow,
    ClaimLineRow,
    ClaimRow,
    LedgerEntryRow,
    PayerRow,
    RemittanceRow,
    VisitRow,
    WorklistItemRow,
)
from rehabill.store.types import to_money
from rehabill.x12.status import SentClaim


def batch_by_group_number(session: Session, group_control_number: str) -> int | None:
    """The newest 837P batch sent with this GS06 (the 999's AK102), or None."""
    try:
        number = str(int(group_control_number))
    except ValueError:
        return None
    query = (select(BatchRow.id).where(BatchRow.kind == "837P",
                                       BatchRow.group_control_number == number)
             .order_by(BatchRow.id.desc()))
    return session.scalars(query).first()


def transaction_claims(session: Session, batch_id: int, set_control_number: str
                       ) -> list[tuple[int, str, str]]:
    """(claim id, CLM01, status) of the claims of one ST/SE set of a batch, in file order.

    All the batch's claims when the set is unnamed (what a 999's AK202 speaks for).
    """
    return claims_of_set(batch_claims(session, batch_id), set_control_number)


def batch_claims(session: Session, batch_id: int) -> list[tuple[int, str, str, str]]:
    """(claim id, ST02, CLM01, status) of every claim of a batch, in file order (one query
    for a 999 that answers each of the batch's transaction sets)."""
    links, claims = table_of(BatchClaimRow), table_of(ClaimRow)
    query = (select(links.c.claim_id, links.c.transaction_control_number, claims.c.claim_key,
                    claims.c.status)
             .join(claims, claims.c.id == links.c.claim_id)
             .where(links.c.batch_id == int(batch_id)).order_by(links.c.id))
    return fetch(session, query)  # plain tuples: a batch has thousands of claims


def claims_of_set(rows: Sequence[tuple[int, str, str, str]], set_control_number: str
                  ) -> list[tuple[int, str, str]]:
    """(claim id, CLM01, status) of the ``batch_claims`` rows in one ST/SE set (all of them
    when the set is unnamed)."""
    if not set_control_number.strip():
        return [(cid, key, status) for cid, _, key, status in rows]
    wanted = set_control_number.strip().lstrip("0") or "0"
    return [(cid, key, status) for cid, st02, key, status in rows
            if (st02.lstrip("0") or "0") == wanted]


_ACK_DETAIL = ("id", "total_charge", "payer_claim_number", "batch_id")


def claims_for_acks(session: Session, claim_keys: Sequence[str]
                    ) -> tuple[dict[str, tuple[int, str]], dict[str, tuple[SentClaim, ...]]]:
    """What a 277CA chooses its claims by: the newest claim of each CLM01 as (claim id,
    status), and for the few keys with several claims (an original and its corrected or void
    claim, a claim sent again, a secondary claim) all of them, newest first, for
    ``x12.status.choose_answered``. One query per 5,000 keys, and a second one for the
    charge, payer claim number and batch of the claims of keys with several (only then)."""
    newest: dict[str, tuple[int, str]] = {}
    several: dict[str, tuple[SentClaim, ...]] = {}
    for part in chunked(claim_keys):
        first: dict[str, tuple[Any, ...]] = {}
        shared: dict[str, list[tuple[Any, ...]]] = {}
        for row in _claims_by_keys(session, ("claim_key", "sequence", "id", "status"), part):
            key = row[0]
            if key not in first:  # nearly every key: no call per row (20,000 a file)
                first[key] = row
            else:
                shared.setdefault(key, [first[key]]).append(row)
        newest.update({key: (row[2], row[3]) for key, row in first.items()})
        if not shared:
            continue
        claims = table_of(ClaimRow)
        ids = sorted(row[2] for group in shared.values() for row in group)
        detail = {row[0]: row[1:] for row in fetch(session, select(
            *(claims.c[name] for name in _ACK_DETAIL)).where(ids_in(claims.c.id, ids)))}
        for key, group in shared.items():
            group.sort(key=lambda r: r[1], reverse=True)
            several[key] = tuple(SentClaim(r[2], r[3], to_money(detail[r[2]][0]),
                                           detail[r[2]][1] or "", detail[r[2]][2] is not None)
                                 for r in group)
            newest[key] = (group[0][2], group[0][3])
    return newest, several


def _claims_by_keys(session: Session, names: Sequence[str], keys: Sequence[str]
                    ) -> Sequence[tuple[Any, ...]]:
    """Columns ``names`` (plain integers and texts) of the claims whose CLM01 is among ``keys``
    (at most ``CHUNK`` of them).

    On SQLite the query goes straight to the driver: SQLAlchemy's ``IN`` coerces and names a
    parameter for each of thousands of keys (a 277CA or an 835 names every claim of a batch),
    which costs several times what SQLite takes to answer; PostgreSQL gets the keys as one
    array (``texts_in``).
    """
    if session.get_bind().dialect.name == "sqlite":
        return session.connection().exec_driver_sql(
            f"SELECT {', '.join(names)} FROM claims WHERE claim_key IN "
            f"({','.join('?' * len(keys))})", tuple(keys)).fetchall()
    claims = table_of(ClaimRow)
    return [tuple(row) for row in session.execute(
        select(*(claims.c[name] for name in names))
        .where(texts_in(session, claims.c.claim_key, keys)))]


def claim_statuses(session: Session, claim_ids: Sequence[int]) -> dict[int, str]:
    """Current status of each claim."""
    out: dict[int, str] = {}
    for part in chunked(claim_ids):
        out.update({cid: st for cid, st in session.execute(
            select(ClaimRow.id, ClaimRow.status).where(ids_in(ClaimRow.id, part)))})
    return out


def set_payer_claim_numbers(session: Session, numbers: dict[int, str], *,
                            only_missing: bool = False) -> None:
    """Remember the payer's claim number (277CA REF*1K, 835 CLP07) of claims, in bulk.

    ``only_missing`` leaves a claim that has one already as it is (an 835's CLP07 fills in
    what no 277CA gave; the 277CA's number stays what a corrected claim refers to).
    """
    rows = [(number[:80], cid) for cid, number in numbers.items() if number]  # (pcn, id)
    if not rows:
        return
    missing = " AND (claims.payer_claim_number IS NULL OR claims.payer_claim_number = '')" \
        if only_missing else ""
    if session.get_bind().dialect.name == "postgresql":
        # one statement over two arrays, not one UPDATE per claim
        session.execute(text(
            "UPDATE claims SET payer_claim_number = v.pcn FROM unnest(CAST(:ids AS integer[]), "
            "CAST(:pcns AS varchar[])) AS v(id, pcn) WHERE claims.id = v.id" + missing),
            {"ids": [cid for _, cid in rows], "pcns": [pcn for pcn, _ in rows]})
        return
    # SQLite: the driver's executemany over plain tuples (no per-row parameter processing)
    session.connection().exec_driver_sql(
        "UPDATE claims SET payer_claim_number = ? WHERE claims.id = ?" + missing, rows)


ACK_ROW = ("file_id", "kind", "batch_id", "claim_id", "control_number", "status_code",
           "accepted", "message", "created_at")


def add_acknowledgment_rows(session: Session, rows: Sequence[tuple[Any, ...]]) -> None:
    """Store 999/277CA answers given as tuples in ``ACK_ROW`` order (a 277CA has one per
    claim: no dict per row)."""
    insert_rows(session, AcknowledgmentRow, ACK_ROW, rows)


def claim_for_update(session: Session, claim_id: int) -> Row[Any] | None:
    """The claim's row (id, visit_id, sequence, status, total_charge, payer_claim_number...)."""
    return session.execute(select(ClaimRow.__table__).where(ClaimRow.id == claim_id)).first()


def newest_sequence(session: Session, visit_id: int) -> int:
    """The highest claim sequence of a visit (0 when it has none)."""
    value = session.execute(select(func.max(ClaimRow.sequence))
                            .where(ClaimRow.visit_id == visit_id)).scalar()
    return int(value or 0)


def claim_balance(session: Session, claim_id: int) -> Decimal:
    """The insurance balance: the claim's charge plus its signed ledger entries."""
    charge = session.execute(select(ClaimRow.total_charge)
                             .where(ClaimRow.id == claim_id)).scalar()
    entries = session.execute(select(func.sum(LedgerEntryRow.amount))
                              .where(LedgerEntryRow.claim_id == claim_id)).scalar()
    return to_money(charge) + to_money(entries)


def set_remittance_details(session: Session, details: Sequence[tuple[str, str, date | None,
                                                                       str, Decimal]]) -> None:
    """Fill in payment date, method and amount of stored remittances, and link our payer.

    ``details`` holds (originator, trace number, payment date, method, amount) as read from
    each 835's BPR/TRN.
    """
    for originator, trace, paid_on, method, amount in details:
        session.execute(update(RemittanceRow).where(
            RemittanceRow.originator == originator, RemittanceRow.trace_number == trace)
            .values(payment_date=paid_on, payment_method=method[:3], payment_amount=amount)
            .execution_options(synchronize_session=False))


def worklist_rows(session: Session, *, include_done: bool = False) -> list[Any]:
    """Worklist items with their claim key, status, payer and date of service, oldest first."""
    query = (select(WorklistItemRow.id, WorklistItemRow.claim_id, WorklistItemRow.carc,
                    WorklistItemRow.rarc, WorklistItemRow.reason, WorklistItemRow.next_action,
                    WorklistItemRow.assignee, WorklistItemRow.status,
                    WorklistItemRow.created_at, ClaimRow.claim_key,
                    ClaimRow.status.label("claim_status"), ClaimRow.total_charge,
                    PayerRow.payer_key, VisitRow.date_of_service)
             .join(ClaimRow, ClaimRow.id == WorklistItemRow.claim_id)
             .join(PayerRow, PayerRow.id == ClaimRow.payer_id)
             .join(VisitRow, VisitRow.id == ClaimRow.visit_id)
             .order_by(WorklistItemRow.id))
    if not include_done:
        query = query.where(WorklistItemRow.status != "done")
    return list(session.execute(query).all())




_NOBODY = Address("", "", "", "")
_NO_BILLING = BillingProvider("", "", "", _NOBODY)
_NO_COVERAGE = Coverage("", "", "", "")
_NO_PROVIDER = Provider("", "", "", Credential.PT)
_NO_THERAPY = TherapyToDate()  # shared, not one made for each claim's placeholder visit


@dataclass(frozen=True, slots=True)
class PostingClaims:
    """What posting an ERA reads of the claims it names, found by CLM01.

    ``claims`` holds each known key's claim, or a ``ClaimSet`` of all its claims (newest
    first) when several share it (an original and its corrected or void claim): the newest
    is named by the CLM01 alone, an earlier one by its row id as text (``Entry.claim_ref``).
    ``rows`` holds the newest claim's row id by key; ``lines`` the row id of each line of
    every claim read, by (claim row id, line number); ``statuses`` the current status of each
    claim row read (read with them); ``numbers`` the (row id, payer claim number) of each
    claim of a key with several, newest first (what ``choose_claim`` went by).
    """

    claims: dict[str, Claim | ClaimSet]
    rows: dict[str, int]
    lines: dict[tuple[int, int], int]
    statuses: dict[int, str] = field(default_factory=dict)
    numbers: dict[str, tuple[tuple[int, str], ...]] = field(default_factory=dict)


_POSTING_HEAD = ("claim_key", "sequence", "id", "visit_id", "frequency", "original_reference",
                 "status", "payer_claim_number", "payer_id")
_POSTING_LINE = ("id", "claim_id", *mapping.CLAIM_LINE_COLUMNS)


Numbers = dict[str, tuple[tuple[int, str], ...]]


def posting_heads(session: Session, claim_keys: Sequence[str]
                  ) -> tuple[dict[str, int], dict[int, str], Numbers]:
    """What ``claims_for_posting`` chose claims by, read again in one query per 5,000 keys:
    the newest claim's row id by key, every claim's status, and ``PostingClaims.numbers``."""
    newest: dict[str, int] = {}
    statuses: dict[int, str] = {}
    groups: dict[str, list[tuple[Any, ...]]] = {}
    for part in chunked(claim_keys):
        heads = _claims_by_keys(
            session, ("claim_key", "sequence", "id", "status", "payer_claim_number"), part)
        statuses.update((head[2], head[3]) for head in heads)
        first, several = _newest_heads(heads)
        newest.update((key, head[2]) for key, head in first.items())
        for head in heads if several else ():
            if head[0] in several:
                groups.setdefault(head[0], []).append(head)
    numbers = {key: tuple((h[2], h[4]) for h in sorted(group, key=lambda h: h[1], reverse=True))
               for key, group in groups.items()}
    return newest, statuses, numbers


def _newest_heads(heads: Sequence[tuple[Any, ...]]
                  ) -> tuple[dict[str, tuple[Any, ...]], set[str]]:
    """Of ``_claims_by_keys`` rows that start (claim key, sequence, ...): each key's newest
    row (highest sequence) and the keys that have several claims (an original and its
    corrected or void claim, a secondary claim)."""
    newest: dict[str, tuple[Any, ...]] = {}
    several: set[str] = set()
    for head in heads:
        known = newest.get(head[0])
        if known is None:
            newest[head[0]] = head
            continue
        several.add(head[0])
        if head[1] > known[1]:
            newest[head[0]] = head
    return newest, several


def claims_for_posting(session: Session, claim_keys: Sequence[str]) -> PostingClaims:
    """Each CLM01's claims (``PostingClaims``), with their lines but only the visit's id and
    date.

    Loading the whole visit (people, coverage, plan of care...) is most of the cost of
    ``claims.load_claims``; the ledger needs the claim id, charge and lines only. The other
    visit fields are empty placeholders (shared by every claim), so never bill or scrub these
    claims. Three queries per 5,000 keys (claims, their visits, their lines); visits and lines
    are read by row id as plain tuples (``bulk.fetch``). Nearly every key has one claim: the
    few with more (``several``) are grouped apart, after the newest claims are made.
    """
    lines_t = table_of(ClaimLineRow)
    visits_t = table_of(VisitRow)
    out = PostingClaims({}, {}, {}, {}, {})
    patients: dict[date, Patient] = {}
    line_ids = out.lines
    for part in chunked(sorted(set(claim_keys))):
        # Three lookups by index (claim key, visit id, claim id), never a join the planner
        # could turn into a scan of every visit in the books.
        heads = _claims_by_keys(session, _POSTING_HEAD, part)
        newest, several = _newest_heads(heads)
        if not newest:
            continue
        earlier = [h for h in heads if h[0] in several and h is not newest[h[0]]] \
            if several else []
        visit_ids = sorted({h[3] for h in (*newest.values(), *earlier)})
        visits = {vid: (key, day) for vid, key, day in fetch(session, select(
            visits_t.c.id, visits_t.c.visit_key, visits_t.c.date_of_service)
            .where(ids_in(visits_t.c.id, visit_ids)))}
        grouped: dict[int, list[ClaimLine]] = {}
        build = mapping.claim_line_from_columns
        claim_ids = sorted(h[2] for h in (*newest.values(), *earlier))
        for row in fetch(session, select(*(lines_t.c[n] for n in _POSTING_LINE))
                         .where(ids_in(lines_t.c.claim_id, claim_ids))
                         .order_by(lines_t.c.claim_id, lines_t.c.number)):
            claim_id = row[1]
            lines = grouped.get(claim_id)
            if lines is None:
                lines = grouped[claim_id] = []
            lines.append(build(*row[2:]))
            line_ids[(claim_id, row[2])] = row[0]
        for key, (_, _, cid, visit_id, frequency, reference, status, *_) in newest.items():
            visit_key, day = visits[visit_id]
            patient = patients.get(day)
            if patient is None:
                patient = patients[day] = Patient("", "", "", day, "U")
            visit = Visit(visit_key, day, _NO_BILLING, patient, _NO_COVERAGE, _NO_PROVIDER, (),
                          therapy_to_date=_NO_THERAPY)
            out.claims[key] = Claim(visit, tuple(grouped.get(cid, ())), Frequency(frequency),
                                    reference, "" if key == visit_key else key)
            out.rows[key] = cid
            out.statuses[cid] = status
        if several:
            payers = _payer_keys(session, {h[8] for h in (*newest.values(), *earlier)
                                           if h[0] in several})
            _add_claim_sets(out, newest, earlier, visits, grouped, payers)
    return out


def _payer_keys(session: Session, payer_rows: set[int]) -> dict[int, str]:
    """Each payer row's payer id (``payer_key``: what the 837P's NM1*PR09 sends)."""
    payers = table_of(PayerRow)
    return dict(fetch(session, select(payers.c.id, payers.c.payer_key)
                      .where(ids_in(payers.c.id, sorted(payer_rows)))))


def _add_claim_sets(out: PostingClaims, newest: dict[str, tuple[Any, ...]],
                    earlier: Sequence[tuple[Any, ...]], visits: dict[int, tuple[str, date]],
                    grouped: dict[int, list[ClaimLine]], payers: dict[int, str]) -> None:
    """Replace the newest claim of each key that has earlier ones by a ``ClaimSet`` of all of
    them, newest first (``_POSTING_HEAD`` rows; the newest claims are made already), each
    with the payer id it was billed to (``payers``: by payer row)."""
    by_key: dict[str, list[tuple[Any, ...]]] = {}
    for head in earlier:
        by_key.setdefault(head[0], []).append(head)
    for key, heads in by_key.items():
        heads.sort(key=lambda h: h[1], reverse=True)
        first = newest[key]
        stored = [StoredClaim(cast(Claim, out.claims[key]), "", first[7],  # made just before
                              payers.get(first[8], ""))]
        for _, _, cid, visit_id, frequency, reference, status, number, payer in heads:
            visit_key, day = visits[visit_id]
            visit = Visit(visit_key, day, _NO_BILLING, Patient("", "", "", day, "U"),
                          _NO_COVERAGE, _NO_PROVIDER, (),
                          therapy_to_date=_NO_THERAPY)
            claim = Claim(visit, tuple(grouped.get(cid, ())), Frequency(frequency), reference,
                          "" if key == visit_key else key)
            stored.append(StoredClaim(claim, str(cid), number, payers.get(payer, "")))
            out.statuses[cid] = status
        out.claims[key] = ClaimSet(tuple(stored))
        out.numbers[key] = tuple((s[2], s[7]) for s in (first, *heads))
