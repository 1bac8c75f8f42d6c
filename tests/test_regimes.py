"""The UK GDPR beside the EU's: each group member's regime decides what a transfer is, which
adequacy list and mechanisms apply, and which law its record and notice name."""

from __future__ import annotations

import json

import pytest

from ropa import reference, vocab

REGISTER = {
    "parties": [
        {
            "key": "uk",
            "name": "Acme Ltd",
            "kind": "group-member",
            "country": "GB",
            "email": "privacy@acme.co.uk",
            "dpo_email": "dpo@acme.co.uk",
        },
        {
            "key": "de",
            "name": "Acme GmbH",
            "kind": "group-member",
            "country": "DE",
            "email": "datenschutz@acme.de",
            "dpo_email": "dpo@acme.de",
            "supervisory_authority": "de-by",
        },
        {
            "key": "cloud",
            "name": "Cloud Inc",
            "kind": "service-provider",
            "country": "US",
            "dpf_certified": True,
            "contract_link": "dpa.pdf",
        },
    ],
    "subjects": [{"key": "staff", "name": "Staff", "description": "Employees"}],
    "categories": [{"key": "contact", "name": "Contact", "description": "Name and email"}],
    "purposes": [{"key": "payroll", "name": "Payroll", "description": "Paying people"}],
    "sources": [{"key": "you", "name": "From you", "description": "Your contract"}],
    "measures": [{"key": "enc", "name": "Encryption"}],
    "activities": [
        {
            "key": f"payroll-{entity}",
            "name": f"Payroll {entity}",
            "controller": entity,
            "purposes": ["payroll"],
            "lawful_bases": ["contract"],
            "data_subjects": ["staff"],
            "data_categories": ["contact"],
            "sources": ["you"],
            "recipients": ["cloud"],
            "measures": ["enc"],
            "retention": [{"duration": "P6Y", "trigger": "end of employment"}],
            "last_reviewed": "2026-11-01",
            "transfers": [{"country": "US", "recipient": "cloud", "mechanism": "scc"}],
        }
        for entity in ("uk", "de")
    ],
}


@pytest.fixture
def two_regimes(initialised, registry):
    registry.import_documents([(REGISTER, "doc")])
    return initialised


def test_the_effective_regime_is_explicit_or_derived_from_the_country():
    assert reference.effective_regime({"country": "GB", "regime": None}) == "uk-gdpr"
    assert reference.effective_regime({"country": "DE", "regime": None}) == "eu-gdpr"
    assert reference.effective_regime({"country": "GB", "regime": "eu-gdpr"}) == "eu-gdpr"
    assert reference.effective_regime(None) == "eu-gdpr"


def test_mechanisms_carry_their_regime_and_uk_labels_cite_the_uk_gdpr():
    mechanisms = vocab.TRANSFER_MECHANISMS
    assert [c.code for c in mechanisms if c.regime == "uk-gdpr"] == ["idta", "uk-addendum"]
    assert mechanisms.get("scc").regime == "eu-gdpr"
    assert not mechanisms.get("scc").valid_in("uk-gdpr")
    assert mechanisms.get("bcr").valid_in("uk-gdpr") and mechanisms.get("bcr").valid_in("eu-gdpr")
    assert (
        mechanisms.label("idta") == "International Data Transfer Agreement, Art. 46(2)(d) UK GDPR"
    )
    assert mechanisms.label("adequacy", "uk-gdpr") == "Adequacy decision, Art. 45 UK GDPR"
    assert mechanisms.label("adequacy") == "Adequacy decision, Art. 45"


def test_a_uk_controller_scc_is_r23_and_an_eu_controller_scc_is_clean(two_regimes):
    result = two_regimes("check", "--format", "json")
    found = [(f["rule"], f["key"]) for f in json.loads(result.stdout)["findings"]]
    assert found == [("R23", "payroll-uk")]
    assert result.exit_code == 1


def test_check_regime_filters_the_findings(two_regimes):
    uk = two_regimes("check", "--regime", "uk-gdpr", "--format", "json")
    assert [f["key"] for f in json.loads(uk.stdout)["findings"]] == ["payroll-uk"]
    eu = two_regimes("check", "--regime", "eu", "--format", "json")
    assert json.loads(eu.stdout)["findings"] == [] and eu.exit_code == 0
    bad = two_regimes("check", "--regime", "swiss")
    assert bad.exit_code == 2
    assert "'swiss' is not a regime; choose one of eu-gdpr, uk-gdpr" in bad.stderr


