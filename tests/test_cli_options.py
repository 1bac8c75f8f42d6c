"""Options and outputs of the command line that must not lose or misplace data: any-case
matching of every letter, outputs in the format asked for and checked before anything is
written, empty and multi-line option values refused."""

from __future__ import annotations

import os
import stat

import pytest

from tests.conftest import dump


@pytest.fixture
def demo(cli, sample):
    """The `cli` runner on a database holding the sample register."""
    return cli


# -- 1. any-case matching of every letter, on SQLite as on PostgreSQL -----------------------


@pytest.mark.parametrize("owner", ["Jürgen Ölmann", "Łukasz@example.pl", "ΟΔΥΣΣΕΑΣ"])
def test_owner_filter_matches_a_non_ascii_capital_in_any_case(demo, owner):
    assert demo("activity", "edit", "marketing", "--owner", owner).exit_code == 0
    for given in (owner, owner.lower(), owner.upper()):
        listed = demo("activity", "list", "--owner", given, "--format", "csv")
        assert listed.exit_code == 0, listed.stderr
        assert "marketing" in listed.stdout, given
    pack = demo("review", "pack", "--owner", owner.lower(), "-o", "j.xlsx")
    assert pack.exit_code == 0, pack.stderr


def test_search_folds_non_ascii_letters(demo):
    assert demo("source", "edit", "website-use", "--description", "Über Straße").exit_code == 0
    assert demo("source", "edit", "mobile-app-use", "--description", "ΣΊΣΥΦΟΣ").exit_code == 0
    for given, key in (("ΣΊΣΥΦΟΣ", "mobile-app-use"), ("σίσυφος", "mobile-app-use")):
        listed = demo("source", "list", "--search", given, "--format", "csv")
        assert key in listed.stdout, given  # Python folds the final sigma, PostgreSQL not
    for given in ("über", "ÜBER", "straße"):
        listed = demo("source", "list", "--search", given, "--format", "csv")
        assert "website-use" in listed.stdout, given
    listed = demo("source", "list", "--search", "50%_", "--format", "csv")
    assert "website-use" not in listed.stdout


def test_names_differing_only_in_a_non_ascii_letters_case_cannot_coexist(demo):
    assert demo("purpose", "add", "a1", "--name", "Ärzte").exit_code == 0
    second = demo("purpose", "add", "a2", "--name", "ärzte")
    assert second.exit_code == 1
    assert "already has the name" in second.stderr


# -- 2. an export is written in the format asked for, or refused --------------------------


@pytest.mark.parametrize(("fmt", "what"), [("xlsx", "workbook"), ("html", "page"), ("pdf", "PDF")])
def test_record_to_stdout_is_refused_for_a_format_other_than_csv(demo, tmp_path, fmt, what):
    result = demo("export", fmt, "-o", "-")
    assert result.exit_code == 2
    assert f"the {what} is written to a file; give -o a path" in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "-").exists()


def test_csv_record_goes_to_stdout(demo):
    result = demo("export", "csv", "-o", "-")
    assert result.exit_code == 0
    assert result.stdout.lstrip("\ufeff").startswith("Activity ID,")


# -- 3. --kind is for CSV files and JSON/YAML lists, not workbooks ------------------------


def test_kind_is_refused_for_a_workbook(demo, db):
    assert demo("export", "xlsx", "--layout", "data", "-o", "two.xlsx").exit_code == 0
    before = dump(db)
    result = demo("import", "two.xlsx", "--kind", "party")
    assert result.exit_code == 2
    assert "--kind" in result.stderr and "two.xlsx" in result.stderr
    assert dump(db) == before


# -- 4. an empty option value is refused, never taken as "clear" or "no filter" -----------


@pytest.mark.parametrize(
    "args",
    [
        ["activity", "edit", "marketing", "--status", ""],
        ["activity", "edit", "marketing", "--subject", ""],
        ["activity", "edit", "marketing", "--last-reviewed", ""],
        ["activity", "edit", "marketing", "--dpia-required", ""],
        ["activity", "edit", "marketing", "--owner", "  "],
        ["party", "edit", "imperva-inc", "--kind", ""],
        ["system", "edit", "website", "--country", ""],
        ["taxonomy", "load", "fideslang", "--only", ""],
        ["--db", "", "activity", "list"],
        ["check", "--entity", ""],
        ["check", "--regime", ""],
        ["notice", "--entity", ""],
        ["history", "--since", ""],
        ["activity", "list", "--owner", ""],
        ["demo", "--out", ""],
    ],
)
def test_an_empty_option_value_is_refused_naming_the_option(demo, db, args):
    before = dump(db)
    result = demo(*args)
    assert result.exit_code == 2, result.stdout
    option = next(a for a in args if a.startswith("--"))
    assert f"'{option}'" in result.stderr
    assert "empty" in result.stderr
    assert "Traceback" not in result.stderr
    assert dump(db) == before


