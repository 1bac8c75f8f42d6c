"""Time `ropa check` on a synthetic register against a raw read of the same rows.

    python benchmarks/bench_check.py [--activities 100000] [--db PATH]

The baseline is the least any check must do: read every row of every table with sqlite3 (no
ORM, no objects beyond tuples), in the same run. The synthetic database is built once and
reused (delete it to rebuild).
"""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import benchmark_parser, measure_command, synthetic_database


def raw_read(path: Path) -> int:
    """Read every row of every ropa table; returns the number of rows."""
    conn = sqlite3.connect(path)
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name NOT IN ('revisions', 'alembic_version')"
        )
    ]
    rows = sum(len(conn.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables)
    conn.close()
    return rows


def main() -> None:
    parser = benchmark_parser(__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    path = synthetic_database(args.activities, args.db)

    baseline = float("inf")
    for _ in range(args.runs):
        start = time.perf_counter()
        rows = raw_read(path)
        baseline = min(baseline, time.perf_counter() - start)
    runs = [
        measure_command(["--db", str(path), "check", "--format", "json"], ok_codes=(0, 1))
        for _ in range(args.runs)
    ]
    elapsed = min(seconds for seconds, _ in runs)
    peak = max(mb for _, mb in runs)
    print(f"activities         {args.activities}")
    print(f"rows read          {rows}")
    print(f"raw sqlite3 read   {baseline:.2f} s")
    print(f"ropa check         {elapsed:.2f} s  (whole command: start-up, read, rules, JSON)")
    print(f"ratio              {elapsed / baseline:.1f}x the raw read")
    print(f"peak memory        {peak:.0f} MB (largest process)")


if __name__ == "__main__":
    main()
