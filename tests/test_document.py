"""The registry document: deterministic export, round trips, and import semantics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ropa.db import Database
from ropa.errors import ValidationFailed
from ropa.io.document import dump_json, dump_yaml, load_text
from ropa.registry import Registry
from tests.conftest import ANY_TEXT, SAMPLE, SECTIONS, dump


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_round_trip_through_an_empty_database_is_byte_identical(initialised, tmp_path):
    cli = initialised
    assert cli("import", SAMPLE).exit_code == 0
    assert cli("export", "yaml", "-o", "first.yaml").exit_code == 0
    first = (tmp_path / "first.yaml").read_bytes()

    cli("init", "--force", "--yes")
    assert cli("activity", "list", "-f", "json").stdout == "[]\n"
    assert cli("import", "first.yaml").exit_code == 0
    assert cli("export", "yaml", "-o", "second.yaml").exit_code == 0
    assert (tmp_path / "second.yaml").read_bytes() == first


def test_json_round_trip_is_byte_identical(initialised, tmp_path):
    cli = initialised
    cli("import", SAMPLE)
    cli("export", "json", "-o", "first.json")
    cli("init", "--force", "--yes")
    cli("import", "first.json")
    cli("export", "json", "-o", "second.json")
    first = (tmp_path / "first.json").read_bytes()
    assert (tmp_path / "second.json").read_bytes() == first
    assert json.loads(first)["ropa"] == 1


def test_export_is_sorted_with_fields_in_schema_order_and_empty_fields_left_out(sample):
    doc = sample.document()
    keys = [a["key"] for a in doc["activities"]]
    assert keys == sorted(keys)
    marketing = next(a for a in doc["activities"] if a["key"] == "marketing")
    assert list(marketing)[:5] == ["key", "name", "description", "status", "role"]
    assert "joint_controllers" not in marketing and "art9_conditions" not in marketing
    assert marketing["recipients"] == sorted(marketing["recipients"])
    assert list(doc) == ["ropa", *SECTIONS]


def test_export_to_stdout(initialised):
    initialised("import", SAMPLE)
    out = initialised("export", "yaml", "-o", "-").stdout
    assert out.startswith("ropa: 1\nparties:\n")


def test_a_document_describes_whole_records(initialised, registry, tmp_path):
    # A registry document describes whole records: a field it leaves out is cleared (SPEC
    # "Import semantics"; a data-layout row changes only the cells it fills).
    cli = initialised
    cli("import", SAMPLE)
    write(
        tmp_path / "patch.yaml",
        """
activities:
  - key: marketing
    name: Marketing to interested people
    owner: Head of Marketing
    purposes: [marketing]
""",
    )
    result = cli("import", "patch.yaml", "-m", "owner change")
    assert result.exit_code == 0, result.stderr
    assert "changed 1 record\n" in result.stderr
    marketing = registry.get("activity", "marketing")
    assert marketing["owner"] == "Head of Marketing"
    assert marketing["systems"] == []
    assert marketing["lawful_bases"] == []  # left out: cleared
    assert marketing["name"] == "Marketing to interested people"


def test_reimporting_an_unchanged_export_changes_nothing(initialised, db, tmp_path):
    cli = initialised
    cli("import", SAMPLE)
    cli("export", "yaml", "-o", "same.yaml")
    before = dump(db)
    result = cli("import", "same.yaml")
    assert result.exit_code == 0
    assert "changed 0 records" in result.stderr
    assert dump(db) == before


def test_replace_deletes_records_not_in_the_file_and_records_the_deletions(
    initialised, registry, db, tmp_path
):
    import sqlalchemy as sa

    from ropa.models import Revision

    cli = initialised
    cli("import", SAMPLE)
    write(
        tmp_path / "small.yaml",
        """
ropa: 1
parties:
  - {key: acme, name: Acme, kind: group-member, country: FR, email: dpo@acme.example}
subjects:
  - {key: staff, name: Staff}
activities:
  - {key: payroll, name: Payroll, controller: acme, data_subjects: [staff]}
