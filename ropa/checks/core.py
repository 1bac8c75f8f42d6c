"""The machinery of the checks: findings, the registry of rules (:func:`rule`), the context the
rules read, and running them. The rules themselves are in the sibling modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from ropa import reference, words
from ropa.errors import BadOption

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
    #: the regime the finding is under (the controller's); empty for a party that is not a
    #: group member, whose findings concern every regime
    regime: str = field(default="", compare=False)

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
class About:
    """What a party rule says about a party, at the rule's severity unless given a lower one."""

    party: dict
    message: str
    severity: str | None = None


@dataclass(frozen=True)
class Rule:
    """A rule checks one activity at a time, or (`on_parties`) the parties at the end.

    `check` yields messages about the activity (a party rule: :class:`About` a party); the
    rule turns them into findings with its own id and severity."""

    id: str
    severity: str  # the most severe finding it can give
    summary: str  # one line, as in `ropa check --help` and the README's rule table
    check: Callable[..., Iterable[str | About]]
    on_parties: bool = False
    lesser: str | None = None  # the lower severity some of its findings take, if any

    @property
    def severities(self) -> str:
        """`error`, or `error / warning` for a rule that gives both."""
        return f"{self.severity} / {self.lesser}" if self.lesser else self.severity

    def findings(self, ctx: Context, activity: dict | None = None) -> Iterator[Finding]:
        """The rule's findings on one activity, or (a party rule) on the parties."""
        if activity is None:
            for said in self.check(ctx):
                party = said.party
                severity = said.severity or self.severity
                if severity not in (self.severity, self.lesser):
                    raise ValueError(f"rule {self.id} is not registered to give {severity}")
                regime = (
                    reference.effective_regime(party) if party["kind"] == "group-member" else ""
                )
                yield Finding(
                    "party", party["key"], self.id, severity, said.message, party["name"], regime
                )
            return
        regime = ctx.regime(activity)
        for message in self.check(ctx, activity):
            yield Finding(
                "activity",
                activity["key"],
                self.id,
                self.severity,
                message,
                activity["name"],
                regime,
            )


#: Every rule by id, in the order they were registered (by id).
RULES: dict[str, Rule] = {}


def rule(
    id: str,
    severity: str,
    summary: str,
    *,
    on_parties: bool = False,
    lesser: str | None = None,
) -> Callable[[Callable], Callable]:
    """Register the decorated function as rule `id`: the one place its id, severity and
    summary are written."""

    def register(check: Callable) -> Callable:
        if id in RULES:
            raise ValueError(f"rule {id} is registered twice")
        RULES[id] = Rule(id, severity, summary, check, on_parties, lesser)
        return check

    return register


def rule_range() -> str:
    """The ids of the rules as a range, `R01–R23`."""
    return f"{min(RULES)}–{max(RULES)}"


def rule_lines() -> list[str]:
    """One line per rule: id, severity and summary (the rule list of `ropa check --help`)."""
    return [f"{r.id} {r.severities:<7} {r.summary}" for r in RULES.values()]


def rule_table() -> str:
    """The rules as the Markdown table of the README."""
    lines = ["| id | severity | finding |", "|---|---|---|"]
    lines += [f"| {r.id} | {r.severities} | {r.summary} |" for r in RULES.values()]
    return "\n".join(lines) + "\n"


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

    def regime(self, activity: dict) -> str:
        """The regime of the activity's controller: eu-gdpr or uk-gdpr."""
        return reference.effective_regime(self.party(activity["controller"]))

    def outside(self, activity: dict, country: str | None) -> bool:
        """Whether data going to `country` leaves the home area of the activity's regime
        (the EEA, or the UK): a transfer."""
        return bool(country) and country not in reference.home_area(self.regime(activity))

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


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter); a day past
    9999-12-31 is 9999-12-31 (`date.max`) and one before year 1 is `date.min`, so a date
    written near the calendar's end can never overflow a check or an export."""
    import calendar

    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    if year > date.max.year:
        return date.max
    if year < date.min.year:
        return date.min
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_review(activity: dict) -> date | None:
    """When the activity's next review falls due: `date.max` (never due) when that is past
    the calendar's end."""
    if not activity["last_reviewed"]:
        return None
    return add_months(activity["last_reviewed"], activity["review_interval_months"] or 12)


def select_rules(only: Iterable[str] = (), ignore: Iterable[str] = ()) -> list[Rule]:
    """The rules to run; unknown ids raise a BadOption naming them."""
    only = [r.upper() for r in only]
    ignore = [r.upper() for r in ignore]
    unknown = [r for r in [*only, *ignore] if r not in RULES]
    if unknown:
        raise BadOption(f"unknown rule {', '.join(unknown)}; rules are {rule_range()}")
    chosen = only or list(RULES)
    return [RULES[r] for r in chosen if r not in ignore]


def check_activities(ctx: Context, activities: Iterable[dict], rules: list[Rule]) -> list[Finding]:
    """The findings of the per-activity rules on the activities that are not retired; notes
    in `ctx` what the party rules need."""
    per_activity = [r for r in rules if not r.on_parties]
    findings: list[Finding] = []
    for activity in activities:
        if activity["status"] == "retired":
            continue
        ctx.saw(activity)
        for r in per_activity:
            findings.extend(r.findings(ctx, activity))
    return findings


def check_parties(ctx: Context, rules: list[Rule]) -> list[Finding]:
    """The findings of the party rules, on the parties the checked activities use."""
    return [f for r in rules if r.on_parties for f in r.findings(ctx)]


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


def in_regime(findings: Iterable[Finding], regime: str) -> list[Finding]:
    """The findings under `regime`: on activities and group members under it, and on other
    parties (a service provider's missing contract concerns every regime)."""
    return [f for f in findings if f.regime in (regime, "")]


def summary(findings: list[Finding]) -> str:
    """`N errors, M warnings in K activities` (and other records, when there are)."""
    errors = sum(f.severity == ERROR for f in findings)
    warnings = len(findings) - errors
    activities = len({f.key for f in findings if f.kind == "activity"})
    others = len({(f.kind, f.key) for f in findings if f.kind != "activity"})
    text = (
        f"{words.count(errors, 'error')}, {words.count(warnings, 'warning')} "
        f"in {words.count(activities, 'activity')}"
    )
    if others:
        text += f" and {words.count(others, 'other record')}"
    return text
