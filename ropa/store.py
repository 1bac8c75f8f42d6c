"""Rows in, records out: bulk reads and writes of records with their list fields.

A *record* here is a dict holding every field of its kind (empty fields hold the field's
empty value) plus `version`, `created_at` and `updated_at`. Reads take a bounded number of
queries whatever the number of records; writes use executemany, never an ORM object per row.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ropa.models import LINK_TABLES, NESTED_MODELS, RECORD_MODELS
from ropa.schema import ACTIVITY, KINDS, Field, Kind, T

META = ("version", "created_at", "updated_at")
_CHUNK = 500  # keys per IN (...) clause
_SEPARATOR = "\x1f"  # joins the values of a list field in one aggregated row


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small objects: records hold
    no cycles, and each full collection would walk every record built so far."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def record_table(kind: Kind) -> sa.Table:
    return RECORD_MODELS[kind.name].__table__


def nested_table(field: Field) -> sa.Table:
    return NESTED_MODELS[field.name].__table__


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def read_records(
    conn: Connection,
    kind: Kind,
    keys: list[str] | None = None,
    where: Any = None,
    key_range: tuple[str, str] | None = None,
) -> dict[str, dict]:
    """Records of a kind by key, sorted by key: all, those with `keys`, those matching
    `where`, or those whose key lies in `key_range` (inclusive)."""
    table = record_table(kind)
    names = [f.name for f in kind.scalar_fields] + list(META)
    query = sa.select(*(table.c[n] for n in names)).order_by(table.c.key)
    if where is not None:
        query = query.where(where)
    if key_range is not None:
        query = query.where(table.c.key.between(*key_range))
    if keys is None:
        rows = conn.execute(query).all()
    else:
        rows = []
        for chunk in _chunks(sorted(set(keys))):
            rows += conn.execute(query.where(table.c.key.in_(chunk))).all()
        rows.sort(key=lambda r: r[0])
    # Columns that hold NULL for an empty field whose empty value is not None (none so far,
    # but a new field with another empty value must not come out as None).
    defaults = [(f.name, f.empty()) for f in kind.scalar_fields if f.empty() is not None]
    lists = [f.name for f in kind.list_fields]
    records = {}
    for row in rows:
        record = dict(zip(names, row, strict=True))
        for name, empty in defaults:
            if record[name] is None:
                record[name] = empty
        for name in lists:
            record[name] = []
        records[row[0]] = record
    if records and kind.list_fields:
        wanted = None if keys is None and where is None else list(records)
        _read_lists(conn, kind, records, wanted, key_range)
    return records


def iter_records(
    conn: Connection, kind: Kind, where: Any = None, batch: int = 2000
) -> Iterator[dict]:
    """Records of a kind in key order, read `batch` at a time so memory stays flat."""
    table = record_table(kind)
    query = sa.select(table.c.key)
    if where is not None:
        query = query.where(where)
    # Sorted here, not by the database, so that every backend gives the same order.
    keys = sorted(conn.execute(query).scalars())
    for i in range(0, len(keys), batch):
        chunk = keys[i : i + batch]
        with gc_paused():
            if conn.dialect.name == "sqlite" and where is None:
                # SQLite compares text byte by byte, as Python compares keys: a key range
                # selects exactly this chunk, through the primary-key indexes.
                records = read_records(conn, kind, key_range=(chunk[0], chunk[-1]))
            else:
                records = read_records(conn, kind, chunk)
        yield from records.values()


def _owned_rows(
    conn: Connection,
    query: sa.Select,
    owner: sa.Column,
    keys: list[str] | None,
    key_range: tuple[str, str] | None = None,
) -> list:
    if key_range is not None:
        return conn.execute(query.where(owner.between(*key_range))).all()
    if keys is None:
        return conn.execute(query).all()
    rows = []
    for chunk in _chunks(keys):
        rows += conn.execute(query.where(owner.in_(chunk))).all()
    return rows


def _read_lists(
    conn: Connection,
    kind: Kind,
    records: dict[str, dict],
    keys: list[str] | None,
    key_range: tuple[str, str] | None = None,
) -> None:
    for field in kind.list_fields:
        name = field.name
        if field.type is T.NESTED:
            table = nested_table(field)
            columns = [f.name for f in field.nested]
            query = sa.select(table.c.activity, table.c.position, *(table.c[c] for c in columns))
            rows = sorted(
                _owned_rows(conn, query, table.c.activity, keys, key_range),
                key=lambda r: (r[0], r[1]),
            )
            for row in rows:
                record = records.get(row[0])
                if record is not None:
                    record[name].append(dict(zip(columns, row[2:], strict=True)))
            continue
        # One row per owner with its values joined: a tenth of the rows to turn into Python
        # objects. Keys, codes and countries never hold the separator.
        table = LINK_TABLES[(kind.name, field.name)]
        join = sa.func.group_concat if conn.dialect.name == "sqlite" else sa.func.string_agg
        query = sa.select(table.c.owner, join(table.c.value, _SEPARATOR)).group_by(table.c.owner)
        order = field.codes.order if field.type is T.CODES else None
        for owner, joined in _owned_rows(conn, query, table.c.owner, keys, key_range):
            record = records.get(owner)
            if record is not None:
                values = joined.split(_SEPARATOR)
                values.sort(key=order)
                record[name] = values


def read_names(conn: Connection, kind: Kind) -> dict[str, str]:
    table = record_table(kind)
    return dict(conn.execute(sa.select(table.c.key, table.c.name)).all())


def read_column(conn: Connection, kind: Kind, column: str) -> dict[str, Any]:
    table = record_table(kind)
    return dict(conn.execute(sa.select(table.c.key, table.c[column])).all())


def referencing(conn: Connection, kind: Kind, keys: list[str]) -> dict[str, list[tuple[str, str]]]:
    """For each key, the (kind, key) of records that refer to it."""
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for owner_kind in KINDS.values():
        for field in owner_kind.fields:
            if field.type is T.REF and field.ref == kind.name:
                table = record_table(owner_kind)
                column = table.c[field.name]
                for chunk in _chunks(keys):
                    query = sa.select(column, table.c.key).where(column.in_(chunk))
                    for target, owner in conn.execute(query):
                        found[target].append((owner_kind.name, owner))
            elif field.type is T.REFS and field.ref == kind.name:
                table = LINK_TABLES[(owner_kind.name, field.name)]
                for chunk in _chunks(keys):
                    query = sa.select(table.c.value, table.c.owner).where(table.c.value.in_(chunk))
                    for target, owner in conn.execute(query):
                        found[target].append((owner_kind.name, owner))
            elif field.type is T.NESTED:
                table = nested_table(field)
                for sub in field.nested:
                    if sub.type is T.REF and sub.ref == kind.name:
                        column = table.c[sub.name]
                        for chunk in _chunks(keys):
                            query = sa.select(column, table.c.activity).where(column.in_(chunk))
                            for target, owner in conn.execute(query):
                                found[target].append((ACTIVITY.name, owner))
    return {k: sorted(set(v)) for k, v in found.items()}


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
        if self.before is None or self.after is None:
            return []
        return [f.name for f in self.kind.fields if self.before[f.name] != self.after[f.name]]


def write_changes(conn: Connection, changes: list[Change], now: datetime) -> None:
    """Apply changes in an order the foreign keys accept: creates and updates kind by kind
    (a kind refers only to earlier kinds), then deletes in reverse. Sets version/timestamps
    on each `after` record."""
    by_kind: dict[str, dict[str, list[Change]]] = defaultdict(lambda: defaultdict(list))
    for change in changes:
        by_kind[change.kind.name][change.action].append(change)
    for kind in KINDS.values():
        actions = by_kind.get(kind.name, {})
        creates = actions.get("create", [])
        if kind.name == "category":
            creates = _parents_first(creates)
        _insert(conn, kind, creates, now)
        _update(conn, kind, actions.get("update", []) + actions.get("retire", []), now)
    for kind in reversed(KINDS.values()):
        deletes = by_kind.get(kind.name, {}).get("delete", [])
        if kind.name == "category":
            deletes = list(reversed(_parents_first(deletes, use="before")))
        _delete(conn, kind, [c.key for c in deletes])


def _parents_first(changes: list[Change], use: str = "after") -> list[Change]:
    """Categories ordered so that a parent comes before its children."""
    pending = {c.key: c for c in changes}
    ordered: list[Change] = []

    def visit(change: Change, trail: set[str]) -> None:
        if change.key not in pending or change.key in trail:
            return
        parent = getattr(change, use)["parent"]
        if parent in pending:
            visit(pending[parent], trail | {change.key})
        if change.key in pending:
            ordered.append(pending.pop(change.key))

    for change in list(changes):
        visit(change, set())
    return ordered


def _row(kind: Kind, record: dict) -> dict:
    row = {}
    for f in kind.scalar_fields:
        value = record.get(f.name)
        row[f.name] = None if value == "" else value
    for name in META:
        row[name] = record[name]
    return row


def _insert(conn: Connection, kind: Kind, changes: list[Change], now: datetime) -> None:
    if not changes:
        return
    for change in changes:
        change.after.update(version=1, created_at=now, updated_at=now)
    conn.execute(sa.insert(record_table(kind)), [_row(kind, c.after) for c in changes])
    _insert_lists(conn, kind, [c.after for c in changes], kind.list_fields)


def _insert_lists(conn: Connection, kind: Kind, records: list[dict], fields: list[Field]) -> None:
    for field in fields:
        if field.type is T.NESTED:
            rows = [
                {"activity": r["key"], "position": i, **item}
                for r in records
                for i, item in enumerate(r[field.name])
            ]
            if rows:
                conn.execute(sa.insert(nested_table(field)), rows)
            continue
        rows = [{"owner": r["key"], "value": v} for r in records for v in r[field.name]]
        if rows:
            conn.execute(sa.insert(LINK_TABLES[(kind.name, field.name)]), rows)


def _update(conn: Connection, kind: Kind, changes: list[Change], now: datetime) -> None:
    if not changes:
        return
    table = record_table(kind)
    for change in changes:
        change.after.update(
            version=change.before["version"] + 1,
            created_at=change.before["created_at"],
            updated_at=now,
        )
    columns = {c.name: sa.bindparam("v_" + c.name) for c in table.c if c.name != "key"}
    statement = sa.update(table).where(table.c.key == sa.bindparam("v_key")).values(columns)
    conn.execute(
        statement,
        [{"v_" + k: v for k, v in _row(kind, c.after).items()} | {"v_key": c.key} for c in changes],
    )
    # Only the list fields that changed are rewritten.
    for field in kind.list_fields:
        touched = [c for c in changes if c.before[field.name] != c.after[field.name]]
        if not touched:
            continue
        _delete_lists(conn, kind, [c.key for c in touched], [field])
        _insert_lists(conn, kind, [c.after for c in touched], [field])


def _delete_lists(conn: Connection, kind: Kind, keys: list[str], fields: list[Field]) -> None:
    for field in fields:
        if field.type is T.NESTED:
            table = nested_table(field)
            owner = table.c.activity
        else:
            table = LINK_TABLES[(kind.name, field.name)]
            owner = table.c.owner
        for chunk in _chunks(keys):
            conn.execute(sa.delete(table).where(owner.in_(chunk)))


def _delete(conn: Connection, kind: Kind, keys: list[str]) -> None:
    if not keys:
        return
    _delete_lists(conn, kind, keys, kind.list_fields)
    table = record_table(kind)
    if kind.name == "category":
        # Deleted in an order that puts children first, one by one for the self-reference.
        for key in keys:
            conn.execute(sa.delete(table).where(table.c.key == key))
        return
    for chunk in _chunks(keys):
        conn.execute(sa.delete(table).where(table.c.key.in_(chunk)))
