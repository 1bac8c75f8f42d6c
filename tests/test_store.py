"""ropa.store through the library, on a fresh database: records written as changes read back
field for field, list fields and references included."""

from __future__ import annotations

from datetime import UTC, datetime

from ropa import store
from ropa.records import Change
from ropa.schema import ACTIVITY, KINDS

PARTY = KINDS["party"]
SUBJECT = KINDS["subject"]
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _party(key: str, **values) -> dict:
    return PARTY.new_record() | {"key": key, "name": key.title(), "kind": "group-member"} | values


def _activity(key: str, **values) -> dict:
    return ACTIVITY.new_record() | {"key": key, "name": key.upper()} | values


def _write(db, changes: list[Change]) -> None:
    with db.write() as conn:
        store.write_changes(conn, changes, NOW)


def test_created_records_read_back_with_version_and_timestamps(db):
    party = _party("acme", country="DE", email="privacy@acme.example")
    _write(db, [Change(PARTY, "acme", "create", None, party)])
    with db.read() as conn:
        records = store.read_records(conn, PARTY)
    assert list(records) == ["acme"]
    got = records["acme"]
    assert got["name"] == "Acme" and got["country"] == "DE"
    assert got["email"] == "privacy@acme.example"
    assert got["version"] == 1
    created = got["created_at"]
    assert (created.astimezone(UTC) if created.tzinfo else created.replace(tzinfo=UTC)) == NOW
    assert {f.name: got[f.name] for f in PARTY.fields} == {
        f.name: party[f.name] for f in PARTY.fields
    }


def test_list_fields_and_nested_rows_round_trip_in_order(db):
    subjects = [
        SUBJECT.new_record() | {"key": k, "name": k.title()} for k in ("staff", "customers")
    ]
    activity = _activity(
        "crm",
        controller="acme",
        data_subjects=["customers", "staff"],
        transfers=[{"country": "US", "recipient": "acme"}, {"country": "CA"}],
    )
    _write(
        db,
        [
            Change(PARTY, "acme", "create", None, _party("acme")),
            *[Change(SUBJECT, s["key"], "create", None, s) for s in subjects],
            Change(ACTIVITY, "crm", "create", None, activity),
        ],
    )
    with db.read() as conn:
        got = store.read_records(conn, ACTIVITY, ["crm"])["crm"]
        streamed = list(store.iter_records(conn, ACTIVITY))
    assert got["data_subjects"] == ["customers", "staff"]
    assert [(t["country"], t["recipient"]) for t in got["transfers"]] == [
        ("US", "acme"),
        ("CA", None),
    ]
    assert [r["key"] for r in streamed] == ["crm"]
    assert streamed[0]["transfers"] == got["transfers"]


def test_an_update_rewrites_the_record_and_counts_its_version(db):
    before = _party("acme", country="DE")
    _write(db, [Change(PARTY, "acme", "create", None, before)])
    with db.read() as conn:
        current = store.read_records(conn, PARTY)["acme"]
    after = {f.name: current[f.name] for f in PARTY.fields} | {"country": "FR"}
    _write(db, [Change(PARTY, "acme", "update", current, after)])
    with db.read() as conn:
        got = store.read_records(conn, PARTY)["acme"]
    assert got["country"] == "FR"
    assert got["version"] == 2


def test_referencing_names_every_record_that_refers_to_a_key(db):
    _write(
        db,
        [
            Change(PARTY, "acme", "create", None, _party("acme")),
            Change(PARTY, "cloud", "create", None, _party("cloud", kind="service-provider")),
            Change(ACTIVITY, "crm", "create", None, _activity("crm", controller="acme")),
            Change(
                ACTIVITY,
                "hr",
                "create",
                None,
                _activity("hr", controller="acme", recipients=["cloud"]),
            ),
        ],
    )
    with db.read() as conn:
        used = store.referencing(conn, PARTY, ["acme", "cloud"])
    assert used == {
        "acme": [("activity", "crm"), ("activity", "hr")],
        "cloud": [("activity", "hr")],
    }


