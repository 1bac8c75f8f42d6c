"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORD_TABLES = (
    "parties",
    "categories",
    "subjects",
    "purposes",
    "sources",
    "measures",
    "systems",
    "activities",
)


def upgrade() -> None:

    op.create_table(
        "categories",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("special", sa.String(length=8), nullable=False),
        sa.Column("parent", sa.String(length=64), nullable=True),
        sa.Column("fides_key", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["parent"], ["categories.key"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "measures",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "parties",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("country", sa.String(length=4), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("website", sa.Text(), nullable=True),
        sa.Column("registration_id", sa.Text(), nullable=True),
        sa.Column("contract_link", sa.Text(), nullable=True),
        sa.Column("dpf_certified", sa.Boolean(), nullable=False),
        sa.Column("dpo_name", sa.Text(), nullable=True),
        sa.Column("dpo_email", sa.Text(), nullable=True),
        sa.Column("dpo_phone", sa.Text(), nullable=True),
        sa.Column("representative_name", sa.Text(), nullable=True),
        sa.Column("representative_email", sa.Text(), nullable=True),
        sa.Column("representative_address", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "purposes",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("record", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("revisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_revisions_at"), ["at"], unique=False)
        batch_op.create_index("ix_revisions_kind_key", ["kind", "key"], unique=False)

    op.create_table(
        "sources",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "subjects",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("vulnerable", sa.Boolean(), nullable=False),
        sa.Column("fides_key", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "activities",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("controller", sa.String(length=64), nullable=True),
        sa.Column("business_function", sa.Text(), nullable=True),
        sa.Column("owner", sa.Text(), nullable=True),
        sa.Column("art10_basis", sa.Text(), nullable=True),
        sa.Column("legitimate_interests", sa.Text(), nullable=True),
        sa.Column("lia_link", sa.Text(), nullable=True),
        sa.Column("automated_decisions", sa.Text(), nullable=True),
        sa.Column("dpia_required", sa.String(length=16), nullable=False),
        sa.Column("dpia_status", sa.String(length=16), nullable=True),
        sa.Column("dpia_link", sa.Text(), nullable=True),
        sa.Column("consent_record_link", sa.Text(), nullable=True),
        sa.Column("last_reviewed", sa.Date(), nullable=True),
        sa.Column("review_interval_months", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["controller"], ["parties.key"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activities_status"), ["status"], unique=False)

    op.create_table(
        "systems",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["provider"], ["parties.key"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "activities_art9_conditions",
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["owner"], ["activities.key"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("owner", "value"),
    )
    with op.batch_alter_table("activities_art9_conditions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activities_art9_conditions_value"), ["value"], unique=False
        )

    op.create_table(
        "activities_data_categories",
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["owner"], ["activities.key"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["value"], ["categories.key"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("owner", "value"),
    )
    with op.batch_alter_table("activities_data_categories", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activities_data_categories_value"), ["value"], unique=False
        )

    op.create_table(
        "activities_data_subjects",
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["owner"], ["activities.key"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["value"], ["subjects.key"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("owner", "value"),
    )
    with op.batch_alter_table("activities_data_subjects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activities_data_subjects_value"), ["value"], unique=False
        )

    op.create_table(
        "activities_joint_controllers",
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["owner"], ["activities.key"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["value"], ["parties.key"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("owner", "value"),
    )
    with op.batch_alter_table("activities_joint_controllers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activities_joint_controllers_value"), ["value"], unique=False
        )

    op.create_table(
        "activities_lawful_bases",
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["owner"], ["activities.key"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("owner", "value"),
    )
    with op.batch_alter_table("activities_lawful_bases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activities_lawful_bases_value"), ["value"], unique=False
        )

    op.create_table(
        "activities_measures",
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["owner"], ["activities.key"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["value"], ["measures.key"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("owner", "value"),
    )
    with op.batch_alter_table("activities_measures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activities_measures_value"), ["value"], unique=False)

    op.create_table(
        "activities_processor_for",
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["owner"], ["activities.key"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["value"], ["parties.key"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("owner", "value"),
    )
    with op.batch_alter_table("activities_processor_for", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activities_processor_for_value"), ["value"], unique=False
        )

    op.create_table(
        "activities_purposes",
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["owner"], ["activities.key"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["value"], ["purposes.key"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("owner", "value"),
    )
    with op.batch_alter_table("activities_purposes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activities_purposes_value"), ["value"], unique=False)

    op.create_table(
        "activities_recipients",
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["owner"], ["activities.key"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["value"], ["parties.key"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("owner", "value"),
    )
    with op.batch_alter_table("activities_recipients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activities_recipients_value"), ["value"], unique=False)

    op.create_table(
        "activities_retention",
        sa.Column("activity", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("data_category", sa.String(length=64), nullable=True),
        sa.Column("duration", sa.String(length=40), nullable=True),
        sa.Column("trigger", sa.Text(), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=True),
        sa.Column("criteria", sa.Text(), nullable=True),
        sa.Column("legal_reference", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["activity"], ["activities.key"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["data_category"], ["categories.key"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("activity", "position"),
    )
    op.create_table(
        "activities_sources",
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["owner"], ["activities.key"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["value"], ["sources.key"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("owner", "value"),
    )
    with op.batch_alter_table("activities_sources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activities_sources_value"), ["value"], unique=False)

    op.create_table(
        "activities_systems",
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["owner"], ["activities.key"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["value"], ["systems.key"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("owner", "value"),
    )
    with op.batch_alter_table("activities_systems", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activities_systems_value"), ["value"], unique=False)

    op.create_table(
        "activities_transfers",
        sa.Column("activity", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=4), nullable=False),
        sa.Column("recipient", sa.String(length=64), nullable=True),
        sa.Column("mechanism", sa.String(length=40), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("document_link", sa.Text(), nullable=True),
        sa.Column("tia_link", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["activity"], ["activities.key"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["recipient"], ["parties.key"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("activity", "position"),
    )
    op.create_table(
        "systems_countries",
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["owner"], ["systems.key"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("owner", "value"),
    )
    with op.batch_alter_table("systems_countries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_systems_countries_value"), ["value"], unique=False)

    # Names are unique within their kind, whatever their case.
    for table in RECORD_TABLES:
        op.create_index(f"uq_{table}_name", table, [sa.text("lower(name)")], unique=True)


def downgrade() -> None:
    # The lower(name) indexes go with their tables.

    with op.batch_alter_table("systems_countries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_systems_countries_value"))

    op.drop_table("systems_countries")
    op.drop_table("activities_transfers")
    with op.batch_alter_table("activities_systems", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activities_systems_value"))

    op.drop_table("activities_systems")
    with op.batch_alter_table("activities_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activities_sources_value"))

    op.drop_table("activities_sources")
    op.drop_table("activities_retention")
    with op.batch_alter_table("activities_recipients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activities_recipients_value"))

    op.drop_table("activities_recipients")
    with op.batch_alter_table("activities_purposes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activities_purposes_value"))

    op.drop_table("activities_purposes")
    with op.batch_alter_table("activities_processor_for", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activities_processor_for_value"))

    op.drop_table("activities_processor_for")
    with op.batch_alter_table("activities_measures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activities_measures_value"))

    op.drop_table("activities_measures")
    with op.batch_alter_table("activities_lawful_bases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activities_lawful_bases_value"))

    op.drop_table("activities_lawful_bases")
    with op.batch_alter_table("activities_joint_controllers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activities_joint_controllers_value"))

    op.drop_table("activities_joint_controllers")
    with op.batch_alter_table("activities_data_subjects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activities_data_subjects_value"))

    op.drop_table("activities_data_subjects")
    with op.batch_alter_table("activities_data_categories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activities_data_categories_value"))

    op.drop_table("activities_data_categories")
    with op.batch_alter_table("activities_art9_conditions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activities_art9_conditions_value"))

    op.drop_table("activities_art9_conditions")
    op.drop_table("systems")
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activities_status"))

    op.drop_table("activities")
    op.drop_table("subjects")
    op.drop_table("sources")
    with op.batch_alter_table("revisions", schema=None) as batch_op:
        batch_op.drop_index("ix_revisions_kind_key")
        batch_op.drop_index(batch_op.f("ix_revisions_at"))

    op.drop_table("revisions")
    op.drop_table("purposes")
    op.drop_table("parties")
    op.drop_table("measures")
    op.drop_table("categories")
