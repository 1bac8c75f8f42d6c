"""The index of `ropa`'s commands: which module defines each, loaded only when the command
runs or shows its own help, and the line `ropa --help` lists it with. `ropa --help` and
`ropa --version` import none of the command modules (nor the library under them)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from typing import Any

import typer

#: Every top-level command in the order `ropa --help` lists it: the module that defines it
#: (its `register(app, only=None)` adds its commands, or only the one named) and the first
#: sentence of its help, which the listing line is shortened from, as Click shortens a
#: command's help. A test holds each summary to the loaded command's own help, so the listing
#: cannot drift from it.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("ropa.cli.dbcmd", "Create the database at the newest schema revision."),
    "import": ("ropa.cli.files", "Import records: upsert by key, all or nothing."),
    "template": (
        "ropa.cli.files",
        "An empty data-layout workbook to fill in and import: an instructions sheet, and "
        "drop-downs for every coded column and for the keys of the register's records.",
    ),
    "check": ("ropa.cli.check", "Check the register: rules R01–R23 (see README)."),
    "notice": (
        "ropa.cli.notice",
        "The privacy notice (Articles 13 and 14) for the active activities: who we are, what "
        "we collect from whom and why, sharing, transfers, retention, security, rights, "
        "contact.",
    ),
    "history": (
        "ropa.cli.history",
        "The revision log, oldest first: time, actor, action, record, version, message and "
        "the fields each update changed; with KEY --version N, the record as that version "
        "stored it.",
    ),
    "diff": (
        "ropa.cli.history",
        "Records added, removed, retired and changed in a period, field by field.",
    ),
    "restore": (
        "ropa.cli.restore",
        "Write a stored version of a record back (KIND KEY --version N), or bring the whole "
        "register back to a moment (--as-of WHEN), as new revisions.",
    ),
    "demo": (
        "ropa.cli.demo",
        "Create the database if needed, load the sample registry and write its outputs: the "
        "registry document, the check report, the record workbook and page, the privacy "
        "notice.",
    ),
    "party": ("ropa.cli.records", "Add, edit, show, list and remove parties (party records)."),
    "category": (
        "ropa.cli.records",
        "Add, edit, show, list and remove categories (data category records).",
    ),
    "subject": (
        "ropa.cli.records",
        "Add, edit, show, list and remove subjects (data subject category records).",
    ),
    "purpose": (
        "ropa.cli.records",
        "Add, edit, show, list and remove purposes (purpose records).",
    ),
    "source": ("ropa.cli.records", "Add, edit, show, list and remove sources (source records)."),
    "measure": (
        "ropa.cli.records",
        "Add, edit, show, list and remove measures (security measure records).",
    ),
    "system": ("ropa.cli.records", "Add, edit, show, list and remove systems (system records)."),
    "activity": (
        "ropa.cli.records",
        "Add, edit, show, list and remove activities (activity records).",
    ),
    "db": ("ropa.cli.dbcmd", "Migrate, inspect and back up the database."),
    "export": ("ropa.cli.files", "Write the register to files."),
    "taxonomy": ("ropa.cli.taxonomy", "Load outside taxonomies as records."),
    "review": (
        "ropa.cli.review",
        "The annual review: who is due, packs for the owners, and their answers back in.",
    ),
}


class LazyCommands(MutableMapping[str, Any]):
    """A group's commands by name, in the order of :data:`COMMANDS`: the names are known up
    front, a command is built (its module imported and registered) when it is looked up."""

    def __init__(self) -> None:
        self._loaded: dict[str, Any] = {}
        self._names = list(COMMANDS)

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded and name in COMMANDS:
            self._loaded[name] = _load(name)
        return self._loaded[name]

    def __setitem__(self, name: str, command: Any) -> None:
        if name not in self._names:
            self._names.append(name)
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        self._names.remove(name)
        self._loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _load(name: str) -> Any:
    """Build one command the way `app.command`/`app.add_typer` on the root app would have
    (plain help, no rich markup), with readable metavars. Only the one asked for is built
    (`ropa party edit` builds no other kind's group: making each takes a few milliseconds)."""
    from typer.main import get_group

    holder = typer.Typer(rich_markup_mode=None, add_completion=False)
    importlib.import_module(COMMANDS[name][0]).register(holder, only=name)
    holder.registered_commands = [c for c in holder.registered_commands if c.name == name]
    holder.registered_groups = [g for g in holder.registered_groups if g.name == name]
    command = get_group(holder).commands[name]
    readable_metavars(command)
    return command


def listing(group: Any, ctx: Any, formatter: Any) -> None:
    """The `Commands:` section of `ropa --help`, written from :data:`COMMANDS` without
    loading any command: each summary shortened to the width as Click shortens a help."""
    from typer.core import TyperCommand

    names = group.list_commands(ctx)
    limit = formatter.width - 6 - max(len(name) for name in names)
    rows = [
        (name, TyperCommand(name, help=COMMANDS[name][1]).get_short_help_str(limit))
        for name in names
    ]
    with formatter.section("Commands"):
        formatter.write_dl(rows)


#: typer's type names in --help and what a person reads instead.
_READABLE = {
    "str": "TEXT",
    "int": "NUMBER",
    "float": "NUMBER",
    "path": "PATH",
    "file": "FILE",
    "filename": "FILE",
    "directory": "DIR",
}


def readable_metavars(command: Any) -> None:
    """Give every option of a command tree that has no metavar one a person reads (TEXT,
    PATH…) instead of typer's type names (`<str>`, `<path>`), and show an argument by its
    name alone. Checked with the typer range pinned in pyproject.toml; tests/test_startup.py
    holds it."""
    for param in command.params:
        if param.param_type_name == "argument":  # shown by its name: `{files}...`, `KEY`
            param.type.get_metavar = lambda param, ctx: None
        elif param.metavar is None and param.type.name in _READABLE:
            param.metavar = _READABLE[param.type.name]
    command.get_help_option = _flag_without_type(command.get_help_option)
    commands = getattr(command, "commands", {})
    for name in list(commands):
        if not isinstance(commands, LazyCommands) or name in commands._loaded:
            readable_metavars(commands[name])


def _flag_without_type(get_help_option: Any) -> Any:
    """`--help` is made per command when help is asked for; show no type after it either."""

    def made(ctx: Any) -> Any:
        option = get_help_option(ctx)
        if option is not None:
            option.metavar = ""
        return option

    return made
