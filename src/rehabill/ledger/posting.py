"""Posting: turn one 835 payment into ledger entries, suspense, worklist and status changes.

Pure: the inputs are the payment (``rehabill.x12.remit835.Remittance``), the claims we know
(by patient control number, CLP01 = our CLM01) and the trace keys already posted; the output
is a ``PostingResult`` that the store persists in one unit of work. Matching follows the
005010X221A1 guide: CLP01 returns our CLM01 and REF*6R our line item control number (837P
REF*6R); when a payer drops REF*6R we match on procedure code, modifiers, date and units, using
SVC06 (the procedure as we billed it) when the payer changed the code in SVC01.

A corrected (frequency 7) or void (8) claim keeps its original's CLM01, so one CLP01 can name
several of our claims (a ``ClaimSet``). ``choose_claim`` picks the one the CLP is for, as
posting software does: the claim whose payer claim number is the CLP07 (the number the payer
gave it in a 277CA or an earlier 835); else the newest claim whose charge and lines fit the
CLP; else the newest. So a payer's late 835 for the original, which arrives after the
corrected claim went out, posts to the original. A claim a later 7 or 8 replaces ends a
reversal ``closed``, not ``accepted`` (nothing more is due on it), and its denials go on the
worklist as "follow the replacement", not "correct and resubmit" (that was done). A reversal
the payer reports against the void claim itself is posted to the claim the void voids (its
REF*F8 number), where the payment it takes back was posted.
"""

from __future__ import annotations

from collections.abc import Container, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from decimal import Decimal

from rehabill.domain.claim import Claim, ClaimLine, ClaimStatus, Frequency
from rehabill.domain.findings import Finding, Location, Severity, has_errors
from rehabill.domain.money import ZERO
from rehabill.ledger import denials
from rehabill.ledger.entries import (
    GROUP_KINDS,
    Entry,
    EntryKind,
    NextAction,
    PostingResult,
    PostingSource,
    StatusChange,
    SuspenseItem,
    WorklistItem,
)
from rehabill.reference import Reference, load
from rehabill.x12.fastbuild import positional_builder
from rehabill.x12.remit835 import Adjustment, ClaimPayment, Remittance, ServiceLine

# Every field, in order, without the frozen __init__'s object.__setattr__ calls (interpreted,
# about 40% quicker): a month's 835s make tens of thousands of entries, one source per SVC.
# Compiled by mypyc these are the classes themselves.
_new_entry = positional_builder(Entry)
_new_source = positional_builder(PostingSource)


def trace_key(remittance: Remittance) -> str:
    """The idempotency key of a payment: payer id (TRN03) / trace number (TRN02)."""
    return f"{remittance.trace.originator}/{remittance.trace.number}"


@dataclass(frozen=True, slots=True)
class StoredClaim:
    """One of the claims stored under one CLM01.

    ``ref`` is how entries name it beside the CLM01 (``Entry.claim_ref``): "" for the newest,
    else whatever the store gave (opaque here). ``payer_claim_number`` is the payer's number
    for it (277CA REF*1K, 835 CLP07), "" while unknown. ``payer_id`` is the payer it was
    billed to (its coverage's payer id), "" when unknown.
    """

    claim: Claim
    ref: str
    payer_claim_number: str = ""
    payer_id: str = ""


@dataclass(frozen=True, slots=True)
class ClaimSet:
    """Every claim stored under one CLM01, newest first (the newest with ``ref`` "").

    An original and the corrected (frequency 7) or void (8) claims that replace it share
    their CLM01 (837P CLM05-3 with REF*F8), as do a claim sent again after a rejection and a
    claim billed to the secondary payer.
    """

    claims: tuple[StoredClaim, ...]


_REPLACING = (Frequency.REPLACEMENT, Frequency.VOID)


def payer_ids(remittance: Remittance) -> frozenset[str]:
    """The ids an 835 names its payer by (005010X221A1 loop 1000A and TRN): N1*PR's N104,
    REF*2U (additional payer identification, e.g. a Medicare contractor's number) and TRN03
    (1 and the payer's EIN); the claim's payer id is compared with each."""
    payer = remittance.payer
    refs = [r.value for r in payer.refs if r.qualifier == "2U"]
    return frozenset(i for i in (payer.id, remittance.trace.originator, *refs) if i)


