"""CMS-1500 (02/12) field mapping: a claim becomes pages of box → text. Pure: no drawing, no I/O.

Box numbers and contents follow the NUCC 1500 Claim Form Reference Instruction Manual (02/12):
box 1 insurance type, 1a insured's id, 2-7 patient and insured, 11 group/plan, 12-13 signatures,
14 onset (qualifier 431), 15 other date (454 initial treatment), 17/17b the certifying or
referring provider, 21 ICD indicator 0 and diagnoses A-L, 22 resubmission code 7/8 with the
original reference, 23 prior authorization, 24 six service lines (dates, place of service, code
and up to four modifiers, pointer letters, charge, units, rendering NPI), 25 EIN, 26 patient
account number, 27 accept assignment, 28 total charge, 31 signature, 33/33a billing provider.

A claim with more than six lines continues on more pages; box 28 reads "CONTINUED" on every page
but the last, which carries the claim's total (NUCC instructions for item 28).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rehabill.domain.claim import Claim, ClaimLine, Frequency
from rehabill.domain.money import format_amount
from rehabill.domain.visit import Address, Visit

LINES_PER_PAGE = 6
POINTER_LETTERS = "ABCDEFGHIJKL"

#: Box 1 checkbox by coverage plan.
INSURANCE_TYPE = {
    "medicare_part_b": "medicare", "medicare": "medicare", "medicaid": "medicaid",
    "tricare": "tricare", "champus": "tricare", "va": "champva",
    "workers_comp": "other", "auto": "other", "liability": "other",
}

#: Box 6 checkbox by coverage relationship.
RELATIONSHIP_BOX = {"self": "self", "": "self", "spouse": "spouse", "child": "child"}


@dataclass(frozen=True, slots=True)
class FormPage:
    """One printed page: its fields by box key ("2", "21.A", "24D.3", "1.medicare"...)."""

    number: int
    of: int
    fields: tuple[tuple[str, str], ...]

    def get(self, key: str) -> str:
        """The text for ``key`` ("" when the box is empty)."""
        return dict(self.fields).get(key, "")


def mmddyy(day: date) -> str:
    """Box 24A date: "03 02 26"."""
    return day.strftime("%m %d %y")


def mmddyyyy(day: date) -> str:
    """Boxes 3, 11a, 14, 15, 31: "03 02 2026"."""
    return day.strftime("%m %d %Y")


def _city_line(address: Address) -> tuple[str, str]:
    return address.city.upper(), address.state.upper()


def _zip(value: str) -> str:
    return f"{value[:5]}-{value[5:]}" if len(value) == 9 else value


def _address_fields(prefix: str, address: Address | None) -> dict[str, str]:
    if address is None:
        return {}
    city, state = _city_line(address)
    street = address.line1 + (f" {address.line2}" if address.line2 else "")
    return {f"{prefix}.street": street.upper(), f"{prefix}.city": city,
            f"{prefix}.state": state, f"{prefix}.zip": _zip(address.zip)}


def _people(v: Visit) -> dict[str, str]:
    """Boxes 1-13: insurance type, patient, insured, plan, signatures."""
    c = v.coverage
    p = v.patient
    is_self = c.relationship in ("self", "")
    sub = c.subscriber
    fields = {
        f"1.{INSURANCE_TYPE.get(c.plan, 'group')}": "X",
        "1a": c.member_id,
        "2": f"{p.last_name}, {p.first_name}".upper(),
        "3.dob": mmddyyyy(p.birth_date),
        f"3.sex_{p.sex.lower()}": "X" if p.sex in ("M", "F") else "",
        f"6.{RELATIONSHIP_BOX.get(c.relationship, 'other')}": "X",
        "11": c.group_number or "NONE",
        "11c": (c.payer_name or c.payer_id).upper(),
        "payer": f"{(c.payer_name or c.payer_id).upper()} ({c.payer_id})",
        "12": "SIGNATURE ON FILE",
        "13": "SIGNATURE ON FILE",
    }
    fields.update(_address_fields("5", p.address))
    if is_self:
        fields["4"] = fields["2"]
        fields.update(_address_fields("7", p.address))
        fields["11a.dob"] = fields["3.dob"]
        fields[f"11a.sex_{p.sex.lower()}"] = fields.get(f"3.sex_{p.sex.lower()}", "")
    elif sub is not None:
        fields["4"] = f"{sub.last_name}, {sub.first_name}".upper()
        fields.update(_address_fields("7", sub.address))
        if sub.birth_date is not None:
            fields["11a.dob"] = mmddyyyy(sub.birth_date)
        if sub.sex in ("M", "F"):
            fields[f"11a.sex_{sub.sex.lower()}"] = "X"
    return {k: v for k, v in fields.items() if v}


def _claim_boxes(claim: Claim) -> dict[str, str]:
    """Boxes 14-23 and 25-33: dates, providers, diagnoses, references, totals."""
    v = claim.visit
    bp = v.billing_provider
    fields: dict[str, str] = {}
    if v.onset_date is not None:
        fields.update({"14.qual": "431", "14": mmddyyyy(v.onset_date)})
    if v.plan_of_care is not None:
        fields.update({"15.qual": "454", "15": mmddyyyy(v.plan_of_care.start)})
    referring = v.referring_npi or (v.plan_of_care.certifying_npi if v.plan_of_care else "")
    if referring:
        fields.update({"17.qual": "DK" if not v.referring_npi else "DN", "17b": referring})
    fields["21.ind"] = "0"
    for letter, code in zip(POINTER_LETTERS, v.diagnoses, strict=False):
        fields[f"21.{letter}"] = code.upper()
    if claim.frequency is not Frequency.ORIGINAL:
        fields.update({"22.code": claim.frequency.value, "22.original": claim.original_reference})
    if v.authorization is not None and v.authorization.number:
        fields["23"] = v.authorization.number
    fields.update({
        "25": bp.tax_id, "25.ein": "X", "26": claim.claim_id, "27.yes": "X",
        "31": f"{v.rendering_provider.first_name} {v.rendering_provider.last_name} "
              f"{v.rendering_provider.credential.value}".upper(),
        "31.date": mmddyyyy(claim.date_of_service),
        "33.name": bp.name.upper(), "33a": bp.npi,
    })
    pay_to = bp.pay_to or bp.address
    street = pay_to.line1 + (f" {pay_to.line2}" if pay_to.line2 else "")
    fields["33.street"] = street.upper()
    fields["33.city"] = f"{pay_to.city.upper()} {pay_to.state.upper()} {_zip(pay_to.zip)}"
    return {k: val for k, val in fields.items() if val}


def _line_fields(row: int, line: ClaimLine, visit: Visit) -> dict[str, str]:
    """Box 24, row 1-6: one service line."""
    modifiers = list(line.modifiers[:4]) + [""] * (4 - min(len(line.modifiers), 4))
    fields = {
        f"24A.from.{row}": mmddyy(line.date_of_service),
        f"24A.to.{row}": mmddyy(line.date_of_service),
        f"24B.{row}": visit.place_of_service,
        f"24D.{row}": line.code,
        f"24E.{row}": "".join(POINTER_LETTERS[p - 1] for p in line.diagnosis_pointers[:4]
                              if 0 < p <= len(POINTER_LETTERS)),
        f"24F.{row}": format_amount(line.charge),
        f"24G.{row}": str(line.units),
        f"24J.{row}": visit.rendering_provider.npi,
    }
    for index, modifier in enumerate(modifiers, start=1):
        if modifier:
            fields[f"24D.mod{index}.{row}"] = modifier
    return fields


def form_pages(claim: Claim) -> tuple[FormPage, ...]:
    """The CMS-1500 pages for one claim.

    Args:
        claim: a coded claim.

    Returns:
        One page per six service lines (at least one), each with every box it fills.
    """
    v = claim.visit
    common = {**_people(v), **_claim_boxes(claim)}
    chunks = [claim.lines[i:i + LINES_PER_PAGE]
              for i in range(0, len(claim.lines), LINES_PER_PAGE)] or [()]
    pages = []
    for number, chunk in enumerate(chunks, start=1):
        fields = dict(common)
        for row, line in enumerate(chunk, start=1):
            fields.update(_line_fields(row, line, v))
        last = number == len(chunks)
        fields["28"] = format_amount(claim.total_charge) if last else "CONTINUED"
        fields["page"] = f"PAGE {number} OF {len(chunks)}"
        pages.append(FormPage(number, len(chunks), tuple(sorted(fields.items()))))
    return tuple(pages)
