"""`ropa taxonomy`: load outside taxonomies (the fideslang default taxonomy) as records."""

from enum import StrEnum
from typing import Annotated

import typer

from ropa.cli import state
from ropa.cli.output import console

taxonomy_app = typer.Typer(no_args_is_help=True, help="Load outside taxonomies as records.")


class Taxonomy(StrEnum):
    fideslang = "fideslang"


@taxonomy_app.command("load")
def load(
    name: Annotated[Taxonomy, typer.Argument(help="The taxonomy to load.")],
    only: Annotated[
        str | None,
        typer.Option(
            "--only",
            metavar="PARTS",
            help="Comma-separated parts to load: categories, subjects, purposes (default: all).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would be loaded; change nothing.")
    ] = False,
) -> None:
    """Load the fideslang default taxonomy (from the installed fideslang package) as data
    categories (special categories marked art9, criminal history art10), data subjects and
    purposes (the data uses), each with its fides_key. Records that already carry a
    fides_key keep their own key and name; a clash of keys or names is reported, not
    overwritten; a second run changes nothing."""
    from ropa.interop.taxonomy import PARTS_SECTION, load_fideslang

    parts = [p.strip() for p in only.split(",") if p.strip()] if only else None
    plan, report = load_fideslang(state().registry, parts, dry_run=dry_run)
    for clash in plan.clashes:
        typer.echo(f"warning: {clash}", err=True)
    out = console(stderr=True)
    verb = "would create" if dry_run else "created"
    for kind, section in PARTS_SECTION.items():
        if kind in plan.matched:
            out.print(
                f"{section}: {verb} {len(plan.records[kind])}, {plan.matched[kind]} already present"
            )
    if not report.changes:
        out.print("nothing changed")


def register(app: typer.Typer, only: str | None = None) -> None:
    app.add_typer(taxonomy_app, name="taxonomy")
