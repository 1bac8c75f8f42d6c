"""The annual review: status per owner, packs per owner, and returned packs applied (with
the reviewer and comment in the history, stale rows refused)."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ropa.registry import Edit

TODAY = datetime.now(UTC).date()
LONG_AGO = TODAY - timedelta(days=800)


@pytest.fixture(autouse=True)
def _pinned_day(monkeypatch):
    """The register's day is the one these dates were counted from, even past midnight."""
    import ropa.history

    monkeypatch.setattr(ropa.history, "today", lambda: TODAY)


def _register() -> dict:
    def activity(key: str, owner: str | None, **more) -> dict:
        record = {
            "key": key,
            "name": f"Activity {key}",
            "description": f"What {key} does",
            "controller": "acme",
            "purposes": ["billing"],
            "lawful_bases": ["contract"],
            "data_subjects": ["customers"],
            "data_categories": ["contact"],
            "business_function": "Finance",
            "last_reviewed": LONG_AGO,
            **more,
        }
        if owner:
            record["owner"] = owner
        return record

    return {
        "ropa": 1,
        "parties": [
            {"key": "acme", "name": "Acme GmbH", "kind": "group-member", "country": "DE"},
            {"key": "mailer", "name": "Mailer Ltd", "kind": "service-provider", "country": "US"},
        ],
        "categories": [{"key": "contact", "name": "Contact details"}],
        "subjects": [{"key": "customers", "name": "Customers"}],
        "purposes": [{"key": "billing", "name": "Billing"}],
        "activities": [
            activity("a1", "alice@example.com"),
            activity(
                "a2",
                "alice@example.com",
                recipients=["mailer"],
                transfers=[{"country": "US", "mechanism": "scc", "recipient": "mailer"}],
            ),
            activity("a3", "alice@example.com"),
            activity("b1", "Bob Builder"),
            activity("b2", "Bob Builder", last_reviewed=TODAY - timedelta(days=350)),
            activity("n1", None),
        ],
    }


@pytest.fixture
def register(registry):
    registry.import_documents([(_register(), "register.yaml")])
    return registry


def _sheet(path: Path, name: str) -> list[list]:
    from python_calamine import CalamineWorkbook

    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


def _answer(pack: Path, returned: Path, answers: dict[str, dict]) -> None:
    """Fill in a pack as an owner would: per activity key, the cells to set (a value of
    None empties a cell); `blank_others` empties every other data cell of that row."""
    import openpyxl

    book = openpyxl.load_workbook(pack)
    sheet = book["activities"]
    headers = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        key = row[headers.index("key")].value
        if key not in answers:
            continue
        cells = dict(answers[key])
        if cells.pop("blank_others", False):
            for cell, header in zip(row, headers, strict=True):
                if header not in ("key", *cells):
                    cell.value = None
        for header, value in cells.items():
            row[headers.index(header)].value = value
    book.save(returned)


def _comparable(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in ("version", "updated_at", "created_at")}


