"""A claim's ledger as the remittance tests compare it: entries summed by kind, and the open
balance."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from rehabill.store import books
from rehabill.store.models import LedgerEntryRow


def ledger_by_kind(factory: sessionmaker[Session], claim_id: int) -> dict[str, Decimal]:
    """The claim's entries summed by kind, and its open balance (key ``"open"``)."""
    with factory() as s:
        sums = {kind: Decimal(str(total)) for kind, total in s.execute(
            select(LedgerEntryRow.kind, func.sum(LedgerEntryRow.amount))
            .where(LedgerEntryRow.claim_id == claim_id).group_by(LedgerEntryRow.kind))}
        sums["open"] = books.claim_balance(s, claim_id)
    return sums
