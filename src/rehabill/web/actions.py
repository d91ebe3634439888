"""Billing actions from the pages: scrub, batch, rescrub, upload 835/999/277CA, resubmit a
corrected claim, move a balance. Each calls one service of ``rehabill.services.billing`` (its
own unit of work) and records an audit event per claim it touched.

Uploaded files are kept under ``<outbox>/../inbox`` with a random name (never the name the
browser sent, which may name a patient), and read by the service from there.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from rehabill.domain import ClaimStatus, Finding
from rehabill.errors import ConflictError, NotFoundError
from rehabill.services import billing as services
from rehabill.store import claims as store_claims
from rehabill.store import facts as store_facts
from rehabill.store import people, views
from rehabill.store import visits as store_visits
from rehabill.web.audit import AuditAction
from rehabill.web.billing import (
    RowId,
    _ids,
    _remittances,
    _worklist,
    books,
    claim_detail_page,
    claims_page,
    factory,
)
from rehabill.web.dashboard import Dashboard, build_dashboard
from rehabill.web.deps import Biller, ContextDep, Principal, WebContext
from rehabill.web.pages import render
from rehabill.x12.tokens import detect_delimiters, split_segments

log = logging.getLogger("rehabill.web")
HTML = HTMLResponse
MAX_UPLOAD = 20 * 1024 * 1024
ACK_KINDS = frozenset({"999", "277"})


def report_facts(report: Any) -> tuple[tuple[str, str], ...]:
    """The scalar fields of a service report's JSON, as (label, value) pairs for the page."""
    data: Mapping[str, Any] = report.as_json()
    out = []
    for key, value in data.items():
        if key in ("file", "path") and isinstance(value, str):
            value = Path(value).name  # the server's folders are nobody's business
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            out.append((key.replace("_", " "), str(value)))
        elif isinstance(value, bool):
            out.append((key.replace("_", " "), "yes" if value else "no"))
        elif isinstance(value, list | tuple) and key != "findings":
            out.append((key.replace("_", " "), str(len(value))))
    return tuple(out)


def report_findings(report: Any) -> tuple[Finding, ...]:
    """The report's findings (errors first)."""
    found = tuple(getattr(report, "findings", ()) or ())
    return tuple(sorted(found, key=lambda f: (not f.is_error, f.severity.value)))


def transaction_kind(text: str) -> str:
    """ST01 of the first transaction ("835", "999", "277", "837"...), or "" when unreadable."""
    delimiters, _ = detect_delimiters(text)
    if delimiters is None:
        return ""
    for segment in split_segments(text[:200_000], delimiters):
        if segment.id == "ST":
            return segment.get(1)
    return ""


def _audit(principal: Principal, action: AuditAction, claim_ids: Any) -> None:
    for claim_id in claim_ids:
        principal.audit(action, "claim", str(claim_id))


def build_router() -> APIRouter:
    """The action routes and the dashboard."""
    router = APIRouter(include_in_schema=False, default_response_class=HTML)
    _dashboard(router)
    _claim_actions(router)
    _remittance_actions(router)
    _worklist_actions(router)
    return router


def dashboard_data(context: WebContext, principal: Principal
                   ) -> tuple[Dashboard, list[views.EpisodeAlert]]:
    """The dashboard and the episode alerts for today (one audited read of the report)."""
    today = context.clock()
    with books(context) as session:
        key = (today, views.books_version(session))
        cached = context.memo.get("dashboard")
        if cached is None or cached[0] != key:
            facts, kx = store_facts.facts_and_kx(session, today.year)
            alerts = views.episode_alerts(session, today)
            cached = (key, build_dashboard(facts, kx, context.reference, today), alerts)
            context.memo["dashboard"] = cached
    principal.audit(AuditAction.READ, "report", "dashboard")
    return cached[1], cached[2]


def _dashboard(router: APIRouter) -> None:
    @router.get("/dashboard")
    async def dashboard(request: Request, context: ContextDep, principal: Biller) -> Response:
        board, alerts = dashboard_data(context, principal)
        return render(request, context, "dashboard.html", principal, d=board, alerts=alerts,
                      today=context.clock())


