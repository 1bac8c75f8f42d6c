"""Compliance checks: what a supervisory authority would find wrong with the register on its
face (the rules of the product contract).

Each rule is a small function over a :class:`Context` (the whole register in memory, read in a
bounded number of queries), registered with :func:`rule`, which writes its id, severity and
summary once; the function yields what is wrong and the registration makes the findings. The
rule list of `ropa check --help` and the README's rule table are derived from :data:`RULES`.
Rules read the reference data (EEA, adequacy decisions and their scope) instead of
hard-coding countries, and read "EEA", "adequacy" and "transfer" in the regime of the activity's
controller (:func:`ropa.reference.effective_regime`): for a `uk-gdpr` group member a transfer is
a destination outside the UK and the UK's adequacy regulations apply.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from ropa import reference, vocab, words
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


# -- the rules -------------------------------------------------------------------------------


@rule("R01", ERROR, "activity has no purpose")
def r01_purpose(ctx: Context, a: dict) -> Iterator[str]:
    if not a["purposes"]:
        yield "no purpose of processing: add one with --purpose (Art. 30(1)(b))"


@rule("R02", ERROR, "controller / joint-controller activity has no Art. 6 lawful basis")
def r02_lawful_basis(ctx: Context, a: dict) -> Iterator[str]:
    if a["role"] != "processor" and not a["lawful_bases"]:
        yield "no Art. 6 lawful basis: add one with --basis"


@rule("R03", ERROR, "no data subjects, or no data categories")
def r03_subjects_categories(ctx: Context, a: dict) -> Iterator[str]:
    missing = [
        name
        for name, field_name in (
            ("data subjects", "data_subjects"),
            ("data categories", "data_categories"),
        )
        if not a[field_name]
    ]
    if missing:
        yield f"no {' and no '.join(missing)} recorded (Art. 30(1)(c))"


@rule(
    "R04",
    ERROR,
    "art9 category processed without an Art. 9 condition "
    "(a category inherits `special` from its parent)",
)
def r04_art9_condition(ctx: Context, a: dict) -> Iterator[str]:
    if a["role"] == "processor" or a["art9_conditions"] or "art9" not in ctx.specials(a):
        return
    special = sorted(c for c in a["data_categories"] if ctx.special(c) == "art9")
    if special:
        yield (
            f"special category data ({', '.join(special)}) "
            "without an Art. 9(2) condition: add one with --art9-condition"
        )


@rule("R05", ERROR, "art10 category processed without `art10_basis`")
def r05_art10_basis(ctx: Context, a: dict) -> Iterator[str]:
    if a["role"] == "processor" or a["art10_basis"] or "art10" not in ctx.specials(a):
        return
    criminal = sorted(c for c in a["data_categories"] if ctx.special(c) == "art10")
    if criminal:
        yield (
            f"criminal offence data ({', '.join(criminal)}) "
            "without the authority for it (Art. 10): set --art10-basis"
        )


@rule(
    "R06",
    ERROR,
    "no `controller`; processor without `processor_for`; "
    "joint-controller without `joint_controllers`",
)
def r06_role(ctx: Context, a: dict) -> Iterator[str]:
    if not a["controller"]:
        who = "processor entity" if a["role"] == "processor" else "controller"
        yield f"no {who}: set --controller to the group member responsible"
    if a["role"] == "processor" and not a["processor_for"]:
        yield "role processor but no controllers we act for: set --processor-for (Art. 30(2)(a))"
    if a["role"] == "joint-controller" and not a["joint_controllers"]:
        yield "role joint-controller but no joint controllers: set --joint-controller (Art. 26)"


def _adequacy_applies(ctx: Context, transfer: dict, regime: str) -> tuple[bool, str]:
    """Whether an adequacy decision (under `uk-gdpr`: UK adequacy regulations) covers this
    transfer, and why not."""
    country = transfer["country"]
    recipient = ctx.party(transfer.get("recipient"))
    uk = regime == reference.UK_GDPR
    if country == reference.INTL:
        names = {(recipient or {}).get("name", "").lower(), (transfer.get("recipient") or "")}
        if names & set(reference.adequate_international_organisations(regime)):
            return True, ""
        return False, "no adequacy decision covers this international organisation"
    decision = reference.adequacy(regime).get(country)
    if decision is None:
        kind = "UK adequacy regulations" if uk else "adequacy decision"
        return False, f"there is no {kind} for {reference.country_name(country)}"
    if decision.valid_until and decision.valid_until < ctx.today:
        return False, (
            f"the {decision.name} decision expired on {decision.valid_until.isoformat()}"
        )
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


@rule(
    "R07",
    ERROR,
    "transfer outside the EEA (UK GDPR: outside the UK) with no mechanism, or `adequacy` "
    "where no decision applies: no decision (UK: adequacy regulations) for the country; "
    "a US recipient that is not `dpf_certified` (or no recipient named); an international "
    "organisation (`INTL`) other than the European Patent Organisation",
)
def r07_transfer_mechanism(ctx: Context, a: dict) -> Iterator[str]:
    for t in a["transfers"]:
        if not ctx.outside(a, t["country"]):
            continue
        where = _transfer_label(t)
        if not t["mechanism"]:
            yield f"transfer to {where} has no transfer mechanism (Chapter V)"
        elif t["mechanism"] == "adequacy":
            applies, why = _adequacy_applies(ctx, t, ctx.regime(a))
            if not applies:
                yield f"transfer to {where} relies on adequacy, but {why}"


@rule(
    "R08",
    ERROR,
    "`compelling-legitimate-interests` transfer without `details` (Art. 30(1)(e), 49(6))",
)
def r08_compelling_interests(ctx: Context, a: dict) -> Iterator[str]:
    for t in a["transfers"]:
        if t["mechanism"] == "compelling-legitimate-interests" and not t["details"]:
            yield (
                f"transfer to {_transfer_label(t)} on compelling "
                "legitimate interests without the suitable safeguards documented "
                "in details (Art. 30(1)(e), 49(6))"
            )


@rule("R09", WARNING, "transfer destination inside the EEA (UK GDPR: the UK), so not a transfer")
def r09_transfer_inside_eea(ctx: Context, a: dict) -> Iterator[str]:
    regime = ctx.regime(a)
    for t in a["transfers"]:
        if t["country"] in reference.home_area(regime):
            yield (
                f"{reference.country_name(t['country'])} is in "
                f"{reference.home_area_name(regime)}: this is not a transfer; remove it"
            )


@rule(
    "R10",
    WARNING,
    "recipient or system located outside the EEA (UK GDPR: the UK) with no transfer "
    "recorded to that country",
)
def r10_unrecorded_transfer(ctx: Context, a: dict) -> Iterator[str]:
    recorded = {t["country"] for t in a["transfers"]}
    places: dict[str, list[str]] = {}
    for key in a["recipients"]:
        party = ctx.party(key)
        if party and ctx.outside(a, party["country"]):
            places.setdefault(party["country"], []).append(f"recipient {key}")
    for key in a["systems"]:
        system = ctx.references["system"].get(key)
        for country in (system or {}).get("countries", []):
            if ctx.outside(a, country):
                places.setdefault(country, []).append(f"system {key}")
    for country, users in sorted(places.items()):
        if country not in recorded:
            yield (
                f"{', '.join(users)} in "
                f"{reference.country_name(country)} but no transfer to {country} "
                "is recorded"
            )


@rule("R11", WARNING, "no retention rule, or a rule with neither duration nor criteria")
def r11_retention(ctx: Context, a: dict) -> Iterator[str]:
    if not a["retention"]:
        yield "no retention rule: add one with --retention (Art. 30(1)(f))"
    for i, retention in enumerate(a["retention"], 1):
        if not retention["duration"] and not retention["criteria"]:
            yield f"retention rule {i} has neither a duration nor criteria"


@rule("R12", WARNING, "no security measures")
def r12_measures(ctx: Context, a: dict) -> Iterator[str]:
    if not a["measures"]:
        yield "no security measures recorded (Art. 30(1)(g))"


@rule("R13", WARNING, "legitimate interests basis without the interests pursued or the LIA link")
def r13_legitimate_interests(ctx: Context, a: dict) -> Iterator[str]:
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
        yield "legitimate interests basis without " + " or ".join(missing)


@rule("R14", WARNING, "consent basis without `consent_record_link`")
def r14_consent_records(ctx: Context, a: dict) -> Iterator[str]:
    if "consent" in a["lawful_bases"] and not a["consent_record_link"]:
        yield (
            "consent basis without a link to the consent "
            "records (Art. 7(1)): set --consent-record-link"
        )


@rule(
    "R15",
    WARNING,
    "a service provider that receives data has no `contract_link` (reported on the party)",
    on_parties=True,
)
def r15_processor_contract(ctx: Context) -> Iterator[About]:
    for key in sorted(ctx.recipients_seen):
        party = ctx.party(key)
        if party and party["kind"] == "service-provider" and not party["contract_link"]:
            yield About(
                party,
                "service provider without a link to its Art. 28 contract: set --contract-link",
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
    if "art9" in specials and any(ctx.outside(a, t["country"]) for t in a["transfers"]):
        found.append(
            "special category data transferred outside " + reference.home_area_name(ctx.regime(a))
        )
    return found


@rule(
    "R16",
    WARNING,
    "(controller and joint-controller activities: Art. 35 is the controller's duty) DPIA "
    "likely required but `dpia_required` is not `yes`; or `yes` without `dpia_link`",
)
def r16_dpia(ctx: Context, a: dict) -> Iterator[str]:
    if a["role"] == "processor":
        return
    criteria = dpia_criteria(ctx, a)
    if len(criteria) >= 2 and a["dpia_required"] != "yes":
        yield (
            "DPIA likely required ("
            + "; ".join(criteria)
            + f") but dpia_required is {a['dpia_required']}"
        )
    if a["dpia_required"] == "yes" and not a["dpia_link"]:
        yield "DPIA required but no --dpia-link to it"


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


@rule(
    "R17",
    WARNING,
    "review overdue (`last_reviewed` + `review_interval_months` is past), or never reviewed",
)
def r17_review(ctx: Context, a: dict) -> Iterator[str]:
    due = next_review(a)
    if due is None:
        yield "never reviewed: set --last-reviewed after a review"
    elif due < ctx.today:
        yield (
            f"review overdue since {due.isoformat()} (last "
            f"reviewed {a['last_reviewed'].isoformat()})"
        )


@rule(
    "R18",
    ERROR,
    "a controller or joint controller without address or email (error); without a DPO (warning)",
    on_parties=True,
    lesser=WARNING,
)
def r18_controller_contact(ctx: Context) -> Iterator[About]:
    for key in sorted(ctx.controllers_seen):
        party = ctx.party(key)
        if party is None:
            continue
        if not party["name"] or not (party["address"] or party["email"]):
            yield About(
                party,
                "controller without contact details: set --address or --email (Art. 30(1)(a))",
            )
        if not (party["dpo_name"] or party["dpo_email"]):
            yield About(
                party,
                "no data protection officer recorded: "
                "set --dpo-name and --dpo-email, if one is designated",
                WARNING,
            )


def _explained_in_notice(a: dict) -> bool:
    """Whether the activity is in the privacy notice: active, and ours as controller."""
    return a["status"] == "active" and a["role"] != "processor"


@rule(
    "R19",
    WARNING,
    "a purpose, category or subject used by an active controller activity has no "
    "description, so the notice cannot explain it (Arts. 13(1)(c), 14(1)(d))",
)
def r19_undescribed(ctx: Context, a: dict) -> Iterator[str]:
    if not _explained_in_notice(a):
        return
    for kind, field_name in (
        ("purpose", "purposes"),
        ("category", "data_categories"),
        ("subject", "data_subjects"),
    ):
        records = ctx.references[kind]
        bare = sorted(k for k in a[field_name] if k in records and not records[k]["description"])
        if bare:
            label = {"category": "data category", "subject": "data subject category"}.get(
                kind, kind
            )
            noun = label if len(bare) == 1 else words.plural(label)
            yield (
                f"{noun} {', '.join(bare)} {'has' if len(bare) == 1 else 'have'} no "
                "description: the privacy notice can only name "
                + ("it" if len(bare) == 1 else "them")
            )


@rule("R20", WARNING, "a transfer's recipient is not among the activity's recipients")
def r20_transfer_recipient(ctx: Context, a: dict) -> Iterator[str]:
    known = {a["controller"], *a["recipients"], *a["sub_processors"], *a["joint_controllers"]}
    for i, t in enumerate(a["transfers"], 1):
        if t.get("recipient") and t["recipient"] not in known:
            yield (
                f"transfer {i} goes to {t['recipient']}, which is not among the "
                f"activity's recipients (Art. 30(1)(d)): add it with --recipient"
            )


def _duplicates(rows: list[dict], fields: tuple[str, ...]) -> list[tuple[int, int]]:
    """(first, repeat) positions, from 1, of rows equal in `fields`."""
    seen: dict[tuple, int] = {}
    found = []
    for i, row in enumerate(rows, 1):
        same = tuple(row.get(f) for f in fields)
        if same in seen:
            found.append((seen[same], i))
        else:
            seen[same] = i
    return found


@rule("R21", WARNING, "the same retention rule or transfer recorded twice")
def r21_duplicates(ctx: Context, a: dict) -> Iterator[str]:
    retention = ("data_category", "duration", "trigger", "action", "criteria")
    for first, repeat in _duplicates(a["retention"], retention):
        yield f"retention rule {repeat} repeats rule {first}: remove one"
    for first, repeat in _duplicates(a["transfers"], ("country", "recipient", "mechanism")):
        yield (
            f"transfer {repeat} repeats transfer {first} "
            f"({_transfer_label(a['transfers'][first - 1])}): remove one"
        )


@rule(
    "R22",
    WARNING,
    "active controller activity with no source: the notice cannot say where the data comes "
    "from, which Art. 14(2)(f) requires when it is not collected from the data subject",
)
def r22_source(ctx: Context, a: dict) -> Iterator[str]:
    if _explained_in_notice(a) and not a["sources"]:
        yield (
            "no source recorded: add one with --source (the data subject, or where the data "
            "is obtained otherwise, Art. 14(2)(f))"
        )


@rule(
    "R23",
    ERROR,
    "a transfer's mechanism belongs to the other regime: `scc` under `uk-gdpr`, "
    "`idta` / `uk-addendum` under `eu-gdpr`",
)
def r23_mechanism_regime(ctx: Context, a: dict) -> Iterator[str]:
    regime = ctx.regime(a)
    valid = [
        c.code
        for c in vocab.TRANSFER_MECHANISMS
        if c.regime == regime and c.article.startswith("46(2)")
    ]
    for t in a["transfers"]:
        mechanism = t["mechanism"]
        if mechanism in vocab.TRANSFER_MECHANISMS and not vocab.TRANSFER_MECHANISMS.get(
            mechanism
        ).valid_in(regime):
            yield (
                f"transfer to {_transfer_label(t)} relies on {mechanism}, which is not a "
                f"safeguard under the {vocab.REGIMES.get(regime).label} the controller is under"
                f"; use {words.join(valid, 'or')}"
            )


def select_rules(only: Iterable[str] = (), ignore: Iterable[str] = ()) -> list[Rule]:
    """The rules to run; unknown ids raise a RopaError naming them."""
    only = [r.upper() for r in only]
    ignore = [r.upper() for r in ignore]
    unknown = [r for r in [*only, *ignore] if r not in RULES]
    if unknown:
        raise RopaError(f"unknown rule {', '.join(unknown)}; rules are {rule_range()}")
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


def _transfer_label(t: dict) -> str:
    name = reference.country_name(t["country"])
    return f"{name} ({t['recipient']})" if t.get("recipient") else name
