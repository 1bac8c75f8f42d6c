"""R16: the EDPB DPIA screening criteria the register can see (controller activities only: Art. 35
is the controller's duty).
"""

from __future__ import annotations

from collections.abc import Iterator

from ropa import reference
from ropa.checks.core import WARNING, Context, rule


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
