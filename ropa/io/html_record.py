"""The Article 30 record as one self-contained, printable HTML page (no scripts, no external
assets): the cover, an index of activities linking to their pages, every activity as a
label/value page (the fields of the workbook's `Activity pages`), then the wide tables as an
on-screen overview. Printed, each activity takes its own A4 page and nothing is clipped; the
overview, whose columns no paper holds, is left out of the print."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from html import escape

from ropa.io.article30 import (
    DETAILS,
    TITLE,
    ActivityPage,
    activity_page,
    record_rows,
    record_sheets,
)
from ropa.io.record_cells import Cover, RecordBuilder

STYLE = """
:root { color-scheme: light; }
body { font: 10pt/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 1.5rem;
       color: #1a1a1a; }
h1 { font-size: 1.5rem; margin: 0 0 1rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .4rem; }
h3 { font-size: .95rem; margin: 1rem 0 .3rem; color: #1f3864; }
table { border-collapse: collapse; margin-bottom: 1rem; }
th, td { border: 1px solid #b4c6e7; padding: .3rem .45rem; vertical-align: top; text-align: left;
         white-space: pre-line; overflow-wrap: anywhere; }
table.cover th, table.fields th { width: 16rem; background: #f0f3f9; }
table.cover, table.fields { width: 100%; max-width: 60rem; }
.record { color: #44546a; font-style: italic; margin: 0 0 .5rem; }
.index ol { columns: 2 24rem; padding-left: 1.5rem; }
.activity { border-top: 2px solid #1f3864; margin-top: 2rem; }
.wide { overflow: auto; max-height: 85vh; border: 1px solid #b4c6e7; margin-bottom: 1rem; }
.wide table { width: max-content; margin: 0; }
.wide td, .wide th { min-width: 7rem; max-width: 22rem; }
.wide thead { position: sticky; top: 0; z-index: 2; }
.wide thead th { background: #1f3864; color: #fff; }
.wide thead tr.band th { background: #d9e1f2; color: #1a1a1a; }
.wide tbody tr:nth-child(even) td { background: #f5f8fc; }
.wide tbody td { background: #fff; }
.wide td:nth-child(1), .wide tr:not(.band) th:nth-child(1) {
  position: sticky; left: 0; z-index: 1; width: 9rem; min-width: 9rem; max-width: 9rem;
  box-sizing: border-box; }
.wide td:nth-child(2), .wide tr:not(.band) th:nth-child(2) {
  position: sticky; left: 9rem; z-index: 1; box-shadow: 2px 0 0 #8ea9db; }
.overview-note { color: #44546a; }
@media print {
  @page { size: A4 portrait; margin: 15mm; }
  body { margin: 0; font-size: 9.5pt; }
  .activity { break-before: page; border: 0; margin: 0; }
  .index { break-before: page; }
  .index ol { columns: 1; }
  table.fields tr, h3 { break-inside: avoid; }
  h3 { break-after: avoid; }
  .overview { display: none; }
  a { color: inherit; text-decoration: none; }
}
"""


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return escape(str(value))


def _anchor(key: str) -> str:
    return "activity-" + escape(key, quote=True)


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


def _page(page: ActivityPage) -> str:
    out = [
        f'<section class="activity" id="{_anchor(page.key)}">'
        f"<h2>{escape(page.title)}</h2>"
        f'<p class="record">{escape(page.record)}</p>'
    ]
    for heading, fields in page.sections:
        out.append(f'<h3>{escape(heading)}</h3><table class="fields"><tbody>')
        out += [
            f'<tr><th scope="row">{escape(label)}</th><td>{escape(value)}</td></tr>'
            for label, value in fields
        ]
        out.append("</tbody></table>")
    out.append("</section>\n")
    return "".join(out)


def record_html(
    cover: Cover,
    builder: RecordBuilder,
    activities: Iterable[dict],
    sheets: tuple[str, ...] = ("controller", "processor"),
) -> Iterator[str]:
    """The page, piece by piece. The pages and rows are gathered as the activities stream,
    since the index comes before them and HTML needs each table whole."""
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
    paged = {sheet.name for sheet in tables} - {sheet.name for sheet in DETAILS}
    index: list[str] = []
    pages: list[str] = []
    for sheet, row in record_rows(builder, activities, roles):
        rows[sheet.name].append(_row(row))
        if sheet.name in paged:
            page = activity_page(sheet, row)
            index.append(f'<li><a href="#{_anchor(page.key)}">{escape(page.title)}</a></li>\n')
            pages.append(_page(page))

    yield '<section class="index"><h2>Index of processing activities</h2><ol>\n'
    yield from index
    yield "</ol></section>\n"
    yield from pages
    yield (
        '<section class="overview" id="overview"><h2>Overview</h2>'
        '<p class="overview-note">The record as tables, for the screen (scroll sideways; '
        "the activity stays in view). Printed, the activity pages above hold every field."
        "</p>\n"
    )
    for sheet in tables:
        yield f'<h2>{escape(sheet.heading)}</h2>\n<div class="wide">'
        yield _table_head(sheet.headers, sheet.bands)
        yield from rows[sheet.name]
        yield "</tbody></table></div>\n"
    yield "</section></body></html>\n"
