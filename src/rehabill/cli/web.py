"""``rehabill serve``: run the web app with uvicorn on this machine."""

from __future__ import annotations

import os
import secrets
from datetime import date

import typer

from rehabill.errors import ConfigError


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the app."""

    @app.command("serve")
    def serve_command(
        port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
        host: str = typer.Option("127.0.0.1", "--host",
                                 help="Interface to listen on (loopback by default)."),
    ) -> None:
        """Serve the web app (pages and the /api JSON API) with uvicorn."""
        import uvicorn
        from pydantic import SecretStr, ValidationError

        from rehabill.cli.common import fail
        from rehabill.coding import CodingResult
        from rehabill.domain import Finding, Visit
        from rehabill.reference import load
        from rehabill.services.scrubbing import default_settings, live_scrubber
        from rehabill.web import WebSettings, create_app
        from rehabill.web.demo import demo_users
        from rehabill.web.entry import entry_checks
        from rehabill.web.users import Passwords

        generated = "REHABILL_SECRET_KEY" not in os.environ
        try:
            settings = WebSettings(secret_key=SecretStr(secrets.token_urlsafe(48))) if generated \
                else WebSettings()  # type: ignore[call-arg]  # read from the environment
        except ValidationError as error:
            fail(ConfigError(str(error.errors()[0]["msg"])))
        if generated:
            typer.echo("rehabill: REHABILL_SECRET_KEY is not set; using a random key, so "
                       "logins end when the server stops.", err=True)
        passwords = Passwords()
        users, logins = demo_users(passwords)
        typer.echo("Demo logins (in memory until the practice database is connected):")
        for name, password in logins.items():
            typer.echo(f"  {name:<6} {password}")
        typer.echo(f"Open http://{host}:{port}/")
        options_for, rules = live_scrubber(default_settings(date.today()))
        entry = entry_checks(load())

        def scrubber(visit: Visit, result: CodingResult) -> tuple[Finding, ...]:
            return (*entry(visit, result), *rules(visit, result))

        app = create_app(settings, users=users, passwords=passwords, scrubber=scrubber,
                         coding_options=options_for)
        uvicorn.run(app, host=host, port=port, log_level="info")
