"""Payer simulator: deterministic, balanced, realistic denials, files that read back clean."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rehabill.coding import code_visit
from rehabill.domain.claim import Claim
from rehabill.ledger import (
    MemoryPostingStore,
    post_era,
    post_payment,
    post_read_era,
    read_era,
)
from rehabill.ledger.entries import PostingResult
from rehabill.ledger.posting import trace_key
from rehabill.ledger.store import plan_read_era, save_era_plan
from rehabill.simulate.clinic import ClinicSpec, generate_visits
from rehabill.simulate.payer import (
    COMMERCIAL,
    MEDICARE,
    DenialRates,
    PayerSimulator,
    reverse_claim,
    simulate_batches,
)
from rehabill.testing import COMMERCIAL as COMMERCIAL_COVERAGE
from rehabill.testing import visit_from_terms
from rehabill.x12 import ack277, ack999
from rehabill.x12.remit835 import read_835_text

QUIET = replace(MEDICARE, rates=DenialRates.none(), deductible=Decimal("0"))


def _claim(terms: str, **overrides: object) -> Claim:
    return code_visit(visit_from_terms(terms, **overrides)).claim  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def clinic_claims() -> list[Claim]:
    visits = generate_visits(ClinicSpec(seed=7))[:150]
    return [code_visit(v).claim for v in visits]


def test_adjudicate__medicare_line_pays_fee_schedule_less_coinsurance_and_sequestration() -> None:
    claim = _claim("97110=30")
    answer = PayerSimulator(QUIET).adjudicate_claim(claim, claim.date_of_service)
    (line,) = answer.lines
    allowed = line.allowed
    assert allowed is not None and allowed < line.charge
    groups = {(a.group, a.reason): a.amount for a in line.adjustments}
    assert groups[("CO", "45")] == line.charge - allowed
    assert groups[("PR", "2")] == (allowed * Decimal("0.20")).quantize(Decimal("0.01"))
    assert ("CO", "253") in groups
    assert line.charge - line.paid == sum(groups.values())


def test_adjudicate__assistant_lines_are_paid_at_85_percent() -> None:
    claim = _claim("97110=8/30")
    sim = PayerSimulator(QUIET)
    answer = sim.adjudicate_claim(claim, claim.date_of_service)
    cq = [x for x in answer.lines if "CQ" in x.procedure.modifiers]
    assert cq
    row = sim.reference.fees.get("97110", claim.date_of_service)
    assert row is not None
    expected = (row.nonfac_amount * int(cq[0].units or 0) * Decimal("0.85")).quantize(
        Decimal("0.01"))
    assert cq[0].allowed == min(expected, cq[0].charge)


def test_adjudicate__deductible_is_taken_once_across_claims() -> None:
    sim = PayerSimulator(replace(QUIET, deductible=Decimal("50.00")))
    first = sim.adjudicate_claim(_claim("97110=45"), date(2026, 3, 9))
    second = sim.adjudicate_claim(_claim("97110=45"), date(2026, 3, 9))
    deductibles = [a.amount for c in (first, second) for x in c.lines for a in x.adjustments
                   if a.reason == "1"]
    assert sum(deductibles, Decimal(0)) == Decimal("50.00")


def test_adjudicate__missing_discipline_modifier_is_co4() -> None:
    claim = _claim("97110=30")
    bare = replace(claim, lines=tuple(replace(x, modifiers=()) for x in claim.lines))
    answer = PayerSimulator(QUIET).adjudicate_claim(bare, bare.date_of_service)
    assert answer.status == "4"
    assert [(a.group, a.reason) for a in answer.lines[0].adjustments] == [("CO", "4")]
    assert answer.lines[0].paid == 0


def test_adjudicate__late_claim_is_denied_for_timely_filing() -> None:
    claim = _claim("97110=30")
    answer = PayerSimulator(QUIET).adjudicate_claim(claim, claim.date_of_service
                                                    + timedelta(days=400))
    assert answer.status == "4"
    assert {a.reason for x in answer.lines for a in x.adjustments} == {"29"}


def test_adjudicate__commercial_without_authorization_is_co197() -> None:
    claim = _claim("97110=30", coverage=COMMERCIAL_COVERAGE, authorization=None)
    sim = PayerSimulator(replace(COMMERCIAL, rates=DenialRates.none()))
    answer = sim.adjudicate_claim(claim, claim.date_of_service)
    assert {a.reason for x in answer.lines for a in x.adjustments} == {"197"}


def test_adjudicate__ncci_pair_without_modifier_is_bundled() -> None:
    sim = PayerSimulator(QUIET)
    on = date(2026, 3, 2)
    edit = next(e for code in ("97530", "97140", "97112", "97110", "97150")
                for e in sim.reference.ncci.partners(code, on)
                if e.column1 != e.column2 and e.column1.startswith("97")
                and e.column2.startswith("97"))
    claim = _claim(f"{edit.column1}=30 {edit.column2}=30")
    bare = replace(claim, lines=tuple(replace(x, modifiers=tuple(
        m for m in x.modifiers if m not in ("59", "XE", "XS", "XP", "XU"))) for x in claim.lines))
    answer = sim.adjudicate_claim(bare, on)
    reasons = {a.reason for x in answer.lines if x.procedure.code == edit.column2
               for a in x.adjustments}
    assert reasons & {"97", "236"}


def test_simulator__same_seed_same_files(clinic_claims: list[Claim]) -> None:
    def run(seed: int) -> dict[str, str]:
        texts: dict[str, str] = {}
        for payer_id, adj in simulate_batches(clinic_claims, seed=seed).items():
            for suffix, text in adj.texts(payer_id=payer_id, submitter_id="US").items():
                texts[f"{payer_id}.{suffix}"] = text
        return texts

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_simulator__files_read_back_balanced_and_post_to_zero(
        clinic_claims: list[Claim]) -> None:
    store = MemoryPostingStore(clinic_claims)
    reasons: set[str] = set()
    for payer_id, adj in simulate_batches(clinic_claims, seed=11).items():
        texts = adj.texts(payer_id=payer_id, submitter_id="US")
        (a999,), env999 = ack999.read_text(texts["999"], "s.999")
        (a277,), env277 = ack277.read_text(texts["277"], "s.277")
        assert env999 == env277 == [] and a999.findings == a277.findings == ()
        payments, envelope = read_835_text(texts["835"], "s.835")
        assert envelope == []
        for payment in payments:
            assert payment.findings == ()
            result = post_payment(store, payment, file=f"{payer_id}.835")
            assert not result.suspense and not result.findings
            reasons |= {w.reason for w in result.worklist}
        assert len(a277.claims) == len([c for c in clinic_claims
                                         if c.visit.coverage.payer_id == payer_id])
    posted = {e.claim_id for e in store.entries}
    assert posted
    for claim_id in posted:
        balance = store.balance(claim_id)
        assert balance.is_balanced and balance.open_balance == 0
    assert reasons  # some denials reached the worklist


def test_277ca__accepted_and_rejected_claims_pass_pyx12s_005010x214_map() -> None:
    """The simulator's 277CA is what 005010X214 asks, checked by an independent validator:
    BHT05, the payer's receipt and process dates (DTP*050, DTP*009), the billing provider
    named (2100C) and traced (2200C TRN and STC), and a service line listed only to reject it
    (2220D STC03 "U", no STC04): here one accepted claim, one rejected at the claim level (no
    diagnosis) and one for a line without a positive charge."""
    from tests.x12.helpers import pyx12_errors

    accepted = _claim("97110=30 97140=15")
    no_diagnosis = _claim("97110=30", visit_id="V-2")
    no_diagnosis = replace(no_diagnosis, visit=replace(no_diagnosis.visit, diagnoses=()))
    free = _claim("97110=30 97140=15", visit_id="V-3")
    free = replace(free, lines=(free.lines[0], replace(free.lines[1], charge=Decimal("0"))))
    adjudication = PayerSimulator(QUIET).adjudicate([accepted, no_diagnosis, free])
    text = adjudication.texts(payer_id="MEDICARE", submitter_id="US")["277"]

    assert pyx12_errors(text) == []
    (ack,), envelope = ack277.read_text(text, "s.277")
    assert envelope == [] and ack.findings == ()
    ok, claim_level, line = ack.claims
    assert [c.outcome.value for c in ack.claims] == ["accepted", "rejected", "rejected"]
    assert ok.lines == claim_level.lines == ()
    assert [s.code for s in claim_level.statuses] == ["254"]
    (rejected,) = line.lines
    assert rejected.control_number == free.lines[1].control_number
    assert [(s.category, s.code, s.action, s.amount) for s in rejected.statuses] == [
        ("A7", "178", "U", None)]
    assert "~NM1*85*2*" + free.visit.billing_provider.name.upper() + "*" in text


def test_835__names_the_billed_payer_so_posting_matches_its_claim_by_payer() -> None:
    """The simulator's 835 says who pays the way a real one does (005010X221A1 loop 1000A
    REF*2U, the payer id the claim was billed to), so ``choose_claim`` prefers the claim
    billed to that payer: here the Medicare claim over the newer, identical one billed to
    the secondary, which it would take without the payer's id. pyx12's X221A1 map passes it
    (but for ST03, which the map marks not used)."""
    from rehabill.ledger.posting import ClaimSet, StoredClaim, choose_claim, payer_ids
    from tests.x12.helpers import pyx12_errors

    primary = _claim("97110=30")
    secondary = replace(primary, visit=replace(primary.visit, coverage=COMMERCIAL_COVERAGE))
    (adjudication,) = simulate_batches([primary], seed=1).values()
    text = adjudication.texts(payer_id="MEDICARE", submitter_id="US")["835"]
    assert [e for e in pyx12_errors(text) if "(ST03)" not in e] == []

    (remittance,), envelope = read_835_text(text, "s.835")
    assert envelope == [] and remittance.findings == ()
    assert primary.visit.coverage.payer_id in payer_ids(remittance)
    stored = ClaimSet((StoredClaim(secondary, "", payer_id="COMMERCIAL"),
                       StoredClaim(primary, "row1", payer_id="MEDICARE")))
    (payment,) = remittance.claims
    assert choose_claim(payment, stored, payer_ids(remittance))[1] == "row1"
    assert choose_claim(payment, stored)[1] == ""  # no payer named: the newest


def test_reverse_claim__negates_every_amount() -> None:
    claim = _claim("97110=30")
    answer = PayerSimulator(QUIET).adjudicate_claim(claim, claim.date_of_service)
    reversal = reverse_claim(answer)
    assert reversal.status == "22" and reversal.paid == -answer.paid
    assert reversal.lines[0].adjustments[0].amount == -answer.lines[0].adjustments[0].amount


def test_post_era__whole_simulated_file_in_batches(clinic_claims: list[Claim]) -> None:
    by_payer = simulate_batches(clinic_claims, seed=5)
    payer_id, adjudication = sorted(by_payer.items())[0]
    text = adjudication.texts(payer_id=payer_id, submitter_id="US")["835"]

    def chunks() -> Iterator[str]:
        return (text[i:i + 4096] for i in range(0, len(text), 4096))

    store = MemoryPostingStore(clinic_claims)
    summary = post_era(chunks, store, file="era.835", batch=7)
    assert not summary.refused and summary.findings == ()
    assert len(summary.posted_traces) == len(adjudication.payments)
    reference = MemoryPostingStore(clinic_claims)
    for payment in read_835_text(text, "era.835")[0]:
        post_payment(reference, payment, file="era.835")
    assert sorted(map(repr, store.entries)) == sorted(map(repr, reference.entries))
    assert store.provider_entries == reference.provider_entries
    entries = list(store.entries)
    again = post_era(chunks, store, file="copy.835")
    assert again.duplicate_traces == summary.posted_traces and again.claims == 0
    assert store.entries == entries


def test_post_era__file_over_the_keep_limit_is_read_twice_and_posts_the_same(
        clinic_claims: list[Claim]) -> None:
    by_payer = simulate_batches(clinic_claims, seed=5)
    payer_id, adjudication = sorted(by_payer.items())[0]
    text = adjudication.texts(payer_id=payer_id, submitter_id="US")["835"]
    opened: list[int] = []

    def chunks() -> Iterator[str]:
        opened.append(1)
        return (text[i:i + 4096] for i in range(0, len(text), 4096))

    once, twice = MemoryPostingStore(clinic_claims), MemoryPostingStore(clinic_claims)
    kept = post_era(chunks, once, file="era.835", batch=7)
    assert len(opened) == 1
    streamed = post_era(chunks, twice, file="era.835", batch=7, keep=3)
    assert len(opened) == 3
    assert kept == streamed
    assert once.entries == twice.entries and once.statuses == twice.statuses
    assert once.worklist == twice.worklist and once.suspense == twice.suspense


def test_post_era__file_with_errors_posts_nothing() -> None:
    text = (Path(__file__).parents[1] / "data" / "835" / "unbalanced.835").read_text()
    store = MemoryPostingStore()
    summary = post_era(lambda: [text], store, file="u.835")
    assert summary.refused and summary.findings[0].code == "ledger.not_posted"
    assert store.entries == [] and store.traces == set()


def test_read_era__checks_a_file_whole_before_any_store_is_opened(
        clinic_claims: list[Claim]) -> None:
    by_payer = simulate_batches(clinic_claims, seed=5)
    payer_id, adjudication = sorted(by_payer.items())[0]
    text = adjudication.texts(payer_id=payer_id, submitter_id="US")["835"]
    read = read_era(lambda: [text], file="era.835")  # no store exists yet
    assert read.refused is None and read.kept is not None
    split, whole = MemoryPostingStore(clinic_claims), MemoryPostingStore(clinic_claims)
    assert post_read_era(read, lambda: [text], split) == post_era(lambda: [text], whole,
                                                                   file="era.835")
    assert split.entries == whole.entries and split.statuses == whole.statuses
    bad = (Path(__file__).parents[1] / "data" / "835" / "unbalanced.835").read_text()
    refused = read_era(lambda: [bad], file="u.835").refused
    assert refused is not None and refused.findings[0].code == "ledger.not_posted"


class _Recording:
    """A posting store that keeps every result it is asked to save, in order, and passes
    everything on to a memory store (a wrapper: the compiled store's methods cannot be
    replaced on the instance)."""

    def __init__(self, store: MemoryPostingStore) -> None:
        self.store = store
        self.saves: list[PostingResult] = []

    def find_claims(self, claim_ids: Iterable[str]) -> Mapping[str, Claim]:
        return self.store.find_claims(claim_ids)

    def is_posted(self, trace_key: str) -> bool:
        return self.store.is_posted(trace_key)

    def save_posting(self, result: PostingResult) -> None:
        self.saves.append(result)
        self.store.save_posting(result)


@pytest.mark.parametrize("posted_before", [False, True])
def test_plan_read_era__saves_what_post_read_era_saves(clinic_claims: list[Claim],
                                                       posted_before: bool) -> None:
    by_payer = simulate_batches(clinic_claims, seed=5)
    payer_id, adjudication = sorted(by_payer.items())[0]
    text = adjudication.texts(payer_id=payer_id, submitter_id="US")["835"]
    read = read_era(lambda: [text], file="era.835")
    done = {trace_key(read.heads[0])} if posted_before else set()
    planned, streamed = MemoryPostingStore(clinic_claims), MemoryPostingStore(clinic_claims)
    planned.traces.update(done)
    streamed.traces.update(done)
    plan = plan_read_era(read, planned.find_claims, batch=7)  # several batches a payment
    assert plan is not None
    saved, posted = _Recording(planned), _Recording(streamed)
    summary = save_era_plan(plan, saved)
    assert summary == post_read_era(read, lambda: [text], posted, batch=7)
    assert saved.saves == posted.saves and bool(saved.saves) is not posted_before
    assert (summary.claims == 0) is posted_before


@functools.cache
def _few_claims() -> tuple[Claim, ...]:
    return tuple(code_visit(v).claim for v in generate_visits(ClinicSpec(seed=21))[:40])


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([Decimal("0"), Decimal("0.2"), Decimal("0.5")]))
def test_simulator__any_seed_and_rates_balance_and_post_to_zero(seed: int,
                                                                rate: Decimal) -> None:
    rates = DenialRates(rate, rate, rate, rate, rate)
    for profile in (MEDICARE, COMMERCIAL):
        store = MemoryPostingStore(_few_claims())
        sim = PayerSimulator(replace(profile, rates=rates), seed=seed)
        adjudication = sim.adjudicate(_few_claims())
        text = adjudication.texts(payer_id=profile.payer_id, submitter_id="US")["835"]
        payments, envelope = read_835_text(text, "s.835")
        assert envelope == [] and all(p.findings == () for p in payments)
        for payment in payments:
            post_payment(store, payment)
        for claim_id in {e.claim_id for e in store.entries}:
            assert store.balance(claim_id).open_balance == 0


def test_adjudicate__never_pays_after_not_after(clinic_claims: list[Claim]) -> None:
    # Every paid claim is reversed and corrected, which the simulator dates three weeks later.
    rates = replace(DenialRates.none(), claim_reversal=Decimal("1"))
    sim = PayerSimulator(replace(MEDICARE, rates=rates), seed=1)
    today = date(2026, 11, 28)
    answer = sim.adjudicate(clinic_claims[:20], received=today - timedelta(days=3),
                            paid_on=today, not_after=today)
    assert len(answer.payments) == 2
    assert {p.payment.date for p in answer.payments} == {"20261128"}


def test_chance__draws_what_randrange_draws() -> None:
    import random

    sim = PayerSimulator(MEDICARE, seed=42)
    twin = random.Random(42)
    for odds in (0, 1, 200, 5000, 9999, 10_000) * 500:
        assert sim._chance(odds) == (twin.randrange(10_000) < odds)
    assert sim.random.getstate() == twin.getstate()
