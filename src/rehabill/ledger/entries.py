"""Ledger values: entries with their source, suspense, worklist items, status changes.

A claim's insurance balance is its charge (posted when it was billed) plus the signed entries
posted against it; every remittance entry is negative (it takes money off the insurance
balance) except reversals, which put it back. So for every claim::

    charge = paid + contractual + other adjustments + patient responsibility + open balance

and ``ClaimBalance.is_balanced`` holds by construction of ``summarize``; the property tests
check that posting never loses or invents a cent (open balance is what the ERA says is still
owed by the payer, zero once a claim is finalised).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from rehabill.domain.claim import ClaimStatus
from rehabill.domain.findings import Finding
from rehabill.domain.money import ZERO, format_amount


class EntryKind(StrEnum):
    """What an entry records (the CAS group decides the adjustment kinds)."""

    PAYMENT = "payment"
    CONTRACTUAL = "contractual"
    PAYER_REDUCTION = "payer_reduction"
    OTHER_ADJUSTMENT = "other_adjustment"
    PATIENT_RESPONSIBILITY = "patient_responsibility"
    PROVIDER_ADJUSTMENT = "provider_adjustment"


GROUP_KINDS = {
    "CO": EntryKind.CONTRACTUAL,
    "PI": EntryKind.PAYER_REDUCTION,
    "OA": EntryKind.OTHER_ADJUSTMENT,
    "PR": EntryKind.PATIENT_RESPONSIBILITY,
}


@dataclass(frozen=True, slots=True)
class PostingSource:
    """Where an entry came from: file, payer, check/EFT trace number, segment number."""

    file: str
    payer_id: str
    trace_number: str
    segment: int

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/ledger/test_inits.py keeps it the same).
    def __init__(self, file: str, payer_id: str, trace_number: str, segment: int) -> None:
        object.__setattr__(self, "file", file)
        object.__setattr__(self, "payer_id", payer_id)
        object.__setattr__(self, "trace_number", trace_number)
        object.__setattr__(self, "segment", segment)

    @property
    def trace_key(self) -> str:
        """The idempotency key: payer id and trace number (TRN03/TRN02)."""
        return f"{self.payer_id}/{self.trace_number}"


@dataclass(frozen=True, slots=True)
class Entry:
    """One signed amount against a claim (or the provider, for PLB).

    ``amount`` is what the entry takes off the claim's insurance balance, written as the
    negative of the ERA's amount (a payment of 80.00 is -80.00; its reversal +80.00).
    ``line`` is our claim line number (None: claim level). ``reason`` is the CARC (or PLB
    reason code) and ``detail`` e.g. "deductible"; ``remarks`` the RARCs that came with it.
    ``claim_ref`` says which of the claims stored under ``claim_id`` it is posted to: "" for
    the newest (almost every entry), else the store's name for an earlier one
    (``rehabill.ledger.posting.StoredClaim``: a late 835 for a claim since corrected).
    """

    claim_id: str
    line: int | None
    kind: EntryKind
    amount: Decimal
    source: PostingSource
    group: str = ""
    reason: str = ""
    detail: str = ""
    remarks: tuple[str, ...] = ()
    claim_ref: str = ""

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/ledger/test_inits.py keeps it the same).
    def __init__(self, claim_id: str, line: int | None, kind: EntryKind, amount: Decimal,
                 source: PostingSource, group: str = "", reason: str = "", detail: str = "",
                 remarks: tuple[str, ...] = (), claim_ref: str = "") -> None:
        object.__setattr__(self, "claim_id", claim_id)
        object.__setattr__(self, "line", line)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "amount", amount)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "group", group)
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "detail", detail)
        object.__setattr__(self, "remarks", remarks)
        object.__setattr__(self, "claim_ref", claim_ref)

    def as_json(self) -> dict[str, object]:
        """JSON for reports and the store."""
        return {"claim_id": self.claim_id, "line": self.line, "kind": self.kind.value,
                "amount": format_amount(self.amount), "group": self.group,
                "reason": self.reason, "detail": self.detail, "remarks": list(self.remarks),
                "file": self.source.file, "trace_number": self.source.trace_number,
                "segment": self.source.segment}


@dataclass(frozen=True, slots=True)
class SuspenseItem:
    """Money (or a line) we could not match, held with the reason until a person decides."""

    claim_id: str
    reason: str
    amount: Decimal
    source: PostingSource
    line_code: str = ""

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/ledger/test_inits.py keeps it the same).
    def __init__(self, claim_id: str, reason: str, amount: Decimal, source: PostingSource,
                 line_code: str = "") -> None:
        object.__setattr__(self, "claim_id", claim_id)
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "amount", amount)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "line_code", line_code)


class NextAction(StrEnum):
    """What the biller should do about a worklist item."""

    CORRECT_AND_RESUBMIT = "correct_and_resubmit"
    APPEAL = "appeal"
    BILL_PATIENT = "bill_patient"
    WRITE_OFF = "write_off"
    BILL_SECONDARY = "bill_secondary"
    FOLLOW_REPLACEMENT = "follow_replacement"

    @property
    def label(self) -> str:
        """Plain words for the action."""
        return {
            "correct_and_resubmit": "correct the claim and resubmit it as a replacement "
                                    "(frequency 7) with the payer's claim number",
            "appeal": "appeal with the documentation that supports the service",
            "bill_patient": "bill the patient",
            "write_off": "write the amount off",
            "bill_secondary": "bill the secondary payer with this remittance attached",
            "follow_replacement": "nothing to resubmit: a corrected (7) or void (8) claim "
                                  "already replaces this one; follow that claim's remittance",
        }[self.value]


@dataclass(frozen=True, slots=True)
class WorklistItem:
    """A denial (or patient-billable non-coverage) to work; ``claim_ref`` as ``Entry``'s."""

    claim_id: str
    line: int | None
    code: str
    group: str
    reason: str
    amount: Decimal
    carc_text: str
    plain_reason: str
    action: NextAction
    remarks: tuple[tuple[str, str], ...]
    payer_claim_number: str
    source: PostingSource
    claim_ref: str = ""

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/ledger/test_inits.py keeps it the same).
    def __init__(self, claim_id: str, line: int | None, code: str, group: str, reason: str,
                 amount: Decimal, carc_text: str, plain_reason: str, action: NextAction,
                 remarks: tuple[tuple[str, str], ...], payer_claim_number: str,
                 source: PostingSource, claim_ref: str = "") -> None:
        object.__setattr__(self, "claim_id", claim_id)
        object.__setattr__(self, "line", line)
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "group", group)
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "amount", amount)
        object.__setattr__(self, "carc_text", carc_text)
        object.__setattr__(self, "plain_reason", plain_reason)
        object.__setattr__(self, "action", action)
        object.__setattr__(self, "remarks", remarks)
        object.__setattr__(self, "payer_claim_number", payer_claim_number)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "claim_ref", claim_ref)

    def as_json(self) -> dict[str, object]:
        """JSON for the worklist screen."""
        return {"claim_id": self.claim_id, "line": self.line, "code": self.code,
                "group": self.group, "reason": self.reason,
                "amount": format_amount(self.amount), "carc_text": self.carc_text,
                "plain_reason": self.plain_reason, "action": self.action.value,
                "action_text": self.action.label,
                "remarks": [{"code": c, "text": t} for c, t in self.remarks],
                "payer_claim_number": self.payer_claim_number,
                "trace_number": self.source.trace_number}


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A claim moving to a new status because of a remittance; ``claim_ref`` as ``Entry``'s.

    ``payer_claim_number`` is the CLP07 of the CLP that pays the claim ("" when none, or
    when the CLP was the void's, posted to the claim it voids): the store keeps it for a
    claim that has no payer claim number yet.
    """

    claim_id: str
    status: ClaimStatus
    reason: str
    source: PostingSource
    claim_ref: str = ""
    payer_claim_number: str = ""

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/ledger/test_inits.py keeps it the same).
    def __init__(self, claim_id: str, status: ClaimStatus, reason: str,
                 source: PostingSource, claim_ref: str = "",
                 payer_claim_number: str = "") -> None:
        object.__setattr__(self, "claim_id", claim_id)
        object.__setattr__(self, "status", status)
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "claim_ref", claim_ref)
        object.__setattr__(self, "payer_claim_number", payer_claim_number)


@dataclass(frozen=True, slots=True)
class PostingResult:
    """Everything posting one payment produced; the store persists it in one unit of work.

    ``duplicate`` is True when the trace number was already posted: nothing else is set then.
    ``findings`` explain refusals (an ERA with error findings is never half-posted).
    """

    trace_key: str
    entries: tuple[Entry, ...] = ()
    provider_entries: tuple[Entry, ...] = ()
    suspense: tuple[SuspenseItem, ...] = ()
    worklist: tuple[WorklistItem, ...] = ()
    status_changes: tuple[StatusChange, ...] = ()
    findings: tuple[Finding, ...] = ()
    duplicate: bool = False

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/ledger/test_inits.py keeps it the same).
    def __init__(self, trace_key: str, entries: tuple[Entry, ...] = (),
                 provider_entries: tuple[Entry, ...] = (), suspense: tuple[SuspenseItem, ...] = (),
                 worklist: tuple[WorklistItem, ...] = (),
                 status_changes: tuple[StatusChange, ...] = (), findings: tuple[Finding, ...] = (),
                 duplicate: bool = False) -> None:
        object.__setattr__(self, "trace_key", trace_key)
        object.__setattr__(self, "entries", entries)
        object.__setattr__(self, "provider_entries", provider_entries)
        object.__setattr__(self, "suspense", suspense)
        object.__setattr__(self, "worklist", worklist)
        object.__setattr__(self, "status_changes", status_changes)
        object.__setattr__(self, "findings", findings)
        object.__setattr__(self, "duplicate", duplicate)

    @property
    def posted(self) -> bool:
        """True when anything was posted."""
        return bool(self.entries or self.provider_entries or self.suspense)

    @property
    def total_paid(self) -> Decimal:
        """Σ payments posted to claims (as the ERA states them: positive)."""
        return -sum((e.amount for e in self.entries if e.kind is EntryKind.PAYMENT), ZERO)


@dataclass(frozen=True, slots=True)
class ClaimBalance:
    """A claim's ledger summary: charge = paid + adjustments + patient + open balance."""

    claim_id: str
    charge: Decimal
    paid: Decimal
    contractual: Decimal
    other_adjustments: Decimal
    patient_responsibility: Decimal
    open_balance: Decimal

    # Written out as the dataclass would generate it: compiled by mypyc this is native code
    # (tests/ledger/test_inits.py keeps it the same).
    def __init__(self, claim_id: str, charge: Decimal, paid: Decimal, contractual: Decimal,
                 other_adjustments: Decimal, patient_responsibility: Decimal,
                 open_balance: Decimal) -> None:
        object.__setattr__(self, "claim_id", claim_id)
        object.__setattr__(self, "charge", charge)
        object.__setattr__(self, "paid", paid)
        object.__setattr__(self, "contractual", contractual)
        object.__setattr__(self, "other_adjustments", other_adjustments)
        object.__setattr__(self, "patient_responsibility", patient_responsibility)
        object.__setattr__(self, "open_balance", open_balance)

    @property
    def is_balanced(self) -> bool:
        """The ledger identity."""
        return self.charge == (self.paid + self.contractual + self.other_adjustments
                               + self.patient_responsibility + self.open_balance)


def summarize(claim_id: str, charge: Decimal, entries: Iterable[Entry],
              claim_ref: str = "") -> ClaimBalance:
    """Sum a claim's entries by kind.

    Args:
        claim_id: the claim (its CLM01).
        charge: what we billed (the claim's opening insurance balance).
        entries: every entry posted against the claim, in any order.
        claim_ref: which of the claims stored under ``claim_id`` ("" the newest; see
            ``Entry.claim_ref``).

    Returns:
        The summary; ``open_balance`` is charge plus the signed entries.
    """
    totals = dict.fromkeys(EntryKind, ZERO)
    for entry in entries:
        if entry.claim_id == claim_id and entry.claim_ref == claim_ref:
            totals[entry.kind] += entry.amount
    other = totals[EntryKind.OTHER_ADJUSTMENT] + totals[EntryKind.PAYER_REDUCTION]
    open_balance = charge + sum(totals.values(), ZERO) - totals[EntryKind.PROVIDER_ADJUSTMENT]
    return ClaimBalance(claim_id, charge, -totals[EntryKind.PAYMENT],
                        -totals[EntryKind.CONTRACTUAL], -other,
                        -totals[EntryKind.PATIENT_RESPONSIBILITY], open_balance)
