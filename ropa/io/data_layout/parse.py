"""Turning tables into records: which sheet a table holds, its header, every cell parsed by
its column's field parser, transfers and retention rows given to their activities."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from ropa.errors import Problem
from ropa.io.data_layout.read import CellError, CsvBroken, Table
from ropa.io.data_layout.sheets import BY_NAME, SHEETS, Sheet, sheet_for_kind
from ropa.io.safe_csv import unescape as unescape_csv
from ropa.schema import KINDS, Field, T
from ropa.validate import PARSERS, Where, closest, lacks, parse_field

EXCEL_EPOCH = date(1899, 12, 30)


class SheetRow(Where):
    """`FILE:SHEET:ROW`, locating fields by column: `FILE:SHEET:ROW:COLUMN`. For an activity,
    the rows of its transfers and retention rules locate their columns in those sheets."""

    #: The rows of an activity's transfers and retention rules, by list field, in list
    #: order; None (the class default, so that creating a row costs nothing more) until
    #: :meth:`add_nested` gives the row its first.
    nested: dict[str, list[SheetRow]] | None = None
    #: A row changes only the fields it has cells for (not blank, under --blank keep).
    whole = False
    #: The fields whose cells were empty and left out of the record (`--blank keep`): an
    #: empty cell of an existing record leaves the stored value alone.
    blank: tuple[str, ...] = ()

    def at(self, name: str) -> str:
        """The place of one column of the row: `FILE:SHEET:ROW:COLUMN`."""
        return f"{self}:{name}"

    def item(self, name: str, position: int, sub: str) -> str:
        """The place of a column of a nested row: found in its own sheet when the row came
        from one (:meth:`add_nested`), else the activity's `name` column."""
        rows = self.nested.get(name) if self.nested else None
        if rows and position < len(rows):
            return rows[position].at(sub)
        return self.at(name)

    def add_nested(self, name: str, row: SheetRow) -> None:
        """Record that the next item of the list field `name` comes from `row`."""
        if self.nested is None:
            self.nested = {}
        self.nested.setdefault(name, []).append(row)


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
    nested: list[NestedRow] = field(default_factory=list)  # or NestedRows, to be batched
    nested_sheets: set[str] = field(default_factory=set)
    kinds: set[str] = field(default_factory=set)  # the kinds whose sheet is present
    keep_blank: bool = True  # an empty cell leaves a stored value alone (--blank keep)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: With `parse_tables(stream=True)`: the activity records of each activity sheet,
    #: parsed as they are consumed (their problems join `problems` as they are met).
    streams: list[Iterator[tuple[Where, dict]]] = field(default_factory=list)


def _normal_header(value: Any) -> str:
    """A header (or sheet name) as a field name: trimmed, lower case, spaces as `_`."""
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
    if not headers:
        return None, "has no header row: its first row names the columns (see `ropa template`)"
    fitting = [s for s in SHEETS if headers <= set(s.columns)]
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


def parse_tables(
    tables: list[Table], kind: str | None = None, keep_blank: bool = True, stream: bool = False
) -> ParsedTables:
    """Parse every row of the tables into records (absent columns stay absent, as in a
    document) and nested rows; collect every problem. With `keep_blank` an empty cell of a
    kind's sheet is left out of its record too (so it keeps a stored value); otherwise it is
    the field's empty value. With `stream`, the rows of activity sheets are left to be parsed
    as :attr:`ParsedTables.streams` are consumed (their headers are read now)."""
    out = ParsedTables(keep_blank=keep_blank)
    if stream:
        out.nested = NestedRows()  # type: ignore[assignment]
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
            out.problems.append(
                Problem(
                    f"{table.source}:{table.name}",
                    f"the sheet is damaged and cannot be read ({_sentence(e, table.name)})",
                )
            )
            recognised[table.source] = True  # its one problem is said: not "no data sheet"
            continue
        table.headers, table.rows = (list(first[1]) if first else []), rows
        if first:  # a column name showing a spreadsheet error: its cells would be lost
            out.problems += [
                Problem(
                    f"{table.source}:{table.name}:{row}:{col}",
                    f"the header cell holds the spreadsheet error {mark}; type the column's name",
                )
                for (row, col), mark in sorted(table.formulas.items())
                if row == first[0] and isinstance(mark, CellError)
            ]
        sheet, why = detect_sheet(table, kind)
        if sheet is None:
            if table.csv:
                out.problems.append(Problem(table.source, why or "unknown kind"))
            else:
                out.warnings.append(f"{table.source}:{table.name}: {why}")
            continue
        recognised[table.source] = True
        if sheet.nested is None:
            out.kinds.add(sheet.kind.name)
        if stream and sheet.nested is None and sheet.kind.name == "activity":
            header = _map_header(table.headers, sheet, _prefix(table, sheet), out)
            if header is not None:
                out.streams.append(_streamed_records(table, sheet, header, out))
            continue
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


