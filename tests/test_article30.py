"""The Article 30 record for auditors: workbook, CSV and HTML."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest
import yaml
from openpyxl import load_workbook

from ropa.io.article30 import CONTROLLER_HEADERS, DETAIL_HEADERS, PROCESSOR_HEADERS
from ropa.io.safe_csv import escape as escape_csv
from ropa.io.safe_csv import unescape as unescape_csv
from ropa.planning import Edit
from ropa.wording import describe_duration, describe_retention

SHEETS = [
    "Cover",
    "Controller record",
    "Processor record",
    "Activity pages",
    "Transfers",
    "Retention",
    "Recipients",
    "Data categories",
    "Data subjects",
    "Security measures",
    "Systems",
]


#: SPEC §5, written out here (not derived from the code) so that a change to either shows.
SPEC_CONTROLLER_HEADERS = [
    "Activity ID", "Processing activity", "Business function", "Controller",
    "Joint controllers", "Joint controller arrangement", "Purposes of processing",
    "Categories of data subjects", "Categories of personal data",
    "Special category or criminal offence data", "Categories of recipients", "Recipients",
    "Link to contract with processor", "Third countries or international organisations",
    "Transfer safeguards", "Retention (time limits for erasure)",
    "Link to retention and erasure policy", "Technical and organisational security measures",
    "Article 6 lawful basis", "Legal basis details", "Article 9 condition",
    "Article 10 basis", "Legitimate interests", "Legitimate interests assessment",
    "Rights available to individuals", "Link to record of consent", "Source of personal data",
    "Location of personal data", "Automated decision-making", "DPIA required", "DPIA status",
    "DPIA link", "Status", "Created", "Last updated", "Last reviewed", "Next review due",
]  # fmt: skip
SPEC_PROCESSOR_HEADERS = [
    "Activity ID", "Processing activity", "Processor", "Sub-processors",
    "Controllers on whose behalf we act", "Categories of processing",
    "Third countries or international organisations", "Transfer safeguards",
    "Technical and organisational security measures", "Data protection officer",
    "Representative",
]  # fmt: skip


def test_record_headers_are_the_specs():
    assert CONTROLLER_HEADERS == SPEC_CONTROLLER_HEADERS
    assert PROCESSOR_HEADERS == SPEC_PROCESSOR_HEADERS


def workbook(cli, *args):
    result = cli("export", "xlsx", "-o", "record.xlsx", *args)
    assert result.exit_code == 0, result.stderr
    return load_workbook("record.xlsx")


def rows(sheet, first_data_row):
    return [[c.value for c in row] for row in sheet.iter_rows(min_row=first_data_row)]


def test_record_workbook_sheets_headers_and_a_known_activity(initialised, sample):
    book = workbook(initialised)
    assert book.sheetnames == SHEETS
    controller = book["Controller record"]
    assert [c.value for c in controller[2]] == CONTROLLER_HEADERS
    assert controller["A1"].value == "Article 30(1) record"
    assert "A1:R1" in {str(r) for r in controller.merged_cells.ranges}
    assert controller["S1"].value == "Privacy notice"
    assert controller["AD1"].value == "DPIA" and controller["AG1"].value == "Review"
    data = {r[0]: dict(zip(CONTROLLER_HEADERS, r, strict=True)) for r in rows(controller, 3)}
    assert len(data) == 14
    marketing = data["marketing"]
    assert marketing["Processing activity"] == "Marketing to interested people"
    assert marketing["Controller"] == "Imperva, Inc."
    assert marketing["Article 6 lawful basis"] == (
        "Consent, Art. 6(1)(a)\nLegitimate interests, Art. 6(1)(f)"
    )
    assert marketing["Transfer safeguards"].startswith(
        "United States: Standard contractual clauses, Art. 46(2)(c) — European Commission"
    )
    assert marketing["Third countries or international organisations"] == "United States"
    assert marketing["Categories of recipients"] == (
        "Group member\nService provider\nBusiness partner"
    )
    assert marketing["Retention (time limits for erasure)"].startswith(
        "2 years after last interaction or unsubscribe, then delete. Criteria:"
    )
    assert marketing["Categories of data subjects"] == "Marketing targets"
    assert marketing["Last reviewed"].date() == date(2021, 3, 10)
    assert marketing["Next review due"].date() == date(2022, 3, 10)
    assert controller["AK3"].number_format == "yyyy-mm-dd"
    assert marketing["Rights available to individuals"] == (
        "Access\nRectification\nErasure\nRestriction\nPortability\nObjection\n"
        "Withdrawing consent\nComplaint"
    )
    assert marketing["Link to record of consent"] == "crm/consent-log"
    created = marketing["Created"].date()
    assert created == marketing["Last updated"].date()
    assert created in (date.today(), date.today() - timedelta(days=1))  # midnight may fall between
    assert marketing["Automated decision-making"] == "None"
    assert "notes" not in " ".join(CONTROLLER_HEADERS).lower()
    assert all("plausible" not in str(v) for v in marketing.values())  # notes stay internal


def test_record_workbook_layout_for_print_and_screen(initialised, sample):
    book = workbook(initialised)
    controller = book["Controller record"]
    assert controller.freeze_panes == "C3"
    assert controller.auto_filter.ref == "A2:AK16"
    # Printed across as many pages as it needs, the ID and name columns on every page.
    assert controller.print_title_rows == "$1:$2"
    assert controller.print_title_cols == "$A:$B"
    assert controller.page_setup.orientation == "landscape"
    assert controller.page_setup.paperSize == 9
    assert controller.page_setup.scale == 80
    pr = controller.sheet_properties.pageSetUpPr
    assert pr is None or not pr.fitToPage
    assert controller["A2"].font.b and controller["A2"].fill.fgColor.rgb.endswith("1F3864")
    assert controller["B3"].alignment.wrap_text
    widths = {k: v.width for k, v in controller.column_dimensions.items()}
    assert 10 <= widths["A"] <= 60 and widths["H"] <= 60
    assert book.properties.title == "Record of processing activities (GDPR Article 30)"
    assert book.properties.creator == "ropa"
    transfers = book["Transfers"]
    assert [c.value for c in transfers[1]] == DETAIL_HEADERS["Transfers"]
    assert transfers.freeze_panes == "C2"
    assert transfers.max_row == 1 + 13  # every activity but the change of ownership


def test_cover_sheet(initialised, sample):
    cover = dict(rows(workbook(initialised)["Cover"], 3))
    assert cover["Controller"].startswith("Imperva, Inc.\nAttn: Privacy Office")
    assert cover["Email"] == "privacy@imperva.com"
    # Said as in every format (the PDF showed "—", the workbook and page an empty cell).
    assert cover["Phone"] == "Not recorded"
    assert cover["Data protection officer"] == "None recorded"
    assert cover["Number of activities"] == "14"
    assert cover["Scope"] == "All group members; controller and processor activities"
    assert cover["As of"] == "current register"
    assert cover["Registry fingerprint (SHA-256)"] == sample.fingerprint()
    assert len(sample.fingerprint()) == 64


def test_fingerprint_is_the_sha256_of_the_exported_yaml(initialised, sample, tmp_path):
    import hashlib

    initialised("export", "yaml", "-o", "registry.yaml")
    text = (tmp_path / "registry.yaml").read_bytes()
    assert hashlib.sha256(text).hexdigest() == sample.fingerprint()


def test_detail_sheets(initialised, sample):
    book = workbook(initialised)
    retention = rows(book["Retention"], 2)
    cctv = [r for r in retention if r[0] == "premises-security"]
    assert cctv[0][2:6] == ["Photos and recordings", "30 days", "recording", "Delete"]
    recipients = rows(book["Recipients"], 2)
    assert [
        "marketing",
        "Marketing to interested people",
        "Resellers, distributors and referral partners",
        "Business partner",
        None,
        None,
        None,
    ] in recipients
    categories = rows(book["Data categories"], 2)
    assert any(r[2] == "Social media and advertising interactions" for r in categories)
    subjects = rows(book["Data subjects"], 2)
    assert [
        "recruiting",
        "Recruiting talent",
        "Job candidates",
        "Yes",
        "People who apply for employment or are referred to Imperva.",
    ] in subjects
    systems = rows(book["Systems"], 2)
    assert [
        "recruiting",
        "Recruiting talent",
        "Applicant tracking system",
        "Recruiters and recruiting platforms",
        "United States",
    ] in systems


def test_processor_record_and_roles(initialised, registry):
    registry.import_documents(
        [
            (
                {
                    "parties": [
                        {
                            "key": "acme",
                            "name": "Acme SE",
                            "kind": "group-member",
                            "country": "DE",
                            "email": "info@acme.example",
                            "dpo_name": "Dr. Roe",
                            "dpo_email": "dpo@acme.example",
                        },
                        {
                            "key": "client",
                            "name": "Client SA",
                            "kind": "other",
                            "country": "FR",
                            "address": "1 rue X, Paris",
                            "email": "legal@client.example",
                        },
                        {
                            "key": "cloud",
                            "name": "Cloud Ltd",
                            "kind": "service-provider",
                            "email": "ops@cloud.example",
                        },
                    ],
                    "purposes": [{"key": "hosting", "name": "Hosting"}],
                    "activities": [
                        {
                            "key": "host",
                            "name": "Hosting for clients",
                            "role": "processor",
                            "controller": "acme",
                            "processor_for": ["client"],
                            "sub_processors": ["cloud"],
                            "purposes": ["hosting"],
                            "transfers": [
                                {"country": "IN", "mechanism": "scc", "details": "SCC module 3"}
                            ],
                        },
                        {"key": "own", "name": "Own processing", "controller": "acme"},
                    ],
                },
                "doc",
            )
        ]
    )
    book = workbook(initialised)
    processor = book["Processor record"]
    assert [c.value for c in processor[1]] == PROCESSOR_HEADERS
    (values,) = rows(processor, 2)
    row = dict(zip(PROCESSOR_HEADERS, values, strict=True))
    assert values[:2] == ["host", "Hosting for clients"]
    assert row["Processor"] == "Acme SE\ninfo@acme.example"
    assert row["Sub-processors"] == "Cloud Ltd\nops@cloud.example"
    assert row["Controllers on whose behalf we act"] == (
        "Client SA\n1 rue X, Paris\nlegal@client.example"
    )
    assert row["Third countries or international organisations"] == "India"
    assert row["Transfer safeguards"] == (
        "India: Standard contractual clauses, Art. 46(2)(c) — SCC module 3"
    )
    assert row["Data protection officer"] == "Dr. Roe\ndpo@acme.example"
    assert [r[0] for r in rows(book["Controller record"], 3)] == ["own"]

    only_processor = workbook(initialised, "--role", "processor")
    assert "Controller record" not in only_processor.sheetnames
    assert [r[0] for r in rows(only_processor["Processor record"], 2)] == ["host"]


def test_entity_and_per_entity(initialised, registry, tmp_path):
    registry.import_documents(
        [
            (
                {
                    "parties": [
                        {
                            "key": "de",
                            "name": "Acme GmbH",
                            "kind": "group-member",
                            "email": "de@acme.example",
                        },
                        {
                            "key": "fr",
                            "name": "Acme SAS",
                            "kind": "group-member",
                            "email": "fr@acme.example",
                        },
                        {"key": "idle", "name": "Acme Idle", "kind": "group-member"},
                    ],
                    "activities": [
                        {"key": "a-de", "name": "DE", "controller": "de"},
                        {"key": "a-fr", "name": "FR", "controller": "fr"},
                    ],
                },
                "doc",
            )
        ]
    )
    book = workbook(initialised, "--entity", "Acme SAS")
    assert [r[0] for r in rows(book["Controller record"], 3)] == ["a-fr"]
    cover = dict(rows(book["Cover"], 3))
    assert cover["Controller"] == "Acme SAS"
    assert cover["Scope"].startswith("Acme SAS")
    result = initialised("export", "xlsx", "--per-entity", "-o", "out")  # the folder is made
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "ropa-record-de.xlsx",
        "ropa-record-fr.xlsx",
    ]
    de = load_workbook(tmp_path / "out" / "ropa-record-de.xlsx")
    assert [r[0] for r in rows(de["Controller record"], 3)] == ["a-de"]


def test_a_group_member_that_is_a_joint_controller_keeps_the_activity_in_its_record(
    initialised, registry, tmp_path
):
    # Each joint controller keeps the processing in its own record (Art. 26, 30(1)(a)): with
    # --entity and --per-entity, Acme SAS's record, notice, checks and list left out the
    # activity it controls jointly with Acme GmbH (the DPV export alone took it).
    registry.import_documents(
        [
            (
                {
                    "parties": [
                        {"key": "de", "name": "Acme GmbH", "kind": "group-member",
                         "email": "de@acme.example", "country": "DE"},
                        {"key": "fr", "name": "Acme SAS", "kind": "group-member",
                         "email": "fr@acme.example", "country": "FR"},
                    ],
                    "purposes": [{"key": "hr", "name": "Human resources"}],
                    "subjects": [{"key": "staff", "name": "Staff"}],
                    "activities": [
                        {"key": "a-de", "name": "Payroll", "controller": "de",
                         "purposes": ["hr"], "lawful_bases": ["contract"],
                         "data_subjects": ["staff"]},
                        {"key": "a-joint", "name": "Shared recruiting", "controller": "de",
                         "role": "joint-controller", "joint_controllers": ["fr"],
                         "purposes": ["hr"], "lawful_bases": ["contract"],
                         "data_subjects": ["staff"]},
                    ],
                },
                "doc",
            )
        ]
    )  # fmt: skip
    book = workbook(initialised, "--entity", "fr")
    assert [r[0] for r in rows(book["Controller record"], 3)] == ["a-joint"]
    cover = dict(rows(book["Cover"], 3))
    assert cover["Controller"] == "Acme SAS"  # the member whose record it is
    result = initialised("export", "xlsx", "--per-entity", "-o", "out")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "ropa-record-de.xlsx",
        "ropa-record-fr.xlsx",
    ]
    de = load_workbook(tmp_path / "out" / "ropa-record-de.xlsx")
    assert [r[0] for r in rows(de["Controller record"], 3)] == ["a-de", "a-joint"]
    listed = initialised("activity", "list", "--entity", "Acme SAS", "--format", "csv")
    assert [line.split(",")[0] for line in listed.stdout.splitlines()[1:]] == ["a-joint"]
    notice = initialised("notice", "--entity", "fr")
    assert notice.exit_code == 0, notice.stderr
    assert "Shared recruiting" in notice.stdout and "Payroll" not in notice.stdout
    assert "how Acme SAS (“we”)" in notice.stdout
    checked = json.loads(initialised("check", "--entity", "fr", "--format", "json").stdout)
    assert " in 1 activit" in checked["summary"], checked["summary"]
    assert {f["key"] for f in checked["findings"] if f["kind"] == "activity"} <= {"a-joint"}
    fides = yaml.safe_load(initialised("export", "fides", "--entity", "fr", "-o", "-").stdout)
    # The member's own manifest: its organization, the activity told as its own.
    assert [o["fides_key"] for o in fides["organization"]] == ["fr"]
    declared = [d["name"] for s in fides["system"] for d in s["privacy_declarations"]]
    assert any("Shared recruiting" in n for n in declared), declared
    assert not any("Payroll" in n for n in declared)
    assert {s["organization_fides_key"] for s in fides["system"]} == {"fr"}
    # A member with no activity in the record asked for gets no (empty) file.
    result = initialised("export", "xlsx", "--per-entity", "--role", "processor", "-o", "none")
    assert result.exit_code == 0, result.stderr
    assert list((tmp_path / "none").iterdir()) == []
    assert "no group member has activities in this record; nothing was written" in result.stderr
    registry.edit("activity", "a-de", Edit(set={"status": "retired"}))
    assert initialised("export", "pdf", "--per-entity", "-o", "pdfs").exit_code == 0
    assert sorted(p.name for p in (tmp_path / "pdfs").iterdir()) == [
        "ropa-record-de.pdf",
        "ropa-record-fr.pdf",
    ]
    registry.edit("activity", "a-joint", Edit(set={"status": "retired"}))
    assert initialised("export", "pdf", "--per-entity", "-o", "gone").exit_code == 0
    assert list((tmp_path / "gone").iterdir()) == []
    result = initialised("export", "pdf", "--per-entity", "--include-retired", "-o", "old")
    assert sorted(p.name for p in (tmp_path / "old").iterdir()) == [
        "ropa-record-de.pdf",
        "ropa-record-fr.pdf",
    ]


def test_retired_activities_are_left_out_unless_asked(initialised, registry):
    registry.import_documents(
        [
            (
                {
                    "activities": [
                        {"key": "old", "name": "Old", "status": "retired"},
                        {"key": "new", "name": "New"},
                    ]
                },
                "doc",
            )
        ]
    )
    assert [r[0] for r in rows(workbook(initialised)["Controller record"], 3)] == ["new"]
    everything = workbook(initialised, "--include-retired")
    assert [r[0] for r in rows(everything["Controller record"], 3)] == ["new", "old"]


HOSTILE = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "=cmd|'/c calc'!A0"]


def test_no_exported_cell_is_ever_a_formula(initialised, registry, tmp_path):
    registry.import_documents(
        [
            (
                {
                    "purposes": [{"key": f"p{i}", "name": text} for i, text in enumerate(HOSTILE)],
                    "activities": [
                        {
                            "key": "evil",
                            "name": "=1+1",
                            "description": "-danger",
                            "business_function": "@team",
                            "purposes": [f"p{i}" for i in range(len(HOSTILE))],
                        }
                    ],
                },
                "doc",
            )
        ]
    )
    initialised("export", "xlsx", "-o", "record.xlsx")
    book = load_workbook("record.xlsx")
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate}"
    cell = book["Controller record"]["B3"]
    assert cell.value == "=1+1" and cell.data_type == "s" and cell.quotePrefix
    assert book["Controller record"]["C3"].value == "@team"
    # Every cell a spreadsheet could take for a formula once edited is quote-prefixed: the
    # heading of an activity's page was not.
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
                    assert cell.quotePrefix, f"{sheet.title}!{cell.coordinate}: {cell.value}"

    initialised("export", "csv", "-o", "record.csv")
    text = (tmp_path / "record.csv").read_text(encoding="utf-8-sig")
    (_header, row) = list(csv.reader(io.StringIO(text)))
    assert row[1] == "'=1+1" and row[2] == "'@team"
    assert all(not cell.startswith(("=", "+", "-", "@")) for cell in row)

    initialised("export", "html", "-o", "record.html")
    page = (tmp_path / "record.html").read_text(encoding="utf-8")
    assert "<td>=1+1</td>" in page


def test_markup_and_excel_escapes_in_text_reach_the_cells_as_text(initialised, registry):
    """Cells are rendered as XML by ropa itself (ropa.io.xlsx_rows): markup is escaped, never
    interpreted, and Excel's `_xHHHH_` escape stays literal."""
    registry.import_documents(
        [
            (
                {
                    "activities": [
                        {
                            "key": "markup",
                            "name": '<r>R&D</r> "quoted" > 1',
                            "business_function": "Excel _x0041_ escape",
                            "last_reviewed": "2026-01-15",
                        }
                    ]
                },
                "doc",
            )
        ]
    )
    initialised("export", "xlsx", "-o", "record.xlsx")
    sheet = load_workbook("record.xlsx")["Controller record"]
    headers = [c.value for c in sheet[2]]
    row = {h: c for h, c in zip(headers, sheet[3], strict=True)}
    assert row["Processing activity"].value == '<r>R&D</r> "quoted" > 1'
    # openpyxl leaves Excel's escapes as written; Excel and calamine show "_x0041_"
    assert row["Business function"].value == "Excel _x005F_x0041_ escape"
    assert row["Last reviewed"].value.date() == date(2026, 1, 15)
    assert row["Last reviewed"].number_format == "yyyy-mm-dd"
    assert sheet.max_row == 3


