"""Hostile files and hostile text (issue 17, and issue 11's items 7, 8, 9 and 12): inputs that
would exhaust the machine are refused before they expand, register text reaches terminals,
CSV and Markdown literally, outputs go only to regular files, and no SQL rewrites history."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from ropa.db import Database
from tests.conftest import PG_URL

HOSTILE_NAME = "Marketing [/bold] [link=https://evil.example]x[/link] [red]red"

#: Run ropa under a 2 GB address-space cap, as a separate process (a bomb must fail the test,
#: not the machine).
CAPPED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
from ropa.cli import main
sys.argv = ["ropa", *sys.argv[1:]]
main()
"""


def run_ropa(
    db_url: str, *args: str, script: str = CAPPED, timeout: float = 120, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    env = {**os.environ, "ROPA_DB": db_url, "ROPA_ACTOR": "tester", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd,
    )


def refused(result: subprocess.CompletedProcess, *words: str) -> None:
    """Exit 1 with `error:` lines naming the words; no traceback, no signal death."""
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")
    for word in words:
        assert word in result.stderr


# -- inputs that exhaust the machine ------------------------------------------------------


def test_far_cell_workbook_is_refused_under_a_memory_cap(db, db_url, tmp_path):
    import xlsxwriter

    path = tmp_path / "far.xlsx"
    with xlsxwriter.Workbook(path) as book:
        book.add_worksheet("parties").write("XFD1048576", "x")
    assert path.stat().st_size < 40_000
    started = time.monotonic()
    result = run_ropa(db_url, "import", path)
    refused(result, "far.xlsx:parties", "ROPA_MAX_COLUMNS")
    assert time.monotonic() - started < 60


def _lying_workbook(path: Path, *, far_column: int, formula: bool = False) -> None:
    """A workbook whose sheet declares A1:B2 but, 3,000 rows down, holds a cell in column
    `far_column` (and a formula in its last row)."""
    import xlsxwriter

    with xlsxwriter.Workbook(path, {"constant_memory": True}) as book:
        sheet = book.add_worksheet("parties")
        for row in range(3000):
            sheet.write_row(row, 0, [f"key {row}", "name " * 20])
        sheet.write(3000, far_column, "far")
        if formula:
            sheet.write_formula(3001, 0, "=1+1")
    with zipfile.ZipFile(path) as archive:
        parts = {i.filename: archive.read(i) for i in archive.infolist()}
    sheet_xml = parts["xl/worksheets/sheet1.xml"]
    start = sheet_xml.index(b'<dimension ref="')
    end = sheet_xml.index(b'"/>', start)
    parts["xl/worksheets/sheet1.xml"] = (
        sheet_xml[:start] + b'<dimension ref="A1:B2' + sheet_xml[end:]
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


@pytest.mark.parametrize("piece", [1, 7, 100, 1 << 20])
def test_the_workbook_scan_reads_sheets_in_pieces_and_misses_nothing(tmp_path, monkeypatch, piece):
    """The scan of a workbook's sheets read each sheet's XML whole (and a list of its row
    numbers): 300 MB at 100,000 activities, up to the 512 MB part limit for a hostile file.
    It reads pieces now; a cell, row or formula across a cut between pieces is still seen."""
    from ropa.io.data_layout import read

    far, near = tmp_path / "far.xlsx", tmp_path / "near.xlsx"
    _lying_workbook(far, far_column=1500)
    _lying_workbook(near, far_column=900, formula=True)
    monkeypatch.setattr(read, "SCAN_PIECE", piece)
    whole = zipfile.ZipFile.read

    def read_member(archive, name, *args):
        assert not str(getattr(name, "filename", name)).startswith("xl/worksheets/"), name
        return whole(archive, name, *args)

    monkeypatch.setattr(zipfile.ZipFile, "read", read_member)
    problem, _ = read._scan_workbook(far, "far.xlsx")
    assert problem is not None and problem.where == "far.xlsx:parties"
    assert "ROPA_MAX_COLUMNS" in problem.message and "1,501" in problem.message
    assert read._scan_workbook(near, "near.xlsx") == (None, ["parties"])
    assert read._formula_cells(near, ["parties"]) == {"parties": {(3002, 1): "1+1"}}


def _sources_workbook(path: Path, rows: bytes, more: list[bytes] = ()) -> None:
    """A `sources` sheet of hand-written XML: the header row (key, name and `more`), then
    `rows`."""
    import xlsxwriter

    with xlsxwriter.Workbook(path) as book:
        book.add_worksheet("sources").write_row(0, 0, ["key", "name"])
    with zipfile.ZipFile(path) as archive:
        parts = {i.filename: archive.read(i) for i in archive.infolist()}
    header = [b"key", b"name", *more]
    parts["xl/worksheets/sheet1.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxml'
        b'formats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
        + b"".join(_cell(b"%c1" % (65 + i), h) for i, h in enumerate(header))
        + b"</row>"
        + rows
        + b"</sheetData></worksheet>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def _shared_strings_workbook(path: Path, count: int, value: bytes = b"<v>0</v>") -> None:
    """A `sources` sheet of `count` rows whose description cell is the one shared string, a
    text of 32,000 characters (the cell's XML: `value`)."""
    rows = b"".join(
        b'<row r="%d">%s%s<c r="C%d" t="s">%s</c></row>'
        % (n, _cell(b"A%d" % n, b"s%d" % n), _cell(b"B%d" % n, b"S %d" % n), n, value)
        for n in range(2, count + 2)
    )
    _sources_workbook(path, rows, [b"description"])
    with zipfile.ZipFile(path) as archive:
        parts = {i.filename: archive.read(i) for i in archive.infolist()}
    parts["xl/sharedStrings.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><si><t>' + b"x" * 32_000 + b"</t></si></sst>"
    )
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxml'
        b'formats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


@pytest.mark.parametrize(
    "value",
    [b"<v>0</v>", b"<v> 0 </v>", b'<v xml:space="preserve">0</v>', b"<v>&#48;</v>"],
    ids=["plain", "spaced", "attribute", "reference"],
)
def test_a_shared_string_repeated_beyond_the_limit_is_refused_before_the_sheet_is_read(
    initialised, registry, tmp_path, monkeypatch, value
):
    """Each cell that points at a shared string holds a copy of it once read: 20,000 cells
    pointing at one 32,000-character string (a 284 KB file) took 1.3 GB, and 60,000 ended in
    a MemoryError traceback and a panic of the reader."""
    import python_calamine

    monkeypatch.setenv("ROPA_MAX_EXPANDED_MB", "1")
    monkeypatch.setattr(
        python_calamine.CalamineWorkbook, "from_path", lambda path: pytest.fail("opened")
    )
    path = tmp_path / "shared.xlsx"
    _shared_strings_workbook(path, 40, value)
    result = initialised("import", path)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {path}:sources: text repeated by shared strings or YAML aliases "
        "(1.2 MB) exceeds the limit of 1 MB; set ROPA_MAX_EXPANDED_MB to raise it\n"
    )


def test_shared_strings_are_counted_over_the_whole_workbook(initialised, tmp_path, monkeypatch):
    """The limit was held per sheet: four sheets each just under it (a 600 KB file) took
    1.34 GB, and the reader holds every sheet's copies until the import ends."""
    import xlsxwriter

    monkeypatch.setenv("ROPA_MAX_EXPANDED_MB", "1")
    path = tmp_path / "split.xlsx"
    with xlsxwriter.Workbook(path) as book:  # shared strings: XlsxWriter's default
        for kind in ("sources", "measures"):
            sheet = book.add_worksheet(kind)
            sheet.write_row(0, 0, ["key", "name", "description"])
            for i in range(20):
                sheet.write_row(i + 1, 0, [f"{kind}-{i}", f"{kind} {i}", "y" * 32_000])
    result = initialised("import", path)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {path}:measures: text repeated by shared strings or YAML aliases "
        "(1.2 MB) exceeds the limit of 1 MB; set ROPA_MAX_EXPANDED_MB to raise it\n"
    )


def test_shared_strings_within_the_limit_are_read(initialised, registry, tmp_path, monkeypatch):
    path = tmp_path / "shared.xlsx"
    _shared_strings_workbook(path, 20)
    monkeypatch.setenv("ROPA_MAX_EXPANDED_MB", "0.5")  # said as it is, not a damaged workbook
    wrong = initialised("import", path)
    assert wrong.stderr == "error: ROPA_MAX_EXPANDED_MB='0.5' is not a whole number\n"
    monkeypatch.setenv("ROPA_MAX_EXPANDED_MB", "1")
    result = initialised("import", path)
    assert result.exit_code == 0, result.stderr
    assert {s["description"] for s in registry.list("source")} == {"x" * 32_000}


def _cell(ref: bytes, text: bytes = b"x") -> bytes:
    return b'<c r="' + ref + b'" t="inlineStr"><is><t>' + text + b"</t></is></c>"


@pytest.mark.parametrize(
    ("rows", "limit"),
    [
        # A column of four letters or more: the scan took it for column 1 and searched
        # the same cell for ever.
        (b'<row r="2">' + _cell(b"A2") + _cell(b"AAAA2") + b"</row>", "ROPA_MAX_COLUMNS"),
        (b'<row r="2">' + _cell(b"A2") + _cell(b"A" * 44 + b"2") + b"</row>", "ROPA_MAX_COLUMNS"),
        # A row number of 13 digits or more: missed, and the reader asked for 122 GB and
        # aborted the process.
        (b'<row r="1234567890123">' + _cell(b"A1234567890123") + b"</row>", "ROPA_MAX_ROWS"),
        (b'<row r="3">' + _cell(b"A" + b"9" * 20) + b"</row>", "ROPA_MAX_ROWS"),
    ],
    ids=["AAAA", "44 letters", "13-digit row", "20-digit cell row"],
)
def test_cell_positions_beyond_any_sheet_are_refused(db, db_url, tmp_path, rows, limit):
    path = tmp_path / "far.xlsx"
    _sources_workbook(path, rows)
    result = run_ropa(db_url, "import", path, timeout=60)
    refused(result, "far.xlsx:sources", limit)
    assert len(result.stderr.splitlines()) == 1


FAR = b'<row r="1048576"><c %s t="n"><v>1</v></c></row>'


@pytest.mark.parametrize(
    ("rows", "limit"),
    [
        (FAR % b"r='XFD1048576'", "ROPA_MAX_COLUMNS"),
        (FAR % b'r = "XFD1048576"', "ROPA_MAX_COLUMNS"),
        (FAR % b'r="xfd1048576"', "ROPA_MAX_COLUMNS"),
        (FAR.replace(b"<c %s", b'<c\tr="XFD1048576"'), "ROPA_MAX_COLUMNS"),
        (FAR.replace(b"<c %s", b'<c\nr="XFD1048576"'), "ROPA_MAX_COLUMNS"),
        (FAR % b's="0" r="XFD1048576"', "ROPA_MAX_COLUMNS"),
        (b"<row r='5000000'><c t=\"n\"><v>1</v></c></row>", "ROPA_MAX_ROWS"),
        (b'<row r="30000"><c r=\'ZZ30000\' t="n"><v>1</v></c></row>', "ROPA_MAX_CELLS"),
        (b'<row r="20000"><c r="ALL20000" t="n"><v>1</v></c></row>', "ROPA_MAX_CELLS"),
        (b'<row r="1048576"><c r="S1048576" t="n"><v>1</v></c></row>', "ROPA_MAX_CELLS"),
        (FAR % b'r="&#88;FD1048576"', "character reference"),
        (
            b'<row r="1048576"><x:c xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/'
            b'2006/main" r="XFD1048576" t="n"><x:v>1</x:v></x:c></row>',
            "ROPA_MAX_COLUMNS",
        ),
    ],
    ids=[
        "quotes",
        "spaces",
        "lower case",
        "tab",
        "newline",
        "not first",
        "row",
        "area",
        "area of 20 M cells",
        "19 columns to the last row",
        "entity",
        "prefix",
    ],
)
def test_positions_written_otherwise_are_read_as_the_reader_reads_them(
    db, db_url, tmp_path, rows, limit
):
    """The scan matched ` r="…"` only: single quotes, white space around `=`, lower case,
    another attribute first passed, and the reader aborted asking for 512 GB (exit 134), or
    took 1 GB for a 5,000,000th row."""
    path = tmp_path / "odd.xlsx"
    _sources_workbook(path, rows)
    result = run_ropa(db_url, "import", path, timeout=60)
    refused(result, "odd.xlsx:sources", limit)


def test_text_that_looks_like_a_cell_position_comes_back(initialised, tmp_path):
    """A description holding `r="AAAA1"` (text may hold an unescaped `"`) was taken for a
    cell of column AAAA: ropa refused its own export."""
    text = 'Markup such as <td colspan="2" r="AAAA1"> pasted; row r="99999999" too'
    added = initialised("category", "add", "html", "--name", "HTML", "--description", text)
    assert added.exit_code == 0, added.stderr
    assert initialised("export", "xlsx", "--layout", "data", "-o", "own.xlsx").exit_code == 0
    result = initialised("import", tmp_path / "own.xlsx")
    assert result.exit_code == 0, result.stderr


def test_a_sheet_without_markup_for_megabytes_is_refused_in_small_memory(db, db_url, tmp_path):
    """A run with no `>` was gathered whole to cut after one: 2.2 bytes of memory a byte."""
    path = tmp_path / "run.xlsx"
    text = os.urandom(6 << 20).hex().encode()  # 12 MB, random: past the compression limit
    _sources_workbook(path, b'<row r="2" x="' + text + b'">' + _cell(b"A2") + b"</row>")
    result = run_ropa(db_url, "import", path)
    refused(result, "run.xlsx:sources", "is damaged: over 8 MB of its XML hold no `>`")


@pytest.mark.parametrize("end", [b"</f >", b"</f\n>", b"</x:f>"])
def test_a_formula_is_found_however_its_tags_are_spelled(initialised, tmp_path, end):
    """`</f >` is valid XML: the scan looked for `</f>` only, and took the formula's stored
    value as the name without a warning."""
    path = tmp_path / "spaced.xlsx"
    main = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    start = b'<x:f xmlns:x="' + main + b'">' if end == b"</x:f>" else b"<f>"
    cell = b'<c r="B2" t="str">' + start + b'"ab"' + end + b"<v>Evil</v></c>"
    _sources_workbook(path, b'<row r="2">' + _cell(b"A2", b"fz2") + cell + b"</row>")
    result = initialised("import", path)
    assert result.exit_code == 0, result.stderr
    assert f"warning: {path}:sources:2:name: holds the formula" in result.stderr


@pytest.mark.parametrize("row", [b"-5", b"0"])
def test_a_damaged_sheet_is_one_error_line(initialised, tmp_path, row):
    path = tmp_path / "bad.xlsx"
    _sources_workbook(path, b'<row r="' + row + b'"><c r="A' + row + b'"><v>1</v></c></row>')
    result = initialised("import", path)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {path}:sources: the sheet is damaged")
    assert len(result.stderr.splitlines()) == 1, result.stderr


def test_a_sheet_missing_from_the_file_is_one_error_line(initialised, tmp_path):
    path = tmp_path / "missing.xlsx"
    _sources_workbook(path, b"")
    with zipfile.ZipFile(path) as archive:
        parts = {i.filename: archive.read(i) for i in archive.infolist()}
    del parts["xl/worksheets/sheet1.xml"]
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    result = initialised("import", path)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {path}:sources: the sheet is damaged and cannot be read (its part is "
        "missing from the file)\n"
    )


def test_zip_bomb_workbook_is_refused_before_it_is_read(db, db_url, tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(b"<worksheet><sheetData>")
            chunk = b" " * (1 << 24)
            for _ in range(96):  # 1.5 GB of nothing
                part.write(chunk)
            part.write(b"</sheetData></worksheet>")
    assert path.stat().st_size < 3_000_000
    started = time.monotonic()
    result = run_ropa(db_url, "import", path)
    refused(result, "bomb.xlsx", "ROPA_MAX_UNCOMPRESSED_MB")
    assert time.monotonic() - started < 60


def test_alias_bomb_is_refused_under_a_memory_cap(db, db_url, tmp_path):
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    document = "ropa: 1\n" + "\n".join(f"x{line}" for line in lines) + "\n"
    document += "parties:\n  - key: p1\n    name: P\n    kind: other\n    dpf_certified: *a9\n"
    path = tmp_path / "laughs.yaml"
    path.write_text(document)
    assert path.stat().st_size < 1000
    started = time.monotonic()
    result = run_ropa(db_url, "import", path)
    refused(result, "laughs.yaml", "ROPA_MAX_ALIAS_NODES")
    assert time.monotonic() - started < 60


@pytest.mark.parametrize("aliases, refused_at", [(20, None), (40, 104)])
def test_text_repeated_by_yaml_aliases_is_held_to_a_size(
    initialised, registry, monkeypatch, aliases, refused_at
):
    """The alias limit counted repeated values, not their size: 10,000 sources whose
    description is one alias of a 32,000-character text (a 500 KB file) stored 657 MB."""
    monkeypatch.setenv("ROPA_MAX_EXPANDED_MB", "1")
    text = "x" * 32_000
    sources = [f"  - key: s{i}\n    name: S {i}\n    description: *d\n" for i in range(aliases)]
    sources[0] = sources[0].replace("*d", f"&d {text}")
    document = "ropa: 1\nsources:\n" + "".join(sources)
    result = initialised("import", "-", "--format", "yaml", input=document)
    if refused_at is None:
        assert result.exit_code == 0, result.stderr
        assert len(registry.list("source")) == aliases
        return
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: <stdin>:{refused_at}:18: text repeated by shared strings or YAML aliases "
        "(1.0071 MB) exceeds the limit of 1 MB; set ROPA_MAX_EXPANDED_MB to raise it\n"
    )
    assert registry.list("source") == []


@pytest.mark.parametrize(
    "text, fmt, message",
    [
        ("[" * 5000 + "]" * 5000, "json", "nesting depth"),
        ('{"ropa": 1, "parties": [{"key": "p", "x": ' + "9" * 5000 + "}]}", "json", "digits"),
        ('{"ropa": 1, "parties": [{"key": "\\ud800"}]}', "json", "lone surrogate"),
        ("ropa: 1\nparties:\n  - key: p\n    version: " + "9" * 5000 + "\n", "yaml", "digits"),
    ],
)
def test_pathological_documents_are_one_error_line(initialised, text, fmt, message):
    result = initialised("import", "-", "--format", fmt, input=text)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: <stdin>") and message in result.stderr


def test_undecodable_stdin_is_refused(db, db_url):
    env = {**os.environ, "ROPA_DB": db_url, "LC_ALL": "C", "PYTHONUTF8": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "ropa", "import", "-", "--format", "yaml"],
        input=b"ropa: 1\nparties: [{key: p, name: \xff\xfe}]\n",
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 1 and b"Traceback" not in result.stderr
    assert result.stderr.startswith(b"error: <stdin>")


def test_duplicate_key_in_yaml_names_both_lines(initialised, tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("ropa: 1\nparties:\n  - key: p1\n    name: A\n    kind: other\n    name: B\n")
    result = initialised("import", path)
    assert result.exit_code == 1
    assert f"error: {path}:6:5: invalid YAML: duplicate key 'name' (first at line 4, again at " in (
        result.stderr
    )


def test_duplicate_key_in_json_names_both_lines(initialised, tmp_path):
    path = tmp_path / "dup.json"
    path.write_text('{\n "ropa": 1,\n "parties": [\n  {"key": "p1",\n   "key": "p2"}\n ]\n}\n')
    result = initialised("import", path)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {path}:5: duplicate key 'key' (first at line 4, again at line 5)\n"
    )


def test_csv_with_a_quote_that_never_closes_names_its_row(initialised, tmp_path):
    path = tmp_path / "parties.csv"
    path.write_text('key,name,kind\np1,Fine,other\np2,"Broken,other\np3,Lost,other\n')
    result = initialised("import", path)
    assert result.exit_code == 1
    assert f"{path}:3: cannot read CSV: a quoted cell starting in this row is never closed" in (
        result.stderr
    )
    assert initialised("party", "list", "-f", "json").stdout.strip() == "[]"


@pytest.mark.parametrize("multiline", [False, True])
def test_a_csv_file_over_the_row_limit_is_refused_before_its_rows_are_parsed(
    initialised, tmp_path, monkeypatch, multiline
):
    """The row limit was met only after every row before it had been parsed and held as a
    record: 1.1 million sources (17 MB) took 1.5 GB and 18 s before the refusal. Lines that
    a quoted cell spans are not rows: such a file under the limit is read."""
    import ropa.io.data_layout.parse as parse

    monkeypatch.setenv("ROPA_MAX_ROWS", "1000")
    path = tmp_path / "sources.csv"
    cell = '"two\nlines"' if multiline else "one line"
    rows = 700 if multiline else 1500
    path.write_text("key,name,description\n" + "".join(f"s{i},S {i},{cell}\n" for i in range(rows)))
    if not multiline:
        monkeypatch.setattr(parse, "_parse_rows", lambda *a: pytest.fail("rows were parsed"))
    result = initialised("import", path)
    if multiline:
        assert result.exit_code == 0, result.stderr
        assert len(initialised("source", "list", "-f", "json").stdout.splitlines()) > 700
        return
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {path}:1001: number of rows exceeds the limit of 1,000; set ROPA_MAX_ROWS to "
        "raise it\n"
    )