def test_review_status_counts_overdue_and_due_soon_per_owner(register, cli):
    result = cli("review", "status", "-f", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    by_key = {r["activity"]: r for r in rows}
    assert [r["owner"] for r in rows] == [
        "alice@example.com",
        "alice@example.com",
        "alice@example.com",
        "Bob Builder",
        "Bob Builder",
        None,
    ]
    assert by_key["a1"]["overdue"] is True and by_key["a1"]["last_reviewed"] == str(LONG_AGO)
    assert by_key["b2"]["overdue"] is False and by_key["b2"]["due_soon"] is True
    table = cli("review", "status", "--owner", "bob builder").stdout
    assert "Bob Builder" in table and "alice" not in table
    assert "2 activities, 1 overdue" in table
    assert "(no-owner)" in cli("review", "status").stdout


def test_review_packs_per_owner_hold_the_data_layout_pages_and_versions(register, cli):
    Path("file.xlsx").write_bytes(b"")
    refused = cli("review", "pack", "--per-owner", "-o", "file.xlsx")
    assert refused.stderr == "error: file.xlsx is a file; --per-owner needs a folder (-o DIR)\n"
    Path("dangling").symlink_to("nowhere/x")  # a link to nothing: was "File exists"
    dangling = cli("review", "pack", "--per-owner", "-o", "dangling")
    assert dangling.stderr == (
        "error: dangling is a symlink to nothing (nowhere/x); --per-owner needs a folder (-o DIR)\n"
    )
    result = cli("review", "pack", "--per-owner", "-o", "packs")  # the folder is made
    assert result.exit_code == 0, result.stderr
    names = sorted(p.name for p in Path("packs").iterdir())
    assert names == [
        "review-Bob-Builder.xlsx",
        "review-alice-example.com.xlsx",
        "review-no-owner.xlsx",
        "review-request.csv",
    ]
    with open("packs/review-request.csv", encoding="utf-8-sig", newline="") as f:
        requests = list(csv.reader(f))
    assert requests == [
        ["owner", "activities", "overdue", "pack"],
        ["alice@example.com", "3", "3", "review-alice-example.com.xlsx"],
        ["Bob Builder", "2", "1", "review-Bob-Builder.xlsx"],
        ["", "1", "1", "review-no-owner.xlsx"],
    ]
    pack = Path("packs/review-alice-example.com.xlsx")
    activities = _sheet(pack, "activities")
    assert activities[0][-3:] == ["review", "reviewer", "comment"]
    assert [row[0] for row in activities[1:]] == ["a1", "a2", "a3"]
    assert [row[0] for row in _sheet(pack, "transfers")[1:]] == ["a2"]
    pages = _sheet(pack, "Activity pages")
    assert any("Activity a2" in str(row[0]) for row in pages)
    versions = _sheet(pack, "pack versions")
    assert versions[1:] == [["a1", 1.0], ["a2", 1.0], ["a3", 1.0]]
    instructions = _sheet(pack, "instructions")
    assert any("REVIEW PACK" in str(row[0]) for row in instructions)


def test_a_full_review_cycle(register, cli):
    before = {a["key"]: a for a in register.list("activity")}
    Path("packs").mkdir()
    assert cli("review", "pack", "--per-owner", "-o", "packs").exit_code == 0
    # Alice answers: a1 confirmed, a2 changed (one cell edited, the others emptied), a3
    # retired. Bob has not answered yet.
    _answer(
        Path("packs/review-alice-example.com.xlsx"),
        Path("alice.xlsx"),
        {
            "a1": {
                "review": "confirmed",
                "reviewer": "Alice A",
                "comment": "still true",
            },
            "a2": {
                "blank_others": True,
                "description": "Now also invoices by post",
                "review": "changed",
                "reviewer": "Alice A",
                "comment": "post added",
            },
            "a3": {"review": "retire", "comment": "stopped in May"},
        },
    )
    findings = json.loads(cli("check", "--rule", "R17", "-f", "json").stdout)["findings"]
    assert {f["key"] for f in findings} >= {"a1", "a2", "a3", "b1"}

    dry = cli("review", "import", "alice.xlsx", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "dry run" in dry.stderr
    assert register.get("activity", "a1")["last_reviewed"] == LONG_AGO

    result = cli("review", "import", "alice.xlsx")
    assert result.exit_code == 0, result.stderr
    assert "reviewed: 1 changed, 1 confirmed, 1 retire; not reviewed: 0" in result.stderr

    after = {a["key"]: a for a in register.list("activity")}
    a1 = _comparable(after["a1"])
    assert a1 == _comparable(before["a1"]) | {"last_reviewed": TODAY}
    a2 = _comparable(after["a2"])
    assert a2 == _comparable(before["a2"]) | {
        "last_reviewed": TODAY,
        "description": "Now also invoices by post",
    }
    assert after["a2"]["transfers"] == before["a2"]["transfers"]
    assert _comparable(after["a3"]) == _comparable(before["a3"]) | {"status": "retired"}
    assert after["b1"] == before["b1"]

    findings = json.loads(cli("check", "--rule", "R17", "-f", "json").stdout)["findings"]
    flagged = {f["key"] for f in findings}
    assert not flagged & {"a1", "a2", "a3"}
    assert "b1" in flagged

    latest = {key: register.history(key=key, kind="activity")[-1] for key in ("a1", "a2", "a3")}
    assert (latest["a1"].actor, latest["a1"].message) == ("Alice A", "still true")
    assert (latest["a2"].actor, latest["a2"].message) == ("Alice A", "post added")
    assert (latest["a3"].actor, latest["a3"].action) == ("tester", "retire")
    assert latest["a3"].message == "stopped in May"


def test_a_review_is_dated_by_the_registers_clock(register, cli, monkeypatch):
    """The day a review is dated comes from `ropa.history.today`, the one clock the tests
    pin: a run that crossed midnight dated it by the wall clock instead."""
    import ropa.history

    monkeypatch.setattr(ropa.history, "today", lambda: TODAY - timedelta(days=3))
    assert cli("review", "pack", "--owner", "Bob Builder", "-o", "bob.xlsx").exit_code == 0
    _answer(Path("bob.xlsx"), Path("bob-back.xlsx"), {"b2": {"review": "confirmed"}})
    assert cli("review", "import", "bob-back.xlsx").exit_code == 0
    assert register.get("activity", "b2")["last_reviewed"] == TODAY - timedelta(days=3)


def test_a_stale_pack_is_refused_unless_skip_stale(register, cli):
    from ropa.planning import Edit

    assert cli("review", "pack", "--owner", "Bob Builder", "-o", "bob.xlsx").exit_code == 0
    register.db  # noqa: B018
    from ropa.registry import Registry

    Registry(register.db, actor="carol").edit(
        "activity", "b1", Edit(set={"description": "Edited meanwhile"})
    )
    _answer(
        Path("bob.xlsx"),
        Path("bob-back.xlsx"),
        {"b1": {"review": "confirmed", "reviewer": "Bob"}, "b2": {"review": "confirmed"}},
    )
    result = cli("review", "import", "bob-back.xlsx")
    assert result.exit_code == 1
    assert "activity b1 changed since the pack was made, by carol on " in result.stderr
    assert "bob-back.xlsx:activities:2" in result.stderr
    assert register.get("activity", "b2")["last_reviewed"] == TODAY - timedelta(days=350)

    result = cli("review", "import", "bob-back.xlsx", "--skip-stale")
    assert result.exit_code == 0, result.stderr
    assert "skipped bob-back.xlsx:activities:2: activity b1 changed" in result.stderr
    assert register.get("activity", "b2")["last_reviewed"] == TODAY
    b1 = register.get("activity", "b1")
    assert b1["last_reviewed"] == LONG_AGO and b1["description"] == "Edited meanwhile"


def test_a_pack_of_an_activity_removed_and_made_again_is_stale(register, cli):
    assert cli("review", "pack", "--owner", "Bob Builder", "-o", "bob.xlsx").exit_code == 0
    assert cli("activity", "remove", "b1").exit_code == 0
    again = cli(
        "activity", "add", "b1", "--name", "Other work", "--controller", "acme",
        "--purpose", "billing", "--basis", "contract", "--owner", "Bob Builder",
    )  # fmt: skip
    assert again.exit_code == 0, again.stderr
    _answer(Path("bob.xlsx"), Path("bob-back.xlsx"), {"b1": {"review": "changed"}})
    result = cli("review", "import", "bob-back.xlsx")
    assert result.exit_code == 1
    assert "activity b1 changed since the pack was made" in result.stderr
    assert register.get("activity", "b1")["name"] == "Other work"


def test_rows_without_a_review_are_left_alone_and_a_bad_review_is_an_error(register, cli):
    assert cli("review", "pack", "--owner", "alice@example.com", "-o", "a.xlsx").exit_code == 0
    _answer(Path("a.xlsx"), Path("back.xlsx"), {"a1": {"review": "confirmed"}})
    result = cli("review", "import", "back.xlsx")
    assert result.exit_code == 0, result.stderr
    assert "not reviewed: 2" in result.stderr
    assert register.get("activity", "a2")["last_reviewed"] == LONG_AGO
    _answer(Path("a.xlsx"), Path("bad.xlsx"), {"a2": {"review": "maybe"}})
    result = cli("review", "import", "bad.xlsx")
    assert result.exit_code == 1
    assert "bad.xlsx:activities:3:review: 'maybe' is not a review" in result.stderr


def test_review_pack_due_within_takes_only_activities_due_in_that_window(register, cli):
    result = cli("review", "pack", "--due-within", "30d", "-o", "due.xlsx")
    assert result.exit_code == 0, result.stderr
    keys = [row[0] for row in _sheet(Path("due.xlsx"), "activities")[1:]]
    assert keys == ["a1", "a2", "a3", "b1", "b2", "n1"]
    result = cli("review", "pack", "--owner", "Bob Builder", "--due-within", "0d", "-o", "b.xlsx")
    assert [row[0] for row in _sheet(Path("b.xlsx"), "activities")[1:]] == ["b1"]
    result = cli("review", "pack", "--due-within", "soon")
    assert result.exit_code == 2
    assert "error: --due-within: 'soon' is not a duration" in result.stderr


def _instructions(pack: Path) -> str:
    return " ".join(str(c) for row in _sheet(pack, "instructions") for c in row if c)


def test_a_pack_says_how_to_return_it_and_a_plain_import_refuses_it(register, cli):
    assert cli("review", "pack", "--owner", "alice@example.com", "-o", "a.xlsx").exit_code == 0
    text = _instructions(Path("a.xlsx"))
    assert "ropa review import" in text
    assert "ropa import" not in text.replace("ropa review import", "")
    assert "empty cell clears" not in text
    _answer(Path("a.xlsx"), Path("back.xlsx"), {"a1": {"review": "confirmed"}})
    result = cli("import", "back.xlsx", "--dry-run")
    assert result.exit_code == 1
    assert "back.xlsx: is a review pack; apply it with `ropa review import`" in result.stderr
    assert register.get("activity", "a1")["last_reviewed"] == LONG_AGO


def test_the_template_says_an_empty_cell_keeps_the_value(initialised, cli):
    assert cli("template", "-o", "t.xlsx").exit_code == 0
    text = _instructions(Path("t.xlsx"))
    assert "empty cell clears" not in text and "--blank clear" in text


def test_formulas_in_the_review_columns_are_refused(register, cli):
    assert cli("review", "pack", "--owner", "alice@example.com", "-o", "a.xlsx").exit_code == 0
    _answer(
        Path("a.xlsx"),
        Path("back.xlsx"),
        {
            "a1": {"review": '=IF(1,"confirmed","")'},
            "a2": {"review": "confirmed", "comment": '=HYPERLINK("http://x.test","ok")'},
        },
    )
    result = cli("review", "import", "back.xlsx")
    assert result.exit_code == 1
    assert "back.xlsx:activities:2:review: holds the formula =IF(" in result.stderr
    assert "back.xlsx:activities:3:comment: holds the formula =HYPERLINK(" in result.stderr
    assert register.get("activity", "a2")["last_reviewed"] == LONG_AGO


@pytest.mark.parametrize("review", ["changed", "confirmed"])
def test_deleting_the_transfer_row_of_a_reviewed_activity(register, cli, review):
    """Changed: the transfer is removed. Confirmed: refused, not the edit dropped."""
    import openpyxl

    assert cli("review", "pack", "--owner", "alice@example.com", "-o", "a.xlsx").exit_code == 0
    _answer(Path("a.xlsx"), Path("back.xlsx"), {"a2": {"review": review}})
    book = openpyxl.load_workbook("back.xlsx")
    book["transfers"].delete_rows(2)
    book.save("back.xlsx")
    result = cli("review", "import", "back.xlsx")
    if review == "changed":
        assert result.exit_code == 0, result.stderr
        assert register.get("activity", "a2")["transfers"] == []
        return
    assert result.exit_code == 1
    assert "back.xlsx:activities:3: the row's transfers differs from the register" in result.stderr
    assert register.get("activity", "a2")["transfers"][0]["recipient"] == "mailer"


def test_owners_differing_in_case_are_one_owner_and_an_unknown_owner_is_an_error(register, cli):
    from ropa.planning import Edit

    register.edit("activity", "b2", Edit(set={"owner": "bob builder"}))
    Path("packs").mkdir()
    assert cli("review", "pack", "--per-owner", "-o", "packs").exit_code == 0
    names = sorted(p.name for p in Path("packs").iterdir())
    assert names == [
        "review-Bob-Builder.xlsx",
        "review-alice-example.com.xlsx",
        "review-no-owner.xlsx",
        "review-request.csv",
    ]
    assert [r[0] for r in _sheet(Path("packs/review-Bob-Builder.xlsx"), "activities")[1:]] == [
        "b1",
        "b2",
    ]
    rows = json.loads(cli("review", "status", "-f", "json").stdout)
    assert [r["owner"] for r in rows if r["activity"] in ("b1", "b2")] == ["Bob Builder"] * 2
    result = cli("review", "pack", "--owner", "nobody", "-o", "n.xlsx")
    assert result.exit_code == 1
    assert "error: --owner: no activity is owned by 'nobody'" in result.stderr
    assert not Path("n.xlsx").exists()


def test_the_json_report_of_a_review_import_holds_the_review(register, cli):
    assert cli("review", "pack", "--owner", "alice@example.com", "-o", "a.xlsx").exit_code == 0
    _answer(Path("a.xlsx"), Path("back.xlsx"), {"a1": {"review": "confirmed"}})
    result = cli("review", "import", "back.xlsx", "--report", "json")
    assert result.exit_code == 0, result.stderr
    review = json.loads(result.stdout)["review"]
    assert review == {"confirmed": 1, "changed": 0, "retire": 0, "not_reviewed": 2, "stale": []}


def test_a_row_of_an_unknown_activity_is_one_error(register, cli):
    assert cli("review", "pack", "--owner", "alice@example.com", "-o", "a.xlsx").exit_code == 0
    _answer(Path("a.xlsx"), Path("back.xlsx"), {"a1": {"review": "confirmed", "key": "zz"}})
    result = cli("review", "import", "back.xlsx")
    assert result.exit_code == 1
    assert "no activity 'zz' in the register" in result.stderr
    assert "needs a name" not in result.stderr
    folder = cli("review", "import", ".")
    assert folder.exit_code == 1 and "error: .: is a folder" in folder.stderr


def test_the_instructions_rows_are_as_tall_as_their_wrapped_text(register, cli):
    """LibreOffice does not grow a row for wrapped text: the review column's long meaning
    printed over the next rows."""
    import openpyxl

    assert cli("review", "pack", "--owner", "alice@example.com", "-o", "a.xlsx").exit_code == 0
    sheet = openpyxl.load_workbook("a.xlsx")["instructions"]
    review = next(
        r for r in sheet.iter_rows() if r[0].value == "activities" and r[1].value == "review"
    )
    lines = len(review[2].value) // 58 + 1
    assert lines >= 3 and sheet.row_dimensions[review[0].row].height >= 15 * lines


def test_a_review_import_reads_only_the_reviewed_activities(register, cli):
    """Packs are checked with indexed look-ups, as an import is: no statement reads a whole
    table, whatever the register's size."""
    from ropa.review import read_pack
    from tests.test_import_scale import _counted, _reads_a_whole_table

    assert cli("review", "pack", "--owner", "alice@example.com", "-o", "alice.xlsx").exit_code == 0
    _answer(
        Path("alice.xlsx"),
        Path("back.xlsx"),
        {
            "a1": {"review": "confirmed"},
            "a2": {"review": "changed", "description": "Now also invoices by post"},
        },
    )
    with _counted(register) as statements:
        outcome = register.apply_review([read_pack(Path("back.xlsx"))])
    assert [s for s in statements if _reads_a_whole_table(s)] == []
    assert outcome.reviewed == {"confirmed": 1, "changed": 1}
    assert register.get("activity", "a2")["description"] == "Now also invoices by post"


def test_a_packs_file_keeps_the_owners_letters():
    from ropa.review import safe_name

    assert safe_name("Jürgen Ölmann") == "Jürgen-Ölmann"
    assert safe_name("Łukasz@example.pl") == "Łukasz-example.pl"
    assert safe_name("../../etc/passwd") == "etc-passwd"
    assert safe_name("a\u0308") == "ä"  # one letter, as the file system shows it


def test_an_owner_of_nothing_is_an_error_for_status_as_for_a_pack(register, cli):
    for arguments in (("status", "-f", "csv"), ("pack", "-o", "nobody.xlsx")):
        result = cli("review", *arguments, "--owner", "nobody@example.com")
        assert result.exit_code == 1, arguments
        assert result.stderr == "error: --owner: no activity is owned by 'nobody@example.com'\n"
    header = cli("review", "status", "-f", "csv", "--entity", "acme").stdout.splitlines()[0]
    assert header == "owner,activity,name,last_reviewed,next_review,overdue,due_soon"


def test_a_row_of_an_activity_removed_since_the_pack_is_stale(register, cli):
    """It was 'no activity in the register', an error even with --skip-stale."""
    assert cli("review", "pack", "--owner", "Bob Builder", "-o", "bob.xlsx").exit_code == 0
    assert cli("activity", "remove", "b1").exit_code == 0
    assert cli("activity", "edit", "b2", "--description", "one").exit_code == 0
    assert cli("activity", "edit", "b2", "--description", "two").exit_code == 0
    _answer(
        Path("bob.xlsx"),
        Path("bob-back.xlsx"),
        {"b1": {"review": "confirmed"}, "b2": {"review": "confirmed"}},
    )
    result = cli("review", "import", "bob-back.xlsx")
    assert result.exit_code == 1
    assert "activity b1 was removed since the pack was made, by tester on " in result.stderr
    assert "activity b2 changed since the pack was made, by tester, the last on " in result.stderr
    skipped = cli("review", "import", "bob-back.xlsx", "--skip-stale")
    assert skipped.exit_code == 0, skipped.stderr
    assert "skipped bob-back.xlsx:activities:2: activity b1 was removed since" in skipped.stderr


def test_owners_are_one_owner_exactly_when_owner_matches_them_as_one():
    """Packs grouped owners by casefold() (STRASSE with Straße) while `--owner` matched with
    lower(): one pack, but the filter found only half of it."""
    from ropa.review import grouped

    activities = [
        {"key": k, "owner": o}
        for k, o in (("a", "STRASSE"), ("b", "Straße"), ("c", "ΟΔΥΣΣΕΑΣ"), ("d", "οδυσσεας"))
    ]
    assert [(owner, [a["key"] for a in group]) for owner, group in grouped(activities)] == [
        ("STRASSE", ["a"]),
        ("Straße", ["b"]),
        ("ΟΔΥΣΣΕΑΣ", ["c", "d"]),
    ]


def test_a_pack_file_named_for_another_format_is_refused(register, cli):
    result = cli("review", "pack", "--owner", "Bob Builder", "-o", "r.csv")
    assert result.exit_code == 1
    assert "r.csv is named for csv but would hold xlsx" in result.stderr
    assert not Path("r.csv").exists()


@pytest.mark.parametrize("typed", ["a2x", "A2 "])
def test_a_transfer_row_naming_another_activity_is_refused_not_dropped(register, cli, typed):
    """A transfers row of a changed activity whose activity cell was mistyped was dropped:
    the changed activity had no rows left, and the import removed its transfer, exit 0."""
    import openpyxl

    assert cli("review", "pack", "--owner", "alice@example.com", "-o", "a.xlsx").exit_code == 0
    _answer(Path("a.xlsx"), Path("back.xlsx"), {"a2": {"review": "changed"}})
    book = openpyxl.load_workbook("back.xlsx")
    book["transfers"]["A2"] = typed
    book.save("back.xlsx")
    result = cli("review", "import", "back.xlsx")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"error: back.xlsx:transfers:2:activity: {typed.strip()!r} is not an activity of this "
        "pack (a1, a2, a3)"
    )
    assert register.get("activity", "a2")["transfers"][0]["recipient"] == "mailer"


def test_a_sheet_the_pack_does_not_know_is_refused(register, cli):
    """A transfers sheet renamed (Excel's 'Transfers (2)' copy) was ignored: its rows were
    lost without a word."""
    import openpyxl

    assert cli("review", "pack", "--owner", "alice@example.com", "-o", "a.xlsx").exit_code == 0
    _answer(Path("a.xlsx"), Path("back.xlsx"), {"a2": {"review": "changed"}})
    book = openpyxl.load_workbook("back.xlsx")
    book["transfers"].title = "Transfers (2)"
    book.save("back.xlsx")
    result = cli("review", "import", "back.xlsx")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: back.xlsx:Transfers (2): is not a sheet of a review pack (activities, "
        "transfers, retention"
    )
    assert register.get("activity", "a2")["transfers"][0]["recipient"] == "mailer"


def test_a_key_on_two_rows_of_a_pack_is_refused_even_when_one_is_not_reviewed(register, cli):
    """A reviewed row whose key was changed to another activity of the pack (left without a
    review) was applied to that activity: its fields were overwritten with the row's."""
    assert cli("review", "pack", "--owner", "alice@example.com", "-o", "a.xlsx").exit_code == 0
    before = register.get("activity", "a3")
    _answer(
        Path("a.xlsx"),
        Path("back.xlsx"),
        {"a1": {"review": "changed", "key": "a3", "name": "Renamed", "description": "Other"}},
    )
    result = cli("review", "import", "back.xlsx")
    assert result.exit_code == 1
    assert "error: back.xlsx:activities:" in result.stderr
    assert "'a3' is on rows 2 and 4; a pack lists each activity once" in result.stderr
    assert register.get("activity", "a3") == before


def test_an_error_in_a_review_column_is_called_an_error(register, cli):
    """An error cell in the review column was reported as 'holds the formula =#REF!'."""
    import re
    import zipfile

    assert cli("review", "pack", "--owner", "alice@example.com", "-o", "a.xlsx").exit_code == 0
    _answer(Path("a.xlsx"), Path("back.xlsx"), {"a1": {"review": "PLACEHOLDER"}})
    with zipfile.ZipFile("back.xlsx") as archive:
        parts = {i.filename: archive.read(i) for i in archive.infolist()}
    cell = re.compile(rb'<c r="([A-Z]+[0-9]+)"[^>]*>(?:(?!</c>).)*?PLACEHOLDER.*?</c>', re.S)
    for part, data in parts.items():
        if part.startswith("xl/worksheets/") and b"PLACEHOLDER" in data:
            parts[part] = cell.sub(rb'<c r="\1" t="e"><v>#REF!</v></c>', data)
    with zipfile.ZipFile("back.xlsx", "w", zipfile.ZIP_DEFLATED) as archive:
        for part, data in parts.items():
            archive.writestr(part, data)
    result = cli("review", "import", "back.xlsx")
    assert result.exit_code == 1
    assert "activities:2:review: holds the spreadsheet error #REF!; type the value" in result.stderr


@pytest.mark.parametrize("review", ["confirmed", "retire"])
def test_a_row_edited_but_not_marked_changed_is_refused_not_its_edits_dropped(
    register, cli, review
):
    """An owner who corrected a cell and wrote `confirmed` lost the correction: the row was
    taken as reviewed as it stood, the edit dropped, exit 0."""
    assert cli("review", "pack", "--owner", "alice@example.com", "-o", "a.xlsx").exit_code == 0
    _answer(Path("a.xlsx"), Path("back.xlsx"), {"a1": {"review": review, "description": "Fixed"}})
    result = cli("review", "import", "back.xlsx")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"error: back.xlsx:activities:2: the row's description differs from the register, "
        f"and {review!r} applies no edit; write 'changed' to apply it, or undo the edit"
    )
    a1 = register.get("activity", "a1")
    assert (a1["description"], a1["last_reviewed"], a1["status"]) == (
        "What a1 does",
        LONG_AGO,
        "active",
    )