""",
    )
    # --replace-all makes the whole register the file's (--replace: only its sections' kinds)
    result = cli("import", "small.yaml", "--replace-all", "--yes")  # no terminal to ask on
    assert result.exit_code == 0, result.stderr
    doc = registry.document()
    assert [a["key"] for a in doc["activities"]] == ["payroll"]
    assert [p["key"] for p in doc["parties"]] == ["acme"]
    assert doc["categories"] == []
    with db.engine.connect() as conn:
        deletes = conn.execute(
            sa.select(sa.func.count()).where(Revision.action == "delete")
        ).scalar()
    assert deletes == 75  # every sample record, each recorded as a deletion


def test_dry_run_reports_and_changes_nothing(initialised, db, tmp_path):
    cli = initialised
    before = dump(db)
    result = cli("import", SAMPLE, "--dry-run")
    assert result.exit_code == 0
    assert "dry run: nothing was changed" in result.stderr
    assert "would change 75 records" in result.stderr
    assert "activities" in result.stderr and "14" in result.stderr
    assert dump(db) == before


def test_import_refers_to_records_by_name_ignoring_case(initialised, registry, tmp_path):
    write(
        tmp_path / "names.yaml",
        """
parties:
  - {key: acme, name: Acme Group SA, kind: group-member}
subjects:
  - {key: staff, name: Members of Staff}
activities:
  - {key: hr, name: HR, controller: ACME GROUP SA, data_subjects: [members of staff]}
""",
    )
    assert initialised("import", "names.yaml").exit_code == 0
    record = registry.get("activity", "hr")
    assert record["controller"] == "acme" and record["data_subjects"] == ["staff"]


def test_import_reads_json_from_stdin(initialised, registry):
    doc = {"purposes": [{"key": "p1", "name": "Purpose one"}]}
    result = initialised("import", "-", "--format", "json", input=json.dumps(doc))
    assert result.exit_code == 0, result.stderr
    assert registry.get("purpose", "p1")["name"] == "Purpose one"


BAD_DOCUMENTS = [
    (
        "unknown reference",
        "activities:\n  - {key: a1, name: A, data_subjects: [nobody]}\n",
        "bad.yaml:activities[0].data_subjects: unknown data subject category 'nobody'",
    ),
    (
        "wrong code",
        "activities:\n  - {key: a1, name: A, lawful_bases: [because]}\n",
        "bad.yaml:activities[0].lawful_bases: 'because' is not a lawful basis",
    ),
    (
        "invalid country",
        "parties:\n  - {key: p1, name: P, country: XY}\n",
        "bad.yaml:parties[0].country: 'XY' is not an ISO 3166-1 country code",
    ),
    (
        "malformed duration",
        "activities:\n  - {key: a1, name: A, retention: [{duration: 6 years}]}\n",
        "bad.yaml:activities[0].retention[0].duration: '6 years' is not an ISO 8601 duration",
    ),
    (
        "malformed date",
        "activities:\n  - {key: a1, name: A, last_reviewed: 2024-13-45}\n",
        "bad.yaml:activities[0].last_reviewed: '2024-13-45' is not a date: there is no month 13 "
        "(months are 01–12)",
    ),
    (
        "duplicate key",
        "purposes:\n  - {key: p1, name: A}\n  - {key: p1, name: B}\n",
        "bad.yaml:purposes[1].key: duplicate key 'p1' (also at bad.yaml:purposes[0])",
    ),
    (
        "key with a space",
        "purposes:\n  - {key: my purpose, name: A}\n",
        "bad.yaml:purposes[0].key: 'my purpose' is not a valid key",
    ),
    (
        "unknown field",
        "purposes:\n  - {key: p1, name: A, colour: red}\n",
        "bad.yaml:purposes[0].colour: unknown purpose field",
    ),
    (
        "unknown section",
        "activites: []\n",
        "bad.yaml:activites: unknown section (did you mean: activities",
    ),
    (
        "missing name",
        "purposes:\n  - {key: p1}\n",
        "bad.yaml:purposes[0].name: a purpose needs a name",
    ),
    ("YAML syntax", "purposes: [\n", "bad.yaml:2:1: invalid YAML"),
]


@pytest.mark.parametrize(
    ("text", "message"), [b[1:] for b in BAD_DOCUMENTS], ids=[b[0] for b in BAD_DOCUMENTS]
)
def test_bad_document_gets_a_clear_error_and_changes_nothing(
    initialised, db, tmp_path, text, message
):
    cli = initialised
    cli("import", SAMPLE)
    before = dump(db)
    write(tmp_path / "bad.yaml", text)
    result = cli("import", "bad.yaml")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: " + message), result.stderr
    assert "Traceback" not in result.stderr
    assert dump(db) == before


def test_one_bad_record_among_many_changes_nothing(initialised, db, tmp_path):
    lines = ["purposes:"] + [f"  - {{key: p{i}, name: Purpose {i}}}" for i in range(200)]
    lines.append("activities:\n  - {key: a1, name: A, purposes: [p1, p999]}")
    write(tmp_path / "many.yaml", "\n".join(lines) + "\n")
    before = dump(db)
    result = initialised("import", "many.yaml")
    assert result.exit_code == 1
    assert "many.yaml:activities[0].purposes: unknown purpose 'p999'" in result.stderr
    assert dump(db) == before


def test_every_problem_is_reported_not_just_the_first(initialised, tmp_path):
    write(tmp_path / "bad.yaml", "purposes:\n  - {key: a b, name: A}\n  - {key: c d, name: B}\n")
    result = initialised("import", "bad.yaml")
    assert result.stderr.count("error: ") == 2


def test_more_than_a_hundred_problems_are_summarised(initialised, tmp_path):
    lines = ["purposes:"] + [f"  - {{key: 'bad {i}', name: P{i}}}" for i in range(150)]
    write(tmp_path / "bad.yaml", "\n".join(lines) + "\n")
    result = initialised("import", "bad.yaml")
    assert result.stderr.count("error: ") == 101
    assert result.stderr.splitlines()[-1] == "error: … and 50 more problems"


def test_replace_refuses_when_the_file_refers_to_a_record_it_would_delete(
    initialised, db, tmp_path
):
    cli = initialised
    cli("import", SAMPLE)
    before = dump(db)
    write(
        tmp_path / "partial.yaml",
        """
