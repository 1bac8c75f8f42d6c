"""Fides manifests in (`ropa import`) and out (`ropa export fides`), against the Fides sample
project's manifests and a system object as the Fides API returns it."""

from __future__ import annotations

import json

import yaml
from fideslang import DEFAULT_TAXONOMY
from fideslang.models import Taxonomy

from ropa.registry import Edit
from tests.interop_files import interop_file


def _sample_files() -> list[str]:
    return [
        str(interop_file("fides", "sample_organization.yml")),
        str(interop_file("fides", "sample_systems.yml")),
    ]


def _declarations(manifest: dict) -> set[tuple]:
    """Every (system, data use, categories, subjects) a manifest declares."""
    return {
        (
            system["fides_key"],
            d["data_use"],
            tuple(sorted(d["data_categories"])),
            tuple(sorted(d["data_subjects"])),
        )
        for system in manifest["system"]
        for d in system["privacy_declarations"]
    }


def test_sample_manifests_import_as_six_activities_of_one_group_member(initialised, registry):
    result = initialised("import", *_sample_files())
    assert result.exit_code == 0, result.stderr
    party = registry.get("party", "default_organization")
    assert (party["kind"], party["name"], party["email"]) == (
        "group-member",
        "Cookie House",
        "controller@example.com",
    )
    assert (party["dpo_name"], party["dpo_email"]) == ("DataPro Tection", "dpo@example.com")
    assert (party["representative_name"], party["representative_email"]) == (
        "Rep Resentative",
        "representative@example.com",
    )
    activities = registry.list("activity")
    assert len(activities) == 6
    assert {a["controller"] for a in activities} == {"default_organization"}
    assert {a["status"] for a in activities} == {"draft"}  # Fides gave no legal basis
    loyalty = registry.get("activity", "cookie_house_loyalty_database.essential.service")
    assert loyalty["name"] == "Cookie House Loyalty Program — Essential for Service"
    assert loyalty["systems"] == ["cookie_house_loyalty_database"]
    assert loyalty["business_function"] == "Engineering"
    assert loyalty["notes"] == "Data flows (Fides): egress to cookie_house (system)"

    def fides_keys(kind: str, keys: list[str]) -> list[str]:
        return sorted(registry.get(kind, k)["fides_key"] for k in keys)

    marketing = registry.get("system", "cookie_house_marketing_system")
    assert marketing["name"] == "Cookie House Marketing System"
    by_system = {a["systems"][0]: a for a in activities}
    postgres = by_system["cookie_house_postgresql_database"]
    assert fides_keys("purpose", postgres["purposes"]) == ["essential.service"]
    assert fides_keys("category", postgres["data_categories"]) == ["user.contact", "user.financial"]
    assert fides_keys("subject", postgres["data_subjects"]) == ["customer"]
    assert fides_keys("purpose", by_system["cookie_house_marketing_system"]["purposes"]) == [
        "marketing.advertising.first_party.targeted"
    ]
    # taxonomy records come from fideslang, parents included
    contact = registry.get("category", "user.contact")
    assert (contact["name"], contact["parent"]) == ("Contact Data", "user")
    assert "system cookie_house_postgresql_database, declaration essential.service: " in (
        result.stderr
    )
    assert "dataset_references has no place in ropa; not imported" in result.stderr
    assert "no legal_basis_for_processing; the activity is imported as draft" in result.stderr


def test_api_system_maps_consent_art9_profiling_and_dpia(initialised, registry):
    result = initialised("import", *_sample_files(), str(interop_file("fides", "system.json")))
    assert result.exit_code == 0, result.stderr
    activity = registry.get("activity", "demo_analytics_system.functional.service.improve")
    assert activity["name"] == "Analyze customer behaviour for improvements."
    assert activity["status"] == "active"
    assert activity["role"] == "controller"
    assert activity["controller"] == "default_organization"
    assert activity["lawful_bases"] == ["consent"]
    assert activity["art9_conditions"] == ["explicit-consent"]
    assert activity["automated_decisions"] == (
        "Profiling (Fides: uses_profiling); legal basis for profiling: Explicit consent"
    )
    assert activity["dpia_required"] == "yes"
    assert activity["dpia_link"] == (
        "https://example.org/analytics_system_data_protection_impact_assessment"
    )
    assert "system demo_analytics_system: legal_name has no place in ropa" in result.stderr


