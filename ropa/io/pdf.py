"""The Article 30 record as a PDF, in pure Python: fpdf2, with Fira Sans from PyPI so that
text in every EU language prints (Latin, Greek and Cyrillic letters). The cover, an index of
activities linking to their pages, one page (or more) per activity, then the processor
record and the transfers and retention annexes; A4, page numbers, PDF metadata (title,
author = the controller, creation date).

The activity pages come from the same declarations as the workbook's `Activity pages`
sheet (:func:`ropa.io.article30.activity_page`); the annexes from its sheets.
"""

from __future__ import annotations

from collections.abc import Iterable
from math import ceil
from pathlib import Path
from typing import Any

from ropa.io.article30 import (
    DETAILS,
    PROCESSOR,
    TITLE,
    Sheet,
    activity_page,
    page_text,
    record_rows,
)
from ropa.io.record_cells import Cover, RecordBuilder

FONT = "Fira"
BODY = 9.5  # points
LINE = 4.6  # mm, a line of body text
LABEL_SHARE = 0.32  # of the text width, for the labels of the activity pages
ANNEXES = ("Transfers", "Retention")
MARGIN = 15  # mm


def _fpdf_class() -> type:
    from fpdf import FPDF

    class RecordPDF(FPDF):
        """Pages with the controller and the current activity in the header, and "page X of
        Y" in the footer."""

        controller = ""
        running = ""  # what the page is about: an activity, an annex

        fresh = False  # the current page is empty and may take the next activity

        def header(self) -> None:
            pass  # drawn with the footer, when the page's activity is known

        def footer(self) -> None:
            self.set_font(FONT, "", 7.5)
            self.set_text_color(90, 90, 90)
            half = self.epw / 2
            if self.page_no() > 1:
                self.set_xy(self.l_margin, 8)
                self.cell(half, 4, self.controller[:90])
                self.cell(half, 4, self.running[:90], align="R")
            self.set_xy(self.l_margin, -12)
            self.cell(half, 4, TITLE)
            self.cell(half, 4, f"Page {self.page_no()} of {{nb}}", align="R")
            self.set_text_color(0, 0, 0)

    return RecordPDF


def _new_pdf(cover: Cover) -> Any:
    from fontpkg_fira_sans import ROOT

    pdf = _fpdf_class()(orientation="portrait", unit="mm", format="A4")
    # Static fonts: instancing a variable font (Noto Sans) took 12 s per style.
    pdf.add_font(FONT, "", ROOT / "files" / "FiraSans-Regular.ttf")
    pdf.add_font(FONT, "B", ROOT / "files" / "FiraSans-Bold.ttf")
    pdf.set_margins(MARGIN, 16, MARGIN)
    pdf.set_auto_page_break(True, margin=16)
    names = "; ".join(c["name"] for c in cover.controllers)
    pdf.controller = names
    pdf.set_title(TITLE)
    pdf.set_author(names or "ropa")
    pdf.set_subject(cover.scope)
    pdf.set_creator(f"ropa {cover.version}")
    pdf.set_creation_date(cover.generated_at)
    pdf.set_lang("en")
    return pdf


def _new_page(pdf: Any, orientation: str = "portrait") -> None:
    if pdf.fresh and orientation == "portrait":
        pdf.fresh = False
        return
    pdf.add_page(orientation=orientation)


