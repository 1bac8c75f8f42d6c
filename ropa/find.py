"""Finding records: the filter options of `list` and `export`, declared once, and the SQL
condition each one stands for.

Every filter becomes part of one query on the record table (EXISTS / IN on the link and
nested tables), so a listing on any number of activities reads only the records it shows,
on SQLite and PostgreSQL alike. Filters combine with AND; the values of one repeated filter
with OR. A filter value that names a record may be its key or its name; an unknown one is a
BadOption naming the option, with the closest keys suggested.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from ropa.errors import BadOption
from ropa.schema import ACTIVITY, CATEGORY, PARTY, Kind, T

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from ropa.store import Filter
    from ropa.validate import Index


@dataclass(frozen=True)
class FilterOption:
    """One filter option: its name (`recipient_kind` is `--recipient-kind`), help and
    metavar; `flag` options take no value."""

    name: str
    help: str
    metavar: str = "KEY"
    flag: bool = False

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")


#: The filters of `activity list` and of the activities an export writes, in --help order.
ACTIVITY_FILTERS: tuple[FilterOption, ...] = (
    FilterOption("owner", "Owned by this person or mailbox (the owner field, any case)", "TEXT"),
    FilterOption("entity", "Of this group member (key or name): controller or joint controller"),
    FilterOption("role", "With this role (controller, joint-controller, processor)", "CODE"),
    FilterOption("status", "With this status (draft, active, retired)", "CODE"),
    FilterOption("subject", "Processing data of this subject category"),
    FilterOption("category", "Processing this data category or one of its children"),
    FilterOption("special", "Processing special-category data: art9 or art10", "CODE"),
    FilterOption("purpose", "For this purpose"),
    FilterOption("basis", "Relying on this Art. 6 lawful basis (consent, contract, …)", "CODE"),
    FilterOption("recipient", "Disclosing to this party (a recipient or transfer recipient)"),
    FilterOption("recipient_kind", "Disclosing to a party of this kind", "CODE"),
    FilterOption(
        "country",
        "Data going to this country: a transfer destination or a system's hosting country",
        "COUNTRY",
    ),
    FilterOption("mechanism", "With a transfer under this mechanism (scc, adequacy, …)", "CODE"),
    FilterOption("system", "Using this system"),
    FilterOption(
        "review_due",
        "Review overdue or never done; with WITHIN (30d, 8w, 3m, 1y) also due within it",
        "[WITHIN]",
    ),
    FilterOption(
        "search",
        "Text in the name, description, business function, owner, notes or legitimate "
        "interests (any case)",
        "TEXT",
    ),
)

#: What `--review-due` without a value means: overdue (due before today).
OVERDUE = "0d"

#: The filters of the other kinds' `list`.
RECORD_FILTERS: tuple[FilterOption, ...] = (
    FilterOption("search", "Text in the name, description or notes (any case)", "TEXT"),
    FilterOption("used", "Only records an activity refers to", flag=True),
    FilterOption("unused", "Only records no activity refers to", flag=True),
)

#: The activity columns `--search` looks in.
ACTIVITY_SEARCHED = (
    "name",
    "description",
    "business_function",
    "owner",
    "notes",
    "legitimate_interests",
)


def values(value: Any) -> list[str]:
    """The values a filter was given: none, one, or several (repeated)."""
    if value is None or value is False or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if value is True:
        return ["yes"]
    return [v for v in value if v is not None]


def record_filter(
    conn: Connection,
    index: Index,
    kind: Kind,
    filters: Mapping[str, Any],
    today: date | None = None,
) -> Filter | None:
    """The store filter of a kind's filter options ({name: value or values}); None when no
    filter is given. Names are resolved to keys through `index`, codes checked, durations
    read."""
    from ropa import store

    given = {n: values(v) for n, v in filters.items()}
    given = {n: v for n, v in given.items() if v}
    if not given:
        return None
    if kind is ACTIVITY:
        conditions = _activity_conditions(conn, index, given, today or _today())
    else:
        conditions = _record_conditions(kind, index, given)
    return store.Filter(conditions=tuple(conditions))


def _today() -> date:
    from ropa.history import today

    return today()


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def member_key(index: Index, given: str) -> str:
    """The key of the group member an --entity option names (by key or by name)."""
    key = _keys(index, "party", "entity", [given])[0]
    if index.value("party", "kind", key) != "group-member":
        raise BadOption(f"--entity: {key!r} is not a group-member party")
    return key


def _keys(index: Index, kind: str, name: str, given: Sequence[str]) -> list[str]:
    """The keys that values of a filter name (by key or name)."""
    keys = []
    for value in given:
        try:
            keys.append(index.resolve(kind, value))
        except ValueError as e:
            raise BadOption(f"{_option(name)}: {e}") from None
    return keys


def _codes(name: str, field_name: str, kind: Kind, given: Sequence[str]) -> list[str]:
    """The codes a filter was given, checked against the field's code list."""
    from ropa.validate import parse_field

    field = kind.field(field_name)
    codes = []
    for value in given:
        try:
            parsed = parse_field(field, value)
        except ValueError as e:
            raise BadOption(f"{_option(name)}: {e}") from None
        codes += parsed if isinstance(parsed, list) else [parsed]
    return codes


