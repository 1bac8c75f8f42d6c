"""`ropa import` and `ropa export`: files in and out of the register."""

import dataclasses
import sys
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ropa import words
from ropa.cli import refuse, state
from ropa.cli.output import AsOf, EntityOption, MessageOption, console, import_progress, progress
from ropa.errors import RopaError
from ropa.exports import FORMATS, Layout
from ropa.find import ACTIVITY_FILTERS

if TYPE_CHECKING:
    from ropa.io.record_cells import RecordScope
    from ropa.planning import ImportReport
    from ropa.registry import Registry

DEFAULT_OUT = Path("exports")
export_app = typer.Typer(no_args_is_help=True, help="Write the register to files.")


class InputFormat(StrEnum):
    yaml = "yaml"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


class Blank(StrEnum):
    keep = "keep"
    clear = "clear"


class ReportFormat(StrEnum):
    json = "json"


#: A real import that deletes more records than this asks first on a terminal.
CONFIRM_DELETIONS_OVER = 5


def import_files(
    files: Annotated[
        list[str],
        typer.Argument(
            help="Registry documents (.yaml, .json), data-layout workbooks (.xlsx), CSV files "
            "or folders of them; - for stdin"
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and report; change nothing.")
    ] = False,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="For every kind the files contain (a sheet, a CSV kind, a document section), "
            "make its records exactly the files' records: the others of that kind are deleted.",
        ),
    ] = False,
    replace_all: Annotated[
        bool,
        typer.Option(
            "--replace-all",
            help="Make the whole register the files' content: every record not in them is "
            "deleted, of every kind.",
        ),
    ] = False,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            metavar="KIND",
            help="Kind of every CSV file (activity, party, …, transfers, retention), and of "
            "JSON/YAML input that is a plain list of records or one record (as `show -f json` "
            "prints it); CSV kinds are otherwise told by their header.",
        ),
    ] = None,
    fmt: Annotated[
        InputFormat | None,
        typer.Option("--format", help="Format of the input (needed for stdin)"),
    ] = None,
    message: Annotated[str | None, MessageOption] = None,
    blank: Annotated[
        Blank,
        typer.Option(
            "--blank",
            help="keep: an empty cell of an existing record leaves its value alone (xlsx, "
            "CSV); clear: an empty cell clears the field.",
        ),
    ] = Blank.keep,
    report_format: Annotated[
        ReportFormat | None,
        typer.Option("--report", help="json: the whole report on stdout as one JSON object."),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Delete without asking (for scripts).")
    ] = False,
) -> None:
    """Import records: upsert by key, all or nothing. Columns or fields a record leaves out
    are kept; an empty cell keeps the stored value (--blank clear: clears it); a registry
    document describes whole records. Problems are reported as FILE:SHEET:ROW:COLUMN."""
    if replace and replace_all:
        raise typer.BadParameter("give --replace or --replace-all, not both")
    if kind is not None:
        from ropa.io.data_layout import sheet_for_kind

        sheet_for_kind(kind)  # an unknown kind fails before any file is read
        _no_kind_for_workbooks(files, fmt)
    from ropa.interop.fides import FidesImport
    from ropa.io.sources import read_sources

    registry = state().registry
    fides = FidesImport.for_registry(registry)
    documents, tables = read_sources(files, fmt.value if fmt else None, sys.stdin.read, fides)
    options = dict(
        replace=replace,
        replace_all=replace_all,
        message=message,
        keep_blank=blank is Blank.keep,
    )
    confirmed = None
    if not dry_run and (replace or replace_all) and not yes:
        # A large deletion is shown first and asked about (without a terminal to ask on, it
        # needs --yes); the real run may delete only what was confirmed (the register may
        # change in between).
        would = registry.import_records(documents, tables, kind, dry_run=True, **options)
        confirmed = confirm_deletions(would, "--replace-all" if replace_all else "--replace")
        documents, tables = read_sources(files, fmt.value if fmt else None, sys.stdin.read, fides)
    with import_progress(tables) as stage:
        report = registry.import_records(
            documents, tables, kind, dry_run=dry_run, stage=stage, confirmed=confirmed, **options
        )
    for warning in fides.warnings:
        typer.echo(f"warning: {warning}", err=True)
    print_report(report, report_format, dry_run)


