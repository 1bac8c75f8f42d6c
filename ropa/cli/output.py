"""Printing records and reports: table (rich), json, csv, yaml. JSON, CSV and YAML go to
stdout so that scripts can pipe them; tables are for people.

The options every command shares are declared here once: the output formats (:class:`Format`;
a command offers the members it can write as `Literal[Format.table, Format.json, …]`) and
`--as-of` (:data:`AsOf`, parsed into a date before the command runs).
"""

import io
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

import typer

from ropa.cli import parse_when
from ropa.schema import Kind, T
from ropa.validate import BIDI_CONTROLS, MAX_TEXT, NOT_ONE_LINE


class Format(StrEnum):
    """Every format a command reads or writes; each command offers the ones it can."""

    table = "table"
    json = "json"
    csv = "csv"
    yaml = "yaml"
    markdown = "markdown"
    html = "html"
    xlsx = "xlsx"


FormatOption = typer.Option(
    "--format", "-f", help="Output format; json, csv and yaml are for scripts."
)
#: The formats of a listing or `show`, as `Annotated[Listing, FormatOption] = Format.table`.
Listing = Literal[Format.table, Format.json, Format.csv, Format.yaml]


def parse_as_of(text: str) -> date:
    """The day or date-time given to --as-of (a RopaError naming the option otherwise)."""
    return parse_when("--as-of", text)


#: The group member an output is limited to (a party key or name).
EntityOption = typer.Option(
    "--entity",
    metavar="KEY",
    help="Only this group member's activities (key or name): controller or joint controller.",
)

#: `--as-of WHEN`: the register as it stood at the end of that day, or at that date-time,
#: parsed once, here.
AsOf = Annotated[
    date | None,
    typer.Option(
        "--as-of",
        metavar="WHEN",
        parser=parse_as_of,
        help="The register as it stood at the end of this day (UTC), or at this ISO date-time.",
    ),
]


def write_csv(header: list[str], rows: Iterable[Iterable[Any]]) -> None:
    """A CSV listing on stdout, every cell formula-safe (ropa.io.safe_csv)."""
    from ropa.io.safe_csv import SafeWriter

    out = io.StringIO()
    writer = SafeWriter(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    sys.stdout.write(out.getvalue())


#: Control characters a terminal would act on (C0 but newline, DEL, C1, bidi overrides).
_CONTROL = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{BIDI_CONTROLS}]")


def literal(text: str) -> str:
    """Text as a terminal should show it: control characters (ESC, BEL, CR…) written as
    escapes (`\\x1b`), so that register text can neither move the cursor nor hide itself."""
    return _CONTROL.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def console(stderr: bool = False) -> Any:
    """The terminal printer: register text is printed literally, never read as rich markup
    (`[/bold]`, `[link=…]`), with control characters escaped (:func:`literal`)."""
    from rich.console import Console

    class LiteralConsole(Console):
        def render_str(self, text: str, **options: Any) -> Any:
            options["markup"] = False
            options["emoji"] = False
            return super().render_str(literal(text), **options)

    return LiteralConsole(
        stderr=stderr, highlight=False, soft_wrap=False, markup=False, emoji=False
    )


#: A table of more rows than this is printed as plain aligned rows, as they are read, instead
#: of a rich table built in memory (rich takes seconds to lay out a few thousand rows).
STREAM_TABLE_FROM = 1000


def print_table(columns: list[str], rows: Iterable[Iterable[Any]], title: str | None = None) -> int:
    """Rows under column headings on stdout, text printed literally; returns how many rows.
    Up to STREAM_TABLE_FROM rows: a rich table. More: plain rows streamed as they come,
    aligned to the widths of the first batch (a longer cell later just pushes its line)."""
    import itertools

    iterator = (["" if c is None else str(c) for c in row] for row in rows)
    first = list(itertools.islice(iterator, STREAM_TABLE_FROM + 1))
    if len(first) <= STREAM_TABLE_FROM:
        from rich.table import Table

        table = Table(header_style="bold", title=title)
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in first:
            table.add_row(*row)
        console().print(table)
        return len(first)

    def plain(row: list[str]) -> list[str]:
        return [literal(c).replace("\n", "; ") for c in row]

    batch = [plain(row) for row in first]
    widths = [
        min(_WIDEST, max(len(columns[i]), *(len(r[i]) for r in batch))) for i in range(len(columns))
    ]

    def line(cells: list[str]) -> str:
        padded = [c.ljust(w) for c, w in zip(cells[:-1], widths, strict=False)]
        return "  ".join([*padded, cells[-1]]).rstrip() + "\n"

    write = sys.stdout.write
    if title:
        write(literal(title) + "\n")
    write(line(list(columns)))
    write(line(["-" * w for w in widths[:-1]] + ["-" * len(columns[-1])]))
    count = 0
    while batch:
        write("".join(line(cells) for cells in batch))
        count += len(batch)
        batch = [plain(row) for row in itertools.islice(iterator, STREAM_TABLE_FROM)]
    return count


#: The widest a streamed table's column is padded to.
_WIDEST = 40


