"""Start-up: a command on an existing database loads only what it uses."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

#: Modules that reading a few records needs none of: the ORM layers over SQLAlchemy Core,
#: the migrations (the schema check is one query), the spreadsheet writers, and pydantic
#: (Typer 0.29 coerces every option through it: ~0.1 s a command).
NOT_FOR_READING = ("sqlmodel", "sqlalchemy.orm", "alembic", "openpyxl", "xlsxwriter", "pydantic")


def _imported_by(db_url: str, *arguments: str) -> tuple[str, list[str]]:
    code = (
        "import sys\n"
        "from ropa.cli import main\n"
        f"sys.argv = ['ropa', '--db', {db_url!r}, *{list(arguments)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {NOT_FOR_READING!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    *printed, imported = done.stdout.strip().splitlines()
    return "\n".join(printed), eval(imported)


def test_db_info_loads_no_orm_migrations_or_spreadsheet_writers(sample, db_url):
    printed, imported = _imported_by(db_url, "db", "info")
    assert "activities" in printed and "14" in printed
    assert imported == []


def test_showing_a_record_loads_no_orm_migrations_or_spreadsheet_writers(sample, db_url):
    printed, imported = _imported_by(db_url, "activity", "show", "marketing")
    assert "marketing" in printed
    assert imported == []


def test_the_tables_are_plain_sqlalchemy_core_tables_under_their_model_names():
    import sqlalchemy as sa

    from ropa.models import RECORD_MODELS, Revision, metadata

    assert isinstance(Revision.__table__, sa.Table)
    assert Revision.action is Revision.__table__.c.action
    assert {m.__tablename__ for m in RECORD_MODELS.values()} <= set(metadata.tables)
    assert str(sa.select(Revision.id).where(Revision.kind == "party")).startswith(
        "SELECT revisions.id \nFROM revisions"
    )


#: What listing the commands or printing the version needs none of: the database layers,
#: the file formats, rich's tables, the library under the commands, the commands themselves.
NOT_FOR_HELP = (
    "pandas",
    "alembic",
    "fideslang",
    "rdflib",
    "sqlalchemy",
    "yaml",
    "xlsxwriter",
    "openpyxl",
    "reportlab",
    "pydantic",
    "rich",
    "ropa.registry",
    "ropa.schema",
    "ropa.checks",
    "ropa.exports",
    "ropa.find",
    "ropa.models",
    "ropa.cli.output",
    "ropa.cli.records",
    "ropa.cli.files",
    "ropa.cli.dbcmd",
    "ropa.cli.history",
)


def _modules_after(*arguments: str) -> tuple[str, list[str]]:
    code = (
        "import io, sys, contextlib\n"
        "from ropa.cli import main\n"
        f"sys.argv = ['ropa', *{list(arguments)!r}]\n"
        "out = io.StringIO()\n"
        "try:\n    with contextlib.redirect_stdout(out):\n        main()\n"
        "except SystemExit:\n    pass\n"
        "print(out.getvalue())\n"
        f"print(sorted(m for m in sys.modules if m.startswith({NOT_FOR_HELP!r})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    *printed, imported = done.stdout.strip().splitlines()
    return "\n".join(printed), eval(imported)


def test_help_lists_every_command_without_loading_one():
    from ropa.cli.commands import COMMANDS

    printed, imported = _modules_after("--help")
    listed = printed.split("Commands:\n", 1)[1].splitlines()
    assert [line.split()[0] for line in listed if line[:3].strip()] == list(COMMANDS)
    assert "  history   The revision log, oldest first:" in printed
    assert imported == []


def test_version_loads_no_command():
    printed, imported = _modules_after("--version")
    assert printed.startswith("ropa ")
    assert imported == []


def test_each_listing_line_is_the_loaded_commands_own_help_shortened():
    """`ropa --help` lists the summaries of ropa.cli.commands; loaded, each command would
    list the same line at any terminal width (its help begins with the summary)."""
    import typer
    from typer.core import TyperCommand
    from typer.main import get_command

    from ropa.cli import app
    from ropa.cli.commands import COMMANDS

    group = get_command(app)
    ctx = typer.Context(group)
    for name, (_, summary) in COMMANDS.items():
        command = group.get_command(ctx, name)
        for width in (30, 45, 64, 100):
            listed = TyperCommand(name, help=summary).get_short_help_str(width)
            assert command.get_short_help_str(width) == listed, (name, width)


def test_every_command_a_module_registers_is_in_the_index():
    import importlib

    import typer
    from typer.main import get_group

    from ropa.cli.commands import COMMANDS

    for module_name in set(module for module, _ in COMMANDS.values()):
        holder = typer.Typer()
        importlib.import_module(module_name).register(holder)
        registered = set(get_group(holder).commands)
        indexed = {name for name, (module, _) in COMMANDS.items() if module == module_name}
        assert registered == indexed, module_name


def test_a_mistyped_command_is_answered_with_the_closest_names(cli):
    result = cli("activty", "list")
    assert result.exit_code == 2
    assert "Did you mean 'activity'?" in result.stdout + result.stderr


def test_a_command_is_built_alone(monkeypatch):
    """`ropa party edit` builds the party group, not every kind's (nor any other command):
    the records module made all eight kinds' groups and kept one (25 ms of every record
    command)."""
    import typer
    from typer.main import get_command

    import ropa.cli.records as records
    from ropa.cli import app

    made = []
    kind_app = records._kind_app
    monkeypatch.setattr(records, "_kind_app", lambda kind: made.append(kind.name) or kind_app(kind))
    group = get_command(app)
    ctx = typer.Context(group)
    party = group.get_command(ctx, "party")
    assert made == ["party"]
    assert sorted(party.commands) == ["add", "edit", "list", "remove", "show"]
    assert group.get_command(ctx, "no-such-command") is None
    built = [name for name in group.commands if name in group.commands._loaded]
    assert built == ["party"]


def test_a_usage_error_loads_no_database_layer():
    """`ropa activity show` without its KEY: the error line hid the database password (a
    SQLite path has none) by parsing the URL with SQLAlchemy, 0.15 s of a 0.3 s answer."""
    code = (
        "import sys\n"
        "from ropa.cli import main\n"
        "sys.argv = ['ropa', '--db', 'some.db', 'activity', 'show']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    print(e.code)\n"
        "print(sorted(m for m in sys.modules if m.startswith('sqlalchemy')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.stderr.startswith("error: Missing argument")
    assert done.stdout.splitlines() == ["2", "[]"]


def test_an_error_line_still_hides_the_database_password():
    from ropa.db import hide_secrets

    url = "postgresql+psycopg://ropa:s3cr%40t@db.example/ropa?sslpassword=k3y"
    assert hide_secrets("auth s3cr@t s3cr%40t k3y failed", url) == "auth *** *** *** failed"
    assert hide_secrets("no such file x.db", "sqlite:////tmp/x.db") == "no such file x.db"
