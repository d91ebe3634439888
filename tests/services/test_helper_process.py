"""The billing side gives the same books with a helper process as without one.

A helper process only reads committed books, so these tests commit for real: two fresh
databases (SQLite files, or two PostgreSQL schemas), one billed in this process alone and one
with a helper for every step (thresholds forced to 0, parts made small).
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from rehabill.services import billing, scrubbing
from rehabill.services.cycle import write_visit_file
from rehabill.services.imports import import_file
from rehabill.simulate.clinic import ClinicSpec, generate_visits
from rehabill.store import make_engine, make_session_factory, migrate
from rehabill.store import visits as store_visits
from tests.db import fresh_urls

TODAY = date(2026, 7, 20)
Factory = sessionmaker[Session]

TABLES = {
    "claims": "select claim_key, visit_id, sequence, payer_id, status, unit_method, "
              "total_charge, frequency, batch_id from claims order by id",
    "lines": "select * from claim_lines order by id",
    "findings": "select claim_id, file_id, stage, code, severity, message, location, fix, "
                "auto_fix from findings order by id",
    "history": "select claim_id, from_status, status, actor, note from claim_status_history "
               "order by id",
    "batches": "select id, kind, payer_id, interchange_control_number, claim_count, "
               "total_charge from batches order by id",
    "batch_claims": "select * from batch_claims order by id",
    **{table: f"select * from {table} order by id" for table in (
        "visits", "services", "practices", "providers", "patients", "payers", "coverages",
        "plans_of_care", "authorizations")},
}


@pytest.fixture(scope="module")
def visit_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    visits = generate_visits(ClinicSpec(seed=5, patients=12, weeks=6, mistake_rate=0.2))
    return write_visit_file(visits, tmp_path_factory.mktemp("visits") / "visits.json")


@pytest.fixture(params=["sqlite", "postgresql"])
def two_books(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Factory, Factory]]:
    with fresh_urls(request.param, tmp_path, ["alone", "helped"]) as urls:
        engines = [make_engine(url) for url in urls]
        try:
            for engine in engines:
                migrate(engine)
            yield make_session_factory(engines[0]), make_session_factory(engines[1])
        finally:
            for engine in engines:
                engine.dispose()


def _dump(factory: Factory) -> dict[str, list[tuple[str, ...]]]:
    with factory() as session:
        out = {}
        for name, sql in TABLES.items():
            result = session.execute(text(sql))
            keep = [i for i, column in enumerate(result.keys()) if not column.endswith("_at")]
            out[name] = [tuple(str(row[i]) for i in keep) for row in result]
        return out


def _x12(path: Path) -> str:
    """The file without the creation date and time (ISA09/10, GS04/05, BHT04/05)."""
    return re.sub(r"\*\d{6,8}\*\d{4}\*", "*D*T*", path.read_text(encoding="utf-8"))


def _bill(factory: Factory, visit_file: Path, outbox: Path
          ) -> tuple[billing.ScrubReport, billing.BatchReport]:
    import_file(factory, visit_file)
    scrub = billing.scrub_stored_claims(factory, today=TODAY)
    batch = billing.build_batch(factory, outbox=outbox, today=TODAY)
    return scrub, batch


def test_billing__same_books_with_a_helper_process(
        two_books: tuple[Factory, Factory], visit_file: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    alone, helped = two_books
    # files of several transaction sets, which two processes write set by set
    monkeypatch.setattr(billing, "CLAIMS_PER_TRANSACTION", 7)
    monkeypatch.setattr(billing, "PARALLEL_SCRUB", 10**9)
    monkeypatch.setattr(billing, "PARALLEL_BATCH", 10**9)
    scrub_a, batch_a = _bill(alone, visit_file, tmp_path / "alone")
    monkeypatch.setattr(billing, "PARALLEL_SCRUB", 0)
    monkeypatch.setattr(billing, "PARALLEL_BATCH", 0)
    monkeypatch.setattr(billing, "CHUNK", 37)  # several parts: the helper works ahead
    scrub_h, batch_h = _bill(helped, visit_file, tmp_path / "helped")
    assert scrub_h.held and scrub_h.scrubbed
    assert scrub_h == scrub_a
    assert _dump(helped) == _dump(alone)
    assert len(batch_a.files) > 1  # so the helper writes some of them
    assert batch_h == replace(batch_a, files=tuple(
        replace(f, path=f.path.replace("alone", "helped")) for f in batch_a.files))
    for a, h in zip(batch_a.files, batch_h.files, strict=True):
        assert Path(h.path).name == Path(a.path).name
        assert _x12(Path(h.path)) == _x12(Path(a.path))
    assert max(_x12(Path(f.path)).count("ST*837*") for f in batch_h.files) > 2
    # the sets' temporary files are gone; only the batches are in the outbox
    assert sorted(p.name for p in (tmp_path / "helped").iterdir()) == sorted(
        Path(f.path).name for f in batch_h.files)


def test_helper_for__none_for_small_work_or_books_it_cannot_see(tmp_path: Path) -> None:
    memory = make_session_factory(make_engine("sqlite://"))
    on_file = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'b.db'}"))
    assert not scrubbing.can_fork(memory)
    assert scrubbing.can_fork(on_file)
    assert scrubbing.helper_for(on_file, 10, 100) is None
    assert scrubbing.helper_for(memory, 10**6, 100) is None
    assert scrubbing.helper_for(on_file, 10**6, 100) is not None


def _square(_factory: object, n: int) -> int:
    return n * n


def test_share_out__every_piece_once_in_order(tmp_path: Path) -> None:
    on_file = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'b.db'}"))
    pieces = [(n,) for n in range(30)]
    for helper in (None, scrubbing.helper_for(on_file, 1, 0)):
        results = scrubbing.share_out(helper, pieces, lambda n: n * n, _square)
        assert results() == [n * n for n in range(30)]


def test_pieces_by_day__a_day_stays_whole_and_order_is_kept() -> None:
    days = {i: date(2026, 3, 1 + i % 5) for i in range(40)}
    pieces = scrubbing.pieces_by_day(list(range(40)), days, 3)
    assert 2 <= len(pieces) <= 3
    assert sorted(i for p in pieces for i in p) == list(range(40))
    assert all(p == sorted(p) for p in pieces)
    seen: set[date] = set()
    for p in pieces:
        assert not seen & {days[i] for i in p}
        seen |= {days[i] for i in p}


def test_helper_for__none_outside_the_main_thread(tmp_path: Path) -> None:
    on_file = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'b.db'}"))
    found: list[object] = []
    thread = threading.Thread(target=lambda: found.append(scrubbing.helper_for(on_file, 10, 1)))
    thread.start()
    thread.join()
    assert found == [None]


def _die(_factory: object, n: int) -> int:
    os._exit(3)


def test_share_out__a_helper_that_dies_leaves_the_work_to_this_process(tmp_path: Path) -> None:
    on_file = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'b.db'}"))
    helper = scrubbing.helper_for(on_file, 1, 0)
    results = scrubbing.share_out(helper, [(n,) for n in range(5)], lambda n: n + 1, _die)
    assert results() == [1, 2, 3, 4, 5]
    again = scrubbing.helper_for(on_file, 1, 0)  # a new helper replaces the dead one
    assert scrubbing.share_out(again, [(4,)], lambda n: -1, _square)() in ([16], [-1])


def _busy_until(_factory: object, signal: str) -> bool:
    """A long task (a visit file prepared ahead): the helper is busy until ``signal`` exists."""
    deadline = time.monotonic() + 30
    while not os.path.exists(signal) and time.monotonic() < deadline:
        time.sleep(0.01)
    return os.path.exists(signal)


def _there(_factory: object, n: int) -> tuple[str, int]:
    return "helper", n


def test_share_out__pieces_queued_behind_a_long_task_are_done_here_without_waiting(
        tmp_path: Path) -> None:
    on_file = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'b.db'}"))
    helper = scrubbing.helper_for(on_file, 1, 0)
    assert helper is not None
    signal = tmp_path / "done"
    busy = helper.submit(_busy_until, str(signal))
    # the pool queues the first pieces for the busy helper at once: too late to cancel them
    results = scrubbing.share_out(helper, [(n,) for n in range(4)], lambda n: ("here", n),
                                  _there)
    assert results() == [("here", n) for n in range(4)]  # nothing waited for the helper
    signal.touch()
    assert busy.result()
    # the helper, free again, skips the pieces taken here and goes on with new work
    assert scrubbing.share_out(helper, [(7,)], lambda n: ("here", n), _there)() in (
        [("helper", 7)], [("here", 7)])


def test_code_in_helper__a_run_shares_its_settings_and_parents(
        visit_file: Path, tmp_path: Path) -> None:
    """The helper codes a scrub run's pieces with the run's settings and parents read once
    (``code_in_helper``'s run token), and gives what each piece coded alone gives; a new run
    starts afresh."""
    engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    migrate(engine)
    factory = make_session_factory(engine)
    import_file(factory, visit_file)
    with factory() as session:
        todo = store_visits.visit_ids_without_claims(session)
        settings = scrubbing.default_settings(TODAY)
        alone = [scrubbing.code_stored(session, piece, settings, {})
                 for piece in (todo[:20], todo[20:])]
    run = scrubbing.new_run()
    try:
        first = scrubbing.code_in_helper(factory, todo[:20], TODAY, None, {}, run)
        kept = scrubbing._HELPER["scrub run"]
        second = scrubbing.code_in_helper(factory, todo[20:], TODAY, None, {}, run)
        assert scrubbing._HELPER["scrub run"] is kept
        assert [first, second] == alone
        scrubbing.code_in_helper(factory, todo[:5], TODAY, None, {}, scrubbing.new_run())
        assert scrubbing._HELPER["scrub run"][3] is not kept[3]  # a new run, a new memo
    finally:
        scrubbing._HELPER.pop("scrub run", None)
        engine.dispose()
