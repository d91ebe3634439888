"""Billing pages on the practice database: claims, remittances, worklist, dashboard, admin.

Billers and admins only (``Biller``/``Admin`` guards); every read and write of patient data is
audited by opaque id (claim row id, worklist item id). URLs carry claim ids and filters that
name no person (status, payer id, dates). Reads go through ``store.views`` in one unit of work
per request; actions call ``rehabill.services.billing``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session, sessionmaker

from rehabill.domain import ClaimStatus
from rehabill.errors import NotFoundError, RehabillError
from rehabill.ledger.denials import carc_text, rarc_text
from rehabill.rules.policy import shipped_policies
from rehabill.services.uow import unit_of_work
from rehabill.store import people, views
from rehabill.web.audit import AuditAction
from rehabill.web.deps import Admin, Biller, ContextDep, Principal, WebContext
from rehabill.web.pages import render
from rehabill.web.users import Role

log = logging.getLogger("rehabill.web")
HTML = HTMLResponse
RowId = Annotated[int, Path(ge=1, le=2_147_483_647)]
STATUSES = tuple(s.value for s in ClaimStatus)
WORK_STATUSES = (("open", "Open"), ("in_progress", "In progress"), ("done", "Done"))


class BooksMissing(RehabillError):
    """The page needs the practice database and none is connected."""

    status = 503

    def __init__(self) -> None:
        super().__init__("The practice database is not connected; start rehabill with "
                         "`rehabill serve` or `rehabill demo`.")


def factory(context: WebContext) -> sessionmaker[Session]:
    """The practice database's session factory (BooksMissing without one)."""
    if context.books is None:
        raise BooksMissing()
    return context.books


@contextmanager
def books(context: WebContext) -> Iterator[Session]:
    """One unit of work on the practice database."""
    with unit_of_work(factory(context)) as session:
        yield session


def parse_day(text: str) -> date | None:
    """A yyyy-mm-dd query value, or None when empty or not a date."""
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def audit_claims(principal: Principal, claim_ids: Any) -> None:
    """One read event per claim shown."""
    for claim_id in claim_ids:
        principal.audit(AuditAction.READ, "claim", str(claim_id))


def code_texts(context: WebContext, carc: str, rarc: str) -> tuple[str, tuple[str, ...]]:
    """The CARC's and RARCs' official texts (shipped X12 lists)."""
    remarks = tuple(f"{code}: {rarc_text(context.reference, code)}" for code in rarc.split())
    return (carc_text(context.reference, carc) if carc else ""), remarks


def build_router() -> APIRouter:
    """The billing page routes."""
    router = APIRouter(include_in_schema=False, default_response_class=HTML)
    _claim_routes(router)
    _remittance_routes(router)
    _file_routes(router)
    _worklist_routes(router)
    _admin_routes(router)
    return router


def _claim_routes(router: APIRouter) -> None:
    @router.get("/claims")
    async def claim_list(request: Request, context: ContextDep, principal: Biller,
                         status: str = "", payer: str = "", date_from: str = "",
                         date_to: str = "") -> Response:
        return claims_page(request, context, principal, status=status, payer=payer,
                           date_from=date_from, date_to=date_to)

    @router.get("/claims/{claim_id}")
    async def claim_page(request: Request, context: ContextDep, principal: Biller,
                         claim_id: RowId, resubmitted: int = 0) -> Response:
        message = "Corrected claim created and scrubbed; batch it from the claims list." \
            if resubmitted else ""
        return claim_detail_page(request, context, principal, claim_id, message=message)