def _activity_conditions(
    conn: Connection, index: Index, given: Mapping[str, list[str]], today: date
) -> list[Any]:
    import sqlalchemy as sa

    from ropa.models import LINK_TABLES
    from ropa.store import nested_table, of_members, record_table

    a = record_table(ACTIVITY)
    transfers = nested_table(ACTIVITY.field("transfers"))

    def linked(field: str, keys: Any) -> Any:
        """Activities whose list field holds one of `keys` (values, or a query of them)."""
        link = LINK_TABLES[(ACTIVITY.name, field)]
        if not isinstance(keys, sa.Select):
            keys = sorted(keys)
        return a.c.key.in_(sa.select(link.c.owner).where(link.c.value.in_(keys)))

    def transferred(condition: Any) -> Any:
        return a.c.key.in_(sa.select(transfers.c.activity).where(condition))

    conditions: list[Any] = []
    known = {f.name for f in ACTIVITY_FILTERS}
    for name, given_values in given.items():
        if name not in known:
            raise BadOption(f"{_option(name)} does not filter activities")
        if name == "owner":
            owners = sorted({v.strip() for v in given_values})
            conditions.append(folded(a.c.owner).in_([folded(sa.literal(o)) for o in owners]))
        elif name == "entity":
            conditions.append(of_members(a, [member_key(index, v) for v in given_values]))
        elif name in ("role", "status"):
            conditions.append(a.c[name].in_(_codes(name, name, ACTIVITY, given_values)))
        elif name == "subject":
            conditions.append(linked("data_subjects", _keys(index, "subject", name, given_values)))
        elif name == "category":
            keys = _keys(index, "category", name, given_values)
            conditions.append(linked("data_categories", _with_children(index, keys)))
        elif name == "special":
            specials = set(_codes(name, "special", CATEGORY, given_values))
            conditions.append(linked("data_categories", _special_categories(index, specials)))
        elif name == "purpose":
            conditions.append(linked("purposes", _keys(index, "purpose", name, given_values)))
        elif name == "basis":
            conditions.append(
                linked("lawful_bases", _codes(name, "lawful_bases", ACTIVITY, given_values))
            )
        elif name == "recipient":
            keys = _keys(index, "party", name, given_values)
            conditions.append(
                sa.or_(linked("recipients", keys), transferred(transfers.c.recipient.in_(keys)))
            )
        elif name == "recipient_kind":
            kinds = _codes(name, "kind", PARTY, given_values)
            parties = record_table(PARTY)
            of_kind = sa.select(parties.c.key).where(parties.c.kind.in_(kinds))
            link = LINK_TABLES[(ACTIVITY.name, "recipients")]
            conditions.append(
                sa.or_(
                    a.c.key.in_(sa.select(link.c.owner).where(link.c.value.in_(of_kind))),
                    transferred(transfers.c.recipient.in_(of_kind)),
                )
            )
        elif name == "country":
            countries = _countries(name, given_values)
            hosting = LINK_TABLES[("system", "countries")]
            hosted = sa.select(hosting.c.owner).where(hosting.c.value.in_(countries))
            conditions.append(
                sa.or_(transferred(transfers.c.country.in_(countries)), linked("systems", hosted))
            )
        elif name == "mechanism":
            field = _transfer_field("mechanism")
            mechanisms = []
            for value in given_values:
                try:
                    mechanisms.append(_parse(field, value))
                except ValueError as e:
                    raise BadOption(f"--mechanism: {e}") from None
            conditions.append(transferred(transfers.c.mechanism.in_(mechanisms)))
        elif name == "system":
            conditions.append(linked("systems", _keys(index, "system", name, given_values)))
        elif name == "review_due":
            conditions.append(_review_due(conn, a, given_values[-1], today))
        elif name == "search":
            conditions.append(_search(a, ACTIVITY_SEARCHED, given_values))
    return conditions


