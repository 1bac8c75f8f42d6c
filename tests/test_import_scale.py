"""An import's cost grows with the file, not with the register: a one-record import into a
register of 2,000 activities and into one of 20,000 issues the same SQL statements, and
reports the same as before."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from ropa import store
from ropa.errors import ValidationFailed
from ropa.history import utcnow
from ropa.records import Change
from ropa.registry import Registry
from ropa.schema import ACTIVITY, KINDS

REFERENCES = {
    "ropa": 1,
    "parties": [
        {"key": "acme", "name": "Acme SE", "kind": "group-member", "country": "DE"},
        {"key": "beta", "name": "Beta GmbH", "kind": "group-member", "country": "DE"},
        {"key": "cloud", "name": "Cloud Inc", "kind": "service-provider", "country": "US"},
    ],
    "categories": [{"key": "contact", "name": "Contact details"}],
    "subjects": [{"key": "customers", "name": "Customers"}],
    "purposes": [{"key": "billing", "name": "Billing"}],
}


def _fill(registry: Registry, start: int, stop: int) -> None:
    """Activities a-START … a-(STOP-1), written in bulk without history."""
    changes = [
        Change(
            ACTIVITY,
            f"a-{i:05d}",
            "create",
            None,
            ACTIVITY.new_record()
            | {
                "key": f"a-{i:05d}",
                "name": f"Activity {i:05d}",
                "controller": "acme" if i % 2 else "beta",
                "purposes": ["billing"],
                "data_subjects": ["customers"],
            },
        )
        for i in range(start, stop)
    ]
    with registry.db.write() as conn:
        store.write_changes(conn, changes, utcnow())


def _one(key: str, **fields: object) -> dict:
    """A document of one activity, its references given by key and by name."""
    record = {
        "key": key,
        "name": f"New {key}",
        "controller": "Acme SE",
        "purposes": ["billing"],
        "data_subjects": ["Customers"],
        "data_categories": ["contact"],
        "recipients": ["cloud"],
        "transfers": [{"country": "US", "recipient": "Cloud Inc", "mechanism": "scc"}],
        "retention": [{"data_category": "Contact details", "duration": "P2Y"}],
    }
    return {"ropa": 1, "activities": [record | fields]}


@contextmanager
def _counted(registry: Registry) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = registry.db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def _reads_a_whole_table(statement: str) -> bool:
    """Whether a SELECT reads every row of a table: no WHERE outside its subqueries (a count
    reads no rows)."""
    outer = " ".join(statement.split())
    while (inner := re.sub(r"\([^()]*\)", "", outer)) != outer:
        outer = inner
    return (
        outer.lstrip().upper().startswith("SELECT")
        and " FROM " in outer.upper()
        and " WHERE " not in outer.upper()
        and "alembic_version" not in outer
        and not outer.upper().startswith("SELECT COUNT")
    )


def _statements(registry: Registry, size: int) -> list[int]:
    """How many statements a dry run, a create, an update and an unchanged re-import of one
    activity issue, and an update of a stored one; none reads a whole table."""
    counts = []
    for document, dry_run in [
        (_one(f"new-{size}"), True),
        (_one(f"new-{size}"), False),
        (_one(f"new-{size}", description="changed"), False),
        (_one(f"new-{size}", description="changed"), False),
        (_one(f"a-{size // 1000 + 1:05d}", name=f"Activity {size // 1000 + 1:05d}"), False),
    ]:
        with _counted(registry) as statements:
            registry.import_documents([(document, "one.yaml")], dry_run=dry_run)
        counts.append(len(statements))
        assert [s for s in statements if _reads_a_whole_table(s)] == []
    return counts


def test_a_one_record_import_issues_as_many_statements_into_20000_activities_as_into_2000(
    registry,
):
    registry.import_documents([(REFERENCES, "references.yaml")])
    _fill(registry, 0, 2_000)
    registry.import_documents([(_one("warm-up"), "one.yaml")], dry_run=True)
    small = _statements(registry, 2_000)
    _fill(registry, 2_000, 20_000)
    large = _statements(registry, 20_000)
    assert small == large
    assert registry.get("activity", "new-20000")["description"] == "changed"
    assert registry.get("activity", "a-00021")["data_categories"] == ["contact"]


def test_the_dry_run_of_one_record_reports_what_it_would_do(registry):
    registry.import_documents([(REFERENCES, "references.yaml")])
    _fill(registry, 0, 2_000)
    report = registry.import_documents([(_one("new-1"), "one.yaml")], dry_run=True)
    assert report.as_dict() == {
        "created": [{"kind": "activity", "key": "new-1"}],
        "updated": [],
        "removed": [],
        "unchanged": 2_000 + 3 + 1 + 1 + 1,
        "warnings": [],
    }
    assert report.rows()[0] == ("parties", 0, 0, 3, 0)
    assert report.rows()[-1] == ("activities", 1, 0, 2_000, 0)
    created = report.records[0].after
    assert created["controller"] == "acme"  # resolved from the name
    assert created["data_subjects"] == ["customers"]
    assert created["transfers"][0]["recipient"] == "cloud"
    assert created["retention"][0]["data_category"] == "contact"
    assert registry.db and "new-1" not in {r["key"] for r in registry.list("activity")}

    update = _one("a-00042", name="Activity 00042", controller="beta")
    report = registry.import_documents([(update, "one.yaml")], dry_run=True)
    assert report.as_dict()["updated"] == [
        {
            "kind": "activity",
            "key": "a-00042",
            "changes": {
                "data_categories": {"before": None, "after": ["contact"]},
                "recipients": {"before": None, "after": ["cloud"]},
                "transfers": {
                    "before": None,
                    "after": [{"country": "US", "mechanism": "scc", "recipient": "cloud"}],
                },
                "retention": {
                    "before": None,
                    "after": [{"data_category": "contact", "duration": "P2Y"}],
                },
            },
        }
    ]
    assert report.rows()[-1] == ("activities", 0, 1, 1_999, 0)


def test_a_name_another_stored_record_has_is_refused_without_reading_the_register(registry):
    registry.import_documents([(REFERENCES, "references.yaml")])
    _fill(registry, 0, 2_000)
    with pytest.raises(ValidationFailed) as e:
        registry.import_documents([(_one("new-1", name="ACTIVITY 01234"), "one.yaml")])
    assert [str(p) for p in e.value.problems] == [
        "one.yaml:activities[0].name: 2 activities share the name 'Activity 01234': a-01234, "
        "new-1; "
        "names are unique within their kind"
    ]


def test_unknown_references_are_reported_with_hints_at_scale(registry):
    registry.import_documents([(REFERENCES, "references.yaml")])
    _fill(registry, 0, 2_000)
    with pytest.raises(ValidationFailed) as e:
        registry.import_documents([(_one("new-1", controller="acmee", systems=["crm"]), "x")])
    assert [str(p) for p in e.value.problems] == [
        "x:activities[0].controller: unknown party 'acmee' (did you mean: acme?)",
        "x:activities[0].systems: unknown system 'crm'",
    ]


def test_a_change_that_would_break_stored_records_names_them(registry):
    registry.import_documents([(REFERENCES, "references.yaml")])
    _fill(registry, 0, 20)
    demoted = {"ropa": 1, "parties": [REFERENCES["parties"][1] | {"kind": "other"}]}
    with pytest.raises(ValidationFailed) as e:
        registry.import_documents([(demoted, "p.yaml")])
    problems = [str(p) for p in e.value.problems]
    assert len(problems) == 10
    assert problems[0] == (
        "p.yaml:parties[0]: would make activity 'a-00000' invalid: controller: 'beta' is an "
        "other party, not a group-member party; the controller must be a legal entity of the "
        "group"
    )
    assert KINDS["party"] and registry.get("party", "beta")["kind"] == "group-member"


YAML_SAMPLE = """\
ropa: 1
parties:
  - key: acme
    name: 'Acme: SE'
    kind: group-member
    dpf_certified: yes
    country: NO
    since: 2024-01-31
    big: 0x1F
    ratio: 1.5
    empty:
    shared: &shared [a, b, {c: d}]
    again: *shared
    text: |
      two
      lines
    "quoted key": !!str 12
    flow: {x: 1, y: [~, null, true]}
