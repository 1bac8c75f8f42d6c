"""The privacy notice (GDPR Arts. 13 and 14) written from the register.

:func:`build_notice` turns the active activities and what they refer to into a small document
(sections of paragraphs and lists); :func:`to_markdown` and :func:`to_html` lay it out. The
shape follows a published privacy statement: who we are; per group of people, how we collect,
what we collect and how we use their information; sharing; transfers; retention; security;
rights; changes; contact.

Only the group's own processing is in it: active activities in which the group is controller or
joint controller, never a processor's work for its clients. Every statement says what the
register knows; an item without a description is named in a sentence, never left as an empty
label, and what the register does not know is a check finding, not public text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from html import escape
from typing import Any

from ropa import reference, vocab, words
from ropa.errors import RopaError
from ropa.schema import joint_named_by, of_member
from ropa.wording import (
    RIGHTS,
    complaint_authorities,
    describe_retention,
    dpo_contact,
    isolated,
    representative_contact,
    rights_available,
    sentence,
)


@dataclass
class Item:
    """A paragraph or list item: an optional bold lead ("Contact information:") and text."""

    text: str
    lead: str = ""


class PerActivity:
    """Paragraphs made from activities as they are read, not held: a large register's notice
    names each activity under each of its data subjects, and those paragraphs would otherwise
    outweigh the activities themselves."""

    def __init__(self, activities: list[Any], paragraphs: Callable[[Any], Iterable[Item]]):
        self.activities = activities
        self.paragraphs = paragraphs

    def __iter__(self) -> Iterator[Item]:
        for activity in self.activities:
            yield from self.paragraphs(activity)

    def __bool__(self) -> bool:
        return bool(self.activities)


@dataclass
class Section:
    title: str
    level: int = 2
    paragraphs: list[Item] | PerActivity = field(default_factory=list)
    items: list[Item] = field(default_factory=list)  # a bulleted list after the paragraphs
    sections: list[Section] = field(default_factory=list)


@dataclass
class Notice:
    title: str
    updated: date
    sections: list[Section]


def _basis_words(codes: Iterable[str]) -> str:
    return ", ".join(vocab.LAWFUL_BASES.get(c).label for c in codes)


def in_notice(activity: dict) -> bool:
    """Whether an activity belongs in the group's notice: active, and the group decides on it
    as controller or joint controller (a processor's work is its clients' to explain)."""
    return activity["status"] == "active" and activity["role"] != "processor"


#: The fields of an activity the notice reads (the rest is left out as activities stream in).
NOTICE_FIELDS = (
    "key",
    "name",
    "description",
    "status",
    "role",
    "controller",
    "lawful_bases",
    "legitimate_interests",
    "art9_conditions",
    "joint_controllers",
    "automated_decisions",
    "purposes",
    "data_subjects",
    "data_categories",
    "sources",
    "recipients",
    "measures",
    "transfers",
    "retention",
)


def notice_activities(activities: Iterable[dict]) -> list[Any]:
    """The activities that belong in the notice, each holding only the fields it reads, its
    lists as tuples and every repeated value (a key, a code, a transfer, a list of them) one
    shared object: a large register's activities repeat the same few hundred keys."""
    shared: dict[Any, Any] = {}

    def same(value: Any) -> Any:
        return shared.setdefault(value, value)

    def compact(name: str, value: Any) -> Any:
        if isinstance(value, list):
            if value and isinstance(value[0], dict):  # transfers, retention rules
                return tuple(shared.setdefault(tuple(r.items()), r) for r in value)
            return same(tuple(same(v) for v in value))
        if isinstance(value, str) and name not in (
            "key",
            "name",
            "description",
            "legitimate_interests",
        ):
            return same(value)
        return value

    return [
        _NoticeActivity(*(compact(f, a[f]) for f in NOTICE_FIELDS))
        for a in activities
        if in_notice(a)
    ]


class _NoticeActivity:
    """An activity as the notice reads it (`a["name"]`), in a fraction of a dict's memory."""

    __slots__ = NOTICE_FIELDS

    def __init__(self, *values: Any):
        for name, value in zip(NOTICE_FIELDS, values, strict=True):
            setattr(self, name, value)

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self, name, default)

    def replaced(self, **changes: Any) -> _NoticeActivity:
        return _NoticeActivity(*(changes.get(n, getattr(self, n)) for n in NOTICE_FIELDS))


