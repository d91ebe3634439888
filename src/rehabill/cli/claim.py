"""``rehabill claim resubmit|void|move-balance``: correct a claim or move what is still owed."""

from __future__ import annotations

import typer

from rehabill.cli.books import DB_HELP, actor, open_books, today_or_fail
from rehabill.cli.common import print_json
from rehabill.domain.money import format_amount
from rehabill.services import billing
from rehabill.store import books


def register(app: typer.Typer) -> None:
    """Add the ``claim`` group to the app."""
    group = typer.Typer(help="Correct, void or move the balance of one claim.",
                        no_args_is_help=True)
    app.add_typer(group, name="claim")

    @group.command("resubmit")
    def resubmit_command(
        claim_id: int = typer.Argument(..., help="The claim's id (see `rehabill worklist`)."),
        today: str | None = typer.Option(None, "--today", help="Scrub as of (YYYY-MM-DD)."),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Make a corrected claim (frequency 7, REF*F8 the payer's claim number), rescrubbed.

        A claim the 999/277CA rejected is sent again as it was first sent (the payer never
        accepted it, so there is nothing to replace), rescrubbed with the books' data.
        """
        day = today_or_fail(today)
        with open_books(db) as factory:
            new_id = billing.resubmit_claim(factory, claim_id, frequency="7", actor=actor(),
                                            today=day)
            with factory() as session:
                row = books.claim_for_update(session, new_id)
                frequency = row.frequency if row is not None else "7"
        _done(as_json, {"claim_id": claim_id, "new_claim_id": new_id, "frequency": frequency},
              f"Claim {new_id} replaces claim {claim_id}; "
              "`rehabill batch` sends it when it is scrubbed.")

    @group.command("void")
    def void_command(
        claim_id: int = typer.Argument(..., help="The claim's id."),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Make a void claim (frequency 8) that cancels the claim at the payer."""
        with open_books(db) as factory:
            new_id = billing.resubmit_claim(factory, claim_id, frequency="8", actor=actor())
        _done(as_json, {"claim_id": claim_id, "new_claim_id": new_id, "frequency": "8"},
              f"Void claim {new_id} cancels claim {claim_id}; `rehabill batch` sends it.")

    @group.command("move-balance")
    def move_command(
        claim_id: int = typer.Argument(..., help="The claim's id."),
        to: str = typer.Option(..., "--to", help="patient or secondary."),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Move the claim's open insurance balance to the patient or the secondary payer."""
        with open_books(db) as factory:
            amount = billing.move_balance(factory, claim_id, to=to, actor=actor())
        _done(as_json, {"claim_id": claim_id, "to": to, "amount": format_amount(amount)},
              f"Moved {format_amount(amount)} of claim {claim_id} to the {to}.")


def _done(as_json: bool, data: dict[str, object], text: str) -> None:
    if as_json:
        print_json(data)
    else:
        typer.echo(text)
