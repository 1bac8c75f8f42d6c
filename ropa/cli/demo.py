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
    from ropa.io.files import write_text
    from ropa.io.findings import render_text
    from ropa.io.record_cells import RecordScope
    from ropa.reference import SAMPLE_DIR

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
    document = FORMATS["yaml"]
    written = [
        export_document(st.registry, document.name, out / document.file_name(Layout.document))
    ]
    findings = st.registry.findings()
    written.append(write_text(out / "check-report.txt", render_text(findings)))
    for fmt in DEMO_RECORD_FORMATS:
        target = out / FORMATS[fmt].file_name(Layout.record)
        export_record(st.registry, fmt, target, RecordScope())
        written.append(target)
    notice = st.registry.notice()
    for notice_format in formats_for(Layout.notice):
        target = out / notice_format.file_name(Layout.notice)
        written.append(write_notice(notice, notice_format.name, target))
    for path in written:
        typer.echo(f"wrote {path}")
    activities = words.count(db.info()["counts"]["activities"], "activity")
    say(f"{activities} in {db.display_url}; {summary(findings)}")
    say("try `ropa activity list`, `ropa check` and the files above")


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


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
