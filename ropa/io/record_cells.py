"""The cells of the Article 30 record: what an export covers (:class:`RecordScope`), the names,
labels and contact lines an activity's cells are made of (:class:`RecordBuilder`), and the
record's cover (:class:`Cover`). The sheets and columns that use them are declared in
:mod:`ropa.io.article30`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

from ropa import reference, vocab, wording
from ropa.checks import inherited_special
from ropa.wording import (
    RIGHTS,
    describe_retention,
    dpo_contact,
    lines,
    representative_contact,
    rights_available,
)

#: What the record shows for a fact the register does not hold.
NOT_RECORDED = "Not recorded"


@dataclass
class RecordScope:
    """What an export covers."""

    entity: str | None = None  # a group member's key
    role: str | None = None  # controller | processor | None for both
    include_retired: bool = False
    as_of: date | None = None


@dataclass
class RecordBuilder:
    """Makes the cells of the record from activities, using the reference records."""

    references: dict[str, dict[str, dict]]
    counts: dict[str, int] = field(default_factory=dict)

    def name(self, kind: str, key: str | None) -> str:
        """The name of a reference record; its key when it refers to nothing."""
        if not key:
            return ""
        record = self.references[kind].get(key)
        return record["name"] if record else key

    def names(self, kind: str, keys: Iterable[str]) -> str:
        """Names of reference records, sorted, one per line."""
        return lines(sorted((self.name(kind, k) for k in keys), key=str.lower))

    def special_title(self, category: str) -> str | None:
        """The special category (own or inherited) a data category is in, as a title."""
        special = inherited_special(self.references["category"], category)
        return vocab.SPECIAL.get(special).title if special != "none" else None

    def specials(self, a: dict) -> str:
        """The activity's special-category and criminal-offence data, with their kind."""
        out = []
        for key in a["data_categories"]:
            title = self.special_title(key)
            if title is not None:
                out.append(f"{self.name('category', key)} ({title})")
        return lines(sorted(out))

    def recipient_kinds(self, a: dict) -> str:
        """The kinds of the activity's recipients, in the code list's order."""
        parties = self.references["party"]
        kinds = {parties[k]["kind"] for k in a["recipients"] if k in parties}
        return lines(vocab.PARTY_KINDS.get(k).label for k in vocab.PARTY_KINDS.values if k in kinds)

    def destination(self, transfer: dict) -> str:
        if transfer["country"] == reference.INTL:
            org = self.name("party", transfer["recipient"])
            return f"{org} (international organisation)" if org else "International organisation"
        return reference.country_name(transfer["country"])

    def destinations(self, a: dict) -> str:
        return lines(dict.fromkeys(self.destination(t) for t in a["transfers"]))

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

    def safeguards(self, a: dict) -> str:
        return lines(self.safeguard(t) for t in a["transfers"])

    def retention(self, a: dict) -> str:
        return lines(
            describe_retention(r, self.name("category", r["data_category"]) or None)
            for r in a["retention"]
        )

    def locations(self, a: dict) -> str:
        """The activity's systems, each with the countries it is hosted in."""
        systems = []
        for key in a["systems"]:
            system = self.references["system"].get(key)
            if system is None:
                continue
            where = ", ".join(reference.country_name(c) for c in system["countries"])
            systems.append(f"{system['name']} ({where})" if where else system["name"])
        return lines(sorted(systems, key=str.lower))

    def party_contact(self, key: str | None) -> str:
        party = self.references["party"].get(key) if key else None
        if party is None:
            return ""
        return lines([party["name"], party["address"], party["email"], party["phone"]])

    def contacts(self, keys: Iterable[str]) -> str:
        """Parties with their contact details, a blank line between them."""
        return "\n\n".join(c for c in (self.party_contact(k) for k in keys) if c)

    def contract_links(self, recipients: Iterable[str]) -> str:
        """The recipients' contract (Art. 28) links, each after the recipient's name."""
        parties = self.references["party"]
        found = [
            (self.name("party", k), parties.get(k, {}).get("contract_link")) for k in recipients
        ]
        return lines(f"{name}: {link}" for name, link in sorted(found) if link)

    def rights(self, a: dict) -> str:
        """The rights individuals have, as derived for the privacy notice."""
        codes = rights_available(a["lawful_bases"], bool(a["automated_decisions"]))
        return lines(RIGHTS[code][0] for code in codes)

    def processor_contact(self, a: dict, parts: Callable[[dict], list[str]]) -> str:
        """A contact (DPO or representative) of the processor an activity names."""
        processor = self.references["party"].get(a["controller"]) if a["controller"] else None
        return lines(parts(processor)) if processor else ""


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
            out.append(("Email", party["email"] or NOT_RECORDED))
            out.append(("Phone", party["phone"] or NOT_RECORDED))
            out.append(("Data protection officer", lines(dpo_contact(party)) or "None recorded"))
            out.append(
                (
                    "Representative (Art. 27)",
                    lines(representative_contact(party)) or "None recorded",
                )
            )
            out += wording.regime_rows(party)  # the law the record is under, the authority
        out += [
            ("Scope", self.scope),
            ("As of", self.as_of.isoformat() if self.as_of else "current register"),
            ("Generated at (UTC)", self.generated_at.strftime("%Y-%m-%d %H:%M:%S")),
            ("Number of activities", str(self.activities)),
            ("Registry fingerprint (SHA-256)", self.registry_fingerprint),
            ("ropa version", self.version),
        ]
        return out
