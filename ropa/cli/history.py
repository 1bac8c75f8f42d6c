"""`ropa history` and `ropa diff`: who changed what, when, and what changed in a period."""

import re
import sys
from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Literal

import typer

from ropa import words
from ropa.cli import parse_when, state
from ropa.cli.output import Format, FormatOption, Listing, print_table
from ropa.errors import BadOption, RopaError

#: The highest version a revision can hold (the column is a 32-bit integer on PostgreSQL).
MAX_VERSION = 2**31 - 1


def parse_version(text: str) -> int:
    """A record's version given to --version: a whole number from 1 (ASCII digits)."""
    value = text.strip()
    if not re.fullmatch(r"[0-9]+", value) or not 1 <= int(value) <= MAX_VERSION:
        raise typer.BadParameter(
            f"{text!r} is not a version: a whole number from 1 to {MAX_VERSION} (see history)"
        )
    return int(value)


def known_kind(value: str | None) -> str | None:
    """A kind given to --kind (party or parties), as its name."""
    from ropa.schema import kind_named

    try:
        return kind_named(value).name if value is not None else None
    except RopaError as e:
        raise typer.BadParameter(str(e)) from None


SINCE_HELP = "From the start of this day (UTC), or from this date-time (YYYY-MM-DDTHH:MM[:SS])."
UNTIL_HELP = "To the end of this day (UTC), or to this date-time."


def period(
    since: str | None, until: str | None
) -> tuple[date | datetime | None, date | datetime | None]:
    """--since and --until as days or date-times (in UTC), for history and diff alike:
    --since may not be in the future, nor --until before --since; an --until day after today
    is today (the log holds nothing later, and the end of 9999-12-31 is past the
    calendar's)."""
    from ropa.history import moment_after, moment_at, today, utcnow

    first, last = (
        None if text is None else _in_utc(parse_when(option, text))
        for option, text in (("--since", since), ("--until", until))
    )
    if first is not None and moment_at(first) > utcnow():
        raise BadOption(f"--since {first.isoformat()} is in the future")
    if last is not None and not isinstance(last, datetime):
        last = min(last, today())
    if last is not None and first is not None and moment_after(last) <= moment_at(first):
        raise BadOption(f"--until {until} is before --since {since}")
    return first, last


def _in_utc(when: date | datetime) -> date | datetime:
    from ropa.history import moment_at

    return moment_at(when) if isinstance(when, datetime) else when


def history(
    key: Annotated[str | None, typer.Argument(help="Only the revisions of this record.")] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            metavar="KIND",
            callback=known_kind,
            help="Only this kind (activity, party, …).",
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="WHEN", help=SINCE_HELP),
    ] = None,
    until: Annotated[str | None, typer.Option("--until", metavar="WHEN", help=UNTIL_HELP)] = None,
    actor: Annotated[
        str | None, typer.Option("--actor", "--by", help="Only changes by this actor.")
    ] = None,
    version: Annotated[
        int | None,
        typer.Option(
            "--version",
            metavar="N",
            parser=parse_version,
            help="Print the record as this version stored it (yaml or json).",
        ),
    ] = None,
    fmt: Annotated[Listing, FormatOption] = Format.table,
) -> None:
    """The revision log, oldest first: time, actor, action, record, version, message and the
    fields each update changed; with KEY --version N, the record as that version stored it."""
    if version is not None:
        _show_version(key, kind, version, fmt)
        return
    first, last = period(since, until)
    with state().registry.history_stream(key, kind, first, last, actor) as revisions:
        if fmt in (Format.json, Format.yaml):
            _write_list((r.as_dict() for r in revisions), fmt)
            return
        if fmt is Format.csv:
            columns = ["at", "actor", "action", "kind", "key", "version", "message", "changed"]
            _write_csv(
                columns,
                (
                    [r[c] if c != "changed" else "; ".join(r[c]) for c in columns]
                    for r in (r.as_dict() for r in revisions)
                ),
            )
            return
        count = print_table(
            ["time (UTC)", "actor", "action", "record", "v", "message", "changed"],
            (
                (
                    r.at.strftime("%Y-%m-%d %H:%M:%S"),
                    r.actor,
                    r.action,
                    f"{r.kind} {r.key}",
                    str(r.version),
                    r.message or "",
                    ", ".join(r.changed),
                )
                for r in revisions
            ),
        )
    typer.echo(words.count(count, "revision"))


