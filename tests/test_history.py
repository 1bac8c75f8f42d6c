"""History: the revision log, diffs between dates, exports as of a date, and writes that never
lose an update or half-apply."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

import ropa.history
from tests.conftest import PG_URL, ROOT, SAMPLE, dump


@pytest.fixture
def clock(monkeypatch):
    """Set the time ropa stamps on changes: clock("2026-01-10 09:00")."""

    def set_time(text: str) -> None:
        moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
        monkeypatch.setattr(ropa.history, "utcnow", lambda: moment)

    return set_time


def test_exports_as_of_a_date_equal_the_exports_made_that_day(
    initialised, registry, clock, tmp_path
):
    cli = initialised
    exported = {}

    clock("2026-01-10 09:00")
    assert cli("import", SAMPLE, "-m", "first load").exit_code == 0
    cli("export", "yaml", "-o", "day1.yaml")
    exported["2026-01-10"] = (tmp_path / "day1.yaml").read_bytes()

    clock("2026-02-15 14:30")
    cli("activity", "edit", "marketing", "--owner", "CMO", "--add-subject", "website-users")
    cli("party", "edit", "imperva-inc", "--dpo-name", "Jane Roe", "--dpo-email", "dpo@imperva.com")
    cli("export", "yaml", "-o", "day2.yaml")
    exported["2026-02-15"] = (tmp_path / "day2.yaml").read_bytes()

    clock("2026-03-20 08:00")
    cli("activity", "retire", "recruiting")
    cli("activity", "remove", "change-of-ownership")
    cli("purpose", "remove", "change-of-ownership")
    cli("subject", "add", "children", "--name", "Children", "--vulnerable")
    cli("export", "yaml", "-o", "day3.yaml")
    exported["2026-03-20"] = (tmp_path / "day3.yaml").read_bytes()
    assert len(set(exported.values())) == 3

    clock("2026-11-29 12:00")
    for day, expected in [
        *exported.items(),
        ("2026-02-01", exported["2026-01-10"]),
        ("2026-11-28", exported["2026-03-20"]),
    ]:
        result = cli("export", "yaml", "--as-of", day, "-o", f"asof-{day}.yaml")
        assert result.exit_code == 0, result.stderr
        assert (tmp_path / f"asof-{day}.yaml").read_bytes() == expected, day
    empty = cli("export", "json", "--as-of", "2026-01-09", "-o", "-").stdout
    assert json.loads(empty)["activities"] == []

    cli("export", "xlsx", "--as-of", "2026-02-15", "-o", "feb.xlsx")
    cover = {r[0].value: r[1].value for r in load_workbook("feb.xlsx")["Cover"].iter_rows(3)}
    assert cover["As of"] == "2026-02-15"
    assert cover["Data protection officer"] == "Jane Roe\ndpo@imperva.com"
    controller = load_workbook("feb.xlsx")["Controller record"]
    assert "change-of-ownership" in [r[0].value for r in controller.iter_rows(3)]

    check = json.loads(cli("check", "--as-of", "2026-02-15", "-f", "json").stdout)
    assert "R18" not in {f["rule"] for f in check["findings"]}  # the DPO was recorded then
    assert "Children" not in cli("notice", "--as-of", "2026-02-15").stdout
    assert cli("export", "yaml", "--as-of", "2099-01-01").exit_code == 2  # a bad option


def test_diff_lists_exactly_the_changed_fields(initialised, registry, clock):
    cli = initialised
    clock("2026-01-10 09:00")
    cli("import", SAMPLE)
    clock("2026-02-15 14:30")
    cli("activity", "edit", "marketing", "--owner", "CMO", "--add-subject", "website-users")
    cli("activity", "retire", "recruiting")
    cli("subject", "add", "children", "--name", "Children")
    clock("2026-04-01 10:00")
    cli("activity", "edit", "website-security", "--owner", "CISO")

    result = cli("diff", "--since", "2026-02-01", "--until", "2026-02-28", "-f", "json")
    assert result.exit_code == 0, result.stderr
    changes = json.loads(result.stdout)
    assert changes["added"] == [{"kind": "subject", "key": "children", "name": "Children"}]
    assert changes["removed"] == []
    assert changes["retired"] == [
        {"kind": "activity", "key": "recruiting", "name": "Recruiting talent"}
    ]
    (marketing,) = changes["changed"]
    assert marketing["key"] == "marketing"
    assert marketing["fields"] == {
        "owner": {"before": "privacy@imperva.com", "after": "CMO"},
        "data_subjects": {
            "before": ["marketing-targets"],
            "after": ["marketing-targets", "website-users"],
        },
    }
    markdown = cli(
        "diff", "--since", "2026-02-01", "--until", "2026-02-28", "-f", "markdown"
    ).stdout
    assert markdown.startswith("# Changes to the register, 2026-02-01 to 2026-02-28")
    assert '- **owner**: `"privacy@imperva.com"` → `"CMO"`' in markdown
    table = cli("diff", "--since", "2026-03-01").stdout
    assert "website-security" in table and "marketing" not in table
    assert cli("diff", "--since", "2026-03-01", "--until", "2026-01-01").exit_code == 2


def test_history_and_diff_take_a_date_time_for_since_and_until(initialised, registry, clock):
    """SPEC §4: WHEN is an ISO date or an ISO date-time; --since and --until of history and
    diff refused a date-time ('is not an ISO date (YYYY-MM-DD)')."""
    cli = initialised
    clock("2026-03-02 09:00")
    cli("subject", "add", "early", "--name", "Early")
    clock("2026-03-02 11:30")
    cli("subject", "add", "late", "--name", "Late")
    clock("2026-03-02 15:00")
    cli("subject", "edit", "late", "--description", "afternoon")
    keys = lambda result: [r["key"] for r in json.loads(result.stdout)]  # noqa: E731
    since = cli("history", "--since", "2026-03-02T10:00", "-f", "json")
    assert since.exit_code == 0, since.stderr
    assert keys(since) == ["late", "late"]
    until = cli("history", "--until", "2026-03-02T11:30:00Z", "-f", "json")
    assert keys(until) == ["early", "late"]
    both = cli("history", "--since", "2026-03-02 10:00+01:00", "--until", "2026-03-02T12:00")
    assert both.exit_code == 0 and "subject early" in both.stdout and "late" in both.stdout
    for wrong in ("+0160", "+01:60", "-0099", "+2400"):  # not an offset: refused, not shifted
        assert cli("history", "--since", f"2026-03-02T10:00{wrong}").exit_code == 2
    for zone in ("+0100", "+01"):  # ISO 8601's other spellings of the offset
        same = cli("history", "--since", f"2026-03-02T10:00{zone}", "--until", "2026-03-02T12:00")
        assert same.stdout == both.stdout
    changes = cli(
        "diff", "--since", "2026-03-02T10:00", "--until", "2026-03-02T12:00", "-f", "json"
    )
    assert changes.exit_code == 0, changes.stderr
    assert json.loads(changes.stdout)["added"] == [
        {"kind": "subject", "key": "late", "name": "Late"}
    ]
    assert json.loads(changes.stdout)["since"] == "2026-03-02T10:00:00+00:00"
    backwards = cli("diff", "--since", "2026-03-02T12:00", "--until", "2026-03-02T10:00")
    assert backwards.exit_code == 2
    assert backwards.stderr == (
        "error: --until 2026-03-02T10:00 is before --since 2026-03-02T12:00\n"
    )
    later_that_day = cli("diff", "--since", "2026-03-02T12:00", "--until", "2026-03-02")
    assert later_that_day.exit_code == 0, later_that_day.stderr
    assert (
        json.loads(
            cli("diff", "--since", "2026-03-02T12:00", "--until", "2026-03-02", "-f", "json").stdout
        )["changed"][0]["key"]
        == "late"
    )


def test_history_lines_and_filters(initialised, registry, clock):
    cli = initialised
    clock("2026-01-10 09:00")
    cli("purpose", "add", "p1", "--name", "One", "-m", "new purpose")
    clock("2026-02-15 14:30")
    cli(
        "--actor",
        "alice",
        "purpose",
        "edit",
        "p1",
        "--name",
        "Uno",
        "--description",
        "first",
        "-m",
        "rename",
    )
    cli("subject", "add", "s1", "--name", "S")
    rows = json.loads(cli("history", "p1", "-f", "json").stdout)
    assert [(r["action"], r["version"], r["actor"], r["message"], r["changed"]) for r in rows] == [
        ("create", 1, "tester", "new purpose", []),
        ("update", 2, "alice", "rename", ["name", "description"]),
    ]
    assert rows[1]["at"] == "2026-02-15T14:30:00+00:00"
    kinds = json.loads(cli("history", "--kind", "subject", "-f", "json").stdout)
    assert [r["key"] for r in kinds] == ["s1"]
    since = json.loads(cli("history", "--since", "2026-02-01", "-f", "json").stdout)
    assert [r["key"] for r in since] == ["p1", "s1"]
    until = json.loads(cli("history", "--until", "2026-01-31", "-f", "json").stdout)
    assert [r["version"] for r in until] == [1]
    by = json.loads(cli("history", "--actor", "alice", "-f", "json").stdout)
    assert [r["action"] for r in by] == ["update"]
    table = cli("history").stdout
    assert "3 revisions" in table and "name, description" in table
    assert cli("history", "--since", "yesterday").stderr == (
        "error: --since: 'yesterday' is not an ISO date (YYYY-MM-DD) or date-time "
        "(YYYY-MM-DDTHH:MM[:SS], UTC unless a zone is given)\n"
    )


def test_replace_and_remove_are_recorded_as_deletions_with_the_final_record(
    initialised, registry, db
):
    import sqlalchemy as sa

    from ropa.models import Revision

    registry.import_documents(
        [({"purposes": [{"key": "p1", "name": "One"}, {"key": "p2", "name": "Two"}]}, "doc")]
    )
    registry.remove("purpose", "p1", "gone")
    registry.import_documents(
        [({"purposes": [{"key": "p3", "name": "Three"}]}, "doc")], replace=True
    )
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(Revision).order_by(Revision.id)).all()
    deletes = [(r.key, r.version, json.loads(r.record)) for r in rows if r.action == "delete"]
    assert deletes == [
        ("p1", 2, {"key": "p1", "name": "One"}),
        ("p2", 2, {"key": "p2", "name": "Two"}),
    ]
    assert len(rows) == 5  # nothing was rewritten: 3 creates, 2 deletes


def test_a_record_made_again_after_its_deletion_goes_on_counting_versions(initialised, registry):
    """Version numbers name one state of a record for good: a key removed and added again
    (by hand, by an import or by a restore) started again at 1, so `--version 1` named two
    states and a review pack made before the removal passed as fresh."""
    from ropa.planning import Edit

    registry.import_documents([({"purposes": [{"key": "p1", "name": "One"}]}, "doc")])
    registry.edit("purpose", "p1", Edit(set={"name": "One bis"}))
    registry.remove("purpose", "p1", "gone")
    registry.import_documents([({"purposes": [{"key": "p1", "name": "Again"}]}, "doc")])
    assert registry.get("purpose", "p1")["version"] == 4
    assert [r.version for r in registry.history(key="p1")] == [1, 2, 3, 4]
    assert initialised("purpose", "remove", "p1").exit_code == 0
    restored = initialised("restore", "purpose", "p1", "--version", "2")
    assert restored.exit_code == 0, restored.stderr
    assert "now version 6" in restored.stderr
    assert registry.get("purpose", "p1")["name"] == "One bis"


WRITER = """
import sys
from ropa.db import Database
from ropa.registry import Edit, Registry
url, worker, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
registry = Registry(Database.open(url), actor=f"worker-{worker}")
for i in range(count):
    if i % 2 == 0:
        edit = Edit(add={"data_subjects": [f"s-{worker}-{i}"]})
    else:
        edit = Edit(set={"description": f"worker {worker} edit {i}"})
    registry.edit("activity", "shared", edit, message=f"{worker}/{i}")
