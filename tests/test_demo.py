"""`ropa demo` on a fresh machine, and the sample registry against the seed statement."""

from __future__ import annotations

from tests.conftest import SAMPLE, SAMPLE_CATEGORIES, SAMPLE_SUBJECTS


def test_demo_creates_the_database_and_writes_the_exports(cli, tmp_path):
    result = cli("demo")
    assert result.exit_code == 0, result.stderr
    assert "wrote exports/registry.yaml" in result.stdout
    assert "wrote exports/check-report.txt" in result.stdout
    assert "wrote exports/ropa-record.xlsx" in result.stdout
    assert "wrote exports/ropa-record.html" in result.stdout
    from openpyxl import load_workbook

    book = load_workbook(tmp_path / "exports" / "ropa-record.xlsx")
    assert book["Controller record"].max_row == 2 + 14
    report = (tmp_path / "exports" / "check-report.txt").read_text(encoding="utf-8")
    assert "R17 warning review overdue since 2022-03-10" in report
    assert report.splitlines()[-1] == "0 errors, 15 warnings in 14 activities and 1 other record"
    exported = (tmp_path / "exports" / "registry.yaml").read_text(encoding="utf-8")
    assert exported.startswith("ropa: 1\n")
    assert exported.count("\n- key: ") >= 75 - 8  # one line per record, minus section starts
    listed = cli("activity", "list", "-f", "json").stdout
    import json

    assert len(json.loads(listed)) >= 14


def test_demo_twice_changes_nothing_the_second_time(cli):
    assert cli("demo").exit_code == 0
    second = cli("demo", "--out", "again")
    assert second.exit_code == 0
    assert "0 created, 0 updated, 75 unchanged" in second.stderr
    assert "wrote again/registry.yaml" in second.stdout


def test_sample_encodes_the_seed_statement(sample):
    doc = sample.document()
    subjects = {s["name"] for s in doc["subjects"]}
    assert subjects == set(SAMPLE_SUBJECTS)
    categories = {c["name"] for c in doc["categories"]}
    assert set(SAMPLE_CATEGORIES) <= categories
    purposes = {p["key"] for p in doc["purposes"]}
    assert {
        "operate-websites",
        "provide-solutions",
        "marketing",
        "information-security",
        "recruiting",
        "facilitate-visits",
        "premises-security",
        "procurement-partnerships",
        "legal-matters",
    } <= purposes
    kinds = {p["kind"] for p in doc["parties"]}
    assert {
        "group-member",
        "service-provider",
        "business-partner",
        "public-authority",
        "acquirer",
    } <= kinds
    activities = {a["key"]: a for a in doc["activities"]}
    assert len(activities) >= 14
    assert activities["recruiting"]["lawful_bases"] == [
        "consent",
        "contract",
        "legitimate-interests",
    ]
    assert activities["marketing"]["lawful_bases"] == ["consent", "legitimate-interests"]
    assert activities["website-security"]["lawful_bases"] == ["legitimate-interests"]
    transfer = activities["website-operation"]["transfers"][0]
    assert (transfer["country"], transfer["mechanism"]) == ("US", "scc")
    controller = next(p for p in doc["parties"] if p["key"] == "imperva-inc")
    assert controller["email"] == "privacy@imperva.com"
    assert "San Mateo" in controller["address"]
    assert all(a.get("retention") for a in activities.values())
    assert {m["kind"] for m in doc["measures"]} == {"technical", "organisational", "physical"}


def test_sample_file_is_valid_yaml_with_a_header_comment():
    assert SAMPLE.read_text(encoding="utf-8").startswith("# Sample registry")
