"""The register as JSON-LD in W3C Data Privacy Vocabulary (DPV 2.2) terms.

Each activity is a `dpv:Process` with its purposes, personal data, data subjects, legal
bases (`eu-gdpr:` terms, from the IRIs in :mod:`ropa.vocab`; DPV's general terms under the
UK GDPR), controllers or processors, recipients, sources, storage conditions (the retention
rules), third-country transfers with their safeguards, and technical and organisational
measures. The `@context` is inline, so the file parses offline; the records of the register
are nodes under `urn:ropa:`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ropa import reference, vocab
from ropa.schema import of_member

#: The inline context: DPV's namespaces, Dublin Core for titles, and ropa's own nodes.
CONTEXT = {
    "dpv": "https://w3id.org/dpv#",
    "eu-gdpr": "https://w3id.org/dpv/legal/eu/gdpr#",
    "pd": "https://w3id.org/dpv/pd#",
    "dct": "http://purl.org/dc/terms/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "ropa": "urn:ropa:",
}
PREFIXES = {v: k for k, v in CONTEXT.items() if k in ("dpv", "eu-gdpr", "pd")}

#: Which property links an activity to the records of each reference field.
LINKS = {
    "purposes": ("dpv:hasPurpose", "purpose"),
    "data_categories": ("dpv:hasPersonalData", "category"),
    "data_subjects": ("dpv:hasDataSubject", "subject"),
    "recipients": ("dpv:hasRecipient", "party"),
    "sources": ("dpv:hasDataSource", "source"),
    "measures": ("dpv:hasTechnicalOrganisationalMeasure", "measure"),
}
SECTIONS = {
    "party": "parties",
    "category": "categories",
    "subject": "subjects",
    "purpose": "purposes",
    "source": "sources",
    "measure": "measures",
}


def compact(iri: str) -> str:
    """A DPV IRI in its prefixed form: https://w3id.org/dpv#Purpose -> dpv:Purpose."""
    for namespace, prefix in PREFIXES.items():
        if iri.startswith(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


def node_id(kind: str, key: str) -> str:
    """The identifier of a register record in the graph."""
    return f"ropa:{kind}/{key}"


def dpv_jsonld(document: Mapping, entity: str | None = None) -> str:
    """The register (a registry document) as DPV JSON-LD text: the activities that are not
    retired (of one group member, with `entity`) and every record they refer to."""
    by = {
        section: {r["key"]: r for r in document.get(section) or []} for section in SECTIONS.values()
    }
    activities = [
        a
        for a in document.get("activities") or []
        if a.get("status", "active") != "retired" and (entity is None or of_member(a, entity))
    ]
    used: dict[str, set[str]] = {kind: set() for kind in SECTIONS}
    graph = [
        _process(a, used, reference.effective_regime(by["parties"].get(a.get("controller"))))
        for a in sorted(activities, key=lambda a: a["key"])
    ]
    for kind, keys in used.items():
        for key in sorted(keys):
            record = by[SECTIONS[kind]].get(key)
            if record is not None:
                graph.append(_record(kind, record))
    return json.dumps({"@context": CONTEXT, "@graph": graph}, indent=2, ensure_ascii=False) + "\n"


def _ref(kind: str, key: str, used: dict[str, set[str]]) -> dict:
    used[kind].add(key)
    return {"@id": node_id(kind, key)}


#: DPV's terms for the lawful bases in no law's articles. DPV 2.2 has terms for the EU
#: GDPR's articles only: an activity under the UK GDPR takes these, and its Art. 9
#: conditions and transfer safeguards are titled as the UK GDPR cites them.
GENERAL_BASES = {
    "consent": "dpv:Consent",
    "contract": "dpv:Contract",
    "legal-obligation": "dpv:LegalObligation",
    "vital-interests": "dpv:VitalInterest",
    "public-task": "dpv:PublicInterest",
    "legitimate-interests": "dpv:LegitimateInterest",
}


def _basis(code: vocab.Code, regime: str, kind: str = "dpv:LegalBasis") -> dict:
    """A legal basis: the EU GDPR article's DPV term, or under another law a node of `kind`
    titled with that law's article."""
    if regime == reference.EU_GDPR:
        return {"@id": compact(code.iri)}
    if code.code in GENERAL_BASES and kind == "dpv:LegalBasis":
        return {"@id": GENERAL_BASES[code.code]}
    return {"@type": kind, "dct:title": code.title_in(regime)}


def _process(activity: Mapping, used: dict[str, set[str]], regime: str) -> dict:
    key = activity["key"]
    node: dict[str, Any] = {
        "@id": node_id("activity", key),
        "@type": "dpv:Process",
        "dct:identifier": key,
        "dct:title": activity["name"],
    }
    if activity.get("description"):
        node["dct:description"] = activity["description"]
    for name, (prop, kind) in LINKS.items():
        if activity.get(name):
            node[prop] = [_ref(kind, k, used) for k in activity[name]]
    bases = [vocab.LAWFUL_BASES.get(c) for c in activity.get("lawful_bases") or []]
    bases += [vocab.ART9_CONDITIONS.get(c) for c in activity.get("art9_conditions") or []]
    if bases:
        node["dpv:hasLegalBasis"] = [_basis(code, regime) for code in bases]
    controllers = [activity["controller"]] if activity.get("controller") else []
    if activity.get("role") == "processor":
        if controllers:
            node["dpv:hasDataProcessor"] = [_ref("party", k, used) for k in controllers]
        controllers = list(activity.get("processor_for") or [])
    else:
        controllers += list(activity.get("joint_controllers") or [])
    if controllers:
        node["dpv:hasDataController"] = [_ref("party", k, used) for k in controllers]
    storage = [
        _storage(key, i, rule, used) for i, rule in enumerate(activity.get("retention") or [])
    ]
    if storage:
        node["dpv:hasStorageCondition"] = storage
    transfers = [
        _transfer(key, i, transfer, used, regime)
        for i, transfer in enumerate(activity.get("transfers") or [])
    ]
    if transfers:
        node["dpv:hasProcess"] = transfers
    if activity.get("dpia_link") or activity.get("dpia_status"):
        dpia: dict[str, Any] = {"@id": f"{node['@id']}/dpia", "@type": "dpv:DPIA"}
        if activity.get("dpia_link"):
            dpia["dct:source"] = activity["dpia_link"]
        if activity.get("dpia_status"):
            dpia["dct:description"] = f"status: {activity['dpia_status']}"
        node["dpv:hasImpactAssessment"] = dpia
    if activity.get("automated_decisions"):
        node["dpv:hasProcessing"] = {"@id": "dpv:AutomatedDecisionMaking"}
    return node


def _storage(activity: str, i: int, rule: Mapping, used: dict[str, set[str]]) -> dict:
    node: dict[str, Any] = {
        "@id": f"{node_id('activity', activity)}/retention/{i + 1}",
        "@type": "dpv:StorageDuration" if rule.get("duration") else "dpv:StorageCondition",
    }
    if rule.get("duration"):
        node["rdf:value"] = {"@value": rule["duration"], "@type": "xsd:duration"}
    words = []
    if rule.get("trigger"):
        words.append(f"from {rule['trigger']}")
    if rule.get("criteria"):
        words.append(rule["criteria"])
    if rule.get("legal_reference"):
        words.append(rule["legal_reference"])
    if words:
        node["dct:description"] = "; ".join(words)
    if rule.get("action"):
        iri = vocab.RETENTION_ACTIONS.get(rule["action"]).iri
        node["dpv:hasProcessing"] = {"@id": compact(iri)}
    if rule.get("data_category"):
        node["dpv:hasPersonalData"] = _ref("category", rule["data_category"], used)
    return node


def _transfer(
    activity: str, i: int, transfer: Mapping, used: dict[str, set[str]], regime: str
) -> dict:
    country = transfer.get("country") or ""
    node: dict[str, Any] = {
        "@id": f"{node_id('activity', activity)}/transfer/{i + 1}",
        "@type": "dpv:Process",
        "dpv:hasProcessing": {"@id": "dpv:CrossBorderTransfer"},
        "dpv:hasThirdCountry": {
            "@id": f"ropa:country/{country}",
            "@type": "dpv:InternationalOrganisation" if country == "INTL" else "dpv:ThirdCountry",
            "dct:identifier": country,
        },
    }
    if transfer.get("recipient"):
        node["dpv:hasRecipient"] = _ref("party", transfer["recipient"], used)
    if transfer.get("mechanism"):
        code = vocab.TRANSFER_MECHANISMS.get(transfer["mechanism"])
        node["dpv:hasLegalBasis"] = _basis(code, regime, "dpv:DataTransferLegalBasis")
    safeguard = {
        k: transfer[k] for k in ("details", "document_link", "tia_link") if transfer.get(k)
    }
    if safeguard:
        node["dct:description"] = "; ".join(f"{k}: {v}" for k, v in safeguard.items())
    return node


def _record(kind: str, record: Mapping) -> dict:
    types = {
        "purpose": ["dpv:Purpose"],
        "subject": ["dpv:DataSubject"],
        "source": ["dpv:DataSource"],
        "category": ["dpv:PersonalData"],
    }.get(kind, [])
    if kind == "category" and record.get("special") not in (None, "", "none"):
        types.append(compact(vocab.SPECIAL.get(record["special"]).iri))
    if kind == "subject" and record.get("vulnerable"):
        types.append("dpv:VulnerableDataSubject")
    if kind == "party":
        types = [
            compact(vocab.PARTY_KINDS.get(record.get("kind") or "other").iri),
            "dpv:LegalEntity",
        ]
    if kind == "measure":
        types = [compact(vocab.MEASURE_KINDS.get(record.get("kind") or "technical").iri)]
    node: dict[str, Any] = {
        "@id": node_id(kind, record["key"]),
        "@type": types,
        "dct:identifier": record["key"],
        "dct:title": record["name"],
    }
    if record.get("description"):
        node["dct:description"] = record["description"]
    if kind == "party" and record.get("country"):
        node["dpv:hasCountry"] = {
            "@id": f"ropa:country/{record['country']}",
            "@type": "dpv:Country",
        }
    return node