#: A column as rows are parsed: its position, field, name, the field's parser, the value an
#: empty cell stands for, and whether the field is a list.
_Column = tuple[int, Field, str, Callable[[Field, Any], Any], Any, bool]


@dataclass(frozen=True)
class _Header:
    """A table's header row mapped to its sheet's fields: what every row is parsed with."""

    prefix: str  # FILE:SHEET, the start of every place in the table
    columns: list[_Column]  # the known columns, left to right
    present: set[str]  # the names of the known and unknown columns
    key_at: int  # the position of the key (or activity) column
    unnamed: list[int]  # the positions of columns with an empty header
    nested: bool  # a transfers or retention sheet: rows of a list, not records
    width: int  # how many cells the header row has


def _parse_table(table: Table, sheet: Sheet, out: ParsedTables) -> None:
    """Parse the rows of a table that holds `sheet` into `out`: the header is mapped to the
    sheet's fields, every row parsed cell by cell, checked, and kept as a record or as a
    nested row for :func:`attach_nested`."""
    header = _map_header(table.headers, sheet, _prefix(table, sheet), out)
    if header is None:
        return
    keep = _keep_nested_row if sheet.nested else _keep_record
    if sheet.nested:
        _note_nested_sheet(sheet, header, out)
    for where, given, values, failed in _parse_rows(table, header, out):
        if given is None:
            _report_missing_key(sheet, where, out)
        else:
            keep(sheet, where, given, values, failed, out)


def _prefix(table: Table, sheet: Sheet) -> str:
    """FILE:SHEET, the start of every place in a table."""
    return f"{table.source}:{sheet.name if table.csv else table.name}"


def _streamed_records(
    table: Table, sheet: Sheet, header: _Header, out: ParsedTables
) -> Iterator[tuple[Where, dict]]:
    """The records of a kind's sheet as :func:`_parse_table` keeps them, one by one."""
    kept = out.records[sheet.kind.name]  # each record passes through, and is let go
    try:
        for where, given, values, failed in _parse_rows(table, header, out):
            if given is None:
                _report_missing_key(sheet, where, out)
                continue
            _keep_record(sheet, where, given, values, failed, out)
            if kept:
                yield kept.pop()
    except CsvBroken as e:
        out.problems.append(e.problem)


def _map_header(headers: list[Any], sheet: Sheet, prefix: str, out: ParsedTables) -> _Header | None:
    """The header row's columns matched to the sheet's fields by normalised name. A column
    named twice is a problem, an unknown column a warning (its cells are ignored); None, with
    a problem, when the key (or activity) column is missing."""
    known: list[tuple[int, Field]] = []
    seen: dict[str, int] = {}
    unnamed: list[int] = []
    by_name = {f.name: f for f in sheet.fields}
    for col, header in enumerate(headers):
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
        known.append((col, by_name[name]))
    if sheet.key_column not in seen:
        out.problems.append(
            Problem(f"{prefix}:1", f"missing the required column {sheet.key_column!r}")
        )
        return None
    columns = [(col, f, f.name, PARSERS[f.type], _empty(f, sheet), f.is_list) for col, f in known]
    return _Header(
        prefix,
        columns,
        set(seen),
        seen[sheet.key_column],
        unnamed,
        sheet.nested is not None,
        len(headers),
    )


def _note_nested_sheet(sheet: Sheet, header: _Header, out: ParsedTables) -> None:
    """Record that the import has a transfers or retention sheet (its rows replace the
    activities' old ones), with a warning when some of its columns are missing."""
    assert sheet.nested is not None
    out.nested_sheets.add(sheet.nested.name)
    missing = [c for c in sheet.columns if c not in header.present]
    if missing:
        out.warnings.append(
            f"{header.prefix}:1: no column {', '.join(missing)}: the {sheet.nested.name} rows "
            f"of the activities it lists replace their old ones, and will have none"
        )


