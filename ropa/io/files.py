"""Writing files whole or not at all: the one place where ropa puts bytes on disk."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ropa.errors import RopaError


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` that replaces it on success and vanishes on failure,
    so that a failed export never leaves half a file."""
    if not path.parent.is_dir():
        raise RopaError(f"folder {path.parent} does not exist")
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        yield temporary
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text(path: Path, text: str | Iterable[str]) -> Path:
    """Write text (or text in pieces) to a file, whole or not at all."""
    with replacing(path) as temporary, open(temporary, "w", encoding="utf-8", newline="") as f:
        if isinstance(text, str):
            f.write(text)
        else:
            f.writelines(text)
    return path