def test_a_uk_idta_transfer_to_a_certified_recipient_is_clean(two_regimes, registry):
    from ropa.registry import Edit

    transfers = [{"country": "US", "recipient": "cloud", "mechanism": "idta"}]
    registry.edit("activity", "payroll-uk", Edit(set={"transfers": transfers}))
    result = two_regimes("check")
    assert result.exit_code == 0, result.stdout
    assert result.stdout.strip() == "0 errors, 0 warnings in 0 activities"


def test_the_record_cover_names_each_controllers_law_and_authority(two_regimes):
    from openpyxl import load_workbook

    assert two_regimes("export", "xlsx", "-o", "record.xlsx").exit_code == 0
    cover = [[c.value for c in row] for row in load_workbook("record.xlsx")["Cover"].iter_rows()]
    laws = [row[1] for row in cover if row[0] == "Data protection law"]
    assert laws == [
        "EU GDPR (Regulation (EU) 2016/679)",
        "UK GDPR and the Data Protection Act 2018",
    ]
    authorities = [row[1] for row in cover if row[0] == "Supervisory authority"]
    assert authorities == [
        "Bayerisches Landesamt für Datenschutzaufsicht (https://www.lda.bayern.de)",
        "Information Commissioner's Office (https://ico.org.uk)",
    ]


def test_the_notice_says_which_law_each_entity_is_under(two_regimes):
    text = two_regimes("notice").stdout
    assert "For Acme GmbH, this notice is given under the EU GDPR" in text
    assert "For Acme Ltd, this notice is given under the UK GDPR" in text
    assert "outside the European Economic Area" in text and "outside the United Kingdom" in text
    uk = two_regimes("notice", "--entity", "uk").stdout
    assert "This notice is given under the UK GDPR and the Data Protection Act 2018." in uk
    assert "Information Commissioner's Office (ico.org.uk)" in uk
    assert "Standard contractual clauses, Art. 46(2)(c) UK GDPR" in uk


def test_under_two_laws_each_transfer_sentence_has_its_own_list(two_regimes):
    text = two_regimes("notice").stdout
    transfers = text[text.index("## International transfers") : text.index("## Data retention")]
    assert transfers.split("\n\n")[1:] == [
        "### From the European Economic Area",
        "We transfer personal information outside the European Economic Area, with these "
        "safeguards:",
        "- **United States:** Standard contractual clauses, Art. 46(2)(c)",
        "### From the United Kingdom",
        "We transfer personal information outside the United Kingdom, with these safeguards:",
        "- **United States:** Standard contractual clauses, Art. 46(2)(c) UK GDPR",
        "",
    ]


def test_reference_data_names_the_instrument_of_every_entry():
    for regime in ("eu-gdpr", "uk-gdpr"):
        for decision in reference.adequacy(regime).values():
            assert decision.instrument and decision.date, decision
    assert reference.adequacy()["BR"].instrument.endswith("2026/179")
    assert str(reference.adequacy()["GB"].valid_until) == "2031-12-27"
    assert reference.adequacy("uk-gdpr")["US"].requires == "dpf_certified"
    assert "GI" in reference.adequacy("uk-gdpr") and "GI" not in reference.adequacy()
    assert {"RE", "GP", "MQ", "GF", "YT", "MF", "AX"} <= reference.eea()
    epo = reference.adequate_international_organisations()
    assert epo["epo"].name == "European Patent Organisation"
    authorities = reference.supervisory_authorities()
    countries = {a.country for a in authorities.values()}
    assert countries == reference.eea() - {"RE", "GP", "MQ", "GF", "YT", "MF", "AX"} | {"GB", "CH"}
    assert sum(a.country == "DE" for a in authorities.values()) == 18  # BfDI, 16 Länder, BayLfD
    assert all(a.website.startswith("https://") for a in authorities.values())


def test_a_supervisory_authority_must_be_a_reference_key(initialised, registry):
    result = initialised(
        "party",
        "add",
        "x",
        "--name",
        "X",
        "--kind",
        "group-member",
        "--supervisory-authority",
        "de-bayern",
    )
    assert result.exit_code == 1
    assert "'de-bayern' is not a supervisory authority (did you mean: de-by" in result.stderr
    other = initialised(
        "party", "add", "y", "--name", "Y", "--kind", "service-provider", "--regime", "uk-gdpr"
    )
    assert other.exit_code == 1
    assert "regime applies only to group members" in other.stderr
