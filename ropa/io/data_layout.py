"""The data layout: one sheet (xlsx) or one CSV file per kind, for bulk editing and imports.

Headers are the field names of :mod:`ropa.schema`; list cells hold items separated by newlines
(xlsx) or `;` (CSV); transfers and retention rules are rows of their own sheets, keyed by
`activity`. This module turns the register into such tables and such tables back into parsed
records; :class:`ropa.registry.Registry` decides what an import changes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from ropa import reference
from ropa.errors import Problem
from ropa.io.safe_csv import escape as escape_csv
from ropa.io.safe_csv import needs_escape
from ropa.io.safe_csv import unescape as unescape_csv
from ropa.io.xlsx_rows import row_height, wrapped_lines
from ropa.schema import ACTIVITY, KINDS, Field, Kind, T
from ropa.validate import PARSERS, Where, closest, parse_field

#: Sheets a data-layout workbook may have besides the data: ignored by an import.
INSTRUCTIONS = "instructions"
LISTS = "lists"
GROUP_MEMBERS = "group members"  # the list of party keys a controller cell offers
XLSX_SEPARATOR = "\n"
CSV_SEPARATOR = ";"
EXCEL_EPOCH = date(1899, 12, 30)


@dataclass(frozen=True)
class Sheet:
    """One table of the data layout: a kind's records, or the transfers or retention rows of
    activities (`nested` is then that list field)."""

    name: str
    kind: Kind
    nested: Field | None = None

    @property
    def key_column(self) -> str:
        return "activity" if self.nested else "key"

    @cached_property
    def fields(self) -> list[Field]:
        """The fields of the columns, in column order (`activity` is a reference)."""
        if self.nested:
            return [ACTIVITY_COLUMN, *self.nested.nested]
        return [f for f in self.kind.fields if f.type is not T.NESTED]

    @cached_property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]


ACTIVITY_COLUMN = Field("activity", T.REF, "The activity the row belongs to", ref="activity")

#: The sheets in workbook order.
SHEETS: tuple[Sheet, ...] = (
    Sheet("activities", ACTIVITY),
    Sheet("transfers", ACTIVITY, ACTIVITY.field("transfers")),
    Sheet("retention", ACTIVITY, ACTIVITY.field("retention")),
    *(Sheet(k.section, k) for k in KINDS.values() if k is not ACTIVITY),
)
BY_NAME = {s.name: s for s in SHEETS}


def sheet_for_kind(kind: str) -> Sheet:
    """The sheet of a kind or sheet name given by the user ("party", "parties", "transfers")."""
    from ropa.errors import RopaError

    if kind in BY_NAME:
        return BY_NAME[kind]
    if kind in KINDS:
        return BY_NAME[KINDS[kind].section]
    choices = [*KINDS, "transfers", "retention"]
    raise RopaError(
        f"unknown kind {kind!r}{closest(kind, choices)}; choose one of {', '.join(choices)}"
    )


# -- writing ------------------------------------------------------------------------------


def table_rows(
    sections: Iterable[tuple[str, Iterable[list[dict]]]],
) -> Iterator[tuple[Sheet, dict]]:
    """(sheet, document record) for every row of the data layout, from the registry document's
    sections; a transfer or retention row is its nested mapping plus `activity`."""
    transfers, retention = BY_NAME["transfers"], BY_NAME["retention"]
    for section, batches in sections:
        sheet = BY_NAME[section]
        for batch in batches:
            for record in batch:
                yield sheet, record
                if sheet.kind is ACTIVITY:
                    for nested in (transfers, retention):
                        for row in record.get(nested.nested.name, ()):
                            yield nested, {"activity": record["key"], **row}


def cell_value(f: Field, value: Any, separator: str) -> Any:
    """A document value as a data-layout cell: lists joined, booleans as yes, dates kept."""
    if value is None or value == [] or value is False:
        return None
    if f.is_list:
        return separator.join(value)
    if value is True:
        return "yes"
    return value


def csv_value(f: Field, value: Any) -> str:
    value = cell_value(f, value, CSV_SEPARATOR)
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return escape_csv(value) if isinstance(value, str) else str(value)


def write_data_csv(
    folder: Path, sections: Iterable[tuple[str, Iterable[list[dict]]]]
) -> dict[str, int]:
    """One CSV file per sheet in `folder` (UTF-8 with BOM, so that Excel opens it right);
    each file appears whole or not at all. Returns the rows written per sheet."""
    from contextlib import ExitStack

    from ropa.io.files import replacing

    paths = [folder / f"{sheet.name}.csv" for sheet in SHEETS]
    with ExitStack() as stack:
        writers = {}
        for sheet, path in zip(SHEETS, paths, strict=True):
            temporary = stack.enter_context(replacing(path))
            handle = stack.enter_context(open(temporary, "w", encoding="utf-8-sig", newline=""))
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow(sheet.columns)
            writers[sheet.name] = (writer, sheet.fields)
        counts = dict.fromkeys(writers, 0)
        for sheet, record in table_rows(sections):
            writer, fields = writers[sheet.name]
            writer.writerow([csv_value(f, record.get(f.name)) for f in fields])
            counts[sheet.name] += 1
    return counts


def coded_choices() -> dict[str, list[str]]:
    """The allowed values of every coded column, by list name: the drop-downs' sources
    (taken from the fields' code lists)."""
    lists = {f.codes.name: f.codes.values for s in SHEETS for f in s.fields if f.codes}
    lists["country"] = countries()
    lists["yes/no"] = ["yes", "no"]
    return lists


def countries() -> list[str]:
    import pycountry

    return [*sorted(c.alpha_2 for c in pycountry.countries), reference.INTL]


def choice_list(f: Field) -> str | None:
    """The name of the list a column's drop-down offers, or None for free text."""
    if f.type in (T.CODE, T.CODES):
        return f.codes.name
    if f.type in (T.COUNTRY, T.COUNTRIES):
        return "country"
    if f.type is T.BOOL:
        return "yes/no"
    if f.name == "controller":  # only a group member can be an activity's controller
        return GROUP_MEMBERS
    if f.type in (T.REF, T.REFS):
        return KINDS[f.ref].section
    return None


def describe_values(f: Field) -> str:
    """What a column takes, for the instructions sheet."""
    several = " One per line (or separated by ;)." if f.is_list else ""
    match f.type:
        case T.KEY:
            return "1–64 letters, digits, '.', '_' or '-'; never changes. Example: hr-payroll"
        case T.CODE | T.CODES:
            codes = "\n".join(f"{c.code} — {c.title}" for c in f.codes)
            return f"One of:{several}\n{codes}"
        case T.COUNTRY | T.COUNTRIES:
            return (
                "ISO 3166-1 alpha-2 code, e.g. DE, US; INTL for an international organisation."
                + several
            )
        case T.REF | T.REFS:
            label = "activity" if f.ref == "activity" else KINDS[f.ref].label
            return f"Key (or exact name) of a {label}.{several}"
        case T.BOOL:
            return "yes or no (empty: no)"
        case T.DATE:
            return "A date, e.g. 2026-01-15"
        case T.INT:
            return f"A whole number (empty: {f.default})"
        case T.DURATION:
            return "ISO 8601 duration: P6Y = 6 years, P18M = 18 months, P30D = 30 days"
        case T.EMAIL:
            return "An email address, e.g. privacy@example.com"
    return "Text"


GENERAL_INSTRUCTIONS = [
    "One sheet per kind of record; one row per record; the first row holds the field names.",
    "Import with `ropa import FILE.xlsx --dry-run` first: it reports what would be created, "
    "updated, unchanged or deleted, and every problem as FILE:SHEET:ROW:COLUMN.",
    "A row updates the record with its key: every column of the sheet replaces that field, "
    "an empty cell clears it, a column you delete leaves the field alone.",
    "References may be keys or exact names. Lists: one item per line in a cell.",
    "transfers and retention: one row per transfer or retention rule, `activity` names the "
    "activity. When the sheet is there, it holds all of them for the activities it lists and "
    "for every activity of the activities sheet.",
    "Formulas are never evaluated: type values. Sheets `instructions` and `lists` are ignored.",
]


class _WorkbookWriter:
    """A data-layout workbook streamed with XlsxWriter in constant-memory mode."""

    def __init__(self, path: Path, keys: dict[str, list[str]] | None = None):
        import xlsxwriter

        from ropa.io.xlsx_rows import RowStream

        self.book = xlsxwriter.Workbook(
            str(path), {"constant_memory": True, "strings_to_numbers": False}
        )
        self.book.set_properties(
            {"title": "Register of processing activities (data layout)", "author": "ropa"}
        )
        book = self.book
        self.formats = {
            "header": book.add_format(
                {"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F3864", "border": 1}
            ),
            "text": book.add_format({"text_wrap": True, "valign": "top"}),
            "escaped": book.add_format({"text_wrap": True, "valign": "top", "quote_prefix": True}),
            "date": book.add_format({"num_format": "yyyy-mm-dd", "valign": "top"}),
            "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
            "title": book.add_format({"bold": True, "font_size": 14}),
        }
        self.keys = keys
        self.collected: dict[str, list[str]] = {s.name: [] for s in SHEETS if not s.nested}
        self.collected[GROUP_MEMBERS] = []
        self.instructions = book.add_worksheet(INSTRUCTIONS)
        self.sheets = {}
        self.streams: dict[str, RowStream] = {}
        self.widths: dict[str, list[float]] = {}
        self.rows: dict[str, int] = {}
        for sheet in SHEETS:
            ws = book.add_worksheet(sheet.name)
            for col, f in enumerate(sheet.fields):
                ws.write_string(0, col, f.name, self.formats["header"])
                ws.set_column(col, col, _width(f))
            self.widths[sheet.name] = [_width(f) for f in sheet.fields]
            ws.freeze_panes(1, 1)
            _print_setup(ws)
            self.sheets[sheet.name] = ws
            self.streams[sheet.name] = RowStream(ws, 1, len(sheet.fields))
            self.rows[sheet.name] = 1
        self.styles = {
            name: RowStream.style(self.formats[name]) for name in ("text", "escaped", "date")
        }
        self.lists = book.add_worksheet(LISTS)

    def write(self, sheet: Sheet, record: dict) -> None:
        stream = self.streams[sheet.name]
        row = self.rows[sheet.name]
        self.rows[sheet.name] = row + 1
        number = str(row + 1)
        text, escaped = self.styles["text"], self.styles["escaped"]
        widths = self.widths[sheet.name]
        cells = []
        lines = 1
        for col, f in enumerate(sheet.fields):
            value = cell_value(f, record.get(f.name), XLSX_SEPARATOR)
            if value is None:
                continue
            if isinstance(value, date):
                cells.append(stream.date(col, number, self.styles["date"], value))
                continue
            if not isinstance(value, str):
                cells.append(stream.number(col, number, None, value))
                continue
            cells.append(stream.text(col, number, escaped if needs_escape(value) else text, value))
            if "\n" in value or len(value) > widths[col]:
                lines = max(lines, wrapped_lines(value, widths[col]))
        stream.row(row, cells, row_height(lines) if lines > 1 else None)
        if not sheet.nested:
            self.collected[sheet.name].append(record["key"])
            if sheet.name == "parties" and record.get("kind") == "group-member":
                self.collected[GROUP_MEMBERS].append(record["key"])

    def close(self) -> None:
        keys = self.keys if self.keys is not None else self.collected
        sources = self._write_lists(keys)
        for sheet in SHEETS:
            ws = self.sheets[sheet.name]
            self.streams[sheet.name].finish()
            last = max(self.rows[sheet.name], 2) - 1
            ws.autofilter(0, 0, last, len(sheet.fields) - 1)
            for col, f in enumerate(sheet.fields):
                name = choice_list(f)
                if name is None or name not in sources:
                    continue
                ws.data_validation(1, col, 1_048_575, col, _validation(f, sources[name]))
        self._write_instructions()
        self.book.get_worksheet_by_name(SHEETS[0].name).activate()
        self.book.close()

    def _write_lists(self, keys: dict[str, list[str]]) -> dict[str, str]:
        """The hidden `lists` sheet: one column per code list and per kind's keys.
        Returns the range of each list by name."""
        from xlsxwriter.utility import xl_col_to_name

        columns = {**coded_choices(), **{name: sorted(k) for name, k in keys.items()}}
        sources = {}
        ws = self.lists
        for col, (name, values) in enumerate(columns.items()):
            ws.write_string(0, col, name, self.formats["header"])
            if values:
                letter = xl_col_to_name(col)
                sources[name] = f"={LISTS}!${letter}$2:${letter}${len(values) + 1}"
        longest = max(len(v) for v in columns.values())
        lists = list(columns.values())
        for row in range(longest):
            for col, values in enumerate(lists):
                if row < len(values):
                    ws.write_string(row + 1, col, values[row])
        ws.hide()
        return sources

    def _write_instructions(self) -> None:
        ws = self.instructions
        ws.set_column(0, 0, 16)
        ws.set_column(1, 1, 26)
        ws.set_column(2, 2, 60)
        ws.set_column(3, 3, 70)
        _print_setup(ws, header=False)
        ws.write_string(0, 0, "How to fill in this workbook", self.formats["title"])
        row = 1
        for line in GENERAL_INSTRUCTIONS:
            ws.merge_range(row, 0, row, 3, line, self.formats["wrap"])
            ws.set_row(row, 15 * (1 + len(line) // 160))
            row += 1
        row += 1
        for col, header in enumerate(("sheet", "column", "meaning", "values")):
            ws.write_string(row, col, header, self.formats["header"])
        row += 1
        for sheet in SHEETS:
            for f in sheet.fields:
                ws.write_string(row, 0, sheet.name, self.formats["wrap"])
                ws.write_string(row, 1, f.name, self.formats["wrap"])
                meaning = f.help + (" (required)" if f.name == sheet.key_column else "")
                ws.write_string(row, 2, meaning, self.formats["wrap"])
                values = describe_values(f)
                ws.write_string(row, 3, values, self.formats["wrap"])
                # LibreOffice does not grow rows for wrapped text on its own.
                ws.set_row(row, 15 * (values.count("\n") + 1))
                row += 1


def _print_setup(ws: Any, header: bool = True) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    if header:
        ws.repeat_rows(0)


def _width(f: Field) -> float:
    if f.name in ("description", "legitimate_interests", "notes", "details", "criteria"):
        return 50
    if f.type in (T.TEXT, T.EMAIL):
        return 28
    if f.is_list or f.type in (T.KEY, T.REF):
        return 22
    return 14


def _validation(f: Field, source: str) -> dict:
    """A drop-down: strict for a single code, advisory for lists (a cell may hold several)
    and for references (names are accepted too)."""
    options: dict[str, Any] = {"validate": "list", "source": source}
    if f.is_list:
        options["show_error"] = False
    elif f.type in (T.REF, T.BOOL, T.COUNTRY):
        options["error_type"] = "warning"
        options["error_message"] = describe_values(f)[:255]
    else:
        options["error_message"] = describe_values(f)[:255]
    return options


def write_data_workbook(
    path: Path,
    sections: Iterable[tuple[str, Iterable[list[dict]]]],
    keys: dict[str, list[str]] | None = None,
) -> dict[str, int]:
    """The data-layout workbook of the registry document's sections; returns rows per sheet.
    The reference drop-downs offer `keys` (by sheet name), else the keys written."""
    writer = _WorkbookWriter(path, keys)
    try:
        for sheet, record in table_rows(sections):
            writer.write(sheet, record)
    finally:
        writer.close()
    return {name: row - 1 for name, row in writer.rows.items()}


def write_template(path: Path, keys: dict[str, list[str]]) -> None:
    """An empty data-layout workbook whose drop-downs offer the codes and `keys`."""
    write_data_workbook(path, [], keys)


# -- reading ------------------------------------------------------------------------------


@dataclass
class Table:
    """The rows of one sheet or CSV file as read, the header row first: cells as the reader
    gives them. Rows are read as they are consumed (a sheet is loaded when its turn comes)."""

    source: str  # the file as the user named it
    name: str  # the sheet name, or the CSV file's stem
    rows: Iterable[tuple[int, list[Any]]]  # (row number as the user sees it, cells)
    csv: bool = False  # CSV: the kind comes from the header; a leading ' may escape a formula
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) -> formula
    size: int | None = None  # rows, when the reader knows before reading them
    headers: list[Any] = field(default_factory=list)  # set when the first row is read


class SheetRow(Where):
    """`FILE:SHEET:ROW`, locating fields by column: `FILE:SHEET:ROW:COLUMN`. For an activity,
    the rows of its transfers and retention rules locate their columns in those sheets."""

    def at(self, name: str) -> str:
        return f"{self}:{name}"

    def item(self, name: str, position: int, sub: str) -> str:
        rows = self.__dict__.get("nested", {}).get(name)
        if rows and position < len(rows):
            return rows[position].at(sub)
        return self.at(name)


def read_workbook(path: Path, name: str) -> tuple[list[Table], list[Problem]]:
    """The data sheets of a workbook; problems when it is not a readable xlsx."""
    head = path.read_bytes()[:8] if path.stat().st_size else b""
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return [], [
            Problem(
                name,
                "is password-protected or an old .xls workbook; save it as an unprotected .xlsx",
            )
        ]
    if not head.startswith(b"PK"):
        return [], [Problem(name, "is not an xlsx workbook (not a zip file)")]
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        sheet_names = book.sheet_names
        formulas = _formula_cells(path)
    except Exception as e:  # calamine, zipfile and XML errors all mean a damaged file
        return [], [Problem(name, f"cannot read the workbook ({type(e).__name__}: {e})")]
    if {"Cover", "Controller record", "Processor record"} & set(sheet_names):
        return [], [
            Problem(
                name,
                "is an Article 30 record workbook, written for people; ropa imports the data "
                "layout (`ropa export xlsx --layout data`, `ropa template`)",
            )
        ]
    tables = [
        Table(
            name, sheet_name, _sheet_rows(book, sheet_name), formulas=formulas.get(sheet_name, {})
        )
        for sheet_name in sheet_names
        if sheet_name.strip().lower() not in (INSTRUCTIONS, LISTS)
    ]
    return tables, []


def _sheet_rows(book: Any, sheet_name: str) -> Iterator[tuple[int, list[Any]]]:
    """The rows of a sheet with their numbers, the used range's first row first (wherever it
    starts); the sheet is loaded on the first request and let go after the last row."""
    sheet = book.get_sheet_by_name(sheet_name)
    first_row, first_col = sheet.start or (0, 0)
    pad = [""] * first_col
    for number, cells in enumerate(sheet.iter_rows(), first_row + 1):
        yield number, pad + cells if pad else cells


# How a formula element ends, with or without a namespace prefix (a sheet with formulas has
# at least one with its text: shared formulas keep theirs in the first cell). Plain byte
# searches over the sheet XML are much faster than a regular expression.
_FORMULA_MARKS = (b"</f>", b":f>")


def _formula_cells(path: Path) -> dict[str, dict[tuple[int, int], str]]:
    """The formulas of each sheet by (row, column) number, 1-based. Only sheets whose XML has
    a formula element are parsed (a quick scan), so formula-free workbooks cost one pass."""
    import zipfile
    from xml.etree import ElementTree as ET

    from xlsxwriter.utility import xl_cell_to_rowcol

    found: dict[str, dict[tuple[int, int], str]] = {}
    with zipfile.ZipFile(path) as archive:
        parts = _sheet_parts(archive)
        for sheet_name, part in parts.items():
            if part not in archive.namelist():
                continue
            with archive.open(part) as f:
                tail = b""
                hit = False
                while chunk := f.read(1 << 20):
                    window = tail + chunk
                    if any(mark in window for mark in _FORMULA_MARKS):
                        hit = True
                        break
                    tail = chunk[-16:]
            if not hit:
                continue
            cells: dict[tuple[int, int], str] = {}
            with archive.open(part) as f:
                for _, element in ET.iterparse(f):
                    if element.tag.endswith("}c") or element.tag == "c":
                        formula = next((e for e in element if e.tag.endswith("f")), None)
                        if formula is not None:
                            row, col = xl_cell_to_rowcol(element.get("r", "A1"))
                            cells[(row + 1, col + 1)] = formula.text or ""
                        element.clear()
            found[sheet_name] = cells
    return found


def _sheet_parts(archive) -> dict[str, str]:
    """Sheet name -> the zip member holding its XML."""
    from xml.etree import ElementTree as ET

    workbook = ET.fromstring(archive.read("xl/workbook.xml"))
    rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    parts = {}
    for element in workbook.iter():
        if element.tag.endswith("}sheet"):
            rid = next((v for k, v in element.attrib.items() if k.endswith("}id")), None)
            target = targets.get(rid, "")
            target = target.lstrip("/") if target.startswith("/") else "xl/" + target
            parts[element.get("name")] = target
    return parts


def read_csv(
    path: Path | None, name: str, text: str | None = None
) -> tuple[list[Table], list[Problem]]:
    """One CSV file (or `text`, from stdin) as a table, read as it is consumed. The delimiter
    is taken from the header line: `,`, else `;` or tab (as some locales save CSV)."""
    if text is None:
        assert path is not None
        try:
            with open(path, encoding="utf-8-sig", newline="") as f:
                first_line = f.readline()
        except UnicodeDecodeError:
            return [], [Problem(name, NOT_UTF8)]
        size = _count_lines(path)
    else:
        text = text.removeprefix("\ufeff")
        first_line = text.split("\n", 1)[0]
        size = text.count("\n")
    delimiter = ","
    if "," not in first_line:
        delimiter = ";" if ";" in first_line else "\t" if "\t" in first_line else ","
    rows = _csv_rows(path, text, name, delimiter)
    return [Table(name, Path(name).stem, rows, csv=True, size=size)], []


NOT_UTF8 = "is not UTF-8 text; save it as “CSV UTF-8”"


def _count_lines(path: Path) -> int:
    lines = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            lines += chunk.count(b"\n")
    return lines


def _csv_rows(
    path: Path | None, text: str | None, name: str, delimiter: str
) -> Iterator[tuple[int, list[Any]]]:
    number = 0
    with open(path, encoding="utf-8-sig", newline="") if text is None else io.StringIO(text) as f:
        try:
            for number, cells in enumerate(csv.reader(f, delimiter=delimiter), 1):
                yield number, cells
        except csv.Error as e:
            raise CsvBroken(Problem(f"{name}:{number + 1}", f"cannot read CSV: {e}")) from None
        except UnicodeDecodeError:
            raise CsvBroken(Problem(name, NOT_UTF8)) from None


class CsvBroken(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem


# -- tables to records --------------------------------------------------------------------


@dataclass
class NestedRow:
    """A transfer or retention row: the activity as written, its values, its place."""

    sheet: Sheet
    activity: str
    values: dict
    where: SheetRow


@dataclass
class ParsedTables:
    """What the tables of an import hold, parsed: records by kind (with their places),
    nested rows, the nested sheets present, problems and warnings."""

    records: dict[str, list[tuple[Where, dict]]] = field(
        default_factory=lambda: {k: [] for k in KINDS}
    )
    nested: list[NestedRow] = field(default_factory=list)
    nested_sheets: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _normal_header(value: Any) -> str:
    return re.sub(r"\s+", "_", str(value if value is not None else "").strip().lower())


def detect_sheet(table: Table, kind: str | None) -> tuple[Sheet | None, str | None]:
    """The sheet a table holds: forced by --kind, else the sheet name, else the one kind
    whose columns contain the table's columns. (sheet, None) or (None, why not)."""
    if kind:
        return sheet_for_kind(kind), None
    named = _normal_header(table.name)
    if not table.csv:  # a workbook sheet is known by its name
        if named in BY_NAME:
            return BY_NAME[named], None
        return (
            None,
            f"unknown sheet{closest(named, BY_NAME)}, ignored; sheets are {', '.join(BY_NAME)}",
        )
    headers = {_normal_header(h) for h in table.headers} - {""}
    fitting = [s for s in SHEETS if headers and headers <= set(s.columns)]
    if len(fitting) == 1:
        return fitting[0], None
    for sheet in fitting:
        if sheet.name == named:
            return sheet, None
    if not fitting:
        best = max(SHEETS, key=lambda s: len(headers & set(s.columns)))
        unknown = sorted(headers - set(best.columns))
        return None, (
            f"the header fits no kind (closest: {best.name}, which has no column "
            f"{', '.join(unknown)}); name the kind with --kind"
        )
    return None, (
        f"the header fits {', '.join(s.name for s in fitting)}; name the file after its kind "
        "(e.g. sources.csv) or use --kind"
    )


def parse_tables(tables: list[Table], kind: str | None = None) -> ParsedTables:
    """Parse every row of the tables into records (absent columns stay absent, as in a
    document) and nested rows; collect every problem."""
    out = ParsedTables()
    recognised: dict[str, bool] = {}  # workbook -> whether any of its sheets is a data sheet
    for table in tables:
        if not table.csv:
            recognised.setdefault(table.source, False)
        rows = iter(table.rows)
        try:
            first = next(rows, None)
        except CsvBroken as e:
            out.problems.append(e.problem)
            continue
        except Exception as e:  # a damaged sheet: calamine's errors
            out.problems.append(Problem(f"{table.source}:{table.name}", f"cannot read: {e}"))
            continue
        table.headers, table.rows = (list(first[1]) if first else []), rows
        sheet, why = detect_sheet(table, kind)
        if sheet is None:
            if table.csv:
                out.problems.append(Problem(table.source, why or "unknown kind"))
            else:
                out.warnings.append(f"{table.source}:{table.name}: {why}")
            continue
        recognised[table.source] = True
        try:
            _parse_table(table, sheet, out)
        except CsvBroken as e:
            out.problems.append(e.problem)
    for source, any_data in recognised.items():
        if not any_data:
            out.problems.append(
                Problem(
                    source,
                    "has none of the data-layout sheets (activities, parties, …); ropa imports "
                    "workbooks written by `ropa template` or `ropa export xlsx --layout data`",
                )
            )
    return out


def _parse_table(table: Table, sheet: Sheet, out: ParsedTables) -> None:
    prefix = f"{table.source}:{sheet.name if table.csv else table.name}"
    columns: list[tuple[int, Field]] = []
    seen: dict[str, int] = {}
    unnamed: list[int] = []
    by_name = {f.name: f for f in sheet.fields}
    for col, header in enumerate(table.headers):
        name = _normal_header(header)
        if not name:
            unnamed.append(col)
            continue
        if name in seen:
            out.problems.append(
                Problem(
                    f"{prefix}:1:{name}",
                    f"column {name} appears twice (columns {seen[name] + 1} and {col + 1})",
                )
            )
            continue
        seen[name] = col
        if name not in by_name:
            out.warnings.append(
                f"{prefix}:1:{header}: unknown column{closest(name, by_name)}, ignored"
            )
            continue
        columns.append((col, by_name[name]))
    if sheet.key_column not in seen:
        out.problems.append(
            Problem(f"{prefix}:1", f"missing the required column {sheet.key_column!r}")
        )
        return
    if sheet.nested:
        out.nested_sheets.add(sheet.nested.name)
        missing = [c for c in sheet.columns if c not in seen]
        if missing:
            out.warnings.append(
                f"{prefix}:1: no column {', '.join(missing)}: the {sheet.nested.name} rows of "
                f"the activities it lists replace their old ones, and will have none"
            )
    escaped = table.csv
    formulas = table.formulas
    warned_unnamed = False
    key_column = sheet.key_column
    # Per column: its position, field, parser and the value an empty cell stands for.
    plan = [(col, f, f.name, PARSERS[f.type], _empty(f), f.is_list) for col, f in columns]
    key_at = seen[key_column]
    is_transfers = sheet.nested is not None and sheet.nested.name == "transfers"
    records = out.records[sheet.kind.name]
    problems = out.problems
    for number, cells in table.rows:
        if not any(cells) and all(c == "" or c is None for c in cells):
            continue  # empty rows are skipped
        where = SheetRow(f"{prefix}:{number}")
        width = len(cells)
        given = cells[key_at] if key_at < width else None
        if given == "":
            given = None
        values: dict[str, Any] = {}
        failed = False
        for col, f, name, parse, empty, is_list in plan:
            value = cells[col] if col < width else None
            if formulas and (number, col + 1) in formulas:
                value = _formula_value(formulas[(number, col + 1)], value, where.at(name), out)
                if col == key_at:
                    given = value if value != "" else None
            if value == "" or value is None:
                values[name] = [] if is_list else empty
                continue
            if type(value) is not str or (escaped and value[0] == "'"):
                value = _cell(f, value, escaped)
            try:
                values[name] = parse(f, value)
            except ValueError as e:
                problems.append(Problem(where.at(name), str(e)))
                values[name] = None
                failed = True
        if (
            unnamed
            and not warned_unnamed
            and any(c < width and cells[c] not in ("", None) for c in unnamed)
        ):
            out.warnings.append(f"{prefix}:{number}: cells under an empty header are ignored")
            warned_unnamed = True
        if given is None:
            problems.append(
                Problem(
                    where.at(key_column),
                    f"every row needs {'an activity' if sheet.nested else 'a key'}",
                )
            )
            continue
        if sheet.nested:
            activity = str(values.pop("activity") or given).strip()
            if is_transfers and values.get("country") is None and not failed:
                problems.append(Problem(where.at("country"), "a transfer needs a country"))
            for sub in sheet.nested.nested:  # a nested row has every column
                values.setdefault(sub.name, None)
            out.nested.append(NestedRow(sheet, activity, values, where))
        elif values.get("key") is not None:
            records.append((where, values))


def _empty(f: Field) -> Any:
    """What an empty cell means for a field: its empty value (a key is never empty)."""
    return None if f.type is T.KEY else parse_field(f, None)


def _formula_value(formula: str, stored: Any, where: str, out: ParsedTables) -> Any:
    """A formula cell counts as the value the file stores for it; it is never evaluated."""
    if stored in ("", None):
        out.problems.append(
            Problem(where, f"holds the formula ={formula} with no stored value; type the value")
        )
        return None
    out.warnings.append(
        f"{where}: holds the formula ={formula}; its stored value {stored!r} was taken"
    )
    return stored


def _cell(f: Field, value: Any, escaped: bool) -> Any:
    """A cell as the field parsers expect it: empty is None, whole floats are ints, Excel
    date serials are dates, CSV escapes come off."""
    if value == "" or value is None:
        return None
    if isinstance(value, str):
        if escaped and value.startswith("'"):
            value = unescape_csv(value)
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if f.type is T.DATE and type(value) in (int, float) and 1 <= value < 2_958_466:
        return EXCEL_EPOCH + timedelta(days=int(value))
    if isinstance(value, timedelta | datetime) and f.type is not T.DATE:
        return str(value)
    return value


def attach_nested(
    parsed: ParsedTables,
    activities: list[tuple[Where, dict]],
    existing: dict[str, str | None],
) -> list[Problem]:
    """Give the imported activities their transfers and retention rules from the nested rows.

    A nested sheet that is present holds all the rows of the activities it names and of every
    activity of the import (none: the list is cleared). A row names its activity by key or
    exact name, among the imported activities or the `existing` ones ({key: name}); an
    existing activity named only there is imported with just that list."""
    problems: list[Problem] = []
    if not parsed.nested_sheets:
        return problems
    by_key = {record["key"]: (where, record) for where, record in activities}
    by_name = {r["name"].lower(): k for k, (_, r) in by_key.items() if r.get("name")}
    existing_by_name: dict[str, str] | None = None
    for _, record in activities:
        for name in parsed.nested_sheets:
            record[name] = []
    for row in parsed.nested:
        value = row.activity
        key = value if value in by_key else by_name.get(value.lower())
        if key is None:
            if value in existing:
                key = value
            else:
                if existing_by_name is None:
                    existing_by_name = {n.lower(): k for k, n in existing.items() if n}
                key = existing_by_name.get(value.lower())
            if key is None:
                hint = closest(value, [*by_key, *existing]) if len(existing) < 5000 else ""
                problems.append(
                    Problem(row.where.at("activity"), f"unknown activity {value!r}{hint}")
                )
                continue
            record = {"key": key, **{name: [] for name in parsed.nested_sheets}}
            by_key[key] = (row.where, record)
            activities.append((row.where, record))
        where, record = by_key[key]
        name = row.sheet.nested.name
        record[name].append(row.values)
        if isinstance(where, SheetRow):
            where.__dict__.setdefault("nested", {}).setdefault(name, []).append(row.where)
    return problems
