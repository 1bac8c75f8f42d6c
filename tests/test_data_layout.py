"""The data layout: xlsx and CSV export, import of workbooks, CSV files and stdin, template."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings

from ropa.db import Database
from ropa.errors import ValidationFailed
from ropa.io.data_layout import SHEETS, parse_tables, read_csv, read_workbook
from ropa.registry import Registry
from tests.conftest import ANY_TEXT, SAMPLE, SECTIONS, dump

SHEET_NAMES = ["activities", "transfers", "retention", *SECTIONS[:-1]]


def workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    """A workbook written with openpyxl (as another tool would write it)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def counts(report: str, section: str) -> tuple[int, ...]:
    """(created, updated, unchanged, deleted) of one kind in an import report."""
    for line in report.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if cells[0] == section:
            return tuple(int(c) for c in cells[1:])
    raise AssertionError(f"no {section} row in:\n{report}")


# -- round trips --------------------------------------------------------------------------


def test_xlsx_data_round_trip_through_an_empty_database_is_the_identity(initialised, tmp_path):
    cli = initialised
    cli("import", SAMPLE)
    cli("export", "yaml", "-o", "original.yaml")
    result = cli("export", "xlsx", "--layout", "data", "-o", "data.xlsx")
    assert result.exit_code == 0, result.stderr
    assert "14 activities, 13 transfers, 15 retention, 13 parties" in result.stderr

    cli("init", "--force", "--yes")
    result = cli("import", "data.xlsx")
    assert result.exit_code == 0, result.stderr
    assert "changed 75 records" in result.stderr
    cli("export", "yaml", "-o", "again.yaml")
    assert (tmp_path / "again.yaml").read_bytes() == (tmp_path / "original.yaml").read_bytes()


def test_csv_data_round_trip_through_an_empty_database_is_the_identity(initialised, tmp_path):
    cli = initialised
    cli("import", SAMPLE)
    cli("export", "yaml", "-o", "original.yaml")
    assert cli("export", "csv", "--layout", "data", "-o", "data").exit_code == 0
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == sorted(
        f"{name}.csv" for name in SHEET_NAMES
    )
    cli("init", "--force", "--yes")
    assert cli("import", "data").exit_code == 0
    cli("export", "yaml", "-o", "again.yaml")
    assert (tmp_path / "again.yaml").read_bytes() == (tmp_path / "original.yaml").read_bytes()


@pytest.mark.parametrize("layout", ["xlsx", "csv"])
def test_reimporting_an_unchanged_export_changes_nothing(initialised, sample, db, layout):
    cli = initialised
    target = "data.xlsx" if layout == "xlsx" else "data"
    cli("export", layout, "--layout", "data", "-o", target)
    before = dump(db)
    result = cli("import", target)
    assert result.exit_code == 0, result.stderr
    assert "changed 0 records" in result.stderr
    assert counts(result.stderr, "activities") == (0, 0, 14, 0)
    assert dump(db) == before  # not even a revision


def test_data_workbook_layout(initialised, sample, tmp_path):
    initialised("export", "xlsx", "--layout", "data", "-o", "data.xlsx")
    book = openpyxl.load_workbook(tmp_path / "data.xlsx")
    assert book.sheetnames == ["instructions", *SHEET_NAMES, "lists"]
    assert book["lists"].sheet_state == "hidden"
    for sheet in SHEETS:
        header = [c.value for c in book[sheet.name][1]]
        assert header == sheet.columns
    activities = book["activities"]
    columns = [c.value for c in activities[1]]
    row = next(r for r in activities.iter_rows(min_row=2) if r[0].value == "recruiting")
    cells = dict(zip(columns, row, strict=True))
    assert cells["lawful_bases"].value == "consent\ncontract\nlegitimate-interests"
    assert isinstance(cells["last_reviewed"].value, datetime)
    assert "transfers" not in columns and "retention" not in columns
    transfers = [[c.value for c in r] for r in book["transfers"].iter_rows(min_row=2)]
    assert ["recruiting", "US", "imperva-inc", "scc"] in [t[:4] for t in transfers]
    # every coded column has a drop-down
    validated = {str(v.sqref).split(":")[0] for v in activities.data_validations.dataValidation}
    letters = {name: openpyxl.utils.get_column_letter(i + 1) for i, name in enumerate(columns)}
    for name in ("status", "role", "controller", "lawful_bases", "art9_conditions", "purposes"):
        assert f"{letters[name]}2" in validated, name
    instructions = [[c.value for c in r] for r in book["instructions"].iter_rows()]
    assert ["activities", "lawful_bases"] in [r[:2] for r in instructions]


