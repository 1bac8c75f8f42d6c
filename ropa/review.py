"""The annual review: who owns what and when it is due, the review packs sent to the
owners, and the packs they return.

A pack is a workbook per owner: their activities in the data layout (the template's
drop-downs and instructions) with three more columns — `review` (confirmed, changed,
retire), `reviewer`, `comment` — the activities' printable pages, and a hidden sheet of each
activity's version when the pack was made. :func:`read_pack` reads a returned pack into
review rows and the data tables of its reviewed rows; :meth:`ropa.registry.Registry.
apply_review` applies the `changed` ones, refuses another that differs from the register, in
one transaction.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ropa.errors import Problem, RopaError
from ropa.io.data_layout.read import CellError
from ropa.io.data_layout.sheets import PACK_VERSIONS
from ropa.io.xlsx_pages import SHEET as PAGES_SHEET
from ropa.validate import NOT_ONE_LINE

if TYPE_CHECKING:
    from ropa.io.data_layout import Table
    from ropa.planning import ImportReport
    from ropa.registry import Registry

#: The columns a pack adds to the activities sheet.
REVIEW, REVIEWER, COMMENT = "review", "reviewer", "comment"
#: What the `review` column takes.
CONFIRMED, CHANGED, RETIRE = "confirmed", "changed", "retire"
REVIEW_VALUES = (CONFIRMED, CHANGED, RETIRE)
#: The pack of the activities that have no owner.
NO_OWNER = "no-owner"
#: Reviews falling due within this many days count as "due soon" in `review status`.
DUE_SOON_DAYS = 30

EXTRA_COLUMNS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        REVIEW,
        "Your review of the row: confirmed (still true as it is), changed (the cells you "
        "edited are applied; empty cells keep their value) or retire (the activity has "
        "stopped); a row you edited must say changed; leave empty if you have not reviewed it",
        REVIEW_VALUES,
    ),
    (REVIEWER, "Who reviewed the row (recorded in the history)", ()),
    (COMMENT, "Why, or what changed (recorded in the history)", ()),
)
PREFACE = (
    "REVIEW PACK: for each of your activities (sheet activities), is it still true? Set the "
    "`review` column to confirmed, changed or retire, your name in `reviewer` and a note in "
    "`comment`; for changed rows edit the cells (and the transfers and retention rows) that "
    "are wrong. The `Activity pages` sheet shows each activity for reading. Send the "
    "workbook back as it is: `ropa review import` applies it.",
)


def _today() -> date:
    from ropa.history import today

    return today()


# -- status -------------------------------------------------------------------------------


@dataclass
class Due:
    """One activity's review: when it was last reviewed, when it is next due."""

    key: str
    name: str
    last_reviewed: date | None
    next_review: date | None
    overdue: bool
    due_soon: bool


@dataclass
class OwnerReview:
    """The activities of one owner (None: no owner recorded) and how many are due."""

    owner: str | None
    activities: list[Due] = field(default_factory=list)

    @property
    def overdue(self) -> int:
        return sum(a.overdue for a in self.activities)

    @property
    def due_soon(self) -> int:
        return sum(a.due_soon for a in self.activities)

    @property
    def label(self) -> str:
        return self.owner if self.owner is not None else f"({NO_OWNER})"


def due(activity: dict, today: date) -> Due:
    """The review state of an activity: overdue as R17 says (never reviewed, or the next
    review before today), due soon when the next review is within 30 days."""
    from datetime import timedelta

    from ropa.checks.core import next_review

    upcoming = next_review(activity)
    overdue = upcoming is None or upcoming < today
    soon = not overdue and upcoming <= today + timedelta(days=DUE_SOON_DAYS)
    return Due(
        activity["key"], activity["name"], activity["last_reviewed"], upcoming, overdue, soon
    )


def grouped(activities: Iterable[dict]) -> list[tuple[str | None, list[dict]]]:
    """The activities by owner, owners compared without regard to case as `--owner` matches
    them (:func:`ropa.db.fold_case`: STRASSE and Straße are two owners to both) and named as
    first spelled; owners in alphabetical order, no owner last."""
    from ropa.db import fold_case

    groups: dict[str | None, tuple[str | None, list[dict]]] = {}
    for activity in activities:
        owner = (activity["owner"] or "").strip() or None
        same = fold_case(owner) if owner else None
        groups.setdefault(same, (owner, []))[1].append(activity)
    return sorted(groups.values(), key=lambda g: (g[0] is None, (g[0] or "").casefold()))


def by_owner(activities: Iterable[dict], today: date) -> list[OwnerReview]:
    """The review state of the activities, grouped by owner (:func:`grouped`)."""
    return [
        OwnerReview(owner, [due(a, today) for a in group]) for owner, group in grouped(activities)
    ]


