"""The billing cycle on the books: scrub, batch, acknowledgments, posting, corrections.

Each function is one use case in one unit of work (``services.uow.unit_of_work``) and returns
a frozen report with ``as_json()`` (amounts as decimal strings) and its findings. What payers
send back is idempotent: the same 999/277CA file twice is a no-op that says so, and an 835 is
posted once per payer + trace number (the store's guard), even by two processes at once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy.orm import Session, sessionmaker

from rehabill.domain import Claim, ClaimStatus, Finding, Frequency, Location, Severity
from rehabill.domain.collector import collector_paused
from rehabill.domain.findings import has_errors
from rehabill.domain.money import ZERO, format_amount
from rehabill.errors import ConflictError, InputError, NotFoundError, UsageError
from rehabill.forms.pdf import render_pdf
from rehabill.ledger import post_read_era, read_era
from rehabill.ledger.store import save_era_plan
from rehabill.rules import RuleContext, ScrubSettings, scrub
from rehabill.rules.policy import Policy
from rehabill.services import scrubbing
from rehabill.services.scrubbing import default_settings
from rehabill.services.uow import reading, unit_of_work
from rehabill.store import batches as store_batches
from rehabill.store import books, mapping, people
from rehabill.store import claims as store_claims
from rehabill.store import files as store_files
from rehabill.store import views as store_views
from rehabill.store import visits as store_visits
from rehabill.store.bulk import CHUNK
from rehabill.store.files import ControlNumbers
from rehabill.store.models import utcnow
from rehabill.store.postings import SqlPostingStore, prepare_era
from rehabill.store.remittances import add_ledger_entries, payer_row_id
from rehabill.x12 import ack277, ack277_scan, ack999
from rehabill.x12.envelope import split_transactions
from rehabill.x12.p837 import BatchSettings, check_claim, envelope_837p, write_837p
from rehabill.x12.status import AckOutcome, StatusUpdate, choose_answered
from rehabill.x12.tokens import tokenize

Factory = sessionmaker[Session]
Progress = Callable[[int, int], None]
CLAIMS_PER_TRANSACTION = 5000  # 005010X222A1 recommendation


def _findings_json(findings: Sequence[Finding]) -> list[dict[str, object]]:
    return [f.as_dict() for f in findings]


# ---------------------------------------------------------------------------------- scrub


@dataclass(frozen=True, slots=True)
class ScrubReport:
    """What ``scrub_stored_claims`` did: claims coded, scrubbed clean, held."""

    coded: int
    scrubbed: tuple[str, ...]
    held: tuple[str, ...]
    findings: tuple[Finding, ...] = ()

    @property
    def exit_code(self) -> int:
        """0 when nothing was held, 1 when any claim was (DESIGN.md scrub exit codes)."""
        return 1 if self.held else 0

    def as_json(self) -> dict[str, object]:
        """JSON for scripts and the web app."""
        return {"coded": self.coded, "scrubbed": len(self.scrubbed), "held": list(self.held),
                "findings": _findings_json(self.findings)}


def scrub_stored_claims(factory: Factory, *, today: date, policy: Policy | None = None,
                        visit_keys: Sequence[str] | None = None, actor: str = "",
                        on_progress: Progress | None = None) -> ScrubReport:
    """Code stored visits that have no claim, scrub them and every draft claim, store results.

    Each visit is coded under its payer's policy (the scrubber's coder), checked by every
    scrubber rule and the 837P guide's checks, and its claim stored as ``scrubbed`` (no error
    finding) or ``held``, with the findings (stage "scrub"). Draft claims already stored
    (coded elsewhere, or corrected claims) are scrubbed as they are.

    Args:
        factory: the books' session factory.
        today: the date claims would be sent (timely filing).
        policy: a payer policy overriding the shipped one for its plans.
        visit_keys: only these visits (default: all).
        actor: who scrubs (status history).
        on_progress: called with (visits done, visits to do).

    Returns:
        The report: counts, held claim ids and every error or warning finding.
    """
    with collector_paused():
        return _scrub_stored(factory, today, policy, visit_keys, actor, on_progress)


#: Below this many visits to code, a scrub runs in this process alone (sending work to the
#: helper process costs more than it saves).
PARALLEL_SCRUB = 1_000
#: Pieces each part of a scrub is cut into (whole days) to share with the helper.
PIECES = 8


def _scrub_stored(factory: Factory, today: date, policy: Policy | None,
                  visit_keys: Sequence[str] | None, actor: str,
                  on_progress: Progress | None) -> ScrubReport:
    settings = default_settings(today, policy)
    with unit_of_work(factory) as session:
        todo = store_visits.visit_ids_without_claims(session, visit_keys)
        # an explicit policy serves every plan; otherwise each payer's chosen one, if any
        chosen = {} if policy is not None else store_views.payer_policies(session)
        by_payer = payer_settings(settings, chosen)
        helper = scrubbing.helper_for(factory, len(todo), PARALLEL_SCRUB)
        days = store_visits.visit_days(session, todo) if helper is not None else {}
        # the run's pieces in this process share the parents they read (patients, coverages
        # and providers repeat visit after visit); the helper keeps its own for the run
        memo = store_visits.VisitMemo(session.get_bind().dialect)
    run = scrubbing.new_run()
    scrubbed: list[str] = []
    held: list[str] = []
    findings: list[Finding] = []
    parts = [todo[start:start + CHUNK] for start in range(0, len(todo), CHUNK)]
    # Every part's pieces go to the helper at once: it works ahead while this process writes.
    shares = [scrubbing.share_out(helper, [
        (piece, today, policy, chosen, run)
        for piece in (scrubbing.pieces_by_day(part, days, PIECES) if helper else [part])],
        _code_here, scrubbing.code_in_helper) for part in parts]
    done = 0
    for part, results in zip(parts, shares, strict=True):
        # this process's share is read and scrubbed before the part's unit of work, so a
        # second writer of the same SQLite books (the cycle's clerk) waits only for the rows
        with reading(factory) as session:
            coded = [item for piece in results(session, settings, by_payer, memo)
                     for item in piece]
        with unit_of_work(factory) as session:
            _scrub_new(session, part, coded, actor, scrubbed, held, findings)
        done += len(part)
        if on_progress is not None:
            on_progress(done, len(todo))
    coded_count = len(scrubbed) + len(held)
    with unit_of_work(factory) as session:
        _scrub_drafts(session, settings, by_payer, actor, scrubbed, held, findings, visit_keys)
    return ScrubReport(coded_count, tuple(scrubbed), tuple(held), tuple(findings))


def _code_here(session: Session, settings: ScrubSettings,
               by_payer: Mapping[str, ScrubSettings], memo: store_visits.VisitMemo,
               ids: list[int], *_: object) -> list[scrubbing.Coded]:
    return scrubbing.code_stored(session, ids, settings, by_payer, memo)


def payer_settings(settings: ScrubSettings, chosen: Mapping[str, str]
                   ) -> dict[str, ScrubSettings]:
    """Settings per payer id for the payers whose policy the practice chose (admin page);
    see ``scrubbing.payer_settings``."""
    return scrubbing.payer_settings(settings, chosen)


def _scrub_new(session: Session, part: Sequence[int], coded: Sequence[scrubbing.Coded],
               actor: str, scrubbed: list[str], held: list[str],
               findings: list[Finding]) -> None:
    """Store a part's coded claims in the order one process scrubbing the part makes them."""
    new: list[store_claims.CodedClaim] = []
    for item in scrubbing.in_scrub_order(part, coded):
        if item.claim is None:
            held.append(item.visit_key)
            findings.extend(item.findings)
            continue
        bad = item.claim.status is ClaimStatus.HELD
        (held if bad else scrubbed).append(item.claim_key)
        findings.extend(f for f in item.claim.findings if f.severity is not Severity.INFO)
        new.append(item.claim)
    store_claims.save_coded_claims(session, new, actor=actor, stage="scrub")


