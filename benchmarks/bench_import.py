"""Time `ropa import` of the data layout (xlsx and CSV) against a raw read + executemany.

    python benchmarks/bench_import.py [--activities 100000] [--db PATH] [--postgres URL]

The synthetic register is exported with `ropa export xlsx|csv --layout data`; each file is
then imported into an empty database with `ropa import`, in a process of its own (peak memory
is that process's). Every measured step starts after `sync`, so that no step pays for
flushing the writes of the one before. The baseline, measured in the same run, is the least
an import must do: read the same file with the fastest reader here (python-calamine for
xlsx, the csv module for CSV) and insert the same rows (records, link rows, transfers,
retention) into an empty ropa database with sqlite3 `executemany` in one transaction,
without validation or history.

Then the registry document (YAML) is imported into an empty database (its ratio is to the CSV
import), and a one-record file is imported with --dry-run into the synthetic register (its
cost should not grow with the register). With `--postgres URL` (a server where databases
may be created), the CSV import runs on PostgreSQL against the floor of a raw psycopg `COPY`
of the same rows into the same tables of an empty ropa database, in the same run.
"""

from __future__ import annotations

import csv
import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    benchmark_parser,
    measure_command,
    synthetic_database,
    work_folder,
)
from ropa.io.data_layout import SHEETS
from ropa.schema import T, link_table

SPLIT = re.compile(r"[;\n]")


def read_xlsx(path: Path) -> dict[str, list[list]]:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    names = {s.name for s in SHEETS}
    return {
        name: list(book.get_sheet_by_name(name).iter_rows())
        for name in book.sheet_names
        if name in names
    }


def read_csv(folder: Path) -> dict[str, list[list]]:
    tables = {}
    for sheet in SHEETS:
        with open(folder / f"{sheet.name}.csv", encoding="utf-8-sig", newline="") as f:
            tables[sheet.name] = list(csv.reader(f))
    return tables


def _value(f, cell):
    if cell == "" or cell is None:
        empty = f.empty()
        return int(empty) if isinstance(empty, bool) else empty
    if f.type is T.BOOL:
        return 1
    if f.type is T.DATE:
        if isinstance(cell, int | float):
            cell = date(1899, 12, 30) + timedelta(days=int(cell))
        return cell.isoformat() if isinstance(cell, date) else cell
    if f.type is T.INT:
        return int(float(cell))
    return cell


def raw_rows(tables: dict[str, list[list]], now: str) -> Iterator[tuple[str, list[str], list]]:
    """(table, columns, rows) of every ropa table, in an order the foreign keys accept."""
    order = [*[s for s in SHEETS if not s.nested][1:], SHEETS[0], *SHEETS[1:3]]
    for sheet in order:
        header, *rows = tables[sheet.name]
        position = {name: i for i, name in enumerate(header)}
        fields = sheet.fields
        if sheet.nested:
            columns = ["activity", "position", *[f.name for f in fields[1:]]]
            counters: dict[str, int] = {}
            values = []
            for row in rows:
                owner = row[position["activity"]]
                counters[owner] = counters.get(owner, -1) + 1
                values.append(
                    (
                        owner,
                        counters[owner],
                        *[_value(f, row[position[f.name]]) for f in fields[1:]],
                    )
                )
            yield f"activities_{sheet.nested.name}", columns, values
            continue
        scalar = [f for f in fields if not f.is_list]
        columns = [f.name for f in scalar] + ["created_at", "updated_at", "version"]
        values = [
            (*[_value(f, row[position[f.name]]) for f in scalar], now, now, 1) for row in rows
        ]
        yield sheet.kind.table, columns, values
        for f in sheet.kind.list_fields:
            if f.type is T.NESTED:
                continue
            col = position[f.name]
            links = [
                (row[position["key"]], item)
                for row in rows
                for item in SPLIT.split(row[col] or "")
                if item
            ]
            yield link_table(sheet.kind, f), ["owner", "value"], links


def insert_raw(tables: dict[str, list[list]], db: Path) -> int:
    """executemany of the rows into the ropa tables, one transaction; returns rows written."""
    now = datetime.now(UTC).isoformat(sep=" ")
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("BEGIN IMMEDIATE")
    written = 0
    for table, columns, values in raw_rows(tables, now):
        marks = ", ".join("?" * len(columns))
        names = ", ".join(f'"{c}"' for c in columns)
        conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', values)
        written += len(values)
    conn.execute("COMMIT")
    conn.close()
    return written


def copy_raw(tables: dict[str, list[list]], url: str) -> int:
    """psycopg COPY of the rows into the ropa tables of a PostgreSQL database, one
    transaction; returns rows written."""
    import psycopg

    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    written = 0
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        for table, columns, values in raw_rows(tables, now):
            names = ", ".join(f'"{c}"' for c in columns)
            with (
                conn.cursor() as cursor,
                cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy,
            ):
                for row in values:
                    copy.write_row([None if v == "" else v for v in row])
            written += len(values)
    return written


