"""The Admin page's coverage editor: a patient's primary and secondary (and tertiary)
coverages, added and changed by hand (issue 6: a secondary coverage the EHR did not send).

Admins only, like the other Admin forms. URLs carry the practice's patient id and row ids,
never a name; every patient shown and every coverage saved is audited by row id.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from rehabill.domain import Coverage
from rehabill.errors import ConflictError
from rehabill.services import coverages as coverage_service
from rehabill.store import coverages as store_coverages
from rehabill.store import views
from rehabill.web.audit import AuditAction
from rehabill.web.billing import books, factory
from rehabill.web.catalog import BooksCatalog
from rehabill.web.deps import Admin, ContextDep, Principal, WebContext
from rehabill.web.pages import render

log = logging.getLogger("rehabill.web")
RowId = Annotated[int, Path(ge=1, le=2_147_483_647)]
Text = Annotated[str, Form(max_length=80)]
RELATIONSHIPS = (("self", "Self"), ("spouse", "Spouse"), ("child", "Child"),
                 ("other", "Other"))


def build_router() -> APIRouter:
    """The coverage editor's routes."""
    router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

    @router.get("/admin/coverages")
    async def coverage_page(request: Request, context: ContextDep, principal: Admin,
                            patient: str = "", saved: int = 0) -> Response:
        return _page(request, context, principal, patient=patient[:80],
                     message="Coverage saved. Claims built, resent or moved to the secondary "
                             "payer from now on use it." if saved else "")

    @router.post("/admin/patients/{patient_id}/coverages")
    async def add_coverage(request: Request, context: ContextDep, principal: Admin,
                           patient_id: RowId, payer_id: Text = "", payer_name: Text = "",
                           member_id: Text = "", plan: Text = "", group_number: Text = "",
                           relationship: Text = "self", sequence: Text = "secondary",
                           start: Text = "", end: Text = "", dated: Text = "") -> Response:
        form = _Form(payer_id, payer_name, member_id, plan, group_number, relationship,
                     sequence, dates=(start, end) if dated else None)
        return _save(request, context, principal, patient_id, None, form)

    @router.post("/admin/patients/{patient_id}/coverages/{coverage_id}")
    async def edit_coverage(request: Request, context: ContextDep, principal: Admin,
                            patient_id: RowId, coverage_id: RowId, payer_id: Text = "",
                            payer_name: Text = "", member_id: Text = "", plan: Text = "",
                            group_number: Text = "", relationship: Text = "self",
                            sequence: Text = "primary", start: Text = "", end: Text = "",
                            dated: Text = "") -> Response:
        form = _Form(payer_id, payer_name, member_id, plan, group_number, relationship,
                     sequence, dates=(start, end) if dated else None)
        return _save(request, context, principal, patient_id, coverage_id, form)

    return router


class _Form:
    """The coverage form's fields, trimmed.

    The effective and termination dates (``start``, ``end``; HTML date inputs send
    YYYY-MM-DD) are the days the coverage pays for, both included: the scrubber holds a visit
    outside them (``eligibility.coverage_inactive``, CARC 26/27). A form that sends neither
    (an older page, a script) keeps the stored dates: the page's forms say they carry the
    dates with a hidden ``dated`` field, since an empty date input sends the same as none.
    """

    def __init__(self, *values: str, dates: tuple[str, str] | None = None) -> None:
        (self.payer_id, self.payer_name, self.member_id, self.plan, self.group_number,
         self.relationship, self.sequence) = (v.strip() for v in values)
        self.dates_sent = dates is not None
        self.start_text, self.end_text = (d.strip() for d in dates or ("", ""))

    @property
    def start(self) -> date | None:
        return _day(self.start_text)

    @property
    def end(self) -> date | None:
        return _day(self.end_text)

    def problem(self) -> str:
        """What is wrong with the form, or ""."""
        if not self.payer_id or not self.member_id:
            return "A coverage needs the payer id and the member id."
        if self.sequence not in store_coverages.SEQUENCES:
            return "Choose primary, secondary, tertiary or former."
        if self.relationship not in dict(RELATIONSHIPS):
            return "Choose the patient's relationship to the subscriber."
        for label, text in (("start", self.start_text), ("end", self.end_text)):
            if text and _day(text) is None:
                return f"Give the coverage's {label} date as YYYY-MM-DD (or leave it empty)."
        if self.start and self.end and self.end < self.start:
            return "The coverage cannot end before it starts."
        return ""

    def coverage(self) -> Coverage:
        return Coverage(self.payer_id.upper(), self.payer_name, self.member_id,
                        self.plan.lower(), self.relationship, self.group_number,
                        sequence=self.sequence, start=self.start, end=self.end)


def _day(text: str) -> date | None:
    """A form's YYYY-MM-DD date, or None (empty or not a date)."""
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def _save(request: Request, context: WebContext, principal: Principal, patient_id: int,
          coverage_id: int | None, form: _Form) -> Response:
    problem = form.problem()
    if problem:
        return _page(request, context, principal, patient_row=patient_id, status_code=422,
                     message=problem, message_kind="error")
    try:
        saved = coverage_service.save_coverage(factory(context), patient_id, form.coverage(),
                                               coverage_id=coverage_id,
                                               actor=principal.user.username,
                                               keep_dates=not form.dates_sent)
    except ConflictError as error:
        return _page(request, context, principal, patient_row=patient_id, status_code=409,
                     message=f"Not saved: {error.message}.", message_kind="error")
    principal.audit(AuditAction.CREATE if coverage_id is None else AuditAction.UPDATE,
                    "coverage", str(saved))
    if isinstance(context.catalog, BooksCatalog):
        context.catalog.forget()  # visit entry offers the coverage as it is now
    log.info("coverage saved coverage=%s patient=%s by=%s", saved, patient_id,
             principal.user.username)
    with books(context) as session:
        external = store_coverages.patient_external_id(session, patient_id)
    query = urlencode({"patient": external, "saved": 1})
    return RedirectResponse(f"/admin/coverages?{query}", status_code=303)


def _page(request: Request, context: WebContext, principal: Principal, *, patient: str = "",
          patient_row: int | None = None, status_code: int = 200, **values: Any) -> Response:
    with books(context) as session:
        if patient_row is not None:
            patient = store_coverages.patient_external_id(session, patient_row) or patient
        patients = store_coverages.patients_with_coverages(session, patient)
        payers = views.payers(session)
    for p in patients:
        principal.audit(AuditAction.READ, "patient", str(p.id))
    return render(request, context, "admin_coverages.html", principal, status_code=status_code,
                  patients=patients, payers=payers, search=patient,
                  sequences=store_coverages.SEQUENCES, relationships=RELATIONSHIPS, **values)
