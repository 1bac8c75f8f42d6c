"""Rules on transfers, read in the regime of the activity's controller: mechanisms and adequacy,
transfers that are none or are missing, the recipient of a transfer, duplicates, and mechanisms of
the other regime (R07–R10, R20, R21, R23).
"""

from __future__ import annotations

from collections.abc import Iterator

from ropa import reference, vocab, words
from ropa.checks.core import ERROR, WARNING, Context, rule


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


def _transfer_label(t: dict) -> str:
    name = reference.country_name(t["country"])
    return f"{name} ({t['recipient']})" if t.get("recipient") else name
