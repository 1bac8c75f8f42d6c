"""Parsing and validation of record values, whatever they came from (CLI, YAML, JSON).

`parse_record` turns raw input into canonical values field by field; `check_record` resolves
references (by key, or by exact name ignoring case) against an :class:`Index` and enforces
the rules that hold at write time. Both collect every problem instead of stopping at the first.
"""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any, ClassVar

from ropa import reference, words
from ropa.db import fold_case
from ropa.errors import Problem
from ropa.schema import ACTIVITY, CATEGORY, PARTY, Field, Kind, T

KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
DURATION_PATTERN = re.compile(
    r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$", re.ASCII
)
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Characters XML 1.0 cannot hold: a workbook could not be written with them.
ILLEGAL_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: Bidirectional controls: see :data:`ropa.words.BIDI_CONTROLS`.
BIDI_CONTROLS = words.BIDI_CONTROLS
#: What text that must be one line (an actor, a message: lines of the history) may not hold:
#: control characters, line feeds, Unicode's line and paragraph separators, bidi controls.
NOT_ONE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}]")
#: What a name may not hold: what breaks a line (control characters, line feeds, Unicode's
#: line and paragraph separators). One recipient printed as two in a record's list.
NOT_A_NAME = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: What a name is stored without, so that it is unique as it looks: invisible formatting
#: characters (zero-width space, soft hyphen, byte order mark, word joiner, bidi marks and
#: controls…) and the other default-ignorable characters that show nothing (the combining
#: grapheme joiner, Hangul fillers, Khmer's inherent vowels). "Imperva Group\u200b Members"
#: is "Imperva Group Members". Kept: the zero-width (non-)joiners, which shape Indic, Persian
#: and emoji sequences, the tags of a flag, variation selectors, and the number signs and
#: hieroglyph controls that show.
HIDDEN = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200e\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001]"
)
#: Any run of spaces in a name is one space: a no-break, ideographic or braille-blank space,
#: or two spaces, made a second name that looks like the first.
SPACES = re.compile(r"[\s\u2800]+")
LIST_SEPARATORS = re.compile(r"[;\n]")
MAX_TEXT = 32_767  # the most characters a spreadsheet cell holds
TRUE = {"true", "yes", "y", "1", "x", "on"}
FALSE = {"false", "no", "n", "0", "off", ""}


def closest(value: str, choices: Iterable[str], n: int = 3) -> str:
    """A hint naming the closest choices: " (did you mean: a, b?)", or ""."""
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(value.lower(), list(lowered), n=n, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean: " + ", ".join(lowered[c] for c in close) + "?)"


def split_list(value: Any) -> list[Any]:
    """A list from a list, or from a text with items separated by newlines or `;`."""
    if value is None:
        return []
    if isinstance(value, list | tuple | set):
        return list(value)
    if isinstance(value, str):
        return [item.strip() for item in LIST_SEPARATORS.split(value) if item.strip()]
    return [value]