def test_csv_record_is_the_controller_sheet_with_a_bom(initialised, sample, tmp_path):
    assert initialised("export", "csv").exit_code == 0
    raw = (tmp_path / "exports" / "ropa-record.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0] == CONTROLLER_HEADERS
    assert len(table) == 15
    recruiting = dict(zip(table[0], next(r for r in table if r[0] == "recruiting"), strict=True))
    assert recruiting["Article 6 lawful basis"] == (
        "Consent, Art. 6(1)(a)\nContract, Art. 6(1)(b)\nLegitimate interests, Art. 6(1)(f)"
    )
    assert recruiting["Last reviewed"] == "2021-03-10"


def test_html_record_is_one_self_contained_page(initialised, registry, tmp_path):
    registry.import_documents(
        [
            (
                {
                    "activities": [
                        {"key": "x", "name": "<script>alert(1)</script>", "description": "a & b"}
                    ]
                },
                "doc",
            )
        ]
    )
    assert initialised("export", "html").exit_code == 0
    page = (tmp_path / "exports" / "ropa-record.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "http://" not in page and "https://" not in page and "<link" not in page
    for heading in (
        "Controller record (Art. 30(1))",
        "Processor record (Art. 30(2))",
        "Transfers",
        "Retention",
        "Systems",
    ):
        assert f">{heading}</h2>" in page
    assert "@media print" in page


def test_with_findings_adds_a_findings_sheet(initialised, sample):
    book = workbook(initialised, "--with-findings")
    assert book.sheetnames[-1] == "Findings"
    found = rows(book["Findings"], 2)
    assert len(found) == 15
    assert found[0][:4] == ["R18", "warning", "party", "imperva-inc"]


def test_overlong_cells_are_reported_not_silently_cut(initialised, registry):
    purposes = [
        {"key": f"p{i}", "name": f"Purpose number {i:05d} " + "x" * 300} for i in range(120)
    ]
    registry.import_documents(
        [
            (
                {
                    "purposes": purposes,
                    "activities": [
                        {"key": "big", "name": "Big", "purposes": [p["key"] for p in purposes]}
                    ],
                },
                "doc",
            )
        ]
    )
    result = initialised("export", "xlsx", "-o", "record.xlsx")
    assert result.exit_code == 0
    assert "warning: Controller record!G3 (Purposes of processing): 38" in result.stderr
    cell = load_workbook("record.xlsx")["Controller record"]["G3"].value
    assert len(cell) == 32_767 and cell.endswith("[text cut here]")


def test_export_into_a_missing_folder_fails_cleanly(initialised, sample):
    result = initialised("export", "xlsx", "-o", "nowhere/record.xlsx")
    assert result.exit_code == 1
    assert result.stderr == "error: folder nowhere does not exist\n"


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        ("P6Y", "6 years"),
        ("P1Y", "1 year"),
        ("P18M", "18 months"),
        ("P30D", "30 days"),
        ("P1Y6M", "1 year 6 months"),
        ("PT12H", "12 hours"),
        ("P2W", "2 weeks"),
    ],
)
def test_durations_in_words(duration, text):
    assert describe_duration(duration) == text


