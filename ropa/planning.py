"""What a write would do, worked out in memory before anything is written: registry documents
parsed and merged, the plan of an import (the register after it, the changes leading
there, every problem), and an edit applied to a record.

Pure functions: they receive the records and an :class:`~ropa.validate.Index` to resolve
references with, and never touch the database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Container, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ropa.db import fold_case
from ropa.errors import Problem, ValidationFailed
from ropa.records import Change, PartialDocument, copy_record, is_empty
from ropa.schema import KINDS, Field, Kind, T, kind_named
from ropa.validate import (
    Index,
    LayeredIndex,
    PartWhere,
    Where,
    as_where,
    check_record,
    closest,
    parse_field,
    parse_nested,
    parse_record,
    read_by_rules,
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


#: How many records an import report shows on a terminal before it summarises the rest.
REPORT_ROWS = 200


@dataclass
class ImportReport:
    """What an import did (or, with dry_run, would do): every created, updated and deleted
    record (the changes), and the counts per kind."""

    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    deleted: Counter = field(default_factory=Counter)
    dry_run: bool = False
    warnings: list[str] = field(default_factory=list)
    records: list[Change] = field(default_factory=list)  # the changes, in plan order

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

    def add(self, changes: list[Change]) -> None:
        """Count the changes of one batch of an import that deletes nothing. The first
        :data:`REPORT_ROWS` are kept whole; the others as much as the JSON report needs."""
        counters = {"create": self.created, "update": self.updated}
        for change in changes:
            counters[change.action][change.kind.name] += 1
            self.records.append(change if len(self.records) < REPORT_ROWS else _reported(change))

    def finish(self, stored: Mapping[str, int]) -> None:
        """Count the records left as they were, after the batches (:meth:`add`): `stored`
        is how many records of each kind the register held before the import."""
        for kind in KINDS.values():
            self.unchanged[kind.name] = stored[kind.name] - self.updated[kind.name]

    def count(self, sizes: Mapping[str, int], changes: list[Change]) -> None:
        """Count the changes of a plan, and the records they leave as they were (`sizes`:
        how many records of each kind the register holds after it)."""
        self.records = changes
        for kind in KINDS.values():
            self.unchanged[kind.name] = sizes[kind.name]
        for change in changes:
            counter = {"create": self.created, "update": self.updated, "delete": self.deleted}[
                change.action
            ]
            counter[change.kind.name] += 1
            if change.action != "delete":
                self.unchanged[change.kind.name] -= 1

    def field_changes(self, change: Change) -> dict[str, dict[str, Any]]:
        """{field: {"before", "after"}} of an update, values as a document shows them (an
        emptied field's after is null)."""
        assert change.before is not None and change.after is not None
        return {
            name: {
                "before": shown_value(change.before[name]),
                "after": shown_value(change.after[name]),
            }
            for name in change.changed_fields
        }

    def as_dict(self) -> dict[str, Any]:
        """The whole report as `--report json` writes it."""
        out: dict[str, Any] = {"created": [], "updated": [], "removed": []}
        for change in self.records:
            ref = {"kind": change.kind.name, "key": change.key}
            if change.action == "create":
                out["created"].append(ref)
            elif change.action == "delete":
                out["removed"].append(ref)
            else:
                out["updated"].append({**ref, "changes": self.field_changes(change)})
        out["unchanged"] = sum(self.unchanged.values())
        out["warnings"] = list(self.warnings)
        return out

    def deletions(self) -> set[tuple[str, str]]:
        """The (kind, key) of every record the import deletes."""
        return {(c.kind.name, c.key) for c in self.records if c.action == "delete"}


class _Reported(Change):
    """A change as a report keeps it past its first rows: an update with the changed fields
    only, a create without its record."""

    @property
    def changed_fields(self) -> list[str]:
        return list(self.before or ())


def _reported(change: Change) -> Change:
    if change.action != "update":
        return _Reported(change.kind, change.key, change.action, None, None)
    assert change.before is not None and change.after is not None
    changed = change.changed_fields
    return _Reported(
        change.kind,
        change.key,
        "update",
        {name: change.before[name] for name in changed},
        {name: change.after[name] for name in changed},
    )


def shown_value(value: Any) -> Any:
    """A field value as a report shows it: None when empty, nested rows without their empty
    columns."""
    if is_empty(value):
        return None
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [{k: v for k, v in row.items() if not is_empty(v)} for row in value]
    return value


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
    prints them), or one record (as `show --format json` prints it)."""
    problems: list[Problem] = []
    incoming: Incoming = {k.name: [] for k in KINDS.values()}
    seen: dict[tuple[str, str], str] = {}
    sections = {k.section: k for k in KINDS.values()}
    for doc, source in documents:
        records = plain_records(doc, kind)
        if records is not None:
            problems += _parse_section(records, kind_named(kind), source, incoming, seen)
            continue
        if not isinstance(doc, Mapping):
            problems.append(
                Problem(
                    source, "a registry document is a mapping with sections such as `activities:`"
                )
            )
            continue
        if _one_record(doc):
            problems.append(Problem(source, "one record, not a registry document: give --kind"))
            continue
        if kind is not None:
            given = ", ".join(str(name) for name in doc if name != "ropa")
            problems.append(
                Problem(
                    source,
                    f"--kind {kind} is for a plain list of records or one record; this is a "
                    f"registry document with sections ({given})",
                )
            )
            continue
        version = doc.get("ropa", 1)
        if version != 1 or isinstance(version, bool):
            problems.append(Problem(f"{source}:ropa", f"unsupported document version {version!r}"))
        for name in doc:
            if name != "ropa" and name not in sections:
                problems.append(
                    Problem(f"{source}:{name}", f"unknown section{closest(str(name), sections)}")
                )
        whole = not isinstance(doc, PartialDocument)
        for section, k in sections.items():
            problems += _parse_section(doc.get(section), k, source, incoming, seen, whole)
    return incoming, seen, problems


def _parse_section(
    entries: Any,
    kind: Kind,
    source: str,
    incoming: Incoming,
    seen: dict[tuple[str, str], str],
    whole: bool = True,
) -> list[Problem]:
    problems: list[Problem] = []
    records: list[tuple[Where, dict]] = []
    section = kind.section
    located = Where if whole else PartWhere
    if entries is None:
        return problems
    if not isinstance(entries, list):
        return [Problem(f"{source}:{section}", "expected a list of records")]
    for i, raw in enumerate(entries):
        where = located(f"{source}:{section}[{i}]")
        parsed = parse_entry(kind, raw, where, problems)
        if parsed is not None:
            records.append((where, parsed))
    return problems + merge_records(incoming[kind.name], records, kind, seen)


def parse_entry(kind: Kind, raw: Any, where: Where, problems: list[Problem]) -> dict | None:
    """One entry of a document's section parsed into a record, its problems added to
    `problems`; None when it has no key to be known by."""
    if not isinstance(raw, Mapping):
        problems.append(Problem(where, "expected a mapping of fields"))
        return None
    if "key" not in raw:
        problems.append(Problem(where.at("key"), "every record needs a key"))
        return None
    parsed, found = parse_record(kind, raw, where)
    problems += found
    return parsed if parsed.get("key") is not None else None


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
        seen[(kind.name, key)] = str(where)  # the place only: a row's place holds more
        into.append((where, parsed))
    return problems


# -- imports -----------------------------------------------------------------------------


def plain_records(doc: Any, kind: str | None) -> list | None:
    """With `--kind`, the records of a document that has no sections: a plain list of them,
    or one record; else None."""
    if kind is None:
        return None
    if isinstance(doc, list):
        return doc
    return [doc] if _one_record(doc) else None


def _one_record(doc: Any) -> bool:
    """A mapping with a `key` and no `ropa`: one record (as `show --format json` prints
    it), never a registry document, which has no `key` section."""
    return isinstance(doc, Mapping) and "key" in doc and "ropa" not in doc


def present_kinds(documents: list[tuple[Any, str]], kind: str | None) -> set[str]:
    """The kinds registry documents contain: their sections (even empty ones), or `kind`
    for a document that is a plain list of records."""
    present: set[str] = set()
    sections = {k.section: k.name for k in KINDS.values()}
    for doc, _ in documents:
        if plain_records(doc, kind) is not None:
            present.add(kind_named(kind).name)
        elif isinstance(doc, Mapping):
            present.update(sections[name] for name in doc if name in sections)
    return present


def kept_blanks(current: State, incoming: Incoming) -> int:
    """How many empty cells of existing records left a stored value alone (`--blank keep`):
    the blanks a data-layout row carries (see SheetRow.blank) where the field is not empty."""
    kept = 0
    for kind_name, records in incoming.items():
        stored = current[kind_name]
        for where, parsed in records:
            blank = getattr(where, "blank", ())
            base = stored.get(parsed["key"]) if blank else None
            if base is not None:
                kept += sum(1 for name in blank if not is_empty(base[name]))
    return kept


#: What the rows of a transfers or retention sheet are, in a sentence.
_ROWS_ARE = {"transfers": "transfers", "retention": "retention rules"}


def dropped_rows(
    changes: Iterable[Change], sheets: Collection[str], dropped: dict[str, dict[str, int]]
) -> None:
    """Count in `dropped` ({field: {activity key: rows}}) how many fewer transfers or
    retention rows (the fields a data-layout import has `sheets` for) an activity has after
    the import's rows for it than it had: an activity's rows in such a sheet are all of its
    rows, and one row added to a template's sheet would otherwise drop the others with only
    "updated" said. An edited row is not one fewer; an activity the sheet has no rows for
    (its rows cleared with --blank clear) is left to the change it shows."""
    for change in changes:
        if change.action != "update" or change.kind.name != "activity":
            continue
        assert change.before is not None and change.after is not None
        for name in sheets:
            after = len(change.after[name])
            if after and after < len(change.before[name]):
                dropped.setdefault(name, {})[change.key] = len(change.before[name]) - after


def dropped_warnings(dropped: Mapping[str, Mapping[str, int]]) -> list[str]:
    """The warnings of :func:`dropped_rows`, one per sheet."""
    warnings = []
    for name, activities in dropped.items():
        count, rows = len(activities), sum(activities.values())
        keys = list(activities)
        which = ", ".join(keys[:5]) + (f" and {count - 5} more" if count > 5 else "")
        one = count == 1
        warnings.append(
            f"the {name} rows of {count:,} activit{'y' if one else 'ies'} ({which}) are "
            f"{rows:,} fewer than {'its' if one else 'their'} stored ones, which they replace: "
            f"an activity's rows in a {name} sheet are all of its {_ROWS_ARE.get(name, name)} "
            "(`ropa export xlsx --layout data` has the stored ones to edit)"
        )
    return warnings


@dataclass
class Stored:
    """What an import that replaces nothing learns of the stored register beyond the
    records it names (which :func:`plan_import` receives as `current`): an index of the
    stored records' keys and names, the (kind, key) of the stored records that refer to
    some keys of a kind, and stored records by key. Each answer is a query for the keys the
    import mentions, so planning costs what the import holds, not what the register does."""

    index: Index
    users: Callable[[Kind, list[str]], list[tuple[str, str]]]
    records: Callable[[Kind, list[str]], dict[str, dict]]
    #: The (kind, key) of the records the import plans in its other batches: a stored
    #: record among them is not taken for one the batch's names clash with.
    imported: Container[tuple[str, str]] = ()
    #: Whether the stored records the import leaves alone are checked here (see
    #: :func:`stored_dependents`); a batched import checks them once, after its batches.
    dependents: bool = True


def plan_import(
    current: State,
    incoming: Incoming,
    replace: bool | Collection[str],
    source: str,
    stored: Stored | None = None,
) -> tuple[State, list[Change], list[Problem]]:
    """The register after an import, the changes that lead there, and every problem.

    A record read from a registry document is whole (a field it leaves out is empty); one
    read from a data-layout row changes the fields it has cells for. `replace` names the
    kinds (True: every kind) whose records not in the import are deleted.

    Without `stored`, `current` is the whole register and so is the state returned. With
    it (an import that replaces nothing), `current` holds the stored records the import
    names, `stored` answers for the rest, and the state returned holds the records the
    import writes or leaves as they were."""
    problems: list[Problem] = []
    state: State = {}
    touched: list[tuple[Kind, str, str]] = []
    replaced = set(KINDS) if replace is True else set(replace or ())
    for kind in KINDS.values():
        records = {} if kind.name in replaced or stored else dict(current[kind.name])
        for where, parsed in incoming[kind.name]:
            key = parsed["key"]
            base = current[kind.name].get(key)
            if base is None or getattr(where, "whole", True):
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

    if stored is None:
        index = state_index(state)
    else:
        index = LayeredIndex(stored.index, state)
        prefetch_references(
            stored.index, ((kind, state[kind.name][key]) for kind, key, _ in touched), state
        )
        for kind in KINDS.values():
            names = [r["name"] for r in state[kind.name].values()]
            stored.index.prefetch(kind.name, names, keys=False)
    for kind, key, where in touched:
        problems += check_record(kind, state[kind.name][key], index, where)
    for kind in KINDS.values():
        records = state[kind.name]
        if stored is not None:
            records = _sharing_names(kind, records, current[kind.name], stored)
        places = {key: where for k, key, where in touched if k is kind}
        problems += _duplicate_names(kind, records, source, places)

    deleted = {
        kind.name: set(current[kind.name]) - set(state[kind.name]) if stored is None else set()
        for kind in KINDS.values()
    }
    # The records of the import were checked above, against the new state; a record the
    # import leaves alone is checked again when something it refers to changes or goes.
    if stored is None:
        gone = {(k, key) for k, keys in deleted.items() for key in keys}
        changed = gone | {
            (kind.name, key) for kind, key, _ in touched if current[kind.name].get(key) is not None
        }
        if changed:
            done = {(kind.name, key): where for kind, key, where in touched}
            for kind in KINDS.values():
                for key, record in state[kind.name].items():
                    if (kind.name, key) not in done and (
                        target := refers_to(kind, record, changed)
                    ):
                        cause = done.get(target, source)  # the change's place; a deletion: the file
                        problems += dependent_problems(kind, record, index, cause)
    elif stored.dependents:
        problems += stored_dependents(current, state, touched, stored, index, source)

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


def prefetch_references(
    index: Index, records: Iterable[tuple[Kind, dict]], state: State | None = None
) -> None:
    """Look up every key or name the records refer to, a batch per kind (but the keys of
    the records `state` holds)."""
    wanted: dict[str, set[str]] = {kind.name: set() for kind in KINDS.values()}
    for kind, record in records:
        for f in kind.reference_fields:
            value = record[f.name]
            if not value:
                continue
            if f.type is T.REF:
                wanted[f.ref].add(value)
            elif f.type is T.REFS:
                wanted[f.ref].update(value)
            else:
                for sub in f.nested:
                    if sub.type is T.REF:
                        wanted[sub.ref].update(row[sub.name] for row in value if row.get(sub.name))
    for target, values in wanted.items():
        values.difference_update(state.get(target, ()) if state else ())
        values.discard(None)
        if values:
            index.prefetch(target, [v for v in values if isinstance(v, str)])


def _sharing_names(
    kind: Kind, records: dict[str, dict], current: dict[str, dict], stored: Stored
) -> dict[str, dict]:
    """The records an import writes of a kind, with the stored records that have one of
    their names (the stored names are unique: see the `uq_*_name` indexes), ordered as the
    whole register would list them: stored keys in order, then new ones. A stored record
    the import plans in another batch is not one of them (the batches compare their names
    among themselves)."""
    shared: dict[str, dict] = {}
    index = stored.index
    for record in records.values():
        name = record.get("name")
        other = index.key_for_name(kind.name, name) if name else None
        if other is not None and other not in records and (kind.name, other) not in stored.imported:
            shared[other] = {"name": index.name(kind.name, other)}
    stored = sorted([*shared, *(k for k in records if k in current)])
    return {
        **{k: shared.get(k) or records[k] for k in stored},
        **{k: r for k, r in records.items() if k not in current},
    }


def stored_dependents(
    current: State,
    state: Mapping[str, Collection[str]],
    touched: list[tuple[Kind, str, str]],
    stored: Stored,
    index: Index,
    cause: str,
) -> list[Problem]:
    """The problems an import that replaces nothing gives the stored records it leaves
    alone: only a change of what the write-time rules read of other records (a party's
    kind, a category's parent) can make them invalid. `state` holds (at least the keys of)
    the records the import writes, by kind: those are checked as the import's own."""
    problems: list[Problem] = []
    changed: dict[str, list[str]] = {}
    for kind, key, _ in touched:
        before = current[kind.name].get(key)
        after = state[kind.name][key]  # type: ignore[index]
        if before is not None and read_by_rules(kind, before, after):
            changed.setdefault(kind.name, []).append(key)
    if not changed:
        return problems
    users: dict[str, set[str]] = {}
    for kind_name, keys in changed.items():
        for user_kind, user in stored.users(KINDS[kind_name], keys):
            if user not in state[user_kind]:
                users.setdefault(user_kind, set()).add(user)
    targets = {(kind_name, key) for kind_name, keys in changed.items() for key in keys}
    places = {(kind.name, key): where for kind, key, where in touched}
    for kind in KINDS.values():
        if kind.name not in users:
            continue
        records = stored.records(kind, sorted(users[kind.name]))
        prefetch_references(index, ((kind, r) for r in records.values()), state)
        for record in records.values():
            if target := refers_to(kind, record, targets):
                problems += dependent_problems(kind, record, index, places.get(target, cause))
    return problems


def refers_to(kind: Kind, record: dict, targets: set[tuple[str, str]]) -> tuple[str, str] | None:
    """The first of the (kind, key) targets a record refers to; None when it refers to none."""
    for f in kind.reference_fields:
        value = record[f.name]
        if f.type is T.REF:
            if value and (f.ref, value) in targets:
                return (f.ref, value)
        elif f.type is T.REFS:
            if found := next(((f.ref, v) for v in value if (f.ref, v) in targets), None):
                return found
        else:
            for sub in f.nested:
                if sub.type is not T.REF:
                    continue
                for row in value:
                    if (sub.ref, row.get(sub.name)) in targets:
                        return (sub.ref, row[sub.name])
    return None


def dependent_problems(kind: Kind, record: dict, index: Index, cause: str) -> list[Problem]:
    """The problems a record that a write leaves alone would have after it (the index holds
    the register after the write), each naming the record and what it refers to; `cause`
    locates the write."""
    found = check_record(kind, copy_record(kind, record), index, f"{kind.label} {record['key']}")
    return [
        Problem(
            cause,
            f"would make {kind.label} {record['key']!r} invalid: "
            f"{p.where.removeprefix(f'{kind.label} ' + record['key']).lstrip('.')}: {p.message}",
        )
        for p in found
    ]


def _duplicate_names(
    kind: Kind, records: dict[str, dict], source: str, places: Mapping[str, Any]
) -> list[Problem]:
    """The names several records of a kind share, each a problem placed at the name of the
    last record of the file that takes it (`places`: key -> where, in file order)."""
    by_name: dict[str, list[str]] = {}
    for key, record in records.items():
        if record.get("name"):
            by_name.setdefault(fold_case(record["name"]), []).append(key)
    order = {key: i for i, key in enumerate(places)}
    problems = []
    for keys in by_name.values():
        if len(keys) < 2:
            continue
        last = max((k for k in keys if k in order), key=order.__getitem__, default=None)
        problems.append(
            Problem(
                as_where(places[last]).at("name") if last else f"{source}:{kind.section}",
                f"{len(keys)} {kind.section} share the name {records[keys[0]]['name']!r}: "
                f"{', '.join(sorted(keys))}; names are unique within their kind",
            )
        )
    return problems


# -- edits -------------------------------------------------------------------------------


def name_clash(index: Index, kind: Kind, record: dict, where: str) -> list[Problem]:
    """The problem of a record taking a name another record of its kind has, if it does."""
    other = index.key_for_name(kind.name, record["name"] or "")
    if other and other != record["key"]:
        taken = index.name(kind.name, other) or record["name"]  # as the other has it
        return [
            Problem(
                as_where(where).at("name"),
                f"{kind.label} {other!r} already has the name {taken!r}; names are unique "
                "within their kind",
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
    for name in sorted(set(edit.set) & set(edit.clear)):
        problems.append(Problem(f"{where}.{name}", "both set and cleared; give one"))
    for name in sorted((set(edit.set) | set(edit.clear)) & set(edit.remove)):
        problems.append(
            Problem(
                f"{where}.{name}",
                "both set and removed from; set the whole list, or remove items from the list "
                "as it is",
            )
        )
    for name in edit.clear:
        f = kind.field(name) if name in kind.field_names else None
        if f is not None and f.always_valued:
            problems.append(
                Problem(
                    f"{where}.{name}",
                    f"cannot be cleared: it always has a value ({f.default} unless set); set "
                    "the one you mean",
                )
            )
    for name in sorted(set(edit.add) & set(edit.remove) & set(kind.field_names)):
        f = kind.field(name)
        both = _both_added_and_removed(f, edit.add[name], edit.remove[name], before[name])
        if both:
            shown = ":".join(map(str, both[0].values())) if isinstance(both[0], dict) else both[0]
            more = (
                " (to change its other fields, add it as a mapping that gives them)"
                if f.type is T.NESTED
                else ""
            )
            problems.append(
                Problem(f"{where}.{name}", f"{shown!r} both added and removed; give one{more}")
            )
    if problems:
        raise ValidationFailed(problems)
    for name in edit.clear:
        after[name] = kind.field(name).empty()
    parsed, problems = parse_record(kind, edit.set, where)
    after.update(parsed)
    for name, items in edit.remove.items():
        f = kind.field(name)
        at = f"{where}.{name}"
        if f.type is T.NESTED:  # every item names a position of the list as it was
            positions: set[int] = set()
            for item in items:
                try:
                    found = _nested_positions(f, after[name], item)
                except ValueError as e:
                    problems.append(Problem(at, str(e)))
                    continue
                if not found:
                    problems.append(Problem(at, f"{item!r} is not among the {name} of {where}"))
                positions.update(found)
            after[name] = [r for i, r in enumerate(after[name]) if i not in positions]
            continue
        for item in items:
            if not _remove_item(f, after, item, index):
                problems.append(Problem(at, f"{item!r} is not among the {name} of {where}"))
    for name, items in edit.add.items():
        f = kind.field(name)
        at = f"{where}.{name}"
        if f.type is T.NESTED:
            after[name] = after[name] + parse_nested(f, items, at, problems)
            continue
        try:
            # The whole list parsed again: in the order and form any list of the field has
            # (codes sorted), or the next edit would record it as changed.
            after[name] = parse_field(f, [*after[name], *parse_field(f, items)])
        except ValueError as e:
            problems.append(Problem(at, str(e)))
    if problems:
        raise ValidationFailed(problems)
    return after


def _matching_transfers(transfers: list[dict], spec: str) -> list[int]:
    """The positions (0-based) of the transfers a COUNTRY[:MECHANISM][:RECIPIENT] spec
    names. A second part that is no mechanism is read as the recipient (the older
    COUNTRY:RECIPIENT spelling)."""
    from ropa.reference import parse_country
    from ropa.schema import ACTIVITY

    parts = [p.strip() for p in spec.split(":")]
    try:
        country = parse_country(parts[0])
    except ValueError:
        return []
    mechanism = recipient = None
    mechanisms = next(sub for sub in ACTIVITY.field("transfers").nested if sub.name == "mechanism")
    if len(parts) > 1 and parts[1]:
        code = mechanisms.codes.parse(parts[1])
        if code is None and len(parts) == 2:
            recipient = parts[1]
        else:
            mechanism = code or parts[1]
    if len(parts) > 2 and parts[2]:
        recipient = parts[2]
    return [
        i
        for i, r in enumerate(transfers)
        if r["country"] == country
        and (mechanism is None or r.get("mechanism") == mechanism)
        and (recipient is None or r.get("recipient") == recipient)
    ]


def _describe(f: Field, row: dict) -> str:
    """A transfer or retention rule in a few words, for messages."""
    if f.name == "transfers":
        return ":".join(
            v for v in (row["country"], row.get("mechanism"), row.get("recipient")) if v
        )
    return ", ".join(str(v) for v in row.values() if v)


#: The fields of a transfer or retention rule its spec on the command line says
#: (COUNTRY:MECHANISM[:RECIPIENT], DURATION[:TRIGGER]).
NESTED_SPEC_FIELDS = {
    "transfers": ("country", "mechanism", "recipient"),
    "retention": ("duration", "trigger"),
}


def _both_added_and_removed(
    f: Field, added: list[Any], removed: list[Any], current: list[Any]
) -> list[Any]:
    """The items an edit both adds to and removes from a list, compared as what they mean
    (`consent` and `Art. 6(1)(a)` are one lawful basis; a transfer or retention rule added
    is one removed when it equals a removed row, in the `current` list, in every field its
    spec says, given or left empty, and every other field it gives: re-adding
    `US:scc:mailer` would drop the removed one's details, `US:scc` is another transfer); a
    spec that does not parse is left to the edit to report."""
    if f.type is T.NESTED:
        rows = []
        for spec in removed:
            try:
                rows += [current[i] for i in _nested_positions(f, current, spec)]
            except ValueError:
                continue
        same = []
        for item in added:
            said = {*NESTED_SPEC_FIELDS.get(f.name, ()), *(item if isinstance(item, dict) else ())}
            for row in parse_nested(f, [item], "", []):
                if any(all((r.get(k) or "") == (row.get(k) or "") for k in said) for r in rows):
                    same.append(item)
        return same
    try:
        gone = set(parse_field(f, list(removed)))
    except ValueError:
        return []
    meant = []
    for item in added:
        try:
            if set(parse_field(f, [item])) & gone:
                meant.append(item)
        except ValueError:
            continue
    return meant


def _nested_positions(f: Field, values: list[dict], item: Any) -> list[int]:
    """The positions (0-based) of the transfers or retention rules an item names: its
    position (1, 2…), or a transfer's COUNTRY[:MECHANISM][:RECIPIENT] and a rule's data
    category. A spec that matches several is refused, naming them with their positions."""
    text = str(item).strip()
    if text.isascii() and text.isdigit():
        position = int(text) - 1
        return [position] if 0 <= position < len(values) else []
    if f.name == "transfers":
        matches = _matching_transfers(values, text)
    else:
        matches = [i for i, r in enumerate(values) if r.get("data_category") == text]
    if len(matches) > 1:
        listed = "; ".join(f"{i + 1}: {_describe(f, values[i])}" for i in matches)
        raise ValueError(
            f"{text!r} matches {len(matches)} {f.name} ({listed}); "
            "give the position or the full spec of one"
        )
    return matches


def _remove_item(f: Field, record: dict, item: Any, index: Index) -> bool:
    """Remove one item from a list of values or references; False when it is not there."""
    values = record[f.name]
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
