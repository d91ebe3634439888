"""837P throughput, each figure against a baseline measured in the same run.

Writing: 100,000 claims through ``write_837p`` (HL grouping, counts, escaping, streaming) against
a raw floor that only joins the same claims' segment strings, built beforehand, into the same
sink. Memory: the peak while streaming a generator of claims stays flat as the batch grows.

Reading: ``read_837p_text`` (one pass: delimiters, envelope checks, 837P reader and its checks,
typed claims), the same through ``tokenize`` + ``split_transactions`` + ``read_837p`` (a
``Segment`` per segment, the path before ``read_837p_text``), and ``read_x12`` (which also
builds the JSON-ready dicts) in MB/s, against pyx12 4.0.0 validating the same (smaller) file in
the same run.

Times are CPU seconds of this process (``time.process_time``), so a busy machine skews them
less than wall-clock time would; both sides of each ratio are timed the same way.

Run: ``PYTHONPATH=src python bench/x12_837_bench.py [CLAIMS]``.
"""

from __future__ import annotations

import gc
import io
import logging
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from rehabill.domain import Claim, ClaimLine
from rehabill.testing import visit_from_terms
from rehabill.x12.envelope import split_transactions
from rehabill.x12.p837 import BatchSettings, grouping_key, render_837p, write_837p
from rehabill.x12.p837_reader import read_837p, read_837p_text
from rehabill.x12.reader import read_x12
from rehabill.x12.tokens import tokenize

TEMPLATES = ("97530=25 97110=10/13 97161", "97112=38 97140=15", "97110=30",
             "97530=40 97116=20 97535=15", "92507=45", "97165 97530=30 97110=20")
SETTINGS = BatchSettings("RIVERSIDE REHAB", "RR0001", "CLEARINGHOUSE", "CH0001", 1,
                         datetime(2026, 3, 3, 9, 30), contact_phone="5125550100")


def make_claim(i: int) -> Claim:
    """Claim ``i``: one of a few visit shapes, its own id, patient and date."""
    base = visit_from_terms(TEMPLATES[i % len(TEMPLATES)])
    patient = replace(base.patient, id=f"P-{i // 3}", last_name=f"PATIENT{i // 3}")
    coverage = replace(base.coverage, member_id=f"M{i // 3:09d}")
    dos = date(2026, 1, 1) + timedelta(days=i % 300)
    visit = replace(base, visit_id=f"V-{i}", patient=patient, coverage=coverage,
                    date_of_service=dos)
    lines = tuple(
        ClaimLine(n, s.code, ("GP", "CQ") if s.assistant_minutes else ("GP",),
                  max(1, (s.minutes + s.assistant_minutes + 7) // 15), Decimal("35.25"), dos,
                  (1, 2) if n == 1 else (1,), f"V-{i}-{n}")
        for n, s in enumerate(visit.services, start=1))
    return Claim(visit, lines)


def claims(n: int) -> Iterator[Claim]:
    return (make_claim(i) for i in range(n))


def prebuilt_segments(batch: list[Claim]) -> list[list[str]]:
    """Each claim's segments as ready strings, grouped per claim (built outside the timing)."""
    text = render_837p(batch, SETTINGS)
    out: list[list[str]] = []
    current: list[str] = []
    for segment in text.split("~"):
        if segment.startswith(("CLM*", "SE*")) and current:
            out.append(current)
            current = []
        current.append(segment)
    out.append(current)
    return out


def bench_write(n: int) -> None:
    batch = sorted(claims(n), key=grouping_key)
    pieces = prebuilt_segments(batch)
    size = 0

    def sink(text: str) -> None:
        nonlocal size
        size += len(text)

    t0 = time.process_time()
    for piece in pieces:
        sink("~".join(piece) + "~")
    t_floor = time.process_time() - t0
    floor_size, size = size, 0
    t0 = time.process_time()
    summary = write_837p(batch, SETTINGS, sink)
    t_write = time.process_time() - t0
    mb = size / 1e6
    print(f"write: {n:,} claims, {summary.lines:,} lines, {mb:.1f} MB, "
          f"{summary.transactions} transactions")
    print(f"  floor (join pre-built segments): {n / t_floor:12,.0f} claims/s "
          f"{floor_size / 1e6 / t_floor:8.1f} MB/s")
    print(f"  write_837p:                      {n / t_write:12,.0f} claims/s "
          f"{mb / t_write:8.1f} MB/s")
    print(f"  write_837p time / floor time: {t_write / t_floor:.1f}x")


def bench_memory(sizes: tuple[int, ...]) -> None:
    for n in sizes:
        tracemalloc.start()
        write_837p(claims(n), SETTINGS, lambda text: None)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"memory: streaming {n:,} claims from a generator, peak {peak / 1e6:.2f} MB")