def test_a_row_confirmed_as_it_came_is_never_taken_for_an_edit(register, cli):
    """What the import itself changes in a stored record is no edit of the owner's: a name
    stored decomposed or with a line break before today's rules, a description with trailing
    spaces, transfers and retention rows sorted otherwise, the date a confirmed row sets or
    the status a retired row sets. Each made a confirmed or retire row refused."""
    import openpyxl
    from sqlalchemy import text

    register.edit(
        "activity",
        "a2",
        Edit(add={"retention": [{"duration": "P6M"}, {"duration": "P1Y"}],
                  "transfers": [{"country": "IN", "mechanism": "scc"}]}),
    )  # fmt: skip
    with register.db.write() as conn:  # as an older ropa could have stored them
        for key, field, value in (
            ("a1", "name", "Cafe\u0301 Marketing"),
            ("a3", "name", "Two\nlines"),
            ("a1", "description", "What a1 does  "),
        ):
            conn.execute(text(f"UPDATE activities SET {field} = :v WHERE key = :k"),
                         {"v": value, "k": key})  # fmt: skip
    assert cli("review", "pack", "--owner", "alice@example.com", "-o", "a.xlsx").exit_code == 0
    _answer(
        Path("a.xlsx"),
        Path("back.xlsx"),
        {
            "a1": {"review": "confirmed", "last_reviewed": TODAY},
            "a2": {"review": "confirmed"},
            "a3": {"review": "retire", "status": "retired"},
        },
    )
    book = openpyxl.load_workbook("back.xlsx")
    for name in ("transfers", "retention"):
        sheet = book[name]
        rows = sorted(([c.value for c in r] for r in sheet.iter_rows(min_row=2)), reverse=True)
        for r, values in enumerate(rows, 2):
            for c, value in enumerate(values, 1):
                sheet.cell(r, c, value)
    book.save("back.xlsx")
    result = cli("review", "import", "back.xlsx")
    assert result.exit_code == 0, result.stderr
    assert "reviewed: 2 confirmed, 1 retire" in result.stderr
    assert "activities:4:name: must be one line" in result.stderr  # a warning: not applied
    assert register.get("activity", "a3")["status"] == "retired"
    assert register.get("activity", "a1")["description"] == "What a1 does  "


def test_a_pack_past_a_sheets_last_row_says_how_to_make_it_smaller(
    initialised, sample, monkeypatch, tmp_path
):
    # The error suggested `ropa export csv --layout data`, which makes no review pack.
    from ropa.io import xlsx_rows

    monkeypatch.setattr(xlsx_rows, "MAX_ROWS", 2)
    result = initialised("review", "pack", "--owner", "privacy@imperva.com", "-o", "pack.xlsx")
    assert result.exit_code == 1
    assert "more rows than a sheet holds (2)" in result.stderr
    assert "make smaller packs (`--due-within`, or one owner's with `--owner`)" in result.stderr
    assert "--layout data" not in result.stderr
    assert not (tmp_path / "pack.xlsx").exists()