def test_fifo_and_device_in_an_imported_folder_are_refused(db, db_url, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    os.mkfifo(folder / "x.csv")
    (folder / "zero.csv").symlink_to("/dev/zero")
    result = run_ropa(db_url, "import", folder, timeout=60)
    refused(result, "x.csv: is a FIFO; ropa reads regular files only", "zero.csv: is a device")


# -- text that turns into something else on the way out ----------------------------------


@pytest.fixture
def hostile(initialised, tmp_path):
    """A register holding a party whose name is markup, a link and control characters."""
    document = {
        "ropa": 1,
        "parties": [
            {"key": "p1", "name": HOSTILE_NAME, "kind": "other", "notes": "=HYPERLINK(1)"},
            {"key": "p2", "name": '=cmd|" /C calc"!A0', "kind": "other", "address": "@SUM(1)"},
        ],
        "activities": [{"key": "a1", "name": "+SUM(1)"}],  # incomplete: `check` names it
    }
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(document))
    result = initialised("--actor", '=HYPERLINK("x")', "import", path, "-m", "+1+cmd")
    assert result.exit_code == 0, result.stderr
    return initialised


SHOWN = HOSTILE_NAME


@pytest.mark.parametrize(
    "args", [("party", "list"), ("party", "show", "p1"), ("history",)], ids=" ".join
)
def test_markup_and_control_characters_are_printed_literally(hostile, args):
    result = hostile(*args)
    assert result.exit_code == 0
    flat = result.stdout.replace("\n", "").replace("│", "").replace(" ", "")
    if args != ("history",):
        assert SHOWN.replace(" ", "") in flat
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout


