"""Units from minutes: the CMS total-time method and the per-code method (the 8-minute rule).

Source: CMS Pub 100-04 (Medicare Claims Processing Manual) ch.5 §20.2, "Reporting of Service
Units With HCPCS": total timed minutes of the day set the number of timed units (8-22 min = 1,
23-37 = 2, ... +15 each); each service's full 15-minute blocks are billed first; remaining units
go to the services with the largest remaining minutes; a service of 15 minutes or more bills at
least one unit; untimed ("service-based") codes bill one unit per session and their minutes never
count toward the timed total. The per-code method (AMA "rule of eights", used by many commercial
payers) rounds each timed code on its own: 8 minutes or more of that code for a unit.

Splitting units between therapist and assistant follows the CY2022 PFS final rule (86 FR 64996;
42 CFR 410.59(a)(4), 410.60(a)(4)); see ``split_assistant_units``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property

from rehabill.domain.visit import Service

MINUTES_PER_UNIT = 15
MINIMUM_MINUTES = 8


class UnitMethod(StrEnum):
    """How timed minutes become units."""

    CMS = "cms"
    PER_CODE = "per-code"


@dataclass(frozen=True, slots=True)
class CodeMinutes:
    """The documented minutes of one code on one day (a code documented twice is summed).

    The arithmetic builds one per service of every visit coded and drops it at once; like the
    domain's hot values it writes out its ``__init__`` so that mypyc compiles it.
    """

    code: str
    therapist: int
    assistant: int
    timed: bool
    position: int  # the service's index on the visit
    total: int

    # Written out as the dataclass would generate it: compiled by mypyc this is native code,
    # about 20x faster than the generated one (tests/domain/test_inits.py keeps them the same).
    def __init__(self, code: str, therapist: int, assistant: int, timed: bool, position: int,
                 total: int) -> None:
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "therapist", therapist)
        object.__setattr__(self, "assistant", assistant)
        object.__setattr__(self, "timed", timed)
        object.__setattr__(self, "position", position)
        object.__setattr__(self, "total", total)

    @classmethod
    def of(cls, code: str, therapist: int, assistant: int, timed: bool = True,
           index: int = 0) -> CodeMinutes:
        """Build one, computing the total once."""
        return cls(code, therapist, assistant, timed, index, therapist + assistant)


@dataclass(frozen=True, slots=True)
class UnitLine:
    """Units of one code, with or without the assistant modifier (CQ/CO)."""

    code: str
    units: int
    by_assistant: bool
    therapist_minutes: int
    assistant_minutes: int
    index: int
    timed: bool


Notes = tuple[str, ...] | Callable[[], tuple[str, ...]]
"""An explanation, or a function that writes it when first read."""


@dataclass(frozen=True, eq=False)
class UnitResult:
    """Units for a day's services, with an explanation a biller can read.

    ``explanation`` is written on first read: most callers (the scrubber, batch coding) never
    read it, and its sentences cost more than the arithmetic. ``notes`` holds the finished
    tuple or the function that writes it; equality, hashing and repr use ``explanation``.
    """

    method: UnitMethod
    total_timed_minutes: int
    total_units: int
    lines: tuple[UnitLine, ...]
    notes: Notes = field(default=(), repr=False)

    @cached_property
    def explanation(self) -> tuple[str, ...]:
        """The explanation lines, in order."""
        notes = self.notes
        return notes if isinstance(notes, tuple) else tuple(notes())

    def _key(self) -> tuple[object, ...]:
        return (self.method, self.total_timed_minutes, self.total_units, self.lines,
                self.explanation)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, UnitResult):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"UnitResult(method={self.method!r}, total_timed_minutes="
                f"{self.total_timed_minutes!r}, total_units={self.total_units!r}, "
                f"lines={self.lines!r}, explanation={self.explanation!r})")

    def with_notes(self, extra: tuple[str, ...]) -> UnitResult:
        """The same result with ``extra`` lines after the explanation (still written lazily)."""
        if not extra:
            return self
        notes = self.notes
        if isinstance(notes, tuple):
            return replace(self, notes=notes + extra)
        return replace(self, notes=_Joined(notes, extra))

    def units_for(self, code: str) -> int:
        """All units billed for ``code`` (with and without CQ/CO)."""
        return sum(line.units for line in self.lines if line.code == code)

    @property
    def timed_units(self) -> int:
        """Units of timed codes only."""
        return sum(line.units for line in self.lines if line.timed)


def units_for_minutes(minutes: int) -> int:
    """Units that ``minutes`` of timed service support: 0-7 → 0, 8-22 → 1, 23-37 → 2, ...

    The same table serves the CMS total of the day and a per-code payer's single code.

    Args:
        minutes: timed minutes (negative counts as zero).

    Returns:
        The number of 15-minute units.
    """
    if minutes < MINIMUM_MINUTES:
        return 0
    return (minutes + MINIMUM_MINUTES - 1) // MINUTES_PER_UNIT


def gather_minutes(services: Sequence[Service], is_timed: Callable[[str], bool]
                   ) -> tuple[CodeMinutes, ...]:
    """Sum each code's minutes across the visit, keeping the order codes first appear in."""
    if len({s.code for s in services}) == len(services):  # the usual case: nothing to sum
        out = []
        for index, s in enumerate(services):
            therapist, assistant = max(s.minutes, 0), max(s.assistant_minutes, 0)
            out.append(CodeMinutes(s.code, therapist, assistant, is_timed(s.code), index,
                                   therapist + assistant))
        return tuple(out)
    totals: dict[str, list[int]] = {}
    for index, service in enumerate(services):
        entry = totals.setdefault(service.code, [0, 0, index])
        entry[0] += max(service.minutes, 0)
        entry[1] += max(service.assistant_minutes, 0)
    return tuple(CodeMinutes.of(code, t, a, is_timed(code), i)
                 for code, (t, a, i) in totals.items())


