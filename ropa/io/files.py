"""Writing files whole or not at all: the one place where ropa puts bytes on disk."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ropa.errors import RopaError

#: The output name that means standard output (where an output can go there).
STDOUT = "-"
#: The files no output may replace: the SQLite database a command works on, and its journal
#: files (`ropa export csv -o data/ropa.db` replaced the register and its history by a CSV).
_DATABASE_FILES: set[Path] = set()


def keep_database(path: Path) -> None:
    """Never write an output over this SQLite database or its journal files."""
    path = Path(os.path.realpath(path))
    _DATABASE_FILES.update(
        path.with_name(path.name + end) for end in ("", "-wal", "-shm", "-journal")
    )


def _is_database(path: Path, info: os.stat_result | None) -> bool:
    """Whether `path` is (a link to) one of the database files: by its real path, or, when
    it exists, by its inode (a hard link)."""
    if not _DATABASE_FILES:
        return False
    if Path(os.path.realpath(path)) in _DATABASE_FILES:
        return True
    if info is None:
        return False
    for kept in _DATABASE_FILES:
        try:
            other = kept.stat()
        except OSError:
            continue
        if (other.st_dev, other.st_ino) == (info.st_dev, info.st_ino):
            return True
    return False


def check_target(path: Path) -> None:
    """Refuse an output path that is not a regular file or a new name (a FIFO, a device, a
    socket or a folder would be replaced by a regular file, or block the writer), or that is
    the database (:func:`keep_database`)."""
    if not str(path) or str(path) == ".":
        raise RopaError("-o/--output: no file named (an empty path)")
    if str(path) == STDOUT:
        raise RopaError(f"{STDOUT} (standard output) cannot take this output; give a file path")
    try:
        info = path.stat()
    except FileNotFoundError:
        info = None
    except OSError as e:
        raise RopaError(f"{path}: {e.strerror}") from None
    if _is_database(path, info):
        raise RopaError(f"{path} is the database ropa works on; write the output to another file")
    if info is not None and not stat.S_ISREG(info.st_mode):
        what = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise RopaError(f"{path} is {what}; ropa writes only to a regular file or a new path")
    if not path.parent.is_dir():
        raise RopaError(f"folder {path.parent} does not exist")


def output_folder(path: Path, what: str) -> Path:
    """The folder `-o` names for files written side by side (`what` says which, for the
    error), created when its parent exists."""
    if str(path) == STDOUT:
        raise RopaError(f"{what} writes a folder of files, not to {STDOUT}; give a folder (-o DIR)")
    if path.exists() and not path.is_dir():
        raise RopaError(f"{path} is a file; {what} needs a folder (-o DIR)")
    if path.is_symlink() and not path.exists():
        target = os.readlink(path)
        raise RopaError(
            f"{path} is a symlink to nothing ({target}); {what} needs a folder (-o DIR)"
        )
    if not path.parent.is_dir():
        raise RopaError(f"folder {path.parent} does not exist")
    path.mkdir(exist_ok=True)
    return path


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` that replaces it on success and vanishes on failure,
    so that a failed export never leaves half a file.

    The temporary file is created exclusively under a random name in the target's folder (a
    planted symlink is never followed), and renamed into place: two writers to one path each
    leave a whole file, never a torn one."""
    import tempfile

    path = Path(path)
    check_target(path)
    try:
        # The name cut short: the random part and ".tmp" must fit a 255-byte name too.
        prefix = f".{path.name.encode()[:200].decode(errors='ignore')}."
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise RopaError(f"cannot write in folder {path.parent}: {e.strerror}") from None
    os.close(fd)
    temporary = Path(name)
    try:
        # A file replaced keeps its permissions (an export kept private stays so); a new
        # one gets those an ordinary new file would.
        os.chmod(temporary, _kept_mode(path))
        yield temporary
        check_target(path)  # still no FIFO or device planted meanwhile
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def _kept_mode(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: Path, text: str | Iterable[str]) -> Path:
    """Write text (or text in pieces) to a file, whole or not at all."""
    with replacing(path) as temporary, open(temporary, "w", encoding="utf-8", newline="") as f:
        if isinstance(text, str):
            f.write(text)
        else:
            f.writelines(text)
    return path
