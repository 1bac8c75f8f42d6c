"""Finding activities: every filter of `activity list` in SQL, on SQLite and (with
ROPA_TEST_DATABASE_URL) PostgreSQL, on a register built so that one activity matches each
filter and the others do not; the other kinds' --search and --used/--unused; listings that
stream."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ropa.checks.core import add_months

TODAY = datetime.now(UTC).date()


@pytest.fixture(autouse=True)
def _pinned_day(monkeypatch):
    """The register's day is the one these dates were counted from, even past midnight."""
    import ropa.history

    monkeypatch.setattr(ropa.history, "today", lambda: TODAY)


def _register() -> dict:
    """Three activities that the filters tell apart: payroll (HR, acme), crm (sales, beta,
    processor, overdue, a system hosted in India) and mailing (marketing, acme, art10 data,
    a transfer to the US, due for review within 30 days)."""
    return {
        "ropa": 1,
        "parties": [
            {"key": "acme", "name": "Acme GmbH", "kind": "group-member", "country": "DE"},
            {"key": "beta", "name": "Beta SAS", "kind": "group-member", "country": "FR"},
            {"key": "client", "name": "Client AG", "kind": "business-partner", "country": "DE"},
            {"key": "mailer", "name": "Mailer Ltd", "kind": "service-provider", "country": "IE"},
            {"key": "usco", "name": "US Co", "kind": "public-authority", "country": "US"},
            {"key": "advisers", "name": "Advisers LLP", "kind": "professional-adviser"},
        ],
        "categories": [
            {"key": "contact", "name": "Contact details"},
            {"key": "health", "name": "Health data", "special": "art9"},
            {"key": "health-genetic", "name": "Genetic data", "parent": "health"},
            {"key": "crime", "name": "Criminal records", "special": "art10"},
            {"key": "unused-cat", "name": "Never used"},
        ],
        "subjects": [
            {"key": "staff", "name": "Employees"},
            {"key": "customers", "name": "Customers"},
        ],
        "purposes": [
            {"key": "hr", "name": "Human resources", "description": "Paying people"},
            {"key": "billing", "name": "Billing"},
            {"key": "marketing", "name": "Marketing"},
        ],
        "systems": [
            {"key": "crm", "name": "CRM", "countries": ["IN"]},
            {"key": "mail", "name": "Mail", "countries": ["DE"]},
        ],
        "activities": [
            {
                "key": "payroll",
                "name": "Payroll",
                "description": "Salary slips and tax forms",
                "controller": "acme",
                "owner": "HR Team",
                "purposes": ["hr"],
                "lawful_bases": ["legal-obligation"],
                "data_subjects": ["staff"],
                "data_categories": ["health-genetic"],
                "art9_conditions": ["employment-social-security"],
                "recipients": ["mailer"],
                "systems": ["mail"],
                "last_reviewed": TODAY,
            },
            {
                "key": "crm",
                "name": "Customer relations",
                "description": "Keeping track of customers",
                "status": "draft",
                "role": "processor",
                "processor_for": ["client"],
                "controller": "beta",
                "owner": "sales@example.com",
                "purposes": ["billing"],
                "lawful_bases": ["contract"],
                "data_subjects": ["customers"],
                "data_categories": ["contact"],
                "recipients": ["advisers"],
                "systems": ["crm"],
                "last_reviewed": TODAY - timedelta(days=800),
            },
            {
                "key": "mailing",
                "name": "Newsletter",
                "description": "Sending offers",
                "role": "joint-controller",
                "controller": "acme",
                "owner": "marketing@example.com",
                "purposes": ["marketing"],
                "lawful_bases": ["consent"],
                "data_subjects": ["customers"],
                "data_categories": ["crime"],
                "art10_basis": "Authorised by national law",
                "transfers": [{"country": "US", "mechanism": "scc", "recipient": "usco"}],
                "last_reviewed": add_months(TODAY, -12) + timedelta(days=10),
            },
        ],
    }


@pytest.fixture
def register(registry):
    registry.import_documents([(_register(), "register.yaml")])
    return registry