activities:
  - {key: hr, name: HR, data_subjects: [job-candidates]}
""",
    )
    result = cli("import", "partial.yaml", "--replace-all")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: partial.yaml:activities[0].data_subjects: unknown data subject category "
        "'job-candidates'"
    )
    assert dump(db) == before


def test_import_of_unsupported_file_type_is_refused(initialised, tmp_path):
    write(tmp_path / "register.txt", "hello")
    result = initialised("import", "register.txt")
    assert result.exit_code == 1
    assert "register.txt: cannot import .txt files" in result.stderr


def test_import_of_missing_file(initialised):
    result = initialised("import", "nowhere.yaml")
    assert result.exit_code == 1
    assert result.stderr == "error: nowhere.yaml: no such file or folder\n"


# -- property: text survives export → import, or is refused at write time ---------------


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(description=ANY_TEXT)
def test_any_text_survives_yaml_and_json_round_trips_or_is_refused(tmp_path_factory, description):
    path = tmp_path_factory.mktemp("prop") / "ropa.db"
    db = Database.open(str(path))
    db.init()
    registry = Registry(db, "tester")
    doc = {"purposes": [{"key": "p1", "name": "P", "description": description}]}
    try:
        registry.import_documents([(doc, "doc")])
    except ValidationFailed as e:
        assert "doc:purposes[0].description" in str(e)
        db.dispose()
        return
    stored = registry.get("purpose", "p1")["description"]
    expected = description.replace("\r\n", "\n").replace("\r", "\n").strip() or None
    assert stored == expected
    for fmt, dump_text in (("yaml", dump_yaml), ("json", dump_json)):
        text = dump_text(registry.document())
        reloaded = load_text(text, fmt, "export")
        assert reloaded["purposes"][0].get("description") == stored
    db.dispose()


YAML_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=40
) | st.sampled_from(
    [
        "- item",
        "? key",
        "key: value",
        "# comment",
        "!tag",
        "&anchor",
        "*alias",
        "%TAG",
        "`x`",
        "| block",
        "> folded",
        "'q",
        '"q',
        "a #b",
        "trailing:",
        "x\u2028y",
        "x\x85y",
        "\ufeffbom",
        "line\n  indented\n\nlast",
        "tab\n\tstart",
        "2026-01-15",
        "1:20",
        "0x1F",
        "1_000",
        "~",
        "Yes",
        "off",
        ".inf",
        "<<",
        "=",
        "null",
        "-1",
        "+1",
        "1e3",
    ]
)


@settings(max_examples=300, deadline=None)
@given(text=YAML_TEXT)
def test_yaml_emitter_writes_any_text_so_that_it_reads_back_the_same(text):
    value = {"a": text, "b": [text, {"c": text}], "n": 12, "t": True, "e": []}
    assert load_text(dump_yaml(value), "yaml", "t") == value


def test_streamed_export_is_the_same_text_as_the_whole_document(sample):
    from ropa.io.document import json_chunks, yaml_chunks

    doc = sample.document()
    with sample.document_sections() as sections:
        assert "".join(yaml_chunks(sections)) == dump_yaml(doc)
    with sample.document_sections() as sections:
        assert "".join(json_chunks(sections)) == dump_json(doc)
    empty = {"ropa": 1, "parties": [], "activities": []}
    parts = [("parties", iter([[]])), ("activities", iter([[], []]))]
    assert "".join(json_chunks(iter(parts))) == dump_json(empty)
    parts = [("parties", iter([[]])), ("activities", iter([[], []]))]
    assert "".join(yaml_chunks(iter(parts))) == dump_yaml(empty)


HAND_WRITTEN = """ropa: 1
parties:
  - key: g
    name: 0x1F
    kind: group-member
    country: NO
    registration_id: 0123
    phone: +4930123456
    description: 1.50
    notes: .inf
  - key: h
    name: yes
    kind: service-provider
    country: DE
    phone: 030_1234
    dpf_certified: yes