def _write_list(items: Iterator[dict], fmt: Format) -> None:
    """A JSON or YAML list on stdout, written item by item: the same text as
    ropa.io.document.dumps of the whole list."""
    import json

    from ropa.io.document import dump_yaml, json_default

    write = sys.stdout.write
    if fmt is Format.yaml:
        empty = True
        for item in items:
            write(dump_yaml([item]))
            empty = False
        if empty:
            write(dump_yaml([]))
        return
    first = True
    for item in items:
        text = json.dumps(item, indent=2, ensure_ascii=False, default=json_default)
        write(("[\n" if first else ",\n") + "  " + text.replace("\n", "\n  "))
        first = False
    write("[]\n" if first else "\n]\n")


def _write_csv(header: list[str], rows: Iterator[list]) -> None:
    """A CSV listing on stdout written a batch of rows at a time, every cell formula-safe."""
    import io
    import itertools

    from ropa.io.safe_csv import SafeWriter

    out = io.StringIO()
    writer = SafeWriter(out, lineterminator="\n")
    writer.writerow(header)
    while True:
        batch = list(itertools.islice(rows, 1000))
        writer.writerows(batch)
        sys.stdout.write(out.getvalue())
        out.seek(0)
        out.truncate()
        if not batch:
            return


def _show_version(key: str | None, kind: str | None, version: int, fmt: Format) -> None:
    """One stored version of a record, as a registry document shows it (YAML unless json)."""
    from ropa.io.document import dumps

    if not key:
        raise typer.BadParameter("--version needs the record's KEY (and --kind)")
    if fmt is Format.csv:
        raise typer.BadParameter("a stored version is printed as yaml or json")
    registry = state().registry
    if kind is None:
        kinds = {k for k in (r.kind for r in registry.history(key=key))}
        if len(kinds) != 1:
            raise typer.BadParameter(
                f"name the kind of {key!r} with --kind"
                + (f" ({', '.join(sorted(kinds))})" if kinds else "")
            )
        kind = kinds.pop()
    _, record = registry.revision(kind, key, version)
    typer.echo(dumps(record, "json" if fmt is Format.json else "yaml"), nl=False)


def diff(
    since: Annotated[str, typer.Option("--since", metavar="WHEN", help=SINCE_HELP)],
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="WHEN", help=f"{UNTIL_HELP} (default: today)"),
    ] = None,
    fmt: Annotated[
        Literal[Format.table, Format.json, Format.markdown],
        typer.Option("--format", "-f", help="markdown makes a change log for the DPO."),
    ] = Format.table,
) -> None:
    """Records added, removed, retired and changed in a period, field by field."""
    from ropa.history import diff_markdown

    first, last = period(since, until)
    assert first is not None  # --since is required
    result = state().registry.diff(first, last)
    if fmt is Format.json:
        import json

        from ropa.io.document import json_default

        typer.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False, default=json_default))
        return
    if fmt is Format.markdown:
        typer.echo(diff_markdown(result), nl=False)
        return

    def rows() -> Iterator[tuple[str, str, str, str]]:
        for change, items in (
            ("added", result.added),
            ("removed", result.removed),
            ("retired", result.retired),
        ):
            for i in items:
                yield change, f"{i['kind']} {i['key']}", i["name"] or "", ""
        for i in result.changed:
            fields = "\n".join(
                f"{name}: {_short(v['before'])} → {_short(v['after'])}"
                for name, v in i["fields"].items()
            )
            yield "changed", f"{i['kind']} {i['key']}", i["name"] or "", fields

    print_table(
        ["change", "record", "name", "fields (before → after)"],
        rows(),
        title=f"{result.since} to {result.until}",
    )


def _short(value: object) -> str:
    if value is None:
        return "—"
    text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def register(app: typer.Typer, only: str | None = None) -> None:
    app.command("history")(history)
    app.command("diff")(diff)
