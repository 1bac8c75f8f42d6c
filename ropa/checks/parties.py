"""Rules on the parties the checked activities use: processors' contracts, controllers' contact
details and DPO (R15, R18).
"""

from __future__ import annotations

from collections.abc import Iterator

from ropa.checks.core import ERROR, WARNING, About, Context, rule


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