def _claim_actions(router: APIRouter) -> None:
    @router.post("/claims/scrub")
    async def scrub(request: Request, context: ContextDep, principal: Biller) -> Response:
        # Only claims already coded (draft): a visit with no claim may be a therapist's draft.
        with books(context) as session:
            keys = views.visit_keys_of_claims(session, status=ClaimStatus.DRAFT.value)
        report = services.scrub_stored_claims(factory(context), today=context.clock(),
                                              visit_keys=keys, actor=principal.user.username)
        log.info("scrub claims=%d by=%s", len(keys), principal.user.username)
        principal.audit(AuditAction.PROCESS, "claim", "scrub")
        return claims_page(request, context, principal, message="Scrub finished.",
                           report=("Scrub", report_facts(report), report_findings(report)))

    @router.post("/claims/batch")
    async def batch(request: Request, context: ContextDep, principal: Biller) -> Response:
        posted = await request.form()
        ids = _ids(posted.getlist("claim_id"))
        kind = "CMS-1500" if posted.get("kind") == "CMS-1500" else "837P"
        if not ids:
            return claims_page(request, context, principal, status_code=422,
                               message_kind="error", message="Select the claims to send first.")
        with books(context) as session:
            ready = [c.id for c in views.claims_by_id(session, ids)
                     if c.status == ClaimStatus.SCRUBBED.value]
        if not ready:
            return claims_page(request, context, principal, status_code=422,
                               message_kind="error",
                               message="None of the selected claims is scrubbed and ready.")
        context.outbox.mkdir(parents=True, exist_ok=True)
        report = services.build_batch(factory(context), outbox=context.outbox,
                                      today=context.clock(), kind=kind, claim_ids=ready)
        _audit(principal, AuditAction.UPDATE, ready)
        with books(context) as session:
            files = views.files_for_claims(session, ready)
        log.info("batch kind=%s claims=%d by=%s", kind, len(ready), principal.user.username)
        skipped = len(ids) - len(ready)
        note = f" {skipped} selected claim(s) were not ready and stayed out." if skipped else ""
        return claims_page(request, context, principal,
                           message=f"Batched {len(ready)} claim(s) as {kind}.{note}",
                           batch={"kind": kind, "files": files,
                                  "claims": len(ready), "facts": report_facts(report),
                                  "findings": report_findings(report)})

    @router.post("/claims/{claim_id}/rescrub")
    async def rescrub(request: Request, context: ContextDep, principal: Biller,
                      claim_id: RowId) -> Response:
        with books(context) as session:
            found = views.claims_by_id(session, [claim_id])
            if not found:
                raise NotFoundError("There is no such claim.")
            if found[0].status not in ("held", "draft", "scrubbed"):
                raise ConflictError("Only a claim that has not been sent can be rescrubbed.")
            store_claims.set_status(session, [claim_id], ClaimStatus.DRAFT,
                                    actor=principal.user.username, note="sent back to rescrub")
            keys = views.visit_keys_of_claims(session, claim_ids=[claim_id])
        report = services.scrub_stored_claims(factory(context), today=context.clock(),
                                              visit_keys=keys, actor=principal.user.username)
        principal.audit(AuditAction.UPDATE, "claim", str(claim_id))
        return claim_detail_page(request, context, principal, claim_id,
                                 message="Rescrubbed with the current rules and payer policy.",
                                 facts=report_facts(report))

    @router.post("/claims/{claim_id}/reopen")
    async def reopen(request: Request, context: ContextDep, principal: Biller,
                     claim_id: RowId) -> Response:
        # A held claim goes away and its visit becomes a draft again: corrected in the entry
        # form and finalized, it is coded and scrubbed anew. Sent claims are corrected by
        # resubmission instead (the payer already has them).
        with books(context) as session:
            visit_key = views.reopen_held_claim(session, claim_id)
            if visit_key is None:
                raise NotFoundError("There is no such claim.")
            store_visits.set_draft(session, [visit_key], True)
            people.record_event(session, actor=principal.user.username, action="reopen",
                                entity="claim", entity_id=str(claim_id),
                                detail={"visit": visit_key, "was": "held"})
        principal.audit(AuditAction.UPDATE, "claim", str(claim_id))
        principal.audit(AuditAction.UPDATE, "visit", visit_key)
        log.info("reopen claim=%d by=%s", claim_id, principal.user.username)
        if principal.is_admin:
            return RedirectResponse(f"/visits/{visit_key}/edit", status_code=303)
        return claims_page(request, context, principal,
                           message="The claim was removed and its visit is a draft again; "
                                   "the therapist corrects and finalizes it, which codes and "
                                   "scrubs it anew.")

    @router.post("/claims/{claim_id}/move")
    async def move(request: Request, context: ContextDep, principal: Biller,
                   claim_id: RowId, to: str = "secondary") -> Response:
        # What a payer left owing goes to the patient, or is billed to the patient's
        # secondary coverage with this claim's adjudication (coordination of benefits).
        if to not in ("patient", "secondary"):
            return claim_detail_page(request, context, principal, claim_id, status_code=422,
                                     message="Move to the patient or secondary.",
                                     message_kind="error")
        try:
            amount = services.move_balance(factory(context), claim_id, to=to,
                                           actor=principal.user.username, today=context.clock())
        except ConflictError as error:
            return claim_detail_page(request, context, principal, claim_id, status_code=409,
                                     message=f"Nothing moved: {error.message}.",
                                     message_kind="error")
        principal.audit(AuditAction.UPDATE, "claim", str(claim_id))
        log.info("move balance claim=%d to=%s by=%s", claim_id, to, principal.user.username)
        return claim_detail_page(request, context, principal, claim_id, message=(
            f"Moved ${amount:,.2f} to the secondary payer: a claim billing it with this "
            "claim's payment is scrubbed and waits for the next batch." if to == "secondary"
            else f"Moved ${amount:,.2f} to the patient."))

    @router.post("/claims/{claim_id}/resubmit")
    async def resubmit(request: Request, context: ContextDep, principal: Biller,
                       claim_id: RowId) -> Response:
        new_id = services.resubmit_claim(factory(context), claim_id,
                                         actor=principal.user.username, today=context.clock())
        _audit(principal, AuditAction.CREATE, (claim_id, new_id))
        return RedirectResponse(f"/claims/{new_id}?resubmitted=1", status_code=303)


