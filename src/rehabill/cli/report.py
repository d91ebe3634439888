"""``rehabill report aging|denials|trends|kpis|kx``: the practice's reports from the books.

Each report is a pure function over claim facts (``rehabill.reports``); this module reads the
facts (``store.facts``), prints a table, and on request writes JSON, CSV or an SVG bar chart.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import typer
from sqlalchemy.orm import Session

from rehabill.cli.books import DB_HELP, open_books, print_table, today_or_fail
from rehabill.cli.common import fail, print_json
from rehabill.errors import UsageError
from rehabill.reference import load
from rehabill.reports import (
    Table,
    ar_aging,
    denial_analysis,
    kpis,
    kx_standing,
    payment_trends,
)
from rehabill.reports.svg import bar_chart
from rehabill.services.uow import unit_of_work
from rehabill.store.facts import claim_facts, kx_totals

REPORTS = ("aging", "denials", "trends", "kpis", "kx")
BY = {"aging": ("service", "submission"), "denials": ("carc", "payer", "code", "provider"),
      "trends": ("month", "week"), "kpis": (), "kx": ()}


def build_report(session: Session, name: str, by: str | None, as_of: date) -> Table:
    """The named report over the books as of a date.

    Raises:
        UsageError: an unknown report or grouping.
    """
    if name not in REPORTS:
        raise UsageError(f"report must be one of {', '.join(REPORTS)}, not {name!r}")
    choices = BY[name]
    if by is not None and by not in choices:
        allowed = ", ".join(choices) or "nothing"
        raise UsageError(f"report {name} can be grouped by {allowed}, not {by!r}")
    group = by or (choices[0] if choices else "")
    if name == "kx":
        threshold = load().thresholds.for_date(as_of)
        if threshold is None:
            raise UsageError(f"no KX threshold shipped for {as_of.year}")
        return kx_standing(kx_totals(session, as_of.year), threshold.kx,
                           threshold.medical_review)
    facts = claim_facts(session)
    if name == "aging":
        return ar_aging(facts, as_of, basis=group)
    if name == "denials":
        return denial_analysis(facts, by=group)
    if name == "trends":
        return payment_trends(facts, period=group)
    return kpis(facts, as_of)


def table_csv(table: Table) -> str:
    """The report as CSV (header row, amounts with two places)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    writer.writerows(table.text_rows())
    return out.getvalue()


def table_svg(table: Table) -> str:
    """A bar chart of the report's amount (or count) columns by its first column."""
    rows = [r for r in table.rows if r and str(r[0]) != "Total"]
    labels = [str(r[0]) for r in rows]
    series = []
    for index, column in enumerate(table.columns[1:], start=1):
        values = [r[index] for r in rows]
        if values and all(isinstance(v, (Decimal, int)) for v in values):
            series.append((column, [Decimal(v) for v in values if not isinstance(v, str)]))
    if table.title.startswith("A/R aging"):
        series = [s for s in series if s[0] != "total"]
    if not series:
        raise UsageError(f"{table.title} has no amounts to chart")
    return bar_chart(table.title, labels, series[:6])


def print_report(table: Table) -> None:
    """The report as a table, with its notes."""
    print_table(table.title, table.columns, table.text_rows())
    for note in table.notes:
        typer.echo(f"  {note}")


def register(app: typer.Typer) -> None:
    """Add ``report`` to the app."""

    @app.command("report")
    def report_command(
        name: str = typer.Argument(..., metavar="aging|denials|trends|kpis|kx",
                                   help="Which report."),
        by: str | None = typer.Option(None, "--by",
                                      help="aging: service|submission; denials: carc|payer|"
                                           "code|provider; trends: month|week."),
        as_of: str | None = typer.Option(None, "--as-of",
                                         help="Age and measure as of this date (YYYY-MM-DD)."),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        csv_file: Path | None = typer.Option(None, "--csv", help="Also write CSV here."),
        svg_file: Path | None = typer.Option(None, "--svg",
                                             help="Also write an SVG bar chart here."),
    ) -> None:
        """Print a report: A/R aging, denial analysis, payment trends, KPIs or KX standing."""
        day = today_or_fail(as_of)
        with open_books(db) as factory, unit_of_work(factory) as session:
            table = build_report(session, name, by, day)
        try:
            if csv_file is not None:
                csv_file.write_text(table_csv(table), encoding="utf-8")
            if svg_file is not None:
                svg_file.write_text(table_svg(table), encoding="utf-8")
        except OSError as exc:
            fail(UsageError(f"cannot write the file: {exc.strerror}"))
        except UsageError as error:
            fail(error)
        if as_json:
            print_json(table.as_json())
        else:
            print_report(table)
