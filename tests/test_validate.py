"""ropa.validate through the library: each parser takes good values to their canonical form
and refuses each kind of bad value with the message a user sees."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from ropa.schema import ACTIVITY, KINDS
from ropa.validate import (
    Index,
    check_record,
    parse_bool,
    parse_date,
    parse_duration,
    parse_email,
    parse_int,
    parse_key,
    parse_record,
    parse_text,
    split_list,
)

PARTY = KINDS["party"]


def test_text_is_trimmed_and_line_ends_are_unified():
    assert parse_text("  two\r\nlines\r ") == "two\nlines"
    assert parse_text(12.0) == "12"
    assert parse_text("   ") is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "expected text, got true (quote it to keep it as text)"),
        ([1], "expected text, got a list"),
        ({"a": 1}, "expected text, got a mapping"),
        ("a\x07b", "contains the control character U+0007"),
        ("x" * 32_768, "is 32768 characters long; at most 32767 fit in a cell"),
    ],
)
def test_bad_text_is_refused(value, message):
    with pytest.raises(ValueError) as e:
        parse_text(value)
    assert str(e.value) == message


def test_keys_are_trimmed_and_checked():
    assert parse_key(" crm-1.a_b ") == "crm-1.a_b"
    with pytest.raises(ValueError) as e:
        parse_key("-crm")
    assert str(e.value) == (
        "'-crm' is not a valid key: 1–64 letters, digits, '.', '_' or '-', "
        "starting with a letter or digit"
    )


def test_yes_no_values():
    assert [parse_bool(v) for v in ("Yes", "x", " true ", 1, None, "", "no", False)] == [
        True,
        True,
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    with pytest.raises(ValueError) as e:
        parse_bool("maybe")
    assert str(e.value) == "'maybe' is not yes/no (true/false)"


def test_whole_numbers():
    assert parse_int("24") == 24
    assert parse_int(12.0) == 12
    assert parse_int("") is None
    for bad, shown in (("1.5", "'1.5'"), ("twelve", "'twelve'"), (True, "true")):
        with pytest.raises(ValueError) as e:
            parse_int(bad)
        assert str(e.value) == f"{shown} is not a whole number"


def test_dates():
    assert parse_date("2024-02-29") == date(2024, 2, 29)
    assert parse_date(datetime(2024, 1, 2, 3, 4)) == date(2024, 1, 2)
    assert parse_date(None) is None
    with pytest.raises(ValueError) as e:
        parse_date("2023-02-29")
    assert str(e.value) == "'2023-02-29' is not a date: February 2023 has no 29th day (it has 28)"


def test_durations_are_upper_cased_iso_8601():
    assert parse_duration("p6y") == "P6Y"
    assert parse_duration("PT12H") == "PT12H"
    for bad in ("P", "6 years", "PT"):
        with pytest.raises(ValueError) as e:
            parse_duration(bad)
        assert str(e.value) == f"{bad!r} is not an ISO 8601 duration such as P6Y, P18M or P30D"


def test_email_addresses():
    assert parse_email(" dpo@acme.example ") == "dpo@acme.example"
    with pytest.raises(ValueError) as e:
        parse_email("dpo at acme")
    assert str(e.value) == "'dpo at acme' is not an email address"


def test_lists_split_on_semicolons_and_new_lines():
    assert split_list("a; b\nc;;") == ["a", "b", "c"]
    assert split_list(None) == []
    assert split_list(("a", "b")) == ["a", "b"]


def test_a_record_is_parsed_field_by_field_with_every_problem_located():
    parsed, problems = parse_record(
        PARTY,
        {"key": "acme", "name": " Acme ", "kind": "group-member", "email": "nope", "colour": 1},
        "parties[0]",
    )
    assert parsed["name"] == "Acme" and parsed["kind"] == "group-member"
    assert [str(p) for p in problems] == [
        "parties[0].colour: unknown party field (did you mean: country?)",
        "parties[0].email: 'nope' is not an email address",
    ]


def test_a_code_outside_its_list_names_the_choices():
    _, problems = parse_record(ACTIVITY, {"key": "a", "role": "boss"}, "a")
    assert len(problems) == 1
    assert problems[0].where == "a.role"
    assert problems[0].message.startswith("'boss' is not a ")
    assert "; choose one of controller, " in problems[0].message


def _index(names: dict[str, dict[str, str]], kinds: dict[str, str] | None = None) -> Index:
    return Index(
        lambda kind: names.get(kind, {}),
        lambda kind, column: (kinds or {}) if (kind, column) == ("party", "kind") else {},
    )


def test_references_resolve_by_key_or_by_name_ignoring_case():
    index = _index({"party": {"acme": "Acme SE"}}, {"acme": "group-member"})
    record = ACTIVITY.new_record() | {"key": "crm", "name": "CRM", "controller": "ACME se"}
    assert check_record(ACTIVITY, record, index, "activity crm") == []
    assert record["controller"] == "acme"


def test_an_unknown_reference_suggests_close_keys():
    index = _index({"party": {"acme": "Acme SE"}}, {"acme": "group-member"})
    record = ACTIVITY.new_record() | {"key": "crm", "name": "CRM", "controller": "acm"}
    problems = check_record(ACTIVITY, record, index, "activity crm")
    assert [str(p) for p in problems] == [
        "activity crm.controller: unknown party 'acm' (did you mean: acme?)"
    ]


def test_write_time_rules_of_an_activity():
    index = _index({"party": {"cloud": "Cloud"}}, {"cloud": "service-provider"})
    record = ACTIVITY.new_record() | {
        "key": "crm",
        "name": "",
        "controller": "cloud",
        "processor_for": ["cloud"],
        "review_interval_months": 0,
    }
    problems = [str(p) for p in check_record(ACTIVITY, record, index, "activity crm")]
    assert problems == [
        "activity crm.name: an activity needs a name",
        "activity crm.controller: 'cloud' is a service-provider party, not a group-member party; "
        "the controller must be a legal entity of the group",
        "activity crm.processor_for: processor_for is set but the role is controller; "
        "set role processor or clear processor_for",
        "activity crm.review_interval_months: must be between 1 and 120 months",
    ]


def test_a_category_cannot_be_its_own_ancestor():
    category = KINDS["category"]
    index = Index(
        lambda kind: {"a": "A", "b": "B"},
        lambda kind, column: {"a": "b", "b": None},
    )
    record = category.new_record() | {"key": "b", "name": "B", "parent": "a"}
    assert [str(p) for p in check_record(category, record, index, "category b")] == [
        "category b.parent: 'b' would be its own ancestor"
    ]


def test_a_name_fits_every_backends_unique_index(initialised, registry):
    """PostgreSQL's index on lower(name) holds at most 2,704 bytes: a name of 3,000
    characters stopped there with the database's raw error, and a register that SQLite
    took could not move. A name holds 500 characters (2,000 bytes of UTF-8 at most)."""
    longest = "🙂" * 500
    assert initialised("source", "add", "big", "--name", longest).exit_code == 0
    assert registry.get("source", "big")["name"] == longest
    result = initialised("source", "add", "bigger", "--name", "x" * 3000)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: source bigger.name: is 3000 characters long; a name holds at most 500 "
        "(the rest belongs in the description)\n"
    )


def test_a_controller_of_another_kind_is_named_in_words(initialised):
    initialised("party", "add", "auth", "--name", "Other body", "--kind", "other")
    initialised("purpose", "add", "p", "--name", "P")
    result = initialised("activity", "add", "a", "--name", "A", "--controller", "auth")
    assert result.exit_code == 1
    assert "'auth' is an other party, not a group-member party" in result.stderr


def test_an_empty_csv_file_is_one_clear_error(initialised, tmp_path):
    (tmp_path / "sources.csv").write_text("", encoding="utf-8")
    (tmp_path / "blank.csv").write_text("\n\n", encoding="utf-8")
    for name in ("sources.csv", "blank.csv"):
        result = initialised("import", name)
        assert result.exit_code == 1, result.stderr
        assert "no header row: its first row names the columns" in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("parse", "value", "message"),
    [
        ("parse_date", True, "true is not an ISO date (YYYY-MM-DD)"),
        ("parse_date", [2026], "expected a date (YYYY-MM-DD), got a list"),
        ("parse_int", False, "false is not a whole number"),
        ("parse_int", 1.5, "1.5 is not a whole number"),
        ("parse_int", "12a", "'12a' is not a whole number"),
        ("parse_bool", [1], "a list is not yes/no (true/false)"),
        ("parse_bool", "maybe", "'maybe' is not yes/no (true/false)"),
    ],
)
def test_values_are_named_as_the_document_spells_them(parse, value, message):
    """Messages spelled values as Python does: 'True' is not an ISO date, got bool."""
    import ropa.validate

    with pytest.raises(ValueError) as e:
        getattr(ropa.validate, parse)(value)
    assert str(e.value) == message
