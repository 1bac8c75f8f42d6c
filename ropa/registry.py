"""The service layer: validated reads and writes of the register, each write with history.

Every write runs in one serialized transaction (see :meth:`ropa.db.Database.write`): it reads
the current records, validates the whole result, writes rows and revisions, or raises and
leaves the database as it was.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from ropa.db import Database
from ropa.errors import NotFound, Problem, RopaError, StillReferenced, ValidationFailed
from ropa.schema import ACTIVITY, KINDS, REFERENCE_KINDS, Kind, T, kind_named
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

if TYPE_CHECKING:
    from ropa.checks import Finding
    from ropa.history import Diff, RevisionView
    from ropa.io.article30 import Cover, RecordBuilder, RecordScope
    from ropa.io.data_layout import Table
    from ropa.notice import Notice
    from ropa.store import Change


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
        return sum(self.created.values()) + sum(self.updated.values()) + sum(self.deleted.values())


def new_record(kind: Kind) -> dict:
    """A record of a kind with every field at its empty or default value."""
    return kind.new_record()


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


def _index_for_db(conn) -> Index:
    from ropa import store

    return Index(
        lambda kind: store.read_names(conn, KINDS[kind]),
        lambda kind, column: store.read_column(conn, KINDS[kind], column),
    )


def _index_for_state(state: dict[str, dict[str, dict]]) -> Index:
    return Index(
        lambda kind: {k: r["name"] for k, r in state[kind].items()},
        lambda kind, column: {k: r[column] for k, r in state[kind].items()},
    )


class Registry:
    """The register in a database, changed on behalf of an actor."""

    def __init__(self, db: Database, actor: str = "ropa"):
        self.db = db
        self.actor = actor

    # -- reads ---------------------------------------------------------------------------

    def get(self, kind: str, key: str) -> dict:
        """One record with every field, plus version and timestamps."""
        from ropa import store

        k = kind_named(kind)
        with self.db.read() as conn:
            records = store.read_records(conn, k, [key])
            if key not in records:
                raise NotFound(self._not_found(conn, k, key))
        return records[key]

    def list(self, kind: str, filters: Mapping[str, str | None] | None = None) -> list[dict]:
        """Records of a kind sorted by key; activity filters: entity, subject, category,
        status, role; party/measure filter: kind; category filter: special."""
        from ropa import store

        k = kind_named(kind)
        with self.db.read() as conn:
            where = self._filters(conn, k, {n: v for n, v in (filters or {}).items() if v})
            return list(store.read_records(conn, k, where=where).values())

    def used_by(self, kind: str, key: str) -> list[tuple[str, str]]:
        """The (kind, key) of the records that refer to a record."""
        from ropa import store

        with self.db.read() as conn:
            return store.referencing(conn, kind_named(kind), [key]).get(key, [])

    def findings(
        self,
        entity: str | None = None,
        only: list[str] | None = None,
        ignore: list[str] | None = None,
        today: date | None = None,
    ) -> list[Finding]:
        """The check findings for one group member's activities or for all. Activities are
        streamed, so memory stays flat; a large register is checked by several processes,
        each taking a range of keys."""
        import os

        import sqlalchemy as sa

        from ropa import checks, store

        rules = checks.select_rules(only or (), ignore or ())
        today = today or datetime.now(UTC).date()
        with self.db.read() as conn:
            references = self._references(conn)
            entity = self._resolve_entity(references, entity) if entity else None
            table = store.record_table(ACTIVITY)
            count = sa.select(sa.func.count()).select_from(table)
            if entity:
                count = count.where(table.c.controller == entity)
            total = conn.execute(count).scalar_one()
            workers = min(os.cpu_count() or 1, MAX_CHECK_WORKERS)
            if total < PARALLEL_CHECK_FROM or workers < 2:
                ctx = checks.Context(references, today)
                found = checks.check_activities(
                    ctx, store.iter_records(conn, ACTIVITY, _entity_clause(entity)), rules
                )
                return checks.sort_findings(found + checks.check_parties(ctx, rules))
            keys = sorted(conn.execute(sa.select(table.c.key)).scalars())
        ranges = [(part[0], part[-1]) for part in _split(keys, workers)]
        return _check_in_processes(self.db, references, ranges, entity, rules, today)

    @staticmethod
    def _references(conn) -> dict[str, dict[str, dict]]:
        """Every record of every kind but activities."""
        from ropa import store

        with store.gc_paused():
            return {kind.name: store.read_records(conn, kind) for kind in REFERENCE_KINDS}

    def history(
        self,
        key: str | None = None,
        kind: str | None = None,
        since: date | None = None,
        until: date | None = None,
        actor: str | None = None,
    ) -> list[RevisionView]:
        """Revisions matching the filters, oldest first, each with the fields it changed."""
        from ropa.history import list_revisions

        if kind:
            kind = kind_named(kind).name
        with self.db.read() as conn:
            return list_revisions(conn, key, kind, since, until, actor)

    def document_as_of(self, day: date) -> dict:
        """The registry document as it stood at the end of `day` (UTC)."""
        from ropa.history import document_as_of, end_of_day

        with self.db.read() as conn:
            return document_as_of(conn, end_of_day(day))

    def diff(self, since: date, until: date | None = None) -> Diff:
        """What changed from the start of `since` to the end of `until` (default: today)."""
        from ropa.history import diff, document_as_of, end_of_day, start_of_day, utcnow

        until = until or utcnow().date()
        if until < since:
            raise RopaError(f"--until {until} is before --since {since}")
        with self.db.read() as conn:
            before = document_as_of(conn, start_of_day(since))
            after = document_as_of(conn, end_of_day(until))
        return diff(before, after, since, until)

    @contextmanager
    def as_of(self, day: date) -> Iterator[Registry]:
        """A read-only view of the register as it stood at the end of `day` (UTC): a
        temporary database rebuilt from the revisions, so that every export and check works
        on it unchanged."""
        import shutil
        import tempfile

        from ropa.history import utcnow

        if day > utcnow().date():
            raise RopaError(f"--as-of {day} is in the future")
        document = self.document_as_of(day)
        folder = tempfile.mkdtemp(prefix="ropa-as-of-")
        past = Database.open(f"{folder}/as-of.db")
        try:
            past.init()
            Registry(past, "as-of").import_documents([(document, f"the register as of {day}")])
            yield Registry(past, self.actor)
        finally:
            past.dispose()
            shutil.rmtree(folder, ignore_errors=True)

    def notice(self, entity: str | None = None) -> Notice:
        """The privacy notice of the active activities of one group member, or of all."""
        import sqlalchemy as sa

        from ropa import store
        from ropa.notice import build_notice

        with self.db.read() as conn:
            references = self._references(conn)
            entity = self._resolve_entity(references, entity) if entity else None
            where = _entity_clause(entity)
            activities = list(store.iter_records(conn, ACTIVITY, where))
            table = store.record_table(ACTIVITY)
            latest = conn.execute(sa.select(sa.func.max(table.c.updated_at))).scalar()
        updated = latest.date() if latest else datetime.now(UTC).date()
        return build_notice(references, activities, entity, updated)

    @staticmethod
    def _resolve_entity(state: dict[str, dict[str, dict]], entity: str) -> str:
        try:
            key = _index_for_state(state).resolve("party", entity)
        except ValueError as e:
            raise RopaError(f"--entity: {e}") from None
        if state["party"][key]["kind"] != "group-member":
            raise RopaError(f"--entity: {key!r} is not a group-member party")
        return key

    @contextmanager
    def document_sections(self) -> Iterator[Iterator[tuple[str, Iterator[list[dict]]]]]:
        """The registry document as (section, batches of records), read as it is consumed:
        for exports of any size in flat memory."""
        with self.db.read() as conn:
            yield _document_sections(conn, self._references(conn))

    def fingerprint(self) -> str:
        """SHA-256 of the canonical YAML of the whole registry document."""
        with self.db.read() as conn:
            return _fingerprint(conn, self._references(conn))

    @contextmanager
    def record(self, scope: RecordScope) -> Iterator[tuple[Cover, RecordBuilder, Iterator[dict]]]:
        """The Article 30 record of a scope: its cover, a row builder, and the activities in
        key order (read as they are consumed), all from one snapshot of the register."""
        import sqlalchemy as sa

        from ropa import __version__, store
        from ropa.io.article30 import Cover, RecordBuilder

        with self.db.read() as conn:
            references = self._references(conn)
            table = store.record_table(ACTIVITY)
            clauses = []
            scope_text = "All group members"
            if scope.entity:
                scope.entity = self._resolve_entity(references, scope.entity)
                clauses.append(table.c.controller == scope.entity)
                scope_text = references["party"][scope.entity]["name"]
            if not scope.include_retired:
                clauses.append(table.c.status != "retired")
            if scope.role == "controller":
                clauses.append(table.c.role != "processor")
                scope_text += "; controller activities (Art. 30(1))"
            elif scope.role == "processor":
                clauses.append(table.c.role == "processor")
                scope_text += "; processor activities (Art. 30(2))"
            else:
                scope_text += "; controller and processor activities"
            if scope.include_retired:
                scope_text += "; retired activities included"
            where = sa.and_(*clauses) if clauses else None
            count_query = sa.select(sa.func.count()).select_from(table)
            controllers_query = sa.select(table.c.controller).distinct()
            if where is not None:
                count_query = count_query.where(where)
                controllers_query = controllers_query.where(where)
            controller_keys = sorted(k for k in conn.execute(controllers_query).scalars() if k)
            cover = Cover(
                controllers=[references["party"][k] for k in controller_keys],
                scope=scope_text,
                as_of=scope.as_of,
                generated_at=datetime.now(UTC),
                activities=conn.execute(count_query).scalar_one(),
                fingerprint=_fingerprint_later(self.db, conn, references),
                version=__version__,
            )
            yield cover, RecordBuilder(references), store.iter_records(conn, ACTIVITY, where)

    def document(self) -> dict:
        """The registry document of the current register, whole (exports stream it instead,
        from the same sections)."""
        from ropa.io.document import FORMAT_VERSION

        with self.document_sections() as sections:
            return {
                "ropa": FORMAT_VERSION,
                **{name: [r for batch in batches for r in batch] for name, batches in sections},
            }

    def keys(self) -> dict[str, list[str]]:
        """The sorted keys of every kind, by section, and of the group members (the parties
        that can be controllers): what a template's drop-downs offer."""
        from ropa import store
        from ropa.io.data_layout import GROUP_MEMBERS

        with self.db.read() as conn:
            keys = {k.section: sorted(store.read_names(conn, k)) for k in KINDS.values()}
            kinds = store.read_column(conn, KINDS["party"], "kind")
        keys[GROUP_MEMBERS] = sorted(k for k, kind in kinds.items() if kind == "group-member")
        return keys

    def entities_with_activities(self) -> set[str]:
        """Keys of the group members that are the controller of at least one activity."""
        import sqlalchemy as sa

        from ropa import store

        table = store.record_table(ACTIVITY)
        with self.db.read() as conn:
            query = sa.select(table.c.controller).where(table.c.controller.is_not(None))
            return set(conn.execute(query.distinct()).scalars())

    @staticmethod
    def _state(conn) -> dict[str, dict[str, dict]]:
        from ropa import store

        with store.gc_paused():
            return {kind.name: store.read_records(conn, kind) for kind in KINDS.values()}

    def _filters(self, conn, kind: Kind, filters: Mapping[str, str]) -> Any:
        import sqlalchemy as sa

        from ropa import store
        from ropa.models import LINK_TABLES

        table = store.record_table(kind)
        index = _index_for_db(conn)
        clauses = []
        for name, value in filters.items():
            if kind is ACTIVITY and name in ("subject", "category", "entity"):
                target = {"subject": "subject", "category": "category", "entity": "party"}[name]
                try:
                    key = index.resolve(target, value)
                except ValueError as e:
                    raise RopaError(f"--{name}: {e}") from None
                if name == "entity":
                    clauses.append(table.c.controller == key)
                    continue
                links = LINK_TABLES[
                    ("activity", "data_subjects" if name == "subject" else "data_categories")
                ]
                clauses.append(
                    table.c.key.in_(sa.select(links.c.owner).where(links.c.value == key))
                )
                continue
            if name not in ("status", "role", "kind", "special") or name not in kind.field_names:
                raise RopaError(f"--{name} does not filter {kind.section}")
            try:
                code = parse_field(kind.field(name), value)
            except ValueError as e:
                raise RopaError(f"--{name}: {e}") from None
            clauses.append(table.c[name] == code)
        return sa.and_(*clauses) if clauses else None

    @staticmethod
    def _not_found(conn, kind: Kind, key: str) -> str:
        from ropa import store

        return f"no {kind.label} {key!r}{closest(key, store.read_names(conn, kind))}"

    # -- writes --------------------------------------------------------------------------

    def add(self, kind: str, values: Mapping[str, Any], message: str | None = None) -> dict:
        """Create a record; raises ValidationFailed listing every problem."""
        from ropa import store
        from ropa.history import record_revisions, utcnow

        k = kind_named(kind)
        key = values.get("key")
        where = f"{k.name} {key}"
        parsed, problems = parse_record(k, values, where)
        if problems:
            raise ValidationFailed(problems)
        with self.db.write() as conn:
            if store.read_records(conn, k, [parsed["key"]]):
                raise ValidationFailed(
                    [
                        Problem(
                            where,
                            f"a {k.label} with key {parsed['key']!r} already exists; "
                            f"use `ropa {k.name} edit`",
                        )
                    ]
                )
            record = new_record(k) | parsed
            index = _index_for_db(conn)
            problems = check_record(k, record, index, where) + self._name_clash(
                index, k, record, where
            )
            if problems:
                raise ValidationFailed(problems)
            change = store.Change(k, record["key"], "create", None, record)
            now = utcnow()
            store.write_changes(conn, [change], now)
            record_revisions(conn, [change], self.actor, message, now)
        return record

    def edit(
        self, kind: str, key: str, edit: Edit, message: str | None = None, action: str = "update"
    ) -> Change | None:
        """Change a record (read, modify, write in one serialized transaction); returns the
        change, or None when nothing changed."""
        from ropa import store
        from ropa.history import record_revisions, utcnow

        k = kind_named(kind)
        where = f"{k.name} {key}"
        with self.db.write() as conn:
            before = store.read_records(conn, k, [key]).get(key)
            if before is None:
                raise NotFound(self._not_found(conn, k, key))
            index = _index_for_db(conn)
            after = self._apply_edit(k, before, edit, index, where)
            problems = check_record(k, after, index, where) + self._name_clash(
                index, k, after, where
            )
            if problems:
                raise ValidationFailed(problems)
            change = store.Change(k, key, action, before, after)
            if not change.changed_fields:
                return None
            now = utcnow()
            store.write_changes(conn, [change], now)
            record_revisions(conn, [change], self.actor, message, now)
        return change

    def retire(self, key: str, message: str | None = None) -> Change | None:
        """Mark an activity retired (kept in the register and its history)."""
        return self.edit("activity", key, Edit(set={"status": "retired"}), message, "retire")

    def remove(self, kind: str, key: str, message: str | None = None) -> None:
        """Delete a record; refuses while other records refer to it."""
        from ropa import store
        from ropa.history import record_revisions, utcnow

        k = kind_named(kind)
        with self.db.write() as conn:
            before = store.read_records(conn, k, [key]).get(key)
            if before is None:
                raise NotFound(self._not_found(conn, k, key))
            users = store.referencing(conn, k, [key]).get(key, [])
            if users:
                raise StillReferenced(_still_referenced(k, key, users))
            change = store.Change(k, key, "delete", before, None)
            now = utcnow()
            store.write_changes(conn, [change], now)
            record_revisions(conn, [change], self.actor, message, now)

    def import_documents(
        self,
        documents: list[tuple[Any, str]],
        replace: bool = False,
        dry_run: bool = False,
        message: str | None = None,
    ) -> ImportReport:
        """Upsert the records of registry documents, given as (document, source name) pairs
        (or, with `replace`, make the register exactly their content). All or nothing: any
        problem raises ValidationFailed and nothing is written."""
        return self.import_records(documents, [], None, replace, dry_run, message)

    def import_records(
        self,
        documents: list[tuple[Any, str]],
        tables: list[Table],
        kind: str | None = None,
        replace: bool = False,
        dry_run: bool = False,
        message: str | None = None,
        stage: Callable[[str], None] | None = None,
    ) -> ImportReport:
        """Upsert the records of registry documents and of data-layout tables (sheets, CSV
        files); `kind` forces the kind of every table and of documents that are plain lists
        of records. All or nothing, as :meth:`import_documents`. `stage(what)` hears of each
        step after the input is read ("checking", "writing"), for a progress display."""
        from ropa import store

        with store.gc_paused():  # many small objects, no cycles: see gc_paused
            return self._import_records(
                documents, tables, kind, replace, dry_run, message, stage or (lambda _: None)
            )

    def _import_records(
        self,
        documents: list[tuple[Any, str]],
        tables: list[Table],
        kind: str | None,
        replace: bool,
        dry_run: bool,
        message: str | None,
        stage: Callable[[str], None],
    ) -> ImportReport:
        from concurrent.futures import ThreadPoolExecutor

        from ropa import store
        from ropa.history import record_revisions, revision_documents, utcnow
        from ropa.io.data_layout import attach_nested, parse_tables

        incoming, seen, problems = _parse_documents(documents, kind)
        parsed = parse_tables(tables, kind)
        problems += parsed.problems
        for kind_name, records in parsed.records.items():
            problems += _merge(incoming[kind_name], records, KINDS[kind_name], seen)
        stage("checking")
        source = ", ".join([name for _, name in documents] + list({t.source: 1 for t in tables}))
        report = ImportReport(dry_run=dry_run, warnings=parsed.warnings)
        with self.db.write() as conn:
            current = self._state(conn)
            existing = {k: r["name"] for k, r in current[ACTIVITY.name].items()}
            problems += attach_nested(parsed, incoming[ACTIVITY.name], existing)
            parsed.nested.clear()  # now in the activities; the rows' wrappers can go
            # The records are checked even when some cells could not be read, so that one
            # run reports every problem; a cell already reported is not reported again.
            state, changes, found = plan_import(current, incoming, replace, source)
            reported = {p.where for p in problems}
            problems += [p for p in found if p.where not in reported]
            if problems:
                raise ValidationFailed(problems, warnings=parsed.warnings)
            incoming.clear()  # the records live on in `state` and `changes`
            parsed.records.clear()
            for k in KINDS.values():
                report.unchanged[k.name] = len(state[k.name])
            for change in changes:
                counter = {
                    "create": report.created,
                    "update": report.updated,
                    "delete": report.deleted,
                }[change.action]
                counter[change.kind.name] += 1
                if change.action != "delete":
                    report.unchanged[change.kind.name] -= 1
            if dry_run or not changes:
                return report
            stage("writing")
            now = utcnow()
            # The revisions' JSON is encoded in a thread while the records are written: the
            # database driver lets go of the GIL while it works, so the two run side by side.
            with ThreadPoolExecutor(1) as pool:
                documents = pool.submit(revision_documents, changes)
                store.write_changes(conn, changes, now)
                record_revisions(conn, changes, self.actor, message, now, documents.result())
        return report

    # -- helpers -------------------------------------------------------------------------

    @staticmethod
    def _name_clash(index: Index, kind: Kind, record: dict, where: str) -> list[Problem]:
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

    @staticmethod
    def _apply_edit(kind: Kind, before: dict, edit: Edit, index: Index, where: str) -> dict:
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


