"""The register's output formats, declared once, and writing outputs to files: whole or not
at all.

:data:`FORMATS` is the one registry of formats: each :class:`ExportFormat` names its file
suffix and a writer for every layout it supports (the Article 30 record, the data layout,
the registry document, the privacy notice). The `export` commands, `ropa notice` and
`ropa demo` read it; the writers import their file-format modules only when they run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ropa.db import fold_case
from ropa.errors import BadOption, RopaError
from ropa.io.files import replacing, write_text

if TYPE_CHECKING:
    from ropa.checks import Finding
    from ropa.io.record_cells import Cover, RecordBuilder, RecordScope
    from ropa.notice import Notice
    from ropa.registry import Registry

    Sections = Iterator[tuple[str, Iterator[list[dict]]]]


class Layout(StrEnum):
    """What an output holds."""

    record = "record"  # the Article 30 record, for auditors and supervisory authorities
    data = "data"  # the whole register, one sheet per kind, for editing and re-import
    document = "document"  # the registry document (registry as code)
    notice = "notice"  # the privacy notice
    interchange = "interchange"  # the register in another vocabulary: Fides, W3C DPV


#: Writes the record to a file: (target, cover, builder, activities, sheets, findings) ->
#: warnings about cells that had to be cut.
RecordWriter = Callable[
    [Path, "Cover", "RecordBuilder", Iterable[dict], tuple[str, ...], "list[Finding] | None"],
    list[str],
]
#: Writes the data layout to a file or folder: (target, sections) -> rows per sheet.
DataWriter = Callable[[Path, "Sections"], dict[str, int]]
#: The registry document as text, chunk by chunk: (sections) -> chunks.
DocumentWriter = Callable[["Sections"], Iterable[str]]
#: The privacy notice as text, chunk by chunk.
NoticeWriter = Callable[["Notice"], Iterable[str]]
#: The register in another vocabulary: (registry document, entity key or None, target
#: suffix) -> (text, warnings about what the vocabulary cannot hold).
InterchangeWriter = Callable[[dict, "str | None", str], tuple[str, list[str]]]


@dataclass(frozen=True)
class ExportFormat:
    """One output format: its name, file suffix and a writer for each layout it supports."""

    name: str
    suffix: str
    record: RecordWriter | None = None
    data: DataWriter | None = None
    document: DocumentWriter | None = None
    notice: NoticeWriter | None = None
    interchange: InterchangeWriter | None = None
    data_in_folder: bool = False  # the data layout is a folder of files, not one file
    also: tuple[str, ...] = ()  # other suffixes a file in this format may have

    @property
    def suffixes(self) -> tuple[str, ...]:
        return (self.suffix, *self.also)

    @property
    def layouts(self) -> tuple[Layout, ...]:
        return tuple(layout for layout in Layout if getattr(self, layout.value) is not None)

    def file_name(self, layout: Layout, entity: str | None = None) -> str:
        """The default file (or folder) name of an output in this format."""
        if layout is Layout.record:
            return f"ropa-record{f'-{entity}' if entity else ''}{self.suffix}"
        if layout is Layout.data:
            return "ropa-data" if self.data_in_folder else f"ropa-data{self.suffix}"
        if layout is Layout.notice:
            return f"privacy-notice{self.suffix}"
        if layout is Layout.interchange:
            return f"ropa-{self.name}{self.suffix}"
        return f"registry{self.suffix}"


def _record_xlsx(target, cover, builder, activities, sheets, findings) -> list[str]:
    from ropa.io.xlsx_record import write_record_workbook

    with replacing(target) as temporary:
        report = write_record_workbook(temporary, cover, builder, activities, sheets, findings)
    return report.cut


def _record_csv(target, cover, builder, activities, sheets, findings) -> list[str]:
    from ropa.io.article30 import controller_csv

    write_text(target, controller_csv(builder, activities))
    return []


def _record_html(target, cover, builder, activities, sheets, findings) -> list[str]:
    from ropa.io.html_record import record_html

    write_text(target, record_html(cover, builder, activities, sheets))
    return []


def _record_pdf(target, cover, builder, activities, sheets, findings) -> list[str]:
    from ropa.io.pdf import write_record_pdf

    with replacing(target) as temporary:
        return write_record_pdf(temporary, cover, builder, activities, sheets)


def _data_xlsx(target: Path, sections: Sections) -> dict[str, int]:
    from ropa.io.data_layout import write_data_workbook

    with replacing(target) as temporary:
        return write_data_workbook(temporary, sections)


def _data_csv(target: Path, sections: Sections) -> dict[str, int]:
    from ropa.io.data_layout import write_data_csv
    from ropa.io.files import output_folder

    return write_data_csv(output_folder(target, "the data layout as CSV"), sections)


def _document_yaml(sections: Sections) -> Iterable[str]:
    from ropa.io.document import yaml_chunks

    return yaml_chunks(sections)


def _document_json(sections: Sections) -> Iterable[str]:
    from ropa.io.document import json_chunks

    return json_chunks(sections)


def _notice_markdown(notice: Notice) -> Iterable[str]:
    from ropa.notice import markdown_chunks

    return markdown_chunks(notice)


def _notice_html(notice: Notice) -> Iterable[str]:
    from ropa.notice import html_chunks

    return html_chunks(notice)


def _interchange_fides(document: dict, entity: str | None, suffix: str) -> tuple[str, list[str]]:
    from ropa.interop.fides_export import fides_manifest, manifest_text, validate_manifest

    manifest, warnings = fides_manifest(document, entity)
    validate_manifest(manifest)
    return manifest_text(manifest, suffix), warnings


def _interchange_jsonld(document: dict, entity: str | None, suffix: str) -> tuple[str, list[str]]:
    from ropa.interop.dpv import dpv_jsonld

    return dpv_jsonld(document, entity), []


#: Every output format, by name.
FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("yaml", ".yaml", document=_document_yaml, also=(".yml",)),
        ExportFormat("json", ".json", document=_document_json),
        ExportFormat("xlsx", ".xlsx", record=_record_xlsx, data=_data_xlsx),
        ExportFormat("csv", ".csv", record=_record_csv, data=_data_csv, data_in_folder=True),
        ExportFormat("markdown", ".md", notice=_notice_markdown, also=(".markdown",)),
        ExportFormat("html", ".html", record=_record_html, notice=_notice_html, also=(".htm",)),
        ExportFormat("pdf", ".pdf", record=_record_pdf),
        ExportFormat("fides", ".yml", interchange=_interchange_fides, also=(".yaml", ".json")),
        ExportFormat("jsonld", ".jsonld", interchange=_interchange_jsonld, also=(".json",)),
    )
}


def refuse_other_suffix(fmt: str, target: Path) -> None:
    """A file named for another format is refused (`export yaml -o x.json` wrote YAML into
    it, `notice -o n.pdf` Markdown); a suffix no format has (`.txt`, none) is the user's."""
    suffix = target.suffix.lower()
    if suffix in FORMATS[fmt].suffixes:
        return
    named_for = [f.name for f in FORMATS.values() if suffix in f.suffixes]
    if named_for:
        raise RopaError(
            f"{target} is named for {named_for[0]} but would hold {fmt}; "
            f"name it *{FORMATS[fmt].suffix}"
        )


