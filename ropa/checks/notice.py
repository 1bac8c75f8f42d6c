"""Rules on what the privacy notice needs from the register: descriptions to explain with, and
sources (R19, R22).
"""

from __future__ import annotations

from collections.abc import Iterator

from ropa import words
from ropa.checks.core import WARNING, Context, rule


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
