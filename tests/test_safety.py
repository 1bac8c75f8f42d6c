"""Nothing a privacy officer does loses register data (issue 11): the demo never loads into a
register, blank cells keep values, the import report, integrity both ways, `init --force`,
targeted transfer removal and `--replace` limited to the kinds the files contain."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import SAMPLE, dump


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _template_row(cli, path: Path, **cells: str) -> Path:
    """The template, with one row in the activities sheet: the given cells, the rest blank."""
    assert cli("template", "-o", path).exit_code == 0
    book = openpyxl.load_workbook(path)
    sheet = book["activities"]
    header = [c.value for c in sheet[1]]
    sheet.append([cells.get(name) for name in header])
    book.save(path)
    return path


# -- 1. the demo -------------------------------------------------------------------------


def test_demo_is_refused_on_a_foreign_register_and_changes_nothing(initialised, db, tmp_path):
    cli = initialised
    assert cli("party", "add", "acme", "--name", "Acme", "--kind", "group-member").exit_code == 0
    assert cli("purpose", "add", "marketing", "--name", "Our own marketing").exit_code == 0
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "registry.yaml").write_text("mine\n")
    before, files = dump(db), _tree(tmp_path / "exports")
    db.dispose()
    sqlite_bytes = db.path.read_bytes() if db.path is not None else None
    result = cli("demo")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
    assert "holds a register" in result.stderr and "--db" in result.stderr
    assert dump(db) == before
    assert _tree(tmp_path / "exports") == files
    if db.path is not None:  # the SQLite file itself, byte for byte
        assert db.path.read_bytes() == sqlite_bytes


def test_demo_goes_ahead_on_its_own_register(cli):
    assert cli("demo").exit_code == 0
    again = cli("demo")
    assert again.exit_code == 0, again.stderr
    assert "0 created, 0 updated, 75 unchanged" in again.stderr


# -- 2. blank cells keep values; the report ----------------------------------------------


def test_a_template_row_with_blanks_keeps_every_other_field(initialised, tmp_path):
    cli = initialised
    cli("import", SAMPLE)
    cli("export", "yaml", "-o", "before.yaml")
    path = _template_row(
        cli, tmp_path / "t.xlsx", key="marketing", name="Marketing (renamed)", owner="cmo@x.eu"
    )
    result = cli("import", path)
    assert result.exit_code == 0, result.stderr
    assert "--blank keep" in result.stderr and "--blank clear" in result.stderr
    assert "empty cells of existing records kept the stored value" in result.stderr
    cli("export", "yaml", "-o", "after.yaml")
    before = (tmp_path / "before.yaml").read_text().splitlines()
    after = (tmp_path / "after.yaml").read_text().splitlines()
    changed = [(b, a) for b, a in zip(before, after, strict=True) if a != b]
    assert changed == [
        ("  name: Marketing to interested people", "  name: Marketing (renamed)"),
        ("  owner: privacy@imperva.com", "  owner: cmo@x.eu"),
    ]


def test_blank_clear_makes_empty_cells_clear_fields(initialised, registry, tmp_path):
    cli = initialised
    cli("import", SAMPLE)
    path = _template_row(cli, tmp_path / "t.xlsx", key="marketing", name="Marketing", owner="o")
    result = cli("import", path, "--blank", "clear")
    assert result.exit_code == 0, result.stderr
    marketing = registry.get("activity", "marketing")
    assert marketing["purposes"] == [] and marketing["lawful_bases"] == []
    assert marketing["controller"] is None and marketing["transfers"] == []
    assert marketing["retention"] == []


def test_the_dry_run_json_report_lists_exactly_the_changed_fields(initialised, db, tmp_path):
    cli = initialised
    cli("import", SAMPLE)
    path = _template_row(
        cli, tmp_path / "t.xlsx", key="marketing", name="Marketing (renamed)", owner="cmo@x.eu"
    )
    before = dump(db)
    result = cli("import", path, "--dry-run", "--report", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["created"] == [] and report["removed"] == []
    assert report["updated"] == [
        {
            "kind": "activity",
            "key": "marketing",
            "changes": {
                "name": {
                    "before": "Marketing to interested people",
                    "after": "Marketing (renamed)",
                },
                "owner": {"before": "privacy@imperva.com", "after": "cmo@x.eu"},
            },
        }
    ]
    assert report["unchanged"] == 74
    assert any("--blank keep" in w for w in report["warnings"])
    assert dump(db) == before


def test_the_report_marks_cleared_fields_and_lists_creations(initialised, registry, tmp_path):
    cli = initialised
    cli("import", SAMPLE)
    first = registry.document()["purposes"][0]
    assert first.get("description")
    (tmp_path / "p.csv").write_text(
        f"key,name,description\n{first['key']},{first['name']},\nnew,New one,x\n"
    )
    table = cli("import", "p.csv", "--kind", "purpose", "--blank", "clear", "--dry-run")
    assert "created │ purpose new" in table.stderr
    assert "description:" in table.stderr and "(cleared)" in table.stderr
    result = cli("import", "p.csv", "--kind", "purpose", "--blank", "clear", "--report", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["created"] == [{"kind": "purpose", "key": "new"}]
    assert report["updated"] == [
        {
            "kind": "purpose",
            "key": first["key"],
            "changes": {"description": {"before": first["description"], "after": None}},
        }
    ]
    assert registry.get("purpose", first["key"])["description"] is None


# -- 3. an empty name --------------------------------------------------------------------


def test_an_empty_purpose_name_is_an_error_naming_the_cell(initialised, tmp_path):
    cli = initialised
    (tmp_path / "purposes.csv").write_text("key,name\nads,\n")
    (tmp_path / "activities.csv").write_text("key,name,purposes\nact1,Act one,ads\n")
    result = cli("import", "purposes.csv", "activities.csv")
    assert result.exit_code == 1
    assert "error: purposes.csv:purposes:2:name: a purpose needs a name" in result.stderr
    assert "Traceback" not in result.stderr


# -- 4. integrity both ways --------------------------------------------------------------


def _three_activities(cli) -> None:
    cli("party", "add", "nl-de", "--name", "NL DE", "--kind", "group-member", "--country", "DE")
    cli("purpose", "add", "p", "--name", "P")
    for key in ("a1", "a2", "a3"):
        added = cli(
            "activity", "add", key, "--name", key, "--controller", "nl-de", "--purpose", "p"
        )  # fmt: skip
        assert added.exit_code == 0, added.stderr


def test_a_controller_party_kind_change_is_refused_naming_the_activities(initialised, db):
    cli = initialised
    _three_activities(cli)
    before = dump(db)
    result = cli("party", "edit", "nl-de", "--kind", "service-provider")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert [line.split("'")[1] for line in lines] == ["a1", "a2", "a3"]
    assert lines[0] == (
        "error: party nl-de: would make activity 'a1' invalid: controller: 'nl-de' is a "
        "service-provider party, not a group-member party; the controller must be a legal "
        "entity of the group"
    )
    assert dump(db) == before


def test_an_import_changing_a_controller_party_kind_is_refused(initialised, db, tmp_path):
    cli = initialised
    _three_activities(cli)
    (tmp_path / "parties.csv").write_text("key,name,kind\nnl-de,NL DE,service-provider\n")
    before = dump(db)
    result = cli("import", "parties.csv")
    assert result.exit_code == 1
    assert "would make activity 'a2' invalid" in result.stderr
    assert dump(db) == before


# -- 5. init --force ---------------------------------------------------------------------


def test_init_force_without_yes_off_a_terminal_exits_2_and_changes_nothing(initialised, db):
    cli = initialised
    cli("purpose", "add", "p", "--name", "P")
    before = dump(db)
    result = cli("init", "--force")
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert dump(db) == before


@pytest.mark.skipif(bool(os.environ.get("ROPA_TEST_DATABASE_URL")), reason="SQLite file")
def test_init_force_yes_backs_the_sqlite_file_up_first(initialised, db, tmp_path):
    cli = initialised
    cli("purpose", "add", "p", "--name", "P")
    result = cli("init", "--force", "--yes")
    assert result.exit_code == 0, result.stderr
    backups = list(db.path.parent.glob(f"{db.path.name}.*.bak"))
    assert len(backups) == 1
    assert f"backed up to {backups[0]}" in result.stderr
    import re

    assert re.fullmatch(r"ropa\.db\.\d{8}T\d{6}\.bak", backups[0].name)
    from ropa.db import Database

    copy = Database.open(str(backups[0]))
    assert copy.info()["counts"]["purposes"] == 1
    copy.dispose()
    assert db.info()["counts"]["purposes"] == 0


@pytest.mark.skipif(not os.environ.get("ROPA_TEST_DATABASE_URL"), reason="PostgreSQL")
def test_init_force_on_postgresql_prints_pg_dump_and_needs_yes(initialised, db):
    cli = initialised
    cli("purpose", "add", "p", "--name", "P")
    result = cli("init", "--force")
    assert result.exit_code == 2
    assert "pg_dump --dbname" in result.stderr
    assert cli("init", "--force", "--yes").exit_code == 0
    assert db.info()["counts"]["purposes"] == 0


def test_init_force_during_an_import_leaves_a_consistent_database(initialised, db, tmp_path):
    cli = initialised
    cli("purpose", "add", "p", "--name", "P")
    rows = "".join(f"s{i},Source {i},{'x' * 200}\n" for i in range(20000))
    (tmp_path / "sources.csv").write_text("key,name,description\n" + rows)
    env = {**os.environ, "ROPA_DB": db.url if db.path is None else str(db.path)}
    inode = db.path.stat().st_ino if db.path is not None else None
    command = [sys.executable, "-m", "ropa"]
    importing = subprocess.Popen(
        [*command, "import", "sources.csv"], cwd=tmp_path, env=env, stderr=subprocess.PIPE
    )
    time.sleep(1.0)
    init = subprocess.run([*command, "init", "--force", "--yes"], cwd=tmp_path, env=env)
    _, err = importing.communicate(timeout=300)
    assert init.returncode == 0
    if db.path is not None:
        assert db.path.stat().st_ino == inode  # never unlinked under a writer
    counts = db.info()["counts"]
    # Either the import ran first (then init emptied the register) or after init, whole.
    assert counts["sources"] in (0, 20000)
    assert counts["revisions"] == counts["sources"]
    if importing.returncode == 0:
        assert b"changed 20000 records" in err
    if db.path is not None and counts["sources"] == 0:
        # The import's records are in the backup: it was taken before, while the import
        # still ran, and held neither its records nor the emptied database's.
        from ropa.db import Database

        (backup,) = db.path.parent.glob(f"{db.path.name}.*.bak")
        copy = Database.open(str(backup))
        assert copy.info()["counts"]["sources"] == 20000
        copy.dispose()


# -- 6. transfer removal -----------------------------------------------------------------


def _an_activity(cli, key: str, *options: str) -> None:
    """Activity KEY of group member nl-de, purpose p, data category c1 and service provider
    payflow at hand, with OPTIONS."""
    cli("party", "add", "nl-de", "--name", "NL DE", "--kind", "group-member", "--country", "DE")
    cli("party", "add", "payflow", "--name", "Payflow", "--kind", "service-provider")
    cli("purpose", "add", "p", "--name", "P")
    cli("category", "add", "c1", "--name", "C1")
    added = cli(
        "activity", "add", key, "--name", key.upper(), "--controller", "nl-de", "--purpose", "p",
        *options,
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr


def test_remove_transfer_refuses_an_ambiguous_spec_and_takes_a_position(initialised, registry):
    cli = initialised
    _an_activity(cli, "a1", "--transfer", "US:adequacy:payflow", "--transfer", "US:scc:payflow")
    result = cli("activity", "edit", "a1", "--remove-transfer", "US:payflow")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: activity a1.transfers: 'US:payflow' matches 2 transfers "
        "(1: US:adequacy:payflow; 2: US:scc:payflow); give the position or the full spec of "
        "one\n"
    )
    assert cli("activity", "edit", "a1", "--remove-transfer", "US:scc:payflow").exit_code == 0
    assert [t["mechanism"] for t in registry.get("activity", "a1")["transfers"]] == ["adequacy"]
    assert cli("activity", "edit", "a1", "--remove-transfer", "1").exit_code == 0
    assert registry.get("activity", "a1")["transfers"] == []


def test_positions_are_those_shown_before_the_edit(initialised, registry):
    """Several removals name positions in the list as `show` lists it: each removal used to
    renumber the list for the next (1 and 2 of US, IN, CN removed US and CN)."""
    cli = initialised
    _an_activity(
        cli, "a1", "--transfer", "US:scc", "--transfer", "IN:scc", "--transfer", "CN:scc",
        "--retention", "P1Y:delete", "--retention", "P2Y:delete", "--retention", "P3Y:delete",
    )  # fmt: skip
    edited = cli(
        "activity", "edit", "a1", "--remove-transfer", "1", "--remove-transfer", "2",
        "--remove-retention", "1", "--remove-retention", "2",
    )  # fmt: skip
    assert edited.exit_code == 0, edited.stderr
    a1 = registry.get("activity", "a1")
    assert [t["country"] for t in a1["transfers"]] == ["CN"]
    assert [r["duration"] for r in a1["retention"]] == ["P3Y"]
    # the same transfer named twice, by position and by spec, is removed once
    twice = cli("activity", "edit", "a1", "--remove-transfer", "1", "--remove-transfer", "CN")
    assert twice.exit_code == 0, twice.stderr
    assert registry.get("activity", "a1")["transfers"] == []
    # one position that is not there: nothing is removed
    result = cli("activity", "edit", "a1", "--remove-retention", "1", "--remove-retention", "4")
    assert result.exit_code == 1 and "'4' is not among the retention" in result.stderr
    assert len(registry.get("activity", "a1")["retention"]) == 1


def test_removals_name_the_list_before_the_additions_of_the_same_edit(initialised, registry):
    """Additions were applied first: `--add-transfer … --remove-transfer 2` on a one-item
    list removed what it had just added, and the edit reported 'unchanged', exit 0."""
    cli = initialised
    _an_activity(cli, "t", "--transfer", "CN:scc", "--category", "c1")
    result = cli(
        "activity", "edit", "t", "--add-transfer", "US:scc:payflow", "--remove-transfer", "2"
    )
    assert result.exit_code == 1 and "'2' is not among the transfers" in result.stderr
    swapped = cli("activity", "edit", "t", "--remove-transfer", "CN", "--add-transfer", "CN:bcr")
    assert swapped.exit_code == 0, swapped.stderr
    transfers = registry.get("activity", "t")["transfers"]
    assert [(t["country"], t["mechanism"]) for t in transfers] == [("CN", "bcr")]
    for both in (
        ("--add-category", "c1", "--remove-category", "c1"),
        ("--owner", "a@example.com", "--clear", "owner"),
    ):
        result = cli("activity", "edit", "t", *both)
        assert result.exit_code == 1, both
        assert "both" in result.stderr, result.stderr


# -- 10. --replace and --replace-all -----------------------------------------------------


def test_replace_with_one_csv_deletes_nothing_of_the_other_kinds(initialised, registry, tmp_path):
    cli = initialised
    cli("import", SAMPLE)
    counts = {k: len(v) for k, v in registry.document().items() if k != "ropa"}
    used = {s for a in registry.document()["activities"] for s in a.get("sources", [])}
    keep = [s for s in registry.document()["sources"] if s["key"] in used]
    (tmp_path / "sources.csv").write_text(
        "key,name\n" + "".join(f"{s['key']},{s['name']}\n" for s in keep[1:])
    )
    result = cli("import", "sources.csv", "--replace")
    assert result.exit_code == 1  # an activity left alone still uses the first source
    assert "would make activity" in result.stderr and keep[0]["key"] in result.stderr
    unused = cli("source", "add", "unused", "--name", "Unused")
    assert unused.exit_code == 0
    (tmp_path / "sources.csv").write_text(
        "key,name\n" + "".join(f"{s['key']},{s['name']}\n" for s in keep)
    )
    result = cli("import", "sources.csv", "--replace", "--report", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    removed = report["removed"]
    assert {r["kind"] for r in removed} == {"source"}
    assert {"kind": "source", "key": "unused"} in removed
    after = {k: len(v) for k, v in registry.document().items() if k != "ropa"}
    assert {k: v for k, v in after.items() if k != "sources"} == {
        k: v for k, v in counts.items() if k != "sources"
    }
    assert after["sources"] == len(keep)


def test_replace_all_makes_the_register_the_files_content(initialised, registry, tmp_path):
    cli = initialised
    cli("import", SAMPLE)
    (tmp_path / "one.yaml").write_text("purposes:\n- key: only\n  name: Only\n")
    # No terminal to ask on: 75 deletions need --yes, and nothing is changed without it.
    refused = cli("import", "one.yaml", "--replace-all", "--report", "json")
    assert (refused.exit_code, refused.stdout) == (2, "")
    assert refused.stderr == (
        "error: --replace-all would delete 75 records and there is no terminal to ask on; "
        "check them with --dry-run, then run again with --yes\n"
    )
    assert {k: len(v) for k, v in registry.document().items() if k != "ropa"}["purposes"] > 1
    result = cli("import", "one.yaml", "--replace-all", "--yes", "--report", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert len(report["removed"]) == 75 and report["created"] == [
        {"kind": "purpose", "key": "only"}
    ]
    assert [p["key"] for p in registry.document()["purposes"]] == ["only"]
    assert registry.document()["activities"] == []


def test_a_large_replace_asks_first_on_a_terminal(initialised, registry, db, monkeypatch):
    cli = initialised
    cli("import", SAMPLE)
    Path("one.yaml").write_text("purposes:\n- key: only\n  name: Only\n")
    monkeypatch.setattr("ropa.cli.files.on_terminal", lambda: True)
    before = dump(db)
    declined = cli("import", "one.yaml", "--replace-all", input="n\n")
    assert declined.exit_code == 1
    assert "removed │ activity marketing" in declined.stderr
    assert "delete these 75 records?" in declined.stderr
    assert dump(db) == before
    accepted = cli("import", "one.yaml", "--replace-all", input="y\n")
    assert accepted.exit_code == 0, accepted.stderr
    assert [p["key"] for p in registry.document()["purposes"]] == ["only"]


def test_a_transfer_removed_and_added_again_in_one_edit_is_refused(initialised, registry):
    """`--remove-transfer US:scc:payflow --add-transfer US:scc:payflow` passed (a spec and a
    mapping never compared equal), and the transfer lost its details."""
    cli = initialised
    transfer = "{country: US, mechanism: scc, recipient: payflow, details: SCC 2021 module 2}"
    _an_activity(cli, "a1", "--recipient", "payflow", "--transfer", transfer)
    for removed in ("US:scc:payflow", "1"):
        both = cli(
            "activity", "edit", "a1", "--remove-transfer", removed,
            "--add-transfer", "US:SCC:payflow",
        )  # fmt: skip
        assert both.exit_code == 1
        assert both.stderr == (
            "error: activity a1.transfers: 'US:SCC:payflow' both added and removed; give one "
            "(to change its other fields, add it as a mapping that gives them)\n"
        )
    assert registry.get("activity", "a1")["transfers"][0]["details"] == "SCC 2021 module 2"
    assert len(registry.history(key="a1", kind="activity")) == 1
    # Another transfer in its place, and a retention rule replaced, are changes.
    other = cli(
        "activity", "edit", "a1", "--remove-transfer", "US:scc:payflow",
        "--add-transfer", "US:adequacy:payflow",
        "--add-retention", "P2Y:end of contract",
    )  # fmt: skip
    assert other.exit_code == 0, other.stderr
    replaced = cli("activity", "edit", "a1", "--remove-retention", "1", "--add-retention", "P5Y")
    assert replaced.exit_code == 0, replaced.stderr
    after = registry.get("activity", "a1")
    assert [t["mechanism"] for t in after["transfers"]] == ["adequacy"]
    assert [r["duration"] for r in after["retention"]] == ["P5Y"]
    # A shorter spec is another item: the rule without its trigger, the transfer without
    # its recipient (refused as the same item for a while).
    cli("activity", "edit", "a1", "--retention", "P2Y:end of contract")
    shorter = cli(
        "activity", "edit", "a1", "--remove-retention", "1", "--add-retention", "P2Y",
        "--remove-transfer", "1", "--add-transfer", "US:adequacy",
    )  # fmt: skip
    assert shorter.exit_code == 0, shorter.stderr
    after = registry.get("activity", "a1")
    assert [(r["duration"], r["trigger"]) for r in after["retention"]] == [("P2Y", None)]
    assert [t["recipient"] for t in after["transfers"]] == [None]


@pytest.mark.skipif(bool(os.environ.get("ROPA_TEST_DATABASE_URL")), reason="PostgreSQL: --yes")
def test_init_force_asks_first_on_a_terminal(initialised, db, monkeypatch):
    cli = initialised
    cli("purpose", "add", "p", "--name", "P")
    monkeypatch.setattr("ropa.cli.files.on_terminal", lambda: True)
    before = dump(db)
    declined = cli("init", "--force", input="n\n")
    assert declined.exit_code == 1
    assert "holds 2 records and revisions; delete them and start over?" in declined.stderr
    assert dump(db) == before


def test_an_edit_compares_and_orders_list_items_as_they_mean(initialised, registry):
    """`--remove-basis consent --add-basis 'Art. 6(1)(a)'` passed as two items; an added
    basis was stored unsorted, so the next edit recorded lawful_bases as changed."""
    cli = initialised
    _an_activity(cli, "a1", "--basis", "contract")
    both = cli(
        "activity", "edit", "a1", "--remove-basis", "contract", "--add-basis", "Art. 6(1)(b)"
    )
    assert both.exit_code == 1 and "both added and removed" in both.stderr
    assert cli("activity", "edit", "a1", "--add-basis", "consent").exit_code == 0
    assert registry.get("activity", "a1")["lawful_bases"] == ["consent", "contract"]
    assert cli("activity", "edit", "a1", "--description", "only this").exit_code == 0
    assert registry.history(key="a1", kind="activity")[-1].changed == ["description"]


# -- an output never replaces the database; one edit never sets and removes a list ------


@pytest.mark.parametrize("how", ["the file", "a symlink", "its -wal file"])
def test_an_output_is_never_written_over_the_database(initialised, db, tmp_path, how):
    """`ropa export csv -o data/ropa.db` (one tab-completion slip) replaced the register and
    its history by a CSV file, exit 0."""
    if db.path is None:
        pytest.skip("SQLite: a PostgreSQL database is no file an output could replace")
    cli = initialised
    cli("purpose", "add", "p", "--name", "P")
    target = {"the file": db.path, "a symlink": tmp_path / "link.db"}.get(how)
    if target is None:
        target = Path(f"{db.path}-wal")
    if how == "a symlink":
        target.symlink_to(db.path)
    for output in (("export", "csv"), ("export", "yaml"), ("export", "xlsx"), ("template",)):
        result = cli(*output, "-o", target)
        assert result.exit_code == 1, output
        assert result.stderr == (
            f"error: {target} is the database ropa works on; write the output to another file\n"
        )
    assert db.info()["counts"]["purposes"] == 1


@pytest.mark.parametrize(
    "options",
    [
        ("--retention", "P1Y:end of campaign", "--remove-retention", "1"),
        ("--transfer", "DE:adequacy", "--remove-transfer", "1"),
        ("--category", "c1", "--remove-category", "c1"),
        ("--clear", "transfers", "--remove-transfer", "1"),
    ],
)
def test_a_list_set_and_removed_from_in_one_edit_is_refused(initialised, registry, options):
    """`--retention X --remove-retention 1` removed the rule just given: the activity was
    left with no retention at all, exit 0."""
    cli = initialised
    _an_activity(cli, "t", "--transfer", "CN:scc", "--retention", "P2Y:delete", "--category", "c1")
    before = registry.get("activity", "t")
    result = cli("activity", "edit", "t", *options)
    assert result.exit_code == 1
    name = {"--retention": "retention", "--transfer": "transfers", "--category": "data_categories"}
    field = name.get(options[0], options[1])
    assert f"activity t.{field}: both set and removed from; set the whole list" in result.stderr
    assert registry.get("activity", "t") == before


@pytest.mark.parametrize("field", ["status", "role", "review_interval_months"])
def test_a_field_that_always_has_a_value_cannot_be_cleared(initialised, registry, field):
    """`--clear status` on a draft set it to its default, active: the draft went into the
    record and the notice, exit 0."""
    cli = initialised
    _an_activity(cli, "t", "--status", "draft", "--role", "processor")
    before = registry.get("activity", "t")
    result = cli("activity", "edit", "t", "--clear", field)
    assert result.exit_code == 1
    default = {"status": "active", "role": "controller", "review_interval_months": "12"}[field]
    assert result.stderr.startswith(
        f"error: activity t.{field}: cannot be cleared: it always has a value ({default} "
        "unless set); set the one you mean"
    )
    assert registry.get("activity", "t") == before


def test_blank_clear_keeps_a_field_that_always_has_a_value(initialised, registry, tmp_path):
    """An empty status cell under `--blank clear` turned a draft into an active activity."""
    cli = initialised
    _an_activity(cli, "t", "--status", "draft", "--owner", "o@example.com")
    path = _template_row(cli, tmp_path / "t.xlsx", key="t", name="T")
    result = cli("import", path, "--blank", "clear")
    assert result.exit_code == 0, result.stderr
    t = registry.get("activity", "t")
    assert (t["status"], t["owner"]) == ("draft", None)
