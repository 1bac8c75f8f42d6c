"""The sheets of the data layout: one per kind, plus the transfers and retention rows of
activities; the code lists their drop-downs offer and the text of the instructions sheet."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from ropa import reference
from ropa.schema import ACTIVITY, KINDS, Field, Kind, T
from ropa.validate import closest

#: Sheets a data-layout workbook may have besides the data: ignored by an import.
INSTRUCTIONS = "instructions"
LISTS = "lists"
GROUP_MEMBERS = "group members"  # the list of party keys a controller cell offers
XLSX_SEPARATOR = "\n"
CSV_SEPARATOR = ";"


@dataclass(frozen=True)
class Sheet:
    """One table of the data layout: a kind's records, or the transfers or retention rows of
    activities (`nested` is then that list field)."""

    name: str
    kind: Kind
    nested: Field | None = None

    @property
    def key_column(self) -> str:
        return "activity" if self.nested else "key"

    @cached_property
    def fields(self) -> list[Field]:
        """The fields of the columns, in column order (`activity` is a reference)."""
        if self.nested:
            return [ACTIVITY_COLUMN, *self.nested.nested]
        return [f for f in self.kind.fields if f.type is not T.NESTED]

    @cached_property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]


ACTIVITY_COLUMN = Field("activity", T.REF, "The activity the row belongs to", ref="activity")

#: The sheets in workbook order.
SHEETS: tuple[Sheet, ...] = (
    Sheet("activities", ACTIVITY),
    Sheet("transfers", ACTIVITY, ACTIVITY.field("transfers")),
    Sheet("retention", ACTIVITY, ACTIVITY.field("retention")),
    *(Sheet(k.section, k) for k in KINDS.values() if k is not ACTIVITY),
)
BY_NAME = {s.name: s for s in SHEETS}


def sheet_for_kind(kind: str) -> Sheet:
    """The sheet of a kind or sheet name given by the user ("party", "parties", "transfers")."""
    from ropa.errors import RopaError

    if kind in BY_NAME:
        return BY_NAME[kind]
    if kind in KINDS:
        return BY_NAME[KINDS[kind].section]
    choices = [*KINDS, "transfers", "retention"]
    raise RopaError(
        f"unknown kind {kind!r}{closest(kind, choices)}; choose one of {', '.join(choices)}"
    )


def coded_choices() -> dict[str, list[str]]:
    """The allowed values of every coded column, by list name: the drop-downs' sources
    (taken from the fields' code lists)."""
    lists = {f.codes.name: f.codes.values for s in SHEETS for f in s.fields if f.codes}
    lists["country"] = countries()
    lists["yes/no"] = ["yes", "no"]
    return lists


def countries() -> list[str]:
    import pycountry

    return [*sorted(c.alpha_2 for c in pycountry.countries), reference.INTL]


def choice_list(f: Field) -> str | None:
    """The name of the list a column's drop-down offers, or None for free text."""
    if f.type in (T.CODE, T.CODES):
        return f.codes.name
    if f.type in (T.COUNTRY, T.COUNTRIES):
        return "country"
    if f.type is T.BOOL:
        return "yes/no"
    if f.name == "controller":  # only a group member can be an activity's controller
        return GROUP_MEMBERS
    if f.type in (T.REF, T.REFS):
        return KINDS[f.ref].section
    return None


def describe_values(f: Field) -> str:
    """What a column takes, for the instructions sheet."""
    several = " One per line (or separated by ;)." if f.is_list else ""
    match f.type:
        case T.KEY:
            return "1–64 letters, digits, '.', '_' or '-'; never changes. Example: hr-payroll"
        case T.CODE | T.CODES:
            codes = "\n".join(f"{c.code} — {c.title}" for c in f.codes)
            return f"One of:{several}\n{codes}"
        case T.COUNTRY | T.COUNTRIES:
            return (
                "ISO 3166-1 alpha-2 code, e.g. DE, US; INTL for an international organisation."
                + several
            )
        case T.REF | T.REFS:
            label = "activity" if f.ref == "activity" else KINDS[f.ref].label
            return f"Key (or exact name) of a {label}.{several}"
        case T.BOOL:
            return "yes or no (empty: no)"
        case T.DATE:
            return "A date, e.g. 2026-01-15"
        case T.INT:
            return f"A whole number (empty: {f.default})"
        case T.DURATION:
            return "ISO 8601 duration: P6Y = 6 years, P18M = 18 months, P30D = 30 days"
        case T.EMAIL:
            return "An email address, e.g. privacy@example.com"
    return "Text"


#: The hidden sheet of a review pack holding each activity's version when it was made
#: (ropa.review); a workbook with it is applied by `ropa review import`, not `ropa import`.
PACK_VERSIONS = "pack versions"

#: How a data-layout workbook is imported (a review pack says how it is returned instead).
IMPORT_INSTRUCTIONS = [
    "Import with `ropa import FILE.xlsx --dry-run` first: it reports what would be created, "
    "updated, unchanged or deleted, and every problem as FILE:SHEET:ROW:COLUMN.",
]
#: How the sheets are filled in, for the template, data-layout exports and review packs.
GENERAL_INSTRUCTIONS = [
    "One sheet per kind of record; one row per record; the first row holds the field names.",
    "A row updates the record with its key: every cell you fill in replaces that field; an "
    "empty cell of an existing record keeps the stored value (import with `--blank clear` to "
    "clear fields with empty cells); a column you delete leaves the field alone.",
    "References may be keys or exact names. Lists: one item per line in a cell.",
    "transfers and retention: one row per transfer or retention rule, `activity` names the "
    "activity. When the sheet is there, it holds all of them for the activities it lists and "
    "for every activity of the activities sheet.",
    "Formulas are never evaluated: type values. Sheets `instructions` and `lists` are ignored.",
]