"""


def test_a_yaml_document_is_built_from_the_parser_events_as_the_safe_loader_builds_it():
    import yaml

    from ropa.io.document import load_text

    expected = yaml.safe_load(YAML_SAMPLE)
    # Dates stay text for ropa to parse, and so do YAML 1.1's other numbers and booleans.
    expected["parties"][0].update(
        since="2024-01-31", dpf_certified="yes", country="NO", big="0x1F", ratio="1.5"
    )
    assert load_text(YAML_SAMPLE, "yaml", "s.yaml") == expected
    assert load_text("", "yaml", "s.yaml") is None
    assert load_text("- 1\n- two\n", "yaml", "s.yaml") == [1, "two"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("a: 1\n<<: {b: 2}\n", "s.yaml:2:1: invalid YAML: merge keys (<<) are not allowed"),
        ("a: *nowhere\n", "s.yaml:1:4: invalid YAML: found undefined alias 'nowhere'"),
        ("a: 1\n---\nb: 2\n", "s.yaml:2:1: invalid YAML: but found another document"),
        ("a: !!python/object:os.system x\n", "could not determine a constructor for the tag"),
        ("a: !!set {x}\n", "could not determine a constructor for the tag"),
        ("? [a]\n: 1\n", "invalid YAML: found unhashable key"),
        ("a: 1\nb: 2\na: 3\n", "s.yaml:3:1: invalid YAML: duplicate key 'a' (first at line 1, "),
    ],
)
def test_what_the_safe_loader_refuses_a_yaml_document_still_refuses(text, message):
    from ropa.io.document import load_text

    with pytest.raises(ValidationFailed) as e:
        load_text(text, "yaml", "s.yaml")
    assert message in str(e.value.problems[0])


def _varied(i: int) -> dict:
    """An activity of its own purpose, subject, category and recipient, controlled by beta."""
    return {
        "key": f"u-{i:03d}",
        "name": f"User {i:03d}",
        "controller": "beta",
        "purposes": [f"p-{i}"],
        "data_subjects": [f"s-{i}"],
        "data_categories": [f"c-{i}"],
        "recipients": ["cloud"],
    }


def test_an_edit_checks_the_records_that_use_it_in_statements_independent_of_their_number(
    registry,
):
    """`ropa party edit` checks every activity that uses the party: it looked up each of
    their references alone (246 statements for a party of 21 activities at 2,000)."""
    from ropa.registry import Edit

    counts = []
    for users in (3, 30):
        document = {
            "ropa": 1,
            "parties": REFERENCES["parties"],
            "purposes": [{"key": f"p-{i}", "name": f"P {i}"} for i in range(users)],
            "subjects": [{"key": f"s-{i}", "name": f"S {i}"} for i in range(users)],
            "categories": [{"key": f"c-{i}", "name": f"C {i}"} for i in range(users)],
            "activities": [_varied(i) for i in range(users)],
        }
        registry.import_documents([(document, "users.yaml")], replace=True)
        with _counted(registry) as statements:
            registry.edit("party", "beta", Edit(set={"phone": f"+49 {users}"}))
        counts.append(len(statements))
    assert counts[0] == counts[1]
    assert registry.get("party", "beta")["phone"] == "+49 30"


def test_an_edit_of_a_field_no_rule_reads_leaves_the_records_that_use_it_unread(registry):
    """A party's phone is read by no write-time rule of the records that use it: `ropa party
    edit vendor-1 --phone …` re-checked its 1,050 activities at 100,000 (0.5 s against 0.3 s
    at 2,000). A change of its kind still checks them."""
    from ropa.registry import Edit

    document = {
        "ropa": 1,
        "parties": REFERENCES["parties"],
        "purposes": [{"key": f"p-{i}", "name": f"P {i}"} for i in range(30)],
        "subjects": [{"key": f"s-{i}", "name": f"S {i}"} for i in range(30)],
        "categories": [{"key": f"c-{i}", "name": f"C {i}"} for i in range(30)],
        "activities": [_varied(i) for i in range(30)],
    }
    registry.import_documents([(document, "users.yaml")], replace=True)
    with _counted(registry) as statements:
        registry.edit("party", "beta", Edit(set={"phone": "+49 1"}))
    assert [s for s in statements if re.search(r"\bactivities", s)] == []
    assert registry.get("party", "beta")["phone"] == "+49 1"
    with pytest.raises(ValidationFailed, match="would make activity 'u-000' invalid"):
        registry.edit("party", "beta", Edit(set={"kind": "service-provider"}))


def test_no_statement_is_prepared_without_its_values_on_postgresql(registry):
    """psycopg prepares a statement run five times; PostgreSQL then plans it without its
    values, and a look-up of 500 names compared every row with each name in turn instead of
    hashing them: 70-115 ms a batch instead of 4 ms, 1.4 s of a 10,000-activity import."""
    if registry.db.is_sqlite:
        pytest.skip("PostgreSQL only: SQLite has no prepared statements")
    names = [f"name {i}" for i in range(50)]
    with registry.db.write() as conn:
        for _ in range(8):
            assert store.lookup(conn, ACTIVITY, [], names) == []
        prepared = conn.exec_driver_sql("SELECT count(*) FROM pg_prepared_statements").scalar()
    assert prepared == 0