def test_an_empty_database_variable_is_refused(demo, monkeypatch):
    monkeypatch.setenv("ROPA_DB", "")
    result = demo("activity", "list")
    assert result.exit_code == 2
    assert "ROPA_DB is set but empty" in result.stderr


# -- 5. one-line values: the history shows no line that was not written as one ------------


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--actor", "mallory\n## Approved by DPO"], "--actor"),
        (["-m", "why\n## Approved by DPO"], "--message"),
    ],
)
def test_a_line_feed_in_actor_or_message_is_refused(demo, db, args, option):
    before = dump(db)
    if option == "--actor":
        command = [*args, "source", "edit", "website-use", "--description", "changed"]
    else:
        command = ["source", "edit", "website-use", "--description", "changed", *args]
    result = demo(*command)
    assert result.exit_code == 2
    assert f"{option} must be one line" in result.stderr
    assert dump(db) == before


def test_a_line_feed_in_the_actor_variable_is_refused(demo, monkeypatch):
    monkeypatch.setenv("ROPA_ACTOR", "mallory\n## Approved by DPO")
    result = demo("source", "edit", "website-use", "--description", "changed")
    assert result.exit_code == 2
    assert "--actor must be one line" in result.stderr


@pytest.mark.parametrize("column", ["reviewer", "comment"])
def test_a_line_break_in_a_review_packs_reviewer_or_comment_is_refused(demo, db, column):
    from pathlib import Path

    from tests.test_review import _answer

    assert demo("activity", "edit", "marketing", "--owner", "ann@example.com").exit_code == 0
    assert demo("review", "pack", "--owner", "ann@example.com", "-o", "a.xlsx").exit_code == 0
    answer = {"review": "confirmed", "reviewer": "Ann", column: "ok\n## Approved by DPO"}
    _answer(Path("a.xlsx"), Path("back.xlsx"), {"marketing": answer})
    before = dump(db)
    result = demo("review", "import", "back.xlsx")
    assert result.exit_code == 1
    assert f"back.xlsx:activities:2:{column}: must be one line" in result.stderr
    assert dump(db) == before


# -- 6. the demo checks its outputs before the database is created or loaded --------------


def test_demo_onto_a_file_changes_no_database(cli, db_url, tmp_path):
    from ropa.db import Database

    (tmp_path / "notdb.txt").write_text("mine")
    result = cli("demo", "--out", "notdb.txt")
    assert result.exit_code == 2
    assert "for --out:" in result.stderr and "notdb.txt is a file" in result.stderr
    assert not Database.open(db_url).exists() or Database.open(db_url).info()["counts"] == {}
    assert (tmp_path / "notdb.txt").read_text() == "mine"


def test_demo_with_a_folder_in_place_of_an_output_changes_no_database(cli, db_url, tmp_path):
    from ropa.db import Database

    (tmp_path / "ex" / "ropa-record.pdf").mkdir(parents=True)
    result = cli("demo", "--out", "ex")
    assert result.exit_code == 1
    assert "ropa-record.pdf is a folder" in result.stderr
    assert not Database.open(db_url).exists()
    assert sorted(p.name for p in (tmp_path / "ex").iterdir()) == ["ropa-record.pdf"]


# -- 7. `-` is standard output or input where the output can go there, else refused -------


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["template", "-o", "-"], "for -o:"),
        (["review", "pack", "-o", "-"], "for -o:"),
        (["review", "pack", "--per-owner", "-o", "-"], "for -o:"),
        (["export", "xlsx", "--per-entity", "-o", "-"], "for -o:"),
        (["demo", "--out", "-"], "for --out:"),
    ],
)
def test_dash_is_refused_where_the_output_is_a_file_or_folder(demo, tmp_path, args, option):
    result = demo(*args)
    assert result.exit_code == 2
    assert option in result.stderr
    assert not (tmp_path / "-").exists()
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["export", "csv", "-o", "./-"],
        ["export", "yaml", "--output", "./-"],
        ["notice", "-o", "././-"],
        ["template", "-o", "./-"],
    ],
)
def test_a_file_named_dash_is_written_when_its_path_says_so(demo, tmp_path, args):
    """`-o ./-` asks for a file named `-`: the path came to the command as `-` (pathlib drops
    the `./`), and the output went to the terminal, exit 0, with no file written."""
    result = demo(*args)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert (tmp_path / "-").stat().st_size > 1000


