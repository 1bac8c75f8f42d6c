"""Helpers shared by the benchmarks: the synthetic database, and timing a ropa command."""

from __future__ import annotations

import json
import subprocess
import sys
import time
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


def synthetic_database(activities: int, path: Path | None = None) -> Path:
    """The synthetic register's database, built once and reused (delete it to rebuild)."""
    path = path or Path(f"/tmp/ropa-bench-{activities}.db")
    if not path.exists():
        start = time.perf_counter()
        build(path, activities)
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
