"""Posting a month of 835s (``billing.post_remittance``), on a fixed input, for callgrind.

Usage::

    PYTHONPATH=src:bench python bench/posting_bench.py prepare DIR [--visits 3000] [--pg URL]
    PYTHONPATH=src:bench python bench/posting_bench.py step DIR [--no-post] [--dump FILE]

``prepare`` bills one month of the demo clinic (import → scrub → 837P → payer simulator →
acknowledgments read) into ``DIR/books.db`` (or, with ``--pg``, into a PostgreSQL database
``DIR`` names, made from the URL's server) and leaves the month's 835s in ``DIR/inbox``:
everything but the posting. ``step`` copies those books (SQLite: the file; PostgreSQL: a
database made with the prepared one as its template) and posts every 835 into the copy, in
file order, as the cycle's posting clerk does (``services.cycle._post_eras``). ``--no-post``
does all the rest (start-up, imports, the copy) but the posting, so that under callgrind::

    valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.post python bench/posting_bench.py \
        step DIR
    valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.none python bench/posting_bench.py \
        step DIR --no-post

the difference of the two totals is the posting's own instructions. ``--dump FILE`` writes
every row of the books the posting writes to (all but the times), sorted, to compare
two trees' books line by line; it prints a digest of them and the wall seconds the posting
took; on PostgreSQL also the CPU seconds of the server's backends for this database
(read from /proc: the server must run on this machine).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from rehabill.services import billing
from rehabill.services.cycle import simulate_payers, write_visit_file
from rehabill.services.imports import import_file
from rehabill.simulate.clinic import ClinicSpec, generate_visits
from rehabill.store import make_engine, make_session_factory, migrate

TODAY = date(2026, 3, 5)
POSTED_TABLES = ("remittances", "ledger_entries", "suspense_items", "worklist_items",
                 "claim_status_history", "claims", "audit_events", "files")


def prepare(work: Path, visits: int, pg: str) -> None:
    """Bill one month into fresh books; leave them and the month's answers in ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    spec = ClinicSpec(seed=2027, start=date(2026, 1, 5), weeks=8,
                      patients=max(1, round(visits / 8.0)), mistake_rate=0.03)
    month = [v for v in generate_visits(spec) if v.date_of_service.month == 2]
    visit_file = write_visit_file(month, work / "visits.json")
    url = _pg_database(pg, work.name, create=True) if pg else f"sqlite:///{work / 'books.db'}"
    engine = make_engine(url)
    migrate(engine)
    factory = make_session_factory(engine)
    import_file(factory, visit_file, actor="bench")
    scrub = billing.scrub_stored_claims(factory, today=TODAY, actor="bench")
    batch = billing.build_batch(factory, outbox=work / "outbox", today=TODAY, actor="bench")
    last = max(v.date_of_service for v in month)
    answers = simulate_payers([Path(f.path) for f in batch.files], work / "inbox", seed=5,
                              not_after=TODAY, received=last + timedelta(days=3),
                              paid_on=last + timedelta(days=17))
    for path in answers:
        if path.suffix in (".999", ".277"):
            billing.read_acknowledgments(factory, path, actor="bench")
    engine.dispose()
    (work / "answers.json").write_text(json.dumps([str(p) for p in answers if
                                                   p.suffix == ".835"]))
    print(f"{len(month)} visits, {len(scrub.scrubbed)} claims scrubbed, {batch.claims} batched, "
          f"{sum(p.suffix == '.835' for p in answers)} 835 file(s) in {work / 'inbox'}")


def _pg_database(pg: str, name: str, *, create: bool = False, template: str = "") -> str:
    """The URL of database ``name`` on ``pg``'s server (made anew when asked)."""
    admin = create_engine(pg, isolation_level="AUTOCOMMIT")
    if create or template:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            extra = f' TEMPLATE "{template}"' if template else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{extra}'))
    admin.dispose()
    return f"{pg.rsplit('/', 1)[0]}/{name}"


def step(work: Path, post: bool, dump: Path | None, pg: str) -> None:
    """Copy the prepared books and post the month's 835s into the copy."""
    if pg:
        url = _pg_database(pg, f"{work.name}_run{os.getpid()}", template=work.name)
    else:
        copy = work / f"run-{os.getpid()}.db"  # two runs at once each post into their own
        shutil.copyfile(work / "books.db", copy)
        url = f"sqlite:///{copy}"
    engine = make_engine(url)
    factory = make_session_factory(engine)
    files = [Path(p) for p in json.loads((work / "answers.json").read_text())]
    claims = 0
    server = _server_cpu(engine) if pg else 0.0
    start = time.perf_counter()
    if post:
        for path in files:
            claims += billing.post_remittance(factory, path, actor="bench").claims
    took = time.perf_counter() - start
    print(f"posted {claims} claim payments from {len(files)} file(s) in {took:.2f} s wall")
    if pg:
        print(f"PostgreSQL server CPU: {_server_cpu(engine) - server:.2f} s")
    if dump is not None:
        rows = _rows(engine)
        dump.write_text("".join(f"{line}\n" for line in rows))
        print(f"{len(rows)} rows, sha256 {hashlib.sha256(''.join(rows).encode()).hexdigest()}")
    engine.dispose()
    if pg:
        _drop_database(pg, url.rsplit("/", 1)[1])
    else:
        for path in work.glob(f"{copy.name}*"):  # the copy, its -wal and -shm
            path.unlink()


def _drop_database(pg: str, name: str) -> None:
    admin = create_engine(pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def _server_cpu(engine: object) -> float:
    """CPU seconds (user + system) of the PostgreSQL backends serving this database so far,
    from /proc (the server runs on this machine; the database is this run's own)."""
    with engine.connect() as conn:  # type: ignore[attr-defined]
        pids = conn.execute(text("SELECT pid FROM pg_stat_activity "
                                 "WHERE datname = current_database()")).scalars().all()
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _rows(engine: object) -> list[str]:
    """Every row of ``POSTED_TABLES`` but the times, as sorted text lines."""
    out: list[str] = []
    with engine.connect() as conn:  # type: ignore[attr-defined]
        inspector = inspect(conn)
        for table in POSTED_TABLES:
            names = [c["name"] for c in inspector.get_columns(table)
                     if not (c["name"].endswith("_at") or c["name"] == "at")]
            if table == "files":
                names = [n for n in names if n != "path"]
            query = f"SELECT {', '.join(names)} FROM {table}"
            out.extend(sorted(f"{table} {tuple(_plain(v) for v in row)!r}"
                              for row in conn.execute(text(query))))
    return out


def _plain(value: object) -> object:
    """Values as the same text on SQLite and PostgreSQL (amounts, JSON details)."""
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value) if value is not None else None


def main() -> None:
    """prepare or step."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("prepare", "step"))
    parser.add_argument("dir", type=Path)
    parser.add_argument("--visits", type=int, default=3000)
    parser.add_argument("--pg", default="", help="a PostgreSQL server URL (a database named "
                        "after DIR is made there)")
    parser.add_argument("--no-post", action="store_true")
    parser.add_argument("--dump", type=Path)
    args = parser.parse_args()
    if args.what == "prepare":
        prepare(args.dir, args.visits, args.pg)
    else:
        step(args.dir, not args.no_post, args.dump, args.pg)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
