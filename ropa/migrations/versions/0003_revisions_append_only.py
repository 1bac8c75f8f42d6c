"""The revision log is append-only: the database refuses to update or delete a revision.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "revisions are append-only"


def upgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER revisions_no_{event.lower()} BEFORE {event} ON revisions "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION ropa_revisions_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$"
    )
    op.execute(
        "CREATE TRIGGER revisions_append_only BEFORE UPDATE OR DELETE ON revisions "
        "FOR EACH ROW EXECUTE FUNCTION ropa_revisions_append_only()"
    )


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS revisions_no_update")
        op.execute("DROP TRIGGER IF EXISTS revisions_no_delete")
        return
    op.execute("DROP TRIGGER IF EXISTS revisions_append_only ON revisions")
    op.execute("DROP FUNCTION IF EXISTS ropa_revisions_append_only()")
