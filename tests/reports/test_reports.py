"""Reports over claim facts: aging buckets, denial rates, trends, KPIs with formulas."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from rehabill.reports import ClaimFact, ar_aging, denial_analysis, kpis, kx_standing, payment_trends
from rehabill.reports.svg import bar_chart
from rehabill.reports.tables import bucket_label

AS_OF = date(2026, 9, 30)


def fact(claim_id: str, dos: date, charge: str, **kw: object) -> ClaimFact:
    base = ClaimFact(claim_id, kw.pop("payer_id", "MEDICARE"),  # type: ignore[arg-type]
                     kw.pop("payer_name", "Medicare Part B"), "P-1", "1467560003",  # type: ignore[arg-type]
                     dos, Decimal(charge))
    return replace(base, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("days", "label"), [
    (0, "0-30"), (30, "0-30"), (31, "31-60"), (60, "31-60"), (61, "61-90"), (90, "61-90"),
    (91, "91-120"), (120, "91-120"), (121, "120+"), (400, "120+"),
])
def test_bucket_label(days: int, label: str) -> None:
    assert bucket_label(days) == label


def test_ar_aging__by_payer_and_bucket_with_totals() -> None:
    facts = [
        fact("A", date(2026, 9, 20), "100", balance=Decimal("100")),
        fact("B", date(2026, 7, 15), "200", balance=Decimal("50")),  # 77 days
        fact("C", date(2026, 4, 1), "300", balance=Decimal("300"), payer_name="Lone Star"),
        fact("D", date(2026, 9, 1), "80", balance=Decimal("0")),
    ]
    table = ar_aging(facts, AS_OF)
    assert table.columns == ("payer", "0-30", "31-60", "61-90", "91-120", "120+", "total")
    assert table.text_rows() == [
        ["Lone Star", "0.00", "0.00", "0.00", "0.00", "300.00", "300.00"],
        ["Medicare Part B", "100.00", "0.00", "50.00", "0.00", "0.00", "150.00"],
        ["Total", "100.00", "0.00", "50.00", "0.00", "300.00", "450.00"],
    ]


def test_ar_aging__by_submission_leaves_unsubmitted_out_and_says_so() -> None:
    facts = [fact("A", date(2026, 5, 1), "100", balance=Decimal("100"),
                  submitted_on=date(2026, 9, 15)),
             fact("B", date(2026, 5, 1), "100", balance=Decimal("100"))]
    table = ar_aging(facts, AS_OF, basis="submission")
    assert table.text_rows()[-1] == ["Total", "100.00", "0.00", "0.00", "0.00", "0.00", "100.00"]
    assert "1 claim(s) with a balance were never submitted" in table.notes


def test_denials__by_carc_payer_and_code_with_rates() -> None:
    adj = date(2026, 8, 1)
    facts = [
        fact("A", adj, "100", adjudicated_on=adj, denied=True, denial_reasons=("197",),
             codes=("97530",)),
        fact("B", adj, "60", adjudicated_on=adj, denied=True, denial_reasons=("197", "N54"),
             codes=("97110",), payer_name="Lone Star"),
        fact("C", adj, "50", adjudicated_on=adj, denied=True, denial_reasons=("50",),
             codes=("97530",)),
        fact("D", adj, "90", adjudicated_on=adj, paid=Decimal("70"), codes=("97530",)),
        fact("E", adj, "90"),  # not adjudicated yet: not in any rate
    ]
    by_carc = denial_analysis(facts, "carc")
    assert by_carc.text_rows() == [["197", "2", "160.00", "50.0%"], ["50", "1", "50.00", "25.0%"],
                                   ["N54", "1", "60.00", "25.0%"]]
    assert by_carc.notes == ("3 of 4 adjudicated claims denied",)
    by_payer = denial_analysis(facts, "payer")
    assert by_payer.text_rows() == [["Medicare Part B", "2", "150.00", "66.7%"],
                                    ["Lone Star", "1", "60.00", "100.0%"]]
    assert denial_analysis(facts, "code").text_rows()[0] == ["97530", "2", "150.00", "66.7%"]
    with pytest.raises(ValueError):
        denial_analysis(facts, "weather")


def test_payment_trends__charges_by_service_payments_by_payment_date() -> None:
    facts = [fact("A", date(2026, 7, 30), "100", paid_on=date(2026, 8, 20), allowed=Decimal(60),
                  paid=Decimal(48), contractual=Decimal(40), patient_responsibility=Decimal(12)),
             fact("B", date(2026, 8, 3), "50")]
    table = payment_trends(facts, "month")
    assert table.text_rows() == [
        ["2026-07-01", "100.00", "0.00", "0.00", "0.00", "0.00"],
        ["2026-08-01", "50.00", "60.00", "48.00", "40.00", "12.00"]]
    weekly = payment_trends(facts, "week")
    assert weekly.text_rows()[0][0] == "2026-07-27"  # the Monday


def test_kpis__values_and_formulas() -> None:
    d = date(2026, 9, 1)
    facts = [
        fact("A", d, "100", submitted_on=d, adjudicated_on=d, paid_first_pass=True,
             paid=Decimal(48), contractual=Decimal(40), patient_responsibility=Decimal(12)),
        fact("B", d, "100", submitted_on=d, adjudicated_on=d, denied=True,
             scrub_clean_first_pass=False, balance=Decimal(100)),
        fact("C", d, "100", submitted_on=d, accepted_first_pass=False, balance=Decimal(100)),
        fact("D", d, "90", balance=Decimal(90)),                  # clean, not sent yet
        fact("E", d, "90", scrub_clean_first_pass=False, balance=Decimal(90)),  # held
    ]
    table = kpis(facts, AS_OF)
    values = {row[0]: row[1] for row in table.rows}
    assert values["clean-claim rate"] == "25.0%"       # 1 of 3 submitted + 1 held
    assert values["first-pass resolution"] == "50.0%"  # 1 of 2 adjudicated
    assert values["denial rate"] == "50.0%"
    assert values["days in A/R"] == "71.2"              # 380 / (480/90)
    assert values["net collection rate"] == "30.0%"    # 48 / (200 - 40)
    assert all(row[2] for row in table.rows)            # every KPI shows its formula


def test_kpis__empty_practice_says_n_a() -> None:
    values = {row[0]: row[1] for row in kpis([], AS_OF).rows}
    assert set(values.values()) == {"n/a"}


def test_kx_standing() -> None:
    table = kx_standing([("P-1", "pt_slp", Decimal("2600")), ("P-2", "ot", Decimal("100")),
                         ("P-3", "pt_slp", Decimal("2100")), ("P-4", "pt_slp", Decimal("3100"))],
                        Decimal("2480"), Decimal("3000"))
    assert [(r[0], r[-1]) for r in table.rows] == [
        ("P-4", "past medical review amount"), ("P-1", "KX required"),
        ("P-3", "nearing threshold"), ("P-2", "under threshold")]
    assert table.as_json()["rows"][1]["left before KX"] == "0.00"  # type: ignore[index]


def test_bar_chart_is_svg_with_titles() -> None:
    svg = bar_chart("Paid by month <test>", ["Jul", "Aug"],
                    [("paid", [Decimal(10), Decimal(30)]), ("charges", [Decimal(40), Decimal(0)])])
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<title>Paid by month &lt;test&gt;</title>" in svg
    assert "paid Aug: 30.00" in svg and svg.count("<rect") == 1 + 4 + 2
