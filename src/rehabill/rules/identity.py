"""Identity and codes: diagnoses, NPIs, tax id, member id, and fields an 837P cannot go without.

Sources: ICD-10-CM Official Guidelines §I.B.2 (report codes to the highest number of characters
available; a category that has subcodes is not billable); HIPAA ICD-10-CM code set in force on the
date of service; 45 CFR 162.406 and the CMS NPI check-digit standard (ISO/IEC 7812 Luhn with the
80840 prefix); CMS MBI format specification; 005010X222A1 loops 2010AA (9-digit ZIP), 2010BA/CA.
"""

from __future__ import annotations

from collections.abc import Iterator

from rehabill.domain.findings import Finding, Severity
from rehabill.domain.visit import Visit
from rehabill.rules.base import (
    MAY_CODE_DISCIPLINE,
    MAY_DIAGNOSIS,
    MAY_MEMBER_ID,
    MAY_NPI,
    MAY_REQUIRED_FIELD,
    MAY_UNKNOWN_CODE,
    IcdStatus,
    Rule,
    RuleContext,
    facts_of,
    finding,
    service_location,
    visit_location,
)
from rehabill.rules.checks import ICD_FORMAT, is_mbi, npi_is_valid

SOURCE_ICD = "ICD-10-CM Official Guidelines §I.B.2; HIPAA code set (45 CFR 162.1002)"
SOURCE_NPI = "45 CFR 162.406; CMS NPI check digit (Luhn, prefix 80840)"
SOURCE_837 = "ASC X12 005010X222A1 loops 2010AA, 2010BA, 2010CA"



