"""CMS-1500: the field mapping, the layout's geometry, and text landing in its boxes in the PDF."""

from __future__ import annotations

from datetime import date
from itertools import combinations

import pypdfium2 as pdfium
import pytest

from rehabill.domain import Claim, Frequency
from rehabill.forms.cms1500 import form_pages
from rehabill.forms.layout import CELLS, PAGE_H, SLOTS, Rect
from rehabill.forms.pdf import render_pdf
from tests.x12.helpers import COMMERCIAL, SPOUSE, claim_for, visit

MM = 72 / 25.4
EIGHT_LINES = "97530=25 97110=10/13 97161 97112=30 97140=15 97116=20 97535=15 97150"


def long_claim() -> Claim:
    return claim_for(visit(EIGHT_LINES, onset_date=date(2026, 1, 15)), Frequency.REPLACEMENT,
                     "ORIG-77")


def text_in(page: pdfium.PdfPage, slot: Rect) -> str:
    """The text pdfium finds inside ``slot`` (mm from the top-left) on ``page``."""
    textpage = page.get_textpage()
    return str(textpage.get_text_bounded(
        left=slot.x * MM, right=(slot.x + slot.w) * MM,
        top=(PAGE_H - slot.y) * MM, bottom=(PAGE_H - slot.y - slot.h) * MM)).strip()


def test_form_pages__six_lines_a_page_and_total_on_the_last() -> None:
    pages = form_pages(long_claim())
    assert [(p.number, p.of) for p in pages] == [(1, 2), (2, 2)]
    assert pages[0].get("24D.6") == "97116" and pages[0].get("24D.1") == "97530"
    assert pages[1].get("24D.1") == "97535" and pages[1].get("24D.3") == ""
    assert pages[0].get("28") == "CONTINUED"
    assert pages[1].get("28") == "387.75"


def test_form_pages__boxes_for_a_dependent_on_a_commercial_plan() -> None:
    [page] = form_pages(claim_for(visit(patient=SPOUSE, coverage=COMMERCIAL)))
    assert page.get("1.group") == "X" and page.get("1.medicare") == ""
    assert page.get("2") == "LEE, ELLA" and page.get("4") == "LEE, MARK"
    assert page.get("6.spouse") == "X" and page.get("11") == "GRP100"
    assert page.get("11a.dob") == "05 01 1950" and page.get("3.dob") == "07 09 1952"


def test_form_pages__pointers_become_letters_and_modifiers_split() -> None:
    [page] = form_pages(claim_for(visit("97530=25 97110=10/13")))
    assert page.get("24E.1") == "AB" and page.get("24E.2") == "A"
    assert (page.get("24D.mod1.2"), page.get("24D.mod2.2")) == ("GP", "CQ")
    assert page.get("21.A") == "I69.351" and page.get("21.ind") == "0"
    assert page.get("23") == "A123" and page.get("33a") == "1306849450"


def test_layout__every_slot_sits_inside_a_cell_and_slots_do_not_overlap() -> None:
    for key, slot in SLOTS.items():
        if key != "page":
            assert any(c.rect.contains(slot) for c in CELLS), key
    for (a, ra), (b, rb) in combinations(SLOTS.items(), 2):
        overlap_w = min(ra.x + ra.w, rb.x + rb.w) - max(ra.x, rb.x)
        overlap_h = min(ra.y + ra.h, rb.y + rb.h) - max(ra.y, rb.y)
        assert overlap_w <= 0.01 or overlap_h <= 0.01, (a, b)


@pytest.fixture(scope="module")
def document() -> pdfium.PdfDocument:
    return pdfium.PdfDocument(render_pdf([long_claim()]))


@pytest.mark.parametrize(("page", "key", "text"), [
    (0, "1a", "1EG4TE5MK73"), (0, "2", "LEE, MARK"), (0, "3.dob", "05 01 1950"),
    (0, "3.sex_m", "X"), (0, "6.self", "X"), (0, "1.medicare", "X"),
    (0, "5.street", "2 OAK ST"), (0, "5.city", "AUSTIN"), (0, "5.state", "TX"),
    (0, "14", "01 15 2026"), (0, "14.qual", "431"), (0, "15.qual", "454"),
    (0, "17b", "1457390007"), (0, "21.A", "I69.351"), (0, "21.B", "R26.89"),
    (0, "22.code", "7"), (0, "22.original", "ORIG-77"), (0, "23", "A123"),
    (0, "24A.from.1", "03 02 26"), (0, "24B.1", "11"), (0, "24D.1", "97530"),
    (0, "24D.mod1.2", "GP"), (0, "24D.mod2.2", "CQ"), (0, "24E.1", "AB"),
    (0, "24F.1", "70.50"), (0, "24G.1", "2"), (0, "24J.1", "1467560003"),
    (0, "24D.6", "97116"), (0, "25", "123456789"), (0, "25.ein", "X"), (0, "26", "V-1"),
    (0, "27.yes", "X"), (0, "28", "CONTINUED"), (0, "33.name", "RIVERSIDE REHAB"),
    (0, "33a", "1306849450"), (0, "page", "PAGE 1 OF 2"),
    (1, "24D.1", "97535"), (1, "24D.2", "97150"), (1, "24D.3", ""), (1, "28", "387.75"),
    (1, "page", "PAGE 2 OF 2"),
])
def test_pdf__text_lands_in_its_box(document: pdfium.PdfDocument, page: int, key: str,
                                    text: str) -> None:
    assert len(document) == 2
    assert text_in(document[page], SLOTS[key]) == text


def test_pdf__renders_to_a_png_with_ink_in_the_service_lines(document: pdfium.PdfDocument,
                                                             tmp_path) -> None:  # type: ignore[no-untyped-def]
    image = document[0].render(scale=1).to_pil().convert("L")
    out = tmp_path / "page1.png"
    image.save(out)
    assert out.stat().st_size > 10_000
    slot = SLOTS["24D.1"]
    box = (int(slot.x * MM), int(slot.y * MM), int((slot.x + slot.w) * MM),
           int((slot.y + slot.h) * MM))
    assert image.crop(box).getextrema()[0] < 100  # dark text pixels in box 24D, row 1


def test_pdf__empty_input_is_still_a_pdf() -> None:
    assert render_pdf([]).startswith(b"%PDF")


@pytest.mark.parametrize("module", ["cms1500.py", "layout.py"])
def test_forms__field_mapping_and_layout_are_pure(module: str) -> None:
    from tests.test_boundaries import SRC, _imports

    names = _imports(SRC / "forms" / module)
    assert all(n.split(".")[0] in ("__future__", "dataclasses", "datetime", "types")
               or n.startswith(("rehabill.domain", "rehabill.forms.layout")) for n in names)
