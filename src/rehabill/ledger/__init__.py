"""Ledger: posting math for remittances (pure; the store persists what posting returns).

``post_remittance`` turns one 835 payment into entries (payments, contractual and other
adjustments, patient responsibility, reversals), provider-level PLB entries, suspense items,
worklist items (denials with CARC/RARC text, our plain reason and the next action) and claim
status changes, each keeping its source (file, trace number, segment). ``post_payment`` does
the same through a ``PostingStore`` and is idempotent by trace number.
"""

from rehabill.domain.pickling import pickle_by_fields as _pickle_by_fields
from rehabill.ledger.entries import (
    ClaimBalance,
    Entry,
    EntryKind,
    NextAction,
    PostingResult,
    PostingSource,
    StatusChange,
    SuspenseItem,
    WorklistItem,
    summarize,
)
from rehabill.ledger.posting import (
    ClaimSet,
    StoredClaim,
    choose_claim,
    match_line,
    payer_ids,
    post_claim,
    post_claims,
    post_remittance,
    trace_key,
)
from rehabill.ledger.store import (
    EraPosting,
    EraRead,
    MemoryPostingStore,
    PostingStore,
    post_era,
    post_payment,
    post_read_era,
    read_era,
)

__all__ = [
    "ClaimBalance",
    "ClaimSet",
    "Entry",
    "EntryKind",
    "EraPosting",
    "EraRead",
    "MemoryPostingStore",
    "NextAction",
    "PostingResult",
    "PostingSource",
    "PostingStore",
    "StatusChange",
    "StoredClaim",
    "SuspenseItem",
    "WorklistItem",
    "choose_claim",
    "match_line",
    "payer_ids",
    "post_claim",
    "post_claims",
    "post_era",
    "post_payment",
    "post_read_era",
    "post_remittance",
    "read_era",
    "summarize",
    "trace_key",
]

# Compiled by mypyc, frozen values pickle through their constructor (a no-op otherwise).
_pickle_by_fields(__name__)
