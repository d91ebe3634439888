"""An 835's CLP07 (the payer's claim number) is kept on the claim it pays when the claim has
none yet (SQLite and PostgreSQL).

Not every payer sends a 277CA, and some 277CAs carry no REF*1K: then the payer's first word on
its number for our claim is the 835. The biller who corrects or voids that claim needs the
number (REF*F8), and a later 835 is matched by it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rehabill.services import billing
from rehabill.services.cycle import simulate_payers
from rehabill.services.imports import import_file
from rehabill.simulate.payer import DenialRates, reverse_claim
from rehabill.store import books
from rehabill.store.models import ClaimRow
from rehabill.x12.remit835 import read_835_text
from tests.services.test_late_835 import _corrected, _era, _sent

TODAY = date(2026, 7, 20)
Factory = sessionmaker[Session]


def _numbers(factory: Factory) -> dict[int, tuple[str, str, str]]:
    """(CLM01, status, payer claim number) of every claim, by row id."""
    with factory() as s:
        return {r.id: (r.claim_key, r.status, r.payer_claim_number) for r in s.execute(
            select(ClaimRow.id, ClaimRow.claim_key, ClaimRow.status,
                   ClaimRow.payer_claim_number))}


def test_post_remittance__an_835_without_a_277ca_numbers_the_claims_it_pays(
        session_factory: Factory, visit_file: Path, tmp_path: Path) -> None:
    import_file(session_factory, visit_file)
    billing.scrub_stored_claims(session_factory, today=TODAY)
    batch = billing.build_batch(session_factory, outbox=tmp_path / "outbox", today=TODAY)
    answers = simulate_payers([Path(f.path) for f in batch.files], tmp_path / "inbox",
                              rates=DenialRates.none())
    clp07 = {c.claim_id: c.payer_claim_number for p in answers if p.suffix == ".835"
             for era in read_835_text(p.read_text())[0] for c in era.claims}
    assert all(number for _, _, number in _numbers(session_factory).values()) is False

    for path in answers:  # the payers' 835s; their 277CAs never came
        if path.suffix == ".835":
            billing.post_remittance(session_factory, path)

    answered = {cid: row for cid, row in _numbers(session_factory).items() if row[0] in clp07}
    assert answered
    assert all(number == clp07[key] for key, _, number in answered.values())
    # ... so the biller can correct a paid claim, and the correction refers to that number
    cid, (key, _, number) = next((cid, row) for cid, row in answered.items()
                                 if row[1] == "paid")
    new_id = billing.resubmit_claim(session_factory, cid, actor="biller", today=TODAY)
    with session_factory() as s:
        new = books.claim_for_update(s, new_id)
    assert new is not None and (new.claim_key, new.original_reference) == (key, number)


def test_post_remittance__the_277cas_number_stays_when_the_835_says_another(
        session_factory: Factory, visit_file: Path, tmp_path: Path) -> None:
    sent = _sent(session_factory, visit_file, tmp_path)
    other = replace(sent.answer, payer_claim_number="ICN-FROM-835")

    billing.post_remittance(session_factory, _era(tmp_path, sent, "PAY9", other))

    assert _numbers(session_factory)[sent.claim_id] == (sent.key, "paid", sent.number)


def test_post_remittance__the_correction_paid_under_a_new_number_keeps_it(
        session_factory: Factory, visit_file: Path, tmp_path: Path) -> None:
    """The payer's answer to a correction: CLP02 22 under the original's number, the
    correction paid under a new one; the new number is the correction's, not the
    original's."""
    sent = _sent(session_factory, visit_file, tmp_path)
    corrected = _corrected(session_factory, sent)
    paid = replace(sent.answer, payer_claim_number=sent.number)
    billing.post_remittance(session_factory, _era(tmp_path, sent, "LATE1", paid))
    second = replace(sent.answer, payer_claim_number="NEW123", extra=("11", "7"))

    billing.post_remittance(session_factory, _era(tmp_path, sent, "FIX1", reverse_claim(paid),
                                                  second))

    numbers = _numbers(session_factory)
    assert numbers[corrected] == (sent.key, "paid", "NEW123")
    assert numbers[sent.claim_id] == (sent.key, "closed", sent.number)
