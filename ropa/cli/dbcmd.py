"""`ropa init` and `ropa db upgrade|info|backup`."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ropa.cli import refuse, state
from ropa.cli.output import Format, FormatOption, Listing, console, literal, write_csv

if TYPE_CHECKING:
    from ropa.db import Database

db_app = typer.Typer(no_args_is_help=True, help="Migrate, inspect and back up the database.")


def init(
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Delete an existing database and start over (a SQLite file is backed up "
            "first; asks unless --yes).",
        ),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="With --force: delete without asking.")
    ] = False,
) -> None:
    """Create the database at the newest schema revision."""
    db = state().db
    backup = _confirm_start_over(db, yes) if force and db.exists() else None
    db.init(force=force, backup=backup)
    if backup is not None:
        typer.echo(f"backed up to {backup}", err=True)
    console(stderr=True).print(
        f"created database {db.display_url} (schema {db.current_revision()})"
    )


def _confirm_start_over(db: "Database", yes: bool) -> Path | None:
    """Before `init --force` deletes a register: the backup a SQLite file is copied to
    (NAME.YYYYMMDDTHHMMSS.bak beside it, written by the reset); PostgreSQL gets the pg_dump
    command to run first. Asks on a terminal; without one, --yes is required (exit 2)."""
    from ropa.cli.files import on_terminal

    held = db.record_count()
    if held == 0:
        return None
    what = "records" if held is None else f"{held} records and revisions"
    if db.path is None:  # PostgreSQL: ropa cannot copy it; say how, and require --yes
        from ropa.db import mask_url

        url = mask_url(db.url).replace("postgresql+psycopg://", "postgresql://")
        typer.echo(f"back it up first: pg_dump --dbname '{url}' --file ropa-backup.sql", err=True)
        if not yes:
            refuse(f"{db.display_url} holds {what}; `ropa init --force --yes` deletes them")
        return None
    if not yes:
        if not on_terminal():
            refuse(
                f"{db.display_url} holds {what}; `ropa init --force --yes` deletes them "
                "(a backup is written first)"
            )
        if not typer.confirm(
            f"{db.display_url} holds {what}; delete them and start over?", err=True
        ):
            raise typer.Exit(1)
    from ropa.history import utcnow

    stamp = utcnow().strftime("%Y%m%dT%H%M%S")
    target = db.path.with_name(f"{db.path.name}.{stamp}.bak")
    if target.exists():
        refuse(f"{target} already exists; run `ropa init --force` again in a second")
    return target


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
    # Plain lines: no need to load rich for them.
    lines = [
        f"database  {literal(details['url'])}",
        f"backend   {details['backend']}",
        f"schema    {details['revision']}",
        *(f"{name:<11}{count:>8}" for name, count in details["counts"].items()),
    ]
    typer.echo("\n".join(lines))


@db_app.command("backup")
def backup(
    path: Annotated[Path, typer.Argument(help="Where to write the copy (must not exist).")],
) -> None:
    """Write a consistent copy of a SQLite database, even while others write to it."""
    target = state().db.backup(path)
    console(stderr=True).print(f"backed up to {target}")


def register(app: typer.Typer, only: str | None = None) -> None:
    app.command("init")(init)
    app.add_typer(db_app, name="db")
