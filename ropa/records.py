"""A record as plain data: the shape the registry document, the revision log and the diff
share, whatever file format (if any) it is written in.

A record in the register holds every field of its kind; its *document form* holds the
non-empty fields only, in schema order, without version and timestamps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ropa.schema import Kind, T

#: The version of the registry document (its `ropa:` entry) and of a revision's record.
FORMAT_VERSION = 1


def is_empty(value: Any) -> bool:
    """Whether a field value counts as not filled in (left out of the document form)."""
    return value is None or value == "" or value == [] or value is False


def document_record(kind: Kind, record: dict) -> dict:
    """A record in its document form: schema order, empty fields left out."""
    out: dict[str, Any] = {}
    for field in kind.fields:
        value = record.get(field.name)
        if value is None or value is False or value == "" or value == []:
            continue
        if field.type is T.NESTED:
            value = [
                {k: v for k, v in row.items() if v is not None and v is not False and v != ""}
                for row in value
            ]
        out[field.name] = value
    return out


def copy_record(kind: Kind, record: dict) -> dict:
    """A copy of a record's fields that can be changed without touching the original (what
    `copy.deepcopy` does, for the shapes records have, many times faster)."""
    copied = {}
    for f in kind.fields:
        value = record[f.name]
        if f.type is T.NESTED:
            value = [dict(row) for row in value]
        elif f.is_list:
            value = list(value)
        copied[f.name] = value
    return copied


def json_default(value: Any) -> Any:
    """The JSON form of the values records hold that JSON has no type for (dates)."""
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


@dataclass
class Change:
    """One record change: `before` is None on create, `after` is None on delete."""

    kind: Kind
    key: str
    action: str  # create | update | retire | delete
    before: dict | None
    after: dict | None

    @property
    def changed_fields(self) -> list[str]:
        """The fields an update changes, in schema order (none for a create or delete)."""
        if self.before is None or self.after is None:
            return []
        return [f.name for f in self.kind.fields if self.before[f.name] != self.after[f.name]]


class PartialDocument(dict):
    """A registry document whose records carry only the fields they set (a Fides manifest
    mapped by :mod:`ropa.interop.fides`): an import leaves the other fields of an existing
    record alone, where a plain registry document describes whole records."""