def test_fides_keys_are_matched_to_records_that_carry_them(initialised, registry):
    registry.add("subject", {"key": "clients", "name": "Clients", "fides_key": "customer"})
    result = initialised("import", *_sample_files())
    assert result.exit_code == 0, result.stderr
    assert {s["key"] for s in registry.list("subject")} == {"clients"}
    assert {tuple(a["data_subjects"]) for a in registry.list("activity")} == {("clients",)}


def test_dry_run_changes_nothing(initialised, registry):
    result = initialised("import", "--dry-run", *_sample_files())
    assert result.exit_code == 0
    assert "would change 23 records" in result.stderr
    assert registry.list("activity") == [] and registry.list("party") == []


def test_a_declaration_without_data_use_fails_and_writes_nothing(initialised, registry, tmp_path):
    manifest = yaml.safe_load(interop_file("fides", "sample_systems.yml").read_text())
    del manifest["system"][2]["privacy_declarations"][0]["data_use"]
    bad = tmp_path / "bad.yml"
    bad.write_text(yaml.safe_dump(manifest))
    result = initialised("import", str(bad))
    assert result.exit_code == 1
    assert (
        f"error: {bad}:system cookie_house_postgresql_database:privacy_declarations[0]: "
        "a privacy declaration needs a data_use" in result.stderr
    )
    assert registry.list("system") == []


def test_export_validates_and_keeps_every_declaration(initialised, registry, tmp_path):
    api = interop_file("fides", "system.json")
    initialised("import", *_sample_files(), str(api))
    result = initialised("export", "fides", "-o", "fides.yml")
    assert result.exit_code == 0, result.stderr
    exported = yaml.safe_load((tmp_path / "fides.yml").read_text())
    Taxonomy.model_validate(exported)  # fideslang's own models accept it
    original = yaml.safe_load(interop_file("fides", "sample_systems.yml").read_text())
    original["system"].append(json.loads(api.read_text()))
    assert _declarations(exported) == _declarations(original)
    assert [o["fides_key"] for o in exported["organization"]] == ["default_organization"]
    assert exported["organization"][0]["data_protection_officer"]["name"] == "DataPro Tection"
    analytics = next(s for s in exported["system"] if s["fides_key"] == "demo_analytics_system")
    declaration = analytics["privacy_declarations"][0]
    assert declaration["legal_basis_for_processing"] == "Consent"
    assert declaration["special_category_legal_basis"] == "Explicit consent"
    assert analytics["uses_profiling"] is True
    assert analytics["legal_basis_for_profiling"] == ["Explicit consent"]
    assert "data_category" not in exported  # every record carries its fides_key


def test_export_reimports_unchanged(initialised, registry, tmp_path):
    initialised("import", *_sample_files(), str(interop_file("fides", "system.json")))
    before = registry.document()
    for name in ("fides.yml", "fides.json"):
        assert initialised("export", "fides", "-o", name).exit_code == 0
        result = initialised("import", name)
        assert result.exit_code == 0, result.stderr
        assert "changed 0 records" in result.stderr
    assert registry.document() == before


