"""Benchmark: read + balance a generated 835 of >= 10 MB (>= 50k claims).

Compares, in one run and on the same file: rehabill's streaming 835 reader (full model and
balancing, claims streamed and dropped), the same reader keeping every claim
(``read_835_text``), rehabill's balance-only scan (``scan_835``: envelope, amounts, the three
balancing rules, no claim objects), edi-835-parser (the `bench` extra) and a raw split floor
(``text.split`` on the segment terminator, then on the element separator: the least any
reader must do). Prints MB/s, peak memory (tracemalloc, a second run) and the ratios; times
are process CPU seconds, the best of ``--repeat`` runs.
Run from the worktree root:

    PYTHONPATH=src /work/venv/bin/python bench/remit_835_bench.py [--claims 60000]
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from rehabill.x12.remit835 import (
    Adjustment,
    AmountRef,
    ClaimPayment,
    DateRef,
    HeaderGroup,
    Party,
    Payment,
    Person,
    PlbItem,
    Procedure,
    ProviderAdjustment,
    RefId,
    Remark,
    Remittance,
    ServiceLine,
    Trace,
    iter_835,
    read_835_text,
)
from rehabill.x12.remit835_scan import scan_835
from rehabill.x12.remit835_write import iter_835_text

CODES = ("97110", "97112", "97140", "97530", "97116", "97535")


def _claim(n: int) -> ClaimPayment:
    lines = []
    for k in range(2):
        charge = Decimal(60 + (n + k) % 90)
        allowed = (charge * Decimal("0.70")).quantize(Decimal("0.01"))
        coins = (allowed * Decimal("0.20")).quantize(Decimal("0.01"))
        paid = allowed - coins
        lines.append(ServiceLine(
            Procedure("HC", CODES[(n + k) % len(CODES)], ("GP",) if k else ("GP", "KX")),
            charge, paid, units=Decimal(1 + k),
            dates=(DateRef("472", "20260302"),),
            adjustments=(Adjustment("CO", "45", charge - allowed), Adjustment("PR", "2", coins)),
            refs=(RefId("6R", f"V-{n:07d}-{k + 1}"),), amounts=(AmountRef("B6", allowed),),
            remarks=(Remark("HE", "N381"),) if n % 7 == 0 else ()))
    charge = sum((x.charge for x in lines), Decimal(0))
    paid = sum((x.paid for x in lines), Decimal(0))
    pr = sum((a.amount for x in lines for a in x.adjustments if a.group == "PR"), Decimal(0))
    return ClaimPayment(
        f"V-{n:07d}", "1", charge, paid, pr, "MB", f"2026{n:09d}", ("11", "1"),
        people=(Person("QC", "1", "LASTNAME", "FIRST", "", "", "MI", f"1EG4TE5MK{n % 100:02d}"),),
        outpatient=("", "", "MA01") if n % 5 == 0 else (),
        dates=(DateRef("232", "20260302"), DateRef("233", "20260302")),
        amounts=(AmountRef("AU", paid),), lines=tuple(lines), lx="1")


def generate(path: Path, claims: int) -> None:
    """Write one payment of ``claims`` claims (and a PLB) with rehabill's 835 writer."""
    all_claims = tuple(_claim(n) for n in range(claims))
    total = sum((c.paid for c in all_claims), Decimal(0))
    plb = ProviderAdjustment("1306849450", "20261231",
                             (PlbItem("WO", "RECOUP1", Decimal("25.00")),))
    payment = Remittance(
        "0001", Payment("I", total - Decimal("25.00"), "C", "ACH", "CCP",
                        ("01", "111000025", "DA", "123456789", "1512345678"), "20260316"),
        Trace("1", "EFT0001", "1512345678"), Party("PR", "MEDICARE PART B"),
        Party("PE", "RIVERSIDE REHAB", "XX", "1306849450"), groups=(HeaderGroup("1"),),
        claims=all_claims, provider_adjustments=(plb,))
    with path.open("w", encoding="utf-8") as out:
        for piece in iter_835_text([payment], sender_id="MEDICARE", receiver_id="RIVERSIDE"):
            out.write(piece)


