"""A large JSON registry document whose activities come last (as ropa writes it) is read
record by record, as a YAML one is: the import holds one batch of activities at a time, and
whatever the whole read refuses, the streamed read refuses with the same words."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ropa import limits, planning
from ropa import registry as registry_module
from ropa.errors import ValidationFailed
from ropa.io import document
from ropa.io.document import StreamedDocument, dump_json
from ropa.io.sources import read_sources
from ropa.registry import Registry

BATCH = 10
REFERENCES = {
    "ropa": 1,
    "parties": [
        {"key": "acme", "name": "Acme SE", "kind": "group-member", "country": "DE"},
        {"key": "cloud", "name": "Cloud Inc", "kind": "service-provider", "country": "US"},
    ],
    "purposes": [{"key": "billing", "name": "Billing"}],
}


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Batches of ten, and every document file streamed, so that small files show the rules.
    Afterwards the records a refused import left in its traceback's cycles are collected: a
    test that counts the records alive (test_import_batches) may run next."""
    monkeypatch.setattr(registry_module, "IMPORT_BATCH", BATCH)
    monkeypatch.setattr(document, "STREAM_FROM", 0)
    yield
    gc.collect(1)  # the young generations: what the test made


def _activity(i: int, **fields: Any) -> dict[str, Any]:
    return {
        "key": f"bulk-{i:03d}",
        "name": f"Bulk activity {i:03d}",
        "controller": "acme",
        "purposes": ["billing"],
        "lawful_bases": ["contract"],
    } | fields


def _document(count: int, **last: Any) -> dict[str, Any]:
    activities = [_activity(i, **(last if i == count - 1 else {})) for i in range(count)]
    return {**REFERENCES, "activities": activities}


def _json(path: Path, doc: Any) -> Path:
    """The document as ropa writes it (indented, activities last)."""
    path.write_text(dump_json(doc), encoding="utf-8")
    return path


def _import(registry: Registry, path: Path, dry_run: bool = False):
    documents, tables = read_sources([str(path)], None, lambda: "")
    return registry.import_records(documents, tables, dry_run=dry_run)


def _count(registry: Registry, kind: str = "activity") -> int:
    return len(registry.list(kind))


def _read(path: Path, monkeypatch: pytest.MonkeyPatch, streamed: bool) -> tuple[str, str]:
    """What reading the file gives (its document, types shown) or the problems it is
    refused with; and whether it was streamed."""
    monkeypatch.setattr(document, "STREAM_FROM", 0 if streamed else 1 << 60)
    try:
        [(doc, _)], _ = read_sources([str(path)], None, lambda: "")
    except ValidationFailed as failed:
        return repr([(p.where, p.message) for p in failed.problems]), "refused"
    if isinstance(doc, StreamedDocument):
        return repr(doc.whole()), "streamed"
    return repr(doc), "whole"


def test_a_large_json_document_is_read_by_its_activities(tmp_path):
    path = _json(tmp_path / "big.json", _document(25))
    doc = document.open_document(path, "big.json")
    assert isinstance(doc, StreamedDocument)
    assert dict(doc) == REFERENCES
    assert list(doc.records()) == _document(25)["activities"]
    with pytest.raises(RuntimeError, match="read already"):
        doc.records()


def test_a_large_json_document_is_imported_a_batch_at_a_time(registry, tmp_path, monkeypatch):
    path = _json(tmp_path / "big.json", _document(95))
    # The parser builds the records of the bytes it reads at once: a few, not the file's.
    monkeypatch.setattr(document, "_READ", 1024)
    monkeypatch.setattr(planning, "REPORT_ROWS", 0)
    seen: list[tuple[int, int]] = []
    plan = planning.plan_import

    def watched(current, incoming, *args, **kwargs):
        gc.collect()  # what an earlier test left for the collector is not alive
        alive = sum(
            1
            for o in gc.get_objects()
            if type(o) is dict and isinstance(o.get("key"), str) and o["key"].startswith("bulk-")
        )
        seen.append((len(incoming["activity"]), alive))
        return plan(current, incoming, *args, **kwargs)

    monkeypatch.setattr(registry_module, "plan_import", watched)
    report = _import(registry, path)
    assert report.created["activity"] == 95
    assert [planned for planned, _ in seen] == [0, *[BATCH] * 9, 5]
    # At every plan the records alive are those of about one batch, never the file's 95.
    assert max(alive for _, alive in seen) <= 3 * BATCH
    assert _count(registry) == 95 and _count(registry, "party") == 2