def test_export_of_a_register_without_fides_keys_has_custom_taxonomy(sample, cli, tmp_path):
    result = cli("export", "fides", "-o", "-")
    assert result.exit_code == 0, result.stderr
    manifest = yaml.safe_load(result.stdout)
    Taxonomy.model_validate(manifest)
    categories = {c["fides_key"]: c for c in manifest["data_category"]}
    used = {
        k
        for s in manifest["system"]
        for d in s["privacy_declarations"]
        for k in d["data_categories"]
    }
    defaults = {c.fides_key for c in DEFAULT_TAXONOMY.data_category}
    assert used <= set(categories) | defaults
    assert "photos-recordings.recording-content" in categories  # a path, as fideslang wants
    assert {u["fides_key"] for u in manifest["data_use"]} == {
        d["data_use"] for s in manifest["system"] for d in s["privacy_declarations"]
    }
    assert all(c["is_default"] is False for c in categories.values())
    # and it comes back into the register it came from without a change, though Fides
    # holds less: one legal basis per declaration, no transfer countries
    before = sample.document()
    (tmp_path / "sample-fides.yml").write_text(result.stdout)
    again = cli("import", "sample-fides.yml")
    assert again.exit_code == 0, again.stderr
    assert "changed 0 records" in again.stderr
    assert sample.document() == before
    assert "activity marketing: Fides holds no transfer destinations" in result.stderr


def test_export_for_one_entity(initialised, registry):
    initialised("import", *_sample_files())
    result = initialised("export", "fides", "--entity", "Cookie House", "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert len(yaml.safe_load(result.stdout)["system"]) == 6
    result = initialised("export", "fides", "--entity", "nobody", "-o", "-")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: --entity: no group member 'nobody' (group members: default_organization)\n"
    )


def test_a_list_of_api_system_objects_is_a_manifest(initialised, registry, tmp_path):
    system = json.loads(interop_file("fides", "system.json").read_text())
    other = {**system, "fides_key": "second_system", "name": "Second System"}
    (tmp_path / "systems.json").write_text(json.dumps([system, other]))
    result = initialised("import", "systems.json")
    assert result.exit_code == 0, result.stderr
    assert {s["key"] for s in registry.list("system")} == {"demo_analytics_system", "second_system"}
    # no organization in the file and none in the register: no controller, so draft
    activity = registry.get("activity", "demo_analytics_system.functional.service.improve")
    assert (activity["controller"], activity["status"]) == (None, "draft")


def test_a_registry_document_is_not_taken_for_a_manifest():
    from ropa.interop.fides import is_manifest

    assert not is_manifest({"ropa": 1, "systems": [{"key": "crm", "name": "CRM"}]})
    assert not is_manifest([{"key": "crm", "name": "CRM"}])
    assert is_manifest({"system": []})
    assert is_manifest({"fides_key": "s", "privacy_declarations": []})


def test_a_third_party_named_in_other_letters_gets_a_readable_key(initialised, registry, tmp_path):
    """A party made for a declaration's third_parties is keyed from its name: letters outside
    ASCII were lost to dashes ('m-ller', 'r--s-ndergaard'), İ to an 'i' and a dash."""
    others = _third_parties_imported(
        initialised, registry, tmp_path, "Müller İletişim GmbH; Ærø Søndergaard"
    )
    assert others == {
        "muller-iletisim-gmbh": "Müller İletişim GmbH",
        "aero-sondergaard": "Ærø Søndergaard",
    }


def test_third_parties_whose_names_make_one_key_stay_apart(initialised, registry, tmp_path):
    """Two third parties whose names give the same key (no Latin letters at all; or a stored
    party of another name holds it) were one party: the second overwrote the first, and the
    import renamed the stored party."""
    registry.add("party", {"key": "acme-gmbh", "name": "Acme Holding", "kind": "other"})
    others = _third_parties_imported(initialised, registry, tmp_path, "数据公司; 云服务; ACME GmbH")
    assert others == {
        "acme-gmbh": "Acme Holding",
        "acme-gmbh-2": "ACME GmbH",
        "party": "数据公司",
        "party-2": "云服务",
    }
    used = [set(a["recipients"]) for a in registry.list("activity")]
    assert {"party", "party-2", "acme-gmbh-2"} in used


