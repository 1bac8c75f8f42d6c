"""Messages in good English: articles, plurals, country suggestions and date problems, from one
helper rather than one message at a time."""

from __future__ import annotations

import pytest

from ropa import words
from ropa.reference import parse_country
from ropa.validate import parse_date


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("activity", "an activity"),
        ("party", "a party"),
        ("data category", "a data category"),
        ("Art. 9 condition", "an Art. 9 condition"),
        ("SCC", "an SCC"),
        ("DPIA status", "a DPIA status"),
        ("UK controller", "a UK controller"),
        ("EU regime", "an EU regime"),
        ("user", "a user"),
        ("hour", "an hour"),
        ("international organisation", "an international organisation"),
    ],
)
def test_the_indefinite_article_follows_the_sound(phrase, expected):
    assert words.a(phrase) == expected


@pytest.mark.parametrize(
    ("number", "noun", "expected"),
    [
        (1, "activity", "1 activity"),
        (2, "activity", "2 activities"),
        (0, "record", "0 records"),
        (1, "record", "1 record"),
        (3, "data category", "3 data categories"),
        (2, "party", "2 parties"),
        (2, "day", "2 days"),
        (2, "match", "2 matches"),
        (2, "criterion", "2 criteria"),
    ],
)
def test_counts_agree_with_their_noun(number, noun, expected):
    assert words.count(number, noun) == expected


def test_ordinals_and_joins():
    assert [words.ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 30, 31)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "30th", "31st",
    ]  # fmt: skip
    assert words.join(["a"]) == "a"
    assert words.join(["a", "b", "c"], "or") == "a, b or c"


@pytest.mark.parametrize(
    ("text", "suggested"),
    [
        ("Turkey", "did you mean: TR (Türkiye)?"),
        ("Korea", "did you mean: KR (South Korea), KP (North Korea)?"),
        ("Deutschland", "did you mean: DE (Germany)?"),
        ("Germny", "did you mean: DE (Germany)?"),
    ],
)
def test_an_unknown_country_suggests_the_closest_names(text, suggested):
    with pytest.raises(ValueError) as e:
        parse_country(text)
    assert str(e.value) == (
        f"{text!r} is not an ISO 3166-1 country code or name ({suggested}); "
        "use a code or INTL for an international organisation"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-02-30", "'2026-02-30' is not a date: February 2026 has no 30th day (it has 28)"),
        ("2026-04-31", "'2026-04-31' is not a date: April 2026 has no 31st day (it has 30)"),
        ("2026-13-01", "'2026-13-01' is not a date: there is no month 13 (months are 01–12)"),
        ("30.02.2026", "'30.02.2026' is not an ISO date (YYYY-MM-DD)"),
    ],
)
def test_an_impossible_date_says_why_and_a_malformed_one_shows_the_format(text, message):
    with pytest.raises(ValueError) as e:
        parse_date(text)
    assert str(e.value) == message
    assert parse_date("2024-02-29").isoformat() == "2024-02-29"


def test_messages_use_the_right_article(initialised):
    unnamed = initialised("activity", "add", "a1")
    assert unnamed.exit_code == 1
    assert "an activity needs a name" in unnamed.stderr and "a activity" not in unnamed.stderr
    bad_code = initialised("activity", "add", "a2", "--name", "A", "--art9-condition", "x")
    assert "'x' is not an Art. 9 condition" in bad_code.stderr
    bad_day = initialised("activity", "add", "a3", "--name", "A", "--last-reviewed", "2026-02-30")
    assert "February 2026 has no 30th day" in bad_day.stderr
    bad_country = initialised("party", "add", "p", "--name", "P", "--country", "Turkey")
    assert "did you mean: TR (Türkiye)?" in bad_country.stderr


def test_counts_in_command_output_agree(initialised, tmp_path):
    doc = tmp_path / "one.yaml"
    doc.write_text("ropa: 1\nsubjects:\n  - {key: s, name: S}\n", encoding="utf-8")
    dry = initialised("import", str(doc), "--dry-run")
    assert "would change 1 record\n" in dry.stderr and "1 records" not in dry.stderr
    assert initialised("import", str(doc)).exit_code == 0
    history = initialised("history")
    assert "1 revision\n" in history.stdout + history.stderr


def _commands(command, path=()):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def test_help_shows_metavars_a_person_reads(cli):
    import re

    import typer

    from ropa.cli import app

    for path, _ in _commands(typer.main.get_command(app)):
        shown = cli(*path, "--help").stdout
        typer_types = re.findall(r"<(?:str|int|float|bool|path|file|list\[[^\]]*\])>", shown)
        assert typer_types == [], (path, typer_types)
    add = cli("activity", "add", "--help").stdout
    for option, shown in (
        ("--purpose", "KEY"),
        ("--basis", "CODE"),
        ("--last-reviewed", "DATE"),
        ("--transfer", "TRANSFER"),
        ("--review-interval-months", "NUMBER"),
    ):
        assert re.search(rf"{option}\s+{shown}\s", add), option
    for path, option, shown in (
        (("check",), "--entity", "KEY"),
        (("export", "xlsx"), "--entity", "KEY"),
        (("notice",), "--entity", "KEY"),
        (("review", "status"), "--entity", "KEY"),
        (("import",), "--kind", "KIND"),
        (("history",), "--kind", "KIND"),
        (("history",), "--version", "N"),
        (("restore",), "--version", "N"),
    ):
        assert re.search(rf"{option}\s+{shown}\s", cli(*path, "--help").stdout), (path, option)


def test_arguments_are_shown_by_name_and_options_by_a_readable_type(cli):
    restore = cli("restore", "--help").stdout
    assert "restore [OPTIONS] [kind] [key]\n" in restore
    assert "<str>" not in restore and "TEXT  Kind" not in restore
    imported = cli("import", "--help").stdout
    assert "{files}..." in imported and "-m, --message TEXT" in imported
    assert "-o, --output PATH" in cli("template", "--help").stdout


def test_the_rule_list_of_check_help_fits_the_help_width(cli):
    """The rules are listed as they are written (one block), so they are wrapped to Click's
    help width of 80 columns here: R07 ran to 331 characters on one line."""
    shown = cli("check", "--help").stdout
    assert max(len(line) for line in shown.splitlines()) <= 80
    assert "\n  R08 error   " in shown and "other than the European Patent Organisation\n" in shown


def test_the_typer_range_is_pinned():
    import tomllib

    from tests.conftest import ROOT

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    typer_pin = [d for d in project["project"]["dependencies"] if d.startswith("typer")]
    assert typer_pin == ["typer>=0.28,<0.29"]
