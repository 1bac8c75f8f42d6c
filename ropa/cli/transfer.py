"""`ropa import` and `ropa export`: files in and out of the register."""

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ropa.cli import state
from ropa.cli.output import console
from ropa.errors import Problem, RopaError, ValidationFailed

DEFAULT_OUT = Path("exports")
export_app = typer.Typer(no_args_is_help=True, help="Write the register to files.")


class DocFormat(StrEnum):
    yaml = "yaml"
    json = "json"


def read_inputs(files: list[str], fmt: DocFormat | None) -> list[tuple[object, str]]:
    """(document, source name) for each file argument; `-` reads stdin."""
    from ropa.io.document import load_text, read_document

    documents = []
    problems = []
    for name in files:
        if name == "-":
            if fmt is None:
                raise RopaError("reading stdin (-) needs --format yaml or --format json")
            documents.append((load_text(sys.stdin.read(), fmt.value, "<stdin>"), "<stdin>"))
            continue
        path = Path(name)
        if not path.is_file():
            problems.append(Problem(name, "no such file"))
            continue
        if fmt is None and path.suffix.lower() not in (".yaml", ".yml", ".json"):
            problems.append(
                Problem(
                    name,
                    f"cannot import {path.suffix or 'this'} files; "
                    "ropa imports registry documents (.yaml, .yml, .json)",
                )
            )
            continue
        try:
            if fmt is not None:
                text = path.read_text(encoding="utf-8-sig")
                documents.append((load_text(text, fmt.value, name), name))
            else:
                documents.append((read_document(path), name))
        except ValidationFailed as e:
            problems += e.problems
        except UnicodeDecodeError:
            problems.append(Problem(name, "not UTF-8 text; save it as UTF-8"))
    if problems:
        raise ValidationFailed(problems)
    return documents


def import_files(
    files: Annotated[
        list[str], typer.Argument(help="Registry documents (.yaml, .json); - for stdin")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and report; change nothing.")
    ] = False,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Make the register exactly the files' content: records not in them are deleted.",
        ),
    ] = False,
    fmt: Annotated[
        DocFormat | None, typer.Option("--format", help="Format of the input (needed for stdin)")
    ] = None,
    message: Annotated[
        str | None, typer.Option("--message", "-m", help="Why: recorded in the history.")
    ] = None,
) -> None:
    """Import records: upsert by key, all or nothing. Fields a record leaves out are kept;
    an empty value clears a field."""
    documents = read_inputs(files, fmt)
    report = state().registry.import_documents(
        documents, replace=replace, dry_run=dry_run, message=message
    )
    from rich.table import Table

    table = Table(title="dry run: nothing was changed" if dry_run else None, header_style="bold")
    for column in ("kind", "created", "updated", "unchanged", "deleted"):
        table.add_column(column, justify="left" if column == "kind" else "right")
    for row in report.rows():
        if any(row[1:]):
            table.add_row(row[0], *(str(n) for n in row[1:]))
    out = console(stderr=True)
    out.print(table)
    verb = "would change" if dry_run else "changed"
    out.print(f"{verb} {report.changes} records")


@export_app.command("yaml")
def export_yaml(
    out: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="File to write; - for stdout [default: exports/registry.yaml]"
        ),
    ] = None,
) -> None:
    """The registry document as YAML (deterministic: sorted, empty fields left out)."""
    _export_document(DocFormat.yaml, out)


@export_app.command("json")
def export_json(
    out: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="File to write; - for stdout [default: exports/registry.json]"
        ),
    ] = None,
) -> None:
    """The registry document as JSON (deterministic: sorted, empty fields left out)."""
    _export_document(DocFormat.json, out)


def _export_document(fmt: DocFormat, out: Path | None) -> None:
    from ropa.io.document import dumps

    text = dumps(state().registry.document(), fmt.value)
    if out is not None and str(out) == "-":
        sys.stdout.write(text)
        return
    target = write_text(out or DEFAULT_OUT / f"registry.{fmt.value}", text)
    console(stderr=True).print(f"wrote {target}")


def write_text(path: Path, text: str) -> Path:
    """Write a file whole (via a temporary file), so a failed export leaves no half file."""
    if not path.parent.exists():
        raise RopaError(f"folder {path.parent} does not exist")
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
    return path


def register(app: typer.Typer) -> None:
    app.command("import")(import_files)
    app.add_typer(export_app, name="export")
