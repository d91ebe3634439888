"""Draw CMS-1500 pages as PDF bytes with fpdf2 (offline): our own grid, text in its boxes.

This module only draws. What goes in which box is :mod:`rehabill.forms.cms1500`; where each box
is, :mod:`rehabill.forms.layout`. Text is Courier (as forms are printed for OCR) and shrinks to
fit its slot; nothing spills into a neighbouring box.
"""

from __future__ import annotations

from collections.abc import Iterable

from fpdf import FPDF

from rehabill.domain.claim import Claim
from rehabill.forms.cms1500 import FormPage, form_pages
from rehabill.forms.layout import (
    CELLS,
    CHECK_CAPTIONS,
    DIAGNOSIS_CAPTIONS,
    LEFT,
    PAGE_H,
    RIGHT,
    SLOTS,
    Rect,
)

INK = (170, 30, 30)      # the form's red, for rules and labels
SHADE = (251, 230, 230)  # the shaded upper half of each service line
TEXT_SIZE = 9.0
MIN_TEXT_SIZE = 5.0


def render_pdf(claims: Iterable[Claim]) -> bytes:
    """One PDF holding every page of every claim.

    Args:
        claims: coded claims.

    Returns:
        The PDF document's bytes.
    """
    pdf = FPDF(orientation="portrait", unit="mm", format="letter")
    pdf.set_auto_page_break(False)
    pdf.set_title("CMS-1500 (02/12) claims")
    pdf.set_creator("rehabill")
    for claim in claims:
        for page in form_pages(claim):
            _draw_page(pdf, page)
    if pdf.page == 0:
        pdf.add_page()
    return bytes(pdf.output())


def _draw_page(pdf: FPDF, page: FormPage) -> None:
    pdf.add_page()
    _draw_grid(pdf)
    pdf.set_text_color(0, 0, 0)
    for key, text in page.fields:
        slot = SLOTS.get(key)
        if slot is not None and text:
            _put(pdf, slot, text, centred=key in CHECK_CAPTIONS)


def _draw_grid(pdf: FPDF) -> None:
    pdf.set_draw_color(*INK)
    pdf.set_text_color(*INK)
    pdf.set_line_width(0.2)
    pdf.set_font("Helvetica", "B", 11)
    pdf.text(LEFT, 14.0, "HEALTH INSURANCE CLAIM FORM")
    pdf.set_font("Helvetica", "", 6)
    pdf.text(LEFT, 18.0, "APPROVED BY NATIONAL UNIFORM CLAIM COMMITTEE (NUCC) 02/12")
    pdf.text(LEFT, 22.0, "Printed by rehabill: our own drawing of the 1500 layout.")
    for cell in CELLS:
        r = cell.rect
        if cell.shaded:
            pdf.set_fill_color(*SHADE)
            pdf.rect(r.x, r.y, r.w, r.h, style="DF")
        else:
            pdf.rect(r.x, r.y, r.w, r.h)
        if cell.label:
            pdf.set_font("Helvetica", "", 4.6)
            pdf.text(r.x + 0.6, r.y + 1.9, _fit_label(pdf, cell.label, r.w - 1.0))
    pdf.set_font("Helvetica", "", 4.6)
    for key, caption in CHECK_CAPTIONS.items():
        box = SLOTS[key]
        pdf.rect(box.x, box.y, box.w, box.h)
        pdf.text(box.x + box.w + 0.6, box.y + box.h - 0.8, caption)
    pdf.set_font("Helvetica", "", 6)
    for key, caption in DIAGNOSIS_CAPTIONS.items():
        box = SLOTS[key]
        pdf.text(box.x - 3.5, box.y + box.h - 1.0, caption)
    pdf.set_line_width(0.5)
    pdf.line(LEFT, 28.0, RIGHT, 28.0)
    pdf.set_font("Helvetica", "", 5)
    pdf.text(LEFT, PAGE_H - 12.0, "NUCC Instruction Manual available at: www.nucc.org")
    pdf.text(LEFT, PAGE_H - 8.0, "PLEASE PRINT OR TYPE")


def _fit_label(pdf: FPDF, label: str, width: float) -> str:
    while label and pdf.get_string_width(label) > width:
        label = label[:-1]
    return label


def _put(pdf: FPDF, slot: Rect, text: str, centred: bool) -> None:
    """Write ``text`` inside ``slot``, shrinking the font (then cutting) until it fits."""
    size = min(TEXT_SIZE, slot.h * 2.4)
    pdf.set_font("Courier", "B" if centred else "", size)
    while pdf.get_string_width(text) > slot.w and size > MIN_TEXT_SIZE:
        size -= 0.5
        pdf.set_font("Courier", "B" if centred else "", size)
    while text and pdf.get_string_width(text) > slot.w:
        text = text[:-1]
    height_mm = size * 25.4 / 72
    x = slot.x + (slot.w - pdf.get_string_width(text)) / 2 if centred else slot.x
    baseline = slot.y + (slot.h + height_mm * 0.7) / 2
    pdf.text(x, baseline, text)