def allocate(minutes: Sequence[CodeMinutes], method: UnitMethod
             ) -> tuple[dict[str, int], list[str]]:
    """Units per timed code under ``method``, with the explanation lines.

    Args:
        minutes: the timed codes' minutes (untimed entries are ignored).
        method: CMS total-time or per-code.

    Returns:
        Units by code and the explanation.
    """
    notes: list[str] = []
    return _allocate(minutes, method, notes), notes


def _allocate(minutes: Sequence[CodeMinutes], method: UnitMethod, notes: list[str] | None
              ) -> dict[str, int]:
    """``allocate``'s arithmetic; the explanation is written only when ``notes`` is a list."""
    timed = [m for m in minutes if m.timed]
    if not timed:
        return {}
    if method is UnitMethod.PER_CODE:
        units = {m.code: units_for_minutes(m.total) for m in timed}
        if notes is not None:
            notes.extend(f"{m.code}: {m.total} min → {units[m.code]} unit{_s(units[m.code])} "
                         "(per-code: each code rounded on its own, 8 min or more for a unit)"
                         for m in timed)
        return units
    return _allocate_cms(timed, notes)


def _allocate_cms(timed: Sequence[CodeMinutes], notes: list[str] | None) -> dict[str, int]:
    total = full_units = 0
    units: dict[str, int] = {}
    ranked: list[CodeMinutes] = []
    for m in timed:  # one pass: the day's total, each code's full units, who has minutes left
        total += m.total
        full, left = divmod(m.total, MINUTES_PER_UNIT)
        units[m.code] = full
        full_units += full
        if left:
            ranked.append(m)
    available = units_for_minutes(total)
    remaining = available - full_units
    if len(ranked) > 1:
        ranked.sort(key=remainder_rank)
    winners = ranked[:remaining]
    for m in winners:
        units[m.code] += 1
    if notes is not None:
        _explain_cms(timed, total, available, remaining, ranked, units, notes)
    return units


def _explain_cms(timed: Sequence[CodeMinutes], total: int, available: int, remaining: int,
                 ranked: Sequence[CodeMinutes], units: dict[str, int], notes: list[str]
                 ) -> None:
    notes.append(f"{total} timed minutes → {available} unit{_s(available)} "
                 "(CMS total-time method, Pub 100-04 ch.5 §20.2)")
    for m in timed:
        full, left = divmod(m.total, MINUTES_PER_UNIT)
        notes.append(f"{m.code} has {m.total} min: {full} full unit{_s(full)} + {left} min left")
    winners = ranked[:remaining]
    if winners:
        named = ", ".join(f"{m.code} ({m.total % MINUTES_PER_UNIT} min)" for m in winners)
        notes.append(f"{remaining} remaining unit{_s(remaining)} to the largest remainder: {named}")
        notes.extend(_tie_note(ranked, remaining))
    for m in ranked[remaining:]:
        if m.total < MINIMUM_MINUTES and units[m.code] == 0:
            why = ("the day's timed minutes are under 8" if total < MINIMUM_MINUTES else
                   "its minutes count toward the total but other services had more time left")
            notes.append(f"{m.code} ({m.total} min) bills no unit: {why}")