def _parse_rows(
    table: Table, header: _Header, out: ParsedTables
) -> Iterator[tuple[SheetRow, Any, dict[str, Any], bool]]:
    """(place, key as given, values by field, whether a cell failed) for every row that is
    not empty. Each cell is parsed by its column's parser; a cell that does not parse is a
    problem and None. An empty cell is the field's empty value; a formula cell counts as its
    stored value; cells under an empty header are ignored, with one warning per table."""
    # The hot path of an import: what every cell needs is bound once, per table.
    prefix, columns, key_at, unnamed = header.prefix, header.columns, header.key_at, header.unnamed
    escaped = table.csv
    formulas = table.formulas
    # Blank cells are left out of records of a kind's sheet with --blank keep (and those of
    # the fields that always have a value with --blank clear too); the rows of transfers and
    # retention are whole rows, an empty cell there is empty.
    leave_out = out.keep_blank and not header.nested
    problems = out.problems
    warned_unnamed = False
    for number, cells in table.rows:
        if not any(cells) and all(c == "" or c is None for c in cells):
            continue  # empty rows are skipped
        if escaped and not "".join(cells).strip():
            continue  # and so is a CSV row of spaces
        where = SheetRow(f"{prefix}:{number}")
        width = len(cells)
        given = cells[key_at] if key_at < width else None
        if given == "":
            given = None
        values: dict[str, Any] = {}
        blank: list[str] | None = None
        failed = False
        for col, f, name, parse, empty, is_list in columns:
            value = cells[col] if col < width else None
            if formulas and (number, col + 1) in formulas:
                value = _formula_value(formulas[(number, col + 1)], value, where.at(name), out)
                if col == key_at:
                    given = value if value != "" else None
            if value == "" or value is None:
                if leave_out or empty is KEPT:
                    if blank is None:
                        blank = []
                    blank.append(name)
                else:
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
        if escaped and width > header.width and "".join(cells[header.width :]).strip():
            # An unquoted delimiter in a cell shifts the rest of its row: none of it is sure.
            problems.append(
                Problem(
                    str(where),
                    f"{width} cells where the header has {header.width}; a cell holding a "
                    f"{_DELIMITERS[table.delimiter]} must be in "
                    "double quotes",
                )
            )
            failed = True
        if (
            unnamed
            and not warned_unnamed
            and any(c < width and cells[c] not in ("", None) for c in unnamed)
        ):
            out.warnings.append(f"{prefix}:{number}: cells under an empty header are ignored")
            warned_unnamed = True
        if blank:
            where.blank = tuple(blank)
        yield where, given, values, failed


def _report_missing_key(sheet: Sheet, where: SheetRow, out: ParsedTables) -> None:
    """A row without its key (or activity) is a problem, and is left out."""
    needs = "an activity" if sheet.nested else "a key"
    out.problems.append(Problem(where.at(sheet.key_column), f"every row needs {needs}"))


def _keep_record(
    sheet: Sheet,
    where: SheetRow,
    given: Any,
    values: dict[str, Any],
    failed: bool,
    out: ParsedTables,
) -> None:
    """A row of a kind's sheet into `out` as a record, when its key parsed."""
    if values.get("key") is not None:
        out.records[sheet.kind.name].append((where, values))


def _keep_nested_row(
    sheet: Sheet,
    where: SheetRow,
    given: Any,
    values: dict[str, Any],
    failed: bool,
    out: ParsedTables,
) -> None:
    """A transfers or retention row into `out` for :func:`attach_nested`: its activity as
    written, every column present. A row its field cannot be without (a transfer without a
    country) is a problem, unless one of its cells already failed."""
    assert sheet.nested is not None
    activity = str(values.pop("activity") or given).strip()
    lacking = None if failed else lacks(sheet.nested, values)
    if lacking:
        out.problems.append(Problem(where.at(lacking[0]), lacking[1]))
    for sub in sheet.nested.nested:  # a nested row has every column
        values.setdefault(sub.name, None)
    out.nested.append(NestedRow(sheet, activity, values, where))


#: A CSV file's delimiter, in words.
_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}

#: What an empty cell of a field that always has a value means, even with --blank clear:
#: the stored value stays (clearing a draft's status would have made it active).
KEPT = object()


def _empty(f: Field, sheet: Sheet) -> Any:
    """What an empty cell means for a field: its empty value (a key is never empty), or
    :data:`KEPT` for a field of a kind's sheet that always has a value."""
    if f.always_valued and not sheet.nested:
        return KEPT
    return None if f.type is T.KEY else parse_field(f, None)