def _no_kind_for_workbooks(files: list[str], fmt: "InputFormat | None") -> None:
    """Refuse --kind for a workbook: each of its sheets names its own kind (a `sources` sheet
    read as parties would create parties)."""
    from ropa.io.sources import STDIN, TABLE_SUFFIXES

    for name in files:
        given = fmt.value if fmt else None
        told = given or (None if name == STDIN else TABLE_SUFFIXES.get(Path(name).suffix.lower()))
        if told == "xlsx":
            raise typer.BadParameter(
                f"--kind is for CSV files and JSON/YAML lists of records, not the workbook "
                f"{name}, whose sheets name their kinds",
                param_hint="--kind",
            )


def confirm_deletions(would: "ImportReport", option: str) -> set[tuple[str, str]]:
    """The deletions of a dry run, after a person agreed to them when they are more than a
    handful (the report is shown first); declining exits 1 with nothing changed. Without a
    terminal to ask on, that many deletions need --yes (exit 2 with nothing changed)."""
    deletions = would.deletions()
    if len(deletions) > CONFIRM_DELETIONS_OVER:
        if not on_terminal():
            refuse(
                f"{option} would delete {len(deletions)} records and there is no terminal to "
                "ask on; check them with --dry-run, then run again with --yes"
            )
        show_report(would, dry_run=True)
        if not typer.confirm(f"delete these {len(deletions)} records?", err=True):
            raise typer.Exit(1)
    return deletions


def on_terminal() -> bool:
    """Whether a person can answer a question (stdin is a terminal)."""
    return sys.stdin.isatty()


def print_report(
    report: "ImportReport",
    report_format: "ReportFormat | None",
    dry_run: bool,
    more: dict[str, Any] | None = None,
) -> None:
    """An import's (or a restore's, or a review's) warnings and report: the report as one
    JSON object on stdout with `--report json` (with the keys of `more` added), and for
    people on stderr."""
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if report_format is ReportFormat.json:
        import json

        from ropa.records import json_default

        whole = {**report.as_dict(), **(more or {})}
        typer.echo(json.dumps(whole, ensure_ascii=False, default=json_default))
    show_report(report, dry_run)


def show_report(report: "ImportReport", dry_run: bool) -> None:
    """The import report for people, on stderr: every created, updated (field by field) and
    removed record (the first few hundred), then the totals per kind."""
    from rich.table import Table

    from ropa.planning import REPORT_ROWS

    out = console(stderr=True)
    shown = report.records[:REPORT_ROWS]
    if shown:
        details = Table(header_style="bold")
        for column in ("change", "record", "fields (before → after)"):
            details.add_column(column, overflow="fold")
        for change in shown:
            action = {"create": "created", "delete": "removed"}.get(change.action, "updated")
            fields = ""
            if action == "updated":
                fields = "\n".join(
                    f"{name}: {_short(v['before'])} → "
                    + ("(cleared)" if v["after"] is None else _short(v["after"]))
                    for name, v in report.field_changes(change).items()
                )
            details.add_row(action, f"{change.kind.name} {change.key}", fields)
        out.print(details)
        if len(report.records) > REPORT_ROWS:
            out.print(
                f"… and {len(report.records) - REPORT_ROWS} more changes "
                "(--report json lists them all)"
            )
    table = Table(title="dry run: nothing was changed" if dry_run else None, header_style="bold")
    for column in ("kind", "created", "updated", "unchanged", "deleted"):
        table.add_column(column, justify="left" if column == "kind" else "right")
    for row in report.rows():
        if any(row[1:]):
            table.add_row(row[0], *(str(n) for n in row[1:]))
    out.print(table)
    verb = "would change" if dry_run else "changed"
    out.print(f"{verb} {words.count(report.changes, 'record')}")