def formats_for(layout: Layout) -> list[ExportFormat]:
    """The formats that support a layout, in the registry's order."""
    return [f for f in FORMATS.values() if layout in f.layouts]


def export_record(
    registry: Registry,
    fmt: str,
    target: Path,
    scope: RecordScope,
    findings: list[Finding] | None = None,
    track: Callable[[Iterator[dict], int], Iterator[dict]] | None = None,
    filters: Mapping[str, Any] | None = None,
) -> tuple[int, list[str]]:
    """Write the Article 30 record of a scope as xlsx, csv (the controller record), html or
    pdf, of the activities the `filters` of `activity list` take (all without them).
    `track(activities, count)` may wrap the activities as they stream (a progress bar).
    Returns the number of activities and warnings about cells that had to be cut."""
    writer = FORMATS[fmt].record if fmt in FORMATS else None
    if writer is None:
        choices = ", ".join(f.name for f in formats_for(Layout.record))
        raise RopaError(f"unknown record format {fmt!r}; choose {choices}")
    refuse_other_suffix(fmt, target)
    sheets = (scope.role,) if scope.role else ("controller", "processor")
    with registry.record(scope, filters) as (cover, builder, activities):
        if track is not None:
            activities = track(activities, cover.activities)
        warnings = writer(target, cover, builder, activities, sheets, findings)
    return cover.activities, warnings


