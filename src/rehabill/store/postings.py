"""``SqlPostingStore``: the database side of ``rehabill.ledger.PostingStore``.

The ledger computes postings (pure); this class finds the claims an 835 names and persists
what posting returns: the remittance row (the once-only guard), ledger entries, suspense items,
worklist items and claim status changes, in the caller's unit of work.

Posting twice cannot happen: the first ``save_posting`` of a trace key inserts the remittance
row (unique by originator + trace number). When another transaction holds or has committed the
same key, the insert is skipped and ``save_posting`` raises ``ConflictError``, so the caller's
unit of work rolls back everything it computed. Later saves of the same key by the same store
(``post_era`` saves a big payment in batches) add to the row it made.

``prepare_era`` does, in a read-only transaction before the posting one, all that does not
depend on what is posted already: it reads the claims, computes the postings and their ledger
rows. The posting transaction (``SqlPostingStore.adopt_era``, then
``ledger.store.save_era_plan``) checks those claims are still the newest, asks which payments
are posted already and saves the rest, so on SQLite the other writers wait for less.

Where several claims share a CLM01 (an original and its corrected or void claim), the ledger
chooses the one each CLP pays (``rehabill.ledger.posting.choose_claim``) and names an earlier
claim in its entries, worklist items and status changes by ``claim_ref``: here, its row id as
text (``books.claims_for_posting``); "" names the newest claim of the CLM01.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import chain
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rehabill.domain import Claim, ClaimStatus
from rehabill.errors import ConflictError
from rehabill.ledger import ClaimSet, Entry, EntryKind, EraRead, PostingResult
from rehabill.ledger.store import EraPlan, plan_read_era
from rehabill.store.batches import claim_ids_by_key
from rehabill.store.books import (
    PostingClaims,
    claims_for_posting,
    posting_heads,
)
from rehabill.store.bulk import chunked, ids_in, insert_all
from rehabill.store.claims import set_statuses
from rehabill.store.models import ClaimLineRow, SuspenseItemRow, WorklistItemRow, utcnow
from rehabill.store.remittances import (
    add_ledger_cells,
    add_ledger_rows,
    add_remittance,
    remittance_id,
)
from rehabill.x12.remit835 import ClaimPayment

_KIND_VALUES = {kind: kind.value for kind in EntryKind}


def split_trace_key(key: str) -> tuple[str, str]:
    """``"originator/trace"`` → (originator, trace); the ledger's ``trace_key`` format."""
    originator, _, trace = key.partition("/")
    return originator, trace


@dataclass(frozen=True, slots=True)
class PreparedEra:
    """An 835 made ready to post in a read-only transaction (``prepare_era``): the claims it
    names, its postings (``ledger.store.plan_read_era``) and their ledger rows but for the
    remittance row, which only the posting transaction makes."""

    keys: list[str]  # the CLM01s it names
    claims: PostingClaims
    plan: EraPlan
    cells: dict[int, list[tuple[Any, ...]]]  # id(a result of ``plan``) → its LEDGER_CELLS
    amounts_as_text: bool


def prepare_era(session: Session, read: EraRead) -> PreparedEra | None:
    """Read what posting ``read`` needs and compute what it can before the posting
    transaction, so the writer that holds the lock (SQLite has one) saves and checks only.

    None when ``read_era`` kept too little to know the claims without reading the file again
    (a very large file: its claims are read as it posts).
    """
    if read.refused is not None or read.kept is None:
        return None
    keys = sorted({item.claim_id for item in read.kept if isinstance(item, ClaimPayment)})
    claims = claims_for_posting(session, keys)
    known = claims.claims
    plan = plan_read_era(read, lambda wanted: {k: known[k] for k in wanted if k in known})
    if plan is None:
        return None
    as_text = session.get_bind().dialect.name == "sqlite"
    cells = {id(result): found for _, result, _ in plan.postings
             if (found := ledger_cells(result, claims, amounts_as_text=as_text)) is not None}
    return PreparedEra(keys, claims, plan, cells, as_text)


def ledger_cells(result: PostingResult, claims: PostingClaims, *, amounts_as_text: bool
                 ) -> list[tuple[Any, ...]] | None:
    """The result's entries as ``remittances.LEDGER_CELLS`` tuples (what ``_ledger_rows``
    makes, less the remittance and time); None when an entry names a claim ``claims``
    does not hold or an amount that is not a Decimal (the posting transaction makes those)."""
    rows, lines, kinds = claims.rows, claims.lines, _KIND_VALUES
    provider = EntryKind.PROVIDER_ADJUSTMENT
    out: list[tuple[Any, ...]] = []
    append = out.append
    last_source, trace, segment = None, "", 0  # an SVC's entries share their source
    for e in chain(result.entries, result.provider_entries):
        kind = e.kind
        claim = None
        if kind is not provider:
            ref = e.claim_ref
            claim = int(ref) if ref else rows.get(e.claim_id)
            if claim is None:
                return None
        line = e.line
        if line is not None:
            line = lines.get((claim, line)) if claim is not None else None
        amount = e.amount
        if type(amount) is not Decimal:
            return None
        remarks = e.remarks
        source = e.source
        if source is not last_source:
            last_source, trace, segment = source, source.trace_number, source.segment
        append((claim, line, kinds[kind], e.group, e.reason[:5],
                " ".join(remarks)[:60] if remarks else "", e.detail[:80],
                str(amount) if amounts_as_text else amount, trace, segment))
    return out


