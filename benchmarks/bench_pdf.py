"""Time the PDF record and the workbook's activity pages against the xlsx record export.

    python benchmarks/bench_pdf.py [--activities 2000,20000] [--db-dir DIR]

For each size: `ropa export xlsx` (the record workbook, activity pages included) and
`ropa export pdf`, each the whole command in a process of its own (start-up, reading the
register, the fingerprint), with wall time and peak RSS; the ratio PDF / xlsx; and the
`Activity pages` sheet alone, written in-process from the same rows. Targets (issue 12):
the PDF of 2,000 activities in under 10x the xlsx export's time, peak RSS under 500 MB at
20,000.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import measure_command, synthetic_database
from ropa.db import Database
from ropa.io.article30 import activity_page, record_rows
from ropa.io.record_cells import RecordScope
from ropa.registry import Registry


def activity_pages_only(db: Database, target: Path) -> tuple[float, int]:
    """Seconds to write a workbook holding only the Activity pages sheet, and its pages."""
    import xlsxwriter

    from ropa.io.xlsx_pages import ActivityPagesSheet

    with Registry(db).record(RecordScope()) as (cover, builder, activities):
        rows = list(record_rows(builder, activities, details=False))
        names = [c["name"] for c in cover.controllers]
    start = time.perf_counter()
    book = xlsxwriter.Workbook(str(target), {"constant_memory": True})
    sheet = ActivityPagesSheet(book, names)
    for main, row in rows:
        sheet.write(activity_page(main, row))
    sheet.finish()
    book.close()
    return time.perf_counter() - start, sheet.pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", default="2000,20000")
    parser.add_argument("--db-dir", type=Path, default=Path("/tmp"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ropa-bench-"))
    for size in (int(n) for n in args.activities.split(",")):
        path = synthetic_database(size, args.db_dir / f"ropa-bench-{size}.db")
        print(f"== {size} activities", flush=True)
        xlsx_s, xlsx_mb = measure_command(
            ["--db", str(path), "export", "xlsx", "-o", str(work / "record.xlsx")]
        )
        print(f"ropa export xlsx   {xlsx_s:7.1f} s  peak {xlsx_mb:6.0f} MB", flush=True)
        pdf_s, pdf_mb = measure_command(
            ["--db", str(path), "export", "pdf", "-o", str(work / "record.pdf")]
        )
        print(
            f"ropa export pdf    {pdf_s:7.1f} s  peak {pdf_mb:6.0f} MB  "
            f"= {pdf_s / xlsx_s:.1f}x the xlsx export",
            flush=True,
        )
        pages_s, pages = activity_pages_only(Database.open(str(path)), work / "pages.xlsx")
        print(
            f"Activity pages     {pages_s:7.1f} s  ({pages} pages, sheet alone, in-process; "
            f"{pages_s / xlsx_s:.0%} of the xlsx export's time)",
            flush=True,
        )


if __name__ == "__main__":
    main()
