"""The Article 30 record as a PDF, in pure Python: ReportLab, with Fira Sans from PyPI so that
text in every EU language prints (Latin, Greek and Cyrillic letters). The cover, an index of
activities linking to their pages, one page (or more) per activity, then the processor
record and the transfers and retention annexes; A4, page numbers, PDF metadata (title,
author = the controller, creation date).

The activity pages come from the same declarations as the workbook's `Activity pages`
sheet (:func:`ropa.io.article30.activity_page`); the annexes from its sheets.

The story is fed to ReportLab's platypus layer as the activities stream; text is wrapped
once (``simpleSplit``, a word wider than its column cut into pieces) and set as plain table
cells, no per-cell paragraphs. A cell of more than CHUNK lines goes on in the rows below it,
in every table: ReportLab cannot lay out a row taller than the page. Pages are
finished when the document is: the canvas keeps each page's drawing, and adds the running
header, "Page X of Y" and the index (whose page numbers are known then) before saving.
"""

from __future__ import annotations

import unicodedata
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from ropa.io.article30 import (
    DETAILS,
    PROCESSOR,
    TITLE,
    Sheet,
    activity_page,
    page_text,
    record_rows,
)
from ropa.io.record_cells import Cover, RecordBuilder

FONT = "Fira"
BOLD = "Fira-Bold"
BODY = 9.5  # points
MM = 72 / 25.4  # points in a millimetre
LINE = 4.6 * MM  # a line of body text
LABEL_SHARE = 0.32  # of the text width, for the labels of the activity pages
ANNEXES = ("Transfers", "Retention")
MARGIN = 15 * MM
TOP = 16 * MM
INDEX_LINE = 5 * MM
INDEX_HEAD = 10 * MM  # the index's heading and the space under it
CHUNK = 40  # lines of a cell per table row, so that a long value can go on to the next page
ANNEX_ROWS = 300  # rows per annex table (a table re-measures its rest at every page break)
BLUE = (31 / 255, 56 / 255, 100 / 255)
GREY = (0.55, 0.55, 0.55)  # the lines of the annex tables


def _fonts() -> None:
    from fontpkg_fira_sans import ROOT
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    pdfmetrics.registerFont(TTFont(FONT, ROOT / "files" / "FiraSans-Regular.ttf"))
    pdfmetrics.registerFont(TTFont(BOLD, ROOT / "files" / "FiraSans-Bold.ttf"))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)


def _wrap(text: str, font: str, size: float, width: float) -> str:
    """The text broken into lines that fit the width (one line as it is: cheap)."""
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfbase.pdfmetrics import stringWidth

    if "\n" not in text and stringWidth(text, font, size) <= width:
        return text
    lines = []
    for line in simpleSplit(text, font, size, width) or [""]:
        if stringWidth(line, font, size) <= width:
            lines.append(line)
        else:  # one word longer than the line: a URL, a key, a pasted blob
            lines += _cut(line, font, size, width)
    return "\n".join(lines)


def _cut(word: str, font: str, size: float, width: float) -> list[str]:
    """A word in pieces that fit the width, as many characters on each as fit. One pass over
    its characters, adding up their widths (each distinct character measured once): trying
    ever shorter pieces, each measured whole, took minutes for a word of 10,000 characters."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    widths: dict[str, float] = {}
    pieces, start, used = [], 0, 0.0
    for i, char in enumerate(word):
        if char not in widths:
            widths[char] = stringWidth(char, font, size)
        if used + widths[char] > width and i > start:
            pieces.append(word[start:i])
            start, used = i, 0.0
        used += widths[char]
    pieces.append(word[start:])
    return pieces


def _shortened(text: str, font: str, size: float, width: float) -> str:
    """A one-line text (an index entry, a running header) that fits the width: cut with "…"
    where it would run on, a closing " (key)" kept, as it names the record (a key wider than
    half the width loses its middle: keys alike but at their ends stay apart)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    if stringWidth(text, font, size) <= width:
        return text
    head, tail = text, ""
    if text.endswith(")") and " (" in text:
        head, _, key = text.rpartition(" (")
        tail = f" ({key}"
        if stringWidth(tail, font, size) > width / 2:
            room = (width / 2 - stringWidth(" (…)", font, size)) / 2
            start = _cut(key[:-1], font, size, room)[0]
            end = _cut(key[:-1][::-1], font, size, room)[0][::-1]
            tail = f" ({start}…{end})"
        if stringWidth(head + tail, font, size) <= width:
            return head + tail
    room = width - stringWidth(f"…{tail}", font, size)
    kept = _cut(head, font, size, room)[0].rstrip()
    return f"{kept}…{tail}"


