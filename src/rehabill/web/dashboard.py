"""The owner's dashboard: A/R aging, denials, payment trends and KPIs as SVG bar charts with
the numbers beside them, and KX threshold standing.

``build_dashboard`` is a function of claim facts (``rehabill.reports``); the route gets the
facts from the store and renders the result. Charts come from ``reports.svg.bar_chart``, which
escapes every label, so they are inlined as markup (no script, allowed by the CSP).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from markupsafe import Markup

from rehabill.domain.money import ZERO
from rehabill.reference import Reference
from rehabill.reports import (
    ClaimFact,
    Table,
    ar_aging,
    denial_analysis,
    kpis,
    kx_standing,
    payment_trends,
)
from rehabill.reports.svg import bar_chart

CHART_W, CHART_H = 620, 280
TREND_PERIODS = 6


@dataclass(frozen=True, slots=True)
class Panel:
    """A chart with the table of numbers it was drawn from."""

    title: str
    chart: Markup
    table: Table


@dataclass(frozen=True, slots=True)
class Dashboard:
    """Everything the dashboard page shows."""

    kpis: Table
    panels: tuple[Panel, ...]
    kx: Table | None
    open_ar: Decimal
    claims: int


def _money(cell: object) -> Decimal:
    return cell if isinstance(cell, Decimal) else ZERO


def aging_panel(facts: Sequence[ClaimFact], today: date) -> Panel:
    """Open insurance A/R per age bucket (all payers together), with the per-payer table."""
    table = ar_aging(facts, today)
    total = table.rows[-1]
    buckets = table.columns[1:-1]
    values = [_money(total[i + 1]) for i in range(len(buckets))]
    svg = bar_chart("Open A/R by age (days)", buckets, [("open balance", values)],
                    width=CHART_W, height=CHART_H)
    return Panel("A/R aging", Markup(svg), table)


def denial_panel(facts: Sequence[ClaimFact]) -> Panel:
    """Denied dollars by CARC."""
    table = denial_analysis(facts, by="carc")
    rows = table.rows[:8]
    svg = bar_chart("Denied dollars by reason (CARC)", [str(r[0]) for r in rows],
                    [("denied dollars", [_money(r[2]) for r in rows])],
                    width=CHART_W, height=CHART_H)
    return Panel("Denials", Markup(svg), table)


def trend_panel(facts: Sequence[ClaimFact]) -> Panel:
    """Charges and payments per month, the last six months."""
    table = payment_trends(facts, "month")
    rows = table.rows[-TREND_PERIODS:]
    labels = [date.fromisoformat(str(r[0])).strftime("%b %Y") for r in rows]
    svg = bar_chart("Charges and payments by month", labels,
                    [("charges", [_money(r[1]) for r in rows]),
                     ("paid", [_money(r[3]) for r in rows])],
                    width=CHART_W, height=CHART_H)
    return Panel("Payment trends", Markup(svg),
                 Table(table.title, table.columns, tuple(rows), table.notes))


def build_dashboard(facts: Sequence[ClaimFact], kx_totals: Sequence[tuple[str, str, Decimal]],
                    reference: Reference, today: date) -> Dashboard:
    """The dashboard for ``today`` from every claim's facts and this year's KX totals."""
    threshold = reference.thresholds.for_date(today) or \
        reference.thresholds.latest_before(today)
    kx = kx_standing(kx_totals, threshold.kx, threshold.medical_review) \
        if threshold is not None else None
    if kx is not None:
        kx = Table(kx.title, kx.columns,
                   tuple(r for r in kx.rows if r[-1] != "under threshold")[:25], kx.notes)
    return Dashboard(kpis(facts, today), (aging_panel(facts, today), denial_panel(facts),
                                          trend_panel(facts)), kx,
                     sum((f.balance for f in facts), ZERO), len(facts))
