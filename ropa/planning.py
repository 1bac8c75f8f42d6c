"""What a write would do, worked out in memory before anything is written: registry documents
parsed and merged, the plan of an import (the register after it, the changes leading
there, every problem), and an edit applied to a record.

Pure functions: they receive the records and an :class:`~ropa.validate.Index` to resolve
references with, and never touch the database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ropa.errors import Problem, ValidationFailed
from ropa.records import Change, copy_record
from ropa.schema import KINDS, Field, Kind, T, kind_named
from ropa.validate import (
    Index,
    Where,
    as_where,
    check_record,
    closest,
    parse_field,
    parse_nested,
    parse_record,
)

#: Records by kind name, then by key: the whole register, or a part of it.
State = dict[str, dict[str, dict]]

#: Parsed records by kind name, each with the place it was read from.
Incoming = dict[str, list[tuple[str, dict]]]


@dataclass
class Edit:
    """Changes to one record: fields to set, list items to add or remove, fields to clear."""

    set: dict[str, Any] = field(default_factory=dict)
    add: dict[str, list[Any]] = field(default_factory=dict)
    remove: dict[str, list[Any]] = field(default_factory=dict)
    clear: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.set or self.add or self.remove or self.clear)


@dataclass
class ImportReport:
    """What an import did (or, with dry_run, would do), per kind."""

    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    deleted: Counter = field(default_factory=Counter)
    dry_run: bool = False
    warnings: list[str] = field(default_factory=list)

    def rows(self) -> list[tuple[str, int, int, int, int]]:
        """(section, created, updated, unchanged, deleted) for every kind, in schema order."""
        return [
            (
                kind.section,
                self.created[kind.name],
                self.updated[kind.name],
                self.unchanged[kind.name],
                self.deleted[kind.name],
            )
            for kind in KINDS.values()
        ]

    @property
    def changes(self) -> int:
        """How many records the import creates, updates or deletes."""
        return sum(self.created.values()) + sum(self.updated.values()) + sum(self.deleted.values())

    def count(self, state: State, changes: list[Change]) -> None:
        """Count the changes of a plan, and the records of `state` they leave as they were."""
        for kind in KINDS.values():
            self.unchanged[kind.name] = len(state[kind.name])
        for change in changes:
            counter = {"create": self.created, "update": self.updated, "delete": self.deleted}[
                change.action
            ]
            counter[change.kind.name] += 1
            if change.action != "delete":
                self.unchanged[change.kind.name] -= 1


def state_index(state: State) -> Index:
    """An index resolving references against records held in memory."""
    return Index(
        lambda kind: {k: r["name"] for k, r in state[kind].items()},
        lambda kind, column: {k: r[column] for k, r in state[kind].items()},
    )


# -- documents ---------------------------------------------------------------------------


def parse_documents(documents: list[tuple[Any, str]]) -> Incoming:
    """The parsed records of documents by kind, each with its location; raises
    ValidationFailed with every problem (unknown sections, bad values, duplicate keys)."""
    incoming, _, problems = read_documents(documents, None)
    if problems:
        raise ValidationFailed(problems)
    return incoming


def read_documents(
    documents: list[tuple[Any, str]], kind: str | None
) -> tuple[Incoming, dict[tuple[str, str], str], list[Problem]]:
    """Records by kind, the place of every key seen, and every problem. With `kind`, a
    document may also be a plain list of records of that kind (as `list --format json`
    prints them)."""
    problems: list[Problem] = []
    incoming: Incoming = {k.name: [] for k in KINDS.values()}
    seen: dict[tuple[str, str], str] = {}
    sections = {k.section: k for k in KINDS.values()}
    for doc, source in documents:
        if kind is not None and isinstance(doc, list):
            problems += _parse_section(doc, kind_named(kind), source, incoming, seen)
            continue
        if not isinstance(doc, Mapping):
            problems.append(
                Problem(
                    source, "a registry document is a mapping with sections such as `activities:`"
                )
            )
            continue
        version = doc.get("ropa", 1)
        if version != 1:
            problems.append(Problem(f"{source}:ropa", f"unsupported document version {version!r}"))
        for name in doc:
            if name != "ropa" and name not in sections:
                problems.append(
                    Problem(f"{source}:{name}", f"unknown section{closest(str(name), sections)}")
                )
        for section, k in sections.items():
            problems += _parse_section(doc.get(section), k, source, incoming, seen)
    return incoming, seen, problems


def _parse_section(
    entries: Any,
    kind: Kind,
    source: str,
    incoming: Incoming,
    seen: dict[tuple[str, str], str],
) -> list[Problem]:
    problems: list[Problem] = []
    records: list[tuple[Where, dict]] = []
    section = kind.section
    if entries is None:
        return problems
    if not isinstance(entries, list):
        return [Problem(f"{source}:{section}", "expected a list of records")]
    for i, raw in enumerate(entries):
        where = Where(f"{source}:{section}[{i}]")
        if not isinstance(raw, Mapping):
            problems.append(Problem(where, "expected a mapping of fields"))
            continue
        if "key" not in raw:
            problems.append(Problem(where.at("key"), "every record needs a key"))
            continue
        parsed, found = parse_record(kind, raw, where)
        problems += found
        if parsed.get("key") is not None:
            records.append((where, parsed))
    return problems + merge_records(incoming[kind.name], records, kind, seen)


def merge_records(
    into: list[tuple[str, dict]],
    records: list[tuple[Where, dict]],
    kind: Kind,
    seen: dict[tuple[str, str], str],
) -> list[Problem]:
    """Add parsed records to an import, refusing a key seen before (the problems say where
    it was seen first)."""
    problems = []
    for where, parsed in records:
        key = parsed["key"]
        if (kind.name, key) in seen:
            problems.append(
                Problem(
                    where.at("key"), f"duplicate key {key!r} (also at {seen[(kind.name, key)]})"
                )
            )
            continue
        seen[(kind.name, key)] = where
        into.append((where, parsed))
    return problems


# -- imports -----------------------------------------------------------------------------


def plan_import(
    current: State, incoming: Incoming, replace: bool, source: str
) -> tuple[State, list[Change], list[Problem]]:
    """The register after an import, the changes that lead there, and every problem."""
    problems: list[Problem] = []
    state: State = {}
    touched: list[tuple[Kind, str, str]] = []
    for kind in KINDS.values():
        records = {} if replace else dict(current[kind.name])
        for where, parsed in incoming[kind.name]:
            key = parsed["key"]
            base = current[kind.name].get(key)
            if base is None or replace:
                if len(parsed) == len(kind.fields):
                    record = parsed  # parsed values are fresh and used once: no copy needed
                else:
                    record = kind.new_record()
                    record.update(parsed)
            else:
                record = copy_record(kind, base)
                record.update(parsed)
            records[key] = record
            touched.append((kind, key, where))
        state[kind.name] = records

    index = state_index(state)
    for kind, key, where in touched:
        problems += check_record(kind, state[kind.name][key], index, where)
    for kind in KINDS.values():
        problems += _duplicate_names(kind, state[kind.name], source)

    # Every record of the new state that refers to another was checked above, against the
    # new state: so nothing can be left referring to a record the import deletes.
    deleted = {
        kind.name: set(current[kind.name]) - set(state[kind.name]) for kind in KINDS.values()
    }

    changes = []
    for kind, key, _ in touched:
        after = state[kind.name][key]
        before = current[kind.name].get(key)
        if before is None:
            changes.append(Change(kind, key, "create", None, after))
            continue
        change = Change(kind, key, "update", before, after)
        if change.changed_fields:
            changes.append(change)
        else:
            state[kind.name][key] = before  # unchanged: keep version and timestamps
    for kind in KINDS.values():
        for key in sorted(deleted[kind.name]):
            changes.append(Change(kind, key, "delete", current[kind.name][key], None))
    return state, changes, problems


def _duplicate_names(kind: Kind, records: dict[str, dict], source: str) -> list[Problem]:
    by_name: dict[str, list[str]] = {}
    for key, record in records.items():
        if record.get("name"):
            by_name.setdefault(record["name"].lower(), []).append(key)
    return [
        Problem(
            f"{source}:{kind.section}",
            f"{len(keys)} {kind.section} share the name {records[keys[0]]['name']!r}: "
            f"{', '.join(sorted(keys))}; names are unique within their kind",
        )
        for keys in by_name.values()
        if len(keys) > 1
    ]


# -- edits -------------------------------------------------------------------------------


def name_clash(index: Index, kind: Kind, record: dict, where: str) -> list[Problem]:
    """The problem of a record taking a name another record of its kind has, if it does."""
    other = index.key_for_name(kind.name, record["name"] or "")
    if other and other != record["key"]:
        return [
            Problem(
                as_where(where).at("name"),
                f"{kind.label} {other!r} already has the name "
                f"{record['name']!r}; names are unique within their kind",
            )
        ]
    return []


def apply_edit(kind: Kind, before: dict, edit: Edit, index: Index, where: str) -> dict:
    """The record after an edit (`before` is left as it was); raises ValidationFailed with
    every problem of the edit itself. The result is not checked as a whole: see
    :func:`~ropa.validate.check_record`."""
    problems: list[Problem] = []
    after = copy_record(kind, before)
    for name in [*edit.clear, *edit.add, *edit.remove]:
        if name not in kind.field_names:
            problems.append(
                Problem(
                    where,
                    f"unknown {kind.label} field {name!r}{closest(name, kind.field_names)}",
                )
            )
    if "key" in edit.set or "key" in edit.clear:
        problems.append(Problem(where, "a key cannot change; it is the record's identity"))
    if problems:
        raise ValidationFailed(problems)
    for name in edit.clear:
        after[name] = kind.field(name).empty()
    parsed, problems = parse_record(kind, edit.set, where)
    after.update(parsed)
    for name, items in edit.add.items():
        f = kind.field(name)
        at = f"{where}.{name}"
        if f.type is T.NESTED:
            after[name] = after[name] + parse_nested(f, items, at, problems)
            continue
        try:
            values = parse_field(f, items)
        except ValueError as e:
            problems.append(Problem(at, str(e)))
            continue
        after[name] = list(dict.fromkeys(after[name] + values))
    for name, items in edit.remove.items():
        f = kind.field(name)
        at = f"{where}.{name}"
        for item in items:
            present = _remove_item(f, after, item, index)
            if not present:
                problems.append(Problem(at, f"{item!r} is not among the {name} of {where}"))
    if problems:
        raise ValidationFailed(problems)
    return after


def _remove_item(f: Field, record: dict, item: Any, index: Index) -> bool:
    """Remove one item from a list field; False when it is not there."""
    from ropa.reference import parse_country

    values = record[f.name]
    if f.type is T.NESTED:
        # Transfers are removed by destination ("US", or "US:recipient"); retention rules by
        # their position (1-based) or their data category.
        text = str(item)
        if f.name == "transfers":
            country, _, recipient = text.partition(":")
            try:
                country = parse_country(country)
            except ValueError:
                return False
            kept = [
                r
                for r in values
                if not (
                    r["country"] == country and (not recipient or r.get("recipient") == recipient)
                )
            ]
        elif text.isdigit():
            position = int(text) - 1
            kept = [r for i, r in enumerate(values) if i != position]
        else:
            kept = [r for r in values if r.get("data_category") != text]
        record[f.name] = kept
        return len(kept) < len(values)
    try:
        value = parse_field(f, [item])[0]
        if f.type is T.REFS:
            value = index.resolve(f.ref, value)
    except (ValueError, IndexError):
        return False
    if value not in values:
        return False
    record[f.name] = [v for v in values if v != value]
    return True
