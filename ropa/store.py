"""Rows in, records out: bulk reads and writes of records with their list fields.

A *record* here is a dict holding every field of its kind (empty fields hold the field's
empty value) plus `version`, `created_at` and `updated_at`. Reads take a bounded number of
queries whatever the number of records; writes use executemany, never an ORM object per row.
"""

from __future__ import annotations

import dataclasses
import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ropa.db import FOLDED_TO_ASCII, fold_case
from ropa.models import LINK_TABLES, NESTED_MODELS, RECORD_MODELS, Revision
from ropa.records import Change
from ropa.schema import ACTIVITY, KINDS, Field, Kind, T

META = ("version", "created_at", "updated_at")
_CHUNK = 500  # keys per IN (...) clause
_INSERT_BATCH = 10_000  # records whose list rows are inserted together
_SEPARATOR = "\x1f"  # joins the values of a list field in one aggregated row
_ROW_SEPARATOR = "\x1e"  # joins the rows of a nested list field


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
    """The table holding the records of a kind (their scalar fields)."""
    return RECORD_MODELS[kind.name].__table__


def nested_table(field: Field) -> sa.Table:
    """The table holding the rows of a nested list field."""
    return NESTED_MODELS[field.name].__table__


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _record_query(kind: Kind, dialect: str, meta: bool = True) -> tuple[sa.Select, list[str]]:
    """One row per record: its columns, each list field aggregated by a correlated subquery
    (values joined by a separator; nested rows joined field by field), so that a record is
    one row and the database does the joining through the primary-key indexes. Validated
    text never holds the separators (control characters are refused at write time)."""
    table = record_table(kind)
    names = [f.name for f in kind.scalar_fields] + (list(META) if meta else [])
    columns: list[Any] = [table.c[n] for n in names]
    join = sa.func.group_concat if dialect == "sqlite" else sa.func.string_agg
    for field in kind.list_fields:
        if field.type is T.NESTED:
            nested = nested_table(field)
            parts: list[Any] = [sa.cast(nested.c.position, sa.String)]
            for sub in field.nested:
                parts += [sa.literal(_SEPARATOR), sa.func.coalesce(nested.c[sub.name], "")]
            aggregate = join(
                sa.func.concat(*parts) if dialect != "sqlite" else _concat(parts),
                sa.literal(_ROW_SEPARATOR),
            )
            owner = nested.c.activity
        else:
            link = LINK_TABLES[(kind.name, field.name)]
            aggregate = join(link.c.value, sa.literal(_SEPARATOR))
            owner = link.c.owner
        subquery = sa.select(aggregate).where(owner == table.c.key).scalar_subquery()
        columns.append(subquery.label(field.name))
        names.append(field.name)
    # Ordered as Python orders keys (code points), on every backend.
    order = table.c.key if dialect == "sqlite" else table.c.key.collate("C")
    return sa.select(*columns).order_by(order), names


def _concat(parts: list[Any]) -> Any:
    expression = parts[0]
    for part in parts[1:]:
        expression = expression.op("||")(part)
    return expression


def _to_records(kind: Kind, names: list[str], rows: Iterable[Any]) -> list[dict]:
    defaults = [(f.name, f.empty()) for f in kind.scalar_fields if f.empty() is not None]
    dates = [f.name for f in kind.scalar_fields if f.type is T.DATE]
    bools = [f.name for f in kind.scalar_fields if f.type is T.BOOL]
    joined = [
        (f.name, f.codes.order if f.type is T.CODES else None)
        for f in kind.list_fields
        if f.type is not T.NESTED
    ]
    nested = [(f.name, [s.name for s in f.nested]) for f in kind.list_fields if f.type is T.NESTED]
    records = []
    with gc_paused():
        for row in rows:
            record = dict(zip(names, row, strict=True))
            for name, empty in defaults:
                if record[name] is None:
                    record[name] = empty
            for name in dates:  # plain SQL on SQLite gives dates as text
                if isinstance(record[name], str):
                    record[name] = date.fromisoformat(record[name])
            for name in bools:
                record[name] = bool(record[name])
            for name, order in joined:
                value = record[name]
                if value:
                    values = value.split(_SEPARATOR)
                    if len(values) > 1:
                        values.sort(key=order)
                    record[name] = values
                else:
                    record[name] = []
            for name, fields in nested:
                value = record[name]
                items = []
                if value:
                    for text in value.split(_ROW_SEPARATOR):
                        position, *cells = text.split(_SEPARATOR)
                        items.append(
                            (
                                int(position),
                                {f: c or None for f, c in zip(fields, cells, strict=True)},
                            )
                        )
                    items.sort(key=_first)
                record[name] = [item for _, item in items]
            records.append(record)
    return records


