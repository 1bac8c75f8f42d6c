"""Maintaining records from the CLI: add, edit, show, list, remove, retire."""

from __future__ import annotations

import json

import pytest

from tests.conftest import dump


def add_basics(cli) -> None:
    assert (
        cli(
            "party",
            "add",
            "acme",
            "--name",
            "Acme GmbH",
            "--kind",
            "group-member",
            "--country",
            "DE",
            "--email",
            "privacy@acme.example",
        ).exit_code
        == 0
    )
    assert (
        cli(
            "party",
            "add",
            "mailer",
            "--name",
            "Mailer Inc",
            "--kind",
            "service-provider",
            "--country",
            "US",
            "--dpf-certified",
        ).exit_code
        == 0
    )
    assert cli("subject", "add", "customers", "--name", "Customers").exit_code == 0
    assert cli("subject", "add", "staff", "--name", "Employees", "--vulnerable").exit_code == 0
    assert cli("category", "add", "contact", "--name", "Contact details").exit_code == 0
    assert (
        cli("category", "add", "health", "--name", "Health data", "--special", "art9").exit_code
        == 0
    )
    assert cli("purpose", "add", "billing", "--name", "Billing").exit_code == 0


def test_add_activity_with_every_kind_of_option(initialised, registry):
    cli = initialised
    add_basics(cli)
    result = cli(
        "activity",
        "add",
        "invoicing",
        "--name",
        "Invoicing customers",
        "--controller",
        "acme",
        "--purpose",
        "billing",
        "--basis",
        "Art. 6(1)(b)",
        "--basis",
        "legal-obligation",
        "--subject",
        "Customers",
        "--category",
        "contact",
        "--recipient",
        "mailer",
        "--transfer",
        "US:scc:mailer",
        "--retention",
        "P10Y:end of the financial year",
        "--last-reviewed",
        "2026-01-15",
        "--dpia-required",
        "no",
        "-m",
        "first entry",
    )
    assert result.exit_code == 0, result.stderr
    assert "added activity invoicing" in result.stderr
    record = registry.get("activity", "invoicing")
    assert record["lawful_bases"] == ["contract", "legal-obligation"]
    assert record["data_subjects"] == ["customers"]  # resolved from the name
    assert record["transfers"][0] == {
        "country": "US",
        "recipient": "mailer",
        "mechanism": "scc",
        "details": None,
        "document_link": None,
        "tia_link": None,
    }
    assert record["retention"][0]["duration"] == "P10Y"
    assert record["retention"][0]["trigger"] == "end of the financial year"
    assert str(record["last_reviewed"]) == "2026-01-15"
    assert record["dpia_required"] == "no"
    assert record["version"] == 1


def test_edit_adds_and_removes_list_items_and_bumps_the_version(initialised, registry):
    cli = initialised
    add_basics(cli)
    cli(
        "activity",
        "add",
        "crm",
        "--name",
        "CRM",
        "--controller",
        "acme",
        "--subject",
        "customers",
        "--basis",
        "contract",
    )
    result = cli(
        "activity",
        "edit",
        "crm",
        "--add-subject",
        "staff",
        "--remove-basis",
        "contract",
        "--add-basis",
        "f",
        "--owner",
        "Head of Sales",
        "--add-transfer",
        "{country: GB, mechanism: adequacy, details: UK adequacy}",
    )
    assert result.exit_code == 0, result.stderr
    assert "version 2" in result.stderr
    record = registry.get("activity", "crm")
    assert record["data_subjects"] == ["customers", "staff"]
    assert record["lawful_bases"] == ["legitimate-interests"]
    assert record["owner"] == "Head of Sales"
    assert record["transfers"][0]["details"] == "UK adequacy"
    assert record["version"] == 2

    assert (
        cli("activity", "edit", "crm", "--clear", "owner", "--remove-transfer", "GB").exit_code == 0
    )
    record = registry.get("activity", "crm")
    assert record["owner"] is None and record["transfers"] == []


def test_edit_that_changes_nothing_writes_no_revision(initialised, registry, db):
    cli = initialised
    add_basics(cli)
    before = dump(db)
    result = cli("subject", "edit", "customers", "--name", "Customers")
    assert result.exit_code == 0
    assert "unchanged" in result.stderr
    assert dump(db) == before


