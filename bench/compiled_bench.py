"""The scrubber interpreted and compiled by mypyc, side by side in one run.

Builds the compiled wheel (``REHABILL_COMPILE=1``, see ``setup.py``) into ``bench/.compiled``
unless it is there already (``--rebuild`` to force), then runs ``bench/scrub_bench.py N`` on each
build in turn, ``--rounds`` times, interleaved so that the machine's mood is shared, and prints
each stage's best claims/s/core for both builds and their ratio.

Run: ``python bench/compiled_bench.py [N] [--rounds R] [--rebuild]`` (from the project root,
with the project's venv: it needs pip and the build requirements from the package registry).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    build(args.rebuild)
    best: dict[str, dict[str, float]] = {"interpreted": {}, "compiled": {}}
    for _ in range(args.rounds):
        for name, path in (("interpreted", ROOT / "src"), ("compiled", SITE)):
            for stage, rate in run(path, args.n).items():
                best[name][stage] = max(rate, best[name].get(stage, 0.0))
    print(f"best of {args.rounds} rounds, {args.n:,} visits per set, claims/s/core")
    print(f"{'set / stage':<50} {'interpreted':>12} {'compiled':>12} {'ratio':>7}")
    for stage, rate in best["interpreted"].items():
        compiled = best["compiled"].get(stage, 0.0)
        print(f"{stage:<50} {rate:>12,.0f} {compiled:>12,.0f} {compiled / rate:>6.2f}x")


if __name__ == "__main__":
    main()