def _first(pair: tuple) -> Any:
    return pair[0]


@dataclass(frozen=True)
class Filter:
    """Which records of a kind a read takes: those for which every condition holds (no
    condition: all of them). `equal` and `unequal` map columns to a value they hold or do
    not hold; `holding` maps list fields to a value among their items; `keys_between` is a
    first and last key, in code-point order; `member` takes the activities of a group member
    (:func:`ropa.schema.of_member`); `conditions` are further SQL conditions on the kind's
    table (built by :mod:`ropa.find`)."""

    equal: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    unequal: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    holding: Mapping[str, str] = dataclasses.field(default_factory=dict)
    keys_between: tuple[str, str] | None = None
    member: str | None = None
    conditions: tuple[Any, ...] = ()

    def narrowed(self, other: Filter | None) -> Filter:
        """The records this filter takes that the `other`'s conditions take too."""
        if other is None:
            return self
        return dataclasses.replace(self, conditions=(*self.conditions, *other.conditions))


def _clause(conn: Connection, kind: Kind, where: Filter | None) -> Any:
    """The SQL condition of a filter, or None for all records."""
    if where is None:
        return None
    table = record_table(kind)
    clauses: list[Any] = [table.c[name] == value for name, value in where.equal.items()]
    clauses += [table.c[name] != value for name, value in where.unequal.items()]
    for name, value in where.holding.items():
        links = LINK_TABLES[(kind.name, name)]
        clauses.append(table.c.key.in_(sa.select(links.c.owner).where(links.c.value == value)))
    if where.keys_between is not None:
        key = table.c.key if conn.dialect.name == "sqlite" else table.c.key.collate("C")
        clauses.append(key.between(*where.keys_between))
    if where.member is not None:
        clauses.append(of_members(table, [where.member]))
    clauses += where.conditions
    return sa.and_(*clauses) if clauses else None


def of_members(activities: sa.Table, members: list[str]) -> Any:
    """The SQL condition of :func:`ropa.schema.of_member`, for any of some group members."""
    joint = LINK_TABLES[(ACTIVITY.name, "joint_controllers")]
    return sa.or_(
        activities.c.controller.in_(members),
        activities.c.key.in_(sa.select(joint.c.owner).where(joint.c.value.in_(members))),
    )


def read_records(
    conn: Connection, kind: Kind, keys: list[str] | None = None, where: Filter | None = None
) -> dict[str, dict]:
    """Records of a kind by key, in key order: all, those with `keys`, or those matching
    `where`."""
    query, names = _record_query(kind, conn.dialect.name)
    table = record_table(kind)
    clause = _clause(conn, kind, where)
    if clause is not None:
        query = query.where(clause)
    if keys is None:
        rows = conn.execute(query).all()
    else:
        rows = []
        for chunk in _chunks(sorted(set(keys))):
            rows += conn.execute(query.where(table.c.key.in_(chunk))).all()
    return {r["key"]: r for r in _to_records(kind, names, rows)}


def iter_records(
    conn: Connection,
    kind: Kind,
    where: Filter | None = None,
    batch: int = 1000,
    meta: bool = False,
) -> Iterator[dict]:
    """Records of a kind in key order, streamed `batch` at a time so memory stays flat
    (with version and timestamps only when `meta`: the Article 30 record shows them)."""
    query, names = _record_query(kind, conn.dialect.name, meta=meta)
    clause = _clause(conn, kind, where)
    if clause is not None:
        query = query.where(clause)
    # Run as plain SQL: the rows skip SQLAlchemy's per-value type processing, which would
    # cost more than the query; _to_records converts the few typed columns itself.
    # IN lists are rendered as one parameter per value.
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    if compiled.positiontup is not None:
        params: Any = tuple(compiled.params[name] for name in compiled.positiontup)
    else:
        params = compiled.params
    result = conn.execution_options(stream_results=True).exec_driver_sql(str(compiled), params)
    # The collector stays paused for the whole stream (running, it would walk the records
    # again and again), and collects only the youngest objects after each batch: the cyclic
    # garbage the consumer made meanwhile (json's indenting encoder leaves some per call;
    # never collected, it came to 336 MB for a JSON listing of 100,000 activities).
    with gc_paused():
        while rows := result.fetchmany(batch):
            yield from _to_records(kind, names, rows)
            gc.collect(0)


