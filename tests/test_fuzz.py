"""No traceback from any input (issue 11's property test, issue 17's fuzz target): random rows
— blanks, wrong types, unknown references, whitespace, huge and control text — in every
column of every sheet of the data layout, and random registry documents, are imported; each
import succeeds or exits 1 with `error:` lines, and a failed one leaves the database as it
was. Runs on both backends; the example count is bounded to keep it near a minute each.

The memory-exhausting inputs (far-cell workbook, zip bomb, alias bomb) are built and refused
under a 2 GB address-space cap in tests/test_hostile.py; here every example runs in-process."""

from __future__ import annotations

import json

import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ropa.io.data_layout.sheets import SHEETS
from ropa.schema import KINDS
from tests.conftest import ANY_TEXT, dump

CELL = st.one_of(
    st.none(),
    st.just(""),
    st.just("   "),
    ANY_TEXT,
    st.sampled_from(["p1", "a1", "unknown-key", "US", "P6Y", "2026-02-30", "yes", "scc"]),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(alphabet="\x00\x07\x1b\r\t\u202e\ufeff x", max_size=30),
    st.just("x" * 40_000),
)

FUZZ = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _import_is_clean(cli, db, path) -> None:
    before = dump(db)
    result = cli("import", path)  # the fixture raises any exception that is not an exit
    assert result.exit_code in (0, 1), result
    if result.exit_code == 1:
        assert result.stderr.startswith("error: ") or result.stderr.startswith("warning: ")
        assert "error: " in result.stderr and "Traceback" not in result.stderr
        assert dump(db) == before


@FUZZ
@given(data=st.data())
def test_no_data_layout_workbook_gives_a_traceback(initialised, db, tmp_path, data):
    path = tmp_path / "fuzz.xlsx"
    with xlsxwriter.Workbook(path, {"strings_to_numbers": False}) as book:
        for sheet in data.draw(st.lists(st.sampled_from(SHEETS), min_size=1, max_size=3)):
            if sheet.name in book.sheetnames:
                continue
            page = book.add_worksheet(sheet.name)
            page.write_row(0, 0, sheet.columns)
            rows = data.draw(st.lists(st.lists(CELL, max_size=len(sheet.columns)), max_size=4))
            for r, row in enumerate(rows, 1):
                for c, value in enumerate(row):
                    if isinstance(value, float) and value != value:
                        continue  # xlsx cannot hold NaN
                    if isinstance(value, float) and abs(value) == float("inf"):
                        value = str(value)
                    page.write(r, c, value)
    _import_is_clean(initialised, db, path)


@FUZZ
@given(data=st.data())
def test_no_data_layout_csv_gives_a_traceback(initialised, db, tmp_path, data):
    sheet = data.draw(st.sampled_from(SHEETS))
    rows = data.draw(st.lists(st.lists(CELL, max_size=len(sheet.columns)), max_size=4))
    path = tmp_path / f"{sheet.name}.csv"
    import csv

    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(sheet.columns)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
    _import_is_clean(initialised, db, path)


JSON_VALUE = st.recursive(
    CELL.filter(lambda v: not (isinstance(v, float) and v != v)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
    max_leaves=8,
)


@FUZZ
@given(data=st.data())
def test_no_registry_document_gives_a_traceback(initialised, db, tmp_path, data):
    document: dict = {"ropa": data.draw(st.sampled_from([1, 1, "1", None, 2]))}
    for kind in data.draw(st.lists(st.sampled_from(list(KINDS.values())), max_size=2)):
        fields = [f.name for f in kind.fields]
        records = []
        for _ in range(data.draw(st.integers(0, 2))):
            record = {"key": data.draw(st.sampled_from(["p1", "a1", "k-1", "bad key!", ""]))}
            for name in data.draw(st.lists(st.sampled_from(fields), max_size=6)):
                record[name] = data.draw(JSON_VALUE)
            records.append(record)
        document[kind.section] = data.draw(st.sampled_from([records, records, {"x": 1}, "x"]))
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps(document, ensure_ascii=False, allow_nan=True))
    _import_is_clean(initialised, db, path)
