"""The database layer: creation, pragmas, migrations, info, backup, concurrent writers."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys

import pytest

from ropa.db import HEAD_REVISION, MIGRATIONS, Database, mask_url, resolve_url
from tests.conftest import PG_URL, ROOT, SAMPLE

sqlite_only = pytest.mark.skipif(bool(PG_URL), reason="checks the SQLite file itself")
postgres_only = pytest.mark.skipif(not PG_URL, reason="needs ROPA_TEST_DATABASE_URL")


def test_default_database_is_data_ropa_db_under_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ROPA_DB", raising=False)
    assert resolve_url() == f"sqlite:///{tmp_path}/data/ropa.db"
    monkeypatch.setenv("ROPA_DB", "other.db")
    assert resolve_url() == f"sqlite:///{tmp_path}/other.db"
    assert resolve_url("x.db") == f"sqlite:///{tmp_path}/x.db"  # --db wins over ROPA_DB
    assert resolve_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"


def test_password_is_masked():
    assert mask_url("postgresql+psycopg://alice:s3cret@db:5432/ropa") == (
        "postgresql+psycopg://alice:***@db:5432/ropa"
    )


def test_init_creates_a_private_sqlite_file_with_wal_and_foreign_keys(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from typer.testing import CliRunner

    from ropa.cli import app

    monkeypatch.delenv("ROPA_DB", raising=False)
    result = CliRunner().invoke(app, ["init"])
    assert result.exit_code == 0, result.stderr
    path = tmp_path / "data" / "ropa.db"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    db = Database.open(str(path))
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 30000
    db.dispose()


def test_init_refuses_an_existing_database_unless_forced(initialised, registry):
    registry.add("purpose", {"key": "p1", "name": "P"})
    again = initialised("init")
    assert again.exit_code == 1
    assert "a database already exists" in again.stderr and "ropa init --force" in again.stderr
    assert registry.get("purpose", "p1")
    assert initialised("init", "--force", "--yes").exit_code == 0
    registry.db.dispose()  # its pooled connection still holds the old SQLite file open
    assert registry.list("purpose") == []


def test_command_on_missing_database_says_to_run_init(cli):
    result = cli("activity", "list")
    if PG_URL:  # an empty PostgreSQL database
        assert result.stderr.startswith("error: ") and "ropa init" in result.stderr
    else:
        assert (
            result.stderr == f"error: no database at {os.environ['ROPA_DB']}; "
            "run `ropa init` first\n"
        )
    assert result.exit_code == 1


def test_out_of_date_database_asks_for_upgrade_and_upgrade_fixes_it(initialised, db):
    db.downgrade("base")
    result = initialised("activity", "list")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: the database schema is at revision none, this ropa needs {HEAD_REVISION}; "
        "run `ropa db upgrade`\n"
    )
    upgraded = initialised("db", "upgrade")
    assert upgraded.exit_code == 0
    assert f"to {HEAD_REVISION}" in upgraded.stderr
    assert initialised("activity", "list").exit_code == 0
    assert "already at schema" in initialised("db", "upgrade").stderr


def test_head_revision_constant_matches_the_migrations():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


@pytest.mark.filterwarnings("ignore:autogenerate skipping", "ignore:Skipped unsupported reflection")
def test_migrations_build_exactly_the_models(db):
    """The schema the migrations create is the one the models describe."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from ropa.models import metadata

    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    diff = [d for d in diff if not (isinstance(d, tuple) and "uq_" in str(d))]
    assert diff == []


def test_db_info_shows_counts_and_revision(initialised, sample):
    result = initialised("db", "info")
    assert result.exit_code == 0
    assert HEAD_REVISION in result.stdout
    assert "activities" in result.stdout and "14" in result.stdout
    import json

    details = json.loads(initialised("db", "info", "--format", "json").stdout)
    assert details["counts"]["activities"] == 14
    assert details["counts"]["revisions"] == 75


@postgres_only
def test_db_info_never_prints_the_password(db_url, monkeypatch, initialised):
    with_password = db_url.replace("postgres@", "postgres:s3cret-pw@", 1)
    assert "s3cret-pw" in with_password
    result = initialised("--db", with_password, "db", "info")
    assert result.exit_code == 0, result.stderr
    assert "s3cret-pw" not in result.stdout + result.stderr
    assert "***" in result.stdout


@sqlite_only
def test_backup_writes_a_consistent_copy(initialised, sample, tmp_path):
    result = initialised("db", "backup", "copy.db")
    assert result.exit_code == 0, result.stderr
    copy = tmp_path / "copy.db"
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    with sqlite3.connect(copy) as conn:
        assert conn.execute("SELECT count(*) FROM activities").fetchone()[0] == 14
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    again = initialised("db", "backup", "copy.db")
    assert again.exit_code == 1 and "already exists" in again.stderr


