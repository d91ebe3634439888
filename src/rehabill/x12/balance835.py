"""The 835's balancing findings, built in one place for the full reader and the scan.

005010X221A1 balancing: per line SVC02 − SVC03 = Σ line CAS; per claim CLP03 − CLP04 = Σ claim
and line CAS, with CLP05 equal to the PR adjustments; per payment BPR02 = Σ CLP04 − Σ PLB.
"""

from __future__ import annotations

from decimal import Decimal

from rehabill.domain.findings import Finding, Location, Severity


def _at(file: str, number: int, segment_id: str, element: int) -> Location:
    return Location(file=file, segment=number, segment_id=segment_id,
                    element=f"{segment_id}{element:02d}")


def line_unbalanced(file: str, number: int, code: str, charge: Decimal, paid: Decimal,
                    adjusted: Decimal) -> Finding:
    """SVC02 − SVC03 differs from the line's CAS amounts."""
    return Finding("x12.835.line_unbalanced", Severity.ERROR,
                   f"Line {code}: charge {charge} − paid {paid} = {charge - paid} but its CAS "
                   f"adjustments sum to {adjusted}.", _at(file, number, "SVC", 2),
                   "SVC02 − SVC03 must equal the line's CAS amounts; ask the payer.")


def claim_unbalanced(file: str, number: int, claim_id: str, charge: Decimal, paid: Decimal,
                     adjusted: Decimal) -> Finding:
    """CLP03 − CLP04 differs from all the claim's CAS amounts."""
    return Finding("x12.835.claim_unbalanced", Severity.ERROR,
                   f"Claim {claim_id}: charge {charge} − paid {paid} = {charge - paid} but claim "
                   f"and line CAS sum to {adjusted}.", _at(file, number, "CLP", 4),
                   "CLP03 − CLP04 must equal all CAS amounts; ask the payer.")


def patient_responsibility_mismatch(file: str, number: int, claim_id: str, clp05: Decimal,
                                    patient: Decimal) -> Finding:
    """CLP05 differs from the PR adjustments."""
    return Finding("x12.835.patient_responsibility_mismatch", Severity.WARNING,
                   f"Claim {claim_id}: CLP05 is {clp05} but the PR adjustments sum to "
                   f"{patient}.", _at(file, number, "CLP", 5),
                   "Bill the patient the PR adjustments; ask the payer to confirm.")


def payment_unbalanced(file: str, number: int, amount: Decimal, paid: Decimal,
                       plb: Decimal) -> Finding:
    """BPR02 differs from Σ CLP04 − Σ PLB."""
    return Finding("x12.835.payment_unbalanced", Severity.ERROR,
                   f"BPR02 is {amount} but Σ CLP04 ({paid}) − Σ PLB ({plb}) = {paid - plb}.",
                   _at(file, number, "BPR", 2),
                   "Do not post until the payer confirms the payment amount.")
