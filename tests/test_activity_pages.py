"""The record as an authority reads it: one page per activity, label and value, under the
Art. 30 headings; and the new record fields, from the register to every layout."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from ropa.errors import ValidationFailed
from ropa.io.article30 import CONTROLLER, PROCESSOR, page_labels

#: A small register with every kind of activity and each field of migration 0004.
DOCUMENT = {
    "parties": [
        {
            "key": "acme",
            "name": "Acme SE",
            "kind": "group-member",
            "country": "DE",
            "address": "Hafenstraße 1, Hamburg",
            "email": "privacy@acme.example",
        },
        {
            "key": "partner",
            "name": "Partner Øresund AB",
            "kind": "other",
            "country": "SE",
            "address": "Storgatan 2, Malmö",
            "email": "dpo@partner.example",
        },
        {
            "key": "hr-dept",
            "name": "HR department",
            "kind": "internal",
        },
        {
            "key": "payroll",
            "name": "Payroll Ltd",
            "kind": "service-provider",
            "country": "PL",
            "address": "ul. Piotrkowska 1, Łódź",
            "contract_link": "contracts/payroll-dpa",
        },
        {"key": "client", "name": "Client Ελλάδα AE", "kind": "other", "country": "GR"},
    ],
    "purposes": [
        {"key": "payroll", "name": "Paying salaries"},
        {"key": "newsletter", "name": "Newsletter", "direct_marketing": True},
        {"key": "hosting", "name": "Hosting for clients"},
    ],
    "activities": [
        {
            "key": "payroll",
            "name": "Payroll",
            "controller": "acme",
            "purposes": ["payroll"],
            "lawful_bases": ["legal-obligation", "contract"],
            "legal_basis_details": "BDSG §26; EStG §41",
            "art10_basis": "None",
            "recipients": ["hr-dept", "payroll"],
            "retention_policy_link": "policies/retention",
            "consent_record_link": "",
        },
        {
            "key": "events",
            "name": "Joint events",
            "role": "joint-controller",
            "controller": "acme",
            "joint_controllers": ["partner"],
            "joint_arrangement_link": "contracts/art26-events",
            "purposes": ["newsletter"],
            "lawful_bases": ["consent"],
        },
        {
            "key": "hosting",
            "name": "Hosting",
            "role": "processor",
            "controller": "acme",
            "processor_for": ["client"],
            "sub_processors": ["payroll"],
            "purposes": ["hosting"],
        },
    ],
}


@pytest.fixture
def small(registry):
    registry.import_documents([(DOCUMENT, "doc")])
    return registry


def _blocks(sheet) -> dict[str, list[tuple[int, str, str | None]]]:
    """The sheet's blocks by heading: (row, column A, column B) of each row."""
    blocks: dict[str, list] = {}
    current = None
    for row in sheet.iter_rows():
        a, b = row[0].value, row[1].value if len(row) > 1 else None
        if a and row[0].font.sz == 14:
            current = blocks.setdefault(a, [])
        if current is not None and a:
            current.append((row[0].row, a, b))
    return blocks


def test_activity_pages_sheet_has_one_block_per_activity_with_page_breaks(initialised, small):
    assert initialised("export", "xlsx", "-o", "record.xlsx").exit_code == 0
    book = load_workbook("record.xlsx")
    assert book.sheetnames.index("Activity pages") == book.sheetnames.index("Processor record") + 1
    sheet = book["Activity pages"]
    blocks = _blocks(sheet)
    assert list(blocks) == ["Joint events (events)", "Hosting (hosting)", "Payroll (payroll)"]
    starts = [rows[0][0] for rows in blocks.values()]
    assert sorted(b.id for b in sheet.row_breaks.brk) == [s - 1 for s in starts[1:]]
    assert sheet.page_setup.orientation == "portrait"
    assert sheet.page_setup.paperSize == 9
    assert sheet.page_setup.scale in (None, 100)
    assert "Acme SE" in sheet.oddHeader.left.text
    assert sheet.oddFooter.right.text == "Page &P of &N"


