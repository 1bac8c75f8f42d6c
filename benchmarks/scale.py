"""Every command of the scale issue at several register sizes, each in a child process.

    python benchmarks/scale.py --sizes 1000,10000,100000 [--postgres URL] [--repeat 2]

For each size the synthetic register (benchmarks/synthetic.py, built once and reused) is
copied into a work folder and its registry document and data-layout files are exported; then
each command runs in a process of its own and prints its wall time, its peak RSS, and the
ratio to its baseline measured in the same run (`import typer`, `ropa --version`, the raw
read-and-insert of bench_import, `history --format csv`, `export yaml`…). At the end, the
memory slope of each command: MB of peak RSS per 10,000 activities between the smallest and
the largest size.

With --postgres URL the imports and reads run against that PostgreSQL database instead (it is
emptied with `ropa init --force --yes`; the raw data-layout baseline is SQLite's). With
--repeat N every command runs N times (each time printed; the ratio uses the fastest).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_import import baseline as raw_import
from benchmarks.common import compile_ropa, synthetic_database, work_folder

_MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                      text=True)
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "peak_mb": peak, "code": done.returncode,
                  "stderr": done.stderr[-2000:]}))
"""


def run(command: list[str]) -> tuple[float, float]:
    """Wall time (s) and peak RSS (MB) of a command in a child process (stdout discarded)."""
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True, check=True
    ).stdout
    result = json.loads(out)
    if result["code"] != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result['stderr']}")
    return result["seconds"], result["peak_mb"]


def ropa(db: str, *arguments: str) -> list[str]:
    return [sys.executable, "-m", "ropa", "--db", db, *arguments]


@dataclass
class Row:
    """One measured command at one size: its runs, and its baseline's name."""

    name: str
    baseline: str | None
    runs: list[tuple[float, float]] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return min(s for s, _ in self.runs)

    @property
    def peak_mb(self) -> float:
        return max(m for _, m in self.runs)


class Sizes:
    """The rows measured at each size."""

    def __init__(self) -> None:
        self.rows: dict[int, dict[str, Row]] = {}

    def add(self, size: int, row: Row) -> None:
        self.rows.setdefault(size, {})[row.name] = row
        base = self.rows[size].get(row.baseline) if row.baseline else None
        ratio = f"{row.seconds / base.seconds:5.2f}x {row.baseline}" if base else ""
        times = " / ".join(f"{s:6.2f}" for s, _ in row.runs)
        print(f"  {row.name:<34} {times} s  {row.peak_mb:6.0f} MB  {ratio}", flush=True)

    def slopes(self) -> None:
        sizes = sorted(self.rows)
        if len(sizes) < 2:
            return
        small, large = sizes[0], sizes[-1]
        print(f"\nmemory slope, MB of peak RSS per 10,000 activities ({small} -> {large}):")
        for name, row in self.rows[large].items():
            if name in self.rows[small]:
                slope = (row.peak_mb - self.rows[small][name].peak_mb) / ((large - small) / 1e4)
                print(f"  {name:<34} {slope:8.1f}")


def measure(name: str, command: list[str], repeat: int, baseline: str | None = None) -> Row:
    row = Row(name, baseline)
    for _ in range(repeat):
        row.runs.append(run(command))
    return row


def one_record_file(folder: Path) -> Path:
    path = folder / "one.yaml"
    path.write_text(
        "ropa: 1\nactivities:\n  - key: scale-one\n    name: One more activity\n"
        "    controller: entity-0\n    purposes: [purpose-1]\n    lawful_bases: [contract]\n"
        "    data_subjects: [subj-1]\n    data_categories: [cat-1]\n",
        encoding="utf-8",
    )
    return path


def fresh(target: str, folder: Path, name: str, postgres: bool) -> str:
    """An empty ropa database: a new SQLite file in the work folder, or the PostgreSQL one
    emptied."""
    db = target if postgres else str(folder / name)
    arguments = ["init", "--force", "--yes"] if postgres else ["init"]
    run(ropa(db, *arguments))
    return db


