"""Shared builders for the 837P tests: claims without the coding engine, settings, pyx12."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rehabill.domain import (
    Address,
    Adjustment,
    Claim,
    ClaimLine,
    Coverage,
    Frequency,
    LineAdjudication,
    PriorPayer,
    Provider,
    Subscriber,
)
from rehabill.domain.visit import Credential, Patient, Visit
from rehabill.testing import visit_from_terms
from rehabill.x12.p837 import BatchSettings, render_837p

CREATED = datetime(2026, 3, 3, 9, 30)
SUPERVISOR = Provider("1457390007", "Dana", "Cole", Credential.PT)
SPOUSE = Patient("P-2", "Ella", "Lee", date(1952, 7, 9), "F",
                 Address("2 Oak St", "Austin", "TX", "78702"))
SUBSCRIBER = Subscriber("Mark", "Lee", date(1950, 5, 1), "M",
                        Address("2 Oak St", "Austin", "TX", "78702"))
COMMERCIAL = Coverage("60054", "Aetna", "W123456789", "commercial", relationship="spouse",
                      group_number="GRP100", subscriber=SUBSCRIBER)


SECONDARY = Coverage("60054", "Aetna", "W123456789", "commercial", group_number="GRP100",
                     sequence="secondary")


def medicare_paid(claim: Claim, share: Decimal = Decimal("0.8"),
                  adjudicated: date = date(2026, 3, 20)) -> PriorPayer:
    """Medicare Part B as the primary payer of ``claim``: per line, the allowed amount is 80% of
    the charge (CO-45 writes off the rest) and Medicare pays ``share`` of it, leaving the patient
    the coinsurance (PR-2)."""
    lines = []
    for line in claim.lines:
        allowed = (line.charge * Decimal("0.8")).quantize(Decimal("0.01"))
        paid = (allowed * share).quantize(Decimal("0.01"))
        lines.append(LineAdjudication(
            line.number, line.control_number, paid, line.code, line.modifiers, line.units,
            (Adjustment("CO", "45", line.charge - allowed), Adjustment("PR", "2", allowed - paid))))
    total = sum((line.paid for line in lines), Decimal("0"))
    return PriorPayer("MEDICARE", "Medicare Part B", "1EG4TE5MK73", "medicare_part_b", total,
                      adjudicated, lines=tuple(lines))


def settings(**overrides: Any) -> BatchSettings:
    """Batch settings for tests (test indicator, fixed clock)."""
    base = BatchSettings(
        submitter_name="RIVERSIDE REHAB", submitter_id="RR0001",
        receiver_name="CLEARINGHOUSE", receiver_id="CH0001",
        interchange_control_number=101, created=CREATED,
        contact_name="PAT BILLER", contact_phone="5125550100",
    )
    return replace(base, **overrides) if overrides else base


def claim_for(visit: Visit, frequency: Frequency = Frequency.ORIGINAL,
              original_reference: str = "", rate: Decimal = Decimal("35.25")) -> Claim:
    """A claim with one line per service: GP, CQ when the assistant worked, 15-minute units."""
    lines = []
    for number, service in enumerate(visit.services, start=1):
        minutes = service.minutes + service.assistant_minutes
        units = max(1, (minutes + 7) // 15)
        modifiers = ("GP", "CQ") if service.assistant_minutes else ("GP",)
        pointers = (1, 2) if number == 1 and len(visit.diagnoses) > 1 else (1,)
        lines.append(ClaimLine(number, service.code, modifiers, units, rate * units,
                               visit.date_of_service, pointers,
                               f"{visit.visit_id}-{number}"))
    return Claim(visit, tuple(lines), frequency, original_reference)


def visit(terms: str = "97530=25 97110=10 97161", **overrides: Any) -> Visit:
    """``visit_from_terms`` with our own defaults."""
    return visit_from_terms(terms, **overrides)


def render(claims: Iterable[Claim], batch: BatchSettings) -> str:
    """``render_837p``, and pyx12 must accept what it wrote: every 837P the suite writes is
    validated by an independent implementation of the guide."""
    text = render_837p(claims, batch)
    assert pyx12_errors(text) == []
    return text


def pyx12_errors(text: str) -> list[str]:
    """Every error pyx12 4.0.0 reports for ``text`` (an X12 document), as readable strings."""
    import pyx12.params
    import pyx12.x12n_document

    logger = logging.getLogger("pyx12")
    logged = _Collect()
    logger.addHandler(logged)
    logger.setLevel(logging.ERROR)
    logger.propagate = False
    out = io.StringIO()
    try:
        ok = pyx12.x12n_document.x12n_document(param=pyx12.params.params(),
                                              src_file=io.StringIO(text), fd_997=None,
                                              fd_html=None, fd_json=out)
    finally:
        logger.removeHandler(logged)
    errors: list[str] = list(logged.messages)
    _collect(json.loads(out.getvalue()), "", errors)
    if not ok and not errors:
        errors.append("pyx12 reported failure without details")
    return errors


class _Collect(logging.Handler):
    """Keeps pyx12's logged errors (some, such as ST/SE element errors, only go to the log)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _collect(node: Any, where: str, errors: list[str]) -> None:
    if isinstance(node, dict):
        here = node.get("seg_id") or where
        if "seg_count" in node:
            here = f"{node['seg_id']}#{node['seg_count']}"
        for err in node.get("errors", []) or []:
            errors.append(f"{here}: {err}")
        for key, value in node.items():
            if key != "errors":
                _collect(value, here, errors)
    elif isinstance(node, list):
        for item in node:
            _collect(item, where, errors)
