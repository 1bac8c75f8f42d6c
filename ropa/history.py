"""The append-only revision log: one revision per create, update, retire and delete, holding
the full record after the change (before it, for a delete). Nothing in ropa updates or deletes
a revision.

From the log: who changed what and when (:func:`list_revisions`), the register as it stood at
any moment (:func:`document_as_of`), and what changed between two moments (:func:`diff`).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ropa.errors import RopaError
from ropa.models import Revision
from ropa.records import FORMAT_VERSION, Change, document_record, is_empty, json_default
from ropa.schema import KINDS, Kind, T
from ropa.words import isolated

REVISIONS = Revision.__table__


def utcnow() -> datetime:
    """The time stamped on changes (one place, so tests can freeze it)."""
    return datetime.now(UTC)


def today() -> date:
    """The day (UTC) that reviews are dated and falling due are counted from."""
    return utcnow().date()


def end_of_day(day: date) -> datetime:
    """The first instant after `day` (UTC): "as of D" means everything before it."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def moment_at(when: date | datetime) -> datetime:
    """The instant WHEN starts: the start of a day, or a date-time (taken as UTC when it
    names no zone), in UTC. "Since WHEN" means every revision from this instant on."""
    if isinstance(when, datetime):
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
    return start_of_day(when)


def moment_after(when: date | datetime) -> datetime:
    """The first instant after WHEN: the end of a day, the end of a second (a date-time
    without a fraction of one, as history shows them), or just after a date-time with one
    (taken as UTC when it names no zone). "As of WHEN" means every revision before this
    instant: as of the second history shows includes the revision made 0.7 s into it."""
    if isinstance(when, datetime):
        step = timedelta(microseconds=1) if when.microsecond else timedelta(seconds=1)
        return moment_at(when) + step
    return end_of_day(when)