def shown(value: Any) -> str:
    """A value as a document spells it, for a message: `true`, `a list`, `'text'`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return repr(value) if isinstance(value, str) else str(value)


def parse_text(value: Any) -> str | None:
    if value is None:
        return None
    if type(value) is not str:
        if isinstance(value, bool):
            raise ValueError(f"expected text, got {shown(value)} (quote it to keep it as text)")
        if not isinstance(value, str | int | float | date):
            raise ValueError(f"expected text, got {shown(value)}")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        value = str(value)
    text = value.strip()
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text:
        return None
    bad = ILLEGAL_TEXT.search(text)
    if bad:
        raise ValueError(f"contains the control character U+{ord(bad.group()):04X}")
    if len(text) > MAX_TEXT:
        raise ValueError(f"is {len(text)} characters long; at most {MAX_TEXT} fit in a cell")
    return text


def parse_key(value: Any) -> str:
    text = "" if value is None else str(value).strip()
    if not KEY_PATTERN.match(text):
        raise ValueError(
            f"{text!r} is not a valid key: 1–64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return text


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(f"{shown(value)} is not yes/no (true/false)")


def parse_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"{shown(value)} is not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):  # a spreadsheet's number
        if not value.is_integer():
            raise ValueError(f"{shown(value)} is not a whole number")
        return int(value)
    found = WHOLE_NUMBER.match(str(value))
    if found is None:
        raise ValueError(f"{shown(value)} is not a whole number")
    return int(found[1])


def parse_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise ValueError(f"{shown(value)} is not an ISO date (YYYY-MM-DD)")
    if not isinstance(value, str | int | float):
        raise ValueError(f"expected a date (YYYY-MM-DD), got {shown(value)}")
    text = str(value).strip()
    try:
        if not ISO_DATE.match(text):  # not week dates (2026-W48) nor 20261123
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(date_problem(text)) from None


#: The one form of a date: YYYY-MM-DD, in ASCII digits.
ISO_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
#: A whole number as text: ASCII digits, a sign, and a fraction of zeros ("12.0", as a
#: spreadsheet may write it); not "1_2", "1e1" nor other scripts' digits.
WHOLE_NUMBER = re.compile(r"^\s*([+-]?[0-9]+)(?:\.0*)?\s*$")


def date_problem(text: str) -> str:
    """Why a text is not a date: a day its month does not have ("'2026-02-30' is not a date:
    February 2026 has no 30th day"), or the format it should have."""
    import calendar

    found = ISO_DATE.match(text)
    if not found:
        return f"{text!r} is not an ISO date (YYYY-MM-DD)"
    year, month, day = (int(part) for part in found.groups())
    if not 1 <= month <= 12:
        return f"{text!r} is not a date: there is no month {month} (months are 01–12)"
    days = calendar.monthrange(year, month)[1] if year else 31
    if day == 0:
        return f"{text!r} is not a date: days start at 01"
    if day > days:
        return (
            f"{text!r} is not a date: {calendar.month_name[month]} {year} has no "
            f"{words.ordinal(day)} day (it has {days})"
        )
    return f"{text!r} is not a date"


def parse_duration(value: Any) -> str | None:
    text = parse_text(value)
    if text is None:
        return None
    text = text.upper()
    if not DURATION_PATTERN.match(text):
        raise ValueError(f"{value!r} is not an ISO 8601 duration such as P6Y, P18M or P30D")
    return text


def parse_email(value: Any) -> str | None:
    text = parse_text(value)
    if text is not None and not EMAIL_PATTERN.match(text):
        raise ValueError(f"{text!r} is not an email address")
    return text


def parse_code(field: Field, value: Any) -> str | None:
    if type(value) is str and value in field.codes:  # the code itself: the common case
        return value
    if isinstance(value, bool):  # YAML 1.1 reads a bare `no` as false
        value = "yes" if value else "no"
    text = parse_text(value)
    if text is None:
        return field.default
    code = field.codes.parse(text)
    if code is None:
        raise ValueError(
            f"{text!r} is not {words.a(field.codes.name)}{closest(text, field.codes.values)}; "
            f"choose one of {', '.join(field.codes.values)}"
        )
    return code


def parse_ref(value: Any) -> str | None:
    return parse_text(value)


def _norway(value: Any) -> Any:
    """YAML 1.1 reads a bare country code NO as false: take it back as Norway."""
    return "NO" if value is False else value


def _parse_int_field(field: Field, value: Any) -> int | None:
    number = parse_int(value)
    return field.default if number is None else number


def _parse_country(value: Any) -> str | None:
    text = parse_text(_norway(value))
    return None if text is None else reference.parse_country(text)


def _parse_countries(value: Any) -> list[str]:
    codes = set()
    for item in split_list(value):
        text = parse_text(_norway(item))  # a mapping or a list in the list is refused here
        if text is not None:
            codes.add(reference.parse_country(text, allow_intl=False))
    return sorted(codes)


def _parse_codes(field: Field, value: Any) -> list[str]:
    codes = {parse_code(field, v) for v in split_list(value)}
    return sorted(codes, key=field.codes.order)


def _parse_refs(field: Field, value: Any) -> list[str]:
    # Interned: a large import repeats the same few thousand keys millions of times.
    if type(value) is str:  # a cell: the items are checked when they are resolved
        if ";" not in value and "\n" not in value:
            item = value.strip()
            return [sys.intern(item)] if item else []
        items = (item.strip() for item in LIST_SEPARATORS.split(value))
        return [sys.intern(r) for r in dict.fromkeys(items) if r]
    refs = [parse_ref(v) for v in split_list(value)]
    return list(dict.fromkeys(sys.intern(r) for r in refs if r))


def _parse_text(field: Field, value: Any) -> str | None:
    longest = field.max_length or MAX_TEXT
    if field.name == "name":
        return _parse_name(value, longest)
    if type(value) is str:  # the common case, without a call more
        text = value.strip()
        if text and "\r" not in text and len(text) <= longest and not ILLEGAL_TEXT.search(text):
            return text
    text = parse_text(value)
    if text is not None and len(text) > longest:
        raise ValueError(
            f"is {len(text)} characters long; a {field.name} holds at most {longest} "
            "(the rest belongs in the description)"
        )
    return text


#: The names of control characters, which Unicode gives none (U+000A LINE FEED).
_CONTROL_NAMES = {
    "\t": "CHARACTER TABULATION",
    "\n": "LINE FEED",
    "\x0b": "LINE TABULATION",
    "\x0c": "FORM FEED",
    "\r": "CARRIAGE RETURN",
    "\x1b": "ESCAPE",
    "\x7f": "DELETE",
    "\x85": "NEXT LINE",
}


def character(c: str) -> str:
    """A character as a message names it: "U+200B ZERO WIDTH SPACE", "U+000A LINE FEED"."""
    import unicodedata

    name = _CONTROL_NAMES.get(c) or unicodedata.name(c, "")
    return f"U+{ord(c):04X} {name}".rstrip()


def _parse_name(value: Any, longest: int) -> str | None:
    """A name: one line of text (a line break is refused), stored as it looks — without
    invisible characters, its spaces single, in Unicode's composed form (NFC) — so that names
    that look the same are the same name (names are unique within their kind)."""
    text = value.strip() if isinstance(value, str) else parse_text(value)
    if not text:
        return None
    found = NOT_A_NAME.search(text)
    if found:
        raise ValueError(
            f"must be one line without control characters (found {character(found.group())})"
        )
    if not text.isascii():
        import unicodedata

        text = unicodedata.normalize("NFC", SPACES.sub(" ", HIDDEN.sub("", text)).strip())
    elif "  " in text:
        text = SPACES.sub(" ", text)
    text = parse_text(text)
    if text is None:
        return None
    if len(text) > longest:
        raise ValueError(
            f"is {len(text)} characters long; a name holds at most {longest} "
            "(the rest belongs in the description)"
        )
    return text


def _nested(field: Field, value: Any) -> Any:
    raise AssertionError("nested fields are parsed by parse_nested")


#: The parser of each field type (called with the field and the raw value).
PARSERS: dict[T, Callable[[Field, Any], Any]] = {
    T.KEY: lambda f, v: parse_key(v),
    T.TEXT: _parse_text,
    T.EMAIL: lambda f, v: parse_email(v),
    T.BOOL: lambda f, v: parse_bool(v),
    T.INT: _parse_int_field,
    T.DATE: lambda f, v: parse_date(v),
    T.DURATION: lambda f, v: parse_duration(v),
    T.COUNTRY: lambda f, v: _parse_country(v),
    T.COUNTRIES: lambda f, v: _parse_countries(v),
    T.CODE: parse_code,
    T.CODES: _parse_codes,
    T.REF: lambda f, v: parse_ref(v),
    T.REFS: _parse_refs,
    T.NESTED: _nested,
}


def parse_field(field: Field, value: Any) -> Any:
    """The canonical value of one field; raises ValueError with a readable message."""
    return PARSERS[field.type](field, value)


class Where(str):
    """Where a record came from, for problem messages: `registry.yaml:activities[3]`.

    A subclass locates the cells of a spreadsheet row instead (see
    :class:`ropa.io.data_layout.SheetRow`); everything that reports a problem asks its
    `where` for the place of a field, so the same validation serves documents and sheets."""

    __slots__ = ()

    #: A document describes whole records: a field it leaves out is empty (a spreadsheet
    #: row, :class:`ropa.io.data_layout.SheetRow`, changes only the fields it has cells for).
    whole = True

    def at(self, name: str) -> str:
        """The place of one field: `…[3].purposes`."""
        return f"{self}.{name}"

    def item(self, name: str, position: int, sub: str) -> str:
        """The place of a column of a nested row: `…[3].transfers[0].country`."""
        return f"{self}.{name}[{position}].{sub}"


class PartWhere(Where):
    """Where a record came from in a document that gives only the fields it sets (a Fides
    manifest, see :class:`ropa.records.PartialDocument`): the other fields keep their values."""

    __slots__ = ()
    whole = False


def as_where(where: str) -> Where:
    return where if isinstance(where, Where) else Where(where)


def parse_nested(field: Field, value: Any, where: str, problems: list[Problem]) -> list[dict]:
    """The rows of a nested list field (transfers, retention), each with every column;
    `where` locates the field itself."""
    if value is None or value == "":
        return []
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, list):
        problems.append(Problem(where, "expected a list of mappings"))
        return []
    names = [f.name for f in field.nested]
    rows = []
    for i, item in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(item, Mapping):
            problems.append(Problem(at, "expected a mapping"))
            continue
        for name in item:
            if name not in names:
                problems.append(Problem(f"{at}.{name}", f"unknown field{closest(name, names)}"))
        row = {}
        for sub in field.nested:
            try:
                row[sub.name] = parse_field(sub, item.get(sub.name))
            except ValueError as e:
                problems.append(Problem(f"{at}.{sub.name}", str(e)))
                row[sub.name] = "?"
        lacking = lacks(field, row)
        if lacking:
            problems.append(Problem(f"{at}.{lacking[0]}", lacking[1]))
        rows.append(row)
    return rows