class SqlPostingStore:
    """A ``rehabill.ledger.PostingStore`` on a SQLAlchemy session (never commits)."""

    def __init__(self, session: Session, *, file_id: int | None = None,
                 actor: str = "") -> None:
        self.session = session
        self.file_id = file_id
        self.actor = actor
        self.claimed: dict[str, int] = {}  # trace key → remittance row made by this store
        self.claim_rows: dict[str, int] = {}  # claim key → newest claim's row id, as found
        self.line_rows: dict[tuple[int, int], int] = {}  # (claim row, line number) → row id
        self.lined: set[int] = set()  # claim rows whose line ids are in line_rows
        self.statuses: dict[int, str] = {}  # claim row → status, as read and as changed here
        self.adopted: dict[str, Claim | ClaimSet] = {}  # read before this unit of work
        self.adopted_keys: frozenset[str] = frozenset()  # CLM01s they answer for
        self.cells: dict[int, list[tuple[Any, ...]]] = {}  # prepared ledger rows by result
        self.amounts_as_text = False

    def adopt_era(self, prepared: PreparedEra) -> bool:
        """``adopt`` the claims ``prepare_era`` read, and with them its ledger rows (its plan
        is then saved with ``ledger.store.save_era_plan``); False when the claims changed."""
        if not self.adopt(prepared.keys, prepared.claims):
            return False
        self.cells = prepared.cells
        self.amounts_as_text = prepared.amounts_as_text
        return True

    def adopt(self, keys: Sequence[str], read: PostingClaims) -> bool:
        """Use claims read before this unit of work (``books.claims_for_posting`` of ``keys``
        in a read-only transaction) when they are still what the books hold; False when not
        (``find_claims`` then reads them here).

        A claim row and its lines never change once stored (only its status, batch and payer
        claim number do), so the claims read before are the claims read now unless the
        newest claim of a key changed (a corrected claim stored, a claim deleted) or, for a
        key with several claims, a payer claim number (which chooses among them) meanwhile.
        That is checked with one lookup by key (``books.posting_heads``), far cheaper than
        reading the claims, their visits and lines again while holding the write lock; the
        statuses it reads are the ones status changes start from.
        """
        newest, statuses, numbers = posting_heads(self.session, keys)
        if newest != read.rows or numbers != read.numbers:
            return False
        self.adopted = read.claims
        self.adopted_keys = frozenset(keys)
        self.claim_rows.update(read.rows)
        self.line_rows.update(read.lines)
        self.lined.update(read.statuses)
        self.statuses.update(statuses)
        return True

    def find_claims(self, claim_ids: Iterable[str]) -> Mapping[str, Claim | ClaimSet]:
        """The stored claim for each patient control number (CLM01) we know (a ``ClaimSet``
        where several share it).

        The claims carry their lines but only the visit's id and date
        (``books.claims_for_posting``): all the ledger reads. Keys ``adopt`` answers for are
        not read again.
        """
        wanted = list(claim_ids)
        if self.adopted_keys:
            adopted = self.adopted_keys
            rest = [key for key in wanted if key not in adopted]
            claims = {key: self.adopted[key] for key in wanted
                      if key in adopted and key in self.adopted}
            if rest:
                claims.update(self._read_claims(rest))
            return claims
        return self._read_claims(wanted)

    def _read_claims(self, claim_ids: Sequence[str]) -> Mapping[str, Claim | ClaimSet]:
        found = claims_for_posting(self.session, claim_ids)
        self.claim_rows.update(found.rows)
        self.line_rows.update(found.lines)
        self.lined.update(found.statuses)  # every claim read, earlier ones too
        self.statuses.update(found.statuses)
        return found.claims

    def is_posted(self, trace_key: str) -> bool:
        """True when this payer/trace number is stored (by anyone, this store included)."""
        return remittance_id(self.session, *split_trace_key(trace_key)) is not None

    def save_posting(self, result: PostingResult) -> None:
        """Persist a posting; the remittance row first, as the guard.

        Raises:
            ConflictError: another transaction posted (or is posting) this trace key.
        """
        remittance = self._remittance(result)
        cells = self.cells.get(id(result))
        named = {w.claim_id for w in result.worklist} | {s.claim_id for s in
                                                        result.status_changes}
        if cells is not None:  # prepared before the transaction (prepare_era)
            # Its entries' claims were all found then (``ledger_cells``): not looked up again.
            keys = self._claim_rows(named)
            add_ledger_cells(self.session, cells, remittance_id=remittance,
                             amounts_as_text=self.amounts_as_text)
        else:
            keys = self._claim_rows(named | {e.claim_id for e in result.entries})
            earlier = {int(e.claim_ref) for e in result.entries if e.claim_ref}
            lines = self._line_ids({*keys.values(), *earlier})
            add_ledger_rows(self.session, self._ledger_rows(
                (*result.entries, *result.provider_entries), remittance, keys, lines))
        self._suspense(result, remittance)
        self._worklist(result, keys)
        self._statuses(result, keys)

    def _remittance(self, result: PostingResult) -> int:
        if result.trace_key in self.claimed:
            return self.claimed[result.trace_key]
        originator, trace = split_trace_key(result.trace_key)
        paid = result.total_paid
        row_id = add_remittance(self.session, originator=originator, trace_number=trace,
                                payment_amount=paid, file_id=self.file_id)
        if row_id is None:
            raise ConflictError(f"payment {result.trace_key} is already posted",
                                location=result.trace_key)
        self.claimed[result.trace_key] = row_id
        return row_id

    def _claim_rows(self, claim_keys: set[str]) -> dict[str, int]:
        missing = sorted(k for k in claim_keys if k not in self.claim_rows)
        if missing:
            self.claim_rows.update(claim_ids_by_key(self.session, missing))
        return {k: self.claim_rows[k] for k in claim_keys if k in self.claim_rows}

    def _line_ids(self, claim_rows: Iterable[int]) -> dict[tuple[int, int], int]:
        """Line row ids of these claims: those ``find_claims`` read, the rest queried."""
        missing = sorted(set(claim_rows) - self.lined)
        for part in chunked(missing):
            query = select(ClaimLineRow.claim_id, ClaimLineRow.number, ClaimLineRow.id).where(
                ids_in(ClaimLineRow.claim_id, part))
            self.line_rows.update({(c, n): i for c, n, i in self.session.execute(query)})
        self.lined.update(missing)
        return self.line_rows

    def _ledger_rows(self, entries: Iterable[Entry], remittance: int, keys: Mapping[str, int],
                     lines: Mapping[tuple[int, int], int]) -> list[tuple[Any, ...]]:
        """The entries as ``remittances.LEDGER_ROW`` tuples (one tight loop: a big ERA posts
        hundreds of thousands)."""
        now = utcnow()
        provider = EntryKind.PROVIDER_ADJUSTMENT
        rows: list[tuple[Any, ...]] = []
        append = rows.append
        for e in entries:
            kind = e.kind
            ref = e.claim_ref
            claim = None if kind is provider else int(ref) if ref else keys.get(e.claim_id)
            line = e.line
            if line is not None:
                line = lines.get((claim, line)) if claim is not None else None
            remarks = e.remarks
            source = e.source
            append((claim, line, remittance, _KIND_VALUES[kind], e.group, e.reason[:5],
                    " ".join(remarks)[:60] if remarks else "", e.detail[:80], e.amount,
                    source.trace_number, source.segment, now))
        return rows

    def _suspense(self, result: PostingResult, remittance: int) -> None:
        now = utcnow()
        insert_all(self.session, SuspenseItemRow, [
            {"remittance_id": remittance, "file_id": self.file_id, "claim_key": s.claim_id,
             "amount": s.amount, "reason": s.reason, "trace_number": s.source.trace_number,
             "segment_number": s.source.segment, "status": "open", "created_at": now}
            for s in result.suspense])

    def _worklist(self, result: PostingResult, keys: Mapping[str, int]) -> None:
        now = utcnow()
        insert_all(self.session, WorklistItemRow, [
            {"claim_id": int(w.claim_ref) if w.claim_ref else keys[w.claim_id],
             "carc": w.reason[:5],
             "rarc": " ".join(code for code, _ in w.remarks)[:60],
             "reason": w.plain_reason or w.carc_text, "next_action": w.action.label,
             "assignee": "", "notes": "", "status": "open", "created_at": now,
             "updated_at": now}
            for w in result.worklist if w.claim_id in keys])

    def _statuses(self, result: PostingResult, keys: Mapping[str, int]) -> None:
        """Each claim's changes in the order the ERA gives them, each with its own reason
        (a change repeating the claim's previous one adds nothing)."""
        last: dict[int, ClaimStatus] = {}
        changes = []
        numbers: dict[int, str] = {}
        for change in result.status_changes:
            ref = change.claim_ref
            row = int(ref) if ref else keys.get(change.claim_id)
            if row is None:
                continue
            if change.payer_claim_number:
                numbers.setdefault(row, change.payer_claim_number)
            if last.get(row) is change.status:
                continue
            last[row] = change.status
            changes.append((row, change.status, f"ERA {result.trace_key}: {change.reason}"))
        # The statuses find_claims read (and earlier saves set) are not read again. With them,
        # the CLP07 of each claim paid that has no payer claim number yet (no 277CA gave
        # one): what a corrected claim's REF*F8 and a later CLP07 are matched against.
        set_statuses(self.session, changes, actor=self.actor, known=self.statuses,
                     missing_numbers=numbers)
        for row, status, _ in changes:
            if row in self.statuses:
                self.statuses[row] = status.value