def claims_page(request: Request, context: WebContext, principal: Principal, *,
                status: str = "", payer: str = "", date_from: str = "", date_to: str = "",
                status_code: int = 200, **values: Any) -> Response:
    """The claims list, filtered, with ``values`` (a message, a batch) on top."""
    status = status if status in STATUSES else ""
    start, end = parse_day(date_from), parse_day(date_to)
    with books(context) as session:
        claims = views.list_claims(session, status=status, payer=payer[:80],
                                   date_from=start, date_to=end)
        counts = views.claim_status_counts(session)
        payers = views.payers(session)
    audit_claims(principal, (c.id for c in claims))
    return render(request, context, "claims.html", principal, status_code=status_code,
                  claims=claims, counts=counts, payers=payers, statuses=STATUSES,
                  filters={"status": status, "payer": payer[:80],
                           "date_from": start.isoformat() if start else "",
                           "date_to": end.isoformat() if end else ""}, **values)


def claim_detail_page(request: Request, context: WebContext, principal: Principal,
                      claim_id: int, status_code: int = 200, **values: Any) -> Response:
    """One claim: lines, findings, history, ledger, worklist items."""
    with books(context) as session:
        detail = views.claim_detail(session, claim_id)
    if detail is None:
        raise NotFoundError("There is no such claim.")
    principal.audit(AuditAction.READ, "claim", str(claim_id))
    return render(request, context, "claim_detail.html", principal, status_code=status_code,
                  d=detail, texts={w.id: code_texts(context, w.carc, w.rarc) for w in detail.work},
                  **values)


def _file_routes(router: APIRouter) -> None:
    @router.get("/files/{file_id}")
    async def download(context: ContextDep, principal: Biller, file_id: RowId) -> Response:
        with books(context) as session:
            found = views.file_path(session, file_id, direction="out")
        path = _inside(context.outbox, found[0]) if found else None
        if found is None or path is None:
            raise NotFoundError("There is no such file in the outbox.")
        principal.audit(AuditAction.READ, "file", str(file_id))
        media = "application/pdf" if path.suffix.lower() == ".pdf" else "application/edi-x12"
        return FileResponse(path, media_type=media, filename=path.name)


def _inside(outbox: FsPath, stored: str) -> FsPath | None:
    """The stored file's path when it is an existing file inside the outbox, else None."""
    root = outbox.resolve()
    path = FsPath(stored)
    path = (path if path.is_absolute() else root / path).resolve()
    return path if path.is_file() and path.is_relative_to(root) else None


def _remittance_routes(router: APIRouter) -> None:
    @router.get("/remittances")
    async def remittance_page(request: Request, context: ContextDep,
                              principal: Biller) -> Response:
        return _remittances(request, context, principal)


def _remittances(request: Request, context: WebContext, principal: Principal,
                 status_code: int = 200, **values: Any) -> Response:
    with books(context) as session:
        payments = views.remittances(session)
        held = views.suspense(session)
        inbound = views.files(session, direction="in", kinds=("835", "999", "277CA"))
    for item in held:
        principal.audit(AuditAction.READ, "suspense", str(item.id))
    return render(request, context, "remittances.html", principal, status_code=status_code,
                  payments=payments, held=held, inbound=inbound, **values)


def _worklist_routes(router: APIRouter) -> None:
    @router.get("/worklist")
    async def worklist_page(request: Request, context: ContextDep, principal: Biller,
                            status: str = "open", mine: int = 0, updated: int = -1
                            ) -> Response:
        message = f"Updated {updated} item{'' if updated == 1 else 's'}." if updated >= 0 else ""
        return _worklist(request, context, principal, status=status, mine=mine,
                         message=message)

    @router.post("/worklist/bulk")
    async def worklist_bulk(request: Request, context: ContextDep, principal: Biller) -> Response:
        posted = await request.form()
        ids = _ids(posted.getlist("item_id"))
        assignee = str(posted.get("assignee") or "")[:80]
        status = str(posted.get("status") or "")
        note = str(posted.get("note") or "").strip()[:500]
        if not ids:
            return _worklist(request, context, principal, status_code=422, message_kind="error",
                             message="Select at least one item first.")
        if status and status not in dict(WORK_STATUSES):
            return _worklist(request, context, principal, status_code=422, message_kind="error",
                             message="Choose a status from the list.")
        if not (assignee or status or note):
            return _worklist(request, context, principal, status_code=422, message_kind="error",
                             message="Choose someone to assign, a status, or write a note.")
        known = update_work_items(context, principal, ids, assignee=assignee, status=status,
                                  note=note)
        return RedirectResponse(f"/worklist?updated={len(known)}", status_code=303)


