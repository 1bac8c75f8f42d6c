"""The service layer: validated reads and writes of the register, each write with history.

Every write runs in one serialized transaction (see :meth:`ropa.db.Database.write`): it reads
the current records, validates the whole result, writes rows and revisions, or raises and
leaves the database as it was. What a write would do is worked out in memory by
:mod:`ropa.planning`; rows are read and written by :mod:`ropa.store`; every change is logged
by :mod:`ropa.history`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from ropa import words
from ropa.db import Database
from ropa.errors import NotFound, Problem, RopaError, StillReferenced, ValidationFailed
from ropa.planning import (
    Edit,
    ImportReport,
    apply_edit,
    merge_records,
    name_clash,
    plan_import,
    read_documents,
    state_index,
)
from ropa.schema import ACTIVITY, KINDS, REFERENCE_KINDS, Kind, kind_named
from ropa.validate import Index, check_record, closest, parse_field, parse_record

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from ropa.checks import Finding
    from ropa.history import Diff, RevisionView
    from ropa.io.data_layout import Table
    from ropa.io.record_cells import Cover, RecordBuilder, RecordScope
    from ropa.notice import Notice
    from ropa.records import Change
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

    def list(self, kind: str, filters: Mapping[str, str | None] | None = None) -> list[dict]:
        """Records of a kind sorted by key; activity filters: entity, subject, category,
        status, role; party/measure filter: kind; category filter: special."""
        from ropa import store

        k = kind_named(kind)
        with self.db.read() as conn:
            where = _filter(conn, k, {n: v for n, v in (filters or {}).items() if v})
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
        from ropa import checks, parallel

        rules = checks.select_rules(only or (), ignore or ())
        today = today or datetime.now(UTC).date()
        with self.db.read() as conn:
            references = _references(conn)
            entity = _resolve_entity(references, entity) if entity else None
            return parallel.find(self.db, conn, references, entity, rules, today)

    def history(
        self,
        key: str | None = None,
        kind: str | None = None,
        since: date | None = None,
        until: date | None = None,
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
        since: date | None = None,
        until: date | None = None,
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
            if before is not None:
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
        from ropa.history import utcnow

        if (when.date() if isinstance(when, datetime) else when) > utcnow().date():
            raise RopaError(f"--as-of {when} is in the future")
        document = self.document_as_of(when)
        return self.import_documents(
            [(document, f"the register as of {when}")],
            dry_run=dry_run,
            message=message or f"restore --as-of {when}",
            replace_all=True,
        )

    def diff(self, since: date, until: date | None = None) -> Diff:
        """What changed from the start of `since` to the end of `until` (default: today)."""
        from ropa.history import (
            diff,
            documents_changed_between,
            end_of_day,
            start_of_day,
            utcnow,
        )

        until = until or utcnow().date()
        if until < since:
            raise RopaError(f"--until {until} is before --since {since}")
        with self.db.read() as conn:
            before, after = documents_changed_between(conn, start_of_day(since), end_of_day(until))
        return diff(before, after, since, until)

    @contextmanager
    def as_of(self, day: date | datetime) -> Iterator[Registry]:
        """A read-only view of the register as it stood at the end of `day` (UTC), or at a
        date-time. The registry document (and exports of it) streams from the revision log,
        one query per kind; any other read (the record, the checks, the notice) works on a
        temporary database rebuilt from it, made on first use."""
        from ropa.history import moment_after, utcnow

        if (day.date() if isinstance(day, datetime) else day) > utcnow().date():
            raise RopaError(f"--as-of {day} is in the future")
        past = _PastRegistry(self, moment_after(day), f"the register as of {day}")
        try:
            yield past  # type: ignore[misc]
        finally:
            past.close()

    def notice(self, entity: str | None = None) -> Notice:
        """The privacy notice of the active activities of one group member, or of all."""
        from ropa import store
        from ropa.notice import build_notice, notice_activities

        with self.db.read() as conn:
            references = _references(conn)
            entity = _resolve_entity(references, entity) if entity else None
            where = store.Filter(equal={"controller": entity}) if entity else None
            activities = notice_activities(store.iter_records(conn, ACTIVITY, where))
            latest = store.latest_update(conn, ACTIVITY)
        updated = latest.date() if latest else datetime.now(UTC).date()
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
    def record(self, scope: RecordScope) -> Iterator[tuple[Cover, RecordBuilder, Iterator[dict]]]:
        """The Article 30 record of a scope: its cover, a row builder, and the activities in
        key order (read as they are consumed), all from one snapshot of the register. The
        scope is left as given; the cover names the group member it resolved to."""
        from ropa import __version__, store
        from ropa.io.record_cells import Cover, RecordBuilder
        from ropa.parallel import fingerprint_later

        with self.db.read() as conn:
            references = _references(conn)
            if scope.entity:
                scope = dataclasses.replace(scope, entity=_resolve_entity(references, scope.entity))
            where, scope_text = _record_filter(scope, references)
            controller_keys = sorted(
                k for k in store.distinct_values(conn, ACTIVITY, "controller", where) if k
            )
            cover = Cover(
                controllers=[references["party"][k] for k in controller_keys],
                scope=scope_text,
                as_of=scope.as_of,
                generated_at=datetime.now(UTC),
                activities=store.count_records(conn, ACTIVITY, where),
                fingerprint=fingerprint_later(self.db, conn, references),
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

    def entities_with_activities(self) -> set[str]:
        """Keys of the group members that are the controller of at least one activity."""
        from ropa import store

        with self.db.read() as conn:
            return store.distinct_values(conn, ACTIVITY, "controller")

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

        with store.gc_paused():  # many small objects, no cycles: see gc_paused
            return self._import_records(
                documents,
                tables,
                kind,
                "all" if replace_all else "present" if replace else "",
                dry_run,
                message,
                stage or (lambda _: None),
                keep_blank,
                confirmed,
            )

    def _import_records(
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
        from ropa.planning import kept_blanks, present_kinds

        incoming, seen, problems = read_documents(documents, kind)
        parsed = parse_tables(tables, kind, keep_blank)
        problems += parsed.problems
        # "all": every kind is replaced; "present": the kinds the files contain; "": none.
        replaced: bool | set[str] = replace == "all"
        if replace == "present":
            replaced = present_kinds(documents, kind) | parsed.kinds
        for kind_name, records in parsed.records.items():
            problems += merge_records(incoming[kind_name], records, KINDS[kind_name], seen)
        stage("checking")
        source = ", ".join([name for _, name in documents] + list({t.source: 1 for t in tables}))
        report = ImportReport(dry_run=dry_run, warnings=parsed.warnings)
        with self.db.write() as conn:
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
            incoming.clear()  # the records live on in `state` and `changes`
            parsed.records.clear()
            report.count(state, changes)
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

    def _write(self, conn: Connection, changes: list[Change], message: str | None) -> None:
        """Write changes and their revisions, stamped with one time."""
        from ropa import store
        from ropa.history import record_revisions, utcnow

        now = utcnow()
        store.write_changes(conn, changes, now)
        record_revisions(conn, changes, self.actor, message, now)


# -- helpers -----------------------------------------------------------------------------


def _references(conn: Connection) -> dict[str, dict[str, dict]]:
    """Every record of every kind but activities."""
    from ropa import store

    return store.read_kinds(conn, REFERENCE_KINDS)


def _index(conn: Connection) -> Index:
    """An index resolving references against the records in the database."""
    from ropa import store

    return Index(
        lambda kind: store.read_names(conn, KINDS[kind]),
        lambda kind, column: store.read_column(conn, KINDS[kind], column),
    )


def _dependents(conn: Connection, kind: Kind, after: dict, index: Index, where: str) -> list:
    """The problems a write of `after` would give the records that refer to it (a party's
    kind changed away from group-member while it is an activity's controller, say)."""
    from ropa import store
    from ropa.planning import dependent_problems

    users = store.referencing(conn, kind, [after["key"]]).get(after["key"], [])
    if not users:
        return []
    key = after["key"]

    def names(k: str) -> dict[str, str]:
        found = index.names(k)
        return {**found, key: after["name"]} if k == kind.name else found

    def attributes(k: str, f: str) -> dict[str, Any]:
        found = index.attribute(k, f)
        return {**found, key: after[f]} if k == kind.name else found

    overlay = Index(names, attributes)
    problems = []
    by_kind: dict[str, list[str]] = {}
    for user_kind, user in users:
        by_kind.setdefault(user_kind, []).append(user)
    for user_kind, keys in by_kind.items():
        for record in store.read_records(conn, KINDS[user_kind], keys).values():
            problems += dependent_problems(KINDS[user_kind], record, overlay, where)
    return problems


def _resolve_entity(state: dict[str, dict[str, dict]], entity: str) -> str:
    """The key of the group member an --entity option names (by key or by name)."""
    try:
        key = state_index(state).resolve("party", entity)
    except ValueError as e:
        raise RopaError(f"--entity: {e}") from None
    if state["party"][key]["kind"] != "group-member":
        raise RopaError(f"--entity: {key!r} is not a group-member party")
    return key


def _filter(conn: Connection, kind: Kind, filters: Mapping[str, str]) -> Filter | None:
    """The records `list` shows for its filter options, names resolved to keys and codes."""
    from ropa import store

    index = _index(conn)
    equal: dict[str, Any] = {}
    holding: dict[str, str] = {}
    for name, value in filters.items():
        if kind is ACTIVITY and name in ("subject", "category", "entity"):
            target = {"subject": "subject", "category": "category", "entity": "party"}[name]
            try:
                key = index.resolve(target, value)
            except ValueError as e:
                raise RopaError(f"--{name}: {e}") from None
            if name == "entity":
                equal["controller"] = key
            else:
                holding["data_subjects" if name == "subject" else "data_categories"] = key
            continue
        if name not in ("status", "role", "kind", "special") or name not in kind.field_names:
            raise RopaError(f"--{name} does not filter {kind.section}")
        try:
            equal[name] = parse_field(kind.field(name), value)
        except ValueError as e:
            raise RopaError(f"--{name}: {e}") from None
    return store.Filter(equal=equal, holding=holding) if equal or holding else None


def _record_filter(
    scope: RecordScope, references: dict[str, dict[str, dict]]
) -> tuple[Filter, str]:
    """The activities an Article 30 record of a scope covers, and the scope in words."""
    from ropa import store

    equal: dict[str, Any] = {}
    unequal: dict[str, Any] = {}
    scope_text = "All group members"
    if scope.entity:
        equal["controller"] = scope.entity
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
    return store.Filter(equal=equal, unequal=unequal), scope_text


def _not_found(conn: Connection, kind: Kind, key: str) -> str:
    from ropa import store

    return f"no {kind.label} {key!r}{closest(key, store.read_names(conn, kind))}"


def _still_referenced(kind: Kind, key: str, users: list[tuple[str, str]]) -> str:
    shown = ", ".join(f"{KINDS[k].label} {u}" for k, u in users[:10])
    more = f" and {len(users) - 10} more" if len(users) > 10 else ""
    return f"{kind.label} {key!r} is still used by {shown}{more}; remove those references first"


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
