"""Rules on what an activity records: purposes, lawful bases, subjects and categories, special data,
roles, retention, security, the documentation of its bases, review (R01–R06, R11–R14, R17).
"""

from __future__ import annotations

from collections.abc import Iterator

from ropa.checks.core import ERROR, WARNING, Context, next_review, rule


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
    "joint-controller without `joint_controllers`, or with its controller among them",
)
def r06_role(ctx: Context, a: dict) -> Iterator[str]:
    if not a["controller"]:
        who = "processor entity" if a["role"] == "processor" else "controller"
        yield f"no {who}: set --controller to the group member responsible"
    if a["role"] == "processor" and not a["processor_for"]:
        yield "role processor but no controllers we act for: set --processor-for (Art. 30(2)(a))"
    if a["role"] == "joint-controller" and not a["joint_controllers"]:
        yield "role joint-controller but no joint controllers: set --joint-controller (Art. 26)"
    if a["controller"] and a["controller"] in a["joint_controllers"]:
        yield (
            f"the controller {a['controller']} is among the joint controllers: a joint controller "
            "is another controller deciding with it (Art. 26); --remove-joint-controller it"
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
