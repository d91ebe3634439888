"""``rehabill simulate adjudicate``: what payers would answer for an 837P or a visit file.

Reads an 837P batch (or codes each visit of a visit file), groups the claims by payer and lets
the payer simulator (Medicare Part B or a commercial plan) answer with a 999, a 277CA and 835
payments, written as ``OUT/<payer_id>.999``, ``.277`` and ``.835``.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer
from rich.table import Table

from rehabill.cli.common import console, fail, print_json
from rehabill.coding import code_visit
from rehabill.domain import ZERO, format_amount, parse_visits
from rehabill.errors import InputError
from rehabill.simulate.payer import (
    Adjudication,
    adjudicate_837p,
    simulate_batches,
    write_files,
)
from rehabill.x12.status import AckOutcome


def _summary(payer_id: str, adjudication: Adjudication, files: list[Path]) -> dict[str, object]:
    claims = [c for p in adjudication.payments for c in p.claims if not c.is_reversal]
    denied = [a for c in claims for line in c.lines for a in line.adjustments
              if a.group == "CO" and a.reason not in ("45", "253")]
    return {
        "payer_id": payer_id,
        "claims": len(adjudication.ack_277.claims),
        "rejected": sum(1 for c in adjudication.ack_277.claims
                        if c.outcome is AckOutcome.REJECTED),
        "payments": [{"trace_number": p.trace.number, "amount": format_amount(p.payment.amount)}
                     for p in adjudication.payments],
        "paid": format_amount(sum((c.paid for c in claims), ZERO)),
        "patient_responsibility": format_amount(
            sum((c.patient_responsibility or ZERO for c in claims), ZERO)),
        "denials": sorted({f"CO-{a.reason}" for a in denied}),
        "files": [str(f) for f in files],
    }


def _from_visits(source: Path, data: object, seed: int,
                 received: date | None) -> dict[str, Adjudication]:
    parsed = parse_visits(data)
    for finding in parsed.findings:
        typer.echo(f"{source}: {finding.code} {finding.message}", err=True)
    claims = [code_visit(v).claim for v in parsed.visits]
    return simulate_batches(claims, seed=seed, received=received) if claims else {}


def register(app: typer.Typer) -> None:
    """Add the ``simulate`` group to the app."""
    group = typer.Typer(help="Simulate payers answering claims (999, 277CA, 835).",
                        no_args_is_help=True)
    app.add_typer(group, name="simulate")

    @group.command("adjudicate")
    def adjudicate_command(
        source: Path = typer.Argument(..., metavar="FILE",
                                      help="An 837P batch, or a visit file (DESIGN.md)."),
        out: Path = typer.Option(Path("simulated"), "--out", "-o",
                                 help="Directory for <payer>.999, .277 and .835."),
        seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same files)."),
        received: str = typer.Option("", "--received",
                                     help="Date payers received the claims (YYYY-MM-DD); "
                                          "default a week after the last visit."),
        submitter: str = typer.Option("RIVERSIDE", "--submitter",
                                      help="Our interchange id in the files."),
        as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
    ) -> None:
        """Write what each payer would send back for the claims in FILE."""
        try:
            text = source.read_text(encoding="utf-8")
            when = date.fromisoformat(received) if received else None
            if text.lstrip("\ufeff \t\r\n").startswith("ISA"):
                answers = adjudicate_837p(text, seed=seed, file=str(source), received=when)
            else:
                answers = _from_visits(source, json.loads(text), seed, when)
        except (OSError, ValueError) as error:
            fail(InputError(str(error), location=str(source)))
        except InputError as error:
            fail(error)
        if not answers:
            fail(InputError("no claims to adjudicate", location=str(source)))
        summaries = []
        for payer_id, adjudication in answers.items():
            files = write_files(adjudication, out, payer_id, payer_id=payer_id,
                                submitter_id=submitter)
            summaries.append(_summary(payer_id, adjudication, files))
        if as_json:
            print_json({"payers": summaries})
            return
        table = Table(title=f"Simulated answers in {out}")
        for column in ("payer", "claims", "rejected", "paid", "patient", "denials"):
            table.add_column(column)
        for s in summaries:
            table.add_row(str(s["payer_id"]), str(s["claims"]), str(s["rejected"]),
                          str(s["paid"]), str(s["patient_responsibility"]),
                          " ".join(s["denials"]))  # type: ignore[arg-type]
        console().print(table)