def test_control_characters_in_an_error_are_shown_escaped(initialised):
    result = initialised("party", "show", "p\x1b]8;;x\x07")
    assert result.exit_code == 1
    assert "\x1b" not in result.stderr and "\\x1b]8;;x\\x07" in result.stderr


def test_diff_prints_a_markup_name_literally(hostile):
    yesterday = (date.today() - timedelta(days=1)).isoformat()  # midnight may fall between
    result = hostile("diff", "--since", yesterday)
    assert result.exit_code == 0
    assert SHOWN.replace(" ", "") in result.stdout.replace("\n", "").replace("│", "").replace(
        " ", ""
    )


@pytest.mark.parametrize(
    "args",
    [
        ("party", "list", "-f", "csv"),
        ("party", "show", "p2", "-f", "csv"),
        ("history", "-f", "csv"),
        ("check", "-f", "csv"),
        ("db", "info", "-f", "csv"),
    ],
    ids=" ".join,
)
def test_no_csv_cell_from_any_command_starts_a_formula(hostile, args):
    result = hostile(*args)
    assert result.exit_code in (0, 1), result.stderr
    cells = [c for row in csv.reader(io.StringIO(result.stdout)) for c in row]
    assert cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    if args[0] != "db":
        assert any(c.startswith("'=") or c.startswith("'+") for c in cells)


