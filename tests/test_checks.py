"""`ropa check`: every rule fires on a minimal register that breaks it, and not otherwise."""

from __future__ import annotations

import copy
import json
from datetime import date

import pytest

from ropa.checks import RULES, run_checks
from ropa.planning import parse_documents, plan_import
from ropa.schema import KINDS

TODAY = date(2026, 11, 29)

CLEAN = {
    "parties": [
        {
            "key": "acme",
            "name": "Acme SE",
            "kind": "group-member",
            "country": "DE",
            "email": "privacy@acme.example",
            "dpo_name": "Dr. Roe",
            "dpo_email": "dpo@acme.example",
        },
        {"key": "partner", "name": "Partner SA", "kind": "other", "country": "FR"},
        {
            "key": "cloud",
            "name": "Cloud Inc",
            "kind": "service-provider",
            "country": "US",
            "contract_link": "dpa/cloud.pdf",
        },
        {
            "key": "cloud-dpf",
            "name": "Cloud DPF Inc",
            "kind": "service-provider",
            "country": "US",
            "dpf_certified": True,
            "contract_link": "dpa/cloud-dpf.pdf",
        },
        {
            "key": "maple",
            "name": "Maple Corp",
            "kind": "service-provider",
            "country": "CA",
            "contract_link": "dpa/maple.pdf",
        },
        {
            "key": "epo",
            "name": "European Patent Organisation",
            "kind": "public-authority",
            "country": "INTL",
        },
        {
            "key": "un-agency",
            "name": "Some UN Agency",
            "kind": "public-authority",
            "country": "INTL",
        },
    ],
    "categories": [
        {"key": "contact", "name": "Contact"},
        {"key": "health", "name": "Health", "special": "art9"},
        {"key": "diagnosis", "name": "Diagnosis", "parent": "health"},
        {"key": "convictions", "name": "Convictions", "special": "art10"},
    ],
    "subjects": [
        {"key": "customers", "name": "Customers"},
        {"key": "staff", "name": "Staff", "vulnerable": True},
    ],
    "purposes": [
        {"key": "billing", "name": "Billing"},
        {"key": "cctv", "name": "CCTV", "systematic_monitoring": True},
    ],
    "measures": [{"key": "encryption", "name": "Encryption", "kind": "technical"}],
    "systems": [
        {"key": "erp", "name": "ERP", "countries": ["DE"]},
        {"key": "us-crm", "name": "US CRM", "countries": ["US"]},
    ],
    "activities": [
        {
            "key": "a1",
            "name": "Billing",
            "controller": "acme",
            "purposes": ["billing"],
            "lawful_bases": ["contract"],
            "data_subjects": ["customers"],
            "data_categories": ["contact"],
            "measures": ["encryption"],
            "systems": ["erp"],
            "retention": [{"duration": "P10Y", "trigger": "end of year"}],
            "last_reviewed": "2026-06-01",
        },
    ],
}


def check(change=None, today=TODAY, **activity):
    """Findings (rule, severity, key) for the clean register with the activity changed."""
    doc = copy.deepcopy(CLEAN)
    doc["activities"][0].update(activity)
    if change:
        change(doc)
    empty = {k: {} for k in KINDS}
    state, _, problems = plan_import(empty, parse_documents([(doc, "t")]), False, "t")
    assert problems == []
    references = {k: v for k, v in state.items() if k != "activity"}
    activities = [state["activity"][k] for k in sorted(state["activity"])]
    return [(f.rule, f.severity, f.key) for f in run_checks(references, activities, today)], state


def rules(change=None, **activity) -> set[str]:
    return {r for r, _, _ in check(change, **activity)[0]}


def test_the_clean_register_has_no_findings():
    assert check()[0] == []


def test_r01_no_purpose():
    assert rules(purposes=[]) == {"R01"}


def test_r02_no_lawful_basis_for_controllers_but_not_processors():
    assert rules(lawful_bases=[]) == {"R02"}
    assert "R02" not in rules(lawful_bases=[], role="processor", processor_for=["partner"])


def test_r03_no_subjects_or_no_categories():
    assert rules(data_subjects=[]) == {"R03"}
    assert rules(data_categories=[]) == {"R03"}


def test_r04_art9_without_condition_also_through_a_child_category():
    assert rules(data_categories=["health"]) == {"R04"}
    assert rules(data_categories=["diagnosis"]) == {"R04"}  # art9 only via its parent
    assert rules(data_categories=["diagnosis"], art9_conditions=["health-social-care"]) == set()


def test_r05_art10_without_basis():
    assert rules(data_categories=["convictions"]) == {"R05"}
    assert rules(data_categories=["convictions"], art10_basis="Section 10 DPA 2018") == set()


