"""Request dependencies: the app's context, the session, and the one guard every route uses.

``Allow(*roles)`` is the only way a route gets a user: it reads the signed session, loads the
user, checks the CSRF token on every state-changing request (form field ``csrf_token`` or the
``X-CSRF-Token`` header that htmx sends), and checks the role. ``tests/web/test_roles.py``
walks every route to hold this in place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from rehabill.reference import Reference
from rehabill.web.audit import AuditAction, AuditSink, event
from rehabill.web.catalog import PatientCatalog
from rehabill.web.entry import OptionsFor, Scrubber
from rehabill.web.errors import Forbidden, LoginRequired
from rehabill.web.sessions import COOKIE_NAME, CSRF_FIELD, CSRF_HEADER, Session, SessionCodec
from rehabill.web.settings import WebSettings
from rehabill.web.users import Passwords, Role, User, UserRepository
from rehabill.web.visits import VisitService

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(frozen=True, slots=True)
class WebContext:
    """Everything handlers need, built once by ``create_app``."""

    settings: WebSettings
    users: UserRepository
    passwords: Passwords
    sessions: SessionCodec
    audit: AuditSink
    catalog: PatientCatalog
    visits: VisitService
    scrubber: Scrubber
    coding_options: OptionsFor
    reference: Reference
    templates: Jinja2Templates
    clock: Callable[[], date]
    books: sessionmaker[DbSession] | None = None
    outbox: Path = Path("outbox")
    memo: dict[str, Any] = field(default_factory=dict)  # per-worker caches (dashboard)


async def get_context(request: Request) -> WebContext:
    """The context ``create_app`` stored on the app (async: no thread-pool hop per request)."""
    context: WebContext = request.app.state.context
    return context


ContextDep = Annotated[WebContext, Depends(get_context)]


def read_session(request: Request, context: WebContext) -> Session | None:
    """The request's valid session, or None."""
    return context.sessions.decode(request.cookies.get(COOKIE_NAME))


@dataclass(frozen=True, slots=True)
class Principal:
    """The logged-in user of a request, with the session's CSRF token and the audit hook."""

    user: User
    session: Session
    csrf_token: str
    route: str
    audit_sink: AuditSink

    def audit(self, action: AuditAction, entity: str, entity_id: str) -> None:
        """Record an access to patient data by this user through this route."""
        self.audit_sink.record(event(self.user.username, self.user.role.value, action, entity,
                                     entity_id, self.route))

    @property
    def is_admin(self) -> bool:
        """True for an admin."""
        return self.user.role is Role.ADMIN


class Allow:
    """The guard: a logged-in, active user whose role is one of ``roles``."""

    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    async def __call__(self, request: Request, context: ContextDep) -> Principal:
        session = read_session(request, context)
        user = context.users.get_by_username(session.username) \
            if session is not None and session.username else None
        if session is None or user is None or not user.active:
            raise LoginRequired()
        if request.method not in SAFE_METHODS:
            await check_csrf(request, context, session)
        if user.role not in self.roles:
            raise Forbidden(f"A {user.role.value} may not do this.")
        route = str(getattr(request.scope.get("route"), "path", request.url.path))
        return Principal(user, session, context.sessions.csrf_token(session), route,
                         context.audit)


async def check_csrf(request: Request, context: WebContext, session: Session | None) -> None:
    """Raise Forbidden unless the request carries this session's CSRF token."""
    token = request.headers.get(CSRF_HEADER)
    if not token and request.headers.get("content-type", "").startswith(FORM_TYPES):
        value = (await request.form()).get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    if not context.sessions.is_valid_csrf(session, token):
        raise Forbidden("The form has expired or did not come from this site; reload the page "
                        "and try again.")


ALL_ROLES = (Role.THERAPIST, Role.BILLER, Role.ADMIN)
AnyUser = Annotated[Principal, Depends(Allow(*ALL_ROLES))]
Biller = Annotated[Principal, Depends(Allow(Role.BILLER, Role.ADMIN))]
Clinician = Annotated[Principal, Depends(Allow(Role.THERAPIST, Role.ADMIN))]
Admin = Annotated[Principal, Depends(Allow(Role.ADMIN))]
