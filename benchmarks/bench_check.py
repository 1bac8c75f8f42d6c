"""Time `ropa check` on a synthetic register against a raw read of the same rows.

    python benchmarks/bench_check.py [--activities 100000] [--db /tmp/ropa-bench-100000.db]

The baseline is the least any check must do: read every row of every table with sqlite3 (no
ORM, no objects beyond tuples). The figure that matters is the ratio, measured in the same run.
The synthetic database is built once and reused (delete it to rebuild).
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.synthetic import build


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


def best_of(runs: int, func) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=100_000)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    path = args.db or Path(f"/tmp/ropa-bench-{args.activities}.db")
    if not path.exists():
        start = time.perf_counter()
        build(path, args.activities)
        print(f"built {args.activities} activities in {time.perf_counter() - start:.1f} s")

    baseline, rows = best_of(args.runs, lambda: raw_read(path))
    command = [sys.executable, "-m", "ropa", "--db", str(path), "check", "--format", "json"]

    def run_check() -> str:
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode not in (0, 1):
            raise SystemExit(done.stderr)
        return done.stdout

    elapsed, output = best_of(args.runs, run_check)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    summary = output.split('"summary": "', 1)[1].split('"', 1)[0]
    print(f"activities         {args.activities}")
    print(f"rows read          {rows}")
    print(f"raw sqlite3 read   {baseline:.2f} s")
    print(f"ropa check         {elapsed:.2f} s  (whole command: start-up, read, rules, JSON)")
    print(f"ratio              {elapsed / baseline:.1f}x the raw read")
    print(f"peak memory        {peak_mb:.0f} MB")
    print(f"findings           {summary}")


if __name__ == "__main__":
    main()