def test_retention_in_words():
    rule = {
        "duration": "P6Y",
        "trigger": "end of contract",
        "action": "delete",
        "criteria": None,
        "legal_reference": "HGB § 257",
    }
    assert describe_retention(rule) == "6 years after end of contract, then delete (HGB § 257)"
    criteria_only = {
        "duration": None,
        "trigger": None,
        "action": "review",
        "criteria": "Until the claim is settled.",
        "legal_reference": None,
    }
    assert describe_retention(criteria_only) == "Until the claim is settled. Then review."


@pytest.mark.parametrize("text", ["=1", "+1", "-1", "@x", "\tx", "\rx", "\nx", "'=1", "plain"])
def test_csv_escaping_round_trips(text):
    assert unescape_csv(escape_csv(text)) == text
    assert not escape_csv(text).startswith(("=", "+", "-", "@", "\t", "\r", "\n"))


def test_fingerprint_computed_by_a_worker_process_is_the_same(sample, monkeypatch):
    import ropa.parallel
    from ropa.io.record_cells import RecordScope

    expected = sample.fingerprint()
    monkeypatch.setattr(ropa.parallel, "PARALLEL_FINGERPRINT_FROM", 1)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    with sample.record(RecordScope()) as (cover, _, activities):
        assert sum(1 for _ in activities) == 14
        assert cover.registry_fingerprint == expected


