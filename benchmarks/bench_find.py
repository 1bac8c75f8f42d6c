"""Time `ropa activity list` with three filters on a synthetic register against a raw query.

    python benchmarks/bench_find.py [--activities 100000] [--db PATH] [--postgres URL]

The command is `activity list --country IN --basis consent --entity entity-3 -f json`: a
transfer destination (or hosting country), a lawful basis and a group member. The baseline is
the same selection as one hand-written SQL query of the matching keys with sqlite3, in the
same run. The whole command is timed (start-up, query, JSON on stdout), in a process of its
own, with its peak memory. With --postgres URL the register is also loaded into that
(empty) PostgreSQL database once, and the command is timed there too.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import benchmark_parser, measure_command, synthetic_database

FILTERS = ["--country", "IN", "--basis", "consent", "--entity", "entity-3"]

RAW = """
SELECT a.key FROM activities a
WHERE a.controller = 'entity-3'
  AND a.key IN (SELECT owner FROM activities_lawful_bases WHERE value = 'consent')
  AND (a.key IN (SELECT activity FROM activities_transfers WHERE country = 'IN')
       OR a.key IN (SELECT s.owner FROM activities_systems s
                    JOIN systems_countries c ON c.owner = s.value WHERE c.value = 'IN'))
ORDER BY a.key
"""


def raw_query(path: Path) -> int:
    """The matching keys by one SQL query; returns how many."""
    conn = sqlite3.connect(path)
    rows = conn.execute(RAW).fetchall()
    conn.close()
    return len(rows)


def postgres_loaded(url: str, activities: int) -> None:
    """Load the synthetic register into the PostgreSQL database at `url` unless it holds
    activities already."""
    from benchmarks.synthetic import synthetic_document
    from ropa.db import Database
    from ropa.registry import Registry

    db = Database.open(url)
    if not db.exists():
        db.init()
    registry = Registry(db, "benchmark")
    if not registry.keys()["activities"]:
        start = time.perf_counter()
        registry.import_documents([(synthetic_document(activities), "synthetic")])
        print(
            f"loaded {activities} activities into PostgreSQL in {time.perf_counter() - start:.0f} s"
        )
    db.dispose()


def timed(database: str, runs: int) -> tuple[float, float]:
    results = [
        measure_command(["--db", database, "activity", "list", *FILTERS, "-f", "json"])
        for _ in range(runs)
    ]
    return min(s for s, _ in results), max(mb for _, mb in results)


def in_process(database: str, runs: int) -> float:
    """The listing without the start-up: filters resolved, the query run and every record
    written as JSON (to nowhere), in this process after a first warm-up run."""
    from ropa.cli.output import Format, listing_chunks
    from ropa.db import Database
    from ropa.registry import Registry
    from ropa.schema import ACTIVITY

    filters = {"country": ["IN"], "basis": ["consent"], "entity": ["entity-3"]}
    registry = Registry(Database.open(database), "benchmark")
    best = float("inf")
    for _ in range(runs + 1):
        start = time.perf_counter()
        with registry.find("activity", filters) as records:
            for _ in listing_chunks(ACTIVITY, records, Format.json):
                pass
        best = min(best, time.perf_counter() - start)
    registry.db.dispose()
    return best


def startup(runs: int) -> float:
    """The time of `ropa --version`: the interpreter and ropa's start-up alone."""
    return min(measure_command(["--version"])[0] for _ in range(runs))


def main() -> None:
    parser = benchmark_parser(__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", help="an empty PostgreSQL database URL to time as well")
    args = parser.parse_args()
    path = synthetic_database(args.activities, args.db)

    baseline = float("inf")
    for _ in range(args.runs):
        start = time.perf_counter()
        found = raw_query(path)
        baseline = min(baseline, time.perf_counter() - start)
    elapsed, peak = timed(str(path), args.runs)
    print(f"activities           {args.activities}")
    print(f"filters              {' '.join(FILTERS)}")
    print(f"matching             {found}")
    print(f"raw sqlite3 query    {baseline * 1000:.0f} ms")
    print(f"start-up alone       {startup(args.runs):.2f} s  (ropa --version)")
    print(f"activity list SQLite {elapsed:.2f} s  (whole command)  peak {peak:.0f} MB")
    listing = in_process(str(path), args.runs)
    print(f"  without start-up   {listing:.2f} s  ({listing / baseline:.1f}x the raw query)")
    if args.postgres:
        postgres_loaded(args.postgres, args.activities)
        elapsed, peak = timed(args.postgres, args.runs)
        print(f"activity list PG     {elapsed:.2f} s  (whole command)  peak {peak:.0f} MB")
        print(f"  without start-up   {in_process(args.postgres, args.runs):.2f} s")


if __name__ == "__main__":
    main()