def read_kinds(conn: Connection, kinds: Iterable[Kind]) -> dict[str, dict[str, dict]]:
    """Every record of each of `kinds`, by kind name and key."""
    with gc_paused():
        return {kind.name: read_records(conn, kind) for kind in kinds}


def read_names(conn: Connection, kind: Kind) -> dict[str, str]:
    """The name of every record of a kind, by key."""
    table = record_table(kind)
    return dict(conn.execute(sa.select(table.c.key, table.c.name)).all())


def read_column(conn: Connection, kind: Kind, column: str) -> dict[str, Any]:
    """One column of every record of a kind, by key."""
    table = record_table(kind)
    return dict(conn.execute(sa.select(table.c.key, table.c[column])).all())


def read_keys(conn: Connection, kind: Kind) -> list[str]:
    """The keys of every record of a kind, in code-point order."""
    table = record_table(kind)
    return sorted(conn.execute(sa.select(table.c.key)).scalars())


def count_records(conn: Connection, kind: Kind, where: Filter | None = None) -> int:
    """How many records of a kind `where` takes (all, without it)."""
    query = sa.select(sa.func.count()).select_from(record_table(kind))
    clause = _clause(conn, kind, where)
    if clause is not None:
        query = query.where(clause)
    return conn.execute(query).scalar_one()


def distinct_values(
    conn: Connection, kind: Kind, column: str, where: Filter | None = None
) -> set[Any]:
    """The values other than null that a column holds in the records `where` takes."""
    table = record_table(kind)
    query = sa.select(table.c[column]).where(table.c[column].is_not(None)).distinct()
    clause = _clause(conn, kind, where)
    if clause is not None:
        query = query.where(clause)
    return set(conn.execute(query).scalars())


def latest_update(conn: Connection, kind: Kind) -> datetime | None:
    """When a record of a kind was last written; None when there is none."""
    table = record_table(kind)
    return conn.execute(sa.select(sa.func.max(table.c.updated_at))).scalar()


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


def write_changes(conn: Connection, changes: list[Change], now: datetime) -> None:
    """Apply changes in an order the foreign keys accept: creates and updates kind by kind
    (a kind refers only to earlier kinds), then deletes in reverse. Sets version/timestamps
    on each `after` record."""
    by_kind: dict[str, dict[str, list[Change]]] = defaultdict(lambda: defaultdict(list))
    for change in changes:
        by_kind[change.kind.name][change.action].append(change)
    for kind in KINDS.values():
        _free_names(conn, kind, by_kind.get(kind.name, {}))
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


#: Where a record's name waits while it is renamed or deleted: no valid name holds a control
#: character (validate.ILLEGAL_TEXT), so no name the write gives can clash with it.
_NAME_FREED = "\x01"


def _free_names(conn: Connection, kind: Kind, actions: dict[str, list[Change]]) -> None:
    """The names the records being renamed or deleted give up, let go of before anything is
    written: the database checks the unique name row by row, and a swap of two names, a chain
    of renames or a new record taking a freed name would otherwise fail on the order of the
    rows, though the register after the write is valid."""
    free_names(
        conn,
        kind,
        [c.key for c in actions.get("delete", [])]
        + [c.key for c in actions.get("update", []) + actions.get("retire", []) if _renamed(c)],
    )


def _renamed(change: Change) -> bool:
    return fold_case(change.before.get("name") or "") != fold_case(change.after.get("name") or "")


def taken_names(changes: list[Change]) -> list[str]:
    """The names (folded) that created and renamed records take."""
    return [
        fold_case(c.after["name"])
        for c in changes
        if c.after and c.after.get("name") and (c.action == "create" or _renamed(c))
    ]


def free_names(conn: Connection, kind: Kind, keys: list[str]) -> None:
    """Let go of the names of some records of a kind until they are written again (see
    :func:`_free_names`)."""
    table = record_table(kind)
    for chunk in _chunks(keys):
        conn.execute(
            sa.update(table)
            .where(table.c.key.in_(chunk))
            .values(name=sa.literal(_NAME_FREED) + table.c.key)
        )


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


#: Inserts of this many rows go through COPY on PostgreSQL (fewer: an INSERT costs no more).
COPY_FROM = 100


