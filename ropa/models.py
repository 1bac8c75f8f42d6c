"""Database tables (SQLModel). Column names are the field names of :mod:`ropa.schema`.

Every record table is keyed by the record's `key`, so link tables and references hold keys
and bulk writes need no id lookups. List fields live in link tables named after the field
(`activities_purposes`), built from the schema so that a list field is declared once.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ropa import schema

KEY = 64


def _ref(target: str) -> Field:
    # RESTRICT: a referenced record cannot disappear under an activity; the service layer
    # refuses first with a readable message, the database is the backstop.
    return Field(
        default=None,
        max_length=KEY,
        foreign_key=f"{target}.key",
        ondelete="RESTRICT",
    )


def _text() -> Field:
    return Field(default=None, sa_type=sa.Text)


def _default(kind: schema.Kind, name: str) -> Any:
    """A column's default: the field's default in ropa.schema (a flag's is False), written
    there once. Python-side only, so the database schema does not depend on it."""
    return kind.field(name).empty()


class RecordBase(SQLModel):
    """Columns every record has."""

    key: str = Field(primary_key=True, max_length=KEY)
    name: str = Field(sa_type=sa.Text, nullable=False)
    description: str | None = _text()
    created_at: datetime = Field(nullable=False)
    updated_at: datetime = Field(nullable=False)
    version: int = Field(default=1, nullable=False)


class Party(RecordBase, table=True):
    __tablename__ = "parties"
    kind: str = Field(default=_default(schema.PARTY, "kind"), nullable=False, max_length=32)
    country: str | None = Field(default=None, max_length=4)
    address: str | None = _text()
    email: str | None = _text()
    phone: str | None = _text()
    website: str | None = _text()
    registration_id: str | None = _text()
    contract_link: str | None = _text()
    dpf_certified: bool = Field(default=_default(schema.PARTY, "dpf_certified"), nullable=False)
    dpo_name: str | None = _text()
    dpo_email: str | None = _text()
    dpo_phone: str | None = _text()
    representative_name: str | None = _text()
    representative_email: str | None = _text()
    representative_address: str | None = _text()
    regime: str | None = Field(default=None, max_length=16)
    supervisory_authority: str | None = _text()
    notes: str | None = _text()


class Category(RecordBase, table=True):
    __tablename__ = "categories"
    special: str = Field(default=_default(schema.CATEGORY, "special"), nullable=False, max_length=8)
    parent: str | None = _ref("categories")
    fides_key: str | None = _text()


class Subject(RecordBase, table=True):
    __tablename__ = "subjects"
    vulnerable: bool = Field(default=_default(schema.SUBJECT, "vulnerable"), nullable=False)
    fides_key: str | None = _text()


class Purpose(RecordBase, table=True):
    __tablename__ = "purposes"
    systematic_monitoring: bool = Field(
        default=_default(schema.PURPOSE, "systematic_monitoring"), nullable=False
    )
    direct_marketing: bool = Field(
        default=_default(schema.PURPOSE, "direct_marketing"), nullable=False
    )
    fides_key: str | None = _text()


class Source(RecordBase, table=True):
    __tablename__ = "sources"


class Measure(RecordBase, table=True):
    __tablename__ = "measures"
    kind: str = Field(default=_default(schema.MEASURE, "kind"), nullable=False, max_length=32)


class System(RecordBase, table=True):
    __tablename__ = "systems"
    provider: str | None = _ref("parties")


class Activity(RecordBase, table=True):
    __tablename__ = "activities"
    status: str = Field(
        default=_default(schema.ACTIVITY, "status"), nullable=False, max_length=16, index=True
    )
    role: str = Field(default=_default(schema.ACTIVITY, "role"), nullable=False, max_length=32)
    controller: str | None = _ref("parties")
    joint_arrangement_link: str | None = _text()
    business_function: str | None = _text()
    owner: str | None = _text()
    art10_basis: str | None = _text()
    legal_basis_details: str | None = _text()
    legitimate_interests: str | None = _text()
    lia_link: str | None = _text()
    automated_decisions: str | None = _text()
    dpia_required: str = Field(
        default=_default(schema.ACTIVITY, "dpia_required"), nullable=False, max_length=16
    )
    dpia_status: str | None = Field(default=None, max_length=16)
    dpia_link: str | None = _text()
    consent_record_link: str | None = _text()
    retention_policy_link: str | None = _text()
    last_reviewed: date | None = None
    review_interval_months: int = Field(
        default=_default(schema.ACTIVITY, "review_interval_months"), nullable=False
    )
    notes: str | None = _text()


class Transfer(SQLModel, table=True):
    """A transfer of an activity's data to a third country or international organisation."""

    __tablename__ = "activities_transfers"
    activity: str = Field(
        primary_key=True, max_length=KEY, foreign_key="activities.key", ondelete="CASCADE"
    )
    position: int = Field(primary_key=True)
    country: str = Field(max_length=4)
    recipient: str | None = _ref("parties")
    mechanism: str | None = Field(default=None, max_length=40)
    details: str | None = _text()
    document_link: str | None = _text()
    tia_link: str | None = _text()


class RetentionRule(SQLModel, table=True):
    """A retention rule of an activity, optionally for one data category."""

    __tablename__ = "activities_retention"
    activity: str = Field(
        primary_key=True, max_length=KEY, foreign_key="activities.key", ondelete="CASCADE"
    )
    position: int = Field(primary_key=True)
    data_category: str | None = _ref("categories")
    duration: str | None = Field(default=None, max_length=40)
    trigger: str | None = _text()
    action: str | None = Field(default=None, max_length=16)
    criteria: str | None = _text()
    legal_reference: str | None = _text()


class Revision(SQLModel, table=True):
    """One entry of the append-only history: the full record after a change."""

    __tablename__ = "revisions"
    __table_args__ = (sa.Index("ix_revisions_kind_key", "kind", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    key: str = Field(max_length=KEY)
    version: int
    action: str = Field(max_length=16)
    actor: str = Field(sa_type=sa.Text, nullable=False)
    at: datetime = Field(index=True)
    message: str | None = _text()
    record: str = Field(sa_type=sa.Text, nullable=False)


RECORD_MODELS: dict[str, type[RecordBase]] = {
    "party": Party,
    "category": Category,
    "subject": Subject,
    "purpose": Purpose,
    "source": Source,
    "measure": Measure,
    "system": System,
    "activity": Activity,
}
NESTED_MODELS: dict[str, type[SQLModel]] = {"transfers": Transfer, "retention": RetentionRule}


def _link_tables() -> dict[tuple[str, str], sa.Table]:
    """One table per plain list field: (owner key, value), the value a key, code or country."""
    tables = {}
    for kind in schema.KINDS.values():
        for field in kind.list_fields:
            if field.type is schema.T.NESTED:
                continue
            owner = sa.Column(
                "owner",
                sa.String(KEY),
                sa.ForeignKey(f"{kind.table}.key", ondelete="CASCADE"),
                primary_key=True,
            )
            if field.type is schema.T.REFS:
                target = schema.KINDS[field.ref].table
                value = sa.Column(
                    "value",
                    sa.String(KEY),
                    sa.ForeignKey(f"{target}.key", ondelete="RESTRICT"),
                    primary_key=True,
                    index=True,
                )
            else:
                value = sa.Column("value", sa.String(KEY), primary_key=True, index=True)
            name = schema.link_table(kind, field)
            tables[(kind.name, field.name)] = sa.Table(name, SQLModel.metadata, owner, value)
    return tables


LINK_TABLES = _link_tables()


def _case_insensitive_unique_names() -> None:
    for model in RECORD_MODELS.values():
        table = model.__table__
        sa.Index(f"uq_{table.name}_name", sa.func.lower(table.c.name), unique=True)


_case_insensitive_unique_names()
metadata = SQLModel.metadata
