"""``build_batch`` writes its files before the transaction that makes the batches (issue 6).

The files are written from a read-only transaction with the control numbers the batches will
take; the write transaction then takes the numbers and checks them and the claims. When another
writer (a second biller, the cycle's clerk, another process) moved either in between, the
draft is thrown away and made again. These tests commit for real, on a SQLite file and on a
PostgreSQL schema of their own, since the other writer must be another transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rehabill.domain import ClaimStatus
from rehabill.services import billing
from rehabill.services.cycle import write_visit_file
from rehabill.services.imports import import_file
from rehabill.simulate.clinic import ClinicSpec, generate_visits
from rehabill.store import claims as store_claims
from rehabill.store import make_engine, make_session_factory, migrate
from rehabill.store.files import next_control_numbers
from rehabill.store.models import ClaimRow, PracticeRow

TODAY = date(2026, 7, 20)
Factory = sessionmaker[Session]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def books(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    """Books that commit for real, with this clinic's visits scrubbed."""
    url = (f"sqlite:///{tmp_path / 'books.db'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_fresh_url"))
    engine = make_engine(url)
    migrate(engine)
    factory = make_session_factory(engine)
    visits = generate_visits(ClinicSpec(seed=11, patients=6, weeks=4, mistake_rate=0.15))
    import_file(factory, write_visit_file(visits, tmp_path / "visits.json"))
    billing.scrub_stored_claims(factory, today=TODAY)
    yield factory
    engine.dispose()


def _statuses(factory: Factory) -> dict[str, str]:
    with factory() as s:
        return {k: v for k, v in s.execute(select(ClaimRow.claim_key, ClaimRow.status))}


def _isa13(path: str) -> int:
    return int(Path(path).read_text()[:106].split("*")[13])


def _meddling(monkeypatch: pytest.MonkeyPatch, factory: Factory,
              meddle: Callable[[Session], None], times: int = 1) -> list[int]:
    """After each of ``build_batch``'s first ``times`` drafts, another writer commits
    ``meddle(session)``; the list returned counts the drafts."""
    drafts: list[int] = []
    draft = billing._draft

    def meddling(*args: object, **kwargs: object) -> object:
        made = draft(*args, **kwargs)  # type: ignore[arg-type]
        drafts.append(len(made.pending))
        if len(drafts) <= times:
            with factory.begin() as other:
                meddle(other)
        return made

    monkeypatch.setattr(billing, "_draft", meddling)
    return drafts


def _other_batch(other: Session) -> None:
    """What a batch made by another writer takes: each submitter's next numbers (the
    practices' NPIs are the submitters)."""
    for npi in other.execute(select(PracticeRow.npi)).scalars():
        next_control_numbers(other, npi)


def _check_files(report: billing.BatchReport, outbox: Path, factory: Factory) -> None:
    for f in report.files:
        assert _isa13(f.path) == f.interchange_control_number
        assert Path(f.path).read_text().count("~CLM*") == f.claims
    # only the batches' files: every draft thrown away left nothing behind
    assert sorted(p.name for p in outbox.iterdir()) == \
        sorted(Path(f.path).name for f in report.files)
    assert sum(1 for s in _statuses(factory).values() if s == "batched") == report.claims


def test_build_batch__unhindered_is_one_draft(books: Factory, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    drafts = _meddling(monkeypatch, books, lambda _: None, times=0)
    report = billing.build_batch(books, outbox=tmp_path / "out", today=TODAY)
    assert len(drafts) == 1 and report.files
    assert [f.interchange_control_number for f in report.files] == \
        list(range(1, len(report.files) + 1))
    _check_files(report, tmp_path / "out", books)


def test_build_batch__another_batch_meanwhile_means_writing_the_files_again(
        books: Factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    drafts = _meddling(monkeypatch, books, _other_batch)
    report = billing.build_batch(books, outbox=tmp_path / "out", today=TODAY)
    assert len(drafts) == 2 and report.files
    assert report.files[0].interchange_control_number == 2  # 1 went to the other batch
    _check_files(report, tmp_path / "out", books)


def test_build_batch__a_claim_moved_meanwhile_is_left_out_of_the_batch(
        books: Factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scrubbed = sorted(k for k, s in _statuses(books).items() if s == "scrubbed")
    moved = scrubbed[0]

    def hold_one(other: Session) -> None:
        claim_id = other.execute(select(ClaimRow.id).where(ClaimRow.claim_key == moved)
                                 ).scalar_one()
        store_claims.set_status(other, [claim_id], ClaimStatus.HELD, actor="t", note="t")

    drafts = _meddling(monkeypatch, books, hold_one)
    report = billing.build_batch(books, outbox=tmp_path / "out", today=TODAY)
    assert len(drafts) == 2
    assert report.claims == len(scrubbed) - 1
    assert _statuses(books)[moved] == "held"
    assert all(f"CLM*{moved}*" not in Path(f.path).read_text() for f in report.files)
    _check_files(report, tmp_path / "out", books)


def test_build_batch__made_in_the_write_transaction_when_drafts_keep_going_stale(
        books: Factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    drafts = _meddling(monkeypatch, books, _other_batch, times=billing.DRAFTS)
    report = billing.build_batch(books, outbox=tmp_path / "out", today=TODAY)
    assert len(drafts) == billing.DRAFTS + 1
    assert report.files[0].interchange_control_number == billing.DRAFTS + 1
    _check_files(report, tmp_path / "out", books)