def stored_revision(conn: Connection, kind: str, key: str, version: int) -> tuple[str, dict] | None:
    """(action, record) of one version of a record as its revision holds it (the newest, if
    the record was deleted and created again); None when there is no such revision."""
    row = conn.execute(
        sa.select(REVISIONS.c.action, REVISIONS.c.record)
        .where(REVISIONS.c.kind == kind, REVISIONS.c.key == key, REVISIONS.c.version == version)
        .order_by(REVISIONS.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else (row.action, json.loads(row.record))


def record_versions(conn: Connection, kind: str, key: str) -> list[int]:
    """The versions a record's revisions hold, oldest first."""
    query = (
        sa.select(REVISIONS.c.version)
        .where(REVISIONS.c.kind == kind, REVISIONS.c.key == key)
        .order_by(REVISIONS.c.id)
    )
    return list(dict.fromkeys(conn.execute(query).scalars()))


def record_revisions(
    conn: Connection,
    changes: list[Change],
    actor: str,
    message: str | None,
    now: datetime,
    documents: list[str] | None = None,
) -> None:
    """Append one revision per change, holding the full record after it (before a delete).
    `documents` may hold the records' JSON already (see :func:`revision_documents`)."""
    from ropa.store import insert_rows

    columns = ["kind", "key", "version", "action", "actor", "at", "message", "record"]
    for start in range(0, len(changes), 5000):  # a batch at a time
        batch = changes[start : start + 5000]
        texts = documents[start : start + 5000] if documents else revision_documents(batch)
        rows = []
        for change, document in zip(batch, texts, strict=True):
            record = change.after if change.after is not None else change.before
            version = change.after["version"] if change.after is not None else record["version"] + 1
            rows.append(
                (
                    change.kind.name,
                    change.key,
                    version,
                    change.action,
                    actor,
                    now,
                    message,
                    document,
                )
            )
        insert_rows(conn, REVISIONS, columns, rows)


def last_written(conn: Connection, kind: str, before: datetime) -> datetime | None:
    """When a record of a kind was last written before a moment; None when none was."""
    query = sa.select(sa.func.max(REVISIONS.c.at)).where(
        REVISIONS.c.kind == kind, REVISIONS.c.at < before
    )
    return conn.execute(query).scalar()


def latest_revision(conn: Connection) -> int | None:
    """The id of the newest revision; None before the first write."""
    return conn.execute(sa.select(sa.func.max(REVISIONS.c.id))).scalar()


def revision_documents(changes: list[Change]) -> list[str]:
    """The JSON of each change's record as a revision holds it (the record after the change,
    before a delete): its document form, which leaves out version and timestamps."""
    # Compact separators: the revision log is the largest table of a register.
    encode = json.JSONEncoder(
        ensure_ascii=False, separators=(",", ":"), default=json_default
    ).encode
    return [
        encode(document_record(c.kind, c.after if c.after is not None else c.before))
        for c in changes
    ]


@dataclass
class RevisionView:
    """One revision as `ropa history` shows it."""

    id: int
    at: datetime
    actor: str
    action: str
    kind: str
    key: str
    version: int
    message: str | None
    changed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(timespec="seconds"),
            "actor": self.actor,
            "action": self.action,
            "kind": self.kind,
            "key": self.key,
            "version": self.version,
            "message": self.message,
            "changed": self.changed,
        }


def list_revisions(
    conn: Connection,
    key: str | None = None,
    kind: str | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
    actor: str | None = None,
) -> list[RevisionView]:
    """Revisions matching the filters, oldest first, each with the fields it changed."""
    return list(iter_revisions(conn, key, kind, since, until, actor))


#: Revisions read (and compared with their predecessors) per batch.
HISTORY_BATCH = 1000


def iter_revisions(
    conn: Connection,
    key: str | None = None,
    kind: str | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
    actor: str | None = None,
) -> Iterator[RevisionView]:
    """Revisions matching the filters, oldest first, each with the fields it changed, read
    a batch at a time (memory bounded by the batch, whatever the size of the log)."""
    clauses = []
    if key:
        clauses.append(REVISIONS.c.key == key)
    if kind:
        clauses.append(REVISIONS.c.kind == kind)
    if since:
        clauses.append(REVISIONS.c.at >= moment_at(since))
    if until:
        clauses.append(REVISIONS.c.at < moment_after(until))
    if actor:
        clauses.append(REVISIONS.c.actor == actor)
    after = 0
    while True:
        query = (
            sa.select(REVISIONS)
            .where(REVISIONS.c.id > after, *clauses)
            .order_by(REVISIONS.c.id)
            .limit(HISTORY_BATCH)
        )
        rows = conn.execute(query).all()
        if not rows:
            return
        previous = _previous_records(conn, rows)
        for row in rows:
            view = RevisionView(
                row.id, row.at, row.actor, row.action, row.kind, row.key, row.version, row.message
            )
            before = previous.get(row.id)
            if row.action in ("update", "retire") and before is not None:
                view.changed = changed_fields(row.kind, before, json.loads(row.record))
            yield view
        if len(rows) < HISTORY_BATCH:
            return
        after = rows[-1].id


def _previous_records(conn: Connection, rows: list) -> dict[int, dict]:
    """For each update or retire revision of `rows`, the record of the revision before it
    of the same record."""
    wanted = {(r.kind, r.key) for r in rows if r.action in ("update", "retire")}
    if not wanted:
        return {}
    ids = {r.id for r in rows if r.action in ("update", "retire")}
    last = max(ids)
    history: dict[tuple[str, str], list] = {}
    for kind in sorted({kind for kind, _ in wanted}):  # (kind, key): the index's order
        keys = sorted(key for k, key in wanted if k == kind)
        for i in range(0, len(keys), 500):
            query = (
                sa.select(REVISIONS.c.id, REVISIONS.c.kind, REVISIONS.c.key, REVISIONS.c.record)
                .where(
                    REVISIONS.c.kind == kind,
                    REVISIONS.c.key.in_(keys[i : i + 500]),
                    REVISIONS.c.id <= last,
                )
                .order_by(REVISIONS.c.id)
            )
            for row in conn.execute(query):
                history.setdefault((row.kind, row.key), []).append(row)
    previous = {}
    for revisions in history.values():
        for before, after in itertools.pairwise(revisions):
            if after.id in ids:
                previous[after.id] = json.loads(before.record)
    return previous


def changed_fields(kind: str, before: dict, after: dict) -> list[str]:
    """The fields that differ between two document records, in schema order."""
    return [f.name for f in KINDS[kind].fields if before.get(f.name) != after.get(f.name)]


def document_as_of(conn: Connection, moment: datetime) -> dict:
    """The registry document as it stood just before `moment`, rebuilt from the revisions.

    Every write stamps all its revisions with one time, so a moment never falls inside a
    write: the document is a state the register really had."""
    return {
        "ropa": FORMAT_VERSION,
        **{
            section: [r for batch in batches for r in batch]
            for section, batches in sections_as_of(conn, moment)
        },
    }


#: Records per batch of a section read from the revision log.
AS_OF_BATCH = 1000


def sections_as_of(
    conn: Connection, moment: datetime
) -> Iterator[tuple[str, Iterator[list[dict]]]]:
    """The registry document as it stood just before `moment`, as (section, batches of
    records in key order) like :func:`ropa.snapshot.document_sections`: one query per kind
    (the newest revision of each key before `moment`, unless it is a delete), each section
    read as it is consumed."""
    _refuse_unknown_kinds(conn, moment)
    for kind in KINDS.values():
        yield kind.section, _records_as_of(conn, kind, moment)


def documents_changed_between(
    conn: Connection, start: datetime, end: datetime
) -> tuple[dict, dict]:
    """The registry documents just before `start` and just before `end`, holding only the
    records that revisions between the two moments touched (no other record can differ):
    the work grows with the changes, not with the register."""
    _refuse_unknown_kinds(conn, end)
    touched: dict[str, list[str]] = {}
    query = (
        sa.select(REVISIONS.c.kind, REVISIONS.c.key)
        .where(REVISIONS.c.at >= start, REVISIONS.c.at < end)
        .distinct()
    )
    for kind, key in conn.execute(query):
        touched.setdefault(kind, []).append(key)
    documents: tuple[dict, dict] = ({}, {})
    for kind in KINDS.values():
        keys = sorted(touched.get(kind.name, []))
        for document, moment in zip(documents, (start, end), strict=True):
            document[kind.section] = [
                record
                for i in range(0, len(keys), 500)
                for batch in _records_as_of(conn, kind, moment, keys[i : i + 500])
                for record in batch
            ]
    return documents


def _records_as_of(
    conn: Connection, kind: Kind, moment: datetime, keys: list[str] | None = None
) -> Iterator[list[dict]]:
    """The records of a kind just before `moment` (only `keys`, if given), in batches."""
    clauses = [REVISIONS.c.kind == kind.name, REVISIONS.c.at < moment]
    if keys is not None:
        clauses.append(REVISIONS.c.key.in_(keys))
    latest = (
        sa.select(sa.func.max(REVISIONS.c.id).label("id"))
        .where(*clauses)
        .group_by(REVISIONS.c.key)
        .subquery()
    )
    # Ordered as Python orders keys (code points), on every backend.
    key = REVISIONS.c.key if conn.dialect.name == "sqlite" else REVISIONS.c.key.collate("C")
    query = (
        sa.select(REVISIONS.c.id, REVISIONS.c.key, REVISIONS.c.record)
        .select_from(REVISIONS.join(latest, REVISIONS.c.id == latest.c.id))
        .where(REVISIONS.c.action != "delete")
        .order_by(key)
    )
    result = conn.execution_options(stream_results=True).execute(query)
    dates = [f.name for f in kind.fields if f.type is T.DATE]
    while rows := result.fetchmany(AS_OF_BATCH):
        batch = []
        for number, key_, text in rows:
            record = {**kind.new_record(), **_stored_record(number, key_, text)}
            for name in dates:
                if isinstance(record[name], str):
                    try:
                        record[name] = date.fromisoformat(record[name])
                    except ValueError:
                        raise _inconsistent(
                            number, key_, f"holds a {name} that is no date"
                        ) from None
            batch.append(document_record(kind, record))
        yield batch


def _refuse_unknown_kinds(conn: Connection, moment: datetime) -> None:
    """A RopaError when a revision before `moment` names a kind ropa does not know."""
    row = conn.execute(
        sa.select(REVISIONS.c.id, REVISIONS.c.kind, REVISIONS.c.key)
        .where(REVISIONS.c.kind.not_in(list(KINDS)), REVISIONS.c.at < moment)
        .order_by(REVISIONS.c.id)
        .limit(1)
    ).first()
    if row is not None:
        raise _inconsistent(row.id, row.key, f"has an unknown kind {row.kind!r}")


def _inconsistent(number: int, key: str, what: str) -> RopaError:
    return RopaError(
        f"the revision log is inconsistent: revision {number} ({key!r}) {what}; "
        "it was not written by ropa, so the register cannot be rebuilt as of that time"
    )


def _stored_record(number: int, key: str, text: str) -> dict:
    """The record a revision stores, or a RopaError naming a revision no ropa wrote."""
    try:
        record = json.loads(text)
    except (TypeError, ValueError):
        raise _inconsistent(number, key, "does not hold a JSON record") from None
    if not isinstance(record, dict) or record.get("key") != key:
        raise _inconsistent(number, key, "holds a record that is not the one it names")
    return record


@dataclass
class Diff:
    """What changed in the register between two moments."""

    since: date | datetime
    until: date | datetime
    added: list[dict] = field(default_factory=list)  # {kind, key, name}
    removed: list[dict] = field(default_factory=list)
    retired: list[dict] = field(default_factory=list)
    changed: list[dict] = field(default_factory=list)  # + fields: {name: {before, after}}

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "added": self.added,
            "removed": self.removed,
            "retired": self.retired,
            "changed": self.changed,
        }

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.retired or self.changed)


