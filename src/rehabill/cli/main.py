"""The ``rehabill`` command: a Typer app assembled by ``build_app`` (no import-time globals).

Each command group lives in its own module with a ``register(app)`` function, so the app is
built the same way by the console script and by tests.
"""

from __future__ import annotations

import typer

from rehabill import __version__
from rehabill.cli import books as books_cli
from rehabill.cli import claim as claim_cli
from rehabill.cli import codes as codes_cli
from rehabill.cli import demo as demo_cli
from rehabill.cli import forms as forms_cli
from rehabill.cli import report as report_cli
from rehabill.cli import scrub as scrub_cli
from rehabill.cli import simulate as simulate_cli
from rehabill.cli import store as store_cli
from rehabill.cli import units as units_cli
from rehabill.cli import web as web_cli
from rehabill.cli import x12 as x12_cli


def build_app() -> typer.Typer:
    """Assemble the command line app."""
    app = typer.Typer(
        name="rehabill",
        help="Billing for outpatient rehab practices: code, scrub, submit, collect, report.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @app.callback(invoke_without_command=True)
    def main(
        version: bool = typer.Option(False, "--version", help="Print the version and exit."),
    ) -> None:
        if version:
            typer.echo(f"rehabill {__version__}")
            raise typer.Exit(0)

    units_cli.register(app)
    codes_cli.register(app)
    x12_cli.register(app)
    forms_cli.register(app)
    scrub_cli.register(app)
    web_cli.register(app)
    simulate_cli.register(app)
    store_cli.register(app)
    books_cli.register(app)
    report_cli.register(app)
    claim_cli.register(app)
    demo_cli.register(app)
    return app


def run() -> None:
    """Console-script entry point."""
    build_app()()