def _remove_item(f, record: dict, item: Any, index: Index) -> bool:
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


def _still_referenced(kind: Kind, key: str, users: list[tuple[str, str]]) -> str:
    shown = ", ".join(f"{KINDS[k].label} {u}" for k, u in users[:10])
    more = f" and {len(users) - 10} more" if len(users) > 10 else ""
    return f"{kind.label} {key!r} is still used by {shown}{more}; remove those references first"


def parse_documents(documents: list[tuple[Any, str]]) -> dict[str, list[tuple[str, dict]]]:
    """The parsed records of documents by kind, each with its location; raises
    ValidationFailed with every problem (unknown sections, bad values, duplicate keys)."""
    incoming, _, problems = _parse_documents(documents, None)
    if problems:
        raise ValidationFailed(problems)
    return incoming


def _parse_documents(
    documents: list[tuple[Any, str]], kind: str | None
) -> tuple[dict[str, list[tuple[str, dict]]], dict[tuple[str, str], str], list[Problem]]:
    """Records by kind, the place of every key seen, and every problem. With `kind`, a
    document may also be a plain list of records of that kind (as `list --format json`
    prints them)."""
    problems: list[Problem] = []
    incoming: dict[str, list[tuple[str, dict]]] = {k.name: [] for k in KINDS.values()}
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
    incoming: dict[str, list[tuple[str, dict]]],
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
    return problems + _merge(incoming[kind.name], records, kind, seen)


