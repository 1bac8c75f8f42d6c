"""The Article 30 record: its sheets and their columns, declared once, and the cells of each row.

Format-independent: every sheet is a list of :class:`Column` (header, band, width, how the
cell is made, date or not); headers, bands, widths and rows are derived from it. Cells are
readable (names and article labels, never codes; list items one per line). :func:`record_rows`
is the one way activities become rows; `xlsx_record`, `html_record` and :func:`controller_csv`
lay those rows out. Activities stream through one at a time.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cached_property
from typing import Any, NamedTuple

from ropa import reference, vocab
from ropa.checks import next_review
from ropa.io.record_cells import NOT_RECORDED, RecordBuilder
from ropa.io.safe_csv import SafeWriter
from ropa.wording import (
    describe_duration,
    dpo_contact,
    isolated,
    lines,
    representative_contact,
)

DEFAULT_WIDTH = 20
TITLE = "Record of processing activities (GDPR Article 30)"

#: How a cell is made: from the builder and the row's source (an activity, or one item of
#: an activity on the detail sheets).
Cell = Callable[["RecordBuilder", Any], object]


@dataclass(frozen=True)
class Column:
    """One column of a record sheet."""

    header: str
    value: Cell
    width: int = DEFAULT_WIDTH  # in characters: fitted to what the column usually holds
    band: str = ""  # the group named in the band row above the headers
    date: bool = False  # written as a real date
    #: The Art. 30 point the field answers on the activity pages ("" = other information).
    section: str = ""


class Ref(NamedTuple):
    """An item of a detail sheet that refers to a reference record: its key, and the record
    ({} when the key refers to nothing)."""

    key: str
    record: dict


@dataclass(frozen=True)
class Sheet:
    """A sheet of the record (a table of the CSV and HTML layouts)."""

    name: str
    columns: tuple[Column, ...]
    title: str = ""  # the HTML heading, when not the name
    #: None: one row per activity, every cell made from the activity. Otherwise one row per
    #: item of the activity; the first `lead` cells are made from the activity, the rest
    #: from the item.
    items: Callable[[RecordBuilder, dict], Iterable[Any]] | None = None
    lead: int = 0

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    @property
    def widths(self) -> list[int]:
        return [c.width for c in self.columns]

    @property
    def bands(self) -> list[tuple[str, int, int]]:
        """The band row: (label, first column, last column), 0-based, one per run of
        consecutive columns in the same band; empty when no column has a band."""
        out: list[tuple[str, int, int]] = []
        for i, column in enumerate(self.columns):
            if out and out[-1][0] == column.band:
                out[-1] = (column.band, out[-1][1], i)
            else:
                out.append((column.band, i, i))
        return [b for b in out if b[0]]

    @property
    def heading(self) -> str:
        return self.title or self.name

    @cached_property
    def cells(self) -> tuple[Cell, ...]:
        """How each column's cell is made, in order."""
        return tuple(c.value for c in self.columns)

    @cached_property
    def page_sections(self) -> tuple[tuple[str, tuple[tuple[int, str], ...]], ...]:
        """The activity pages of this sheet's rows: (heading, ((column, label), …)) in order,
        every column but the ID and name under the Art. 30 point it answers, the other
        information last."""
        groups: dict[str, list[tuple[int, str]]] = {}
        for i, column in enumerate(self.columns[2:], 2):
            groups.setdefault(column.section or OTHER, []).append((i, column.header))
        other = groups.pop(OTHER, [])
        sections = [(heading, tuple(fields)) for heading, fields in groups.items()]
        if other:
            sections.append((OTHER, tuple(other)))
        return tuple(sections)


def _key(b: RecordBuilder, a: dict) -> object:
    return a["key"]


def _name(b: RecordBuilder, a: dict) -> object:
    return a["name"]


