"""Reading a month's acknowledgments (999 and 277CA files), step by step.

Usage::

    PYTHONPATH=src:bench python bench/ack_bench.py [--work DIR] [--rounds N]
    PYTHONPATH=src:bench python bench/ack_bench.py --step setup|read
    PYTHONPATH=src:bench python bench/ack_bench.py --dump BOOKS.json

The books are made once into ``--work`` (default a folder in the temporary directory):
``--month`` (default 3) of a small clinic-year (cycle_bench's ``_spec(N)`` and
``split_by_month``, N = ``--visits``, default 40,000: about 3,400 claims) imported, scrubbed
and batched into a SQLite file kept as a snapshot, and the payer simulator's answers (999,
277CA, 835) beside it.

Each round copies the snapshot and reads every 999 and 277CA, as the acknowledgment clerk of
``services.cycle`` does (``billing.read_acknowledgments``, each file in its own transaction on
a factory that begins ``IMMEDIATE``), and prints the CPU seconds (best of ``--rounds``) and the
microseconds per claim, with the CPU seconds spent holding SQLite's write lock.

``--step`` runs once, for ``valgrind --tool=callgrind`` (whose counts the machine's load does
not disturb): ``setup`` reads the files into one copy of the snapshot (as the clerk of the
cycle has read the months before: modules imported, statements compiled) and opens a second
copy; ``read`` does the same and reads the files into the second copy, so reading =
I(read) - I(setup).
``--dump`` reads them and writes every table's rows (timestamps left out) as JSON, to check that
a change keeps the books the same.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from book_rows import table_rows
from sqlalchemy import event

from rehabill.services import billing
from rehabill.store import make_engine, make_session_factory, migrate
from rehabill.store.engine import IMMEDIATE

SNAPSHOT = "books.db"


def make_books(work: Path, visits: int, month: int) -> None:
    """The snapshot and the payers' answers for ``month`` of a ``visits`` clinic-year."""
    from cycle_bench import _spec, split_by_month

    from rehabill.services.cycle import CycleResult, _bill, simulate_payers
    from rehabill.simulate.clinic import generate_visits

    work.mkdir(parents=True, exist_ok=True)
    end, path = split_by_month(generate_visits(_spec(visits)), work / "months")[month - 1]
    engine = make_engine(f"sqlite:///{work / SNAPSHOT}")
    migrate(engine)
    factory = make_session_factory(engine)
    today = end + timedelta(days=3)
    # run_cycle's billing, without its reading: the answers are read by each round
    _bill(CycleResult(), factory, path, outbox=work / "outbox", today=today, actor="bench",
          stage=lambda _name: _nothing())
    engine.dispose()
    sent = sorted((work / "outbox").glob("*"))
    simulate_payers(sent, work / "inbox", seed=3, not_after=today, received=today,
                    paid_on=end + timedelta(days=17), workers=1)


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def ack_files(work: Path) -> list[Path]:
    """The 999s, then the 277CAs, as ``simulate_payers`` orders them."""
    order = {".999": 0, ".277": 1}
    return sorted((p for p in (work / "inbox").iterdir() if p.suffix in order),
                  key=lambda p: (order[p.suffix], p.name))


def open_copy(work: Path, folder: Path) -> tuple[Any, Any]:
    """A copy of the snapshot in ``folder``: its engine and an IMMEDIATE session factory."""
    folder.mkdir(exist_ok=True)
    target = folder / SNAPSHOT
    shutil.copyfile(work / SNAPSHOT, target)
    engine = make_engine(f"sqlite:///{target}")
    return engine, make_session_factory(engine, immediate=True)


class LockClock:
    """CPU seconds of this process between each BEGIN IMMEDIATE and its COMMIT/ROLLBACK (the
    work done holding the write lock; its wall time, fsync and the machine's load included,
    is no measure on a shared box)."""

    def __init__(self, engine: Any) -> None:
        self.held = 0.0
        self.count = 0
        self._start: float | None = None
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", self._end)
        event.listen(engine, "rollback", self._end)

    def _begin(self, conn: Any) -> None:
        if conn.get_execution_options().get(IMMEDIATE, False):
            self._start = time.process_time()

    def _end(self, _conn: Any) -> None:
        if self._start is not None:
            self.held += time.process_time() - self._start
            self.count += 1
            self._start = None


def read_all(factory: Any, files: list[Path]) -> list[billing.AckReport]:
    """Every file read, in order, as the acknowledgment clerk reads them."""
    return [billing.read_acknowledgments(factory, path, actor="bench") for path in files]


def one_round(work: Path, files: list[Path]) -> tuple[float, float, int]:
    """CPU seconds of reading, of them while holding the write lock, 277CA claims answered."""
    with tempfile.TemporaryDirectory(prefix="rehabill-ack-") as folder:
        engine, factory = open_copy(work, Path(folder))
        clock = LockClock(engine)
        gc.disable()
        try:
            start = time.process_time()
            reports = read_all(factory, files)
            took = time.process_time() - start
        finally:
            gc.enable()
        with engine.connect() as conn:
            claims = conn.exec_driver_sql(
                "SELECT count(*) FROM acknowledgments WHERE kind = '277CA'").scalar_one()
        engine.dispose()
    del reports
    return took, clock.held, claims


def dump(work: Path, files: list[Path], out: Path) -> None:
    """Read the files into a copy of the snapshot and write every table's rows as JSON."""
    with tempfile.TemporaryDirectory(prefix="rehabill-ack-") as folder:
        engine, factory = open_copy(work, Path(folder))
        reports = read_all(factory, files)
        tables = table_rows(engine)
        tables["_reports"] = [[json.dumps(r.as_json(), sort_keys=True)] for r in reports]
        engine.dispose()
    out.write_text(json.dumps(tables, indent=0))
    print(f"{sum(map(len, tables.values())):,} rows in {len(tables)} tables -> {out}")


def main() -> None:
    """Parse the arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path,
                        default=Path(tempfile.gettempdir()) / "rehabill-ack-bench")
    parser.add_argument("--visits", type=int, default=40_000,
                        help="the clinic-year's size")
    parser.add_argument("--month", type=int, default=3, help="the month billed (1-based)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--step", choices=("setup", "read"))
    parser.add_argument("--dump", type=Path)
    args = parser.parse_args()
    if not (args.work / SNAPSHOT).exists():
        make_books(args.work, args.visits, args.month)
    files = ack_files(args.work)
    if args.dump:
        dump(args.work, files, args.dump)
        return
    if args.step:
        with tempfile.TemporaryDirectory(prefix="rehabill-ack-") as folder:
            warm, factory = open_copy(args.work, Path(folder) / "warm")
            read_all(factory, files)  # as a clerk that read the months before
            engine, factory = open_copy(args.work, Path(folder))
            if args.step == "read":
                read_all(factory, files)
            engine.dispose()
            warm.dispose()
        return
    best: tuple[float, float, int] | None = None
    for _ in range(args.rounds):
        took, held, claims = one_round(args.work, files)
        best = (took, held, claims) if best is None or took < best[0] else best
    assert best is not None
    took, held, claims = best
    print(f"{len(files)} files, {claims:,} claims answered, best of {args.rounds}: "
          f"{took:.3f} CPU s ({took / max(claims, 1) * 1e6:.1f} µs/claim), "
          f"{held:.3f} CPU s of it holding the write lock")


if __name__ == "__main__":
    main()
