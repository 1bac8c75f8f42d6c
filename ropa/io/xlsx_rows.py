"""Data rows rendered straight into an XlsxWriter worksheet in constant-memory mode.

XlsxWriter spends about 12 µs per cell in generic code (a cell object, an attribute list, a
dispatch on the cell's class) before it writes the cell's XML; the Article 30 record of
100,000 activities has 13 million cells. Our data rows hold only text, whole numbers and
dates in a few shared formats, so :class:`RowStream` renders each row's XML with one string
join and appends it to the worksheet's row file, the file XlsxWriter itself streams rows to
in constant-memory mode, some 64K characters at a time. The record's writers
(`xlsx_record`, `xlsx_pages`) render their rows themselves, the same way, with the parts of a
cell that do not change from row to row worked out once, and hand them to
:meth:`RowStream.rendered`. Everything else (header rows, column widths, panes, filters, print
set-up, styles, the package) is still XlsxWriter's, through its public API.

This leans on five XlsxWriter internals, each a small stable part of its constant-memory
design since 2013 (`_write_single_row`, `row_data_fh`, `_check_dimensions`,
`Format._get_xf_index`, and the worksheet's `merge` list, which a streamed row's merged cells
join: `merge_range` would write the cell a second time); tests open the workbooks with
openpyxl and LibreOffice reads them, so a change there shows.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from ropa.io.safe_csv import FORMULA_STARTS

LINE_HEIGHT = 12.75  # points per line of 10-point text
CUT_MARK = " … [text cut here]"  # ends a cell whose text was cut to fit
MAX_HEIGHT = 409  # the tallest row a spreadsheet allows
_EXCEL_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")  # Excel reads "_x0041_" as "A"
EPOCH = date(1899, 12, 30).toordinal()  # Excel's day 0 (for dates after February 1900)
PRESERVE = ' xml:space="preserve"'  # on a text that starts or ends with white space
#: The first characters of a text a spreadsheet could take for a formula: such a cell gets
#: the quote-prefix style (each of FORMULA_STARTS is one character, so a set lookup will do).
FORMULA_FIRST = frozenset(FORMULA_STARTS)
#: Rendered rows are written to the row file once they hold this many characters.
BATCH_CHARS = 1 << 16
#: The rows a sheet holds. Past them XlsxWriter writes the sheet with no rows at all.
MAX_ROWS = 1_048_576


def xml_text(text: str) -> str:
    """Text as the content of an inline string: XML-escaped, and Excel's own `_xHHHH_`
    escapes escaped (as XlsxWriter does), so the cell shows exactly `text`."""
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "_x" in text:
        text = _EXCEL_ESCAPE.sub(r"_x005F\1", text)
    return text


def wrapped_lines(text: str, width: float) -> int:
    """How many lines a text wraps to in a column `width` characters wide."""
    usable = max(int(width) - 1, 1)
    if "\n" not in text:
        return -(-len(text) // usable) or 1
    return sum([-(-len(line) // usable) or 1 for line in text.split("\n")])


def row_height(lines: int) -> float:
    """The height in points of a row showing `lines` lines (spreadsheet programs do not
    grow rows for wrapped text on their own, so rows are given their height)."""
    return min(MAX_HEIGHT, lines * LINE_HEIGHT + 3)


def scratch_folder() -> Any:
    """A private folder for XlsxWriter's row files (constant-memory mode), a
    `tempfile.TemporaryDirectory`: XlsxWriter removes them only when the workbook is closed,
    so a stopped export left a dozen in the temporary folder. The folder goes with its
    object (`cleanup()`, else its finalizer, at exit at the latest), however the export
    ended."""
    import tempfile

    return tempfile.TemporaryDirectory(prefix="ropa-xlsx-")


class RowStream:
    """Appends data rows to a constant-memory worksheet, from row `first_row` (0-based) on;
    the rows above must have been written through XlsxWriter before. A row past the sheet's
    last (:data:`MAX_ROWS`) is refused with a RopaError, which `instead` ends (what to export
    instead): XlsxWriter would write the sheet with no rows, or with rows no reader takes."""

    def __init__(self, sheet: Any, first_row: int, columns: int, instead: str = ""):
        from xlsxwriter.utility import xl_col_to_name

        sheet._write_single_row(first_row)  # flush XlsxWriter's buffered header row
        self.sheet = sheet
        self.first_row = first_row
        self.instead = instead
        self.out = sheet.row_data_fh
        self.columns = columns
        self.letters = [xl_col_to_name(c) for c in range(columns)]
        self.last_row: int | None = None
        # Rendered rows wait here and reach the row file together: one write (and one
        # encoding) per batch costs far less than one per row.
        self.pending: list[str] = []
        self.pending_chars = 0

    @staticmethod
    def style(fmt: Any) -> str:
        """The `s` attribute of cells in an XlsxWriter format."""
        return str(fmt._get_xf_index())

    def text(self, col: int, row: str, style: str, text: str) -> str:
        """An inline-string cell; `row` is the 1-based row number as text."""
        space = PRESERVE if text[0].isspace() or text[-1].isspace() else ""
        return (
            f'<c r="{self.letters[col]}{row}" s="{style}" t="inlineStr">'
            f"<is><t{space}>{xml_text(text)}</t></is></c>"
        )

    def number(self, col: int, row: str, style: str | None, value: int | float) -> str:
        styled = f' s="{style}"' if style else ""
        return f'<c r="{self.letters[col]}{row}"{styled}><v>{value}</v></c>'

    def date(self, col: int, row: str, style: str, value: date) -> str:
        return self.number(col, row, style, value.toordinal() - EPOCH)

    def row(self, row: int, cells: list[str], height: float | None = None) -> None:
        """Write row `row` (0-based) with its rendered cells, as tall as `height` points."""
        tall = f' ht="{height}" customHeight="1"' if height else ""
        self.rendered(f'<row r="{row + 1}"{tall}>{"".join(cells)}</row>', row)

    def rendered(self, xml: str, last_row: int) -> None:
        """Write rows rendered whole (their `<row>` elements), the last of them `last_row`."""
        if last_row >= MAX_ROWS:
            from ropa.errors import RopaError

            raise RopaError(
                f"{self.sheet.name}: more rows than a sheet holds ({MAX_ROWS:,}); nothing was "
                f"written{self.instead}"
            )
        self.pending.append(xml)
        self.pending_chars += len(xml)
        self.last_row = last_row
        if self.pending_chars > BATCH_CHARS:
            self.flush()

    def flush(self) -> None:
        """Write the rows waiting to the worksheet's row file."""
        self.out.write("".join(self.pending))
        self.pending.clear()
        self.pending_chars = 0

    def finish(self) -> None:
        """Write the rows still waiting, and tell the worksheet how far its data reaches (its
        `<dimension>`)."""
        self.flush()
        if self.last_row is not None:  # from the first row streamed (above it: XlsxWriter's)
            self.sheet._check_dimensions(self.first_row, 0)
            self.sheet._check_dimensions(self.last_row, self.columns - 1)
