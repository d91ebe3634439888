"""``rehabill demo``: a demo practice on SQLite, its whole billing cycle, its reports, its web app.

The practice (PT, OT and SLP therapists and assistants; Medicare and commercial payers) sees
about three months of patients ending last week, a few visits with the mistakes the scrubber
catches. The demo imports them, scrubs, writes 837P batches into ``outbox/`` beside the
database, lets the payer simulator answer (999, 277CA, 835 into ``inbox/``), reads the
acknowledgments, posts the remittances, prints the reports with their formulas and where to
look, and serves the web app with three logins (unless ``--no-serve``).
"""

from __future__ import annotations

import secrets
import shutil
import string
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from rehabill.cli.books import print_table
from rehabill.cli.common import console, fail
from rehabill.cli.report import build_report, print_report
from rehabill.errors import ConfigError, UsageError
from rehabill.services.cycle import CycleResult, run_cycle
from rehabill.services.uow import unit_of_work
from rehabill.simulate.clinic import ClinicSpec, generate_visits, make_staff, write_visit_file
from rehabill.store import books as store_books
from rehabill.store import make_engine, make_session_factory, migrate

MARKER = ".rehabill-demo"
DEFAULT_DB = Path("rehabill-demo") / "demo.db"
ALPHABET = string.ascii_letters + string.digits
LOGINS = (("therapist", "therapist"), ("biller", "biller"), ("admin", "admin"))


@dataclass(frozen=True, slots=True)
class DemoPaths:
    """Where the demo keeps its files: the database, outbox, inbox and the visit file."""

    db: Path
    outbox: Path
    inbox: Path
    visits: Path

    @classmethod
    def beside(cls, db: Path) -> DemoPaths:
        """Outbox, inbox and visits in the database's folder."""
        folder = db.parent
        return cls(db, folder / "outbox", folder / "inbox", folder / "visits.json")


def prepare_folder(paths: DemoPaths) -> None:
    """Start fresh: an earlier demo's files are removed; anything else is refused.

    Raises:
        UsageError: the database exists and is not a demo rehabill made.
    """
    folder = paths.db.parent
    folder.mkdir(parents=True, exist_ok=True)
    if paths.db.exists() and not (folder / MARKER).exists():
        raise UsageError(f"{paths.db} exists and is not a rehabill demo; pass another --db")
    for path in (paths.db, paths.db.with_name(paths.db.name + "-wal"),
                 paths.db.with_name(paths.db.name + "-shm"), paths.visits):
        path.unlink(missing_ok=True)
    for box in (paths.outbox, paths.inbox):
        shutil.rmtree(box, ignore_errors=True)
    (folder / MARKER).write_text("made by `rehabill demo`; safe to delete\n")


def build_demo(paths: DemoPaths, *, today: date, spec: ClinicSpec | None = None,
               out: Console | None = None) -> tuple[sessionmaker[Session], CycleResult,
                                                    dict[str, float]]:
    """Make the demo practice and run its billing cycle; the factory, result and timings."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    spec = spec or ClinicSpec(start=today - timedelta(weeks=12, days=5), weeks=12)
    visits = generate_visits(spec)
    write_visit_file(visits, paths.visits, seed=spec.seed)  # with the secondary coverages
    timings["generate visits"] = time.perf_counter() - start
    start = time.perf_counter()
    engine = make_engine(f"sqlite:///{paths.db}")
    migrate(engine)
    factory = make_session_factory(engine)
    timings["create database"] = time.perf_counter() - start

    def stage(name: str) -> None:
        if out is not None:
            out.print(f"  {name}…", markup=False)

    result = run_cycle(factory, paths.visits, outbox=paths.outbox, inbox=paths.inbox,
                       today=today, received=today - timedelta(days=3), paid_on=today,
                       on_stage=stage)
    timings.update(result.timings)
    return factory, result, timings


def create_logins(factory: sessionmaker[Session]) -> dict[str, str]:
    """The demo's therapist, biller and admin in the users table (argon2); their passwords."""
    from rehabill.web.sql import SqlUserRepository
    from rehabill.web.users import Passwords, Role, User

    passwords = Passwords()
    repo = SqlUserRepository(factory)
    therapist_npi = next(iter(make_staff().therapists.values()))[0].npi
    plain = {}
    for name, role in LOGINS:
        plain[name] = "".join(secrets.choice(ALPHABET) for _ in range(12))
        repo.add(User(name, passwords.hash(plain[name]), Role(role), name,
                      therapist_npi if role == "therapist" else ""))
    return plain


