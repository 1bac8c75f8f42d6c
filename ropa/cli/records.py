"""`ropa activity|party|category|subject|purpose|source|measure|system add|edit|show|list|remove`.

The options of `add` and `edit` are derived from the fields in :mod:`ropa.schema`, so a new
field appears on the command line without touching this module.
"""

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ropa.cli import state
from ropa.cli.output import (
    Format,
    FormatOption,
    Listing,
    MessageOption,
    console,
    print_record,
    print_records,
)
from ropa.errors import Problem, ValidationFailed
from ropa.schema import ACTIVITY, KINDS, Field, Kind, T

if TYPE_CHECKING:
    from ropa.find import FilterOption


def _help(field: Field) -> str:
    text = field.help
    if field.codes is not None:
        text += f" ({', '.join(field.codes.values)})"
    if field.type is T.DATE:
        text += " (YYYY-MM-DD)"
    if field.default not in (None, "") and not field.is_list:
        text += f" (default: {field.default})"
    return text


def _list_help(field: Field, verb: str) -> str:
    if field.name == "transfers":
        return (
            f"{verb} a transfer: COUNTRY:MECHANISM[:RECIPIENT], or a mapping "
            "'{country: US, mechanism: scc, details: ..., recipient: ...}'; repeatable"
        )
    if field.name == "retention":
        return (
            f"{verb} a retention rule: DURATION[:TRIGGER], or a mapping "
            "'{duration: P6Y, trigger: ..., action: delete, criteria: ...}'; repeatable"
        )
    return f"{verb}: {_help(field)}; repeatable"


