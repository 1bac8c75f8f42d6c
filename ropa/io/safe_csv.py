"""The one formula-safe CSV writer: every CSV that leaves ropa goes through it.

A cell that a spreadsheet could take for a formula (or a DDE payload) gets a leading
apostrophe; so does a cell that starts with one, so that the importer can always take the
escape off again (:func:`unescape`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date
from typing import Any, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def needs_escape(text: str) -> bool:
    """Text a spreadsheet could take for a formula (or a DDE payload)."""
    return text.startswith(FORMULA_STARTS)


def escape(text: str) -> str:
    """The cell text as written: formula-like text (and text starting with an apostrophe)
    behind a leading apostrophe."""
    return "'" + text if needs_escape(text) or text.startswith("'") else text


def unescape(text: str) -> str:
    """The original text of a cell escaped by :func:`escape`."""
    if text.startswith("'") and (needs_escape(text[1:]) or text[1:].startswith("'")):
        return text[1:]
    return text


def cell_text(value: Any) -> str:
    """A value as CSV cell text (before escaping): dates in ISO form, None empty."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class SafeWriter:
    """`csv.writer` whose every cell is made text and formula-safe."""

    def __init__(self, handle: TextIO, lineterminator: str = "\r\n"):
        self._writer = csv.writer(handle, lineterminator=lineterminator)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([escape(cell_text(v)) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