def print_summary(factory: sessionmaker[Session], result: CycleResult, today: date) -> None:
    """The cycle's counts, the reports and the worklist summary."""
    out = console()
    imported, scrub, batch = result.imported, result.scrub, result.batch
    assert imported is not None and scrub is not None and batch is not None
    rejected = sum(len(a.rejected) for a in result.acks)
    posted = sum(p.claims for p in result.posts)
    print_table("The billing cycle", ("stage", "result"), [
        ("import", f"{len(imported.imported)} visits imported"),
        ("scrub", f"{len(scrub.scrubbed)} claims clean, {len(scrub.held)} held with "
                  "errors (the planted mistakes)"),
        ("batch", f"{batch.claims} claims in {len(batch.files)} 837P file(s)"),
        ("acknowledgments", f"{len(result.acks)} 999/277CA files, {rejected} claims rejected"),
        ("posting", f"{len(result.posts)} 835 files, {posted} claim payments posted"),
    ])
    with unit_of_work(factory) as session:
        for name, by in (("aging", "service"), ("denials", "carc"), ("trends", "month"),
                         ("kpis", None)):
            print_report(build_report(session, name, by, today))
        items = store_books.worklist_rows(session)
    actions = Counter(str(r.next_action).split(" (")[0] for r in items)
    print_table(f"Worklist: {len(items)} open items", ("next action", "items"),
                actions.most_common())
    out.print("")


def print_where(paths: DemoPaths, timings: dict[str, float], logins: dict[str, str],
                port: int | None) -> None:
    """Stage times, files and the commands to look further."""
    total = sum(timings.values())
    print_table(f"Setup took {total:.1f} s", ("stage", "seconds"),
                [(k, f"{v:.2f}") for k, v in timings.items()])
    db = f"sqlite:///{paths.db}"
    typer.echo(f"Database:  {paths.db}\nOutbox:    {paths.outbox}  (837P batches)\n"
               f"Inbox:     {paths.inbox}  (999, 277CA, 835 from the payers)\n"
               f"Visits:    {paths.visits}\n")
    typer.echo("Look further:")
    for command in ("report aging --by submission", "report denials --by payer",
                    "report trends --by week --svg trends.svg", "report kpis", "report kx",
                    "worklist", "claim resubmit CLAIM_ID"):
        typer.echo(f"  rehabill {command} --db {db}")
    if port is not None:
        typer.echo(f"\nWeb app: http://127.0.0.1:{port}/  (Ctrl+C stops it)")
        for name, password in logins.items():
            typer.echo(f"  login {name:<9} password {password}")


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the app."""

    @app.command("demo")
    def demo_command(
        db: Path = typer.Option(DEFAULT_DB, "--db",
                                help="SQLite file for the demo (outbox/ and inbox/ go beside "
                                     "it); an earlier demo there is replaced."),
        port: int = typer.Option(8000, "--port", min=1, max=65535, help="Web app port."),
        no_serve: bool = typer.Option(False, "--no-serve",
                                      help="Print the reports and exit instead of serving."),
        patients: int = typer.Option(120, "--patients", min=1,
                                     help="How many patients the demo practice treats."),
    ) -> None:
        """Build a demo practice, run the whole billing cycle, print the reports, serve."""
        paths = DemoPaths.beside(db.resolve())
        today = date.today()
        out = console()
        try:
            prepare_folder(paths)
            out.print(f"Building the demo practice in {paths.db.parent}/ …", markup=False)
            spec = ClinicSpec(start=today - timedelta(weeks=12, days=5), weeks=12,
                              patients=patients)
            factory, result, timings = build_demo(paths, today=today, spec=spec, out=out)
            start = time.perf_counter()
            logins = create_logins(factory)
            timings["demo logins"] = time.perf_counter() - start
        except (UsageError, ConfigError) as error:
            fail(error)
        start = time.perf_counter()
        print_summary(factory, result, today)
        timings["reports"] = time.perf_counter() - start
        print_where(paths, timings, logins, None if no_serve else port)
        if not no_serve:
            serve(factory, port, outbox=paths.outbox)


def serve(factory: sessionmaker[Session], port: int, *, outbox: Path | None = None) -> None:
    """Serve the web app on 127.0.0.1 with the demo's users and audit trail."""
    import uvicorn
    from pydantic import SecretStr

    from rehabill.coding import CodingResult
    from rehabill.domain import Finding, Visit
    from rehabill.reference import load
    from rehabill.services.scrubbing import default_settings, live_scrubber
    from rehabill.web import WebSettings, create_app
    from rehabill.web.app import default_catalog
    from rehabill.web.entry import entry_checks
    from rehabill.web.sql import SqlAuditSink, SqlUserRepository, SqlVisitService

    settings = WebSettings(secret_key=SecretStr(secrets.token_urlsafe(48)))
    options_for, rules = live_scrubber(default_settings(date.today()))
    entry = entry_checks(load())

    def scrubber(visit: Visit, result: CodingResult) -> tuple[Finding, ...]:
        return (*entry(visit, result), *rules(visit, result))

    catalog = default_catalog(settings, factory, None)  # the demo practice's patients
    web = create_app(settings, users=SqlUserRepository(factory), audit=SqlAuditSink(factory),
                     scrubber=scrubber, coding_options=options_for, catalog=catalog,
                     visits=SqlVisitService(factory, catalog), books=factory, outbox=outbox)
    uvicorn.run(web, host="127.0.0.1", port=port, log_level="warning")