def _short(value: object) -> str:
    """A field value in a report cell, cut past 60 characters."""
    if isinstance(value, list):
        text = "; ".join(
            ", ".join(f"{k}={v}" for k, v in item.items()) if isinstance(item, dict) else str(item)
            for item in value
        )
    else:
        text = str(value) if value is not None else "—"
    return text if len(text) <= 60 else text[:57] + "…"


def _document_command(fmt: str) -> Callable[..., None]:
    """`ropa export yaml` and `ropa export json`: the registry document in that format."""
    default = FORMATS[fmt].file_name(Layout.document)

    def export_document(
        out: Annotated[
            Path | None,
            typer.Option(
                "-o", "--output", help=f"File to write; - for stdout (default: exports/{default})"
            ),
        ] = None,
        as_of: AsOf = None,
    ) -> None:
        _export_document(fmt, out, as_of)

    export_document.__doc__ = (
        f"The registry document as {fmt.upper()} (deterministic: sorted, empty fields left out)."
    )
    return export_document


for _fmt in ("yaml", "json"):
    export_app.command(_fmt)(_document_command(_fmt))


def _export_document(fmt: str, out: Path | None, as_of: date | None) -> None:
    from ropa.exports import export_document

    to_stdout = out is not None and str(out) == "-"
    target = (
        None if to_stdout else out or _default_folder() / FORMATS[fmt].file_name(Layout.document)
    )
    with state().registry_at(as_of) as registry:
        export_document(registry, fmt, target)
    if target is not None:
        console(stderr=True).print(f"wrote {target}")


def _default_folder() -> Path:
    """exports/ under the working directory, created when missing (a folder the user names
    must exist)."""
    DEFAULT_OUT.mkdir(exist_ok=True)
    return DEFAULT_OUT


def register(app: typer.Typer, only: str | None = None) -> None:
    app.command("import")(import_files)
    app.command("template")(template)
    app.add_typer(export_app, name="export")


def _layouts(fmt: str) -> type[StrEnum]:
    """The --layout choices of `ropa export FMT`: the file layouts the format supports."""
    layouts = FORMATS[fmt].layouts
    return StrEnum(f"{fmt.capitalize()}Layout", {layout.value: layout.value for layout in layouts})


XlsxLayout = _layouts("xlsx")
CsvLayout = _layouts("csv")
LayoutOption = typer.Option(
    "--layout",
    help="record: the Article 30 record for auditors; data: one sheet per kind, for editing "
    "and re-import.",
)


class Role(StrEnum):
    controller = "controller"
    processor = "processor"


RoleOption = typer.Option(
    "--role", help="Only the controller (Art. 30(1)) or processor (Art. 30(2)) record."
)
RetiredOption = typer.Option("--include-retired", help="Include retired activities.")


def output_option(help: str) -> Any:
    """`-o/--output PATH` with the command's own help (what is written, and the default)."""
    return typer.Option("-o", "--output", help=help)


#: The filters of `activity list` that select what a record export writes (its own
#: --entity and --role already choose the group member and the record).
EXPORT_FILTERS = tuple(f for f in ACTIVITY_FILTERS if f.name not in ("entity", "role"))


def activity_filtered(command: Callable[..., None]) -> Callable[..., None]:
    """A command that also takes the activity filters of `activity list` (declared once, in
    ropa.find), handed to it as `filters`, a mapping of filter name to values."""
    import functools
    import inspect

    from ropa.cli.records import filter_params, filter_values

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> None:
        filters = filter_values(EXPORT_FILTERS, kwargs)
        command(**kwargs, filters={k: v for k, v in filters.items() if v})

    own = [p for p in inspect.signature(command).parameters.values() if p.name != "filters"]
    params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]
    wrapper.__signature__ = inspect.Signature(params + filter_params(EXPORT_FILTERS))
    return wrapper


