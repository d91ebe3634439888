"""``claim_facts`` and ``kx_totals`` pinned, field by field, to a row-by-row reading of the books.

The books are a billing cycle (held claims, denials, partial payments, PLBs) with a corrected
and a void claim, a front-door rejection, a held claim scrubbed clean later, a denial
reversed, a second remittance and an entry without one added, on SQLite and PostgreSQL. The
expected facts are folded here from every claim, line, ledger entry and status row in plain
Python, so a faster query behind the facts must still say exactly this.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rehabill.domain.money import ZERO
from rehabill.ledger import denials
from rehabill.reports import ClaimFact
from rehabill.services import billing
from rehabill.services.cycle import run_cycle, write_visit_file
from rehabill.simulate.clinic import ClinicSpec, generate_visits
from rehabill.store import make_engine, make_session_factory, migrate
from rehabill.store.facts import claim_facts, facts_and_kx, kx_totals
from rehabill.store.models import (
    BatchRow,
    ClaimLineRow,
    ClaimRow,
    ClaimStatusRow,
    LedgerEntryRow,
    PatientRow,
    PayerRow,
    ProviderRow,
    RemittanceRow,
    VisitRow,
)

TODAY = date(2026, 7, 6)
ADJUDICATED = ("paid", "partially_paid", "denied", "closed")
Factory = sessionmaker[Session]


@pytest.fixture(scope="module")
def visit_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = ClinicSpec(seed=11, start=date(2026, 6, 1), weeks=4, patients=12, mistake_rate=0.1)
    return write_visit_file(generate_visits(spec), tmp_path_factory.mktemp("facts") / "v.json")


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _books(factory: Factory, visit_file: Path, tmp_path: Path) -> None:
    """A cycle, then the cases a cycle alone does not make."""
    run_cycle(factory, visit_file, outbox=tmp_path / "out", inbox=tmp_path / "in", today=TODAY,
              seed=5)
    with factory() as s:
        paid = list(s.scalars(select(ClaimRow.id).where(ClaimRow.status == "paid",
                                                         ClaimRow.payer_claim_number != "")
                              .order_by(ClaimRow.id)))
    assert len(paid) >= 4
    billing.resubmit_claim(factory, paid[0], frequency="7", actor="t", today=TODAY)
    billing.resubmit_claim(factory, paid[1], frequency="8", actor="t", today=TODAY)
    with factory() as s, s.begin():
        when = datetime(2026, 6, 20, 9, 30)
        accepted = s.scalars(select(ClaimRow.id).where(ClaimRow.status == "accepted")
                             .order_by(ClaimRow.id)).first() or paid[2]
        s.add_all([
            # rejected at the front door, then accepted when sent again
            ClaimStatusRow(claim_id=accepted, from_status="batched", status="rejected", at=when),
            # held only after its first clean scrub: still clean on the first pass
            ClaimStatusRow(claim_id=paid[2], from_status="scrubbed", status="held", at=when),
            # a later adjudication, earlier in time: the first one (by id) still counts
            ClaimStatusRow(claim_id=paid[3], from_status="paid", status="denied",
                           at=when - timedelta(days=30)),
            ClaimStatusRow(claim_id=paid[3], from_status="denied", status="paid",
                           at=when - timedelta(days=40)),
        ])
        # a denial reversed (its CARC nets to nothing) and one kept, in the claim's 835
        remittance = s.scalars(select(LedgerEntryRow.remittance_id)
                               .where(LedgerEntryRow.claim_id == paid[3])).first()
        for kind, carc, amount in (("other_adjustment", "197", "-12.50"),
                                   ("reversal", "197", "12.50"),
                                   ("other_adjustment", "16", "-7.25")):
            s.add(LedgerEntryRow(claim_id=paid[3], remittance_id=remittance, kind=kind,
                                 group_code="CO", carc=carc, amount=Decimal(amount),
                                 posted_at=when))
        # money from a second remittance, and an entry posted by hand without one (its day is
        # the posting day; SQLite once failed to read that day back as a date)
        last = s.scalars(select(RemittanceRow.id).order_by(RemittanceRow.id.desc())).first()
        s.add(LedgerEntryRow(claim_id=paid[2], remittance_id=last, kind="payment",
                             amount=Decimal("-1.25"), posted_at=when))
        s.add(LedgerEntryRow(claim_id=accepted, kind="payment", amount=Decimal("-3.10"),
                             posted_at=when))


def _expected(s: Session) -> list[ClaimFact]:
    """Every claim's fact, read row by row (the meaning ``claim_facts`` must keep)."""
    paid_on = {r.id: r.payment_date for r in s.scalars(select(RemittanceRow))}
    entries: dict[int, list[LedgerEntryRow]] = defaultdict(list)
    for e in s.scalars(select(LedgerEntryRow).order_by(LedgerEntryRow.id)):
        if e.claim_id is not None:
            entries[e.claim_id].append(e)
    steps: dict[int, list[ClaimStatusRow]] = defaultdict(list)
    for h in s.scalars(select(ClaimStatusRow).order_by(ClaimStatusRow.id)):
        steps[h.claim_id].append(h)
    codes: dict[int, list[str]] = defaultdict(list)
    for line in s.scalars(select(ClaimLineRow).order_by(ClaimLineRow.claim_id,
                                                        ClaimLineRow.number)):
        codes[line.claim_id].append(line.code)
    out = []
    for claim in s.scalars(select(ClaimRow).order_by(ClaimRow.id)):
        visit = s.get_one(VisitRow, claim.visit_id)
        payer = s.get_one(PayerRow, claim.payer_id)
        batch = s.get(BatchRow, claim.batch_id) if claim.batch_id is not None else None
        es = entries[claim.id]

        def taken(*kinds: str, es: list[LedgerEntryRow] = es) -> Decimal:
            return -sum((e.amount for e in es if not kinds or e.kind in kinds), ZERO)

        total, paid = taken(), taken("payment")
        contractual = taken("contractual", "payer_reduction", "adjustment")
        patient = taken("patient_responsibility")
        co45 = -sum((e.amount for e in es if (e.group_code, e.carc) == ("CO", "45")), ZERO)
        days = [_day(paid_on.get(e.remittance_id or 0) or e.posted_at) for e in es]
        held: dict[tuple[str, str, str], Decimal] = defaultdict(lambda: ZERO)
        for e in es:
            if (e.group_code in ("CO", "OA", "PI") and e.carc
                    and not denials.is_routine(e.group_code, e.carc)):
                held[(e.kind, e.group_code, e.carc)] -= e.amount
        denied = {k: v for k, v in sorted(held.items()) if v > 0}
        history = steps[claim.id]
        scrub = next((h.status for h in history if h.status in ("scrubbed", "held")), None)
        result = next((h.status for h in history if h.status in ADJUDICATED), None)
        result_at = min((h.at for h in history if h.status == result), default=None)
        batched = min((h.at for h in history if h.status == "batched"), default=None)
        submitted = batch.created_at if batch is not None else batched
        adjudicated = None
        if result is not None:
            adjudicated = min(days) if days else _day(result_at)  # type: ignore[arg-type]
        out.append(ClaimFact(
            claim_id=claim.claim_key, payer_id=payer.payer_key,
            payer_name=payer.name or payer.payer_key,
            patient_id=s.get_one(PatientRow, visit.patient_id).external_id,
            rendering_npi=s.get_one(ProviderRow, visit.rendering_provider_id).npi,
            date_of_service=visit.date_of_service, charge=claim.total_charge,
            codes=tuple(dict.fromkeys(codes[claim.id])),
            submitted_on=_day(submitted) if submitted is not None else None,
            adjudicated_on=adjudicated,
            allowed=claim.total_charge - co45 if result is not None else ZERO,
            paid=paid, contractual=contractual,
            other_adjustments=total - paid - contractual - patient,
            patient_responsibility=patient, balance=claim.total_charge - total,
            scrub_clean_first_pass=scrub != "held",
            accepted_first_pass=all(h.status != "rejected" for h in history),
            denied=result in ("denied", "partially_paid"),
            denial_reasons=tuple(dict.fromkeys(f"{g}-{c}" for _, g, c in denied)),
            denied_amount=sum(denied.values(), ZERO),
            paid_first_pass=result in ("paid", "closed"),
            paid_on=max(days) if paid and days else None))
    return out


