"""The revision log refuses every SQL path that rewrites it: on SQLite an insert over an
existing revision (`REPLACE INTO`, `INSERT OR REPLACE`, an upsert), which fires no delete
trigger; on PostgreSQL `TRUNCATE`, which fires no row trigger. (0003 refuses UPDATE and
DELETE.)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "revisions are append-only"


def upgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        # REPLACE deletes the old row without firing DELETE triggers (recursive_triggers is
        # off), so the insert itself must be refused when its id is taken.
        op.execute(
            "CREATE TRIGGER revisions_no_replace BEFORE INSERT ON revisions "
            "WHEN EXISTS (SELECT 1 FROM revisions WHERE id = NEW.id) "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )
        return
    # The function of 0003 raises for any trigger; TRUNCATE needs a statement-level one.
    op.execute(
        "CREATE TRIGGER revisions_no_truncate BEFORE TRUNCATE ON revisions "
        "FOR EACH STATEMENT EXECUTE FUNCTION ropa_revisions_append_only()"
    )


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS revisions_no_replace")
        return
    op.execute("DROP TRIGGER IF EXISTS revisions_no_truncate ON revisions")