_BASELINE = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from benchmarks.bench_import import copy_raw, insert_raw, read_csv, read_xlsx
from pathlib import Path
start = time.perf_counter()
kind, source, db = sys.argv[2:]
tables = read_xlsx(Path(source)) if kind == "xlsx" else read_csv(Path(source))
read = time.perf_counter() - start
rows = copy_raw(tables, db) if "://" in db else insert_raw(tables, Path(db))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": time.perf_counter() - start, "read": read, "rows": rows,
                  "peak_mb": peak}))
"""


def empty_database(folder: Path, name: str) -> Path:
    path = folder / name
    measure_command(["--db", str(path), "init"])
    return path


def baseline(kind: str, source: Path, folder: Path, db: str | None = None) -> dict:
    db = db or str(empty_database(folder, f"baseline-{kind}.db"))
    os.sync()  # start with no dirty pages of earlier steps left to flush
    root = str(Path(__file__).resolve().parent.parent)
    out = subprocess.run(
        [sys.executable, "-c", _BASELINE, root, kind, str(source), db],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def main() -> None:
    parser = benchmark_parser(__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="a PostgreSQL server URL ending in a database name")
    args = parser.parse_args()
    path = synthetic_database(args.activities, args.db)
    with work_folder("ropa-bench-import-") as folder:
        measure(args.activities, path, folder)
        if args.postgres:
            measure_postgres(args.postgres, folder / "data")


def measure_documents(path: Path, folder: Path, csv_seconds: float) -> None:
    """The registry document (YAML) imported into an empty database, against the CSV import;
    a one-record file imported with --dry-run into the whole synthetic register."""
    import shutil

    document = folder / "registry.yaml"
    measure_command(["--db", str(path), "export", "yaml", "-o", str(document)])
    db = empty_database(folder, "ropa-yaml.db")
    os.sync()
    seconds, peak = measure_command(["--db", str(db), "import", str(document)])
    print(
        f"yaml: ropa import {seconds:.1f} s, {peak:.0f} MB; "
        f"ratio to the CSV import {seconds / csv_seconds:.2f}x"
    )
    one = folder / "one.yaml"
    one.write_text(
        "activities:\n- key: act-000001\n  name: Renamed activity\n  controller: entity-1\n"
        "- key: brand-new\n  name: Brand new activity\n  controller: Group Entity 2\n"
        "  purposes: [purpose-1]\n"
    )
    copy = folder / "register.db"
    shutil.copy(path, copy)
    seconds, peak = measure_command(["--db", str(copy), "import", "--dry-run", str(one)])
    print(f"dry run of a 2-record file into the register: {seconds:.2f} s, {peak:.0f} MB")


def measure_postgres(server: str, csv_folder: Path) -> None:
    """The CSV import on PostgreSQL against a raw COPY of the same rows, in fresh databases."""
    import uuid

    import psycopg

    base = server.rsplit("/", 1)[0]
    admin = server.replace("postgresql+psycopg://", "postgresql://")
    names = [f"ropa_bench_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        raw_url, ropa_url = (f"{base}/{name}" for name in names)
        for url in (raw_url, ropa_url):
            measure_command(["--db", url, "init"])
        raw = baseline("csv", csv_folder, csv_folder.parent, raw_url)
        seconds, peak = measure_command(["--db", ropa_url, "import", str(csv_folder)])
        print(
            f"postgresql csv: raw COPY {raw['seconds']:.1f} s ({raw['rows']} rows, "
            f"{raw['peak_mb']:.0f} MB); ropa import {seconds:.1f} s, {peak:.0f} MB; "
            f"ratio {seconds / raw['seconds']:.2f}x"
        )
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure(activities: int, path: Path, folder: Path) -> None:
    workbook, csv_folder = folder / "data.xlsx", folder / "data"
    export_xlsx = measure_command(
        ["--db", str(path), "export", "xlsx", "--layout", "data", "-o", str(workbook)]
    )
    export_csv = measure_command(
        ["--db", str(path), "export", "csv", "--layout", "data", "-o", str(csv_folder)]
    )
    print(f"activities              {activities}")
    print(f"export xlsx --layout data  {export_xlsx[0]:.1f} s, {export_xlsx[1]:.0f} MB")
    print(f"export csv --layout data   {export_csv[0]:.1f} s, {export_csv[1]:.0f} MB")
    csv_seconds = 0.0
    for kind, source in (("xlsx", workbook), ("csv", csv_folder)):
        raw = baseline(kind, source, folder)
        db = empty_database(folder, f"ropa-{kind}.db")
        os.sync()  # the baseline's writes must not be flushed on ropa's time
        seconds, peak = measure_command(["--db", str(db), "import", str(source)])
        print(
            f"{kind}: baseline {raw['seconds']:.1f} s (read {raw['read']:.1f} s, "
            f"{raw['rows']} rows, {raw['peak_mb']:.0f} MB); ropa import {seconds:.1f} s, "
            f"{peak:.0f} MB; ratio {seconds / raw['seconds']:.2f}x"
        )
        csv_seconds = seconds
    measure_documents(path, folder, csv_seconds)


if __name__ == "__main__":
    main()
