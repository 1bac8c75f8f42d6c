"""`ropa check`: what a supervisory authority would find."""

from enum import StrEnum
from typing import Annotated

import typer

from ropa.cli import state
from ropa.cli.output import AsOfOption


class CheckFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def check(
    entity: Annotated[
        str | None,
        typer.Option("--entity", help="Only this group member's activities (key or name)."),
    ] = None,
    fmt: Annotated[
        CheckFormat, typer.Option("--format", "-f", help="json and csv are for CI pipelines.")
    ] = CheckFormat.table,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 on warnings too.")] = False,
    rule: Annotated[
        list[str] | None,
        typer.Option(
            "--rule",
            metavar="RULE",
            help="Run only this rule (R01…R18); repeatable.",
            show_default=False,
        ),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option(
            "--ignore", metavar="RULE", help="Skip this rule; repeatable.", show_default=False
        ),
    ] = None,
    as_of: Annotated[str | None, AsOfOption] = None,
) -> None:
    """Check the register: rules R01–R18 (see README). Exit 1 on any error."""
    from ropa.checks import ERROR
    from ropa.io.findings import render_csv, render_json, render_text

    with state().registry_at(as_of) as registry:
        findings = registry.findings(entity, rule, ignore)
    if fmt is CheckFormat.json:
        typer.echo(render_json(findings), nl=False)
    elif fmt is CheckFormat.csv:
        typer.echo(render_csv(findings), nl=False)
    else:
        typer.echo(render_text(findings), nl=False)
    if any(f.severity == ERROR for f in findings) or (strict and findings):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("check")(check)
