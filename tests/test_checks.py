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
        {"key": "contact", "name": "Contact", "description": "Name, address, email"},
        {"key": "health", "name": "Health", "special": "art9", "description": "Sick notes"},
        {"key": "diagnosis", "name": "Diagnosis", "parent": "health", "description": "ICD"},
        {"key": "convictions", "name": "Convictions", "special": "art10", "description": "x"},
    ],
    "subjects": [
        {"key": "customers", "name": "Customers", "description": "People who buy from us"},
        {"key": "staff", "name": "Staff", "vulnerable": True, "description": "Employees"},
    ],
    "purposes": [
        {"key": "billing", "name": "Billing", "description": "Invoicing what we sell"},
        {"key": "cctv", "name": "CCTV", "systematic_monitoring": True, "description": "Video"},
    ],
    "sources": [{"key": "direct", "name": "From you", "description": "When you order"}],
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
            "sources": ["direct"],
            "measures": ["encryption"],
            "systems": ["erp"],
            "retention": [{"duration": "P10Y", "trigger": "end of year"}],
            "last_reviewed": "2026-06-01",
        },
    ],
}


def findings(change=None, today=TODAY, **activity):
    """The findings for the clean register with the activity changed, and that register."""
    doc = copy.deepcopy(CLEAN)
    doc["activities"][0].update(activity)
    if change:
        change(doc)
    empty = {k: {} for k in KINDS}
    state, _, problems = plan_import(empty, parse_documents([(doc, "t")]), False, "t")
    assert problems == []
    references = {k: v for k, v in state.items() if k != "activity"}
    activities = [state["activity"][k] for k in sorted(state["activity"])]
    return run_checks(references, activities, today), state


def check(change=None, today=TODAY, **activity):
    """Findings (rule, severity, key) for the clean register with the activity changed."""
    found, state = findings(change, today, **activity)
    return [(f.rule, f.severity, f.key) for f in found], state


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
    recipients = [transfer["recipient"]] if "recipient" in transfer else []
    assert rules(transfers=[transfer], recipients=recipients) == expected


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

    # Réunion is an outermost region of the EU, with its own ISO code: inside the EEA
    def hosted_in_reunion(doc):
        doc["systems"].append({"key": "re-dc", "name": "RE DC", "countries": ["RE"]})

    assert rules(hosted_in_reunion, systems=["re-dc"]) == set()
    for region in ("RE", "GP", "MQ", "GF", "YT", "MF", "AX"):
        assert rules(transfers=[{"country": region, "mechanism": "scc"}]) == {"R09"}
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
    assert bad.exit_code == 2 and "not a group-member party" in bad.stderr


def test_unknown_rule_is_refused(initialised):
    result = initialised("check", "--rule", "R99")
    assert result.exit_code == 2
    assert result.stderr == "error: unknown rule R99; rules are R01–R23\n"


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


# -- R16 and the rules of issue 14 -------------------------------------------------------------


def test_r16_skips_processor_activities():
    risky = {"data_categories": ["health"], "data_subjects": ["staff"]}
    assert "R16" in rules(art9_conditions=["health-social-care"], **risky)
    as_processor = rules(role="processor", processor_for=["partner"], **risky)
    assert "R16" not in as_processor  # Art. 35 is the controller's duty


def _undescribed(doc):
    doc["purposes"][0]["description"] = None
    doc["subjects"][0]["description"] = None


def test_r19_undescribed_purpose_category_or_subject():
    findings = check(_undescribed)[0]
    assert findings == [("R19", "warning", "a1")] * 2
    ctx_messages = _messages(_undescribed)
    assert ctx_messages == [
        "purpose billing has no description: the privacy notice can only name it",
        "data subject category customers has no description: the privacy notice can only name it",
    ]
    # a processor's work and a draft are not in the notice
    assert "R19" not in rules(_undescribed, role="processor", processor_for=["partner"])
    assert "R19" not in rules(_undescribed, status="draft")


def _messages(change=None, **activity) -> list[str]:
    return [f.message for f in findings(change, **activity)[0]]


def test_r20_transfer_recipient_not_among_the_recipients():
    transfer = {"country": "US", "recipient": "cloud", "mechanism": "scc"}
    assert rules(transfers=[transfer]) == {"R20"}
    assert _messages(transfers=[transfer]) == [
        "transfer 1 goes to cloud, which is not among the activity's recipients "
        "(Art. 30(1)(d)): add it with --recipient"
    ]
    assert rules(transfers=[transfer], recipients=["cloud"]) == set()


