"""Every command's `--help`, in one text: run it before and after a change to the command line
and diff the two files.

    python benchmarks/help_texts.py > /tmp/help-before.txt
    ... change ...
    python benchmarks/help_texts.py > /tmp/help-after.txt
    diff /tmp/help-before.txt /tmp/help-after.txt

Each help is produced in a child process (`python -m ropa ... --help`, 80 columns), the way a
person sees it; the command tree is walked through Click's `list_commands`/`get_command`, so
lazily loaded commands are found too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def command_paths() -> Iterator[tuple[str, ...]]:
    """The path of every command and group, the root first, depth first in listing order."""
    import typer
    from typer.main import get_command

    from ropa.cli import app

    def walk(command: object, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        yield path
        if not hasattr(command, "list_commands"):
            return
        ctx = typer.Context(command)  # type: ignore[arg-type]
        for name in command.list_commands(ctx):  # type: ignore[attr-defined]
            yield from walk(command.get_command(ctx, name), (*path, name))  # type: ignore[attr-defined]

    yield from walk(get_command(app), ())


def main() -> None:
    environment = {**os.environ, "COLUMNS": os.environ.get("COLUMNS", "80"), "NO_COLOR": "1"}
    for path in command_paths():
        done = subprocess.run(
            [sys.executable, "-m", "ropa", *path, "--help"],
            capture_output=True,
            text=True,
            env=environment,
        )
        sys.stdout.write(f"===== ropa {' '.join(path)} --help (exit {done.returncode})\n")
        sys.stdout.write(done.stdout + done.stderr)


if __name__ == "__main__":
    main()