def refuse_unknown_owners(registry: Registry, owners: list[str]) -> None:
    """An --owner that owns no activity is a mistake to say, not an empty review."""
    for owner in owners:
        with registry.find("activity", {"owner": [owner]}, batch=1) as owned:
            if next(owned, None) is None:
                raise RopaError(f"--owner: no activity is owned by {owner!r}")


def status(
    registry: Registry,
    owners: list[str] | None = None,
    entity: list[str] | None = None,
    today: date | None = None,
) -> list[OwnerReview]:
    """Per owner, the activities that are not retired, how many are overdue and how many
    fall due within 30 days."""
    refuse_unknown_owners(registry, owners or [])
    filters = {"owner": owners, "entity": entity, "status": ["draft", "active"]}
    with registry.find("activity", filters) as activities:
        return by_owner(activities, today or _today())


# -- packs --------------------------------------------------------------------------------


@dataclass
class Pack:
    """One written pack: its owner, file, activities and how many are overdue."""

    owner: str | None
    path: Path
    activities: int
    overdue: int


def safe_name(owner: str | None) -> str:
    """A file name from an owner: letters and digits of any script (NFC), `.`, `_` and `-`
    only (Jürgen Ölmann keeps his letters)."""
    if owner is None:
        return NO_OWNER
    text = unicodedata.normalize("NFC", owner)
    name = re.sub(r"[^\w.-]+", "-", text).strip("-.")[:60]
    return name or "owner"


def write_packs(
    registry: Registry,
    target: Path,
    owner: str | None = None,
    per_owner: bool = False,
    due_within: str | None = None,
    today: date | None = None,
) -> list[Pack]:
    """Write review packs of the activities that are not retired (those due for review
    within `due_within` only, when given): one workbook for `owner`, or for all, at
    `target`; with `per_owner`, one per owner in the folder `target` plus
    `review-request.csv` (owner, activities, overdue, pack) for a mail merge."""
    from contextlib import ExitStack

    from ropa.find import due_before
    from ropa.io.files import check_target, output_folder, replacing
    from ropa.io.record_cells import RecordScope

    today = today or _today()
    filters: dict[str, Any] = {"owner": [owner] if owner else None}
    if due_within:
        due_before(today, due_within, "--due-within")  # refused here, under its own name
        filters["review_due"] = due_within
    if per_owner:
        output_folder(target, "--per-owner")
    refuse_unknown_owners(registry, [owner] if owner else [])
    keys = registry.keys()
    packs: list[Pack] = []
    # All or nothing: every pack (and the request list) is written to a temporary file
    # beside its target, each target checked first; they replace their targets together at
    # the end, and a failure on the way leaves every target as it was.
    with ExitStack() as written, registry.record(RecordScope(), filters) as opened:
        cover, builder, activities = opened
        controllers = [c["name"] for c in cover.controllers]
        groups = grouped(activities) if per_owner else [(owner, list(activities))]
        paths = _pack_paths(target, [g for g, _ in groups]) if per_owner else [target]
        requests = target / "review-request.csv" if per_owner else None
        for path in [*paths, *([requests] if requests else [])]:
            check_target(path)
        for (group_owner, group), path in zip(groups, paths, strict=True):
            temporary = written.enter_context(replacing(path))
            _write_pack(temporary, group, builder, keys, controllers)
            overdue = sum(due(a, today).overdue for a in group)
            packs.append(Pack(group_owner, path, len(group), overdue))
        if requests is not None:
            _write_requests(written.enter_context(replacing(requests)), packs)
    return packs


def _pack_paths(folder: Path, owners: list[str | None]) -> list[Path]:
    """The file of each owner's pack in `folder`: review-NAME.xlsx, NAME told apart (any
    case) by a number when two owners make the same safe name."""
    used: set[str] = set()
    paths = []
    for owner in owners:
        name = safe_name(owner)
        stem, number = name, 2
        while name.lower() in used:
            name, number = f"{stem}-{number}", number + 1
        used.add(name.lower())
        paths.append(folder / f"review-{name}.xlsx")
    return paths


def _write_pack(
    path: Path, activities: list[dict], builder: Any, keys: dict, controllers: list[str]
) -> None:
    from ropa.io.article30 import DETAILS, activity_page, record_rows
    from ropa.io.data_layout.write import write_pack_workbook
    from ropa.records import document_record
    from ropa.schema import ACTIVITY

    paged = {s.name for s in DETAILS}
    pages = (
        activity_page(sheet, row)
        for sheet, row in record_rows(builder, activities, details=False)
        if sheet.name not in paged
    )
    # The transfers and retention rows offer the pack's own activities, not the register's.
    keys = {**keys, ACTIVITY.section: sorted(a["key"] for a in activities)}
    write_pack_workbook(
        path,
        (document_record(ACTIVITY, a) for a in activities),
        keys,
        EXTRA_COLUMNS,
        PREFACE,
        pages,
        controllers,
        {a["key"]: a["version"] for a in activities},
    )