def test_show_formats(initialised):
    cli = initialised
    add_basics(cli)
    table = cli("party", "show", "mailer")
    assert table.exit_code == 0
    assert "dpf_certified" in table.stdout and "yes" in table.stdout
    shown = json.loads(cli("party", "show", "mailer", "--format", "json").stdout)
    assert shown == {
        "key": "mailer",
        "name": "Mailer Inc",
        "kind": "service-provider",
        "country": "US",
        "dpf_certified": True,
    }
    yaml_text = cli("party", "show", "mailer", "--format", "yaml").stdout
    assert "dpf_certified: true" in yaml_text
    csv_text = cli("party", "show", "mailer", "--format", "csv").stdout
    assert csv_text.splitlines()[0].startswith("key,name,description,kind,country")


def test_list_filters_and_formats(initialised):
    cli = initialised
    add_basics(cli)
    cli("activity", "add", "a1", "--name", "One", "--controller", "acme", "--subject", "staff")
    cli(
        "activity",
        "add",
        "a2",
        "--name",
        "Two",
        "--controller",
        "acme",
        "--subject",
        "customers",
        "--category",
        "health",
        "--status",
        "draft",
    )
    listed = json.loads(cli("activity", "list", "--format", "json").stdout)
    assert [a["key"] for a in listed] == ["a1", "a2"]
    by_subject = json.loads(cli("activity", "list", "--subject", "Employees", "-f", "json").stdout)
    assert [a["key"] for a in by_subject] == ["a1"]
    by_category = json.loads(cli("activity", "list", "--category", "health", "-f", "json").stdout)
    assert [a["key"] for a in by_category] == ["a2"]
    drafts = json.loads(cli("activity", "list", "--status", "draft", "-f", "json").stdout)
    assert [a["key"] for a in drafts] == ["a2"]
    by_entity = json.loads(cli("activity", "list", "--entity", "Acme GmbH", "-f", "json").stdout)
    assert len(by_entity) == 2
    csv_rows = cli("activity", "list", "-f", "csv").stdout.splitlines()
    assert csv_rows[0].split(",")[:3] == ["key", "name", "description"]
    assert len(csv_rows) == 3
    table = cli("activity", "list").stdout
    assert "a1" in table and "2 activities" in table
    providers = json.loads(cli("party", "list", "--kind", "service-provider", "-f", "json").stdout)
    assert [p["key"] for p in providers] == ["mailer"]
    special = json.loads(cli("category", "list", "--special", "art9", "-f", "json").stdout)
    assert [c["key"] for c in special] == ["health"]


def test_list_with_unknown_filter_value_fails_clearly(initialised):
    add_basics(initialised)
    result = initialised("activity", "list", "--subject", "custmers")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --subject: unknown data subject category 'custmers'")
    assert "customers" in result.stderr


def test_remove_refuses_while_referenced_and_lists_the_activities(initialised, registry, db):
    cli = initialised
    add_basics(cli)
    cli("activity", "add", "a1", "--name", "One", "--controller", "acme", "--subject", "staff")
    before = dump(db)
    result = cli("subject", "remove", "staff")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: data subject category 'staff' is still used by activity a1; "
        "remove those references first\n"
    )
    assert dump(db) == before
    assert cli("activity", "remove", "a1").exit_code == 0
    assert cli("subject", "remove", "staff").exit_code == 0
    assert [s["key"] for s in registry.list("subject")] == ["customers"]


def test_show_of_reference_record_lists_its_users(initialised):
    cli = initialised
    add_basics(cli)
    cli("activity", "add", "a1", "--name", "One", "--controller", "acme", "--subject", "staff")
    assert "activity a1" in cli("subject", "show", "staff").stdout


def test_retire_keeps_the_activity_with_status_retired(initialised, registry):
    cli = initialised
    add_basics(cli)
    cli("activity", "add", "a1", "--name", "One", "--controller", "acme")
    result = cli("activity", "retire", "a1", "-m", "process stopped")
    assert result.exit_code == 0 and "retired" in result.stderr
    assert registry.get("activity", "a1")["status"] == "retired"
    assert "already retired" in cli("activity", "retire", "a1").stderr


def test_every_write_appends_one_revision_with_actor_and_message(initialised, registry, db):
    import sqlalchemy as sa

    from ropa.models import Revision

    cli = initialised
    cli("subject", "add", "s1", "--name", "S1", "-m", "new")
    cli("subject", "edit", "s1", "--description", "changed", "-m", "describe")
    cli("--actor", "alice", "subject", "remove", "s1", "-m", "gone")
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(Revision).order_by(Revision.id)).all()
    assert [(r.kind, r.key, r.version, r.action, r.actor, r.message) for r in rows] == [
        ("subject", "s1", 1, "create", "tester", "new"),
        ("subject", "s1", 2, "update", "tester", "describe"),
        ("subject", "s1", 3, "delete", "alice", "gone"),
    ]
    assert json.loads(rows[1].record) == {"key": "s1", "name": "S1", "description": "changed"}
    assert all(r.at.tzinfo is not None for r in rows)


