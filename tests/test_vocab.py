"""Code lists: codes, article spellings, labels and DPV IRIs."""

from __future__ import annotations

import pytest

from ropa import vocab
from ropa.reference import adequacy, eea, parse_country


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("legitimate-interests", "legitimate-interests"),
        ("6(1)(f)", "legitimate-interests"),
        ("Art. 6(1)(f)", "legitimate-interests"),
        ("Article 6(1)(a)", "consent"),
        ("Legitimate Interests", "legitimate-interests"),
        ("Contracts", "contract"),
        ("Compliance", "legal-obligation"),
        ("Legal obligation, Art. 6(1)(c)", "legal-obligation"),
    ],
)
def test_lawful_basis_spellings(text, code):
    assert vocab.LAWFUL_BASES.parse(text) == code


@pytest.mark.parametrize(
    ("codes", "text", "code"),
    [
        (vocab.ART9_CONDITIONS, "Art. 9(2)(h)", "health-social-care"),
        (vocab.ART9_CONDITIONS, "explicit consent", "explicit-consent"),
        (vocab.TRANSFER_MECHANISMS, "46(2)(c)", "scc"),
        (vocab.TRANSFER_MECHANISMS, "Standard contractual clauses", "scc"),
        (vocab.TRANSFER_MECHANISMS, "Art. 45", "adequacy"),
        (vocab.TRANSFER_MECHANISMS, "Art. 49(1)(a)", "derogation-consent"),
        (vocab.TRANSFER_MECHANISMS, "49(1) second subparagraph", "compelling-legitimate-interests"),
        (vocab.PARTY_KINDS, "Service provider", "service-provider"),
        (vocab.MEASURE_KINDS, "organizational", "organisational"),
    ],
)
def test_other_code_list_spellings(codes, text, code):
    assert codes.parse(text) == code


def test_unknown_spelling_is_none():
    assert vocab.LAWFUL_BASES.parse("because we can") is None
    assert vocab.LAWFUL_BASES.parse("") is None


def test_codes_carry_articles_labels_and_dpv_iris():
    basis = vocab.LAWFUL_BASES.get("legitimate-interests")
    assert basis.title == "Legitimate interests, Art. 6(1)(f)"
    assert basis.iri == "https://w3id.org/dpv/legal/eu/gdpr#A6-1-f"
    assert vocab.ART9_CONDITIONS.get("archiving-research-statistics").iri.endswith("#A9-2-j")
    assert vocab.TRANSFER_MECHANISMS.get("scc").iri.endswith("#A46-2-c")
    for codes in (
        vocab.LAWFUL_BASES,
        vocab.ART9_CONDITIONS,
        vocab.TRANSFER_MECHANISMS,
        vocab.PARTY_KINDS,
    ):
        assert all(c.iri.startswith("https://w3id.org/dpv") for c in codes), codes.name


def test_spec_code_lists_are_complete():
    assert len(vocab.LAWFUL_BASES.values) == 6
    assert len(vocab.ART9_CONDITIONS.values) == 10
    assert len(vocab.TRANSFER_MECHANISMS.values) == 19  # 17 of the EU GDPR, 2 of the UK's
    assert {"idta", "uk-addendum"} <= set(vocab.TRANSFER_MECHANISMS.values)
    assert vocab.REGIMES.values == ["eu-gdpr", "uk-gdpr"]
    assert vocab.PARTY_KINDS.values == [
        "group-member",
        "internal",
        "service-provider",
        "business-partner",
        "public-authority",
        "professional-adviser",
        "acquirer",
        "other",
    ]


def test_reference_data():
    # 27 + 3, and the outermost regions and Åland with their own ISO codes (TFEU Art. 349, 355)
    assert len(eea()) == 37 and {"NO", "IS", "LI", "DE", "RE", "AX"} <= eea() and "GB" not in eea()
    decisions = adequacy()
    assert decisions["US"].requires == "dpf_certified"
    assert "commercial" in decisions["CA"].scope.lower()
    assert {"AD", "AR", "BR", "CH", "GB", "JP", "KR", "UY"} <= set(decisions)


@pytest.mark.parametrize(
    ("text", "code"),
    [("us", "US"), ("UK", "GB"), ("DEU", "DE"), ("Germany", "DE"), ("intl", "INTL")],
)
def test_countries(text, code):
    assert parse_country(text) == code


def test_bare_no_in_yaml_is_norway_not_false(registry):
    from ropa.io.document import load_text

    doc = load_text("parties:\n  - {key: p, name: P, country: NO}\n", "yaml", "doc")
    registry.import_documents([(doc, "doc")])
    assert registry.get("party", "p")["country"] == "NO"


def test_every_dpv_iri_in_the_code_lists_exists_in_dpv_2_2():
    from tests.interop_files import defined_terms

    defined = defined_terms()
    assert len(defined) > 1500  # the three vocabularies were read, not an empty folder
    code_lists = [v for v in vars(vocab).values() if isinstance(v, vocab.CodeList)]
    iris = {(codes.name, c.code): c.iri for codes in code_lists for c in codes if c.iri}
    assert len(iris) > 40
    # the IRIs ropa carried before DPV 2.2 was checked are not defined: the test can fail
    for old in ("legal/eu/gdpr#A49-1-2", "legal/eu/gdpr#A10", "#Review"):
        assert "https://w3id.org/dpv" + old not in defined
    missing = {where: iri for where, iri in iris.items() if iri not in defined}
    assert missing == {}


def test_the_three_iris_dpv_2_2_lacks_were_replaced():
    assert vocab.TRANSFER_MECHANISMS.get("compelling-legitimate-interests").iri.endswith(
        "gdpr#A49-2"
    )
    assert vocab.SPECIAL.get("art10").iri == "https://w3id.org/dpv/pd#CriminalOffence"
    assert vocab.RETENTION_ACTIONS.get("review").iri == "https://w3id.org/dpv#ReviewProcedure"