def _as_named(activity: Any, member: str | None) -> Any:
    """An activity with the joint controllers its notice names
    (:func:`ropa.schema.joint_named_by`). Its controller stays: the transfers it makes are
    under its law (:func:`_transfers`)."""
    joint = tuple(joint_named_by(activity, member))
    if joint == tuple(activity["joint_controllers"]):
        return activity
    if isinstance(activity, dict):
        return {**activity, "joint_controllers": list(joint)}
    return activity.replaced(joint_controllers=joint)


def _in_sentence(name: str) -> str:
    """A name inside a sentence: "Contact details" -> "contact details"; "IP address" and a
    proper name ("Via Rail Canada": another word capitalised) stay (isolated, see
    :func:`ropa.wording.isolated`)."""
    common = name[1:2].islower() and not any(w[:1].isupper() for w in name.split()[1:])
    return isolated(name[:1].lower() + name[1:] if common else name)


#: The words a source's name may start with that already say where from ("From you or
#: your employer", "When you use our websites"): no "from" goes before them. Words that
#: also begin names ("Via Rail", "In Touch") are not among them.
_SAYS_WHERE = frozenset(("from", "when", "while", "during"))


def _from(names: list[str]) -> str:
    """Sources' names as where information comes from: "from HR system and agencies", or
    with names that say it themselves, "from HR system and when you use our websites"."""

    def says_where(name: str) -> bool:
        shown = "".join(c for c in name if unicodedata.category(c) != "Cf")  # bidi marks
        return shown.split(" ", 1)[0].lower() in _SAYS_WHERE

    if not any(map(says_where, names)):
        return "from " + words.join(names)
    return words.join([name if says_where(name) else f"from {name}" for name in names])


def _reading_order(name: str) -> tuple[str, str]:
    """A name's place in a list a person reads: by its letters without accents and case (Ä
    with A, not after Z), then as written, so that the order never depends on the keys."""
    return words.plain_letters(name), name


def _named(
    records: dict,
    keys: Iterable[str],
    verb: str,
    joined: Callable[[list[str]], str] = words.join,
) -> tuple[list[Item], list[Item]]:
    """Items for the described records (name as lead, description as text) and a sentence
    naming the others, put together by `joined`: ("We collect contact details and
    photos.")."""
    described, bare = [], []
    for key in keys:
        record = records.get(key)
        if record and record["description"]:
            described.append(Item(record["description"], record["name"] + ":"))
        else:
            bare.append(_in_sentence(record["name"] if record else key))
    rest = []
    if bare:
        also = " also" if described else ""
        rest.append(Item(f"We{also} {verb} {joined(bare)}."))
    return described, rest


def build_notice(
    references: dict[str, dict[str, dict]],
    activities: list[dict],
    entity: str | None,
    updated: date,
) -> Notice:
    """The notice for active activities (of one group member, or of all)."""
    parties = references["party"]
    activities = [
        _as_named(a, entity)
        for a in activities
        if in_notice(a) and (entity is None or of_member(a, entity))
    ]
    if not activities:  # every sentence would be about processing the register does not hold
        which = (
            f"no active activity has {parties[entity]['name']} as its controller or a joint "
            "controller"
            if entity in parties
            else "no active activity in which the group is controller or joint controller"
        )
        raise RopaError(f"{which}: the notice would have nothing to tell")
    # A group member's notice is its own, though it controls some activities jointly.
    controllers = (
        [parties[entity]]
        if entity in parties
        else [
            parties[k]
            for k in sorted({a["controller"] for a in activities if a["controller"] in parties})
        ]
    )
    who = _names(controllers) or "we"
    # The opening names what the notice goes on to say: no retention or security section
    # (the register records none), no promise of one.
    retention = _retention(references, activities)
    security = _security(references, activities)
    sections = [
        Section(
            "Who we are",
            paragraphs=[
                Item(
                    f"This notice explains how {who} (“we”) collect and use personal "
                    "information, with whom we share it, "
                    + ("how long we keep it, " if retention else "")
                    + ("how we protect it, " if security else "")
                    + "and the rights you have."
                )
            ]
            + [Item(_contact_line(p), p["name"] + ":") for p in controllers if _contact_line(p)]
            + _law(controllers),
        )
    ]

    subjects = references["subject"]
    used = sorted(
        {s for a in activities for s in a["data_subjects"] if s in subjects},
        key=lambda k: _reading_order(subjects[k]["name"]),
    )
    every_subject = set(used)
    general = [a for a in activities if len(used) > 1 and every_subject <= set(a["data_subjects"])]
    # Each activity's own subjects, in one pass (not one scan of the activities per subject).
    concerning: dict[str, list[dict]] = {key: [] for key in used}
    general_ids = {id(a) for a in general}
    for a in activities:
        if id(a) not in general_ids:
            for key in dict.fromkeys(a["data_subjects"]):
                if key in concerning:
                    concerning[key].append(a)
    collect = Section("What information we collect and why")
    for key in used:
        if concerning[key]:
            collect.sections.append(_subject_section(references, subjects[key], concerning[key]))
    sections.append(collect)
    if general:
        sections.append(
            Section(
                "Other reasons for using your information",
                paragraphs=PerActivity(general, partial(_general_paragraph, references["party"])),
            )
        )

    sections.append(_sharing(references, activities))
    sections.append(_transfers(references, activities, set(_regimes(controllers))))
    sections += [s for s in (retention, security) if s is not None]
    sections.append(_rights(references, activities, controllers))
    sections.append(
        Section(
            "Changes to this notice",
            paragraphs=[
                Item(
                    "We update this notice when our processing changes; the date at the top "
                    "says when it was last updated."
                )
            ],
        )
    )
    sections.append(_contact(controllers))
    return Notice("Privacy notice", updated, sections)


