"""Immutable lookups over the shipped reference tables; every answer is "as of date D".

Rows carry their validity (``valid_from`` inclusive, ``valid_to`` exclusive, None = open); a
lookup for a date outside every row's validity answers None rather than guessing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import MappingProxyType

from rehabill.domain.visit import Discipline


def is_valid_on(valid_from: date | None, valid_to: date | None, on: date) -> bool:
    """True when ``valid_from <= on < valid_to`` (None bounds are open)."""
    return (valid_from is None or valid_from <= on) and (valid_to is None or on < valid_to)


@dataclass(frozen=True, slots=True)
class Source:
    """Where a table came from and which version it is."""

    name: str
    file: str
    source: str
    version: str
    valid_from: date | None
    valid_to: date | None


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """What rehabill knows about a therapy code (labels are our own words)."""

    code: str
    timed: bool
    disciplines: frozenset[Discipline]
    label: str
    pfs_status: str

    @property
    def is_evaluation(self) -> bool:
        """PT/OT evaluations and re-evaluations and SLP evaluations (never by an assistant)."""
        return self.code in EVALUATION_CODES


EVALUATION_CODES = frozenset(
    {"97161", "97162", "97163", "97164", "97165", "97166", "97167", "97168",
     "92521", "92522", "92523", "92524", "92610"}
)
GROUP_CODES = frozenset({"97150", "92508"})


@dataclass(frozen=True, slots=True)
class PtpEdit:
    """One NCCI procedure-to-procedure edit: column 2 is bundled into column 1.

    ``modifier_indicator``: 0 never unbundled, 1 an NCCI-associated modifier may unbundle,
    9 not applicable (deleted retroactively).
    """

    column1: str
    column2: str
    modifier_indicator: int
    deletion_date: date | None
    rationale: str

    def is_active_on(self, on: date) -> bool:
        """In force on ``on``: not an indicator-9 row and before its deletion date."""
        return self.modifier_indicator != 9 and is_valid_on(None, self.deletion_date, on)


@dataclass(frozen=True, slots=True)
class Mue:
    """A Medically Unlikely Edit: the most units of a code per day, with its adjudication type."""

    code: str
    value: int
    mai: int
    mai_meaning: str
    rationale: str
    valid_from: date | None


@dataclass(frozen=True, slots=True)
class FeeScheduleRow:
    """National Medicare PFS amounts for one code and calendar year (GPCI 1.0)."""

    code: str
    year: int
    status: str
    work_rvu: Decimal
    nonfac_total_rvu: Decimal
    fac_total_rvu: Decimal
    conversion_factor: Decimal
    nonfac_amount: Decimal
    fac_amount: Decimal
    release: str


@dataclass(frozen=True, slots=True)
class AdjustmentCode:
    """A group code, CARC or RARC with its validity."""

    code: str
    kind: str
    description: str
    start: date | None
    stop: date | None


@dataclass(frozen=True, slots=True)
class Threshold:
    """The year's KX therapy threshold and targeted medical review amount."""

    year: int
    kx: Decimal
    medical_review: Decimal
    source: str


class NcciTable:
    """NCCI PTP edits indexed by unordered code pair."""

    def __init__(self, edits: Iterable[PtpEdit]) -> None:
        index: dict[frozenset[str], list[PtpEdit]] = {}
        by_code: dict[str, list[PtpEdit]] = {}
        for edit in edits:
            index.setdefault(frozenset((edit.column1, edit.column2)), []).append(edit)
            by_code.setdefault(edit.column1, []).append(edit)
            by_code.setdefault(edit.column2, []).append(edit)
        self._index = {k: tuple(v) for k, v in index.items()}
        self._by_code = {k: tuple(v) for k, v in by_code.items()}
        self._answers: dict[tuple[str, str, date], PtpEdit | None] = {}

    def __len__(self) -> int:
        return sum(len(v) for v in self._index.values())

    def edit_for(self, a: str, b: str, on: date) -> PtpEdit | None:
        """The edit in force on ``on`` between codes ``a`` and ``b`` (either order), if any."""
        key = (a, b, on)
        try:
            return self._answers[key]
        except KeyError:
            pass
        found = None
        for edit in self._index.get(frozenset((a, b)), ()):
            if edit.column1 != edit.column2 and edit.is_active_on(on):
                found = edit
                break
        if len(self._answers) >= 65536:  # pairs x dates of a long run must not pile up
            self._answers.clear()
        self._answers[key] = found
        return found

    def partners(self, code: str, on: date) -> tuple[PtpEdit, ...]:
        """Every edit naming ``code`` in force on ``on``."""
        return tuple(e for e in self._by_code.get(code, ()) if e.is_active_on(on))