def _chunked(cells: list[str]) -> list[list[str]]:
    """A table row of wrapped cells as rows of at most CHUNK lines each: a row taller than a
    page cannot be laid out, rows of a few dozen lines go on to the next page."""
    lines = [cell.split("\n") for cell in cells]
    tallest = max(len(cell) for cell in lines)
    return [["\n".join(cell[i : i + CHUNK]) for cell in lines] for i in range(0, tallest, CHUNK)]


def _canvas_class() -> type:
    from reportlab.pdfbase.pdfdoc import (
        PDFArray,
        PDFDictionary,
        PDFName,
        PDFStream,
        PDFZCompress,
    )
    from reportlab.pdfgen.canvas import Canvas

    class Body(PDFStream):
        """A page's body, let go as soon as it is in the file."""

        def format(self, document: Any) -> bytes:
            text = super().format(document)
            self.content = b""
            return text

    #: What a page keeps of the canvas until the document is finished.
    kept = (
        "_code",
        "_pagesize",
        "_preamble",
        "_pageNumber",
        "_annotationrefs",
        "_formsinuse",
        "_colorsUsed",
        "_shadingUsed",
        "_currentPageHasImages",
        "_psCommandsBeforePage",
        "_psCommandsAfterPage",
        "_formData",
    )

    class RecordCanvas(Canvas):
        """A canvas that finishes its pages when the document is saved: the controller and
        the page's activity at the top, "Page X of Y" at the foot, the index entries."""

        controller = ""
        created: datetime | None = None  # the creation date in the metadata (UTC)

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.running = ""  # what the page is about: an activity, an annex
            self.anchors: list[tuple[str, int]] = []  # (title, number) starting on this page
            self.index_page: int | None = None
            self.sections: list[tuple[str, int]] = []  # (title, page) of every section
            self.kept: list[Any] = []  # (state, running header, anchors, index page)

        def anchor(self, title: str) -> None:
            self.running = title
            self.sections.append((title, self._pageNumber))
            self.anchors.append((title, len(self.sections)))

        def showPage(self) -> None:
            state = {k: self.__dict__[k] for k in kept}
            # Kept compressed (a fifth of the size), in its own graphics state.
            state["_code"] = zlib.compress(("q\n" + "\n".join(self._code) + "\nQ\n").encode())
            self.kept.append((state, self.running, self.anchors, self.index_page))
            self.anchors, self.index_page = [], None
            self._startPage()

        def save(self) -> None:
            total = len(self.kept)
            for number in range(1, total + 1):
                state, running, anchors, index_page = self.kept[number - 1]
                self.kept[number - 1] = None  # let it go as soon as it is written
                body = state.pop("_code")
                self.__dict__.update(state)
                self._code = []
                self._finish(number, total, running, anchors, index_page)
                Canvas.showPage(self)
                self._contents(body)
            self.kept = []
            if self.created is not None:  # ReportLab stamps the time of writing otherwise
                stamp = self._doc._timeStamp
                stamp.YMDhms, stamp.dhh, stamp.dmm = self.created.utctimetuple()[:6], 0, 0
            with open(self._filename, "wb") as out, _written_to(out):
                self._filename = out
                Canvas.save(self)

        def _contents(self, body: bytes) -> None:
            """The last page's contents: its body, compressed when it was laid out, then
            what was drawn on it when it was finished."""
            page = self._doc.Pages.pages[-1]
            head = Body(PDFDictionary({"Filter": PDFName("FlateDecode")}), body)
            tail = PDFStream(content=page.stream, filters=[PDFZCompress])
            page.Contents = PDFArray([self._doc.Reference(head), self._doc.Reference(tail)])
            page.stream = None

        def _finish(
            self,
            number: int,
            total: int,
            running: str,
            anchors: list[tuple[str, int]],
            index: int | None,
        ) -> None:
            width, height = self._pagesize
            for title, section in anchors:
                key = f"s{section}"
                self.bookmarkPage(key, fit="XYZ", top=height)
                self.addOutlineEntry(title, key, 0)
            if index is not None:
                self._index(index)
            self.setFont(FONT, 7.5)
            self.setFillColorRGB(90 / 255, 90 / 255, 90 / 255)
            if number > 1:  # the controller left, what the page is about right
                y = height - 8 * MM - 7.5
                half = (width - 2 * MARGIN) / 2 - 3 * MM
                self.drawString(MARGIN, y, _shortened(self.controller, FONT, 7.5, half))
                self.drawRightString(width - MARGIN, y, _shortened(running, FONT, 7.5, half))
            self.drawString(MARGIN, 12 * MM - 7.5, TITLE)
            self.drawRightString(width - MARGIN, 12 * MM - 7.5, f"Page {number} of {total}")

        def _index(self, page: int) -> None:
            """The index entries of the index's page (0 the first): names linking to the
            sections, and their page numbers."""
            width, height = self._pagesize
            first = _index_slots(page)
            top = height - TOP - (INDEX_HEAD if page == 0 else 0)
            rows = self.sections[first : first + _index_capacity(page)]
            self.setFont(FONT, BODY)
            self.setFillColorRGB(0, 0, 0)
            room = width - 2 * MARGIN - 12 * MM  # the page number and a gap on the right
            for i, (title, target) in enumerate(rows):
                y = top - (i + 1) * INDEX_LINE
                self.drawString(MARGIN, y + 1.5, _shortened(title, FONT, BODY, room))
                self.drawRightString(width - MARGIN, y + 1.5, str(target))
                rect = (MARGIN, y, width - MARGIN, y + INDEX_LINE)
                self.linkRect("", f"s{first + i + 1}", rect, relative=0)

    return RecordCanvas


