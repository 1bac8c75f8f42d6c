"""Database tables (SQLAlchemy Core). Column names are the field names of :mod:`ropa.schema`.

Every record table is keyed by the record's `key`, so link tables and references hold keys
and bulk writes need no id lookups. List fields live in link tables named after the field
(`activities_purposes`), built from the schema so that a list field is declared once.

Plain `Table` objects (no ORM, no pydantic): a command that reads the register pays for
SQLAlchemy Core only. Each table is also reachable as a :class:`Model` (`Revision.id`,
`select(Revision)`), the spelling the rest of ropa and its tests use.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import types

from ropa import schema

KEY = 64
metadata = sa.MetaData()


class UTCDateTime(types.TypeDecorator):
    """Aware datetimes stored in UTC and returned in UTC (SQLite keeps no offset: its values
    are read back as UTC)."""

    impl = types.DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def coerce_compared_value(self, op: Any, value: Any) -> types.TypeEngine[Any]:
        return types.Interval() if isinstance(value, timedelta) else self

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError("datetime values must carry a time zone (UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Model:
    """A table under its model name: `Model.column` is the column, `__table__` the table,
    and it can be selected from (`select(Revision)`, `select_from(Party)`)."""

    def __init__(self, table: sa.Table):
        self.__table__ = table
        self.__tablename__ = table.name

    def __getattr__(self, name: str) -> sa.Column:
        try:
            return self.__table__.c[name]
        except KeyError:
            raise AttributeError(name) from None

    def __clause_element__(self) -> sa.Table:
        return self.__table__

    def __repr__(self) -> str:
        return f"Model({self.__tablename__})"


def _key() -> sa.Column:
    return sa.Column("key", sa.String(KEY), primary_key=True)


def _ref(name: str, target: str) -> sa.Column:
    # RESTRICT: a referenced record cannot disappear under an activity; the service layer
    # refuses first with a readable message, the database is the backstop.
    return sa.Column(name, sa.String(KEY), sa.ForeignKey(f"{target}.key", ondelete="RESTRICT"))


def _text(name: str) -> sa.Column:
    return sa.Column(name, sa.Text)


def _code(name: str, length: int, kind: schema.Kind | None = None, **kw: Any) -> sa.Column:
    """A short code; with `kind`, not null and defaulting to the field's default in
    ropa.schema (Python-side only, so the database schema does not depend on it)."""
    if kind is None:
        return sa.Column(name, sa.String(length), **kw)
    return sa.Column(
        name, sa.String(length), nullable=False, default=kind.field(name).empty(), **kw
    )


def _flag(kind: schema.Kind, name: str) -> sa.Column:
    return sa.Column(name, sa.Boolean, nullable=False, default=kind.field(name).empty())


def _record_table(name: str, *columns: sa.Column) -> sa.Table:
    """A record table: the columns every record has, then the kind's own."""
    return sa.Table(
        name,
        metadata,
        _key(),
        sa.Column("name", sa.Text, nullable=False),
        _text("description"),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, default=1),
        *columns,
    )


P, C, S, U, M, A = (
    schema.PARTY,
    schema.CATEGORY,
    schema.SUBJECT,
    schema.PURPOSE,
    schema.MEASURE,
    schema.ACTIVITY,
)

Party = Model(
    _record_table(
        "parties",
        _code("kind", 32, P),
        _code("country", 4),
        *map(_text, ("address", "email", "phone", "website", "registration_id")),
        _text("contract_link"),
        _flag(P, "dpf_certified"),
        *map(_text, ("dpo_name", "dpo_email", "dpo_phone")),
        *map(_text, ("representative_name", "representative_email", "representative_address")),
        _code("regime", 16),
        _text("supervisory_authority"),
        _text("notes"),
    )
)
Category = Model(
    _record_table(
        "categories", _code("special", 8, C), _ref("parent", "categories"), _text("fides_key")
    )
)
Subject = Model(_record_table("subjects", _flag(S, "vulnerable"), _text("fides_key")))
Purpose = Model(
    _record_table(
        "purposes",
        _flag(U, "systematic_monitoring"),
        _flag(U, "direct_marketing"),
        _text("fides_key"),
    )
)
Source = Model(_record_table("sources"))
Measure = Model(_record_table("measures", _code("kind", 32, M)))
System = Model(_record_table("systems", _ref("provider", "parties")))
Activity = Model(
    _record_table(
        "activities",
        _code("status", 16, A, index=True),
        _code("role", 32, A),
        _ref("controller", "parties"),
        *map(_text, ("joint_arrangement_link", "business_function", "owner", "art10_basis")),
        *map(_text, ("legal_basis_details", "legitimate_interests", "lia_link")),
        _text("automated_decisions"),
        _code("dpia_required", 16, A),
        _code("dpia_status", 16),
        *map(_text, ("dpia_link", "consent_record_link", "retention_policy_link")),
        sa.Column("last_reviewed", sa.Date),
        sa.Column(
            "review_interval_months",
            sa.Integer,
            nullable=False,
            default=A.field("review_interval_months").empty(),
        ),
        _text("notes"),
    )
)


def _owned_by_activity() -> list[sa.Column]:
    return [
        sa.Column(
            "activity",
            sa.String(KEY),
            sa.ForeignKey("activities.key", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer, primary_key=True),
    ]


#: A transfer of an activity's data to a third country or international organisation.
Transfer = Model(
    sa.Table(
        "activities_transfers",
        metadata,
        *_owned_by_activity(),
        sa.Column("country", sa.String(4), nullable=False),
        _ref("recipient", "parties"),
        _code("mechanism", 40),
        *map(_text, ("details", "document_link", "tia_link")),
    )
)
#: A retention rule of an activity, optionally for one data category.
RetentionRule = Model(
    sa.Table(
        "activities_retention",
        metadata,
        *_owned_by_activity(),
        _ref("data_category", "categories"),
        _code("duration", 40),
        _text("trigger"),
        _code("action", 16),
        *map(_text, ("criteria", "legal_reference")),
    )
)
#: One entry of the append-only history: the full record after a change.
Revision = Model(
    sa.Table(
        "revisions",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(KEY), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False, index=True),
        _text("message"),
        sa.Column("record", sa.Text, nullable=False),
        sa.Index("ix_revisions_kind_key", "kind", "key"),
    )
)

RECORD_MODELS: dict[str, Model] = {
    "party": Party,
    "category": Category,
    "subject": Subject,
    "purpose": Purpose,
    "source": Source,
    "measure": Measure,
    "system": System,
    "activity": Activity,
}
NESTED_MODELS: dict[str, Model] = {"transfers": Transfer, "retention": RetentionRule}


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
            tables[(kind.name, field.name)] = sa.Table(name, metadata, owner, value)
    return tables


LINK_TABLES = _link_tables()


def _case_insensitive_unique_names() -> None:
    for model in RECORD_MODELS.values():
        table = model.__table__
        sa.Index(f"uq_{table.name}_name", sa.func.lower(table.c.name), unique=True)


_case_insensitive_unique_names()