def _worklist(request: Request, context: WebContext, principal: Principal, *,
              status: str = "open", mine: int = 0, status_code: int = 200,
              **values: Any) -> Response:
    status = status if status in ("open", "in_progress", "done", "") else "open"
    with books(context) as session:
        items = views.worklist(session, status=status,
                               assignee=principal.user.username if mine else "")
        workers = [u.username for u in views.users(session)
                   if u.role in (Role.BILLER.value, Role.ADMIN.value)]
    for item in items:
        principal.audit(AuditAction.READ, "worklist_item", str(item.id))
    texts = {w.id: code_texts(context, w.carc, w.rarc) for w in items}
    return render(request, context, "worklist.html", principal, status_code=status_code,
                  items=items, texts=texts, people=workers or [principal.user.username],
                  work_statuses=WORK_STATUSES,
                  filters={"status": status, "mine": mine}, **values)


def update_work_items(context: WebContext, principal: Principal, ids: list[int], *,
                      assignee: str = "", status: str = "", note: str = "") -> list[int]:
    """Assign, set the status of, or add a dated note to worklist items; the ids found."""
    stamped = f"{context.clock().isoformat()} {principal.user.username}: {note}" if note else ""
    with books(context) as session:
        known = sorted(views.worklist_claim_ids(session, ids))
        for item_id in known:
            people.update_worklist_item(session, item_id, status=status or None,
                                        assignee=assignee or None, note=stamped)
    for item_id in known:
        principal.audit(AuditAction.UPDATE, "worklist_item", str(item_id))
    log.info("worklist update items=%d by=%s", len(known), principal.user.username)
    return known


def _ids(values: list[Any], limit: int = 500) -> list[int]:
    """Row ids from form values, ignoring anything that is not a positive integer."""
    out = []
    for value in values[:limit]:
        text = str(value)
        if text.isdigit() and 0 < int(text) < 2_147_483_648:
            out.append(int(text))
    return out


def _admin_routes(router: APIRouter) -> None:
    @router.get("/admin")
    async def admin_page(request: Request, context: ContextDep, principal: Admin) -> Response:
        return _admin(request, context, principal)

    @router.post("/admin/payers/{payer_id}/policy")
    async def set_policy(request: Request, context: ContextDep, principal: Admin,
                         payer_id: RowId, policy: Annotated[str, Form(max_length=80)] = ""
                         ) -> Response:
        if policy and policy not in _policy_names():
            return _admin(request, context, principal, status_code=422, message_kind="error",
                          message=f"There is no payer policy named {policy!r}.")
        with books(context) as session:
            found = views.set_payer_policy(session, payer_id, policy)
        if not found:
            raise NotFoundError("There is no such payer.")
        log.info("payer policy set payer=%s policy=%s by=%s", payer_id, policy or "-",
                 principal.user.username)
        return _admin(request, context, principal,
                      message="Payer policy saved. Claims for this payer are coded and scrubbed "
                              "under it from now on (rescrub a claim not sent yet to apply it); "
                              "\"by plan\" goes back to each coverage's plan.")


def _admin(request: Request, context: WebContext, principal: Principal,
           status_code: int = 200, **values: Any) -> Response:
    with books(context) as session:
        practices = [(p.name, p.npi, p.tax_id, f"{p.city}, {p.state}", p.submitter_id)
                     for p in views.practices(session)]
        payers = views.payers(session)
        clinicians = views.providers(session)
        users = views.users(session)
    return render(request, context, "admin.html", principal, status_code=status_code,
                  practices=practices, payers=payers, clinicians=clinicians, users=users,
                  policies=_policy_names(), default_policy=shipped_policies().default.name,
                  **values)


def _policy_names() -> list[str]:
    book = shipped_policies()
    return sorted({p.name for p in book.by_plan.values()} | {book.default.name})
