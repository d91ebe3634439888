"""The JSON API under /api: the same users, roles and CSRF rules as the pages.

A script logs in with ``POST /api/login`` (JSON), keeps the session cookie and sends the returned
``csrf_token`` as ``X-CSRF-Token`` on every POST. Errors are ``{ok, error, errors, status}``.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, StringConstraints

from rehabill.cli.units import parse_term, units_json
from rehabill.coding import CodingResult, UnitMethod, code_visit, compute
from rehabill.domain.findings import Finding
from rehabill.domain.money import format_amount
from rehabill.domain.parse import parse_visit
from rehabill.domain.visit import Discipline
from rehabill.errors import UsageError
from rehabill.web.audit import AuditAction
from rehabill.web.deps import AnyUser, ContextDep
from rehabill.web.entry import minutes_findings, unique_findings
from rehabill.web.errors import FindingsError, LoginRequired
from rehabill.web.pages import set_session
from rehabill.web.sessions import COOKIE_NAME

log = logging.getLogger("rehabill.web")
Term = Annotated[str, StringConstraints(min_length=1, max_length=40)]


class ErrorBody(BaseModel):
    """The one error shape."""

    ok: bool = False
    error: str
    errors: list[dict[str, Any]]
    status: int


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 415, 422)}


class LoginIn(BaseModel):
    """Credentials."""

    username: Annotated[str, StringConstraints(max_length=100)]
    password: Annotated[str, StringConstraints(max_length=200)]


class LoginOut(BaseModel):
    """Who is logged in and the CSRF token to send as ``X-CSRF-Token``."""

    ok: bool = True
    username: str
    role: str
    csrf_token: str


class UnitsIn(BaseModel):
    """The ``rehabill units`` arguments as JSON."""

    terms: list[Term] = Field(min_length=1, max_length=50,
                              examples=[["97530=25", "97110=10/13", "97161"]])
    method: UnitMethod = UnitMethod.CMS
    discipline: Discipline = Discipline.PT


class UnitsLineOut(BaseModel):
    """One line of units."""

    code: str
    units: int
    modifiers: list[str]
    therapist_minutes: int
    assistant_minutes: int


class UnitsOut(BaseModel):
    """The ``rehabill units --json`` contract (DESIGN.md)."""

    method: str
    total_timed_minutes: int
    total_units: int
    lines: list[UnitsLineOut]
    explanation: list[str]


class ClaimLineOut(BaseModel):
    """A claim line."""

    number: int
    code: str
    modifiers: list[str]
    units: int
    charge: str
    control_number: str
    diagnosis_pointers: list[int]
    therapist_minutes: int
    assistant_minutes: int


class ClaimOut(BaseModel):
    """The coded claim."""

    claim_id: str
    total_charge: str
    lines: list[ClaimLineOut]


class FindingOut(BaseModel):
    """A finding (DESIGN.md)."""

    code: str
    severity: str
    message: str
    location: dict[str, Any]
    fix: str
    auto_fix: bool = False


class CodedVisitOut(BaseModel):
    """A coded visit: claim lines, the unit arithmetic, its explanation and findings."""

    visit_id: str
    method: str
    claim: ClaimOut
    units: UnitsOut
    explanation: list[str]
    findings: list[FindingOut]


VISIT_EXAMPLE: dict[str, Any] = {
    "visit_id": "V-1001", "date_of_service": "2026-03-02",
    "billing_provider": {"npi": "1306849450", "tax_id": "123456789", "name": "Riverside Rehab",
                         "address": {"line1": "1 Main St", "city": "Austin", "state": "TX",
                                     "zip": "787010001"}},
    "patient": {"id": "P-1", "first_name": "Mark", "last_name": "Lee",
                "birth_date": "1950-05-01", "sex": "M"},
    "coverage": {"payer_id": "MEDICARE", "payer_name": "Medicare Part B",
                 "member_id": "1EG4TE5MK73", "plan": "medicare_part_b"},
    "rendering_provider": {"npi": "1467560003", "first_name": "Ana", "last_name": "Ruiz",
                           "credential": "PT"},
    "diagnoses": ["I69.351"],
    "services": [{"code": "97530", "minutes": 25}, {"code": "97110", "minutes": 10},
                 {"code": "97161"}],
}


def build_router() -> APIRouter:
    """The /api routes."""
    router = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)

    @router.post("/login", response_model=LoginOut)
    async def api_login(request: Request, context: ContextDep, body: LoginIn) -> Response:
        """Log in; the response sets the session cookie and gives the CSRF token."""
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise UsageError("Send the credentials as application/json.")
        user = context.passwords.authenticate(context.users, body.username, body.password)
        if user is None:
            log.info("api login refused")
            raise LoginRequired("That username and password do not match an active account.")
        session = context.sessions.new(user.username)
        out = LoginOut(username=user.username, role=user.role.value,
                       csrf_token=context.sessions.csrf_token(session))
        response = JSONResponse(out.model_dump())
        set_session(response, context, session)
        return response

    @router.post("/logout")
    async def api_logout(context: ContextDep, principal: AnyUser) -> Response:
        """End the session (the cookie is cleared)."""
        response = JSONResponse({"ok": True})
        response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax",
                               secure=context.settings.secure_cookies)
        return response

    @router.get("/me", response_model=LoginOut)
    async def api_me(principal: AnyUser) -> LoginOut:
        """The logged-in user."""
        return LoginOut(username=principal.user.username, role=principal.user.role.value,
                        csrf_token=principal.csrf_token)

    @router.post("/units", response_model=UnitsOut)
    async def api_units(context: ContextDep, principal: AnyUser, body: UnitsIn) -> UnitsOut:
        """Units and modifiers for a day's minutes: ``rehabill units --json`` as JSON."""
        ref = context.reference
        services = [parse_term(term, ref) for term in body.terms]
        result = compute(services, body.method, ref.codes.is_timed)
        return UnitsOut.model_validate(units_json(result, body.discipline))

    @router.post("/code-visit", response_model=CodedVisitOut)
    async def api_code_visit(
        context: ContextDep, principal: AnyUser,
        visit: Annotated[dict[str, Any], Body(openapi_examples={
            "medicare": {"summary": "A Medicare PT visit", "value": VISIT_EXAMPLE}})],
        method: UnitMethod | None = None,
    ) -> CodedVisitOut:
        """Code one visit (DESIGN.md visit JSON): claim lines, explanation and findings."""
        parsed, problems = parse_visit(visit)
        if parsed is None:
            raise FindingsError("The visit cannot be used.", [f.as_dict() for f in problems])
        too_long = minutes_findings(parsed)
        if too_long:
            raise FindingsError("The visit cannot be used.", [f.as_dict() for f in too_long])
        principal.audit(AuditAction.PROCESS, "visit", parsed.visit_id)
        options = context.coding_options(parsed)
        result = code_visit(parsed, reference=context.reference, options=options,
                            method=method)
        findings = unique_findings((*result.findings, *context.scrubber(parsed, result)))
        return _coded(result, findings)

    return router


