"""`ropa restore`: a record back to one of its versions, or the whole register back to a
moment. Nothing is lost: a restore writes new revisions, so it can itself be undone."""

from typing import Annotated

import typer

from ropa.cli import state
from ropa.cli.files import ReportFormat, confirm_deletions, print_report
from ropa.cli.history import parse_version
from ropa.cli.output import AsOf, MessageOption, console


def restore(
    kind: Annotated[
        str | None, typer.Argument(help="Kind of the record (activity, party, …).")
    ] = None,
    key: Annotated[str | None, typer.Argument(help="Key of the record.")] = None,
    version: Annotated[
        int | None,
        typer.Option(
            "--version",
            metavar="N",
            parser=parse_version,
            help="The version to bring back (see history).",
        ),
    ] = None,
    as_of: AsOf = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="With --as-of: report, change nothing.")
    ] = False,
    report_format: Annotated[
        ReportFormat | None,
        typer.Option("--report", help="json: the whole report on stdout as one JSON object."),
    ] = None,
    message: Annotated[str | None, MessageOption] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Delete without asking (for scripts).")
    ] = False,
) -> None:
    """Write a stored version of a record back (KIND KEY --version N), or bring the whole
    register back to a moment (--as-of WHEN), as new revisions."""
    registry = state().registry
    if as_of is not None:
        if kind or key or version is not None:
            raise typer.BadParameter(
                "--as-of restores the whole register; drop KIND, KEY, --version"
            )
        if not dry_run and not yes:
            # More than a handful of deletions are shown and asked about first.
            confirm_deletions(registry.restore_as_of(as_of, dry_run=True), "restore --as-of")
        report = registry.restore_as_of(as_of, dry_run=dry_run, message=message)
        print_report(report, report_format, dry_run)
        return
    if not (kind and key and version is not None):
        raise typer.BadParameter("give KIND KEY --version N, or --as-of WHEN")
    if dry_run or report_format is not None:
        raise typer.BadParameter(
            f"{'--dry-run' if dry_run else '--report'} is for --as-of; "
            "`ropa history KEY --version N` shows a version"
        )
    change = registry.restore(kind, key, version, message)
    out = console(stderr=True)
    if change is None:
        out.print(f"{kind} {key} is already as version {version}; nothing changed")
    else:
        verb = "restored" if change.action == "update" else "brought back"
        out.print(
            f"{verb} {change.kind.label} {key} to version {version} "
            f"(now version {change.after['version']})"
        )


def register(app: typer.Typer, only: str | None = None) -> None:
    app.command("restore")(restore)
