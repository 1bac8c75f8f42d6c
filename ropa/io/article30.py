"""The Article 30 record: what each sheet, CSV and HTML table holds, row by row.

Format-independent: this module turns records into rows of readable cells (names and article
labels, never codes; list items one per line); `xlsx_record`, the CSV writer and `html_record`
lay those rows out. Activities stream through one at a time.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

from ropa import reference, vocab
from ropa.checks import inherited_special, next_review
from ropa.io.safe_csv import SafeWriter

CONTROLLER_HEADERS = [
    "Activity ID",
    "Processing activity",
    "Business function",
    "Controller",
    "Joint controllers",
    "Purposes of processing",
    "Categories of data subjects",
    "Categories of personal data",
    "Special category or criminal offence data",
    "Categories of recipients",
    "Recipients",
    "Third countries or international organisations",
    "Transfer safeguards",
    "Retention (time limits for erasure)",
    "Technical and organisational security measures",
    "Article 6 lawful basis",
    "Article 9 condition",
    "Legitimate interests",
    "Legitimate interests assessment",
    "Source of personal data",
    "Location of personal data",
    "Automated decision-making",
    "DPIA required",
    "DPIA status",
    "DPIA link",
    "Status",
    "Last reviewed",
    "Next review due",
]
#: The band above the controller headers: (label, first column, last column), 0-based.
CONTROLLER_BANDS = [
    ("Article 30(1) record", 0, 14),
    ("Privacy notice", 15, 21),
    ("DPIA", 22, 24),
    ("Review", 25, 27),
]
PROCESSOR_HEADERS = [
    "Activity ID",
    "Processing activity",
    "Processor",
    "Controllers on whose behalf we act",
    "Categories of processing",
    "Third countries or international organisations",
    "Transfer safeguards",
    "Technical and organisational security measures",
    "Data protection officer",
    "Representative",
]
DETAIL_HEADERS = {
    "Transfers": [
        "Activity ID",
        "Processing activity",
        "Country or organisation",
        "Recipient",
        "Transfer mechanism",
        "Safeguard documentation",
        "Safeguard document",
        "Transfer impact assessment",
    ],
    "Retention": [
        "Activity ID",
        "Processing activity",
        "Data category",
        "Retention period",
        "Runs from",
        "At the end",
        "Criteria",
        "Legal reference",
    ],
    "Recipients": [
        "Activity ID",
        "Processing activity",
        "Recipient",
        "Category of recipient",
        "Country",
        "Contract (Art. 28)",
        "EU-US Data Privacy Framework",
    ],
    "Data categories": [
        "Activity ID",
        "Processing activity",
        "Data category",
        "Special category",
        "Description",
    ],
    "Data subjects": [
        "Activity ID",
        "Processing activity",
        "Data subject category",
        "Vulnerable",
        "Description",
    ],
    "Security measures": [
        "Activity ID",
        "Processing activity",
        "Security measure",
        "Kind",
        "Description",
    ],
    "Systems": ["Activity ID", "Processing activity", "System", "Provider", "Hosting countries"],
}
#: Columns written as real dates.
DATE_COLUMNS = {"Last reviewed", "Next review due"}
#: Column widths (in characters) by header: fitted to what the column usually holds, so
#: that rows can be given their height while they stream. Other columns get DEFAULT_WIDTH.
WIDTHS = {
    "Activity ID": 18,
    "Processing activity": 28,
    "Business function": 16,
    "Controller": 18,
    "Joint controllers": 18,
    "Purposes of processing": 28,
    "Categories of data subjects": 22,
    "Categories of personal data": 24,
    "Special category or criminal offence data": 22,
    "Categories of recipients": 18,
    "Recipients": 26,
    "Third countries or international organisations": 18,
    "Transfer safeguards": 36,
    "Retention (time limits for erasure)": 40,
    "Technical and organisational security measures": 28,
    "Article 6 lawful basis": 22,
    "Article 9 condition": 20,
    "Legitimate interests": 28,
    "Legitimate interests assessment": 20,
    "Source of personal data": 24,
    "Location of personal data": 24,
    "Automated decision-making": 16,
    "DPIA required": 10,
    "DPIA status": 11,
    "DPIA link": 18,
    "Status": 9,
    "Last reviewed": 11,
    "Next review due": 11,
    "Processor": 26,
    "Controllers on whose behalf we act": 30,
    "Categories of processing": 40,
    "Data protection officer": 24,
    "Representative": 24,
    "Country or organisation": 20,
    "Recipient": 26,
    "Transfer mechanism": 28,
    "Safeguard documentation": 36,
    "Safeguard document": 20,
    "Transfer impact assessment": 20,
    "Data category": 24,
    "Retention period": 14,
    "Runs from": 20,
    "At the end": 11,
    "Criteria": 40,
    "Legal reference": 20,
    "Category of recipient": 18,
    "Country": 14,
    "Contract (Art. 28)": 20,
    "EU-US Data Privacy Framework": 12,
    "Special category": 22,
    "Description": 40,
    "Data subject category": 24,
    "Vulnerable": 10,
    "Security measure": 28,
    "Kind": 14,
    "System": 26,
    "Provider": 24,
    "Hosting countries": 20,
}
DEFAULT_WIDTH = 20
TITLE = "Record of processing activities (GDPR Article 30)"

_UNITS = {"Y": "year", "M": "month", "W": "week", "D": "day", "H": "hour", "S": "second"}


def describe_duration(duration: str) -> str:
    """P6Y -> "6 years", P1Y6M -> "1 year 6 months", PT12H -> "12 hours"."""
    parts = []
    date_part, _, time_part = duration[1:].partition("T")
    for text, units in ((date_part, "YMWD"), (time_part, "HMS")):
        for number, unit in re.findall(r"(\d+)([A-Z])", text):
            name = "minute" if unit == "M" and units == "HMS" else _UNITS[unit]
            parts.append(f"{int(number)} {name}{'s' if int(number) != 1 else ''}")
    return " ".join(parts) or duration


def describe_retention(rule: dict, category_name: str | None = None) -> str:
    """One retention rule in words: "6 years after end of contract, then delete"."""
    text = ""
    if rule["duration"]:
        text = describe_duration(rule["duration"])
        if rule["trigger"]:
            text += f" after {rule['trigger']}"
        if rule["action"]:
            text += f", then {vocab.RETENTION_ACTIONS.get(rule['action']).label.lower()}"
    criteria = rule["criteria"] or ""
    if criteria:
        text = f"{text}. Criteria: {criteria}" if text else criteria
        if not rule["duration"] and rule["action"]:
            text += f" Then {vocab.RETENTION_ACTIONS.get(rule['action']).label.lower()}."
    if rule["legal_reference"]:
        text += f" ({rule['legal_reference']})"
    if category_name:
        text = f"{category_name}: {text}"
    return text or "—"


def lines(values: Iterable[str]) -> str:
    return "\n".join(v for v in values if v)


@dataclass
class RecordScope:
    """What an export covers."""

    entity: str | None = None  # a group member's key
    role: str | None = None  # controller | processor | None for both
    include_retired: bool = False
    as_of: date | None = None

    def wants(self, activity: dict) -> bool:
        if activity["status"] == "retired" and not self.include_retired:
            return False
        return not self.entity or activity["controller"] == self.entity


@dataclass
class RecordBuilder:
    """Turns activities into the rows of every sheet, using the reference records."""

    references: dict[str, dict[str, dict]]
    counts: dict[str, int] = field(default_factory=dict)

    # -- names -------------------------------------------------------------------------

    def name(self, kind: str, key: str | None) -> str:
        if not key:
            return ""
        record = self.references[kind].get(key)
        return record["name"] if record else key

    def names(self, kind: str, keys: Iterable[str]) -> str:
        return lines(sorted((self.name(kind, k) for k in keys), key=str.lower))

    def special(self, category: str) -> str:
        return inherited_special(self.references["category"], category)

    def destination(self, transfer: dict) -> str:
        if transfer["country"] == reference.INTL:
            org = self.name("party", transfer["recipient"])
            return f"{org} (international organisation)" if org else "International organisation"
        return reference.country_name(transfer["country"])

    def safeguard(self, transfer: dict) -> str:
        text = self.destination(transfer) + ": "
        text += (
            vocab.TRANSFER_MECHANISMS.label(transfer["mechanism"])
            if transfer["mechanism"]
            else "no mechanism recorded"
        )
        if transfer["details"]:
            text += f" — {transfer['details']}"
        return text

    def party_contact(self, key: str | None) -> str:
        party = self.references["party"].get(key) if key else None
        if party is None:
            return ""
        return lines([party["name"], party["address"], party["email"], party["phone"]])

    # -- rows --------------------------------------------------------------------------

    def controller_row(self, a: dict) -> list:
        specials = []
        for key in a["data_categories"]:
            special = self.special(key)
            if special != "none":
                specials.append(
                    f"{self.name('category', key)} ({vocab.SPECIAL.get(special).title})"
                )
        recipient_kinds = {
            self.references["party"][k]["kind"]
            for k in a["recipients"]
            if k in self.references["party"]
        }
        systems = []
        for key in a["systems"]:
            system = self.references["system"].get(key)
            if system is None:
                continue
            where = ", ".join(reference.country_name(c) for c in system["countries"])
            systems.append(f"{system['name']} ({where})" if where else system["name"])
        return [
            a["key"],
            a["name"],
            a["business_function"],
            self.name("party", a["controller"]),
            self.names("party", a["joint_controllers"]),
            self.names("purpose", a["purposes"]),
            self.names("subject", a["data_subjects"]),
            self.names("category", a["data_categories"]),
            lines(sorted(specials)),
            lines(
                vocab.PARTY_KINDS.get(k).label
                for k in vocab.PARTY_KINDS.values
                if k in recipient_kinds
            ),
            self.names("party", a["recipients"]),
            lines(dict.fromkeys(self.destination(t) for t in a["transfers"])),
            lines(self.safeguard(t) for t in a["transfers"]),
            lines(
                describe_retention(r, self.name("category", r["data_category"]) or None)
                for r in a["retention"]
            ),
            self.names("measure", a["measures"]),
            lines(vocab.LAWFUL_BASES.label(c) for c in a["lawful_bases"]),
            lines(vocab.ART9_CONDITIONS.label(c) for c in a["art9_conditions"]),
            a["legitimate_interests"],
            a["lia_link"],
            self.names("source", a["sources"]),
            lines(sorted(systems, key=str.lower)),
            a["automated_decisions"] or "None",
            vocab.DPIA_REQUIRED.get(a["dpia_required"]).label,
            vocab.DPIA_STATUSES.get(a["dpia_status"]).label if a["dpia_status"] else None,
            a["dpia_link"],
            vocab.STATUSES.get(a["status"]).label,
            a["last_reviewed"],
            next_review(a),
        ]

    def processor_row(self, a: dict) -> list:
        processor = self.references["party"].get(a["controller"]) if a["controller"] else None
        dpo = representative = ""
        if processor:
            dpo = lines([processor["dpo_name"], processor["dpo_email"], processor["dpo_phone"]])
            representative = lines(
                [
                    processor["representative_name"],
                    processor["representative_email"],
                    processor["representative_address"],
                ]
            )
        return [
            a["key"],
            a["name"],
            self.party_contact(a["controller"]),
            "\n\n".join(self.party_contact(k) for k in a["processor_for"]),
            lines([self.names("purpose", a["purposes"]), a["description"]]),
            lines(dict.fromkeys(self.destination(t) for t in a["transfers"])),
            lines(self.safeguard(t) for t in a["transfers"]),
            self.names("measure", a["measures"]),
            dpo,
            representative,
        ]

    def detail_rows(self, a: dict) -> Iterator[tuple[str, list]]:
        """(sheet, row) for every item of the activity on the detail sheets."""
        head = [a["key"], a["name"]]
        parties = self.references["party"]
        for t in a["transfers"]:
            mechanism = vocab.TRANSFER_MECHANISMS.label(t["mechanism"]) if t["mechanism"] else None
            yield (
                "Transfers",
                [
                    *head,
                    self.destination(t),
                    self.name("party", t["recipient"]),
                    mechanism,
                    t["details"],
                    t["document_link"],
                    t["tia_link"],
                ],
            )
        for r in a["retention"]:
            action = vocab.RETENTION_ACTIONS.get(r["action"]).label if r["action"] else None
            period = describe_duration(r["duration"]) if r["duration"] else None
            yield (
                "Retention",
                [
                    *head,
                    self.name("category", r["data_category"]) or "All",
                    period,
                    r["trigger"],
                    action,
                    r["criteria"],
                    r["legal_reference"],
                ],
            )
        for key in a["recipients"]:
            party = parties.get(key, {})
            country = party.get("country")
            yield (
                "Recipients",
                [
                    *head,
                    self.name("party", key),
                    vocab.PARTY_KINDS.get(party["kind"]).label if party else None,
                    reference.country_name(country) if country else None,
                    party.get("contract_link"),
                    "Yes" if party.get("dpf_certified") else None,
                ],
            )
        for key in a["data_categories"]:
            special = self.special(key)
            category = self.references["category"].get(key, {})
            yield (
                "Data categories",
                [
                    *head,
                    self.name("category", key),
                    vocab.SPECIAL.get(special).title if special != "none" else "No",
                    category.get("description"),
                ],
            )
        for key in a["data_subjects"]:
            subject = self.references["subject"].get(key, {})
            yield (
                "Data subjects",
                [
                    *head,
                    self.name("subject", key),
                    "Yes" if subject.get("vulnerable") else "No",
                    subject.get("description"),
                ],
            )
        for key in a["measures"]:
            measure = self.references["measure"].get(key, {})
            kind = measure.get("kind")
            yield (
                "Security measures",
                [
                    *head,
                    self.name("measure", key),
                    vocab.MEASURE_KINDS.get(kind).label if kind else None,
                    measure.get("description"),
                ],
            )
        for key in a["systems"]:
            system = self.references["system"].get(key, {})
            yield (
                "Systems",
                [
                    *head,
                    self.name("system", key),
                    self.name("party", system.get("provider")),
                    ", ".join(reference.country_name(c) for c in system.get("countries", [])),
                ],
            )


@dataclass
class Cover:
    """What the cover sheet (and the HTML page's head) says."""

    controllers: list[dict]
    scope: str
    as_of: date | None
    generated_at: datetime
    activities: int
    fingerprint: Callable[[], str]  # may still be computing elsewhere: asked for last
    version: str

    @cached_property
    def registry_fingerprint(self) -> str:
        return self.fingerprint()

    def rows(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for party in self.controllers:
            label = "Controller" if len(self.controllers) == 1 else f"Controller: {party['name']}"
            out.append((label, lines([party["name"], party["address"]])))
            out.append(("Email", party["email"] or ""))
            out.append(("Phone", party["phone"] or ""))
            out.append(
                (
                    "Data protection officer",
                    lines([party["dpo_name"], party["dpo_email"], party["dpo_phone"]])
                    or "None recorded",
                )
            )
            out.append(
                (
                    "Representative (Art. 27)",
                    lines(
                        [
                            party["representative_name"],
                            party["representative_email"],
                            party["representative_address"],
                        ]
                    )
                    or "None recorded",
                )
            )
        out += [
            ("Scope", self.scope),
            ("As of", self.as_of.isoformat() if self.as_of else "current register"),
            ("Generated at (UTC)", self.generated_at.strftime("%Y-%m-%d %H:%M:%S")),
            ("Number of activities", str(self.activities)),
            ("Registry fingerprint (SHA-256)", self.registry_fingerprint),
            ("ropa version", self.version),
        ]
        return out


def csv_chunks(rows: Iterable[list], headers: list[str]) -> Iterator[str]:
    """The controller record as CSV: UTF-8 with BOM (Excel opens it right), CRLF line ends,
    formula-safe cells; one row of text at a time."""
    out = io.StringIO()
    writer = SafeWriter(out)
    out.write("\ufeff")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(row)
        if out.tell() > 65536:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()
