"""The posting store interface: what ``rehabill.store`` implements to persist postings.

``post_payment`` is the use case for one payment in terms of this protocol: look up the claims
it names, refuse a trace already posted, post, and save the result (the service layer owns
the transaction). ``post_era`` does a whole file of any size: it checks all of it first and
then posts claim by claim in batches; ``plan_read_era`` computes those postings without a store
(claims read beforehand), for ``save_era_plan`` to save. ``MemoryPostingStore`` is a
dict-backed implementation for tests, the demo and the simulator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from typing import Protocol

from rehabill.domain.claim import Claim, ClaimStatus
from rehabill.domain.findings import Finding, Location, Severity
from rehabill.ledger.entries import (
    ClaimBalance,
    Entry,
    PostingResult,
    PostingSource,
    SuspenseItem,
    WorklistItem,
    summarize,
)
from rehabill.ledger.posting import (
    ClaimSet,
    payer_ids,
    post_claims,
    post_remittance,
    provider_entries,
    trace_key,
)
from rehabill.x12.remit835 import ClaimPayment, Remittance, iter_835

FindClaims = Callable[[Iterable[str]], Mapping[str, Claim | ClaimSet]]


class PostingStore(Protocol):
    """What posting needs from storage (implemented with SQLAlchemy in ``rehabill.store``)."""

    def find_claims(self, claim_ids: Iterable[str]) -> Mapping[str, Claim | ClaimSet]:
        """The claims we know among ``claim_ids`` (by patient control number): the claim, or
        a ``ClaimSet`` when several (an original and its corrected claim) share one."""
        ...

    def is_posted(self, trace_key: str) -> bool:
        """True when a payment with this payer/trace key was already saved."""
        ...

    def save_posting(self, result: PostingResult) -> None:
        """Persist entries, suspense, worklist and status changes (no commit here)."""
        ...


def post_payment(store: PostingStore, remittance: Remittance, *, file: str = "",
                 envelope_findings: Sequence[Finding] = ()) -> PostingResult:
    """Post one payment through a store: idempotent by trace key.

    Args:
        store: the posting store.
        remittance: one 835 transaction with its claims.
        file: the file name for entry sources.
        envelope_findings: the file's envelope findings (errors refuse posting).

    Returns:
        The result, already handed to ``store.save_posting`` unless it was a duplicate or
        a refusal.
    """
    key = trace_key(remittance)
    posted = {key} if store.is_posted(key) else set()
    claims = store.find_claims({c.claim_id for c in remittance.claims})
    result = post_remittance(remittance, claims, file=file, posted_traces=posted,
                             envelope_findings=envelope_findings)
    if result.posted or result.status_changes:
        store.save_posting(result)
    return result


class MemoryPostingStore:
    """An in-memory ``PostingStore`` (tests, demo, simulator)."""

    def __init__(self, claims: Iterable[Claim] = ()) -> None:
        self.claims: dict[str, Claim] = {c.claim_id: c for c in claims}
        self.traces: set[str] = set()
        self.entries: list[Entry] = []
        self.provider_entries: list[Entry] = []
        self.suspense: list[SuspenseItem] = []
        self.worklist: list[WorklistItem] = []
        self.statuses: dict[str, ClaimStatus] = {}

    def find_claims(self, claim_ids: Iterable[str]) -> Mapping[str, Claim]:
        """The known claims among ``claim_ids``."""
        return {i: self.claims[i] for i in claim_ids if i in self.claims}

    def is_posted(self, trace_key: str) -> bool:
        """True when the trace key was saved."""
        return trace_key in self.traces

    def save_posting(self, result: PostingResult) -> None:
        """Keep everything the posting produced."""
        self.traces.add(result.trace_key)
        self.entries.extend(result.entries)
        self.provider_entries.extend(result.provider_entries)
        self.suspense.extend(result.suspense)
        self.worklist.extend(result.worklist)
        for change in result.status_changes:
            self.statuses[change.claim_id] = change.status

    def balance(self, claim_id: str) -> ClaimBalance:
        """The claim's ledger summary."""
        claim = self.claims[claim_id]
        return summarize(claim_id, claim.total_charge, self.entries)


