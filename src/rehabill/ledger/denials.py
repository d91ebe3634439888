"""Denials explained: what a CARC means in plain words and what to do next.

The CARC and RARC texts come from the shipped X12 code lists (``rehabill.reference``); the
plain reasons and next actions below are our own summaries of common rehab-billing practice
(CMS Pub 100-04 ch.5 for therapy; the NCCI policy manual ch.1 for bundling edits; the
X12 CARC list for meaning). Routine adjustments (the contractual write-down CO-45, sequestration
CO-253, multiple-procedure reductions CO-59, prior-payer impact OA-23) and ordinary patient
shares (PR-1/2/3) are not denials and never reach the worklist.
"""

from __future__ import annotations

from dataclasses import dataclass

from rehabill.ledger.entries import NextAction
from rehabill.reference import Reference

ROUTINE = frozenset({("CO", "45"), ("CO", "253"), ("CO", "59"), ("OA", "23"), ("PI", "45"),
                     ("PR", "1"), ("PR", "2"), ("PR", "3"), ("CO", "94"), ("OA", "94")})
PATIENT_SHARE = {"1": "deductible", "2": "coinsurance", "3": "copay"}


@dataclass(frozen=True, slots=True)
class CarcAdvice:
    """Our words for a CARC and the usual next step."""

    reason: str
    action: NextAction


ADVICE: dict[str, CarcAdvice] = {
    "1": CarcAdvice("The patient has not met the deductible; the patient owes this amount.",
                    NextAction.BILL_PATIENT),
    "2": CarcAdvice("This is the patient's coinsurance share.", NextAction.BILL_PATIENT),
    "3": CarcAdvice("This is the patient's copay.", NextAction.BILL_PATIENT),
    "4": CarcAdvice("A modifier is missing or does not fit the code (for therapy usually "
                    "GP/GO/GN, CQ/CO or KX).", NextAction.CORRECT_AND_RESUBMIT),
    "5": CarcAdvice("The code does not fit the place of service on the claim.",
                    NextAction.CORRECT_AND_RESUBMIT),
    "11": CarcAdvice("The diagnosis does not support the procedure billed.",
                     NextAction.CORRECT_AND_RESUBMIT),
    "16": CarcAdvice("The claim is missing information or has a billing error; the remark "
                     "code says which.", NextAction.CORRECT_AND_RESUBMIT),
    "18": CarcAdvice("The payer sees this as an exact duplicate of a claim it already "
                     "processed; check the first claim's payment instead of resubmitting.",
                     NextAction.WRITE_OFF),
    "22": CarcAdvice("Another payer may be primary (coordination of benefits); bill that "
                     "payer first.", NextAction.BILL_SECONDARY),
    "23": CarcAdvice("Reduced because of what a prior payer paid.", NextAction.WRITE_OFF),
    "24": CarcAdvice("Covered under a capitation or managed-care agreement.",
                     NextAction.WRITE_OFF),
    "26": CarcAdvice("The service was before the patient's coverage began.",
                     NextAction.BILL_PATIENT),
    "27": CarcAdvice("The service was after the patient's coverage ended; verify eligibility "
                     "and bill the right payer or the patient.", NextAction.BILL_PATIENT),
    "29": CarcAdvice("The claim reached the payer after its filing deadline; appeal only with "
                     "proof it was filed in time.", NextAction.WRITE_OFF),
    "31": CarcAdvice("The payer cannot find this patient as its member; check the member id "
                     "and name.", NextAction.CORRECT_AND_RESUBMIT),
    "45": CarcAdvice("The charge is above the payer's allowed amount; the difference is a "
                     "contractual write-off.", NextAction.WRITE_OFF),
    "50": CarcAdvice("The payer does not consider the service medically necessary; appeal with "
                     "the plan of care and progress notes.", NextAction.APPEAL),
    "59": CarcAdvice("Reduced under multiple-procedure payment rules.", NextAction.WRITE_OFF),
    "96": CarcAdvice("The service is not covered.", NextAction.WRITE_OFF),
    "97": CarcAdvice("The payer bundled this service into another one paid the same day; if it "
                     "was separate and distinct, add 59 or an X modifier and resubmit.",
                     NextAction.CORRECT_AND_RESUBMIT),
    "109": CarcAdvice("This payer does not cover the claim; send it to the payer that does.",
                      NextAction.BILL_SECONDARY),
    "119": CarcAdvice("The patient's benefit maximum (visits or dollars) for the period has "
                      "been reached.", NextAction.BILL_PATIENT),
    "140": CarcAdvice("The patient's name or id does not match the payer's records.",
                      NextAction.CORRECT_AND_RESUBMIT),
    "151": CarcAdvice("The payer thinks the documentation does not support this many units or "
                      "visits (often a medically unlikely edit); appeal with the notes.",
                      NextAction.APPEAL),
    "167": CarcAdvice("The diagnosis is not covered for this service; check the diagnosis "
                      "coding.", NextAction.CORRECT_AND_RESUBMIT),
    "170": CarcAdvice("The payer does not pay this service from this type of provider.",
                      NextAction.WRITE_OFF),
    "181": CarcAdvice("The procedure code was not valid on the date of service.",
                      NextAction.CORRECT_AND_RESUBMIT),
    "182": CarcAdvice("A modifier was not valid on the date of service.",
                      NextAction.CORRECT_AND_RESUBMIT),
    "185": CarcAdvice("The rendering provider is not eligible to perform this service (check "
                      "enrollment and the rendering NPI).", NextAction.CORRECT_AND_RESUBMIT),
    "197": CarcAdvice("Prior authorization was required and not on file; appeal with a "
                      "retro-authorization if the payer grants one.", NextAction.APPEAL),
    "198": CarcAdvice("More visits or units than were authorized.", NextAction.APPEAL),
    "204": CarcAdvice("The patient's plan does not cover this service.",
                      NextAction.BILL_PATIENT),
    "226": CarcAdvice("The payer asked for information that was not sent; send the records.",
                      NextAction.APPEAL),
    "236": CarcAdvice("The code pair is not allowed together on one day (NCCI edit); add 59 or "
                      "an X modifier only when the services were truly distinct.",
                      NextAction.CORRECT_AND_RESUBMIT),
    "242": CarcAdvice("The provider is out of the patient's network.", NextAction.BILL_PATIENT),
    "252": CarcAdvice("An attachment or other documentation is needed.", NextAction.APPEAL),
    "253": CarcAdvice("Federal sequestration reduction (2%).", NextAction.WRITE_OFF),
}


