"""Time `ropa review pack --per-owner` on a synthetic register with owners.

    python benchmarks/bench_review.py [--activities 2000] [--owners 100] [--db PATH]

The register is the synthetic one (`synthetic.py`) with each activity given one of
`--owners` owners; it is built once and reused. The command writes one pack per owner
(data layout with drop-downs and instructions, review columns, activity pages, versions)
and review-request.csv. The baseline, in the same run, writes the same number of workbooks
holding the same activity rows as plain cells with XlsxWriter (no drop-downs, no pages).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import measure_command, work_folder


def build(path: Path, activities: int, owners: int) -> None:
    from benchmarks.synthetic import synthetic_document
    from ropa.db import Database
    from ropa.registry import Registry

    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    document = synthetic_document(activities)
    for i, activity in enumerate(document["activities"]):
        activity["owner"] = f"owner-{i % owners:03d}@group.example"
        if i % 3 == 0:
            activity["last_reviewed"] = "2024-06-01"  # overdue
    db = Database.open(str(path))
    db.init()
    Registry(db, "benchmark").import_documents([(document, "synthetic")])
    db.dispose()


def raw_packs(path: Path, folder: Path, owners: int) -> int:
    """One plain workbook per owner with its activities' scalar cells; returns rows."""
    import sqlite3

    import xlsxwriter

    conn = sqlite3.connect(path)
    names = [d[1] for d in conn.execute("PRAGMA table_info(activities)")]
    rows = conn.execute("SELECT * FROM activities ORDER BY owner, key").fetchall()
    conn.close()
    owner_at = names.index("owner")
    by_owner: dict[str, list] = {}
    for row in rows:
        by_owner.setdefault(row[owner_at], []).append(row)
    for n, owned in enumerate(by_owner.values()):
        book = xlsxwriter.Workbook(str(folder / f"raw-{n}.xlsx"), {"constant_memory": True})
        sheet = book.add_worksheet("activities")
        sheet.write_row(0, 0, names)
        for r, row in enumerate(owned, 1):
            sheet.write_row(r, 0, [v if v is not None else "" for v in row])
        book.close()
    return len(rows)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=2000)
    parser.add_argument("--owners", type=int, default=100)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    path = args.db or Path(f"/tmp/ropa-bench-review-{args.activities}-{args.owners}.db")
    if not path.exists():
        start = time.perf_counter()
        build(path, args.activities, args.owners)
        print(f"built {args.activities} activities in {time.perf_counter() - start:.1f} s")

    baseline = float("inf")
    runs = []
    with work_folder("ropa-bench-review-") as folder:
        for _ in range(args.runs):
            start = time.perf_counter()
            raw_packs(path, folder, args.owners)
            baseline = min(baseline, time.perf_counter() - start)
        for _ in range(args.runs):
            runs.append(
                measure_command(
                    ["--db", str(path), "review", "pack", "--per-owner", "-o", str(folder)]
                )
            )
        packs = len(list(folder.glob("review-*.xlsx")))
    elapsed = min(s for s, _ in runs)
    peak = max(mb for _, mb in runs)
    print(f"activities           {args.activities}")
    print(f"owners / packs       {args.owners} / {packs}")
    print(f"raw xlsxwriter       {baseline:.2f} s  (plain cells, one workbook per owner)")
    print(f"review pack          {elapsed:.2f} s  (whole command)")
    print(f"ratio                {elapsed / baseline:.1f}x the raw workbooks")
    print(f"peak memory          {peak:.0f} MB")


if __name__ == "__main__":
    main()
