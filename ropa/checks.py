"""Compliance checks: what a supervisory authority would find wrong with the register on its
face (rules R01–R18 of the product contract).

Each rule is a small function over a :class:`Context` (the whole register in memory, read in a
bounded number of queries) that yields findings. Rules read the reference data (EEA, adequacy
decisions and their scope) instead of hard-coding countries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from ropa import reference
from ropa.errors import RopaError

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Finding:
    """One thing to fix, on one record."""

    kind: str  # the record's kind: activity or party
    key: str
    rule: str
    severity: str
    message: str
    name: str = ""  # the record's name, for people

    def as_dict(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "kind": self.kind,
            "key": self.key,
            "name": self.name,
            "message": self.message,
        }


@dataclass(frozen=True)
class Rule:
    """A rule checks one activity at a time, or (`on_parties`) the parties at the end."""

    id: str
    severity: str  # the most severe finding it can give
    title: str
    check: Callable[..., Iterable[Finding]]
    on_parties: bool = False


@dataclass
class Context:
    """What the rules see: the reference records (parties, categories, …) in memory, while
    the activities stream past one at a time; party rules run after the last activity."""

    references: dict[str, dict[str, dict]]
    today: date
    recipients_seen: set[str] = field(default_factory=set)
    controllers_seen: set[str] = field(default_factory=set)
    _special: dict[str, str] = field(default_factory=dict)
    _specials_of: str | None = None
    _specials: set[str] = field(default_factory=set)
    eea: frozenset[str] = field(default_factory=reference.eea)

    def party(self, key: str | None) -> dict | None:
        return self.references["party"].get(key) if key else None

    def special(self, category: str) -> str:
        """art9, art10 or none, inherited from the nearest special ancestor (cached)."""
        if category not in self._special:
            self._special[category] = inherited_special(self.references["category"], category)
        return self._special[category]

    def specials(self, activity: dict) -> set[str]:
        """art9 / art10 among the activity's categories (computed once per activity)."""
        if self._specials_of != activity["key"]:
            self._specials_of = activity["key"]
            self._specials = {self.special(c) for c in activity["data_categories"]} - {"none"}
        return self._specials

    def outside_eea(self, country: str | None) -> bool:
        return bool(country) and country not in self.eea

    def saw(self, activity: dict) -> None:
        """Note what the party rules need to know of an activity."""
        self.recipients_seen.update(activity["recipients"])
        if activity["controller"]:
            self.controllers_seen.add(activity["controller"])
        self.controllers_seen.update(activity["joint_controllers"])


def inherited_special(categories: dict[str, dict], key: str | None) -> str:
    """art9, art10 or none: a category's own `special`, else its nearest special ancestor's."""
    seen: set[str] = set()
    while key and key not in seen:
        seen.add(key)
        record = categories.get(key)
        if record is None:
            break
        if record["special"] != "none":
            return record["special"]
        key = record["parent"]
    return "none"


def _finding(rule: str, severity: str, activity: dict, message: str) -> Finding:
    return Finding("activity", activity["key"], rule, severity, message, activity["name"])


# -- the rules -------------------------------------------------------------------------------


def r01_purpose(ctx: Context, a: dict) -> Iterator[Finding]:
    if not a["purposes"]:
        yield _finding(
            "R01", ERROR, a, "no purpose of processing: add one with --purpose (Art. 30(1)(b))"
        )


def r02_lawful_basis(ctx: Context, a: dict) -> Iterator[Finding]:
    if a["role"] != "processor" and not a["lawful_bases"]:
        yield _finding("R02", ERROR, a, "no Art. 6 lawful basis: add one with --basis")


def r03_subjects_categories(ctx: Context, a: dict) -> Iterator[Finding]:
    missing = [
        name
        for name, field_name in (
            ("data subjects", "data_subjects"),
            ("data categories", "data_categories"),
        )
        if not a[field_name]
    ]
    if missing:
        yield _finding("R03", ERROR, a, f"no {' and no '.join(missing)} recorded (Art. 30(1)(c))")


def r04_art9_condition(ctx: Context, a: dict) -> Iterator[Finding]:
    if a["role"] == "processor" or a["art9_conditions"] or "art9" not in ctx.specials(a):
        return
    special = sorted(c for c in a["data_categories"] if ctx.special(c) == "art9")
    if special:
        yield _finding(
            "R04",
            ERROR,
            a,
            f"special category data ({', '.join(special)}) "
            "without an Art. 9(2) condition: add one with --art9-condition",
        )