@dataclass(frozen=True, slots=True)
class EraPosting:
    """What posting a whole 835 file did."""

    file: str
    refused: bool
    findings: tuple[Finding, ...]
    posted_traces: tuple[str, ...] = ()
    duplicate_traces: tuple[str, ...] = ()
    claims: int = 0
    suspense: int = 0
    worklist: int = 0


KEEP_CLAIMS = 25_000  # claims a file may hold and still be read once (~3 KB each: ~75 MB)


def post_era(open_chunks: Callable[[], Iterable[str]], store: PostingStore, *, file: str = "",
             batch: int = 5000, keep: int = KEEP_CLAIMS) -> EraPosting:
    """Post an 835 file of any size: check all of it, then post claim by claim.

    The first pass (``read_era``) reads the whole file and refuses it whole on any error
    finding, envelope or payment (DESIGN.md: a malformed file is never half-posted). It keeps
    what it read while the file holds at most ``keep`` claims, and posting then works from
    that; a larger file is read a second time instead, so memory stays flat for any size.
    Posting (``post_read_era``) goes through each payment's claims in batches of ``batch``
    (one ``find_claims`` and one ``save_posting`` per batch), skipping payments whose trace key
    was already posted.

    Args:
        open_chunks: returns a fresh iterator over the file's text (called once or twice).
        store: the posting store (the caller's unit of work commits).
        file: the file name for locations and entry sources.
        batch: claims per store round trip.
        keep: the most claims kept from the first pass (0: always read twice).

    Returns:
        A summary; ``refused`` with the error findings when nothing was posted.

    Raises:
        InputError: when the file has no usable ISA header.
    """
    read = read_era(open_chunks, file=file, keep=keep)
    if read.refused is not None:
        return read.refused
    return post_read_era(read, open_chunks, store, batch=batch)


@dataclass(frozen=True, slots=True)
class EraRead:
    """An 835 checked whole by ``read_era`` (no store touched), ready to post."""

    file: str
    heads: tuple[Remittance, ...]
    kept: tuple[ClaimPayment | Remittance, ...] | None  # None: too big, read again to post
    refused: EraPosting | None = None  # the refusal, when the file has an error finding


def read_era(open_chunks: Callable[[], Iterable[str]], *, file: str = "",
             keep: int = KEEP_CLAIMS) -> EraRead:
    """``post_era``'s first pass, on its own: a caller can read and check a file before it
    opens the transaction that posts it (another writer waits less).

    Raises:
        InputError: when the file has no usable ISA header.
    """
    envelope: list[Finding] = []
    problems: list[Finding] = []
    heads: list[Remittance] = []
    kept: list[ClaimPayment | Remittance] | None = []
    claims = 0
    for item in iter_835(open_chunks(), file, keep_claims=False, envelope_findings=envelope):
        if isinstance(item, Remittance):
            heads.append(item)
            problems.extend(f for f in item.findings if f.is_error)
        else:
            claims += 1
            if claims > keep:
                kept = None
        if kept is not None:
            kept.append(item)
    problems = [f for f in envelope if f.is_error] + problems
    refused = None
    if problems:
        refusal = Finding("ledger.not_posted", Severity.ERROR,
                          f"{file or 'The file'} has {len(problems)} error finding(s) (first: "
                          f"{problems[0].code}); nothing was posted.", Location(file=file),
                          "Ask the payer for a corrected 835, then post it.")
        refused = EraPosting(file, True, (refusal, *problems))
    return EraRead(file, tuple(heads), tuple(kept) if kept is not None else None, refused)


def post_read_era(read: EraRead, open_chunks: Callable[[], Iterable[str]],
                  store: PostingStore, *, batch: int = 5000) -> EraPosting:
    """``post_era``'s second pass: post a file ``read_era`` read and did not refuse.

    Args:
        read: what ``read_era`` gave (a refused file is refused again, nothing posted).
        open_chunks: the same file's text again (read only when ``read`` kept too little).
        store: the posting store (the caller's unit of work commits).
        batch: claims per store round trip.
    """
    if read.refused is not None:
        return read.refused
    items = read.kept if read.kept is not None else \
        iter_835(open_chunks(), read.file, keep_claims=False)
    return _post_stream(items, store, read.heads, read.file, batch)


@dataclass(frozen=True, slots=True)
class EraPlan:
    """An 835's postings computed by ``plan_read_era`` before the transaction that saves them
    (``save_era_plan``): in that transaction the store is only asked which payments are
    posted already, and saves the rest."""

    file: str
    keys: tuple[str, ...]  # each payment's trace key, in file order
    postings: tuple[tuple[int, PostingResult, int], ...]  # (payment, result, claims) in order