def _day(value: object) -> date | None:
    """The day of a timestamp (plain SQL on SQLite gives it as text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.date() if isinstance(value, datetime) else None


ACTIVITY_ID = Column("Activity ID", _key, 18)
ACTIVITY_NAME = Column("Processing activity", _name, 28)

_ART30 = "Article 30(1) record"
_NOTICE = "Privacy notice"
_DPIA = "DPIA"
_REVIEW = "Review"

#: The headings of the activity pages: Art. 30(1)(a)-(g) and Art. 30(2)(a)-(d).
C_A = "Art. 30(1)(a) Controller, joint controllers and their contact details"
C_B = "Art. 30(1)(b) Purposes of the processing"
C_C = "Art. 30(1)(c) Categories of data subjects and of personal data"
C_D = "Art. 30(1)(d) Recipients"
C_E = "Art. 30(1)(e) Transfers to third countries or international organisations"
C_F = "Art. 30(1)(f) Time limits for erasure"
C_G = "Art. 30(1)(g) Technical and organisational security measures"
P_A = "Art. 30(2)(a) Processor, sub-processors, controllers and their contact details"
P_B = "Art. 30(2)(b) Categories of processing"
P_C = "Art. 30(2)(c) Transfers to third countries or international organisations"
P_D = "Art. 30(2)(d) Technical and organisational security measures"
OTHER = "Other information"


def _col(header: str, value: Cell, width: int, band: str, section: str = "") -> Column:
    return Column(header, value, width, band, section=section)


CONTROLLER = Sheet(
    "Controller record",
    title="Controller record (Art. 30(1))",
    columns=(
        replace(ACTIVITY_ID, band=_ART30),
        replace(ACTIVITY_NAME, band=_ART30),
        _col("Business function", lambda b, a: a["business_function"], 16, _ART30, C_A),
        _col("Controller", lambda b, a: b.name("party", a["controller"]), 18, _ART30, C_A),
        _col(
            "Joint controllers",
            lambda b, a: b.contacts(a["joint_controllers"]),
            22,
            _ART30,
            C_A,
        ),
        _col(
            "Joint controller arrangement",
            lambda b, a: a["joint_arrangement_link"],
            18,
            _ART30,
            C_A,
        ),
        _col(
            "Purposes of processing",
            lambda b, a: b.names("purpose", a["purposes"]),
            28,
            _ART30,
            C_B,
        ),
        _col(
            "Categories of data subjects",
            lambda b, a: b.names("subject", a["data_subjects"]),
            22,
            _ART30,
            C_C,
        ),
        _col(
            "Categories of personal data",
            lambda b, a: b.names("category", a["data_categories"]),
            24,
            _ART30,
            C_C,
        ),
        _col(
            "Special category or criminal offence data",
            lambda b, a: b.specials(a),
            22,
            _ART30,
            C_C,
        ),
        _col("Categories of recipients", lambda b, a: b.recipient_kinds(a), 18, _ART30, C_D),
        _col("Recipients", lambda b, a: b.names("party", a["recipients"]), 26, _ART30, C_D),
        _col(
            "Link to contract with processor",
            lambda b, a: b.contract_links(a["recipients"]),
            24,
            _ART30,
            C_D,
        ),
        _col(
            "Third countries or international organisations",
            lambda b, a: b.destinations(a),
            18,
            _ART30,
            C_E,
        ),
        _col("Transfer safeguards", lambda b, a: b.safeguards(a), 36, _ART30, C_E),
        _col(
            "Retention (time limits for erasure)",
            lambda b, a: b.retention(a),
            40,
            _ART30,
            C_F,
        ),
        _col(
            "Link to retention and erasure policy",
            lambda b, a: a["retention_policy_link"],
            18,
            _ART30,
            C_F,
        ),
        _col(
            "Technical and organisational security measures",
            lambda b, a: b.names("measure", a["measures"]),
            28,
            _ART30,
            C_G,
        ),
        Column(
            "Article 6 lawful basis",
            lambda b, a: lines(vocab.LAWFUL_BASES.label(c) for c in a["lawful_bases"]),
            22,
            _NOTICE,
        ),
        Column("Legal basis details", lambda b, a: a["legal_basis_details"], 24, _NOTICE),
        Column(
            "Article 9 condition",
            lambda b, a: lines(vocab.ART9_CONDITIONS.label(c) for c in a["art9_conditions"]),
            20,
            _NOTICE,
        ),
        Column("Article 10 basis", lambda b, a: a["art10_basis"], 20, _NOTICE),
        Column("Legitimate interests", lambda b, a: a["legitimate_interests"], 28, _NOTICE),
        Column("Legitimate interests assessment", lambda b, a: a["lia_link"], 20, _NOTICE),
        Column("Rights available to individuals", lambda b, a: b.rights(a), 18, _NOTICE),
        Column("Link to record of consent", lambda b, a: a["consent_record_link"], 18, _NOTICE),
        Column(
            "Source of personal data", lambda b, a: b.names("source", a["sources"]), 24, _NOTICE
        ),
        Column("Location of personal data", lambda b, a: b.locations(a), 24, _NOTICE),
        Column(
            "Automated decision-making",
            lambda b, a: a["automated_decisions"] or "None",
            16,
            _NOTICE,
        ),
        Column(
            "DPIA required",
            lambda b, a: vocab.DPIA_REQUIRED.get(a["dpia_required"]).label,
            10,
            _DPIA,
        ),
        Column(
            "DPIA status",
            lambda b, a: (
                vocab.DPIA_STATUSES.get(a["dpia_status"]).label if a["dpia_status"] else None
            ),
            11,
            _DPIA,
        ),
        Column("DPIA link", lambda b, a: a["dpia_link"], 18, _DPIA),
        Column("Status", lambda b, a: vocab.STATUSES.get(a["status"]).label, 9, _REVIEW),
        Column("Created", lambda b, a: _day(a.get("created_at")), 11, _REVIEW, date=True),
        Column("Last updated", lambda b, a: _day(a.get("updated_at")), 11, _REVIEW, date=True),
        Column("Last reviewed", lambda b, a: a["last_reviewed"], 11, _REVIEW, date=True),
        Column("Next review due", lambda b, a: next_review(a), 11, _REVIEW, date=True),
    ),
)

PROCESSOR = Sheet(
    "Processor record",
    title="Processor record (Art. 30(2))",
    columns=(
        ACTIVITY_ID,
        ACTIVITY_NAME,
        _col("Processor", lambda b, a: b.party_contact(a["controller"]), 26, "", P_A),
        _col("Sub-processors", lambda b, a: b.contacts(a["sub_processors"]), 26, "", P_A),
        _col(
            "Controllers on whose behalf we act",
            lambda b, a: b.contacts(a["processor_for"]),
            30,
            "",
            P_A,
        ),
        _col(
            "Categories of processing",
            lambda b, a: lines([b.names("purpose", a["purposes"]), a["description"]]),
            40,
            "",
            P_B,
        ),
        _col(
            "Third countries or international organisations",
            lambda b, a: b.destinations(a),
            18,
            "",
            P_C,
        ),
        _col("Transfer safeguards", lambda b, a: b.safeguards(a), 36, "", P_C),
        _col(
            "Technical and organisational security measures",
            lambda b, a: b.names("measure", a["measures"]),
            28,
            "",
            P_D,
        ),
        _col(
            "Data protection officer",
            lambda b, a: b.processor_contact(a, dpo_contact),
            24,
            "",
            P_A,
        ),
        _col(
            "Representative",
            lambda b, a: b.processor_contact(a, representative_contact),
            24,
            "",
            P_A,
        ),
    ),
)


def _detail(name: str, items: Callable[[RecordBuilder, dict], Iterable[Any]], *columns: Column):
    """A detail sheet: one row per item, after the activity's ID and name."""
    return Sheet(name, (ACTIVITY_ID, ACTIVITY_NAME, *columns), items=items, lead=2)