def test_streamed_and_whole_reads_import_the_same(registry, tmp_path, monkeypatch):
    _import(registry, _json(tmp_path / "first.json", _document(12)))
    doc = _document(30, name="Renamed", notes='β\n"quoted" \\ back', review_interval_months=6)
    path = _json(tmp_path / "second.json", doc)
    monkeypatch.setattr(document, "STREAM_FROM", 1 << 60)
    whole = _import(registry, path, dry_run=True)
    monkeypatch.setattr(document, "STREAM_FROM", 0)
    streamed = _import(registry, path, dry_run=True)
    assert streamed.as_dict() == whole.as_dict()
    assert streamed.rows() == whole.rows()
    assert _import(registry, path).rows() == whole.rows()
    stored = registry.get("activity", "bulk-029")
    assert (stored["name"], stored["notes"]) == ("Renamed", 'β\n"quoted" \\ back')
    # What the streamed import stored is what the whole read holds: nothing left to change.
    monkeypatch.setattr(document, "STREAM_FROM", 1 << 60)
    assert _import(registry, path).rows()[-1] == ("activities", 0, 0, 30, 0)


def test_numbers_read_as_json_loads_reads_them(tmp_path, monkeypatch):
    numbers = [
        "1, -0, 1.5, -0.0, 1E2, 2.5e-3, 0.1, 0.30000000000000004, 1.7976931348623157e308",
        "123456789012345678.0, true, false, null",
        "-9223372036854775807, 9223372036854775807",
    ]
    text = dump_json(_document(3)).replace(
        '"key": "bulk-002",', '"key": "bulk-002", "x": [' + ", ".join(numbers) + "],"
    )
    path = tmp_path / "numbers.json"
    path.write_text(text, encoding="utf-8")
    streamed, how = _read(path, monkeypatch, streamed=True)
    assert how == "streamed"
    assert streamed == _read(path, monkeypatch, streamed=False)[0]
    assert "[1, 0, 1.5, -0.0, 100.0, 0.0025, 0.1, 0.30000000000000004, 1.797" in streamed
    assert "1.2345678901234568e+17, True, False, None, -9223372036854775807, 9" in streamed


def test_a_byte_order_mark_is_skipped(tmp_path, monkeypatch):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + dump_json(_document(5)).encode())
    streamed, how = _read(path, monkeypatch, streamed=True)
    assert how == "streamed"
    assert streamed == repr(_document(5))


def test_a_document_with_a_section_after_its_activities_is_read_whole(tmp_path):
    doc = {**_document(3), "sources": [{"key": "web", "name": "Web"}]}
    read = document.open_document(_json(tmp_path / "odd.json", doc), "odd.json")
    assert not isinstance(read, StreamedDocument)
    assert len(read["activities"]) == 3 and read["sources"][0]["key"] == "web"


def _late(text: str, replacement: str) -> str:
    """The document's text with one line of its second-to-last record replaced."""
    marker = '"name": "Bulk activity 033",'
    assert marker in text
    return text.replace(marker, replacement)