@postgres_only
def test_backup_of_postgresql_points_to_pg_dump(initialised):
    result = initialised("db", "backup", "copy.db")
    assert result.exit_code == 1
    assert "pg_dump" in result.stderr


WRITER = """
import sys
from ropa.db import Database
from ropa.registry import Edit, Registry
url, worker, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
registry = Registry(Database.open(url), actor=f"worker-{worker}")
for i in range(count):
    key = f"s-{worker}-{i}"
    registry.add("subject", {"key": key, "name": f"Subject {worker} {i}"})
    registry.edit("activity", "shared", Edit(add={"data_subjects": [key]}))
"""


def test_concurrent_writers_lose_no_update(db_url, db, registry):
    """Two processes adding subjects to the same activity at once: every change lands."""
    registry.add("activity", {"key": "shared", "name": "Shared"})
    count = 25
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, db_url, str(w), str(count)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(2)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
    record = registry.get("activity", "shared")
    assert len(record["data_subjects"]) == 2 * count
    assert record["version"] == 1 + 2 * count


def test_sample_loads_on_this_backend(registry):
    from ropa.io.document import read_document

    report = registry.import_documents([(read_document(SAMPLE), "sample")])
    assert report.created["activity"] == 14
    assert report.unchanged["activity"] == 0


def test_upgrade_from_the_first_revision_keeps_the_data(initialised, sample, db):
    before = sample.document()
    db.downgrade("0001")
    db.dispose()
    result = initialised("activity", "list")
    assert result.exit_code == 1
    assert "at revision 0001" in result.stderr and "ropa db upgrade" in result.stderr
    assert initialised("db", "upgrade").exit_code == 0
    after = sample.document()
    for purpose in before["purposes"]:
        purpose.pop("systematic_monitoring", None)  # added by 0002, false after the upgrade
        purpose.pop("direct_marketing", None)  # added by 0004, false after the upgrade
    assert after == before


def test_a_database_other_than_sqlite_or_postgresql_is_refused_by_name(cli):
    result = cli("--db", "mysql://root:pw@localhost/ropa", "db", "info")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: cannot use database mysql://root:***@localhost/ropa: ropa works with SQLite (a "
        "file path) and PostgreSQL (postgresql://…), not mysql\n"
    )


def test_a_read_sees_one_state_of_the_register_while_others_write(sample):
    """A read is one snapshot on both backends: the record's rows, counts and fingerprint
    check agree. PostgreSQL read at READ COMMITTED, so a statement saw what an import
    committed meanwhile, and a workbook's fingerprint could be of another state."""
    from ropa import store
    from ropa.history import latest_revision
    from ropa.planning import Edit
    from ropa.schema import ACTIVITY

    with sample.db.read() as conn:
        count, revision = store.count_records(conn, ACTIVITY), latest_revision(conn)
        sample.edit("activity", "marketing", Edit(set={"description": "Changed meanwhile"}))
        assert latest_revision(conn) == revision
        assert store.count_records(conn, ACTIVITY) == count
        assert store.read_records(conn, ACTIVITY, ["marketing"])["marketing"]["description"] != (
            "Changed meanwhile"
        )
    assert sample.get("activity", "marketing")["description"] == "Changed meanwhile"


def test_a_sqlite_url_is_read_in_any_case_and_refuses_options(tmp_path):
    from ropa.errors import RopaError

    path = tmp_path / "r.db"
    assert Database.open(f"SQLITE:///{path}").path == path
    with pytest.raises(RopaError, match=r"give its path without \?options"):
        Database.open(f"sqlite:///{path}?mode=ro")


def test_a_write_that_waits_too_long_for_another_says_so(initialised, sample, db, monkeypatch):
    """A write waiting on a long import failed after 60 s with a raw "database is locked"."""
    if db.path is None:
        pytest.skip("SQLite: PostgreSQL writers wait for each other as long as it takes")
    import ropa.db
    from ropa.errors import DatabaseError
    from ropa.registry import Edit, Registry

    monkeypatch.setattr(ropa.db, "BUSY_TIMEOUT_S", 0.2)
    other = sqlite3.connect(db.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another command's write, under way
    waiting = Database.open(str(db.path))
    try:
        with pytest.raises(DatabaseError) as e:
            Registry(waiting).edit("purpose", "marketing", Edit(set={"description": "x"}))
    finally:
        other.execute("ROLLBACK")
        other.close()
        waiting.dispose()
    assert str(e.value) == (
        f"another command has been writing to {db.path} for 0.2 s (an import?) and still is; "
        "nothing was changed: run this again when it has finished"
    )
