"""`ropa demo`: a working register from the sample in data/sample/, and its outputs."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ropa import words
from ropa.cli import state
from ropa.cli.output import console
from ropa.errors import RopaError

if TYPE_CHECKING:
    from ropa.registry import Registry

#: The record is written as a workbook, a page and a PDF (the CSV holds part of the workbook).
DEMO_RECORD_FORMATS = ("xlsx", "html", "pdf")


def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for the outputs.")] = Path("exports"),
) -> None:
    """Create the database if needed, load the sample registry and write its outputs: the
    registry document, the check report, the record workbook and page, the privacy notice."""
    from ropa.checks import summary
    from ropa.exports import (
        FORMATS,
        Layout,
        export_document,
        export_record,
        formats_for,
        write_notice,
    )
    from ropa.io.document import read_document
    from ropa.io.files import STDOUT, write_text
    from ropa.io.findings import render_text
    from ropa.io.record_cells import RecordScope
    from ropa.reference import SAMPLE_DIR

    if str(out) == STDOUT:
        raise typer.BadParameter(
            "the demo writes a folder of files; give --out a folder", param_hint="--out"
        )
    document = FORMATS["yaml"]
    targets = {
        "document": out / document.file_name(Layout.document),
        "report": out / "check-report.txt",
        **{fmt: out / FORMATS[fmt].file_name(Layout.record) for fmt in DEMO_RECORD_FORMATS},
        **{
            f"notice-{f.name}": out / f.file_name(Layout.notice) for f in formats_for(Layout.notice)
        },
    }
    _check_outputs(out, list(targets.values()))  # before the database is created or loaded
    st = state()
    db = st.db
    say = console(stderr=True).print
    if not db.exists():
        db.init()
        say(f"created database {db.display_url}")
    sample = SAMPLE_DIR / "registry.yaml"
    documents = [(read_document(sample), str(sample))]
    _refuse_a_foreign_register(st.registry, documents)
    report = st.registry.import_documents(documents, message="ropa demo: load the sample registry")
    say(
        f"loaded {sample.name}: {sum(report.created.values())} created, "
        f"{sum(report.updated.values())} updated, {sum(report.unchanged.values())} unchanged"
    )
    out.mkdir(parents=True, exist_ok=True)
    written = [export_document(st.registry, document.name, targets["document"])]
    findings = st.registry.findings()
    written.append(write_text(targets["report"], render_text(findings)))
    for fmt in DEMO_RECORD_FORMATS:
        export_record(st.registry, fmt, targets[fmt], RecordScope())
        written.append(targets[fmt])
    notice = st.registry.notice()
    for notice_format in formats_for(Layout.notice):
        target = targets[f"notice-{notice_format.name}"]
        written.append(write_notice(notice, notice_format.name, target))
    for path in written:
        typer.echo(f"wrote {path}")
    activities = words.count(db.info()["counts"]["activities"], "activity")
    say(f"{activities} in {db.display_url}; {summary(findings)}")
    say("try `ropa activity list`, `ropa check` and the files above")


def _check_outputs(out: Path, targets: list[Path]) -> None:
    """Refuse, before anything is written, an --out that is not a folder (or a path to a new
    one) and an output file that could not be written (a folder in its place, say)."""
    from ropa.io.files import check_target

    existing = next((p for p in [out, *out.parents] if p.exists()), Path("."))
    if not existing.is_dir():
        raise typer.BadParameter(
            f"{existing} is a file; the demo writes a folder of files", param_hint="--out"
        )
    if out.is_dir():
        for target in targets:
            check_target(target)


def _refuse_a_foreign_register(registry: "Registry", documents: list) -> None:
    """Stop, changing nothing, when the database holds records that loading the sample would
    change: the demo never loads into someone's register (a second demo run changes nothing
    and goes ahead)."""
    counts = registry.db.info()["counts"]
    held = sum(n for table, n in counts.items() if table != "revisions")
    if not held:
        return
    would = registry.import_documents(documents, dry_run=True)
    if not would.changes:
        return
    raise RopaError(
        f"{registry.db.display_url} holds a register ({held} record{'s' * (held != 1)}) that "
        f"the sample would change ({would.changes} records); nothing was changed. Run the "
        "demo on a database "
        "of its own: `ropa --db demo.db demo --out demo-exports`"
    )


def register(app: typer.Typer, only: str | None = None) -> None:
    app.command("demo")(demo)