def _refs(kind: str, field_name: str) -> Callable[[RecordBuilder, dict], Iterator[Ref]]:
    def items(b: RecordBuilder, a: dict) -> Iterator[Ref]:
        records = b.references[kind]
        return (Ref(key, records.get(key, {})) for key in a[field_name])

    return items


def _label(codes: vocab.CodeList, code: str | None) -> str | None:
    return codes.get(code).label if code else None


DETAILS = (
    _detail(
        "Transfers",
        lambda b, a: a["transfers"],
        Column("Country or organisation", lambda b, t: b.destination(t), 20),
        Column("Recipient", lambda b, t: b.name("party", t["recipient"]), 26),
        Column(
            "Transfer mechanism",
            lambda b, t: (
                vocab.TRANSFER_MECHANISMS.label(t["mechanism"]) if t["mechanism"] else None
            ),
            28,
        ),
        Column("Safeguard documentation", lambda b, t: t["details"], 36),
        Column("Safeguard document", lambda b, t: t["document_link"], 20),
        Column("Transfer impact assessment", lambda b, t: t["tia_link"], 20),
    ),
    _detail(
        "Retention",
        lambda b, a: a["retention"],
        Column("Data category", lambda b, r: b.name("category", r["data_category"]) or "All", 24),
        Column(
            "Retention period",
            lambda b, r: describe_duration(r["duration"]) if r["duration"] else None,
            14,
        ),
        Column("Runs from", lambda b, r: r["trigger"], 20),
        Column("At the end", lambda b, r: _label(vocab.RETENTION_ACTIONS, r["action"]), 11),
        Column("Criteria", lambda b, r: r["criteria"], 40),
        Column("Legal reference", lambda b, r: r["legal_reference"], 20),
    ),
    _detail(
        "Recipients",
        _refs("party", "recipients"),
        Column("Recipient", lambda b, p: b.name("party", p.key), 26),
        Column(
            "Category of recipient",
            lambda b, p: vocab.PARTY_KINDS.get(p.record["kind"]).label if p.record else None,
            18,
        ),
        Column(
            "Country",
            lambda b, p: (
                reference.country_name(p.record["country"]) if p.record.get("country") else None
            ),
            14,
        ),
        Column("Contract (Art. 28)", lambda b, p: p.record.get("contract_link"), 20),
        Column(
            "EU-US Data Privacy Framework",
            lambda b, p: "Yes" if p.record.get("dpf_certified") else None,
            12,
        ),
    ),
    _detail(
        "Data categories",
        _refs("category", "data_categories"),
        Column("Data category", lambda b, c: b.name("category", c.key), 24),
        Column("Special category", lambda b, c: b.special_title(c.key) or "No", 22),
        Column("Description", lambda b, c: c.record.get("description"), 40),
    ),
    _detail(
        "Data subjects",
        _refs("subject", "data_subjects"),
        Column("Data subject category", lambda b, s: b.name("subject", s.key), 24),
        Column("Vulnerable", lambda b, s: "Yes" if s.record.get("vulnerable") else "No", 10),
        Column("Description", lambda b, s: s.record.get("description"), 40),
    ),
    _detail(
        "Security measures",
        _refs("measure", "measures"),
        Column("Security measure", lambda b, m: b.name("measure", m.key), 28),
        Column("Kind", lambda b, m: _label(vocab.MEASURE_KINDS, m.record.get("kind")), 14),
        Column("Description", lambda b, m: m.record.get("description"), 40),
    ),
    _detail(
        "Systems",
        _refs("system", "systems"),
        Column("System", lambda b, s: b.name("system", s.key), 26),
        Column("Provider", lambda b, s: b.name("party", s.record.get("provider")), 24),
        Column(
            "Hosting countries",
            lambda b, s: ", ".join(
                reference.country_name(c) for c in s.record.get("countries", [])
            ),
            20,
        ),
    ),
)