def read_rehabill(path: Path) -> tuple[int, int]:
    """Stream the file through rehabill: (claims, findings)."""
    claims = findings = 0
    envelope: list[object] = []
    with path.open(encoding="utf-8") as f:
        for item in iter_835(iter(lambda: f.read(1 << 20), ""), path.name, keep_claims=False,
                             envelope_findings=envelope):  # type: ignore[arg-type]
            if isinstance(item, ClaimPayment):
                claims += 1
            else:
                findings += len(item.findings)
    return claims, findings + len(envelope)


def read_rehabill_kept(path: Path) -> tuple[int, int]:
    """The whole file into memory with every claim kept (``read_835_text``)."""
    payments, envelope = read_835_text(path.read_text(encoding="utf-8"), path.name)
    return (sum(len(p.claims) for p in payments),
            len(envelope) + sum(len(p.findings) for p in payments))


def scan_rehabill(path: Path) -> tuple[int, int]:
    """The balance-only pre-posting check: (claims, findings)."""
    with path.open(encoding="utf-8") as f:
        result = scan_835(iter(lambda: f.read(1 << 20), ""), path.name)
    return (sum(p.claims for p in result.payments),
            len(result.envelope_findings) + sum(len(p.findings) for p in result.payments))


def read_split_floor(path: Path) -> tuple[int, int]:
    """The floor: split on the terminator and on the element separator, nothing else."""
    text = path.read_text(encoding="utf-8")
    count = 0
    for raw in text.split("~"):
        if raw.split("*")[0] == "CLP":
            count += 1
    return count, 0


def read_edi_835_parser(path: Path) -> tuple[int, int]:
    """edi-835-parser (bench extra only)."""
    from edi_835_parser import parse  # bench-only dependency, imported only here

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it warns once per segment it does not handle
        sets = parse(str(path))
    return sum(len(t.claims) for t in sets.transaction_sets), 0


def measure(name: str, fn: Callable[[Path], tuple[int, int]], path: Path,
            memory: bool, repeat: int) -> tuple[float, float, tuple[int, int]]:
    """(best seconds of ``repeat`` runs, peak MB under tracemalloc or 0, result)."""
    seconds = float("inf")
    for _ in range(repeat):
        gc.collect()
        # CPU time of this process: every reader is single-threaded, and wall time on a
        # shared machine mostly measures the neighbours.
        start = time.process_time()
        result = fn(path)
        seconds = min(seconds, time.process_time() - start)
    peak = 0.0
    if memory:
        gc.collect()
        tracemalloc.start()
        fn(path)
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    return seconds, peak, result


def main() -> None:
    """Generate, measure, print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=60_000)
    parser.add_argument("--skip-edi", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs (not edi)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.835"
        start = time.perf_counter()
        generate(path, args.claims)
        size = os.path.getsize(path) / 1e6
        print(f"generated {path.name}: {size:.1f} MB, {args.claims} claims "
              f"in {time.perf_counter() - start:.1f} s")
        rows = [("split floor", read_split_floor, False), ("rehabill", read_rehabill, True),
                ("rehabill kept", read_rehabill_kept, True),
                ("rehabill scan", scan_rehabill, True)]
        if not args.skip_edi:
            rows.append(("edi-835-parser", read_edi_835_parser, False))
        speeds: dict[str, float] = {}
        for name, fn, memory in rows:
            seconds, peak, result = measure(name, fn, path, memory,
                                            1 if name == "edi-835-parser" else args.repeat)
            speeds[name] = size / seconds
            extra = f", peak {peak:.1f} MB (tracemalloc)" if memory else ""
            print(f"{name:15s} {seconds:7.2f} s  {speeds[name]:7.1f} MB/s  claims={result[0]}"
                  f" findings={result[1]}{extra}")
        for name in ("rehabill", "rehabill kept", "rehabill scan"):
            ours = speeds[name]
            print(f"{name} / split floor = {ours / speeds['split floor']:.2f} (target >= 0.33)")
            if "edi-835-parser" in speeds:
                print(f"{name} / edi-835-parser = {ours / speeds['edi-835-parser']:.1f}x "
                      "(target >= 15x)")


if __name__ == "__main__":
    main()
