"""A late 835 for a claim since corrected or voided posts to that claim (SQLite and PostgreSQL).

The story every test tells: the practice sends a claim, the payer's 277CA accepts it with its
claim number, the biller corrects it (frequency 7, REF*F8 = that number) or voids it (8), and
only then does the payer's 835 for the first claim arrive. Both claims share the CLM01, so the
835's CLP01 names both; its CLP07 (the payer's claim number) says which one it pays.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rehabill.domain import ClaimStatus
from rehabill.services import billing
from rehabill.services.cycle import simulate_payers
from rehabill.services.imports import import_file
from rehabill.simulate.payer import DenialRates, reverse_claim
from rehabill.store import books
from rehabill.store import claims as store_claims
from rehabill.store.models import ClaimRow, ClaimStatusRow, WorklistItemRow
from rehabill.x12.remit835 import Adjustment, ClaimPayment, Remittance, read_835_text
from rehabill.x12.remit835_write import write_835
from tests.services.ledger_sums import ledger_by_kind

TODAY = date(2026, 7, 20)
Factory = sessionmaker[Session]


@dataclass
class Sent:
    """A claim the payer accepted (277CA) and whose 835 it has not delivered yet."""

    claim_id: int
    key: str
    number: str  # the payer's claim number from the 277CA
    charge: Decimal
    answer: ClaimPayment  # what the payer's 835 says about it
    era: Remittance  # the payment it came in, as a template


def _sent(factory: Factory, visit_file: Path, tmp_path: Path) -> Sent:
    """Claims sent and accepted by their 277CA; the first paid claim's 835 held back."""
    import_file(factory, visit_file)
    billing.scrub_stored_claims(factory, today=TODAY)
    batch = billing.build_batch(factory, outbox=tmp_path / "outbox", today=TODAY)
    answers = simulate_payers([Path(f.path) for f in batch.files], tmp_path / "inbox",
                              rates=DenialRates.none())
    for path in answers:
        if path.suffix == ".277":
            billing.read_acknowledgments(factory, path)
    with factory() as s:
        accepted = set(store_claims.claim_ids_by_status(s, ClaimStatus.ACCEPTED))
        rows = {r.claim_key: r for r in s.execute(select(ClaimRow)).scalars()
                if r.id in accepted}
    for path in answers:
        if path.suffix != ".835":
            continue
        for era in read_835_text(path.read_text())[0]:
            for answer in era.claims:
                row = rows.get(answer.claim_id)
                if row is not None and answer.status == "1" and answer.paid > 0:
                    return Sent(row.id, row.claim_key, row.payer_claim_number,
                                Decimal(str(row.total_charge)), answer, era)
    raise AssertionError("the simulated payers paid no accepted claim")


def _era(tmp_path: Path, sent: Sent, trace: str, *claims: ClaimPayment, control: int = 1
         ) -> Path:
    """An 835 file (interchange ``control``) with one payment (check ``trace``) of these
    claims."""
    paid = sum((c.paid for c in claims), Decimal("0.00"))
    era = replace(sent.era, trace=replace(sent.era.trace, number=trace),
                  payment=replace(sent.era.payment, amount=paid), groups=(),
                  claims=tuple(replace(c, lx="1") for c in claims), provider_adjustments=())
    path = tmp_path / f"{trace}-{control}.835"
    path.write_text(write_835([era], control_number=control))
    return path


def _corrected(factory: Factory, sent: Sent, frequency: str = "7") -> int:
    new_id = billing.resubmit_claim(factory, sent.claim_id, frequency=frequency, actor="biller",
                                    today=TODAY)
    with factory() as s:
        new = books.claim_for_update(s, new_id)
    assert new is not None and new.claim_key == sent.key
    assert new.original_reference == sent.number
    return new_id


def _balanced(factory: Factory, claim_id: int, charge: Decimal) -> dict[str, Decimal]:
    """The claim's ledger, checked: charge = payments + adjustments + patient + open."""
    money = ledger_by_kind(factory, claim_id)
    taken = -sum((v for k, v in money.items() if k != "open"), Decimal(0))
    assert charge == taken + money["open"]
    return money


def _status(factory: Factory, claim_id: int) -> str:
    with factory() as s:
        row = books.claim_for_update(s, claim_id)
    assert row is not None
    return str(row.status)


def _history(factory: Factory, claim_id: int) -> list[tuple[str, str]]:
    with factory() as s:
        return [(r.status, r.note) for r in s.execute(
            select(ClaimStatusRow.status, ClaimStatusRow.note)
            .where(ClaimStatusRow.claim_id == claim_id).order_by(ClaimStatusRow.id))]


def _worklist(factory: Factory, claim_id: int) -> list[tuple[str, str, str]]:
    with factory() as s:
        return [(r.carc, r.reason, r.next_action) for r in s.execute(
            select(WorklistItemRow.carc, WorklistItemRow.reason, WorklistItemRow.next_action)
            .where(WorklistItemRow.claim_id == claim_id).order_by(WorklistItemRow.id))]


