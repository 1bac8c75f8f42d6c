"""How the register's facts are said in words, the same in the Article 30 record and in the
privacy notice: durations, retention rules, contact lines and the rights of individuals.

Domain wording, not a file format: the record's layouts (`ropa.io.article30`) and the notice
(`ropa.notice`) both import it, and it imports neither.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ropa import reference, vocab, words
from ropa.words import isolated

__all__ = ["isolated"]  # said in ropa.words, which ropa.history can import too


_UNITS = {"Y": "year", "M": "month", "W": "week", "D": "day", "H": "hour", "S": "second"}


def describe_duration(duration: str) -> str:
    """P6Y -> "6 years", P1Y6M -> "1 year 6 months", PT12H -> "12 hours"."""
    parts = []
    date_part, _, time_part = duration[1:].partition("T")
    for text, units in ((date_part, "YMWD"), (time_part, "HMS")):
        for number, unit in re.findall(r"(\d+)([A-Z])", text):
            name = "minute" if unit == "M" and units == "HMS" else _UNITS[unit]
            parts.append(words.count(int(number), name))
    return " ".join(parts) or duration


def sentence(text: str) -> str:
    """The text as a sentence: it ends with a full stop (or a ?, ! or closing quote)."""
    text = text.strip()
    return text if not text or text[-1] in ".!?…\"”'" else text + "."


def describe_retention(rule: dict, category_name: str | None = None) -> str:
    """One retention rule in words, the same in the record and the notice: "6 years after end
    of contract, then delete", "Until you unsubscribe. Then delete.", with the criteria
    punctuated as sentences and the legal reference in brackets."""
    action = vocab.RETENTION_ACTIONS.get(rule["action"]).label.lower() if rule["action"] else ""
    text = ""
    if rule["duration"]:
        text = describe_duration(rule["duration"])
        if rule["trigger"]:
            text += f" after {rule['trigger']}"
        if action:
            text += f", then {action}"
    criteria = (rule["criteria"] or "").strip()
    if criteria and text:
        text = f"{text}. Criteria: {sentence(criteria)}"
    elif criteria:
        text = (
            f"{sentence(criteria[:1].upper() + criteria[1:])} Then {action}."
            if action
            else criteria
        )
    if rule["legal_reference"]:
        reference = f" ({rule['legal_reference']})"
        text = text[:-1] + reference + "." if text.endswith(".") else text + reference
    if category_name:
        text = f"{category_name}: {text}"
    return text or "—"


def lines(values: Iterable[str | None]) -> str:
    """The non-empty values, one per line."""
    return "\n".join(v for v in values if v)


def dpo_contact(party: dict) -> list[str]:
    """The recorded parts of a party's data protection officer's contact: name, email, phone."""
    return [x for x in (party["dpo_name"], party["dpo_email"], party["dpo_phone"]) if x]


def representative_contact(party: dict) -> list[str]:
    """The recorded parts of a party's Art. 27 representative's contact: name, email,
    address."""
    return [
        x
        for x in (
            party["representative_name"],
            party["representative_email"],
            party["representative_address"],
        )
        if x
    ]


#: The rights of individuals: code -> (title, what it means in the notice), in the order the
#: notice lists them.
RIGHTS = {
    "access": (
        "Access",
        "You can ask for a copy of the personal information we hold about you (Art. 15).",
    ),
    "rectification": (
        "Rectification",
        "You can ask us to correct information that is wrong or incomplete (Art. 16).",
    ),
    "erasure": ("Erasure", "You can ask us to delete your information (Art. 17)."),
    "restriction": (
        "Restriction",
        "You can ask us to limit how we use your information (Art. 18).",
    ),
    "portability": (
        "Portability",
        "Where we process information you gave us on the basis of "
        "your consent or a contract, you can ask for it in a structured, "
        "machine-readable format (Art. 20).",
    ),
    "object": (
        "Objection",
        "Where we rely on legitimate interests or a public task, you can object at any time, "
        "on grounds relating to your particular situation; we then stop unless we have "
        "compelling legitimate grounds or need the information for legal claims (Art. 21(1)).",
    ),
    "object-direct-marketing": (
        "Objection to direct marketing",
        "You can object at any time to the use of your information for direct marketing, "
        "including profiling related to it; we will then no longer use it for that purpose "
        "(Art. 21(2) and (3)).",
    ),
    "withdraw": (
        "Withdrawing consent",
        "Where we rely on your consent, you can withdraw it at "
        "any time; this does not affect processing before the withdrawal "
        "(Art. 7(3)).",
    ),
    "automated": (
        "Automated decisions",
        "You have the right not to be subject to a decision "
        "based solely on automated processing that significantly affects you, and to "
        "obtain human intervention (Art. 22).",
    ),
    "complaint": (
        "Complaint",
        "You can lodge a complaint with a supervisory authority, in "
        "particular where you live or work or where an infringement took place "
        "(Art. 77).",
    ),
}


def rights_available(
    lawful_bases: Iterable[str], automated_decisions: bool, direct_marketing: bool = False
) -> list[str]:
    """The codes (keys of RIGHTS) of the rights individuals have, in order, derived from the
    lawful bases relied on, whether automated decisions are made and whether a purpose is
    direct marketing: access, rectification, erasure and restriction always; portability for
    consent and contract; objection (Art. 21(1)) for legitimate interests and public task;
    the absolute objection to direct marketing; withdrawing consent; Art. 22; complaint."""
    bases = set(lawful_bases)
    wanted = ["access", "rectification", "erasure", "restriction"]
    if bases & {"consent", "contract"}:
        wanted.append("portability")
    if bases & {"legitimate-interests", "public-task"}:
        wanted.append("object")
    if direct_marketing:
        wanted.append("object-direct-marketing")
    if "consent" in bases:
        wanted.append("withdraw")
    if automated_decisions:
        wanted.append("automated")
    wanted.append("complaint")
    return wanted


def rights_titles(codes: Iterable[str]) -> list[str]:
    """The titles of rights (RIGHTS codes), as the record's column lists them."""
    return [RIGHTS[c][0] for c in codes]


def complaint_authorities(authorities: Iterable[reference.Authority]) -> str:
    """The sentence naming the supervisory authorities people can complain to, with their
    websites; empty when none is known."""
    named = [f"{a.name} ({a.website.removeprefix('https://')})" for a in authorities]
    if not named:
        return ""
    return (
        f"Our lead supervisory authority is {words.join(named)}."
        if len(named) == 1
        else (f"Our supervisory authorities are {words.join(named)}.")
    )


def regime_rows(party: dict) -> list[tuple[str, str]]:
    """The record cover's rows on a controller: the law its record is under, and its
    supervisory authority where the reference data names one."""
    authority = reference.supervisory_authority(party)
    law = vocab.REGIMES.get(reference.effective_regime(party)).label
    return [("Data protection law", law)] + (
        [("Supervisory authority", f"{authority.name} ({authority.website})")] if authority else []
    )
