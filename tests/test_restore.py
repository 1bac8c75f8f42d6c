"""Restore (SPEC §6a): a stored version shown, a record written back to a version, the whole
register brought back to a moment; `--as-of` takes a date-time as well as a date."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.conftest import SAMPLE, dump


@pytest.fixture
def clock(monkeypatch):
    """Set the time stamped on changes: clock("2026-01-02T10:00:00")."""

    def set_time(text: str) -> None:
        moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
        monkeypatch.setattr("ropa.history.utcnow", lambda: moment)

    return set_time


def test_history_version_prints_the_stored_record(initialised, clock):
    cli = initialised
    clock("2026-01-02T10:00:00")
    cli("purpose", "add", "ads", "--name", "Ads", "--description", "First words")
    clock("2026-01-03T10:00:00")
    cli("purpose", "edit", "ads", "--description", "Second words")
    shown = cli("history", "ads", "--kind", "purpose", "--version", "1")
    assert shown.exit_code == 0, shown.stderr
    assert shown.stdout == "key: ads\nname: Ads\ndescription: First words\n"
    as_json = cli("history", "ads", "--version", "2", "--format", "json")
    assert json.loads(as_json.stdout) == {
        "key": "ads",
        "name": "Ads",
        "description": "Second words",
    }
    missing = cli("history", "ads", "--kind", "purpose", "--version", "7")
    assert missing.exit_code == 1
    assert missing.stderr == "error: purpose 'ads' has no version 7; its versions are 1, 2\n"


def test_restore_of_version_1_makes_show_equal_to_it_and_adds_one_revision(
    initialised, registry, clock
):
    cli = initialised
    clock("2026-01-02T10:00:00")
    cli("import", SAMPLE)
    version_1 = cli("activity", "show", "marketing", "-f", "json").stdout
    clock("2026-01-03T10:00:00")
    cli("activity", "edit", "marketing", "--owner", "someone", "--remove-basis", "consent")
    cli("activity", "edit", "marketing", "--name", "Renamed")
    revisions = len(registry.history())
    result = cli("restore", "activity", "marketing", "--version", "1")
    assert result.exit_code == 0, result.stderr
    assert "restored activity marketing to version 1 (now version 4)" in result.stderr
    assert len(registry.history()) == revisions + 1
    now = json.loads(cli("activity", "show", "marketing", "-f", "json").stdout)
    then = json.loads(version_1)
    for meta in ("version", "created_at", "updated_at"):
        now.pop(meta, None), then.pop(meta, None)
    assert now == then


def test_restore_brings_a_deleted_record_back(initialised, registry):
    cli = initialised
    cli("purpose", "add", "ads", "--name", "Ads")
    cli("purpose", "remove", "ads")
    result = cli("restore", "purpose", "ads", "--version", "1")
    assert result.exit_code == 0, result.stderr
    assert registry.get("purpose", "ads")["name"] == "Ads"


def test_restore_checks_references_as_any_edit(initialised, db):
    cli = initialised
    cli("party", "add", "acme", "--name", "Acme", "--kind", "service-provider")
    cli("party", "edit", "acme", "--kind", "group-member")
    cli("purpose", "add", "p", "--name", "P")
    cli("activity", "add", "a1", "--name", "A1", "--controller", "acme", "--purpose", "p")
    from tests.conftest import dump

    before = dump(db)
    result = cli("restore", "party", "acme", "--version", "1")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: party acme: would make activity 'a1' invalid: ")
    assert dump(db) == before


def test_restore_as_of_makes_the_register_what_export_as_of_shows(initialised, clock, db):
    cli = initialised
    clock("2026-01-02T10:00:00")
    cli("import", SAMPLE)
    clock("2026-01-02T12:00:00")
    cli("activity", "edit", "marketing", "--owner", "someone")
    cli("purpose", "add", "ads", "--name", "Ads")
    clock("2026-01-03T09:00:00")
    cli("activity", "remove", "recruiting")
    cli("party", "edit", "imperva-inc", "--email", "new@imperva.example")
    clock("2026-01-04T09:00:00")
    expected = cli("export", "yaml", "--as-of", "2026-01-02T11:00:00", "-o", "-").stdout
    dry = cli("restore", "--as-of", "2026-01-02T11:00:00", "--dry-run", "--report", "json")
    assert dry.exit_code == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert report["created"] == [{"kind": "activity", "key": "recruiting"}]
    assert report["removed"] == [{"kind": "purpose", "key": "ads"}]
    assert sorted(u["key"] for u in report["updated"]) == ["imperva-inc", "marketing"]
    assert cli("export", "yaml", "-o", "-").stdout != expected
    result = cli("restore", "--as-of", "2026-01-02T11:00:00")
    assert result.exit_code == 0, result.stderr
    assert cli("export", "yaml", "-o", "-").stdout == expected
    # and the restore is itself undone by restoring the moment before it
    again = cli("restore", "--as-of", "2026-01-03")
    assert again.exit_code == 0, again.stderr
    undone = cli("export", "yaml", "--as-of", "2026-01-03", "-o", "-").stdout
    assert cli("export", "yaml", "-o", "-").stdout == undone != expected


def test_as_of_takes_a_date_time_and_refuses_other_text(initialised, clock):
    cli = initialised
    clock("2026-01-02T10:00:00")
    cli("purpose", "add", "early", "--name", "Early")
    clock("2026-01-02T15:00:00")
    cli("purpose", "add", "late", "--name", "Late")
    clock("2026-01-05T00:00:00")
    morning = cli("export", "yaml", "--as-of", "2026-01-02T12:00", "-o", "-").stdout
    assert "early" in morning and "late" not in morning
    day = cli("export", "yaml", "--as-of", "2026-01-02", "-o", "-").stdout
    assert "early" in day and "late" in day
    bad = cli("export", "yaml", "--as-of", "yesterday", "-o", "-")
    assert bad.exit_code == 2
    assert bad.stderr.startswith("error: --as-of: 'yesterday' is not an ISO date (YYYY-MM-DD)")


def test_a_restore_that_deletes_many_records_asks_first_on_a_terminal(
    initialised, clock, db, monkeypatch
):
    cli = initialised
    clock("2026-01-02T10:00:00")
    cli("purpose", "add", "kept", "--name", "Kept")
    clock("2026-01-02T12:00:00")
    for n in range(6):
        cli("purpose", "add", f"later-{n}", "--name", f"Later {n}")
    clock("2026-01-03T09:00:00")
    monkeypatch.setattr("ropa.cli.files.on_terminal", lambda: True)
    before = dump(db)
    declined = cli("restore", "--as-of", "2026-01-02T11:00:00", input="n\n")
    assert declined.exit_code == 1
    assert "delete these 6 records?" in declined.stderr
    assert dump(db) == before
    accepted = cli("restore", "--as-of", "2026-01-02T11:00:00", input="y\n")
    assert accepted.exit_code == 0, accepted.stderr
    assert "later-0" not in cli("purpose", "list", "-f", "csv").stdout


def test_options_of_a_whole_restore_are_refused_for_one_record(initialised, registry):
    """`--report json` with KIND KEY --version N was silently ignored."""
    registry.import_documents([({"purposes": [{"key": "p1", "name": "One"}]}, "doc")])
    for extra, named in ((["--report", "json"], "--report"), (["--dry-run"], "--dry-run")):
        result = initialised("restore", "purpose", "p1", "--version", "1", *extra)
        assert result.exit_code == 2, result.stderr
        assert f"{named} is for --as-of" in result.stderr