def test_formula_like_text_is_exported_as_text_and_comes_back(initialised, registry, tmp_path):
    cli = initialised
    text = '=HYPERLINK("http://evil")'
    cli("purpose", "add", "p1", "--name", "@risky", "--description", text)
    cli("export", "xlsx", "--layout", "data", "-o", "data.xlsx")
    cli("export", "csv", "--layout", "data", "-o", "data")
    book = openpyxl.load_workbook(tmp_path / "data.xlsx")
    row = [c for c in book["purposes"][2]]
    assert [c.data_type for c in row[:3]] == ["s", "s", "s"]
    assert row[2].value == text and row[2].quotePrefix
    assert "'=HYPERLINK" in (tmp_path / "data" / "purposes.csv").read_text(encoding="utf-8-sig")
    for source in ("data.xlsx", "data"):
        cli("init", "--force", "--yes")
        assert cli("import", source).exit_code == 0
        assert registry.get("purpose", "p1")["description"] == text
        assert registry.get("purpose", "p1")["name"] == "@risky"


# -- all or nothing -----------------------------------------------------------------------


def test_import_with_one_bad_row_among_a_thousand_changes_nothing(
    initialised, sample, db, tmp_path
):
    rows = [["key", "name", "lawful_bases", "purposes", "controller"]]
    for i in range(1000):
        rows.append([f"bulk-{i:04d}", f"Bulk {i}", "6(1)(b)", "recruiting", "imperva-inc"])
    rows.insert(501, ["bulk-bad", "Bad one", "because I say so", "recruiting", "imperva-inc"])
    path = workbook(tmp_path / "bulk.xlsx", {"activities": rows})
    before = dump(db)
    result = initialised("import", path)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"error: {path}:activities:502:lawful_bases: 'because I say so' is not a lawful basis"
    )
    assert dump(db) == before


def test_every_problem_is_reported_with_file_sheet_row_and_column(initialised, sample, tmp_path):
    rows = [["key", "name", "country", "email", "kind"]]
    rows += [[f"p{i}", f"P {i}", "Atlantis", "not-an-email", "vendor"] for i in range(60)]
    path = workbook(tmp_path / "parties.xlsx", {"parties": rows})
    result = initialised("import", path)
    lines = result.stderr.splitlines()
    assert result.exit_code == 1
    assert lines[0].startswith(f"error: {path}:parties:2:country: 'Atlantis' is not an ISO")
    assert lines[1].startswith(f"error: {path}:parties:2:email:")
    assert lines[2].startswith(f"error: {path}:parties:2:kind: 'vendor' is not a party kind")
    assert lines[-1] == "error: … and 80 more problems"
    assert len(lines) == 101


def test_import_reports_unreadable_files(initialised, tmp_path):
    cli = initialised
    (tmp_path / "notes.txt").write_text("hello")
    assert cli("import", "notes.txt").stderr.startswith("error: notes.txt: cannot import .txt")
    (tmp_path / "locked.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    assert cli("import", "locked.xlsx").stderr == (
        "error: locked.xlsx: is password-protected or an old .xls workbook; "
        "save it as an unprotected .xlsx\n"
    )
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    result = cli("import", "broken.xlsx")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: broken.xlsx: cannot read the workbook")
    (tmp_path / "fake.xlsx").write_text("key,name\n")
    assert cli("import", "fake.xlsx").stderr == (
        "error: fake.xlsx: is not an xlsx workbook (not a zip file)\n"
    )
    write_csv(tmp_path / "latin.csv", "key,name\np1,Café\n", "latin-1")
    assert cli("import", "latin.csv").stderr == (
        "error: latin.csv: is not UTF-8 text; save it as “CSV UTF-8”\n"
    )
    cli("export", "xlsx", "-o", "record.xlsx")  # the record layout is for people, not imports
    assert cli("import", "record.xlsx").stderr == (
        "error: record.xlsx: is an Article 30 record workbook, written for people; ropa imports "
        "the data layout (`ropa export xlsx --layout data`, `ropa template`)\n"
    )
    workbook(tmp_path / "other.xlsx", {"Budget": [["cost centre", "amount"], ["HR", 12]]})
    result = cli("import", "other.xlsx")
    assert result.stderr.splitlines() == [
        "warning: other.xlsx:Budget: unknown sheet, ignored; sheets are activities, transfers, "
        "retention, parties, categories, subjects, purposes, sources, measures, systems",
        "error: other.xlsx: has none of the data-layout sheets (activities, parties, …); "
        "ropa imports workbooks written by `ropa template` or `ropa export xlsx --layout data`",
    ]
    (tmp_path / "empty").mkdir()
    assert cli("import", "empty").stderr == "error: empty: this folder holds no .csv files\n"


