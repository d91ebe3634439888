"""Revenue-cycle KPIs, each with its formula shown beside its value."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from rehabill.domain.money import ZERO
from rehabill.reports.facts import ClaimFact
from rehabill.reports.tables import Table


def _pct(numerator: int | Decimal, denominator: int | Decimal) -> str:
    if not denominator:
        return "n/a"
    value = Decimal(numerator) * 100 / Decimal(denominator)
    return f"{value.quantize(Decimal('0.1'), ROUND_HALF_UP)}%"


def kpis(facts: Sequence[ClaimFact], as_of: date, *, window_days: int = 90) -> Table:
    """Clean-claim rate, first-pass resolution, denial rate, days in A/R, net collection rate.

    Formulas (HFMA MAP Keys and common practice-management usage):
    - clean-claim rate = claims with no scrubber error on the first pass and accepted by the
      clearinghouse on first submission / claims that met the first pass (submitted, or held
      by the scrubber; a claim that passed but is not yet sent is in neither count);
    - first-pass resolution = claims paid on their first adjudication / claims adjudicated;
    - denial rate = claims denied on first adjudication / claims adjudicated;
    - days in A/R = open balance / average daily charges over the last ``window_days`` days;
    - net collection rate = payments / (charges − contractual adjustments), on claims
      adjudicated.
    """
    first_pass = [f for f in facts if f.submitted_on is not None or not f.scrub_clean_first_pass]
    clean = sum(1 for f in first_pass if f.submitted_on is not None
                and f.scrub_clean_first_pass and f.accepted_first_pass)
    adjudicated = [f for f in facts if f.adjudicated_on is not None]
    resolved = sum(1 for f in adjudicated if f.paid_first_pass)
    denied = sum(1 for f in adjudicated if f.denied)
    open_balance = sum((f.balance for f in facts), ZERO)
    since = as_of - timedelta(days=window_days)
    window_charges = sum((f.charge for f in facts if since < f.date_of_service <= as_of), ZERO)
    daily = window_charges / window_days
    days_in_ar = "n/a" if not daily else f"{(open_balance / daily).quantize(Decimal('0.1'))}"
    paid = sum((f.paid for f in adjudicated), ZERO)
    net_base = sum((f.charge - f.contractual for f in adjudicated), ZERO)
    rows = (
        ("clean-claim rate", _pct(clean, len(first_pass)),
         f"{clean} clean on first pass / {len(first_pass)} scrubbed and submitted or held"),
        ("first-pass resolution", _pct(resolved, len(adjudicated)),
         f"{resolved} paid on first adjudication / {len(adjudicated)} adjudicated"),
        ("denial rate", _pct(denied, len(adjudicated)),
         f"{denied} denied / {len(adjudicated)} adjudicated"),
        ("days in A/R", days_in_ar,
         f"open A/R ${open_balance.quantize(Decimal('0.01'))} / average daily charges "
         f"${daily.quantize(Decimal('0.01'))} (last {window_days} days)"),
        ("net collection rate", _pct(paid, net_base),
         f"payments ${paid} / (charges − contractual adjustments) ${net_base}"),
    )
    return Table(f"KPIs as of {as_of.isoformat()}", ("kpi", "value", "formula"), rows)
