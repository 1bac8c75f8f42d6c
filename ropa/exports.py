"""Writing the register's outputs to files: whole or not at all."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ropa.errors import RopaError
from ropa.io.files import replacing, write_text

if TYPE_CHECKING:
    from ropa.checks import Finding
    from ropa.io.article30 import RecordScope
    from ropa.registry import Registry

RECORD_FORMATS = ("xlsx", "csv", "html")


def export_record(
    registry: Registry,
    fmt: str,
    target: Path,
    scope: RecordScope,
    findings: list[Finding] | None = None,
    track: Callable[[Iterator[dict], int], Iterator[dict]] | None = None,
) -> tuple[int, list[str]]:
    """Write the Article 30 record of a scope as xlsx, csv (the controller record) or html.
    `track(activities, count)` may wrap the activities as they stream (a progress bar).
    Returns the number of activities and warnings about cells that had to be cut."""
    sheets = (scope.role,) if scope.role else ("controller", "processor")
    warnings: list[str] = []
    with registry.record(scope) as (cover, builder, activities):
        if track is not None:
            activities = track(activities, cover.activities)
        if fmt == "xlsx":
            from ropa.io.xlsx_record import write_record_workbook

            with replacing(target) as temporary:
                report = write_record_workbook(
                    temporary, cover, builder, activities, sheets, findings
                )
            warnings = report.cut
        elif fmt == "csv":
            from ropa.io.article30 import controller_csv

            write_text(target, controller_csv(builder, activities))
        elif fmt == "html":
            from ropa.io.html_record import record_html

            write_text(target, record_html(cover, builder, activities, sheets))
        else:
            raise RopaError(f"unknown record format {fmt!r}; choose {', '.join(RECORD_FORMATS)}")
    return cover.activities, warnings


def export_data(registry: Registry, fmt: str, target: Path) -> dict[str, int]:
    """Write the register in the data layout: an xlsx workbook, or a folder of CSV files
    (created when missing). Returns the rows written per sheet."""
    from ropa.io.data_layout import write_data_csv, write_data_workbook

    with registry.document_sections() as sections:
        if fmt == "xlsx":
            with replacing(target) as temporary:
                return write_data_workbook(temporary, sections)
        if fmt != "csv":
            raise RopaError(f"the data layout is written as xlsx or csv, not {fmt}")
        if target.exists() and not target.is_dir():
            raise RopaError(f"{target} is a file; the data layout as CSV needs a folder (-o DIR)")
        if not target.parent.is_dir():
            raise RopaError(f"folder {target.parent} does not exist")
        target.mkdir(exist_ok=True)
        return write_data_csv(target, sections)


def export_document(registry: Registry, fmt: str, target: Path | None) -> Path | None:
    """Write the registry document as yaml or json to a file, or to stdout when target is
    None; read and written piece by piece."""
    import sys

    from ropa.io.document import json_chunks, yaml_chunks

    chunks = yaml_chunks if fmt == "yaml" else json_chunks
    with registry.document_sections() as sections:
        if target is None:
            sys.stdout.writelines(chunks(sections))
            return None
        return write_text(target, chunks(sections))
