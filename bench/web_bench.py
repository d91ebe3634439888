"""Visit-entry live preview and the dashboard under 50 concurrent users on loopback, against
/healthz.

Starts uvicorn (one worker, as ``rehabill serve`` does) in a child process on a free 127.0.0.1
port, logs in one session per virtual user, then measures two loads, each bounded in requests
and time:

- typing: each user posts the visit form every ~250 ms (htmx waits 200 ms after the last
  keystroke), the load a room of therapists typing produces;
- saturation: each user posts back-to-back with no pause, the worst case.

The dashboard (``GET /dashboard``) is measured by 50 billers, browsing (a page a second) and
back-to-back, on the SQLite database ``rehabill demo`` builds (120 patients, 12 weeks, the
whole billing cycle run), with the audit log in that database as in production.

The baseline is ``GET /healthz`` under the same load in the same run, so the figures are also
printed as a ratio to it. Users log in with httpx; the measured requests go over one keep-alive
HTTP/1.1 connection per user written with plain asyncio streams, because a Python HTTP client
costs more CPU per request than the preview itself and would measure the client. On a small
machine the generator still shares the CPUs with the server, so the figures are pessimistic.

Usage: ``python bench/web_bench.py [--users 50] [--requests 40]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

import httpx

PASSWORD = "bench password long enough"
ROOT = Path(__file__).resolve().parents[1]
BENCH_TODAY = date(2026, 9, 15)
FORM_CODES = (("97530", "25"), ("97110", "10"), ("97140", "8"))


def serve(port: int) -> None:
    """Child process: the app with 50 bench therapists, on loopback."""
    import uvicorn
    from argon2 import PasswordHasher
    from pydantic import SecretStr

    from rehabill.web import WebSettings, create_app
    from rehabill.web.catalog import demo_catalog  # the posted forms name its patient keys
    from rehabill.web.sql import SqlAuditSink
    from rehabill.web.users import InMemoryUserRepository, Passwords, Role, User

    # Cheap Argon2 so 50 logins do not dominate start-up; the preview never hashes.
    passwords = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    hashed = passwords.hash(PASSWORD)
    users = InMemoryUserRepository(tuple(
        User(f"t{n}", hashed, Role.THERAPIST, f"Therapist {n}", "1467560003") for n in range(64))
        + tuple(User(f"b{n}", hashed, Role.BILLER, f"Biller {n}") for n in range(64)))
    books = practice_books()
    app = create_app(WebSettings(secret_key=SecretStr("bench-" + "k" * 40)), users=users,
                     passwords=passwords, today=BENCH_TODAY, books=books,
                     audit=SqlAuditSink(books), catalog=demo_catalog(BENCH_TODAY))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def practice_books() -> object:
    """The demo practice after a whole billing cycle (``rehabill demo``'s own builder):
    12 weeks of visits imported, scrubbed, batched, acknowledged and paid, in a SQLite file."""
    import tempfile

    from rehabill.cli.demo import DemoPaths, build_demo, prepare_folder

    paths = DemoPaths.beside(Path(tempfile.mkdtemp(prefix="rehabill-bench-")) / "books.db")
    prepare_folder(paths)
    factory, _, _ = build_demo(paths, today=BENCH_TODAY)
    return factory


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Figures:
    """Latencies of one run (milliseconds)."""

    name: str
    latencies: list[float]
    seconds: float
    errors: int

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies)


def form_data(csrf: str, rng: random.Random) -> dict[str, object]:
    """A visit form as a therapist mid-typing posts it: 1 to 3 services, varying minutes."""
    rows = FORM_CODES[: rng.randint(1, 3)]
    return {
        "csrf_token": csrf, "visit_id": "", "patient": rng.choice(["pt-7c1e2a", "pt-2b9f44"]),
        "coverage": "", "date_of_service": "2026-03-02", "rendering_npi": "1467560003",
        "assistant_npi": "", "diagnoses": "I69.351, R26.89",
        "code": [c for c, _ in rows],
        "minutes": [str(int(m) + rng.randint(-5, 12)) for _, m in rows],
        "assistant_minutes": ["" for _ in rows], "mode": ["one_on_one" for _ in rows],
        "activity": ["transfers" for _ in rows], "goal": ["walk 100 ft" for _ in rows],
        "assistance": ["" for _ in rows],
    }


async def login(client: httpx.AsyncClient, user: str) -> str:
    response = await client.post("/api/login", json={"username": user, "password": PASSWORD})
    response.raise_for_status()
    return str(response.json()["csrf_token"])


class Connection:
    """One keep-alive HTTP/1.1 connection: just enough protocol for this benchmark."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 cookie: str) -> None:
        self.reader, self.writer, self.cookie = reader, writer, cookie

    async def request(self, method: str, path: str, body: bytes = b"",
                      extra: str = "") -> tuple[int, bytes]:
        head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {self.cookie}\r\n"
                f"Content-Length: {len(body)}\r\n{extra}\r\n")
        self.writer.write(head.encode() + body)
        header = await self.reader.readuntil(b"\r\n\r\n")
        status = int(header[9:12])
        length = int(re_length(header))
        return status, await self.reader.readexactly(length)