def test_post_remittance__the_originals_late_835_pays_the_original_not_the_correction(
        session_factory: Factory, visit_file: Path, tmp_path: Path) -> None:
    sent = _sent(session_factory, visit_file, tmp_path)
    corrected = _corrected(session_factory, sent)
    before = _status(session_factory, corrected)
    late = replace(sent.answer, payer_claim_number=sent.number)
    era = _era(tmp_path, sent, "LATE1", late)

    report = billing.post_remittance(session_factory, era)

    assert report.posted_traces and not report.suspense
    original = _balanced(session_factory, sent.claim_id, sent.charge)
    assert original["payment"] == -late.paid and original["open"] == 0
    assert ledger_by_kind(session_factory, corrected) == {"open": sent.charge}  # still owed
    assert _status(session_factory, sent.claim_id) == "paid"
    assert _status(session_factory, corrected) == before  # waits for its own answer
    assert _history(session_factory, sent.claim_id)[-1][0] == "paid"
    # the same ERA again, in any file, changes nothing
    assert billing.post_remittance(session_factory, era).already_read
    again = billing.post_remittance(session_factory, _era(tmp_path, sent, "LATE1", late,
                                                          control=2))
    assert again.duplicate_traces and not again.posted_traces
    assert _balanced(session_factory, sent.claim_id, sent.charge) == original


def test_post_remittance__a_reversal_of_the_original_and_payment_of_the_correction(
        session_factory: Factory, visit_file: Path, tmp_path: Path) -> None:
    """The payer's usual answer to a correction, in one 835: CLP02 22 takes back what it paid
    on the original (its claim number), then the corrected claim is paid under a new one."""
    sent = _sent(session_factory, visit_file, tmp_path)
    corrected = _corrected(session_factory, sent)
    paid = replace(sent.answer, payer_claim_number=sent.number)
    billing.post_remittance(session_factory, _era(tmp_path, sent, "LATE1", paid))
    second = replace(sent.answer, payer_claim_number="NEW123", extra=("11", "7"))

    report = billing.post_remittance(session_factory, _era(
        tmp_path, sent, "FIX1", reverse_claim(paid), second))

    assert report.posted_traces and not report.suspense
    original = _balanced(session_factory, sent.claim_id, sent.charge)
    assert all(v == 0 for k, v in original.items() if k != "open")
    assert original["open"] == sent.charge  # replaced: nothing more is due on it
    assert _status(session_factory, sent.claim_id) == "closed"
    _, note = _history(session_factory, sent.claim_id)[-1]
    assert "reversed" in note and "corrected claim" in note
    fixed = _balanced(session_factory, corrected, sent.charge)
    assert fixed["payment"] == -second.paid and fixed["open"] == 0
    assert _status(session_factory, corrected) == "paid"
    assert not _worklist(session_factory, sent.claim_id)


def test_post_remittance__a_denial_of_the_original_after_the_correction(
        session_factory: Factory, visit_file: Path, tmp_path: Path) -> None:
    sent = _sent(session_factory, visit_file, tmp_path)
    corrected = _corrected(session_factory, sent)
    before = _status(session_factory, corrected)
    denied = replace(sent.answer, status="4", paid=Decimal("0.00"), payer_claim_number=sent.number,
                     patient_responsibility=Decimal("0.00"), lines=(), adjustments=(
                         Adjustment("CO", "4", sent.charge),))

    report = billing.post_remittance(session_factory, _era(tmp_path, sent, "DENY1", denied))

    assert report.worklist == 1
    original = _balanced(session_factory, sent.claim_id, sent.charge)
    assert original["contractual"] == -sent.charge and original["open"] == 0
    assert _status(session_factory, sent.claim_id) == "denied"
    [(carc, reason, action)] = _worklist(session_factory, sent.claim_id)
    assert carc == "4" and "already replaced by a corrected claim" in reason
    assert action.startswith("nothing to resubmit")
    assert _worklist(session_factory, corrected) == []
    assert _status(session_factory, corrected) == before
    assert ledger_by_kind(session_factory, corrected) == {"open": sent.charge}


def test_post_remittance__a_void_reversed_on_the_void_claim_takes_back_the_originals_payment(
        session_factory: Factory, visit_file: Path, tmp_path: Path) -> None:
    """Some payers answer a void (frequency 8) with a CLP02 22 under the void's own new claim
    number: the money it takes back was paid on the original, so it is posted there."""
    sent = _sent(session_factory, visit_file, tmp_path)
    paid = replace(sent.answer, payer_claim_number=sent.number)
    billing.post_remittance(session_factory, _era(tmp_path, sent, "PAY1", paid))
    void = _corrected(session_factory, sent, frequency="8")
    reversal = replace(reverse_claim(paid), payer_claim_number="VOID77", extra=("11", "8"))

    report = billing.post_remittance(session_factory, _era(tmp_path, sent, "VOID1", reversal))

    assert report.posted_traces and not report.suspense
    original = _balanced(session_factory, sent.claim_id, sent.charge)
    assert all(v == 0 for k, v in original.items() if k != "open")
    assert _status(session_factory, sent.claim_id) == "closed"
    assert ledger_by_kind(session_factory, void) == {"open": sent.charge}
    assert _status(session_factory, void) == "closed"
    assert "processed the void" in _history(session_factory, void)[-1][1]


def test_post_remittance__a_void_the_payer_refuses_goes_on_the_worklist(
        session_factory: Factory, visit_file: Path, tmp_path: Path) -> None:
    sent = _sent(session_factory, visit_file, tmp_path)
    void = _corrected(session_factory, sent, frequency="8")
    refused = replace(sent.answer, status="4", paid=Decimal("0.00"), payer_claim_number="V9",
                      extra=("11", "8"), patient_responsibility=Decimal("0.00"), lines=(),
                      adjustments=(Adjustment("CO", "16", sent.charge),))

    billing.post_remittance(session_factory, _era(tmp_path, sent, "VOID2", refused))

    assert _status(session_factory, void) == "denied"
    [(carc, _, action)] = _worklist(session_factory, void)
    assert carc == "16" and action.startswith("correct the claim")
    _balanced(session_factory, void, sent.charge)
    assert ledger_by_kind(session_factory, sent.claim_id) == {"open": sent.charge}