def _third_parties_imported(initialised, registry, tmp_path, third_parties: str) -> dict:
    """The parties of kind other (key: name) after importing the sample organization and
    the sample systems, the first declaration naming `third_parties`."""
    manifest = yaml.safe_load(interop_file("fides", "sample_systems.yml").read_text())
    manifest["system"][0]["privacy_declarations"][0]["third_parties"] = third_parties
    path = tmp_path / "third.yml"
    path.write_text(yaml.safe_dump(manifest, allow_unicode=True))
    result = initialised("import", str(_sample_files()[0]), str(path))
    assert result.exit_code == 0, result.stderr
    return {p["key"]: p["name"] for p in registry.list("party") if p["kind"] == "other"}


def test_two_manifests_naming_other_third_parties_import_together(initialised, registry, tmp_path):
    """Each manifest of an import keyed the third parties it met alone: two files naming two
    parties without Latin letters both made a party 'party', and the import was refused."""
    manifest = yaml.safe_load(interop_file("fides", "sample_systems.yml").read_text())
    paths = []
    for i, name in enumerate(["数据公司", "云服务"]):
        one = {"system": [manifest["system"][i]]}
        one["system"][0]["privacy_declarations"][0]["third_parties"] = name
        paths.append(tmp_path / f"m{i}.yml")
        paths[-1].write_text(yaml.safe_dump(one, allow_unicode=True))
    result = initialised("import", str(_sample_files()[0]), *map(str, paths))
    assert result.exit_code == 0, result.stderr
    others = {p["key"]: p["name"] for p in registry.list("party") if p["kind"] == "other"}
    assert others == {"party": "数据公司", "party-2": "云服务"}


def _crm(*declarations: dict, fides_key: str = "crm", name: str = "CRM") -> dict:
    return {
        "fides_key": fides_key,
        "name": name,
        "system_type": "Service",
        "privacy_declarations": list(declarations),
    }


def _declaration(name: str, category: str, subject: str, basis: str) -> dict:
    return {
        "name": name,
        "data_use": "marketing.advertising",
        "data_categories": [category],
        "data_subjects": [subject],
        "legal_basis_for_processing": basis,
    }


def test_declarations_of_one_system_and_data_use_stay_apart(initialised, registry, tmp_path):
    """Two declarations of one system and data use, named apart, were one activity: the
    second's name, both bases, both subjects (the first's name lost)."""
    path = tmp_path / "dup.yml"
    path.write_text(
        yaml.safe_dump(
            {
                "system": [
                    _crm(
                        _declaration("Newsletter", "user.contact.email", "customer", "Consent"),
                        _declaration(
                            "Retargeting ads",
                            "user.device.cookie_id",
                            "prospect",
                            "Legitimate interests",
                        ),
                    )
                ]
            }
        )
    )
    result = initialised("import", str(_sample_files()[0]), str(path))
    assert result.exit_code == 0, result.stderr
    made = {a["name"]: a for a in registry.list("activity")}
    assert sorted(made) == ["Newsletter", "Retargeting ads"]
    assert made["Newsletter"]["lawful_bases"] == ["consent"]
    assert made["Retargeting ads"]["lawful_bases"] == ["legitimate-interests"]
    again = initialised("import", str(_sample_files()[0]), str(path))
    assert again.exit_code == 0 and "changed 0 records" in again.stderr


def test_the_sample_register_goes_to_fides_and_back_with_every_activity(sample, cli, tmp_path):
    """Activities of one system and purpose came back as one: 13 of the sample's 14."""
    names = sorted(a["name"] for a in sample.list("activity") if a["status"] != "retired")
    assert cli("export", "fides", "-o", "f.yml").exit_code == 0
    cli("init", "--force", "--yes")
    result = cli("import", "f.yml")
    assert result.exit_code == 0, result.stderr
    assert sorted(a["name"] for a in sample.list("activity")) == names


