"""ropa.validate through the library: each parser takes good values to their canonical form
and refuses each kind of bad value with the message a user sees."""

from __future__ import annotations

import json
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


# -- a name is one line of visible text ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "found"),
    [
        ("Analytics service providers\nUS National Security Agency", "U+000A LINE FEED"),
        ("Two\r\nlines", "U+000D CARRIAGE RETURN"),
        ("Tab\tbetween", "U+0009 CHARACTER TABULATION"),
        ("Escape\x1b[2J", "U+001B ESCAPE"),
        ("Next\x85line", "U+0085 NEXT LINE"),
        ("Line\u2028separator", "U+2028 LINE SEPARATOR"),
    ],
)
def test_a_name_with_a_line_break_or_a_control_character_is_refused(name, found):
    """One recipient printed as two in the record's Recipients cell (one item per line)."""
    _, problems = parse_record(PARTY, {"key": "p", "name": name}, "party p")
    assert [str(p) for p in problems] == [
        f"party p.name: must be one line without control characters (found {found})"
    ]


@pytest.mark.parametrize(
    "name",
    [
        "Imperva Group\u200b Members",  # zero-width space
        "Imperva Group\u00ad Members",  # soft hyphen
        "\ufeffImperva Group Members",  # byte order mark
        "Imperva\u2060 Group Members",  # word joiner
        "Imperva\u200e Group Members",  # left-to-right mark
        "Imperva \u2066Group\u2069 Members",  # an isolate
        "Imperva \u202eGroup Members",  # a right-to-left override
        "Imperva\u034f Group Members",  # combining grapheme joiner
        "Imperva\u3164 Group Members",  # Hangul filler
        "Imperva\u00a0Group Members",  # no-break space
        "Imperva  Group\u3000Members",  # two spaces, an ideographic space
        "Imperva\u2800Group Members",  # braille blank
    ],
)
def test_a_name_is_stored_as_it_looks(name):
    """Names are unique as they are folded, and an invisible character or an unusual space
    made a second 'Imperva Group Members' beside the first."""
    values, problems = parse_record(PARTY, {"key": "p", "name": name}, "party p")
    assert problems == []
    assert values["name"] == "Imperva Group Members"


@pytest.mark.parametrize(
    "name",
    [
        "\u06a9\u062a\u0627\u0628\u200c\u0647\u0627",  # Persian: the non-joiner of a plural
        "\u0915\u094d\u200d\u0937",  # Devanagari: a joiner after a virama (half form)
        "\u09b0\u200d\u09cd\u09af\u09be\u09ac",  # Bengali: a joiner before a virama (ya-phala)
        "\U0001f469\u200d\U0001f4bb Developers",  # an emoji sequence
        "\U0001f3f3\ufe0f\u200d\U0001f308 Pride network",  # with a variation selector
        "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f Scotland",
        "\u0645\u0635\u0631 \u0600\u0661",  # an Arabic number sign shows
    ],
)
def test_what_shapes_a_script_or_an_emoji_is_kept_in_a_name(name):
    """The zero-width (non-)joiners shape Indic and Persian letters and emoji sequences, the
    tags make a flag: without them a name looks different, and was refused."""
    values, problems = parse_record(PARTY, {"key": "p", "name": name}, "party p")
    assert problems == []
    assert values["name"] == name


def test_every_invisible_formatting_character_is_dropped_or_kept_on_purpose():
    import sys
    import unicodedata

    kept = {0x200C, 0x200D, *range(0x0600, 0x0606), 0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2}
    kept |= {0x110BD, 0x110CD, *range(0x13430, 0x13440), *range(0xE0020, 0xE0080)}
    left = [
        f"U+{ord(c):04X}"
        for c in map(chr, range(sys.maxunicode + 1))
        if unicodedata.category(c) == "Cf"
        and ord(c) not in kept
        and parse_record(PARTY, {"key": "p", "name": f"a{c}b"}, "party p")[0]["name"] != "ab"
    ]
    assert left == []


