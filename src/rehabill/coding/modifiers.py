"""Modifiers on therapy lines: GP/GO/GN, CQ/CO, 59/X{EPSU} and KX.

Each function is a rule with a cited source; ``order_modifiers`` fixes the order on the line
(discipline first, then the assistant modifier next to it, then NCCI and KX).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from rehabill.domain.visit import Discipline, DistinctReason, Service
from rehabill.reference.tables import NcciTable, PtpEdit

ASSISTANT_PAYMENT_RATE = Decimal("0.85")
NCCI_MODIFIERS = frozenset({"59", "XE", "XS", "XP", "XU"})
_ORDER = {"GP": 0, "GO": 0, "GN": 0, "CQ": 1, "CO": 1, "59": 2, "XE": 2, "XS": 2, "XP": 2,
          "XU": 2, "KX": 3}


def discipline_modifier(discipline: Discipline) -> str:
    """GP, GO or GN on every therapy line by the plan's discipline (Pub 100-04 ch.5 §20.1)."""
    return discipline.modifier


def assistant_modifier(discipline: Discipline) -> str:
    """CQ on a PT plan, CO on an OT plan (42 CFR 410.59(a)(4), 410.60(a)(4)); SLP has none.

    The plan's discipline decides, so the modifier always pairs with GP/GO (an OTA's minutes on
    a PT plan are a documentation problem that coding reports, not a GP-CO line). Medicare does
    not recognise SLP assistants (Pub 100-02 ch.15 §230.3).
    """
    return {Discipline.PT: "CQ", Discipline.OT: "CO"}.get(discipline, "")


@dataclass(frozen=True, slots=True)
class Unbundling:
    """A column-2 code that takes an NCCI-associated modifier, and why."""

    code: str
    modifier: str
    edit: PtpEdit


def ncci_modifiers(services: Sequence[Service], ncci: NcciTable, on: date,
                   *, use_59_only: bool = False) -> tuple[Unbundling, ...]:
    """59/X modifiers for column-2 codes of NCCI pairs that may be and were unbundled.

    NCCI Policy Manual ch.1 §E and the PTP tables: a pair in force on the date with modifier
    indicator 1 may be reported together when the column-2 service was distinct (separate
    encounter, structure, practitioner or non-overlapping); the column-2 code carries 59 or the
    more specific XE/XS/XP/XU. Indicator 0 pairs are never unbundled (the scrubber reports them).

    Args:
        services: the visit's services (``Service.distinct`` documents the reason).
        ncci: the PTP table.
        on: the date of service.
        use_59_only: the payer takes only 59, not the X modifiers.

    Returns:
        One Unbundling per column-2 code that needs a modifier.
    """
    codes = list(dict.fromkeys(s.code for s in services))
    reasons: dict[str, DistinctReason] = {}
    for s in services:
        if s.distinct is not None:
            reasons.setdefault(s.code, s.distinct)
    out: dict[str, Unbundling] = {}
    for i, a in enumerate(codes):
        for b in codes[i + 1:]:
            edit = ncci.edit_for(a, b, on)
            if edit is None or edit.modifier_indicator != 1:
                continue
            reason = reasons.get(edit.column2)
            if reason is None or edit.column2 in out:
                continue
            modifier = "59" if use_59_only else reason.x_modifier
            out[edit.column2] = Unbundling(edit.column2, modifier, edit)
    return tuple(out.values())


def needs_kx(year_to_date: Decimal, line_allowed: Iterable[Decimal], threshold: Decimal
             ) -> tuple[bool, ...]:
    """Which lines need KX: those that bring the year's allowed amount past the threshold.

    SSA §1833(g)(7) and Pub 100-04 ch.5 §10.3: once the beneficiary's incurred expenses for
    PT and SLP together (or OT) exceed the year's threshold, each line above it carries KX to
    attest medical necessity. The line that crosses the threshold carries it too.

    Args:
        year_to_date: allowed amounts already accrued this year for the threshold group.
        line_allowed: each line's expected allowed amount, in claim order.
        threshold: the year's KX amount.

    Returns:
        One flag per line.
    """
    running = year_to_date
    flags: list[bool] = []
    for amount in line_allowed:
        running += amount
        flags.append(running > threshold)
    return tuple(flags)


def order_modifiers(modifiers: Iterable[str]) -> tuple[str, ...]:
    """Unique modifiers in line order: GP/GO/GN, CQ/CO, 59/X, KX, then any others."""
    unique = list(dict.fromkeys(m for m in modifiers if m))
    return tuple(sorted(unique, key=lambda m: _ORDER.get(m, 4)))
