"""Posting: matching, reversals, PLB, suspense, denials, idempotency, ledgers summing to zero."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from rehabill.domain.claim import Claim, ClaimLine, ClaimStatus
from rehabill.ledger import (
    EntryKind,
    MemoryPostingStore,
    NextAction,
    PostingSource,
    post_claim,
    post_payment,
    post_remittance,
    summarize,
)
from rehabill.testing import visit_from_terms
from rehabill.x12.remit835 import (
    Adjustment,
    ClaimPayment,
    DateRef,
    Party,
    Payment,
    Procedure,
    RefId,
    Remittance,
    ServiceLine,
    Trace,
    iter_835,
    read_835_text,
)
from rehabill.x12.remit835_scan import scan_835
from rehabill.x12.remit835_write import write_835

DATA = Path(__file__).resolve().parent.parent / "data" / "835"
DOS = date(2026, 3, 2)


def _claim(claim_id: str, *lines: tuple[str, tuple[str, ...], int, str], day: date = DOS
           ) -> Claim:
    visit = visit_from_terms("97110=30", visit_id=claim_id, date_of_service=day)
    return Claim(visit, tuple(
        ClaimLine(n, code, mods, units, Decimal(charge), day, control_number=f"{claim_id}-{n}")
        for n, (code, mods, units, charge) in enumerate(lines, start=1)))


def _payments(name: str) -> list[Remittance]:
    payments, envelope = read_835_text((DATA / name).read_text(), name)
    assert envelope == []
    return payments


V1001 = _claim("V-1001", ("97110", ("GP",), 2, "120.00"), ("97530", ("GP",), 1, "60.00"))


def _original_payment() -> Remittance:
    """The payment that reversal_correction.835 reverses (its CLP02=22 claim, un-negated)."""
    (payment,) = _payments("reversal_correction.835")
    original = _reverse(payment.claims[0], status="1")
    return replace(payment, claims=(original,), provider_adjustments=(),
                   trace=Trace("1", "EFT0301009", "1512345678"))


def test_post_remittance__reversal_and_correction_leave_the_correction() -> None:
    (payment,) = _payments("reversal_correction.835")
    before = post_remittance(_original_payment(), {"V-1001": V1001}).entries
    result = post_remittance(payment, {"V-1001": V1001}, file="r.835")
    balance = summarize("V-1001", V1001.total_charge, before + result.entries)
    assert balance.is_balanced
    assert (balance.paid, balance.patient_responsibility, balance.open_balance) == (
        Decimal("162.00"), Decimal("18.00"), Decimal("0.00"))
    assert [c.status for c in result.status_changes] == [ClaimStatus.ACCEPTED, ClaimStatus.PAID]
    assert result.worklist == () and result.suspense == ()
    assert [(e.kind, e.amount, e.reason) for e in result.provider_entries] == [
        (EntryKind.PROVIDER_ADJUSTMENT, Decimal("2.50"), "L6")]
    assert all(e.source.trace_number == "EFT0315001" and e.source.file == "r.835"
               for e in result.entries)
    assert {e.line for e in result.entries} == {1, 2}


def test_post_remittance__reversal_alone_reopens_the_claim() -> None:
    (payment,) = _payments("reversal_correction.835")
    before = post_remittance(_original_payment(), {"V-1001": V1001}).entries
    assert summarize("V-1001", V1001.total_charge, before).open_balance == 0
    reversal = replace(payment, claims=payment.claims[:1])
    after = post_remittance(reversal, {"V-1001": V1001}).entries
    balance = summarize("V-1001", V1001.total_charge, before + after)
    assert (balance.open_balance, balance.paid) == (Decimal("180.00"), Decimal("0.00"))


def test_post_payment__same_trace_twice_changes_nothing() -> None:
    (payment,) = _payments("reversal_correction.835")
    store = MemoryPostingStore([V1001])
    post_payment(store, _original_payment(), file="orig.835")
    first = post_payment(store, payment, file="r.835")
    entries = list(store.entries)
    second = post_payment(store, payment, file="copy-of-r.835")
    assert first.posted and not first.duplicate
    assert second.duplicate and not second.posted
    assert second.findings[0].code == "ledger.duplicate_trace"
    assert store.entries == entries
    assert store.balance("V-1001").open_balance == Decimal("0.00")


def test_post_remittance__unknown_claim_goes_to_suspense() -> None:
    (payment,) = _payments("plb_recoupment.835")
    result = post_remittance(payment, {})
    assert [(s.claim_id, s.amount) for s in result.suspense] == [("V-2001", Decimal("141.75"))]
    assert "V-2001" in result.suspense[0].reason
    assert result.entries == ()
    assert sum((e.amount for e in result.provider_entries), Decimal(0)) == Decimal("-105.00")


def test_post_remittance__line_without_ref_6r_matches_on_code_modifiers_date_units() -> None:
    (payment,) = _payments("plb_recoupment.835")
    claim = payment.claims[0]
    stripped = replace(claim, lines=tuple(replace(s, refs=()) for s in reversed(claim.lines)))
    ours = _claim("V-2001", ("97162", ("GP",), 1, "150.00"), ("97110", ("GP",), 2, "100.00"),
                  day=date(2026, 3, 10))
    result = post_remittance(replace(payment, claims=(stripped,)), {"V-2001": ours})
    payments = {e.line: e.amount for e in result.entries if e.kind is EntryKind.PAYMENT}
    assert payments == {1: Decimal("-81.00"), 2: Decimal("-60.75")}
    assert summarize("V-2001", ours.total_charge, result.entries).open_balance == 0


def test_post_remittance__changed_code_matches_by_svc06() -> None:
    (payment,) = _payments("changed_procedure.835")
    claim = payment.claims[0]
    no_refs = replace(claim, lines=tuple(replace(s, refs=()) for s in claim.lines))
    ours = _claim("V-4001", ("97124", ("GP", "59"), 3, "90.00"), ("97012", ("GP",), 1, "70.00"),
                  day=date(2026, 3, 20))
    result = post_remittance(replace(payment, claims=(no_refs,)), {"V-4001": ours})
    assert result.suspense == ()
    assert {e.line for e in result.entries} == {1, 2}
    (item,) = result.worklist
    assert (item.code, item.line, item.action) == ("CO-97", 2, NextAction.CORRECT_AND_RESUBMIT)
    assert item.remarks[0][0] == "M15" and item.remarks[0][1]
    assert result.status_changes[0].status is ClaimStatus.PARTIALLY_PAID


def test_post_remittance__denials_reach_the_worklist_with_text_and_action() -> None:
    (payment,) = _payments("claim_level_cas.835")
    claims = {"V-3001": _claim("V-3001", ("97110", ("GP",), 2, "210.00")),
              "V-3002": _claim("V-3002", ("97110", ("GP",), 2, "120.00")),
              "V-3003": _claim("V-3003", ("97140", ("GP",), 2, "100.00"))}
    result = post_remittance(payment, claims)
    items = {(w.claim_id, w.code): w for w in result.worklist}
    assert set(items) == {("V-3001", "CO-29"), ("V-3002", "CO-16")}
    timely = items[("V-3001", "CO-29")]
    assert timely.action is NextAction.WRITE_OFF
    assert "time limit" in timely.carc_text.lower()
    assert "filing deadline" in timely.plain_reason
    assert [code for code, _ in timely.remarks] == ["MA130", "N211"]
    assert items[("V-3002", "CO-16")].action is NextAction.CORRECT_AND_RESUBMIT
    statuses = {c.claim_id: c.status for c in result.status_changes}
    assert statuses["V-3001"] is ClaimStatus.DENIED
    deductible = [e for e in result.entries if e.claim_id == "V-3002" and e.reason == "1"]
    assert deductible[0].detail == "deductible"
    for claim_id, claim in claims.items():
        assert summarize(claim_id, claim.total_charge, result.entries).open_balance == 0


def test_post_remittance__payment_with_errors_is_refused_whole() -> None:
    (payment,) = _payments_allowing_errors("unbalanced.835")
    result = post_remittance(payment, {"V-7001": _claim("V-7001", ("97110", ("GP",), 2,
                                                                   "100.00"))})
    assert not result.posted and result.status_changes == ()
    assert result.findings[0].code == "ledger.not_posted"


def _payments_allowing_errors(name: str) -> list[Remittance]:
    payments, _ = read_835_text((DATA / name).read_text(), name)
    return payments


# ----------------------------------------------------------------- property: sums to zero

cents = st.integers(0, 50_000).map(lambda c: Decimal(c).scaleb(-2))


@st.composite
def adjudicated(draw: st.DrawFn) -> tuple[Claim, ClaimPayment]:
    """A claim and a balanced payer answer for it (optionally preceded by a reversal)."""
    n = draw(st.integers(1, 4))
    codes = draw(st.lists(st.sampled_from(["97110", "97112", "97140", "97530", "97535"]),
                          min_size=n, max_size=n))
    charges = draw(st.lists(st.integers(1, 40_000).map(lambda c: Decimal(c).scaleb(-2)),
                            min_size=n, max_size=n))
    claim = _claim("V-P", *[(c, ("GP",), 1 + i % 2, str(ch))
                            for i, (c, ch) in enumerate(zip(codes, charges, strict=True))])
    svcs = []
    for line in claim.lines:
        contractual = draw(st.integers(0, int(line.charge * 100))) / Decimal(100)
        rest = line.charge - contractual
        patient = draw(st.integers(0, int(rest * 100))) / Decimal(100)
        denied = draw(st.booleans()) and draw(st.booleans())
        adjustments = ((Adjustment("CO", "97", line.charge),) if denied else
                       (Adjustment("CO", "45", contractual), Adjustment("PR", "2", patient)))
        paid = Decimal(0) if denied else rest - patient
        svcs.append(ServiceLine(Procedure("HC", line.code, line.modifiers), line.charge, paid,
                                units=Decimal(line.units), dates=(DateRef("472", "20260302"),),
                                adjustments=adjustments,
                                refs=(RefId("6R", line.control_number),)
                                if draw(st.booleans()) else ()))
    paid = sum((s.paid for s in svcs), Decimal(0))
    pr = sum((a.amount for s in svcs for a in s.adjustments if a.group == "PR"), Decimal(0))
    return claim, ClaimPayment("V-P", "1", claim.total_charge, paid, pr, "MB", "PCN1",
                               lines=tuple(svcs), lx="1")


def _reverse(cp: ClaimPayment, status: str = "22") -> ClaimPayment:
    return replace(cp, status=status, charge=-cp.charge, paid=-cp.paid,
                   patient_responsibility=-(cp.patient_responsibility or 0),
                   lines=tuple(replace(s, charge=-s.charge, paid=-s.paid, adjustments=tuple(
                       replace(a, amount=-a.amount) for a in s.adjustments)) for s in cp.lines))


@settings(max_examples=60, deadline=None)
@given(adjudicated(), st.booleans())
def test_post_payment__every_posted_claim_sums_to_zero(case: tuple[Claim, ClaimPayment],
                                                       with_reversal: bool) -> None:
    claim, cp = case
    era_claims = (cp,)
    store = MemoryPostingStore([claim])
    if with_reversal:
        era_claims = (_reverse(cp), cp)
        first = Remittance("0001", Payment("I", cp.paid, "C", "ACH"), Trace("1", "T0", "P"),
                           Party("PR", "P"), Party("PE", "Q"), claims=(cp,))
        post_payment(store, first)
    payment = Remittance("0001", Payment("I", sum((c.paid for c in era_claims), Decimal(0)),
                                         "C", "ACH"),
                         Trace("1", "T1", "P"), Party("PR", "P"), Party("PE", "Q"),
                         claims=era_claims)
    (read,), _ = read_835_text(write_835([payment]), "p.835")
    assert read.findings == ()
    result = post_payment(store, read, file="p.835")
    assert not result.findings and not result.suspense
    balance = store.balance("V-P")
    assert balance.is_balanced
    assert balance.open_balance == 0
    assert balance.paid == cp.paid
    assert balance.patient_responsibility == (cp.patient_responsibility or 0)
    for line in claim.lines:
        line_entries = [e for e in store.entries if e.line == line.number]
        assert line.charge + sum((e.amount for e in line_entries), Decimal(0)) == 0


def test_post_claim__streaming_after_a_clean_scan_equals_posting_the_payment() -> None:
    text = (DATA / "changed_procedure.835").read_text()
    ours = {"V-4001": _claim("V-4001", ("97124", ("GP", "59"), 3, "90.00"),
                             ("97012", ("GP",), 1, "70.00"), day=date(2026, 3, 20))}
    scan = scan_835([text], "c.835")
    assert not scan.has_errors
    streamed = []
    index = 0
    for item in iter_835([text], "c.835", keep_claims=False):
        if isinstance(item, ClaimPayment):
            head = scan.payments[index]
            source = PostingSource("c.835", head.payer_id, head.trace_number, 0)
            streamed.append(post_claim(item, ours.get(item.claim_id), source=source))
        else:
            index += 1
    (payment,), _ = read_835_text(text, "c.835")
    whole = post_remittance(payment, ours, file="c.835")
    assert tuple(e for r in streamed for e in r.entries) == whole.entries
    assert tuple(w for r in streamed for w in r.worklist) == whole.worklist


def test_post_remittance__our_line_missing_from_the_era_is_flagged_and_stays_open() -> None:
    (payment,) = _payments("plb_recoupment.835")
    ours = _claim("V-2001", ("97162", ("GP",), 1, "150.00"), ("97110", ("GP",), 2, "100.00"),
                  ("97530", ("GP",), 1, "55.00"), day=date(2026, 3, 10))
    result = post_remittance(payment, {"V-2001": ours})
    codes = [f.code for f in result.findings]
    assert codes == ["ledger.charge_mismatch", "ledger.line_not_reported"]
    assert result.findings[1].location.line == 3
    assert summarize("V-2001", ours.total_charge, result.entries).open_balance == Decimal("55.00")