def is_routine(group: str, reason: str) -> bool:
    """True for adjustments that are normal business (no worklist item)."""
    return (group, reason) in ROUTINE


def advise(group: str, reason: str) -> CarcAdvice:
    """Our words and next action for a group/CARC pair.

    Args:
        group: CO, PR, OA or PI.
        reason: the CARC.

    Returns:
        The advice; for a CARC we have no words for, a generic sentence with an action that
        fits the group (patient responsibility: bill the patient; otherwise appeal).
    """
    advice = ADVICE.get(reason)
    if advice is None:
        action = NextAction.BILL_PATIENT if group == "PR" else NextAction.APPEAL
        return CarcAdvice(f"The payer adjusted this amount with reason {reason}; read the "
                          "CARC and remark text.", action)
    if group == "PR" and advice.action is NextAction.WRITE_OFF:
        return CarcAdvice(advice.reason + " The patient is responsible.",
                          NextAction.BILL_PATIENT)
    return advice


def carc_text(reference: Reference, code: str) -> str:
    """The X12 CARC description, or "" for an unknown code."""
    row = reference.adjustments.carc(code)
    return row.description if row is not None else ""


def rarc_text(reference: Reference, code: str) -> str:
    """The X12 RARC description, or "" for an unknown code."""
    row = reference.adjustments.rarc(code)
    return row.description if row is not None else ""
