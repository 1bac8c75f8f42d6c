"""The Article 30 record as an xlsx workbook, written with XlsxWriter in constant-memory mode.

Rows stream into every sheet at once (each sheet keeps only its current row), so memory
stays flat with the size of the register. A handful of shared formats keeps styling cheap:
per-cell styles are only used for dates and for text that must not become a formula.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlsxwriter.utility import xl_rowcol_to_cell

from ropa.io.article30 import DETAILS, TITLE, Column, activity_page, record_rows, record_sheets
from ropa.io.record_cells import Cover, RecordBuilder
from ropa.io.safe_csv import needs_escape
from ropa.io.xlsx_pages import ActivityPagesSheet
from ropa.io.xlsx_rows import (
    CUT_MARK,
    EPOCH,
    FORMULA_FIRST,
    PRESERVE,
    RowStream,
    row_height,
    scratch_folder,
    wrapped_lines,
    xml_text,
)
from ropa.validate import MAX_TEXT

if TYPE_CHECKING:
    from ropa.checks import Finding

#: The Findings sheet's columns (made from a Finding, not an activity).
FINDING_COLUMNS = (
    Column("Rule", lambda b, f: f.rule),
    Column("Severity", lambda b, f: f.severity),
    Column("Record kind", lambda b, f: f.kind),
    Column("Record key", lambda b, f: f.key),
    Column("Name", lambda b, f: f.name),
    Column("Finding", lambda b, f: f.message),
)

#: What to export when a sheet of the record would pass a sheet's last row.
_INSTEAD = (
    ": `ropa export csv` writes the controller record, `ropa export pdf` the whole record, "
    "without that limit"
)
#: Print scale of the tables, in percent: 10-point cells print at 8 points.
PRINT_SCALE = 80
HEADER_FILL = "#1F3864"
BAND_FILL = "#D9E1F2"


class _Sheet:
    """One worksheet being streamed: header rows, then data rows; tracks column widths."""

    def __init__(
        self,
        book: Any,
        formats: dict,
        name: str,
        columns: tuple[Column, ...],
        bands: list[tuple[str, int, int]] | None = None,
        freeze_col: int = 2,
        print_scale: int = PRINT_SCALE,
    ):
        self.sheet = book.add_worksheet(name)
        self.formats = formats
        self.headers = headers = [c.header for c in columns]
        self.widths = [c.width for c in columns]
        for col, width in enumerate(self.widths):
            self.sheet.set_column(col, col, width)
        self.row = 0
        self.cut: list[str] = []
        if bands:
            for label, first, last in bands:
                if first == last:
                    self.sheet.write_string(0, first, label, formats["band"])
                else:
                    self.sheet.merge_range(0, first, 0, last, label, formats["band"])
            self.row = 1
        self.header_row = self.row
        for col, header in enumerate(headers):
            self.sheet.write_string(self.row, col, header, formats["header"])
        self.sheet.set_row(
            self.row,
            row_height(max(wrapped_lines(h, w) for h, w in zip(headers, self.widths, strict=True))),
        )
        self.row += 1
        self.sheet.freeze_panes(self.row, freeze_col)
        self.sheet.repeat_rows(0, self.header_row)
        # Printed across as many pages wide as it needs, never shrunk to one page width: the
        # activity's ID and name and the header rows repeat on every page.
        self.sheet.set_landscape()
        self.sheet.set_paper(9)  # A4
        self.sheet.set_print_scale(print_scale)
        if freeze_col:
            self.sheet.repeat_columns(0, freeze_col - 1)
        self.sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        self.sheet.set_footer("&L&A&RPage &P of &N")
        # The data rows are rendered here, as RowStream's are (see ropa.io.xlsx_rows: why),
        # with what does not change from row to row worked out once per column: the start
        # of a cell's reference, and the rest of a text cell's opening tag in either style.
        self.rows = RowStream(self.sheet, self.row, len(headers), instead=_INSTEAD)
        styles = {name: RowStream.style(formats[name]) for name in ("cell", "escaped", "date")}
        self.day = f'" s="{styles["date"]}"><v>'
        self.columns = [
            (
                col,
                f'<c r="{letter}',
                column.date,
                column.width,
                f'" s="{styles["cell"]}" t="inlineStr"><is><t',
                f'" s="{styles["escaped"]}" t="inlineStr"><is><t',
            )
            for col, (letter, column) in enumerate(zip(self.rows.letters, columns, strict=True))
        ]

    def write(self, values: list) -> None:
        row = self.row
        number = str(row + 1)
        day = self.day
        cells = []
        lines = 1
        for value, (col, start, is_date, width, plain, escaped) in zip(
            values, self.columns, strict=True
        ):
            if value is None or value == "":
                continue
            if is_date and isinstance(value, date):
                cells.append(f"{start}{number}{day}{value.toordinal() - EPOCH}</v></c>")
                continue
            text = value if type(value) is str else str(value)
            if len(text) > MAX_TEXT:
                text = self._cut(row, col, text)
            first = text[0]
            space = PRESERVE if first.isspace() or text[-1].isspace() else ""
            xml = (  # most text needs no escaping: checking costs less than the call
                xml_text(text)
                if "&" in text or "<" in text or ">" in text or "_x" in text
                else text
            )
            style = escaped if first in FORMULA_FIRST else plain
            cells.append(f"{start}{number}{style}{space}>{xml}</t></is></c>")
            if "\n" in text or len(text) > width:
                lines = max(lines, wrapped_lines(text, width))
        # Spreadsheet programs do not grow rows for wrapped text on their own.
        tall = f' ht="{row_height(lines)}" customHeight="1"' if lines > 1 else ""
        self.rows.rendered(f'<row r="{number}"{tall}>{"".join(cells)}</row>', row)
        self.row += 1

    def _cut(self, row: int, col: int, text: str) -> str:
        """A cell holds 32,767 characters: say so in the cell and in the report."""
        self.cut.append(
            f"{self.sheet.name}!{xl_rowcol_to_cell(row, col)} ({self.headers[col]}): "
            f"{len(text)} characters, cut to {MAX_TEXT}; the full text is in the "
            "registry document"
        )
        return text[: MAX_TEXT - len(CUT_MARK)] + CUT_MARK

    def finish(self) -> None:
        self.rows.finish()
        last_row = max(self.row - 1, self.header_row)
        self.sheet.autofilter(self.header_row, 0, last_row, len(self.headers) - 1)


@dataclass
class WorkbookReport:
    """What was written: data rows per sheet, and any cell whose text had to be cut."""

    rows: dict[str, int] = field(default_factory=dict)
    cut: list[str] = field(default_factory=list)


def write_record_workbook(
    path: Path,
    cover: Cover,
    builder: RecordBuilder,
    activities: Iterable[dict],
    sheets: tuple[str, ...] = ("controller", "processor"),
    findings: list[Finding] | None = None,
) -> WorkbookReport:
    """Write the record workbook (with a Findings sheet when findings are given)."""
    import xlsxwriter

    scratch = scratch_folder()
    book = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "tmpdir": scratch.name,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    book.set_properties(
        {
            "title": TITLE,
            "subject": cover.scope,
            "author": "ropa",
            "creator": "ropa",
            "comments": f"ropa {cover.version}",
        }
    )
    formats = _formats(book)
    cover_sheet = book.add_worksheet("Cover")  # first in the workbook, written last
    roles = tuple(sheets)
    tables = record_sheets(roles)
    main = [s for s in tables if s not in DETAILS]
    written = [_Sheet(book, formats, s.name, s.columns, s.bands) for s in main]
    pages = ActivityPagesSheet(book, [c["name"] for c in cover.controllers])
    written += [_Sheet(book, formats, s.name, s.columns, s.bands) for s in DETAILS]
    by_name = {s.sheet.name: s for s in written}
    paged = {s.name for s in main}
    for sheet, row in record_rows(builder, activities, roles):
        by_name[sheet.name].write(row)
        if sheet.name in paged:
            pages.write(activity_page(sheet, row))
    if findings is not None:
        findings_sheet = _Sheet(book, formats, "Findings", FINDING_COLUMNS, freeze_col=0)
        for f in findings:
            findings_sheet.write([c.value(builder, f) for c in FINDING_COLUMNS])
        written.append(findings_sheet)
    _write_cover(cover_sheet, formats, cover)
    report = WorkbookReport()
    report.cut += pages.finish()
    report.rows[pages.sheet.name] = pages.pages
    for sheet in written:
        sheet.finish()
        report.rows[sheet.sheet.name] = sheet.row - sheet.header_row - 1
        report.cut += sheet.cut
    book.close()
    scratch.cleanup()
    return report


def _formats(book: Any) -> dict[str, Any]:
    base = {"text_wrap": True, "valign": "top", "font_size": 10}
    return {
        "cell": book.add_format(base),
        "escaped": book.add_format({**base, "quote_prefix": True}),
        "date": book.add_format({**base, "num_format": "yyyy-mm-dd", "align": "left"}),
        "header": book.add_format(
            {
                **base,
                "bold": True,
                "font_color": "#FFFFFF",
                "bg_color": HEADER_FILL,
                "border": 1,
                "border_color": "#8EA9DB",
            }
        ),
        "band": book.add_format(
            {
                "bold": True,
                "align": "center",
                "valign": "vcenter",
                "bg_color": BAND_FILL,
                "border": 1,
                "font_size": 10,
            }
        ),
        "title": book.add_format({"bold": True, "font_size": 16}),
        "label": book.add_format({**base, "bold": True}),
    }


def _write_cover(sheet: Any, formats: dict, cover: Cover) -> None:
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 1, 80)
    sheet.write_string(0, 0, TITLE, formats["title"])
    sheet.set_row(0, 24)
    for i, (label, value) in enumerate(cover.rows(), start=2):
        sheet.set_row(i, row_height(wrapped_lines(value, 80)))
        sheet.write_string(i, 0, label, formats["label"])
        value = value[:MAX_TEXT]
        sheet.write_string(
            i, 1, value, formats["escaped"] if needs_escape(value) else formats["cell"]
        )
    sheet.set_portrait()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
