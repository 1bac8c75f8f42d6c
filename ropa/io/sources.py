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
    from ropa.io.document import load_text

    documents: list[tuple[object, str]] = []
    tables: list[Table] = []
    problems: list[Problem] = []
    paths: list[tuple[Path, str]] = []
    for name in names:
        if name == STDIN:
            if fmt not in ("csv", "json", "yaml"):
                raise RopaError("reading stdin (-) needs --format csv, json or yaml")
            text = stdin()
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
        if path.is_dir():
            found_csv = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv")
            if not found_csv:
                problems.append(Problem(name, "this folder holds no .csv files"))
            paths += [(p, str(p)) for p in found_csv]
        elif path.is_file():
            paths.append((path, name))
        else:
            problems.append(Problem(name, "no such file or folder"))
    for path, name in paths:
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
            else:
                text = path.read_text(encoding="utf-8-sig")
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


def _file_kind(path: Path) -> str | None:
    suffix = path.suffix.lower()
    return DOCUMENT_SUFFIXES.get(suffix) or TABLE_SUFFIXES.get(suffix)


def _fides(doc: object, name: str, fides: FidesImport | None) -> object:
    """A Fides manifest as the registry document it maps to; any other document as it is."""
    from ropa.interop.fides import FidesImport, is_manifest, manifest_document

    if not is_manifest(doc):
        return doc
    return manifest_document(doc, name, fides or FidesImport())