def imports(
    folder: Path, document: Path, workbook: Path, tables: Path, args: argparse.Namespace, add
) -> None:
    """Imports into an empty database: the data layout (CSV, xlsx) against the raw
    read-and-insert, the registry document against the data-layout CSV import. On
    PostgreSQL the last one leaves the register in the database for the reads."""
    repeat, postgres = args.repeat, args.postgres is not None
    for kind, path in (("csv", tables), ("xlsx", workbook)):
        raw = Row(f"raw read+insert {kind} (sqlite3)", None)
        for _ in range(repeat):
            out = raw_import(kind, path, folder)
            raw.runs.append((out["seconds"], out["peak_mb"]))
            (folder / f"baseline-{kind}.db").unlink()
        add(raw)
        row = Row(f"import data layout {kind}", raw.name)
        for i in range(repeat):
            db = fresh(args.postgres, folder, f"{kind}-{i}.db", postgres)
            os.sync()
            row.runs.append(run(ropa(db, "import", str(path))))
        add(row)
    row = Row("import registry document (yaml)", "import data layout csv")
    for i in range(repeat):
        db = fresh(args.postgres, folder, f"yaml-{i}.db", postgres)
        os.sync()
        row.runs.append(run(ropa(db, "import", str(document))))
    add(row)


def size_run(size: int, args: argparse.Namespace, results: Sizes) -> None:
    repeat, postgres = args.repeat, args.postgres is not None
    source = synthetic_database(size, Path(f"/tmp/ropa-scale-{size}.db"))
    print(f"\n{size} activities ({'PostgreSQL' if postgres else 'SQLite'}):", flush=True)
    with work_folder(f"ropa-scale-{size}-") as folder:
        register = str(folder / "register.db")
        shutil.copy(source, register)
        document, workbook, tables = folder / "doc.yaml", folder / "data.xlsx", folder / "data"
        if "imports" not in args.skip or postgres:
            run(ropa(register, "export", "yaml", "-o", str(document)))
        if "imports" not in args.skip:
            run(ropa(register, "export", "xlsx", "--layout", "data", "-o", str(workbook)))
            run(ropa(register, "export", "csv", "--layout", "data", "-o", str(tables)))
        add = lambda row: results.add(size, row)  # noqa: E731

        if "imports" not in args.skip:
            imports(folder, document, workbook, tables, args, add)
        if "commands" in args.skip:
            return
        db = args.postgres if postgres else register
        if postgres and "imports" in args.skip:
            run(ropa(db, "init", "--force", "--yes"))
            run(ropa(db, "import", str(document)))

        # start-up
        add(measure("import typer", [sys.executable, "-c", "import typer"], repeat))
        add(
            measure("ropa --help", [sys.executable, "-m", "ropa", "--help"], repeat, "import typer")
        )
        add(measure("ropa --version", [sys.executable, "-m", "ropa", "--version"], repeat))
        for name, arguments in (
            ("db info", ["db", "info"]),
            ("activity show", ["activity", "show", "act-000001"]),
            ("history KEY", ["history", "act-000001"]),
        ):
            add(measure(name, ropa(db, *arguments), repeat, "ropa --version"))
        row = Row("party edit", "ropa --version")
        for _ in range(repeat):
            stamp = datetime.now(UTC).strftime("%H%M%S%f")
            row.runs.append(run(ropa(db, "party", "edit", "vendor-1", "--phone", f"+1 {stamp}")))
        add(row)
        one = one_record_file(folder)
        add(measure("import 1 record --dry-run", ropa(db, "import", str(one), "--dry-run"), repeat))

        if "outputs" not in args.skip:
            streamed_outputs(db, folder, repeat, add)


def streamed_outputs(db: str, folder: Path, repeat: int, add) -> None:
    """The commands that read the whole register and write as they read."""
    add(measure("activity list --format json", ropa(db, "activity", "list", "-f", "json"), repeat))
    add(measure("history --format csv", ropa(db, "history", "-f", "csv"), repeat))
    add(measure("history (table)", ropa(db, "history"), repeat, "history --format csv"))
    out = str(folder / "out.yaml")
    add(measure("export yaml", ropa(db, "export", "yaml", "-o", out), repeat))
    today = datetime.now(UTC).date().isoformat()
    add(
        measure(
            "export yaml --as-of",
            ropa(db, "export", "yaml", "--as-of", today, "-o", out),
            repeat,
            "export yaml",
        )
    )
    add(measure("notice", ropa(db, "notice", "-o", str(folder / "notice.md")), repeat))
    record = str(folder / "record.xlsx")
    add(measure("export xlsx (the record)", ropa(db, "export", "xlsx", "-o", record), repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--postgres", metavar="URL")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--skip",
        default="",
        help="imports: measure only the commands on the register; commands: only the "
        "imports; outputs: leave out the streamed outputs (with imports,outputs only start-up "
        "and the everyday commands)",
    )
    args = parser.parse_args()
    # Stopped with SIGTERM: leave by an exception, so the work folder is removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    compile_ropa()
    results = Sizes()
    for size in (int(s) for s in args.sizes.split(",")):
        size_run(size, args, results)
    results.slopes()


if __name__ == "__main__":
    main()
