"""`ropa check`: what a supervisory authority would find."""

import textwrap
from typing import Annotated, Literal

import typer

from ropa import vocab
from ropa.checks import ERROR, rule_lines, rule_range
from ropa.cli import state
from ropa.cli.output import AsOf, EntityOption, Format


def check(
    entity: Annotated[str | None, EntityOption] = None,
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
    regime: Annotated[
        str | None,
        typer.Option(
            "--regime",
            metavar="CODE",
            help=(
                f"Only findings under this law ({', '.join(vocab.REGIMES.values)}): the "
                "activities of group members under it, and findings on other parties."
            ),
            show_default=False,
        ),
    ] = None,
    as_of: AsOf = None,
) -> None:
    from ropa.checks import in_regime
    from ropa.io.findings import render_csv, render_json, render_text

    wanted = _regime(regime) if regime else None
    with state().registry_at(as_of) as registry:
        findings = registry.findings(entity, rule, ignore)
    if wanted:
        findings = in_regime(findings, wanted)
    if fmt is Format.json:
        typer.echo(render_json(findings), nl=False)
    elif fmt is Format.csv:
        typer.echo(render_csv(findings), nl=False)
    else:
        typer.echo(render_text(findings), nl=False)
    if any(f.severity == ERROR for f in findings) or (strict and findings):
        raise typer.Exit(1)


# The rule list comes from the registry in ropa.checks, so the help cannot drift from it. It
# is one block, shown as written: wrapped here to Click's help width (80, less the indent),
# each rule's summary under its own start.
check.__doc__ = (
    f"Check the register: rules {rule_range()} (see README). Exit 1 on any error.\n\n"
    "\b\n"
    + "\n".join(
        textwrap.fill(line, width=78, subsequent_indent=" " * 12, break_on_hyphens=False)
        for line in rule_lines()
    )
)


def _regime(text: str) -> str:
    code = vocab.REGIMES.parse(text)
    if code is None:
        raise typer.BadParameter(
            f"{text!r} is not a regime; choose one of {', '.join(vocab.REGIMES.values)}",
            param_hint="'--regime'",
        )
    return code


def register(app: typer.Typer, only: str | None = None) -> None:
    app.command("check")(check)
