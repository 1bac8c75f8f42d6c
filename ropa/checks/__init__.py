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

The machinery (findings, the rule registry, the context) is in :mod:`ropa.checks.core`; the rules
are in one module per subject: :mod:`~ropa.checks.record`, :mod:`~ropa.checks.transfers`,
:mod:`~ropa.checks.dpia`, :mod:`~ropa.checks.parties`, :mod:`~ropa.checks.notice`.
"""

from ropa.checks import dpia, notice, parties, record, transfers
from ropa.checks.core import (
    ERROR,
    RULES,
    WARNING,
    About,
    Context,
    Finding,
    Rule,
    add_months,
    check_activities,
    check_parties,
    in_regime,
    inherited_special,
    next_review,
    rule,
    rule_lines,
    rule_range,
    rule_table,
    run_checks,
    select_rules,
    sort_findings,
    summary,
)
from ropa.checks.dpia import dpia_criteria

# The rule modules register in the order they are imported; the rules are listed by id.
for _id in sorted(RULES):
    RULES[_id] = RULES.pop(_id)

__all__ = [
    "ERROR",
    "RULES",
    "WARNING",
    "About",
    "Context",
    "Finding",
    "Rule",
    "add_months",
    "check_activities",
    "check_parties",
    "dpia",
    "dpia_criteria",
    "in_regime",
    "inherited_special",
    "next_review",
    "notice",
    "parties",
    "record",
    "rule",
    "rule_lines",
    "rule_range",
    "rule_table",
    "run_checks",
    "select_rules",
    "sort_findings",
    "summary",
    "transfers",
]
