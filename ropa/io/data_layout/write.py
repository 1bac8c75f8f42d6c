"""Writing the data layout: the workbook (streamed, with drop-downs and an instructions
sheet), the empty template, and one CSV file per sheet."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from ropa.errors import RopaError
from ropa.io.data_layout.sheets import (
    BY_NAME,
    CSV_SEPARATOR,
    GENERAL_INSTRUCTIONS,
    GROUP_MEMBERS,
    IMPORT_INSTRUCTIONS,
    INSTRUCTIONS,
    LISTS,
    PACK_VERSIONS,
    SHEETS,
    XLSX_SEPARATOR,
    Sheet,
    choice_list,
    coded_choices,
    describe_values,
)
from ropa.io.safe_csv import SafeWriter, needs_escape
from ropa.io.xlsx_rows import row_height, wrapped_lines
from ropa.schema import ACTIVITY, Field, T
from ropa.validate import MAX_TEXT


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


def write_data_csv(
    folder: Path, sections: Iterable[tuple[str, Iterable[list[dict]]]]
) -> dict[str, int]:
    """One CSV file per sheet in `folder` (UTF-8 with BOM, so that Excel opens it right),
    written formula-safe by :class:`ropa.io.safe_csv.SafeWriter`; each file appears whole or
    not at all. Returns the rows written per sheet."""
    from contextlib import ExitStack

    from ropa.io.files import replacing

    paths = [folder / f"{sheet.name}.csv" for sheet in SHEETS]
    with ExitStack() as stack:
        writers = {}
        for sheet, path in zip(SHEETS, paths, strict=True):
            temporary = stack.enter_context(replacing(path))
            handle = stack.enter_context(open(temporary, "w", encoding="utf-8-sig", newline=""))
            writer = SafeWriter(handle)
            writer.writerow(sheet.columns)
            writers[sheet.name] = (writer, sheet.fields)
        counts = dict.fromkeys(writers, 0)
        for sheet, record in table_rows(sections):
            writer, fields = writers[sheet.name]
            writer.writerow([cell_value(f, record.get(f.name), CSV_SEPARATOR) for f in fields])
            counts[sheet.name] += 1
    return counts


class _WorkbookWriter:
    """A data-layout workbook streamed with XlsxWriter in constant-memory mode."""

    def __init__(
        self,
        path: Path,
        keys: dict[str, list[str]] | None = None,
        sheets: tuple[Sheet, ...] = SHEETS,
        extra: tuple[tuple[str, str, tuple[str, ...]], ...] = (),
        preface: tuple[str, ...] = (),
        how_to_import: tuple[str, ...] = tuple(IMPORT_INSTRUCTIONS),
        instead: str = ": `ropa export csv --layout data` has no such limit",
    ):
        """`sheets` are the data sheets written; `extra` are columns added after the fields
        of the first sheet, as (header, meaning, choices: a drop-down when not empty);
        `preface` are instruction lines written before the general ones, `how_to_import`
        the lines saying how the workbook goes back into ropa; `instead`, what to do when a
        sheet would pass a sheet's last row (see RowStream)."""
        import xlsxwriter

        from ropa.io.xlsx_rows import RowStream, scratch_folder

        self.scratch = scratch_folder()
        self.book = xlsxwriter.Workbook(
            str(path),
            {"constant_memory": True, "strings_to_numbers": False, "tmpdir": self.scratch.name},
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
        self.layout = sheets
        self.extra = extra
        self.preface = preface
        self.how_to_import = how_to_import
        self.collected: dict[str, list[str]] = {s.name: [] for s in SHEETS if not s.nested}
        self.collected[GROUP_MEMBERS] = []
        self.instructions = book.add_worksheet(INSTRUCTIONS)
        self.sheets = {}
        self.streams: dict[str, RowStream] = {}
        self.widths: dict[str, list[float]] = {}
        self.rows: dict[str, int] = {}
        for number, sheet in enumerate(sheets):
            ws = book.add_worksheet(sheet.name)
            for col, f in enumerate(sheet.fields):
                ws.write_string(0, col, f.name, self.formats["header"])
                ws.set_column(col, col, _width(f))
            self.widths[sheet.name] = [_width(f) for f in sheet.fields]
            columns = len(sheet.fields)
            if number == 0 and extra:
                for col, (header, _, _) in enumerate(extra, columns):
                    ws.write_string(0, col, header, self.formats["header"])
                    ws.set_column(col, col, 28)
                columns += len(extra)
            ws.freeze_panes(1, 1)
            _print_setup(ws)
            self.sheets[sheet.name] = ws
            self.streams[sheet.name] = RowStream(ws, 1, columns, instead=instead)
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
            if len(value) > MAX_TEXT:  # only a list can be: a text is limited on its way in
                whose = record.get("activity") or record.get("key")
                raise RopaError(
                    f"{sheet.name}:{number}:{f.name} ({whose}): {len(value):,} characters, more "
                    f"than a spreadsheet cell holds ({MAX_TEXT:,}); the data layout as CSV holds "
                    "any length (ropa export csv --layout data)"
                )
            cells.append(stream.text(col, number, escaped if needs_escape(value) else text, value))
            if "\n" in value or len(value) > widths[col]:
                lines = max(lines, wrapped_lines(value, widths[col]))
        stream.row(row, cells, row_height(lines) if lines > 1 else None)
        if not sheet.nested:
            self.collected[sheet.name].append(record["key"])
            if sheet.name == "parties" and record.get("kind") == "group-member":
                self.collected[GROUP_MEMBERS].append(record["key"])

    @contextmanager
    def unless_stopped(self) -> Iterator[None]:
        """Close the workbook when the block has written it; an error (Ctrl-C, SIGTERM)
        leaves it unwritten, its row files removed: packaging a workbook nobody will read
        took as long as the export."""
        try:
            yield
        except BaseException:
            self.scratch.cleanup()
            raise
        self.close()

    def close(self) -> None:
        keys = self.keys if self.keys is not None else self.collected
        sources = self._write_lists(keys)
        for number, sheet in enumerate(self.layout):
            ws = self.sheets[sheet.name]
            self.streams[sheet.name].finish()
            last = max(self.rows[sheet.name], 2) - 1
            extra = self.extra if number == 0 else ()
            ws.autofilter(0, 0, last, len(sheet.fields) + len(extra) - 1)
            for col, f in enumerate(sheet.fields):
                name = choice_list(f)
                if name is None or name not in sources:
                    continue
                ws.data_validation(1, col, 1_048_575, col, _validation(f, sources[name]))
            for col, (_, _, choices) in enumerate(extra, len(sheet.fields)):
                if choices:
                    options = {"validate": "list", "source": list(choices)}
                    ws.data_validation(1, col, 1_048_575, col, options)
        self._write_instructions()
        self.book.get_worksheet_by_name(self.layout[0].name).activate()
        self.book.close()
        self.scratch.cleanup()

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
        for line in (*self.preface, *self.how_to_import, *GENERAL_INSTRUCTIONS):
            ws.merge_range(row, 0, row, 3, line, self.formats["wrap"])
            ws.set_row(row, 15 * (1 + len(line) // 160))
            row += 1
        row += 1
        for col, header in enumerate(("sheet", "column", "meaning", "values")):
            ws.write_string(row, col, header, self.formats["header"])
        row += 1
        for number, sheet in enumerate(self.layout):
            if number == 0:
                for header, meaning, choices in self.extra:
                    values = ", ".join(choices)
                    for col, text in enumerate((sheet.name, header, meaning, values)):
                        ws.write_string(row, col, text, self.formats["wrap"])
                    ws.set_row(row, _height(meaning, values))
                    row += 1
            for f in sheet.fields:
                ws.write_string(row, 0, sheet.name, self.formats["wrap"])
                ws.write_string(row, 1, f.name, self.formats["wrap"])
                meaning = f.help + (" (required)" if f.name == sheet.key_column else "")
                ws.write_string(row, 2, meaning, self.formats["wrap"])
                values = describe_values(f)
                ws.write_string(row, 3, values, self.formats["wrap"])
                ws.set_row(row, _height(meaning, values))
                row += 1


def _height(meaning: str, values: str) -> float:
    """The height of an instructions row, in points: LibreOffice does not grow rows for
    wrapped text on its own (the meaning column holds about 58 characters a line, the
    values column about 68)."""

    def lines(text: str, width: int) -> int:
        return sum(len(line) // width + 1 for line in text.split("\n"))

    return 15 * max(lines(meaning, 58), lines(values, 68))


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
    with writer.unless_stopped():
        for sheet, record in table_rows(sections):
            writer.write(sheet, record)
    return {name: row - 1 for name, row in writer.rows.items()}


def write_pack_workbook(
    path: Path,
    activities: Iterable[dict],
    keys: dict[str, list[str]],
    extra: tuple[tuple[str, str, tuple[str, ...]], ...],
    preface: tuple[str, ...],
    pages: Iterable[Any],
    controllers: list[str],
    versions: dict[str, int],
) -> dict[str, int]:
    """A review pack: the data layout of some activities (their activities, transfers and
    retention sheets, with the template's drop-downs and instructions) plus the `extra`
    columns on the activities sheet, the activities' printable pages
    (:class:`~ropa.io.xlsx_pages.ActivityPagesSheet`), and a hidden sheet of each
    activity's version when the pack was made. Returns rows per sheet."""
    from ropa.io.xlsx_pages import ActivityPagesSheet

    layout = tuple(s for s in SHEETS if s.kind is ACTIVITY)
    writer = _WorkbookWriter(
        path,
        keys,
        layout,
        extra,
        preface,
        how_to_import=(),
        instead=": make smaller packs (`--due-within`, or one owner's with `--owner`)",
    )
    with writer.unless_stopped():
        for sheet, record in table_rows([("activities", [list(activities)])]):
            writer.write(sheet, record)
        paged = ActivityPagesSheet(writer.book, controllers)
        for page in pages:
            paged.write(page)
        paged.finish()
        hidden = writer.book.add_worksheet(PACK_VERSIONS)
        hidden.write_row(0, 0, ["key", "version"])
        for row, (key, version) in enumerate(sorted(versions.items()), 1):
            hidden.write_string(row, 0, key)
            hidden.write_number(row, 1, version)
        hidden.hide()
    return {name: row - 1 for name, row in writer.rows.items()}


def write_template(path: Path, keys: dict[str, list[str]]) -> None:
    """An empty data-layout workbook whose drop-downs offer the codes and `keys`."""
    write_data_workbook(path, [], keys)