def _remittance_actions(router: APIRouter) -> None:
    @router.post("/remittances")
    async def upload(request: Request, context: ContextDep, principal: Biller,
                     file: UploadFile) -> Response:
        data = await file.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            return _remittances(request, context, principal, status_code=413,
                                message_kind="error", message="The file is over 20 MB.")
        text = data.decode("utf-8", errors="replace")
        kind = transaction_kind(text)
        if kind not in ACK_KINDS | {"835"}:
            return _remittances(request, context, principal, status_code=422,
                                message_kind="error",
                                message="This is not an 835, 999 or 277CA file (no ISA "
                                        "envelope or another transaction set).")
        path = _keep(context.outbox, data, kind)
        books_factory = factory(context)
        if kind == "835":
            report: Any = services.post_remittance(books_factory, path,
                                                   actor=principal.user.username)
            title = "835 remittance"
        else:
            report = services.read_acknowledgments(books_factory, path,
                                                   actor=principal.user.username)
            title = "999 acknowledgment" if kind == "999" else "277CA claim acknowledgment"
        principal.audit(AuditAction.CREATE, "file", kind)
        log.info("upload kind=%s bytes=%d by=%s", kind, len(data), principal.user.username)
        findings = report_findings(report)
        bad = bool(getattr(report, "refused", False))
        return _remittances(request, context, principal, status_code=422 if bad else 200,
                            message_kind="error" if bad else "success",
                            message=f"{title} read." if not bad else
                            f"{title} was not posted: see the problems below.",
                            report={"title": title, "facts": report_facts(report),
                                    "findings": findings})


def _keep(outbox: Path, data: bytes, kind: str) -> Path:
    inbox = outbox.resolve().parent / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    path = inbox / f"{date.today().isoformat()}-{kind}-{secrets.token_hex(6)}.x12"
    path.write_bytes(data)
    return path


def _worklist_actions(router: APIRouter) -> None:
    @router.post("/worklist/{item_id}/resubmit")
    async def work_resubmit(request: Request, context: ContextDep, principal: Biller,
                            item_id: RowId) -> Response:
        claim_id = _item_claim(context, item_id)
        new_id = services.resubmit_claim(factory(context), claim_id,
                                         actor=principal.user.username, today=context.clock())
        _audit(principal, AuditAction.CREATE, (claim_id, new_id))
        with books(context) as session:
            people.update_worklist_item(session, item_id, status="done",
                                        note=f"{context.clock().isoformat()} "
                                             f"{principal.user.username}: corrected claim "
                                             f"{new_id} sent to scrub")
        return RedirectResponse(f"/claims/{new_id}?resubmitted=1", status_code=303)

    @router.post("/worklist/{item_id}/move")
    async def work_move(request: Request, context: ContextDep, principal: Biller,
                        item_id: RowId, to: str = "patient") -> Response:
        if to not in ("patient", "secondary"):
            return _worklist(request, context, principal, status_code=422,
                             message_kind="error", message="Move to the patient or secondary.")
        claim_id = _item_claim(context, item_id)
        amount = services.move_balance(factory(context), claim_id, to=to,
                                       actor=principal.user.username)
        principal.audit(AuditAction.UPDATE, "claim", str(claim_id))
        return _worklist(request, context, principal,
                         message=f"Moved ${amount:,.2f} to the {to}.")


def _item_claim(context: WebContext, item_id: int) -> int:
    with books(context) as session:
        found = views.worklist_claim_ids(session, [item_id])
    if item_id not in found:
        raise NotFoundError("There is no such worklist item.")
    return found[item_id]