def test_a_filter_selects_by_column_list_item_and_key_range(db):
    _write(
        db,
        [
            Change(PARTY, "acme", "create", None, _party("acme")),
            Change(PARTY, "beta", "create", None, _party("beta")),
            *[
                Change(ACTIVITY, key, "create", None, _activity(key, controller=owner))
                for key, owner in (("a1", "acme"), ("a2", "beta"), ("a3", "acme"))
            ],
        ],
    )
    by_acme = store.Filter(equal={"controller": "acme"})
    with db.read() as conn:
        assert list(store.read_records(conn, ACTIVITY, where=by_acme)) == ["a1", "a3"]
        assert store.count_records(conn, ACTIVITY, by_acme) == 2
        assert store.count_records(conn, ACTIVITY) == 3
        ranged = store.Filter(keys_between=("a2", "a3"))
        assert [r["key"] for r in store.iter_records(conn, ACTIVITY, ranged)] == ["a2", "a3"]
        assert store.distinct_values(conn, ACTIVITY, "controller") == {"acme", "beta"}
        assert store.read_keys(conn, ACTIVITY) == ["a1", "a2", "a3"]


def test_a_delete_removes_the_record_and_its_list_rows(db):
    activity = _activity("crm", data_subjects=["staff"])
    subject = SUBJECT.new_record() | {"key": "staff", "name": "Staff"}
    _write(
        db,
        [
            Change(SUBJECT, "staff", "create", None, subject),
            Change(ACTIVITY, "crm", "create", None, activity),
        ],
    )
    with db.read() as conn:
        current = store.read_records(conn, ACTIVITY)["crm"]
    _write(db, [Change(ACTIVITY, "crm", "delete", current, None)])
    with db.read() as conn:
        assert store.read_records(conn, ACTIVITY) == {}
        assert store.referencing(conn, SUBJECT, ["staff"]) == {}


def test_names_swapped_chained_or_freed_in_one_import_are_written_in_any_order(registry):
    """Names are unique within a kind, and the database checks that row by row: a swap, a
    chain of renames, and a new record taking a name another one gives up all pass the plan,
    so the write must not fail half-way on the unique index."""
    registry.import_documents(
        [
            (
                {
                    "purposes": [
                        {"key": k, "name": n} for k, n in (("a", "A"), ("b", "B"), ("c", "C"))
                    ]
                },
                "doc",
            )
        ]
    )
    swap_and_chain = {
        "purposes": [
            {"key": "a", "name": "B"},  # a takes b's name ...
            {"key": "b", "name": "A"},  # ... b takes a's: a swap
            {"key": "c", "name": "D"},  # c gives up C ...
            {"key": "e", "name": "c"},  # ... which a new record takes (another case)
        ]
    }
    registry.import_documents([(swap_and_chain, "doc")], dry_run=True)
    registry.import_documents([(swap_and_chain, "doc")])
    names = {p["key"]: p["name"] for p in registry.list("purpose")}
    assert names == {"a": "B", "b": "A", "c": "D", "e": "c"}
    registry.import_documents(
        [({"purposes": [{"key": "e", "name": "A"}, {"key": "f", "name": "x"}]}, "doc")],
        replace=True,  # a, b, c deleted: "A" is free for e
    )
    assert {p["key"]: p["name"] for p in registry.list("purpose")} == {"e": "A", "f": "x"}


def test_indexes_dropped_for_a_bulk_import_are_left_to_the_rollback_on_an_error(db):
    """An import interrupted (Ctrl-C) while its list tables' indexes were dropped: leaving by
    the error, the context rebuilt them on a connection already closed and printed a
    traceback ("Exception ignored in: <generator object bulk_indexes>") over the one line.
    The rollback brings the indexes back; nothing is rebuilt on an error."""
    import sqlalchemy as sa

    with db.engine.connect() as conn:
        transaction = conn.begin()
        bulk = store.bulk_indexes(conn, ACTIVITY)
        bulk.__enter__()
        transaction.rollback()
    # The interrupt goes on as it came (the `with` statement raises it again): no other error.
    assert bulk.__exit__(KeyboardInterrupt, KeyboardInterrupt(), None) is False
    with db.engine.connect() as conn:
        indexes = sa.inspect(conn).get_indexes("activities_purposes")
    assert indexes, "the rollback left the list table without its indexes"