def choose_claim(payment: ClaimPayment, found: Claim | ClaimSet | None,
                 payers: AbstractSet[str] = frozenset()
                 ) -> tuple[Claim | None, str, Frequency | None]:
    """The claim one CLP pays, among those stored under its CLP01.

    In order: the claim whose payer claim number is the CLP07; then, among the claims billed
    to the payer who sends the 835 (all of them when none is known to be: a secondary claim
    shares its primary's CLM01 and often its charge and lines), the newest whose charge
    (CLP03, negated in a reversal) and lines (``match_line`` finds each SVC a line) fit the
    CLP, preferring one whose frequency is the CLP09 when that says 7 or 8 (many payers send 1
    for every claim, so a 1 says nothing); the newest of them.

    Args:
        payment: the CLP.
        found: what the store holds under its CLP01: one claim, a ``ClaimSet``, or None.
        payers: the 835's payer ids (``payer_ids``).

    Returns:
        (claim or None, its ``ref``, the frequency of a later claim that replaces it or None:
        a later 7 or 8 billed to the same payer).
    """
    if not isinstance(found, ClaimSet):
        return found, "", None
    stored = found.claims
    number = payment.payer_claim_number
    pick = next((s for s in stored if number and s.payer_claim_number == number), None)
    if pick is None:
        billed = [s for s in stored if s.payer_id and s.payer_id in payers] or stored
        fits = [s for s in billed if _fits(payment, s.claim)]
        said = payment.extra[1] if len(payment.extra) > 1 else ""
        pick = next((s for s in fits if said in _REPLACING and s.claim.frequency == said),
                    fits[0] if fits else billed[0])
    later = stored[:next(i for i, s in enumerate(stored) if s is pick)]
    replaced_by = next((s.claim.frequency for s in reversed(later)
                        if s.claim.frequency in _REPLACING
                        and (not s.payer_id or not pick.payer_id or s.payer_id == pick.payer_id)),
                       None)
    return pick.claim, pick.ref, replaced_by


def _fits(payment: ClaimPayment, claim: Claim) -> bool:
    """The CLP's charge is the claim's and each of its SVCs matches one of the claim's lines."""
    charge = -payment.charge if payment.is_reversal else payment.charge
    if charge != claim.total_charge:
        return False
    used: set[int] = set()
    day = next((d.value for d in payment.dates if d.qualifier == "232"), "")
    return all(match_line(svc, claim.lines, used, day) is not None for svc in payment.lines)


def _voided(claim: Claim, found: Claim | ClaimSet | None) -> StoredClaim | None:
    """The stored claim a void claim voids (its payer claim number is the void's REF*F8)."""
    if claim.frequency is not Frequency.VOID or not isinstance(found, ClaimSet):
        return None
    number = claim.original_reference
    return next((s for s in found.claims if number and s.payer_claim_number == number), None)


def post_remittance(remittance: Remittance, claims: Mapping[str, Claim | ClaimSet], *,
                    file: str = "",
                    posted_traces: Container[str] = frozenset(),
                    envelope_findings: Sequence[Finding] = (),
                    reference: Reference | None = None) -> PostingResult:
    """Post one payment.

    Args:
        remittance: one 835 transaction (read with its claims).
        claims: the claims we know, by claim id (patient control number); a ``ClaimSet``
            where several share one (``choose_claim`` picks each CLP's).
        file: the 835 file name, kept on every entry's source.
        posted_traces: trace keys already posted (idempotency).
        envelope_findings: the file's envelope findings; any error means nothing is posted.
        reference: the reference tables (default ``load()``).

    Returns:
        What to persist. A duplicate trace gives ``duplicate=True`` and nothing else; a payment
        with error findings (or a file with envelope errors) gives a refusal finding only.
    """
    key = trace_key(remittance)
    where = Location(file=file, segment=remittance.segment or None, segment_id="ST")
    if key in posted_traces:
        return PostingResult(key, duplicate=True, findings=(Finding(
            "ledger.duplicate_trace", Severity.INFO,
            f"Payment {remittance.trace.number} from payer {remittance.trace.originator or '?'}"
            " was already posted; nothing changed.", where, "Nothing to do."),))
    problems = [f for f in (*envelope_findings, *remittance.findings) if f.is_error]
    if has_errors(problems):
        return PostingResult(key, findings=(Finding(
            "ledger.not_posted", Severity.ERROR,
            f"Payment {remittance.trace.number} has {len(problems)} error finding(s) "
            f"(first: {problems[0].code}); nothing was posted.", where,
            "Ask the payer for a corrected 835, then post it."),))
    ref = reference or load()
    base = PostingSource(file, remittance.trace.originator, remittance.trace.number, 0)
    payers = payer_ids(remittance)
    parts = [_post_claim(c, claims.get(c.claim_id), base, ref, payers)
             for c in remittance.claims]
    return PostingResult(
        key,
        entries=tuple(e for p in parts for e in p.entries),
        provider_entries=tuple(provider_entries(remittance, file)),
        suspense=tuple(s for p in parts for s in p.suspense),
        worklist=tuple(w for p in parts for w in p.worklist),
        status_changes=tuple(s for p in parts for s in p.status_changes),
        findings=tuple(f for p in parts for f in p.findings),
    )