def test_a_controller_page_has_every_field_under_the_article_30_1_headings(initialised, small):
    assert initialised("export", "xlsx", "-o", "record.xlsx").exit_code == 0
    rows = _blocks(load_workbook("record.xlsx")["Activity pages"])["Payroll (payroll)"]
    assert rows[1][1] == "Controller record (Art. 30(1))"
    headings = [a for _, a, b in rows[2:] if b is None]
    assert headings == [
        "Art. 30(1)(a) Controller, joint controllers and their contact details",
        "Art. 30(1)(b) Purposes of the processing",
        "Art. 30(1)(c) Categories of data subjects and of personal data",
        "Art. 30(1)(d) Recipients",
        "Art. 30(1)(e) Transfers to third countries or international organisations",
        "Art. 30(1)(f) Time limits for erasure",
        "Art. 30(1)(g) Technical and organisational security measures",
        "Other information",
    ]
    fields = {a: b for _, a, b in rows[2:] if b is not None}
    assert list(fields) == page_labels(CONTROLLER)
    assert fields["Legal basis details"] == "BDSG §26; EStG §41"
    assert fields["Link to retention and erasure policy"] == "policies/retention"
    assert fields["Link to contract with processor"] == "Payroll Ltd: contracts/payroll-dpa"
    assert fields["Categories of recipients"] == (
        "Internal recipient (department or role)\nService provider"
    )
    assert fields["Joint controllers"] == "Not recorded"
    assert fields["Rights available to individuals"] == (
        "Access\nRectification\nErasure\nRestriction\nPortability\nComplaint"
    )


def test_a_processor_page_has_the_article_30_2_fields(initialised, small):
    assert initialised("export", "xlsx", "-o", "record.xlsx").exit_code == 0
    rows = _blocks(load_workbook("record.xlsx")["Activity pages"])["Hosting (hosting)"]
    assert rows[1][1] == "Processor record (Art. 30(2))"
    headings = [a for _, a, b in rows[2:] if b is None]
    assert [h[:13] for h in headings] == [
        "Art. 30(2)(a)",
        "Art. 30(2)(b)",
        "Art. 30(2)(c)",
        "Art. 30(2)(d)",
    ]
    fields = {a: b for _, a, b in rows[2:] if b is not None}
    assert set(fields) == set(page_labels(PROCESSOR))
    assert fields["Sub-processors"] == "Payroll Ltd\nul. Piotrkowska 1, Łódź"
    assert fields["Controllers on whose behalf we act"] == "Client Ελλάδα AE"


def test_joint_controllers_are_listed_with_their_contact_details(initialised, small):
    assert initialised("export", "xlsx", "-o", "record.xlsx").exit_code == 0
    sheet = load_workbook("record.xlsx")["Controller record"]
    headers = [c.value for c in sheet[2]]
    events = next(
        dict(zip(headers, (c.value for c in row), strict=True))
        for row in sheet.iter_rows(min_row=3)
        if row[0].value == "events"
    )
    assert events["Joint controllers"] == (
        "Partner Øresund AB\nStorgatan 2, Malmö\ndpo@partner.example"
    )
    assert events["Joint controller arrangement"] == "contracts/art26-events"
    assert "Withdrawing consent" in events["Rights available to individuals"]


def test_sub_processors_are_only_for_processor_activities(small):
    with pytest.raises(ValidationFailed) as failed:
        small.import_documents(
            [
                (
                    {
                        "activities": [
                            {
                                "key": "payroll",
                                "name": "Payroll",
                                "controller": "acme",
                                "purposes": ["payroll"],
                                "sub_processors": ["payroll"],
                            }
                        ]
                    },
                    "fix.yaml",
                )
            ]
        )
    assert "sub_processors is set but the role is controller" in str(failed.value)


def test_sub_processor_option_on_a_controller_activity_is_refused(initialised, small):
    result = initialised("activity", "edit", "payroll", "--sub-processor", "payroll")
    assert result.exit_code == 1
    assert "sub_processors is set but the role is controller" in result.stderr


def test_new_fields_round_trip_through_yaml_data_layout_and_cli(initialised, small, tmp_path):
    before = small.document()
    assert initialised("export", "yaml", "-o", "out.yaml").exit_code == 0
    text = (tmp_path / "out.yaml").read_text(encoding="utf-8")
    for value in (
        "legal_basis_details: BDSG §26; EStG §41",
        "retention_policy_link: policies/retention",
        "joint_arrangement_link: contracts/art26-events",
        "kind: internal",
    ):
        assert value in text
    assert initialised("export", "xlsx", "--layout", "data", "-o", "data.xlsx").exit_code == 0
    cells = {
        str(c.value)
        for sheet in load_workbook("data.xlsx")
        for row in sheet.iter_rows()
        for c in row
        if c.value is not None
    }
    assert {"BDSG §26; EStG §41", "contracts/art26-events", "sub_processors"} <= cells
    for path in ("out.yaml", "data.xlsx"):  # read back, each gives the same register
        result = initialised("import", path, "--replace")
        assert result.exit_code == 0, result.stderr
        after = small.document()
        assert after["activities"] == before["activities"], path
        assert after["parties"] == before["parties"], path
    shown = initialised("activity", "show", "hosting", "--format", "json")
    assert '"sub_processors": [' in shown.stdout and '"payroll"' in shown.stdout
    result = initialised(
        "activity",
        "edit",
        "payroll",
        "--legal-basis-details",
        "DPA 2018 Sch. 1 para 1",
        "--retention-policy-link",
        "policies/retention-v2",
    )
    assert result.exit_code == 0, result.stderr
    record = small.get("activity", "payroll")
    assert record["legal_basis_details"] == "DPA 2018 Sch. 1 para 1"
    assert record["retention_policy_link"] == "policies/retention-v2"


