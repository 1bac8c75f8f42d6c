"""How the register's facts are said in words, the same in the Article 30 record and in the
privacy notice: durations, retention rules, contact lines and the rights of individuals.

Domain wording, not a file format: the record's layouts (`ropa.io.article30`) and the notice
(`ropa.notice`) both import it, and it imports neither.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ropa import vocab

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


#: The rights of individuals: code -> (title, what it means in the notice).
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
        "Where we rely on legitimate interests (or a public task), you can "
        "object to the processing on grounds relating to your situation, and at any "
        "time to direct marketing (Art. 21).",
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


def rights_available(lawful_bases: Iterable[str], automated_decisions: bool) -> list[str]:
    """The codes (keys of RIGHTS) of the rights individuals have, in order, derived from the
    lawful bases relied on and whether automated decisions are made."""
    bases = set(lawful_bases)
    wanted = ["access", "rectification", "erasure", "restriction"]
    if bases & {"consent", "contract"}:
        wanted.append("portability")
    if bases & {"legitimate-interests", "public-task"}:
        wanted.append("object")
    if "consent" in bases:
        wanted.append("withdraw")
    if automated_decisions:
        wanted.append("automated")
    wanted.append("complaint")
    return wanted