def test_markdown_diff_holds_no_raw_tag(initialised, tmp_path):
    from markdown_it import MarkdownIt

    name = "<script>alert(1)</script> [click](javascript:alert(1)) *x*"
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"ropa": 1, "parties": [{"key": "p1", "name": name}]}))
    assert initialised("import", path).exit_code == 0
    yesterday = (date.today() - timedelta(days=1)).isoformat()  # midnight may fall between
    text = initialised("diff", "--since", yesterday, "-f", "markdown").stdout
    assert f"— {name}" not in text
    html = MarkdownIt("commonmark").render(text)
    assert "<script" not in html and 'href="javascript' not in html and "<em>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; [click](javascript:alert(1)) *x*" in html


@pytest.mark.parametrize(
    "args",
    [
        ("--actor", "me\x1b[2J", "party", "add", "p1", "--name", "P", "--kind", "other"),
        ("party", "add", "p1", "--name", "P", "--kind", "other", "-m", "why\x07"),
    ],
)
def test_control_characters_in_actor_or_message_are_refused(initialised, args):
    result = initialised(*args)
    assert result.exit_code == 2
    assert "must not contain control characters" in result.stderr
    assert "(found 'me\\x1b[2J')" in result.stderr or "(found 'why\\x07')" in result.stderr
    assert initialised("history", "-f", "json").stdout.strip() == "[]"