def _coded(result: CodingResult, findings: tuple[Finding, ...]) -> CodedVisitOut:
    claim = result.claim
    units = result.units
    lines = [ClaimLineOut(number=line.number, code=line.code, modifiers=list(line.modifiers),
                          units=line.units, charge=format_amount(line.charge),
                          control_number=line.control_number,
                          diagnosis_pointers=list(line.diagnosis_pointers),
                          therapist_minutes=line.therapist_minutes,
                          assistant_minutes=line.assistant_minutes) for line in claim.lines]
    unit_lines = [UnitsLineOut(code=line.code, units=line.units, modifiers=list(line.modifiers),
                               therapist_minutes=line.therapist_minutes,
                               assistant_minutes=line.assistant_minutes)
                  for line in claim.lines]
    return CodedVisitOut(
        visit_id=claim.visit.visit_id, method=units.method.value,
        claim=ClaimOut(claim_id=claim.claim_id, total_charge=format_amount(claim.total_charge),
                       lines=lines),
        units=UnitsOut(method=units.method.value, total_timed_minutes=units.total_timed_minutes,
                       total_units=units.total_units, lines=unit_lines,
                       explanation=list(units.explanation)),
        explanation=list(units.explanation),
        findings=[FindingOut.model_validate(f.as_dict()) for f in findings])