DOCUMENT = dump_json(_document(35))
#: Files the whole read refuses or reads otherwise than a plain document; each is read the
#: same way streamed (whole, when the streamed read doubts it).
ODD_FILES: dict[str, bytes] = {
    "duplicate key in a late record": _late(DOCUMENT, '"name": "a", "name": "b",').encode(),
    "duplicate key in a section before": DOCUMENT.replace(
        '"name": "Billing"', '"name": "Billing", "name": "Again"'
    ).encode(),
    "activities twice": DOCUMENT.replace(
        '"purposes": [\n    {', '"activities": [], "purposes": [\n    {', 1
    ).encode(),
    "integer beyond 64 bits": _late(
        DOCUMENT, '"name": [9223372036854775808, -' + "9" * 30 + "],"
    ).encode(),
    "integer too long": _late(DOCUMENT, '"name": "x", "n": ' + "9" * 31 + ",").encode(),
    "integer beyond Python's digits": _late(DOCUMENT, '"name": 1' + "0" * 5000 + ",").encode(),
    "NaN": _late(DOCUMENT, '"name": NaN,').encode(),
    "a number too large for a float": _late(DOCUMENT, '"name": [1e400, -1e400],').encode(),
    "a number too small for a float": _late(DOCUMENT, '"name": [1e-400, -2e-999],').encode(),
    "Infinity": _late(DOCUMENT, '"name": [Infinity, -Infinity],').encode(),
    "not UTF-8": _late(DOCUMENT, '"name": "caf\xe9",').encode("latin-1"),
    "a UTF-8 encoded surrogate": _late(DOCUMENT, '"name": "x",')
    .encode()
    .replace(b'"name": "x"', b'"name": "\xed\xa0\x80"'),
    "lone surrogate escape": _late(DOCUMENT, '"name": "x\\ud800y",').encode(),
    "surrogate pair escape": _late(DOCUMENT, '"name": "x\\ud83d\\ude00y",').encode(),
    "escapes": _late(DOCUMENT, '"name": "\\u00e9\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000",').encode(),
    "control character in text": _late(DOCUMENT, '"name": "a\tb",').encode(),
    "form feed between values": _late(DOCUMENT, '"name":\f"x",').encode(),
    "vertical tab between values": _late(DOCUMENT, '"name":\v"x",').encode(),
    "comment": _late(DOCUMENT, '"name": "x", /* note */').encode(),
    "truncated": DOCUMENT[: DOCUMENT.index('"name": "Bulk activity 033"') + 12].encode(),
    "truncated at a record's end": DOCUMENT[: DOCUMENT.rindex("}", 0, -4) + 1].encode(),
    "trailing text": (DOCUMENT + "{}").encode(),
    "missing comma": _late(DOCUMENT, '"name": "x"').encode(),
    "trailing comma": DOCUMENT.replace("}\n  ]\n}", "},\n  ]\n}").encode(),
    "empty": b"",
    "a list of records": json.dumps(_document(3)["activities"]).encode(),
    "text at the top": b'"activities"',
    "activities not a list": json.dumps({"ropa": 1, "activities": {"key": "x"}}).encode(),
    "no activities": json.dumps(REFERENCES).encode(),
    "activities empty": json.dumps({**REFERENCES, "activities": []}).encode(),
}


@pytest.mark.parametrize("name", ODD_FILES)
def test_an_odd_file_reads_streamed_as_it_reads_whole(tmp_path, monkeypatch, name):
    path = tmp_path / "odd.json"
    path.write_bytes(ODD_FILES[name])
    streamed, how = _read(path, monkeypatch, streamed=True)
    whole, _ = _read(path, monkeypatch, streamed=False)
    assert streamed == whole
    if name == "activities empty":
        assert how == "streamed"


@pytest.mark.parametrize(
    "name", ["truncated", "duplicate key in a late record", "integer too long", "not UTF-8"]
)
def test_an_odd_file_names_itself(tmp_path, monkeypatch, name):
    path = tmp_path / "odd.json"
    path.write_bytes(ODD_FILES[name])
    refused, how = _read(path, monkeypatch, streamed=True)
    assert how == "refused" and refused.startswith(f"[('{path}")


