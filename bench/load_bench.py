"""Reading stored visits and claims back: ``load_visits`` and ``load_batch_claims``.

Usage::

    PYTHONPATH=src python bench/load_bench.py [N] [--pg URL]

N visits (default 20,000) of the demo clinic are imported and coded into claims on a SQLite file
and (with ``--pg`` or ``REHABILL_TEST_POSTGRES_URL``) on PostgreSQL, in a throw-away schema. Then
each read is timed as the scrub and the batch run it (the cyclic collector paused), in this
process's CPU seconds, best of ``--rounds``: ``load_visits`` over every visit (what a scrub reads),
the same without services, and ``load_batch_claims`` over every claim (what a batch file is
written from). Each is printed in microseconds per visit and against a floor measured in the
same run on the same database: the driver's ``fetchall`` of the rows those reads need (visits,
services, claims, claim lines), nothing converted or built.
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from throwaway import pg_schema

from rehabill.services.claims import code_claims
from rehabill.services.imports import import_file
from rehabill.services.uow import unit_of_work
from rehabill.simulate.clinic import ClinicSpec, generate_visits, write_visit_file
from rehabill.store import batches as store_batches
from rehabill.store import make_engine, make_session_factory, migrate
from rehabill.store import visits as store_visits
from rehabill.store.models import ClaimRow, VisitRow

FLOOR_TABLES = ("visits", "services", "claims", "claim_lines")


def best_cpu(fn: Callable[[], Any], rounds: int) -> float:
    """The least process CPU seconds ``fn()`` took over ``rounds`` calls, collector paused."""
    best = float("inf")
    gc.disable()
    try:
        for _ in range(rounds):
            start = time.process_time()
            fn()
            best = min(best, time.process_time() - start)
    finally:
        gc.enable()
    return best


def floor_read(session: Session) -> None:
    """Every row the loaders read, as the driver gives it."""
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    for table in FLOOR_TABLES:
        cursor.execute(f'SELECT * FROM "{table}"')
        cursor.fetchall()
    cursor.close()


def run(label: str, url: str, path: Path, rounds: int) -> None:
    engine = make_engine(url)
    migrate(engine)
    factory = make_session_factory(engine)
    report = import_file(factory, path)
    with unit_of_work(factory) as session:
        code_claims(session)
    with factory() as session:
        visit_ids = list(session.scalars(select(VisitRow.id).order_by(VisitRow.id)))
        claim_ids = list(session.scalars(select(ClaimRow.id).order_by(ClaimRow.id)))
        floor = best_cpu(lambda: floor_read(session), rounds)
        figures = {
            "load_visits": best_cpu(
                lambda: store_visits.load_visits(session, visit_ids), rounds),
            "  without services": best_cpu(
                lambda: store_visits.load_visits(session, visit_ids, with_services=False),
                rounds),
            "load_batch_claims": best_cpu(
                lambda: store_batches.load_batch_claims(session, claim_ids), rounds),
        }
    engine.dispose()
    n = len(visit_ids)
    print(f"\n{label}: {len(report.imported):,} visits, {len(claim_ids):,} claims; floor (the "
          f"driver's fetchall of {', '.join(FLOOR_TABLES)}) {floor:.3f} s CPU")
    print(f"  {'read':<22} {'CPU s':>7} {'µs/visit':>9} {'x floor':>8}")
    for name, seconds in figures.items():
        print(f"  {name:<22} {seconds:7.3f} {seconds / n * 1e6:9.1f} {seconds / floor:8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=20_000)
    parser.add_argument("--pg", default=os.environ.get("REHABILL_TEST_POSTGRES_URL", ""))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    visits = generate_visits(ClinicSpec(seed=2027, start=date(2026, 1, 5), weeks=52,
                                        patients=max(1, round(args.n / 15.6)),
                                        mistake_rate=0.03))
    with tempfile.TemporaryDirectory() as tmp:
        path = write_visit_file(visits, Path(tmp) / "visits.json")
        run("SQLite (file)", f"sqlite:///{Path(tmp) / 'bench.db'}", path, args.rounds)
        if args.pg:
            with pg_schema(args.pg) as url:
                run("PostgreSQL", url, path, args.rounds)


if __name__ == "__main__":
    main()
