"""Importing one month's visit file: ``prepare_file`` and ``import_prepared``, step by step.

Usage::

    PYTHONPATH=src:bench python bench/import_bench.py [--file MONTH.json] [--rounds N] [--pg URL]
    PYTHONPATH=src:bench python bench/import_bench.py --file F --step STEP [--prepared P]
    PYTHONPATH=src:bench python bench/import_bench.py --file F --dump BOOKS.json

The month is the clinic-year's of ``bench/cycle_bench.py`` (its ``_spec``, ``split_by_month``):
without ``--file`` the year is generated (about two minutes) and ``--month`` (default 3, about
22,000 visits and 32 MB) is written next to ``--work``'s other months and reused next time.

By default each round imports the month into a fresh SQLite file (and, with ``--pg`` or
``REHABILL_TEST_POSTGRES_URL``, a throw-away PostgreSQL schema): ``prepare_file`` (read,
``json.loads``, parse, stored ids, rows made ready: the helper process's share in the cycle),
the prepared file pickled and unpickled (what crosses between the processes), and
``import_prepared`` (the write transaction, holding SQLite's write lock). Each step prints its
CPU seconds (best of ``--rounds``, collector paused as the import pauses it) and microseconds
per visit.

``--step`` runs one step once, for ``valgrind --tool=callgrind`` (whose counts the machine's load
does not disturb); subtract the step before it::

    setup    a fresh SQLite file migrated (and this module's imports)
    prepare  setup + prepare_file (``--prepared P`` also pickles the result to P)
    load     setup + the pickled prepared file read back (``--prepared P``)
    import   load + import_prepared

so prepare = I(prepare) - I(setup) and import = I(import) - I(load). ``--dump`` imports the file
(after the ``--first`` files: stored patients and visits to meet) and writes every table's rows
(timestamps left out) as JSON, to check that a change keeps the books the same.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from book_rows import table_rows
from throwaway import pg_schema

from rehabill.services.imports import PreparedFile, import_prepared, prepare_file
from rehabill.store import make_engine, make_session_factory, migrate

STEPS = ("setup", "prepare", "load", "import")


def month_file(work: Path, month: int) -> Path:
    """The clinic-year's file for ``month`` (1-based), generated once into ``work``."""
    from cycle_bench import _spec, split_by_month

    from rehabill.simulate.clinic import generate_visits

    wanted = sorted(work.glob("visits-*.json"))
    if len(wanted) < month:
        work.mkdir(parents=True, exist_ok=True)
        split_by_month(generate_visits(_spec(250_000)), work)
        wanted = sorted(work.glob("visits-*.json"))
    return wanted[month - 1]


def books(url: str) -> Any:
    """A fresh, migrated database at ``url`` and its session factory."""
    engine = make_engine(url)
    migrate(engine)
    return engine, make_session_factory(engine)


def cpu(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Process CPU seconds of ``fn()`` (collector paused) and its result."""
    gc.disable()
    try:
        start = time.process_time()
        out = fn()
        return time.process_time() - start, out
    finally:
        gc.enable()


def crossed(prepared: PreparedFile) -> PreparedFile:
    """The prepared file as the billers' process gets it from the helper: pickled, unpickled."""
    out: PreparedFile = pickle.loads(pickle.dumps(prepared, protocol=5))
    return out


def one_round(url: str, path: Path) -> tuple[dict[str, float], int]:
    """CPU seconds of each step of one import into fresh books at ``url``; visits imported."""
    engine, factory = books(url)
    seconds: dict[str, float] = {}
    seconds["prepare_file"], prepared = cpu(partial(prepare_file, factory, path))
    seconds["pickle + unpickle"], prepared = cpu(partial(crossed, prepared))
    seconds["import_prepared"], report = cpu(partial(import_prepared, factory, prepared))
    engine.dispose()
    return seconds, len(report.imported)


def run(label: str, make_url: Callable[[int], Any], path: Path, rounds: int) -> None:
    """Best-of-``rounds`` CPU seconds of each step, each round on fresh books."""
    best: dict[str, float] = {}
    imported = 0
    for number in range(rounds):
        with make_url(number) as url:
            seconds, imported = one_round(url, path)
        best = {name: min(took, best.get(name, took)) for name, took in seconds.items()}
    print(f"\n{label}: {imported:,} visits imported from {path.name} "
          f"({path.stat().st_size / 1e6:.1f} MB), best of {rounds}")
    print(f"  {'step':<20} {'CPU s':>7} {'µs/visit':>9}")
    for name, seconds_ in best.items():
        print(f"  {name:<20} {seconds_:7.3f} {seconds_ / max(imported, 1) * 1e6:9.1f}")


def one_step(step: str, path: Path, prepared_path: Path | None, work: Path) -> None:
    """One step once (for callgrind), on a fresh SQLite file in ``work``."""
    engine, factory = books(f"sqlite:///{work / 'books.db'}")
    if step == "prepare":
        prepared = prepare_file(factory, path)
        if prepared_path is not None:
            prepared_path.write_bytes(pickle.dumps(prepared, protocol=5))
    elif step in ("load", "import"):
        if prepared_path is None:
            sys.exit("--step load/import needs --prepared (written by --step prepare)")
        loaded: PreparedFile = pickle.loads(prepared_path.read_bytes())
        if step == "import":
            import_prepared(factory, loaded)
    engine.dispose()


def dump(paths: list[Path], out: Path, work: Path) -> None:
    """Import ``paths`` in turn and write every table's rows (no timestamps) to ``out`` as
    JSON."""
    engine, factory = books(f"sqlite:///{work / 'books.db'}")
    for path in paths:
        import_prepared(factory, prepare_file(factory, path))
    tables = table_rows(engine)
    out.write_text(json.dumps(tables, indent=0))
    engine.dispose()
    print(f"{sum(map(len, tables.values())):,} rows in {len(tables)} tables -> {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="a month's visit file (default: generated)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir())
                        / "rehabill-import-bench", help="where the generated months are kept")
    parser.add_argument("--month", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pg", default=os.environ.get("REHABILL_TEST_POSTGRES_URL", ""))
    parser.add_argument("--step", choices=STEPS)
    parser.add_argument("--prepared", type=Path, help="the pickled prepared file (--step)")
    parser.add_argument("--dump", type=Path, help="import, then write the books as JSON here")
    parser.add_argument("--first", type=Path, nargs="*", default=[],
                        help="visit files imported before the month (--dump)")
    args = parser.parse_args()
    path = args.file or month_file(args.work, args.month)
    with tempfile.TemporaryDirectory(prefix="rehabill-import-") as folder:
        tmp = Path(folder)
        if args.step:
            one_step(args.step, path, args.prepared, tmp)
            return
        if args.dump:
            dump([*args.first, path], args.dump, tmp)
            return

        def sqlite_url(number: int) -> Any:
            from contextlib import nullcontext

            return nullcontext(f"sqlite:///{tmp / f'books-{number}.db'}")

        run("SQLite (file)", sqlite_url, path, args.rounds)
        if args.pg:
            run("PostgreSQL", lambda _: pg_schema(args.pg), path, args.rounds)


if __name__ == "__main__":
    main()