def insert_rows(conn: Connection, table: sa.Table, columns: list[str], rows: list[tuple]) -> None:
    """INSERT many rows given as tuples in `columns` order, in the connection's transaction:
    through PostgreSQL's COPY when there are many (see :func:`copy_rows`), otherwise the
    driver's executemany: no statement compiled per row. Values pass the columns' own bind
    processing (dates and times as SQLAlchemy stores them), so the rows read back as if
    SQLAlchemy had written them."""
    if not rows:
        return
    dialect = conn.dialect
    if dialect.name == "postgresql" and len(rows) >= COPY_FROM:
        copy_rows(conn, table, columns, rows)
        return
    processors = [
        (i, _remembered(p))
        for i, name in enumerate(columns)
        if (p := table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None
    ]
    if processors:
        rows = [_processed(row, processors) for row in rows]
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.name == "sqlite" else "%s"
    statement = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join([mark] * len(columns))})"
    )
    conn.exec_driver_sql(statement, rows)


def copy_rows(conn: Connection, table: sa.Table, columns: list[str], rows: Iterable[tuple]) -> None:
    """COPY rows into a PostgreSQL table through psycopg 3, in the connection's transaction:
    one stream instead of a statement per row (the driver's executemany spent most of a
    large import). Times are written as UTC without a zone, as the columns hold them."""
    quote = conn.dialect.identifier_preparer.quote
    statement = f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    times = [i for i, name in enumerate(columns) if isinstance(table.c[name].type, sa.DateTime)]
    naive = _remembered(_naive_utc)
    cursor = conn.connection.cursor()
    try:
        with cursor.copy(statement) as copy:
            write = copy.write_row
            if not times:
                for row in rows:
                    write(row)
                return
            for row in rows:
                values = list(row)
                for i in times:
                    if values[i] is not None:
                        values[i] = naive(values[i])
                write(values)
    finally:
        cursor.close()


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _remembered(process: Any) -> Any:
    """A bind processor that converts each distinct value once: the timestamps of a bulk
    write are one value, dates repeat."""
    seen: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        if value not in seen:
            seen[value] = process(value)
        return seen[value]

    return convert


def _processed(row: tuple, processors: list[tuple[int, Any]]) -> tuple:
    values = list(row)
    for i, process in processors:
        if values[i] is not None:
            values[i] = process(values[i])
    return tuple(values)


def _insert(conn: Connection, kind: Kind, changes: list[Change], now: datetime) -> None:
    if not changes:
        return
    scalar = [f.name for f in kind.scalar_fields]
    for start in range(0, len(changes), _INSERT_BATCH):
        rows = []
        batch = changes[start : start + _INSERT_BATCH]
        earlier = last_versions(conn, kind, [c.key for c in batch])
        for change in batch:
            record = change.after
            version = earlier.get(change.key, 0) + 1
            record.update(version=version, created_at=now, updated_at=now)
            values = [record[name] if record[name] != "" else None for name in scalar]
            rows.append((*values, version, now, now))
        insert_rows(conn, record_table(kind), [*scalar, *META], rows)
    _insert_lists(conn, kind, [c.after for c in changes], kind.list_fields)


def last_versions(conn: Connection, kind: Kind, keys: list[str]) -> dict[str, int]:
    """The last version of each of these keys in the revision log: a record made again after
    its deletion goes on from there, so that a version number names one state for good."""
    revisions = Revision.__table__
    found: dict[str, int] = {}
    for chunk in _chunks(keys):
        query = (
            sa.select(revisions.c.key, sa.func.max(revisions.c.version))
            .where(revisions.c.kind == kind.name, revisions.c.key.in_(chunk))
            .group_by(revisions.c.key)
        )
        found.update((key, version) for key, version in conn.execute(query))
    return found


def _insert_lists(conn: Connection, kind: Kind, records: list[dict], fields: list[Field]) -> None:
    for field in fields:
        name = field.name
        if field.type is T.NESTED:
            table = nested_table(field)
            fields_of_row = [f.name for f in field.nested]
            batches = (
                [
                    (r["key"], i, *[item.get(c) for c in fields_of_row])
                    for r in batch
                    for i, item in enumerate(r[name])
                ]
                for batch in _batches(records)
            )
            columns = ["activity", "position", *fields_of_row]
        else:
            table = LINK_TABLES[(kind.name, name)]
            batches = (
                [(r["key"], v) for r in batch for v in r[name]] for batch in _batches(records)
            )
            columns = ["owner", "value"]
        with _indexes_rebuilt_after(conn, table, len(records) >= BULK_FROM):
            for rows in batches:  # a batch at a time: the rows are never all built
                insert_rows(conn, table, columns, rows)