def test_an_override_in_a_name_stays_out_of_the_key_in_a_page_title(
    initialised, small, tmp_path, db
):
    """The HTML record's page heading and index are NAME (KEY): a right-to-left override in
    the name reversed the key after it. A name holds no override now; one an older ropa
    stored is still isolated."""
    import sqlalchemy as sa

    from ropa.schema import ACTIVITY
    from ropa.store import record_table

    key = small.list("activity")[0]["key"]
    table = record_table(ACTIVITY)
    with db.engine.begin() as conn:
        conn.execute(sa.update(table).where(table.c.key == key).values(name="Evil \u202ename"))
    assert initialised("export", "html", "-o", "r.html").exit_code == 0
    page = (tmp_path / "r.html").read_text()
    title = f"\u2068Evil \u202ename\u202c\u2069 ({key})"
    assert f"<h2>{title}</h2>" in page
    assert f">{title}</a>" in page


def test_pages_past_the_sheets_last_row_are_left_out_with_a_warning(
    initialised, small, monkeypatch
):
    # At ~23,000 activities the pages passed a sheet's 1,048,576 rows: XlsxWriter then wrote
    # the sheet with no rows at all (every page lost, exit 0, only the page-break warning).
    from ropa.io import xlsx_rows

    first = _blocks(_exported(initialised)["Activity pages"])
    rows_of_two = first["Hosting (hosting)"][-1][0]  # the last row of the second page
    monkeypatch.setattr(xlsx_rows, "MAX_ROWS", rows_of_two + 5)
    result = initialised("export", "xlsx", "-o", "record.xlsx")
    assert result.exit_code == 0, result.stderr
    assert (
        "warning: Activity pages: a sheet holds "
        f"{rows_of_two + 5:,} rows, so 1 activity (payroll) has no page here; "
        "`ropa export pdf` gives every activity its own page"
    ) in result.stderr
    book = load_workbook("record.xlsx")
    assert list(_blocks(book["Activity pages"])) == ["Joint events (events)", "Hosting (hosting)"]
    assert book["Activity pages"].calculate_dimension() == f"A1:B{rows_of_two}"
    assert [r[0].value for r in book["Controller record"].iter_rows(min_row=3)] == [
        "events",
        "payroll",
    ]


def test_a_table_sheet_past_the_sheets_last_row_refuses_the_export(
    initialised, small, monkeypatch, tmp_path
):
    from ropa.io import xlsx_rows

    monkeypatch.setattr(xlsx_rows, "MAX_ROWS", 3)  # the band, the header and one row
    result = initialised("export", "xlsx", "-o", "record.xlsx")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert "Controller record" in result.stderr and "rows" in result.stderr
    assert "export csv" in result.stderr
    assert not (tmp_path / "record.xlsx").exists()


def test_the_pages_sheet_says_where_its_rows_are(initialised, small):
    # Its <dimension> said "B90000" (a single cell) at 2,000 activities.
    import zipfile

    assert initialised("export", "xlsx", "-o", "record.xlsx").exit_code == 0
    book = load_workbook("record.xlsx")
    last = book["Activity pages"].max_row
    index = book.sheetnames.index("Activity pages") + 1
    with zipfile.ZipFile("record.xlsx") as z:
        xml = z.read(f"xl/worksheets/sheet{index}.xml").decode()
    assert f'<dimension ref="A1:B{last}"/>' in xml


def _exported(cli):
    assert cli("export", "xlsx", "-o", "record.xlsx").exit_code == 0
    return load_workbook("record.xlsx")


def test_a_title_in_chinese_or_japanese_is_given_room_for_letters_twice_as_wide():
    from ropa.io.xlsx_pages import title_lines

    # They print about two Latin letters wide: counted as one, a long name was cut in print.
    assert title_lines("漢字" * 50) >= 4
    assert title_lines("Payroll") == 1
