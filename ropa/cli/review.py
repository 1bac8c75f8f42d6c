"""`ropa review status|pack|import`: the annual review with the activity owners."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from ropa import words
from ropa.cli import state
from ropa.cli.files import ReportFormat
from ropa.cli.output import Format, console, write_csv

if TYPE_CHECKING:
    from ropa.review import ReturnedPack

review_app = typer.Typer(
    no_args_is_help=True,
    help="The annual review: who is due, packs for the owners, and their answers back in.",
)

OwnerOption = typer.Option(
    "--owner", help="Only this owner's activities (the owner field, any case).", show_default=False
)


#: The columns of `review status --format csv` (and the keys of its JSON and YAML rows).
_STATUS_COLUMNS = (
    "owner", "activity", "name", "last_reviewed", "next_review", "overdue", "due_soon"
)  # fmt: skip


@review_app.command("status")
def review_status(
    owner: Annotated[list[str] | None, OwnerOption] = None,
    entity: Annotated[
        list[str] | None,
        typer.Option(
            "--entity",
            metavar="KEY",
            help="Only this group member's activities (key or name).",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        Literal[Format.table, Format.json, Format.csv, Format.yaml],
        typer.Option("--format", "-f", help="Output format; json, csv and yaml are for scripts."),
    ] = Format.table,
) -> None:
    """Per owner, the activities (not retired): how many are overdue, how many fall due
    within 30 days, and when each was last reviewed."""
    from ropa.review import status

    owners = status(state().registry, owner, entity)
    if fmt is Format.table:
        _status_table(owners)
        return
    rows = [
        dict(
            zip(
                _STATUS_COLUMNS,
                (group.owner, a.key, a.name, a.last_reviewed, a.next_review, a.overdue, a.due_soon),
                strict=True,
            )
        )
        for group in owners
        for a in group.activities
    ]
    if fmt is Format.csv:
        write_csv(list(_STATUS_COLUMNS), ([_text(v) for v in r.values()] for r in rows))
        return
    from ropa.io.document import dumps

    typer.echo(dumps(rows, fmt.value), nl=False)


def _text(value: object) -> str:
    if value is None or value is False:
        return ""
    return "yes" if value is True else str(value)


def _status_table(owners: list) -> None:
    from rich.table import Table

    out = console()
    summary = Table(header_style="bold", title="Reviews by owner")
    for column in ("owner", "activities", "overdue", "due within 30 days"):
        summary.add_column(column, justify="left" if column == "owner" else "right")
    for group in owners:
        summary.add_row(
            group.label, str(len(group.activities)), str(group.overdue), str(group.due_soon)
        )
    out.print(summary)
    details = Table(header_style="bold")
    for column in ("owner", "activity", "last reviewed", "next review", "state"):
        details.add_column(column, overflow="fold")
    for group in owners:
        for a in group.activities:
            state_text = "overdue" if a.overdue else "due soon" if a.due_soon else ""
            details.add_row(
                group.label,
                a.key,
                a.last_reviewed.isoformat() if a.last_reviewed else "never",
                a.next_review.isoformat() if a.next_review else "now",
                state_text,
            )
    out.print(details)
    total = sum(len(g.activities) for g in owners)
    overdue = sum(g.overdue for g in owners)
    out.print(f"{words.count(total, 'activity')}, {overdue} overdue")


@review_app.command("pack")
def review_pack(
    owner: Annotated[
        str | None,
        typer.Option("--owner", help="One pack of this owner's activities.", show_default=False),
    ] = None,
    per_owner: Annotated[
        bool,
        typer.Option(
            "--per-owner",
            help="One pack per owner in the folder given by -o, and review-request.csv "
            "(owner, activities, overdue, pack) for a mail merge.",
        ),
    ] = False,
    due_within: Annotated[
        str | None,
        typer.Option(
            "--due-within",
            metavar="DURATION",
            help="Only activities overdue or due within this (30d, 8w, 3m, 1y).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Workbook to write (default: exports/review-OWNER.xlsx); a folder with "
            "--per-owner (default: exports/)",
        ),
    ] = None,
) -> None:
    """Review packs: each owner's activities (not retired) in the data layout with
    `review`, `reviewer` and `comment` columns, and their printable pages."""
    from ropa.cli.files import _default_folder
    from ropa.review import safe_name, write_packs

    if owner and per_owner:
        raise typer.BadParameter("give --owner or --per-owner, not both")
    if out is not None and str(out) == "-":
        what = "--per-owner writes a folder of files" if per_owner else "a pack is a workbook"
        raise typer.BadParameter(f"{what}, not standard output; give -o a path", param_hint="-o")
    if per_owner:
        target = out or _default_folder()
    else:
        from ropa.exports import refuse_other_suffix

        target = out or _default_folder() / f"review-{safe_name(owner) if owner else 'pack'}.xlsx"
        refuse_other_suffix("xlsx", target)  # a pack is a workbook
    packs = write_packs(state().registry, target, owner, per_owner, due_within)
    say = console(stderr=True).print
    for pack in packs:
        who = pack.owner or ("no owner" if per_owner else "all owners")
        say(
            f"wrote {pack.path} ({who}: {words.count(pack.activities, 'activity')}, "
            f"{pack.overdue} overdue)"
        )
    if per_owner:
        say(f"wrote {target / 'review-request.csv'}")
    if not packs or not any(p.activities for p in packs):
        say("no activities to review")


@review_app.command("import")
def review_import(
    files: Annotated[list[Path], typer.Argument(help="Returned review packs (.xlsx); - for stdin")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and report; change nothing.")
    ] = False,
    skip_stale: Annotated[
        bool,
        typer.Option(
            "--skip-stale",
            help="Apply the other rows when some activities changed since their pack was "
            "made (those are listed and left alone).",
        ),
    ] = False,
    report_format: Annotated[
        ReportFormat | None,
        typer.Option("--report", help="json: the whole report on stdout as one JSON object."),
    ] = None,
) -> None:
    """Apply returned packs, all or nothing: confirmed rows set last_reviewed, changed rows
    apply their edited cells (empty cells keep values) and set last_reviewed, retire rows
    retire the activity; the reviewer and comment go to the history."""
    from ropa.cli.files import print_report
    from ropa.review import read_pack

    packs = []
    for path in files:
        if str(path) == "-":
            packs.append(_pack_from_stdin())
            continue
        if not path.is_file():
            from ropa.errors import RopaError

            raise RopaError(f"{path}: {'is a folder' if path.is_dir() else 'no such file'}")
        packs.append(read_pack(path, str(path)))
    outcome = state().registry.apply_review(packs, dry_run=dry_run, skip_stale=skip_stale)
    say = console(stderr=True).print
    for where, key, verb, who in outcome.stale:
        say(f"skipped {where}: activity {key} {verb} since the pack was made, by {who}")
    assert outcome.report is not None
    from ropa.review import REVIEW_VALUES

    review = {value: outcome.reviewed.get(value, 0) for value in REVIEW_VALUES}
    review["not_reviewed"] = outcome.not_reviewed
    review["stale"] = [
        {"where": where, "activity": key, "removed": verb == "was removed", "changed_by": who}
        for where, key, verb, who in outcome.stale
    ]
    print_report(outcome.report, report_format, dry_run, {"review": review})
    counts = ", ".join(f"{n} {review}" for review, n in sorted(outcome.reviewed.items()))
    say(
        f"reviewed: {counts or 'none'}; not reviewed: {outcome.not_reviewed}"
        + (f"; stale, skipped: {len(outcome.stale)}" if outcome.stale else "")
    )


def _pack_from_stdin() -> "ReturnedPack":
    """A returned pack read from stdin (`-`): held in a temporary file while it is read."""
    import sys
    import tempfile

    from ropa import limits
    from ropa.errors import RopaError
    from ropa.review import read_pack

    limit = limits.megabytes(limits.INPUT_SIZE)
    data = sys.stdin.buffer.read(limit + 1)
    if len(data) > limit:
        raise RopaError(f"<stdin>: {limits.INPUT_SIZE.refusal()}")
    if not data:
        raise RopaError("<stdin>: nothing to read; give a returned pack (.xlsx)")
    with tempfile.TemporaryDirectory(prefix="ropa-review-") as folder:
        path = Path(folder) / "stdin.xlsx"
        path.write_bytes(data)
        return read_pack(path, "<stdin>")


def register(app: typer.Typer, only: str | None = None) -> None:
    app.add_typer(review_app, name="review")
