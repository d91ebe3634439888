"""``rehabill cms1500 VISITS.json -o OUT.pdf``: paper claims (CMS-1500 02/12) as a PDF.

Visits are coded and scrubbed exactly as for ``rehabill x12 837p``; visits with error findings
are held back and listed, the rest are printed, one claim per page (more pages past six lines).
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from rehabill.cli.common import fail, parse_today
from rehabill.cli.x12 import load_visits
from rehabill.domain import parse_visits
from rehabill.errors import RehabillError
from rehabill.forms.pdf import render_pdf
from rehabill.services.scrubbing import default_settings, prepare_claims


def register(app: typer.Typer) -> None:
    """Add the ``cms1500`` command to ``app``."""

    @app.command("cms1500")
    def cms1500_command(
        visits: Path = typer.Argument(..., help="Visit file (JSON; DESIGN.md contract)."),
        output: Path = typer.Option(..., "-o", "--output", help="Where to write the PDF."),
        today: str = typer.Option("", "--today",
                                  help="Judge timely filing as of this date (YYYY-MM-DD)."),
    ) -> None:
        """Code VISITS and print their claims on CMS-1500 forms (PDF)."""
        try:
            parsed = parse_visits(load_visits(visits))
            prepared = prepare_claims(parsed.visits, parsed.findings,
                                      default_settings(parse_today(today)))
        except RehabillError as error:
            fail(error)
        if prepared.claims:
            temporary = output.with_name(output.name + ".part")
            temporary.write_bytes(render_pdf(prepared.claims))
            os.replace(temporary, output)
            typer.echo(f"Printed {len(prepared.claims)} claims to {output}.")
        else:
            typer.echo("No claim could be printed; nothing was written.")
        for visit_id, findings in prepared.held:
            typer.echo(f"Held back {visit_id}:")
            for finding in findings:
                typer.echo(f"  {finding.location}: {finding.severity.value} {finding.code} "
                           f"{finding.message}")
        raise typer.Exit(1 if prepared.held else 0)