def _names(parties: list[dict]) -> str:
    names = [isolated(p["name"]) for p in parties]
    return (
        names[0]
        if len(names) == 1
        else ", ".join(names[:-1]) + " and " + names[-1]
        if names
        else ""
    )


def _contact_line(party: dict) -> str:
    parts = [
        party["address"].replace("\n", ", ") if party["address"] else None,
        party["email"],
        party["phone"],
    ]
    return "; ".join(isolated(p) for p in parts if p)


def _regimes(controllers: list[dict]) -> dict[str, list[dict]]:
    """The controllers by the regime they are under (EU GDPR first)."""
    grouped: dict[str, list[dict]] = {}
    for party in controllers:
        grouped.setdefault(reference.effective_regime(party), []).append(party)
    return {r: grouped[r] for r in vocab.REGIMES.values if r in grouped}


def _law(controllers: list[dict]) -> list[Item]:
    """Which law each controller's processing is under."""
    grouped = _regimes(controllers)
    if len(grouped) == 1:
        (regime,) = grouped
        return [Item(f"This notice is given under the {vocab.REGIMES.get(regime).label}.")]
    return [
        Item(
            f"For {_names(parties)}, this notice is given under the "
            f"{vocab.REGIMES.get(regime).label}."
        )
        for regime, parties in grouped.items()
    ]


def _subject_section(references: dict, subject: dict, activities: list[dict]) -> Section:
    section = Section(subject["name"], level=3)
    sources = sorted(
        {s for a in activities for s in a["sources"]},
        key=lambda k: _reading_order(_name(references["source"], k)),
    )
    categories = sorted(
        {c for a in activities for c in a["data_categories"]},
        key=lambda k: _reading_order(_name(references["category"], k)),
    )
    described, rest = _named(references["source"], sources, "collect it", _from)
    if rest and not described:
        bare = [_in_sentence(_name(references["source"], k)) for k in sources]
        rest = [Item(f"We collect your information {_from(bare)}.")]
    how = Section("How we collect your information", level=4, paragraphs=described + rest)
    described, rest = _named(references["category"], categories, "collect")
    what = Section("What information we collect", level=4, paragraphs=described + rest)
    use = Section(
        "How we use your information",
        level=4,
        paragraphs=PerActivity(activities, partial(_use, references["party"])),
    )
    section.sections = [s for s in (how, what, use) if s.paragraphs]
    return section


def _use(parties: dict, activity: Any) -> list[Item]:
    """How one activity uses the information: its description and what it rests on."""
    grounds = _grounds(parties, activity)
    if activity["description"]:
        return [Item(activity["description"], activity["name"] + ":"), *grounds]
    if grounds:
        first, *rest = grounds
        return [Item(f"{first.lead} {sentence(first.text)}", activity["name"] + ":"), *rest]
    return [Item(sentence(activity["name"]))]


def _general_paragraph(parties: dict, activity: Any) -> list[Item]:
    """An activity concerning every data subject, said once after the subjects' sections."""
    grounds = [f"{g.lead} {sentence(g.text)}" for g in _grounds(parties, activity)]
    text = " ".join(filter(None, [sentence(activity["description"] or ""), *grounds]))
    return [Item(text, activity["name"] + ".")]