def lacks(field: Field, row: Mapping[str, Any]) -> tuple[str, str] | None:
    """What a transfer or retention rule cannot be without, as (its field, the problem): a
    transfer its country, a retention rule anything at all (an empty row replaced a stored
    rule with nothing)."""
    if field.name == "transfers" and not row.get("country"):
        return "country", "a transfer needs a country"
    if field.name == "retention" and not any(row.values()):
        return "duration", "an empty retention rule; give its duration, trigger or criteria"
    return None


def parse_record(kind: Kind, raw: Mapping[str, Any], where: str) -> tuple[dict, list[Problem]]:
    """Canonical values of the fields present in `raw` (absent fields stay absent)."""
    where = as_where(where)
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    names = kind.field_names
    for name in raw:
        if name not in names:
            problems.append(
                Problem(where.at(name), f"unknown {kind.label} field{closest(str(name), names)}")
            )
    for field in kind.fields:
        if field.name not in raw:
            continue
        at = where.at(field.name)
        if field.type is T.NESTED:
            values[field.name] = parse_nested(field, raw[field.name], at, problems)
            continue
        try:
            values[field.name] = parse_field(field, raw[field.name])
        except ValueError as e:
            problems.append(Problem(at, str(e)))
    return values, problems


class Index:
    """Keys and names of the records a validation may refer to, loaded per kind on demand.

    `loader(kind_name)` returns {key: name}; the party kinds and category parents (for the
    rules below) come from `attributes(kind_name, field_name)` -> {key: value}. Subclasses
    answer the same questions without loading whole kinds (:class:`LookupIndex`,
    :class:`LayeredIndex`); validation asks only through `has`, `value`, `resolve` and
    `key_for_name`, and `names` only for the hints of a problem.
    """

    #: The fields of other records that the write-time rules read: a controller's party
    #: kind, a category's parent.
    ATTRIBUTES: ClassVar[dict[str, tuple[str, ...]]] = {"party": ("kind",), "category": ("parent",)}

    def __init__(
        self,
        loader: Callable[[str], dict[str, str]],
        attributes: Callable[[str, str], dict[str, Any]],
    ):
        self._loader = loader
        self._attributes = attributes
        self._names: dict[str, dict[str, str]] = {}
        self._by_name: dict[str, dict[str, str]] = {}
        self._attrs: dict[tuple[str, str], dict[str, Any]] = {}

    def names(self, kind: str) -> dict[str, str]:
        """{key: name} of every record of a kind."""
        if kind not in self._names:
            self._names[kind] = self._loader(kind)
            # A record without a name (refused at write time) is found by its key only.
            self._by_name[kind] = {fold_case(n): k for k, n in self._names[kind].items() if n}
        return self._names[kind]

    def attribute(self, kind: str, field: str) -> dict[str, Any]:
        """{key: value} of one field of every record of a kind."""
        if (kind, field) not in self._attrs:
            self._attrs[(kind, field)] = self._attributes(kind, field)
        return self._attrs[(kind, field)]

    def has(self, kind: str, key: str) -> bool:
        """Whether a record of a kind has this key."""
        return key in self.names(kind)

    def value(self, kind: str, field: str, key: str) -> Any:
        """One field (of :attr:`ATTRIBUTES`) of one record; None when there is no such record."""
        return self.attribute(kind, field).get(key)

    def name(self, kind: str, key: str) -> str | None:
        """The name of one record; None when there is no such record."""
        return self.names(kind).get(key)

    def prefetch(
        self, kind: str, values: Iterable[str], keys: bool = True, names: bool = True
    ) -> None:
        """Look up many values of a kind at once, as keys, as names or as either, before
        they are asked for one by one (nothing to do when whole kinds are loaded)."""

    def resolve(self, kind: str, value: str) -> str:
        """The key for a key or an exact name (ignoring case, composed or not); ValueError
        with hints."""
        if self.has(kind, value):
            return value
        key = self.key_for_name(kind, value)
        if key is None and not value.isascii():  # a name written decomposed (NFD)
            import unicodedata

            composed = unicodedata.normalize("NFC", value)
            key = self.key_for_name(kind, composed) if composed != value else None
        if key is not None:
            return key
        from ropa.schema import KINDS

        raise ValueError(f"unknown {KINDS[kind].label} {value!r}{closest(value, self.names(kind))}")

    def key_for_name(self, kind: str, name: str) -> str | None:
        """The key of the record of a kind with this name (ignoring case), if there is one."""
        self.names(kind)
        return self._by_name[kind].get(fold_case(name))