def remainder_rank(m: CodeMinutes) -> tuple[int, int, int, str]:
    """Sort key for remaining units: the largest remainder first (CMS §20.2).

    Among equal remainders CMS accepts either code. rehabill then prefers the code whose
    leftover minutes are more the therapist's (the final unit is then billed without CQ/CO, as
    the therapist ≥ 8 minutes rule bills it), then more total minutes, then the lower code, so
    the answer never depends on the order services were typed in.
    """
    left = m.total % MINUTES_PER_UNIT
    return (-left, -min(m.therapist % MINUTES_PER_UNIT, left), -m.total, m.code)


def _tie_note(ranked: Sequence[CodeMinutes], remaining: int) -> list[str]:
    if remaining >= len(ranked):
        return []
    cut = ranked[remaining - 1].total % MINUTES_PER_UNIT
    if ranked[remaining].total % MINUTES_PER_UNIT != cut:
        return []
    tied = [m.code for m in ranked if m.total % MINUTES_PER_UNIT == cut]
    return [f"tie: {', '.join(tied)} each have {cut} min left; CMS accepts either code, "
            "rehabill gives the unit to the one whose minutes are more the therapist's, then "
            "more total minutes, then the lower code"]


def split_assistant_units(m: CodeMinutes, units: int) -> tuple[int, int, str]:
    """Split a timed code's units into (therapist, assistant-with-CQ/CO) units.

    CY2022 PFS final rule (86 FR 64996) and CMS "Billing Examples Using CQ/CO Modifiers":
    minutes together count as the therapist's; each provider's full 15-minute blocks are that
    provider's units; a remaining unit goes without the modifier when the therapist furnished 8 or
    more of its minutes, with it when the assistant furnished 8 or more and the therapist fewer;
    otherwise by the 10% de minimis standard (assistant minutes over 10% of the unit's minutes).
    Two remaining units with each furnishing 9-14 minutes are billed one with and one without.

    Args:
        m: the code's minutes.
        units: the units the code gets under the payer's unit method.

    Returns:
        (units without modifier, units with CQ/CO, explanation; "" when nothing to explain).
    """
    return _split(m, units, True)


def _split(m: CodeMinutes, units: int, explain: bool) -> tuple[int, int, str]:
    """``split_assistant_units``; the explanation is written only when ``explain``."""
    if m.assistant == 0:
        return units, 0, ""
    full_t, left_t = divmod(m.therapist, MINUTES_PER_UNIT)
    full_a, left_a = divmod(m.assistant, MINUTES_PER_UNIT)
    full_t, full_a = min(full_t, units), min(full_a, max(units - full_t, 0))
    rest = units - full_t - full_a
    plain, assisted = full_t, full_a
    why = (f"{m.code}: therapist {m.therapist} min, assistant {m.assistant} min; full blocks "
           f"{full_t} therapist + {full_a} assistant") if explain else ""
    if rest >= 2:
        plain, assisted = plain + 1, assisted + 1
        if explain:
            why += "; two units left with each providing 9-14 min: one with and one without CQ/CO"
        rest -= 2
    if rest == 1:
        if left_t >= MINIMUM_MINUTES:
            plain += 1
            if explain:
                why += f"; final unit: therapist {left_t} min ≥ 8 → no CQ/CO"
        elif left_a >= MINIMUM_MINUTES:
            assisted += 1
            if explain:
                why += f"; final unit: assistant {left_a} min ≥ 8, therapist {left_t} < 8 → CQ/CO"
        elif left_a * 10 > left_t + left_a:
            assisted += 1
            if explain:
                why += (f"; final unit: assistant {left_a} of {left_t + left_a} min is over the "
                        "10% de minimis → CQ/CO")
        else:
            plain += 1
            if explain:
                why += (f"; final unit: assistant {left_a} of {left_t + left_a} min is within "
                        "the 10% de minimis → no CQ/CO")
    elif rest > 1:  # cannot happen: at most 28 minutes remain after full blocks
        plain += rest
    return plain, assisted, why


def is_assistant_over_de_minimis(m: CodeMinutes) -> bool:
    """Untimed codes: the assistant furnished more than 10% of the service's minutes."""
    return m.assistant * 10 > m.total


