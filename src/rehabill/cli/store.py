"""``rehabill import`` (visits into the books) and ``rehabill db upgrade`` (migrations)."""

from __future__ import annotations

import getpass
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import SQLAlchemyError

from rehabill.cli.common import console, fail, print_json
from rehabill.errors import ConfigError, RehabillError
from rehabill.services.imports import ImportReport, import_file
from rehabill.store import (
    current_revision,
    head_revision,
    make_engine,
    make_session_factory,
    migrate,
)

DB_HELP = "Database URL (default: REHABILL_DATABASE_URL, else sqlite:///rehabill.db)."
INFO_SHOWN = 10
PROGRESS_FROM = 2000  # show a progress bar for files with at least this many visits (estimate)


def _engine(db: str | None):  # type: ignore[no-untyped-def]
    try:
        return make_engine(db)
    except (SQLAlchemyError, ValueError) as exc:
        fail(ConfigError(f"cannot use the database URL: {exc}"))


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in this environment
        return "cli"


def _db_error(exc: SQLAlchemyError) -> ConfigError:
    cause = getattr(exc, "orig", None) or exc
    return ConfigError(f"database error: {str(cause).splitlines()[0]}")


def _run_import(path: Path, db: str | None, show_progress: bool) -> ImportReport:
    engine = _engine(db)
    try:
        migrate(engine)
        factory = make_session_factory(engine)
        if not show_progress:
            return import_file(factory, path, actor=_actor())
        with Progress(TextColumn("importing"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console(), transient=True) as bar:
            task = bar.add_task("import", total=None)
            return import_file(factory, path, actor=_actor(),
                               on_progress=lambda done, total: bar.update(
                                   task, completed=done, total=total))
    except SQLAlchemyError as exc:
        fail(_db_error(exc))
    finally:
        engine.dispose()


def _print_report(report: ImportReport) -> None:
    out = console()
    infos = [f for f in report.findings if f.severity.value == "info"]
    for f in [f for f in report.findings if f.severity.value != "info"] + infos[:INFO_SHOWN]:
        out.print(f"{f.location}: {f.code} {f.message}", markup=False, soft_wrap=True)
    if len(infos) > INFO_SHOWN:
        out.print(f"... and {len(infos) - INFO_SHOWN} more notes like these (see --json)",
                  markup=False)
    if not report.already_imported_at:
        out.print(f"{report.path}: {report.total} visits: {len(report.imported)} imported, "
                  f"{len(report.duplicates)} already stored, {len(report.rejected)} rejected.",
                  markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``import`` and ``db upgrade`` to the app."""

    @app.command("import")
    def import_command(
        file: Path = typer.Argument(..., help="Visits: .json (list or FHIR R4 Bundle) or .csv."),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print the import report as JSON."),
    ) -> None:
        """Import visits into the books (idempotent: the same visit or file twice is a no-op).

        Exit 0 when every visit went in, 1 when any was rejected (listed with its location),
        2 when the file cannot be used at all.
        """
        show = not as_json and file.is_file() and file.stat().st_size > PROGRESS_FROM * 1000
        try:
            report = _run_import(file, db, show)
        except RehabillError as error:
            fail(error)
        if as_json:
            print_json(report.as_dict())
        else:
            _print_report(report)
        raise typer.Exit(report.exit_code)

    db_app = typer.Typer(help="The database: migrations.", no_args_is_help=True)

    @db_app.command("upgrade")
    def upgrade_command(db: str | None = typer.Option(None, "--db", help=DB_HELP)) -> None:
        """Create or upgrade the database schema to this version of rehabill."""
        engine = _engine(db)
        try:
            before = current_revision(engine)
            migrate(engine)
        except SQLAlchemyError as exc:
            fail(_db_error(exc))
        finally:
            engine.dispose()
        typer.echo(f"database at revision {head_revision()} (was {before or 'empty'})")

    app.add_typer(db_app, name="db")