def _scrub_drafts(session: Session, settings: ScrubSettings,
                  by_payer: Mapping[str, ScrubSettings], actor: str, scrubbed: list[str],
                  held: list[str], findings: list[Finding],
                  visit_keys: Sequence[str] | None) -> None:
    ids = store_claims.claim_ids_by_status(session, ClaimStatus.DRAFT)
    claims = store_claims.load_claims(session, ids)
    wanted = set(visit_keys) if visit_keys is not None else None
    good: list[int] = []
    bad: list[int] = []
    for claim_id, claim in claims.items():
        if wanted is not None and claim.visit.visit_id not in wanted:
            continue
        found = scrub_claim(claim, by_payer.get(claim.visit.coverage.payer_id, settings))
        store_claims.add_findings(session, [(claim_id, f) for f in found], stage="scrub")
        findings.extend(f for f in found if f.severity is not Severity.INFO)
        (bad if has_errors(found) else good).append(claim_id)
        (held if has_errors(found) else scrubbed).append(claim.claim_id)
    store_claims.set_status(session, good, ClaimStatus.SCRUBBED, actor=actor, note="scrubbed")
    store_claims.set_status(session, bad, ClaimStatus.HELD, actor=actor, note="scrub errors")


def scrub_claim(claim: Claim, settings: ScrubSettings) -> list[Finding]:
    """Every scrubber rule and the 837P checks on a claim as it is stored (not recoded)."""
    policy, fallback = settings.policies.for_plan(claim.visit.coverage.plan)
    ctx = RuleContext(settings.reference, policy, settings.today, claim, settings.icd,
                      fallback)
    found = list(scrub(claim.visit, ctx))
    seen = {f.location.field for f in found if f.is_error}
    found.extend(f for f in check_claim(claim) if f.location.field not in seen)
    return found


# ---------------------------------------------------------------------------------- batch


@dataclass(frozen=True, slots=True)
class SubmitterSettings:
    """Who we are and whom we send to, for the 837P envelope (defaults: the practice)."""

    submitter_name: str = ""
    submitter_id: str = ""
    receiver_name: str = "CLEARINGHOUSE"
    receiver_id: str = "CLEARINGHOUSE"
    contact_name: str = "BILLING"
    contact_phone: str = "0000000000"
    contact_email: str = ""


@dataclass(frozen=True, slots=True)
class BatchFile:
    """One file written into the outbox."""

    batch_id: int
    payer_id: str
    path: str
    claims: int
    total_charge: Decimal
    interchange_control_number: int
    group_control_number: int

    def as_json(self) -> dict[str, object]:
        """JSON for scripts."""
        return {"batch_id": self.batch_id, "payer_id": self.payer_id, "path": self.path,
                "claims": self.claims, "total_charge": format_amount(self.total_charge),
                "interchange_control_number": self.interchange_control_number,
                "group_control_number": self.group_control_number}


@dataclass(frozen=True, slots=True)
class BatchReport:
    """What ``build_batch`` wrote."""

    kind: str
    files: tuple[BatchFile, ...]
    skipped: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()

    @property
    def claims(self) -> int:
        """Claims batched."""
        return sum(f.claims for f in self.files)

    def as_json(self) -> dict[str, object]:
        """JSON for scripts."""
        return {"kind": self.kind, "claims": self.claims,
                "files": [f.as_json() for f in self.files], "skipped": list(self.skipped),
                "findings": _findings_json(self.findings)}


def build_batch(factory: Factory, *, outbox: Path, today: date, kind: str = "837P",
                claim_ids: Sequence[int] | None = None, production: bool = False,
                submitter: SubmitterSettings | None = None, actor: str = "") -> BatchReport:
    """Write the scrubbed claims (or the given ones) into the outbox and mark them ``batched``.

    One 837P interchange per payer (control numbers from the store's persistent counter,
    written to a temporary file and renamed into place) or one CMS-1500 PDF per payer. Claims
    that are not ``scrubbed`` are skipped and named.

    Args:
        factory: the books' session factory.
        outbox: the folder the files go to (created when missing).
        today: the batch date (file names).
        kind: "837P" or "CMS-1500".
        claim_ids: only these claims (default: every scrubbed claim).
        production: ISA15 "P" instead of "T".
        submitter: envelope details (default: the practice as submitter).
        actor: who made the batch.

    Returns:
        The files written and the claims skipped.

    Raises:
        UsageError: for an unknown kind.
    """
    kind = _batch_kind(kind)
    outbox.mkdir(parents=True, exist_ok=True)
    submitter = submitter or SubmitterSettings()
    order = _Order(outbox, today, kind, claim_ids, production, submitter)
    with collector_paused():
        for _ in range(DRAFTS):
            with ExitStack() as cleanup:
                # the files are written from a read-only transaction: a second writer of the
                # same SQLite books (the cycle's clerk) waits only while the batches are made
                with reading(factory) as session:
                    draft = _draft(factory, session, order, cleanup, lock=False)
                try:
                    with unit_of_work(factory) as session:
                        return _make(session, draft, kind, actor)
                except store_batches.BatchChanged:
                    continue  # another batch or a claim moved meanwhile: read again
        with ExitStack() as cleanup, unit_of_work(factory) as session:
            draft = _draft(factory, session, order, cleanup, lock=True)
            try:
                return _make(session, draft, kind, actor)
            except store_batches.BatchChanged as exc:
                raise ConflictError(f"the books changed while the batch was made ({exc}); "
                                    "run it again") from None