def test_missing_required_column_unknown_column_and_duplicate_keys(initialised, tmp_path):
    cli = initialised
    path = workbook(tmp_path / "a.xlsx", {"purposes": [["name"], ["No key"]]})
    assert cli("import", path).stderr == (
        f"error: {path}:purposes:1: missing the required column 'key'\n"
    )
    path = workbook(
        tmp_path / "b.xlsx",
        {"purposes": [["key", "name", "colour"], ["p1", "One", "red"], ["p1", "Again", ""]]},
    )
    result = cli("import", path)
    assert result.stderr.splitlines() == [
        f"warning: {path}:purposes:1:colour: unknown column, ignored",
        f"error: {path}:purposes:3:key: duplicate key 'p1' (also at {path}:purposes:2)",
    ]
    path = workbook(tmp_path / "c.xlsx", {"purposes": [["key", "name", "colour"], ["p1", "One"]]})
    result = cli("import", path)
    assert result.exit_code == 0
    assert result.stderr.startswith(f"warning: {path}:purposes:1:colour: unknown column, ignored")


def test_cells_are_taken_as_a_person_means_them(initialised, registry, tmp_path):
    """Excel dates and text dates, numbers where text is expected, empty rows, trailing
    spaces, article spellings and labels, names instead of keys."""
    cli = initialised
    cli("import", SAMPLE)
    header = ["key", "name", "controller", "purposes", "lawful_bases", "last_reviewed", "owner"]
    path = workbook(
        tmp_path / "people.xlsx",
        {
            "activities": [
                header,
                [
                    "a1 ",
                    " First  ",
                    "Imperva, Inc.",
                    "recruiting",
                    "Art. 6(1)(b)",
                    date(2026, 1, 2),
                    4930123,
                ],
                [None, None, None, None, None, None, None],
                [
                    "a2",
                    "Second",
                    "imperva-inc",
                    "Recruiting TALENT",
                    "Consent;6(1)(f)",
                    "2026-02-03",
                    12.0,
                ],
                ["a3", "Third", "imperva-inc", "recruiting\nmarketing", "contract", 46037, None],
            ]
        },
    )
    result = cli("import", path)
    assert result.exit_code == 0, result.stderr
    a1, a2, a3 = (registry.get("activity", k) for k in ("a1", "a2", "a3"))
    assert a1["name"] == "First" and a1["controller"] == "imperva-inc"
    assert a1["lawful_bases"] == ["contract"] and a1["owner"] == "4930123"
    assert a1["last_reviewed"] == date(2026, 1, 2)
    assert a2["purposes"] == ["recruiting"]
    assert a2["lawful_bases"] == ["consent", "legitimate-interests"]
    assert a2["last_reviewed"] == date(2026, 2, 3) and a2["owner"] == "12"
    assert a3["purposes"] == ["marketing", "recruiting"]
    assert a3["last_reviewed"] == date(2026, 1, 15)  # an Excel date serial


def test_absent_column_keeps_the_field_and_empty_cell_clears_it(initialised, registry, tmp_path):
    cli = initialised
    cli("import", SAMPLE)
    before = registry.get("activity", "recruiting")
    path = workbook(
        tmp_path / "edit.xlsx",
        {"activities": [["key", "description", "owner"], ["recruiting", "New words", None]]},
    )
    # Empty cells clear fields with --blank clear (by default they keep the stored value).
    result = cli("import", path, "-m", "spreadsheet edit", "--blank", "clear")
    assert result.exit_code == 0, result.stderr
    after = registry.get("activity", "recruiting")
    assert after["description"] == "New words"
    assert after["owner"] is None
    assert after["lawful_bases"] == before["lawful_bases"]
    assert after["transfers"] == before["transfers"]
    assert after["version"] == before["version"] + 1
    last = registry.history(key="recruiting")[-1]
    assert (last.actor, last.message, last.changed) == (
        "tester",
        "spreadsheet edit",
        ["description", "owner"],
    )


def test_formula_cells_are_never_evaluated(initialised, registry, tmp_path):
    cli = initialised
    path = workbook(tmp_path / "f.xlsx", {"purposes": [["key", "name"], ["p1", "=1+1"]]})
    result = cli("import", path)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {path}:purposes:2:name: holds the formula =1+1 with no stored value; "
        "type the value\n"
    )
    # A formula saved with its result (as Excel saves it): the stored text is taken.
    stored = tmp_path / "stored.xlsx"
    import xlsxwriter

    book = xlsxwriter.Workbook(stored)
    sheet = book.add_worksheet("purposes")
    sheet.write_row(0, 0, ["key", "name"])
    sheet.write_string(1, 0, "p1")
    sheet.write_formula(1, 1, '="Pay"&"roll"', None, "Payroll")
    book.close()
    result = cli("import", stored)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith(
        f'warning: {stored}:purposes:2:name: holds the formula ="Pay"&"roll"; '
        "its stored value 'Payroll' was taken"
    )
    assert registry.get("purpose", "p1")["name"] == "Payroll"


