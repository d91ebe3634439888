"""Building 837P batches: ``billing.build_batch`` over stored, scrubbed claims, step by step.

Usage::

    PYTHONPATH=src:bench python bench/batch_bench.py --prepare BOOKS.db [N]
    PYTHONPATH=src:bench python bench/batch_bench.py --books BOOKS.db [--rounds R]
    PYTHONPATH=src:bench python bench/batch_bench.py --books BOOKS.db --step open|batch
    PYTHONPATH=src:bench python bench/batch_bench.py --books BOOKS.db --dump OUT.json

``--prepare`` makes the fixed input once: N visits (default 4,000) of the demo clinic
(``cycle_bench._spec``: the clinic-year's payers, plans and mistakes, scaled to N), imported
into a fresh SQLite file and scrubbed (``scrub_stored_claims``), so its claims wait, ``scrubbed``,
for a batch.

Every other mode copies those books to a temporary file first and batches the copy, every
scrubbed claim into one 837P per payer, all in this process (no helper process: the
instructions of the whole batch are counted in one place):

- by default, CPU seconds of ``build_batch`` (collector paused as it pauses it), best of R;
- ``--step open`` stops after opening the copy, ``--step batch`` runs ``build_batch`` once,
  for ``valgrind --tool=callgrind``: batch = I(batch) - I(open);
- ``--dump`` writes every table's rows (timestamps left out) and each file's SHA-256 as
  JSON, with the envelope's clock fixed, to check that a change keeps the books and the
  bytes the same.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import shutil
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

from book_rows import table_rows

from rehabill.services import billing
from rehabill.services.cycle import write_visit_file
from rehabill.services.imports import import_file
from rehabill.simulate.clinic import generate_visits
from rehabill.store import make_engine, make_session_factory, migrate

TODAY = date(2027, 1, 6)


class _FixedClock(datetime):
    """``datetime`` whose ``now`` is fixed: the envelope's ISA09/GS04/BHT04 (``--dump``)."""

    @classmethod
    def now(cls, tz: Any = None) -> Any:
        return cls(2027, 1, 6, 9, 30)


def prepare(books: Path, n: int) -> None:
    """N visits imported into fresh books at ``books`` and scrubbed."""
    from cycle_bench import _spec

    books.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{books}")
    migrate(engine)
    factory = make_session_factory(engine)
    with tempfile.TemporaryDirectory() as folder:
        path = write_visit_file(generate_visits(_spec(n)), Path(folder) / "visits.json")
        imported = import_file(factory, path)
    report = billing.scrub_stored_claims(factory, today=TODAY)
    engine.dispose()
    print(f"{len(imported.imported):,} visits imported, scrubbed: {report.as_json()['scrubbed']}"
          f" -> {books}")


def batch(books: Path, work: Path, run: bool) -> tuple[Any, Any, Path]:
    """A copy of ``books`` in ``work``, opened; its scrubbed claims batched when ``run``."""
    copy = work / "books.db"
    shutil.copyfile(books, copy)
    engine = make_engine(f"sqlite:///{copy}")
    factory = make_session_factory(engine)
    outbox = work / "outbox"
    billing.PARALLEL_BATCH = 1 << 30  # everything in this process
    if run:
        billing.build_batch(factory, outbox=outbox, today=TODAY, actor="bench")
    return engine, factory, outbox


def seconds(books: Path, rounds: int) -> None:
    best = float("inf")
    claims = 0
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="rehabill-batch-") as folder:
            engine, factory, outbox = batch(books, Path(folder), run=False)
            gc.collect()
            start = time.process_time()
            report = billing.build_batch(factory, outbox=outbox, today=TODAY, actor="bench")
            best = min(best, time.process_time() - start)
            claims = report.claims
            engine.dispose()
    print(f"build_batch: {claims:,} claims, {best:.3f} s CPU (best of {rounds}), "
          f"{best / max(claims, 1) * 1e6:.1f} µs/claim")


def dump(books: Path, out: Path) -> None:
    """Batch a copy with the clock fixed; every table's rows and the files' digests."""
    billing.datetime = _FixedClock  # type: ignore[misc]
    with tempfile.TemporaryDirectory(prefix="rehabill-batch-") as folder:
        engine, _, outbox = batch(books, Path(folder), run=True)
        tables: dict[str, Any] = table_rows(
            engine, lambda v: str(v).replace(str(outbox), "OUTBOX"))
        tables["(files)"] = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                             for p in sorted(outbox.iterdir())}
        engine.dispose()
    out.write_text(json.dumps(tables, indent=0))
    print(f"{sum(map(len, tables.values())):,} rows in {len(tables)} tables -> {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=4_000)
    parser.add_argument("--prepare", type=Path, help="make the scrubbed books here")
    parser.add_argument("--books", type=Path, help="the scrubbed books (--prepare)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--step", choices=("open", "batch"))
    parser.add_argument("--dump", type=Path)
    args = parser.parse_args()
    if args.prepare:
        prepare(args.prepare, args.n)
        return
    if args.books is None:
        sys.exit("--books BOOKS.db (made by --prepare) is needed")
    if args.dump:
        dump(args.books, args.dump)
    elif args.step:
        with tempfile.TemporaryDirectory(prefix="rehabill-batch-") as folder:
            engine, _, _ = batch(args.books, Path(folder), run=args.step == "batch")
            engine.dispose()
    else:
        seconds(args.books, args.rounds)


if __name__ == "__main__":
    main()
