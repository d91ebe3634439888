"""The scrubber and the X12/ledger work interpreted and compiled by mypyc, side by side.

Builds the compiled wheel (``REHABILL_COMPILE=1``, see ``setup.py``) into ``bench/.compiled``
unless it is there already (``--rebuild`` to force), then runs ``bench/scrub_bench.py N`` on each
build in turn (N = 0: not at all), ``--rounds`` times, interleaved so that the machine's mood is
shared, and prints each stage's best claims/s/core for both builds and their ratio. With
``--x12 CLAIMS`` it also times, on each build, the X12 and ledger work of the books' cycle on
CLAIMS generated claims (write the 837P, tokenize it, read it, the payer simulator's
adjudication, write the 999, 277CA and 835, read them back, post the 835s), in CPU seconds of
the child process, best of the rounds.

Run: ``python bench/compiled_bench.py [N] [--rounds R] [--rebuild] [--x12 CLAIMS]`` (from the
project root, with the project's venv: it needs pip and the build requirements from the package
registry).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / ".compiled"
SITE = OUT / "site"
LINE = re.compile(r"^(?:-- (?P<set>[a-z]+) set.*"
                  r"|(?P<label>[\w ()+,-]+?)\s{2,}(?P<rate>[\d,]+) claims/s/core.*)$")


def build(rebuild: bool) -> None:
    """The compiled wheel, installed into ``bench/.compiled/site``."""
    if SITE.exists() and not rebuild:
        return
    shutil.rmtree(OUT, ignore_errors=True)
    env = {**os.environ, "REHABILL_COMPILE": "1"}
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                    str(OUT / "wheel"), str(ROOT)], check=True, env=env)
    wheels = sorted((OUT / "wheel").glob("rehabill-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    str(SITE), str(wheels[-1])], check=True)


def run(path: Path, n: int) -> dict[str, float]:
    """One scrub_bench run on the build at ``path``: {"set / stage": claims per second}."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(path), str(ROOT)])}
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "scrub_bench.py"), str(n)],
                         check=True, env=env, capture_output=True, text=True).stdout
    rates: dict[str, float] = {}
    current = ""
    for line in out.splitlines():
        match = LINE.match(line)
        if match and match["set"]:
            current = match["set"]
        elif match and match["rate"] and current:
            rates[f"{current} / {match['label']}"] = float(match["rate"].replace(",", ""))
    return rates


def x12_child(n: int) -> None:
    """In the child: CPU seconds of each X12/ledger stage on ``n`` claims, one line each."""
    import gc
    import time

    sys.path.insert(0, str(ROOT / "bench"))
    from x12_837_bench import SETTINGS, claims, grouping_key

    from rehabill.ledger import post_remittance
    from rehabill.reference import load
    from rehabill.simulate.payer import adjudicate_837p
    from rehabill.x12 import ack277, ack999
    from rehabill.x12.p837 import render_837p
    from rehabill.x12.p837_reader import read_837p_text
    from rehabill.x12.remit835 import read_835_text
    from rehabill.x12.tokens import tokenize

    batch = sorted(claims(n), key=grouping_key)
    by_id = {c.claim_id: c for c in batch}
    reference = load()
    gc.disable()  # as the cycle's bulk use cases pause it

    def timed(stage: str, work: Callable[[], T]) -> T:
        start = time.process_time()
        out = work()
        print(f"{stage}: {time.process_time() - start:.4f}")
        return out

    text = timed("write 837P", lambda: render_837p(batch, SETTINGS))
    timed("tokenize 837P", lambda: tokenize(text))
    timed("read 837P", lambda: read_837p_text(text))
    answers = timed("payer simulator", lambda: adjudicate_837p(text, seed=1))
    files = timed("write 999, 277CA, 835", lambda: [
        a.texts(payer_id=p, submitter_id="RR0001") for p, a in answers.items()])
    timed("read 999, 277CA", lambda: [(ack999.read_text(f["999"]), ack277.read_text(f["277"]))
                                      for f in files])
    remits = timed("read 835", lambda: [read_835_text(f["835"])[0] for f in files])
    timed("post 835", lambda: [post_remittance(r, by_id, reference=reference)
                               for rs in remits for r in rs])


def run_x12(path: Path, n: int) -> dict[str, float]:
    """One X12/ledger run on the build at ``path``: {stage: CPU seconds}."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(path), str(ROOT)])}
    out = subprocess.run([sys.executable, __file__, "--x12-child", str(n)], check=True, env=env,
                         capture_output=True, text=True).stdout
    return {stage: float(seconds) for stage, _, seconds in
            (line.rpartition(": ") for line in out.splitlines())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--x12", type=int, default=0, metavar="CLAIMS")
    parser.add_argument("--x12-child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.x12_child:
        x12_child(args.x12_child)
        return
    build(args.rebuild)
    builds = (("interpreted", ROOT / "src"), ("compiled", SITE))
    best: dict[str, dict[str, float]] = {"interpreted": {}, "compiled": {}}
    seconds: dict[str, dict[str, float]] = {"interpreted": {}, "compiled": {}}
    for _ in range(args.rounds):
        for name, path in builds:
            for stage, rate in (run(path, args.n) if args.n else {}).items():
                best[name][stage] = max(rate, best[name].get(stage, 0.0))
            for stage, took in (run_x12(path, args.x12) if args.x12 else {}).items():
                seconds[name][stage] = min(took, seconds[name].get(stage, took))
    if args.n:
        print(f"best of {args.rounds} rounds, {args.n:,} visits per set, claims/s/core")
        print(f"{'set / stage':<50} {'interpreted':>12} {'compiled':>12} {'ratio':>7}")
    for stage, rate in best["interpreted"].items():
        compiled = best["compiled"].get(stage, 0.0)
        print(f"{stage:<50} {rate:>12,.0f} {compiled:>12,.0f} {compiled / rate:>6.2f}x")
    if args.x12:
        print(f"\nX12 and ledger, {args.x12:,} claims, CPU seconds (best of {args.rounds})")
        print(f"{'stage':<50} {'interpreted':>12} {'compiled':>12} {'speed-up':>8}")
        for stage, took in [*seconds["interpreted"].items(),
                            ("total", sum(seconds["interpreted"].values()))]:
            compiled = (seconds["compiled"].get(stage, 0.0) if stage != "total"
                        else sum(seconds["compiled"].values()))
            ratio = f"{took / compiled:>7.2f}x" if compiled else "       -"
            print(f"{stage:<50} {took:>12.3f} {compiled:>12.3f} {ratio}")


if __name__ == "__main__":
    main()
