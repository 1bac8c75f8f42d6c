"""The limits every input is held to, in one place: each a documented default that an
environment variable raises (or lowers). A file beyond a limit is refused with one line
naming the file and the limit, before anything is expanded."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ropa.errors import RopaError


@dataclass(frozen=True)
class Limit:
    """A bound on some input: `name` says what it bounds, `env` the variable that sets it."""

    env: str
    default: int
    name: str
    unit: str = ""

    @property
    def value(self) -> int:
        """The limit in force: the environment variable when set, else the default."""
        text = os.environ.get(self.env, "").strip()
        if not text:
            return self.default
        try:
            value = int(text)
        except ValueError:
            raise RopaError(f"{self.env}={text!r} is not a whole number") from None
        if value < 1:
            raise RopaError(f"{self.env}={text!r} must be at least 1")
        return value

    def refusal(self, found: str = "") -> str:
        """The end of an error message: what exceeded, the limit and how to raise it."""
        shown = f"{self.value:,}{self.unit}"
        seen = f" ({found})" if found else ""
        return f"{self.name}{seen} exceeds the limit of {shown}; set {self.env} to raise it"


MB = " MB"

INPUT_SIZE = Limit("ROPA_MAX_INPUT_MB", 256, "file size", MB)
MEMBER_SIZE = Limit("ROPA_MAX_UNCOMPRESSED_MB", 512, "uncompressed size of a workbook part", MB)
COMPRESSION_RATIO = Limit("ROPA_MAX_COMPRESSION_RATIO", 100, "compression ratio of a workbook part")
ROWS = Limit("ROPA_MAX_ROWS", 1_048_576, "number of rows")
COLUMNS = Limit("ROPA_MAX_COLUMNS", 1_000, "number of columns")
CELLS = Limit("ROPA_MAX_CELLS", 8_000_000, "sheet area (rows × columns)")
EXPANDED = Limit("ROPA_MAX_EXPANDED_MB", 256, "text repeated by shared strings or YAML aliases", MB)
DEPTH = Limit("ROPA_MAX_DEPTH", 32, "nesting depth")
ALIAS_NODES = Limit("ROPA_MAX_ALIAS_NODES", 100_000, "number of values repeated by YAML aliases")
INTEGER_DIGITS = Limit("ROPA_MAX_INTEGER_DIGITS", 30, "integer length", " digits")

#: Every limit, in the order the README lists them.
ALL = (
    INPUT_SIZE,
    MEMBER_SIZE,
    COMPRESSION_RATIO,
    ROWS,
    COLUMNS,
    CELLS,
    EXPANDED,
    DEPTH,
    ALIAS_NODES,
    INTEGER_DIGITS,
)
#: A compression ratio is only judged on parts at least this large (tiny parts compress well).
RATIO_FLOOR_BYTES = 1 << 20


def megabytes(limit: Limit) -> int:
    """A size limit in bytes."""
    return limit.value * 1024 * 1024


def shown_mb(size: int, limit: Limit) -> str:
    """A size over a size limit in megabytes, to a tenth, or finer where a tenth would not
    show it over ("256.004 MB", not "256.0 MB")."""
    mb = size / 2**20
    return f"{mb:,.1f} MB" if round(mb, 1) > limit.value else f"{mb:,.4f}".rstrip("0") + " MB"
