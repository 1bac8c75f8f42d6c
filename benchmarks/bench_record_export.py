"""Time the record workbook export against the fastest raw writer of the same cells.

    python benchmarks/bench_record_export.py [--activities 100000] [--db PATH]

The raw baseline writes exactly the cells the export writes (same sheets, same strings),
unformatted, with each writer available here (XlsxWriter constant_memory, openpyxl
write-only); the fastest is the baseline. The export is the whole `ropa export xlsx` command:
start-up, reading the register, building the cells, styling, the registry fingerprint.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import benchmark_parser, measure_command, synthetic_database, work_folder
from ropa.db import Database
from ropa.io.article30 import record_rows, record_sheets
from ropa.io.record_cells import RecordScope
from ropa.registry import Registry


def cell_matrix(db: Database) -> dict[str, list[list]]:
    """The rows of every sheet, as the export builds them."""
    sheets: dict[str, list[list]] = {s.name: [s.headers] for s in record_sheets()}
    with Registry(db).record(RecordScope()) as (cover, builder, activities):
        sheets["Cover"] = [[label, value] for label, value in cover.rows()]
        for sheet, row in record_rows(builder, activities):
            sheets[sheet.name].append(row)
    return sheets


def raw_xlsxwriter(sheets: dict[str, list[list]], path: Path) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    sheet.write(r, c, value)
    book.close()


def raw_openpyxl(sheets: dict[str, list[list]], path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)


def main() -> None:
    args = benchmark_parser(__doc__.splitlines()[0]).parse_args()
    path = synthetic_database(args.activities, args.db)
    with work_folder("ropa-bench-record-") as work:
        measure(args.activities, path, work)


def measure(activities: int, path: Path, work: Path) -> None:
    target = work / "record.xlsx"
    elapsed, peak_mb = measure_command(["--db", str(path), "export", "xlsx", "-o", str(target)])
    print(
        f"ropa export xlsx      {elapsed:.1f} s  (whole command, styled, with fingerprint)",
        flush=True,
    )

    sheets = cell_matrix(Database.open(str(path)))
    cells = sum(len(row) for rows in sheets.values() for row in rows)
    raw = {}
    for name, writer in (("xlsxwriter", raw_xlsxwriter), ("openpyxl", raw_openpyxl)):
        start = time.perf_counter()
        writer(sheets, work / f"raw-{name}.xlsx")
        raw[name] = time.perf_counter() - start
        print(f"raw {name:<17} {raw[name]:.1f} s", flush=True)
    del sheets
    fastest = min(raw, key=raw.get)
    print(f"activities            {activities}")
    print(f"cells                 {cells}")
    print(f"ratio                 {elapsed / raw[fastest]:.2f}x the fastest raw writer ({fastest})")
    print(f"peak memory           {peak_mb:.0f} MB (ropa export xlsx)")
    print(f"workbook              {target.stat().st_size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