def plan_read_era(read: EraRead, find_claims: FindClaims,
                  *, batch: int = 5000) -> EraPlan | None:
    """``post_read_era``'s postings, computed without a store: what it would save were no
    payment of the file posted yet, in the order it would save them.

    Args:
        read: what ``read_era`` gave.
        find_claims: our claims among some CLM01s (claims read before the transaction, which
            the caller checks are still the books' own before ``save_era_plan``).
        batch: claims per saved result (as ``post_read_era``).

    Returns:
        The plan; None for a refused file or one too large to have been kept (post it with
        ``post_read_era``).
    """
    if read.refused is not None or read.kept is None:
        return None
    keys = tuple(trace_key(h) for h in read.heads)
    return EraPlan(read.file, keys, tuple(
        _postings(read.kept, read.heads, keys, read.file, batch, find_claims, frozenset())))


def save_era_plan(plan: EraPlan, store: PostingStore) -> EraPosting:
    """Save a plan's postings, skipping payments already posted (or named twice in the file):
    the same saves, in the same order, as ``post_read_era`` makes with the same claims."""
    skip = _skipped(plan.keys, store)
    counts = [0, 0, 0]
    for index, result, claims in plan.postings:
        if index not in skip:
            _save(store, result, claims, counts)
    return _summary(plan.file, plan.keys, skip, counts)


def _skipped(keys: Sequence[str], store: PostingStore) -> set[int]:
    """Payments not to post: stored already, or a trace key the file named before."""
    return {i for i, key in enumerate(keys) if store.is_posted(key) or key in keys[:i]}


def _save(store: PostingStore, result: PostingResult, claims: int, counts: list[int]) -> None:
    store.save_posting(result)
    counts[0] += claims
    counts[1] += len(result.suspense)
    counts[2] += len(result.worklist)


def _summary(file: str, keys: Sequence[str], skip: set[int], counts: list[int]
             ) -> EraPosting:
    return EraPosting(file, False, (), tuple(k for i, k in enumerate(keys) if i not in skip),
                      tuple(keys[i] for i in sorted(skip)), counts[0], counts[1], counts[2])


def _post_stream(items: Iterable[ClaimPayment | Remittance], store: PostingStore,
                 heads: Sequence[Remittance], file: str, batch: int) -> EraPosting:
    keys = [trace_key(h) for h in heads]
    skip = _skipped(keys, store)
    counts = [0, 0, 0]
    # Lazily: each batch's claims are looked up after the batch before it is saved.
    for _, result, claims in _postings(items, heads, keys, file, batch, store.find_claims,
                                       skip):
        _save(store, result, claims, counts)
    return _summary(file, keys, skip, counts)


def _postings(items: Iterable[ClaimPayment | Remittance], heads: Sequence[Remittance],
              keys: Sequence[str], file: str, batch: int,
              find_claims: FindClaims,
              skip: AbstractSet[int]) -> Iterator[tuple[int, PostingResult, int]]:
    """(payment index, result to save, claims in it): each payment's claims in batches of
    ``batch``, then its provider-level entries; payments in ``skip`` give nothing."""
    pending: list[ClaimPayment] = []
    index = 0
    for item in items:
        if isinstance(item, ClaimPayment):
            pending.append(item)
            if len(pending) < batch:
                continue
        # a full batch, or the payment's end (its head follows its claims): the claims so far
        if pending and index not in skip:
            yield index, _claims_result(pending, heads[index], keys[index], file,
                                        find_claims), len(pending)
        pending = []
        if isinstance(item, Remittance):
            if index not in skip:
                yield index, PostingResult(keys[index], provider_entries=tuple(
                    provider_entries(item, file))), 0
            index += 1


def _claims_result(pending: Sequence[ClaimPayment], head: Remittance, key: str, file: str,
                   find_claims: FindClaims
                   ) -> PostingResult:
    source = PostingSource(file, head.trace.originator, head.trace.number, 0)
    known = find_claims({c.claim_id for c in pending})
    result = post_claims(pending, known, source=source, payers=payer_ids(head))
    return result if result.trace_key == key else replace(result, trace_key=key)