def _formula_value(formula: str, stored: Any, where: str, out: ParsedTables) -> Any:
    """A formula cell counts as the value the file stores for it; it is never evaluated. A
    cell holding a spreadsheet error is a problem (not an empty cell)."""
    if isinstance(formula, CellError):
        error = f" {formula}" if formula else ""
        out.problems.append(
            Problem(where, f"holds the spreadsheet error{error}; type the value, or clear the cell")
        )
        return None
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

    A nested sheet that is present holds all the rows of the activities it names. An
    activity of the import without rows there has none, except an existing activity under
    `--blank keep` (the default), which keeps its list as a blank cell keeps a value. A row
    names its activity by key or exact name, among the imported activities or the `existing`
    ones ({key: name}); an existing activity named only there is imported with just that
    list."""
    problems: list[Problem] = []
    if not parsed.nested_sheets:
        return problems
    by_key = {record["key"]: (where, record) for where, record in activities}
    by_name = {r["name"].lower(): k for k, (_, r) in by_key.items() if r.get("name")}
    existing_by_name: dict[str, str] | None = None
    keep = parsed.keep_blank
    listed = list(activities)  # the activities the import names, before rows add others
    for _, record in listed:
        if not (keep and record["key"] in existing):  # an existing one's lists come with rows
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
            record = {"key": key} if keep else {n: [] for n in parsed.nested_sheets}
            record["key"] = key
            by_key[key] = (row.where, record)
            activities.append((row.where, record))
        where, record = by_key[key]
        name = row.sheet.nested.name
        record.setdefault(name, []).append(row.values)
        if isinstance(where, SheetRow):
            where.add_nested(name, row.where)
    if keep:  # an existing activity without rows kept its list: a blank, as cells are
        for where, record in listed:
            missing = [n for n in sorted(parsed.nested_sheets) if n not in record]
            if missing and isinstance(where, SheetRow):
                where.blank = (*where.blank, *missing)
    return problems


_SHEET_NUMBER = {sheet.name: i for i, sheet in enumerate(SHEETS)}


class NestedRows:
    """The transfers and retention rows of an import that is read in batches, so that each
    batch of activities takes the rows that name it (:meth:`take`); what is left at the end
    names activities outside the import (:meth:`rest`). Up to :attr:`IN_MEMORY` rows are held
    as they are; past that they go to a private temporary SQLite file as they are parsed
    (memory holds a few thousand of them)."""

    IN_MEMORY = 50_000  # rows held without a file (a 15,000-activity register has about as many)
    _SPOOL = 5_000  # rows written to the file together
    _CHUNK = 500  # keys per IN (...) clause
    _WIDTH = max(len(s.nested.nested) for s in SHEETS if s.nested)  # value columns

    def __init__(self) -> None:
        self._held: list[NestedRow | None] = []  # in file order; None once taken
        # Positions in _held by activity as written and lowered, made on the first take.
        self._places: tuple[dict[str, list[int]], dict[str, list[int]]] | None = None
        self._db: Any = None
        self._pending: list[tuple] = []
        self._count = 0
        self._spooled = 0
        self._indexed = False
        self._layouts: dict[tuple[str, ...], int] = {}  # a row's value names, in order
        self._names: dict[int, tuple[str, ...]] = {}

    def append(self, row: NestedRow) -> None:
        """Keep one more row (:func:`_keep_nested_row`)."""
        self._count += 1
        if not self._spooled and self._count <= self.IN_MEMORY:
            self._held.append(row)
            return
        if self._held:  # past the limit: the rows held so far go to the file first
            held, self._held, self._places = self._held, [], None
            for kept in held:
                if kept is not None:
                    self._spool(kept)
            self._flush()
        self._spool(row)

    def _spool(self, row: NestedRow) -> None:
        values = row.values
        names = tuple(values)
        layout = self._layouts.setdefault(names, len(self._layouts))
        cells = list(values.values())
        if len(cells) > self._WIDTH or any(not (c is None or type(c) is str) for c in cells):
            import pickle  # a value that is not text (never, as the parsers are)

            cells = [pickle.dumps(values)]
            layout = -1
        cells += [None] * (self._WIDTH - len(cells))
        activity = row.activity
        self._spooled += 1  # the row's place in the file: rows come back in file order
        self._pending.append(
            (
                self._spooled,
                activity,
                activity.lower(),
                _SHEET_NUMBER[row.sheet.name],
                row.where,
                layout,
                *cells,
            )
        )
        if len(self._pending) >= self._SPOOL:
            self._flush()

    def __len__(self) -> int:
        return self._count

    def _flush(self) -> None:
        columns = [f"v{i}" for i in range(self._WIDTH)]
        if self._db is None:
            import sqlite3

            self._db = sqlite3.connect("")  # a temporary file, deleted when closed
            self._db.execute(
                "CREATE TABLE nested (seq INTEGER PRIMARY KEY, activity TEXT, lowered TEXT, "
                f"sheet INTEGER, place TEXT, layout INTEGER, {', '.join(columns)})"
            )
        if self._pending:
            marks = ", ".join("?" * (6 + self._WIDTH))
            self._db.executemany(f"INSERT INTO nested VALUES ({marks})", self._pending)
            self._pending = []

    def _rows(self, sql: str, params: list[str]) -> list[tuple]:
        return self._db.execute(sql, params).fetchall()

    def take(self, activities: list[tuple[Where, dict]]) -> list[NestedRow]:
        """The rows naming one of these activities by key or by name (ignoring case), in
        file order; they are not given again."""
        if not self._count:
            return []
        keys = [r["key"] for _, r in activities]
        names = [r["name"].lower() for _, r in activities if r.get("name")]
        if not self._spooled:
            return self._take_held(keys, names)
        self._flush()
        if not self._indexed:
            self._db.execute("CREATE INDEX nested_activity ON nested (activity)")
            self._db.execute("CREATE INDEX nested_lowered ON nested (lowered)")
            self._indexed = True
        found: dict[int, tuple] = {}
        for column, values in (("activity", keys), ("lowered", names)):
            for start in range(0, len(values), self._CHUNK):
                chunk = values[start : start + self._CHUNK]
                marks = ", ".join("?" * len(chunk))
                for row in self._rows(f"SELECT * FROM nested WHERE {column} IN ({marks})", chunk):
                    found[row[0]] = row
        taken = [found[seq] for seq in sorted(found)]
        for start in range(0, len(taken), self._CHUNK):
            chunk = [str(row[0]) for row in taken[start : start + self._CHUNK]]
            self._db.execute(f"DELETE FROM nested WHERE seq IN ({', '.join(chunk)})")
        return [self._row(row) for row in taken]

    def _take_held(self, keys: list[str], names: list[str]) -> list[NestedRow]:
        """:meth:`take` of the rows held: the same look-ups as the file's two indexes."""
        held = self._held
        if self._places is None:
            by_activity: dict[str, list[int]] = {}
            by_lowered: dict[str, list[int]] = {}
            for i, row in enumerate(held):
                if row is not None:
                    by_activity.setdefault(row.activity, []).append(i)
                    by_lowered.setdefault(row.activity.lower(), []).append(i)
            self._places = (by_activity, by_lowered)
        by_activity, by_lowered = self._places
        found = {i for key in keys for i in by_activity.pop(key, ())}
        found.update(i for name in names for i in by_lowered.pop(name, ()))
        taken = [row for i in sorted(found) if (row := held[i]) is not None]
        for i in found:
            held[i] = None
        return taken

    def rest(self) -> list[NestedRow]:
        """The rows no batch took, in file order; then the file is let go."""
        if not self._spooled:
            left = [row for row in self._held if row is not None]
            self._held, self._places, self._count = [], None, 0
            return left
        self._flush()
        left = [self._row(row) for row in self._rows("SELECT * FROM nested ORDER BY seq", [])]
        self._db.close()
        self._db, self._count, self._spooled = None, 0, 0
        return left

    def _row(self, stored: tuple) -> NestedRow:
        _, activity, _, sheet, place, layout, *cells = stored
        if layout < 0:
            import pickle

            values = pickle.loads(cells[0])
        else:
            if len(self._names) != len(self._layouts):
                self._names = {number: names for names, number in self._layouts.items()}
            names = self._names[layout]
            values = dict(zip(names, cells[: len(names)], strict=True))
        return NestedRow(SHEETS[sheet], activity, values, SheetRow(place))


def _sentence(error: Exception, sheet: str) -> str:
    """A reader's error as a phrase inside ours: its first line, no final full stop (the
    reader names only the sheet when the sheet's part is not in the file)."""
    text = str(error).strip()
    if not text or text == sheet:
        return "its part is missing from the file"
    return text.splitlines()[0].rstrip(".")