def _transfer_field(name: str) -> Any:
    """A field of a transfer row (its country, mechanism…)."""
    return next(f for f in ACTIVITY.field("transfers").nested if f.name == name)


def _parse(field: Any, value: str) -> Any:
    from ropa.validate import parse_field

    return parse_field(field, value)


def _countries(name: str, given: Sequence[str]) -> list[str]:
    """Country codes, checked (ISO alpha-2, or INTL), upper case."""
    field = _transfer_field("country")
    codes = []
    for value in given:
        try:
            codes.append(_parse(field, value.strip().upper()))
        except ValueError as e:
            raise BadOption(f"{_option(name)}: {e}") from None
    return codes


def _with_children(index: Index, keys: list[str]) -> set[str]:
    """The categories `keys` and every category below them."""
    parents = index.attribute("category", "parent")
    children: dict[str, list[str]] = {}
    for child, parent in parents.items():
        if parent:
            children.setdefault(parent, []).append(child)
    found: set[str] = set()
    pending = list(keys)
    while pending:
        key = pending.pop()
        if key not in found:
            found.add(key)
            pending += children.get(key, [])
    return found


def _special_categories(index: Index, specials: set[str]) -> list[str]:
    """The categories whose special kind (own or inherited) is among `specials`."""
    from ropa.checks.core import inherited_special

    parents = index.attribute("category", "parent")
    special = index.attribute("category", "special")
    categories = {k: {"parent": parents.get(k), "special": special[k]} for k in special}
    return sorted(k for k in categories if inherited_special(categories, k) in specials)


_WITHIN = re.compile(r"^\s*(\d+)\s*([dwmy])\s*$", re.IGNORECASE | re.ASCII)


def due_before(today: date, within: str, option: str = "--review-due") -> date:
    """The first day a review may fall due and not count: today for overdue (`0d`), else
    the day after today + WITHIN (days, weeks, months or years: 30d, 8w, 3m, 1y); a
    BadOption naming `option` when WITHIN is not such a duration."""
    from ropa.checks.core import add_months

    match = _WITHIN.match(within or OVERDUE)
    if match is None:
        raise BadOption(
            f"{option}: {within!r} is not a duration; use days, weeks, months or years "
            "such as 30d, 8w, 3m, 1y"
        )
    if len(match[1].lstrip("0")) > 9:  # past the calendar's end whatever the unit
        return date.max
    number, unit = int(match[1]), match[2].lower()
    if number == 0:
        return today
    if unit in "dw":
        days = number * (7 if unit == "w" else 1)
        if days >= (date.max - today).days:  # past the calendar's end: everything due
            return date.max
        end = today + timedelta(days=days)
    else:
        end = add_months(today, number * (12 if unit == "y" else 1))  # date.max at the end
    return end + timedelta(days=1) if end < date.max else date.max


def _last_reviewed_before(due: date, months: int) -> date:
    """The first `last_reviewed` whose next review (+ `months`, as R17 adds them) falls on
    or after `due`: an activity reviewed before it is due before `due`."""
    from ropa.checks.core import add_months

    day = add_months(due, -months) - timedelta(days=4)
    while add_months(day, months) < due:  # the month's end clamps: step to the boundary
        day += timedelta(days=1)
    return day


def _review_due(conn: Connection, a: Any, within: str, today: date) -> Any:
    """Activities not retired that were never reviewed, or whose next review falls before
    the end of the window: one range on `last_reviewed` per review interval in use."""
    import sqlalchemy as sa

    due = due_before(today, within)
    # Plain SQL reads (store.iter_records) pass parameters to the driver as they are: SQLite
    # stores dates as ISO text, PostgreSQL takes a date.
    sqlite = conn.dialect.name == "sqlite"
    intervals = conn.execute(sa.select(a.c.review_interval_months).distinct()).scalars()
    ranges = [
        sa.and_(
            a.c.review_interval_months == months,
            a.c.last_reviewed < _day(_last_reviewed_before(due, months or 12), sqlite),
        )
        for months in sorted(intervals)
    ]
    return sa.and_(a.c.status != "retired", sa.or_(a.c.last_reviewed.is_(None), *ranges))


