"""The payers' work of one month of a busy clinic, against reading the same 837P files.

The demo clinic generator makes a month of visits (February of a clinic seen from January;
about 20,000 claims by default, a month of ``cycle_bench.py``'s 250,000-visit year), the
coder codes them and each payer's claims go into its 837P file as ``build_batch`` writes them
(grouping order, 5,000 claims per transaction set). Then, in this process:

* the floor: reading the files as the payers' process must (``tokenize``,
  ``split_transactions``, ``read_837p``);
* ``simulate_payers(..., workers=1)``: the same reading, plus ``claims_from_837p``, the
  adjudication and the 999, 277CA and 835 files written.

Times are CPU seconds of this process (``time.process_time``, best of ``--runs``); the
SHA-256 of all the answers' bytes is printed so that two versions of the simulator can be
held to the same files. For instruction counts (which a busy machine does not disturb), write
the files once and count one step alone under callgrind::

    PYTHONPATH=src python bench/simulate_bench.py --prepare /tmp/sim
    PYTHONPATH=src valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python bench/simulate_bench.py --only simulate --files /tmp/sim
    (and ``--only read`` for the floor, ``--only none`` for the imports alone)

Run: ``PYTHONPATH=src python bench/simulate_bench.py [CLAIMS] [--runs N] [--profile]``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from rehabill.coding.claims import CodingOptions, code_claim
from rehabill.domain import Claim
from rehabill.reference import load
from rehabill.services.cycle import simulate_payers
from rehabill.simulate.clinic import ClinicSpec, generate_visits
from rehabill.x12.envelope import split_transactions
from rehabill.x12.p837 import BatchSettings, grouping_key, write_837p
from rehabill.x12.p837_reader import read_837p
from rehabill.x12.tokens import tokenize

MONTH = (2026, 2)
RECEIVED = date(2026, 3, 3)  # three days after the month, as cycle_bench sends it
PAID_ON = date(2026, 3, 17)
TODAY = date(2026, 3, 20)
SEED = 3
PER_TRANSACTION = 5000  # services.billing.CLAIMS_PER_TRANSACTION
PATIENTS_PER_CLAIM = 0.1315  # the generator's patients per February visit (measured)


def month_claims(n: int) -> list[Claim]:
    """About ``n`` coded claims of one month (the month's visits of a clinic seen from the
    first week of January, so February holds episodes at every stage)."""
    spec = ClinicSpec(seed=2027, start=date(2026, 1, 5), weeks=9,
                      patients=max(1, round(n * PATIENTS_PER_CLAIM)), mistake_rate=0.03)
    reference = load()
    claims = []
    for visit in generate_visits(spec):
        if (visit.date_of_service.year, visit.date_of_service.month) != MONTH:
            continue
        claim, _ = code_claim(visit, reference, CodingOptions.for_plan(visit.coverage.plan))
        if claim.lines:
            claims.append(claim)
    return claims


def write_batches(claims: list[Claim], folder: Path) -> list[Path]:
    """Each payer's 837P file (payers sorted, claims in grouping order), as a biller sends."""
    folder.mkdir(parents=True, exist_ok=True)
    by_payer: dict[str, list[Claim]] = {}
    for claim in claims:
        by_payer.setdefault(claim.visit.coverage.payer_id, []).append(claim)
    paths = []
    for number, (payer_id, group) in enumerate(sorted(by_payer.items()), start=1):
        group.sort(key=grouping_key)
        sets = -(-len(group) // PER_TRANSACTION)
        settings = BatchSettings(
            "RIVERSIDE REHAB", "RR0001", "CLEARINGHOUSE", "CH0001", number,
            datetime(2026, 3, 3, 9, 30), contact_phone="5125550100",
            claims_per_transaction=-(-len(group) // sets))
        path = folder / f"20260303-{payer_id}-{number:09d}.837"
        with path.open("w", encoding="utf-8") as handle:
            write_837p(group, settings, handle.write)
        paths.append(path)
    return paths


def batch_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.837"))


def read_floor(paths: list[Path]) -> int:
    """What the payers' process reads before it adjudicates: every 837P to typed claims."""
    count = 0
    for path in paths:
        delimiters, segments, findings = tokenize(path.read_text(encoding="utf-8"), str(path))
        assert delimiters is not None
        for txn in split_transactions(segments, findings, str(path)):
            count += len(read_837p(txn, delimiters, str(path)).claims)
    return count


def simulate(paths: list[Path], inbox: Path) -> str:
    """The payers' answers to ``paths`` in this process; the SHA-256 of all their bytes."""
    digest = hashlib.sha256()
    for path in simulate_payers(paths, inbox, seed=SEED, received=RECEIVED, paid_on=PAID_ON,
                                not_after=TODAY, workers=1):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def seconds(run: Callable[[], object], runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        gc.collect()
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("claims", nargs="?", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3, help="best of this many")
    parser.add_argument("--profile", action="store_true", help="cProfile one simulation")
    parser.add_argument("--prepare", type=Path, help="only write the 837P files here")
    parser.add_argument("--only", choices=("read", "simulate", "none"),
                        help="one step alone on the files of --prepare (for callgrind)")
    parser.add_argument("--files", type=Path, help="the folder --prepare wrote (for --only)")
    args = parser.parse_args()
    if args.prepare:
        paths = write_batches(month_claims(args.claims), args.prepare)
        print(f"wrote {len(paths)} files, {sum(p.stat().st_size for p in paths) / 1e6:.1f} MB")
        return
    if args.only:
        paths = batch_files(args.files)
        with tempfile.TemporaryDirectory(prefix="rehabill-sim-") as inbox:
            if args.only == "read":
                print(f"read {read_floor(paths):,} claims")
            elif args.only == "simulate":
                print(f"answers sha256 {simulate(paths, Path(inbox))}")
        return
    with tempfile.TemporaryDirectory(prefix="rehabill-sim-") as folder:
        work = Path(folder)
        start = time.process_time()
        paths = write_batches(month_claims(args.claims), work / "outbox")
        size = sum(p.stat().st_size for p in paths) / 1e6
        n = read_floor(paths)
        print(f"{n:,} claims of {MONTH[0]}-{MONTH[1]:02d} in {len(paths)} 837P files "
              f"({size:.1f} MB), made in {time.process_time() - start:.1f} s (not timed)")
        if args.profile:
            profile = cProfile.Profile()
            profile.runcall(simulate, paths, work / "profiled")
            pstats.Stats(profile, stream=sys.stdout).sort_stats("tottime").print_stats(30)
        t_read = seconds(lambda: read_floor(paths), args.runs)
        t_sim = seconds(lambda: simulate(paths, work / "inbox"), args.runs)
        print(f"  floor (tokenize, split, read_837p): {t_read:6.2f} s "
              f"{n / t_read:10,.0f} claims/s")
        print(f"  simulate_payers (workers=1):        {t_sim:6.2f} s "
              f"{n / t_sim:10,.0f} claims/s  = {t_sim / t_read:.1f}x the floor")
        print(f"  answers sha256 {simulate(paths, work / 'check')}")


if __name__ == "__main__":
    main()
