"""An import that replaces nothing reads, plans and writes its activities in bounded batches
inside one transaction: a large file is never held whole, and it is still all or nothing,
with every problem reported."""

from __future__ import annotations

import csv
import gc
import re
from pathlib import Path

import pytest

from ropa import planning
from ropa import registry as registry_module
from ropa.errors import ValidationFailed
from ropa.io import document
from ropa.io.data_layout import NestedRows
from ropa.io.sources import read_sources
from ropa.registry import Registry

BATCH = 10
REFERENCES = """ropa: 1
parties:
  - key: acme
    name: Acme SE
    kind: group-member
    country: DE
  - key: cloud
    name: Cloud Inc
    kind: service-provider
    country: US
purposes:
  - key: billing
    name: Billing
"""
ACTIVITY_COLUMNS = ["key", "name", "controller", "purposes", "lawful_bases"]


@pytest.fixture(autouse=True, params=["held", "spilled", "spooled"])
def small_batches(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of ten, and every YAML file streamed, so that small files show the rules; the
    transfer and retention rows held in memory, spilled to the file past the third, or all
    in the file."""
    monkeypatch.setattr(registry_module, "IMPORT_BATCH", BATCH)
    monkeypatch.setattr(document, "STREAM_FROM", 0)
    held = {"held": NestedRows.IN_MEMORY, "spilled": 3, "spooled": 0}[request.param]
    monkeypatch.setattr(NestedRows, "IN_MEMORY", held)
    gc.collect()  # what earlier tests left in cycles is not counted as this test's records


def _activity(i: int, **fields: str) -> dict[str, str]:
    return {
        "key": f"bulk-{i:03d}",
        "name": f"Bulk activity {i:03d}",
        "controller": "acme",
        "purposes": "billing",
        "lawful_bases": "contract",
    } | fields


def _yaml(path: Path, count: int, **last: str) -> Path:
    lines = [REFERENCES, "activities:"]
    for i in range(count):
        record = _activity(i, **(last if i == count - 1 else {}))
        lines.append(f"  - key: {record['key']}")
        lines += [f"    {name}: {value}" for name, value in record.items() if name != "key"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _csv_folder(folder: Path, rows: list[dict[str, str]], parties: bool = True) -> Path:
    """activities.csv (read first: before parties.csv by name) and parties.csv, purposes.csv."""
    folder.mkdir()
    with open(folder / "activities.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, ACTIVITY_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    if parties:
        (folder / "parties.csv").write_text(
            "key,name,kind,country\nacme,Acme SE,group-member,DE\n", encoding="utf-8"
        )
    (folder / "purposes.csv").write_text("key,name\nbilling,Billing\n", encoding="utf-8")
    return folder


def _live_records() -> int:
    """Dicts alive now that hold a bulk activity (parsed, planned or raw from the file)."""
    return sum(
        1
        for o in gc.get_objects()
        if type(o) is dict and isinstance(o.get("key"), str) and o["key"].startswith("bulk-")
    )


def _watch_batches(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """(activities planned, bulk records alive) at every plan of the import (the report
    keeping none whole)."""
    monkeypatch.setattr(planning, "REPORT_ROWS", 0)
    seen: list[tuple[int, int]] = []
    plan = planning.plan_import

    def watched(current, incoming, *args, **kwargs):
        seen.append((len(incoming["activity"]), _live_records()))
        return plan(current, incoming, *args, **kwargs)

    monkeypatch.setattr(registry_module, "plan_import", watched)
    return seen


def _import(registry: Registry, *names: Path, dry_run: bool = False):
    documents, tables = read_sources([str(n) for n in names], None, lambda: "")
    return registry.import_records(documents, tables, dry_run=dry_run)


def _count(registry: Registry, kind: str = "activity") -> int:
    return len(registry.list(kind))


def test_a_large_document_is_read_a_batch_at_a_time(registry, tmp_path, monkeypatch):
    path = _yaml(tmp_path / "big.yaml", 95)
    seen = _watch_batches(monkeypatch)
    report = _import(registry, path)
    assert report.created["activity"] == 95
    assert [planned for planned, _ in seen] == [0, *[BATCH] * 9, 5]
    # At every plan the records alive are those of about one batch, never the file's 95.
    assert max(alive for _, alive in seen) <= 3 * BATCH
    assert _count(registry) == 95
    assert len(registry.history("bulk-094", "activity")) == 1


def test_a_large_csv_file_is_read_a_batch_at_a_time(registry, tmp_path, monkeypatch):
    folder = _csv_folder(tmp_path / "data", [_activity(i) for i in range(95)])
    seen = _watch_batches(monkeypatch)
    report = _import(registry, folder)
    assert report.created["activity"] == 95
    assert [planned for planned, _ in seen] == [0, *[BATCH] * 9, 5]
    assert max(alive for _, alive in seen) <= 3 * BATCH
    assert _count(registry) == 95


def test_a_csv_row_may_name_a_party_of_a_file_read_after_it(registry, tmp_path):
    rows = [_activity(i) for i in range(35)]
    rows[33]["controller"] = "Acme SE"  # by name, in the fourth batch
    folder = _csv_folder(tmp_path / "data", rows)
    _import(registry, folder)
    assert registry.get("activity", "bulk-033")["controller"] == "acme"


def test_a_dangling_reference_in_a_late_batch_is_reported_with_its_row(registry, tmp_path):
    rows = [_activity(i) for i in range(35)]
    rows[33]["controller"] = "nobody"
    folder = _csv_folder(tmp_path / "data", rows)
    with pytest.raises(ValidationFailed) as failed:
        _import(registry, folder)
    assert [(p.where, p.message[:24]) for p in failed.value.problems] == [
        (f"{folder}/activities.csv:activities:35:controller", "unknown party 'nobody'")
    ]
    assert _count(registry) == 0 and _count(registry, "party") == 0


@pytest.mark.parametrize("dry_run", [False, True])
def test_an_error_in_the_last_batch_writes_nothing(registry, tmp_path, dry_run):
    path = _yaml(tmp_path / "big.yaml", 45, purposes="nothing-like-it")
    with pytest.raises(ValidationFailed) as failed:
        _import(registry, path, dry_run=dry_run)
    assert [p.where for p in failed.value.problems] == [f"{path}:activities[44].purposes"]
    # The earlier batches and the parties were written in the transaction: all rolled back.
    assert _count(registry) == 0 and _count(registry, "party") == 0
    assert registry.history() == []


def test_every_batch_reports_its_problems(registry, tmp_path):
    rows = [_activity(i) for i in range(45)]
    for i in (3, 17, 44):
        rows[i]["lawful_bases"] = "whim"
    with pytest.raises(ValidationFailed) as failed:
        _import(registry, _csv_folder(tmp_path / "data", rows))
    rows_reported = [re.search(r":(\d+):lawful_bases$", p.where) for p in failed.value.problems]
    assert [int(m.group(1)) for m in rows_reported if m] == [5, 19, 46]
    assert _count(registry) == 0


def test_a_key_or_name_repeated_in_another_batch_is_refused(registry, tmp_path):
    rows = [_activity(i) for i in range(30)]
    rows[25]["key"] = "bulk-002"
    rows[27]["name"] = "Bulk activity 004"
    with pytest.raises(ValidationFailed) as failed:
        _import(registry, _csv_folder(tmp_path / "data", rows))
    messages = [p.message for p in failed.value.problems]
    assert any(m.startswith("duplicate key 'bulk-002' (also at ") for m in messages)
    assert (
        "2 activities share the name 'Bulk activity 004': bulk-004, bulk-027; names are "
        "unique within their kind"
    ) in messages
    (shared,) = [p for p in failed.value.problems if p.message.startswith("2 activities")]
    assert str(shared.where).endswith("activities.csv:activities:29:name")  # bulk-027's row
    assert _count(registry) == 0


def test_a_dry_run_counts_what_the_import_does(registry, tmp_path):
    path = _yaml(tmp_path / "big.yaml", 25)
    _import(registry, _yaml(tmp_path / "first.yaml", 12))
    document.STREAM_FROM = 0
    would = _import(registry, path, dry_run=True)
    did = _import(registry, path)
    assert would.rows() == did.rows()
    assert would.as_dict() == did.as_dict()
    assert did.rows()[-1] == ("activities", 13, 0, 12, 0)
    assert _count(registry) == 25


def test_the_json_report_lists_every_change_of_every_batch(registry, tmp_path, monkeypatch):
    _import(registry, _yaml(tmp_path / "first.yaml", 25))
    changed = _yaml(tmp_path / "second.yaml", 25, name="Renamed")
    monkeypatch.setattr(planning, "REPORT_ROWS", 3)
    report = _import(registry, changed)
    assert report.as_dict()["updated"] == [
        {
            "kind": "activity",
            "key": "bulk-024",
            "changes": {"name": {"before": "Bulk activity 024", "after": "Renamed"}},
        }
    ]
    whole = _import(registry, _yaml(tmp_path / "third.yaml", 25, name="Again"))
    assert len(whole.records) == 1 and whole.records[0].after["name"] == "Again"


def test_transfer_rows_find_their_activities_in_any_batch(registry, tmp_path, monkeypatch):
    _import(registry, _yaml(tmp_path / "stored.yaml", 3))
    rows = [_activity(i) for i in range(3, 40)]
    folder = _csv_folder(tmp_path / "data", rows)
    (folder / "transfers.csv").write_text(
        "activity,country,recipient,mechanism\n"
        "bulk-038,US,cloud,scc\n"
        "Bulk activity 004,CA,,adequacy\n"  # by name, in the first batch
        "bulk-001,IN,cloud,scc\n"  # a stored activity, not in the files
        "bulk-038,JP,,adequacy\n"
        "bulk-999,US,,scc\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationFailed) as failed:
        _import(registry, folder)
    assert [(p.where, p.message[:27]) for p in failed.value.problems] == [
        (f"{folder}/transfers.csv:transfers:6:activity", "unknown activity 'bulk-999'")
    ]
    seen = _watch_batches(monkeypatch)
    (folder / "transfers.csv").write_text(
        "\n".join((folder / "transfers.csv").read_text().splitlines()[:-1]) + "\n"
    )
    report = _import(registry, folder)
    assert [planned for planned, _ in seen] == [0, BATCH, BATCH, BATCH, 7, 1]
    countries = lambda key: [t["country"] for t in registry.get("activity", key)["transfers"]]  # noqa: E731
    assert countries("bulk-038") == ["US", "JP"]
    assert countries("bulk-004") == ["CA"]
    assert countries("bulk-001") == ["IN"]
    assert report.created["activity"] == 37 and report.updated["activity"] == 1


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection")
def test_a_bulk_import_builds_the_list_indexes_once_at_the_end(registry, tmp_path, monkeypatch):
    import sqlalchemy as sa

    from ropa import store

    monkeypatch.setattr(store, "BULK_FROM", 15)
    entered: list[int] = []
    bulk = store.bulk_indexes

    def watched(conn, kind):
        entered.append(len(store.read_keys(conn, kind)))
        return bulk(conn, kind)

    monkeypatch.setattr(store, "bulk_indexes", watched)
    indexes = lambda: {  # noqa: E731
        name: [i["name"] for i in sa.inspect(conn).get_indexes(name)]
        for name in sa.inspect(conn).get_table_names()
    }
    with registry.db.engine.connect() as conn:
        before = indexes()
    _import(registry, _yaml(tmp_path / "big.yaml", 35))
    assert entered == [20]  # once, after the batches that reached BULK_FROM
    with registry.db.engine.connect() as conn:
        assert indexes() == before
    assert registry.used_by("purpose", "billing")[-1] == ("activity", "bulk-034")


def test_replace_reads_a_streamed_document_whole(registry, tmp_path):
    _import(registry, _yaml(tmp_path / "first.yaml", 25))
    documents, tables = read_sources([str(_yaml(tmp_path / "fewer.yaml", 12))], None, lambda: "")
    assert isinstance(documents[0][0], document.StreamedDocument)
    report = registry.import_records(documents, tables, replace=True)
    assert report.deleted["activity"] == 13 and report.unchanged["activity"] == 12
    assert _count(registry) == 12


def test_a_document_with_a_section_after_its_activities_is_read_whole(tmp_path):
    path = _yaml(tmp_path / "odd.yaml", 3)
    path.write_text(path.read_text() + "sources:\n  - key: web\n    name: Web\n")
    doc = document.open_document(path, "odd.yaml")
    assert not isinstance(doc, document.StreamedDocument)
    assert len(doc["activities"]) == 3 and doc["sources"][0]["key"] == "web"


def test_broken_yaml_late_in_a_streamed_document_writes_nothing(registry, tmp_path):
    path = _yaml(tmp_path / "broken.yaml", 35)
    path.write_text(path.read_text() + "  - key: [unclosed\n")
    with pytest.raises(ValidationFailed) as failed:
        _import(registry, path)
    [problem] = failed.value.problems
    assert problem.message.startswith("invalid YAML") and problem.where.startswith(f"{path}:")
    assert _count(registry) == 0 and _count(registry, "party") == 0


def test_a_streamed_record_deeper_than_the_limit_is_refused(registry, tmp_path, monkeypatch):
    from ropa import limits

    monkeypatch.setenv(limits.DEPTH.env, "5")
    path = _yaml(tmp_path / "deep.yaml", 15)
    path.write_text(path.read_text() + "  - key: deep\n    notes: [[[[x]]]]\n")
    with pytest.raises(ValidationFailed) as failed:
        _import(registry, path)
    assert [p.message for p in failed.value.problems] == [limits.DEPTH.refusal("6 levels")]
    assert _count(registry) == 0


def test_a_name_repeated_within_one_batch_is_reported_once(registry, tmp_path):
    rows = [_activity(i) for i in range(15)]
    rows[3]["name"] = "Bulk activity 002"
    with pytest.raises(ValidationFailed) as failed:
        _import(registry, _csv_folder(tmp_path / "data", rows))
    assert [p.message for p in failed.value.problems] == [
        "2 activities share the name 'Bulk activity 002': bulk-002, bulk-003; names are "
        "unique within their kind"
    ]
    assert str(failed.value.problems[0].where).endswith("activities.csv:activities:5:name")


def test_names_swapped_across_batches_of_a_document_read_whole_are_written(registry, tmp_path):
    """A document read whole knows every key before its first batch: the first batch gives
    bulk-000 the name bulk-029 still holds in the register, the last gives bulk-029 the name
    bulk-000 had. The register after the import is valid, so the write must not stop on the
    unique name in between (it did, with the database's raw error)."""
    _import(registry, _csv_folder(tmp_path / "first", [_activity(i) for i in range(30)]))
    records = [{"key": f"bulk-{i:03d}", "name": f"Bulk activity {i:03d}"} for i in range(30)]
    records[0]["name"], records[29]["name"] = records[29]["name"], records[0]["name"]
    swap = [({"activities": records}, "swap.yaml")]
    assert registry.import_documents(swap, dry_run=True).rows()[-1] == ("activities", 0, 30, 0, 0)
    registry.import_documents(swap)
    names = {a["key"]: a["name"] for a in registry.list("activity")}
    assert (names["bulk-000"], names["bulk-029"]) == ("Bulk activity 029", "Bulk activity 000")
    assert not any(name.startswith("\x01") for name in names.values())


def test_a_name_taken_from_a_record_a_later_batch_renames_is_refused_cleanly(registry, tmp_path):
    """A file read as it goes cannot know, at its first batch, that a later one renames
    bulk-029: the README's one limit of batches. It is a problem reported, not a database
    error, and nothing is written."""
    _import(registry, _csv_folder(tmp_path / "first", [_activity(i) for i in range(30)]))
    rows = [_activity(i) for i in range(30)]
    rows[0]["name"], rows[29]["name"] = rows[29]["name"], rows[0]["name"]
    with pytest.raises(ValidationFailed, match="share the name 'Bulk activity 029'"):
        _import(registry, _csv_folder(tmp_path / "swap", rows))
    assert registry.get("activity", "bulk-000")["name"] == "Bulk activity 000"
