"""The Article 30 record as one self-contained, printable HTML page (no scripts, no external
assets): the cover, then one table per sheet of the workbook."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from html import escape

from ropa.io.article30 import TITLE, Cover, RecordBuilder, record_rows, record_sheets

STYLE = """
:root { color-scheme: light; }
body { font: 10pt/1.35 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 1.5rem;
       color: #1a1a1a; }
h1 { font-size: 1.5rem; margin: 0 0 1rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; page-break-before: always; }
h2:first-of-type { page-break-before: auto; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1rem; }
th, td { border: 1px solid #b4c6e7; padding: .3rem .45rem; vertical-align: top; text-align: left;
         white-space: pre-line; }
thead th { background: #1f3864; color: #fff; }
thead tr.band th { background: #d9e1f2; color: #1a1a1a; text-align: center; }
tbody tr:nth-child(even) td { background: #f5f8fc; }
table.cover th { width: 16rem; background: #f0f3f9; }
.wide { overflow-x: auto; }
.wide table { width: max-content; max-width: none; }
.wide td, .wide th { min-width: 7rem; max-width: 22rem; }
@media print {
  @page { size: A4 landscape; margin: 1cm; }
  body { margin: 0; font-size: 8pt; }
  .wide { overflow: visible; }
  .wide table { width: 100%; }
  .wide td, .wide th { min-width: 0; }
  thead { display: table-header-group; }
  tr { page-break-inside: avoid; }
}
"""


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return escape(str(value))


def _table_head(headers: list[str], bands: list[tuple[str, int, int]] | None = None) -> str:
    out = ["<table><thead>"]
    if bands:
        out.append('<tr class="band">')
        out += [
            f'<th colspan="{last - first + 1}">{escape(label)}</th>' for label, first, last in bands
        ]
        out.append("</tr>")
    out.append("<tr>" + "".join(f'<th scope="col">{escape(h)}</th>' for h in headers) + "</tr>")
    out.append("</thead><tbody>")
    return "".join(out)


def _row(values: list) -> str:
    return "<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in values) + "</tr>\n"


def record_html(
    cover: Cover,
    builder: RecordBuilder,
    activities: Iterable[dict],
    sheets: tuple[str, ...] = ("controller", "processor"),
) -> Iterator[str]:
    """The page, piece by piece. Rows are gathered per table as the activities stream,
    since HTML needs each table whole."""
    yield (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(TITLE)}</title><style>{STYLE}</style></head><body>\n"
    )
    yield f'<h1>{escape(TITLE)}</h1>\n<table class="cover"><tbody>\n'
    for label, value in cover.rows():
        yield f'<tr><th scope="row">{escape(label)}</th><td>{escape(value)}</td></tr>\n'
    yield "</tbody></table>\n"

    roles = tuple(sheets)
    tables = record_sheets(roles)
    rows: dict[str, list[str]] = {sheet.name: [] for sheet in tables}
    for sheet, row in record_rows(builder, activities, roles):
        rows[sheet.name].append(_row(row))
    for sheet in tables:
        yield f'<h2>{escape(sheet.heading)}</h2>\n<div class="wide">'
        yield _table_head(sheet.headers, sheet.bands)
        yield from rows[sheet.name]
        yield "</tbody></table></div>\n"
    yield "</body></html>\n"