def test_r21_duplicated_retention_rule_or_transfer():
    rule = {"duration": "P10Y", "trigger": "end of year"}
    assert rules(retention=[rule, dict(rule)]) == {"R21"}
    transfer = {"country": "US", "recipient": "cloud", "mechanism": "scc"}
    twice = [transfer, dict(transfer, details="signed 2024")]
    assert _messages(transfers=twice, recipients=["cloud"]) == [
        "transfer 2 repeats transfer 1 (United States (cloud)): remove one"
    ]
    assert rules(retention=[rule, dict(rule, duration="P6Y")]) == set()


def test_r22_controller_activity_without_a_source():
    assert rules(sources=[]) == {"R22"}
    assert "R22" not in rules(sources=[], role="processor", processor_for=["partner"])


# -- regimes ----------------------------------------------------------------------------------


def _uk_controller(doc):
    doc["parties"][0].update(country="GB")  # regime left empty: uk-gdpr, derived from GB
    doc["systems"][0]["countries"] = ["GB"]  # hosted at home: not a transfer


@pytest.mark.parametrize(
    ("transfer", "expected"),
    [
        ({"country": "US", "recipient": "cloud-dpf", "mechanism": "idta"}, set()),
        ({"country": "US", "recipient": "cloud-dpf", "mechanism": "uk-addendum"}, set()),
        ({"country": "US", "recipient": "cloud-dpf", "mechanism": "scc"}, {"R23"}),
        ({"country": "US", "recipient": "cloud-dpf", "mechanism": "adequacy"}, set()),  # bridge
        ({"country": "US", "recipient": "cloud", "mechanism": "adequacy"}, {"R07"}),
        ({"country": "KR", "mechanism": "adequacy"}, set()),
        ({"country": "GI", "mechanism": "adequacy"}, set()),  # Gibraltar: UK bridge only
        ({"country": "BR", "mechanism": "adequacy"}, {"R07"}),  # EU decision, no UK bridge
        ({"country": "FR", "recipient": "partner", "mechanism": "adequacy"}, set()),
        ({"country": "GB", "mechanism": "scc"}, {"R09", "R23"}),
    ],
)
def test_a_uk_controller_uses_uk_transfer_rules(transfer, expected):
    recipients = [transfer["recipient"]] if "recipient" in transfer else []
    assert rules(_uk_controller, transfers=[transfer], recipients=recipients) == expected


def test_r23_mechanism_of_the_other_regime():
    transfer = {"country": "US", "recipient": "cloud", "mechanism": "idta"}
    assert rules(transfers=[transfer], recipients=["cloud"]) == {"R23"}
    assert _messages(transfers=[transfer], recipients=["cloud"]) == [
        "transfer to United States (cloud) relies on idta, which is not a safeguard under the "
        "EU GDPR (Regulation (EU) 2016/679) the controller is under; use scc"
    ]
    uk = rules(_uk_controller, transfers=[dict(transfer, mechanism="scc")], recipients=["cloud"])
    assert uk == {"R23"}


def test_regime_is_explicit_or_derived_from_the_country():
    def eu_law_in_gb(doc):
        doc["parties"][0].update(country="GB", regime="eu-gdpr")  # e.g. an EU branch

    transfer = {"country": "FR", "recipient": "partner"}
    assert rules(eu_law_in_gb, transfers=[transfer], recipients=["partner"]) == {"R09"}
    # for a UK controller France is outside: a transfer that needs a mechanism
    assert rules(_uk_controller, transfers=[transfer], recipients=["partner"]) == {"R07"}
    # and a recipient in the EEA is a transfer not recorded (R10)
    assert rules(_uk_controller, recipients=["partner"]) == {"R10"}


def test_findings_carry_the_regime_of_the_controller():
    doc = copy.deepcopy(CLEAN)
    _uk_controller(doc)
    empty = {k: {} for k in KINDS}
    state, _, _ = plan_import(empty, parse_documents([(doc, "t")]), False, "t")
    references = {k: v for k, v in state.items() if k != "activity"}
    activity = dict(state["activity"]["a1"], measures=[], dpo_name=None)
    found = run_checks(references, [activity], TODAY)
    assert [(f.rule, f.regime) for f in found] == [("R12", "uk-gdpr")]


def test_an_activitys_controller_among_its_joint_controllers_is_found(initialised, sample):
    # Refusing it when written made a register that held it unreadable as of any earlier
    # moment (the history is rebuilt through the write rules) and every edit of it refused.
    cli = initialised
    assert cli("activity", "edit", "recruiting", "--role", "joint-controller",
               "--joint-controller", "event-partners", "--add-joint-controller", "imperva-inc",
               ).exit_code == 0  # fmt: skip
    found = json.loads(cli("check", "--format", "json").stdout)["findings"]
    assert any(
        f["rule"] == "R06" and f["key"] == "recruiting" and "among the joint controllers"
        in f["message"] for f in found
    )  # fmt: skip
    assert cli("activity", "edit", "recruiting", "--owner", "bob").exit_code == 0