def test_a_long_file_name_is_written(initialised, sample, tmp_path):
    """A 255-byte name is legal; the temporary file beside it must not need a longer one."""
    name = "r" * 250 + ".yaml"
    result = initialised("export", "yaml", "-o", name)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / name).read_text(encoding="utf-8").startswith("ropa: 1")


# -- files written, the history, secrets, workers -------------------------------------------


def test_output_to_a_fifo_a_device_a_folder_or_nothing_is_refused(initialised, tmp_path):
    fifo = tmp_path / "out.yaml"
    os.mkfifo(fifo)
    for target, words in [
        (fifo, "is not a regular file"),
        ("/dev/null", "is not a regular file"),
        (tmp_path, "is a folder"),
    ]:
        result = initialised("export", "yaml", "-o", target)
        assert result.exit_code == 1, target
        assert result.stderr.startswith("error: ") and words in result.stderr
    nothing = initialised("export", "yaml", "-o", "")  # a usage error, as every empty value
    assert nothing.exit_code == 2 and "'-o'" in nothing.stderr and "empty" in nothing.stderr
    assert Path("/dev/null").is_char_device() and fifo.is_fifo()


def test_output_into_a_read_only_folder_is_one_error_line(initialised, tmp_path):
    # Root writes into a folder of mode 0500 (and CI runs as root): sysfs refuses even root.
    folder = Path("/sys") if os.geteuid() == 0 else tmp_path / "ro"
    folder.mkdir(mode=0o500, exist_ok=True)
    result = initialised("export", "xlsx", "-o", folder / "x.xlsx")
    assert result.exit_code == 1 and "cannot write in folder" in result.stderr


def test_output_replaces_a_planted_symlink_instead_of_following_it(initialised, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "out.yaml").symlink_to(victim)
    assert initialised("export", "yaml", "-o", tmp_path / "out.yaml").exit_code == 0
    assert victim.read_text() == "keep me"
    assert not (tmp_path / "out.yaml").is_symlink()
    assert not list(tmp_path.glob(".out.yaml*"))


def _rewrites(db: Database) -> list[str]:
    if db.is_sqlite:
        return [
            "REPLACE INTO revisions (id, kind, key, version, action, actor, at, record) "
            "SELECT id, kind, key, version, action, 'forger', at, '{}' FROM revisions",
            "INSERT OR REPLACE INTO revisions (id, kind, key, version, action, actor, at, "
            "record) SELECT id, kind, key, 9, action, actor, at, record FROM revisions",
            "UPDATE revisions SET actor = 'forger'",
            "DELETE FROM revisions",
        ]
    return [
        "TRUNCATE revisions",
        "TRUNCATE revisions CASCADE",
        "UPDATE revisions SET actor = 'forger'",
        "DELETE FROM revisions",
    ]


def test_no_sql_rewrites_the_revision_log(hostile, db):
    from tests.conftest import dump

    before = dump(db)
    for statement in _rewrites(db):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(sa.text(statement))
    assert dump(db) == before


def test_as_of_on_a_forged_log_says_it_is_inconsistent(hostile, db):
    with db.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO revisions (kind, key, version, action, actor, at, record) "
                "VALUES ('bogus', 'x', 1, 'create', 'forger', :at, '{}')"
            ),
            {"at": "2000-01-01 00:00:00"},
        )
    result = hostile("export", "yaml", "--as-of", date.today().isoformat(), "-o", "-")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: the revision log is inconsistent: revision ")
    assert "unknown kind 'bogus'" in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://ropa@127.0.0.1:1/x?password=hunter2",
        "postgresql+psycopg://ropa:hunter2@127.0.0.1:1/x",
        "postgresql+psycopg://ropa:hun@ter2@127.0.0.1:1/x",
        "postgresql+psycopg://ropa:pw@127.0.0.1:1/x?sslpassword=hunter2",
    ],
)
@pytest.mark.parametrize("command", [("db", "info"), ("init",), ("party", "list")])
def test_a_password_anywhere_in_the_url_is_never_printed(cli, url, command):
    result = cli("--db", url, *command)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "127.0.0.1" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
    assert "ter2" not in result.stderr + result.stdout


def test_missing_postgres_driver_says_how_to_install_it(tmp_path):
    script = "import sys; sys.modules['psycopg'] = None\n" + CAPPED
    result = run_ropa("postgresql+psycopg://ropa:secret@127.0.0.1/x", "db", "info", script=script)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr == (
        "error: cannot use database postgresql+psycopg://ropa:***@127.0.0.1/x: the psycopg "
        "driver is not installed; install it with: pip install 'ropa[postgres]'\n"
    )


KILLED_BEFORE_RENAME = (
    """
import os, signal
os.link = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
"""
    + CAPPED
)


