"""Report tables: A/R aging, denial analysis, payment trends, KX standing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from rehabill.domain.money import ZERO, format_amount
from rehabill.reports.facts import ClaimFact

AGING_BUCKETS = ((0, 30, "0-30"), (31, 60, "31-60"), (61, 90, "61-90"), (91, 120, "91-120"),
                 (121, None, "120+"))

Cell = str | int | Decimal


@dataclass(frozen=True, slots=True)
class Table:
    """A report: a title, columns, rows of cells, and notes (formulas, bases, caveats)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    notes: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        """Rows as objects keyed by column; amounts as decimal strings."""
        return {"title": self.title, "notes": list(self.notes),
                "rows": [{c: _json_cell(v) for c, v in zip(self.columns, row, strict=True)}
                         for row in self.rows]}

    def text_rows(self) -> list[list[str]]:
        """Rows as strings (amounts with two places), for CSV and terminal tables."""
        return [[_text_cell(v) for v in row] for row in self.rows]


def _json_cell(value: Cell) -> str | int:
    return format_amount(value) if isinstance(value, Decimal) else value


def _text_cell(value: Cell) -> str:
    return format_amount(value) if isinstance(value, Decimal) else str(value)


def bucket_label(days: int) -> str:
    """The aging bucket of an age in days."""
    for low, high, label in AGING_BUCKETS:
        if days >= low and (high is None or days <= high):
            return label
    return AGING_BUCKETS[0][2]


def ar_aging(facts: Iterable[ClaimFact], as_of: date, *, basis: str = "service") -> Table:
    """Open insurance A/R by payer and age bucket.

    Args:
        facts: claims.
        as_of: the date ages are measured to.
        basis: "service" (age from date of service) or "submission" (from first submission;
            claims not yet submitted are left out and counted in a note).

    Returns:
        One row per payer plus a total row; columns are the buckets and the total.
    """
    labels = [label for _, _, label in AGING_BUCKETS]
    by_payer: dict[str, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(labels, ZERO))
    unsubmitted = 0
    for f in facts:
        amount = f.open_insurance_balance
        if amount <= ZERO:
            continue
        start = f.date_of_service if basis == "service" else f.submitted_on
        if start is None:
            unsubmitted += 1
            continue
        by_payer[f.payer_name or f.payer_id][bucket_label(max((as_of - start).days, 0))] += amount
    amounts = [(payer, [b[x] for x in labels]) for payer, b in sorted(by_payer.items())]
    totals = [sum((a[i] for _, a in amounts), ZERO) for i in range(len(labels))]
    rows: list[tuple[Cell, ...]] = [(payer, *a, sum(a, ZERO)) for payer, a in amounts]
    rows.append(("Total", *totals, sum(totals, ZERO)))
    notes = [f"open insurance balances as of {as_of.isoformat()}, aged by date of "
             f"{'service' if basis == 'service' else 'first submission'}"]
    if unsubmitted:
        notes.append(f"{unsubmitted} claim(s) with a balance were never submitted")
    return Table(f"A/R aging by payer ({basis})", ("payer", *labels, "total"), tuple(rows),
                 tuple(notes))


def denial_analysis(facts: Sequence[ClaimFact], by: str = "carc") -> Table:
    """Denials grouped by CARC, payer, code or provider: count, dollars, rate.

    The rate is denied claims in the group over adjudicated claims in the group (for CARC, over
    all adjudicated claims, since a CARC exists only on denials).
    """
    adjudicated = [f for f in facts if f.adjudicated_on is not None]
    groups: dict[str, list[ClaimFact]] = defaultdict(list)
    denied_groups: dict[str, list[ClaimFact]] = defaultdict(list)
    for f in adjudicated:
        for key in _keys(f, by):
            groups[key].append(f)
            if f.denied:
                denied_groups[key].append(f)
    rows: list[tuple[Cell, ...]] = []
    for key in sorted(denied_groups, key=lambda k: (-len(denied_groups[k]), k)):
        denied = denied_groups[key]
        base = len(adjudicated) if by == "carc" else len(groups[key])
        rate = Decimal(100 * len(denied)) / base if base else ZERO
        rows.append((key, len(denied), sum((f.denied_amount or f.charge for f in denied), ZERO),
                     f"{rate:.1f}%"))
    return Table(f"Denials by {by}", (by, "denied claims", "denied dollars", "denial rate"),
                 tuple(rows), (f"{sum(1 for f in adjudicated if f.denied)} of {len(adjudicated)}"
                               " adjudicated claims denied",))


def _keys(f: ClaimFact, by: str) -> tuple[str, ...]:
    if by == "carc":
        return tuple(dict.fromkeys(f.denial_reasons)) or (("unspecified",) if f.denied else ())
    if by == "payer":
        return (f.payer_name or f.payer_id,)
    if by == "code":
        return tuple(dict.fromkeys(f.codes)) or ("-",)
    if by == "provider":
        return (f.rendering_npi,)
    raise ValueError(f"denials can be grouped by carc, payer, code or provider, not {by!r}")


def period_start(day: date, period: str) -> date:
    """The Monday of ``day``'s week, or the first of its month."""
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def payment_trends(facts: Iterable[ClaimFact], period: str = "month") -> Table:
    """Charges (by date of service) and allowed/paid/adjustments (by payment date) per period."""
    columns = ("charges", "allowed", "paid", "adjustments", "patient responsibility")
    sums: dict[date, list[Decimal]] = defaultdict(lambda: [ZERO] * len(columns))
    for f in facts:
        sums[period_start(f.date_of_service, period)][0] += f.charge
        if f.paid_on is not None:
            row = sums[period_start(f.paid_on, period)]
            row[1] += f.allowed
            row[2] += f.paid
            row[3] += f.contractual + f.other_adjustments
            row[4] += f.patient_responsibility
    rows: tuple[tuple[Cell, ...], ...] = tuple(
        (start.isoformat(), *values) for start, values in sorted(sums.items()))
    return Table(f"Payment trends by {period}", (period, *columns), rows,
                 ("charges by date of service; allowed, paid and adjustments by payment date",))


def kx_standing(totals: Iterable[tuple[str, str, Decimal]], threshold: Decimal,
                review: Decimal) -> Table:
    """Each patient's year-to-date therapy allowed amounts against the KX threshold.

    Args:
        totals: (patient id, threshold group "pt_slp" or "ot", allowed amount this year).
        threshold: the year's KX amount.
        review: the targeted medical review amount.
    """
    rows = []
    for patient, group, amount in sorted(totals, key=lambda t: (-t[2], t[0], t[1])):
        if amount >= review:
            status = "past medical review amount"
        elif amount > threshold:
            status = "KX required"
        elif amount > threshold * Decimal("0.8"):
            status = "nearing threshold"
        else:
            status = "under threshold"
        rows.append((patient, "PT+SLP" if group == "pt_slp" else "OT", amount,
                     threshold - amount if amount < threshold else ZERO, status))
    return Table("KX threshold standing", ("patient", "group", "allowed this year",
                                           "left before KX", "status"), tuple(rows),
                 (f"threshold ${threshold}, targeted medical review ${review}",))