def _cell_written(path: Path, ref: str, xml: str) -> None:
    """The cell `ref` of the workbook's sheet rewritten as `xml`."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        parts = {i.filename: archive.read(i) for i in archive.infolist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/"))
    text = parts[sheet].decode()
    start = text.index(f'<c r="{ref}"')
    end = text.index("</c>", start) + len("</c>")
    parts[sheet] = (text[:start] + xml + text[end:]).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


@pytest.mark.parametrize("blank", ["keep", "clear"])
def test_a_cell_holding_a_spreadsheet_error_is_a_problem_not_an_empty_cell(
    initialised, registry, tmp_path, blank
):
    """The reader gives an error cell (#REF!, #N/A) as empty: it kept the stored value
    silently, and with --blank clear it cleared it."""
    cli = initialised
    cli("source", "add", "s1", "--name", "S1", "--description", "keep me")
    path = tmp_path / "errors.xlsx"
    workbook(path, {"sources": [["key", "name", "description"], ["s1", "S1", "x"]]})
    _cell_written(path, "C2", "<c r='C2' t = 'e'><v>#REF!</v></c>")
    result = cli("import", path, "--blank", blank)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {path}:sources:2:description: holds the spreadsheet error #REF!; type the "
        "value, or clear the cell\n"
    )
    assert registry.get("source", "s1")["description"] == "keep me"
    # In the header row, the column's cells would be ignored (only a warning said so).
    _cell_written(path, "C1", '<c r="C1" t="e"><v>#NAME?</v></c>')
    header = cli("import", path, "--blank", blank)
    assert header.exit_code == 1
    assert (
        f"error: {path}:sources:1:3: the header cell holds the spreadsheet error #NAME?; type "
        "the column's name"
    ) in header.stderr


# -- CSV ----------------------------------------------------------------------------------


def test_csv_kind_comes_from_the_header(initialised, registry, tmp_path):
    cli = initialised
    write_csv(tmp_path / "x.csv", "key,name,kind,country\nacme,Acme,service-provider,US\n")
    write_csv(tmp_path / "y.csv", "key,name,special,parent\nhealth,Health,art9,\n")
    # a list cell takes new lines as well as `;`
    write_csv(tmp_path / "z.csv", 'key,name,provider,countries\ncrm,CRM,acme,"DE\nFR;US"\n')
    result = cli("import", "x.csv", "y.csv", "z.csv")
    assert result.exit_code == 0, result.stderr
    assert registry.get("party", "acme")["country"] == "US"
    assert registry.get("category", "health")["special"] == "art9"
    assert registry.get("system", "crm")["countries"] == ["DE", "FR", "US"]


def test_ambiguous_csv_header_asks_for_kind(initialised, registry, tmp_path):
    cli = initialised
    write_csv(tmp_path / "things.csv", "key,name\nk1,Thing\n")
    result = cli("import", "things.csv")
    assert result.exit_code == 1
    assert "things.csv: the header fits" in result.stderr and "--kind" in result.stderr
    assert cli("import", "things.csv", "--kind", "source").exit_code == 0
    assert registry.get("source", "k1")["name"] == "Thing"
    write_csv(tmp_path / "sources.csv", "key,name\nk2,Named by its file\n")
    assert cli("import", "sources.csv").exit_code == 0
    assert registry.get("source", "k2")["name"] == "Named by its file"
    assert cli("import", "things.csv", "--kind", "gadget").stderr.startswith(
        "error: unknown kind 'gadget'"
    )


def test_csv_with_bom_windows_line_endings_and_semicolons(initialised, registry, tmp_path):
    cli = initialised
    text = 'key;name;description\r\ns1;Website;"two\r\nlines"\r\n;;\r\n'
    write_csv(tmp_path / "sources.csv", "\ufeff" + text)
    result = cli("import", "sources.csv")
    assert result.exit_code == 0, result.stderr
    assert registry.get("source", "s1")["description"] == "two\nlines"


def test_csv_from_stdin_needs_kind_and_format(initialised, registry):
    cli = initialised
    text = "key,name\nweb,Website\n"
    assert cli("import", "-", input=text).stderr == (
        "error: reading stdin (-) needs --format csv, json or yaml\n"
    )
    result = cli("import", "-", "--format", "csv", "--kind", "source", input=text)
    assert result.exit_code == 0, result.stderr
    assert registry.get("source", "web")["name"] == "Website"
    bad = cli("import", "-", "--format", "csv", "--kind", "source", input="key,name\nx y,Z\n")
    assert bad.stderr.startswith("error: <stdin>:sources:2:key: 'x y' is not a valid key")


def test_json_list_from_stdin_with_kind(initialised, registry):
    cli = initialised
    cli("import", SAMPLE)
    listing = cli("purpose", "list", "-f", "json").stdout
    records = json.loads(listing)
    records[0]["description"] = "Changed through a pipe"
    result = cli("import", "-", "--format", "json", "--kind", "purpose", input=json.dumps(records))
    assert result.exit_code == 0, result.stderr
    assert "changed 1 record\n" in result.stderr
    assert registry.get("purpose", records[0]["key"])["description"] == "Changed through a pipe"


def test_csv_escapes_come_off_but_a_plain_apostrophe_stays(initialised, registry, tmp_path):
    cli = initialised
    write_csv(
        tmp_path / "sources.csv",
        "key,name,description\ns1,'=SUM(A1),'quoted' text\ns2,''=x,plain\n",
    )
    assert cli("import", "sources.csv").exit_code == 0
    assert registry.get("source", "s1")["name"] == "=SUM(A1)"
    assert registry.get("source", "s1")["description"] == "'quoted' text"
    assert registry.get("source", "s2")["name"] == "'=x"


# -- transfers and retention --------------------------------------------------------------


def test_transfer_rows_replace_the_transfers_of_the_activities_they_name(
    initialised, registry, tmp_path
):
    cli = initialised
    cli("import", SAMPLE)
    untouched = registry.get("activity", "marketing")["transfers"]
    assert registry.get("activity", "recruiting")["transfers"]
    path = workbook(
        tmp_path / "t.xlsx",
        {
            "transfers": [
                ["activity", "country", "recipient", "mechanism", "details"],
                ["Recruiting talent", "JP", None, "adequacy", None],
                ["recruiting", "IN", "imperva-inc", "Art. 46(2)(c)", "SCC module 2"],
                ["nothing-like-this", "US", None, "scc", None],
            ]
        },
    )
    result = cli("import", path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"warning: {path}:transfers:1: no column document_link, tia_link: the transfers rows "
        "of the activities it lists replace their old ones, and will have none",
        f"error: {path}:transfers:4:activity: unknown activity 'nothing-like-this'",
    ]
    path = workbook(
        tmp_path / "t2.xlsx",
        {
            "transfers": [
                ["activity", "country", "recipient", "mechanism", "details"],
                ["Recruiting talent", "JP", None, "adequacy", None],
                ["recruiting", "IN", "imperva-inc", "Art. 46(2)(c)", "SCC module 2"],
            ]
        },
    )
    result = cli("import", path)
    assert result.exit_code == 0, result.stderr
    assert "no column document_link, tia_link" in result.stderr
    transfers = registry.get("activity", "recruiting")["transfers"]
    assert [(t["country"], t["recipient"], t["mechanism"]) for t in transfers] == [
        ("JP", None, "adequacy"),
        ("IN", "imperva-inc", "scc"),
    ]
    assert registry.get("activity", "marketing")["transfers"] == untouched


def test_nested_row_problems_name_their_own_sheet_row(initialised, tmp_path):
    cli = initialised
    cli("import", SAMPLE)
    path = workbook(
        tmp_path / "t.xlsx",
        {
            "activities": [["key", "name"], ["new-one", "New one"]],
            "transfers": [
                ["activity", "country", "recipient", "mechanism"],
                ["new-one", "US", "nobody-inc", "scc"],
                ["new-one", None, None, "scc"],
            ],
        },
    )
    result = cli("import", path)
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert lines == [
        f"error: {path}:transfers:3:country: a transfer needs a country",
        f"error: {path}:transfers:2:recipient: unknown party 'nobody-inc'",
    ]


# -- dry run, replace, template -----------------------------------------------------------


def test_dry_run_reports_and_changes_nothing(initialised, sample, db, tmp_path):
    cli = initialised
    path = workbook(
        tmp_path / "d.xlsx",
        {"purposes": [["key", "name"], ["recruiting", "Hiring"], ["brand-new", "Brand new"]]},
    )
    before = dump(db)
    result = cli("import", path, "--dry-run")
    assert result.exit_code == 0
    assert "dry run: nothing was changed" in result.stderr
    assert counts(result.stderr, "purposes") == (1, 1, 9, 0)
    assert "would change 2 records" in result.stderr
    assert dump(db) == before


def test_replace_makes_the_register_the_workbook(initialised, sample, registry, tmp_path):
    cli = initialised
    cli("source", "add", "zz-unused", "--name", "Unused source")
    cli("export", "xlsx", "--layout", "data", "-o", "data.xlsx")
    book = openpyxl.load_workbook(tmp_path / "data.xlsx")
    sheet = book["sources"]
    assert sheet.cell(sheet.max_row, 1).value == "zz-unused"
    sheet.delete_rows(sheet.max_row)
    book.save(tmp_path / "less.xlsx")
    result = cli("import", "less.xlsx", "--replace", "-m", "cleanup")
    assert result.exit_code == 0, result.stderr
    assert counts(result.stderr, "sources") == (0, 0, 11, 1)
    assert counts(result.stderr, "activities") == (0, 0, 14, 0)
    assert "zz-unused" not in {s["key"] for s in registry.list("source")}
    assert registry.history(key="zz-unused")[-1].action == "delete"


def test_template_has_instructions_and_drop_downs_with_the_registers_keys(
    initialised, sample, tmp_path
):
    result = initialised("template", "-o", "template.xlsx")
    assert result.exit_code == 0, result.stderr
    book = openpyxl.load_workbook(tmp_path / "template.xlsx")
    assert book.sheetnames == ["instructions", *SHEET_NAMES, "lists"]
    for name in SHEET_NAMES:
        assert book[name].max_row == 1  # headers only
    lists = book["lists"]
    columns = {c.value: c.column_letter for c in lists[1]}
    parties = [c.value for c in lists[columns["parties"]][1:] if c.value]
    assert "imperva-inc" in parties
    members = [c.value for c in lists[columns["group members"]][1:] if c.value]
    assert members == ["imperva-group-members", "imperva-inc"]
    lawful = [c.value for c in lists[columns["lawful basis"]][1:] if c.value]
    assert lawful[:2] == ["consent", "contract"]
    rules = {
        str(v.sqref).split(":")[0]: v.formula1
        for v in book["parties"].data_validations.dataValidation
    }
    assert rules["D2"] == f"lists!${columns['party kind']}$2:${columns['party kind']}$9"
    text = " ".join(str(c.value) for r in book["instructions"].iter_rows() for c in r if c.value)
    assert "6(1)(f)" in text and "ropa import" in text
    # the template imports as nothing
    assert "changed 0 records" in initialised("import", "template.xlsx").stderr


def test_a_template_needs_no_database(cli, tmp_path):
    """Before `ropa init` a template has the coded drop-downs, and none of keys."""
    result = cli("template", "-o", "template.xlsx")
    assert result.exit_code == 0, result.stderr
    assert "no database at " in result.stderr and "no drop-downs of keys" in result.stderr
    book = openpyxl.load_workbook(tmp_path / "template.xlsx")
    lists = book["lists"]
    columns = {c.value: c.column_letter for c in lists[1]}
    assert [c.value for c in lists[columns["lawful basis"]][1:3]] == ["consent", "contract"]
    assert "parties" not in columns and "group members" not in columns
    for name in SHEET_NAMES:  # every drop-down offers a list that is there
        for rule in book[name].data_validations.dataValidation:
            column = rule.formula1.split("$")[1]
            assert lists[f"{column}2"].value, (name, rule.sqref, rule.formula1)
    assert not (tmp_path / "ropa.db").exists()  # no database was made on the way


def test_data_layout_options_that_belong_to_the_record_are_refused(initialised):
    result = initialised("export", "xlsx", "--layout", "data", "--entity", "imperva-inc")
    assert result.exit_code == 2
    assert "--entity is for --layout record" in result.stderr


# -- property: text survives the data layout ----------------------------------------------


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=ANY_TEXT)
def test_any_text_survives_the_data_layout_or_is_refused(tmp_path_factory, text):
    from ropa.io.data_layout import write_data_csv, write_data_workbook

    folder = tmp_path_factory.mktemp("data")
    db = Database.open(str(folder / "ropa.db"))
    db.init()
    registry = Registry(db, "tester")
    doc = {"purposes": [{"key": "p1", "name": text, "description": text}]}
    try:
        registry.import_documents([(doc, "doc")])
    except ValidationFailed as e:
        assert "doc:purposes[0]" in str(e)
        db.dispose()
        return
    stored = registry.get("purpose", "p1")
    with registry.document_sections() as sections:
        write_data_workbook(folder / "data.xlsx", sections)
    with registry.document_sections() as sections:
        write_data_csv(folder, sections)
    db.dispose()
    for name, (tables, problems) in (
        ("xlsx", read_workbook(folder / "data.xlsx", "data.xlsx")),
        ("csv", read_csv(folder / "purposes.csv", "purposes.csv")),
    ):
        assert problems == []
        again = Database.open(str(folder / f"again-{name}.db"))
        again.init()
        Registry(again, "tester").import_records([], tables)
        back = Registry(again, "tester").get("purpose", "p1")
        assert (back["name"], back["description"]) == (stored["name"], stored["description"])
        again.dispose()


def test_import_progress_passes_every_row_through_on_a_terminal(monkeypatch, tmp_path):
    import io
    import sys

    from ropa.cli.output import import_progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    text = "key,name\n" + "".join(f"k{i},Name {i}\n" for i in range(1200))
    tables, _ = read_csv(None, "sources.csv", text)
    with import_progress(tables) as stage:
        parsed = parse_tables(tables)
        stage("checking")
    assert [r["key"] for _, r in parsed.records["source"]] == [f"k{i}" for i in range(1200)]
    assert terminal.getvalue()  # the bar was drawn on the terminal

    silent = io.StringIO()  # not a terminal: no bar
    monkeypatch.setattr(sys, "stderr", silent)
    tables, _ = read_csv(None, "sources.csv", text)
    with import_progress(tables) as stage:
        parse_tables(tables)
        stage("writing")
    assert silent.getvalue() == ""


def test_bulk_import_builds_the_link_indexes_again(initialised, db, tmp_path, monkeypatch):
    """Large imports into SQLite drop the link tables' secondary indexes and build them once
    at the end, in the same transaction: afterwards every index is there again."""
    import sqlalchemy as sa

    import ropa.store

    def indexes() -> set[str]:
        return set().union(*(t.indexes for t in ropa.store.LINK_TABLES.values()))

    expected = {i.name for i in indexes()}
    monkeypatch.setattr(ropa.store, "BULK_FROM", 1)  # every import is a bulk one
    cli = initialised
    cli("import", SAMPLE)
    cli("export", "yaml", "-o", "original.yaml")
    assert cli("export", "xlsx", "--layout", "data", "-o", "data.xlsx").exit_code == 0
    cli("init", "--force", "--yes")
    assert cli("import", "data.xlsx").exit_code == 0
    cli("export", "yaml", "-o", "again.yaml")
    assert (tmp_path / "again.yaml").read_bytes() == (tmp_path / "original.yaml").read_bytes()
    with db.engine.connect() as conn:
        present = set()
        for table in ropa.store.LINK_TABLES.values():
            present |= {i["name"] for i in sa.inspect(conn).get_indexes(table.name)}
    assert expected and expected <= present


def test_data_layout_of_a_past_day(initialised, sample):
    result = initialised("export", "xlsx", "--layout", "data", "--as-of", "2000-01-01")
    assert result.exit_code == 0, result.stderr
    assert "ropa-data.xlsx (no records)" in result.stderr


def test_a_csv_row_with_more_cells_than_its_header_is_refused(initialised, registry, tmp_path):
    """An unquoted comma shifted a row: the cells past the header were dropped without a
    word, and the description was stored cut short, exit 0."""
    cli = initialised
    (tmp_path / "sources.csv").write_text(
        "key,name,description\n"
        "bank,Bank records,Statements from the bank, kept 10 years,per HGB 257\n"
        "crm,CRM,,\n"
        "web,Web,,  \n"
    )
    result = cli("import", "sources.csv")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: sources.csv:sources:2: 5 cells where the header has 3; a cell holding a comma "
        "must be in double quotes"
    )
    assert registry.list("source") == []


def test_a_csv_row_of_spaces_is_skipped_as_an_empty_row(initialised, registry, tmp_path):
    """A row of spaces was refused cell by cell ("'   ' is not a whole number"); a workbook
    skips it as an empty row."""
    cli = initialised
    (tmp_path / "sources.csv").write_text(
        "key,name,description\ncrm,CRM,\n  ,   , \nweb,Web,,  \n"  # and spaces past the header
    )
    result = cli("import", "sources.csv")
    assert result.exit_code == 0, result.stderr
    assert [s["key"] for s in registry.list("source")] == ["crm", "web"]


def test_a_template_is_not_written_over_a_filled_in_one(initialised, tmp_path):
    """`ropa template` again, after filling in exports/ropa-template.xlsx, replaced the
    user's rows with an empty workbook, exit 0."""
    cli = initialised
    assert cli("template").exit_code == 0
    path = tmp_path / "exports" / "ropa-template.xlsx"
    book = openpyxl.load_workbook(path)
    book["sources"].append(["s1", "Source 1"])
    book.save(path)
    result = cli("template")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {Path('exports/ropa-template.xlsx')} exists (a template being filled in?); "
        "import it, give another -o, or --force to replace it\n"
    )
    assert openpyxl.load_workbook(path)["sources"]["A2"].value == "s1"
    assert cli("template", "--force").exit_code == 0
    assert openpyxl.load_workbook(path)["sources"]["A2"].value is None