def _merge(
    into: list[tuple[str, dict]],
    records: list[tuple[Where, dict]],
    kind: Kind,
    seen: dict[tuple[str, str], str],
) -> list[Problem]:
    """Add parsed records to the import, refusing a key seen before."""
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


def plan_import(
    current: dict[str, dict[str, dict]],
    incoming: dict[str, list[tuple[str, dict]]],
    replace: bool,
    source: str,
) -> tuple[dict[str, dict[str, dict]], list, list[Problem]]:
    """The register after an import, the changes that lead there, and every problem."""
    from ropa import store

    problems: list[Problem] = []
    state: dict[str, dict[str, dict]] = {}
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
                    record = new_record(kind)
                    record.update(parsed)
            else:
                record = copy_record(kind, base)
                record.update(parsed)
            records[key] = record
            touched.append((kind, key, where))
        state[kind.name] = records

    index = _index_for_state(state)
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
            changes.append(store.Change(kind, key, "create", None, after))
            continue
        change = store.Change(kind, key, "update", before, after)
        if change.changed_fields:
            changes.append(change)
        else:
            state[kind.name][key] = before  # unchanged: keep version and timestamps
    for kind in KINDS.values():
        for key in sorted(deleted[kind.name]):
            changes.append(store.Change(kind, key, "delete", current[kind.name][key], None))
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


