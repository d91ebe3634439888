"""A late 835 from the primary payer posts to the primary claim, not to the secondary claim
made from it (SQLite and PostgreSQL).

The story: the primary payer paid a claim leaving coinsurance, the biller moved the balance to
the secondary payer, and the secondary claim went out. It shares the primary's CLM01, charge
and lines. Then the primary payer reprocesses the claim under a new claim number and sends
another 835: its CLP07 names no claim of ours and both claims fit its charge and lines, so
before, the newest (the secondary claim) took the primary payer's money.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from rehabill.services import billing
from rehabill.simulate.payer import reverse_claim
from rehabill.store.models import ClaimRow, LedgerEntryRow, PayerRow
from rehabill.x12.remit835 import ClaimPayment, RefId, Remittance, read_835_text
from rehabill.x12.remit835_write import write_835
from tests.services.ledger_sums import ledger_by_kind
from tests.services.test_cob import TODAY, _add_secondary, _paid_by_primary

Factory = sessionmaker[Session]


def _primary_answer(tmp_path: Path, key: str) -> tuple[Remittance, ClaimPayment]:
    """The primary payer's 835 payment and CLP for the claim (what ``bill_and_post`` posted)."""
    for path in sorted((tmp_path / "inbox").glob("*.835")):
        for era in read_835_text(path.read_text())[0]:
            for answer in era.claims:
                if answer.claim_id == key:
                    return era, answer
    raise AssertionError(f"no 835 answered {key}")


def _reprocessed(tmp_path: Path, era: Remittance, payer_id: str, *claims: ClaimPayment
                 ) -> Path:
    """The payer's next 835 (check REPROC1) with these claims, naming the payer as its
    005010X221A1 loop 1000A does (REF*2U, the payer's id)."""
    paid = sum((c.paid for c in claims), Decimal("0.00"))
    payer = replace(era.payer, refs=(RefId("2U", payer_id),))
    again = replace(era, trace=replace(era.trace, number="REPROC1"), payer=payer,
                    payment=replace(era.payment, amount=paid), groups=(),
                    claims=tuple(replace(c, lx="1") for c in claims), provider_adjustments=())
    path = tmp_path / "reprocessed.835"
    path.write_text(write_835([again], control_number=9))
    return path


def test_post_remittance__the_primarys_reprocessed_835_pays_the_primary_not_the_secondary(
        session_factory: Factory, visit_file: Path, tmp_path: Path) -> None:
    primary = _paid_by_primary(session_factory, visit_file, tmp_path)
    _add_secondary(session_factory, primary)
    billing.move_balance(session_factory, primary, to="secondary", actor="t", today=TODAY)
    billing.build_batch(session_factory, outbox=tmp_path / "outbox-2", today=TODAY)
    with session_factory() as s:
        key, payer_id = s.execute(select(ClaimRow.claim_key, PayerRow.payer_key)
                                  .join(PayerRow, PayerRow.id == ClaimRow.payer_id)
                                  .where(ClaimRow.id == primary)).one()
        secondary = s.execute(select(ClaimRow.id).where(ClaimRow.prior_claim_id == primary)
                              ).scalar_one()
    before = (ledger_by_kind(session_factory, primary), ledger_by_kind(session_factory, secondary))
    era, answer = _primary_answer(tmp_path, key)
    # the reversal and the new payment both under the new claim number
    renumbered = replace(answer, payer_claim_number="REPROC-2")
    path = _reprocessed(tmp_path, era, payer_id, reverse_claim(renumbered), renumbered)

    report = billing.post_remittance(session_factory, path)

    assert report.posted_traces and not report.suspense
    assert ledger_by_kind(session_factory, secondary) == before[1]  # untouched: still owed by Aetna
    assert ledger_by_kind(session_factory, primary) == before[0]  # taken back and paid again
    with session_factory() as s:
        status = s.execute(select(ClaimRow.status).where(ClaimRow.id == secondary)).scalar()
        entries = s.execute(select(func.count()).select_from(LedgerEntryRow)
                            .where(LedgerEntryRow.trace_number == "REPROC1",
                                   LedgerEntryRow.claim_id == primary)).scalar_one()
    assert status == "batched" and entries > 0
