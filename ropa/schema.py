"""The fields of every record kind, in document order: the one source of truth.

The CLI options, the validation, the registry document and the list columns are all derived
from these specs; the database tables in :mod:`ropa.models` carry the same names (a test holds
that). This module is pure Python so that ``ropa --help`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any

from ropa import vocab
from ropa.vocab import CodeList


class T(StrEnum):
    """Field types; each has one parser in :mod:`ropa.validate`."""

    KEY = "key"
    TEXT = "text"
    EMAIL = "email"
    BOOL = "bool"
    INT = "int"
    DATE = "date"
    DURATION = "duration"
    COUNTRY = "country"
    COUNTRIES = "countries"
    CODE = "code"
    CODES = "codes"
    REF = "ref"
    REFS = "refs"
    NESTED = "nested"


LIST_TYPES = {T.COUNTRIES, T.CODES, T.REFS, T.NESTED}


@dataclass(frozen=True)
class Field:
    """One field of a record kind."""

    name: str
    type: T
    help: str
    codes: CodeList | None = None
    ref: str | None = None  # the kind a REF/REFS field points to
    option: str | None = None  # CLI option for list fields (singular), default from name
    default: Any = None
    nested: tuple[Field, ...] = ()
    in_table: bool = False  # shown as a column by `list --format table`
    max_length: int | None = None  # characters, when less than any text's (MAX_TEXT)

    @cached_property
    def is_list(self) -> bool:
        return self.type in LIST_TYPES

    @property
    def cli_name(self) -> str:
        return (self.option or self.name).replace("_", "-")

    @property
    def always_valued(self) -> bool:
        """Whether every record has a value of the field, its default unless set (a status,
        a role, a party's kind): it cannot be cleared, as clearing would set the default."""
        return self.default is not None and not self.is_list and self.type is not T.BOOL

    def empty(self) -> Any:
        """The value a cleared field takes."""
        if self.is_list:
            return []
        if self.type is T.BOOL:
            return False
        return self.default


@dataclass(frozen=True)
class Kind:
    """A record kind: its CLI group name, document section and fields in document order."""

    name: str
    section: str
    label: str
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def table(self) -> str:
        return self.section

    @cached_property
    def scalar_fields(self) -> list[Field]:
        """Fields stored as columns of the kind's own table."""
        return [f for f in self.fields if not f.is_list]

    @cached_property
    def list_fields(self) -> list[Field]:
        return [f for f in self.fields if f.is_list]

    @cached_property
    def reference_fields(self) -> list[Field]:
        """Fields that refer to other records (directly, or in nested rows)."""
        return [f for f in self.fields if f.type in (T.REF, T.REFS, T.NESTED)]

    def new_record(self) -> dict:
        """A record with every field at its empty or default value."""
        record = dict(self._empty_record)
        for f in self.list_fields:
            record[f.name] = []
        return record

    @cached_property
    def _empty_record(self) -> dict:
        return {f.name: f.empty() for f in self.fields}


#: The most characters a name holds: 2,000 bytes of UTF-8 at most, so that it fits the unique
#: index on lower(name) of every backend (PostgreSQL's holds 2,704 bytes).
MAX_NAME = 500


def _common(label: str) -> tuple[Field, ...]:
    return (
        Field("key", T.KEY, f"Stable identifier of the {label}", in_table=True),
        Field("name", T.TEXT, f"Name of the {label} (unique)", in_table=True, max_length=MAX_NAME),
        Field("description", T.TEXT, "Description"),
    )


PARTY = Kind(
    "party",
    "parties",
    "party",
    (
        *_common("party"),
        Field(
            "kind", T.CODE, "Party kind", codes=vocab.PARTY_KINDS, default="other", in_table=True
        ),
        Field("country", T.COUNTRY, "Country (ISO 3166-1 alpha-2, or INTL)", in_table=True),
        Field("address", T.TEXT, "Postal address"),
        Field("email", T.EMAIL, "Contact email"),
        Field("phone", T.TEXT, "Contact phone"),
        Field("website", T.TEXT, "Website"),
        Field("registration_id", T.TEXT, "Company registration number"),
        Field("contract_link", T.TEXT, "Link to the Art. 28 contract (service providers)"),
        Field("dpf_certified", T.BOOL, "Certified under the EU-US Data Privacy Framework"),
        Field("dpo_name", T.TEXT, "Data protection officer: name"),
        Field("dpo_email", T.EMAIL, "Data protection officer: email"),
        Field("dpo_phone", T.TEXT, "Data protection officer: phone"),
        Field("representative_name", T.TEXT, "Art. 27 representative: name"),
        Field("representative_email", T.EMAIL, "Art. 27 representative: email"),
        Field("representative_address", T.TEXT, "Art. 27 representative: address"),
        Field(
            "regime",
            T.CODE,
            "Data protection law of a group member (empty: uk-gdpr in GB, else eu-gdpr)",
            codes=vocab.REGIMES,
        ),
        Field(
            "supervisory_authority",
            T.TEXT,
            "Lead supervisory authority (reference-data key), where the country has several",
        ),
        Field("notes", T.TEXT, "Internal notes"),
    ),
)

CATEGORY = Kind(
    "category",
    "categories",
    "data category",
    (
        *_common("data category"),
        Field(
            "special",
            T.CODE,
            "Special category: none, art9 or art10",
            codes=vocab.SPECIAL,
            default="none",
            in_table=True,
        ),
        Field("parent", T.REF, "Parent category key", ref="category", in_table=True),
        Field("fides_key", T.TEXT, "fideslang data category"),
    ),
)

SUBJECT = Kind(
    "subject",
    "subjects",
    "data subject category",
    (
        *_common("data subject category"),
        Field(
            "vulnerable",
            T.BOOL,
            "Vulnerable data subjects (employees, children, patients…)",
            in_table=True,
        ),
        Field("fides_key", T.TEXT, "fideslang data subject"),
    ),
)

PURPOSE = Kind(
    "purpose",
    "purposes",
    "purpose",
    (
        *_common("purpose"),
        Field(
            "systematic_monitoring",
            T.BOOL,
            "Systematic monitoring of data subjects (an EDPB DPIA screening criterion)",
            in_table=True,
        ),
        Field(
            "direct_marketing",
            T.BOOL,
            "Direct marketing (the absolute right to object applies, Art. 21(2)-(3))",
            in_table=True,
        ),
        Field("fides_key", T.TEXT, "fideslang data use"),
    ),
)
SOURCE = Kind("source", "sources", "source", _common("source"))

MEASURE = Kind(
    "measure",
    "measures",
    "security measure",
    (
        *_common("security measure"),
        Field(
            "kind",
            T.CODE,
            "Measure kind",
            codes=vocab.MEASURE_KINDS,
            default="technical",
            in_table=True,
        ),
    ),
)

SYSTEM = Kind(
    "system",
    "systems",
    "system",
    (
        *_common("system"),
        Field("provider", T.REF, "Provider (party key)", ref="party", in_table=True),
        Field("countries", T.COUNTRIES, "Hosting countries", option="country", in_table=True),
    ),
)

TRANSFER_FIELDS = (
    Field("country", T.COUNTRY, "Destination country (ISO alpha-2, or INTL)"),
    Field("recipient", T.REF, "Recipient (party key)", ref="party"),
    Field("mechanism", T.CODE, "Transfer mechanism", codes=vocab.TRANSFER_MECHANISMS),
    Field("details", T.TEXT, "Safeguard documentation"),
    Field("document_link", T.TEXT, "Link to the safeguard document"),
    Field("tia_link", T.TEXT, "Link to the transfer impact assessment"),
)

RETENTION_FIELDS = (
    Field("data_category", T.REF, "Category the rule is for (empty: all)", ref="category"),
    Field("duration", T.DURATION, "ISO 8601 duration, e.g. P6Y"),
    Field("trigger", T.TEXT, "Event the period runs from"),
    Field("action", T.CODE, "What happens at the end", codes=vocab.RETENTION_ACTIONS),
    Field("criteria", T.TEXT, "Criteria when no fixed period is possible"),
    Field("legal_reference", T.TEXT, "Legal reference"),
)

ACTIVITY = Kind(
    "activity",
    "activities",
    "activity",
    (
        *_common("activity"),
        Field("status", T.CODE, "Status", codes=vocab.STATUSES, default="active", in_table=True),
        Field("role", T.CODE, "Our role", codes=vocab.ROLES, default="controller", in_table=True),
        Field("controller", T.REF, "Group-member party responsible", ref="party", in_table=True),
        Field(
            "joint_controllers",
            T.REFS,
            "Joint controllers (party keys)",
            ref="party",
            option="joint_controller",
        ),
        Field("joint_arrangement_link", T.TEXT, "Link to the Art. 26 joint controller arrangement"),
        Field(
            "sub_processors",
            T.REFS,
            "Sub-processors we engage (party keys; role processor only)",
            ref="party",
            option="sub_processor",
        ),
        Field(
            "processor_for",
            T.REFS,
            "Controllers we process for (party keys)",
            ref="party",
            option="processor_for",
        ),
        Field("business_function", T.TEXT, "Department"),
        Field("owner", T.TEXT, "Accountable person or mailbox"),
        Field("purposes", T.REFS, "Purposes (purpose keys)", ref="purpose", option="purpose"),
        Field(
            "lawful_bases", T.CODES, "Art. 6 lawful bases", codes=vocab.LAWFUL_BASES, option="basis"
        ),
        Field(
            "art9_conditions",
            T.CODES,
            "Art. 9(2) conditions",
            codes=vocab.ART9_CONDITIONS,
            option="art9_condition",
        ),
        Field("art10_basis", T.TEXT, "Authority for criminal-offence data"),
        Field(
            "legal_basis_details",
            T.TEXT,
            "The law behind a legal obligation or public task; national conditions",
        ),
        Field("legitimate_interests", T.TEXT, "Legitimate interests pursued"),
        Field("lia_link", T.TEXT, "Link to the legitimate interests assessment"),
        Field("data_subjects", T.REFS, "Data subject categories", ref="subject", option="subject"),
        Field(
            "data_categories", T.REFS, "Personal data categories", ref="category", option="category"
        ),
        Field("sources", T.REFS, "Sources of the data", ref="source", option="source"),
        Field("recipients", T.REFS, "Recipients (party keys)", ref="party", option="recipient"),
        Field("measures", T.REFS, "Security measures", ref="measure", option="measure"),
        Field("systems", T.REFS, "Systems", ref="system", option="system"),
        Field(
            "transfers",
            T.NESTED,
            "Transfers outside the EEA",
            nested=TRANSFER_FIELDS,
            option="transfer",
        ),
        Field(
            "retention", T.NESTED, "Retention rules", nested=RETENTION_FIELDS, option="retention"
        ),
        Field("automated_decisions", T.TEXT, "Automated decision-making (empty: none)"),
        Field(
            "dpia_required", T.CODE, "DPIA required", codes=vocab.DPIA_REQUIRED, default="unknown"
        ),
        Field("dpia_status", T.CODE, "DPIA status", codes=vocab.DPIA_STATUSES),
        Field("dpia_link", T.TEXT, "Link to the DPIA"),
        Field("consent_record_link", T.TEXT, "Link to the consent records"),
        Field("retention_policy_link", T.TEXT, "Link to the retention and erasure policy"),
        Field("last_reviewed", T.DATE, "Date of the last review (ISO date)"),
        Field("review_interval_months", T.INT, "Months between reviews", default=12),
        Field("notes", T.TEXT, "Internal notes (never in the auditor record)"),
    ),
)

#: Every kind, in the order records must be written (a kind only refers to earlier kinds,
#: categories also to other categories).
KINDS: dict[str, Kind] = {
    k.name: k for k in (PARTY, CATEGORY, SUBJECT, PURPOSE, SOURCE, MEASURE, SYSTEM, ACTIVITY)
}
BY_SECTION: dict[str, Kind] = {k.section: k for k in KINDS.values()}
REFERENCE_KINDS = [k for k in KINDS.values() if k is not ACTIVITY]


def of_member(activity: Any, member: str) -> bool:
    """Whether an activity is one of a group member's (`--entity`, `--per-entity`): the
    member is its controller (the processor entity, for work done as a processor) or one of
    its joint controllers, as each joint controller keeps the processing in its own record
    (Art. 26, 30(1)(a)). :class:`ropa.store.Filter`'s `member` asks the database the same."""
    return activity.get("controller") == member or member in (
        activity.get("joint_controllers") or ()
    )


def joint_named_by(activity: Any, member: str | None = None) -> list[str]:
    """The joint controllers a group member names for one of its activities (Art. 26(2)):
    the others, the activity's controller among them; never the member itself, nor, without
    a member, the activity's controller (an activity listing it among them: check R06)."""
    controller = activity.get("controller")
    named = dict.fromkeys([controller, *(activity.get("joint_controllers") or ())])
    return [k for k in named if k and k != (member or controller)]


def told_by(activity: dict, member: str) -> dict:
    """One of a group member's activities as that member tells it in its Fides manifest:
    the member is the controller, and the others are the joint controllers
    (:func:`joint_named_by`)."""
    if activity.get("controller") == member:
        return activity
    return {**activity, "controller": member, "joint_controllers": joint_named_by(activity, member)}


def kind_named(name: str) -> Kind:
    """The kind for a CLI group name or a document section ("party" or "parties")."""
    kind = KINDS.get(name) or BY_SECTION.get(name)
    if kind is None:
        from ropa.errors import RopaError

        choices = ", ".join(KINDS)
        raise RopaError(f"unknown kind {name!r}; choose one of {choices}")
    return kind


def link_table(kind: Kind, field: Field) -> str:
    """Name of the table holding a list field: activities_purposes, systems_countries."""
    return f"{kind.section}_{field.name}"