PerEntityOption = typer.Option(
    "--per-entity", help="One file per group member, in the folder given by -o."
)


@export_app.command("xlsx")
@activity_filtered
def export_xlsx(
    out: Annotated[
        Path | None,
        output_option("Workbook (a folder with --per-entity) (default: exports/ropa-record.xlsx)"),
    ] = None,
    entity: Annotated[str | None, EntityOption] = None,
    per_entity: Annotated[bool, PerEntityOption] = False,
    role: Annotated[Role | None, RoleOption] = None,
    include_retired: Annotated[bool, RetiredOption] = False,
    with_findings: Annotated[
        bool,
        typer.Option(
            "--with-findings", help="Add a Findings sheet with the results of `ropa check`."
        ),
    ] = False,
    as_of: AsOf = None,
    layout: Annotated[XlsxLayout, LayoutOption] = XlsxLayout.record,
    filters: dict[str, Any] | None = None,
) -> None:
    """The Article 30 record as a workbook for auditors and supervisory authorities; with
    --layout data, the whole register as one sheet per kind, for editing and re-import.
    The activity filters of `activity list` choose the activities the record holds."""
    if layout == Layout.data:
        _no_record_options(entity, per_entity, role, include_retired, with_findings, filters)
        _export_data("xlsx", out, as_of)
        return
    _export_record(
        "xlsx", out, entity, per_entity, role, include_retired, with_findings, as_of, filters
    )


@export_app.command("csv")
@activity_filtered
def export_csv(
    out: Annotated[
        Path | None,
        output_option(
            "File to write; - for stdout (default: exports/ropa-record.csv); "
            "with --layout data a folder (default: exports/ropa-data)"
        ),
    ] = None,
    entity: Annotated[str | None, EntityOption] = None,
    include_retired: Annotated[bool, RetiredOption] = False,
    as_of: AsOf = None,
    layout: Annotated[CsvLayout, LayoutOption] = CsvLayout.record,
    filters: dict[str, Any] | None = None,
) -> None:
    """The controller record (Article 30(1)) as CSV: UTF-8 with BOM, one row per activity; with
    --layout data, one CSV file per kind in a folder, for editing and re-import."""
    if layout == Layout.data:
        _no_record_options(entity, False, None, include_retired, False, filters)
        _export_data("csv", out, as_of)
        return
    _export_record(
        "csv", out, entity, False, Role.controller, include_retired, False, as_of, filters
    )


@export_app.command("html")
@activity_filtered
def export_html(
    out: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Page to write (default: exports/ropa-record.html)"),
    ] = None,
    entity: Annotated[str | None, EntityOption] = None,
    role: Annotated[Role | None, RoleOption] = None,
    include_retired: Annotated[bool, RetiredOption] = False,
    as_of: AsOf = None,
    filters: dict[str, Any] | None = None,
) -> None:
    """The Article 30 record as one self-contained, printable HTML page."""
    _export_record("html", out, entity, False, role, include_retired, False, as_of, filters)


@export_app.command("pdf")
@activity_filtered
def export_pdf(
    out: Annotated[
        Path | None,
        output_option(
            "PDF to write (a folder with --per-entity) (default: exports/ropa-record.pdf)"
        ),
    ] = None,
    entity: Annotated[str | None, EntityOption] = None,
    per_entity: Annotated[bool, PerEntityOption] = False,
    role: Annotated[Role | None, RoleOption] = None,
    include_retired: Annotated[bool, RetiredOption] = False,
    as_of: AsOf = None,
    filters: dict[str, Any] | None = None,
) -> None:
    """The Article 30 record as a PDF: cover, index, one page per activity, the processor
    record and the transfers and retention annexes."""
    _export_record("pdf", out, entity, per_entity, role, include_retired, False, as_of, filters)