def _document_sections(
    conn, references: dict[str, dict[str, dict]]
) -> Iterator[tuple[str, Iterator[list[dict]]]]:
    from ropa import store
    from ropa.io.document import document_record

    def activity_batches() -> Iterator[list[dict]]:
        batch: list[dict] = []
        for record in store.iter_records(conn, ACTIVITY):
            batch.append(document_record(ACTIVITY, record))
            if len(batch) == 1000:
                yield batch
                batch = []
        yield batch

    for kind in REFERENCE_KINDS:
        records = references[kind.name]
        yield kind.section, iter([[document_record(kind, records[key]) for key in sorted(records)]])
    yield ACTIVITY.section, activity_batches()


def _fingerprint(conn, references: dict[str, dict[str, dict]]) -> str:
    import hashlib

    from ropa.io.document import yaml_chunks

    digest = hashlib.sha256()
    for chunk in yaml_chunks(_document_sections(conn, references)):
        digest.update(chunk.encode("utf-8"))
    return digest.hexdigest()


#: Registers with at least this many activities are checked by several processes.
PARALLEL_CHECK_FROM = 20_000
MAX_CHECK_WORKERS = 4


def _entity_clause(entity: str | None) -> Any:
    from ropa import store

    return store.record_table(ACTIVITY).c.controller == entity if entity else None