@contextmanager
def _written_to(out: BinaryIO) -> Iterator[None]:
    """While ReportLab saves: every object goes to the file as it is formatted. ReportLab's
    collector (`PDFFile`, looked up by `PDFDocument.format` when the save begins) would keep
    every object's bytes and join them, twice the file in memory at the end."""
    from reportlab.pdfbase import pdfdoc

    class FileWriter(pdfdoc.PDFFile):
        def add(self, s: str | bytes) -> int:
            data = pdfdoc.pdfdocEnc(s)
            offset = self.offset
            self.offset += len(data)
            out.write(data)
            return offset

        def format(self, document: Any) -> bytes:
            return b""  # already written

    collector, pdfdoc.PDFFile = pdfdoc.PDFFile, FileWriter
    try:
        yield
    finally:
        pdfdoc.PDFFile = collector


def _usable_height() -> float:
    from reportlab.lib.pagesizes import A4

    return A4[1] - 2 * TOP


def _index_capacity(page: int) -> int:
    """How many entries the index's page holds."""
    return int((_usable_height() - (INDEX_HEAD if page == 0 else 0)) // INDEX_LINE)


def _index_slots(page: int) -> int:
    """The number of the index's first entry on its page."""
    return sum(_index_capacity(p) for p in range(page))


def _index_pages(entries: int) -> int:
    pages, held = 1, _index_capacity(0)
    while held < entries:
        held += _index_capacity(pages)
        pages += 1
    return pages


def _flowables() -> dict[str, Any]:
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Flowable, Paragraph

    class Anchor(Flowable):
        """Where a section (an activity, an annex) starts: the page's bookmark, outline
        entry, index entry and running header."""

        def __init__(self, title: str) -> None:
            super().__init__()
            self.title = title

        def wrap(self, *_: float) -> tuple[float, float]:
            return 0, 0

        def draw(self) -> None:
            self.canv.anchor(self.title)

    class IndexPage(Flowable):
        """A page of the index, filled in when the document is finished."""

        def __init__(self, page: int) -> None:
            super().__init__()
            self.page = page

        def wrap(self, *_: float) -> tuple[float, float]:
            return 0, 0

        def draw(self) -> None:
            self.canv.index_page = self.page
            self.canv.running = "Index"

    def style(name: str, font: str, size: float, leading: float, **more: Any) -> Any:
        return ParagraphStyle(name, fontName=font, fontSize=size, leading=leading, **more)

    return {
        "Anchor": Anchor,
        "IndexPage": IndexPage,
        "Paragraph": Paragraph,
        "title": style("title", BOLD, 18, 9 * MM, spaceAfter=6 * MM),
        "h1": style("h1", BOLD, 14, 7 * MM),
        "record": style("record", FONT, 8.5, 5 * MM, textColor=(68 / 255, 84 / 255, 106 / 255)),
        "body": style("body", FONT, BODY, 6 * MM),
        "heading": style("heading", BOLD, 14, 8 * MM),
    }


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fields(fields: Iterable[tuple[str, str]], heading: str | None) -> Any:
    """Label/value rows under an optional heading, as one table; a long value is cut into
    rows of a few dozen lines so that it goes on to the next page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import Table

    text_width = A4[0] - 2 * MARGIN
    label_width = text_width * LABEL_SHARE
    value_width = text_width - label_width
    rows: list[list[str]] = []
    starts: list[int] = []
    commands: list[tuple] = [
        ("FONT", (0, 0), (0, -1), BOLD, BODY, LINE),
        ("FONT", (1, 0), (1, -1), FONT, BODY, LINE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 1),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ("TOPPADDING", (0, 0), (-1, -1), 1),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if heading is not None:
        rows.append([heading, ""])
        commands += [
            ("SPAN", (0, 0), (1, 0)),
            ("FONT", (0, 0), (0, 0), BOLD, 10.5, 5.5 * MM),
            ("TEXTCOLOR", (0, 0), (0, 0), BLUE),
            ("TOPPADDING", (0, 0), (0, 0), 2 * MM),
            ("NOSPLIT", (0, 0), (0, 1)),
        ]
    for label, value in fields:
        starts.append(len(rows))
        label_text = _wrap(label, BOLD, BODY, label_width - 3)
        rows += _chunked([label_text, _wrap(value, FONT, BODY, value_width - 3)])
    grid = (210 / 255, 218 / 255, 232 / 255)
    if heading is None and len(starts) == len(rows):
        commands.append(("LINEABOVE", (0, 0), (-1, -1), 0.5, grid))
    else:
        commands += [("LINEABOVE", (0, r), (-1, r), 0.5, grid) for r in starts]
    return Table(rows, colWidths=(label_width, value_width), style=commands, hAlign="LEFT")


def _activity(f: dict[str, Any], sheet: Sheet, row: list) -> Iterator[Any]:
    page = activity_page(sheet, row)
    yield f["Anchor"](page.title)
    yield f["Paragraph"](_escape(page.title), f["h1"])
    yield f["Paragraph"](_escape(page.record), f["record"])
    for heading, fields in page.sections:
        yield _fields(fields, heading)


def _annex(f: dict[str, Any], sheet: Sheet, rows: list[list], heading: str) -> Iterator[Any]:
    """A table of the record on landscape pages, its header row repeated on each page."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.platypus import Table

    yield f["Anchor"](heading)
    yield f["Paragraph"](_escape(heading), f["heading"])
    if not rows:
        yield f["Paragraph"]("None recorded.", f["body"])
        return
    text_width = landscape(A4)[0] - 2 * MARGIN
    total = sum(sheet.widths)
    widths = [w / total * text_width for w in sheet.widths]
    header = [_wrap(h, BOLD, 7.5, w - 4) for h, w in zip(sheet.headers, widths, strict=True)]
    style = [
        ("FONT", (0, 0), (-1, -1), FONT, 7.5, 3.6 * MM),
        ("FONT", (0, 0), (-1, 0), BOLD, 7.5, 3.6 * MM),
        ("TEXTCOLOR", (0, 0), (-1, 0), (1, 1, 1)),
        ("BACKGROUND", (0, 0), (-1, 0), BLUE),
        ("BOX", (0, 0), (-1, -1), 0.4, GREY),
        ("LINEAFTER", (0, 0), (-2, -1), 0.4, GREY),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ("TOPPADDING", (0, 0), (-1, -1), 1),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    cells: list[list[str]] = []
    starts: list[int] = []  # the first table row of each record row: a line above it
    for i, row in enumerate(rows, 1):
        starts.append(len(cells) + 1)
        texts = ("" if v is None else page_text(v) for v in row)
        cells += _chunked([_wrap(t, FONT, 7.5, w - 4) for t, w in zip(texts, widths, strict=True)])
        if len(cells) >= ANNEX_ROWS or i == len(rows):
            lines = [("LINEABOVE", (0, r), (-1, r), 0.4, GREY) for r in starts]
            yield Table([header, *cells], colWidths=widths, repeatRows=1, style=style + lines)
            cells, starts = [], []


class _Story(list):
    """The story as platypus reads it (from the front, until empty), fed from a generator so
    that only a few flowables exist at a time."""

    def __init__(self, source: Iterator[Any]) -> None:
        super().__init__()
        self.source = source

    def __len__(self) -> int:
        while list.__len__(self) < 4:
            item = next(self.source, None)
            if item is None:
                break
            self.append(item)
        return list.__len__(self)


class _Unprintable:
    """The characters of the record that the PDF's font has no letter for (Chinese, say):
    they print as empty boxes, so the export names them, and where they are."""

    def __init__(self) -> None:
        from reportlab.pdfbase import pdfmetrics

        face = pdfmetrics.getFont(FONT).face  # the bold font has the same letters
        self.printable = frozenset(map(chr, face.charToGlyph)) | set("\n\t")
        self.chars: dict[str, None] = {}
        self.places: dict[str, None] = {}

    def check(self, place: str, cells: Iterable[Any]) -> None:
        for cell in cells:
            if isinstance(cell, str) and not cell.isascii() and not self.printable.issuperset(cell):
                self.places[place] = None
                self.chars.update(
                    dict.fromkeys(
                        c
                        for c in cell
                        if c not in self.printable and unicodedata.category(c) != "Cf"
                    )
                )

    def warnings(self) -> list[str]:
        if not self.chars:
            return []
        chars = ", ".join(list(self.chars)[:10]) + (" …" if len(self.chars) > 10 else "")
        places = list(self.places)
        where = ", ".join(places[:5]) + (f" and {len(places) - 5} more" if len(places) > 5 else "")
        return [
            f"the PDF's font has no letters for {chars} (in {where}): they print as empty "
            "boxes; the workbook (`ropa export xlsx`) and the HTML page show them"
        ]


def _story(
    cover: Cover,
    builder: RecordBuilder,
    activities: Iterable[dict],
    sheets: tuple[str, ...],
    unprintable: _Unprintable,
) -> Iterator[Any]:
    from reportlab.platypus import NextPageTemplate, PageBreak

    f = _flowables()
    yield f["Paragraph"](_escape(TITLE), f["title"])
    unprintable.check("the cover", (value for _, value in cover.rows()))
    yield _fields(((label, value or "—") for label, value in cover.rows()), None)
    entries = cover.activities + ("processor" in sheets) + len(ANNEXES)
    for page in range(_index_pages(entries)):
        yield PageBreak()
        if page == 0:
            yield f["Paragraph"]("Index of processing activities", f["heading"])
        yield f["IndexPage"](page)
    annexes: dict[str, list[list]] = {PROCESSOR.name: []}
    annexes.update({name: [] for name in ANNEXES})
    details = {s.name: s for s in DETAILS if s.name in ANNEXES}
    for sheet, row in record_rows(builder, activities, tuple(sheets), details=ANNEXES):
        unprintable.check(str(row[0]), row)
        if sheet.name in details:
            annexes[sheet.name].append(row)
            continue
        yield PageBreak()
        yield from _activity(f, sheet, row)
        if sheet.name == PROCESSOR.name:
            annexes[PROCESSOR.name].append(row)
    parts = [(PROCESSOR, PROCESSOR.name, PROCESSOR.heading)] if "processor" in sheets else []
    parts += [(details[name], name, f"Annex: {name}") for name in ANNEXES]
    for sheet, name, heading in parts:
        yield NextPageTemplate("landscape")
        yield PageBreak()
        yield from _annex(f, sheet, annexes.pop(name), heading)


def write_record_pdf(
    path: Path,
    cover: Cover,
    builder: RecordBuilder,
    activities: Iterable[dict],
    sheets: tuple[str, ...] = ("controller", "processor"),
) -> list[str]:
    """Write the record as a PDF; returns warnings (about letters its font does not have)."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

    _fonts()
    names = "; ".join(c["name"] for c in cover.controllers)
    canvas_class = _canvas_class()
    canvas_class.controller = names
    canvas_class.created = cover.generated_at
    doc = BaseDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=TOP,
        bottomMargin=TOP,
        title=TITLE,
        author=names or "ropa",
        subject=cover.scope,
        creator=f"ropa {cover.version}",
        lang="en",
        invariant=False,
    )
    wide = landscape(A4)
    frame = {"leftPadding": 0, "rightPadding": 0, "topPadding": 0, "bottomPadding": 0}
    doc.addPageTemplates(
        [
            PageTemplate("portrait", [Frame(MARGIN, TOP, *_text_box(A4), **frame)], pagesize=A4),
            PageTemplate(
                "landscape",
                [Frame(MARGIN, TOP, *_text_box(wide), **frame)],
                pagesize=wide,
                autoNextPageTemplate="landscape",
            ),
        ]
    )
    from reportlab import rl_config

    a85, rl_config.useA85 = rl_config.useA85, 0  # binary streams: smaller, and less to encode
    unprintable = _Unprintable()
    story = _story(cover, builder, activities, sheets, unprintable)
    try:
        doc.build(_Story(story), canvasmaker=canvas_class)
    finally:
        rl_config.useA85 = a85
    return unprintable.warnings()


def _text_box(size: tuple[float, float]) -> tuple[float, float]:
    return size[0] - 2 * MARGIN, size[1] - 2 * TOP