def _no_record_options(
    entity: str | None,
    per_entity: bool,
    role: Role | None,
    include_retired: bool,
    with_findings: bool,
    filters: dict[str, Any] | None = None,
) -> None:
    given = {
        **{f"--{name.replace('_', '-')}": True for name in filters or {}},
        "--entity": entity,
        "--per-entity": per_entity,
        "--role": role,
        "--include-retired": include_retired,
        "--with-findings": with_findings,
    }
    for option, value in given.items():
        if value:
            raise typer.BadParameter(
                f"{option} is for --layout record; the data layout holds the whole register"
            )


def _export_data(fmt: str, out: Path | None, as_of: date | None) -> None:
    from ropa.exports import export_data

    if out is not None and str(out) == "-":
        raise typer.BadParameter("the data layout is written to files; give -o a path")
    target = out or _default_folder() / FORMATS[fmt].file_name(Layout.data)
    with state().registry_at(as_of) as registry:
        counts = export_data(registry, fmt, target)
    summary = ", ".join(f"{n} {sheet}" for sheet, n in counts.items() if n)
    console(stderr=True).print(f"wrote {target} ({summary or 'no records'})")


def template(
    out: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="Workbook to write (default: exports/ropa-template.xlsx)"
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a workbook already there (filled in?).")
    ] = False,
) -> None:
    """An empty data-layout workbook to fill in and import: an instructions sheet, and
    drop-downs for every coded column and for the keys of the register's records (none
    before `ropa init`). A workbook already at the path is someone's work: it is replaced
    only with --force."""
    from ropa.io.data_layout import write_template
    from ropa.io.files import check_target, replacing

    if out is not None and str(out) == "-":
        raise typer.BadParameter("a workbook is written to a file; give -o a path", param_hint="-o")
    db = state().db
    keys = state().registry.keys() if db.exists() else None
    target = out or _default_folder() / "ropa-template.xlsx"
    check_target(target)  # the database is never written over, --force or not
    if target.exists() and not force:
        raise RopaError(
            f"{target} exists (a template being filled in?); import it, give another -o, or "
            "--force to replace it"
        )
    with replacing(target) as temporary:
        write_template(temporary, keys or {})
    note = "" if keys else f" (no database at {db.display_url}: no drop-downs of keys)"
    console(stderr=True).print(f"wrote {target}{note}")


def _export_record(
    fmt: str,
    out: Path | None,
    entity: str | None,
    per_entity: bool,
    role: Role | None,
    include_retired: bool,
    with_findings: bool,
    as_of: date | None,
    filters: dict[str, Any] | None = None,
) -> None:
    with state().registry_at(as_of) as registry:
        _write_records(
            registry,
            fmt,
            out,
            entity,
            per_entity,
            role,
            include_retired,
            with_findings,
            as_of,
            filters,
        )


#: What each record format writes, for the refusal of `-o -` (only CSV goes to stdout: a
#: workbook and a PDF are binary, and the page is written as a file, not streamed).
RECORD_FILES = {"xlsx": "workbook", "html": "page", "pdf": "PDF", "csv": "CSV"}
TO_STDOUT = ("csv",)