#: How often a batch is written outside the write transaction before it is made inside it
#: (when other batches or claim changes keep landing in between).
DRAFTS = 2


@dataclass(frozen=True, slots=True)
class _Order:
    """What ``build_batch`` was asked for."""

    outbox: Path
    today: date
    kind: str
    claim_ids: Sequence[int] | None
    production: bool
    submitter: SubmitterSettings


@dataclass(frozen=True, slots=True)
class _Draft:
    """Batch files written (to temporary paths) with the control numbers forecast for them,
    before the transaction that makes the batches."""

    pending: list[_Pending]
    skipped: list[str]


def _draft(factory: Factory, session: Session, order: _Order, cleanup: ExitStack, *,
           lock: bool) -> _Draft:
    """Choose the claims, forecast each payer's control numbers and write its file."""
    ready = store_claims.claim_ids_by_status(session, ClaimStatus.SCRUBBED)
    chosen, skipped = _choose(session, ready, order.claim_ids)
    plan = _plan(session, chosen)
    helper = scrubbing.helper_for(factory, len(chosen), PARALLEL_BATCH) \
        if order.kind == "837P" else None
    forecast = store_files.ControlNumberForecast(session, lock=lock)
    pending = [_prepare(session, forecast, order, payer_id, entries, cleanup)
               for payer_id, entries in plan]
    pieces = [(i, piece) for i, p in enumerate(pending) for piece in _pieces(p, cleanup)]
    if helper is not None and len(pieces) < 2:
        helper = None
    # the biggest pieces first: the helper writes from the front, this process from the back
    pieces.sort(key=lambda item: -len(item[1].ids))
    if helper is not None:  # it builds its first piece's claims while the rest is set up
        helper.submit(_build_claims, pieces[0][1].ids)
    totals = scrubbing.share_out(helper, [piece for _, piece in pieces],
                                 _write_file, _write_837p_file)(session)
    for (i, piece), total in zip(pieces, totals, strict=True):
        pending[i].total += total
        if not piece.envelope and piece.settings is not None:
            pending[i].sets.append((piece.settings.first_transaction_number, piece.tmp))
    for p in pending:
        _enclose(p)
    return _Draft(pending, skipped)


class _Piece(NamedTuple):
    """A share of a batch's file to write: the whole file, or one transaction set of it
    (``envelope`` False: ST to SE only, put in its interchange by ``_enclose``)."""

    ids: list[int]
    settings: BatchSettings | None  # None for a CMS-1500 PDF
    tmp: Path
    envelope: bool


def _pieces(p: _Pending, cleanup: ExitStack) -> list[_Piece]:
    """A batch's file as pieces for two processes: an 837P of several transaction sets
    (a big payer's month: 5,000 claims a set) one piece per set, else the whole file."""
    settings = p.settings
    if settings is None or p.transactions < 2:
        return [_Piece(p.ids, settings, p.tmp, True)]
    per_set = settings.claims_per_transaction
    return [_Piece(p.ids[start:start + per_set],
                   replace(settings, first_transaction_number=p.numbers.first_transaction + k),
                   cleanup.enter_context(_temporary(p.path)), False)
            for k, start in enumerate(range(0, len(p.ids), per_set))]


def _enclose(p: _Pending) -> None:
    """A batch written set by set: its sets, in their order, put in its interchange
    (``envelope_837p``), which makes the file one writer of all its claims makes."""
    if not p.sets or p.settings is None:
        return
    head, tail = envelope_837p(p.settings, p.transactions)
    with p.tmp.open("w", encoding="utf-8") as out:
        out.write(head)
    with p.tmp.open("ab") as out:
        for _, part in sorted(p.sets):
            with part.open("rb") as piece:
                shutil.copyfileobj(piece, out, 1 << 20)
    with p.tmp.open("a", encoding="utf-8") as out:
        out.write(tail)


def _make(session: Session, draft: _Draft, kind: str, actor: str) -> BatchReport:
    """Make the drafted batches in the books (claims ``batched``, the forecast control
    numbers taken) and put their files in place.

    Raises:
        store_batches.BatchChanged: the numbers or the claims moved since the draft.
    """
    for p in draft.pending:
        p.batch = store_batches.create_batch(
            session, kind=kind, submitter_id=p.submitter_id, claim_ids=p.ids,
            payer_id=p.payer_row, transactions=p.transactions, actor=actor, expect=p.numbers)
    files = [_record_batch(session, p, kind, actor) for p in draft.pending]
    return BatchReport(kind, tuple(files), tuple(draft.skipped))


#: Below this many claims a batch is written in this process alone.
PARALLEL_BATCH = 1_000


def _plan(session: Session, chosen: Sequence[int]
          ) -> list[tuple[str, list[store_batches.BatchEntry]]]:
    """The claims by payer (payers sorted), each payer's in 837P grouping order."""
    entries = store_batches.batch_entries(session, chosen)
    by_payer: dict[str, list[store_batches.BatchEntry]] = {}
    for cid in chosen:
        entry = entries[cid]
        by_payer.setdefault(entry.payer_key, []).append(entry)
    for group in by_payer.values():
        group.sort(key=lambda entry: entry.grouping_key)
    return sorted(by_payer.items())


def _batch_kind(kind: str) -> str:
    normal = kind.upper().replace("_", "-")
    if normal in ("837P", "837"):
        return "837P"
    if normal in ("CMS1500", "CMS-1500", "1500"):
        return "CMS-1500"
    raise UsageError(f"batch kind must be 837p or cms1500, not {kind!r}")


