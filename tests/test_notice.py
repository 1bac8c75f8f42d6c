"""The privacy notice, written from the register, in Markdown and as a page in a browser."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ropa.errors import RopaError
from tests.conftest import SAMPLE, SAMPLE_CATEGORIES
from tests.conftest import SAMPLE_SUBJECTS as SUBJECT_GROUPS

CATEGORIES = [
    *SAMPLE_CATEGORIES,
    "Other information you provide",
    "Information shared in recordings",
    "Social media and advertising interactions",
]


def notice_text(cli, *args) -> str:
    result = cli("notice", *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def section(text: str, title: str) -> str:
    """The Markdown from a heading to the next heading of the same or a higher level."""
    start = text.index(title)
    level = text[:start].rsplit("\n", 1)[-1].count("#")
    rest = text[start + len(title) :]
    ends = [rest.find("\n" + "#" * n + " ") for n in range(1, level + 1)]
    ends = [e for e in ends if e >= 0]
    return rest[: min(ends)] if ends else rest


def test_notice_follows_the_seed_statement(initialised, sample):
    text = notice_text(initialised)
    assert text.startswith("# Privacy notice\n\nLast updated: ")
    for group in SUBJECT_GROUPS:
        assert f"\n### {group}\n" in text
        part = section(text, f"### {group}")
        for heading in (
            "How we collect your information",
            "What information we collect",
            "How we use your information",
        ):
            assert f"#### {heading}" in part, (group, heading)
    for category in CATEGORIES:
        assert f"**{category}:**" in text
    candidates = section(text, "### Job candidates")
    assert (
        "**Recruiting talent:** We may use your information to process your application"
        in candidates
    )
    assert "**Lawful Basis:** Consent, Contract, Legitimate interests" in candidates
    visitors = section(text, "### Office visitors")
    assert "**Security of our offices:**" in visitors
    assert "**Lawful Basis:** Legitimate interests" in visitors
    marketing = section(text, "### Marketing targets")
    assert "**Lawful Basis:** Consent, Legitimate interests" in marketing
    assert "**Event participation:**" in marketing
    other = section(text, "## Other reasons for using your information")
    assert "Investigatory, compliance and other legal matters" in other
    assert "Consent, Legal obligation, Legitimate interests" in other


def test_notice_sharing_transfers_retention_security_rights_contact(initialised, sample):
    text = notice_text(initialised)
    sharing = section(text, "## With whom we share your information")
    for kind in (
        "### Group members",
        "### Service providers",
        "### Business partners",
        "### Public authorities",
        "### Acquirers and successors",
    ):
        assert kind in sharing
    transfers = section(text, "## International transfers")
    assert "- **United States:** Standard contractual clauses, Art. 46(2)(c)" in transfers
    assert "30 days after recording, then delete." in section(text, "## Data retention")
    security = section(text, "## Security of your information")
    assert (
        "**Technical safeguards:** Access controls, Network monitoring, Web application "
        "firewalls" in security
    )
    assert "**Physical safeguards:** Controlling access to our facilities" in security
    rights = section(text, "## Your privacy rights")
    for right in (
        "Access",
        "Rectification",
        "Erasure",
        "Restriction",
        "Portability",
        "Objection",
        "Withdrawing consent",
        "Complaint",
    ):
        assert f"**{right}:**" in rights
    assert "Automated decisions" not in rights
    contact = section(text, "## Contact us")
    assert "privacy@imperva.com" in contact and "San Mateo" in contact


def test_rights_follow_the_lawful_bases(initialised, registry):
    registry.import_documents(
        [
            (
                {
                    "parties": [
                        {
                            "key": "acme",
                            "name": "Acme SE",
                            "kind": "group-member",
                            "email": "privacy@acme.example",
                            "dpo_email": "dpo@acme.example",
                        }
                    ],
                    "subjects": [{"key": "staff", "name": "Staff"}],
                    "activities": [
                        {
                            "key": "tax",
                            "name": "Tax reporting",
                            "controller": "acme",
                            "data_subjects": ["staff"],
                            "lawful_bases": ["legal-obligation"],
                            "automated_decisions": "none, but scored",
                        }
                    ],
                },
                "doc",
            )
        ]
    )
    rights = section(notice_text(initialised), "## Your privacy rights")
    assert "**Access:**" in rights and "**Complaint:**" in rights
    assert "Portability" not in rights and "Objection" not in rights
    assert "Withdrawing consent" not in rights
    assert "**Automated decisions:**" in rights
    assert "**Data protection officer:** dpo@acme.example" in notice_text(initialised)


def test_notice_of_one_entity(initialised, registry):
    registry.import_documents(
        [
            (
                {
                    "parties": [
                        {"key": "de", "name": "Acme GmbH", "kind": "group-member"},
                        {"key": "fr", "name": "Acme SAS", "kind": "group-member"},
                    ],
                    "subjects": [{"key": "s", "name": "Customers"}],
                    "activities": [
                        {
                            "key": "a-de",
                            "name": "German shop",
                            "controller": "de",
                            "data_subjects": ["s"],
                        },
                        {
                            "key": "a-fr",
                            "name": "French shop",
                            "controller": "fr",
                            "data_subjects": ["s"],
                        },
                        {
                            "key": "draft",
                            "name": "Draft thing",
                            "status": "draft",
                            "controller": "fr",
                            "data_subjects": ["s"],
                        },
                    ],
                },
                "doc",
            )
        ]
    )
    text = notice_text(initialised, "--entity", "fr")
    assert "French shop" in text and "German shop" not in text
    assert "Draft thing" not in text  # only active activities are in the notice


HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)> R&D &amp; &#60;'


def test_register_text_is_escaped(initialised, registry):
    registry.import_documents(
        [
            (
                {
                    "subjects": [{"key": "s", "name": "People *bold* [link](http://x)"}],
                    "activities": [
                        {"key": "a", "name": "Evil", "description": HOSTILE, "data_subjects": ["s"]}
                    ],
                },
                "doc",
            )
        ]
    )
    page = notice_text(initialised, "--format", "html")
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img" in page
    markdown = notice_text(initialised)
    assert "\\<script\\>" in markdown and "\\*bold\\*" in markdown and "\\[link\\]" in markdown
    assert "R&D \\&amp; &\\#60;" in markdown  # references shown as written, not as & and <


def _store_name(db, kind: str, key: str, name: str) -> None:
    """What an older ropa could have written: a name the register now refuses (a name holds
    no bidirectional control), which the outputs still show isolated."""
    import sqlalchemy as sa

    from ropa.schema import KINDS
    from ropa.store import record_table

    table = record_table(KINDS[kind])
    with db.engine.begin() as conn:
        conn.execute(sa.update(table).where(table.c.key == key).values(name=name))


def test_a_right_to_left_override_stays_inside_the_text_that_holds_it(initialised, registry, db):
    registry.import_documents(
        [
            (
                {
                    "sources": [{"key": "s6", "name": "Source R", "description": "From you."}],
                    "subjects": [{"key": "staff", "name": "Staff"}],
                    "activities": [
                        {
                            "key": "a",
                            "name": "Payroll",
                            "status": "active",
                            "sources": ["s6"],
                            "data_subjects": ["staff"],
                        }
                    ],
                },
                "doc",
            )
        ]
    )
    _store_name(db, "source", "s6", "Source R\u202eevil")
    isolated = "\u2068Source R\u202eevil:\u202c\u2069"  # closed before the description
    assert f"**{isolated}** From you." in notice_text(initialised)
    page = notice_text(initialised, "--format", "html")
    assert f"<strong>{isolated}</strong> From you." in page
    assert "\u2068Payroll" not in page  # text without bidi controls is left as it is


def test_html_notice_is_a_standalone_page(initialised, sample, tmp_path):
    result = initialised("notice", "--format", "html", "-o", "notice.html")
    assert result.exit_code == 0
    page = (tmp_path / "notice.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta name="viewport"' in page
    assert "<script" not in page and "<link" not in page and "src=" not in page
    assert page.count("<h3>") >= 6


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    not _chromium() and not os.environ.get("CI"),
    reason="needs Debian's chromium (.ci/run installs it)",
)
def test_html_notice_renders_in_a_real_browser(initialised, sample, tmp_path):
    browser = _chromium()
    assert browser, "chromium is not installed; .ci/run installs it"
    initialised("notice", "--format", "html", "-o", "notice.html")
    page = (tmp_path / "notice.html").as_uri()
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", page], capture_output=True, text=True, timeout=120
    ).stdout
    for heading in (
        "<h1>Privacy notice</h1>",
        "<h2>Who we are</h2>",
        "<h2>With whom we share your information</h2>",
        "<h2>Your privacy rights</h2>",
        "<h3>Job candidates</h3>",
    ):
        assert heading in dom
    shot = tmp_path / "notice.png"
    subprocess.run(
        [browser, *flags, "--window-size=420,900", f"--screenshot={shot}", page],
        capture_output=True,
        timeout=120,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000
    Path(os.environ.get("ROPA_SCREENSHOT_DIR", tmp_path)).joinpath("notice.png").write_bytes(
        shot.read_bytes()
    )


# -- issue 14: a notice a lawyer would sign -----------------------------------------------------

CLINIC = {
    "parties": [
        {
            "key": "host",
            "name": "Host Ltd",
            "kind": "group-member",
            "country": "IE",
            "email": "privacy@host.example",
        },
        {"key": "clinic", "name": "Clinic GmbH", "kind": "other", "country": "DE"},
        {"key": "india", "name": "Ops India Pvt", "kind": "service-provider", "country": "IN"},
    ],
    "subjects": [
        {"key": "patients", "name": "Patients of clients", "description": "Clinic patients"},
        {"key": "users", "name": "Users of our website"},
    ],
    "categories": [
        {"key": "records", "name": "Patient records", "special": "art9"},
        {"key": "contact", "name": "Contact details"},
    ],
    "purposes": [
        {"key": "hosting", "name": "Hosting for clients"},
        {"key": "newsletter", "name": "E-mail newsletter", "direct_marketing": True},
    ],
    "sources": [{"key": "client", "name": "The client"}],
    "activities": [
        {
            "key": "hosting",
            "name": "Hosting patient records",
            "role": "processor",
            "controller": "host",
            "processor_for": ["clinic"],
            "purposes": ["hosting"],
            "data_subjects": ["patients"],
            "data_categories": ["records"],
            "sources": ["client"],
            "recipients": ["india"],
            "transfers": [{"country": "IN", "recipient": "india", "mechanism": "scc"}],
        },
        {
            "key": "news",
            "name": "Newsletter",
            "controller": "host",
            "purposes": ["newsletter"],
            "lawful_bases": ["consent"],
            "data_subjects": ["users"],
            "data_categories": ["contact"],
            "retention": [
                {"criteria": "until you unsubscribe, or 2 years of inactivity", "action": "delete"}
            ],
        },
    ],
}


def _clinic(initialised, registry, change=None) -> tuple[str, str]:
    import copy

    doc = copy.deepcopy(CLINIC)
    if change:
        change(doc)
    registry.import_documents([(doc, "doc")])
    return notice_text(initialised), notice_text(initialised, "--format", "html")


def test_a_processors_work_for_clients_is_not_in_the_notice(initialised, registry):
    text, page = _clinic(initialised, registry)
    for client_processing in ("Patients of clients", "Patient records", "The client", "India"):
        assert client_processing not in text and client_processing not in page
    assert "Newsletter" in text


def test_items_without_description_are_named_in_a_sentence(initialised, registry):
    text, page = _clinic(initialised, registry)
    assert "**Contact details:**" not in text and "**E-mail newsletter:**" not in text
    what = text.split("#### What information we collect\n\n")[1].split("\n\n")[0]
    assert what == "We collect contact details."
    assert "**Newsletter:** Lawful Basis: Consent." in text
    assert "We do not record the sources" not in text
    assert "How we collect your information" not in text  # nothing to say: no heading
    # no label in the HTML is left without text after it
    import re

    empty = re.findall(r"<strong>[^<]*</strong>\s*</(?:p|li)>", page)
    assert empty == []


def test_retention_criteria_are_punctuated(initialised, registry):
    text, _ = _clinic(initialised, registry)
    retention = section(text, "## Data retention")
    assert "Until you unsubscribe, or 2 years of inactivity. Then delete." in retention
    assert "inactivity Then" not in text


def test_direct_marketing_and_the_complaint_authority(initialised, registry):
    text, _ = _clinic(initialised, registry)
    rights = section(text, "## Your privacy rights")
    assert "**Objection to direct marketing:**" in rights
    assert "at any time" in rights and "Art. 21(2)" in rights
    assert "**Objection:**" not in rights  # no legitimate interests or public task
    assert "Data Protection Commission" in rights and "www.dataprotection.ie" in rights


def test_a_german_land_authority_is_named_when_chosen(initialised, registry):
    def in_bavaria(doc):
        doc["parties"][0].update(country="DE", supervisory_authority="de-by")

    text, _ = _clinic(initialised, registry, in_bavaria)
    rights = section(text, "## Your privacy rights")
    assert "Bayerisches Landesamt für Datenschutzaufsicht" in rights


def test_a_uk_controllers_notice_is_under_the_uk_gdpr(initialised, registry):
    def in_london(doc):
        doc["parties"][0].update(country="GB")
        doc["activities"][1]["transfers"] = [{"country": "US", "mechanism": "idta"}]

    text, _ = _clinic(initialised, registry, in_london)
    assert "UK GDPR" in section(text, "## Who we are")
    transfers = section(text, "## International transfers")
    assert "outside the United Kingdom" in transfers
    assert "International Data Transfer Agreement, Art. 46(2)(d) UK GDPR" in transfers
    assert "Information Commissioner's Office" in section(text, "## Your privacy rights")


def test_no_label_in_the_sample_notice_is_empty(initialised, sample):
    import re

    page = notice_text(initialised, "--format", "html")
    labels = re.findall(r"<strong>([^<]*)</strong>\s*([^<]*)</(?:p|li)>", page)
    assert len(labels) > 50
    assert [lead for lead, text in labels if not text.strip()] == []
    assert "We do not record" not in page and "not yet recorded" not in page


def test_a_notice_as_of_a_day_is_dated_by_the_last_activity_written_by_then(registry, monkeypatch):
    import ropa.history
    from ropa.io.document import read_document
    from ropa.registry import Edit

    def at(text: str) -> None:
        moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
        monkeypatch.setattr(ropa.history, "utcnow", lambda: moment)

    at("2026-01-10 09:00")
    registry.import_documents([(read_document(SAMPLE), "registry.yaml")])
    key = registry.list("activity")[0]["key"]
    at("2026-02-15 10:00")
    registry.edit("activity", key, Edit(set={"description": "Changed in February."}))
    at("2026-11-01 12:00")
    for day, updated in (
        (date(2026, 1, 31), date(2026, 1, 10)),
        (date(2026, 3, 1), date(2026, 2, 15)),
    ):
        with registry.as_of(day) as past:
            assert past.notice().updated == updated, day
    with registry.as_of(date(2025, 12, 31)) as past, pytest.raises(RopaError, match="no active"):
        past.notice()


def test_dash_is_stdout_and_an_html_file_gets_html(initialised, sample, tmp_path):
    markdown = notice_text(initialised)
    assert notice_text(initialised, "-o", "-") == markdown
    assert not Path("-").exists()
    assert initialised("notice", "-o", str(tmp_path / "notice.HTML")).exit_code == 0
    page = (tmp_path / "notice.HTML").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<h1>Privacy notice</h1>" in page
    assert initialised("notice", "-o", str(tmp_path / "notice.txt")).exit_code == 0
    assert (tmp_path / "notice.txt").read_text(encoding="utf-8") == markdown
    # Markdown into a file named .html would show as one paragraph in a browser: refused.
    forced = initialised("notice", "-f", "markdown", "-o", str(tmp_path / "n.html"))
    assert forced.exit_code == 1 and "is named for html but would hold markdown" in forced.stderr
    assert not (tmp_path / "n.html").exists()


def test_a_register_without_a_controller_activity_has_no_notice(initialised, registry):
    """An empty notice would still tell the public it shares and transfers nothing."""
    result = initialised("notice")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: no active activity in which the group is controller or joint controller: the "
        "notice would have nothing to tell\n"
    )
    registry.import_documents(
        [
            (
                {
                    "activities": [
                        {"key": "a", "name": "Hosting", "status": "active", "role": "processor"}
                    ]
                },
                "doc",
            )
        ]
    )
    assert initialised("notice", "-f", "html").exit_code == 1


def test_names_are_in_the_order_a_reader_looks_them_up(initialised, registry):
    """Accented and lowercase names sort with their letters (Ä with A), not after Z."""

    def recipients(doc):
        doc["parties"] += [
            {"key": k, "name": n, "kind": "service-provider", "country": "DE"}
            for k, n in (("z", "Zeta GmbH"), ("ae", "Ärztekammer Nord"), ("b", "bank AG"))
        ]
        doc["activities"][1]["recipients"] = ["z", "ae", "b"]

    text, _ = _clinic(initialised, registry, recipients)
    assert text.index("Ärztekammer Nord") < text.index("bank AG") < text.index("Zeta GmbH")


def test_an_override_in_one_name_of_a_list_does_not_reverse_the_names_after_it(
    initialised, registry, db
):
    """The activities under a retention rule were joined and the list isolated as one text:
    a right-to-left override in the first name reversed the names after it."""
    evil = "Evil \u202ename"
    activity = {
        "status": "active",
        "data_subjects": ["staff"],
        "sources": ["s6", "s7"],
        "retention": [{"duration": "P1Y"}],
    }
    registry.import_documents(
        [
            (
                {
                    "sources": [{"key": "s6", "name": "Evil"}, {"key": "s7", "name": "Forms"}],
                    "subjects": [{"key": "staff", "name": "Staff"}],
                    "activities": [
                        {"key": "a", "name": "Evil", **activity},
                        {"key": "b", "name": "Payroll", **activity},
                    ],
                },
                "doc",
            )
        ]
    )
    _store_name(db, "source", "s6", evil)
    _store_name(db, "activity", "a", evil)
    for text in (notice_text(initialised), notice_text(initialised, "--format", "html")):
        assert "\u2068Evil \u202ename\u202c\u2069; Payroll" in text  # a retention rule's activities
        assert "\u2068evil \u202ename\u202c\u2069 and forms" in text.lower()  # sources, a sentence


def _two_members_register(registry, **payroll) -> None:
    registry.import_documents(
        [
            (
                {
                    "parties": [
                        {"key": "acme-de", "name": "Acme GmbH", "kind": "group-member"},
                        {
                            "key": "acme-uk",
                            "name": "Acme Ltd",
                            "kind": "group-member",
                            "dpo_name": "Dee Pio",
                        },
                        {"key": "partnerco", "name": "Partner Co SA", "kind": "other"},
                    ],
                    "subjects": [{"key": "staff", "name": "Staff"}],
                    "sources": [
                        {"key": "hr", "name": "HR system"},
                        {"key": "agencies", "name": "Recruitment agencies"},
                    ],
                    "categories": [{"key": "health", "name": "Health data", "special": "art9"}],
                    "purposes": [{"key": "pay", "name": "Pay"}],
                    "activities": [
                        {
                            "key": "fraud",
                            "name": "Fraud checks",
                            "status": "active",
                            "controller": "acme-de",
                            "purposes": ["pay"],
                            "data_subjects": ["staff"],
                            "sources": ["hr", "agencies"],
                            "lawful_bases": ["legitimate-interests"],
                            "legitimate_interests": "Preventing fraud against the group.",
                        },
                        {
                            "key": "payroll",
                            "name": "Payroll",
                            "status": "active",
                            "controller": "acme-uk",
                            "purposes": ["pay"],
                            "data_subjects": ["staff"],
                            "data_categories": ["health"],
                            "lawful_bases": ["legal-obligation"],
                            "art9_conditions": ["employment-social-security"],
                            **payroll,
                        },
                    ],
                },
                "doc",
            )
        ]
    )


def test_the_notice_says_the_interests_conditions_and_joint_controllers_it_rests_on(
    initialised, registry
):
    """Art. 13(1)(d) asks for the legitimate interests pursued, Art. 9(2) for the condition
    that allows special-category data, Art. 26(2) for who the joint controllers are: the
    register held them, the notice said none of them."""
    _two_members_register(registry, role="joint-controller", joint_controllers=["partnerco"])
    text = notice_text(initialised)
    assert "**Legitimate interests:** Preventing fraud against the group." in text
    assert "**Special category data:** Employment and social security law." in text
    assert "**Joint controllers:** Partner Co SA." in text


def test_the_notice_speaks_of_sources_and_safeguards_the_register_holds(initialised, registry):
    from ropa.registry import Edit

    """'We collect your information HR system, …' missed its 'from'; with no measures, the
    notice still said the group maintained safeguards; with two controllers, a DPO was not
    said to be whose."""
    _two_members_register(registry)
    text = notice_text(initialised)
    assert "We collect your information from HR system and recruitment agencies." in text
    assert "Security of your information" not in text
    # Nor how long the information is kept: no activity records a retention rule.
    assert "with whom we share it, and the rights you have." in text
    assert "Data retention" not in text
    # Beside a described source, the others are still where it comes from.
    registry.edit("source", "hr", Edit(set={"description": "Our payroll records."}))
    assert "We also collect it from recruitment agencies." in notice_text(initialised)
    # A proper name keeps its capitals, and a first word like "Via" is not "via" the place.
    registry.edit("source", "agencies", Edit(set={"name": "Via Rail Canada"}))
    assert "We also collect it from Via Rail Canada." in notice_text(initialised)
    assert "**Data protection officer of Acme Ltd:** Dee Pio" in text


def test_the_notice_of_a_member_with_no_activity_says_what_entity_takes(initialised, sample):
    """The error said Acme had no activity "in which the group is controller or joint
    controller": --entity takes the activities a group member is the controller or a joint
    controller of (tests/test_article30.py: a joint controller's notice)."""
    cli = initialised
    cli("party", "add", "acme-de", "--name", "Acme GmbH", "--kind", "group-member",
        "--country", "DE", "--email", "p@acme.example")  # fmt: skip
    result = cli("notice", "--entity", "acme-de")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: no active activity has Acme GmbH as its controller or a joint controller: "
        "the notice would have nothing to tell\n"
    )