def _split(keys: list[str], parts: int) -> list[list[str]]:
    size = -(-len(keys) // parts)
    return [keys[i : i + size] for i in range(0, len(keys), size)]


def _check_in_processes(
    db: Database,
    references: dict[str, dict[str, dict]],
    ranges: list[tuple[str, str]],
    entity: str | None,
    rules: list,
    today: date,
) -> list[Finding]:
    """Check each key range in a forked process; party rules run here on what they saw."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from ropa import checks

    db.dispose()  # no open connection may cross the fork
    context = multiprocessing.get_context("fork")
    jobs = [(db.url, first, last, entity, [r.id for r in rules], today) for first, last in ranges]
    with ProcessPoolExecutor(len(jobs), mp_context=context) as pool:
        parts = list(pool.map(_check_range, jobs))
    ctx = checks.Context(references, today)
    found: list[Finding] = []
    for findings, recipients, controllers in parts:
        found += findings
        ctx.recipients_seen |= recipients
        ctx.controllers_seen |= controllers
    return checks.sort_findings(found + checks.check_parties(ctx, rules))


def _check_range(
    job: tuple[str, str, str, str | None, list[str], date],
) -> tuple[list[Finding], set[str], set[str]]:
    """In a worker process: the per-activity findings of the activities in a key range."""
    import sqlalchemy as sa

    from ropa import checks, store

    url, first, last, entity, rule_ids, today = job
    db = Database(url)
    try:
        with db.read() as conn:
            references = Registry._references(conn)
            key = store.record_table(ACTIVITY).c.key
            if conn.dialect.name != "sqlite":
                key = key.collate("C")  # the order the ranges were cut in
            where = key.between(first, last)
            if entity:
                where = sa.and_(where, _entity_clause(entity))
            ctx = checks.Context(references, today)
            rules = [checks.RULES[r] for r in rule_ids]
            findings = checks.check_activities(
                ctx, store.iter_records(conn, ACTIVITY, where), rules
            )
    finally:
        db.dispose()
    return findings, ctx.recipients_seen, ctx.controllers_seen


#: From this many activities on, the fingerprint of an export is computed by a process of its
#: own while the export is written.
PARALLEL_FINGERPRINT_FROM = 20_000


def _fingerprint_later(db: Database, conn, references: dict[str, dict[str, dict]]):
    """A function returning the registry fingerprint of the snapshot `conn` reads.

    For a large register, a forked process computes it while the caller writes the export;
    it reads its own snapshot, so when the revision log shows that something was written in
    between, the fingerprint is computed again here, from the caller's snapshot."""
    import os

    import sqlalchemy as sa

    from ropa import store
    from ropa.models import Revision

    table = store.record_table(ACTIVITY)
    total = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    if total < PARALLEL_FINGERPRINT_FROM or (os.cpu_count() or 1) < 2:
        value = _fingerprint(conn, references)
        return lambda: value
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    seen = conn.execute(sa.select(sa.func.max(Revision.id))).scalar()
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
    future = pool.submit(_fingerprint_job, db.url)

    def result() -> str:
        try:
            value, revision = future.result()
        finally:
            pool.shutdown()
        return value if revision == seen else _fingerprint(conn, references)

    return result


def _fingerprint_job(url: str) -> tuple[str, int | None]:
    """In a worker process: the fingerprint, and the newest revision of the snapshot read."""
    import sqlalchemy as sa

    from ropa.models import Revision

    db = Database(url)
    try:
        with db.read() as conn:
            revision = conn.execute(sa.select(sa.func.max(Revision.id))).scalar()
            return _fingerprint(conn, Registry._references(conn)), revision
    finally:
        db.dispose()
