"""`ropa export jsonld`: the register as W3C DPV 2.2 JSON-LD."""

from __future__ import annotations

import json

import rdflib

from tests.interop_files import NAMESPACES, defined_terms

DPV = rdflib.Namespace(NAMESPACES["dpv"])
GDPR = rdflib.Namespace(NAMESPACES["eu-gdpr"])
DCT = rdflib.Namespace("http://purl.org/dc/terms/")


def _graph(text: str) -> rdflib.Graph:
    return rdflib.Graph().parse(data=text, format="json-ld")


def _dpv_terms(graph: rdflib.Graph) -> set[str]:
    return {
        str(term)
        for triple in graph
        for term in triple
        if isinstance(term, rdflib.URIRef)
        and any(str(term).startswith(ns) for ns in NAMESPACES.values())
    }


def test_sample_registry_as_jsonld_parses_and_uses_only_defined_dpv_terms(sample, cli, tmp_path):
    result = cli("export", "jsonld", "-o", "dpv.jsonld")
    assert result.exit_code == 0, result.stderr
    text = (tmp_path / "dpv.jsonld").read_text()
    assert isinstance(json.loads(text)["@context"], dict)  # inline: nothing to fetch
    graph = _graph(text)
    used = _dpv_terms(graph)
    assert len(used) > 30
    assert used - defined_terms() == set()
    processes = set(graph.subjects(rdflib.RDF.type, DPV.Process))
    activities = [a for a in sample.list("activity") if a["status"] != "retired"]
    assert {str(p) for p in processes} >= {f"urn:ropa:activity/{a['key']}" for a in activities}


def test_an_activity_carries_its_purposes_data_bases_and_transfers(sample, cli):
    result = cli("export", "jsonld", "-o", "-")
    graph = _graph(result.stdout)
    activity = sample.get("activity", "marketing")
    node = rdflib.URIRef("urn:ropa:activity/marketing")
    assert str(graph.value(node, DCT.title)) == activity["name"]
    purposes = {str(o) for o in graph.objects(node, DPV.hasPurpose)}
    assert purposes == {f"urn:ropa:purpose/{k}" for k in activity["purposes"]}
    data = {str(o) for o in graph.objects(node, DPV.hasPersonalData)}
    assert data == {f"urn:ropa:category/{k}" for k in activity["data_categories"]}
    bases = set(graph.objects(node, DPV.hasLegalBasis))
    codes = {"consent": GDPR["A6-1-a"], "legitimate-interests": GDPR["A6-1-f"]}
    assert {codes[b] for b in activity["lawful_bases"] if b in codes} <= bases
    transfers = list(graph.objects(node, DPV.hasProcess))
    assert len(transfers) == len(activity["transfers"]) > 0
    first = activity["transfers"][0]
    country = graph.value(transfers[0], DPV.hasThirdCountry)
    assert (country, rdflib.RDF.type, DPV.ThirdCountry) in graph
    assert str(graph.value(country, DCT.identifier)) == first["country"]
    assert graph.value(transfers[0], DPV.hasLegalBasis) == GDPR["A46-2-c"]
    assert set(graph.objects(node, DPV.hasStorageCondition))
    assert set(graph.objects(node, DPV.hasTechnicalOrganisationalMeasure))
    controller = graph.value(node, DPV.hasDataController)
    assert (controller, rdflib.RDF.type, DPV.DataController) in graph


def test_special_categories_are_typed_from_the_code_list(registry, cli):
    registry.add("category", {"key": "health", "name": "Health", "special": "art9"})
    registry.add("category", {"key": "crime", "name": "Convictions", "special": "art10"})
    registry.add("party", {"key": "acme", "name": "Acme", "kind": "group-member"})
    registry.add("purpose", {"key": "care", "name": "Care"})
    registry.add(
        "activity",
        {
            "key": "a",
            "name": "A",
            "controller": "acme",
            "purposes": ["care"],
            "data_categories": ["health", "crime"],
        },
    )
    graph = _graph(cli("export", "jsonld", "-o", "-").stdout)
    health = rdflib.URIRef("urn:ropa:category/health")
    crime = rdflib.URIRef("urn:ropa:category/crime")
    assert (health, rdflib.RDF.type, DPV.SpecialCategoryPersonalData) in graph
    assert (crime, rdflib.RDF.type, rdflib.URIRef(NAMESPACES["pd"] + "CriminalOffence")) in graph