def export_data(registry: Registry, fmt: str, target: Path) -> dict[str, int]:
    """Write the register in the data layout: an xlsx workbook, or a folder of CSV files
    (created when missing). Returns the rows written per sheet."""
    writer = FORMATS[fmt].data if fmt in FORMATS else None
    if writer is None:
        choices = " or ".join(f.name for f in formats_for(Layout.data))
        raise RopaError(f"the data layout is written as {choices}, not {fmt}")
    if not FORMATS[fmt].data_in_folder:
        refuse_other_suffix(fmt, target)
    with registry.document_sections() as sections:
        return writer(target, sections)


def export_document(registry: Registry, fmt: str, target: Path | None) -> Path | None:
    """Write the registry document as yaml or json to a file, or to stdout when target is
    None; read and written piece by piece."""
    import sys

    writer = FORMATS[fmt].document if fmt in FORMATS else None
    if writer is None:
        choices = " or ".join(f.name for f in formats_for(Layout.document))
        raise RopaError(f"the registry document is written as {choices}, not {fmt}")
    if target is not None:
        refuse_other_suffix(fmt, target)
    with registry.document_sections() as sections:
        if target is None:
            sys.stdout.writelines(writer(sections))
            return None
        return write_text(target, writer(sections))


def write_notice(notice: Notice, fmt: str, target: Path | None) -> Path | None:
    """Write the privacy notice as markdown or html, as it is rendered, to a file or to
    stdout when target is None."""
    import sys

    writer = FORMATS[fmt].notice if fmt in FORMATS else None
    if writer is None:
        choices = " or ".join(f.name for f in formats_for(Layout.notice))
        raise RopaError(f"the privacy notice is written as {choices}, not {fmt}")
    if target is None:
        sys.stdout.writelines(writer(notice))
        return None
    refuse_other_suffix(fmt, target)
    return write_text(target, writer(notice))


def export_interchange(
    registry: Registry, fmt: str, target: Path | None, entity: str | None = None
) -> list[str]:
    """Write the register (or one group member's activities, `entity` a key or name) as a
    Fides manifest (YAML, or JSON for a .json target) or as W3C DPV JSON-LD, to a file or
    to stdout when target is None. Returns warnings about what the format cannot hold."""
    import sys

    writer = FORMATS[fmt].interchange if fmt in FORMATS else None
    if writer is None:
        choices = " or ".join(f.name for f in formats_for(Layout.interchange))
        raise RopaError(f"the register is exchanged as {choices}, not {fmt}")
    if target is not None:
        refuse_other_suffix(fmt, target)
    document = registry.document()
    if entity is not None:
        entity = _entity_key(document, entity)
    suffix = target.suffix.lower() if target is not None else FORMATS[fmt].suffix
    text, warnings = writer(document, entity, suffix)
    if target is None:
        sys.stdout.write(text)
    else:
        write_text(target, text)
    return warnings


def _entity_key(document: dict, entity: str) -> str:
    """The key of the group member that --entity names, by key or name."""
    members = [p for p in document.get("parties", []) if p.get("kind") == "group-member"]
    for party in members:
        if entity == party["key"] or fold_case(entity) == fold_case(party["name"]):
            return party["key"]
    known = ", ".join(p["key"] for p in members) or "none"
    raise BadOption(f"--entity: no group member {entity!r} (group members: {known})")