#: What :class:`LookupIndex` asks for: (kind, keys, lowercased names, columns) -> rows of
#: (key, name, *columns) of the records with one of the keys or one of the names.
Lookup = Callable[[str, list[str], list[str], tuple[str, ...]], Iterable[tuple]]


class LookupIndex(Index):
    """An index that asks for the keys and names a validation needs, in batches
    (:meth:`prefetch`), instead of loading whole kinds: its cost follows what is checked,
    not the size of the register. Whole kinds are loaded only for the hints of a problem,
    and for a name that lowercases beyond ASCII (databases lowercase differently)."""

    def __init__(
        self,
        lookup: Lookup,
        loader: Callable[[str], dict[str, str]],
        attributes: Callable[[str, str], dict[str, Any]],
    ):
        super().__init__(loader, attributes)
        self._lookup = lookup
        self._found: dict[str, dict[str, tuple[str | None, dict[str, Any]] | None]] = {}
        self._named: dict[str, dict[str, str | None]] = {}

    def prefetch(
        self, kind: str, values: Iterable[str], keys: bool = True, names: bool = True
    ) -> None:
        found = self._found.setdefault(kind, {})
        named = self._named.setdefault(kind, {})
        wanted: list[str] = []
        lowered: dict[str, None] = {}
        for value in set(values):
            if not value:
                continue
            if keys and value not in found:
                wanted.append(value)
            if not names:
                continue
            low = fold_case(value)
            if low not in named and low not in lowered:
                if low.isascii():
                    lowered[low] = None
                else:
                    named[low] = self._by_whole_name(kind, low)
        if not wanted and not lowered:
            return
        columns = self.ATTRIBUTES.get(kind, ())
        for key, name, *values_of in self._lookup(kind, wanted, list(lowered), columns):
            found[key] = (name, dict(zip(columns, values_of, strict=True)))
            if name:
                named[fold_case(name)] = key
        for key in wanted:
            found.setdefault(key, None)
        for low in lowered:
            named.setdefault(low, None)

    def _by_whole_name(self, kind: str, lowered: str) -> str | None:
        self.names(kind)
        return self._by_name[kind].get(lowered)

    def has(self, kind: str, key: str) -> bool:
        if not key:
            return False
        if key not in self._found.get(kind, {}):
            self.prefetch(kind, [key], names=False)
        return self._found[kind][key] is not None

    def value(self, kind: str, field: str, key: str) -> Any:
        if not key:
            return None
        if key not in self._found.get(kind, {}):
            self.prefetch(kind, [key])
        entry = self._found[kind][key]
        return None if entry is None else entry[1].get(field)

    def name(self, kind: str, key: str) -> str | None:
        if not key:
            return None
        if key not in self._found.get(kind, {}):
            self.prefetch(kind, [key])
        entry = self._found[kind][key]
        return None if entry is None else entry[0]

    def key_for_name(self, kind: str, name: str) -> str | None:
        if not name:
            return None
        low = fold_case(name)
        if low not in self._named.get(kind, {}):
            self.prefetch(kind, [name], keys=False)
        return self._named[kind][low]

    def found(self, kind: str) -> dict[str, str | None]:
        """{key: name} of the records of a kind looked up so far."""
        return {k: e[0] for k, e in self._found.get(kind, {}).items() if e is not None}


