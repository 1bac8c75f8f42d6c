"""`ropa notice`: the privacy notice, written from the register."""

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ropa.cli import state
from ropa.cli.output import AsOf, console
from ropa.exports import Layout, formats_for

#: The notice's formats, from the formats registry (markdown, html).
NoticeFormat = StrEnum("NoticeFormat", {f.name: f.name for f in formats_for(Layout.notice)})


def notice(
    entity: Annotated[
        str | None,
        typer.Option(
            "--entity", metavar="KEY", help="The notice of this group member (key or name)."
        ),
    ] = None,
    fmt: Annotated[
        NoticeFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="Markdown, or a standalone HTML page (default: html for an -o file ending "
            ".html or .htm, else markdown).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="File to write; - for stdout (the default)"),
    ] = None,
    as_of: AsOf = None,
) -> None:
    """The privacy notice (Articles 13 and 14) for the active activities: who we are, what we
    collect from whom and why, sharing, transfers, retention, security, rights, contact."""
    from ropa.exports import write_notice

    if out is not None and str(out) == "-":
        out = None
    if fmt is None:
        html = out is not None and out.suffix.lower() in (".html", ".htm")
        fmt = NoticeFormat.html if html else NoticeFormat.markdown
    with state().registry_at(as_of) as registry:
        document = registry.notice(entity)
    if write_notice(document, fmt.value, out):
        console(stderr=True).print(f"wrote {out}")


def register(app: typer.Typer, only: str | None = None) -> None:
    app.command("notice")(notice)
