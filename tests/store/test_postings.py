"""SqlPostingStore: ERAs from the payer simulator post into the books exactly as in memory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from itertools import pairwise

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rehabill.domain import ClaimStatus
from rehabill.errors import ConflictError
from rehabill.ledger import ClaimSet, MemoryPostingStore, post_era, post_payment
from rehabill.services.claims import code_claims
from rehabill.simulate.payer import MEDICARE, PayerSimulator
from rehabill.store import books
from rehabill.store import claims as store_claims
from rehabill.store import visits as store_visits
from rehabill.store.models import (
    ClaimLineRow,
    ClaimRow,
    LedgerEntryRow,
    RemittanceRow,
    SuspenseItemRow,
    WorklistItemRow,
)
from rehabill.store.postings import SqlPostingStore
from rehabill.store.types import to_money
from rehabill.testing import visit_from_terms
from rehabill.x12.remit835 import read_835_text


def _stored_claims(session: Session, n: int) -> list:  # type: ignore[type-arg]
    visits = [visit_from_terms("97110=38 97530=25 97112=10/13", visit_id=f"E-{i}",
                               patient=visit_from_terms("97110=8").patient)
              for i in range(n)]
    store_visits.save_visits(session, visits)
    ids = code_claims(session).coded
    loaded = store_claims.load_claims(session, list(ids.values()))
    return [loaded[ids[f"E-{i}"]] for i in range(n)]


def _sum(session: Session, column) -> Decimal:  # type: ignore[no-untyped-def]
    return to_money(session.execute(select(func.sum(column))).scalar())


def test_post_payment__books_match_the_in_memory_ledger(session: Session) -> None:
    claims = _stored_claims(session, 6)
    [payment, *_] = PayerSimulator(MEDICARE, seed=3).adjudicate(claims).payments
    memory = MemoryPostingStore(claims)
    expected = post_payment(memory, payment, file="m.835")
    store = SqlPostingStore(session, actor="era")
    result = post_payment(store, payment, file="m.835")
    assert result.posted and result.entries == expected.entries
    assert session.execute(select(func.count()).select_from(LedgerEntryRow)).scalar_one() == \
        len(expected.entries) + len(expected.provider_entries)
    assert _sum(session, LedgerEntryRow.amount) == sum(
        (e.amount for e in (*expected.entries, *expected.provider_entries)), Decimal("0.00"))
    per_claim = {k: to_money(v) for k, v in session.execute(
        select(ClaimRow.claim_key, func.sum(LedgerEntryRow.amount))
        .join(ClaimRow, ClaimRow.id == LedgerEntryRow.claim_id)
        .group_by(ClaimRow.claim_key)).all()}
    for claim in claims:  # the books: charge + entries = what is still open
        balance = memory.balance(claim.claim_id)
        assert balance.is_balanced
        assert claim.total_charge + per_claim.get(claim.claim_id, Decimal("0.00")) == \
            balance.open_balance
    statuses = {c.status.value for c in expected.status_changes}
    assert statuses <= set(session.scalars(select(ClaimRow.status)))
    denials = session.execute(select(func.count()).select_from(WorklistItemRow)).scalar_one()
    assert denials == len(expected.worklist)


def test_post_payment__twice_is_a_noop(session: Session) -> None:
    claims = _stored_claims(session, 3)
    [payment, *_] = PayerSimulator(MEDICARE, seed=1).adjudicate(claims).payments
    post_payment(SqlPostingStore(session), payment)
    before = session.execute(select(func.count()).select_from(LedgerEntryRow)).scalar_one()
    again = post_payment(SqlPostingStore(session), payment)
    assert not again.posted
    assert session.execute(select(func.count()).select_from(LedgerEntryRow)).scalar_one() == \
        before
    assert session.execute(select(func.count()).select_from(RemittanceRow)).scalar_one() == 1


def test_save_posting__refuses_a_trace_another_store_saved(session: Session) -> None:
    claims = _stored_claims(session, 2)
    [payment, *_] = PayerSimulator(MEDICARE, seed=2).adjudicate(claims).payments
    first = SqlPostingStore(session)
    result = post_payment(first, payment)
    with pytest.raises(ConflictError, match="already posted"):
        SqlPostingStore(session).save_posting(result)


def test_post_era__batches_of_one_payment_add_to_one_remittance(session: Session) -> None:
    claims = _stored_claims(session, 5)
    adjudication = PayerSimulator(MEDICARE, seed=4).adjudicate(claims)
    text = adjudication.texts(payer_id="MEDICARE", submitter_id="US")["835"]

    def chunks() -> Iterator[str]:
        return iter([text])

    summary = post_era(chunks, SqlPostingStore(session), file="era.835", batch=2)
    assert not summary.refused
    memory = MemoryPostingStore(claims)
    for payment in read_835_text(text, "era.835")[0]:
        post_payment(memory, payment, file="era.835")
    assert session.execute(select(func.count()).select_from(RemittanceRow)).scalar_one() == \
        len(adjudication.payments)
    assert _sum(session, LedgerEntryRow.amount) == sum(
        (e.amount for e in (*memory.entries, *memory.provider_entries)), Decimal("0.00"))
    assert session.execute(select(func.count()).select_from(SuspenseItemRow)).scalar_one() == \
        len(memory.suspense)


def test_find_claims__unknown_claims_are_left_out(session: Session) -> None:
    claims = _stored_claims(session, 1)
    found = SqlPostingStore(session).find_claims(["E-0", "nope"])
    assert list(found) == ["E-0"]
    # what posting reads: the id, the lines (so the charge) and the date; not the people
    assert found["E-0"].claim_id == claims[0].claim_id
    assert found["E-0"].lines == claims[0].lines
    assert found["E-0"].date_of_service == claims[0].date_of_service


def test_post_era__a_big_era_matches_memory_entry_by_entry(session: Session) -> None:
    # enough entries (over bulk.COPY_FROM) for the ledger's straight-to-the-driver path
    claims = _stored_claims(session, 40)
    adjudication = PayerSimulator(MEDICARE, seed=6).adjudicate(claims)
    text = adjudication.texts(payer_id="MEDICARE", submitter_id="US")["835"]
    summary = post_era(lambda: iter([text]), SqlPostingStore(session, file_id=None),
                       file="era.835", batch=15)
    assert not summary.refused
    memory = MemoryPostingStore(claims)
    for payment in read_835_text(text, "era.835")[0]:
        post_payment(memory, payment, file="era.835")
    entries = [*memory.entries, *memory.provider_entries]
    assert len(entries) > 200
    stored = session.execute(select(LedgerEntryRow.kind, LedgerEntryRow.group_code,
                                    LedgerEntryRow.carc, LedgerEntryRow.amount)
                             .order_by(LedgerEntryRow.id)).all()
    assert sorted((k, g, c, a) for k, g, c, a in stored) == sorted(
        (e.kind.value, e.group, e.reason[:5], e.amount) for e in entries)
    assert all(type(row.amount) is Decimal for row in stored)
    final = dict(session.execute(select(ClaimRow.claim_key, ClaimRow.status)).all())
    assert final == {key: status.value for key, status in memory.statuses.items()}


def test_post_era__status_history_chains_from_each_claims_status(session: Session) -> None:
    claims = _stored_claims(session, 30)
    store_claims.set_status(session, list(session.scalars(select(ClaimRow.id))),
                            ClaimStatus.ACCEPTED)
    text = PayerSimulator(MEDICARE, seed=8).adjudicate(claims).texts(
        payer_id="MEDICARE", submitter_id="US")["835"]
    post_era(lambda: iter([text]), SqlPostingStore(session), file="era.835", batch=7)
    for claim_id, status in session.execute(select(ClaimRow.id, ClaimRow.status)):
        history = store_claims.status_history(session, claim_id)
        assert all(a.status.value == b.from_status for a, b in pairwise(history))
        assert history[-1].status.value == status


def test_find_claims__reads_each_claims_status(session: Session) -> None:
    _stored_claims(session, 3)
    store = SqlPostingStore(session)
    store.find_claims(["E-0", "E-1", "E-2"])
    rows = dict(session.execute(select(ClaimRow.id, ClaimRow.status)).all())
    assert store.statuses == rows


def test_adopt__claims_read_before_the_transaction_are_used_while_still_the_newest(
        session: Session) -> None:
    claims = _stored_claims(session, 2)
    keys = sorted(c.claim_id for c in claims)
    read = books.claims_for_posting(session, keys)
    row = read.rows[keys[0]]
    store_claims.set_status(session, [row], ClaimStatus.ACCEPTED)  # after the read
    store = SqlPostingStore(session)
    assert store.adopt(keys, read)
    assert store.find_claims(keys) == read.claims
    assert store.statuses[row] == "accepted"  # status changes start from the books' status


def test_adopt__a_newer_claim_stored_since_the_read_is_read_again(session: Session) -> None:
    claims = _stored_claims(session, 2)
    keys = sorted(c.claim_id for c in claims)
    read = books.claims_for_posting(session, keys)
    visit_row = session.scalar(select(ClaimRow.visit_id).where(ClaimRow.id == read.rows[keys[0]]))
    newer = store_claims.save_claims(session, [store_claims.NewClaim(
        visit_row, next(c for c in claims if c.claim_id == keys[0]), sequence=2)]
    )[visit_row]  # a corrected claim, stored by a biller between the read and the posting
    store = SqlPostingStore(session)
    assert not store.adopt(keys, read)
    assert store.find_claims(keys).keys() == set(keys)
    assert store.claim_rows[keys[0]] == newer


def _corrected(session: Session, claims: list, key: str) -> tuple[int, int]:  # type: ignore[type-arg]
    """The original of ``key`` (with its payer claim number) and a corrected claim of it."""
    original = books.claims_for_posting(session, [key]).rows[key]
    books.set_payer_claim_numbers(session, {original: "ICN-1"})
    visit_row = session.scalar(select(ClaimRow.visit_id).where(ClaimRow.id == original))
    claim = next(c for c in claims if c.claim_id == key)
    newer = store_claims.save_claims(session, [store_claims.NewClaim(
        visit_row, claim, sequence=2)])[visit_row]
    return original, newer


def test_claims_for_posting__a_corrected_claims_key_holds_both_claims_newest_first(
        session: Session) -> None:
    claims = _stored_claims(session, 2)
    keys = sorted(c.claim_id for c in claims)
    original, newer = _corrected(session, claims, keys[0])
    read = books.claims_for_posting(session, keys)
    both = read.claims[keys[0]]
    assert isinstance(both, ClaimSet)
    assert [(s.ref, s.payer_claim_number) for s in both.claims] == [("", ""),
                                                                     (str(original), "ICN-1")]
    assert read.rows[keys[0]] == newer and read.numbers == {keys[0]: ((newer, ""),
                                                                      (original, "ICN-1"))}
    assert not isinstance(read.claims[keys[1]], ClaimSet)  # one claim: as before
    assert {(original, 1), (newer, 1)} <= read.lines.keys()
    assert {original, newer} <= read.statuses.keys()


def test_adopt__a_payer_claim_number_learned_since_the_read_is_read_again(
        session: Session) -> None:
    """Between the read and the posting a 277CA gave the corrected claim its number: the
    claims are chosen again with it."""
    claims = _stored_claims(session, 2)
    keys = sorted(c.claim_id for c in claims)
    _, newer = _corrected(session, claims, keys[0])
    read = books.claims_for_posting(session, keys)
    store = SqlPostingStore(session)
    assert store.adopt(keys, read)
    books.set_payer_claim_numbers(session, {newer: "ICN-2"})
    assert not SqlPostingStore(session).adopt(keys, read)


def test_post_payment__a_late_payment_of_the_original_is_saved_on_its_row(
        session: Session) -> None:
    """Claims read in the posting transaction itself (``find_claims``, no ``prepare_era``)."""
    claims = _stored_claims(session, 2)
    key = sorted(c.claim_id for c in claims)[0]
    original, newer = _corrected(session, claims, key)
    [payment, *_] = PayerSimulator(MEDICARE, seed=3).adjudicate(
        [c for c in claims if c.claim_id == key]).payments
    late = replace(payment, claims=tuple(replace(c, payer_claim_number="ICN-1")
                                         for c in payment.claims))
    result = post_payment(SqlPostingStore(session, actor="era"), late, file="late.835")
    assert result.posted and {e.claim_ref for e in result.entries} == {str(original)}
    rows = session.execute(select(LedgerEntryRow.claim_id, LedgerEntryRow.claim_line_id)
                           .where(LedgerEntryRow.claim_id.is_not(None))).all()
    lines = set(session.scalars(select(ClaimLineRow.id).where(ClaimLineRow.claim_id == original)))
    assert {claim for claim, _ in rows} == {original}
    assert {line for _, line in rows if line is not None} <= lines
    statuses = dict(session.execute(select(ClaimRow.id, ClaimRow.status)).all())
    assert statuses[original] in ("paid", "partially_paid", "closed", "denied")
    assert statuses[newer] == "draft"


def test_post_era__the_clp07_is_kept_by_claims_without_a_payer_claim_number(
        session: Session) -> None:
    claims = _stored_claims(session, 12)
    rows = list(session.scalars(select(ClaimRow.id).order_by(ClaimRow.id)))
    store_claims.set_status(session, rows, ClaimStatus.ACCEPTED)
    books.set_payer_claim_numbers(session, {rows[0]: "ICN-FROM-277CA"})
    result = PayerSimulator(MEDICARE, seed=8).adjudicate(claims)
    clp07 = {c.claim_id: c.payer_claim_number for p in result.payments for c in p.claims}
    assert len(clp07) == 12 and all(clp07.values())
    text = result.texts(payer_id="MEDICARE", submitter_id="US")["835"]
    post_era(lambda: iter([text]), SqlPostingStore(session), file="era.835", batch=5)
    stored = {key: (number, status) for key, number, status in session.execute(
        select(ClaimRow.claim_key, ClaimRow.payer_claim_number, ClaimRow.status))}
    first = claims[0].claim_id
    assert stored[first][0] == "ICN-FROM-277CA"  # the 277CA's number is what a 7 refers to
    assert all(stored[key][0] == number for key, number in clp07.items() if key != first)
    assert all(status != ClaimStatus.ACCEPTED.value for _, status in stored.values())