def test_r06_role_inconsistencies():
    assert rules(controller=None) == {"R06"}
    assert rules(role="processor") == {"R06"}
    assert rules(role="joint-controller") == {"R06"}
    # R06 is satisfied; the joint controller's own contact details are missing (Art. 30(1)(a))
    assert rules(role="joint-controller", joint_controllers=["partner"]) == {"R18"}


@pytest.mark.parametrize(
    ("transfer", "expected"),
    [
        ({"country": "US", "recipient": "cloud"}, {"R07"}),  # no mechanism
        ({"country": "US", "recipient": "cloud", "mechanism": "scc"}, set()),
        ({"country": "US", "recipient": "cloud", "mechanism": "adequacy"}, {"R07"}),  # no DPF
        ({"country": "US", "recipient": "cloud-dpf", "mechanism": "adequacy"}, set()),
        ({"country": "US", "mechanism": "adequacy"}, {"R07"}),  # recipient unknown
        ({"country": "CA", "recipient": "maple", "mechanism": "adequacy"}, set()),
        ({"country": "JP", "mechanism": "adequacy"}, set()),
        ({"country": "IN", "mechanism": "adequacy"}, {"R07"}),
        ({"country": "INTL", "recipient": "epo", "mechanism": "adequacy"}, set()),
        ({"country": "INTL", "recipient": "un-agency", "mechanism": "adequacy"}, {"R07"}),
        ({"country": "INTL", "recipient": "un-agency"}, {"R07"}),
        ({"country": "FR", "recipient": "partner"}, {"R09"}),  # inside the EEA
        ({"country": "NO", "mechanism": "scc"}, {"R09"}),
    ],
)
def test_r07_r09_transfer_mechanisms(transfer, expected):
    assert rules(transfers=[transfer]) == expected


def test_r08_compelling_legitimate_interests_needs_documented_safeguards():
    bare = {"country": "IN", "mechanism": "compelling-legitimate-interests"}
    assert rules(transfers=[bare]) == {"R08"}
    documented = dict(bare, details="One-off transfer, SA informed 2026-02-01, encryption")
    assert rules(transfers=[documented]) == set()


def test_r10_recipient_or_system_outside_the_eea_without_a_transfer():
    assert rules(recipients=["cloud"]) == {"R10"}
    assert (
        rules(
            recipients=["cloud"],
            transfers=[{"country": "US", "recipient": "cloud", "mechanism": "scc"}],
        )
        == set()
    )
    assert rules(systems=["us-crm"]) == {"R10"}
    assert rules(recipients=["partner"]) == set()  # France is in the EEA


def test_r11_retention():
    assert rules(retention=[]) == {"R11"}
    assert rules(retention=[{"trigger": "end of contract"}]) == {"R11"}
    assert rules(retention=[{"criteria": "until the claim is settled"}]) == set()


def test_r12_measures():
    assert rules(measures=[]) == {"R12"}


def test_r13_legitimate_interests_documentation():
    assert rules(lawful_bases=["legitimate-interests"]) == {"R13"}
    assert (
        rules(
            lawful_bases=["legitimate-interests"],
            legitimate_interests="fraud prevention",
            lia_link="lia/1",
        )
        == set()
    )


def test_r14_consent_records():
    assert rules(lawful_bases=["consent"]) == {"R14"}
    assert rules(lawful_bases=["consent"], consent_record_link="crm/consents") == set()


def test_r15_service_provider_without_contract_is_reported_on_the_party():
    def drop_contract(doc):
        doc["parties"][2].pop("contract_link")

    found, _ = check(
        drop_contract,
        recipients=["cloud"],
        transfers=[{"country": "US", "recipient": "cloud", "mechanism": "scc"}],
    )
    assert found == [("R15", "warning", "cloud")]
    assert rules(drop_contract) == set()  # not a recipient of any activity


def test_r16_dpia_screening_needs_two_criteria():
    assert rules(data_subjects=["staff"]) == set()  # one criterion
    two = {"data_subjects": ["staff"], "purposes": ["cctv"]}
    assert rules(**two) == {"R16"}
    assert rules(**two, dpia_required="yes", dpia_link="dpia/cctv") == set()
    assert rules(dpia_required="yes") == {"R16"}  # required but no link
    art9_abroad = {
        "data_categories": ["health"],
        "art9_conditions": ["explicit-consent"],
        "transfers": [{"country": "US", "mechanism": "scc"}],
    }
    assert rules(**art9_abroad) == {"R16"}
    assert rules(data_subjects=["staff"], automated_decisions="scoring of applicants") == {"R16"}


def test_r17_review_due_dates():
    assert rules(last_reviewed=None) == {"R17"}
    assert rules(last_reviewed="2025-11-28") == {"R17"}  # due 2026-11-28, today 2026-11-29
    assert rules(last_reviewed="2025-11-29") == set()  # due today
    assert rules(last_reviewed="2024-01-01", review_interval_months=36) == set()