def test_duplicate_key_and_duplicate_name_are_refused(initialised, db):
    cli = initialised
    cli("purpose", "add", "p1", "--name", "Billing")
    before = dump(db)
    again = cli("purpose", "add", "p1", "--name", "Other")
    assert again.exit_code == 1
    assert "a purpose with key 'p1' already exists" in again.stderr
    same_name = cli("purpose", "add", "p2", "--name", "BILLING")
    assert same_name.exit_code == 1
    # the name p1 has, not the one given (a helper took 'IMPERVA, INC.' for the stored name)
    assert "purpose 'p1' already has the name 'Billing'" in same_name.stderr
    assert dump(db) == before


def test_controller_must_be_a_group_member(initialised):
    cli = initialised
    add_basics(cli)
    result = cli("activity", "add", "a1", "--name", "One", "--controller", "mailer")
    assert result.exit_code == 1
    assert "'mailer' is a service-provider party, not a group-member party" in result.stderr


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--joint-controller", "acme"], "joint controllers are set but the role is controller"),
        (["--processor-for", "acme"], "processor_for is set but the role is controller"),
    ],
)
def test_role_fields_must_match_the_role(initialised, options, message):
    add_basics(initialised)
    result = initialised("activity", "add", "a1", "--name", "One", *options)
    assert result.exit_code == 1
    assert message in result.stderr


def test_processor_activity_names_its_controllers(initialised, registry):
    cli = initialised
    add_basics(cli)
    cli("party", "add", "client", "--name", "Client SA", "--kind", "other", "--country", "FR")
    result = cli(
        "activity",
        "add",
        "hosting",
        "--name",
        "Hosting for clients",
        "--role",
        "processor",
        "--controller",
        "acme",
        "--processor-for",
        "client",
    )
    assert result.exit_code == 0, result.stderr
    assert registry.get("activity", "hosting")["processor_for"] == ["client"]


def test_category_parent_cycle_is_refused(initialised):
    cli = initialised
    cli("category", "add", "a", "--name", "A")
    cli("category", "add", "b", "--name", "B", "--parent", "a")
    result = cli("category", "edit", "a", "--parent", "b")
    assert result.exit_code == 1
    assert "'a' would be its own ancestor" in result.stderr


def test_system_countries(initialised, registry):
    cli = initialised
    add_basics(cli)
    result = cli(
        "system",
        "add",
        "erp",
        "--name",
        "ERP",
        "--provider",
        "mailer",
        "--country",
        "de",
        "--country",
        "Ireland",
    )
    assert result.exit_code == 0, result.stderr
    assert registry.get("system", "erp")["countries"] == ["DE", "IE"]
    bad = cli("system", "edit", "erp", "--add-country", "INTL")
    assert bad.exit_code == 1
    assert "'INTL' is not an ISO 3166-1 country code" in bad.stderr


def test_show_unknown_key_suggests_close_keys(initialised):
    add_basics(initialised)
    result = initialised("party", "show", "acmee")
    assert result.exit_code == 1
    assert result.stderr == "error: no party 'acmee' (did you mean: acme?)\n"


def test_edit_without_changes_is_a_usage_error(initialised):
    add_basics(initialised)
    result = initialised("subject", "edit", "staff")
    assert result.exit_code == 2


def test_a_record_shown_as_json_imports_back_with_kind(initialised, sample, tmp_path):
    """`show -f json` prints one record; importing it gave a cascade of 'unknown section'."""
    shown = json.loads(initialised("activity", "show", "marketing", "-f", "json").stdout)
    shown["name"] = "Marketing, edited"
    (tmp_path / "m.json").write_text(json.dumps(shown), encoding="utf-8")
    without = initialised("import", "m.json")
    assert without.exit_code == 1
    assert without.stderr == "error: m.json: one record, not a registry document: give --kind\n"
    result = initialised("import", "m.json", "--kind", "activity")
    assert result.exit_code == 0, result.stderr
    assert sample.get("activity", "marketing")["name"] == "Marketing, edited"