def _grounds(parties: dict, activity: Any) -> list[Item]:
    """What an activity rests on, as the notice must say it: its lawful basis, the
    legitimate interests pursued (Art. 13(1)(d)), the condition that allows its special
    category data (Art. 9(2)) and the joint controllers it shares it with (Art. 26(2))."""
    items = []
    if activity["lawful_bases"]:
        items.append(Item(_basis_words(activity["lawful_bases"]), "Lawful Basis:"))
    if "legitimate-interests" in activity["lawful_bases"] and activity["legitimate_interests"]:
        items.append(Item(sentence(activity["legitimate_interests"]), "Legitimate interests:"))
    if activity["art9_conditions"]:
        labels = ", ".join(vocab.ART9_CONDITIONS.get(c).label for c in activity["art9_conditions"])
        items.append(Item(sentence(labels), "Special category data:"))
    if activity["joint_controllers"]:
        names = ", ".join(isolated(_name(parties, k)) for k in activity["joint_controllers"])
        items.append(Item(sentence(names), "Joint controllers:"))
    return items


def _regime_of(references: dict, activity: dict) -> str:
    return reference.effective_regime(references["party"].get(activity["controller"]))


def _name(records: dict, key: str) -> str:
    return records[key]["name"] if key in records else key


def _lead(record: dict | None, key: str) -> str:
    return (record["name"] if record else key) + ":"


def _describe(record: dict | None) -> str:
    return (record or {}).get("description") or ""


def _sharing(references: dict, activities: list[dict]) -> Section:
    parties = references["party"]
    recipients = {r for a in activities for r in a["recipients"] if r in parties}
    section = Section("With whom we share your information")
    for kind in vocab.PARTY_KINDS:
        named = sorted(
            (parties[k] for k in recipients if parties[k]["kind"] == kind.code),
            key=lambda p: _reading_order(p["name"]),
        )
        if named:
            section.sections.append(
                Section(
                    _plural(kind.label),
                    level=3,
                    items=[
                        Item(p["description"], p["name"] + ":")
                        if p["description"]
                        else Item(p["name"])
                        for p in named
                    ],
                )
            )
    if not section.sections:
        section.paragraphs.append(Item("We do not share your information with others."))
    return section


def _plural(label: str) -> str:
    special = {
        "Acquirer or successor": "Acquirers and successors",
        "Internal recipient (department or role)": "Departments and roles within the group",
    }
    return special.get(label) or words.plural(label)


def _transfers(references: dict, activities: list[dict], own: set[str]) -> Section:
    """Where the activities' transfers go, and their safeguards, under the law of the
    controller that makes them (the activity's: a joint controller's notice may tell of
    transfers its partner makes from another area); a law other than the notice's `own`,
    or two laws, get a part each ("From the European Economic Area")."""
    section = Section("International transfers")
    parties = references["party"]
    by_regime: dict[str, dict[tuple, None]] = {}
    makers: dict[str, dict[str, None]] = {}  # the controllers making the transfers, by law
    for a in activities:
        regime = _regime_of(references, a)
        seen = by_regime.setdefault(regime, {})
        if a["transfers"] and a["controller"] in parties:
            makers.setdefault(regime, {})[a["controller"]] = None
        for t in a["transfers"]:
            if t["country"] not in reference.home_area(regime):
                seen[(t["country"], t["mechanism"], t["details"])] = None
    regimes = [r for r in vocab.REGIMES.values if r in by_regime]
    for regime in regimes:
        home = reference.home_area_name(regime, short=False)
        part = section  # under two laws, each its own part: its sentence, then its list
        if len(regimes) > 1 or set(regimes) != own:
            part = Section(f"From {home}", level=3)
            section.sections.append(part)
        seen = by_regime[regime]
        law = vocab.REGIMES.get(regime).label
        short = law.split(" (")[0].split(" and ")[0]  # "EU GDPR"
        if not seen:
            part.paragraphs.append(Item(f"We do not transfer your information outside {home}."))
            continue
        if regime in own:
            part.paragraphs.append(
                Item(f"We transfer personal information outside {home}, with these safeguards:")
            )
        else:  # a joint controller's transfers, under its law: said as its, and cited so
            who = [parties[k] for k in makers.get(regime, ())]
            several = len(who) != 1
            whom = (
                f"{_names(who)}, our joint controller{'s' * several},"
                if who
                else "Our joint controllers"
            )
            part.paragraphs.append(
                Item(
                    f"{whom} transfer{'s' * (not several)} personal information outside "
                    f"{home} under the {law}, with these safeguards:"
                )
            )
        for country, mechanism, details in sorted(seen, key=lambda t: (t[0], t[1] or "")):
            where = reference.country_name(country)
            how = vocab.TRANSFER_MECHANISMS.label(mechanism, regime) if mechanism else ""
            if how and regime not in own and "Art." in how and not how.endswith(short):
                how += f" {short}"  # an article of the other law: named
            how += f" — {details}" if details and how else details or ""
            part.items.append(Item(how, where + ":") if how else Item(where))
    if not section.paragraphs and not section.sections:
        section.paragraphs.append(
            Item("We do not transfer your information outside the European Economic Area.")
        )
    return section