def _a(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def _param(name: str, annotation: Any, default: Any = None) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


#: What --help shows after a field's option, by field type (a person reads these).
METAVARS = {
    T.CODE: "CODE",
    T.CODES: "CODE",
    T.REF: "KEY",
    T.REFS: "KEY",
    T.DATE: "DATE",
    T.INT: "NUMBER",
    T.EMAIL: "EMAIL",
    T.COUNTRY: "COUNTRY",
    T.COUNTRIES: "COUNTRY",
    T.DURATION: "DURATION",
}
NESTED_METAVARS = {"transfers": "TRANSFER", "retention": "RULE"}


def metavar(f: Field) -> str:
    """The metavar of a field's option: KEY, CODE, DATE, TEXT…"""
    return NESTED_METAVARS.get(f.name) or METAVARS.get(f.type, "TEXT")


def _field_params(kind: Kind, editing: bool) -> list[inspect.Parameter]:
    """One option per field (add), plus --add-X/--remove-X for list fields (edit)."""
    params = []
    for f in kind.fields:
        if f.name == "key":
            continue
        option = "--" + f.cli_name
        if f.type is T.BOOL:
            flag = f"{option}/--no-{f.cli_name}"
            params.append(
                _param(f"f_{f.name}", Annotated[bool | None, typer.Option(flag, help=f.help)])
            )
        elif f.is_list:
            verb = "Set (replacing the list)" if editing else "Add"
            params.append(
                _param(
                    f"f_{f.name}",
                    Annotated[
                        list[str] | None,
                        typer.Option(
                            option, help=_list_help(f, verb), metavar=metavar(f), show_default=False
                        ),
                    ],
                )
            )
            if editing:
                params.append(
                    _param(
                        f"add_{f.name}",
                        Annotated[
                            list[str] | None,
                            typer.Option(
                                f"--add-{f.cli_name}",
                                help=_list_help(f, "Add"),
                                metavar=metavar(f),
                                show_default=False,
                            ),
                        ],
                    )
                )
                remove_help = {
                    "transfers": "Remove a transfer by position (1, 2…) or "
                    "COUNTRY:MECHANISM[:RECIPIENT]; repeatable",
                    "retention": "Remove a retention rule by position (1, 2…) or data "
                    "category; repeatable",
                }.get(f.name, f"Remove one of the {f.name}; repeatable")
                params.append(
                    _param(
                        f"remove_{f.name}",
                        Annotated[
                            list[str] | None,
                            typer.Option(
                                f"--remove-{f.cli_name}",
                                help=remove_help,
                                metavar="POSITION|SPEC" if f.is_list and f.nested else metavar(f),
                                show_default=False,
                            ),
                        ],
                    )
                )
        else:
            params.append(
                _param(
                    f"f_{f.name}",
                    Annotated[
                        str | None,
                        typer.Option(option, help=_help(f), metavar=metavar(f), show_default=False),
                    ],
                )
            )
    return params


def parse_transfer(text: str) -> Any:
    """COUNTRY:MECHANISM[:RECIPIENT] or a YAML flow mapping, as a transfer mapping."""
    text = text.strip()
    if text.startswith("{"):
        return _flow_mapping(text, "--transfer")
    parts = text.split(":", 2)
    row = {"country": parts[0]}
    if len(parts) > 1 and parts[1]:
        row["mechanism"] = parts[1]
    if len(parts) > 2 and parts[2]:
        row["recipient"] = parts[2]
    return row


def parse_retention(text: str) -> Any:
    """DURATION[:TRIGGER] or a YAML flow mapping, as a retention mapping."""
    text = text.strip()
    if text.startswith("{"):
        return _flow_mapping(text, "--retention")
    duration, _, trigger = text.partition(":")
    row = {"duration": duration}
    if trigger.strip():
        row["trigger"] = trigger.strip()
    return row


def _flow_mapping(text: str, option: str) -> Any:
    from ropa.io.document import load_text

    try:
        value = load_text(text, "yaml", option)
    except ValidationFailed as e:
        raise ValidationFailed([Problem(option, e.problems[0].message)]) from None
    if not isinstance(value, dict):
        raise ValidationFailed([Problem(option, "expected a mapping such as {country: US}")])
    return value


def _list_values(f: Field, items: list[str]) -> list[Any]:
    if f.name == "transfers":
        return [parse_transfer(i) for i in items]
    if f.name == "retention":
        return [parse_retention(i) for i in items]
    return list(items)


def _collect(kind: Kind, kwargs: dict[str, Any]) -> tuple[dict, dict, dict]:
    """Field values to set, and list items to add and remove, from the command's options."""
    values: dict[str, Any] = {}
    add: dict[str, list] = {}
    remove: dict[str, list] = {}
    for f in kind.fields:
        value = kwargs.get(f"f_{f.name}")
        if value is not None and (not f.is_list or value):
            values[f.name] = _list_values(f, value) if f.is_list else value
        if kwargs.get(f"add_{f.name}"):
            add[f.name] = _list_values(f, kwargs[f"add_{f.name}"])
        if kwargs.get(f"remove_{f.name}"):
            remove[f.name] = list(kwargs[f"remove_{f.name}"])
    return values, add, remove


def _command(func: Callable, params: list[inspect.Parameter], doc: str) -> Callable:
    def wrapper(**kwargs: Any) -> None:
        func(**kwargs)

    wrapper.__signature__ = inspect.Signature(params)
    wrapper.__doc__ = doc
    return wrapper


def _key_param(kind: Kind) -> inspect.Parameter:
    return inspect.Parameter(
        "key",
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        annotation=Annotated[str, typer.Argument(metavar="KEY", help=f"Key of the {kind.label}")],
    )


def _kind_app(kind: Kind) -> typer.Typer:
    group = typer.Typer(
        no_args_is_help=True,
        help=f"Add, edit, show, list and remove {kind.section} ({kind.label} records).",
    )
    message = _param("message", Annotated[str | None, MessageOption])

    def add(key: str, message: str | None, **kwargs: Any) -> None:
        values, _, _ = _collect(kind, kwargs)
        record = state().registry.add(kind.name, {"key": key, **values}, message)
        console(stderr=True).print(f"added {kind.label} {record['key']}")

    group.command("add")(
        _command(
            add,
            [_key_param(kind), *_field_params(kind, editing=False), message],
            f"Add {_a(kind.label)}. List options are repeatable; references take keys or exact "
            "names.",
        )
    )

    def edit(key: str, message: str | None, clear: list[str] | None, **kwargs: Any) -> None:
        from ropa.registry import Edit

        values, add_items, remove_items = _collect(kind, kwargs)
        change = Edit(set=values, add=add_items, remove=remove_items, clear=list(clear or []))
        if not change:
            raise typer.BadParameter("nothing to change: give at least one field option")
        result = state().registry.edit(kind.name, key, change, message)
        out = console(stderr=True)
        if result is None:
            out.print(f"{kind.label} {key} unchanged")
        else:
            out.print(
                f"updated {kind.label} {key} (version {result.after['version']}): "
                + ", ".join(result.changed_fields)
            )

    clear = _param(
        "clear",
        Annotated[
            list[str] | None,
            typer.Option(
                "--clear",
                metavar="FIELD",
                help="Empty a field (e.g. --clear dpia_link; not one that always has a value, "
                "such as status); repeatable",
                show_default=False,
            ),
        ],
    )
    group.command("edit")(
        _command(
            edit,
            [_key_param(kind), *_field_params(kind, editing=True), clear, message],
            f"Change {_a(kind.label)}: set fields, add or remove list items, clear fields.",
        )
    )

    @group.command("show")
    def show(
        key: Annotated[str, typer.Argument(help=f"Key of the {kind.label}")],
        fmt: Annotated[Listing, FormatOption] = Format.table,
    ) -> None:
        """Show one record with every field."""
        registry = state().registry
        record = registry.get(kind.name, key)
        used_by = None
        if kind is not ACTIVITY and fmt is Format.table:
            used_by = [f"{KINDS[k].label} {u}" for k, u in registry.used_by(kind.name, key)]
        print_record(kind, record, fmt, used_by)

    _list_command(group, kind)

    @group.command("remove")
    def remove(
        key: Annotated[str, typer.Argument(help=f"Key of the {kind.label}")],
        message: Annotated[str | None, MessageOption] = None,
    ) -> None:
        """Delete a record; refused while activities still refer to it."""
        state().registry.remove(kind.name, key, message)
        console(stderr=True).print(f"removed {kind.label} {key}")

    if kind is ACTIVITY:

        @group.command("retire")
        def retire(
            key: Annotated[str, typer.Argument(help="Key of the activity")],
            message: Annotated[str | None, MessageOption] = None,
        ) -> None:
            """Mark an activity retired: kept with its history, left out of the record."""
            result = state().registry.retire(key, message)
            out = console(stderr=True)
            out.print(f"activity {key} " + ("retired" if result else "was already retired"))

    return group


def filter_params(options: "tuple[FilterOption, ...]") -> list[inspect.Parameter]:
    """One keyword parameter per filter option (repeatable, or a flag): declared once for
    `list` and `export`; the values reach :mod:`ropa.find` under the options' names."""
    params = []
    for option in options:
        if option.flag:
            annotation: Any = Annotated[
                bool, typer.Option(option.option, help=option.help, show_default=False)
            ]
            params.append(_param(option.name, annotation, False))
            continue
        help = option.help + ("; repeatable (any of them)" if option.name != "review_due" else "")
        annotation = Annotated[
            list[str] | None,
            typer.Option(option.option, help=help, metavar=option.metavar, show_default=False),
        ]
        params.append(_param(option.name, annotation))
    return params


def filter_values(options: "tuple[FilterOption, ...]", kwargs: dict[str, Any]) -> dict[str, Any]:
    """The filter options' values out of a command's keyword arguments (taken out of them)."""
    return {o.name: kwargs.pop(o.name, None) for o in options}


def optional_values(args: list[str]) -> list[str]:
    """The command line with the value of an option whose value may be left out filled in:
    `--review-due` alone (before another option, or last) means overdue."""
    from ropa.find import OVERDUE

    filled = list(args)
    for i in range(len(filled) - 1, -1, -1):
        if filled[i] == "--review-due" and (i + 1 == len(filled) or filled[i + 1][:1] == "-"):
            filled.insert(i + 1, OVERDUE)
    return filled


def kind_filters(kind: Kind) -> "tuple[FilterOption, ...]":
    """The filter options of a kind's `list`."""
    from ropa.find import ACTIVITY_FILTERS, RECORD_FILTERS, FilterOption

    if kind is ACTIVITY:
        return ACTIVITY_FILTERS
    extra = tuple(
        FilterOption(name, _help(kind.field(name)), "CODE")
        for name in ("kind", "special")
        if name in kind.field_names
    )
    return extra + RECORD_FILTERS


def _list_command(group: typer.Typer, kind: Kind) -> None:
    options = kind_filters(kind)

    def list_records(fmt: Format, **kwargs: Any) -> None:
        with state().registry.find(kind.name, filter_values(options, kwargs)) as records:
            print_records(kind, records, fmt)

    params = filter_params(options)
    params.append(_param("fmt", Annotated[Listing, FormatOption], Format.table))
    doc = f"List {kind.section}."
    if kind is ACTIVITY:
        doc = (
            "List activities: filters combine (all must hold), a repeated filter takes any of "
            "its values."
        )
    group.command("list")(_command(list_records, params, doc))


def register(app: typer.Typer, only: str | None = None) -> None:
    for kind in KINDS.values():
        if only in (None, kind.name):
            app.add_typer(_kind_app(kind), name=kind.name)
