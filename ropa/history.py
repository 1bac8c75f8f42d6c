"""The append-only revision log: one revision per create, update, retire and delete.

Nothing in ropa updates or deletes a revision.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ropa.io.document import document_record, json_default
from ropa.models import Revision
from ropa.store import Change


def utcnow() -> datetime:
    """The time stamped on changes (one place, so tests can freeze it)."""
    return datetime.now(UTC)


def record_revisions(
    conn: Connection, changes: list[Change], actor: str, message: str | None, now: datetime
) -> None:
    """Append one revision per change, holding the full record after it (before a delete)."""
    if not changes:
        return
    rows = []
    for change in changes:
        record = change.after if change.after is not None else change.before
        version = change.after["version"] if change.after is not None else record["version"] + 1
        rows.append(
            {
                "kind": change.kind.name,
                "key": change.key,
                "version": version,
                "action": change.action,
                "actor": actor,
                "at": now,
                "message": message,
                "record": json.dumps(
                    document_record(change.kind, record),
                    ensure_ascii=False,
                    default=json_default,
                ),
            }
        )
    conn.execute(sa.insert(Revision.__table__), rows)