def _retention(references: dict, activities: list[dict]) -> Section | None:
    """The retention rules the activities record; None when they record none (check R11
    reports it: the notice does not promise what the register does not say)."""
    section = Section("Data retention")
    grouped: dict[str, list[str]] = {}
    categories = references["category"]
    for a in activities:
        for rule in a["retention"]:
            category = _name(categories, rule["data_category"]) if rule["data_category"] else None
            grouped.setdefault(describe_retention(rule, category), []).append(a["name"])
    if not grouped:
        return None
    for text, names in grouped.items():
        lead = "; ".join(isolated(name) for name in dict.fromkeys(names))
        section.items.append(Item(sentence(text), lead + ":"))
    return section


def _security(references: dict, activities: list[dict]) -> Section | None:
    """The safeguards the activities record; None when they record none (the notice does
    not claim what the register does not hold: check R12 asks for the measures)."""
    measures = references["measure"]
    used = {m for a in activities for m in a["measures"] if m in measures}
    if not used:
        return None
    lead = (
        "We maintain technical and organisational safeguards designed to protect "
        "your personal information, including:"
    )
    section = Section("Security of your information", paragraphs=[Item(lead)])
    for kind in vocab.MEASURE_KINDS:
        names = sorted(
            (measures[m]["name"] for m in used if measures[m]["kind"] == kind.code),
            key=_reading_order,
        )
        if names:
            section.items.append(Item(", ".join(map(isolated, names)), kind.label + " safeguards:"))
    return section


def _rights(references: dict, activities: list[dict], controllers: list[dict]) -> Section:
    bases = {b for a in activities for b in a["lawful_bases"]}
    purposes = references["purpose"]
    marketing = any(
        purposes.get(p, {}).get("direct_marketing") for a in activities for p in a["purposes"]
    )
    wanted = rights_available(
        bases, any(a["automated_decisions"] for a in activities), direct_marketing=marketing
    )
    items = [Item(RIGHTS[r][1], RIGHTS[r][0] + ":") for r in wanted]
    authorities = dict.fromkeys(
        a for a in map(reference.supervisory_authority, controllers) if a is not None
    )
    named = complaint_authorities(authorities)
    if named:
        items[-1] = Item(f"{items[-1].text} {named}", items[-1].lead)
    paragraphs = [
        Item(
            "Depending on the lawful basis of the processing, you have these rights. "
            "To exercise them, contact us as shown below."
        )
    ]
    if reference.UK_GDPR in _regimes(controllers):
        paragraphs.append(
            Item("For processing under the UK GDPR, the articles cited are those of the UK GDPR.")
        )
    return Section("Your privacy rights", paragraphs=paragraphs, items=items)


def _contact(controllers: list[dict]) -> Section:
    section = Section("Contact us")
    for party in controllers:
        line = _contact_line(party)
        section.paragraphs.append(Item(line, party["name"] + ":") if line else Item(party["name"]))
        # Whose, where several controllers are listed one after the other.
        of = f" of {isolated(party['name'])}" if len(controllers) > 1 else ""
        dpo = "; ".join(map(isolated, dpo_contact(party)))
        if dpo:
            section.paragraphs.append(Item(dpo, f"Data protection officer{of}:"))
        rep = "; ".join(map(isolated, representative_contact(party)))
        if rep:
            where = (
                "the UK (Art. 27 UK GDPR)"
                if reference.effective_regime(party) == reference.UK_GDPR
                else "the EU (Art. 27)"
            )
            section.paragraphs.append(
                Item(rep.replace("\n", ", "), f"Representative{of} in {where}:")
            )
    return section