def r05_art10_basis(ctx: Context, a: dict) -> Iterator[Finding]:
    if a["role"] == "processor" or a["art10_basis"] or "art10" not in ctx.specials(a):
        return
    criminal = sorted(c for c in a["data_categories"] if ctx.special(c) == "art10")
    if criminal:
        yield _finding(
            "R05",
            ERROR,
            a,
            f"criminal offence data ({', '.join(criminal)}) "
            "without the authority for it (Art. 10): set --art10-basis",
        )


def r06_role(ctx: Context, a: dict) -> Iterator[Finding]:
    if not a["controller"]:
        who = "processor entity" if a["role"] == "processor" else "controller"
        yield _finding(
            "R06", ERROR, a, f"no {who}: set --controller to the group member responsible"
        )
    if a["role"] == "processor" and not a["processor_for"]:
        yield _finding(
            "R06",
            ERROR,
            a,
            "role processor but no controllers we act for: set --processor-for (Art. 30(2)(a))",
        )
    if a["role"] == "joint-controller" and not a["joint_controllers"]:
        yield _finding(
            "R06",
            ERROR,
            a,
            "role joint-controller but no joint controllers: set --joint-controller (Art. 26)",
        )


def _adequacy_applies(ctx: Context, transfer: dict) -> tuple[bool, str]:
    """Whether an adequacy decision covers this transfer, and why not."""
    country = transfer["country"]
    recipient = ctx.party(transfer.get("recipient"))
    if country == reference.INTL:
        name = (recipient or {}).get("name", "")
        if name.lower() in reference.adequate_international_organisations():
            return True, ""
        return False, "no adequacy decision covers this international organisation"
    decision = reference.adequacy().get(country)
    if decision is None:
        return False, f"there is no adequacy decision for {reference.country_name(country)}"
    if decision.requires:
        if recipient is None:
            return False, (
                f"the {decision.name} decision covers only recipients with "
                f"{decision.requires}; name the recipient"
            )
        if not recipient.get(decision.requires):
            return False, (
                f"recipient {recipient['key']} is not {decision.requires}: "
                f"the {decision.name} decision does not cover it"
            )
    return True, ""


def r07_transfer_mechanism(ctx: Context, a: dict) -> Iterator[Finding]:
    for t in a["transfers"]:
        if not ctx.outside_eea(t["country"]):
            continue
        where = _transfer_label(t)
        if not t["mechanism"]:
            yield _finding(
                "R07", ERROR, a, f"transfer to {where} has no transfer mechanism (Chapter V)"
            )
        elif t["mechanism"] == "adequacy":
            applies, why = _adequacy_applies(ctx, t)
            if not applies:
                yield _finding(
                    "R07", ERROR, a, f"transfer to {where} relies on adequacy, but {why}"
                )


def r08_compelling_interests(ctx: Context, a: dict) -> Iterator[Finding]:
    for t in a["transfers"]:
        if t["mechanism"] == "compelling-legitimate-interests" and not t["details"]:
            yield _finding(
                "R08",
                ERROR,
                a,
                f"transfer to {_transfer_label(t)} on compelling "
                "legitimate interests without the suitable safeguards documented "
                "in details (Art. 30(1)(e), 49(6))",
            )


def r09_transfer_inside_eea(ctx: Context, a: dict) -> Iterator[Finding]:
    for t in a["transfers"]:
        if t["country"] in reference.eea():
            yield _finding(
                "R09",
                WARNING,
                a,
                f"{reference.country_name(t['country'])} is in "
                "the EEA: this is not a transfer; remove it",
            )


def r10_unrecorded_transfer(ctx: Context, a: dict) -> Iterator[Finding]:
    recorded = {t["country"] for t in a["transfers"]}
    places: dict[str, list[str]] = {}
    for key in a["recipients"]:
        party = ctx.party(key)
        if party and ctx.outside_eea(party["country"]):
            places.setdefault(party["country"], []).append(f"recipient {key}")
    for key in a["systems"]:
        system = ctx.references["system"].get(key)
        for country in (system or {}).get("countries", []):
            if ctx.outside_eea(country):
                places.setdefault(country, []).append(f"system {key}")
    for country, users in sorted(places.items()):
        if country not in recorded:
            yield _finding(
                "R10",
                WARNING,
                a,
                f"{', '.join(users)} in "
                f"{reference.country_name(country)} but no transfer to {country} "
                "is recorded",
            )


