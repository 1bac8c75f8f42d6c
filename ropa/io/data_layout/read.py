"""Reading the files of an import into tables: workbooks with python-calamine (and a scan for
formulas, which are never evaluated), CSV files with their delimiter taken from the header."""

from __future__ import annotations

import csv
import functools
import io
import itertools
import re
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ropa.errors import Problem, RopaError
from ropa.io.data_layout.sheets import INSTRUCTIONS, LISTS, PACK_VERSIONS


class CellError(str):
    """What a cell holding a spreadsheet error shows (#REF!, #N/A): the reader gives such a
    cell as empty, which an import would take as a blank."""


@dataclass
class Table:
    """The rows of one sheet or CSV file as read, the header row first: cells as the reader
    gives them. Rows are read as they are consumed (a sheet is loaded when its turn comes)."""

    source: str  # the file as the user named it
    name: str  # the sheet name, or the CSV file's stem
    rows: Iterable[tuple[int, list[Any]]]  # (row number as the user sees it, cells)
    csv: bool = False  # CSV: the kind comes from the header; a leading ' may escape a formula
    # (row, col) -> the formula of a formula cell, or the error an error cell shows
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)
    size: int | None = None  # rows, when the reader knows before reading them
    delimiter: str = ","  # a CSV file's
    headers: list[Any] = field(default_factory=list)  # set when the first row is read