def _source(remittance: Remittance, file: str, segment: int) -> PostingSource:
    return PostingSource(file, remittance.trace.originator, remittance.trace.number, segment)


def post_claim(payment: ClaimPayment, claim: Claim | ClaimSet | None, *,
               source: PostingSource,
               reference: Reference | None = None,
               payers: AbstractSet[str] = frozenset()) -> PostingResult:
    """Post one claim of a payment, for streaming very large ERAs claim by claim.

    The caller has already checked the whole file (``rehabill.x12.remit835_scan.scan_835``)
    and the trace key (idempotency); ``source`` names the file, payer id and trace number
    (its ``segment`` is replaced by each entry's own).

    Args:
        payment: one CLP loop from ``iter_835``.
        claim: our claim with that patient control number (or our claims, when several
            share it: ``choose_claim``), or None (suspense).
        source: where the payment comes from.
        reference: the reference tables (default ``load()``).
        payers: the payment's payer ids (``payer_ids`` of its 835), which choose among
            claims billed to different payers under one CLM01.

    Returns:
        The claim's entries, suspense, worklist and status change.
    """
    return post_claims((payment,), {} if claim is None else {payment.claim_id: claim},
                       source=source, reference=reference, payers=payers)


def post_claims(payments: Sequence[ClaimPayment],
                found: Mapping[str, Claim | ClaimSet], *, source: PostingSource,
                reference: Reference | None = None,
                payers: AbstractSet[str] = frozenset()) -> PostingResult:
    """``post_claim`` for several claims of one payment, in one result: their entries,
    suspense, worklist items, status changes and findings in the claims' order (what joining
    each claim's ``post_claim`` gives, without a result per claim).

    Args:
        payments: CLP loops of one payment, in file order.
        found: our claims by patient control number (``post_claim``'s ``claim``, by CLP01).
        source: where the payment comes from (as ``post_claim``).
        reference: the reference tables (default ``load()``).
        payers: the payment's payer ids (``payer_ids``).
    """
    ref = reference or load()
    entries: list[Entry] = []
    suspense: list[SuspenseItem] = []
    worklist: list[WorklistItem] = []
    changes: list[StatusChange] = []
    findings: list[Finding] = []
    get = found.get
    for payment in payments:
        part = _post_claim(payment, get(payment.claim_id), source, ref, payers)
        entries += part.entries
        if part.suspense:
            suspense += part.suspense
        if part.worklist:
            worklist += part.worklist
        changes += part.status_changes
        if part.findings:
            findings += part.findings
    return PostingResult(source.trace_key, tuple(entries), suspense=tuple(suspense),
                         worklist=tuple(worklist), status_changes=tuple(changes),
                         findings=tuple(findings))


def provider_entries(remittance: Remittance, file: str = "") -> Iterator[Entry]:
    """PLB items as provider-level entries; ``amount`` is the cash effect (−PLB amount).

    Args:
        remittance: the payment (its PLB segments are kept even when its claims are not).
        file: the file name for the entries' source.

    Yields:
        One entry per PLB adjustment, with the PLB reason and reference.
    """
    for plb in remittance.provider_adjustments:
        source = _source(remittance, file, plb.segment)
        for item in plb.items:
            yield Entry("", None, EntryKind.PROVIDER_ADJUSTMENT, -item.amount, source,
                        reason=item.reason, detail=item.reference)


def match_line(svc: ServiceLine, lines: Sequence[ClaimLine], used: set[int],
               claim_date: str = "") -> ClaimLine | None:
    """Our line for an SVC: by REF*6R, else by code + modifiers + date + units.

    Args:
        svc: the payer's service line.
        lines: our claim's lines.
        used: line numbers already matched (updated on a match).
        claim_date: the claim's statement date (CCYYMMDD) when the SVC has no DTM.

    Returns:
        The matching line, or None.
    """
    control = svc.control_number
    if control:
        for line in lines:
            if line.control_number == control and line.number not in used:
                used.add(line.number)
                return line
    billed = svc.original or svc.procedure
    units = svc.original_units if svc.original is not None else svc.units
    day = svc.service_date or claim_date
    candidates = [x for x in lines if x.number not in used and x.code == billed.code
                  and (not day or x.date_of_service.strftime("%Y%m%d") == day)]
    exact = [x for x in candidates if set(x.modifiers) == set(billed.modifiers)
             and (units is None or Decimal(x.units) == units)]
    chosen = exact[0] if exact else (candidates[0] if len(candidates) == 1 else None)
    if chosen is not None:
        used.add(chosen.number)
    return chosen