def r11_retention(ctx: Context, a: dict) -> Iterator[Finding]:
    if not a["retention"]:
        yield _finding(
            "R11", WARNING, a, "no retention rule: add one with --retention (Art. 30(1)(f))"
        )
    for i, rule in enumerate(a["retention"], 1):
        if not rule["duration"] and not rule["criteria"]:
            yield _finding(
                "R11", WARNING, a, f"retention rule {i} has neither a duration nor criteria"
            )


def r12_measures(ctx: Context, a: dict) -> Iterator[Finding]:
    if not a["measures"]:
        yield _finding("R12", WARNING, a, "no security measures recorded (Art. 30(1)(g))")


def r13_legitimate_interests(ctx: Context, a: dict) -> Iterator[Finding]:
    if "legitimate-interests" not in a["lawful_bases"]:
        return
    missing = [
        name
        for name, f in (
            ("the interests pursued (--legitimate-interests)", "legitimate_interests"),
            ("the assessment (--lia-link)", "lia_link"),
        )
        if not a[f]
    ]
    if missing:
        yield _finding(
            "R13", WARNING, a, "legitimate interests basis without " + " or ".join(missing)
        )


def r14_consent_records(ctx: Context, a: dict) -> Iterator[Finding]:
    if "consent" in a["lawful_bases"] and not a["consent_record_link"]:
        yield _finding(
            "R14",
            WARNING,
            a,
            "consent basis without a link to the consent "
            "records (Art. 7(1)): set --consent-record-link",
        )


def r15_processor_contract(ctx: Context) -> Iterator[Finding]:
    for key in sorted(ctx.recipients_seen):
        party = ctx.party(key)
        if party and party["kind"] == "service-provider" and not party["contract_link"]:
            yield Finding(
                "party",
                key,
                "R15",
                WARNING,
                "service provider without a link to its Art. 28 contract: set --contract-link",
                party["name"],
            )


def dpia_criteria(ctx: Context, a: dict) -> list[str]:
    """The EDPB DPIA screening criteria the register can see for an activity."""
    specials = ctx.specials(a)
    found = []
    if specials:
        found.append("special category or criminal offence data")
    if any(ctx.references["subject"].get(s, {}).get("vulnerable") for s in a["data_subjects"]):
        found.append("vulnerable data subjects")
    if a["automated_decisions"]:
        found.append("automated decision-making")
    if any(
        ctx.references["purpose"].get(p, {}).get("systematic_monitoring") for p in a["purposes"]
    ):
        found.append("systematic monitoring")
    if "art9" in specials and any(ctx.outside_eea(t["country"]) for t in a["transfers"]):
        found.append("special category data transferred outside the EEA")
    return found


