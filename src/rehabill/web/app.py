"""``create_app(settings)``: the web app, built fresh for each caller (no import-time globals).

Collaborators come in as arguments so the lead can wire the store's repositories and the
scrubber, and tests can pass in-memory ones. Anything not given gets the demo default: no users,
the demo catalog, in-memory visits and audit log, and ``entry_checks`` as the scrubber.
"""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rehabill import __version__
from rehabill.reference import Reference, load
from rehabill.web import actions, api, api_billing, billing, coverages, errors, pages
from rehabill.web.audit import AuditSink, InMemoryAuditLog
from rehabill.web.catalog import BooksCatalog, PatientCatalog, demo_catalog
from rehabill.web.deps import WebContext
from rehabill.web.entry import OptionsFor, Scrubber, entry_checks, options_for_plan
from rehabill.web.sessions import SessionCodec
from rehabill.web.settings import WebSettings
from rehabill.web.users import InMemoryUserRepository, Passwords, UserRepository
from rehabill.web.visits import InMemoryVisitService, VisitService

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "object-src 'none'")


class SecurityHeaders:
    """Adds CSP and friends to every response; no caching of anything but static files."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                ]
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _package_dir(name: str) -> Path:
    return Path(str(resources.files("rehabill.web").joinpath(name)))


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=_package_dir("templates"))
    templates.env.auto_reload = False  # templates ship with the package; skip the stat per render
    templates.env.globals["static"] = lambda path: f"/static/{path}?v={__version__}"
    return templates


def default_catalog(settings: WebSettings, books: sessionmaker[Session] | None,
                    today: date | None) -> PatientCatalog:
    """The practice's patients from the database when there is one, else the demo practice."""
    if books is None:
        return demo_catalog(today or date.today())
    return BooksCatalog(books, secret=settings.secret_key.get_secret_value(),
                        clock=(lambda: today) if today is not None else date.today)


def create_app(settings: WebSettings, *, users: UserRepository | None = None,
               audit: AuditSink | None = None, catalog: PatientCatalog | None = None,
               visits: VisitService | None = None, scrubber: Scrubber | None = None,
               coding_options: OptionsFor | None = None,
               reference: Reference | None = None, passwords: Passwords | None = None,
               today: date | None = None, books: sessionmaker[Session] | None = None,
               outbox: Path | None = None) -> FastAPI:
    """Build the web app.

    Args:
        settings: secret key, cookie security, session length.
        users: where users live (default: an empty in-memory repository).
        audit: receives an event for every read and write of patient data.
        catalog: patients and clinicians (default: the practice's own from ``books``, or
            the demo practice when there is no database).
        visits: stores visits (default: in memory).
        scrubber: findings for a coded visit (default: ``entry_checks``).
        coding_options: the payer's coding options for a visit (default: by plan name).
        reference: the shipped tables (default: ``reference.load()``).
        passwords: the Argon2 hasher (tests pass cheaper parameters).
        today: a fixed "today" (tests, screenshots); default the real date.
        books: the practice database's session factory; the claims, remittances, worklist,
            dashboard and admin pages need it (without it they say so).
        outbox: where batches are written (default ``./outbox``).

    Returns:
        The FastAPI app.
    """
    ref = reference or load()
    templates = _templates()
    app = FastAPI(title="rehabill", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json",
                  description="Coding and claims for outpatient rehab practices. Log in with "
                              "POST /api/login; send the returned csrf_token as X-CSRF-Token.")
    app.state.context = WebContext(
        settings=settings,
        users=users if users is not None else InMemoryUserRepository(),
        passwords=passwords or Passwords(),
        sessions=SessionCodec(settings.secret_key.get_secret_value(),
                              settings.session_minutes * 60),
        audit=audit if audit is not None else InMemoryAuditLog(),
        catalog=catalog if catalog is not None else default_catalog(settings, books, today),
        visits=visits if visits is not None else InMemoryVisitService(),
        scrubber=scrubber or entry_checks(ref),
        coding_options=coding_options or options_for_plan,
        reference=ref,
        templates=templates,
        clock=(lambda: today) if today is not None else date.today,
        books=books,
        outbox=outbox or Path("outbox"),
    )
    app.mount("/static", StaticFiles(directory=_package_dir("static")), name="static")
    app.include_router(pages.build_router())
    app.include_router(billing.build_router())
    app.include_router(coverages.build_router())
    app.include_router(actions.build_router())
    app.include_router(api.build_router())
    app.include_router(api_billing.build_router())

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, bool]:
        return {"ok": True}

    errors.install(app, templates, pages.error_page_values)
    app.add_middleware(SecurityHeaders)
    return app