def _write_requests(path: Path, packs: list[Pack]) -> None:
    """`review-request.csv`: one row per pack, formula-safe, for a mail merge."""
    from ropa.io.safe_csv import SafeWriter

    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = SafeWriter(out)
        writer.writerow(["owner", "activities", "overdue", "pack"])
        for pack in packs:
            writer.writerow([pack.owner or "", pack.activities, pack.overdue, pack.path.name])


# -- returned packs -----------------------------------------------------------------------


@dataclass
class ReviewRow:
    """One reviewed row of a returned pack."""

    key: str
    review: str
    reviewer: str | None
    comment: str | None
    where: str  # FILE:activities:ROW
    version: int | None  # the activity's version when the pack was made


@dataclass
class ReturnedPack:
    """What a returned pack holds: its reviewed rows, the data tables of its `changed` rows
    (the activities sheet without the review columns; the transfers and retention rows of
    those activities) and of its other reviewed rows, the rows left without a review, and
    problems."""

    source: str
    rows: list[ReviewRow] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    #: The data tables of the rows reviewed `confirmed` or `retire`, as returned: compared
    #: with the register, never applied.
    returned: list[Table] = field(default_factory=list)
    not_reviewed: int = 0
    problems: list[Problem] = field(default_factory=list)


#: The sheets a returned pack may hold (besides the instructions and lists, which the
#: reader leaves out), as a pack names them.
PACK_SHEETS = ("activities", "transfers", "retention", PACK_VERSIONS, PAGES_SHEET)


def read_pack(path: Path, name: str | None = None) -> ReturnedPack:
    """Read a returned pack (an xlsx workbook written by :func:`write_packs`)."""
    from ropa.io.data_layout import Table, read_workbook

    name = name or str(path)
    tables, problems = read_workbook(path, name, pack=True)
    pack = ReturnedPack(name, problems=list(problems))
    if problems:
        return pack
    by_name = {t.name.strip().lower(): t for t in tables}
    known = {s.lower() for s in PACK_SHEETS}
    for table in tables:
        if table.name.strip().lower() not in known:
            pack.problems.append(
                Problem(
                    f"{name}:{table.name}",
                    f"is not a sheet of a review pack ({', '.join(PACK_SHEETS)}, instructions, "
                    "lists); name it back, or delete it",
                )
            )
    activities = by_name.get("activities")
    versions_table = by_name.get(PACK_VERSIONS)
    if activities is None or versions_table is None:
        missing = "activities" if activities is None else PACK_VERSIONS
        pack.problems.append(
            Problem(
                name, f"is not a review pack (no {missing!r} sheet); `ropa review pack` writes them"
            )
        )
        return pack
    versions = _versions(versions_table)
    rows = iter(activities.rows)
    first = next(rows, None)
    if first is None:
        return pack
    _, headers = first
    normal = [str(h or "").strip().lower() for h in headers]
    for column in (REVIEW, "key"):
        if column not in normal:
            pack.problems.append(Problem(f"{name}:activities:1", f"missing the column {column!r}"))
            return pack
    at = {c: normal.index(c) for c in (REVIEW, REVIEWER, COMMENT, "key") if c in normal}
    review_columns = {at[c] for c in (REVIEW, REVIEWER, COMMENT) if c in at}
    kept = [i for i in range(len(headers)) if i not in review_columns]
    header_row = (first[0], [headers[i] for i in kept])
    # The keys and data rows of the rows reviewed `changed`, and of those reviewed otherwise.
    changed: tuple[set[str], list[tuple[int, list[Any]]]] = (set(), [header_row])
    returned: tuple[set[str], list[tuple[int, list[Any]]]] = (set(), [header_row])
    listed: dict[str, int] = {}  # key -> the first row that has it

    def text(cells: list[Any], column: str) -> str | None:
        i = at.get(column)
        value = cells[i] if i is not None and i < len(cells) else None
        value = str(value).strip() if value not in (None, "") else None
        return value or None

    def formulas(number: int) -> list[Problem]:
        """A review column is taken as typed: a formula there is refused, not evaluated, and
        so is a spreadsheet error."""
        found = []
        for column in (REVIEW, REVIEWER, COMMENT):
            mark = activities.formulas.get((number, at[column] + 1)) if column in at else None
            if mark is not None:
                what = (
                    f"the spreadsheet error {mark}"
                    if isinstance(mark, CellError)
                    else f"the formula ={mark}"
                )
                found.append(
                    Problem(f"{name}:activities:{number}:{column}", f"holds {what}; type the value")
                )
        return found

    def multiline(number: int, cells: list[Any]) -> list[Problem]:
        """The reviewer and comment become the actor and message of the history: one line."""
        return [
            Problem(
                f"{name}:activities:{number}:{column}",
                "must be one line without control characters (it is recorded in the history)",
            )
            for column in (REVIEWER, COMMENT)
            if column in at
            and at[column] < len(cells)
            and isinstance(cells[at[column]], str)
            and NOT_ONE_LINE.search(cells[at[column]].strip())
        ]

    for number, cells in rows:
        refused = formulas(number) or multiline(number, cells)
        if refused:
            pack.problems += refused
            continue
        key = text(cells, "key")
        if key is None:
            if any(c not in (None, "") for c in cells):
                pack.problems.append(
                    Problem(f"{name}:activities:{number}:key", "every row needs a key")
                )
            continue
        if key in listed:  # a key typed over another row's: never applied to that activity
            pack.problems.append(
                Problem(
                    f"{name}:activities:{number}:key",
                    f"{key!r} is on rows {listed[key]} and {number}; a pack lists each activity "
                    "once (a key cannot change)",
                )
            )
            continue
        listed[key] = number
        review = (text(cells, REVIEW) or "").lower()
        where = f"{name}:activities:{number}"
        if not review:
            pack.not_reviewed += 1
            continue
        if review not in REVIEW_VALUES:
            pack.problems.append(
                Problem(
                    f"{where}:{REVIEW}",
                    f"{review!r} is not a review; use {', '.join(REVIEW_VALUES)} or leave it empty",
                )
            )
            continue
        pack.rows.append(
            ReviewRow(
                key, review, text(cells, REVIEWER), text(cells, COMMENT), where, versions.get(key)
            )
        )
        # Every reviewed row is read whole: a changed row's cells are applied, and another's
        # are compared with the register (an edit it would not apply is refused).
        group = changed if review == CHANGED else returned
        group[0].add(key)
        group[1].append((number, [cells[i] if i < len(cells) else None for i in kept]))
    for (keys, data_rows), tables in ((changed, pack.tables), (returned, pack.returned)):
        tables.append(Table(name, activities.name, data_rows, formulas=activities.formulas))
        for nested in ("transfers", "retention"):
            table = by_name.get(nested)
            if table is not None and keys:
                rows, strangers = _rows_of(table, keys, set(versions))
                tables.append(rows)
                if tables is pack.tables or not changed[0]:
                    pack.problems += strangers
    return pack


