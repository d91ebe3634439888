"""The billing JSON API: claims, worklist, remittances and reports, for billers and admins.

Same session and CSRF rules as the rest of /api. Amounts are decimal strings ("123.45"),
dates ISO 8601. Every claim or worklist item returned is an audited read.
"""

from __future__ import annotations

from dataclasses import asdict, fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, StringConstraints

from rehabill.domain.money import format_amount
from rehabill.errors import NotFoundError
from rehabill.store import views
from rehabill.web.actions import dashboard_data
from rehabill.web.api import ERRORS
from rehabill.web.audit import AuditAction
from rehabill.web.billing import (
    STATUSES,
    RowId,
    audit_claims,
    books,
    code_texts,
    parse_day,
    update_work_items,
)
from rehabill.web.deps import Biller, ContextDep

Status = Annotated[str, Query(max_length=20)]


class ClaimsOut(BaseModel):
    """A page of claims."""

    ok: bool = True
    claims: list[dict[str, Any]]


class ClaimOut(BaseModel):
    """One claim with lines, findings, history, ledger and worklist items."""

    ok: bool = True
    claim: dict[str, Any]


class ReportsOut(BaseModel):
    """The dashboard's numbers: KPIs, A/R aging, denials, trends, KX standing, alerts."""

    ok: bool = True
    kpis: dict[str, Any]
    ar_aging: dict[str, Any]
    denials: dict[str, Any]
    payment_trends: dict[str, Any]
    kx: dict[str, Any] | None
    alerts: list[dict[str, Any]]


class WorkUpdateIn(BaseModel):
    """Changes to a worklist item: any of assignee, status, a note to append."""

    assignee: Annotated[str, StringConstraints(max_length=80)] = ""
    status: Literal["", "open", "in_progress", "done"] = ""
    note: Annotated[str, StringConstraints(max_length=500)] = ""


class WorklistOut(BaseModel):
    """Open (or filtered) worklist items."""

    ok: bool = True
    items: list[dict[str, Any]]


def plain(value: Any) -> Any:
    """A view value as JSON: Decimals as "0.00" strings, dates ISO, tuples as lists."""
    if isinstance(value, Decimal):
        return format_amount(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def build_router() -> APIRouter:
    """The billing API routes."""
    router = APIRouter(prefix="/api", tags=["billing"], responses=ERRORS)

    @router.get("/claims", response_model=ClaimsOut)
    async def api_claims(context: ContextDep, principal: Biller, status: Status = "",
                         payer: Annotated[str, Query(max_length=80)] = "",
                         date_from: Annotated[str, Query(max_length=10)] = "",
                         date_to: Annotated[str, Query(max_length=10)] = "",
                         limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> ClaimsOut:
        """Claims, newest service date first; filter by status, payer id and service dates."""
        with books(context) as session:
            claims = views.list_claims(session, status=status if status in STATUSES else "",
                                       payer=payer, date_from=parse_day(date_from),
                                       date_to=parse_day(date_to), limit=limit)
        audit_claims(principal, (c.id for c in claims))
        return ClaimsOut(claims=[plain(c) for c in claims])

    @router.get("/claims/{claim_id}", response_model=ClaimOut)
    async def api_claim(context: ContextDep, principal: Biller, claim_id: RowId) -> ClaimOut:
        """One claim with its lines, findings, status history, ledger and worklist items."""
        with books(context) as session:
            detail = views.claim_detail(session, claim_id)
        if detail is None:
            raise NotFoundError("There is no such claim.")
        principal.audit(AuditAction.READ, "claim", str(claim_id))
        return ClaimOut(claim=plain(asdict(detail)))

    @router.get("/reports", response_model=ReportsOut)
    async def api_reports(context: ContextDep, principal: Biller) -> ReportsOut:
        """The dashboard as JSON: each report as {title, columns, rows, notes}."""
        board, alerts = dashboard_data(context, principal)
        aging, denials, trends = (plain(p.table) for p in board.panels)
        return ReportsOut(kpis=plain(board.kpis), ar_aging=aging, denials=denials,
                          payment_trends=trends, kx=plain(board.kx) if board.kx else None,
                          alerts=[plain(a) for a in alerts])

    @router.get("/worklist", response_model=WorklistOut)
    async def api_worklist(context: ContextDep, principal: Biller, status: Status = "open",
                           assignee: Annotated[str, Query(max_length=80)] = "") -> WorklistOut:
        """Worklist items ("open" = not done) with CARC/RARC texts and the next action."""
        with books(context) as session:
            items = views.worklist(session, status=status, assignee=assignee)
        out = []
        for item in items:
            principal.audit(AuditAction.READ, "worklist_item", str(item.id))
            carc, rarcs = code_texts(context, item.carc, item.rarc)
            out.append({**plain(item), "carc_text": carc, "rarc_texts": list(rarcs)})
        return WorklistOut(items=out)

    @router.post("/worklist/{item_id}", response_model=WorklistOut)
    async def api_work_update(context: ContextDep, principal: Biller, item_id: RowId,
                              body: WorkUpdateIn) -> WorklistOut:
        """Assign a worklist item, change its status, or append a dated note."""
        found = update_work_items(context, principal, [item_id], assignee=body.assignee,
                                  status=body.status, note=body.note.strip())
        if not found:
            raise NotFoundError("There is no such worklist item.")
        with books(context) as session:
            items = views.worklist(session, status="", item_ids=found)
        return WorklistOut(items=[plain(i) for i in items])

    return router
