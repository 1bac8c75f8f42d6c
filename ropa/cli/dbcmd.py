"""`ropa init` and `ropa db upgrade|info|backup`."""

from pathlib import Path
from typing import Annotated

import typer

from ropa.cli import state
from ropa.cli.output import Format, FormatOption, Listing, console, write_csv

db_app = typer.Typer(no_args_is_help=True, help="Migrate, inspect and back up the database.")


def init(
    force: Annotated[
        bool, typer.Option("--force", help="Delete an existing database and start over.")
    ] = False,
) -> None:
    """Create the database at the newest schema revision."""
    db = state().db
    db.init(force=force)
    console(stderr=True).print(
        f"created database {db.display_url} (schema {db.current_revision()})"
    )


@db_app.command("upgrade")
def upgrade() -> None:
    """Migrate an older database to the newest schema revision."""
    db = state().db
    before, after = db.upgrade()
    out = console(stderr=True)
    if before == after:
        out.print(f"{db.display_url} is already at schema {after}")
    else:
        out.print(f"upgraded {db.display_url} from schema {before or 'none'} to {after}")


@db_app.command("info")
def info(fmt: Annotated[Listing, FormatOption] = Format.table) -> None:
    """Database URL (password masked), backend, schema revision and record counts."""
    details = state().db.info()
    if fmt in (Format.json, Format.yaml):
        from ropa.io.document import dumps

        typer.echo(dumps(details, fmt.value), nl=False)
        return
    if fmt is Format.csv:
        rows = [(name, details[name]) for name in ("url", "backend", "revision")]
        write_csv(["item", "value"], rows + list(details["counts"].items()))
        return
    out = console()
    out.print(f"database  {details['url']}")
    out.print(f"backend   {details['backend']}")
    out.print(f"schema    {details['revision']}")
    for name, count in details["counts"].items():
        out.print(f"{name:<11}{count:>8}")


@db_app.command("backup")
def backup(
    path: Annotated[Path, typer.Argument(help="Where to write the copy (must not exist).")],
) -> None:
    """Write a consistent copy of a SQLite database, even while others write to it."""
    target = state().db.backup(path)
    console(stderr=True).print(f"backed up to {target}")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(db_app, name="db")