def no_diagnosis(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """A claim needs at least one diagnosis."""
    if not visit.diagnoses:
        yield finding(NO_DIAGNOSIS, "The visit has no diagnosis code.",
                      visit_location(visit, "diagnoses"),
                      "Add the ICD-10-CM codes the plan of care treats.")


def icd_invalid(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """A diagnosis that is not an ICD-10-CM code (format, or unknown to the code set)."""
    for index, code in enumerate(visit.diagnoses):
        bad_format = ICD_FORMAT.match(code) is None
        if bad_format or (ctx.icd is not None and ctx.icd(code) is IcdStatus.UNKNOWN):
            why = "is not written as an ICD-10-CM code" if bad_format else \
                "is not in the ICD-10-CM code set"
            yield finding(ICD_INVALID, f"Diagnosis {code!r} {why}.",
                          visit_location(visit, f"diagnoses[{index}]"),
                          "Correct the code (letter, two characters, a dot, up to four more).")


def icd_not_billable(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """A diagnosis that is a header (category with subcodes), not a billable code."""
    if ctx.icd is None:
        return
    for index, code in enumerate(visit.diagnoses):
        if ICD_FORMAT.match(code) and ctx.icd(code) is IcdStatus.HEADER:
            yield finding(ICD_NOT_BILLABLE,
                          f"Diagnosis {code} is a header code with more specific subcodes.",
                          visit_location(visit, f"diagnoses[{index}]"),
                          f"Use the most specific code under {code}.")


def _npis(visit: Visit) -> Iterator[tuple[str, str]]:
    yield "billing_provider.npi", visit.billing_provider.npi
    yield "rendering_provider.npi", visit.rendering_provider.npi
    if visit.assistant is not None:
        yield "assistant.npi", visit.assistant.npi
    if visit.supervising_provider is not None:
        yield "supervising_provider.npi", visit.supervising_provider.npi
    if visit.plan_of_care is not None and visit.plan_of_care.certifying_npi:
        yield "plan_of_care.certifying_npi", visit.plan_of_care.certifying_npi
    if visit.referring_npi:
        yield "referring_npi", visit.referring_npi


def npi_invalid(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """An NPI that is not 10 digits or fails its check digit."""
    for field, npi in _npis(visit):
        if not npi_is_valid(npi):
            yield finding(NPI_INVALID, f"NPI {npi!r} in {field} fails the NPI check digit.",
                          visit_location(visit, field),
                          "Copy the NPI again from NPPES; one digit is wrong or missing.")


def unknown_code(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """A service code rehabill's therapy code table does not know."""
    codes = ctx.reference.codes
    for index, service in enumerate(visit.services):
        if service.code not in codes:
            yield finding(UNKNOWN_CODE, f"Code {service.code!r} is not a known therapy code.",
                          service_location(visit, index, "code"),
                          "Check the CPT/HCPCS code; see `rehabill units` for supported codes.")


def code_discipline(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """A code outside the discipline of the plan of care (97116 gait training under OT)."""
    codes = ctx.reference.codes
    discipline = facts_of(visit, ctx).discipline
    for index, service in enumerate(visit.services):
        info = codes.get(service.code)
        if info is not None and discipline not in info.disciplines:
            yield finding(CODE_DISCIPLINE,
                          f"{service.code} ({info.label}) is not a "
                          f"{discipline.value.upper()} code.",
                          service_location(visit, index, "code"),
                          "Check the code, or bill it under the right discipline's plan.")




def member_id_invalid(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """A Medicare member id that is not an MBI (11 characters in the CMS pattern)."""
    if not ctx.policy.name.startswith("medicare"):
        return
    if not is_mbi(visit.coverage.member_id):
        yield finding(MEMBER_ID_INVALID,
                      f"Member id {visit.coverage.member_id!r} is not a Medicare Beneficiary "
                      f"Identifier.", visit_location(visit, "coverage.member_id"),
                      "Use the 11-character MBI from the patient's Medicare card.")


def required_field_missing(visit: Visit, ctx: RuleContext) -> Iterator[Finding]:
    """Fields the 837P requires that the visit file may omit."""
    problems: list[tuple[str, str, str]] = []
    if visit.patient.address is None:
        problems.append(("patient.address", "The patient has no address (837P loop 2010BA/CA).",
                         "Add the patient's postal address."))
    if len(visit.billing_provider.address.zip) != 9:
        problems.append(("billing_provider.address.zip",
                         f"Billing provider ZIP {visit.billing_provider.address.zip!r} is not "
                         f"ZIP+4 (837P loop 2010AA needs 9 digits).", "Use the 9-digit ZIP+4."))
    tax_id = visit.billing_provider.tax_id
    if len(tax_id) != 9 or not tax_id.isdigit():
        problems.append(("billing_provider.tax_id", f"Tax id {tax_id!r} is not 9 digits.",
                         "Use the practice's EIN (or SSN) as 9 digits."))
    if visit.coverage.relationship != "self" and visit.coverage.subscriber is None:
        problems.append(("coverage.subscriber",
                         f"The patient is the subscriber's {visit.coverage.relationship} but no "
                         f"subscriber is named.", "Add the subscriber's name and birth date."))
    for field, message, fix in problems:
        yield finding(REQUIRED_FIELD_MISSING, message, visit_location(visit, field), fix)


NO_DIAGNOSIS = Rule("identity.no_diagnosis", Severity.ERROR, no_diagnosis,
                    "Claim without a diagnosis", SOURCE_ICD,
                    needs=frozenset({MAY_DIAGNOSIS}))
ICD_INVALID = Rule("identity.icd_invalid", Severity.ERROR, icd_invalid,
                   "Diagnosis is not an ICD-10-CM code", SOURCE_ICD,
                   needs=frozenset({MAY_DIAGNOSIS}))
ICD_NOT_BILLABLE = Rule("identity.icd_not_billable", Severity.ERROR, icd_not_billable,
                        "Diagnosis is a header code, not billable", SOURCE_ICD,
                        needs=frozenset({MAY_DIAGNOSIS}))
NPI_INVALID = Rule("identity.npi_invalid", Severity.ERROR, npi_invalid,
                   "NPI fails its check digit", SOURCE_NPI,
                   needs=frozenset({MAY_NPI}))
UNKNOWN_CODE = Rule("identity.unknown_code", Severity.ERROR, unknown_code,
                    "Service code unknown to the therapy code table",
                    "rehabill therapy code table (reference/data/therapy_codes.csv)",
                    needs=frozenset({MAY_UNKNOWN_CODE}))
CODE_DISCIPLINE = Rule("identity.code_discipline", Severity.WARNING, code_discipline,
                       "Code outside the plan's discipline",
                       "rehabill therapy code table; CMS Pub 100-04 ch.5 §20",
                       needs=frozenset({MAY_CODE_DISCIPLINE}))
MEMBER_ID_INVALID = Rule("identity.member_id_invalid", Severity.ERROR, member_id_invalid,
                         "Medicare member id is not an MBI", "CMS MBI format specification",
                         applies=lambda p: p.name.startswith("medicare"),
                         needs=frozenset({MAY_MEMBER_ID}))
REQUIRED_FIELD_MISSING = Rule("identity.required_field_missing", Severity.ERROR,
                              required_field_missing,
                              "A field the 837P requires is missing or malformed", SOURCE_837,
                              needs=frozenset({MAY_REQUIRED_FIELD}))

RULES = (NO_DIAGNOSIS, ICD_INVALID, ICD_NOT_BILLABLE, NPI_INVALID, UNKNOWN_CODE,
         CODE_DISCIPLINE, MEMBER_ID_INVALID, REQUIRED_FIELD_MISSING)
