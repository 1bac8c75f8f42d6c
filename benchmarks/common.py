"""Helpers shared by the benchmarks: the synthetic database, and timing a ropa command."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.synthetic import build

_MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "peak_mb": peak, "code": done.returncode,
                  "stderr": done.stderr[-2000:]}))
"""


def compile_ropa() -> None:
    """Write ropa's bytecode before measuring: a user's installation has it after the first
    run, but with PYTHONDONTWRITEBYTECODE set (as in some sandboxes and CI) every command would
    compile the package again, and start-up would be measured with ~0.2 s of compiling."""
    import compileall

    import ropa

    compileall.compile_dir(Path(ropa.__file__).parent, quiet=1)


def synthetic_database(activities: int, path: Path | None = None) -> Path:
    """The synthetic register's database, built once and reused (delete it to rebuild)."""
    path = path or Path(f"/tmp/ropa-bench-{activities}.db")
    if not path.exists():
        start = time.perf_counter()
        # Built under another name and renamed: a benchmark started meanwhile, or one
        # interrupted, never takes a half-built register for the real one.
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        build(partial, activities).dispose()  # the last connection closed: no -wal left
        partial.replace(path)
        print(f"built {activities} activities in {time.perf_counter() - start:.1f} s")
    return path


def measure_command(arguments: list[str], ok_codes: tuple[int, ...] = (0,)) -> tuple[float, float]:
    """Wall time (s) and peak memory (MB) of `python -m ropa ARGS`, in a process of its own."""
    command = [sys.executable, "-m", "ropa", *arguments]
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True, check=True
    ).stdout
    result = json.loads(out)
    if result["code"] not in ok_codes:
        raise SystemExit(f"{' '.join(arguments)} failed:\n{result['stderr']}")
    return result["seconds"], result["peak_mb"]


def benchmark_parser(description: str) -> argparse.ArgumentParser:
    """The options every benchmark takes: --activities N and --db PATH (the synthetic
    register, built once and reused)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--activities", type=int, default=100_000)
    parser.add_argument("--db", type=Path)
    return parser


@contextmanager
def work_folder(prefix: str) -> Iterator[Path]:
    """A temporary folder for a benchmark's files, removed afterwards (also on failure)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
