"""`ropa export pdf`: the record as a PDF, made in pure Python."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pypdf import PdfReader

from tests.test_activity_pages import DOCUMENT

EU_TEXT = ("Łódź", "Ελλάδα", "Malmö", "Øresund")


def _text(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def test_pdf_of_the_sample_has_a_page_per_activity_and_metadata(initialised, sample, tmp_path):
    result = initialised("export", "pdf", "-o", "record.pdf")
    assert result.exit_code == 0, result.stderr
    assert "wrote record.pdf (14 activities)" in result.stderr
    reader = PdfReader(tmp_path / "record.pdf")
    names = [a["name"] for a in sample.list("activity")]
    assert len(names) == 14
    assert len(reader.pages) >= len(names) + 2
    text = _text(reader)
    for name in names:
        assert name in text
    assert "Index of processing activities" in reader.pages[1].extract_text()
    assert "Page 1 of " in reader.pages[0].extract_text()
    meta = reader.metadata
    assert meta.title == "Record of processing activities (GDPR Article 30)"
    assert meta.author == "Imperva, Inc."
    assert meta.creation_date is not None
    for heading in ("Processor record (Art. 30(2))", "Annex: Transfers", "Annex: Retention"):
        assert heading in text


def test_every_activity_starts_a_page_with_its_fields(initialised, sample, tmp_path):
    assert initialised("export", "pdf", "-o", "record.pdf").exit_code == 0
    pages = [p.extract_text() for p in PdfReader(tmp_path / "record.pdf").pages]
    texts = [" ".join(p.split()) for p in pages]  # a long title wraps
    for activity in sample.list("activity"):
        title = f"{activity['name']} ({activity['key']})"
        starts = [i for i, text in enumerate(texts) if text.startswith(title)]
        assert starts, title
        assert "Art. 30(1)(a) Controller" in pages[starts[0]]


def test_eu_language_text_extracts_back_unchanged(initialised, registry, tmp_path):
    registry.import_documents([(DOCUMENT, "doc")])
    assert initialised("export", "pdf", "-o", "record.pdf").exit_code == 0
    text = _text(PdfReader(tmp_path / "record.pdf"))
    for word in EU_TEXT:
        assert word in text
    assert "Sub-processors" in text and "Payroll Ltd" in text
    assert "BDSG §26; EStG §41" in text


def test_pdf_per_entity_and_to_stdout(initialised, registry, tmp_path):
    registry.import_documents([(DOCUMENT, "doc")])
    (tmp_path / "out").mkdir()
    result = initialised("export", "pdf", "--per-entity", "-o", "out")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["ropa-record-acme.pdf"]
    refused = initialised("export", "pdf", "-o", "-")
    assert refused.exit_code == 2
    assert "the PDF is written to a file" in refused.stderr


def test_processor_only_pdf_has_no_controller_pages(initialised, registry, tmp_path):
    registry.import_documents([(DOCUMENT, "doc")])
    result = initialised("export", "pdf", "--role", "processor", "-o", "p.pdf")
    assert result.exit_code == 0, result.stderr
    text = _text(PdfReader(tmp_path / "p.pdf"))
    assert "Hosting (hosting)" in text and "Payroll (payroll)" not in text


def test_demo_writes_the_pdf(cli, tmp_path):
    result = cli("demo", "--out", "out")
    assert result.exit_code == 0, result.stderr
    assert "wrote out/ropa-record.pdf" in result.stdout
    reader = PdfReader(tmp_path / "out" / "ropa-record.pdf")
    assert len(reader.pages) >= 16


def _body_text(path) -> str:
    """The text printed inside the page frames, with every space and line break taken out:
    no running header, page number or annex header row between the lines of a long value
    that goes on to the next page."""
    from ropa.io.article30 import DETAILS, PROCESSOR
    from ropa.io.pdf import TOP

    parts: list[str] = []

    def frame_text(height: float) -> Callable[..., None]:
        def keep(text: str, cm: list, tm: list, *_: object) -> None:
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            if TOP - 1 < y < height - TOP + 1:
                parts.append(text)

        return keep

    for page in PdfReader(path).pages:
        page.extract_text(visitor_text=frame_text(float(page.mediabox.height)))
    body = "".join("".join(parts).split())
    for sheet in (PROCESSOR, *DETAILS):
        for header in sheet.headers:
            body = body.replace("".join(header.split()), "")
    return body


def _numbered(count: int, sep: str = " ") -> str:
    """A text whose every piece is numbered, so that a lost or repeated piece shows."""
    return sep.join(f"w{i:05d}" for i in range(count))


def _printed_whole(text: str, body: str) -> bool:
    return "".join(text.split()) in body


LONG_CELLS = {
    "processor activity description": (
        "--description",
        "{text}",
        "--role",
        "processor",
        "--processor-for",
        "imperva-inc",
    ),
    "transfer details": ("--transfer", "{{country: US, mechanism: scc, details: '{text}'}}"),
    "retention criteria": ("--retention", "{{duration: P6Y, action: delete, criteria: '{text}'}}"),
}


@pytest.mark.parametrize("where", LONG_CELLS)
@pytest.mark.parametrize("words", [300, 4_681])  # 2,099 and 32,766 characters
def test_a_landscape_table_cell_taller_than_a_page_goes_on_to_the_next_page(
    initialised, sample, tmp_path, where, words
):
    text = _numbered(words)
    args = [a.format(text=text) for a in LONG_CELLS[where]]
    added = initialised(
        "activity", "add", "hosting", "--name", "Hosting for clients", "--status", "active",
        "--controller", "imperva-inc", *args,
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    result = initialised("export", "pdf", "-o", "record.pdf")
    assert result.exit_code == 0, result.stderr
    body = _body_text(tmp_path / "record.pdf")
    assert _printed_whole(text, body)


MARK = "ж"  # in the long words of the tests only


@pytest.fixture
def measured(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many characters of the tests' long words ReportLab was asked to measure; past a
    budget (set by the test) the measuring stops with an error, as a slow export would not."""
    from reportlab.pdfbase import pdfmetrics

    count = {"characters": 0, "budget": 10**9}
    width = pdfmetrics.stringWidth

    def counted(text: str, *args: object, **kwargs: object) -> float:
        if MARK in text:
            count["characters"] += len(text)
            if count["characters"] > count["budget"]:
                raise AssertionError(f"measured {count['characters']:,} characters")
        return width(text, *args, **kwargs)

    monkeypatch.setattr(pdfmetrics, "stringWidth", counted)
    return count


