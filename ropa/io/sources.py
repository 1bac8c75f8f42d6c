"""The files an import reads: registry documents, data-layout workbooks, CSV files, folders
of CSV files and stdin, each turned into documents or tables for
:meth:`ropa.registry.Registry.import_records`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ropa.errors import Problem, RopaError, ValidationFailed

if TYPE_CHECKING:
    from ropa.interop.fides import FidesImport
    from ropa.io.data_layout import Table

DOCUMENT_SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}
TABLE_SUFFIXES = {".csv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx"}
STDIN = "-"


def read_sources(
    names: list[str],
    fmt: str | None,
    stdin: Callable[[], str],
    fides: FidesImport | None = None,
) -> tuple[list[tuple[object, str]], list[Table]]:
    """The registry documents (with their names) and the data-layout tables of the files
    named: documents (.yaml, .json), workbooks (.xlsx), CSV files, folders of CSV files; `-`
    reads `stdin()` as `fmt` (csv, json or yaml), which otherwise overrides the suffix.
    A YAML or JSON file that is a Fides manifest becomes the registry document it maps to
    (see :mod:`ropa.interop.fides`; `fides` resolves its references and collects its
    warnings). Raises ValidationFailed with every file that cannot be read."""
    from ropa.io.data_layout import read_csv, read_workbook
    from ropa.io.document import load_text, open_document

    documents: list[tuple[object, str]] = []
    tables: list[Table] = []
    problems: list[Problem] = []
    paths: list[tuple[Path, str]] = []
    for name in names:
        if name == STDIN:
            if fmt not in ("csv", "json", "yaml"):
                raise RopaError("reading stdin (-) needs --format csv, json or yaml")
            try:
                text = stdin()
            except UnicodeDecodeError as e:
                problems.append(Problem("<stdin>", f"is not UTF-8 text (byte {e.start + 1})"))
                continue
            bad = _text_problem(text, "<stdin>")
            if bad:
                problems.append(bad)
                continue
            if fmt == "csv":
                found, trouble = read_csv(None, "<stdin>", text)
                tables += found
                problems += trouble
            else:
                documents.append(
                    (_fides(load_text(text, fmt, "<stdin>"), "<stdin>", fides), "<stdin>")
                )
            continue
        path = Path(name)
        if name and path.is_dir():
            found_csv = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv")
            if not found_csv:
                problems.append(Problem(name, "this folder holds no .csv files"))
            paths += [(p, str(p)) for p in found_csv]
        else:
            paths.append((path, name))
    for path, name in paths:
        bad = regular_file_problem(path, name)
        if bad:
            problems.append(bad)
            continue
        kind = fmt or _file_kind(path)
        if kind is None:
            problems.append(
                Problem(
                    name,
                    f"cannot import {path.suffix or 'this'} files; ropa imports registry "
                    "documents (.yaml, .yml, .json), workbooks (.xlsx) and CSV files",
                )
            )
            continue
        try:
            if kind == "xlsx":
                found, trouble = read_workbook(path, name)
            elif kind == "csv":
                found, trouble = read_csv(path, name)
            elif fmt is None:  # by its suffix: a large YAML file is read as it is consumed
                documents.append((_fides(open_document(path, name), name, fides), name))
                continue
            else:
                text = path.read_bytes().decode("utf-8-sig")
                documents.append((_fides(load_text(text, kind, name), name, fides), name))
                continue
            tables += found
            problems += trouble
        except ValidationFailed as e:
            problems += e.problems
        except UnicodeDecodeError:
            problems.append(Problem(name, "is not UTF-8 text; save it as UTF-8"))
    if problems:
        raise ValidationFailed(problems)
    return documents, tables


def regular_file_problem(path: Path, name: str) -> Problem | None:
    """Why `path` cannot be read as an input: missing, not a regular file (a FIFO, device or
    socket, also behind a symlink, would block or never end) or larger than the limit."""
    import stat

    from ropa import limits

    if not name:
        return Problem("''", "no file named (an empty path)")
    try:
        info = path.stat()  # follows symlinks: what counts is the file they lead to
    except FileNotFoundError:
        return Problem(name, "no such file or folder")
    except OSError as e:
        return Problem(name, f"cannot read: {e.strerror}")
    if not stat.S_ISREG(info.st_mode):
        what = (
            "a FIFO"
            if stat.S_ISFIFO(info.st_mode)
            else "a socket"
            if stat.S_ISSOCK(info.st_mode)
            else "a device"
            if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
            else "not a regular file"
        )
        return Problem(name, f"is {what}; ropa reads regular files only")
    if info.st_size > limits.megabytes(limits.INPUT_SIZE):
        return Problem(name, limits.INPUT_SIZE.refusal(f"{info.st_size / 2**20:,.0f} MB"))
    return None


def _text_problem(text: str, name: str) -> Problem | None:
    """Why text read from a stream cannot be imported: too long, or not UTF-8 (the stream
    decoder lets undecodable bytes through as lone surrogates)."""
    from ropa import limits

    if len(text) > limits.megabytes(limits.INPUT_SIZE):
        return Problem(name, limits.INPUT_SIZE.refusal())
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        return Problem(name, f"is not UTF-8 text (character {e.start + 1}); save it as UTF-8")
    return None


def _file_kind(path: Path) -> str | None:
    suffix = path.suffix.lower()
    return DOCUMENT_SUFFIXES.get(suffix) or TABLE_SUFFIXES.get(suffix)


def _fides(doc: object, name: str, fides: FidesImport | None) -> object:
    """A Fides manifest as the registry document it maps to; any other document as it is."""
    from ropa.interop.fides import FidesImport, is_manifest, manifest_document

    if not is_manifest(doc):
        return doc
    return manifest_document(doc, name, fides or FidesImport())