def _batches(records: list[dict]) -> Iterator[list[dict]]:
    for start in range(0, len(records), _INSERT_BATCH):
        yield records[start : start + _INSERT_BATCH]


#: Inserts of this many records drop a link table's secondary indexes and build them anew.
BULK_FROM = 20_000


@contextmanager
def _indexes_rebuilt_after(conn: Connection, table: sa.Table, bulk: bool) -> Iterator[None]:
    """For a bulk insert into SQLite, build the table's secondary indexes once at the end
    (sorting once beats inserting into a B-tree row by row: a third faster). It is all one
    transaction: readers never see the table without them. PostgreSQL keeps its indexes,
    as dropping one there would lock out readers until the import commits."""
    if not bulk or conn.dialect.name != "sqlite" or table.name in conn.info.get(_DROPPED, ()):
        yield
        return
    indexes = list(table.indexes)
    for index in indexes:
        index.drop(conn)
    yield
    for index in indexes:
        index.create(conn)


_DROPPED = "ropa_indexes_dropped"  # conn.info: the tables bulk_indexes has taken them from


@contextmanager
def bulk_indexes(conn: Connection, kind: Kind) -> Iterator[None]:
    """The secondary indexes of a kind's list tables dropped until the end (SQLite only), for
    an import that inserts its records in many batches: they are built once, as a single
    bulk insert builds them (see :func:`_indexes_rebuilt_after`). Lookups by owner keep the
    primary keys."""
    tables = [
        nested_table(f) if f.type is T.NESTED else LINK_TABLES[(kind.name, f.name)]
        for f in kind.list_fields
    ]
    dropped = conn.info.setdefault(_DROPPED, set())
    tables = [t for t in tables if t.name not in dropped and t.indexes]
    if conn.dialect.name != "sqlite" or not tables:
        yield
        return
    for table in tables:
        for index in table.indexes:
            index.drop(conn)
        dropped.add(table.name)
    try:
        yield
    finally:
        dropped.difference_update(t.name for t in tables)
    # Left by an error, the transaction is rolled back, and the rollback brings the indexes
    # back (SQLite's DDL is transactional): nothing to build, on a connection maybe closed.
    for table in tables:
        for index in table.indexes:
            index.create(conn)


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


# -- lookups of the keys and names a write mentions ---------------------------------------


def lookup(
    conn: Connection, kind: Kind, keys: list[str], lowered: list[str], columns: Iterable[str] = ()
) -> list[tuple]:
    """(key, name, *columns) of the records of a kind that have one of `keys`, or whose
    lowercased name is one of `lowered`: indexed queries (the primary key and the unique
    `lower(name)` index), a batch of keys and names at a time, run as plain SQL."""
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.name == "sqlite" else "%s"
    table = record_table(kind)
    selected = ", ".join(quote(c) for c in ["key", "name", *columns])
    key_chunks = list(_chunks(sorted(keys)))
    name_chunks = list(_chunks(sorted(lowered)))
    rows: list[tuple] = []
    for i in range(max(len(key_chunks), len(name_chunks))):
        conditions, params = [], []
        if i < len(key_chunks):
            conditions.append(f"{quote('key')} IN ({', '.join([mark] * len(key_chunks[i]))})")
            params += key_chunks[i]
        if i < len(name_chunks):
            marks = ", ".join([mark] * len(name_chunks[i]))
            conditions.append(f"lower({quote('name')}) IN ({marks})")
            params += name_chunks[i]
        statement = f"SELECT {selected} FROM {quote(table.name)} WHERE {' OR '.join(conditions)}"
        rows += [tuple(row) for row in conn.exec_driver_sql(statement, tuple(params))]
    if lowered and dialect.name == "sqlite":
        # SQLite's lower() leaves İ as it is: the names holding such a letter are read (one
        # pass over the table, in SQLite) and compared here, folded as PostgreSQL does.
        found = {row[0] for row in rows}
        wanted = set(lowered)
        holding = " OR ".join([f"instr({quote('name')}, {mark}) > 0"] * len(FOLDED_TO_ASCII))
        statement = f"SELECT {selected} FROM {quote(table.name)} WHERE {holding}"
        rows += [
            tuple(row)
            for row in conn.exec_driver_sql(statement, FOLDED_TO_ASCII)
            if row[0] not in found and fold_case(row[1]) in wanted
        ]
    return rows