def keys(registry, **filters) -> list[str]:
    return [r["key"] for r in registry.list("activity", filters)]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"owner": ["hr team"]}, ["payroll"]),
        ({"entity": ["Beta SAS"]}, ["crm"]),
        ({"role": ["processor"]}, ["crm"]),
        ({"status": ["draft"]}, ["crm"]),
        ({"subject": ["staff"]}, ["payroll"]),
        ({"category": ["health"]}, ["payroll"]),  # the parent matches its child
        ({"category": ["crime"]}, ["mailing"]),
        ({"special": ["art9"]}, ["payroll"]),  # inherited from the parent
        ({"special": ["art10"]}, ["mailing"]),
        ({"purpose": ["Billing"]}, ["crm"]),
        ({"basis": ["consent"]}, ["mailing"]),
        ({"recipient": ["mailer"]}, ["payroll"]),
        ({"recipient": ["usco"]}, ["mailing"]),  # a transfer's recipient
        ({"recipient_kind": ["professional-adviser"]}, ["crm"]),
        ({"recipient_kind": ["public-authority"]}, ["mailing"]),
        ({"country": ["IN"]}, ["crm"]),  # a system's hosting country
        ({"country": ["us"]}, ["mailing"]),  # a transfer destination
        ({"mechanism": ["scc"]}, ["mailing"]),
        ({"system": ["crm"]}, ["crm"]),
        ({"review_due": "0d"}, ["crm"]),  # overdue
        ({"review_due": "30d"}, ["crm", "mailing"]),  # or due within 30 days
        ({"search": ["SALARY"]}, ["payroll"]),  # a description word, any case
        ({"search": ["invoices"]}, []),
        ({"search": ["50%"]}, []),  # % is a character, not a wildcard
        ({"entity": ["acme"], "basis": ["consent"]}, ["mailing"]),  # combined: AND
        ({"entity": ["acme"], "basis": ["contract"]}, []),
        ({"owner": ["HR Team", "sales@example.com"]}, ["crm", "payroll"]),  # repeated: OR
        ({"country": ["IN", "US"], "role": ["processor"]}, ["crm"]),
    ],
    ids=repr,
)
def test_each_activity_filter_takes_only_the_matching_activity(register, filters, expected):
    assert keys(register, **filters) == expected


def test_search_in_other_kinds_and_used_or_unused(register):
    assert [r["key"] for r in register.list("purpose", {"search": ["paying"]})] == ["hr"]
    unused = [r["key"] for r in register.list("category", {"unused": True})]
    assert unused == ["health", "unused-cat"]  # health is only the parent of a used one
    used = [r["key"] for r in register.list("party", {"used": True})]
    assert used == ["acme", "advisers", "beta", "client", "mailer", "usco"]
    assert [r["key"] for r in register.list("system", {"unused": True})] == []


def test_an_unknown_filter_value_names_the_option_and_suggests_keys(register, cli):
    """A value an option does not take is a usage error, exit 2 as Click's own (`--format
    bogus`, `--role bogus`): filters checked by the library exited 1."""
    result = cli("activity", "list", "--category", "helth")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: --category: unknown data category 'helth' (did you mean: health?)"
    )
    result = cli("activity", "list", "--review-due", "soon")
    assert result.exit_code == 2
    assert "--review-due: 'soon' is not a duration" in result.stderr
    for arguments in (
        ("activity", "list", "--status", "bogus"),
        ("activity", "list", "--country", "XX"),
        ("export", "xlsx", "--basis", "whim", "-o", "x.xlsx"),
        ("party", "list", "--kind", "alien"),
        ("category", "list", "--used", "--unused"),
        ("history", "--kind", "bogus"),
        ("history", "--since", "soon"),
        ("history", "--since", "9999-01-01"),
        ("export", "yaml", "--as-of", "bogus", "-o", "x.yaml"),
        ("export", "xlsx", "--entity", "nobody", "-o", "x.xlsx"),
        ("notice", "--entity", "nobody", "-o", "x.md"),
        ("check", "--rule", "R99"),
    ):
        result = cli(*arguments)
        assert result.exit_code == 2, (arguments, result.stderr)
        assert result.stderr.startswith("error: "), arguments
        assert arguments[2] in result.stderr or "R99" in result.stderr, arguments
        assert len(result.stderr.splitlines()) == 1, arguments


