"""``rehabill batch``, ``ack``, ``post`` and ``worklist``: the billing cycle on the books.

Thin: open the database (``--db`` or the settings), call one service, render a table or JSON.
Exit codes follow DESIGN.md: 0 ok, 1 error findings (refused files, held claims), 2 unusable
input or usage.
"""

from __future__ import annotations

import csv
import getpass
import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from rehabill.cli.common import console, fail, parse_today, print_json
from rehabill.domain.money import format_amount
from rehabill.errors import ConfigError, RehabillError
from rehabill.services import billing
from rehabill.services.uow import unit_of_work
from rehabill.settings import Settings
from rehabill.store import books as store_books
from rehabill.store import make_engine, make_session_factory, migrate

DB_HELP = "Database URL (default: REHABILL_DATABASE_URL, else sqlite:///rehabill.db)."
T = TypeVar("T")


def actor() -> str:
    """Who runs the command, for the status history and audit trail."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@contextmanager
def open_books(db: str | None) -> Iterator[sessionmaker[Session]]:
    """A session factory on the (migrated) books; one clear line and exit 2 when unusable."""
    try:
        engine = make_engine(db)
    except (SQLAlchemyError, ValueError) as exc:
        fail(ConfigError(f"cannot use the database URL: {exc}"))
    try:
        migrate(engine)
        yield make_session_factory(engine)
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        fail(ConfigError(f"database error: {str(cause).splitlines()[0]}"))
    except RehabillError as error:
        fail(error)
    finally:
        engine.dispose()


def with_progress(label: str, work: Callable[[Callable[[int, int], None]], T]) -> T:
    """Run ``work(on_progress)`` under a Rich progress bar (hidden when output is piped)."""
    out = console()
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=out, transient=True, disable=not out.is_terminal) as bar:
        task = bar.add_task(label, total=None)
        return work(lambda done, total: bar.update(task, completed=done, total=total))


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A Rich table for people."""
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(v) for v in row))
    console().print(table)


def print_findings(findings: Sequence[Any], limit: int = 20) -> None:
    """Findings as ``location: code message`` lines (errors and warnings; notes counted)."""
    shown = [f for f in findings if f.severity.value != "info"] or list(findings)
    for f in shown[:limit]:
        typer.echo(f"{f.location}: {f.code} {f.message}")
    if len(shown) > limit:
        typer.echo(f"... and {len(shown) - limit} more (see --json)")


def default_outbox() -> Path:
    """The outbox folder from the settings (``REHABILL_OUTBOX``)."""
    return Path(Settings().outbox)