class _Part:
    __slots__ = ("entries", "findings", "status_changes", "suspense", "worklist")

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.suspense: list[SuspenseItem] = []
        self.worklist: list[WorklistItem] = []
        self.status_changes: list[StatusChange] = []
        self.findings: list[Finding] = []


def _post_claim(cp: ClaimPayment, found: Claim | ClaimSet | None, base: PostingSource,
                ref: Reference, payers: AbstractSet[str] = frozenset()) -> _Part:
    part = _Part()
    file, payer, trace = base.file, base.payer_id, base.trace_number
    source = PostingSource(file, payer, trace, cp.segment)
    void: str | None = None  # the void claim's ref, when its reversal goes to the original
    if isinstance(found, ClaimSet):
        claim, cref, replaced_by = choose_claim(cp, found, payers)
        if cp.is_reversal and claim is not None and (voided := _voided(claim, found)):
            void, claim, cref, replaced_by = cref, voided.claim, voided.ref, Frequency.VOID
    else:  # one claim has this CLM01 (nearly every claim): posted as it always was
        claim, cref, replaced_by = found, "", None
    if claim is None:
        part.suspense.append(SuspenseItem(
            cp.claim_id, f"No claim with patient control number {cp.claim_id!r}; the payment "
            "is held until it is matched.", cp.paid, source))
        return part
    if cp.charge != claim.total_charge and not cp.is_reversal:
        part.findings.append(Finding(
            "ledger.charge_mismatch", Severity.WARNING,
            f"Claim {cp.claim_id}: the payer's charge {cp.charge} differs from ours "
            f"{claim.total_charge}; the difference stays open.",
            Location(file=file, claim_id=cp.claim_id, segment=cp.segment, segment_id="CLP",
                     element="CLP03"), "Check whether the payer split or changed the claim."))
    claim_date = _claim_date(cp)
    claim_remarks = cp.remark_codes
    target = (cref, replaced_by)
    used: set[int] = set()
    line_paid = ZERO
    for svc in cp.lines:
        line = match_line(svc, claim.lines, used, claim_date)
        number = line.number if line is not None else None
        line_source = _new_source(file, payer, trace, svc.segment)
        if line is None:
            part.suspense.append(SuspenseItem(
                cp.claim_id, f"Service line {svc.procedure.code} matched none of our lines; "
                "posted at claim level until assigned.", svc.paid, line_source,
                svc.procedure.code))
        remarks = tuple([r.code for r in svc.remarks]) if svc.remarks else claim_remarks
        part.entries.append(_new_entry(cp.claim_id, number, EntryKind.PAYMENT, -svc.paid,
                                       line_source, "", "", "", (), cref))
        line_paid += svc.paid
        _adjust(part, svc.adjustments, cp, number, line_source, remarks, ref, target)
    if cp.paid != line_paid or not cp.lines:
        part.entries.append(Entry(cp.claim_id, None, EntryKind.PAYMENT, -(cp.paid - line_paid),
                                  source, "", "", "", (), cref))
    _adjust(part, cp.adjustments, cp, None, source, claim_remarks, ref, target)
    if cp.lines and not cp.is_reversal:
        _unreported_lines(part, cp, claim, used, file)
    status, why = _payer_status(cp)
    if replaced_by is not None or claim.frequency is Frequency.VOID:
        status, why = _replaced_status(status, why, claim, replaced_by)
    # the CLP07 names the claim the CLP is for: the void's own, when its reversal was posted
    # to the claim it voids
    clp07 = cp.payer_claim_number
    part.status_changes.append(StatusChange(cp.claim_id, status, why, source, cref,
                                            "" if void is not None else clp07))
    if void is not None:
        part.status_changes.append(StatusChange(
            cp.claim_id, ClaimStatus.CLOSED, "The payer processed the void (frequency 8): its "
            "reversal (CLP02 22) was posted to the claim it voids.", source, void, clp07))
    return part


def _claim_date(cp: ClaimPayment) -> str:
    """DTM*232 (claim statement period start), CCYYMMDD, or "": the SVCs' date when they
    have none of their own."""
    for d in cp.dates:
        if d.qualifier == "232":
            return d.value
    return ""


