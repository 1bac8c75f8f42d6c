"""`ropa check`: what a supervisory authority would find."""

from typing import Annotated, Literal

import typer

from ropa.checks import ERROR, rule_lines, rule_range
from ropa.cli import state
from ropa.cli.output import AsOf, Format


def check(
    entity: Annotated[
        str | None,
        typer.Option("--entity", help="Only this group member's activities (key or name)."),
    ] = None,
    fmt: Annotated[
        Literal[Format.table, Format.json, Format.csv],
        typer.Option("--format", "-f", help="json and csv are for CI pipelines."),
    ] = Format.table,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 on warnings too.")] = False,
    rule: Annotated[
        list[str] | None,
        typer.Option(
            "--rule",
            metavar="RULE",
            help=f"Run only this rule ({rule_range().replace('–', '…')}); repeatable.",
            show_default=False,
        ),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option(
            "--ignore", metavar="RULE", help="Skip this rule; repeatable.", show_default=False
        ),
    ] = None,
    as_of: AsOf = None,
) -> None:
    from ropa.io.findings import render_csv, render_json, render_text

    with state().registry_at(as_of) as registry:
        findings = registry.findings(entity, rule, ignore)
    if fmt is Format.json:
        typer.echo(render_json(findings), nl=False)
    elif fmt is Format.csv:
        typer.echo(render_csv(findings), nl=False)
    else:
        typer.echo(render_text(findings), nl=False)
    if any(f.severity == ERROR for f in findings) or (strict and findings):
        raise typer.Exit(1)


# The rule list comes from the registry in ropa.checks, so the help cannot drift from it.
check.__doc__ = (
    f"Check the register: rules {rule_range()} (see README). Exit 1 on any error.\n\n"
    "\b\n" + "\n".join(rule_lines())
)


def register(app: typer.Typer) -> None:
    app.command("check")(check)