@pytest.mark.skipif(bool(PG_URL), reason="`ropa db backup` copies SQLite databases")
def test_a_killed_backup_leaves_nothing_at_the_target_and_a_retry_works(hostile, db, tmp_path):
    target = tmp_path / "backup.db"
    killed = run_ropa(str(db.path), "db", "backup", target, script=KILLED_BEFORE_RENAME)
    assert killed.returncode == -signal.SIGKILL
    assert not target.exists()
    retry = run_ropa(str(db.path), "db", "backup", target)
    assert retry.returncode == 0, retry.stderr
    assert Database.open(str(target)).info()["counts"]["parties"] == 2


STUCK_CHECK = (
    """
import time, ropa.parallel as parallel
def _check_range(job):
    time.sleep(600)
_check_range.__module__ = "ropa.parallel"
parallel._check_range = _check_range
parallel.PARALLEL_CHECK_FROM = 2
parallel.os.cpu_count = lambda: 4
"""
    + CAPPED
)


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def _stuck_check(db_url: str, script: str = STUCK_CHECK, **popen: object) -> subprocess.Popen:
    """`ropa check` in a process of its own, its workers stuck in their key ranges."""
    env = {**os.environ, "ROPA_DB": db_url, "NO_COLOR": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", script, "check"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=popen.pop("stderr", subprocess.DEVNULL),
        **popen,
    )


def test_ctrl_c_to_the_process_group_ends_the_check_in_one_line(sample, db_url):
    """A terminal's Ctrl-C reaches every process of the group: each worker printed a
    KeyboardInterrupt traceback, and one dying with the pool's lock hung the check."""
    for _ in range(3):
        process = _stuck_check(db_url, stderr=subprocess.PIPE, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while len(_children(process.pid)) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.2)  # the workers at work
            os.killpg(process.pid, signal.SIGINT)
            _, err = process.communicate(timeout=20)
            assert process.returncode != 0
            assert b"Traceback" not in err and b"ForkPoolWorker" not in err, err.decode()
        finally:
            process.kill()
            process.wait()


def test_ctrl_c_while_the_workers_start_ends_the_check(sample, db_url):
    """Ctrl-C as soon as the second of four workers exists, while the pool is still being
    made: the check hung at exit about two times in five (the pool half made)."""
    for _ in range(5):
        process = _stuck_check(db_url)
        try:
            deadline = time.monotonic() + 60
            while len(_children(process.pid)) < 2 and time.monotonic() < deadline:
                time.sleep(0.005)
            os.kill(process.pid, signal.SIGINT)
            assert process.wait(timeout=20) != 0
        finally:
            process.kill()
            process.wait()


SLOW_FORK = """
import os, time
os.register_at_fork(after_in_child=lambda: time.sleep(1))
"""


