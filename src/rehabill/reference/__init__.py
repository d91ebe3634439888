"""Reference data: the shipped public tables (codes, NCCI PTP, MUE, PFS, CARC/RARC, thresholds).

``load()`` reads the package's own CSV files once and returns an immutable ``Reference``; this is
the only place in the pure core that reads files, and it reads only its own package data.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources

from rehabill.domain.pickling import pickle_by_fields as _pickle_by_fields
from rehabill.domain.visit import Discipline
from rehabill.reference.tables import (
    EVALUATION_CODES,
    GROUP_CODES,
    AdjustmentCode,
    AdjustmentCodes,
    CodeInfo,
    CodeTable,
    FeeSchedule,
    FeeScheduleRow,
    Mue,
    MueTable,
    NcciTable,
    PtpEdit,
    Source,
    Threshold,
    Thresholds,
)

__all__ = [
    "EVALUATION_CODES",
    "GROUP_CODES",
    "AdjustmentCode",
    "CodeInfo",
    "FeeScheduleRow",
    "Mue",
    "PtpEdit",
    "Reference",
    "Source",
    "Threshold",
    "load",
]


@dataclass(frozen=True, slots=True, eq=False)
class Reference:
    """Every shipped table, loaded (hashed by identity, so caches keyed on it stay cheap)."""

    codes: CodeTable
    ncci: NcciTable
    mue: MueTable
    fees: FeeSchedule
    adjustments: AdjustmentCodes
    thresholds: Thresholds
    sources: tuple[Source, ...]


def _rows(name: str) -> Iterator[dict[str, str]]:
    text = resources.files("rehabill.reference").joinpath("data", name).read_text("utf-8")
    yield from csv.DictReader(text.splitlines())


def _date(value: str) -> date | None:
    return date.fromisoformat(value) if value.strip() else None


_DISCIPLINES = {"PT": Discipline.PT, "OT": Discipline.OT, "SLP": Discipline.SLP}


def _codes() -> CodeTable:
    return CodeTable(
        CodeInfo(
            code=r["code"],
            timed=r["timed_or_untimed"] == "timed",
            disciplines=frozenset(_DISCIPLINES[d] for d in r["discipline"].split("/")),
            label=r["label_own_words"],
            pfs_status=r["pfs_status_2026"],
        )
        for r in _rows("therapy_codes.csv")
    )


def _ncci(file: str) -> NcciTable:
    return NcciTable(
        PtpEdit(
            column1=r["column_1"],
            column2=r["column_2"],
            modifier_indicator=int(r["modifier_indicator"]),
            deletion_date=_date(r["deletion_date"]),
            rationale=r["ptp_edit_rationale"],
        )
        for r in _rows(file)
    )


def _mue(file: str) -> MueTable:
    return MueTable(
        Mue(
            code=r["hcpcs"],
            value=int(r["mue_value"]),
            mai=int(r["mai"]),
            mai_meaning=r["mai_meaning"],
            rationale=r["mue_rationale"],
            # The shared README records which rows the 2024-07-01 table had with the same
            # value and MAI; those are known to hold from then, the rest from 2026-04-01.
            valid_from=date(2024, 7, 1) if r["same_value_and_mai_in_2024-07-01_table"] == "Y"
            else date(2026, 4, 1),
        )
        for r in _rows(file)
    )


def _fees(file: str) -> FeeSchedule:
    return FeeSchedule(
        FeeScheduleRow(
            code=r["code"],
            year=int(r["year"]),
            status=r["status"],
            work_rvu=Decimal(r["work_rvu"]),
            nonfac_total_rvu=Decimal(r["nonfac_total_rvu"]),
            fac_total_rvu=Decimal(r["fac_total_rvu"]),
            conversion_factor=Decimal(r["conversion_factor"]),
            nonfac_amount=Decimal(r["national_nonfac_amount"]),
            fac_amount=Decimal(r["national_fac_amount"]),
            release=r["release"],
        )
        for r in _rows(file)
    )


def _adjustments(file: str) -> AdjustmentCodes:
    return AdjustmentCodes(
        AdjustmentCode(
            code=r["code"],
            kind=r["type"],
            description=r["description"],
            start=_date(r["start_date"]),
            stop=_date(r["stop_date"]),
        )
        for r in _rows(file)
    )


def _thresholds(file: str) -> Thresholds:
    return Thresholds(
        Threshold(int(r["year"]), Decimal(r["kx_threshold"]),
                  Decimal(r["medical_review_threshold"]), r["source"])
        for r in _rows(file)
    )


def _sources() -> tuple[Source, ...]:
    text = resources.files("rehabill.reference").joinpath("data", "manifest.json").read_text()
    manifest: dict[str, dict[str, str | None]] = json.loads(text)
    return tuple(
        Source(name, str(m["file"]), str(m["source"]), str(m["version"]),
               _date(m["valid_from"] or ""), _date(m["valid_to"] or ""))
        for name, m in manifest.items()
    )


@cache
def load() -> Reference:
    """Load every shipped table once (cached for the life of the process)."""
    sources = _sources()
    files = {s.name: s.file for s in sources}
    return Reference(
        codes=_codes(),
        ncci=_ncci(files["ncci_ptp"]),
        mue=_mue(files["mue"]),
        fees=_fees(files["pfs"]),
        adjustments=_adjustments(files["adjustment_codes"]),
        thresholds=_thresholds(files["thresholds"]),
        sources=sources,
    )

# Compiled by mypyc, frozen values pickle through their constructor (a no-op otherwise).
_pickle_by_fields(__name__)
