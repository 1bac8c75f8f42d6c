"""Start-up: a command on an existing database loads only what it uses."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

#: Modules that reading a few records needs none of: the ORM layers over SQLAlchemy Core,
#: the migrations (the schema check is one query) and the spreadsheet writers.
NOT_FOR_READING = ("sqlmodel", "sqlalchemy.orm", "alembic", "openpyxl", "xlsxwriter")


def _imported_by(db_url: str, *arguments: str) -> tuple[str, list[str]]:
    code = (
        "import sys\n"
        "from ropa.cli import main\n"
        f"sys.argv = ['ropa', '--db', {db_url!r}, *{list(arguments)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {NOT_FOR_READING!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    *printed, imported = done.stdout.strip().splitlines()
    return "\n".join(printed), eval(imported)


def test_db_info_loads_no_orm_migrations_or_spreadsheet_writers(sample, db_url):
    printed, imported = _imported_by(db_url, "db", "info")
    assert "activities" in printed and "14" in printed
    assert imported == []


def test_showing_a_record_loads_no_orm_migrations_or_spreadsheet_writers(sample, db_url):
    printed, imported = _imported_by(db_url, "activity", "show", "marketing")
    assert "marketing" in printed
    assert imported == []


def test_the_tables_are_plain_sqlalchemy_core_tables_under_their_model_names():
    import sqlalchemy as sa

    from ropa.models import RECORD_MODELS, Revision, metadata

    assert isinstance(Revision.__table__, sa.Table)
    assert Revision.action is Revision.__table__.c.action
    assert {m.__tablename__ for m in RECORD_MODELS.values()} <= set(metadata.tables)
    assert str(sa.select(Revision.id).where(Revision.kind == "party")).startswith(
        "SELECT revisions.id \nFROM revisions"
    )
