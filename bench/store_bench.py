"""Store throughput: import N generated visits, then code them, on SQLite and PostgreSQL.

Usage::

    PYTHONPATH=src python bench/store_bench.py [N] [--pg URL]

N defaults to 20,000. PostgreSQL runs when ``--pg`` or ``REHABILL_TEST_POSTGRES_URL`` gives a URL
(in a throw-away schema). Each stage prints visits/s and its time as a ratio to a floor measured
in the same run on the same database: one plain ``executemany`` of N two-column rows, the least
any import of N visits must do.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Date, Integer, MetaData, String, Table
from throwaway import pg_schema

from rehabill.coding import code_visit
from rehabill.domain import parse_visits
from rehabill.reference import load
from rehabill.services.claims import code_claims
from rehabill.services.imports import import_file
from rehabill.services.sources import read_source
from rehabill.services.uow import unit_of_work
from rehabill.store import make_engine, make_session_factory, migrate
from rehabill.store import visits as store_visits

PRACTICE = {"npi": "1306849450", "tax_id": "123456789", "name": "Riverside Rehab",
            "address": {"line1": "1 Main St", "city": "Austin", "state": "TX",
                        "zip": "787010001"}}
THERAPISTS = [("PT", "PTA", ["97110", "97112", "97116", "97140", "97530", "97535"]),
              ("OT", "OTA", ["97110", "97140", "97530", "97535", "97112"]),
              ("SLP", "SLPA", ["92507", "92526"])]
PAYERS = [("MEDICARE", "Medicare Part B", "medicare_part_b"),
          ("AETNA", "Aetna", "commercial"), ("BCBSTX", "Blue Cross Texas", "commercial")]


def _npi(rng: random.Random) -> str:
    return "1" + "".join(rng.choice("0123456789") for _ in range(9))


def generate(n: int, seed: int = 11) -> list[dict[str, Any]]:
    """A clinic-year's shape: ~1 patient per 100 visits, 24 clinicians, three payers."""
    rng = random.Random(seed)
    staff = [(cred, asst, codes, _npi(rng), _npi(rng))
             for cred, asst, codes in THERAPISTS for _ in range(4)]
    patients = max(1, n // 100)
    start = date(2026, 1, 2)
    visits = []
    for i in range(n):
        p = i % patients
        cred, asst, codes, npi, asst_npi = staff[p % len(staff)]
        payer_id, payer_name, plan = PAYERS[p % len(PAYERS)]
        services: list[dict[str, Any]] = []
        for code in rng.sample(codes, min(len(codes), rng.randint(1, 3))):
            services.append({"code": code, "minutes": rng.randint(8, 30),
                             "assistant_minutes": rng.choice([0, 0, 0, rng.randint(8, 20)]),
                             "activity": "documented activity", "goal": "functional goal"})
        visit: dict[str, Any] = {
            "visit_id": f"B-{i:07d}", "date_of_service": str(start + timedelta(days=i % 360)),
            "billing_provider": PRACTICE,
            "patient": {"id": f"BP-{p}", "first_name": "Pat", "last_name": f"Name{p}",
                        "birth_date": "1955-04-03", "sex": "F"},
            "coverage": {"payer_id": payer_id, "payer_name": payer_name,
                         "member_id": f"M{p:08d}", "plan": plan},
            "rendering_provider": {"npi": npi, "first_name": "Ana", "last_name": f"T{npi[-3:]}",
                                   "credential": cred},
            "diagnoses": ["M54.50", "R26.89"],
            "plan_of_care": {"start": "2026-01-01", "end": "2026-12-31",
                             "certified_on": "2026-01-03", "certifying_npi": "1457390007"},
            "services": services,
        }
        if any(s["assistant_minutes"] for s in services):
            visit["assistant"] = {"npi": asst_npi, "first_name": "Joe",
                                  "last_name": f"A{asst_npi[-3:]}", "credential": asst}
        visits.append(visit)
    return visits


CPU: dict[str, float] = {}  # this process's CPU seconds of the last call, by stage label


def timed(fn: Callable[[], Any], label: str = "") -> tuple[float, Any]:
    """Wall seconds and result of ``fn()``; its CPU seconds go to ``CPU[label]``."""
    t0, c0 = time.perf_counter(), time.process_time()
    result = fn()
    CPU[label] = time.process_time() - c0
    return time.perf_counter() - t0, result


def floor(url: str, n: int) -> float:
    """One executemany of n (key, date) rows into a scratch table: the floor for an import."""
    engine = make_engine(url)
    meta = MetaData()
    scratch = Table(f"bench_floor_{uuid.uuid4().hex[:6]}", meta,
                    Column("id", Integer, primary_key=True), Column("k", String(20), unique=True),
                    Column("d", Date))
    meta.create_all(engine)
    rows = [{"k": f"F-{i}", "d": date(2026, 1, 1)} for i in range(n)]
    with engine.begin() as conn:
        seconds, _ = timed(lambda: conn.execute(scratch.insert(), rows))
    meta.drop_all(engine)
    engine.dispose()
    return seconds


def run(label: str, url: str, path: Path, n: int) -> None:
    engine = make_engine(url)
    migrate(engine)
    factory = make_session_factory(engine)
    base = floor(url, n)
    data = path.read_bytes()
    t_parse, _ = timed(lambda: parse_visits(read_source(path, data).items), "parse")
    t_import, report = timed(lambda: import_file(factory, path), "import")
    assert len(report.imported) == n, report.findings[:3]

    def code() -> Any:
        with unit_of_work(factory) as s:
            return code_claims(s)

    t_code, coded = timed(code, "code")
    assert len(coded.coded) == n
    with factory() as s:
        ids = store_visits.visit_row_ids(s, [f"B-{i:07d}" for i in range(n)])
        t_load, loaded = timed(lambda: store_visits.load_visits(s, list(ids.values())),
                               "load")
    ref = load()
    t_pure, _ = timed(lambda: [code_visit(v, reference=ref) for v in loaded.values()], "pure")
    t_again, again = timed(lambda: import_file(factory, path), "again")
    assert again.already_imported_at
    engine.dispose()
    print(f"\n{label}: {n:,} visits; floor (executemany of {n:,} rows) {base:.2f} s")
    cpu = {"parse": CPU["parse"], "import": CPU["import"],
           "store": CPU["import"] - CPU["parse"], "code": CPU["code"], "load": CPU["load"],
           "pure": CPU["pure"], "claims": CPU["code"] - CPU["load"] - CPU["pure"],
           "again": CPU["again"]}
    print(f"  {'stage':36s} {'wall':>9s}  {'visits/s':>10s}  {'x floor':>7s}  {'cpu here':>9s}")
    for (stage, seconds), key in zip((
            ("read + parse (no database)", t_parse),
            ("import (parse + store)", t_import),
            ("  of which store", t_import - t_parse),
            ("code_claims (load + code + store)", t_code),
            ("  of which load visits", t_load),
            ("  of which coding (pure)", t_pure),
            ("  of which store claims", t_code - t_load - t_pure),
            ("re-import same file (no-op)", t_again)), cpu, strict=True):
        print(f"  {stage:36s} {seconds:7.2f} s  {n / seconds:>10,.0f}  {seconds / base:6.1f}x"
              f"  {cpu[key]:7.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=20_000)
    parser.add_argument("--pg", default=os.environ.get("REHABILL_TEST_POSTGRES_URL", ""))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "visits.json"
        t_gen, visits = timed(lambda: generate(args.n))
        path.write_text(json.dumps(visits))
        print(f"generated {args.n:,} visits in {t_gen:.2f} s ({path.stat().st_size:,} bytes)")
        run("SQLite (file)", f"sqlite:///{Path(tmp) / 'bench.db'}", path, args.n)
        if args.pg:
            with pg_schema(args.pg) as url:
                run("PostgreSQL", url, path, args.n)


if __name__ == "__main__":
    main()