#: The headers of each sheet, derived from the declarations above.
CONTROLLER_HEADERS = CONTROLLER.headers
PROCESSOR_HEADERS = PROCESSOR.headers
DETAIL_HEADERS = {sheet.name: sheet.headers for sheet in DETAILS}


def record_sheets(roles: Iterable[str] = ("controller", "processor")) -> list[Sheet]:
    """The sheets of the record for these roles ("controller", "processor"), in order."""
    wanted = set(roles)
    main = [
        s for role, s in (("controller", CONTROLLER), ("processor", PROCESSOR)) if role in wanted
    ]
    return [*main, *DETAILS]


def record_rows(
    builder: RecordBuilder,
    activities: Iterable[dict],
    roles: Iterable[str] = ("controller", "processor"),
    details: bool | Iterable[str] = True,
) -> Iterator[tuple[Sheet, list]]:
    """(sheet, row) for every row the activities give, in order: a processor activity on the
    processor record, any other on the controller record (when that role is wanted), then
    its items on the detail sheets (all, none when `details` is false, or those named)."""
    wanted = set(roles)
    detail_sheets = (
        DETAILS if details is True else [s for s in DETAILS if details and s.name in details]
    )
    # The one loop that makes every cell of the record: each sheet's cell functions are
    # looked up once, not per row.
    plan = [(s, s.items, s.cells[: s.lead], s.cells[s.lead :]) for s in detail_sheets]
    controller, processor = CONTROLLER.cells, PROCESSOR.cells
    for activity in activities:
        if activity["role"] == "processor":
            if "processor" not in wanted:
                continue
            yield PROCESSOR, [cell(builder, activity) for cell in processor]
        else:
            if "controller" not in wanted:
                continue
            yield CONTROLLER, [cell(builder, activity) for cell in controller]
        for sheet, items, lead, rest in plan:
            head = [cell(builder, activity) for cell in lead]
            for item in items(builder, activity):
                yield sheet, head + [cell(builder, item) for cell in rest]