"""


@pytest.mark.parametrize("streamed", [False, True])
def test_hand_written_yaml_keeps_plain_text_as_written(registry, tmp_path, monkeypatch, streamed):
    """YAML 1.1 read `0123` as the octal 83, `+4930123456` as a number without its +,
    `030_1234` as 98972, `0x1F` as 31 and `NO` as false: text changed with exit 0. A plain
    scalar is a number or a boolean only as the JSON/YAML 1.2 core schema writes one."""
    from ropa.io import document
    from ropa.io.sources import read_sources

    if streamed:
        monkeypatch.setattr(document, "STREAM_FROM", 0)
    path = tmp_path / "hand.yaml"
    path.write_text(HAND_WRITTEN + "activities: []\n", encoding="utf-8")
    documents, tables = read_sources([str(path)], None, lambda: "")
    registry.import_records(documents, tables)
    g, h = registry.get("party", "g"), registry.get("party", "h")
    assert (g["name"], g["country"], g["registration_id"], g["phone"]) == (
        "0x1F", "NO", "0123", "+4930123456",
    )  # fmt: skip
    assert (g["description"], g["notes"]) == ("1.50", ".inf")
    assert (h["name"], h["phone"], h["dpf_certified"]) == ("yes", "030_1234", True)


def test_a_whole_number_written_otherwise_than_in_digits_is_refused_in_yaml_as_in_csv(
    registry,
):
    text = HAND_WRITTEN + (
        "purposes: [{key: p, name: P}]\n"
        "activities:\n  - {key: a, name: A, controller: g, purposes: [p], "
        "review_interval_months: 1_2}\n"
    )
    with pytest.raises(ValidationFailed) as e:
        registry.import_documents([(load_text(text, "yaml", "hand.yaml"), "hand.yaml")])
    assert [str(p) for p in e.value.problems] == [
        "hand.yaml:activities[0].review_interval_months: '1_2' is not a whole number"
    ]


def test_kind_with_a_document_of_sections_is_refused_not_ignored(initialised, registry, tmp_path):
    """`import s.yaml --kind party` imported the file's sources: section, without a word."""
    cli = initialised
    (tmp_path / "s.yaml").write_text("ropa: 1\nsources:\n  - key: s1\n    name: S1\n")
    result = cli("import", "s.yaml", "--kind", "party")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: s.yaml: --kind party is for a plain list of records or one record; this is a "
        "registry document with sections (sources)"
    )
    assert registry.list("source") == []


def test_a_document_version_must_be_the_number_1(initialised, tmp_path):
    cli = initialised
    (tmp_path / "v.json").write_text('{"ropa": true, "sources": []}')
    result = cli("import", "v.json")
    assert result.exit_code == 1
    assert "v.json:ropa: unsupported document version True" in result.stderr