def test_a_record_deeper_than_the_limit_is_refused_as_the_whole_read_does(tmp_path, monkeypatch):
    monkeypatch.setenv(limits.DEPTH.env, "5")
    path = tmp_path / "deep.json"
    path.write_text(_late(DOCUMENT, '"name": "x", "notes": [[[["deep"]]]],'), encoding="utf-8")
    refused, how = _read(path, monkeypatch, streamed=True)
    assert how == "refused" and limits.DEPTH.refusal("6 levels") in refused
    assert refused == _read(path, monkeypatch, streamed=False)[0]
    path.write_text(_late(DOCUMENT, '"name": "x", "notes": [["deep"]],'), encoding="utf-8")
    assert _read(path, monkeypatch, streamed=True)[1] == "streamed"


def test_nesting_far_beyond_the_limit_is_refused_without_building_it(tmp_path, monkeypatch):
    path = tmp_path / "deep.json"
    path.write_text(_late(DOCUMENT, '"notes": ' + "[" * 100_000 + "]" * 100_000 + ","))
    refused, how = _read(path, monkeypatch, streamed=True)
    assert how == "refused" and limits.DEPTH.env in refused


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_truncated_file_writes_nothing(registry, tmp_path, dry_run):
    path = tmp_path / "cut.json"
    path.write_bytes(ODD_FILES["truncated"])
    with pytest.raises(ValidationFailed) as failed:
        _import(registry, path, dry_run=dry_run)
    [problem] = failed.value.problems
    assert problem.where.startswith(f"{path}:") and problem.message.startswith("invalid JSON")
    assert _count(registry) == 0 and _count(registry, "party") == 0
    assert registry.history() == []


@pytest.mark.parametrize("dry_run", [False, True])
def test_an_error_in_the_last_batch_writes_nothing(registry, tmp_path, dry_run):
    path = _json(tmp_path / "big.json", _document(45, purposes=["nothing-like-it"]))
    with pytest.raises(ValidationFailed) as failed:
        _import(registry, path, dry_run=dry_run)
    assert [p.where for p in failed.value.problems] == [f"{path}:activities[44].purposes"]
    assert _count(registry) == 0 and _count(registry, "party") == 0
    assert registry.history() == []


def test_a_file_changed_after_it_was_checked_is_refused_and_nothing_written(registry, tmp_path):
    path = _json(tmp_path / "big.json", _document(35))
    documents, tables = read_sources([str(path)], None, lambda: "")
    assert isinstance(documents[0][0], StreamedDocument)
    path.write_text(ODD_FILES["duplicate key in a late record"].decode(), encoding="utf-8")
    with pytest.raises(ValidationFailed) as failed:
        registry.import_records(documents, tables)
    assert [(p.where, p.message) for p in failed.value.problems] == [
        (str(path), "the file changed while it was imported")
    ]
    assert _count(registry) == 0 and _count(registry, "party") == 0


def test_replace_reads_a_streamed_json_document_whole(registry, tmp_path):
    _import(registry, _json(tmp_path / "first.json", _document(25)))
    documents, tables = read_sources(
        [str(_json(tmp_path / "fewer.json", _document(12)))], None, lambda: ""
    )
    assert isinstance(documents[0][0], StreamedDocument)
    report = registry.import_records(documents, tables, replace=True)
    assert report.deleted["activity"] == 13 and report.unchanged["activity"] == 12
    assert _count(registry) == 12


@pytest.mark.parametrize(
    "name", ["truncated", "duplicate key in a late record", "integer too long", "missing comma"]
)
def test_a_broken_file_is_refused_without_holding_its_records(tmp_path, monkeypatch, name):
    path = tmp_path / "odd.json"
    path.write_bytes(ODD_FILES[name])
    whole, _ = _read(path, monkeypatch, streamed=False)

    def held(*args: Any) -> None:
        raise AssertionError("read whole")

    monkeypatch.setattr(document, "load_text", held)
    assert _read(path, monkeypatch, streamed=True) == (whole, "refused")


def test_a_file_the_event_parser_refuses_but_json_reads_is_read_whole(tmp_path, monkeypatch):
    path = tmp_path / "nan.json"
    path.write_bytes(ODD_FILES["NaN"])
    read, how = _read(path, monkeypatch, streamed=True)
    assert how == "whole" and "'name': nan" in read