#: What a reviewer or comment cell must not hold: a line break or another control character.


def _versions(table: Table) -> dict[str, int]:
    versions = {}
    for number, cells in table.rows:
        if number == 1 or len(cells) < 2 or cells[0] in (None, ""):
            continue
        try:
            versions[str(cells[0])] = int(float(cells[1]))
        except (TypeError, ValueError):
            continue
    return versions


def _rows_of(table: Table, keys: set[str], ours: set[str]) -> tuple[Table, list[Problem]]:
    """The rows of a transfers or retention sheet that belong to `keys` (and its header),
    and a problem for each row naming an activity that is not one of the pack's (`ours`):
    left out, a mistyped row would leave its activity without it."""
    from ropa.io.data_layout import Table

    rows = iter(table.rows)
    first = next(rows, None)
    if first is None:
        return Table(table.source, table.name, [], formulas=table.formulas), []
    normal = [str(h or "").strip().lower() for h in first[1]]
    at = normal.index("activity") if "activity" in normal else 0
    kept, problems = [first], []
    for number, cells in rows:
        activity = str(cells[at] or "").strip() if at < len(cells) else ""
        if activity in keys:
            kept.append((number, cells))
        elif activity not in ours and any(c not in (None, "") for c in cells):
            problems.append(
                Problem(
                    f"{table.source}:{table.name}:{number}:{normal[at] or 'activity'}",
                    f"{activity!r} is not an activity of this pack ({', '.join(sorted(ours))})",
                )
            )
    return Table(table.source, table.name, kept, formulas=table.formulas), problems


@dataclass
class ReviewOutcome:
    """What a review import did (or would do): the import report, the reviewed rows by
    review, the rows left without one, and the stale rows (place, activity, how it changed
    since the pack: who, and when last) that were refused or, with --skip-stale, skipped."""

    report: ImportReport | None = None
    reviewed: dict[str, int] = field(default_factory=dict)
    not_reviewed: int = 0
    stale: list[tuple[str, str, str, str]] = field(default_factory=list)