def _unreported_lines(part: _Part, cp: ClaimPayment, claim: Claim, used: set[int],
                      file: str) -> None:
    """Our lines the payer reported nothing for (often bundled into another line)."""
    for line in claim.lines:
        if line.number in used:
            continue
        part.findings.append(Finding(
            "ledger.line_not_reported", Severity.WARNING,
            f"Claim {cp.claim_id} line {line.number} ({line.code}, charge {line.charge}) is "
            "not in the remittance; its charge stays open.",
            Location(file=file, claim_id=cp.claim_id, line=line.number, segment=cp.segment,
                     segment_id="CLP"),
            "Check whether the payer bundled it into another line (then write it off) or "
            "dropped it (then resubmit it)."))


def _adjust(part: _Part, adjustments: Sequence[Adjustment], cp: ClaimPayment,
            line: int | None, source: PostingSource, remarks: tuple[str, ...],
            ref: Reference, target: tuple[str, Frequency | None]) -> None:
    """The CAS amounts as entries, and the denials among them as worklist items.

    ``target`` is the claim's ``ref`` and the frequency of a later claim that replaces it:
    a denial of a claim already corrected or voided is there to see, not to resubmit again.
    """
    cref, replaced_by = target
    claim_id, reversal, append = cp.claim_id, cp.is_reversal, part.entries.append
    kinds, other, routine = GROUP_KINDS, EntryKind.OTHER_ADJUSTMENT, denials.ROUTINE
    for adj in adjustments:
        group, reason, amount = adj.group, adj.reason, adj.amount
        detail = denials.PATIENT_SHARE.get(reason, "") if group == "PR" else ""
        append(_new_entry(claim_id, line, kinds.get(group, other), -amount, source, group, reason,
                          detail, remarks, cref))
        # routine: denials.is_routine, written out (most adjustments are CO-45 or PR)
        if reversal or (group, reason) in routine or amount <= 0:
            continue
        advice = denials.advise(adj.group, adj.reason)
        why, action = advice.reason, advice.action
        if replaced_by is not None:
            why = f"{why} {_replaced_words(replaced_by)}"
            action = NextAction.FOLLOW_REPLACEMENT
        part.worklist.append(WorklistItem(
            cp.claim_id, line, f"{adj.group}-{adj.reason}", adj.group, adj.reason, adj.amount,
            denials.carc_text(ref, adj.reason), why, action,
            tuple((r, denials.rarc_text(ref, r)) for r in remarks), cp.payer_claim_number,
            source, cref))


def _replaced_words(replaced_by: Frequency) -> str:
    if replaced_by is Frequency.VOID:
        return "This claim was already voided (a frequency 8 claim was sent)."
    return "This claim was already replaced by a corrected claim (frequency 7)."


def _is_denied_line(svc: ServiceLine) -> bool:
    return svc.paid == 0 and any(not denials.is_routine(a.group, a.reason) and a.group != "PR"
                                 for a in svc.adjustments)


def _replaced_status(status: ClaimStatus, why: str, claim: Claim,
                     replaced_by: Frequency | None) -> tuple[ClaimStatus, str]:
    """The payer's word on a void or replaced claim (``_payer_status``), except that a void
    processed (anything but a denial) is ``closed``, and so is a claim a later 7 or 8
    replaces that the payer leaves waiting (a reversal): nothing more is due on either."""
    if claim.frequency is Frequency.VOID and status is not ClaimStatus.DENIED:
        return ClaimStatus.CLOSED, f"{why} The payer processed the void (frequency 8)."
    if replaced_by is not None and status is ClaimStatus.ACCEPTED:
        return ClaimStatus.CLOSED, f"{why} {_replaced_words(replaced_by)}"
    return status, why


def _payer_status(cp: ClaimPayment) -> tuple[ClaimStatus, str]:
    """The claim's new status and why (005010X221A1 CLP02 meanings)."""
    if cp.is_reversal:
        return ClaimStatus.ACCEPTED, "The payer reversed its earlier payment (CLP02 22)."
    if cp.status == "4":
        return ClaimStatus.DENIED, "The payer denied the claim (CLP02 4)."
    if cp.status in ("23", "25"):
        return ClaimStatus.ACCEPTED, f"The payer reported status {cp.status} without payment."
    denied = [s for s in cp.lines if _is_denied_line(s)]
    if cp.lines and len(denied) == len(cp.lines):
        return ClaimStatus.DENIED, "Every line was denied."
    if denied:
        return ClaimStatus.PARTIALLY_PAID, f"{len(denied)} of {len(cp.lines)} lines denied."
    if cp.paid > 0:
        return ClaimStatus.PAID, f"Paid {cp.paid}."
    return ClaimStatus.CLOSED, "Processed with no payment (patient responsibility or write-off)."