@dataclass(frozen=True)
class ActivityPage:
    """One activity as a page of the record: a heading, then label/value pairs under the
    Art. 30 headings (then the other information), from the activity's row on its sheet."""

    key: str
    name: str
    record: str  # the record the activity is on: "Controller record (Art. 30(1))"
    sections: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]

    @property
    def title(self) -> str:
        return f"{isolated(self.name)} ({self.key})"


def page_text(value: object) -> str:
    """A value as the activity pages show it: dates in ISO form, nothing as "Not recorded"."""
    if value is None or value == "":
        return NOT_RECORDED
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def activity_page(sheet: Sheet, row: list) -> ActivityPage:
    """The page of an activity, from its row on the controller or processor record: every
    column but the ID and name is a field, grouped by the Art. 30 point it answers."""
    if len(row) != len(sheet.columns):
        raise ValueError(
            f"a row of {len(row)} cells on {sheet.name}, which has {len(sheet.columns)} columns"
        )
    sections = []
    for heading, fields in sheet.page_sections:
        values = []
        for i, label in fields:
            value = row[i]
            values.append((label, value if type(value) is str and value else page_text(value)))
        sections.append((heading, tuple(values)))
    return ActivityPage(str(row[0]), str(row[1]), sheet.heading, tuple(sections))


def page_labels(sheet: Sheet) -> list[str]:
    """The field labels of the activity pages of a sheet's activities."""
    return [c.header for c in sheet.columns[2:]]


def controller_csv(builder: RecordBuilder, activities: Iterable[dict]) -> Iterator[str]:
    """The controller record as CSV: UTF-8 with BOM (Excel opens it right), CRLF line ends,
    formula-safe cells; one chunk of text at a time."""
    rows = (row for _, row in record_rows(builder, activities, ("controller",), details=False))
    return csv_chunks(rows, CONTROLLER.headers)


def csv_chunks(rows: Iterable[list], headers: list[str]) -> Iterator[str]:
    """A table as CSV (BOM, CRLF, formula-safe cells), in chunks of about 64 KB."""
    out = io.StringIO()
    writer = SafeWriter(out)
    out.write("\ufeff")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(row)
        if out.tell() > 65536:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()