def read_typed(text: str) -> int:
    """Read and check every 837P into typed values in one pass (envelope checked too).

    The cyclic collector is paused as ``read_x12`` does it (see ``reader._collector_paused``).
    """
    gc.disable()
    try:
        transactions, _ = read_837p_text(text)
        return sum(len(t.claims) for t in transactions)
    finally:
        gc.enable()


def read_via_segments(text: str) -> int:
    """The same through a ``Segment`` per segment: tokenize, split the envelope, read."""
    gc.disable()
    try:
        delimiters, segments, findings = tokenize(text)
        assert delimiters is not None
        return sum(len(read_837p(t, delimiters).claims)
                   for t in split_transactions(segments, findings))
    finally:
        gc.enable()


def best_of(runs: int, read: Callable[[str], object], text: str) -> float:
    best = float("inf")
    for _ in range(runs):
        gc.collect()
        t0 = time.process_time()
        read(text)
        best = min(best, time.process_time() - t0)
    return best


def bench_read(n_big: int, n_small: int) -> None:
    big = render_837p(claims(n_big), SETTINGS)
    mb = len(big) / 1e6
    assert read_typed(big) == read_via_segments(big)
    t_typed, t_json = best_of(3, read_typed, big), best_of(3, read_x12, big)
    t_segments = best_of(3, read_via_segments, big)
    print(f"read: {mb:.1f} MB, {read_typed(big):,} claims (best of 3)")
    print(f"  read/check to typed claims (read_837p_text): {mb / t_typed:6.1f} MB/s")
    print(f"  the same via Segment values:                 {mb / t_segments:6.1f} MB/s")
    print(f"  read_x12 (+ JSON-ready dicts):               {mb / t_json:6.1f} MB/s")
    small = render_837p(claims(n_small), SETTINGS)
    mb = len(small) / 1e6
    t_typed, t_json = best_of(5, read_typed, small), best_of(5, read_x12, small)
    t_segments = best_of(5, read_via_segments, small)
    t_pyx12 = pyx12_seconds(small)
    print(f"  same {mb:.2f} MB file: pyx12 validation {mb / t_pyx12:.2f} MB/s; "
          f"read/check {mb / t_typed:.1f} MB/s = {t_pyx12 / t_typed:,.0f}x (target >= 100x); "
          f"via Segment values {mb / t_segments:.1f} MB/s = {t_pyx12 / t_segments:,.0f}x; "
          f"read_x12 {mb / t_json:.1f} MB/s = {t_pyx12 / t_json:,.0f}x")


def pyx12_seconds(text: str) -> float:
    try:
        import pyx12.params
        import pyx12.x12n_document
    except ImportError:
        print("  pyx12 not installed (pip install -e .[test]); no baseline")
        return float("nan")
    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    t0 = time.process_time()
    ok = pyx12.x12n_document.x12n_document(param=pyx12.params.params(),
                                          src_file=io.StringIO(text), fd_997=None,
                                          fd_html=None, fd_json=None)
    elapsed = time.process_time() - t0
    if not ok:
        print("  (pyx12 reported errors)")
    return elapsed


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    bench_write(n)
    bench_memory((5_000, 20_000))
    bench_read(min(n, 20_000), 1_000)


if __name__ == "__main__":
    main()
