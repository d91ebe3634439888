"""The dashboard from claim facts: KPIs, charts with their numbers, KX standing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from rehabill.reference import load
from rehabill.reports import ClaimFact
from rehabill.web.dashboard import build_dashboard

TODAY = date(2026, 3, 31)


def _fact(n: int, *, paid: str = "0", balance: str = "100.00", denied: bool = False,
          dos: date = date(2026, 1, 15)) -> ClaimFact:
    return ClaimFact(f"C-{n}", "MEDICARE", "Medicare Part B", f"P-{n}", "1467560003", dos,
                     Decimal("100.00"), ("97110",), submitted_on=dos,
                     adjudicated_on=dos if denied or paid != "0" else None, paid=Decimal(paid),
                     balance=Decimal(balance), denied=denied,
                     denial_reasons=("50",) if denied else (), paid_on=dos if paid != "0" else None,
                     paid_first_pass=paid != "0")


def test_dashboard__charts_carry_the_numbers_they_draw() -> None:
    facts = [_fact(1, paid="80.00", balance="0"), _fact(2, denied=True),
             _fact(3, dos=date(2026, 3, 20))]
    kx = [("P-9", "pt_slp", Decimal("2300.00")), ("P-8", "pt_slp", Decimal("100.00"))]
    board = build_dashboard(facts, kx, load(), TODAY)
    assert board.claims == 3 and board.open_ar == Decimal("200.00")
    assert [p.title for p in board.panels] == ["A/R aging", "Denials", "Payment trends"]
    aging = board.panels[0]
    assert aging.table.rows[-1][0] == "Total" and aging.table.rows[-1][-1] == Decimal("200.00")
    assert aging.chart.startswith("<svg") and "open balance" in aging.chart
    assert board.panels[1].table.rows[0][0] == "50"
    kpi = {r[0]: r[1] for r in board.kpis.rows}
    assert kpi["denial rate"] == "50.0%"
    assert board.kx is not None and [r[0] for r in board.kx.rows] == ["P-9"]


def test_dashboard__empty_practice_still_renders_values() -> None:
    board = build_dashboard([], [], load(), TODAY)
    assert board.claims == 0 and board.open_ar == 0
    assert all(p.chart.startswith("<svg") for p in board.panels)