def _expected_kx(s: Session, year: int) -> list[tuple[str, str, Decimal]]:
    """Allowed therapy amounts of each visit's newest claim that left the practice."""
    claims = list(s.scalars(select(ClaimRow)))
    newest: dict[int, ClaimRow] = {}
    for c in sorted((c for c in claims if c.status != "held"), key=lambda c: c.sequence):
        newest[c.visit_id] = c
    co45: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for e in s.scalars(select(LedgerEntryRow).where(LedgerEntryRow.group_code == "CO",
                                                    LedgerEntryRow.carc == "45")):
        if e.claim_line_id is not None:
            co45[e.claim_line_id] += e.amount
    totals: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for claim in newest.values():
        visit = s.get_one(VisitRow, claim.visit_id)
        if claim.frequency == "8" or visit.date_of_service.year != year:
            continue
        patient = s.get_one(PatientRow, visit.patient_id).external_id
        for line in s.scalars(select(ClaimLineRow).where(ClaimLineRow.claim_id == claim.id)):
            kind = "ot" if "GO" in line.modifiers.split() else "pt_slp"
            totals[(patient, kind)] += line.charge + co45[line.id]
    return sorted((p, k, v) for (p, k), v in totals.items())


def test_claim_facts__every_field_is_what_the_rows_say(session_factory: Factory,
                                                       visit_file: Path,
                                                       tmp_path: Path) -> None:
    _books(session_factory, visit_file, tmp_path)
    with session_factory() as s:
        facts = claim_facts(s)
        expected = _expected(s)
        kx, expected_kx = kx_totals(s, TODAY.year), _expected_kx(s, TODAY.year)
    # the books hold every case the facts distinguish
    assert any(f.denied for f in facts) and any(f.denial_reasons for f in facts)
    assert any(not f.denied and f.denial_reasons for f in facts)  # a later denial
    assert any(0 < f.paid < f.charge - f.contractual for f in facts)  # partly paid
    assert any(not f.scrub_clean_first_pass for f in facts)
    assert any(not f.accepted_first_pass for f in facts)
    assert any(f.submitted_on is None for f in facts) and any(f.paid_on for f in facts)
    assert len({f.claim_id for f in facts}) < len(facts)  # corrected and void claims
    for got, want in zip(facts, expected, strict=True):
        assert got == want, got.claim_id
    assert kx == expected_kx and kx


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgresql",
                                                             marks=pytest.mark.postgres)])
def test_facts_and_kx__read_at_once_is_what_each_says_alone(
        database: str, visit_file: Path, tmp_path: Path, request: pytest.FixtureRequest
        ) -> None:
    """On an engine (a second connection reads the KX sums in a thread) and on a session
    bound to one connection (one after the other), the same as each read alone."""
    url = (f"sqlite:///{tmp_path / 'books.db'}" if database == "sqlite"
           else request.getfixturevalue("pg_fresh_url"))
    engine = make_engine(url)
    migrate(engine)
    factory = make_session_factory(engine, immediate=True)
    _books(factory, visit_file, tmp_path)
    with factory() as s:
        alone = (claim_facts(s), kx_totals(s, TODAY.year))
    with factory() as s:
        assert facts_and_kx(s, TODAY.year) == alone
    with engine.connect() as connection, Session(connection) as s:
        assert facts_and_kx(s, TODAY.year) == alone
    assert alone[0] and alone[1]
    engine.dispose()