def _day(day: date, sqlite: bool) -> Any:
    return day.isoformat() if sqlite else day


def _search(table: Any, columns: Iterable[str], given: Sequence[str]) -> Any:
    """Any of the texts in any of the columns, ignoring the case of every letter (Ü as ü on
    SQLite too: the text and the column are both folded; % and _ are literal)."""
    import sqlalchemy as sa

    hits = []
    for text in given:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = folded(sa.literal(f"%{escaped}%"))  # folded as the column is, by the database
        hits += [folded(table.c[c]).like(pattern, escape="\\") for c in columns]
    return sa.or_(*hits)


def folded(column: Any) -> Any:
    """The column in lower case, every letter folded on both backends: PostgreSQL's lower(),
    and on SQLite the function ropa.db registers on each connection (SQLite's lower() and
    LIKE fold ASCII only), with a final sigma as any sigma on both. Compare it with a value
    folded the same way (`folded(literal)`): each backend folds both sides itself, as Python
    and the database may fold a letter apart."""
    global _FOLDED
    if _FOLDED is None:  # built on first use: sqlalchemy is imported lazily
        _FOLDED = _folded_class()
    return _FOLDED(column)


def _folded_class() -> Any:
    import sqlalchemy as sa
    from sqlalchemy.ext.compiler import compiles

    from ropa.db import FOLD_FUNCTION

    class Folded(sa.sql.functions.FunctionElement):
        type = sa.String()
        inherit_cache = True
        name = "ropa_folded"

    @compiles(Folded)
    def _default(element: Any, compiler: Any, **kw: Any) -> str:
        # Python lowers a word's last Σ to ς, PostgreSQL to σ: both fold ς to σ.
        return f"translate(lower({compiler.process(element.clauses, **kw)}), 'ς', 'σ')"

    @compiles(Folded, "sqlite")
    def _sqlite(element: Any, compiler: Any, **kw: Any) -> str:
        return f"{FOLD_FUNCTION}({compiler.process(element.clauses, **kw)})"

    return Folded


_FOLDED: Any = None


def _record_conditions(kind: Kind, index: Index, given: Mapping[str, list[str]]) -> list[Any]:
    from ropa.store import record_table
    from ropa.validate import parse_field

    table = record_table(kind)
    conditions: list[Any] = []
    if "used" in given and "unused" in given:
        raise BadOption("give --used or --unused, not both")
    for name, given_values in given.items():
        if name == "search":
            searched = [c for c in ("name", "description", "notes") if c in kind.field_names]
            conditions.append(_search(table, searched, given_values))
        elif name in ("used", "unused"):
            users = used_keys(kind)
            if users is None:
                raise BadOption(f"{_option(name)}: activities never refer to {kind.section}")
            inside = table.c.key.in_(users)
            conditions.append(inside if name == "used" else ~inside)
        elif name in ("kind", "special") and name in kind.field_names:
            try:
                codes = [parse_field(kind.field(name), v) for v in given_values]
            except ValueError as e:
                raise BadOption(f"{_option(name)}: {e}") from None
            conditions.append(table.c[name].in_(codes))
        else:
            raise BadOption(f"{_option(name)} does not filter {kind.section}")
    return conditions


def used_keys(kind: Kind) -> Any:
    """A query of the keys of `kind` that an activity refers to (None: activities never
    refer to that kind); null references left out, so that NOT IN works."""
    import sqlalchemy as sa

    from ropa.models import LINK_TABLES
    from ropa.store import nested_table, record_table

    selects = []
    activities = record_table(ACTIVITY)
    for field in ACTIVITY.fields:
        if field.type is T.REF and field.ref == kind.name:
            column = activities.c[field.name]
            selects.append(sa.select(column).where(column.is_not(None)))
        elif field.type is T.REFS and field.ref == kind.name:
            selects.append(sa.select(LINK_TABLES[(ACTIVITY.name, field.name)].c.value))
        elif field.type is T.NESTED:
            nested = nested_table(field)
            for sub in field.nested:
                if sub.type is T.REF and sub.ref == kind.name:
                    column = nested.c[sub.name]
                    selects.append(sa.select(column).where(column.is_not(None)))
    if not selects:
        return None
    return sa.union(*selects) if len(selects) > 1 else selects[0]
