"""The billing services on the books (SQLite and PostgreSQL): scrub, batch, acks, post, fix."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from rehabill.domain import ClaimStatus
from rehabill.errors import ConflictError, UsageError
from rehabill.services import billing
from rehabill.services.cycle import simulate_payers
from rehabill.services.imports import import_file
from rehabill.simulate.payer import DenialRates
from rehabill.store import books
from rehabill.store import claims as store_claims
from rehabill.store.models import (
    AcknowledgmentRow,
    ClaimRow,
    ClaimStatusRow,
    FindingRow,
    LedgerEntryRow,
    WorklistItemRow,
)
from rehabill.x12.ack277 import Ack277, ClaimAck, StatusCode, write_277ca

TODAY = date(2026, 7, 20)
Factory = sessionmaker[Session]


def _count(factory: Factory, model: type, *where: object) -> int:  # type: ignore[type-arg]
    with factory() as s:
        query = select(func.count()).select_from(model)
        for w in where:
            query = query.where(w)  # type: ignore[arg-type]
        return int(s.execute(query).scalar_one())


def _statuses(factory: Factory) -> dict[str, str]:
    with factory() as s:
        return {k: v for k, v in s.execute(select(ClaimRow.claim_key, ClaimRow.status))}


def _scrubbed(factory: Factory, visit_file: Path) -> billing.ScrubReport:
    import_file(factory, visit_file)
    return billing.scrub_stored_claims(factory, today=TODAY)


def _batched(factory: Factory, visit_file: Path, tmp_path: Path) -> billing.BatchReport:
    _scrubbed(factory, visit_file)
    return billing.build_batch(factory, outbox=tmp_path / "outbox", today=TODAY)


def test_scrub_stored_claims__scrubs_or_holds_each_visit_once(
        session_factory: Factory, visit_file: Path) -> None:
    report = _scrubbed(session_factory, visit_file)
    assert report.coded == len(report.scrubbed) + len(report.held) > 0
    assert report.held and report.exit_code == 1
    statuses = _statuses(session_factory)
    assert {statuses[k] for k in report.held} == {"held"}
    assert {statuses[k] for k in report.scrubbed} == {"scrubbed"}
    assert _count(session_factory, FindingRow, FindingRow.stage == "scrub",
                  FindingRow.severity == "error") >= len(report.held)
    again = billing.scrub_stored_claims(session_factory, today=TODAY)
    assert again.coded == 0 and again.scrubbed == () and again.held == ()


def test_build_batch__one_837p_per_payer_and_claims_batched(
        session_factory: Factory, visit_file: Path, tmp_path: Path) -> None:
    report = _batched(session_factory, visit_file, tmp_path)
    assert report.files and report.claims == len(
        [s for s in _statuses(session_factory).values() if s == "batched"])
    numbers = [f.interchange_control_number for f in report.files]
    assert numbers == sorted(set(numbers))
    for f in report.files:
        text = Path(f.path).read_text()
        assert text.startswith("ISA") and f"*{f.interchange_control_number:09d}*" in text
        assert text.count("~CLM*") == f.claims
    assert not list((tmp_path / "outbox").glob(".*"))  # no temporary files left
    assert billing.build_batch(session_factory, outbox=tmp_path / "outbox",
                               today=TODAY).files == ()


def test_build_batch__cms1500_pdf_and_bad_kind(
        session_factory: Factory, visit_file: Path, tmp_path: Path) -> None:
    _scrubbed(session_factory, visit_file)
    with pytest.raises(UsageError):
        billing.build_batch(session_factory, outbox=tmp_path, today=TODAY, kind="ub04")
    report = billing.build_batch(session_factory, outbox=tmp_path, today=TODAY,
                                 kind="cms1500")
    assert report.kind == "CMS-1500"
    assert all(Path(f.path).read_bytes().startswith(b"%PDF") for f in report.files)


def test_read_acknowledgments__applies_999_and_277ca_once(
        session_factory: Factory, visit_file: Path, tmp_path: Path) -> None:
    batch = _batched(session_factory, visit_file, tmp_path)
    answers = simulate_payers([Path(f.path) for f in batch.files], tmp_path / "inbox")
    acks = [p for p in answers if p.suffix in (".999", ".277")]
    reports = [billing.read_acknowledgments(session_factory, p) for p in acks]
    assert sum(len(r.accepted) for r in reports) >= batch.claims
    assert all(not r.unmatched for r in reports)
    assert {s for s in _statuses(session_factory).values()} <= {"accepted", "held",
                                                                 "rejected"}
    assert _count(session_factory, AcknowledgmentRow) > 0
    again = billing.read_acknowledgments(session_factory, acks[0])
    assert again.already_read and again.findings[0].code == "books.file_already_read"


def test_read_acknowledgments__277ca_rejection_goes_to_the_worklist(
        session_factory: Factory, visit_file: Path, tmp_path: Path) -> None:
    _batched(session_factory, visit_file, tmp_path)
    batched = [k for k, v in _statuses(session_factory).items() if v == "batched"]
    ack = Ack277("0001", "B1", "20260720", "PAYER", "MEDICARE", "US", "US", (), (
        ClaimAck(batched[0], (StatusCode("A7", "562", "85"),), "PCN1"),))
    path = tmp_path / "reject.277"
    path.write_text(write_277ca([ack], sender_id="PAYER", receiver_id="US"))
    report = billing.read_acknowledgments(session_factory, path)
    assert report.rejected == (batched[0],)
    assert _statuses(session_factory)[batched[0]] == "rejected"
    assert _count(session_factory, WorklistItemRow) == 1


def test_read_acknowledgments__277ca_rejections_each_get_their_reason(
        session_factory: Factory, visit_file: Path, tmp_path: Path) -> None:
    _batched(session_factory, visit_file, tmp_path)
    batched = [k for k, v in _statuses(session_factory).items() if v == "batched"][:3]
    codes = (StatusCode("A7", "562", "85"), StatusCode("A2", "20", "PR"),
             StatusCode("A6", "21", "QC"))
    claims = zip(batched, codes, strict=True)
    ack = Ack277("0001", "B1", "20260720", "PAYER", "MEDICARE", "US", "US", (), tuple(
        ClaimAck(key, (code,), f"PCN{n}") for n, (key, code) in enumerate(claims)))
    path = tmp_path / "two-rejected.277"
    path.write_text(write_277ca([ack], sender_id="PAYER", receiver_id="US"))
    report = billing.read_acknowledgments(session_factory, path)
    assert report.rejected == (batched[0], batched[2])
    with session_factory() as s:
        items = s.execute(select(ClaimRow.claim_key, WorklistItemRow.reason).join(
            ClaimRow, ClaimRow.id == WorklistItemRow.claim_id).order_by(WorklistItemRow.id)).all()
    assert [(key, reason.split(":")[0], reason.split(" ")[2]) for key, reason in items] == [
        (batched[0], "277CA rejection", "A7:562"), (batched[2], "277CA rejection", "A6:21")]
    with session_factory() as s:
        rejected = {s.scalars(select(ClaimRow.id).where(ClaimRow.claim_key == k)).one(): k
                    for k in (batched[0], batched[2])}
    for claim_id, key in rejected.items():
        with session_factory() as s:
            found = store_claims.claim_findings(s, claim_id)
        assert [(f.code, f.location.claim_id) for f in found if f.code.startswith("ack.")] == [
            ("ack.277ca_rejected", key)]


def test_resubmit__a_rejected_claim_is_sent_again_as_it_was_first_sent(
        session_factory: Factory, visit_file: Path, tmp_path: Path) -> None:
    _batched(session_factory, visit_file, tmp_path)
    key = next(k for k, v in _statuses(session_factory).items() if v == "batched")
    ack = Ack277("0001", "B1", "20260720", "PAYER", "MEDICARE", "US", "US", (), (
        ClaimAck(key, (StatusCode("A7", "562", "85"),), "PCN9"),))
    path = tmp_path / "reject.277"
    path.write_text(write_277ca([ack], sender_id="PAYER", receiver_id="US"))
    billing.read_acknowledgments(session_factory, path)
    with session_factory() as s:
        rejected = s.scalars(select(ClaimRow.id).where(ClaimRow.claim_key == key)).one()
    with pytest.raises(ConflictError, match="nothing to void"):
        billing.resubmit_claim(session_factory, rejected, frequency="8", actor="t")
    new_id = billing.resubmit_claim(session_factory, rejected, actor="t", today=TODAY)
    with session_factory() as s:
        new = books.claim_for_update(s, new_id)
        old = books.claim_for_update(s, rejected)
        history = s.scalars(select(ClaimStatusRow.note).where(
            ClaimStatusRow.claim_id == rejected).order_by(ClaimStatusRow.id)).all()
    assert new is not None and old is not None
    assert (new.frequency, new.original_reference, new.sequence) == ("1", "", 2)
    assert new.claim_key == key and new.status in ("scrubbed", "held")
    assert old.status == "closed" and history[-1] == f"rejected; sent again as claim {new_id}"
    report = billing.build_batch(session_factory, outbox=tmp_path / "again", today=TODAY,
                                 claim_ids=[new_id])
    text = Path(report.files[0].path).read_text()
    assert f"CLM*{key}*" in text and "REF*F8" not in text and ":B:1*" in text


def test_read_acknowledgments__refuses_a_broken_file(
        session_factory: Factory, visit_file: Path, tmp_path: Path) -> None:
    batch = _batched(session_factory, visit_file, tmp_path)
    answers = simulate_payers([Path(f.path) for f in batch.files], tmp_path / "inbox")
    path = next(p for p in answers if p.suffix == ".277")
    broken = tmp_path / "broken.277"
    broken.write_text(path.read_text().replace("~SE*", "~XX*", 1))
    report = billing.read_acknowledgments(session_factory, broken)
    assert report.exit_code == 1 and report.accepted == ()
    assert report.findings[0].code == "books.file_refused"


def test_post_remittance__posts_once_and_balances_every_claim(
        session_factory: Factory, visit_file: Path, tmp_path: Path) -> None:
    batch = _batched(session_factory, visit_file, tmp_path)
    answers = simulate_payers([Path(f.path) for f in batch.files], tmp_path / "inbox",
                              rates=DenialRates.none())
    for p in answers:
        if p.suffix != ".835":
            billing.read_acknowledgments(session_factory, p)
    eras = [p for p in answers if p.suffix == ".835"]
    posts = [billing.post_remittance(session_factory, p) for p in eras]
    assert all(p.posted_traces and not p.refused for p in posts)
    entries = _count(session_factory, LedgerEntryRow)
    assert entries > 0
    assert billing.post_remittance(session_factory, eras[0]).already_read
    copy = tmp_path / "copy.835"
    shutil.copy(eras[0], copy)
    assert billing.post_remittance(session_factory, copy).already_read
    assert _count(session_factory, LedgerEntryRow) == entries
    statuses = set(_statuses(session_factory).values())
    assert statuses & {"paid", "closed", "partially_paid", "denied"}
    with session_factory() as s:
        ids = store_claims.claim_ids_by_status(s, ClaimStatus.PAID)
        assert ids and all(books.claim_balance(s, cid) == 0 for cid in ids)


def test_resubmit_and_move_balance(
        session_factory: Factory, visit_file: Path, tmp_path: Path) -> None:
    batch = _batched(session_factory, visit_file, tmp_path)
    answers = simulate_payers([Path(f.path) for f in batch.files], tmp_path / "inbox")
    for p in answers:
        if p.suffix == ".277":
            billing.read_acknowledgments(session_factory, p)
    with session_factory() as s:
        accepted = store_claims.claim_ids_by_status(s, ClaimStatus.ACCEPTED)
        held = store_claims.claim_ids_by_status(s, ClaimStatus.HELD)
    with pytest.raises(ConflictError):
        billing.resubmit_claim(session_factory, held[0], actor="t")
    new_id = billing.resubmit_claim(session_factory, accepted[0], actor="t", today=TODAY)
    void_id = billing.resubmit_claim(session_factory, accepted[1], frequency="8", actor="t")
    with session_factory() as s:
        new = books.claim_for_update(s, new_id)
        void = books.claim_for_update(s, void_id)
        old = books.claim_for_update(s, accepted[0])
    assert new is not None and void is not None and old is not None
    assert (new.frequency, new.sequence, new.status) == ("7", 2, "scrubbed")
    assert new.original_reference and new.claim_key == old.claim_key
    assert void.frequency == "8" and old.status == "closed"
    charge = Decimal(str(old.total_charge))
    moved = billing.move_balance(session_factory, accepted[2], to="patient", actor="t")
    assert moved > 0
    assert billing.move_balance(session_factory, accepted[2], to="secondary", actor="t") == 0
    with session_factory() as s:
        assert books.claim_balance(s, accepted[2]) == 0
    assert charge > 0
    with pytest.raises(UsageError):
        billing.move_balance(session_factory, accepted[2], to="moon", actor="t")


_ISA = ("ISA*00*          *00*          *ZZ*PAYER          *ZZ*US             *260301*1200*^*"
        "00501*000000001*0*P*:~")


@pytest.mark.parametrize("gap", ["", "\n", "\r\n  "])
def test_payments__bpr_and_trn_of_each_payment_wherever_segments_break(gap: str) -> None:
    segments = ["GS*HP*PAYER*US*20260301*1200*1*X*005010X221A1", "ST*835*0001",
                "BPR*I*150.00*C*ACH*CCP*01*999*DA*1*1*01*9*DA*2*3*20260315",
                "TRN*1*TRACE1*1PAYER", "REF*EV*BPR*NOT-A-SEGMENT", "SE*5*0001", "ST*835*0002",
                "BPR*I*0*C*NON************20260316", "TRN*1*TRACE2*1PAYER", "SE*4*0002",
                "TRN*1*NO-BPR-BEFORE*1PAYER"]
    text = _ISA + gap + "".join(f"{s}~{gap}" for s in segments)
    assert billing._payments(text) == [
        ("1PAYER", "TRACE1", date(2026, 3, 15), "ACH", Decimal("150.00")),
        ("1PAYER", "TRACE2", date(2026, 3, 16), "NON", Decimal("0"))]


def test_payments__not_an_835() -> None:
    assert billing._payments("not x12") == []
