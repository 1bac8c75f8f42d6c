"""`ropa notice`: the privacy notice, written from the register."""

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ropa.cli import state
from ropa.cli.output import AsOfOption, console


class NoticeFormat(StrEnum):
    markdown = "markdown"
    html = "html"


def notice(
    entity: Annotated[
        str | None, typer.Option("--entity", help="The notice of this group member (key or name).")
    ] = None,
    fmt: Annotated[
        NoticeFormat, typer.Option("--format", "-f", help="Markdown, or a standalone HTML page.")
    ] = NoticeFormat.markdown,
    out: Annotated[
        Path | None, typer.Option("-o", "--output", help="File to write (default: stdout)")
    ] = None,
    as_of: Annotated[str | None, AsOfOption] = None,
) -> None:
    """The privacy notice (Arts. 13 and 14) for the active activities: who we are, what we
    collect from whom and why, sharing, transfers, retention, security, rights, contact."""
    from ropa.io.files import write_text
    from ropa.notice import to_html, to_markdown

    with state().registry_at(as_of) as registry:
        document = registry.notice(entity)
    text = to_html(document) if fmt is NoticeFormat.html else to_markdown(document)
    if out is None:
        typer.echo(text, nl=False)
        return
    write_text(out, text)
    console(stderr=True).print(f"wrote {out}")


def register(app: typer.Typer) -> None:
    app.command("notice")(notice)