def refuse_control_characters(option: str) -> Callable[[str | None], str | None]:
    """An option callback refusing text with control characters, line feeds included (the
    value is one line of the history, stored for good and replayed to every terminal that
    shows it: a second line would read as part of the record), or longer than a field."""

    def check(value: str | None) -> str | None:
        if value is not None and NOT_ONE_LINE.search(value):
            shown = literal(value).replace("\n", "\\n")
            raise typer.BadParameter(
                f"{option} must be one line and must not contain control characters "
                f"(found '{shown}')"
            )
        if value is not None and len(value) > MAX_TEXT:
            raise typer.BadParameter(
                f"{option} is {len(value):,} characters long; at most {MAX_TEXT:,}"
            )
        return value

    return check


#: `-m/--message`: why a change was made, recorded in the history.
MessageOption = typer.Option(
    "--message",
    "-m",
    help="Why: recorded in the history.",
    callback=refuse_control_characters("--message"),
)


def progress(description: str) -> Any:
    """A function wrapping an iterable in a progress bar on stderr, or None when stderr is not
    a terminal (scripts and pipes get no bar)."""
    if not sys.stderr.isatty():
        return None

    def track(items: Any, total: int) -> Any:
        from rich.progress import track as rich_track

        return rich_track(
            items,
            total=total,
            description=description,
            console=console(stderr=True),
            transient=True,
        )

    return track


@contextmanager
def import_progress(tables: list[Any]) -> Iterator[Callable[[str], None]]:
    """While an import runs: a bar over the rows of its tables, then its later steps, on
    stderr when it is a terminal. Yields the function that announces a step."""
    if not sys.stderr.isatty():
        yield lambda _: None
        return
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        console=console(stderr=True),
        transient=True,
    ) as bar:
        total = sum(t.size or 0 for t in tables)
        task = bar.add_task("reading", total=total or None)

        def counted(rows: Iterable[Any]) -> Iterator[Any]:
            for i, row in enumerate(rows, 1):
                if not i % 500:
                    bar.advance(task, 500)
                yield row

        for table in tables:
            table.rows = counted(table.rows)

        def stage(what: str) -> None:
            bar.update(task, description=what, total=None)

        yield stage


def cell(field_type: T, value: Any) -> str:
    """A value as text in one cell: list items separated by `sep`."""
    if value is None or value == [] or value is False:
        return ""
    if value is True:
        return "yes"
    if field_type is T.NESTED:
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


#: Records a listing writes at a time: it never holds more than this many rows of text.
PRINT_BATCH = 500


def print_records(kind: Kind, records: Iterable[dict], fmt: Format) -> None:
    """A listing on stdout. JSON, CSV and YAML are written as the records come, a batch at
    a time (a listing of any size in flat memory); so is a long table (:func:`print_table`)."""
    if fmt in (Format.json, Format.yaml, Format.csv):
        for chunk in listing_chunks(kind, records, fmt):
            sys.stdout.write(chunk)
        sys.stdout.flush()
        return
    columns = [f for f in kind.fields if f.in_table]
    count = print_table(
        [f.name for f in columns],
        (
            [cell(f.type, record.get(f.name)).replace("; ", ", ") for f in columns]
            for record in records
        ),
    )
    console().print(f"{count} {kind.section if count != 1 else kind.name}")


def listing_chunks(kind: Kind, records: Iterable[dict], fmt: Format) -> Iterator[str]:
    """The text of a JSON, CSV or YAML listing, one batch of records per chunk: the same
    text as the whole list written at once (a JSON array of document records, a YAML list,
    a CSV table with a header)."""
    from ropa.io.document import document_record, dump_yaml
    from ropa.io.safe_csv import SafeWriter
    from ropa.records import json_default

    out = io.StringIO()
    writer = SafeWriter(out, lineterminator="\n") if fmt is Format.csv else None
    if writer is not None:
        writer.writerow(kind.field_names)
    count = 0
    for record in records:
        if fmt is Format.json:
            text = json.dumps(
                document_record(kind, record), indent=2, ensure_ascii=False, default=json_default
            )
            out.write(("[\n  " if count == 0 else ",\n  ") + text.replace("\n", "\n  "))
        elif fmt is Format.yaml:
            out.write(dump_yaml([document_record(kind, record)]))
        else:
            assert writer is not None
            writer.writerow([cell(f.type, record.get(f.name)) for f in kind.fields])
        count += 1
        if count % PRINT_BATCH == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    if fmt is Format.json:
        out.write("\n]\n" if count else "[]\n")
    elif fmt is Format.yaml and not count:
        out.write(dump_yaml([]))
    yield out.getvalue()


def print_record(kind: Kind, record: dict, fmt: Format, used_by: list[str] | None = None) -> None:
    if fmt in (Format.json, Format.yaml):
        from ropa.io.document import document_record, dumps

        typer.echo(dumps(document_record(kind, record), fmt.value), nl=False)
        return
    if fmt is Format.csv:
        print_records(kind, [record], fmt)
        return
    from rich.table import Table

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for f in kind.fields:
        value = record.get(f.name)
        if value in (None, "", [], False):
            continue
        if f.type is T.NESTED:
            text = "\n".join(
                ", ".join(f"{k}: {v}" for k, v in row.items() if v not in (None, ""))
                for row in value
            )
        elif isinstance(value, list):
            text = "\n".join(str(v) for v in value)
        else:
            text = cell(f.type, value)
        table.add_row(f.name, text)
    table.add_row("version", str(record["version"]))
    table.add_row("updated_at", record["updated_at"].isoformat(timespec="seconds"))
    if used_by is not None:
        table.add_row("used by", "\n".join(used_by) or "—")
    console().print(table)