def test_activity_list_filters_from_the_command_line(register, cli):
    result = cli("activity", "list", "--review-due", "--entity", "beta", "-f", "json")
    assert [a["key"] for a in json.loads(result.stdout)] == ["crm"]
    result = cli("activity", "list", "--country", "IN", "--country", "US", "-f", "csv")
    assert [line.split(",")[0] for line in result.stdout.splitlines()] == ["key", "crm", "mailing"]
    result = cli("activity", "list", "--owner", "hr team", "--review-due")
    assert result.exit_code == 0 and "0 activities" in result.stdout
    result = cli("category", "list", "--unused", "-f", "json")
    assert [c["key"] for c in json.loads(result.stdout)] == ["health", "unused-cat"]


def test_a_listing_streams_its_records_a_batch_at_a_time():
    """The JSON, CSV and YAML of a listing come out as the records are read: the text of
    at most one batch is ever waiting, however many records there are."""
    from ropa.cli.output import PRINT_BATCH, Format, listing_chunks
    from ropa.schema import PURPOSE

    total = 20_000
    for fmt in (Format.json, Format.csv, Format.yaml):
        produced = 0

        def records():
            nonlocal produced
            for i in range(total):
                produced += 1
                yield {"key": f"p{i:05}", "name": f"Purpose {i}", "description": None}

        written = 0
        text = []
        for chunk in listing_chunks(PURPOSE, records(), fmt):
            written = produced
            text.append(chunk)
            assert len(chunk) < 200 * PRINT_BATCH
        assert written == total
        whole = "".join(text)
        if fmt is Format.json:
            listed = json.loads(whole)
            assert len(listed) == total and listed[-1] == {"key": "p19999", "name": "Purpose 19999"}
        elif fmt is Format.csv:
            assert whole.count("\n") == total + 1
        else:
            assert whole.count("- key: ") == total


def test_a_streamed_listing_is_the_text_of_the_whole_list(register):
    from ropa.cli.output import Format, listing_chunks
    from ropa.io.document import document_record, dump_json, dump_yaml
    from ropa.schema import ACTIVITY

    activities = register.list("activity")
    documents = [document_record(ACTIVITY, a) for a in activities]
    for fmt, whole in ((Format.json, dump_json), (Format.yaml, dump_yaml)):
        assert "".join(listing_chunks(ACTIVITY, activities, fmt)) == whole(documents)
        assert "".join(listing_chunks(ACTIVITY, [], fmt)) == whole([])


def test_export_writes_only_the_activities_the_filters_take(register, cli):
    from python_calamine import CalamineWorkbook

    result = cli("export", "xlsx", "--country", "IN", "-o", "in.xlsx")
    assert result.exit_code == 0, result.stderr
    assert "1 activity" in result.stderr
    book = CalamineWorkbook.from_path("in.xlsx")
    pages = book.get_sheet_by_name("Activity pages").to_python()
    titles = [row[0] for row in pages if row and str(row[0]).startswith("Customer")]
    assert titles and not any("Payroll" in str(row[0]) for row in pages)


def test_find_reads_the_records_a_batch_at_a_time(registry, monkeypatch):
    """Registry.find converts the rows of one fetch at a time, as they are consumed: a
    listing never holds more than one batch of rows."""
    from ropa import store

    registry.import_documents(
        [({"ropa": 1, "purposes": [{"key": f"p{i}", "name": f"P {i}"} for i in range(7)]}, "x")]
    )
    batches: list[int] = []
    convert = store._to_records

    def counted(kind, names, rows):
        batches.append(len(rows))
        return convert(kind, names, rows)

    monkeypatch.setattr(store, "_to_records", counted)
    with registry.find("purpose", {"search": ["p "]}, batch=3) as records:
        first = next(records)
        assert first["key"] == "p0" and batches == [3]
        rest = [r["key"] for r in records]
    assert rest == [f"p{i}" for i in range(1, 7)] and batches == [3, 3, 1]


def test_entity_names_a_group_member_in_list_as_in_the_exports(initialised, sample):
    # `activity list --entity` took any party (a business partner that is a joint
    # controller listed its activities) where the exports, check and notice refuse it.
    for command in (("activity", "list"), ("export", "csv", "-o", "-"), ("check",)):
        result = initialised(*command, "--entity", "event-partners")
        assert result.exit_code == 2, command
        assert result.stderr.endswith("--entity: 'event-partners' is not a group-member party\n")