def diff(before: dict, after: dict, since: date | datetime, until: date | datetime) -> Diff:
    """Records added, removed, retired and changed (field by field) between two documents."""
    result = Diff(since, until)
    for kind in KINDS.values():
        old = {r["key"]: r for r in before.get(kind.section, [])}
        new = {r["key"]: r for r in after.get(kind.section, [])}
        for key in sorted(new.keys() - old.keys()):
            result.added.append(_ref(kind.name, new[key]))
        for key in sorted(old.keys() - new.keys()):
            result.removed.append(_ref(kind.name, old[key]))
        for key in sorted(old.keys() & new.keys()):
            fields = {
                name: {"before": _shown(old[key].get(name)), "after": _shown(new[key].get(name))}
                for name in changed_fields(kind.name, old[key], new[key])
            }
            if not fields:
                continue
            if fields.get("status", {}).get("after") == "retired":
                result.retired.append(_ref(kind.name, new[key]))
                del fields["status"]
                if not fields:
                    continue
            result.changed.append({**_ref(kind.name, new[key]), "fields": fields})
    return result


def _ref(kind: str, record: dict) -> dict:
    return {"kind": kind, "key": record["key"], "name": record.get("name")}


def _shown(value: Any) -> Any:
    return None if is_empty(value) else value