def test_ctrl_c_before_the_workers_are_ready_ends_the_check(sample, db_url):
    """The pool's terminate() sends SIGTERM to each worker; one that had not yet reached its
    initializer still ran ropa's SIGTERM handler, whose SystemExit Python ignores inside the
    fork hooks, so the worker lived on and the check hung in join(). The workers here spend
    a second in a fork hook, so the Ctrl-C always lands there."""
    env = {**os.environ, "ROPA_DB": db_url, "NO_COLOR": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_FORK + STUCK_CHECK, "check"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while len(workers := _children(process.pid)) < 4 and time.monotonic() < deadline:
            time.sleep(0.005)
        os.kill(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=20)
        assert process.returncode != 0
        assert b"Exception ignored" not in err and b"Traceback" not in err, err.decode()
        assert not {p for p in workers if Path(f"/proc/{p}").exists()}
    finally:
        process.kill()
        process.wait()


def test_a_worker_that_does_not_leave_on_sigterm_is_killed(sample, db_url):
    """About one Ctrl-C in twelve that came as the pool was made left a worker waiting on
    the queue lock terminate() held, its SIGTERM lost: the check waited for it for good.
    Here the workers' SIGTERM handler does nothing, so the wait always meets one."""
    script = "import ropa.parallel as parallel\nparallel._leave = lambda *a: None\n"
    _ctrl_c_ends_the_check_and_its_workers(db_url, script)


def test_a_pool_whose_terminate_never_returns_does_not_keep_the_check_from_ending(sample, db_url):
    """terminate() takes the pool's queue lock before it stops the workers; a worker killed
    while holding it (the grace period over) left it taken for good, and the check hung at
    exit (CI, under load). Here terminate() never gets that lock: the check still ends, its
    workers killed."""
    script = (
        "import threading, multiprocessing.pool as mp\n"
        "mp.Pool._help_stuff_finish = staticmethod(lambda *a: threading.Event().wait())\n"
    )
    _ctrl_c_ends_the_check_and_its_workers(db_url, script)


def _ctrl_c_ends_the_check_and_its_workers(db_url: str, script: str) -> None:
    """Ctrl-C to a stuck check run with `script` first, its four workers at work: it ends
    (exit 130) and leaves no worker behind."""
    process = _stuck_check(db_url, script=script + STUCK_CHECK)
    try:
        deadline = time.monotonic() + 60
        while len(workers := _children(process.pid)) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # the workers in their tasks
        os.kill(process.pid, signal.SIGINT)
        assert process.wait(timeout=30) == 130
    finally:
        process.kill()
        process.wait()
    assert not {p for p in workers if Path(f"/proc/{p}").exists()}


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL, signal.SIGINT])
def test_killing_a_parallel_check_leaves_no_worker_behind(sample, db_url, how):
    process = _stuck_check(db_url)
    try:
        deadline = time.monotonic() + 60
        while len(workers := _children(process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(workers) >= 2, "the check did not start its workers"
        os.kill(process.pid, how)
        process.wait(timeout=30)
        deadline = time.monotonic() + 10
        while (alive := {p for p in workers if Path(f"/proc/{p}").exists()}) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.1)
        assert not {p for p in alive if "Z" not in Path(f"/proc/{p}/stat").read_text()}
    finally:
        process.kill()
        process.wait()


STUCK_EXPORT = (
    """
import time, ropa.io.xlsx_record as record
def write_record_workbook(*args, **kwargs):
    time.sleep(600)
record.write_record_workbook = write_record_workbook
"""
    + CAPPED
)


def _signalled(
    db_url: str,
    script: str,
    arguments: list[str],
    how: int,
    ready: Callable[[], bool],
    more_env: dict[str, str] | None = None,
    to_group: bool = False,
    **popen,
) -> tuple[int, str]:
    """Run ropa with `script`, send it `how` once `ready()` holds (to its process group, a
    session of its own, with `to_group`); its exit code and stderr."""
    env = {**os.environ, "ROPA_DB": db_url, "NO_COLOR": "1", **(more_env or {})}
    process = subprocess.Popen(
        [sys.executable, "-c", script, *arguments],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=to_group,
        **popen,
    )
    try:
        deadline = time.monotonic() + 60
        while not ready() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready(), "the command did not get there"
        (os.killpg if to_group else os.kill)(process.pid, how)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait()
    return process.returncode, err.decode()


def _said(how: int) -> str:
    return "interrupted (Ctrl-C)" if how == signal.SIGINT else "terminated (SIGTERM)"


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_export_leaves_no_temporary_file_and_says_nothing_was_saved(
    sample, db_url, tmp_path, how
):
    """SIGTERM (a shutdown, a CI timeout, `kill`) left `.record.xlsx.XXXX.tmp` beside the
    target; it is cleaned up as after any other failure. Ctrl-C ended the command with no
    word (exit 130, stderr empty)."""
    arguments = ["export", "xlsx", "-o", "record.xlsx"]
    started = lambda: bool(list(tmp_path.glob(".record.xlsx.*.tmp")))  # noqa: E731
    code, err = _signalled(db_url, STUCK_EXPORT, arguments, how, started, cwd=tmp_path)
    assert code == 128 + how
    assert err == f"error: {_said(how)}; nothing was saved\n"
    assert [p.name for p in tmp_path.iterdir() if "record" in p.name] == []


STUCK_EXPORT_WITH_WORKER = (
    """
import ropa.parallel as parallel
parallel.PARALLEL_FINGERPRINT_FROM = 1
parallel.os.cpu_count = lambda: 2
"""
    + STUCK_EXPORT
)


def test_sigterm_to_the_process_group_ends_an_export_with_its_worker(sample, db_url, tmp_path):
    """systemd, `kill -TERM -PGID` or a closed session: the idle fingerprint worker died by
    SIGTERM's default action holding the pool's queue lock, and the export, terminating the
    pool, waited for that lock for good."""
    arguments = ["export", "xlsx", "-o", "record.xlsx"]
    idle_since: list[float] = []

    def idle() -> bool:  # the export started, its worker done with the fingerprint
        if list(tmp_path.glob(".record.xlsx.*.tmp")) and not idle_since:
            idle_since.append(time.monotonic())
        return bool(idle_since) and time.monotonic() - idle_since[0] > 0.5

    script = STUCK_EXPORT_WITH_WORKER
    code, err = _signalled(
        db_url, script, arguments, signal.SIGTERM, idle, to_group=True, cwd=tmp_path
    )
    assert code == 143
    assert err == "error: terminated (SIGTERM); nothing was saved\n"


def _stuck_after_rows(module: str, rows: str) -> str:
    """A ropa script whose `module.rows` generator gives every row, then hangs."""
    return (
        f"""
import time, {module} as writer
rows = writer.{rows}
def slow_rows(*args, **kwargs):
    yield from rows(*args, **kwargs)
    time.sleep(600)
writer.{rows} = slow_rows
"""
        + CAPPED
    )


SLOW_RECORD_ROWS = _stuck_after_rows("ropa.io.xlsx_record", "record_rows")
SLOW_DATA_ROWS = _stuck_after_rows("ropa.io.data_layout.write", "table_rows")


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize(
    ("script", "layout"), [(SLOW_RECORD_ROWS, "record"), (SLOW_DATA_ROWS, "data")]
)
def test_a_stopped_workbook_leaves_no_row_files_behind(
    sample, db_url, tmp_path, how, script, layout
):
    """XlsxWriter keeps each sheet's rows in a file of the temporary folder until the workbook
    is closed: a stopped export left a dozen of them there, some MB each."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    arguments = ["export", "xlsx", "--layout", layout, "-o", "out.xlsx"]
    started = lambda: any(scratch.rglob("*"))  # noqa: E731
    scratch_env = {"TMPDIR": str(scratch)}
    code, err = _signalled(db_url, script, arguments, how, started, scratch_env, cwd=out)
    assert code == 128 + how, err
    assert list(scratch.rglob("*")) == []
    assert list(out.iterdir()) == []


SLOW_AFTER_IMPORT = (
    """
import time, ropa.registry as registry
saved = registry.Registry.import_records
def import_records(self, *args, **kwargs):
    report = saved(self, *args, **kwargs)
    if not kwargs.get("dry_run"):
        time.sleep(600)
    return report
registry.Registry.import_records = import_records
"""
    + CAPPED
)


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_after_the_commit_says_the_changes_were_saved(db, db_url, tmp_path, how):
    """Stopped after its commit, an import said "what was not committed is rolled back" (on
    SIGTERM) or nothing (on Ctrl-C), though the register held every record: a script took a
    saved import for a failed one."""
    path = tmp_path / "one.yaml"
    path.write_text("ropa: 1\nsources:\n  - key: s1\n    name: Sign-up form\n")
    saved = lambda: bool(Database.open(db_url).info()["counts"]["sources"])  # noqa: E731
    code, err = _signalled(db_url, SLOW_AFTER_IMPORT, ["import", str(path)], how, saved)
    assert code == 128 + how
    assert err == (
        f"error: {_said(how)} after the changes were saved: the register holds them (`ropa "
        "history` lists them); the rest of the command did not run\n"
    )
    assert Database.open(db_url).info()["counts"]["sources"] == 1


SLOW_AFTER_BACKUP = (
    """
import time, ropa.db as db
copy_to = db.Database.copy_to
def slow_copy_to(self, target):
    written = copy_to(self, target)
    time.sleep(600)
    return written
db.Database.copy_to = slow_copy_to
"""
    + CAPPED
)


@pytest.mark.skipif(bool(PG_URL), reason="`ropa db backup` copies SQLite databases")
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_after_a_backup_is_written_says_so(sample, db_url, tmp_path, how):
    """It said "nothing was saved" with the backup in place: a retry then met "already
    exists"."""
    target = tmp_path / "backup.db"
    arguments = ["db", "backup", str(target)]
    code, err = _signalled(db_url, SLOW_AFTER_BACKUP, arguments, how, target.exists)
    assert code == 128 + how
    assert err == (
        f"error: {_said(how)} after the backup was written to {target}; the rest of the "
        "command did not run\n"
    )
    assert Database.open(str(target)).info()["counts"]["activities"] == 14


SIGNAL_AT_EXIT = (
    """
import atexit, os, signal, time
atexit.register(lambda: (os.kill(os.getpid(), signal.SIGTERM), time.sleep(0.5)))
"""
    + CAPPED
)


def test_a_signal_once_the_command_is_done_changes_nothing_it_said(sample, db_url):
    """A SIGTERM after the command's work and output (at exit) ended it with 143 and an
    error line, or killed it (-15), under the report it had printed."""
    result = run_ropa(db_url, "db", "info", script=SIGNAL_AT_EXIT)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and "activities" in result.stdout


SLOW_START = """
import importlib.abc, os, signal, sys

class Interrupted(importlib.abc.MetaPathFinder):
    pressed = False

    def find_spec(self, name, path=None, target=None):
        if name == {module!r} and not self.pressed:
            self.pressed = True
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the command line loads
        return None

sys.meta_path.insert(0, Interrupted())
sys.argv = ["ropa", "db", "info"]
from ropa.__main__ import run
run()
"""


@pytest.mark.parametrize("module", ["typer", "ropa.cli.dbcmd", "sqlalchemy"])
def test_ctrl_c_while_ropa_starts_ends_it_in_one_line(sample, db_url, module):
    """A Ctrl-C in the first tenth of a second, while the command line's modules load (before
    a command runs), printed a KeyboardInterrupt traceback."""
    done = subprocess.run(
        [sys.executable, "-c", SLOW_START.format(module=module)],
        env={**os.environ, "ROPA_DB": db_url, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (
        130,
        "error: interrupted (Ctrl-C); nothing was saved\n",
    )


# -- bidirectional controls stay inside the value that holds them ---------------------------

#: UAX #9's openers and closers: embeddings and overrides (closed by PDF), isolates (by PDI).
_EMBEDDING, _ISOLATE, _PDF, _PDI = (
    "\u202a\u202b\u202d\u202e",
    "\u2066\u2067\u2068",
    "\u202c",
    "\u2069",
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Evil \u202ename", "\u2068Evil \u202ename\u202c\u2069"),
        ("a\u2069\u202eb", "\u2068a\u202eb\u202c\u2069"),  # a PDI of its own closed the isolate
        ("a\u202c\u2069b", "\u2068ab\u2069"),  # closers with nothing to close
        ("\u2067a\u202eb\u2069c", "\u2068\u2067a\u202eb\u202c\u2069c\u2069"),
        ("\u2067open", "\u2068\u2067open\u2069\u2069"),  # else the wrapper's PDI closes it
        ("\u202bx\u202cy", "\u2068\u202bx\u202cy\u2069"),
        ("plain", "plain"),
    ],
)
def test_a_value_cannot_close_its_isolate_early(value, expected):
    from ropa.wording import isolated

    assert isolated(value) == expected


@settings(max_examples=300, deadline=None, derandomize=True)
@given(value=st.text(alphabet="ab \u05d0" + _EMBEDDING + _ISOLATE + _PDF + _PDI, max_size=30))
def test_an_isolated_value_is_closed_where_it_ends(value):
    """Whatever the value holds, the text after it is outside it: the isolate opened before
    the value closes after it, and so does every embedding and override inside it (for a
    reader that knows no isolates)."""
    from ropa.wording import isolated

    line = f"x {isolated(value)} \u2192 y"
    if line == f"x {value} \u2192 y":
        return  # nothing to isolate
    end = len(line) - len(" \u2192 y") - 1
    assert line[2] == "\u2068" and line[end] == _PDI
    pairs = _pairs(line, isolates=True)
    assert pairs[0] == (2, end)
    assert all(close is not None and close < end for _, close in pairs[1:])
    assert all(close is not None and close < end for _, close in _pairs(line, isolates=False))


def _pairs(line: str, isolates: bool) -> list[tuple[int, int | None]]:
    """(opened at, closed at) of the controls of a line, in order of opening, as UAX #9 pairs
    them (X6a, X7), or as a reader that knows embeddings and not isolates."""
    opened: list[tuple[str, int]] = []
    pairs: dict[int, int | None] = {}
    for at, c in enumerate(line):
        if c in _EMBEDDING or (isolates and c in _ISOLATE):
            opened.append((c, at))
            pairs[at] = None
        elif c == _PDF and opened and (not isolates or opened[-1][0] not in _ISOLATE):
            pairs[opened.pop()[1]] = at
        elif isolates and c == _PDI and any(o in _ISOLATE for o, _ in opened):
            while True:
                o, start = opened.pop()
                pairs[start] = at
                if o in _ISOLATE:
                    break
    return sorted(pairs.items())


def test_the_markdown_change_log_isolates_each_value():
    """An old value with a right-to-left override reversed the "→ new" text after it."""
    from ropa.history import Diff, diff_markdown

    change = {"before": "Old \u202evalue\u2069", "after": "New"}
    result = Diff(
        date(2026, 1, 1),
        date(2026, 1, 2),
        changed=[{"kind": "party", "key": "p1", "name": "P", "fields": {"notes": change}}],
    )
    text = diff_markdown(result)
    assert '- **notes**: `\u2068"Old \u202evalue"\u202c\u2069` → `"New"`' in text.splitlines()


def test_diff_as_markdown_isolates_an_old_value_with_an_override(initialised):
    from datetime import UTC, datetime

    assert (
        initialised("party", "add", "p1", "--name", "P", "--notes", "Old \u202evalue").exit_code
        == 0
    )
    since = datetime.now(UTC).isoformat(timespec="microseconds")
    time.sleep(0.01)
    assert initialised("party", "edit", "p1", "--notes", "New").exit_code == 0
    result = initialised("diff", "--since", since, "-f", "markdown")
    assert result.exit_code == 0, result.stderr
    assert '- **notes**: `\u2068"Old \u202evalue"\u202c\u2069` → `"New"`' in result.stdout