def test_entity_limits_the_export_to_one_group_member(sample, cli):
    sample.add("party", {"key": "sister", "name": "Sister Ltd", "kind": "group-member"})
    sample.add("purpose", {"key": "payroll", "name": "Payroll"})
    sample.add(
        "activity",
        {"key": "pay", "name": "Pay", "controller": "sister", "purposes": ["payroll"]},
    )
    graph = _graph(cli("export", "jsonld", "--entity", "Sister Ltd", "-o", "-").stdout)
    prefix = "urn:ropa:activity/"
    nodes = {str(p)[len(prefix) :] for p in graph.subjects(rdflib.RDF.type, DPV.Process)}
    assert nodes == {"pay"}
    assert (None, DPV.hasPurpose, rdflib.URIRef("urn:ropa:purpose/payroll")) in graph


def test_as_of_exports_the_register_as_it_stood(sample, cli):
    result = cli("export", "jsonld", "--as-of", "2000-01-01", "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["@graph"] == []


def test_a_uk_gdpr_controllers_activity_cites_no_eu_gdpr_article(registry, cli):
    """An IDTA went out as eu-gdpr:A46-2-d and the UK's own bases as the EU GDPR's articles:
    DPV 2.2 has terms for the EU GDPR only, so a UK GDPR activity takes DPV's general terms,
    its Art. 9 conditions and transfer safeguards titled as the UK GDPR cites them."""
    registry.import_documents(
        [
            (
                {
                    "parties": [
                        {
                            "key": "acme-uk",
                            "name": "Acme Ltd",
                            "kind": "group-member",
                            "country": "GB",
                        },
                        {"key": "mailer", "name": "Mailer Inc", "kind": "service-provider"},
                    ],
                    "categories": [{"key": "health", "name": "Health", "special": "art9"}],
                    "purposes": [{"key": "care", "name": "Care"}],
                    "activities": [
                        {
                            "key": "uk",
                            "name": "UK care",
                            "controller": "acme-uk",
                            "purposes": ["care"],
                            "data_categories": ["health"],
                            "lawful_bases": ["consent", "legitimate-interests"],
                            "legitimate_interests": "Care.",
                            "art9_conditions": ["explicit-consent"],
                            "recipients": ["mailer"],
                            "transfers": [
                                {"country": "IN", "mechanism": "idta", "recipient": "mailer"}
                            ],
                        }
                    ],
                },
                "doc",
            )
        ]
    )
    text = cli("export", "jsonld", "-o", "-").stdout
    assert "eu-gdpr:" not in text
    graph = _graph(text)
    assert _dpv_terms(graph) - defined_terms() == set()
    node = rdflib.URIRef("urn:ropa:activity/uk")
    bases = set(graph.objects(node, DPV.hasLegalBasis))
    assert {DPV.Consent, DPV.LegitimateInterest} <= bases
    (condition,) = bases - {DPV.Consent, DPV.LegitimateInterest}
    assert str(graph.value(condition, DCT.title)) == "Explicit consent, Art. 9(2)(a) UK GDPR"
    (transfer,) = graph.objects(node, DPV.hasProcess)
    safeguard = graph.value(transfer, DPV.hasLegalBasis)
    assert (safeguard, rdflib.RDF.type, DPV.DataTransferLegalBasis) in graph
    assert str(graph.value(safeguard, DCT.title)) == (
        "International Data Transfer Agreement, Art. 46(2)(d) UK GDPR"
    )