def test_a_backup_to_dash_is_refused(demo, tmp_path):
    if not os.environ.get("ROPA_TEST_DATABASE_URL"):
        result = demo("db", "backup", "-")
        assert result.exit_code == 1
        assert "not standard output" in result.stderr
        assert not (tmp_path / "-").exists()


def test_a_review_pack_is_read_from_stdin(demo, db):
    from pathlib import Path

    from tests.test_review import _answer

    assert demo("activity", "edit", "marketing", "--owner", "ann@example.com").exit_code == 0
    assert demo("review", "pack", "--owner", "ann@example.com", "-o", "a.xlsx").exit_code == 0
    _answer(Path("a.xlsx"), Path("back.xlsx"), {"marketing": {"review": "confirmed"}})
    from typer.testing import CliRunner

    from ropa.cli import app

    result = CliRunner().invoke(
        app, ["review", "import", "-"], input=Path("back.xlsx").read_bytes()
    )
    assert result.exit_code == 0, result.stderr
    assert "reviewed: 1 confirmed" in result.stderr


# -- 8. an output replaced keeps its permissions -------------------------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "html"])
def test_overwriting_an_export_keeps_its_permissions(demo, tmp_path, fmt):
    target = tmp_path / f"private.{fmt}"
    assert demo("export", fmt, "-o", str(target)).exit_code == 0
    target.chmod(0o600)
    assert demo("export", fmt, "-o", str(target)).exit_code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


# -- 9. review packs per owner are written all or none -------------------------------------


def test_review_packs_per_owner_are_all_or_nothing(demo, tmp_path):
    folder = tmp_path / "packs"
    (folder / "review-request.csv").mkdir(parents=True)
    result = demo("review", "pack", "--per-owner", "-o", str(folder))
    assert result.exit_code == 1
    assert "review-request.csv is a folder" in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["review-request.csv"]


@pytest.mark.parametrize(
    ("arguments", "named_for"),
    [
        (("export", "yaml", "-o", "out.json"), "json"),
        (("export", "json", "-o", "out.yml"), "yaml"),
        (("export", "xlsx", "-o", "out.csv"), "csv"),
        (("export", "csv", "-o", "out.XLSX"), "xlsx"),
        (("export", "xlsx", "--layout", "data", "-o", "out.pdf"), "pdf"),
        (("notice", "-o", "notice.pdf"), "pdf"),
        (("notice", "-f", "markdown", "-o", "notice.html"), "html"),
        (("export", "jsonld", "-o", "out.yaml"), "yaml"),
    ],
)
def test_a_file_named_for_another_format_is_refused(
    initialised, sample, tmp_path, arguments, named_for
):
    """`export yaml -o out.json` wrote YAML into out.json, `notice -o notice.pdf` Markdown."""
    result = initialised(*arguments)
    assert result.exit_code == 1, result.stderr
    assert f"is named for {named_for} but would hold" in result.stderr
    assert not (tmp_path / arguments[-1]).exists()


def test_a_file_named_for_its_format_or_for_none_is_written(initialised, sample, tmp_path):
    for arguments in (
        ("export", "yaml", "-o", "out.YML"),
        ("export", "csv", "-o", "controller.txt"),
        ("export", "fides", "-o", "manifest.json"),
        ("export", "jsonld", "-o", "dpv.json"),
        ("notice", "-o", "notice"),
    ):
        result = initialised(*arguments)
        assert result.exit_code == 0, (arguments, result.stderr)
        assert (tmp_path / arguments[-1]).stat().st_size > 0


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_unicode_line_separators_are_not_one_line(initialised, separator):
    result = initialised("--actor", f"mallory{separator}Approved by the DPO", "db", "info")
    assert result.exit_code == 2
    assert "--actor must be one line" in result.stderr
    assert initialised("purpose", "add", "p", "--name", "P", "-m", f"a{separator}b").exit_code == 2