def read_by_rules(kind: Kind, before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    """Whether a record's change can make the records that refer to it invalid: the
    write-time rules read of another record its key and its :attr:`Index.ATTRIBUTES` only (a
    party's kind, a category's parent; a party's phone is read by none)."""
    return any(before[f] != after[f] for f in Index.ATTRIBUTES.get(kind.name, ()))


class LayeredIndex(Index):
    """An index of the register after a write: the records it writes (`records`, by kind
    and key, every field) over an index of the stored register (`base`)."""

    def __init__(self, base: Index, records: Mapping[str, Mapping[str, dict]]):
        super().__init__(base.names, base.attribute)
        self._base = base
        self._records = records
        self._mine: dict[str, dict[str, str]] = {}

    def names(self, kind: str) -> dict[str, str]:
        mine = self._records.get(kind, {})
        return {**self._base.names(kind), **{k: r["name"] for k, r in mine.items()}}

    def attribute(self, kind: str, field: str) -> dict[str, Any]:
        mine = self._records.get(kind, {})
        return {**self._base.attribute(kind, field), **{k: r[field] for k, r in mine.items()}}

    def has(self, kind: str, key: str) -> bool:
        return key in self._records.get(kind, {}) or self._base.has(kind, key)

    def value(self, kind: str, field: str, key: str) -> Any:
        mine = self._records.get(kind, {})
        return mine[key][field] if key in mine else self._base.value(kind, field, key)

    def name(self, kind: str, key: str) -> str | None:
        mine = self._records.get(kind, {})
        return mine[key]["name"] if key in mine else self._base.name(kind, key)

    def prefetch(
        self, kind: str, values: Iterable[str], keys: bool = True, names: bool = True
    ) -> None:
        self._base.prefetch(kind, values, keys, names)

    def key_for_name(self, kind: str, name: str) -> str | None:
        mine = self._records.get(kind, {})
        if kind not in self._mine:
            self._mine[kind] = {fold_case(r["name"]): k for k, r in mine.items() if r.get("name")}
        key = self._mine[kind].get(fold_case(name))
        if key is not None:
            return key
        key = self._base.key_for_name(kind, name)
        return None if key in mine else key  # a record the write renames has a new name


def check_record(kind: Kind, record: dict, index: Index, where: str) -> list[Problem]:
    """Resolve the references of a complete record in place and check the write-time rules."""
    where = as_where(where)
    problems: list[Problem] = []

    def resolve(field: Field, value: str, at: str) -> str | None:
        try:
            return index.resolve(field.ref, value)
        except ValueError as e:
            problems.append(Problem(at, str(e)))
            return None

    # Keys as they are are the common case: only other values are resolved (and located).
    for field in kind.reference_fields:
        value = record.get(field.name)
        if not value:
            continue
        if field.type is T.REF:
            if not index.has(field.ref, value):
                record[field.name] = resolve(field, value, where.at(field.name))
        elif field.type is T.REFS:
            ref = field.ref
            if all(index.has(ref, v) for v in value):
                record[field.name] = sorted(set(value))
                continue
            at = where.at(field.name)
            keys = {v if index.has(ref, v) else resolve(field, v, at) for v in value}
            keys.discard(None)
            record[field.name] = sorted(keys)
        else:  # nested rows: transfers' recipients, retention rules' categories
            for sub in field.nested:
                if sub.type is not T.REF:
                    continue
                for i, row in enumerate(value):
                    item = row.get(sub.name)
                    if item and not index.has(sub.ref, item):
                        row[sub.name] = resolve(sub, item, where.item(field.name, i, sub.name))

    if not record.get("name"):
        problems.append(Problem(where.at("name"), f"{words.a(kind.label)} needs a name"))
    if kind is ACTIVITY:
        problems += _check_activity(record, index, where)
    if kind is CATEGORY:
        problems += _check_category(record, index, where)
    if kind is PARTY:
        problems += _check_party(record, where)
    return problems


def _check_party(record: dict, where: Where) -> list[Problem]:
    """A lead supervisory authority is a key of the reference data; the regime and the
    authority belong to group members only."""
    problems = []
    authority = record.get("supervisory_authority")
    if authority and authority not in (known := reference.supervisory_authorities()):
        problems.append(
            Problem(
                where.at("supervisory_authority"),
                f"{authority!r} is not a supervisory authority{closest(authority, known)}; "
                "the keys are in data/reference/supervisory_authorities.yaml",
            )
        )
    if record.get("kind") != "group-member":
        for name in ("regime", "supervisory_authority"):
            if record.get(name):
                problems.append(
                    Problem(
                        where.at(name),
                        f"{name} applies only to group members: clear it, or make the party "
                        "a group-member",
                    )
                )
    return problems


def _check_activity(record: dict, index: Index, where: Where) -> list[Problem]:
    problems = []
    role = record.get("role")
    controller = record.get("controller")
    if controller:
        party_kind = index.value("party", "kind", controller)
        if party_kind and party_kind != "group-member":
            problems.append(
                Problem(
                    where.at("controller"),
                    f"{controller!r} is {words.a(party_kind)} party, not a group-member party; "
                    "the controller must be a legal entity of the group",
                )
            )
    if record.get("joint_controllers") and role != "joint-controller":
        problems.append(
            Problem(
                where.at("joint_controllers"),
                f"joint controllers are set but the role is {role}; "
                "set role joint-controller or clear joint_controllers",
            )
        )
    for name in ("processor_for", "sub_processors"):  # Art. 30(2): a processor's record
        if record.get(name) and role != "processor":
            problems.append(
                Problem(
                    where.at(name),
                    f"{name} is set but the role is {role}; set role processor or clear {name}",
                )
            )
    reviewed = record.get("last_reviewed")
    if reviewed is not None:
        from ropa.history import today

        if reviewed > today():
            problems.append(
                Problem(
                    where.at("last_reviewed"),
                    f"{reviewed.isoformat()} is in the future (today is "
                    f"{today().isoformat()}): give the day the review was done",
                )
            )
    interval = record.get("review_interval_months")
    if interval is not None and not 1 <= interval <= 120:
        problems.append(
            Problem(where.at("review_interval_months"), "must be between 1 and 120 months")
        )
    return problems


def _check_category(record: dict, index: Index, where: Where) -> list[Problem]:
    parent = record.get("parent")
    if not parent:
        return []
    seen = {record["key"]}
    while parent:
        if parent in seen:
            return [Problem(where.at("parent"), f"{record['key']!r} would be its own ancestor")]
        seen.add(parent)
        parent = index.value("category", "parent", parent)
    return []