def test_a_name_is_stored_in_composed_form():
    """'Café' typed as e + combining acute (NFD) and as é (NFC) are one name."""
    values, problems = parse_record(PARTY, {"key": "p", "name": "Cafe\u0301 Nord"}, "party p")
    assert problems == []
    assert values["name"] == "Caf\u00e9 Nord"


def test_other_text_fields_keep_their_lines_and_characters():
    raw = {"key": "p", "name": "P", "description": "one\ntwo", "notes": "a\u200bb"}
    values, problems = parse_record(PARTY, raw, "party p")
    assert problems == []
    assert (values["description"], values["notes"]) == ("one\ntwo", "a\u200bb")


def test_a_party_renamed_to_two_lines_is_refused_and_left_as_it_was(cli):
    assert cli("demo").exit_code == 0
    name = "Analytics service providers\nUS National Security Agency"
    result = cli("party", "edit", "analytics-providers", "--name", name)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: party analytics-providers.name: must be one line without control characters "
        "(found U+000A LINE FEED)\n"
    )
    shown = cli("party", "show", "analytics-providers", "--format", "json")
    assert "National Security Agency" not in shown.stdout


def test_a_name_with_a_line_break_is_refused_by_every_import(initialised, registry, tmp_path):
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "parties.csv").write_text('key,name,kind\np1,"Two\nlines",other\n')
    (tmp_path / "doc.yaml").write_text(
        'ropa: 1\nparties:\n  - {key: p1, name: "Two\\u2028lines", kind: other}\n'
    )
    (tmp_path / "doc.json").write_text(
        json.dumps({"ropa": 1, "sources": [{"key": "s1", "name": "Web\nform"}]})
    )
    (tmp_path / "fides.yml").write_text(
        'organization:\n  - fides_key: org\n    name: "Org\\nNational Security Agency"\n'
    )
    for path, at in (
        (folder / "parties.csv", "parties.csv:parties:2:name"),
        (tmp_path / "doc.yaml", "doc.yaml:parties[0].name"),
        (tmp_path / "doc.json", "doc.json:sources[0].name"),
        (tmp_path / "fides.yml", ".name"),
    ):
        result = initialised("import", path)
        assert result.exit_code == 1, (path, result.stderr)
        assert at in result.stderr and "must be one line" in result.stderr, result.stderr
    assert registry.list("party") == [] and registry.list("source") == []


def test_names_that_look_the_same_are_one_name(initialised):
    assert initialised("party", "add", "a", "--name", "Imperva Group Members").exit_code == 0
    invisible = initialised("party", "add", "b", "--name", "Imperva Group\u200b Members")
    assert invisible.exit_code == 1
    assert "party 'a' already has the name 'Imperva Group Members'" in invisible.stderr
    assert initialised("party", "add", "c", "--name", "Caf\u00e9").exit_code == 0
    decomposed = initialised("party", "add", "d", "--name", "Cafe\u0301")
    assert decomposed.exit_code == 1
    assert "party 'c' already has the name 'Café'" in decomposed.stderr


def test_a_reference_by_a_decomposed_name_finds_the_composed_one(initialised, registry):
    """A name is stored composed (NFC); a file that refers to it decomposed (NFD, as a Mac's
    file names are) names the same record."""
    assert initialised("party", "add", "cafe", "--name", "Cafe\u0301 Nord").exit_code == 0
    assert registry.get("party", "cafe")["name"] == "Caf\u00e9 Nord"
    result = initialised("activity", "add", "a", "--name", "A", "--recipient", "cafe\u0301 nord")
    assert result.exit_code == 0, result.stderr
    assert registry.get("activity", "a")["recipients"] == ["cafe"]


@pytest.mark.parametrize(
    ("countries", "message"),
    [({"a": 1}, "expected text, got a mapping"), ([["DE"]], "expected text, got a list")],
)
def test_hosting_countries_that_are_not_text_are_a_problem_not_a_traceback(countries, message):
    """`countries: {}` in a document stopped the import with a TypeError (found by
    test_fuzz)."""
    raw = {"key": "s", "name": "S", "countries": countries}
    _, problems = parse_record(KINDS["system"], raw, "system s")
    assert [str(p) for p in problems] == [f"system s.countries: {message}"]
