"""A synthetic registry of N activities, shaped like a large group's register.

Each activity has ~3 data subjects, ~5 data categories, ~3 recipients, 1 transfer and 1
retention rule, drawn deterministically from a few hundred reference records.
"""

from __future__ import annotations

import random
from pathlib import Path

from ropa.db import Database
from ropa.registry import Registry

COUNTRIES = ["US", "IN", "GB", "CH", "JP", "BR", "CA", "SG"]


def synthetic_document(activities: int, seed: int = 30) -> dict:
    """The registry document of a synthetic register."""
    rng = random.Random(seed)
    parties = [
        {
            "key": f"entity-{i}",
            "name": f"Group Entity {i}",
            "kind": "group-member",
            "country": "DE",
            "email": f"privacy{i}@group.example",
            "dpo_name": "DPO",
            "dpo_email": "dpo@group.example",
        }
        for i in range(20)
    ]
    parties += [
        {
            "key": f"vendor-{i}",
            "name": f"Vendor {i}",
            "kind": "service-provider",
            "country": rng.choice([*COUNTRIES, "DE", "FR"]),
            "contract_link": f"dpa/vendor-{i}",
        }
        for i in range(300)
    ]
    categories = [
        {"key": f"cat-{i}", "name": f"Category {i}", "special": "art9" if i % 25 == 0 else "none"}
        for i in range(200)
    ]
    subjects = [
        {"key": f"subj-{i}", "name": f"Subjects {i}", "vulnerable": i % 10 == 0} for i in range(50)
    ]
    purposes = [{"key": f"purpose-{i}", "name": f"Purpose {i}"} for i in range(40)]
    sources = [{"key": f"source-{i}", "name": f"Source {i}"} for i in range(30)]
    measures = [
        {"key": f"measure-{i}", "name": f"Measure {i}", "kind": "technical"} for i in range(50)
    ]
    systems = [
        {"key": f"system-{i}", "name": f"System {i}", "countries": ["DE"]} for i in range(30)
    ]
    vendor_country = {p["key"]: p["country"] for p in parties}
    rows = []
    for i in range(activities):
        recipients = [f"vendor-{j}" for j in rng.sample(range(300), 3)]
        categories_used = [f"cat-{j}" for j in rng.sample(range(200), 5)]
        # Like a maintained register: a transfer for each recipient outside the EEA.
        transfers = [
            {
                "country": vendor_country[r],
                "recipient": r,
                "mechanism": "scc",
                "details": "SCC 2021/914 module 2",
            }
            for r in recipients
            if vendor_country[r] not in ("DE", "FR")
        ]
        basis = rng.choice(["contract", "legitimate-interests", "consent"])
        rows.append(
            {
                "key": f"act-{i:06d}",
                "name": f"Processing activity {i}",
                "description": f"Synthetic processing activity number {i} for benchmarking.",
                "controller": f"entity-{i % 20}",
                "business_function": rng.choice(["HR", "Sales", "IT", "Finance", "Legal"]),
                "purposes": [f"purpose-{rng.randrange(40)}"],
                "lawful_bases": [basis],
                "art9_conditions": ["explicit-consent"]
                if any(int(c[4:]) % 25 == 0 for c in categories_used)
                else [],
                "legitimate_interests": "Running the business",
                "lia_link": f"lia/{i}",
                "data_subjects": [f"subj-{j}" for j in rng.sample(range(50), 3)],
                "data_categories": categories_used,
                "sources": [f"source-{rng.randrange(30)}"],
                "recipients": recipients,
                "measures": [f"measure-{j}" for j in rng.sample(range(50), 2)],
                "systems": [f"system-{rng.randrange(30)}"],
                "transfers": transfers
                or [{"country": "US", "mechanism": "scc", "details": "SCC 2021/914 module 2"}],
                "consent_record_link": f"consents/{i}" if basis == "consent" else None,
                "retention": [
                    {
                        "duration": f"P{rng.randrange(1, 11)}Y",
                        "trigger": "end of contract",
                        "action": "delete",
                    }
                ],
                "last_reviewed": "2026-01-15",
            }
        )
    return {
        "ropa": 1,
        "parties": parties,
        "categories": categories,
        "subjects": subjects,
        "purposes": purposes,
        "sources": sources,
        "measures": measures,
        "systems": systems,
        "activities": rows,
    }


def build(path: Path, activities: int) -> Database:
    """A fresh SQLite database at `path` holding the synthetic register."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    db = Database.open(str(path))
    db.init()
    Registry(db, "benchmark").import_documents([(synthetic_document(activities), "synthetic")])
    return db
