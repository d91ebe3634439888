"""The scrub stage on the books: ``billing.scrub_stored_claims`` over one imported month.

Usage::

    PYTHONPATH=src:bench python bench/scrub_stage_bench.py --prepare DIR [--visits N]
    PYTHONPATH=src:bench python bench/scrub_stage_bench.py --books DIR --step setup|scrub
    PYTHONPATH=src:bench python bench/scrub_stage_bench.py --books DIR --dump OUT.json

``--prepare`` generates a small clinic (about N visits, default 10,000, over eight weeks; the
generator of ``cycle_bench.py``), splits it by month, imports the first month and scrubs it
(its claims are the prior claims and year-to-date amounts the next scrub reads), then imports
the second month (about 5,000 visits: one part), and keeps that SQLite file in DIR as the fixed
input.

``--step`` copies the kept file and runs one step once for ``valgrind --tool=callgrind``, in this
process alone (a helper process's instructions would be another's) but cut as the cycle cuts it:
parts of ``CHUNK`` visits, each in ``billing.PIECES`` pieces by day, every piece coded here
(``_NoHelper``: the helper never starts one)::

    setup  the copy opened, the run's settings loaded (and this module's imports)
    scrub  setup + ``scrub_stored_claims`` of the second month

so the scrub stage = I(scrub) - I(setup). ``--dump`` scrubs a copy and writes every claim, line,
status change and finding (timestamps left out) as JSON, to check that a change keeps the
books the same (``--helper``: the scrub shares its work with the real helper process, as in
the cycle; which process codes which piece then varies, the rows must not).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from concurrent.futures import Future
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from cycle_bench import split_by_month
from sqlalchemy import DateTime, MetaData, select

from rehabill.services import billing, scrubbing
from rehabill.services.imports import import_file
from rehabill.services.scrubbing import default_settings
from rehabill.simulate.clinic import ClinicSpec, generate_visits
from rehabill.store import make_engine, make_session_factory, migrate

BOOKS = "books.db"
TABLES = ("claims", "claim_lines", "claim_status_history", "findings")


def prepare(folder: Path, visits: int) -> None:
    """The fixed input: month 1 imported and scrubbed, month 2 imported."""
    folder.mkdir(parents=True, exist_ok=True)
    spec = ClinicSpec(seed=2027, start=date(2026, 1, 5), weeks=8,
                      patients=max(1, round(visits / 15.6)), mistake_rate=0.03)
    months = split_by_month(generate_visits(spec), folder)
    engine = make_engine(f"sqlite:///{folder / BOOKS}")
    migrate(engine)
    factory = make_session_factory(engine)
    (first_end, first), (second_end, second) = months[0], months[1]
    import_file(factory, first)
    billing.scrub_stored_claims(factory, today=first_end + timedelta(days=3))
    import_file(factory, second)
    engine.dispose()
    (folder / "today").write_text((second_end + timedelta(days=3)).isoformat())
    print(f"kept {folder / BOOKS} ({first.name} scrubbed, {second.name} to scrub)")


class _NoHelper:
    """A helper process that never starts a piece: ``share_out`` cuts the work as with the
    real one and then does every piece in this process (``Future.cancel`` succeeds)."""

    class claims:  # in ``Helper.claims``'s place
        @staticmethod
        def tickets(count: int) -> list[int]:
            return list(range(count))

    def offer(self, ticket: int, fn: Any, *args: Any) -> Future[Any]:
        return Future()


def scrub_copy(folder: Path, step: str, work: Path, helper: bool = False) -> Any:
    """Open a copy of the kept books and run ``step`` on it; the copy's engine."""
    shutil.copy(folder / BOOKS, work / BOOKS)
    today = date.fromisoformat((folder / "today").read_text())
    engine = make_engine(f"sqlite:///{work / BOOKS}")
    factory = make_session_factory(engine)
    if not helper:
        scrubbing.helper_for = lambda *_: _NoHelper()  # type: ignore[assignment,return-value]
    default_settings(today)
    if step == "scrub":
        report = billing.scrub_stored_claims(factory, today=today)
        print(f"coded {report.coded:,}, scrubbed {len(report.scrubbed):,}, "
              f"held {len(report.held):,}, findings {len(report.findings):,}")
    return engine


def dump(engine: Any, out: Path) -> None:
    """The scrub's tables, every row (timestamps left out), as JSON."""
    meta = MetaData()
    meta.reflect(engine, only=TABLES)
    tables: dict[str, list[list[str]]] = {}
    with engine.connect() as conn:
        for name in TABLES:
            table = meta.tables[name]
            columns = [c for c in table.columns if not isinstance(c.type, DateTime)]
            rows = conn.execute(select(*columns).order_by(*columns)).all()
            tables[name] = [[str(v) for v in row] for row in rows]
    out.write_text(json.dumps(tables, indent=0))
    print(f"{sum(map(len, tables.values())):,} rows in {len(tables)} tables -> {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepare", type=Path, help="make the fixed input in this folder")
    parser.add_argument("--visits", type=int, default=10_000)
    parser.add_argument("--books", type=Path, help="the folder --prepare made")
    parser.add_argument("--step", choices=("setup", "scrub"))
    parser.add_argument("--dump", type=Path, help="scrub, then write the scrub's rows here")
    parser.add_argument("--helper", action="store_true",
                        help="share the work with the real helper process (--dump)")
    args = parser.parse_args()
    if args.prepare:
        prepare(args.prepare, args.visits)
        return
    if args.books is None:
        parser.error("--books (or --prepare) is needed")
    with tempfile.TemporaryDirectory(prefix="rehabill-scrub-") as folder:
        engine = scrub_copy(args.books, "scrub" if args.dump else args.step or "scrub",
                            Path(folder), args.helper)
        if args.dump:
            dump(engine, args.dump)
        engine.dispose()


if __name__ == "__main__":
    main()