class CodeTable:
    """Therapy codes by number."""

    def __init__(self, codes: Iterable[CodeInfo]) -> None:
        self._codes: Mapping[str, CodeInfo] = MappingProxyType({c.code: c for c in codes})

    def get(self, code: str) -> CodeInfo | None:
        """The code's facts, or None for a code rehabill does not know."""
        return self._codes.get(code)

    def is_timed(self, code: str) -> bool:
        """True for a 15-minute timed code (CMS Pub 100-04 ch.5 §20.2)."""
        info = self._codes.get(code)
        return info is not None and info.timed

    def __contains__(self, code: object) -> bool:
        return code in self._codes

    def has_all(self, codes: Iterable[str]) -> bool:
        """True when every one of ``codes`` is known (one call for a whole visit)."""
        return self._codes.keys() >= set(codes)

    def __iter__(self) -> Iterator[str]:
        return iter(self._codes)

    def all(self) -> tuple[CodeInfo, ...]:
        """Every code, in code order."""
        return tuple(self._codes[k] for k in sorted(self._codes))


class MueTable:
    """MUE values by code, as of a date."""

    def __init__(self, rows: Iterable[Mue]) -> None:
        by_code: dict[str, list[Mue]] = {}
        for row in rows:
            by_code.setdefault(row.code, []).append(row)
        self._rows = {k: tuple(sorted(v, key=lambda r: r.valid_from or date.min))
                      for k, v in by_code.items()}
        self._lowest = {k: min(r.value for r in v) for k, v in by_code.items()}

    def lowest(self, code: str) -> int | None:
        """The lowest MUE value ``code`` has on any date (None without an MUE): units at or
        under it pass the edit whatever the date."""
        return self._lowest.get(code)

    def get(self, code: str, on: date) -> Mue | None:
        """The MUE in force for ``code`` on ``on`` (the latest row that started by then)."""
        found = None
        for row in self._rows.get(code, ()):
            if row.valid_from is None or row.valid_from <= on:
                found = row
        return found


class FeeSchedule:
    """Medicare PFS national amounts by code and calendar year."""

    def __init__(self, rows: Iterable[FeeScheduleRow]) -> None:
        self._rows = MappingProxyType({(r.code, r.year): r for r in rows})
        self.years = tuple(sorted({r.year for r in self._rows.values()}))

    def get(self, code: str, on: date) -> FeeScheduleRow | None:
        """The row for ``code`` in the calendar year of ``on``, or None when not published."""
        return self._rows.get((code, on.year))


class AdjustmentCodes:
    """Group codes, CARCs and RARCs."""

    def __init__(self, rows: Iterable[AdjustmentCode]) -> None:
        table: dict[tuple[str, str], AdjustmentCode] = {}
        for row in rows:
            table[(row.kind, row.code)] = row
        self._rows = MappingProxyType(table)

    def group(self, code: str) -> AdjustmentCode | None:
        """A claim adjustment group code (CO, PR, OA, PI, CR)."""
        return self._rows.get(("Group", code))

    def carc(self, code: str) -> AdjustmentCode | None:
        """A claim adjustment reason code."""
        return self._rows.get(("CARC", code))

    def rarc(self, code: str) -> AdjustmentCode | None:
        """A remittance advice remark code."""
        return self._rows.get(("RARC", code))

    def is_carc_valid_on(self, code: str, on: date) -> bool:
        """True when the CARC exists and was not stopped before ``on``."""
        row = self.carc(code)
        return row is not None and is_valid_on(row.start, row.stop, on)


class Thresholds:
    """KX and medical review amounts by calendar year."""

    def __init__(self, rows: Iterable[Threshold]) -> None:
        self._rows = MappingProxyType({r.year: r for r in rows})

    def for_date(self, on: date) -> Threshold | None:
        """The threshold of the calendar year of ``on``, or None for a year not shipped."""
        return self._rows.get(on.year)

    def latest_before(self, on: date) -> Threshold | None:
        """The most recent shipped threshold of a year before ``on``'s, if any."""
        years = [y for y in self._rows if y < on.year]
        return self._rows[max(years)] if years else None