def _write_records(
    registry: "Registry",
    fmt: str,
    out: Path | None,
    entity: str | None,
    per_entity: bool,
    role: Role | None,
    include_retired: bool,
    with_findings: bool,
    as_of: date | None,
    filters: dict[str, Any] | None = None,
) -> None:
    from ropa.exports import export_record
    from ropa.io.files import output_folder
    from ropa.io.record_cells import RecordScope

    say = console(stderr=True).print
    if out is not None and str(out) == "-":
        if per_entity:
            raise typer.BadParameter(
                "--per-entity writes a folder of files; give -o a path", param_hint="-o"
            )
        if fmt not in TO_STDOUT:
            raise typer.BadParameter(
                f"the {RECORD_FILES[fmt]} is written to a file; give -o a path", param_hint="-o"
            )
    scope = RecordScope(
        role=role.value if role else None, include_retired=include_retired, as_of=as_of
    )
    if per_entity:
        if entity:
            raise typer.BadParameter("--per-entity writes every group member; drop --entity")
        folder = output_folder(out or _default_folder(), "--per-entity")
        name = FORMATS[fmt].file_name
        members = registry.members_with_records(scope, filters)
        targets = [(key, folder / name(Layout.record, key)) for key in members]
        if not targets:
            say("no group member has activities in this record; nothing was written")
        from ropa.io.data_layout.sheets import GROUP_MEMBERS

        for key in registry.keys()[GROUP_MEMBERS]:
            earlier = folder / name(Layout.record, key)
            if key not in members and earlier.exists():
                typer.echo(
                    f"warning: {earlier} is from an earlier export: {key} has no activity in "
                    "this record now, and its file was left as it was",
                    err=True,
                )
    else:
        targets = [(entity, out or _default_folder() / FORMATS[fmt].file_name(Layout.record))]
    for done, (key, target) in enumerate(targets):
        scope = dataclasses.replace(scope, entity=key)
        if str(target) == "-":
            _record_to_stdout(registry, scope, filters)
            continue
        findings = registry.findings(key) if with_findings else None
        try:
            count, warnings = export_record(
                registry, fmt, target, scope, findings, progress(f"writing {target.name}"), filters
            )
        except RopaError as e:
            if not per_entity:
                raise
            written = ", ".join(t.name for _, t in targets[:done])
            before = (
                f"; the file{'s' * (done > 1)} before it ({written}) "
                f"{'were' if done > 1 else 'was'} written"
                if done
                else ""
            )
            where = "" if str(target) in str(e) else f"{target}: "
            raise RopaError(f"{where}{e}{before}") from None
        for warning in warnings:
            typer.echo(f"warning: {warning}", err=True)
        say(f"wrote {target} ({words.count(count, 'activity')})")


def _record_to_stdout(
    registry: "Registry", scope: "RecordScope", filters: dict[str, Any] | None = None
) -> None:
    from ropa.io.article30 import controller_csv

    with registry.record(scope, filters) as (_, builder, activities):
        sys.stdout.writelines(controller_csv(builder, activities))


@export_app.command("fides")
def export_fides(
    out: Annotated[
        Path | None,
        output_option(
            "Manifest to write, YAML or (.json) JSON; - for stdout "
            "(default: exports/ropa-fides.yml)"
        ),
    ] = None,
    entity: Annotated[str | None, EntityOption] = None,
    as_of: AsOf = None,
) -> None:
    """The register as a Fides manifest: group members as organizations, systems with a
    privacy declaration per activity and purpose, custom taxonomy entries for records
    without a fides_key; checked with fideslang's own models before it is written."""
    _export_interchange("fides", out, entity, as_of)


@export_app.command("jsonld")
def export_jsonld(
    out: Annotated[
        Path | None,
        output_option("File to write; - for stdout (default: exports/ropa-jsonld.jsonld)"),
    ] = None,
    entity: Annotated[str | None, EntityOption] = None,
    as_of: AsOf = None,
) -> None:
    """The register as JSON-LD in W3C DPV 2.2 terms (each activity a dpv:Process with its
    purposes, personal data, data subjects, eu-gdpr legal bases, controllers, recipients,
    sources, storage conditions, transfers and measures); the @context is inline, so the
    file parses offline."""
    _export_interchange("jsonld", out, entity, as_of)


def _export_interchange(fmt: str, out: Path | None, entity: str | None, as_of: date | None) -> None:
    from ropa.exports import export_interchange

    to_stdout = out is not None and str(out) == "-"
    target = (
        None if to_stdout else out or _default_folder() / FORMATS[fmt].file_name(Layout.interchange)
    )
    with state().registry_at(as_of) as registry:
        warnings = export_interchange(registry, fmt, target, entity)
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)
    if target is not None:
        console(stderr=True).print(f"wrote {target}")