def r16_dpia(ctx: Context, a: dict) -> Iterator[Finding]:
    criteria = dpia_criteria(ctx, a)
    if len(criteria) >= 2 and a["dpia_required"] != "yes":
        yield _finding(
            "R16",
            WARNING,
            a,
            "DPIA likely required ("
            + "; ".join(criteria)
            + f") but dpia_required is {a['dpia_required']}",
        )
    if a["dpia_required"] == "yes" and not a["dpia_link"]:
        yield _finding("R16", WARNING, a, "DPIA required but no --dpia-link to it")


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter)."""
    import calendar

    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_review(activity: dict) -> date | None:
    if not activity["last_reviewed"]:
        return None
    return add_months(activity["last_reviewed"], activity["review_interval_months"] or 12)


def r17_review(ctx: Context, a: dict) -> Iterator[Finding]:
    due = next_review(a)
    if due is None:
        yield _finding("R17", WARNING, a, "never reviewed: set --last-reviewed after a review")
    elif due < ctx.today:
        yield _finding(
            "R17",
            WARNING,
            a,
            f"review overdue since {due.isoformat()} (last "
            f"reviewed {a['last_reviewed'].isoformat()})",
        )


def r18_controller_contact(ctx: Context) -> Iterator[Finding]:
    for key in sorted(ctx.controllers_seen):
        party = ctx.party(key)
        if party is None:
            continue
        if not party["name"] or not (party["address"] or party["email"]):
            yield Finding(
                "party",
                key,
                "R18",
                ERROR,
                "controller without contact details: set --address or --email (Art. 30(1)(a))",
                party["name"],
            )
        if not (party["dpo_name"] or party["dpo_email"]):
            yield Finding(
                "party",
                key,
                "R18",
                WARNING,
                "no data protection officer recorded: "
                "set --dpo-name and --dpo-email, if one is designated",
                party["name"],
            )


RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule("R01", ERROR, "activity has no purpose", r01_purpose),
        Rule("R02", ERROR, "no Art. 6 lawful basis", r02_lawful_basis),
        Rule("R03", ERROR, "no data subjects or no data categories", r03_subjects_categories),
        Rule("R04", ERROR, "art9 data without an Art. 9 condition", r04_art9_condition),
        Rule("R05", ERROR, "art10 data without art10_basis", r05_art10_basis),
        Rule("R06", ERROR, "role inconsistent", r06_role),
        Rule("R07", ERROR, "transfer without a valid mechanism", r07_transfer_mechanism),
        Rule(
            "R08",
            ERROR,
            "compelling legitimate interests without details",
            r08_compelling_interests,
        ),
        Rule("R09", WARNING, "transfer destination inside the EEA", r09_transfer_inside_eea),
        Rule(
            "R10",
            WARNING,
            "recipient or system outside the EEA without a transfer",
            r10_unrecorded_transfer,
        ),
        Rule("R11", WARNING, "no usable retention rule", r11_retention),
        Rule("R12", WARNING, "no security measures", r12_measures),
        Rule("R13", WARNING, "legitimate interests not documented", r13_legitimate_interests),
        Rule("R14", WARNING, "consent without consent records", r14_consent_records),
        Rule(
            "R15",
            WARNING,
            "service provider without a contract link",
            r15_processor_contract,
            on_parties=True,
        ),
        Rule("R16", WARNING, "DPIA likely required", r16_dpia),
        Rule("R17", WARNING, "review overdue or never reviewed", r17_review),
        Rule(
            "R18",
            ERROR,
            "controller contact details and DPO",
            r18_controller_contact,
            on_parties=True,
        ),
    )
}


def select_rules(only: Iterable[str] = (), ignore: Iterable[str] = ()) -> list[Rule]:
    """The rules to run; unknown ids raise a RopaError naming them."""
    only = [r.upper() for r in only]
    ignore = [r.upper() for r in ignore]
    unknown = [r for r in [*only, *ignore] if r not in RULES]
    if unknown:
        raise RopaError(f"unknown rule {', '.join(unknown)}; rules are R01–R18")
    chosen = only or list(RULES)
    return [RULES[r] for r in chosen if r not in ignore]


def check_activities(ctx: Context, activities: Iterable[dict], rules: list[Rule]) -> list[Finding]:
    """The findings of the per-activity rules on the activities that are not retired; notes
    in `ctx` what the party rules need."""
    per_activity = [r.check for r in rules if not r.on_parties]
    findings: list[Finding] = []
    for activity in activities:
        if activity["status"] == "retired":
            continue
        ctx.saw(activity)
        for check in per_activity:
            findings.extend(check(ctx, activity))
    return findings


def check_parties(ctx: Context, rules: list[Rule]) -> list[Finding]:
    """The findings of the party rules, on the parties the checked activities use."""
    return [f for rule in rules if rule.on_parties for f in rule.check(ctx)]


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Parties first, then by record and rule."""
    return sorted(findings, key=lambda f: (f.kind != "party", f.kind, f.key, f.rule))


def run_checks(
    references: dict[str, dict[str, dict]],
    activities: Iterable[dict],
    today: date,
    rules: list[Rule] | None = None,
) -> list[Finding]:
    """Every finding of the chosen rules on the activities that are not retired (and on the
    parties they use), sorted."""
    ctx = Context(references, today)
    rules = rules or list(RULES.values())
    findings = check_activities(ctx, activities, rules)
    return sort_findings(findings + check_parties(ctx, rules))


def summary(findings: list[Finding]) -> str:
    """`N errors, M warnings in K activities` (and other records, when there are)."""
    errors = sum(f.severity == ERROR for f in findings)
    warnings = len(findings) - errors
    activities = len({f.key for f in findings if f.kind == "activity"})
    others = len({(f.kind, f.key) for f in findings if f.kind != "activity"})
    text = (
        f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)} "
        f"in {activities} activit{'ies' if activities != 1 else 'y'}"
    )
    if others:
        text += f" and {others} other record{'s' * (others != 1)}"
    return text


def _transfer_label(t: dict) -> str:
    name = reference.country_name(t["country"])
    return f"{name} ({t['recipient']})" if t.get("recipient") else name