def _choose(session: Session, ready: list[int], wanted: Sequence[int] | None
            ) -> tuple[list[int], list[str]]:
    if wanted is None:
        return ready, []
    ok = set(ready)
    statuses = books.claim_statuses(session, list(wanted))
    skipped = [f"{cid}: {statuses.get(cid, 'not found')}" for cid in wanted if cid not in ok]
    return [cid for cid in wanted if cid in ok], skipped


@dataclass(slots=True)
class _Pending:
    """A payer's batch: its file (written to ``tmp`` first), then its rows in the books."""

    payer_id: str
    payer_row: int | None
    submitter_id: str
    ids: list[int]
    transactions: int
    numbers: ControlNumbers
    path: Path
    tmp: Path
    settings: BatchSettings | None  # None for a CMS-1500 PDF
    total: Decimal = ZERO
    batch: store_batches.NewBatch | None = None  # once made
    #: its transaction sets written apart (first ST02, temporary path), when it has several
    sets: list[tuple[int, Path]] = field(default_factory=list)


def _prepare(session: Session, forecast: store_files.ControlNumberForecast, order: _Order,
             payer_id: str, entries: list[store_batches.BatchEntry],
             cleanup: ExitStack) -> _Pending:
    """The payer's batch as its file will carry it (the control numbers it will take) and
    what writing the file needs."""
    ids = [entry.claim_id for entry in entries]
    submitter = order.submitter
    submitter_id = submitter.submitter_id or entries[0].practice_npi
    transactions = -(-len(ids) // CLAIMS_PER_TRANSACTION) if order.kind == "837P" else 1
    numbers = forecast.next(submitter_id, transactions=transactions)
    stem = f"{order.today:%Y%m%d}-{_safe(payer_id)}-{numbers.interchange:09d}"
    settings = None
    if order.kind == "837P":
        per_set = max(1, -(-len(ids) // transactions))
        settings = BatchSettings(
            submitter_name=(submitter.submitter_name or entries[0].practice_name).upper(),
            submitter_id=submitter_id, receiver_name=submitter.receiver_name,
            receiver_id=submitter.receiver_id,
            interchange_control_number=numbers.interchange,
            group_control_number=numbers.group,
            first_transaction_number=numbers.first_transaction,
            created=datetime.now(), contact_name=submitter.contact_name,
            contact_phone=submitter.contact_phone, contact_email=submitter.contact_email,
            production=order.production, claims_per_transaction=per_set)
    path = order.outbox / f"{stem}.{'837' if order.kind == '837P' else 'pdf'}"
    tmp = cleanup.enter_context(_temporary(path))
    return _Pending(payer_id, payer_row_id(session, payer_id), submitter_id, ids,
                    transactions, numbers, path, tmp, settings)


def _write_file(session: Session, ids: list[int], settings: BatchSettings | None,
                tmp: Path, envelope: bool = True,
                built: Mapping[int, Claim] | None = None) -> Decimal:
    """Build the claims (in file order; ``built`` when given) and write their 837P (or
    CMS-1500 PDF when ``settings`` is None) to ``tmp``, only the transaction sets when
    ``envelope`` is False; their total charge."""
    claims = built if built is not None else store_batches.load_batch_claims(session, ids)
    ordered = [claims[cid] for cid in ids]
    if settings is None:
        tmp.write_bytes(render_pdf(ordered))
        return sum((c.total_charge for c in ordered), ZERO)
    with tmp.open("w", encoding="utf-8") as handle:
        summary = write_837p(ordered, settings, handle.write, envelope=envelope)
    # the writer summed the same claims' charges; ZERO + keeps the sum's cents ("0.00")
    return ZERO + summary.total_charge


#: In the helper process: claims built ahead of their file, by their ids in file order.
_BUILT: dict[tuple[int, ...], dict[int, Claim]] = {}


def _build_claims(factory: Factory, ids: list[int]) -> None:
    """In the helper process: build claims whose file comes next (nothing is sent back)."""
    _BUILT.clear()
    with unit_of_work(factory) as session:
        _BUILT[tuple(ids)] = store_batches.load_batch_claims(session, ids)


def _write_837p_file(factory: Factory, ids: list[int], settings: BatchSettings | None,
                     tmp: Path, envelope: bool = True) -> Decimal:
    """``_write_file`` in the helper process (the claims are committed: scrubbed earlier),
    with the claims ``_build_claims`` built ahead when they are these."""
    built = _BUILT.pop(tuple(ids), None)
    with unit_of_work(factory) as session:
        return _write_file(session, ids, settings, tmp, envelope, built)


def _record_batch(session: Session, p: _Pending, kind: str, actor: str) -> BatchFile:
    """The written file put in place and recorded (the files table, the audit trail)."""
    batch = p.batch
    if batch is None:
        raise ValueError("the batch is not made yet")
    os.replace(p.tmp, p.path)
    data = p.path.read_bytes()
    store_files.add_file(session, direction="out", kind=kind, path=str(p.path),
                         sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                         batch_id=batch.id,
                         interchange_control_number=str(batch.interchange_control_number))
    people.record_event(session, actor=actor, action="batch", entity="batch",
                        entity_id=str(batch.id), detail={"kind": kind, "claims": len(p.ids),
                                                         "path": str(p.path)})
    return BatchFile(batch.id, p.payer_id, str(p.path), len(p.ids), p.total,
                     batch.interchange_control_number, batch.group_control_number)


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text) or "payer"


@contextmanager
def _temporary(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` (for its content until it is renamed into place),
    removed when it is still there at the end of the block."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        yield Path(tmp)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# ------------------------------------------------------------------------ acknowledgments


@dataclass(frozen=True, slots=True)
class AckReport:
    """What ``read_acknowledgments`` applied."""

    path: str
    kind: str
    already_read: bool = False
    accepted: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()
    unmatched: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()

    @property
    def exit_code(self) -> int:
        """1 when the file had error findings (nothing applied), else 0."""
        return 1 if has_errors(self.findings) else 0

    def as_json(self) -> dict[str, object]:
        """JSON for scripts."""
        return {"file": self.path, "kind": self.kind, "already_read": self.already_read,
                "accepted": len(self.accepted), "rejected": list(self.rejected),
                "unmatched": list(self.unmatched), "findings": _findings_json(self.findings)}


def read_acknowledgments(factory: Factory, path: Path, *, actor: str = "") -> AckReport:
    """Apply a 999 or 277CA file: claims ``accepted`` or ``rejected``, rejections worklisted.

    A file with envelope or structure errors is refused whole (nothing applied); the same file
    (same content) read twice is a no-op that says so.

    Raises:
        InputError: the file cannot be read, has no usable ISA, or holds no 999/277CA.
    """
    data, sha = _read(path)
    with reading(factory) as session:  # a look, not a write: no write lock taken
        seen = store_files.find_file(session, "in", sha)
    if seen is not None:
        _same_kind(path, seen, ("999", "277CA"))
        return AckReport(str(path), seen.kind, True, findings=(_already(path, seen),))
    with collector_paused():
        return _read_acknowledgments(factory, path, data, sha, actor)


def _read_acknowledgments(factory: Factory, path: Path, data: bytes, sha: str,
                          actor: str) -> AckReport:
    text = data.decode("utf-8", errors="replace")
    kind, updates, envelope, found = _read_answers(text, path)
    problems = list(dict.fromkeys([*envelope, *found]))
    if has_errors(problems):
        return AckReport(str(path), kind, findings=(_refused(path, problems), *problems))
    if not kind:
        raise InputError("the file holds no 999 or 277CA", location=str(path))
    with unit_of_work(factory) as session:
        file_id = store_files.add_file(session, direction="in", kind=kind, path=str(path),
                                       sha256=sha, size=len(data))
        if file_id is None:
            return AckReport(str(path), kind, True)
        return _apply_updates(session, path, kind, file_id, updates, problems, actor)


def _read_answers(text: str, path: Path) -> tuple[str, Sequence[StatusUpdate],
                                                  Sequence[Finding], Sequence[Finding]]:
    """The kind ("999", "277CA" or "" for neither), the status updates, the envelope's
    findings and the transaction sets' findings of a 999 or 277CA file.

    A file of 277CAs is scanned for its claim levels alone (``ack277_scan``: the same updates
    and findings, at about a quarter of the readers' cost); any other goes through them.

    Raises:
        InputError: the file has no usable ISA.
    """
    scan = ack277_scan.scan_277ca(text, str(path))
    if scan is not None:
        return ("277CA" if scan.transactions else ""), scan.updates, scan.envelope_findings, \
            scan.findings
    delimiters, segments, envelope = tokenize(text, str(path))
    if delimiters is None:
        raise InputError("not an X12 file (no usable ISA header)", location=str(path))
    updates: list[StatusUpdate] = []
    found: list[Finding] = []
    kind = ""
    for txn in split_transactions(segments, envelope, str(path)):
        if txn.set_id == "999":
            a9 = ack999.read_transaction(txn, delimiters, str(path))
            kind = "999"
            found.extend(a9.findings)
            updates.extend(a9.status_updates())
        elif txn.set_id == "277":
            a2 = ack277.read_transaction(txn, delimiters, str(path))
            kind = "277CA"
            found.extend(a2.findings)
            updates.extend(a2.status_updates())
    return kind, updates, envelope, found


def _read(path: Path) -> tuple[bytes, str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", location=str(path)) from None
    return data, hashlib.sha256(data).hexdigest()


def _same_kind(path: Path, seen: store_files.StoredFile, kinds: tuple[str, ...]) -> None:
    """A file read before as something else (visits, another X12 kind) is unusable here."""
    if seen.kind not in kinds:
        raise InputError(f"this file was read before as {seen.kind}, not as "
                         f"{' or '.join(kinds)}", location=str(path))


def _already(path: Path, seen: store_files.StoredFile) -> Finding:
    return Finding("books.file_already_read", Severity.INFO,
                   f"This file (same content) was already read at {seen.created_at}; "
                   "nothing changed.", Location(file=str(path)), "Nothing to do.")


def _refused(path: Path, problems: Sequence[Finding]) -> Finding:
    first = next(f for f in problems if f.is_error)
    return Finding("books.file_refused", Severity.ERROR,
                   f"{path.name} has {sum(1 for f in problems if f.is_error)} error "
                   f"finding(s) (first: {first.code}); nothing was applied.",
                   Location(file=str(path)), "Ask the sender for a corrected file.")


ACKABLE = {
    "999": frozenset({"batched", "accepted"}),
    "277CA": frozenset({"batched", "accepted", "rejected"}),
}


#: Each outcome's claim status, looked up (the property costs two enum comparisons an update).
_CLAIM_STATUS = {outcome: outcome.claim_status for outcome in AckOutcome}


def _apply_updates(session: Session, path: Path, kind: str, file_id: int,
                   updates: Sequence[StatusUpdate], findings: Sequence[Finding],
                   actor: str) -> AckReport:
    """Apply every update in bulk: one lookup of the claims, one status change per outcome,
    one insert of the rejections' findings and worklist items."""
    current: dict[int, str] = {}
    resolved = _resolve(session, updates, current)
    before = dict(current)
    accepted: list[str] = []
    rejected: list[str] = []
    unmatched: list[str] = []
    ack_rows: list[tuple[Any, ...]] = []
    moves: dict[tuple[ClaimStatus, str], list[int]] = {}
    numbers: dict[int, str] = {}
    rejections: list[tuple[list[int], StatusUpdate]] = []
    ackable = ACKABLE[kind]
    now = utcnow()
    for update, (targets, batch_id, label) in zip(updates, resolved, strict=True):
        if not targets:
            unmatched.append(label)
            continue
        status = _CLAIM_STATUS[update.outcome]
        ack_rows.extend(_ack_rows(file_id, kind, update, targets, batch_id, status, now))
        if update.payer_claim_number:
            numbers.update(dict.fromkeys(targets, update.payer_claim_number))
        if status is None:
            continue
        value = status.value
        movable = [cid for cid in targets
                   if (was := current.get(cid)) in ackable and was != value]
        if not movable:
            continue
        current.update(dict.fromkeys(movable, value))
        moves.setdefault((status, update.outcome.value), []).extend(movable)
        if status is ClaimStatus.REJECTED:
            rejected.extend(targets[c] for c in movable)
            rejections.append((movable, update))
        else:
            accepted.extend(targets[c] for c in movable)
    _worklist_rejections(session, kind, rejections)
    store_claims.set_statuses(session, [
        (cid, status, f"{kind} {path.name}: {outcome}")
        for (status, outcome), claim_ids in moves.items() for cid in claim_ids],
        actor=actor, known=before)
    books.set_payer_claim_numbers(session, numbers)
    books.add_acknowledgment_rows(session, ack_rows)
    people.record_event(session, actor=actor, action="read_ack", entity="file",
                        entity_id=str(file_id), detail={"kind": kind, "path": str(path),
                                                        "accepted": len(accepted),
                                                        "rejected": len(rejected)})
    return AckReport(str(path), kind, False, tuple(accepted), tuple(rejected),
                     tuple(unmatched), tuple(findings))


Resolved = tuple[dict[int, str], int | None, str]


def _resolve(session: Session, updates: Sequence[StatusUpdate],
             statuses: dict[int, str]) -> list[Resolved]:
    """The claims each update speaks for: ({claim row id: CLM01}, batch, label).

    A 277CA names a claim by its CLM01; where several claims share it, the one it answers
    is chosen by ``x12.status.choose_answered`` (its REF*1K, STC04 and the claims' state),
    from the one read of every key's claims. ``statuses`` receives the current status of
    every claim found (read with them).
    """
    keys = sorted({u.claim_id for u in updates if u.source != "999" and u.claim_id})
    by_key, several = books.claims_for_acks(session, keys)
    out: list[Resolved] = []
    sets: dict[tuple[int, str], list[tuple[int, str, str]]] = {}
    batches: dict[int, list[tuple[int, str, str, str]]] = {}
    groups: dict[str, int | None] = {}  # GS06 → batch (a 999 answers a group's sets)
    for update in updates:
        if update.source != "999":
            found = by_key.get(update.claim_id)
            if several and update.claim_id in several:  # an original and its correction...
                chosen = choose_answered(update, several[update.claim_id])
                found = (chosen.ref, chosen.status)
            if found is not None:
                statuses[found[0]] = found[1]
            out.append(({found[0]: update.claim_id} if found is not None else {}, None,
                        update.claim_id))
            continue
        group = update.group_control_number
        if group not in groups:
            groups[group] = books.batch_by_group_number(session, group)
        batch_id = groups[group]
        label = f"GS06 {update.group_control_number} ST02 {update.set_control_number}"
        if batch_id is None:
            out.append(({}, None, label))
            continue
        wanted = (batch_id, update.set_control_number)
        if wanted not in sets:
            if batch_id not in batches:  # each set of a batch is read from one query
                batches[batch_id] = books.batch_claims(session, batch_id)
            sets[wanted] = books.claims_of_set(batches[batch_id], update.set_control_number)
        statuses.update((cid, status) for cid, _, status in sets[wanted])
        out.append(({cid: key for cid, key, _ in sets[wanted]}, batch_id, label))
    return out


def _ack_rows(file_id: int, kind: str, update: StatusUpdate, targets: dict[int, str],
              batch_id: int | None, status: ClaimStatus | None, now: datetime
              ) -> list[tuple[Any, ...]]:
    """The update's ``acknowledgments`` rows, in ``books.ACK_ROW`` order: one per 999 set,
    one per claim of a 277CA."""
    accepted = status is not ClaimStatus.REJECTED
    code = " ".join(update.codes)[:10] or update.outcome.value[:10]
    message = "; ".join(update.reasons)
    if kind == "999":
        return [(file_id, kind, batch_id, None, update.set_control_number, code, accepted,
                 message, now)]
    number = update.payer_claim_number
    return [(file_id, kind, None, cid, number, code, accepted, message, now)
            for cid in targets]


def _worklist_rejections(session: Session, kind: str,
                         rejections: Sequence[tuple[Sequence[int], StatusUpdate]]) -> None:
    """A finding and a worklist item for each rejected claim, in one insert each (a file
    with many rejections costs two statements, not two per rejection)."""
    if not rejections:
        return
    findings: list[tuple[int | None, Finding]] = []
    items: list[tuple[int, str]] = []
    for claim_ids, update in rejections:
        reason = "; ".join(update.reasons) or f"rejected by the {kind}"
        finding = Finding(f"ack.{kind.lower()}_rejected", Severity.ERROR,
                          f"The {kind} rejected the claim: {reason}",
                          Location(claim_id=update.claim_id), "Correct and resubmit.")
        findings.extend((cid, finding) for cid in claim_ids)
        items.extend((cid, f"{kind} rejection: {reason}") for cid in claim_ids)
    store_claims.add_findings(session, findings, stage="ack")
    people.add_worklist_items(session, items,
                              next_action="correct the claim and send it again")


# ----------------------------------------------------------------------------- remittance


@dataclass(frozen=True, slots=True)
class PostReport:
    """What ``post_remittance`` posted."""

    path: str
    already_read: bool = False
    refused: bool = False
    posted_traces: tuple[str, ...] = ()
    duplicate_traces: tuple[str, ...] = ()
    claims: int = 0
    suspense: int = 0
    worklist: int = 0
    findings: tuple[Finding, ...] = ()

    @property
    def exit_code(self) -> int:
        """1 when the file was refused (error findings), else 0."""
        return 1 if self.refused else 0

    def as_json(self) -> dict[str, object]:
        """JSON for scripts."""
        return {"file": self.path, "already_read": self.already_read, "refused": self.refused,
                "posted_traces": list(self.posted_traces),
                "duplicate_traces": list(self.duplicate_traces), "claims": self.claims,
                "suspense": self.suspense, "worklist": self.worklist,
                "findings": _findings_json(self.findings)}


class _Refused(Exception):
    """Rolls the unit of work back when post_era refused the file."""


def post_remittance(factory: Factory, path: Path, *, actor: str = "") -> PostReport:
    """Post an 835 file: ledger entries, suspense, worklist, claim statuses.

    Idempotent by payer + trace number (TRN03/TRN02): the same payment in any file posts
    once; the same file twice is a no-op that says so. A file with any envelope or payment
    error is refused whole. Two processes posting the same file at once cannot double-post
    (the second gets ``duplicate_traces``).

    Raises:
        InputError: the file cannot be read or has no usable ISA header.
    """
    data, sha = _read(path)
    with reading(factory) as session:  # a look, not a write: no write lock taken
        seen = store_files.find_file(session, "in", sha)
    if seen is not None:
        _same_kind(path, seen, ("835",))
        return PostReport(str(path), already_read=True, findings=(_already(path, seen),))
    with collector_paused():
        return _post_remittance(factory, path, data, sha, actor)


def _post_remittance(factory: Factory, path: Path, data: bytes, sha: str,
                     actor: str) -> PostReport:
    text = data.decode("utf-8", errors="replace")
    # Read and checked before the transaction: another process writing the same SQLite books
    # (the cycle's billers) waits only while the payments are posted, not while parsed.
    read = read_era(lambda: _chunks(text), file=str(path))
    if read.refused is not None:
        return PostReport(str(path), refused=True, findings=read.refused.findings)
    payments = _payments(text)
    # The claims it names are read, and its postings and ledger rows computed, before the
    # transaction too; that transaction checks the claims are still the newest (or reads and
    # posts them there).
    with reading(factory) as session:
        prepared = prepare_era(session, read)
    try:
        with unit_of_work(factory) as session:
            file_id = store_files.add_file(session, direction="in", kind="835",
                                           path=str(path), sha256=sha, size=len(data))
            if file_id is None:
                return PostReport(str(path), already_read=True)
            store = SqlPostingStore(session, file_id=file_id, actor=actor)
            if prepared is not None and store.adopt_era(prepared):
                result = save_era_plan(prepared.plan, store)
            else:  # too big to plan, or a claim changed since: claims read and posted here
                result = post_read_era(read, lambda: _chunks(text), store)
            if result.refused:
                raise _Refused
            books.set_remittance_details(session, payments)
            people.record_event(session, actor=actor, action="post_era", entity="file",
                                entity_id=str(file_id), detail={
                                    "path": str(path), "claims": result.claims,
                                    "traces": list(result.posted_traces)})
    except _Refused:
        return PostReport(str(path), refused=True, findings=result.findings)
    except ConflictError as exc:  # another process posted the same payment meanwhile
        return PostReport(str(path), duplicate_traces=(exc.location,), findings=(Finding(
            "ledger.duplicate_trace", Severity.INFO, f"{exc}; nothing changed.",
            Location(file=str(path)), "Nothing to do."),))
    return PostReport(str(path), False, False, result.posted_traces, result.duplicate_traces,
                      result.claims, result.suspense, result.worklist, result.findings)


def _chunks(text: str, size: int = 1 << 20) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start:start + size]


def _payments(text: str) -> list[tuple[str, str, date | None, str, Decimal]]:
    """(TRN03, TRN02, BPR16 date, BPR04 method, BPR02 amount) of each payment in an 835."""
    if len(text) < 106 or not text.startswith("ISA"):
        return []
    element, terminator = text[3], text[105]
    out = []
    bpr: list[str] = []
    # Only the BPR and TRN segments are looked at: found by a text search rather than by
    # splitting a whole file (hundreds of thousands of segments) into strings.
    for segment in _segments(text, ("BPR" + element, "TRN" + element), terminator):
        if segment[0] == "B":
            bpr = segment.split(element)
        elif bpr:
            trn = segment.split(element)
            if len(trn) > 3:
                out.append((trn[3], trn[2], _d8(bpr[16] if len(bpr) > 16 else ""),
                            bpr[4] if len(bpr) > 4 else "", Decimal(bpr[2] or "0")))
            bpr = []
    return out


def _segments(text: str, tags: Sequence[str], terminator: str) -> Iterator[str]:
    """The segments (stripped, in file order) that start with one of ``tags``: a tag counts
    where only whitespace stands between it and the previous terminator (or the start)."""
    starts: list[int] = []
    for tag in tags:
        at = text.find(tag)
        while at >= 0:
            starts.append(at)
            at = text.find(tag, at + len(tag))
    for at in sorted(starts):
        before = at - 1
        while before >= 0 and text[before] != terminator and text[before].isspace():
            before -= 1
        if before < 0 or text[before] == terminator:
            end = text.find(terminator, at)
            yield (text[at:] if end < 0 else text[at:end]).strip()


def _d8(text: str) -> date | None:
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


# ----------------------------------------------------------------- corrections and balances


def resubmit_claim(factory: Factory, claim_id: int, *, frequency: str = "7", actor: str,
                   today: date | None = None) -> int:
    """A corrected (7) or void (8) claim that replaces ``claim_id`` at the payer.

    The new claim is the stored one (same visit, lines and CLM01) with the frequency code and
    the payer's claim number (REF*F8); a corrected claim is scrubbed again (``scrubbed`` or
    ``held``), a void goes straight to ``scrubbed``. The original claim is closed.

    A claim the clearinghouse or payer rejected at the front door (999/277CA ``rejected``)
    never reached adjudication: "corrected" it is sent again
    as it was first sent (same frequency, the data as the books hold it now, scrubbed again),
    because a replacement (7) can only replace a claim the payer has (X12 837P CLM05-3; CMS
    Pub 100-04 ch.1 §70.2.3.1, a rejected claim is not in the payer's system).

    Returns:
        The new claim's row id.

    Raises:
        NotFoundError: no such claim.
        UsageError: a frequency other than 7 or 8.
        ConflictError: the claim was never accepted by the payer (no payer claim number) and
            was not rejected either (still waiting to be sent or answered), or a void was
            asked for a rejected claim.
    """
    if frequency not in (Frequency.REPLACEMENT.value, Frequency.VOID.value):
        raise UsageError(f"frequency must be 7 (corrected) or 8 (void), not {frequency!r}")
    settings = default_settings(today or date.today())
    with unit_of_work(factory) as session:
        row = books.claim_for_update(session, claim_id)
        if row is None:
            raise NotFoundError(f"no claim {claim_id}")
        resend = row.status == ClaimStatus.REJECTED.value
        if resend and frequency == Frequency.VOID.value:
            raise ConflictError(f"claim {claim_id} ({row.claim_key}) was rejected, so the "
                                "payer has nothing to void; correct it and send it again",
                                location=str(claim_id))
        if not row.payer_claim_number and not resend:
            raise ConflictError(f"claim {claim_id} ({row.claim_key}) has no payer claim "
                                "number yet; only a claim the payer accepted can be "
                                "corrected or voided (a rejected claim can be sent again)",
                                location=str(claim_id))
        old = store_claims.load_claims(session, [claim_id])[claim_id]
        claim_key = row.claim_key if row.claim_key != old.visit.visit_id else ""
        new = replace(old, claim_id_override=claim_key) if resend else replace(
            old, frequency=Frequency(frequency), original_reference=row.payer_claim_number,
            claim_id_override=claim_key)
        found = scrub_claim(new, settings) if frequency == "7" else []
        new_id = _save_next_claim(session, row, new, found, actor)
        note = (f"rejected; sent again as claim {new_id}" if resend
                else f"replaced by claim {new_id} (frequency {frequency})")
        store_claims.set_status(session, [claim_id], ClaimStatus.CLOSED, actor=actor,
                                note=note)
        people.record_event(session, actor=actor, action="resubmit", entity="claim",
                            entity_id=str(claim_id), detail={"new_claim": new_id,
                                                             "frequency": frequency})
    return new_id


MOVES = {"patient": ("patient_responsibility", "PR", "moved to patient"),
         "secondary": ("other_adjustment", "OA", "moved to secondary payer")}


def move_balance(factory: Factory, claim_id: int, *, to: str, actor: str,
                 today: date | None = None) -> Decimal:
    """Move a claim's open insurance balance to the patient or the secondary payer.

    The move is one ledger entry (patient responsibility, or an OA adjustment marked for the
    secondary payer) that brings the insurance balance to zero; the claim's books still
    balance. Moving a zero balance does nothing and returns 0.00.

    Moving to the secondary payer also bills it (issue 6, coordination of benefits): a new
    claim for the same visit and lines bills the patient's secondary coverage and carries what
    the primary payer paid and adjusted, per line, from its posted remittances (837P loops 2320
    and 2430). It is scrubbed (``scrubbed`` or ``held``) so the next batch sends it. A claim
    the primary paid in full except for the patient's share (PR) has no insurance balance
    left, but that share is what the secondary is asked for, so it is billed all the same.

    Returns:
        The amount moved: the insurance balance, plus for the secondary payer the patient's
        share the primary left.

    Raises:
        UsageError: ``to`` is not "patient" or "secondary".
        NotFoundError: no such claim.
        ConflictError: moving to the secondary payer, but the patient has no secondary
            coverage, or the claim was billed to it already (nothing is written).
    """
    if to not in MOVES:
        raise UsageError(f"a balance moves to 'patient' or 'secondary', not {to!r}")
    kind, group, detail = MOVES[to]
    with unit_of_work(factory) as session:
        row = books.claim_for_update(session, claim_id)
        if row is None:
            raise NotFoundError(f"no claim {claim_id}")
        balance = books.claim_balance(session, claim_id)
        share = _payer_patient_share(session, claim_id) if to == "secondary" else ZERO
        if balance == ZERO and share == ZERO:
            return ZERO
        event: dict[str, object] = {"to": to, "amount": format_amount(balance + share)}
        if to == "secondary":
            event["new_claim"] = _bill_secondary(session, row, actor, today or date.today())
        if balance != ZERO:
            add_ledger_entries(session, [{"claim_id": claim_id, "kind": kind,
                                          "group_code": group, "detail": detail,
                                          "amount": -balance}])
        people.record_event(session, actor=actor, action="move_balance", entity="claim",
                            entity_id=str(claim_id), detail=event)
    return balance + share


def _payer_patient_share(session: Session, claim_id: int) -> Decimal:
    """The patient responsibility (PR) the claim's payer reported in its remittances."""
    posted = store_claims.adjudications(session, [claim_id]).get(claim_id, ())
    return sum((a.amount for a in posted if a.group == "PR"), ZERO)


def _bill_secondary(session: Session, row: Any, actor: str, today: date) -> int:
    """A new claim for ``row``'s visit that bills the patient's secondary coverage with the
    primary payer's adjudication; its row id.

    Raises:
        ConflictError: the patient has no secondary coverage, or a claim already bills it
            with this adjudication.
    """
    billed = store_claims.claim_carrying(session, row.id)
    if billed is not None:
        raise ConflictError(f"claim {row.id} ({row.claim_key}) is already billed to the "
                            f"secondary payer as claim {billed}; correct or void that one",
                            location=str(row.id))
    coverage_id = store_claims.coverage_for(session, row.visit_id, "secondary")
    if coverage_id is None:
        raise ConflictError(f"claim {row.id} ({row.claim_key}): the patient has no secondary "
                            "coverage to bill; add it, or move the balance to the patient",
                            location=str(row.id))
    primary = store_claims.load_claims(session, [row.id])[row.id]
    coverage = store_claims.load_coverages(session, [coverage_id])[coverage_id]
    prior = mapping.to_prior_payer(primary, store_claims.adjudications(
        session, [row.id]).get(row.id, ()))
    claim_key = row.claim_key if row.claim_key != primary.visit.visit_id else ""
    new = replace(primary, visit=replace(primary.visit, coverage=coverage),
                  frequency=Frequency.ORIGINAL, original_reference="",
                  claim_id_override=claim_key,
                  prior_payers=(*primary.prior_payers, prior))
    new_id = _save_next_claim(session, row, new, scrub_claim(new, default_settings(today)),
                              actor)
    store_claims.set_billing(session, new_id, coverage_id=coverage_id, prior_claim_id=row.id)
    return new_id


def _save_next_claim(session: Session, row: Any, claim: Claim, found: Sequence[Finding],
                     actor: str) -> int:
    """Store ``claim`` as the next claim of ``row``'s visit (its next sequence), ``held``
    when a finding is an error, else ``scrubbed``; its row id."""
    status = ClaimStatus.HELD if has_errors(found) else ClaimStatus.SCRUBBED
    sequence = books.newest_sequence(session, row.visit_id) + 1
    ids = store_claims.save_claims(session, [store_claims.NewClaim(
        row.visit_id, claim, tuple(found), row.unit_method, sequence, status)],
        actor=actor, stage="scrub")
    return ids[row.visit_id]


__all__ = ["AckReport", "BatchFile", "BatchReport", "PostReport", "ScrubReport",
           "SubmitterSettings", "build_batch", "move_balance", "post_remittance",
           "read_acknowledgments", "resubmit_claim", "scrub_claim", "scrub_stored_claims"]
