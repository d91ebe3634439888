"""Where the CMS-1500 boxes sit on a US Letter page, in millimetres from the top-left corner.

Our own drawing of the 02/12 form's grid: the same boxes in the same order and roughly the same
places, so a reader who knows the red form finds every field where they expect it. ``CELLS`` are
the ruled boxes with their printed labels; ``SLOTS`` are where each field's text goes (always
inside its cell, below the label). Tests use the slots to check that text lands in its box.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

PAGE_W = 215.9
PAGE_H = 279.4
LEFT = 8.0
RIGHT = 208.0
COL_M = 88.0   # patient column | middle column
COL_R = 140.0  # middle column | insured column


@dataclass(frozen=True, slots=True)
class Rect:
    """A rectangle in mm: left, top, width, height."""

    x: float
    y: float
    w: float
    h: float

    def contains(self, other: Rect) -> bool:
        """True when ``other`` lies inside this rectangle (0.5 mm tolerance)."""
        return (other.x >= self.x - 0.5 and other.y >= self.y - 0.5
                and other.x + other.w <= self.x + self.w + 0.5
                and other.y + other.h <= self.y + self.h + 0.5)


@dataclass(frozen=True, slots=True)
class Cell:
    """A ruled box with its printed label."""

    label: str
    rect: Rect
    shaded: bool = False


def _cell(label: str, x: float, y: float, right: float, bottom: float,
          shaded: bool = False) -> Cell:
    return Cell(label, Rect(x, y, right - x, bottom - y), shaded)


def _slot(x: float, y: float, w: float, h: float = 4.5) -> Rect:
    return Rect(x, y, w, h)


def _checks(prefix: str, names: tuple[str, ...], x: float, y: float, step: float
            ) -> dict[str, Rect]:
    return {f"{prefix}.{name}": Rect(x + i * step, y, 3.5, 3.5) for i, name in enumerate(names)}


# Row tops (mm) of the upper form.
_R = (28.0, 36.0, 44.0, 52.0, 60.0, 68.0, 76.0, 84.0, 92.0, 100.0, 108.0, 118.0, 126.0, 134.0,
      142.0, 160.0)
LINE_TOP = 168.0
LINE_H = 10.0
LINES_BOTTOM = LINE_TOP + 6 * LINE_H  # 228
# Box 24 columns: name → (left, right).
COLUMNS: dict[str, tuple[float, float]] = {
    "24A.from": (LEFT, 28.0), "24A.to": (28.0, 48.0), "24B": (48.0, 56.0), "24C": (56.0, 62.0),
    "24D": (62.0, 80.0), "24D.mod1": (80.0, 86.0), "24D.mod2": (86.0, 92.0),
    "24D.mod3": (92.0, 98.0), "24D.mod4": (98.0, 104.0), "24E": (104.0, 120.0),
    "24F": (120.0, 145.0), "24G": (145.0, 157.0), "24H": (157.0, 163.0),
    "24I": (163.0, 171.0), "24J": (171.0, RIGHT),
}
COLUMN_LABELS = {
    "24A.from": "24. A. FROM MM DD YY", "24A.to": "TO MM DD YY", "24B": "B. POS",
    "24C": "C. EMG", "24D": "D. CPT/HCPCS", "24D.mod1": "MOD", "24E": "E. DIAG PTR",
    "24F": "F. $ CHARGES", "24G": "G. UNITS", "24H": "H. EPSDT", "24I": "I. QUAL",
    "24J": "J. RENDERING PROVIDER ID #",
}


def _upper_cells() -> list[Cell]:
    r = _R
    return [
        _cell("CARRIER: PAYER NAME", 120.0, 8.0, RIGHT, 26.0),
        _cell("1. MEDICARE  MEDICAID  TRICARE  CHAMPVA  GROUP HEALTH PLAN  FECA  OTHER",
              LEFT, r[0], COL_R, r[1]),
        _cell("1a. INSURED'S I.D. NUMBER", COL_R, r[0], RIGHT, r[1]),
        _cell("2. PATIENT'S NAME (Last, First)", LEFT, r[1], COL_M, r[2]),
        _cell("3. PATIENT'S BIRTH DATE / SEX", COL_M, r[1], COL_R, r[2]),
        _cell("4. INSURED'S NAME (Last, First)", COL_R, r[1], RIGHT, r[2]),
        _cell("5. PATIENT'S ADDRESS (No., Street)", LEFT, r[2], COL_M, r[3]),
        _cell("6. PATIENT RELATIONSHIP TO INSURED", COL_M, r[2], COL_R, r[3]),
        _cell("7. INSURED'S ADDRESS (No., Street)", COL_R, r[2], RIGHT, r[3]),
        _cell("CITY / STATE", LEFT, r[3], COL_M, r[4]),
        _cell("8. RESERVED FOR NUCC USE", COL_M, r[3], COL_R, r[5]),
        _cell("CITY / STATE", COL_R, r[3], RIGHT, r[4]),
        _cell("ZIP CODE / TELEPHONE", LEFT, r[4], COL_M, r[5]),
        _cell("ZIP CODE / TELEPHONE", COL_R, r[4], RIGHT, r[5]),
        _cell("9. OTHER INSURED'S NAME", LEFT, r[5], COL_M, r[6]),
        _cell("10. IS PATIENT'S CONDITION RELATED TO: a. EMPLOYMENT b. AUTO c. OTHER",
              COL_M, r[5], COL_R, r[9]),
        _cell("11. INSURED'S POLICY GROUP OR FECA NUMBER", COL_R, r[5], RIGHT, r[6]),
        _cell("a. OTHER INSURED'S POLICY OR GROUP NUMBER", LEFT, r[6], COL_M, r[7]),
        _cell("a. INSURED'S DATE OF BIRTH / SEX", COL_R, r[6], RIGHT, r[7]),
        _cell("b. RESERVED FOR NUCC USE", LEFT, r[7], COL_M, r[8]),
        _cell("b. OTHER CLAIM ID", COL_R, r[7], RIGHT, r[8]),
        _cell("c. RESERVED FOR NUCC USE", LEFT, r[8], COL_M, r[9]),
        _cell("c. INSURANCE PLAN NAME OR PROGRAM NAME", COL_R, r[8], RIGHT, r[9]),
        _cell("d. INSURANCE PLAN NAME OR PROGRAM NAME", LEFT, r[9], COL_M, r[10]),
        _cell("10d. CLAIM CODES", COL_M, r[9], COL_R, r[10]),
        _cell("d. IS THERE ANOTHER HEALTH BENEFIT PLAN?", COL_R, r[9], RIGHT, r[10]),
        _cell("12. PATIENT'S OR AUTHORIZED PERSON'S SIGNATURE", LEFT, r[10], COL_R, r[11]),
        _cell("13. INSURED'S OR AUTHORIZED PERSON'S SIGNATURE", COL_R, r[10], RIGHT, r[11]),
        _cell("14. DATE OF CURRENT ILLNESS (QUAL)", LEFT, r[11], COL_M, r[12]),
        _cell("15. OTHER DATE (QUAL)", COL_M, r[11], COL_R, r[12]),
        _cell("16. DATES UNABLE TO WORK", COL_R, r[11], RIGHT, r[12]),
        _cell("17. REFERRING PROVIDER OR OTHER SOURCE", LEFT, r[12], COL_M, r[13]),
        _cell("17b. NPI", COL_M, r[12], COL_R, r[13]),
        _cell("18. HOSPITALIZATION DATES", COL_R, r[12], RIGHT, r[13]),
        _cell("19. ADDITIONAL CLAIM INFORMATION", LEFT, r[13], COL_R, r[14]),
        _cell("20. OUTSIDE LAB? $ CHARGES", COL_R, r[13], RIGHT, r[14]),
        _cell("21. DIAGNOSIS OR NATURE OF ILLNESS OR INJURY  Relate A-L to service line below "
              "(24E)   ICD Ind.", LEFT, r[14], COL_R, r[15]),
        _cell("22. RESUBMISSION CODE / ORIGINAL REF. NO.", COL_R, r[14], RIGHT, 151.0),
        _cell("23. PRIOR AUTHORIZATION NUMBER", COL_R, 151.0, RIGHT, r[15]),
    ]


def _line_cells() -> list[Cell]:
    cells = [_cell(COLUMN_LABELS.get(name, ""), left, _R[15], right, LINE_TOP)
             for name, (left, right) in COLUMNS.items()]
    for row in range(6):
        top = LINE_TOP + row * LINE_H
        cells.append(_cell(str(row + 1), LEFT - 5.0, top, LEFT, top + LINE_H))
        cells.append(_cell("", LEFT, top, RIGHT, top + 4.0, shaded=True))
        for left, right in COLUMNS.values():
            cells.append(_cell("", left, top + 4.0, right, top + LINE_H))
    return cells


def _lower_cells() -> list[Cell]:
    top, mid, low, bottom = LINES_BOTTOM, LINES_BOTTOM + 10.0, 256.0, 263.0
    return [
        _cell("25. FEDERAL TAX I.D. NUMBER  SSN EIN", LEFT, top, 58.0, mid),
        _cell("26. PATIENT'S ACCOUNT NO.", 58.0, top, 100.0, mid),
        _cell("27. ACCEPT ASSIGNMENT?", 100.0, top, 130.0, mid),
        _cell("28. TOTAL CHARGE", 130.0, top, 160.0, mid),
        _cell("29. AMOUNT PAID", 160.0, top, 185.0, mid),
        _cell("30. Rsvd for NUCC Use", 185.0, top, RIGHT, mid),
        _cell("31. SIGNATURE OF PHYSICIAN OR SUPPLIER", LEFT, mid, 70.0, bottom),
        _cell("32. SERVICE FACILITY LOCATION INFORMATION", 70.0, mid, COL_R, low),
        _cell("33. BILLING PROVIDER INFO & PH #", COL_R, mid, RIGHT, low),
        _cell("32a. NPI", 70.0, low, 105.0, bottom),
        _cell("32b.", 105.0, low, COL_R, bottom),
        _cell("33a. NPI", COL_R, low, 174.0, bottom),
        _cell("33b.", 174.0, low, RIGHT, bottom),
    ]


CELLS: tuple[Cell, ...] = tuple(_upper_cells() + _line_cells() + _lower_cells())


def _upper_slots() -> dict[str, Rect]:
    r = _R
    s: dict[str, Rect] = {
        "payer": _slot(121.0, 13.0, 86.0),
        "1a": _slot(COL_R + 1, r[0] + 3.2, 66.0),
        "2": _slot(LEFT + 1, r[1] + 3.2, 78.0), "3.dob": _slot(COL_M + 1, r[1] + 3.2, 24.0),
        "4": _slot(COL_R + 1, r[1] + 3.2, 66.0),
        "5.street": _slot(LEFT + 1, r[2] + 3.2, 78.0),
        "7.street": _slot(COL_R + 1, r[2] + 3.2, 66.0),
        "5.city": _slot(LEFT + 1, r[3] + 3.2, 60.0), "5.state": _slot(LEFT + 66, r[3] + 3.2, 12.0),
        "7.city": _slot(COL_R + 1, r[3] + 3.2, 50.0),
        "7.state": _slot(COL_R + 54, r[3] + 3.2, 12.0),
        "5.zip": _slot(LEFT + 1, r[4] + 3.2, 30.0), "7.zip": _slot(COL_R + 1, r[4] + 3.2, 30.0),
        "11": _slot(COL_R + 1, r[5] + 3.2, 66.0),
        "11a.dob": _slot(COL_R + 1, r[6] + 3.2, 24.0),
        "11c": _slot(COL_R + 1, r[8] + 3.2, 66.0),
        "12": _slot(LEFT + 1, r[10] + 4.5, 100.0), "13": _slot(COL_R + 1, r[10] + 4.5, 66.0),
        "14.qual": _slot(LEFT + 1, r[11] + 3.2, 10.0), "14": _slot(LEFT + 14, r[11] + 3.2, 30.0),
        "15.qual": _slot(COL_M + 1, r[11] + 3.2, 10.0), "15": _slot(COL_M + 14, r[11] + 3.2, 30.0),
        "17.qual": _slot(LEFT + 1, r[12] + 3.2, 8.0), "17": _slot(LEFT + 10, r[12] + 3.2, 68.0),
        "17b": _slot(COL_M + 12, r[12] + 3.2, 36.0),
        "21.ind": _slot(COL_R - 8.0, r[14] + 0.3, 6.0, 3.2),
        "22.code": _slot(COL_R + 1, r[14] + 3.6, 14.0),
        "22.original": _slot(COL_R + 20, r[14] + 3.6, 46.0),
        "23": _slot(COL_R + 1, 151.0 + 3.6, 66.0),
    }
    s.update(_checks("1", ("medicare", "medicaid", "tricare", "champva", "group", "feca",
                           "other"), LEFT + 1, r[0] + 3.8, 18.0))
    s.update(_checks("3", ("sex_m", "sex_f"), COL_M + 32, r[1] + 3.8, 9.0))
    s.update(_checks("6", ("self", "spouse", "child", "other"), COL_M + 1, r[2] + 3.8, 12.5))
    s.update(_checks("11a", ("sex_m", "sex_f"), COL_R + 36, r[6] + 3.8, 12.0))
    for i, letter in enumerate("ABCDEFGHIJKL"):
        row, col = divmod(i, 4)
        s[f"21.{letter}"] = _slot(LEFT + 1 + col * 33.0 + 4.0, r[14] + 4.5 + row * 4.4, 28.0,
                                  4.2)
    return s


def _line_slots() -> dict[str, Rect]:
    s: dict[str, Rect] = {}
    for row in range(1, 7):
        top = LINE_TOP + (row - 1) * LINE_H + 4.5
        for name, (left, right) in COLUMNS.items():
            s[f"{name}.{row}"] = _slot(left + 0.6, top, right - left - 1.2, 5.0)
    return s


def _lower_slots() -> dict[str, Rect]:
    top, mid, low = LINES_BOTTOM, LINES_BOTTOM + 10.0, 256.0
    s = {
        "25": _slot(LEFT + 1, top + 4.5, 29.0), "26": _slot(59.0, top + 4.5, 40.0),
        "28": _slot(131.0, top + 4.5, 28.0), "31": _slot(LEFT + 1, mid + 9.0, 60.0),
        "31.date": _slot(LEFT + 1, mid + 15.0, 30.0),
        "33.name": _slot(COL_R + 1, mid + 3.5, 66.0),
        "33.street": _slot(COL_R + 1, mid + 8.0, 66.0),
        "33.city": _slot(COL_R + 1, mid + 12.5, 66.0),
        "33a": _slot(COL_R + 10, low + 1.5, 23.0),
        "page": _slot(150.0, 264.5, 58.0),
    }
    s.update(_checks("25", ("ssn", "ein"), 38.0, top + 4.8, 9.5))
    s.update(_checks("27", ("yes", "no"), 101.0, top + 4.8, 12.0))
    return s


SLOTS = MappingProxyType({**_upper_slots(), **_line_slots(), **_lower_slots()})

#: Letters printed before each box 21 diagnosis slot.
DIAGNOSIS_CAPTIONS = MappingProxyType({f"21.{letter}": f"{letter}." for letter in "ABCDEFGHIJKL"})

#: Small printed captions beside checkboxes, so a reader knows which box is which.
CHECK_CAPTIONS = MappingProxyType({
    "1.medicare": "Medicare", "1.medicaid": "Medicaid", "1.tricare": "TRICARE",
    "1.champva": "CHAMPVA", "1.group": "Group", "1.feca": "FECA", "1.other": "Other",
    "3.sex_m": "M", "3.sex_f": "F", "6.self": "Self", "6.spouse": "Spouse", "6.child": "Child",
    "6.other": "Other", "11a.sex_m": "M", "11a.sex_f": "F", "25.ssn": "SSN", "25.ein": "EIN",
    "27.yes": "YES", "27.no": "NO",
})