def compute(services: Sequence[Service], method: UnitMethod,
            is_timed: Callable[[str], bool], *, split_assistant: bool = True) -> UnitResult:
    """Units for a day's services, split by who furnished them.

    Args:
        services: the documented services (codes must be known to ``is_timed``'s table).
        method: CMS total-time or per-code.
        is_timed: True for 15-minute timed codes.
        split_assistant: split units between therapist and assistant (False when the payer or
            discipline has no assistant modifier: each code is then one line).

    Returns:
        A UnitResult whose lines list each code once without and once with CQ/CO as needed.
        Its explanation is written when first read.
    """
    return compute_with_rows(services, method, is_timed, split_assistant)[0]


UnitRow = tuple[str, int, bool, int, int, int, bool]
"""A ``UnitLine`` as a plain tuple: code, units, by_assistant, therapist_minutes,
assistant_minutes, index, timed."""


def unit_rows(services: Sequence[Service], method: UnitMethod,
              is_timed: Callable[[str], bool], split_assistant: bool = True
              ) -> tuple[UnitRow, ...]:
    """``compute``'s lines as plain tuples (all claim building reads), without the result.

    Args:
        services: the documented services.
        method: CMS total-time or per-code.
        is_timed: True for 15-minute timed codes.
        split_assistant: as for ``compute``.

    Returns:
        One row per ``UnitLine`` of ``compute(...).lines``, in the same order.
    """
    minutes = gather_minutes(services, is_timed)
    return _unit_rows(minutes, _allocate(minutes, method, None), split_assistant)


def compute_with_rows(services: Sequence[Service], method: UnitMethod,
                      is_timed: Callable[[str], bool], split_assistant: bool = True
                      ) -> tuple[UnitResult, tuple[UnitRow, ...]]:
    """``compute`` and ``unit_rows`` from one run of the arithmetic."""
    minutes = gather_minutes(services, is_timed)
    rows = _unit_rows(minutes, _allocate(minutes, method, None), split_assistant)
    total_timed = total_units = 0
    for m in minutes:
        if m.timed:
            total_timed += m.total
    for row in rows:
        total_units += row[1]
    return UnitResult(method, total_timed, total_units, tuple([UnitLine(*row) for row in rows]),
                      _Explanation(minutes, method, split_assistant)), rows


def _unit_rows(minutes: Sequence[CodeMinutes], allocated: dict[str, int],
               split_assistant: bool) -> tuple[UnitRow, ...]:
    rows: list[UnitRow] = []
    for m in minutes:
        if not m.timed:
            by_assistant = split_assistant and m.assistant > 0 \
                and is_assistant_over_de_minimis(m)
            rows.append((m.code, 1, by_assistant, m.therapist, m.assistant, m.position, False))
            continue
        units = allocated.get(m.code, 0)
        if not split_assistant:
            if units:
                rows.append((m.code, units, False, m.therapist, m.assistant, m.position, True))
            continue
        plain, assisted, _ = _split(m, units, False)
        if plain:
            rows.append((m.code, plain, False, m.therapist, m.assistant, m.position, True))
        if assisted:
            rows.append((m.code, assisted, True, m.therapist, m.assistant, m.position, True))
    return tuple(rows)


@dataclass(frozen=True, slots=True)
class _Joined:
    """An explanation still to be written, followed by lines already written (picklable)."""

    first: Callable[[], tuple[str, ...]]
    extra: tuple[str, ...]

    def __call__(self) -> tuple[str, ...]:
        return tuple(self.first()) + self.extra


@dataclass(frozen=True, slots=True)
class _Explanation:
    """Writes ``compute``'s explanation from its inputs when it is first read."""

    minutes: tuple[CodeMinutes, ...]
    method: UnitMethod
    split_assistant: bool

    def __call__(self) -> tuple[str, ...]:
        notes: list[str] = []
        minutes = self.minutes
        allocated = _allocate(minutes, self.method, notes)
        for m in minutes:
            if not m.timed:
                by_assistant = self.split_assistant and m.assistant > 0 \
                    and is_assistant_over_de_minimis(m)
                extra = (f"; assistant {m.assistant} of {m.total} min is over 10% → CQ/CO"
                         if by_assistant else "")
                notes.append(f"{m.code} is untimed: 1 unit per session, its minutes are not "
                             f"timed minutes{extra}")
            elif self.split_assistant:
                why = _split(m, allocated.get(m.code, 0), True)[2]
                if why:
                    notes.append(why)
        return tuple(notes)


def _s(n: int) -> str:
    return "" if n == 1 else "s"