def diff_markdown(result: Diff) -> str:
    """A change log for the DPO."""
    out = [
        f"# Changes to the register, {result.since.isoformat()} to {result.until.isoformat()}",
        "",
    ]
    if result.empty:
        return "\n".join([*out, "No changes.", ""])
    for title, items in (
        ("Added", result.added),
        ("Removed", result.removed),
        ("Retired", result.retired),
    ):
        if items:
            out += [f"## {title}", ""]
            out += [f"- {i['kind']} `{i['key']}` — {md_text(i['name'])}" for i in items]
            out.append("")
    if result.changed:
        out += ["## Changed", ""]
        for item in result.changed:
            out += [f"### {item['kind']} `{item['key']}` — {md_text(item['name'])}", ""]
            for name, values in item["fields"].items():
                out.append(
                    f"- **{name}**: {md_code(values['before'])} → {md_code(values['after'])}"
                )
            out.append("")
    return "\n".join(out)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")
_MD_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def md_text(value: Any) -> str:
    """Register text as literal Markdown: markup characters backslash-escaped, `<` and `&`
    as entities (no tag or link reaches the page), control characters and newlines as
    spaces, bidirectional controls isolated (:func:`ropa.words.isolated`)."""
    text = isolated(_MD_CONTROL.sub(" ", "" if value is None else str(value)))
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_code(value: Any) -> str:
    """A value as a Markdown code span (rendered literally, tags included), its fence longer
    than any run of backticks inside, its bidirectional controls isolated: an override in an
    old value does not reverse the "→ new value" after it."""
    if value is None:
        return "*(empty)*"
    text = json.dumps(value, ensure_ascii=False, default=json_default)
    text = isolated(text if len(text) < 200 else text[:197] + "…")
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
