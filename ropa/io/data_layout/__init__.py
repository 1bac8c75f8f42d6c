"""The data layout: one sheet (xlsx) or one CSV file per kind, for bulk editing and imports.

Headers are the field names of :mod:`ropa.schema`; list cells hold items separated by newlines
(xlsx) or `;` (CSV); transfers and retention rules are rows of their own sheets, keyed by
`activity`. :mod:`.sheets` declares the sheets, :mod:`.write` turns the register into them,
:mod:`.read` reads files into tables and :mod:`.parse` turns tables back into parsed records;
:class:`ropa.registry.Registry` decides what an import changes.
"""

from ropa.io.data_layout.parse import NestedRows, attach_nested, parse_tables
from ropa.io.data_layout.read import Table, read_csv, read_workbook
from ropa.io.data_layout.sheets import GROUP_MEMBERS, SHEETS, sheet_for_kind
from ropa.io.data_layout.write import write_data_csv, write_data_workbook, write_template

__all__ = [
    "GROUP_MEMBERS",
    "SHEETS",
    "NestedRows",
    "Table",
    "attach_nested",
    "parse_tables",
    "read_csv",
    "read_workbook",
    "sheet_for_kind",
    "write_data_csv",
    "write_data_workbook",
    "write_template",
]
