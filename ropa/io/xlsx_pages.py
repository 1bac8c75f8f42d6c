"""The `Activity pages` sheet of the record workbook: every activity as a printable page,
label and value, the way an authority reads a record (CNIL's "fiche de registre").

A4 portrait, one page wide at full size, a manual page break before every activity after the first.
Rows stream through :class:`~ropa.io.xlsx_rows.RowStream` like the other sheets.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import Any

from ropa.io import xlsx_rows
from ropa.io.article30 import ActivityPage
from ropa.io.xlsx_rows import (
    CUT_MARK,
    FORMULA_FIRST,
    MAX_HEIGHT,
    PRESERVE,
    RowStream,
    row_height,
    wrapped_lines,
    xml_text,
)
from ropa.validate import MAX_TEXT

SHEET = "Activity pages"
# 22 + 46 characters fit the width of A4 portrait at 100 % even in a wide fallback font, so
# 10-point text prints at 10 points (fitting to the page width shrank it to 6.4 points in
# LibreOffice).
LABEL_WIDTH = 22
VALUE_WIDTH = 46
#: The page's title (the activity's name, at 14 points bold) spans both columns and wraps;
#: its row is as tall as :func:`title_lines` says, each line this many points.
TITLE_LINE = 18.5
#: How wide a character prints, against a lowercase letter (DejaVu Sans Bold, the widest font
#: a spreadsheet program falls back to: Calibri's are narrower), and how wide a title's line
#: is in those units: LibreOffice fits 50.3 of them on a line and breaks at 52.5.
_WIDTHS = {" ": 0.55, "i": 0.47, "l": 0.47, "j": 0.47, "I": 0.5, ",": 0.5, ".": 0.5, "f": 0.6,
           "t": 0.67, "r": 0.7, "(": 0.6, ")": 0.6, "-": 0.6, "s": 0.9, "w": 1.4, "m": 1.66,
           "M": 1.47, "W": 1.69}  # fmt: skip
_TITLE_UNITS = 48.0
#: Excel keeps at most this many manual page breaks on a sheet (XlsxWriter drops the rest).
MAX_PAGE_BREAKS = 1023


@cache
def _tall(lines: int) -> str:
    """The height attributes of a row of `lines` lines."""
    return f' ht="{row_height(lines)}" customHeight="1"'


def _width(text: str) -> float:
    return sum(_WIDTHS.get(c) or _char_width(c) for c in text)


def _char_width(c: str) -> float:
    """A character's width, against a lowercase letter (see :data:`_WIDTHS`): Chinese,
    Japanese and Korean letters and other wide forms print about two letters wide."""
    if not c.isascii() and unicodedata.east_asian_width(c) in ("W", "F"):
        return 1.9
    return 1.2 if c.isupper() else 1.09 if c.isdigit() else 1.0


def title_lines(title: str) -> int:
    """How many lines a page's title wraps to, word by word as a spreadsheet program wraps
    it (a word wider than the line broken where it must), erring on the side of one more:
    the row's height is fixed, and a line past it is not printed."""
    lines, used = 1, 0.0
    for word in title.split(" "):
        wide = _width(word)
        if used and used + _WIDTHS[" "] + wide > _TITLE_UNITS:
            lines, used = lines + 1, 0.0
        elif used:
            used += _WIDTHS[" "]
        while wide > _TITLE_UNITS:  # a word wider than the line: broken across lines
            lines, wide = lines + 1, wide - _TITLE_UNITS
        used += wide
    return lines


def _header_text(text: str) -> str:
    """Text for a print header: `&` is a code there, and the header holds 255 characters."""
    return text.replace("&", "&&")[:120]