def _cover(pdf: Any, cover: Cover) -> None:
    pdf.add_page()
    pdf.set_font(FONT, "B", 18)
    pdf.multi_cell(0, 9, TITLE, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    for label, value in cover.rows():
        _field(pdf, label, value or "—")


def _lines(pdf: Any, text: str, width: float) -> int:
    """About how many lines a text wraps to in the current font (an estimate, at a small
    fraction of the cost of laying the text out)."""
    usable = width - 2 * pdf.c_margin
    return sum(max(1, ceil(pdf.get_string_width(part) / usable)) for part in text.split("\n"))


def _text(pdf: Any, width: float, text: str, lines: int, **where: str) -> None:
    """Text in a column: one line as a plain cell (cheap), more wrapped."""
    if lines == 1:
        pdf.cell(width, LINE, text, **where)
    else:
        pdf.multi_cell(width, LINE, text, align="L", **where)


def _field(pdf: Any, label: str, value: str) -> None:
    """A label/value row; the value wraps, and goes on to the next page when it must."""
    label_width = pdf.epw * LABEL_SHARE - 2
    value_width = pdf.epw * (1 - LABEL_SHARE)
    pdf.set_font(FONT, "B", BODY)
    label_lines = _lines(pdf, label, label_width)
    pdf.set_font(FONT, "", BODY)
    value_lines = _lines(pdf, value, value_width)
    height = LINE * max(value_lines, label_lines) + 1.6
    if pdf.get_y() + min(height, 60) > pdf.page_break_trigger:
        pdf.add_page()
    top, page = pdf.get_y(), pdf.page
    pdf.set_draw_color(210, 218, 232)
    pdf.line(pdf.l_margin, top, pdf.l_margin + pdf.epw, top)
    pdf.set_xy(pdf.l_margin + label_width + 2, top + 0.8)
    _text(pdf, value_width, value, value_lines, new_x="LMARGIN", new_y="NEXT")
    value_end, value_page = pdf.get_y(), pdf.page
    pdf.page = page
    pdf.set_xy(pdf.l_margin, top + 0.8)
    pdf.set_font(FONT, "B", BODY)
    _text(pdf, label_width, label, label_lines, new_x="LMARGIN", new_y="NEXT")
    label_end = pdf.get_y()
    pdf.page = value_page
    end = value_end if value_page != page else max(value_end, label_end)
    pdf.set_y(end + 0.8)


def _index(pdf: Any, sections: list) -> None:
    """The index, drawn when the document is finished (the pages are known then)."""
    pdf.set_text_color(0, 0, 0)
    for section in sections:
        if section.level != 0:
            continue
        pdf.set_font(FONT, "", BODY)
        link = pdf.add_link(page=section.page_number)
        pdf.cell(pdf.epw - 16, 5, section.name[:110], link=link)
        pdf.cell(16, 5, str(section.page_number), align="R", new_x="LMARGIN", new_y="NEXT")


def _activity(pdf: Any, sheet: Sheet, row: list) -> None:
    page = activity_page(sheet, row)
    _new_page(pdf)
    pdf.running = page.title  # after the page break: the last page's footer names its own
    pdf.start_section(page.title)
    pdf.set_font(FONT, "B", 14)
    pdf.multi_cell(0, 7, page.title, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 8.5)
    pdf.set_text_color(68, 84, 106)
    pdf.cell(0, 5, page.record, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    for heading, fields in page.sections:
        if pdf.get_y() + 16 > pdf.page_break_trigger:
            pdf.add_page()
        pdf.ln(2)
        pdf.set_font(FONT, "B", 10.5)
        pdf.set_text_color(31, 56, 100)
        pdf.multi_cell(0, 5.5, heading, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        for label, value in fields:
            _field(pdf, label, value)


def _annex(pdf: Any, sheet: Sheet, rows: list[list], heading: str) -> None:
    """A table of the record on landscape pages, its header row repeated on each page."""
    _new_page(pdf, "landscape")
    pdf.running = heading
    pdf.start_section(heading)
    pdf.set_font(FONT, "B", 14)
    pdf.cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
    if not rows:
        pdf.set_font(FONT, "", BODY)
        pdf.cell(0, 6, "None recorded.", new_x="LMARGIN", new_y="NEXT")
        return
    pdf.set_font(FONT, "", 7.5)
    total = sum(sheet.widths)
    widths = tuple(w / total * pdf.epw for w in sheet.widths)
    with pdf.table(
        col_widths=widths,
        line_height=3.6,
        first_row_as_headings=True,
        repeat_headings=1,
        text_align="LEFT",
        headings_style=_heading_style(),
    ) as table:
        table.row(sheet.headers)
        for row in rows:
            table.row(["" if v is None else page_text(v) for v in row])


def _heading_style() -> Any:
    from fpdf.fonts import FontFace

    return FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=(31, 56, 100))


def write_record_pdf(
    path: Path,
    cover: Cover,
    builder: RecordBuilder,
    activities: Iterable[dict],
    sheets: tuple[str, ...] = ("controller", "processor"),
) -> list[str]:
    """Write the record as a PDF; returns warnings (none: a PDF page holds any text)."""
    pdf = _new_pdf(cover)
    _cover(pdf, cover)
    pdf.running = "Index"
    pdf.add_page()
    pdf.set_font(FONT, "B", 14)
    pdf.cell(0, 8, "Index of processing activities", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    # The index is drawn here once the pages are known, on as many pages as it needs; the
    # page after it is left empty for the first activity.
    pdf.insert_toc_placeholder(_index, pages=1, allow_extra_pages=True)
    pdf.fresh = True
    annexes: dict[str, list[list]] = {PROCESSOR.name: []}
    annexes.update({name: [] for name in ANNEXES})
    details = {s.name: s for s in DETAILS if s.name in ANNEXES}
    for sheet, row in record_rows(builder, activities, tuple(sheets), details=ANNEXES):
        if sheet.name in details:
            annexes[sheet.name].append(row)
            continue
        _activity(pdf, sheet, row)
        if sheet.name == PROCESSOR.name:
            annexes[PROCESSOR.name].append(row)
    if "processor" in sheets:
        _annex(pdf, PROCESSOR, annexes[PROCESSOR.name], PROCESSOR.heading)
    for name in ANNEXES:
        _annex(pdf, details[name], annexes[name], f"Annex: {name}")
    pdf.output(str(path))
    return []
