"""Fixtures: every test gets its own database (SQLite in a temp dir, or a fresh PostgreSQL
database when ROPA_TEST_DATABASE_URL is set) and runs the CLI in its own working directory."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import strategies as st
from typer.testing import CliRunner

from ropa.cli import app
from ropa.db import Database
from ropa.registry import Registry

PG_URL = os.environ.get("ROPA_TEST_DATABASE_URL")
ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample" / "registry.yaml"
#: The registry document's sections (SPEC §5), in order.
SECTIONS = [
    "parties",
    "categories",
    "subjects",
    "purposes",
    "sources",
    "measures",
    "systems",
    "activities",
]
#: The data-subject groups of the seed statement, as the sample names them.
SAMPLE_SUBJECTS = [
    "Users of our websites",
    "Users of our mobile apps",
    "Marketing targets",
    "Job candidates",
    "Office visitors",
    "Photo and recording participants",
]
#: Categories of information the seed statement names.
SAMPLE_CATEGORIES = [
    "Contact information",
    "Login information",
    "Device and usage data",
    "Location data",
    "Candidate information",
    "Photos and recordings",
]


def _admin_execute(sql: str) -> None:
    import psycopg

    from ropa.db import resolve_url

    url = resolve_url(PG_URL).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    """A database URL (or SQLite path) that no other test uses; nothing created yet."""
    if not PG_URL:
        yield str(tmp_path / "ropa.db")
        return
    name = f"ropa_test_{uuid.uuid4().hex[:12]}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    base = PG_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """An initialised, empty database."""
    database = Database.open(db_url)
    database.init()
    yield database
    database.dispose()


@pytest.fixture
def registry(db: Database) -> Registry:
    return Registry(db, actor="tester")


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run `ropa ARGS…` in-process, in tmp_path, against the test database."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ROPA_DB", db_url)
    monkeypatch.setenv("ROPA_ACTOR", "tester")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Run:
        result = runner.invoke(app, [str(a) for a in args], input=input)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Run(result.exit_code, result.stdout, result.stderr)

    return run


@pytest.fixture
def initialised(cli, db: Database):
    """The `cli` runner on an initialised database."""
    return cli


@pytest.fixture
def sample(registry: Registry) -> Registry:
    """A registry loaded with the sample registry document."""
    from ropa.io.document import read_document

    registry.import_documents([(read_document(SAMPLE), "registry.yaml")])
    return registry


def dump(db: Database) -> list:
    """Every row of every table, for before/after comparisons."""
    import sqlalchemy as sa

    from ropa.models import metadata

    rows = []
    with db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            query = sa.select(table).order_by(*table.primary_key.columns)
            rows.append((table.name, [tuple(r) for r in conn.execute(query)]))
    return rows


#: Any text, and the texts most likely to break a file format: formula starts, separators,
#: quotes, YAML's special words, markup, Excel's own escapes.
ANY_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=60
) | st.sampled_from(
    [
        "=1+1",
        "+49 30 1234",
        "-5",
        "@SUM(A1)",
        "'=x",
        "''",
        "a;b;c",
        "line\nline",
        "\tindent",
        "'quoted'",
        '"dq", and, commas',
        "yes",
        "no",
        "null",
        "~",
        "TRUE",
        "2024-01-01",
        "0123",
        "1e3",
        "  spaced  ",
        "<b>&amp;</b>",
        "Excel's own escape: _x0041_",
    ]
)
