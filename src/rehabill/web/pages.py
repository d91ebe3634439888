"""Server-rendered pages: login, home, visit entry with its live preview, visits, users.

Handlers parse the request, call one service, record the audit event and render. Every route
takes its user from the ``Allow`` guard (``deps.py``); login and logout are the only routes that
touch the session cookie.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from rehabill import __version__
from rehabill.domain.findings import Finding
from rehabill.domain.visit import Visit
from rehabill.errors import ConflictError, NotFoundError
from rehabill.web.audit import AuditAction
from rehabill.web.catalog import PatientChoice
from rehabill.web.deps import (
    Admin,
    AnyUser,
    Clinician,
    ContextDep,
    Principal,
    WebContext,
    check_csrf,
    read_session,
)
from rehabill.web.entry import (
    MAX_ROWS,
    Preview,
    ServiceRow,
    VisitForm,
    build_preview,
)
from rehabill.web.forms import ASSISTANCE_LEVELS, MODES, code_groups
from rehabill.web.sessions import COOKIE_NAME, Session
from rehabill.web.users import Role, User
from rehabill.web.visits import VisitRecord, VisitStatus

log = logging.getLogger("rehabill.web")
HTML = HTMLResponse


@dataclass(frozen=True, slots=True)
class NavItem:
    """A link in the header."""

    href: str
    label: str
    current: bool


def _nav(user: User, path: str) -> tuple[NavItem, ...]:
    items = [("/", "Home")]
    if user.role in (Role.THERAPIST, Role.ADMIN):
        items += [("/visits", "Visits"), ("/visits/new", "New visit")]
    if user.role in (Role.BILLER, Role.ADMIN):
        items += [("/dashboard", "Dashboard"), ("/claims", "Claims"),
                  ("/remittances", "Remittances"), ("/worklist", "Worklist")]
    if user.role is Role.ADMIN:
        items.append(("/admin", "Admin"))
    return tuple(NavItem(href, label, path == href or
                         (href not in ("/", "/visits/new") and path.startswith(href + "/")
                          and not path.startswith("/visits/new")))
                 for href, label in items)


def render(request: Request, context: WebContext, name: str, principal: Principal | None,
           status_code: int = 200, headers: dict[str, str] | None = None,
           **values: Any) -> Response:
    """Render a page or partial with the common values (user, nav, CSRF token)."""
    base: dict[str, Any] = {
        "site_name": context.settings.site_name, "version": __version__,
        "user": principal.user if principal else None,
        "csrf_token": principal.csrf_token if principal else values.pop("csrf_token", ""),
        "nav": _nav(principal.user, request.url.path) if principal else (),
    }
    base.update(values)
    return context.templates.TemplateResponse(request, name, base, status_code=status_code,
                                              headers=headers)


def error_page_values(request: Request) -> dict[str, Any]:
    """The header of an error page: the site, and the user when the session is valid."""
    context: WebContext = request.app.state.context
    values: dict[str, Any] = {"site_name": context.settings.site_name, "version": __version__,
                              "user": None, "csrf_token": "", "nav": ()}
    session = read_session(request, context)
    user = context.users.get_by_username(session.username) \
        if session is not None and session.username else None
    if session is not None and user is not None and user.active:
        values.update(user=user, csrf_token=context.sessions.csrf_token(session),
                      nav=_nav(user, request.url.path))
    return values


def set_session(response: Response, context: WebContext, session: Session) -> None:
    """Set the signed session cookie: HttpOnly, SameSite=Lax, Secure when configured."""
    response.set_cookie(COOKIE_NAME, context.sessions.encode(session),
                        max_age=context.sessions.lifetime, httponly=True, samesite="lax",
                        secure=context.settings.secure_cookies, path="/")


def _form_values(context: WebContext, principal: Principal, form: VisitForm,
                 preview: Preview, message: str = "") -> dict[str, Any]:
    clinicians = context.catalog.clinicians()
    return {
        "form": form, "preview": preview, "message": message,
        "patients": context.catalog.patients(),
        "chosen": context.catalog.patient(form.patient),
        "therapists": [c for c in clinicians if not c.credential.is_assistant],
        "assistants": [c for c in clinicians if c.credential.is_assistant],
        "code_groups": code_groups(context.reference), "modes": MODES,
        "assistance_levels": ASSISTANCE_LEVELS, "blank_row": ServiceRow(),
        "max_rows": MAX_ROWS,
    }


def _preview(context: WebContext, form: VisitForm) -> tuple[Visit | None, Preview]:
    return build_preview(form, context.catalog, context.reference, context.scrubber,
                         context.coding_options)


def _own_record(context: WebContext, principal: Principal, visit_id: str) -> VisitRecord:
    record = context.visits.get(visit_id)
    if record is None or not (principal.is_admin or record.author == principal.user.username):
        raise NotFoundError("There is no such visit, or it is not yours.")
    return record


def build_router() -> APIRouter:
    """The page routes."""
    router = APIRouter(include_in_schema=False, default_response_class=HTML)
    _auth_routes(router)
    _visit_routes(router)
    _admin_routes(router)
    return router


def _auth_routes(router: APIRouter) -> None:
    @router.get("/")
    async def home(request: Request, context: ContextDep, principal: AnyUser) -> Response:
        records: tuple[VisitRecord, ...] = ()
        can_document = principal.user.role in (Role.THERAPIST, Role.ADMIN)
        if can_document:
            records = _recent(context, principal, limit=8)
        return render(request, context, "home.html", principal, records=records,
                      can_document=can_document, today=context.clock())

    @router.get("/login")
    async def login_page(request: Request, context: ContextDep) -> Response:
        session = read_session(request, context)
        if session is not None and session.username and \
                context.users.get_by_username(session.username) is not None:
            return RedirectResponse("/", status_code=303)
        return _login(request, context, session)

    @router.post("/login")
    async def login(request: Request, context: ContextDep,
                    username: Annotated[str, Form(max_length=100)] = "",
                    password: Annotated[str, Form(max_length=200)] = "") -> Response:
        session = read_session(request, context)
        await check_csrf(request, context, session)
        user = context.passwords.authenticate(context.users, username, password)
        if user is None:
            log.info("login refused")
            return _login(request, context, session, status_code=401, username=username,
                          error="That username and password do not match an active account.")
        log.info("login ok user=%s role=%s", user.username, user.role.value)
        response = RedirectResponse("/", status_code=303)
        set_session(response, context, context.sessions.new(user.username))
        return response

    @router.post("/logout")
    async def logout(request: Request, context: ContextDep, principal: AnyUser) -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax",
                               secure=context.settings.secure_cookies)
        return response


def _login(request: Request, context: WebContext, session: Session | None,
           status_code: int = 200, **values: Any) -> Response:
    fresh = session if session is not None and not session.username else None
    fresh = fresh or context.sessions.new(None)
    response = render(request, context, "login.html", None, status_code=status_code,
                      csrf_token=context.sessions.csrf_token(fresh),
                      session_minutes=context.settings.session_minutes, **values)
    if fresh is not session:
        set_session(response, context, fresh)
    return response


def _recent(context: WebContext, principal: Principal, limit: int = 50
            ) -> tuple[VisitRecord, ...]:
    author = None if principal.is_admin else principal.user.username
    records = context.visits.recent(author=author, limit=limit)
    for record in records:
        principal.audit(AuditAction.READ, "visit", record.visit.visit_id)
    return records


def _visit_routes(router: APIRouter) -> None:
    @router.get("/visits")
    async def visit_list(request: Request, context: ContextDep,
                         principal: Clinician) -> Response:
        return render(request, context, "visits.html", principal,
                      records=_recent(context, principal))

    @router.get("/visits/new")
    async def new_visit(request: Request, context: ContextDep,
                        principal: Clinician) -> Response:
        principal.audit(AuditAction.READ, "patient", "list")
        form = VisitForm(date_of_service=context.clock().isoformat(),
                         rendering_npi=principal.user.provider_npi)
        return render(request, context, "visit_form.html", principal,
                      **_form_values(context, principal, form, Preview(None, None, ())))

    @router.get("/visits/new/_patient")
    async def patient_context(request: Request, context: ContextDep, principal: Clinician,
                              patient: str = "") -> Response:
        chosen = context.catalog.patient(patient[:40])
        if chosen is not None:
            principal.audit(AuditAction.READ, "patient", chosen.key)
        return render(request, context, "_patient_context.html", principal, chosen=chosen,
                      form=VisitForm(patient=patient), headers={"HX-Trigger": "rows-changed"})

    @router.post("/visits/preview")
    async def preview(request: Request, context: ContextDep, principal: Clinician) -> Response:
        form = VisitForm.from_form(await request.form())
        _audit_patient(principal, context.catalog.patient(form.patient))
        _, result = _preview(context, form)
        return render(request, context, "_preview.html", principal, preview=result)

    @router.post("/visits")
    async def save_visit(request: Request, context: ContextDep, principal: Clinician
                         ) -> Response:
        posted = await request.form()
        action = posted.get("action")
        form = VisitForm.from_form(posted)
        return _save(request, context, principal, form,
                     VisitStatus.FINAL if action == "finalize" else VisitStatus.DRAFT)

    @router.get("/visits/{visit_id}")
    async def visit_detail(request: Request, context: ContextDep, principal: Clinician,
                           visit_id: str, saved: int = 0) -> Response:
        record = _own_record(context, principal, visit_id[:40])
        principal.audit(AuditAction.READ, "visit", record.visit.visit_id)
        form = VisitForm.from_visit(record.visit, record.patient_key, record.coverage_key)
        _, result = _preview(context, form)
        return render(request, context, "visit_detail.html", principal, record=record,
                      preview=result, saved=saved)

    @router.get("/visits/{visit_id}/edit")
    async def edit_visit(request: Request, context: ContextDep, principal: Clinician,
                         visit_id: str) -> Response:
        record = _own_record(context, principal, visit_id[:40])
        if record.status is not VisitStatus.DRAFT:
            raise ConflictError("This visit is final; it can no longer be edited.")
        principal.audit(AuditAction.READ, "visit", record.visit.visit_id)
        form = VisitForm.from_visit(record.visit, record.patient_key, record.coverage_key)
        _, result = _preview(context, form)
        return render(request, context, "visit_form.html", principal,
                      **_form_values(context, principal, form, result))


def _audit_patient(principal: Principal, chosen: PatientChoice | None) -> None:
    if chosen is not None:
        principal.audit(AuditAction.READ, "patient", chosen.key)


def _save(request: Request, context: WebContext, principal: Principal, form: VisitForm,
          status: VisitStatus) -> Response:
    existing = _own_record(context, principal, form.visit_id[:40]) if form.visit_id else None
    visit_id = form.visit_id or context.visits.new_visit_id()
    visit, preview = _preview(context, replace(form, visit_id=visit_id))
    problem = _save_problem(visit, preview.findings, status)
    if visit is None or problem:
        return render(request, context, "visit_form.html", principal, status_code=422,
                      **_form_values(context, principal, form, preview, problem))
    chosen = context.catalog.patient(form.patient)
    coverage = (chosen.coverage(form.coverage) or chosen.coverages[0]) if chosen else None
    record = context.visits.save(visit, status=status, author=principal.user.username,
                                 patient_key=form.patient,
                                 coverage_key=coverage.key if coverage else "")
    principal.audit(AuditAction.UPDATE if existing else AuditAction.CREATE, "visit",
                    record.visit.visit_id)
    log.info("visit saved id=%s status=%s", record.visit.visit_id, record.status.value)
    return RedirectResponse(f"/visits/{record.visit.visit_id}?saved=1", status_code=303)


def _save_problem(visit: object, findings: tuple[Finding, ...], status: VisitStatus) -> str:
    if visit is None:
        first = findings[0].message if findings else "The visit is incomplete."
        return f"The visit cannot be saved yet: {first}"
    if status is VisitStatus.FINAL and any(f.is_error for f in findings):
        return "Fix the errors in the live claim before finalizing; you can save a draft now."
    return ""


def _admin_routes(router: APIRouter) -> None:
    @router.get("/admin/users")
    async def users_page(request: Request, context: ContextDep, principal: Admin) -> Response:
        return render(request, context, "admin_users.html", principal, roles=list(Role))

    @router.post("/admin/users")
    async def add_user(request: Request, context: ContextDep, principal: Admin,
                       username: Annotated[str, Form(max_length=100)],
                       password: Annotated[str, Form(min_length=12, max_length=200)],
                       role: Annotated[Role, Form()],
                       display_name: Annotated[str, Form(max_length=100)] = "",
                       provider_npi: Annotated[str, Form(max_length=10)] = "") -> Response:
        user = User(username.strip(), context.passwords.hash(password), role,
                    display_name.strip(), provider_npi.strip())
        try:
            context.users.add(user)
        except ConflictError as error:
            return render(request, context, "admin_users.html", principal, status_code=409,
                          roles=list(Role), message=error.message)
        log.info("user added user=%s role=%s by=%s", user.username, role.value,
                 principal.user.username)
        return render(request, context, "admin_users.html", principal, roles=list(Role),
                      added=user.username)