def test_a_word_longer_than_the_line_is_cut_measuring_each_character_a_few_times(measured):
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from ropa.io.pdf import BODY, FONT, _fonts, _wrap

    _fonts()
    word = _numbered(4_681, sep=MARK)  # 32,766 characters, no space
    measured["budget"] = 5 * len(word)
    lines = _wrap(word, FONT, BODY, 300).split("\n")
    assert "".join(lines) == word
    assert len(lines) > 100
    assert all(stringWidth(line, FONT, BODY) <= 300 for line in lines)


LONG_WORDS = {
    "legitimate interests": ("--legitimate-interests", "{text}"),
    "business function": ("--business-function", "{text}"),
    "transfer details": ("--transfer", "{{country: US, mechanism: scc, details: '{text}'}}"),
}


@pytest.mark.parametrize("where", LONG_WORDS)
def test_a_long_text_without_spaces_prints_whole_and_is_measured_a_few_times(
    initialised, sample, tmp_path, measured, where
):
    text = _numbered(4_681, sep=MARK)  # 32,766 characters: a pasted blob, no space
    args = [a.format(text=text) for a in LONG_WORDS[where]]
    added = initialised("activity", "edit", "app-security", *args)
    assert added.exit_code == 0, added.stderr
    measured["budget"] = 10 * len(text)
    result = initialised("export", "pdf", "-o", "record.pdf")
    assert result.exit_code == 0, result.stderr
    assert _printed_whole(text, _body_text(tmp_path / "record.pdf"))


def test_a_long_name_is_shortened_with_its_key_kept_in_the_index_and_the_header(
    initialised, sample, tmp_path
):
    # The index entry and the running header were cut at a number of characters, without a
    # mark: a 500-character name ran under the page number and lost its key.
    name = " ".join(["Very long processing name"] * 19)[:499].strip()
    assert initialised("activity", "edit", "app-security", "--name", name).exit_code == 0
    assert initialised("export", "pdf", "-o", "record.pdf").exit_code == 0
    reader = PdfReader(tmp_path / "record.pdf")
    index = reader.pages[1].extract_text().splitlines()
    at = next(i for i, line in enumerate(index) if line.startswith("Very long processing name"))
    assert "…" in index[at] and index[at].endswith("(app-security)")
    page = int(index[at + 1])  # the page number, drawn on the right, comes out next
    assert reader.pages[page - 1].extract_text().count("(app-security)") >= 2  # title, header
    header = next(
        line for line in reader.pages[page - 1].extract_text().splitlines() if "…" in line
    )
    assert header.endswith("(app-security)")  # the right half of the header: _shortened fits it


def test_a_shortened_line_fits_its_width_and_keeps_the_key():
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from ropa.io.pdf import BODY, FONT, _fonts, _shortened

    _fonts()
    for text in (
        "short (key)",
        "x" * 400 + " (the-key)",
        "y" * 400,
        "z" * 300 + " (" + "k" * 300 + ")",
    ):
        out = _shortened(text, FONT, BODY, 200)
        assert stringWidth(out, FONT, BODY) <= 200, out
        if stringWidth(text, FONT, BODY) <= 200:
            assert out == text
        else:
            assert "…" in out
    assert _shortened("x" * 400 + " (the-key)", FONT, BODY, 200).endswith("… (the-key)")
    # A key too wide for half the line loses its middle: keys alike but at their ends
    # stay apart; a name that fits is not marked as cut.
    one = _shortened("z" * 300 + " (k" + "x" * 300 + "1)", FONT, BODY, 200)
    two = _shortened("z" * 300 + " (k" + "x" * 300 + "2)", FONT, BODY, 200)
    assert one != two and one.endswith("x1)") and "… (kx" in one and "x…x" in one
    assert _shortened("A (" + "W" * 64 + ")", FONT, BODY, 200).startswith("A (W")


def test_characters_the_font_lacks_are_named_in_a_warning(initialised, sample, tmp_path):
    # Fira Sans has Latin, Greek and Cyrillic letters: a Japanese name printed as empty boxes,
    # and the export said nothing.
    name = "Recruiting in Japan (採用)"
    assert initialised("activity", "edit", "recruiting", "--name", name).exit_code == 0
    result = initialised("export", "pdf", "-o", "record.pdf")
    assert result.exit_code == 0, result.stderr
    assert (
        "warning: the PDF's font has no letters for 採, 用 (in recruiting): they print as "
        "empty boxes; the workbook (`ropa export xlsx`) and the HTML page show them"
    ) in result.stderr
    clean = initialised("activity", "edit", "recruiting", "--name", "Recruiting in Greece (Ελλάδα)")
    assert clean.exit_code == 0
    result = initialised("export", "pdf", "-o", "record.pdf")
    assert "warning" not in result.stderr
