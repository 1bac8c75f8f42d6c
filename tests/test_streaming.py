"""Outputs stream: history a batch at a time, long tables as plain rows, the register at a
moment one query per kind from the revision log."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

import ropa.cli.output
import ropa.history
from ropa.history import iter_revisions, sections_as_of
from ropa.registry import Edit


@contextmanager
def statements(engine: sa.engine.Engine):
    """The SQL statements run on `engine` inside the block."""
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def _activities(registry, count: int, prefix: str = "a") -> None:
    registry.import_documents(
        [
            (
                {
                    "activities": [
                        {"key": f"{prefix}{i:03d}", "name": f"Activity {prefix}{i}"}
                        for i in range(count)
                    ]
                },
                "doc",
            )
        ]
    )


def test_history_read_in_batches_names_the_fields_an_update_changed_across_batches(
    registry, monkeypatch
):
    _activities(registry, 5)
    registry.edit("activity", "a000", Edit(set={"description": "first change"}))
    registry.edit("activity", "a000", Edit(set={"owner": "CFO", "description": "second"}))
    whole = [(v.key, v.action, v.changed) for v in registry.history()]
    monkeypatch.setattr(ropa.history, "HISTORY_BATCH", 2)
    with registry.db.read() as conn:
        batched = [(v.key, v.action, v.changed) for v in iter_revisions(conn)]
    assert batched == whole
    assert batched[-2:] == [
        ("a000", "update", ["description"]),
        ("a000", "update", ["description", "owner"]),
    ]


def test_history_is_read_as_it_is_consumed(registry, monkeypatch):
    _activities(registry, 6)
    monkeypatch.setattr(ropa.history, "HISTORY_BATCH", 2)
    with registry.db.read() as conn, statements(registry.db.engine) as seen:
        revisions = iter_revisions(conn)
        first = next(revisions)
        assert (first.key, len(seen)) == ("a000", 1)  # one batch read so far
        assert [v.key for v in revisions] == ["a001", "a002", "a003", "a004", "a005"]


def test_a_long_table_is_printed_as_plain_aligned_rows_with_text_made_literal(monkeypatch, capsys):
    monkeypatch.setattr(ropa.cli.output, "STREAM_TABLE_FROM", 3)
    rows = [("x", "plain"), ("yy", "bell\x07 and [bold]markup[/bold]"), ("zzz", "")]
    rows += [(f"r{i}", f"row {i}") for i in range(3)]
    count = ropa.cli.output.print_table(["key", "text"], iter(rows))
    lines = capsys.readouterr().out.splitlines()
    assert count == 6
    assert lines[:4] == [
        "key  text",
        "---  ----",
        "x    plain",
        "yy   bell\\x07 and [bold]markup[/bold]",
    ]
    assert lines[-1] == "r2   row 2" and len(lines) == 8


def test_a_short_table_is_a_rich_table(capsys):
    count = ropa.cli.output.print_table(["key", "text"], [("k1", "one")])
    out = capsys.readouterr().out
    assert count == 1 and "┃ key" in out and "│ k1" in out


def test_the_register_at_a_moment_is_one_query_per_kind_whatever_its_size(registry):
    moment = datetime.now(UTC) + timedelta(seconds=1)

    def queries() -> int:
        with registry.db.read() as conn, statements(registry.db.engine) as seen:
            for _, batches in sections_as_of(conn, moment):
                for _ in batches:
                    pass
        return len(seen)

    _activities(registry, 3)
    small = queries()
    _activities(registry, 40, prefix="b")
    moment = datetime.now(UTC) + timedelta(seconds=1)
    assert queries() == small == len(ropa.history.KINDS) + 1  # + the check for unknown kinds


def test_the_activities_at_a_moment_stream_in_batches_in_key_order(registry, monkeypatch):
    _activities(registry, 5)
    registry.remove("activity", "a002")
    monkeypatch.setattr(ropa.history, "AS_OF_BATCH", 2)
    moment = datetime.now(UTC) + timedelta(seconds=1)
    with registry.db.read() as conn:
        sections = dict(sections_as_of(conn, moment))
        batches = [[r["key"] for r in batch] for batch in sections["activities"]]
    assert batches == [["a000", "a001"], ["a003", "a004"]]


@pytest.mark.parametrize("fmt", ["json", "yaml", "csv"])
def test_history_streamed_as_json_yaml_csv_reads_back_as_the_revisions(initialised, fmt):
    import csv
    import io
    import json

    import yaml

    initialised("purpose", "add", "p1", "--name", "One", "-m", "first")
    initialised("purpose", "edit", "p1", "--name", "Uno")
    out = initialised("history", "-f", fmt).stdout
    if fmt == "json":
        rows = json.loads(out)
    elif fmt == "yaml":
        rows = yaml.safe_load(out)
    else:
        rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["key"], r["action"], str(r["version"])) for r in rows] == [
        ("p1", "create", "1"),
        ("p1", "update", "2"),
    ]
    assert rows[1]["changed"] in (["name"], "name")


def test_a_diff_reads_only_the_records_changed_in_the_period(registry, clock_at):
    clock_at("2026-01-10 09:00")
    _activities(registry, 30)
    clock_at("2026-02-15 10:00")
    registry.edit("activity", "a007", Edit(set={"owner": "CFO"}))
    registry.retire("a008")
    _activities(registry, 1, prefix="new")
    with statements(registry.db.engine) as seen:
        result = registry.diff(date(2026, 2, 1), date(2026, 2, 28))
    assert [i["key"] for i in result.added] == ["new000"]
    assert [i["key"] for i in result.retired] == ["a008"]
    assert [(i["key"], list(i["fields"])) for i in result.changed] == [("a007", ["owner"])]
    reads = [s for s in seen if "FROM revisions" in s]
    # the unknown-kind check, the touched keys, then the activities before and after
    assert len(reads) == 4


@pytest.fixture
def clock_at(monkeypatch):
    def set_time(text: str) -> None:
        moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
        monkeypatch.setattr(ropa.history, "utcnow", lambda: moment)

    return set_time


def test_the_notice_is_written_in_pieces_that_make_the_whole_text(sample, tmp_path):
    from ropa.exports import write_notice
    from ropa.notice import markdown_chunks, to_markdown

    notice = sample.notice()
    pieces = list(markdown_chunks(notice))
    text = to_markdown(notice)
    assert "".join(pieces) == text and text.endswith("\n") and not text.endswith("\n\n")
    written = write_notice(notice, "markdown", tmp_path / "notice.md")
    assert written.read_text(encoding="utf-8") == text


def test_the_notice_holds_no_paragraph_per_activity_until_it_is_written(registry, tmp_path):
    """Each activity is named under each of its data subjects: those paragraphs are made as
    the notice is written, not held for the whole register."""
    import gc

    from ropa.exports import write_notice
    from ropa.notice import Item

    registry.import_documents(
        [
            (
                {
                    "subjects": [{"key": s, "name": s.title()} for s in ("staff", "users")],
                    "activities": [
                        {
                            "key": f"a{i:03d}",
                            "name": f"Activity {i}",
                            "description": f"What activity {i} does.",
                            "data_subjects": ["staff"] if i % 2 else ["users"],
                            "lawful_bases": ["contract"],
                        }
                        for i in range(300)
                    ],
                },
                "register.yaml",
            )
        ]
    )
    notice = registry.notice()
    gc.collect()
    held = sum(isinstance(o, Item) for o in gc.get_objects())
    assert held < 100  # the same notice held 600 "How we use" paragraphs before
    for fmt in ("markdown", "html"):
        text = write_notice(notice, fmt, tmp_path / f"notice.{fmt}").read_text(encoding="utf-8")
        assert text.count("What activity ") == 300 and "What activity 299 does." in text


def test_a_long_listing_is_printed_as_plain_rows_as_the_records_come(monkeypatch, capsys):
    from ropa.schema import PURPOSE

    monkeypatch.setattr(ropa.cli.output, "STREAM_TABLE_FROM", 2)
    taken: list[int] = []

    def records():
        for i in range(5):
            taken.append(i)
            yield {"key": f"p{i}", "name": f"Purpose {i}"}

    ropa.cli.output.print_records(PURPOSE, records(), ropa.cli.output.Format.table)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [f.name for f in PURPOSE.fields if f.in_table]
    assert [line.split()[0] for line in lines[2:7]] == ["p0", "p1", "p2", "p3", "p4"]
    assert lines[-1] == "5 purposes" and taken == [0, 1, 2, 3, 4]


def test_the_garbage_a_consumer_makes_in_cycles_is_collected_batch_by_batch(registry):
    """With the collector paused for a whole stream and nothing collected, the consumer's
    cyclic garbage piled up: a JSON listing of 100,000 activities reached 336 MB, not 69 MB."""
    import weakref

    class Cyclic:
        pass

    _activities(registry, 6)
    left: list[weakref.ref] = []
    with registry.find("activity", batch=2) as records:
        for i, _ in enumerate(records):
            garbage = Cyclic()
            garbage.itself = garbage  # a cycle: only the collector frees it
            left.append(weakref.ref(garbage))
            del garbage
            if i == 4:  # two batches done: the garbage of both is gone
                assert [ref() is None for ref in left] == [True] * 4 + [False] * 1