def test_two_fides_keys_that_make_one_ropa_key_are_refused(initialised, registry, tmp_path):
    """`sys<1>` and `sys-1` are both fides_keys and both ropa key `sys-1`: the second system
    overwrote the first, exit 0."""
    use = _declaration("Ads", "user.contact.email", "customer", "Consent")
    path = tmp_path / "two.yml"
    path.write_text(
        yaml.safe_dump(
            {
                "system": [
                    _crm(use, fides_key="sys<1>", name="Odd system"),
                    _crm(use | {"name": "Other ads"}, fides_key="sys-1", name="Other system"),
                ]
            }
        )
    )
    result = initialised("import", str(_sample_files()[0]), str(path))
    assert result.exit_code == 1
    assert (
        f"error: {path}:system sys-1: fides_keys 'sys<1>' and 'sys-1' both make the ropa key "
        "'sys-1'; change one of them"
    ) in result.stderr
    assert registry.list("system") == []


def test_a_system_of_two_controllers_goes_to_fides_as_one_system_each(
    initialised, registry, tmp_path
):
    """Fides gives a system one organization: a system two group members' activities use
    went out under the first only, and came back with that one as both controllers."""
    base = {"purposes": ["payroll"], "systems": ["hrs"], "lawful_bases": ["legal-obligation"]}
    registry.import_documents(
        [
            (
                {
                    "parties": [
                        {"key": "acme-de", "name": "Acme DE", "kind": "group-member"},
                        {"key": "acme-uk", "name": "Acme UK", "kind": "group-member"},
                    ],
                    "purposes": [{"key": "payroll", "name": "Payroll"}],
                    "systems": [{"key": "hrs", "name": "HR system"}],
                    "activities": [
                        {"key": "de-pay", "name": "DE payroll", "controller": "acme-de", **base},
                        {"key": "uk-pay", "name": "UK payroll", "controller": "acme-uk", **base},
                    ],
                },
                "doc",
            )
        ]
    )
    result = initialised("export", "fides", "-o", "f.yml")
    assert result.exit_code == 0, result.stderr
    assert (
        "system hrs: used by activities of 2 group members; Fides gives a system one "
        "organization: written as hrs (acme-de) and hrs-acme-uk (acme-uk)"
    ) in result.stderr
    manifest = yaml.safe_load((tmp_path / "f.yml").read_text())
    owners = {s["fides_key"]: s["organization_fides_key"] for s in manifest["system"]}
    assert owners == {"hrs": "acme-de", "hrs-acme-uk": "acme-uk"}
    # A recipient's name with ';' cannot go through third_parties whole: said.
    registry.add("party", {"key": "law", "name": "Smith; Jones LLP", "kind": "other"})
    registry.edit("activity", "de-pay", Edit(add={"recipients": ["law"]}))
    result = initialised("export", "fides", "-o", "g.yml")
    assert (
        "activity de-pay: recipient 'Smith; Jones LLP' holds ';', which parts the names in "
        "Fides' third_parties: a Fides import reads it as several parties"
    ) in result.stderr
    registry.edit("activity", "de-pay", Edit(remove={"recipients": ["law"]}))
    # meta.ropa_system joins only the systems ropa wrote for one: another system it names is
    # refused (it was merged into that one, silently).
    hand = yaml.safe_load((tmp_path / "f.yml").read_text())
    other = dict(next(s for s in hand["system"] if s["fides_key"] == "hrs"))
    hand["system"].append(other | {"fides_key": "payroll-box", "meta": {"ropa_system": "hrs"}})
    (tmp_path / "hand.yml").write_text(yaml.safe_dump(hand))
    refused = initialised("import", "hand.yml", "--dry-run")
    assert refused.exit_code == 1
    assert (
        "error: hand.yml:system payroll-box: meta.ropa_system 'hrs' joins only the systems "
        "ropa writes for one system's group members (hrs-MEMBER)"
    ) in refused.stderr
    # Both are system hrs again on the way back (they made a system hrs-acme-uk).
    before = registry.document()
    again = initialised("import", "f.yml")
    assert again.exit_code == 0, again.stderr
    assert "changed 0 records" in again.stderr
    assert registry.document() == before
