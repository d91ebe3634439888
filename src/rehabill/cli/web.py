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
        from rehabill.settings import Settings
        from rehabill.store import make_engine, make_session_factory, migrate
        from rehabill.web import WebSettings, create_app
        from rehabill.web.app import default_catalog
        from rehabill.web.demo import demo_users
        from rehabill.web.entry import entry_checks
        from rehabill.web.sql import SqlAuditSink, SqlUserRepository, SqlVisitService
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
        books_settings = Settings()
        engine = make_engine(settings=books_settings)
        migrate(engine)
        factory = make_session_factory(engine)
        users = SqlUserRepository(factory)
        if not users.all():
            memory, logins = demo_users(passwords)
            for user in memory.all():
                users.add(user)
            typer.echo("Demo logins (stored in the practice database):")
            for name, password in logins.items():
                typer.echo(f"  {name:<6} {password}")
        else:
            typer.echo("Log in with the practice's accounts.")
        typer.echo(f"Open http://{host}:{port}/")
        options_for, rules = live_scrubber(default_settings(date.today()))
        entry = entry_checks(load())

        def scrubber(visit: Visit, result: CodingResult) -> tuple[Finding, ...]:
            return (*entry(visit, result), *rules(visit, result))

        catalog = default_catalog(settings, factory, None)  # the practice's own patients
        app = create_app(settings, users=users, passwords=passwords, scrubber=scrubber,
                         coding_options=options_for, audit=SqlAuditSink(factory),
                         catalog=catalog, visits=SqlVisitService(factory, catalog),
                         books=factory, outbox=books_settings.outbox)
        uvicorn.run(app, host=host, port=port, log_level="info")