def read_workbook(path: Path, name: str, pack: bool = False) -> tuple[list[Table], list[Problem]]:
    """The data sheets of a workbook; problems when it is not a readable xlsx, or when it is
    a review pack and `pack` is not set (or the record workbook)."""
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
        too_big, marked = _scan_workbook(path, name)
        if too_big:
            return [], [too_big]
        book = CalamineWorkbook.from_path(str(path))
        sheet_names = book.sheet_names
        formulas = _formula_cells(path, marked)
    except RopaError:  # a limit set wrong in the environment: said as it is
        raise
    except Exception as e:  # calamine, zipfile and XML errors all mean a damaged file
        return [], [Problem(name, f"cannot read the workbook ({type(e).__name__}: {e})")]
    if {"Cover", "Controller record", "Processor record"} & set(sheet_names):
        wanted = (
            "ropa review import applies review packs (`ropa review pack`)"
            if pack
            else "ropa imports the data layout (`ropa export xlsx --layout data`, `ropa template`)"
        )
        return [], [
            Problem(name, f"is an Article 30 record workbook, written for people; {wanted}")
        ]
    if not pack and PACK_VERSIONS in (n.strip().lower() for n in sheet_names):
        return [], [
            Problem(
                name,
                "is a review pack; apply it with `ropa review import`, which checks "
                "that its activities have not changed since it was made",
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


def _scan_workbook(path: Path, name: str) -> tuple[Problem | None, list[str]]:
    """What makes a workbook too large to open, judged before anything is expanded: a zip
    part whose declared uncompressed size or compression ratio is over the limit (a zip bomb),
    or a sheet whose declared dimension or cell positions span more rows, columns or cells
    than the limits (the reader allocates the whole rectangle: one cell at XFD1048576 asks
    for hundreds of gigabytes), or whose cells repeat more shared-string text than the limit
    (the reader copies a shared string into every cell that points at it). And the sheets
    that hold a formula or an error cell. Each sheet's XML is read once, a piece at a time:
    memory does not grow with the sheet."""
    import zipfile

    from ropa import limits

    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.file_size > limits.megabytes(limits.MEMBER_SIZE):
                size = f"{info.filename}: {info.file_size / 2**20:,.0f} MB"
                return Problem(name, limits.MEMBER_SIZE.refusal(size)), []
            ratio = info.file_size / max(info.compress_size, 1)
            if (
                info.file_size >= limits.RATIO_FLOOR_BYTES
                and ratio > limits.COMPRESSION_RATIO.value
            ):
                found = f"{info.filename}: {ratio:,.0f} to 1"
                return Problem(name, limits.COMPRESSION_RATIO.refusal(found)), []
        with_marks = []  # the sheets holding a formula or an error cell
        members = set(archive.namelist())
        try:
            shared = _shared_string_sizes(archive, members)
        except _Damaged as e:
            return Problem(name, f"is damaged: {e}"), []
        repeated = 0  # over the whole workbook: the reader holds every sheet's copies
        for sheet_name, part in _sheet_parts(archive).items():
            if part in members:
                where = f"{name}:{sheet_name}"
                try:
                    rows, columns, marked, copies = _scan_sheet(_pieces(archive, part), shared)
                except _Damaged as e:
                    return Problem(where, f"is damaged: {e}"), []
                problem = _extent_problem(rows, columns, where)
                if problem:
                    return problem, []
                repeated += copies
                if repeated > limits.megabytes(limits.EXPANDED):
                    return Problem(
                        where, limits.EXPANDED.refusal(limits.shown_mb(repeated, limits.EXPANDED))
                    ), []
                if marked:
                    with_marks.append(sheet_name)
    return None, with_marks


#: The start of a shared string (`<si>`, any prefix) and of a cell's value (`<v>`): its
#: text, and `<!` when a CDATA section or comment follows in place of text.
_SHARED_ITEM = re.compile(rb"<(?:[\w.-]+:)?si(?=[\s/>])")
_VALUE = re.compile(rb"<(?:[\w.-]+:)?v(?=[\s>])[^>]*>([^<]*)(<!)?")
_PLAIN_VALUE = re.compile(rb"<v>([0-9]{1,11})</v>")


def _shared_string_sizes(archive: Any, members: set[str]) -> array | None:
    """The size of each shared string of a workbook, by its index: the bytes of its XML (at
    least its text's), read a piece at a time; None when the workbook has none. Both the
    part the workbook's relationships name and xl/sharedStrings.xml count (the larger)."""
    from xml.etree import ElementTree as ET

    rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    parts = {"xl/sharedStrings.xml"}
    for r in rels:
        if r.get("Type", "").endswith("/sharedStrings"):
            target = r.get("Target", "")
            parts.add(target.lstrip("/") if target.startswith("/") else "xl/" + target)
    found = []
    for part in sorted(parts & members):
        starts, offset = array("q"), 0
        for piece in _pieces(archive, part):
            starts.extend(offset + m.start() for m in _SHARED_ITEM.finditer(piece))
            offset += len(piece)
        starts.append(offset)
        found.append(array("q", (b - a for a, b in itertools.pairwise(starts))))
    if not found:
        return None
    sizes = max(found, key=len)
    for other in found:
        for i, size in enumerate(other):
            sizes[i] = max(sizes[i], size)
    return sizes


def _shared_text(piece: bytes, sizes: array, largest: int) -> int:
    """The bytes of shared strings a piece of a sheet's cells hold, each string counted at
    every cell that points at it (a reader copies it into each). Every value that reads as
    an index counts, whatever its cell's type; a value written with a character reference,
    CDATA or a comment counts as the largest string."""
    count = len(sizes)
    plain = _PLAIN_VALUE.findall(piece)
    # The usual sheet: every value a plain index (the last one's may start the next piece).
    if piece.count(b"<v") == len(plain) + piece.endswith(b"<v>") and b":v" not in piece:
        found = Counter(plain)
        return sum(
            sizes[i] * n for i, n in zip(map(int, found), found.values(), strict=True) if i < count
        )
    total = 0
    for m in _VALUE.finditer(piece):
        text = m[1].strip()
        if m[2] or b"&" in text:
            total += largest
        elif text.isdigit() and len(text) < 12 and (index := int(text)) < count:
            total += sizes[index]
    return total


#: Sheet XML is scanned a piece of about this many bytes at a time.
SCAN_PIECE = 1 << 20
#: A sheet whose XML runs longer than this without a `>` is refused as damaged (the longest
#: text a cell holds, 32,767 characters, is well under it): no piece outgrows it.
SCAN_RUN_LIMIT = 8 << 20


class _Damaged(Exception):
    """A sheet's XML is nothing a spreadsheet program writes; the message says why."""


def _pieces(archive: Any, part: str) -> Iterator[bytes]:
    """The XML of a zip member in pieces, each cut just after a `>`: none of the patterns the
    scan looks for holds a `>` but at its end, so none is cut in two."""
    with archive.open(part) as f:
        pending: list[bytes] = []
        waiting = 0
        while chunk := f.read(SCAN_PIECE):
            cut = chunk.rfind(b">") + 1
            if not cut:
                pending.append(chunk)
                waiting += len(chunk)
                if waiting > SCAN_RUN_LIMIT:
                    raise _Damaged(f"over {SCAN_RUN_LIMIT // 2**20} MB of its XML hold no `>`")
                continue
            yield b"".join([*pending, chunk[:cut]])
            pending = [chunk[cut:]]
            waiting = len(pending[0])
        if pending:
            yield b"".join(pending)


_DIMENSION = re.compile(rb'dimension ref="(?:[A-Z]+[0-9]+:)?([A-Z]+)([0-9]+)"')
# Positions as spreadsheet programs write them (`<row r="12" …>`, `<c r="B12" …>`, the
# position first): searched fast. A piece that writes any otherwise (another attribute
# first, single quotes, white space around `=`, lower case, a character reference, a
# namespace prefix) is read tag by tag instead: the reader takes them all the same.
_ROW_NUMBER = re.compile(rb'<row r="([0-9]+)"')
_USUAL_CELL = re.compile(rb'<c r="(?![A-Z]{1,3}[0-9]{1,7}")')
_USUAL_ROW = re.compile(rb'<row r="(?![0-9]{1,7}")')
_ODD_CELL_TAG = re.compile(rb'<c(?=[\s/>])(?! r=")')
_ODD_ROW_TAG = re.compile(rb'<row(?=[\s/>])(?! r=")')
_PREFIXED_TAG = re.compile(rb"<[\w.-]+:(?:c|row)(?=[\s/>])")
_POSITIONED = re.compile(rb"<(?:[\w.-]+:)?(c|row)(?=[\s/>])([^>]*)>")
_POSITION = re.compile(rb"""(?:^|\s)r\s*=\s*(["'])(.*?)\1""", re.DOTALL)
_CELL_REF = re.compile(rb"([A-Za-z]+)([0-9]+)")
#: What a formula element starts with, with or without a namespace prefix: `<f>`, `<f t=…>`,
#: `<f/>`, `<x:f …>` (its end tag may hold white space: `</f >`). Plain byte searches for
#: the two letters are much faster over the sheet XML than a regular expression.
_FORMULA_LEADS = (b"<f", b":f")
_AFTER_FORMULA_LEAD = frozenset(b"> /\t\n\r")


def _scan_sheet(pieces: Iterable[bytes], shared: array | None = None) -> tuple[int, int, bool, int]:
    """The rows and columns a sheet spans (as declared, or as far as its row numbers, row
    count and cell positions reach; the search for columns stops past the limit), whether
    it holds a formula or an error cell, and the bytes of the `shared` strings its cells
    repeat."""
    from ropa import limits

    rows, count, columns, formulas, repeated = 0, 0, 1, False, 0
    far_row = _cell_in_row_from(len(str(limits.ROWS.value)))
    largest = max(shared, default=0) if shared else 0
    for number, piece in enumerate(pieces):
        if shared:
            repeated += _shared_text(piece, shared, largest)
        if number == 0 and (declared := _DIMENSION.search(piece, 0, 4096)):
            rows, columns = _number(declared[2]), max(columns, _column_number(declared[1]))
        row_tags = piece.count(b"<row")
        count += row_tags
        formulas = formulas or _has_formula(piece) or _has_error(piece)
        if _unusual(piece, row_tags):
            far_row_at, far_column = _positions(piece)
            rows, columns = max(rows, far_row_at), max(columns, far_column)
            continue
        rows = max(rows, max(map(_number, _ROW_NUMBER.findall(piece)), default=0))
        rows = max(rows, max(map(_number, far_row.findall(piece)), default=0))
        at = 0
        while columns <= limits.COLUMNS.value and (
            beyond := _column_above(columns).search(piece, at)
        ):
            columns = _column_number(beyond[1])
            at = beyond.end()
    return max(rows, count), columns, formulas, repeated


def _unusual(piece: bytes, row_tags: int) -> bool:
    """Whether a piece writes a row or cell position otherwise than `r="…"` first (`row_tags`:
    how often it holds `<row`). Counts first: the searches run on the few pieces where the
    counts differ (the one holding `<cols>`, the one holding `<rowBreaks>`)."""
    return (
        (piece.count(b"<c") != piece.count(b'<c r="') and _ODD_CELL_TAG.search(piece) is not None)
        or (row_tags != piece.count(b'<row r="') and _ODD_ROW_TAG.search(piece) is not None)
        or ((b":c" in piece or b":row" in piece) and _PREFIXED_TAG.search(piece) is not None)
        or _USUAL_CELL.search(piece) is not None
        or _USUAL_ROW.search(piece) is not None
    )


def _positions(piece: bytes) -> tuple[int, int]:
    """The furthest row and column the row and cell tags of a piece name, read tag by tag."""
    rows = columns = 0
    for tag, attributes in _POSITIONED.findall(piece):
        found = _POSITION.search(attributes)
        if found is None:
            continue
        value = found[2].strip()
        if b"&" in value:
            raise _Damaged("a row or cell position is written with a character reference")
        if tag == b"row":
            rows = max(rows, _number(value) if value.isdigit() else 0)
        elif reference := _CELL_REF.fullmatch(value):
            rows = max(rows, _number(reference[2]))
            columns = max(columns, _column_number(reference[1].upper()))
    return rows, columns


def _number(digits: bytes) -> int:
    """A row number as written (past 30 digits, 10**30: Python refuses to read thousands)."""
    return int(digits) if len(digits) <= 30 else 10**30


def _column_number(letters: bytes) -> int:
    """A column's number from its letters (A is 1), however many letters there are."""
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


@functools.cache
def _cell_in_row_from(digits: int) -> re.Pattern[bytes]:
    """A pattern finding a cell reference whose row number has `digits` digits or more (in
    a row past the limit, or near it); its group is the row number."""
    return re.compile(rb'<c r="[A-Z]+([0-9]{%d,})"' % digits)


def _has_formula(piece: bytes) -> bool:
    for lead in _FORMULA_LEADS:
        at = piece.find(lead)
        while at >= 0:
            if piece[at + 2 : at + 3] and piece[at + 2] in _AFTER_FORMULA_LEAD:
                return True
            at = piece.find(lead, at + 2)
    return False


#: A cell's type `e`: it holds a spreadsheet error.
_ERROR_TYPE = re.compile(rb"""\st\s*=\s*(["'])e\1""")


def _has_error(piece: bytes) -> bool:
    """Whether a piece of a sheet holds an error cell (t="e", however spaced and quoted)."""
    return (b'"e"' in piece or b"'e'" in piece) and _ERROR_TYPE.search(piece) is not None


def _extent_problem(rows: int, columns: int, where: str) -> Problem | None:
    from ropa import limits

    if rows > limits.ROWS.value:
        return Problem(where, limits.ROWS.refusal(f"{rows:,}"))
    if columns > limits.COLUMNS.value:
        return Problem(where, limits.COLUMNS.refusal(f"{columns:,}"))
    allowed = max(limits.CELLS.value // max(rows, 1), 1)
    if columns > allowed:
        return Problem(where, limits.CELLS.refusal(f"{rows:,} rows × {columns:,} columns"))
    return None


@functools.cache
def _column_above(number: int) -> re.Pattern[bytes]:
    """A pattern finding a cell reference written as spreadsheet programs do (`<c r="…"`)
    whose column is beyond `number`; its group is the column's letters."""
    from xlsxwriter.utility import xl_col_to_name

    letters = xl_col_to_name(number - 1)
    options = [f"[A-Z]{{{len(letters) + 1},}}"]
    for i, char in enumerate(letters):
        if char < "Z":
            rest = len(letters) - i - 1
            options.append(f"{letters[:i]}[{chr(ord(char) + 1)}-Z][A-Z]{{{rest}}}")
    return re.compile(f'<c r="((?:{"|".join(options)}))[0-9]'.encode())


def _formula_cells(path: Path, sheet_names: list[str]) -> dict[str, dict[tuple[int, int], str]]:
    """The formulas and errors (:class:`CellError`) of each of the sheets named (those the
    scan found a formula or an error cell in) by (row, column) number, 1-based."""
    import zipfile
    from xml.etree import ElementTree as ET

    from xlsxwriter.utility import xl_cell_to_rowcol

    found: dict[str, dict[tuple[int, int], str]] = {}
    if not sheet_names:
        return found
    with zipfile.ZipFile(path) as archive:
        parts = _sheet_parts(archive)
        for sheet_name in sheet_names:
            cells: dict[tuple[int, int], str] = {}
            with archive.open(parts[sheet_name]) as f:
                for _, element in ET.iterparse(f):
                    if element.tag.endswith("}c") or element.tag == "c":
                        formula = next((e for e in element if e.tag.endswith("f")), None)
                        row, col = xl_cell_to_rowcol(element.get("r", "A1"))
                        if element.get("t") == "e":
                            shown = next((e.text for e in element if e.tag.endswith("v")), "")
                            cells[(row + 1, col + 1)] = CellError(shown or "")
                        elif formula is not None:
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
    from ropa import limits

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
    if size >= limits.ROWS.value:
        # More lines than the limit allows rows (a quoted cell may span lines): the rows
        # are counted, and the file refused before any of them is parsed or held.
        try:
            for _ in rows:
                pass
        except CsvBroken as e:
            return [], [e.problem]
        rows = _csv_rows(path, text, name, delimiter)
    return [Table(name, Path(name).stem, rows, csv=True, size=size, delimiter=delimiter)], []


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
    from ropa import limits

    number = 0
    most_rows, most_columns = limits.ROWS.value, limits.COLUMNS.value
    with open(path, encoding="utf-8-sig", newline="") if text is None else io.StringIO(text) as f:
        try:
            # strict: a quote that never closes is an error, not the rest of the file in a cell
            for number, cells in enumerate(csv.reader(f, delimiter=delimiter, strict=True), 1):
                if number > most_rows:
                    raise CsvBroken(Problem(f"{name}:{number}", limits.ROWS.refusal()))
                if len(cells) > most_columns:
                    found = f"{len(cells):,}"
                    raise CsvBroken(Problem(f"{name}:{number}", limits.COLUMNS.refusal(found)))
                yield number, cells
        except csv.Error as e:
            raise CsvBroken(Problem(f"{name}:{number + 1}", _csv_trouble(e))) from None
        except UnicodeDecodeError:
            raise CsvBroken(Problem(name, NOT_UTF8)) from None


def _csv_trouble(error: csv.Error) -> str:
    if "unexpected end of data" in str(error):
        return "cannot read CSV: a quoted cell starting in this row is never closed"
    return f"cannot read CSV: {error}"


class CsvBroken(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem
