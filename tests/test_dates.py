"""Dates and numbers from options and fields: a future review date is refused, the due-date
arithmetic never overflows, --as-of is the checks' today and an instant, and option values out
of range are one-line errors, never a traceback."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

import ropa.history
from tests.conftest import SAMPLE, dump


@pytest.fixture
def clock(monkeypatch):
    """Set the time ropa stamps on changes: clock("2026-01-10 09:00") (UTC unless a zone)."""

    def set_time(text: str) -> None:
        moment = datetime.fromisoformat(text)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        monkeypatch.setattr(ropa.history, "utcnow", lambda: moment.astimezone(UTC))

    return set_time


@pytest.fixture
def loaded(initialised):
    assert initialised("import", str(SAMPLE)).exit_code == 0
    return initialised


def one_error(result, *names: str) -> str:
    """The result's stderr, checked to be one `error:` line naming each of `names`."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


def _store_last_reviewed(db, key: str, day: date, months: int) -> None:
    """What an older ropa could have written: a review date the register now refuses."""
    from ropa.schema import KINDS
    from ropa.store import record_table

    table = record_table(KINDS["activity"])
    with db.engine.begin() as conn:
        conn.execute(
            sa.update(table)
            .where(table.c.key == key)
            .values(last_reviewed=day, review_interval_months=months)
        )


# -- 1. last_reviewed in the future ----------------------------------------------------------


@pytest.mark.parametrize("day", ["9999-12-31", "9990-01-01", "2099-01-01"])
def test_a_last_reviewed_after_today_is_refused_on_edit(loaded, db, day):
    before = dump(db)
    result = loaded(
        "activity",
        "edit",
        "marketing",
        "--last-reviewed",
        day,
        "--review-interval-months",
        "120",
    )
    assert result.exit_code == 1
    assert "in the future" in one_error(result, "last_reviewed", day)
    assert dump(db) == before


def test_a_last_reviewed_of_today_is_accepted(loaded, clock):
    clock("2026-11-30 12:00")
    result = loaded("activity", "edit", "marketing", "--last-reviewed", "2026-11-30")
    assert result.exit_code == 0, result.stderr
    tomorrow = loaded("activity", "edit", "marketing", "--last-reviewed", "2026-12-01")
    assert tomorrow.exit_code == 1
    one_error(tomorrow, "last_reviewed", "2026-12-01")


def test_a_future_last_reviewed_is_refused_by_imports(loaded, db, tmp_path):
    assert loaded("export", "yaml", "-o", "all.yaml").exit_code == 0
    text = (tmp_path / "all.yaml").read_text().replace("2021-03-10", "2099-01-01", 1)
    (tmp_path / "future.yaml").write_text(text)
    before = dump(db)
    result = loaded("import", "future.yaml")
    assert result.exit_code == 1
    assert "last_reviewed" in result.stderr and "2099-01-01" in result.stderr
    assert "Traceback" not in result.stderr
    assert dump(db) == before

    assert loaded("export", "csv", "-o", "csv").exit_code == 0
    activities = tmp_path / "csv" / "activities.csv"
    if activities.exists():
        activities.write_text(activities.read_text().replace("2021-03-10", "2099-01-01", 1))
        result = loaded("import", "csv")
        assert result.exit_code == 1
        assert "last_reviewed" in result.stderr and "2099-01-01" in result.stderr
        assert dump(db) == before


@pytest.mark.parametrize(("day", "months"), [(date(9999, 12, 31), 12), (date(9990, 1, 1), 120)])
def test_a_stored_review_date_near_9999_breaks_no_check_or_export(loaded, db, day, months):
    _store_last_reviewed(db, "marketing", day, months)
    check = loaded("check", "-f", "json")
    assert check.exit_code in (0, 1), check.stderr
    findings = json.loads(check.stdout)["findings"]
    assert not [f for f in findings if f["rule"] == "R17" and f["key"] == "marketing"]
    for args in [
        ("review", "status"),
        ("review", "pack", "-o", "p.xlsx"),
        ("review", "pack", "--due-within", "30d", "-o", "q.xlsx"),
        ("export", "xlsx", "-o", "r.xlsx"),
        ("export", "xlsx", "--with-findings", "-o", "f.xlsx"),
        ("export", "pdf", "-o", "r.pdf"),
        ("export", "html", "-o", "r.html"),
        ("export", "csv", "-o", "-"),
        ("activity", "list", "--review-due", "0d"),
        ("activity", "list", "--review-due", "99999y", "-f", "json"),
    ]:
        result = loaded(*args)
        assert result.exit_code == 0, (args, result.stderr)
        assert "Traceback" not in result.stderr
    due = json.loads(loaded("activity", "list", "--review-due", "0d", "-f", "json").stdout)
    assert "marketing" not in [a["key"] for a in due]


def test_next_review_past_9999_is_never_due():
    from ropa.checks.core import add_months, next_review

    assert add_months(date(9999, 12, 31), 12) == date.max
    assert add_months(date(1, 1, 31), -1) == date.min
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    activity = {"last_reviewed": date(9990, 1, 1), "review_interval_months": 120}
    assert next_review(activity) == date.max


# -- 2. --as-of is the checks' today --------------------------------------------------------


def test_check_as_of_judges_reviews_on_the_as_of_day(initialised, clock, tmp_path):
    cli = initialised
    clock("2022-01-01 09:00")
    assert cli("import", str(SAMPLE)).exit_code == 0  # reviewed 2021-03-10, due 2022-03-10
    clock("2026-11-29 12:00")
    now = json.loads(cli("check", "--rule", "R17", "-f", "json").stdout)["findings"]
    assert any("overdue since 2022-03-10" in f["message"] for f in now)

    result = cli("check", "--as-of", "2022-01-01", "--rule", "R17", "-f", "json")
    findings = json.loads(result.stdout)["findings"]
    assert not [f for f in findings if "overdue" in f["message"]], findings
    later = cli("check", "--as-of", "2022-03-11T00:00", "--rule", "R17", "-f", "json")
    assert any(
        "overdue since 2022-03-10" in f["message"] for f in json.loads(later.stdout)["findings"]
    )

    assert (
        cli("export", "xlsx", "--as-of", "2022-01-01", "--with-findings", "-o", "a.xlsx").exit_code
        == 0
    )
    book = load_workbook(tmp_path / "a.xlsx")
    cells = [str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert not [c for c in cells if "overdue since" in c]


# -- 3. option values out of range ----------------------------------------------------------


def test_history_and_diff_until_far_in_the_future_are_no_traceback(loaded):
    history = loaded("history", "--until", "9999-12-31", "-f", "json")
    assert history.exit_code == 0, history.stderr
    assert json.loads(history.stdout)
    diff = loaded("diff", "--since", "2026-01-01", "--until", "9999-12-31", "-f", "json")
    assert diff.exit_code == 0, diff.stderr
    since = loaded("history", "--since", "9999-12-31", "-f", "json")
    assert since.exit_code == 2
    one_error(since, "--since", "future")


@pytest.mark.parametrize(
    "within", ["8000y", "99999y", "99999w", "99999m", "99999d", "9999999d", "1" + "0" * 30 + "y"]
)
def test_a_huge_review_window_takes_everything_due_and_no_traceback(loaded, within):
    result = loaded("activity", "list", "--review-due", within, "-f", "json")
    assert result.exit_code == 0, result.stderr
    everything = json.loads(loaded("activity", "list", "-f", "json").stdout)
    assert len(json.loads(result.stdout)) == len(everything)
    pack = loaded("review", "pack", "--due-within", within, "-o", "r.xlsx")
    assert pack.exit_code == 0, pack.stderr


@pytest.mark.parametrize(
    "command",
    [("history", "marketing", "--kind", "activity"), ("restore", "activity", "marketing")],
)
@pytest.mark.parametrize("version", ["99999999999999999999", "2147483648", "0", "-1", "1_2", "١"])
def test_a_version_out_of_range_is_a_usage_error_naming_the_option(loaded, db, command, version):
    before = dump(db)
    result = loaded(*command, "--version", version)
    assert result.exit_code == 2
    assert "--version" in result.stderr and "Traceback" not in result.stderr
    assert "database error" not in result.stderr
    assert dump(db) == before


def test_an_in_memory_sqlite_url_is_refused(cli):
    for url in ("sqlite://", "sqlite:///:memory:", "sqlite:///"):
        result = cli("--db", url, "db", "info")
        assert result.exit_code in (1, 2)
        assert "in-memory" in one_error(result, "--db")


# -- 4. --as-of compares an instant with now -------------------------------------------------


def test_as_of_with_a_zone_is_compared_as_an_instant(loaded, clock):
    clock("2026-11-30 21:00")
    past = loaded("export", "yaml", "--as-of", "2026-12-01T09:00+13:00", "-o", "-")
    assert past.exit_code == 0, past.stderr  # 20:00 UTC: an hour ago
    future = loaded("export", "yaml", "--as-of", "2026-11-30T20:00-05:00", "-o", "-")
    assert future.exit_code == 2  # 01:00 UTC tomorrow: a bad option
    one_error(future, "--as-of", "future")
    restore = loaded("restore", "--as-of", "2026-11-30T20:00-05:00", "--dry-run")
    assert restore.exit_code == 2
    one_error(restore, "--as-of", "future")
    restore = loaded("restore", "--as-of", "2026-12-01T09:00+13:00", "--dry-run")
    assert restore.exit_code == 0, restore.stderr
    assert loaded("export", "yaml", "--as-of", "2026-11-30", "-o", "-").exit_code == 0
    assert loaded("export", "yaml", "--as-of", "2026-12-01", "-o", "-").exit_code == 2
    naive = loaded("export", "yaml", "--as-of", "2026-11-30T21:30", "-o", "-")  # UTC
    assert naive.exit_code == 2


# -- 5. history refuses an empty period as diff does ----------------------------------------


def test_history_refuses_until_before_since_like_diff(loaded):
    history = loaded("history", "--since", "2026-11-30", "--until", "2026-11-29")
    diff = loaded("diff", "--since", "2026-11-30", "--until", "2026-11-29")
    assert history.exit_code == diff.exit_code == 2
    assert one_error(history, "--until", "--since") == one_error(diff)


# -- 6. strict dates and whole numbers -------------------------------------------------------


@pytest.mark.parametrize(
    "when",
    ["2026-W48", "2026-W48-1", "20261123", "2026-11-23T10", "20261123T1000", "２０２６-11-23"],
)
def test_as_of_takes_only_the_iso_forms_the_help_names(loaded, when):
    result = loaded("export", "yaml", "--as-of", when, "-o", "-")
    assert result.exit_code in (1, 2)
    assert "--as-of" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("day", ["2026-W48", "20261123", "2026-W48-1"])
def test_a_date_field_takes_only_yyyy_mm_dd(loaded, db, day):
    before = dump(db)
    result = loaded("activity", "edit", "marketing", "--last-reviewed", day)
    assert result.exit_code == 1
    one_error(result, "last_reviewed")
    assert dump(db) == before


@pytest.mark.parametrize("number", ["1_2", "١٢", "１２", "1e1", " 12x"])
def test_a_whole_number_field_takes_only_ascii_digits(loaded, db, number):
    before = dump(db)
    result = loaded("activity", "edit", "marketing", "--review-interval-months", number)
    assert result.exit_code == 1
    one_error(result, "review_interval_months")
    assert dump(db) == before


def test_whole_numbers_and_dates_as_written():
    from ropa.validate import parse_date, parse_int

    assert parse_int("12") == 12
    assert parse_int(" +12 ") == 12
    assert parse_int("-3") == -3
    assert parse_int(12.0) == 12
    assert parse_int("12.0") == 12
    for bad in ("1_2", "١٢", "1e1", "12.5", "", "x"):
        if bad == "":
            assert parse_int(bad) is None
            continue
        with pytest.raises(ValueError):
            parse_int(bad)
    assert parse_date("2026-11-23") == date(2026, 11, 23)
    for bad in ("2026-W48", "20261123", "2026-W48-1", "٢٠٢٦-11-23"):
        with pytest.raises(ValueError):
            parse_date(bad)


# -- 7. one clock ----------------------------------------------------------------------------


def test_the_records_generated_at_is_the_registers_clock(loaded, clock, tmp_path):
    clock("2031-05-06 07:08:09")
    assert loaded("export", "xlsx", "-o", "r.xlsx").exit_code == 0
    cover = load_workbook(tmp_path / "r.xlsx")["Cover"]
    cells = [str(c.value) for row in cover.iter_rows() for c in row]
    assert "2031-05-06 07:08:09" in cells


def test_the_backup_before_init_force_is_stamped_by_the_registers_clock(loaded, db, clock):
    if not db.is_sqlite:
        pytest.skip("PostgreSQL is backed up with pg_dump")
    clock("2031-05-06 07:08:09")
    result = loaded("init", "--force", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "20310506T070809" in result.stderr


def test_durations_take_only_ascii_digits(loaded):
    from ropa.validate import parse_duration

    assert parse_duration("P6Y") == "P6Y"
    with pytest.raises(ValueError):
        parse_duration("P\u0666Y")  # an Arabic-Indic six
    result = loaded("activity", "list", "--review-due", "\u0661\u0662d")
    assert result.exit_code == 2
    one_error(result, "--review-due")


def test_a_date_time_outside_the_calendar_in_utc_says_so(loaded):
    """It said "is not an ISO date", which it is."""
    result = loaded("export", "yaml", "--as-of", "0001-01-01T00:00+01:00", "-o", "-")
    assert result.exit_code == 2
    assert "is outside the calendar once taken to UTC" in result.stderr
