"""The record on paper: the workbook printed by LibreOffice and the HTML page printed by
Chromium, measured in the PDFs they make (poppler's pdftotext). These run in CI, where
.ci/run installs the programs; elsewhere they are skipped only when a program is missing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ropa.io.article30 import CONTROLLER, page_labels

#: pdftotext's word box is the font's ascent plus descent: at least 1.1 em in the fonts
#: LibreOffice prints with (DejaVu Sans 1.30, Carlito 1.22, Liberation Sans 1.15), so a box
#: this many times the point size means text at least that size.
BOX_PER_POINT = 1.1


def _program(*names: str) -> str:
    found = next((shutil.which(n) for n in names if shutil.which(n)), None)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{names[0]} is not installed; .ci/run installs it")
        pytest.skip(f"needs {names[0]} (.ci/run installs it)")
    return found


def _pages(pdf: Path, footer: bool = False) -> list[list[tuple[float, str]]]:
    """Every page of a PDF as (box height, word) pairs, from `pdftotext -bbox`; with
    `footer`, only the words in the bottom 50 points of the page."""
    _program("pdftotext")
    html = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    word = re.compile(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>')
    out = []
    for page in html.split("<page ")[1:]:
        bottom = float(re.match(r'width="[\d.]+" height="([\d.]+)"', page).group(1)) - 50
        out.append(
            [
                (float(y1) - float(y0), text)
                for y0, y1, text in word.findall(page)
                if not footer or float(y0) > bottom
            ]
        )
    return out


def _sheet_pages(pdf: Path, sheet: str) -> list[list[tuple[float, str]]]:
    """The pages of one sheet: those whose footer names it (the footer is "&A … &P of &N")."""
    footers = [" ".join(t for _, t in page) for page in _pages(pdf, footer=True)]
    return [page for page, foot in zip(_pages(pdf), footers, strict=True) if sheet in foot]


@pytest.fixture
def printed_workbook(initialised, sample, tmp_path) -> Path:
    return _printed(initialised, tmp_path)


def _printed(cli, tmp_path: Path) -> Path:
    """The record workbook exported and printed to PDF by LibreOffice."""
    office = _program("libreoffice", "soffice")
    assert cli("export", "xlsx", "-o", "record.xlsx").exit_code == 0
    subprocess.run(
        [
            office,
            f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path / "print"),
            str(tmp_path / "record.xlsx"),
        ],
        capture_output=True,
        timeout=300,
        check=True,
    )
    return tmp_path / "print" / "record.pdf"


def test_controller_record_prints_at_7_points_or_more(printed_workbook):
    pages = _sheet_pages(printed_workbook, "Controller record")
    assert len(pages) >= 4  # across several pages wide, not shrunk onto one
    smallest = min(height for page in pages for height, _ in page)
    assert smallest >= 7 * BOX_PER_POINT, smallest
    # The activity's ID and name repeat on every page across.
    for page in pages:
        texts = [t for _, t in page]
        assert "Activity" in texts and "ID" in texts
        assert "Processing" in texts


def test_activity_pages_print_at_9_points_or_more_one_page_wide(printed_workbook):
    pages = _sheet_pages(printed_workbook, "Activity pages")
    assert len(pages) >= 14
    smallest = min(height for page in pages for height, _ in page)
    assert smallest >= 9 * BOX_PER_POINT, smallest
    text = " ".join(t for page in pages for _, t in page)
    # One page wide: the values print beside their labels, not on pages of their own.
    for page in pages:
        assert len({t for _, t in page}) > 10
    assert "Art. 30(1)(a) Controller, joint controllers" in text
    assert "Rights available to individuals" in text


def test_a_long_activity_name_prints_whole_on_its_page(initialised, sample, tmp_path):
    # The page's title ran on, unwrapped, past the right edge: the end of a long name was
    # not on paper.
    name = (
        "Information security of our online services, including the detection and "
        "investigation of fraud, abuse and attacks by automated bots across every market "
        "the group serves, and the reporting of incidents to supervisory authorities"
    )
    assert initialised("activity", "edit", "app-security", "--name", name).exit_code == 0
    pages = _sheet_pages(_printed(initialised, tmp_path), "Activity pages")
    titled = [[t for _, t in page] for page in pages if "Information" in [t for _, t in page]]
    words = [t for page in titled for t in page]
    for word in name.split():
        assert word in words, word
    # The title prints at its own size, larger than the fields.
    assert max(h for page in pages for h, t in page if t == "investigation") >= 13 * BOX_PER_POINT


@pytest.mark.parametrize(
    "name",
    [  # long words break lines early; wide capitals fit fewer to a line (up to 500 in all)
        ("Beschäftigtendatenverarbeitung Arbeitszeiterfassungssysteme "
         "Personalentwicklungsmaßnahmen " * 6)[:486] + " END",
        ("MWMWMWMWMW " * 46)[:496] + " END",
    ],
)  # fmt: skip
def test_a_title_of_long_words_or_wide_letters_prints_whole(initialised, sample, tmp_path, name):
    assert initialised("activity", "edit", "app-security", "--name", name).exit_code == 0
    pages = _sheet_pages(_printed(initialised, tmp_path), "Activity pages")
    words = [t for page in pages for _, t in page]
    assert "END" in words and "(app-security)" in words


def test_html_printed_by_chromium_holds_every_field_of_every_activity(
    initialised, sample, tmp_path
):
    browser = _program("chromium", "chromium-browser")
    assert initialised("export", "html", "-o", "record.html").exit_code == 0
    pdf = tmp_path / "record-html.pdf"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            (tmp_path / "record.html").as_uri(),
        ],
        capture_output=True,
        timeout=180,
    )
    # Words without the spaces between them: a title may wrap at a hyphen.
    pages = ["".join(t for _, t in page) for page in _pages(pdf)]
    activities = sample.list("activity")
    titles = ["".join(f"{a['name']} ({a['key']})".split()) for a in activities]
    for title in titles:
        # Each activity starts its own page, and every field label follows before the next.
        starts = [i for i, page in enumerate(pages) if page.startswith(title)]
        assert starts, title
        following = "".join(pages[starts[0] :])
        ends = [i for t in titles if (i := following.find(t, len(title))) > 0]
        own = following[: min(ends, default=len(following))]
        for label in page_labels(CONTROLLER):
            assert "".join(label.split()) in own, (title, label)
    # Nothing clipped: the overview's wide tables are not printed at all.
    assert not any("Overview" in page for page in pages)