def test_r18_controller_contact_and_dpo():
    def no_contact(doc):
        doc["parties"][0].pop("email")

    def no_dpo(doc):
        doc["parties"][0].pop("dpo_name")
        doc["parties"][0].pop("dpo_email")

    assert check(no_contact)[0] == [("R18", "error", "acme")]
    assert check(no_dpo)[0] == [("R18", "warning", "acme")]


def test_retired_activities_are_not_checked():
    assert rules(status="retired", purposes=[]) == set()


def test_every_rule_has_a_test():
    import inspect
    import re
    import sys

    source = inspect.getsource(sys.modules[__name__])
    for rule in RULES:
        assert re.search(rf"def test_\w*{rule.lower()}", source), rule


# -- the command ---------------------------------------------------------------------------


def test_check_command_exit_codes_and_formats(initialised, registry):
    registry.import_documents([(CLEAN, "clean")])
    ok = initialised("check")
    assert ok.exit_code == 0
    assert ok.stdout.strip() == "0 errors, 0 warnings in 0 activities"

    registry.edit("activity", "a1", _edit(set={"purposes": []}))
    registry.edit("activity", "a1", _edit(set={"measures": []}))
    failed = initialised("check")
    assert failed.exit_code == 1
    assert "activity a1 — Billing" in failed.stdout
    assert "R01 error   no purpose of processing" in failed.stdout
    assert failed.stdout.splitlines()[-1] == "1 error, 1 warning in 1 activity"

    data = json.loads(initialised("check", "--format", "json").stdout)
    assert [f["rule"] for f in data["findings"]] == ["R01", "R12"]
    assert data["findings"][0] == {
        "rule": "R01",
        "severity": "error",
        "kind": "activity",
        "key": "a1",
        "name": "Billing",
        "message": data["findings"][0]["message"],
    }
    csv_lines = initialised("check", "--format", "csv").stdout.splitlines()
    assert csv_lines[0] == "rule,severity,kind,key,name,message"

    warnings_only = initialised("check", "--ignore", "R01")
    assert warnings_only.exit_code == 0
    assert initialised("check", "--ignore", "R01", "--strict").exit_code == 1
    only = initialised("check", "--rule", "r12", "-f", "json")
    assert [f["rule"] for f in json.loads(only.stdout)["findings"]] == ["R12"]


def test_check_entity_limits_to_that_group_member(initialised, registry):
    doc = copy.deepcopy(CLEAN)
    doc["parties"].append(
        {"key": "other", "name": "Other GmbH", "kind": "group-member", "country": "AT"}
    )
    doc["activities"].append({"key": "a2", "name": "Other", "controller": "other"})
    registry.import_documents([(doc, "doc")])
    everyone = json.loads(initialised("check", "-f", "json").stdout)["findings"]
    assert {f["key"] for f in everyone} >= {"a2", "other"}
    acme = json.loads(initialised("check", "--entity", "Acme SE", "-f", "json").stdout)
    assert acme["findings"] == []
    bad = initialised("check", "--entity", "cloud")
    assert bad.exit_code == 1 and "not a group-member party" in bad.stderr


def test_unknown_rule_is_refused(initialised):
    result = initialised("check", "--rule", "R99")
    assert result.exit_code == 1
    assert result.stderr == "error: unknown rule R99; rules are R01–R18\n"


def _edit(**kwargs):
    from ropa.registry import Edit

    return Edit(**kwargs)


def test_checking_in_several_processes_finds_the_same(sample, monkeypatch):
    import ropa.parallel

    sequential = sample.findings(today=TODAY)
    by_entity = sample.findings(entity="imperva-inc", today=TODAY)
    monkeypatch.setattr(ropa.parallel, "PARALLEL_CHECK_FROM", 1)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert sample.findings(today=TODAY) == sequential
    assert sample.findings(entity="imperva-inc", today=TODAY) == by_entity
    assert len(sequential) == 15


# -- the registry of rules ---------------------------------------------------------------------


def test_the_readme_rule_table_is_the_registry():
    from ropa.checks import rule_table
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert rule_table() in readme, "README's rule table differs from ropa.checks.RULES"


def test_check_help_lists_every_rule(cli):
    shown = " ".join(cli("check", "--help").stdout.split())
    for rule in RULES.values():
        assert f"{rule.id} {rule.severities} {rule.summary}" in shown, rule.id


def test_a_rule_id_is_registered_once():
    from ropa.checks import ERROR, rule

    with pytest.raises(ValueError, match="R01 is registered twice"):
        rule("R01", ERROR, "again")(lambda ctx, a: iter(()))
    assert all(rule.summary and rule.id == rule_id for rule_id, rule in RULES.items())