# -- layout ----------------------------------------------------------------------------------


def to_markdown(notice: Notice) -> str:
    return "".join(markdown_chunks(notice))


def markdown_chunks(notice: Notice) -> Iterator[str]:
    """The notice as Markdown, a thousand lines at a time (the text of :func:`to_markdown`
    without holding it whole)."""
    held: list[str] = []  # from the last line with text on: the end is stripped
    batch: list[str] = []
    for line in _markdown_lines(notice):
        if line.strip():
            batch += [h + "\n" for h in held]
            held = []
            if len(batch) >= 1000:
                yield "".join(batch)
                batch = []
        held.append(line)
    yield "".join(batch) + "\n".join(held).rstrip() + "\n"


def _markdown_lines(notice: Notice) -> Iterator[str]:
    yield from (f"# {notice.title}", "", f"Last updated: {notice.updated.isoformat()}", "")

    def item(i: Item) -> str:
        text = _md(i.text)
        return f"**{_md(i.lead)}** {text}".strip() if i.lead else text

    def section(s: Section) -> Iterator[str]:
        yield from (f"{'#' * s.level} {_md(s.title)}", "")
        for p in s.paragraphs:
            yield from (item(p), "")
        if s.items:
            yield from (f"- {item(i)}" for i in s.items)
            yield ""
        for sub in s.sections:
            yield from section(sub)

    for s in notice.sections:
        yield from section(s)


def _md(text: str) -> str:
    """Text safe in Markdown: no markup or HTML from the register gets interpreted."""
    for char in "\\`*_[]<>#|":
        text = text.replace(char, "\\" + char)
    text = _ENTITY.sub(r"\\&", text)  # "&amp;" in the register stays "&amp;", not "&"
    return isolated(text.replace("\n", " "))


#: An HTML character reference, which Markdown would turn into its character.
_ENTITY = re.compile(r"&(?=#?\w+;)")


STYLE = """
body { font: 16px/1.6 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1b1b;
       margin: 0 auto; max-width: 46rem; padding: 1.5rem 1rem 3rem; }
h1 { font-size: 2rem; line-height: 1.2; margin-bottom: .25rem; }
h2 { font-size: 1.45rem; margin-top: 2.2rem; border-bottom: 1px solid #d0d7e2;
     padding-bottom: .25rem; }
h3 { font-size: 1.2rem; margin-top: 1.8rem; }
h4 { font-size: 1rem; margin: 1.2rem 0 .4rem; color: #2d3f5f; }
p { margin: .4rem 0 .8rem; }
ul { padding-left: 1.3rem; }
li { margin: .3rem 0; }
.updated { color: #555; margin-top: 0; }
@media print { body { max-width: none; font-size: 11pt; } h2 { break-after: avoid; } }
"""


def _html(text: str) -> str:
    """Register text safe in HTML: escaped, and its bidirectional controls isolated."""
    return escape(isolated(text))


def to_html(notice: Notice) -> str:
    """A standalone page: inline CSS, no scripts, no external assets; register text escaped."""
    return "".join(html_chunks(notice))


def html_chunks(notice: Notice) -> Iterator[str]:
    """The page of :func:`to_html`, a thousand lines at a time."""
    batch: list[str] = []
    for line in _html_lines(notice):
        batch.append(line + "\n")
        if len(batch) >= 1000:
            yield "".join(batch)
            batch = []
    yield "".join(batch)


def _html_lines(notice: Notice) -> Iterator[str]:
    yield from (
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(notice.title)}</title><style>{STYLE}</style></head><body><main>",
        f"<h1>{escape(notice.title)}</h1>",
        f'<p class="updated">Last updated: <time datetime="{notice.updated.isoformat()}">'
        f"{notice.updated.strftime('%d %B %Y').lstrip('0')}</time></p>",
    )

    def item(i: Item) -> str:
        lead = f"<strong>{_html(i.lead)}</strong> " if i.lead else ""
        return lead + _html(i.text)

    def section(s: Section) -> Iterator[str]:
        yield f"<section><h{s.level}>{_html(s.title)}</h{s.level}>"
        yield from (f"<p>{item(p)}</p>" for p in s.paragraphs)
        if s.items:
            yield "<ul>" + "".join(f"<li>{item(i)}</li>" for i in s.items) + "</ul>"
        for sub in s.sections:
            yield from section(sub)
        yield "</section>"

    for s in notice.sections:
        yield from section(s)
    yield "</main></body></html>"
