"""Fields for the regulator's record, the UK GDPR regime and Fides interop.

Activities: legal_basis_details, joint_arrangement_link, retention_policy_link and the
sub_processors link table (Art. 30(2)(a)); parties: regime and supervisory_authority (group
members); purposes: direct_marketing (Art. 21(2)-(3)) and fides_key (fideslang data use).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT_COLUMNS = {
    "activities": ("joint_arrangement_link", "legal_basis_details", "retention_policy_link"),
    "parties": ("supervisory_authority",),
    "purposes": ("fides_key",),
}


def upgrade() -> None:
    for table, columns in TEXT_COLUMNS.items():
        for column in columns:
            op.add_column(table, sa.Column(column, sa.Text(), nullable=True))
    op.add_column("parties", sa.Column("regime", sa.String(length=16), nullable=True))
    op.add_column(
        "purposes",
        sa.Column("direct_marketing", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "activities_sub_processors",
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["owner"], ["activities.key"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["value"], ["parties.key"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("owner", "value"),
    )
    op.create_index(
        "ix_activities_sub_processors_value", "activities_sub_processors", ["value"], unique=False
    )


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): a batch copy of a table would lose its
    # expression index on lower(name).
    op.drop_index("ix_activities_sub_processors_value", table_name="activities_sub_processors")
    op.drop_table("activities_sub_processors")
    op.drop_column("purposes", "direct_marketing")
    op.drop_column("parties", "regime")
    for table, columns in TEXT_COLUMNS.items():
        for column in columns:
            op.drop_column(table, column)