def test_a_message_or_actor_longer_than_a_field_holds_is_refused(initialised, registry):
    """-m took 100,000 characters into the history, where every field holds 32,767."""
    long = "x" * 32_768
    result = initialised("purpose", "add", "p", "--name", "P", "-m", long)
    assert result.exit_code == 2
    assert "--message is 32,768 characters long; at most 32,767" in result.stderr
    assert initialised("--actor", long, "db", "info").exit_code == 2
    assert registry.list("purpose") == []
    assert initialised("purpose", "add", "p", "--name", "P", "-m", long[1:]).exit_code == 0


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("İstanbul", "istanbul"),
        ("İstanbul", "ISTANBUL"),
        ("İstanbul", "İSTANBUL"),
        ("\u212aelvin Labs", "kelvin labs"),  # the Kelvin sign
    ],
)
def test_a_dotted_capital_i_compares_as_i_on_both_backends(demo, first, second):
    """Python lowers İ to i̇ (i and a combining dot), PostgreSQL to i: SQLite kept İstanbul and
    istanbul as two names, PostgreSQL's unique index refused the second with a database
    error. Names compare as PostgreSQL lowers them, on both, checked by ropa. (A name is
    stored composed, NFC: the Kelvin sign is stored as the letter K.)"""
    import unicodedata

    assert demo("source", "add", "i1", "--name", first).exit_code == 0
    refused = demo("source", "add", "i2", "--name", second)
    assert refused.exit_code == 1
    stored = unicodedata.normalize("NFC", first)
    assert refused.stderr == (
        f"error: source i2.name: source 'i1' already has the name {stored!r}; names are "
        "unique within their kind\n"
    )
    for given in (second, first.upper(), second[:3]):
        listed = demo("source", "list", "--search", given, "--format", "csv")
        assert listed.stdout.count("\ni1,") == 1, given


def test_the_letters_folded_to_ascii_are_all_there_are():
    from ropa.db import FOLDED_TO_ASCII, fold_case

    letters = (chr(c) for c in range(128, 0x110000) if not 0xD800 <= c < 0xE000)
    assert tuple(c for c in letters if fold_case(c).isascii()) == FOLDED_TO_ASCII


def test_a_name_the_database_refuses_after_ropa_let_it_through_is_one_line():
    """The backstop for a letter the database lowers differently from ropa (no known one
    now): PostgreSQL's unique-index error, in words."""
    from types import SimpleNamespace

    from ropa.db import _name_taken

    diag = SimpleNamespace(
        constraint_name="uq_sources_name",
        message_detail="Key (lower(name::text))=(istanbul) already exists.",
    )
    error = _name_taken(SimpleNamespace(orig=SimpleNamespace(diag=diag)))
    assert str(error) == (
        "the name 'istanbul' is taken in sources already, as this database compares names "
        "(ignoring case): rename one of them"
    )


def test_an_option_that_takes_one_value_given_twice_is_refused(demo):
    """The last one silently won: `--owner A --owner B` kept B."""
    for arguments, option in (
        (("activity", "edit", "marketing", "--owner", "a@x.org", "--owner", "b@x.org"), "--owner"),
        (("import", "x.csv", "--kind", "source", "--kind", "purpose"), "--kind"),
        (("--db", "one.db", "--db", "two.db", "db", "info"), "--db"),
        (("check", "-f", "json", "--format", "csv"), "--format"),
    ):
        result = demo(*arguments)
        assert result.exit_code == 2, arguments
        assert f"'{option}'" in result.stderr and "given more than once" in result.stderr
    owner = demo("activity", "show", "marketing", "-f", "json").stdout
    assert "a@x.org" not in owner and "b@x.org" not in owner
    # options that take several still repeat
    listed = demo("activity", "list", "--owner", "nobody", "--owner", "privacy@imperva.com")
    assert listed.exit_code == 0 and "marketing" in listed.stdout


def test_an_option_without_its_value_names_the_commands_help(demo):
    """Click's parser raised it without the command: the one line had no `--help` to see."""
    for arguments, path in (
        (("activity", "list", "--status"), " activity list"),
        (("export", "xlsx", "-o"), " export xlsx"),
        (("--db",), ""),
    ):
        result = demo(*arguments)
        assert result.exit_code == 2, arguments
        message, see = result.stderr.split(" (see `")
        assert message == f"error: Option '{arguments[-1]}' requires an argument.", arguments
        program = see.removesuffix(f"{path} --help`)\n")  # ropa (root under the test runner)
        assert program != see and program.isalpha(), (arguments, see)


def test_an_entity_named_with_a_dotted_capital_i_is_found(demo, tmp_path):
    """The Fides and DPV exports compared --entity with a group member's name by Python's lower(),
    not as names compare everywhere else (İ as i)."""
    assert demo("party", "edit", "imperva-inc", "--name", "İmperva İnc").exit_code == 0
    result = demo("export", "fides", "--entity", "imperva inc", "-o", "one.yaml")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "one.yaml").stat().st_size > 0