"""


def _spawn(code: str, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_four_processes_editing_one_activity_lose_nothing(db_url, registry):
    workers, count = 4, 100
    subjects = [
        {"key": f"s-{w}-{i}", "name": f"S {w} {i}"}
        for w in range(workers)
        for i in range(0, count, 2)
    ]
    registry.import_documents(
        [({"subjects": subjects, "activities": [{"key": "shared", "name": "Shared"}]}, "doc")]
    )
    processes = [_spawn(WRITER, db_url, str(w), str(count)) for w in range(workers)]
    for process in processes:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
        assert "locked" not in err
    record = registry.get("activity", "shared")
    assert len(record["data_subjects"]) == workers * count // 2
    assert record["version"] == 1 + workers * count
    edits = [r for r in registry.history("shared") if r.action == "update"]
    assert len(edits) == workers * count
    assert sorted(r.version for r in edits) == list(range(2, 2 + workers * count))


BUSY_WRITER = """
import sys
from ropa.db import Database
from ropa.registry import Edit, Registry
registry = Registry(Database.open(sys.argv[1]), actor="busy")
for i in range(int(sys.argv[2])):
    registry.edit("activity", "shared", Edit(set={"description": f"edit {i}"}))
"""


@pytest.mark.skipif(bool(PG_URL), reason="`ropa db backup` copies SQLite databases")
def test_backup_while_another_process_writes_is_consistent(db_url, registry, initialised, tmp_path):
    registry.add("activity", {"key": "shared", "name": "Shared"})
    writer = _spawn(BUSY_WRITER, db_url, "300")
    copies = []
    for i in range(3):
        time.sleep(0.3)
        result = initialised("db", "backup", f"copy{i}.db")
        assert result.exit_code == 0, result.stderr
        copies.append(tmp_path / f"copy{i}.db")
    _, err = writer.communicate(timeout=300)
    assert writer.returncode == 0, err
    for copy in copies:
        with sqlite3.connect(copy) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            version = conn.execute("SELECT version FROM activities").fetchone()[0]
            revisions = conn.execute(
                "SELECT count(*) FROM revisions WHERE key = 'shared'"
            ).fetchone()[0]
            assert version == revisions  # the record and its history from one moment


def _big_import(path: Path, records: int) -> None:
    lines = ["ropa: 1", "purposes:"]
    lines += [
        f"  - {{key: p{i:06d}, name: Purpose {i}, description: 'text {i}'}}" for i in range(records)
    ]
    lines += ["activities:"]
    lines += [
        f"  - {{key: a{i:06d}, name: Activity {i}, purposes: [p{i:06d}]}}" for i in range(records)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_in_progress(db_url: str) -> bool:
    if not PG_URL:
        wal = Path(db_url + "-wal")
        return wal.exists() and wal.stat().st_size > 4_000_000
    import psycopg

    from ropa.db import _WRITE_LOCK_ID, resolve_url

    url = resolve_url(db_url).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        held = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND granted",
            (_WRITE_LOCK_ID,),
        ).fetchone()[0]
    return held > 0


def test_an_import_killed_midway_leaves_the_database_as_it_was(db_url, db, registry, tmp_path):
    registry.import_documents([({"purposes": [{"key": "keep", "name": "Keep me"}]}, "doc")])
    db.dispose()
    before = dump(db)
    big = tmp_path / "big.yaml"
    _big_import(big, 30_000)
    env = dict(os.environ, PYTHONPATH=str(ROOT), ROPA_DB=db_url)
    process = subprocess.Popen(
        [sys.executable, "-m", "ropa", "import", str(big)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while not _write_in_progress(db_url):
        assert process.poll() is None, "the import finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    if PG_URL:
        time.sleep(1.0)  # well into the transaction
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    db.dispose()
    assert dump(db) == before
    assert [p["key"] for p in registry.list("purpose")] == ["keep"]


@pytest.mark.parametrize(
    "statement", ["UPDATE revisions SET actor = 'mallory'", "DELETE FROM revisions"]
)
def test_the_database_refuses_to_change_a_revision(registry, db, statement):
    import sqlalchemy as sa

    registry.add("purpose", {"key": "p1", "name": "One"})
    with (
        pytest.raises(sa.exc.DBAPIError, match="revisions are append-only"),
        db.engine.begin() as conn,
    ):
        conn.execute(sa.text(statement))
    assert [r.actor for r in registry.history()] == ["tester"]


def test_a_moment_given_to_the_second_covers_that_second(initialised, registry, clock):
    """History shows a revision's time to the second; `--as-of` (or `--until`) at that second
    left out the revision made 0.7 s into it."""
    cli = initialised
    clock("2026-03-02 09:00:49.700000")
    cli("subject", "add", "s", "--name", "S")
    shown = json.loads(cli("history", "-f", "json").stdout)[0]
    second = "2026-03-02T09:00:49"
    assert shown["at"].startswith(second.replace("T", " ")) or shown["at"].startswith(second)
    as_of = json.loads(cli("export", "json", "--as-of", second, "-o", "-").stdout)
    assert [s["key"] for s in as_of["subjects"]] == ["s"]
    until = cli("history", "--until", second, "-f", "json")
    assert [r["key"] for r in json.loads(until.stdout)] == ["s"]
    before = json.loads(cli("export", "json", "--as-of", "2026-03-02T09:00:48", "-o", "-").stdout)
    assert before.get("subjects", []) == []


def test_an_as_of_in_the_future_is_a_bad_option(initialised, sample):
    # It exited 1, as a failure of the command; the other bad options exit 2.
    for command in (("export", "yaml", "-o", "-"), ("export", "xlsx"), ("notice",)):
        result = initialised(*command, "--as-of", "2999-01-01")
        assert result.exit_code == 2, command
        assert result.stderr.endswith("--as-of 2999-01-01 is in the future\n")