class ActivityPagesSheet:
    """The sheet being streamed, one activity page at a time."""

    def __init__(self, book: Any, controllers: list[str]):
        self.sheet = sheet = book.add_worksheet(SHEET)
        sheet.set_column(0, 0, LABEL_WIDTH)
        sheet.set_column(1, 1, VALUE_WIDTH)
        sheet.set_portrait()
        sheet.set_paper(9)  # A4
        sheet.set_print_scale(100)
        sheet.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.7)
        who = _header_text("; ".join(controllers)) or "Record of processing activities"
        sheet.set_header(f"&L{who}&RRecord of processing activities (Art. 30)")
        sheet.set_footer("&L&A&RPage &P of &N")
        base = {"text_wrap": True, "valign": "top", "font_size": 10}
        self.styles = {
            name: RowStream.style(book.add_format(fmt))
            for name, fmt in {
                "title": {"bold": True, "font_size": 14, "valign": "top", "text_wrap": True},
                "title escaped": {
                    "bold": True,
                    "font_size": 14,
                    "valign": "top",
                    "text_wrap": True,
                    "quote_prefix": True,
                },
                "record": {"italic": True, "font_size": 10, "font_color": "#44546A"},
                # Not wrapped, and alone on its row: the heading runs on into the value column.
                "section": {"bold": True, "font_size": 11, "font_color": "#1F3864"},
                "label": {**base, "bold": True},
                "value": base,
                "escaped": {**base, "quote_prefix": True},
            }.items()
        }
        self.rows = RowStream(sheet, 0, 2)
        self.row = 0
        self.breaks: list[int] = []
        self.pages = 0
        self.left_out: list[str] = []  # the keys of the activities past the sheet's last row
        self.cut: list[str] = []
        #: The rendered rest (after the row number) of cells whose text recurs on every page
        #: (headings, labels), by style and text; a label's entry also holds its line count.
        self.fixed: dict[tuple[str, str], tuple[str, int]] = {}

    def _cell(self, style: str, text: str, number: str) -> str:
        """A cell after its reference's row number: `" s=…>…</c>`; overlong text is cut."""
        if len(text) > MAX_TEXT:
            self.cut.append(
                f"{SHEET}!B{number}: {len(text)} characters, cut to {MAX_TEXT}; the full "
                "text is in the registry document"
            )
            text = text[: MAX_TEXT - len(CUT_MARK)] + CUT_MARK
        space = PRESERVE if text[0].isspace() or text[-1].isspace() else ""
        return (
            f'" s="{self.styles[style]}" t="inlineStr"><is><t{space}>{xml_text(text)}</t></is></c>'
        )

    def _fixed(self, style: str, text: str, number: str) -> tuple[str, int]:
        """A recurring cell (as :meth:`_cell`), and how many lines its text takes as a label."""
        found = self.fixed.get((style, text))
        if found is None:
            found = (self._cell(style, text, number), wrapped_lines(text, LABEL_WIDTH))
            if len(text) <= MAX_TEXT:  # a cut text is reported on every row it is on
                self.fixed[style, text] = found
        return found

    def write(self, page: ActivityPage) -> None:
        """Append the page of one activity, after a page break unless it is the first; a
        page that would pass the sheet's last row is left out, and so are those after it (see
        :meth:`finish`)."""
        if self.left_out:
            self.left_out.append(page.key)
            return
        row, cut = self.row, len(self.cut)
        number = str(row + 1)
        title = "title escaped" if page.title[0] in FORMULA_FIRST else "title"
        high = min(MAX_HEIGHT, title_lines(page.title) * TITLE_LINE + 4)
        rows = [
            f'<row r="{number}" ht="{high}" customHeight="1"><c r="A{number}'
            f"{self._cell(title, page.title, number)}</row>"
        ]
        row += 1
        number = str(row + 1)
        cell = self._fixed("record", page.record, number)[0]
        rows.append(f'<row r="{number}"><c r="A{number}{cell}</row>')
        for heading, fields in page.sections:
            row += 1
            number = str(row + 1)
            cell = self._fixed("section", heading, number)[0]
            rows.append(f'<row r="{number}" ht="20" customHeight="1"><c r="A{number}{cell}</row>')
            for label, value in fields:
                row += 1
                number = str(row + 1)
                label_cell, lines = self._fixed("label", label, number)
                if "\n" in value or len(value) >= VALUE_WIDTH:
                    lines = max(lines, wrapped_lines(value, VALUE_WIDTH))
                style = "escaped" if value[0] in FORMULA_FIRST else "value"
                rows.append(
                    f'<row r="{number}"{_tall(lines)}><c r="A{number}{label_cell}'
                    f'<c r="B{number}{self._cell(style, value, number)}</row>'
                )
        if row >= xlsx_rows.MAX_ROWS:
            self.left_out.append(page.key)
            del self.cut[cut:]  # about cells now not written
            return
        if self.pages:
            self.breaks.append(self.row)
        self.pages += 1
        # The title's cell is merged with the one beside it, so that a long name wraps across
        # the page's width (unwrapped, it ran on past the page's edge and was lost in print).
        self.sheet.merge.append([self.row, 0, self.row, 1])
        self.rows.rendered("".join(rows), row)
        self.row = row + 1

    def finish(self) -> list[str]:
        """Close the sheet; warnings about anything the format could not hold."""
        self.rows.finish()
        self.sheet.set_h_pagebreaks(self.breaks[:MAX_PAGE_BREAKS])
        warnings = list(self.cut)
        pdf = "`ropa export pdf` gives every activity its own page"
        if len(self.breaks) > MAX_PAGE_BREAKS:
            warnings.append(
                f"{SHEET}: a spreadsheet holds {MAX_PAGE_BREAKS} page breaks, so activities "
                f"after the {MAX_PAGE_BREAKS + 1}th do not start a new printed page; {pdf}"
            )
        if self.left_out:
            count, keys = len(self.left_out), self.left_out
            which = keys[0] if count == 1 else f"{keys[0]} … {keys[-1]}"
            warnings.append(
                f"{SHEET}: a sheet holds {xlsx_rows.MAX_ROWS:,} rows, so {count:,} "
                f"activit{'y' if count == 1 else 'ies'} ({which}) "
                f"{'has' if count == 1 else 'have'} no page here; {pdf}"
            )
        return warnings