def test_an_empty_retention_row_is_refused_not_stored_as_a_rule(initialised, registry, tmp_path):
    """A retention row with only its activity replaced the activity's rule (P2Y, its trigger
    and criteria) with an empty one, exit 0."""
    cli = initialised
    cli("purpose", "add", "p", "--name", "P")
    cli("party", "add", "g", "--name", "G", "--kind", "group-member", "--country", "DE")
    added = cli(
        "activity", "add", "m", "--name", "M", "--controller", "g", "--purpose", "p",
        "--retention", "P2Y:end of contract",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    (tmp_path / "retention.csv").write_text("activity,duration,trigger\nm,,\n")
    result = cli("import", "retention.csv")
    assert result.exit_code == 1
    assert (
        "\nerror: retention.csv:retention:2:duration: an empty retention rule; give its "
        "duration, trigger or criteria\n"
    ) in result.stderr
    assert registry.get("activity", "m")["retention"][0]["duration"] == "P2Y"
    document = {"ropa": 1, "activities": [{**registry.get("activity", "m"), "retention": [{}]}]}
    (tmp_path / "m.json").write_text(json.dumps(document, default=str))
    result = cli("import", "m.json")
    assert result.exit_code == 1
    assert "m.json:activities[0].retention[0].duration: an empty retention rule" in result.stderr


def test_a_list_cell_longer_than_a_spreadsheet_holds_is_refused_not_written(initialised, tmp_path):
    """600 recipients of 64-character keys made a 38,999-character cell: Excel calls such a
    workbook damaged and cuts the cell, and a pack returned from it would drop recipients."""
    cli = initialised
    keys = [f"r{i:04d}" + "k" * 59 for i in range(600)]
    document = {
        "ropa": 1,
        "parties": [{"key": k, "name": f"R {i}", "kind": "service-provider"} for i, k in
                    enumerate(keys)],
        "activities": [{"key": "a", "name": "A", "recipients": keys}],
    }  # fmt: skip
    (tmp_path / "d.json").write_text(json.dumps(document))
    assert cli("import", "d.json").exit_code == 0
    result = cli("export", "xlsx", "--layout", "data", "-o", "d.xlsx")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: activities:2:recipients (a): 38,999 characters, more than a spreadsheet cell "
        "holds (32,767); the data layout as CSV holds any length (ropa export csv --layout "
        "data)\n"
    )
    assert not (tmp_path / "d.xlsx").exists()
    assert cli("export", "csv", "--layout", "data", "-o", "d").exit_code == 0