def test_fingerprint_of_a_worker_that_saw_a_later_write_is_not_used(sample, monkeypatch):
    import ropa.parallel
    from ropa.io.record_cells import RecordScope

    expected = sample.fingerprint()
    monkeypatch.setattr(ropa.parallel, "PARALLEL_FINGERPRINT_FROM", 1)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    monkeypatch.setattr(ropa.parallel, "_fingerprint_job", _stale_worker)
    with sample.record(RecordScope()) as (cover, _, _activities):
        assert cover.registry_fingerprint == expected


def _stale_worker(url):
    return "0" * 64, -1  # as if it had read a snapshot with another newest revision


def test_export_reports_progress_to_a_tracker(sample, tmp_path):
    from ropa.exports import export_record
    from ropa.io.record_cells import RecordScope

    seen = []

    def track(items, total):
        seen.append(total)
        for item in items:
            seen.append(item["key"])
            yield item

    count, _ = export_record(sample, "xlsx", tmp_path / "r.xlsx", RecordScope(), track=track)
    assert count == 14 and seen[0] == 14 and len(seen) == 15 and "marketing" in seen


def _acme(registry, activities: list[dict]) -> None:
    """Two group members, Acme GmbH (de) and Acme SAS (fr), and these activities."""
    parties = [
        {"key": "de", "name": "Acme GmbH", "kind": "group-member"},
        {"key": "fr", "name": "Acme SAS", "kind": "group-member"},
    ]
    registry.import_documents([({"parties": parties, "activities": activities}, "doc")])