def register(app: typer.Typer) -> None:
    """Add ``batch``, ``ack``, ``post`` and ``worklist`` to the app."""

    @app.command("batch")
    def batch_command(
        kind: str = typer.Option("837p", "--kind", help="837p (X12 file) or cms1500 (PDF)."),
        outbox: Path | None = typer.Option(None, "--outbox",
                                           help="Folder for the files (default REHABILL_OUTBOX)."),
        claim: list[int] = typer.Option([], "--claim", help="Only this claim id (repeatable)."),
        production: bool = typer.Option(False, "--production", help="ISA15 P (default T)."),
        today: str | None = typer.Option(None, "--today", help="Batch date (YYYY-MM-DD)."),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Write every scrubbed claim into the outbox (one file per payer); claims → batched."""
        try:
            run_date = parse_today(today)
        except RehabillError as error:
            fail(error)
        with open_books(db) as factory:
            report = billing.build_batch(factory, outbox=outbox or default_outbox(),
                                         today=run_date, kind=kind,
                                         claim_ids=claim or None, production=production,
                                         actor=actor())
        if as_json:
            print_json(report.as_json())
            return
        if not report.files:
            typer.echo("No scrubbed claims to batch (run `rehabill scrub` first).")
        else:
            print_table(f"{report.kind} batches", ("batch", "payer", "claims", "charges", "file"),
                        [(f.batch_id, f.payer_id, f.claims, format_amount(f.total_charge),
                          f.path) for f in report.files])
        for skipped in report.skipped:
            typer.echo(f"skipped claim {skipped} (only scrubbed claims are batched)")

    @app.command("ack")
    def ack_command(
        files: list[Path] = typer.Argument(..., metavar="FILE...", help="999 or 277CA files."),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Read acknowledgments: claims accepted or rejected (rejections onto the worklist)."""
        reports = []
        with open_books(db) as factory:
            for path in files:
                reports.append(billing.read_acknowledgments(factory, path, actor=actor()))
        if as_json:
            print_json([r.as_json() for r in reports])
        else:
            for r in reports:
                note = "already read; nothing changed" if r.already_read else \
                    f"{len(r.accepted)} accepted, {len(r.rejected)} rejected"
                typer.echo(f"{r.path}: {r.kind or 'X12'}: {note}")
                for label in r.unmatched:
                    typer.echo(f"  no claim or batch for {label}")
                print_findings([f for f in r.findings if f.code != "books.file_already_read"])
        raise typer.Exit(max((r.exit_code for r in reports), default=0))

    @app.command("post")
    def post_command(
        files: list[Path] = typer.Argument(..., metavar="FILE...", help="835 files."),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Post remittances (835): payments, adjustments, denials to the worklist; once only."""
        reports = []
        with open_books(db) as factory:
            for path in files:
                reports.append(billing.post_remittance(factory, path, actor=actor()))
        if as_json:
            print_json([r.as_json() for r in reports])
        else:
            for r in reports:
                if r.already_read:
                    note = "already posted; nothing changed"
                elif r.refused:
                    note = "REFUSED; nothing posted"
                else:
                    note = (f"{len(r.posted_traces)} payment(s), {r.claims} claims posted, "
                            f"{r.suspense} in suspense, {r.worklist} worklist item(s)")
                    if r.duplicate_traces:
                        note += f"; {len(r.duplicate_traces)} payment(s) already posted"
                typer.echo(f"{r.path}: {note}")
                print_findings([f for f in r.findings if f.severity.value == "error"])
        raise typer.Exit(max((r.exit_code for r in reports), default=0))

    @app.command("worklist")
    def worklist_command(
        all_items: bool = typer.Option(False, "--all", help="Include items marked done."),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        as_csv: bool = typer.Option(False, "--csv", help="Print CSV."),
    ) -> None:
        """Claims that need a person: denials and rejections, why, and what to do next."""
        with open_books(db) as factory, unit_of_work(factory) as session:
            rows = [worklist_item(r) for r in
                    store_books.worklist_rows(session, include_done=all_items)]
        if as_json:
            print_json({"items": rows})
        elif as_csv:
            typer.echo(to_csv(rows), nl=False)
        elif not rows:
            typer.echo("The worklist is empty.")
        else:
            print_table(f"Worklist ({len(rows)} open)",
                        ("item", "claim", "payer", "CARC", "reason", "next action"),
                        [(r["id"], f"{r['claim']} ({r['claim_id']})", r["payer"], r["carc"],
                          _short(str(r["reason"])), _short(str(r["next_action"])))
                         for r in rows])


def worklist_item(row: Any) -> dict[str, object]:
    """A worklist row as JSON (amounts as strings)."""
    return {"id": row.id, "claim_id": row.claim_id, "claim": row.claim_key,
            "claim_status": row.claim_status, "payer": row.payer_key,
            "date_of_service": row.date_of_service.isoformat(),
            "charge": format_amount(row.total_charge), "carc": row.carc, "rarc": row.rarc,
            "reason": row.reason, "next_action": row.next_action, "assignee": row.assignee,
            "status": row.status}


def to_csv(rows: Sequence[dict[str, object]]) -> str:
    """Rows of dicts as CSV text with a header."""
    if not rows:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def today_or_fail(text: str | None) -> date:
    """``--today`` parsed, or exit 2 with one line."""
    try:
        return parse_today(text)
    except RehabillError as error:
        fail(error)


def scrub_database(db: str | None, payer_policy: Path | None, today: str | None,
                   as_json: bool) -> None:
    """``rehabill scrub`` without a file: scrub the stored claims; exit 1 when any is held."""
    from rehabill.cli.scrub import read_policy_file

    try:
        run_date = parse_today(today)
        policy = read_policy_file(payer_policy) if payer_policy else None
    except RehabillError as error:
        fail(error)
    with open_books(db) as factory:
        report = with_progress("scrubbing", lambda progress: billing.scrub_stored_claims(
            factory, today=run_date, policy=policy, actor=actor(), on_progress=progress))
    if as_json:
        print_json(report.as_json())
    else:
        print_findings([f for f in report.findings if f.is_error], limit=30)
        typer.echo(f"{report.coded} visits coded; {len(report.scrubbed)} claims scrubbed "
                   f"clean, {len(report.held)} held.")
        if report.held:
            typer.echo("Held claims stay out of batches until corrected; "
                       "see `rehabill worklist` and the findings above.")
    raise typer.Exit(report.exit_code)