def test_a_sheet_past_its_last_row_refuses_the_data_export(sample, cli, tmp_path, monkeypatch):
    # Past 1,048,576 rows XlsxWriter wrote rows no reader takes: the round trip lost them.
    from ropa.io import xlsx_rows

    monkeypatch.setattr(xlsx_rows, "MAX_ROWS", 5)
    result = cli("export", "xlsx", "--layout", "data", "-o", "data.xlsx")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "more rows than a sheet holds (5)" in result.stderr
    assert "`ropa export csv --layout data` has no such limit" in result.stderr
    assert not (tmp_path / "data.xlsx").exists()


def test_a_transfers_sheet_that_drops_stored_rows_says_so(initialised, sample, tmp_path):
    # A transfers sheet's rows for an activity replace all of its transfers: a row added to
    # the template for an activity with two transfers left it with one, and the import said
    # only "updated".
    cli = initialised
    assert cli("activity", "edit", "app-security", "--add-transfer", "CH:adequacy").exit_code == 0
    before = sample.get("activity", "app-security")["transfers"]
    assert len(before) == 2
    folder = tmp_path / "add"
    folder.mkdir()
    (folder / "transfers.csv").write_text(
        "activity,country,recipient,mechanism,details,document_link,tia_link\n"
        "app-security,JP,,adequacy,,,\n"
    )
    result = cli("import", str(folder))
    assert result.exit_code == 0, result.stderr
    assert (
        "warning: the transfers rows of 1 activity (app-security) are 1 fewer than its stored "
        "ones, which they replace: an activity's rows in a transfers sheet are all of its "
        "transfers (`ropa export xlsx --layout data` has the stored ones to edit)"
    ) in " ".join(result.stderr.split())
    # A sheet that keeps every stored row says nothing.
    rows = "".join(
        f"app-security,{t['country']},{t['recipient'] or ''},{t['mechanism']},"
        f"{t['details'] or ''},,\n"
        for t in [*before, {"country": "JP", "recipient": None, "mechanism": "adequacy",
                            "details": None}]
    )  # fmt: skip
    (folder / "transfers.csv").write_text(
        "activity,country,recipient,mechanism,details,document_link,tia_link\n" + rows
    )
    result = cli("import", str(folder))
    assert result.exit_code == 0, result.stderr
    assert "fewer than" not in result.stderr
    # Nor does one with a row edited (the export-and-edit the warning itself points to).
    (folder / "transfers.csv").write_text(
        "activity,country,recipient,mechanism,details,document_link,tia_link\n"
        + rows.replace("app-security,JP,,adequacy,,,", "app-security,JP,,adequacy,edited,,")
    )
    result = cli("import", str(folder))
    assert result.exit_code == 0, result.stderr
    assert "fewer than" not in " ".join(result.stderr.split())
