"""Start-up of the everyday commands in two checkouts of ropa, alternating, on one machine.

    python benchmarks/startup_ab.py BEFORE_DIR [AFTER_DIR] [--activities 2000] [--runs 7]

A change to start-up is a few hundredths of a second, less than what a machine drifts by
between two runs of scale.py: each command runs here in both checkouts in turn (`python -m
ropa` with the checkout first on PYTHONPATH), against a copy of the synthetic register, and
the fastest run of each is printed. AFTER_DIR defaults to this checkout; make BEFORE_DIR with
`git worktree add /tmp/before REV`.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import synthetic_database, work_folder

COMMANDS = {
    "ropa --version": ["--version"],
    "db info": ["db", "info"],
    "activity show": ["activity", "show", "act-000001"],
    "history KEY": ["history", "act-000001"],
    "party edit": ["party", "edit", "vendor-1", "--phone"],  # a new phone each run
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path, nargs="?", default=Path(__file__).parent.parent)
    parser.add_argument("--activities", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    for tree in trees.values():
        compileall.compile_dir(tree / "ropa", quiet=1)
    fastest: dict[tuple[str, str], float] = {}
    with work_folder("ropa-bench-startup-") as folder:
        db = folder / "register.db"
        shutil.copy(synthetic_database(args.activities), db)
        for run in range(args.runs):
            for name, arguments in COMMANDS.items():
                for label, tree in trees.items():
                    command = [sys.executable, "-m", "ropa"]
                    if name != "ropa --version":
                        command += ["--db", str(db), *arguments]
                    else:
                        command += arguments
                    if name == "party edit":
                        command.append(f"+1 {run}{label}")
                    env = {**os.environ, "PYTHONPATH": str(tree)}
                    start = time.perf_counter()
                    # Run from the work folder: `python -m` puts the current folder first on
                    # the path, and from a checkout that checkout's ropa would run.
                    subprocess.run(command, env=env, cwd=folder, capture_output=True, check=True)
                    seconds = time.perf_counter() - start
                    fastest[name, label] = min(fastest.get((name, label), seconds), seconds)
    for name in COMMANDS:
        before, after = fastest[name, "before"], fastest[name, "after"]
        print(f"{name:16} before {before:.3f} s   after {after:.3f} s   {after / before - 1:+.0%}")


if __name__ == "__main__":
    main()
