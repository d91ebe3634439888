"""The posting store interface: what ``rehabill.store`` implements to persist postings.

``post_payment`` is the whole use case in terms of this protocol: look up the claims a payment
names, refuse a trace already posted, post, and save the result in one unit of work (the
service layer owns the transaction). ``MemoryPostingStore`` is a dict-backed implementation
for tests, the demo and the simulator.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from rehabill.domain.claim import Claim, ClaimStatus
from rehabill.domain.findings import Finding
from rehabill.ledger.entries import (
    ClaimBalance,
    Entry,
    PostingResult,
    SuspenseItem,
    WorklistItem,
    summarize,
)
from rehabill.ledger.posting import post_remittance, trace_key
from rehabill.x12.remit835 import Remittance


class PostingStore(Protocol):
    """What posting needs from storage (implemented with SQLAlchemy in ``rehabill.store``)."""

    def find_claims(self, claim_ids: Iterable[str]) -> Mapping[str, Claim]:
        """The claims we know among ``claim_ids`` (by patient control number)."""
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