def test_a_joint_controllers_notice_tells_the_activity_from_its_side(initialised, registry):
    """Acme UK's notice named Acme UK itself among the joint controllers and not Acme GmbH,
    the activity's controller; and told of Acme GmbH's transfers from the EEA, under the EU
    GDPR, as if they were its own from the UK (one fix relabelled the EU clauses as UK
    safeguards): they are told as the EEA's, in a part of their own."""
    registry.import_documents(
        [
            (
                {
                    "parties": [
                        {"key": "de", "name": "Acme GmbH", "kind": "group-member",
                         "country": "DE"},
                        {"key": "uk", "name": "Acme UK Ltd", "kind": "group-member",
                         "country": "GB", "regime": "uk-gdpr"},
                        {"key": "ext", "name": "Partner BV", "kind": "business-partner",
                         "country": "NL"},
                        {"key": "us", "name": "US Vendor", "kind": "service-provider",
                         "country": "US"},
                    ],
                    "subjects": [{"key": "s", "name": "Customers"}],
                    "activities": [
                        {"key": "shared", "name": "Shared loyalty scheme", "controller": "de",
                         "role": "joint-controller", "joint_controllers": ["uk", "ext"],
                         "data_subjects": ["s"], "lawful_bases": ["contract"],
                         "recipients": ["us"],
                         "transfers": [{"country": "US", "mechanism": "scc",
                                        "recipient": "us"}]},
                    ],
                },
                "doc",
            )
        ]
    )  # fmt: skip
    uk = notice_text(initialised, "--entity", "uk")
    assert "**Joint controllers:** Acme GmbH, Partner BV." in uk
    assert "Acme UK Ltd." not in section(uk, "How we use your information")
    assert "This notice is given under the UK GDPR" in uk
    transfers = section(uk, "International transfers")
    assert "### From the European Economic Area" in transfers
    # Said as the partner's transfers, under its law, its articles named as that law's.
    assert (
        "Acme GmbH, our joint controller, transfers personal information outside the "
        "European Economic Area under the EU GDPR (Regulation (EU) 2016/679), with these "
        "safeguards:"
    ) in " ".join(transfers.split())
    assert "United States:** Standard contractual clauses, Art. 46(2)(c) EU GDPR" in transfers
    assert "UK GDPR" not in transfers and "We transfer" not in transfers
    # An activity listing its own controller among its joint controllers (check R06): the
    # notice never names the controller whose notice it is as its own joint controller.
    assert initialised("activity", "edit", "shared", "--add-joint-controller", "de").exit_code == 0
    assert "**Joint controllers:** Partner BV, Acme UK Ltd." in notice_text(
        initialised, "--entity", "de"
    )
    assert "**Joint controllers:** Acme GmbH, Partner BV." in notice_text(
        initialised, "--entity", "uk"
    )
    de = notice_text(initialised, "--entity", "de")
    assert "**Joint controllers:** Partner BV, Acme UK Ltd." in de  # as stored (by key)