def test_per_entity_says_which_files_of_an_earlier_run_it_left(initialised, registry, tmp_path):
    _acme(
        registry,
        [
            {"key": "a-de", "name": "DE", "controller": "de"},
            {"key": "a-fr", "name": "FR", "controller": "fr"},
        ],
    )
    assert initialised("export", "xlsx", "--per-entity", "-o", "out").exit_code == 0
    registry.edit("activity", "a-fr", Edit(set={"status": "retired"}))
    result = initialised("export", "xlsx", "--per-entity", "-o", "out")
    assert result.exit_code == 0, result.stderr
    assert (
        "warning: out/ropa-record-fr.xlsx is from an earlier export: fr has no activity in "
        "this record now, and its file was left as it was"
    ) in " ".join(result.stderr.split())


def test_per_entity_names_the_member_whose_record_failed_and_the_files_written(
    initialised, registry, monkeypatch
):
    from ropa.io import xlsx_rows

    _acme(
        registry,
        [
            {"key": "a-de", "name": "DE", "controller": "de"},
            *({"key": f"a-fr-{i}", "name": f"FR {i}", "controller": "fr"} for i in range(3)),
        ],
    )
    monkeypatch.setattr(xlsx_rows, "MAX_ROWS", 4)  # a band, a header and two rows
    result = initialised("export", "xlsx", "--per-entity", "-o", "out")
    assert result.exit_code == 1
    error = result.stderr.splitlines()[-1]
    assert error.startswith("error: out/ropa-record-fr.xlsx: Controller record: more rows")
    assert error.endswith("; the file before it (ropa-record-de.xlsx) was written")
