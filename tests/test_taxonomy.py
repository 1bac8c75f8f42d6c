"""`ropa taxonomy load fideslang`: the fideslang default taxonomy as records."""

from __future__ import annotations

import pytest
from fideslang import DEFAULT_TAXONOMY

from ropa.interop.taxonomy import special_of

ART9 = {
    "user.biometric",
    "user.biometric.fingerprint",
    "user.biometric.retinal",
    "user.biometric.voice",
    "user.biometric.health",
    "user.authorization.biometric",
    "user.health_and_medical",
    "user.health_and_medical.genetic",
    "user.health_and_medical.insurance_beneficiary_id",
    "user.health_and_medical.record_id",
    "user.demographic.political_opinion",
    "user.demographic.race_ethnicity",
    "user.demographic.religious_belief",
    "user.demographic.sexual_orientation",
}


def test_load_on_an_empty_register_creates_the_whole_taxonomy(initialised, registry):
    result = initialised("taxonomy", "load", "fideslang")
    assert result.exit_code == 0, result.stderr
    categories = {c["fides_key"]: c for c in registry.list("category")}
    subjects = {s["fides_key"]: s for s in registry.list("subject")}
    purposes = {p["fides_key"]: p for p in registry.list("purpose")}
    assert set(categories) == {c.fides_key for c in DEFAULT_TAXONOMY.data_category}
    assert set(subjects) == {s.fides_key for s in DEFAULT_TAXONOMY.data_subject}
    assert set(purposes) == {u.fides_key for u in DEFAULT_TAXONOMY.data_use}
    assert f"categories: created {len(DEFAULT_TAXONOMY.data_category)}, 0 already" in (
        result.stderr
    )
    email = categories["user.contact.email"]
    assert (email["key"], email["name"], email["parent"]) == (
        "user.contact.email",
        "User Contact Email",
        "user.contact",
    )
    assert email["description"]
    assert {k for k, c in categories.items() if c["special"] == "art9"} == ART9
    assert {k for k, c in categories.items() if c["special"] == "art10"} == {
        "user.criminal_history"
    }
    assert purposes["marketing.advertising"]["direct_marketing"] is True
    assert purposes["essential.service"]["direct_marketing"] is False
    assert subjects["employee"]["vulnerable"] is True
    assert "deprecated" in purposes["personalize.profiling"]["description"]


def test_every_special_category_of_the_taxonomy_is_marked():
    # Read from the package: a category whose name speaks of a special category is marked.
    words = ("biometric", "health", "genetic", "political", "race", "relig", "sexual", "union")
    for category in DEFAULT_TAXONOMY.data_category:
        text = f"{category.fides_key} {category.name}".lower()
        if any(word in text for word in words):
            assert special_of(category.fides_key) == "art9", category.fides_key
    assert special_of("user.criminal_history") == "art10"
    assert special_of("user.contact.email") == "none"
    assert special_of("user.demographic.trade_union_membership") == "art9"


def test_a_second_load_changes_nothing(initialised, registry):
    initialised("taxonomy", "load", "fideslang")
    before = registry.history()
    result = initialised("taxonomy", "load", "fideslang")
    assert result.exit_code == 0
    assert "nothing changed" in result.stderr
    assert f"subjects: created 0, {len(DEFAULT_TAXONOMY.data_subject)} already present" in (
        result.stderr
    )
    assert registry.history() == before


def test_only_loads_the_parts_named(initialised, registry):
    result = initialised("taxonomy", "load", "fideslang", "--only", "subjects,purposes")
    assert result.exit_code == 0
    assert registry.list("category") == []
    assert len(registry.list("subject")) == len(DEFAULT_TAXONOMY.data_subject)


def test_unknown_part_is_a_clear_error(initialised):
    result = initialised("taxonomy", "load", "fideslang", "--only", "categorys")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: --only: unknown part 'categorys'; choose categories, subjects, purposes\n"
    )


def test_records_with_a_fides_key_keep_their_key_and_name(initialised, registry):
    registry.add("subject", {"key": "staff", "name": "Our staff", "fides_key": "employee"})
    initialised("taxonomy", "load", "fideslang", "--only", "subjects")
    staff = registry.get("subject", "staff")
    assert (staff["name"], staff["fides_key"]) == ("Our staff", "employee")
    assert "employee" not in {s["key"] for s in registry.list("subject")}


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (
            {"key": "customer", "name": "Clients"},
            "subject 'customer' exists with fides_key (none); fideslang 'customer' not loaded",
        ),
        (
            {"key": "buyers", "name": "Customer"},
            "subject 'buyers' already has the name 'Customer'; fideslang 'customer' not loaded",
        ),
    ],
)
def test_a_clash_is_reported_not_overwritten(initialised, registry, record, message):
    registry.add("subject", record)
    result = initialised("taxonomy", "load", "fideslang", "--only", "subjects")
    assert result.exit_code == 0
    assert f"warning: {message}" in result.stderr
    assert registry.get("subject", record["key"])["name"] == record["name"]
    assert registry.get("subject", record["key"])["fides_key"] is None
    assert len(registry.list("subject")) == len(DEFAULT_TAXONOMY.data_subject)


def test_dry_run_changes_nothing(initialised, registry):
    result = initialised("taxonomy", "load", "fideslang", "--dry-run")
    assert result.exit_code == 0
    assert "would create" in result.stderr
    assert registry.list("purpose") == []


def test_two_entries_of_one_name_are_one_record_and_a_clash_whatever_their_letters():
    """Names compare through ropa.db.fold_case, as everywhere: the entries loaded earlier in
    the same load were lowered with Python, which spells İ as i and a combining dot."""
    from ropa.interop.taxonomy import plan_taxonomy

    entries = {
        "subject": [
            {"fides_key": "istanbul", "name": "İstanbul office visitors"},
            {"fides_key": "istanbul_again", "name": "Istanbul office visitors"},
        ]
    }
    plan = plan_taxonomy({"subject": []}, entries, ["subject"])
    assert [r["key"] for r in plan.records["subject"]] == ["istanbul"]
    assert plan.clashes == [
        "subject 'istanbul' already has the name 'İstanbul office visitors'; fideslang "
        "'istanbul_again' not loaded (set its fides_key to match them)"
    ]
