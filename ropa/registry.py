"""The service layer: validated reads and writes of the register, each write with history.

Every write runs in one serialized transaction (see :meth:`ropa.db.Database.write`): it reads
the current records, validates the whole result, writes rows and revisions, or raises and
leaves the database as it was. What a write would do is worked out in memory by
:mod:`ropa.planning`; rows are read and written by :mod:`ropa.store`; every change is logged
by :mod:`ropa.history`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ropa import words
from ropa.db import Database, fold_case
from ropa.errors import BadOption, NotFound, Problem, RopaError, StillReferenced, ValidationFailed
from ropa.planning import (
    Edit,
    ImportReport,
    Incoming,
    State,
    Stored,
    apply_edit,
    merge_records,
    name_clash,
    plan_import,
    read_documents,
    state_index,
)
from ropa.schema import ACTIVITY, KINDS, REFERENCE_KINDS, Kind, T, kind_named
from ropa.validate import (
    Index,
    LayeredIndex,
    LookupIndex,
    Where,
    as_where,
    check_record,
    closest,
    parse_record,
    read_by_rules,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from ropa.checks import Finding
    from ropa.history import Diff, RevisionView
    from ropa.io.data_layout import ParsedTables, Table
    from ropa.io.record_cells import Cover, RecordBuilder, RecordScope
    from ropa.notice import Notice
    from ropa.records import Change
    from ropa.review import ReturnedPack, ReviewOutcome, ReviewRow
    from ropa.store import Filter

# Edit and ImportReport are part of the Registry's interface: its callers import them here.
__all__ = ["Edit", "ImportReport", "Registry"]


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
                raise NotFound(_not_found(conn, k, key))
        return records[key]

    def list(self, kind: str, filters: Mapping[str, Any] | None = None) -> list[dict]:
        """Records of a kind sorted by key, those the filter options take ({name: value or
        values}, see :mod:`ropa.find`): activities by owner, entity, subject, category…;
        other kinds by search text, use, kind or special."""
        from ropa import store

        k = kind_named(kind)
        with self.db.read() as conn:
            where = _filter(conn, k, filters or {})
            return list(store.read_records(conn, k, where=where).values())

    @contextmanager
    def find(
        self, kind: str, filters: Mapping[str, Any] | None = None, batch: int = 1000
    ) -> Iterator[Iterator[dict]]:
        """The records of a kind that the filter options take, in key order (without version
        and timestamps), read `batch` at a time as they are consumed: a listing of any size
        in flat memory."""
        from ropa import store

        k = kind_named(kind)
        with self.db.read() as conn:
            where = _filter(conn, k, filters or {})
            yield store.iter_records(conn, k, where, batch=batch)

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
        from ropa import checks, parallel
        from ropa.history import today as today_

        rules = checks.select_rules(only or (), ignore or ())
        today = today or today_()
        with self.db.read() as conn:
            references = _references(conn)
            entity = _resolve_entity(references, entity) if entity else None
            return parallel.find(self.db, conn, references, entity, rules, today)

    def history(
        self,
        key: str | None = None,
        kind: str | None = None,
        since: date | datetime | None = None,
        until: date | datetime | None = None,
        actor: str | None = None,
    ) -> list[RevisionView]:
        """Revisions matching the filters, oldest first, each with the fields it changed."""
        with self.history_stream(key, kind, since, until, actor) as revisions:
            return list(revisions)

    @contextmanager
    def history_stream(
        self,
        key: str | None = None,
        kind: str | None = None,
        since: date | datetime | None = None,
        until: date | datetime | None = None,
        actor: str | None = None,
    ) -> Iterator[Iterator[RevisionView]]:
        """The revisions :meth:`history` returns, read a batch at a time as they are
        consumed (inside the block), for a log of any size in flat memory."""
        from ropa.history import iter_revisions

        if kind:
            kind = kind_named(kind).name
        with self.db.read() as conn:
            yield iter_revisions(conn, key, kind, since, until, actor)

    def document_as_of(self, when: date | datetime) -> dict:
        """The registry document as it stood at the end of a day (UTC), or at a date-time."""
        from ropa.history import document_as_of, moment_after

        with self.db.read() as conn:
            return document_as_of(conn, moment_after(when))

    def revision(self, kind: str, key: str, version: int) -> tuple[str, dict]:
        """(action, record) of one stored version of a record, in its document form."""
        from ropa.history import record_versions, stored_revision

        k = kind_named(kind)
        with self.db.read() as conn:
            found = stored_revision(conn, k.name, key, version)
            if found is None:
                versions = record_versions(conn, k.name, key)
                if not versions:
                    raise NotFound(f"no revisions of {k.label} {key!r}")
                raise NotFound(
                    f"{k.label} {key!r} has no version {version}; its versions are "
                    f"{', '.join(map(str, versions))}"
                )
        return found

    def restore(
        self, kind: str, key: str, version: int, message: str | None = None
    ) -> Change | None:
        """Write a stored version of a record back as a new revision (a deleted record comes
        back), its references checked as for any edit; None when it is what is stored."""
        from ropa import store

        k = kind_named(kind)
        _, stored = self.revision(k.name, key, version)
        where = f"{k.name} {key}"
        parsed, problems = parse_record(k, stored, where)
        if problems:
            raise ValidationFailed(problems)
        with self.db.write() as conn:
            before = store.read_records(conn, k, [key]).get(key)
            after = k.new_record() | parsed
            index = _index(conn)
            problems = check_record(k, after, index, where) + name_clash(index, k, after, where)
            if before is not None and read_by_rules(k, before, after):
                problems += _dependents(conn, k, after, index, where)
            if problems:
                raise ValidationFailed(problems)
            change = store.Change(k, key, "create" if before is None else "update", before, after)
            if before is not None and not change.changed_fields:
                return None
            self._write(conn, [change], message or f"restore version {version}")
        return change

    def restore_as_of(
        self, when: date | datetime, dry_run: bool = False, message: str | None = None
    ) -> ImportReport:
        """Bring the whole register back to its state at WHEN (the end of a day, or a
        date-time) in one transaction, one revision per changed record."""
        _refuse_future(when)
        document = self.document_as_of(when)
        return self.import_documents(
            [(document, f"the register as of {when}")],
            dry_run=dry_run,
            message=message or f"restore --as-of {when}",
            replace_all=True,
        )

    def diff(self, since: date | datetime, until: date | datetime | None = None) -> Diff:
        """What changed from the start of `since` to the end of `until` (default: today): days,
        or date-times."""
        from ropa.history import diff, documents_changed_between, moment_after, moment_at, today

        until = until or today()
        start, end = moment_at(since), moment_after(until)
        if end <= start:
            raise RopaError(f"--until {until} is before --since {since}")
        with self.db.read() as conn:
            before, after = documents_changed_between(conn, start, end)
        return diff(before, after, since, until)

    @contextmanager
    def as_of(self, day: date | datetime) -> Iterator[Registry]:
        """A read-only view of the register as it stood at the end of `day` (UTC), or at a
        date-time. The registry document (and exports of it) streams from the revision log,
        one query per kind; any other read (the record, the checks, the notice) works on a
        temporary database rebuilt from it, made on first use."""
        from ropa.history import moment_after

        _refuse_future(day)
        past = _PastRegistry(self, moment_after(day), f"the register as of {day}")
        try:
            yield past  # type: ignore[misc]
        finally:
            past.close()

    def notice(self, entity: str | None = None) -> Notice:
        """The privacy notice of the active activities of one group member, or of all."""
        from ropa import store
        from ropa.history import today
        from ropa.notice import build_notice, notice_activities

        with self.db.read() as conn:
            references = _references(conn)
            entity = _resolve_entity(references, entity) if entity else None
            where = store.Filter(member=entity) if entity else None
            activities = notice_activities(store.iter_records(conn, ACTIVITY, where))
            latest = store.latest_update(conn, ACTIVITY)
        updated = latest.date() if latest else today()
        return build_notice(references, activities, entity, updated)

    @contextmanager
    def document_sections(self) -> Iterator[Iterator[tuple[str, Iterator[list[dict]]]]]:
        """The registry document as (section, batches of records), read as it is consumed:
        for exports of any size in flat memory."""
        from ropa.snapshot import document_sections

        with self.db.read() as conn:
            yield document_sections(conn, _references(conn))

    def fingerprint(self) -> str:
        """SHA-256 of the canonical YAML of the whole registry document."""
        from ropa.snapshot import fingerprint

        with self.db.read() as conn:
            return fingerprint(conn, _references(conn))

    @contextmanager
    def record(
        self, scope: RecordScope, filters: Mapping[str, Any] | None = None
    ) -> Iterator[tuple[Cover, RecordBuilder, Iterator[dict]]]:
        """The Article 30 record of a scope: its cover, a row builder, and the activities in
        key order (read as they are consumed), all from one snapshot of the register. The
        scope is left as given; the cover names the group member it resolved to. `filters`
        (the activity filters of `list`, :mod:`ropa.find`) narrow the activities."""
        from ropa import __version__, store
        from ropa.history import utcnow
        from ropa.io.record_cells import Cover, RecordBuilder
        from ropa.parallel import fingerprint_later

        with fingerprint_later(self.db) as fingerprint, self.db.read() as conn:
            references = _references(conn)
            if scope.entity:
                scope = dataclasses.replace(scope, entity=_resolve_entity(references, scope.entity))
            where, scope_text = _record_filter(scope, references)
            where = where.narrowed(_filter(conn, ACTIVITY, filters or {}))
            # A group member's record is its own, though some of its activities are another
            # member's that it controls jointly.
            if scope.entity:
                controller_keys = [scope.entity]
            else:
                held = store.distinct_values(conn, ACTIVITY, "controller", where)
                controller_keys = sorted(k for k in held if k)
            cover = Cover(
                controllers=[references["party"][k] for k in controller_keys],
                scope=scope_text,
                as_of=scope.as_of,
                generated_at=utcnow(),
                activities=store.count_records(conn, ACTIVITY, where),
                fingerprint=lambda: fingerprint(conn, references),
                version=__version__,
            )
            activities = store.iter_records(conn, ACTIVITY, where, meta=True)
            yield cover, RecordBuilder(references), activities

    def document(self) -> dict:
        """The registry document of the current register, whole (exports stream it instead,
        from the same sections)."""
        from ropa.records import FORMAT_VERSION

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

    def members_with_records(
        self, scope: RecordScope, filters: Mapping[str, Any] | None = None
    ) -> list[str]:
        """The keys of the group members whose record of a scope (its role, retired
        activities or not; its entity aside) holds an activity (see
        :func:`ropa.schema.of_member`), in order: those `--per-entity` writes."""
        from ropa import store

        with self.db.read() as conn:
            references = _references(conn)
            where, _ = _record_filter(dataclasses.replace(scope, entity=None), references)
            where = where.narrowed(_filter(conn, ACTIVITY, filters or {}))
            members = sorted(
                k for k, p in references["party"].items() if p["kind"] == "group-member"
            )
            return [
                m
                for m in members
                if store.count_records(conn, ACTIVITY, dataclasses.replace(where, member=m))
            ]

    # -- writes --------------------------------------------------------------------------

    def add(self, kind: str, values: Mapping[str, Any], message: str | None = None) -> dict:
        """Create a record; raises ValidationFailed listing every problem."""
        from ropa import store

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
                            f"{words.a(k.label)} with key {parsed['key']!r} already exists; "
                            f"use `ropa {k.name} edit`",
                        )
                    ]
                )
            record = k.new_record() | parsed
            index = _index(conn)
            problems = check_record(k, record, index, where) + name_clash(index, k, record, where)
            if problems:
                raise ValidationFailed(problems)
            self._write(conn, [store.Change(k, record["key"], "create", None, record)], message)
        return record

    def edit(
        self, kind: str, key: str, edit: Edit, message: str | None = None, action: str = "update"
    ) -> Change | None:
        """Change a record (read, modify, write in one serialized transaction); returns the
        change, or None when nothing changed."""
        from ropa import store

        k = kind_named(kind)
        where = f"{k.name} {key}"
        with self.db.write() as conn:
            before = store.read_records(conn, k, [key]).get(key)
            if before is None:
                raise NotFound(_not_found(conn, k, key))
            index = _index(conn)
            after = apply_edit(k, before, edit, index, where)
            problems = check_record(k, after, index, where) + name_clash(index, k, after, where)
            if problems:
                raise ValidationFailed(problems)
            change = store.Change(k, key, action, before, after)
            if not change.changed_fields:
                return None
            if read_by_rules(k, before, after):
                problems = _dependents(conn, k, after, index, where)
                if problems:
                    raise ValidationFailed(problems)
            self._write(conn, [change], message)
        return change

    def retire(self, key: str, message: str | None = None) -> Change | None:
        """Mark an activity retired (kept in the register and its history)."""
        return self.edit("activity", key, Edit(set={"status": "retired"}), message, "retire")

    def remove(self, kind: str, key: str, message: str | None = None) -> None:
        """Delete a record; refuses while other records refer to it."""
        from ropa import store

        k = kind_named(kind)
        with self.db.write() as conn:
            before = store.read_records(conn, k, [key]).get(key)
            if before is None:
                raise NotFound(_not_found(conn, k, key))
            users = store.referencing(conn, k, [key]).get(key, [])
            if users:
                raise StillReferenced(_still_referenced(k, key, users))
            self._write(conn, [store.Change(k, key, "delete", before, None)], message)

    def import_documents(
        self,
        documents: list[tuple[Any, str]],
        replace: bool = False,
        dry_run: bool = False,
        message: str | None = None,
        replace_all: bool = False,
    ) -> ImportReport:
        """Upsert the records of registry documents, given as (document, source name) pairs;
        with `replace`, the records of the sections they contain become exactly theirs, with
        `replace_all` the whole register. All or nothing: any problem raises ValidationFailed
        and nothing is written."""
        return self.import_records(
            documents, [], None, replace, dry_run, message, replace_all=replace_all
        )

    def import_records(
        self,
        documents: list[tuple[Any, str]],
        tables: list[Table],
        kind: str | None = None,
        replace: bool = False,
        dry_run: bool = False,
        message: str | None = None,
        stage: Callable[[str], None] | None = None,
        replace_all: bool = False,
        keep_blank: bool = True,
        confirmed: set[tuple[str, str]] | None = None,
    ) -> ImportReport:
        """Upsert the records of registry documents and of data-layout tables (sheets, CSV
        files); `kind` forces the kind of every table and of documents that are plain lists
        of records. `replace` deletes the records of the kinds the files contain that are not
        in them; `replace_all` those of every kind. An empty cell of an existing record keeps
        its value unless `keep_blank` is False. `confirmed`, when given, holds the (kind, key)
        of every record the import may delete (as a dry run listed them): anything more is
        refused. All or nothing, as :meth:`import_documents`. `stage(what)` hears of each
        step after the input is read ("checking", "writing"), for a progress display."""
        from ropa import store

        if not (replace or replace_all):  # the usual import: read, planned and written in batches
            with store.gc_paused():
                return self._import_batched(
                    documents, tables, kind, dry_run, message, stage or (lambda _: None), keep_blank
                )
        from ropa.io.document import StreamedDocument

        # Replacing plans against the whole register: a streamed document is read whole.
        documents = [
            (doc.whole() if isinstance(doc, StreamedDocument) else doc, name)
            for doc, name in documents
        ]
        with store.gc_paused():  # many small objects, no cycles: see gc_paused
            return self._import_replacing(
                documents,
                tables,
                kind,
                "all" if replace_all else "present",
                dry_run,
                message,
                stage or (lambda _: None),
                keep_blank,
                confirmed,
            )

    def _import_replacing(
        self,
        documents: list[tuple[Any, str]],
        tables: list[Table],
        kind: str | None,
        replace: str,
        dry_run: bool,
        message: str | None,
        stage: Callable[[str], None],
        keep_blank: bool = True,
        confirmed: set[tuple[str, str]] | None = None,
    ) -> ImportReport:
        from concurrent.futures import ThreadPoolExecutor

        from ropa import store
        from ropa.history import record_revisions, revision_documents, utcnow
        from ropa.io.data_layout import attach_nested, parse_tables
        from ropa.planning import dropped_rows, dropped_warnings, kept_blanks, present_kinds

        incoming, seen, problems = read_documents(documents, kind)
        parsed = parse_tables(tables, kind, keep_blank)
        problems += parsed.problems
        # "all": every kind is replaced; "present": the kinds the files contain.
        replaced: bool | set[str] = (
            True if replace == "all" else present_kinds(documents, kind) | parsed.kinds
        )
        for kind_name, records in parsed.records.items():
            problems += merge_records(incoming[kind_name], records, KINDS[kind_name], seen)
        stage("checking")
        source = ", ".join([name for _, name in documents] + list({t.source: 1 for t in tables}))
        report = ImportReport(dry_run=dry_run, warnings=parsed.warnings)
        with self.db.write() as conn:
            # Deletions: the whole register is read, and planned against.
            current = store.read_kinds(conn, KINDS.values())
            existing = {k: r["name"] for k, r in current[ACTIVITY.name].items()}
            problems += attach_nested(parsed, incoming[ACTIVITY.name], existing)
            parsed.nested.clear()  # now in the activities; the rows' wrappers can go
            # The records are checked even when some cells could not be read, so that one
            # run reports every problem; a cell already reported is not reported again.
            state, changes, found = plan_import(current, incoming, replaced, source)
            reported = {p.where for p in problems}
            problems += [p for p in found if p.where not in reported]
            if problems:
                raise ValidationFailed(problems, warnings=parsed.warnings)
            blanks = kept_blanks(current, incoming) if keep_blank and tables else 0
            if blanks:
                report.warnings.append(
                    f"{blanks} empty cell{'s' * (blanks != 1)} of existing records kept the "
                    "stored value (--blank keep, the default); --blank clear makes empty "
                    "cells clear fields"
                )
            dropped: dict[str, dict[str, int]] = {}
            dropped_rows(changes, parsed.nested_sheets, dropped)
            report.warnings += dropped_warnings(dropped)
            incoming.clear()  # the records live on in `state` and `changes`
            parsed.records.clear()
            report.count({k: len(records) for k, records in state.items()}, changes)
            unconfirmed = report.deletions() - confirmed if confirmed is not None else set()
            if unconfirmed and not dry_run:
                shown = ", ".join(f"{k} {key}" for k, key in sorted(unconfirmed)[:10])
                raise RopaError(
                    f"the register changed since the deletions were confirmed: the import "
                    f"would now also delete {shown}; nothing was changed, run it again"
                )
            if dry_run or not changes:
                return report
            stage("writing")
            now = utcnow()
            # The revisions' JSON is encoded in a thread while the records are written: the
            # database driver lets go of the GIL while it works, so the two run side by side.
            with ThreadPoolExecutor(1) as pool:
                encoded = pool.submit(revision_documents, changes)
                store.write_changes(conn, changes, now)
                record_revisions(conn, changes, self.actor, message, now, encoded.result())
        return report

    def _import_batched(
        self,
        documents: list[tuple[Any, str]],
        tables: list[Table],
        kind: str | None,
        dry_run: bool,
        message: str | None,
        stage: Callable[[str], None],
        keep_blank: bool,
    ) -> ImportReport:
        """An import that replaces nothing, in bounded batches inside one transaction: the
        records of every kind but activities (a few hundred or thousand: they are read,
        planned and written first), then the activities :data:`IMPORT_BATCH` at a time as
        they are read from streamed documents and activity sheets, each batch with its
        transfers and retention rows, planned against the register (and the import's other
        records) and written. Memory holds one batch, the reference records of the import,
        the keys and names of its activities (for duplicates across batches) and the
        transfers and retention rows (grouped by activity). Any problem in any batch: no
        batch after it is written, every problem is reported, and the transaction (with the
        batches written before) is rolled back."""
        from concurrent.futures import ThreadPoolExecutor

        from ropa import store
        from ropa.history import record_revisions, revision_documents, utcnow
        from ropa.io.data_layout import NestedRows, attach_nested, parse_tables
        from ropa.io.data_layout.parse import ParsedTables
        from ropa.planning import dropped_rows, dropped_warnings, kept_blanks, stored_dependents

        incoming, seen, problems = read_documents(documents, kind)
        parsed = parse_tables(tables, kind, keep_blank, stream=True)
        later: list[Problem] = []  # merging, nested rows and planning, after the reading
        for kind_name, records in parsed.records.items():
            later += merge_records(incoming[kind_name], records, KINDS[kind_name], seen)
            records.clear()  # an activity sheet's stream passes its records through here
        nested = parsed.nested
        assert isinstance(nested, NestedRows)
        parsed.nested = []
        source = ", ".join([name for _, name in documents] + list({t.source: 1 for t in tables}))
        report = ImportReport(dry_run=dry_run, warnings=parsed.warnings)
        stage("checking")
        activities = incoming[ACTIVITY.name]
        incoming[ACTIVITY.name] = []
        reported: set[str] = set()
        blanks = 0
        now = utcnow()

        def all_problems() -> list[Problem]:
            return problems + parsed.problems + later

        dropped: dict[str, dict[str, int]] = {}  # see dropped_rows

        def plan(
            conn: Connection, current: dict, part: Incoming, stored: Stored
        ) -> tuple[dict, list]:
            nonlocal blanks
            state, changes, found = plan_import(current, part, False, source, stored)
            reported.update(p.where for p in all_problems())
            later.extend(p for p in found if p.where not in reported)
            if keep_blank and tables:
                blanks += kept_blanks(current, part)
            dropped_rows(changes, parsed.nested_sheets, dropped)
            report.add(changes)
            return state, changes

        def write(conn: Connection, changes: list) -> None:
            if dry_run or not changes or all_problems():
                return
            stage("writing")
            # A name this batch takes from a stored record that a later batch of the file
            # renames (a swap across batches): that record lets go of it until it is written.
            for k in {c.kind.name: c.kind for c in changes}.values():
                names = store.taken_names([c for c in changes if c.kind is k])
                ours = {c.key for c in changes if c.kind is k}
                holders = [key for key, *_ in store.lookup(conn, k, [], names)]
                store.free_names(
                    conn, k, [h for h in holders if h not in ours and (k.name, h) in seen]
                )
            # The revisions' JSON is encoded in a thread while the records are written: the
            # database driver lets go of the GIL while it works, so the two run side by side.
            with ThreadPoolExecutor(1) as pool:
                encoded = pool.submit(revision_documents, changes)
                store.write_changes(conn, changes, now)
                record_revisions(conn, changes, self.actor, message, now, encoded.result())

        with self.db.write() as conn:
            sizes = {k.name: store.count_records(conn, k) for k in KINDS.values()}

            def stored_by(index: Index, imported: Any = ()) -> Stored:
                return Stored(
                    index,
                    lambda k, keys: [
                        u for us in store.referencing(conn, k, keys).values() for u in us
                    ],
                    lambda k, keys: store.read_records(conn, k, keys),
                    imported,
                    dependents=False,
                )

            # 1. The records of every other kind, planned and written at once.
            references_current = {
                k.name: store.read_records(conn, k, [r["key"] for _, r in incoming[k.name]])
                for k in KINDS.values()
            }
            state, changes = plan(conn, references_current, incoming, stored_by(_index(conn)))
            touched = [(KINDS[k], r["key"], w) for k, rs in incoming.items() for w, r in rs]
            write(conn, changes)
            del changes
            incoming.clear()

            # 2. The activities, a batch at a time; then the rows naming stored activities.
            names: dict[str, str] = {}  # lowercased name -> key, of the batches planned
            bulk = contextlib.ExitStack()  # once a bulk import: list-table indexes built last
            bulked = False
            batches = _activity_batches(activities, documents, parsed.streams, seen, later)
            for batch in itertools.chain(batches, [None]):
                lookups = _index(conn)  # one per batch: what it learns is let go with it
                index = LayeredIndex(lookups, state)
                # Whole records are read only for the keys stored already (a plain indexed
                # look-up tells which): a new activity costs no aggregating query.
                keys = [r["key"] for _, r in batch or ()]
                lookups.prefetch(ACTIVITY.name, keys, names=False)
                stored_activities = store.read_records(
                    conn, ACTIVITY, [k for k in keys if lookups.has(ACTIVITY.name, k)]
                )
                existing = {k: r["name"] for k, r in stored_activities.items()}
                if batch is None:  # the rows left name activities outside the import
                    rows = nested.rest()
                    if not rows:
                        break
                    batch = []
                    lookups.prefetch(ACTIVITY.name, {row.activity for row in rows})
                    existing = lookups.found(ACTIVITY.name)
                else:
                    rows = nested.take(batch)
                if parsed.nested_sheets:
                    part = ParsedTables(nested=rows, nested_sheets=parsed.nested_sheets)
                    part.keep_blank = parsed.keep_blank
                    later.extend(attach_nested(part, batch, existing))
                    more = [
                        r["key"]
                        for _, r in batch
                        if r["key"] not in stored_activities and r["key"] in existing
                    ]
                    stored_activities.update(store.read_records(conn, ACTIVITY, more))
                current = {k.name: {} for k in KINDS.values()}
                current[ACTIVITY.name] = stored_activities
                part_in: Incoming = {k.name: [] for k in KINDS.values()}
                part_in[ACTIVITY.name] = batch
                done, changes = plan(conn, current, part_in, stored_by(index, seen))
                named = {fold_case(r.get("name") or ""): k for k, r in done[ACTIVITY.name].items()}
                named.pop("", None)
                for name, key in named.items():  # a name of an earlier batch's: a clash
                    if names.get(name, key) != key:
                        record = done[ACTIVITY.name][key]
                        where = next((w for w, r in batch if r["key"] == key), None)
                        at = as_where(where).at("name") if where else f"{source}:activities"
                        later.append(_shared_name(at, record["name"], [names[name], key]))
                names.update(named)
                write(conn, changes)
                if len(names) >= store.BULK_FROM and not bulked:
                    bulk.enter_context(store.bulk_indexes(conn, ACTIVITY))
                    bulked = True
                # No collection here: a batch leaves no cycles (tests/test_import_batches.py
                # counts the records alive), and each pass walked every object of the batch.
                del batch, changes, done, current, part_in, rows

            bulk.close()
            # 3. The stored records the import leaves alone, checked once against it all.
            planned = {
                **state,
                ACTIVITY.name: {k for kind_name, k in seen if kind_name == "activity"},
            }
            index = LayeredIndex(_index(conn), state)
            later.extend(
                stored_dependents(
                    references_current, planned, touched, stored_by(index), index, source
                )
            )
            found = all_problems()
            if found:
                raise ValidationFailed(found, warnings=parsed.warnings)
            if blanks:
                report.warnings.append(
                    f"{blanks} empty cell{'s' * (blanks != 1)} of existing records kept the "
                    "stored value (--blank keep, the default); --blank clear makes empty "
                    "cells clear fields"
                )
            report.warnings += dropped_warnings(dropped)
            report.finish(sizes)
        return report

    def _write(
        self,
        conn: Connection,
        changes: list[Change],
        message: str | None,
        actor: str | None = None,
    ) -> None:
        """Write changes and their revisions, stamped with one time, on behalf of `actor`
        (the registry's actor when None)."""
        from ropa import store
        from ropa.history import record_revisions, utcnow

        now = utcnow()
        store.write_changes(conn, changes, now)
        record_revisions(conn, changes, actor or self.actor, message, now)

    # -- the review cycle ------------------------------------------------------------------

    def apply_review(
        self,
        packs: list[ReturnedPack],
        dry_run: bool = False,
        skip_stale: bool = False,
        today: date | None = None,
    ) -> ReviewOutcome:
        """Apply returned review packs in one transaction: `confirmed` rows set
        `last_reviewed` to `today` and nothing else, `changed` rows apply their edited cells
        (empty cells keep values) and set `last_reviewed`, `retire` rows retire the activity;
        a `confirmed` or `retire` row that differs from the register is refused.
        Each revision records the row's reviewer (else the registry's actor) and comment.
        A row whose activity changed since its pack was made is refused, with who changed it
        and when, and nothing is written; with `skip_stale` the other rows are applied."""
        from ropa import store
        from ropa.history import list_revisions
        from ropa.history import today as today_
        from ropa.io.data_layout import attach_nested, parse_tables
        from ropa.planning import plan_import
        from ropa.review import CHANGED, CONFIRMED, RETIRE, ReviewOutcome

        today = today or today_()
        problems: list[Problem] = [p for pack in packs for p in pack.problems]
        parsed = parse_tables([t for pack in packs for t in pack.tables])
        problems += parsed.problems
        rows = {}
        for pack in packs:
            for row in pack.rows:
                if row.key in rows:
                    problems.append(
                        Problem(
                            row.where,
                            f"activity {row.key} is reviewed twice (also at {rows[row.key].where})",
                        )
                    )
                rows[row.key] = row
        outcome = ReviewOutcome(not_reviewed=sum(p.not_reviewed for p in packs))
        incoming: dict[str, list] = {k: [] for k in KINDS}
        for where, values in parsed.records[ACTIVITY.name]:
            if values["key"] in rows:
                values["last_reviewed"] = today
                incoming[ACTIVITY.name].append((where, values))
        # The other reviewed rows as returned: never applied, compared with the register below.
        # A cell there that does not parse is not applied either: a warning, not a refusal (a
        # name stored before today's rules came back as it was).
        returned = parse_tables([t for pack in packs for t in pack.returned])
        unapplied = [f"{p} (not applied: the row is not 'changed')" for p in returned.problems]
        warnings = [*parsed.warnings, *unapplied]
        for where, values in returned.records[ACTIVITY.name]:
            row = rows.get(values["key"])
            if row is not None and row.review != CHANGED:
                incoming[ACTIVITY.name].append(
                    (
                        where,
                        {"key": row.key, "last_reviewed": today}
                        if row.review == CONFIRMED
                        else {"key": row.key, "status": "retired"},
                    )
                )
        source = ", ".join(p.source for p in packs)
        report = ImportReport(dry_run=dry_run, warnings=warnings)
        with self.db.write() as conn:
            # The reviewed activities are read, and indexed look-ups answer for the rest of
            # the register: a review costs what the packs hold, not what the register does.
            activities = store.read_records(conn, ACTIVITY, list(rows))
            current = {k.name: {} for k in KINDS.values()}
            current[ACTIVITY.name] = activities
            for row in rows.values():
                stored = activities.get(row.key)
                later = (
                    [
                        r
                        for r in list_revisions(conn, row.key, ACTIVITY.name)
                        if r.version > row.version
                    ]
                    if row.version is not None
                    and (stored is None or stored["version"] != row.version)
                    else []
                )
                if later:  # changed, or removed, since the pack was made
                    outcome.stale.append((row.where, row.key, *_changed_since(later)))
                elif stored is None:
                    problems.append(Problem(row.where, f"no activity {row.key!r} in the register"))
                elif row.version is None:
                    problems.append(
                        Problem(row.where, f"activity {row.key} is not in the pack's versions")
                    )
            stale = {key for _, key, _, _ in outcome.stale}
            if stale and not skip_stale:
                problems += [
                    Problem(
                        where,
                        f"activity {key} {verb} since the pack was made, by {who}; send a new "
                        "pack, or import with --skip-stale to apply the other rows",
                    )
                    for where, key, verb, who in outcome.stale
                ]
            # Stale rows and rows of activities not in the register are not planned (the
            # latter are reported above).
            incoming[ACTIVITY.name] = [
                (w, v)
                for w, v in incoming[ACTIVITY.name]
                if v["key"] not in stale and v["key"] in activities
            ]
            parsed.nested = [n for n in parsed.nested if n.activity not in stale]
            for _, values in incoming[ACTIVITY.name]:
                if rows[values["key"]].review == CHANGED:
                    # The pack held all of the activity's transfers and retention rules: a
                    # row deleted there is a rule removed.
                    values.update({name: [] for name in parsed.nested_sheets})
            existing = {k: r["name"] for k, r in activities.items()}
            problems += attach_nested(parsed, incoming[ACTIVITY.name], existing)
            stored = Stored(
                _index(conn),
                lambda k, keys: [u for us in store.referencing(conn, k, keys).values() for u in us],
                lambda k, keys: store.read_records(conn, k, keys),
            )
            problems += _edits_not_applied(
                returned, rows, activities.keys() - stale, current, stored, source
            )
            _, changes, found = plan_import(current, incoming, False, source, stored)
            reported = {p.where for p in problems}
            problems += [p for p in found if p.where not in reported]
            if problems:
                raise ValidationFailed(problems, warnings=warnings)
            report.count({k.name: store.count_records(conn, k) for k in KINDS.values()}, changes)
            outcome.report = report
            outcome.reviewed = {row.review: 0 for row in rows.values()}
            for row in rows.values():
                if row.key not in stale:
                    outcome.reviewed[row.review] += 1
            if dry_run or not changes:
                return outcome
            groups: dict[tuple[str | None, str | None], list[Change]] = {}
            for change in changes:
                row = rows[change.key]
                if row.review == RETIRE:
                    change.action = "retire"
                message = row.comment or f"review: {row.review}"
                groups.setdefault((row.reviewer, message), []).append(change)
            for (reviewer, message), group in groups.items():
                self._write(conn, group, message, reviewer)
        return outcome


# -- helpers -----------------------------------------------------------------------------


#: Activities planned and written together by an import that replaces nothing: memory
#: holds one batch of records (parsed, planned, encoded for the history) at a time.
IMPORT_BATCH = 5_000


def _activity_batches(
    activities: list[tuple[Where, dict]],
    documents: list[tuple[Any, str]],
    streams: list[Iterator[tuple[Where, dict]]],
    seen: dict[tuple[str, str], str],
    problems: list[Problem],
) -> Iterator[list[tuple[Where, dict]]]:
    """The activities of an import in batches of :data:`IMPORT_BATCH`: those of the documents
    read whole (`activities`, already merged), then those of streamed documents and of
    activity sheets as they are read, each refused when its key was seen before (added to
    `problems`)."""
    from ropa.io.document import StreamedDocument

    def read() -> Iterator[tuple[Where, dict]]:
        yield from activities
        activities.clear()
        for records in itertools.chain(_streamed(documents), streams):
            for where, record in records:
                merged: list[tuple[Where, dict]] = []
                problems.extend(merge_records(merged, [(where, record)], ACTIVITY, seen))
                yield from merged

    def _streamed(documents: list[tuple[Any, str]]) -> Iterator[Iterator[tuple[Where, dict]]]:
        for doc, source in documents:
            if isinstance(doc, StreamedDocument):
                yield _document_activities(doc, source, problems)

    records = read()
    while batch := list(itertools.islice(records, IMPORT_BATCH)):
        yield batch


def _document_activities(
    doc: Any, source: str, problems: list[Problem]
) -> Iterator[tuple[Where, dict]]:
    """The activities of a streamed document, parsed one by one."""
    from ropa.planning import parse_entry

    section = ACTIVITY.section
    for i, raw in enumerate(doc.records()):
        where = Where(f"{source}:{section}[{i}]")
        parsed = parse_entry(ACTIVITY, raw, where, problems)
        if parsed is not None:
            yield where, parsed


def _changed_since(later: list[Any]) -> tuple[str, str]:
    """How an activity changed after a review pack was made ("changed" or "was removed"), and
    by whom: each actor once, and when the last change was."""
    last = later[-1]
    actors = " and ".join(dict.fromkeys(r.actor for r in later))
    when = f"on {last.at:%Y-%m-%d %H:%M} UTC (version {last.version})"
    verb = "was removed" if last.action == "delete" else "changed"
    return verb, f"{actors}{', the last' if len(later) > 1 else ''} {when}"


def _shared_name(where: str, name: str, keys: list[str]) -> Problem:
    """Activities of two batches sharing a name (as planning words it within one batch),
    placed at the name of the later one."""
    return Problem(
        where,
        f"{len(keys)} {ACTIVITY.section} share the name {name!r}: {', '.join(sorted(keys))}; "
        "names are unique within their kind",
    )


def _references(conn: Connection) -> dict[str, dict[str, dict]]:
    """Every record of every kind but activities."""
    from ropa import store

    return store.read_kinds(conn, REFERENCE_KINDS)


def _index(conn: Connection) -> LookupIndex:
    """An index resolving references against the records in the database, by indexed
    look-ups of the keys and names it is asked for."""
    from ropa import store

    return LookupIndex(
        lambda kind, keys, lowered, columns: store.lookup(
            conn, KINDS[kind], keys, lowered, columns
        ),
        lambda kind: store.read_names(conn, KINDS[kind]),
        lambda kind, column: store.read_column(conn, KINDS[kind], column),
    )


def _edits_not_applied(
    returned: ParsedTables,
    rows: Mapping[str, ReviewRow],
    keys: Collection[str],
    current: State,
    stored: Stored,
    source: str,
) -> list[Problem]:
    """A problem for each row reviewed `confirmed` or `retire` (of an activity of `keys`)
    whose cells, or transfers and retention rows, differ from the register: those reviews
    apply no edit, and an owner's correction dropped so would be lost while the activity
    counted as reviewed. Compared as the import compares a row with what it changes: the
    stored record as its own cells would read (its text trimmed, its names composed), its
    transfers and retention rules in any order, and the field the review sets (the date of a
    confirmed row, the status of a retired one) left out."""
    from ropa.io.data_layout import attach_nested
    from ropa.review import CONFIRMED

    unread: dict[str, set[str]] = {}  # the cells of a row that did not parse (warned about)
    for problem in returned.problems:
        place, _, column = str(problem.where).rpartition(":")
        unread.setdefault(place, set()).add(column)
    records = []
    for where, values in returned.records[ACTIVITY.name]:
        row = rows.get(values["key"])
        if row is None or values["key"] not in keys:
            continue
        values.pop("last_reviewed" if row.review == CONFIRMED else "status", None)
        for column in unread.get(str(where), ()):
            values.pop(column, None)
        records.append((where, values | {n: [] for n in returned.nested_sheets}))
    if not records:
        return []
    attach_nested(returned, records, {})
    read = {key: _as_read(record) for key, record in current[ACTIVITY.name].items()}
    incoming = {k: [] for k in KINDS} | {ACTIVITY.name: records}
    _, changes, _ = plan_import({**current, ACTIVITY.name: read}, incoming, False, source, stored)
    problems = []
    for change in changes:
        fields = [
            f
            for f in change.changed_fields
            if not (
                ACTIVITY.field(f).type is T.NESTED
                and sorted(map(repr, change.before[f])) == sorted(map(repr, change.after[f]))
            )
        ]
        if fields:
            one = len(fields) == 1
            problems.append(
                Problem(
                    rows[change.key].where,
                    f"the row's {', '.join(fields)} {'differs' if one else 'differ'} from the "
                    f"register, and {rows[change.key].review!r} applies no edit; write 'changed' "
                    f"to apply {'it' if one else 'them'}, or undo the "
                    f"{'edit' if one else 'edits'}",
                )
            )
    return problems


def _as_read(record: dict) -> dict:
    """A stored activity as its cells in a pack read back: each field parsed as an import
    parses it (text trimmed, names composed); a field stored before a rule it no longer
    meets stays as stored."""
    values, problems = parse_record(ACTIVITY, record, "stored")
    failed = {str(p.where).removeprefix("stored.").split(".")[0].split("[")[0] for p in problems}
    return record | {k: v for k, v in values.items() if k not in failed}


def _dependents(conn: Connection, kind: Kind, after: dict, index: Index, where: str) -> list:
    """The problems a write of `after` would give the records that refer to it (a party's
    kind changed away from group-member while it is an activity's controller, say)."""
    from ropa import store
    from ropa.planning import dependent_problems, prefetch_references

    users = store.referencing(conn, kind, [after["key"]]).get(after["key"], [])
    if not users:
        return []
    key = after["key"]

    overlay = LayeredIndex(index, {kind.name: {key: after}})
    problems = []
    by_kind: dict[str, list[str]] = {}
    for user_kind, user in users:
        by_kind.setdefault(user_kind, []).append(user)
    records = [
        (KINDS[user_kind], record)
        for user_kind, keys in by_kind.items()
        for record in store.read_records(conn, KINDS[user_kind], keys).values()
    ]
    prefetch_references(index, records, {kind.name: {key: after}})
    for user_kind, record in records:
        problems += dependent_problems(user_kind, record, overlay, where)
    return problems


def _resolve_entity(state: dict[str, dict[str, dict]], entity: str) -> str:
    """The key of the group member an --entity option names (by key or by name)."""
    from ropa.find import member_key

    return member_key(state_index(state), entity)


def _filter(conn: Connection, kind: Kind, filters: Mapping[str, Any]) -> Filter | None:
    """The records `list` shows for its filter options, names resolved to keys and codes
    (the conditions are built by :mod:`ropa.find`)."""
    from ropa.find import record_filter

    return record_filter(conn, _index(conn), kind, filters)


def _record_filter(
    scope: RecordScope, references: dict[str, dict[str, dict]]
) -> tuple[Filter, str]:
    """The activities an Article 30 record of a scope covers, and the scope in words."""
    from ropa import store

    equal: dict[str, Any] = {}
    unequal: dict[str, Any] = {}
    scope_text = "All group members"
    if scope.entity:
        scope_text = references["party"][scope.entity]["name"]
    if not scope.include_retired:
        unequal["status"] = "retired"
    if scope.role == "controller":
        unequal["role"] = "processor"
        scope_text += "; controller activities (Art. 30(1))"
    elif scope.role == "processor":
        equal["role"] = "processor"
        scope_text += "; processor activities (Art. 30(2))"
    else:
        scope_text += "; controller and processor activities"
    if scope.include_retired:
        scope_text += "; retired activities included"
    return store.Filter(equal=equal, unequal=unequal, member=scope.entity), scope_text


def _not_found(conn: Connection, kind: Kind, key: str) -> str:
    from ropa import store

    return f"no {kind.label} {key!r}{closest(key, store.read_names(conn, kind))}"


def _still_referenced(kind: Kind, key: str, users: list[tuple[str, str]]) -> str:
    shown = ", ".join(f"{KINDS[k].label} {u}" for k, u in users[:10])
    more = f" and {len(users) - 10} more" if len(users) > 10 else ""
    return f"{kind.label} {key!r} is still used by {shown}{more}; remove those references first"


def _refuse_future(when: date | datetime) -> None:
    """Refuse an --as-of after now: a date after today (UTC), a date-time after this instant
    (its own zone, or UTC when it names none)."""
    from ropa.history import today, utcnow

    if isinstance(when, datetime):
        future = (when if when.tzinfo else when.replace(tzinfo=UTC)) > utcnow()
    else:
        future = when > today()
    if future:
        raise BadOption(f"--as-of {when.isoformat()} is in the future")


class _PastRegistry:
    """The register at a moment, read from the revision log (see :meth:`Registry.as_of`):
    the document sections stream from it; every other read is answered by a temporary
    database rebuilt from them, made on first use."""

    def __init__(self, now: Registry, moment: datetime, label: str):
        self.db = now.db
        self.actor = now.actor
        self._moment = moment
        self._label = label
        self._folder: str | None = None
        self._rebuilt: Registry | None = None

    @contextmanager
    def document_sections(self) -> Iterator[Iterator[tuple[str, Iterator[list[dict]]]]]:
        """The registry document at the moment as (section, batches of records)."""
        from ropa.history import sections_as_of

        with self.db.read() as conn:
            yield sections_as_of(conn, self._moment)

    def document(self) -> dict:
        """The registry document at the moment, whole."""
        from ropa.history import document_as_of

        with self.db.read() as conn:
            return document_as_of(conn, self._moment)

    def fingerprint(self) -> str:
        """SHA-256 of the canonical YAML of the registry document at the moment."""
        import hashlib

        from ropa.io.document import yaml_chunks

        digest = hashlib.sha256()
        with self.document_sections() as sections:
            for chunk in yaml_chunks(sections):
                digest.update(chunk.encode("utf-8"))
        return digest.hexdigest()

    def findings(
        self,
        entity: str | None = None,
        only: list[str] | None = None,
        ignore: list[str] | None = None,
        today: date | None = None,
    ) -> list[Finding]:
        """The checks on the register at the moment, judged on its day (UTC): a review due
        after it was not overdue then, nor had an adequacy decision expired."""
        day = (self._moment - timedelta(microseconds=1)).date()
        return self._temporary().findings(entity, only, ignore, today or day)

    def notice(self, entity: str | None = None) -> Notice:
        """The privacy notice at the moment, dated by the last activity written before it
        (the rebuilt database's records were all written now)."""
        from ropa.history import last_written

        notice = self._temporary().notice(entity)
        with self.db.read() as conn:
            written = last_written(conn, ACTIVITY.name, self._moment)
        notice.updated = written.date() if written else notice.updated
        return notice

    def __getattr__(self, name: str) -> Any:
        return getattr(self._temporary(), name)

    def _temporary(self) -> Registry:
        if self._rebuilt is None:
            import tempfile

            self._folder = tempfile.mkdtemp(prefix="ropa-as-of-")
            past = Database.open(f"{self._folder}/as-of.db")
            past.init()
            Registry(past, "as-of").import_documents([(self.document(), self._label)])
            self._rebuilt = Registry(past, self.actor)
        return self._rebuilt

    def close(self) -> None:
        if self._rebuilt is not None:
            self._rebuilt.db.dispose()
        if self._folder is not None:
            import shutil

            shutil.rmtree(self._folder, ignore_errors=True)