def re_length(header: bytes) -> bytes:
    for line in header.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            return line[15:].strip()
    return b"0"


async def connect(base: str, user: str) -> tuple[Connection, str]:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        csrf = await login(client, user)
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    return Connection(reader, writer, cookie), csrf


async def run_load(name: str, base: str, users: int, per_user: int, pause: float,
                   kind: str, limit_seconds: float) -> Figures:
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + limit_seconds
    form_headers = ("Content-Type: application/x-www-form-urlencoded\r\n"
                    "HX-Request: true\r\n")
    who = "b" if kind == "dashboard" else "t"
    sessions = await asyncio.gather(*(connect(base, f"{who}{n}") for n in range(users)))

    async def user(n: int) -> None:
        nonlocal errors
        rng = random.Random(n)
        conn, csrf = sessions[n]
        bodies = [urlencode(form_data(csrf, rng), doseq=True).encode() for _ in range(8)]
        await asyncio.sleep(rng.random() * max(pause, 0.05))  # users do not start in step
        for i in range(per_user):
            if time.monotonic() > deadline:
                return
            start = time.perf_counter()
            if kind == "preview":
                status, body = await conn.request("POST", "/visits/preview", bodies[i % 8],
                                                  form_headers)
                ok = status == 200 and b"data-findings" in body
            elif kind == "dashboard":
                status, body = await conn.request("GET", "/dashboard")
                ok = status == 200 and b"data-kpi" in body
            else:
                status, body = await conn.request("GET", "/healthz")
                ok = status == 200
            latencies.append((time.perf_counter() - start) * 1000)
            errors += not ok
            if pause:
                await asyncio.sleep(pause * (0.8 + 0.4 * rng.random()))
        conn.writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(user(n) for n in range(users)))
    return Figures(name, latencies, time.perf_counter() - started, errors)


def report(rows: list[tuple[Figures, Figures]]) -> None:
    print(f"{'load':<12}{'endpoint':<18}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'p99/base':>10}{'errors':>8}")
    for preview, base in rows:
        for fig in (base, preview):
            ratio = fig.pct(0.99) / base.pct(0.99)
            print(f"{fig.name.split(':')[0]:<12}{fig.name.split(':')[1]:<18}"
                  f"{len(fig.latencies):>9}{len(fig.latencies) / fig.seconds:>9.0f}"
                  f"{fig.p50:>9.1f}{fig.pct(0.99):>9.1f}{ratio:>10.2f}{fig.errors:>8}")


async def bench(base: str, users: int, per_user: int) -> None:
    rows = []
    for load, pause, count in (("typing", 0.25, per_user), ("saturation", 0.0, per_user)):
        healthz = await run_load(f"{load}:GET /healthz", base, users, count, pause, "healthz",
                                 60)
        preview = await run_load(f"{load}:POST preview", base, users, count, pause, "preview",
                                 60)
        rows.append((preview, healthz))
    for load, pause, count in (("browsing", 1.0, per_user // 4), ("saturation", 0.0,
                                                                  per_user // 4)):
        healthz = await run_load(f"{load}:GET /healthz", base, users, count, pause, "healthz",
                                 60)
        board = await run_load(f"{load}:GET /dashboard", base, users, count, pause,
                               "dashboard", 120)
        rows.append((board, healthz))
    report(rows)
    for fig, what in ((rows[0][0], "live preview"), (rows[2][0], "dashboard")):
        verdict = "meets" if fig.pct(0.99) < 100 else "MISSES"
        print(f"{fig.name.split(':')[0]} load: {what} p99 {fig.pct(0.99):.1f} ms {verdict} the "
              f"100 ms target ({users} users, {len(fig.latencies)} requests)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--requests", type=int, default=40, help="requests per user per load")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.Popen([sys.executable, __file__, "--serve", str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(1200):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise SystemExit("the server did not start")
        # warm up: templates compiled, reference tables loaded
        asyncio.run(run_load("warm:x", base, 4, 10, 0.0, "preview", 10))
        asyncio.run(run_load("warm:x", base, 2, 2, 0.0, "dashboard", 30))
        print(f"{args.users} concurrent users, up to {args.requests} requests each per load, "
              f"uvicorn 1 worker on {base}, {os.cpu_count()} CPUs\n")
        asyncio.run(bench(base, args.users, args.requests))
    finally:
        child.terminate()
        child.wait(timeout=10)


if __name__ == "__main__":
    main()
