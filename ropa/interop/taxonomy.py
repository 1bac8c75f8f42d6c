"""The fideslang default taxonomy as ropa records: data categories, data subjects and data
uses (purposes), each with its `fides_key`, and loading them into the register."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ropa.db import fold_case
from ropa.errors import RopaError

if TYPE_CHECKING:
    from ropa.registry import ImportReport, Registry

#: The parts of the taxonomy: `--only` choice -> (ropa kind, fideslang taxonomy field).
PARTS: dict[str, tuple[str, str]] = {
    "categories": ("category", "data_category"),
    "subjects": ("subject", "data_subject"),
    "purposes": ("purpose", "data_use"),
}

#: fideslang data categories that are special-category data (GDPR Art. 9(1)), with every
#: category below them: biometric data (also as credentials, which identify a person
#: uniquely), health and genetic data, racial or ethnic origin, political opinions,
#: religious beliefs, sexual orientation. Trade-union membership and philosophical beliefs
#: have no key of their own in fideslang 3; the words below catch them if a release adds one.
ART9_KEYS = frozenset(
    {
        "user.biometric",
        "user.authorization.biometric",
        "user.health_and_medical",
        "user.demographic.political_opinion",
        "user.demographic.race_ethnicity",
        "user.demographic.religious_belief",
        "user.demographic.sexual_orientation",
    }
)
ART9_WORDS = ("biometric", "genetic", "health", "trade_union", "philosophical", "sex_life")
#: Criminal convictions and offences data (GDPR Art. 10).
ART10_KEYS = frozenset({"user.criminal_history"})
#: Data subjects ropa marks vulnerable (EDPB DPIA criteria: employees, candidates, patients).
VULNERABLE_SUBJECTS = frozenset({"employee", "job_applicant", "patient", "trainee"})


def special_of(fides_key: str) -> str:
    """The `special` code of a fideslang data category: art9, art10 or none."""
    parts = fides_key.split(".")
    lineage = {".".join(parts[: i + 1]) for i in range(len(parts))}
    if lineage & ART10_KEYS:
        return "art10"
    if lineage & ART9_KEYS or any(word in parts[-1] for word in ART9_WORDS):
        return "art9"
    return "none"


def default_taxonomy() -> dict[str, list[dict]]:
    """The installed fideslang default taxonomy: entries (fides_key, name, description,
    parent_key) by ropa kind. Deprecated entries are kept (manifests still use them) and say
    so in their description."""
    try:
        from fideslang import DEFAULT_TAXONOMY
    except ImportError:  # pragma: no cover - fideslang is a dependency
        raise RopaError("the fideslang package is not installed (pip install fideslang)") from None
    out: dict[str, list[dict]] = {}
    for kind, part in PARTS.values():
        out[kind] = [
            {
                "fides_key": entry.fides_key,
                "name": entry.name or entry.fides_key,
                "description": _description(entry),
                "parent_key": getattr(entry, "parent_key", None),
            }
            for entry in getattr(DEFAULT_TAXONOMY, part)
        ]
    return out


def _description(entry) -> str:
    text = entry.description or ""
    if entry.version_deprecated:
        instead = f"; use {entry.replaced_by}" if entry.replaced_by else ""
        text += f" (deprecated in fideslang {entry.version_deprecated}{instead})"
    return text.strip()


def taxonomy_version() -> str:
    """The version of the installed fideslang package."""
    from importlib.metadata import version

    return version("fideslang")


def as_record(kind: str, entry: dict, parent: str | None = None) -> dict:
    """A taxonomy entry as a ropa record (document form) whose key is its fides_key."""
    key = entry["fides_key"]
    record = {"key": key, "name": entry["name"], "description": entry.get("description") or ""}
    if kind == "category":
        record["special"] = special_of(key)
        if parent:
            record["parent"] = parent
    elif kind == "subject":
        record["vulnerable"] = key in VULNERABLE_SUBJECTS
    elif kind == "purpose":
        record["direct_marketing"] = key == "marketing" or key.startswith("marketing.")
    record["fides_key"] = key
    return {k: v for k, v in record.items() if v not in ("", None, False)}


@dataclass
class TaxonomyPlan:
    """What loading the taxonomy does: the records to create, the entries already present
    (matched by fides_key), and the clashes left alone."""

    records: dict[str, list[dict]] = field(default_factory=dict)
    matched: dict[str, int] = field(default_factory=dict)
    clashes: list[str] = field(default_factory=list)


def plan_taxonomy(
    existing: dict[str, list[dict]], entries: dict[str, list[dict]], kinds: Iterable[str]
) -> TaxonomyPlan:
    """The records to create for the taxonomy entries of `kinds`, given the register's
    records by kind: an entry whose fides_key a record carries is that record (its key and
    name are kept); an entry whose key or name another record already has is a clash,
    reported and left alone."""
    plan = TaxonomyPlan()
    for kind in kinds:
        records = existing.get(kind, [])
        by_fides = {r["fides_key"]: r["key"] for r in records if r.get("fides_key")}
        keys = {r["key"]: r for r in records}
        names = {fold_case(r["name"]): (r["key"], r["name"]) for r in records if r.get("name")}
        created: list[dict] = []
        plan.matched[kind] = 0
        for entry in entries[kind]:
            fides_key = entry["fides_key"]
            if fides_key in by_fides:
                plan.matched[kind] += 1
                continue
            if fides_key in keys:
                plan.clashes.append(
                    f"{kind} {fides_key!r} exists with fides_key "
                    f"{keys[fides_key].get('fides_key') or '(none)'}; fideslang "
                    f"{fides_key!r} not loaded"
                )
                continue
            if (other := names.get(fold_case(entry["name"]))) is not None:
                plan.clashes.append(
                    f"{kind} {other[0]!r} already has the name {other[1]!r}; fideslang "
                    f"{fides_key!r} not loaded (set its fides_key to match them)"
                )
                continue
            parent = entry.get("parent_key")
            created.append(as_record(kind, entry, by_fides.get(parent) or parent))
            by_fides[fides_key] = fides_key
            names[fold_case(entry["name"])] = (fides_key, entry["name"])
        # A parent is set only where it is in the register or loaded with it.
        known = {r["key"] for r in records} | {r["key"] for r in created}
        for record in created:
            if record.get("parent") not in known:
                record.pop("parent", None)
        plan.records[kind] = created
    return plan


def load_fideslang(
    registry: Registry, only: Iterable[str] | None = None, dry_run: bool = False
) -> tuple[TaxonomyPlan, ImportReport]:
    """Load the fideslang default taxonomy (or the parts named in `only`: categories,
    subjects, purposes) into the register, in one import with history. Idempotent."""
    parts = list(only or PARTS)
    for part in parts:
        if part not in PARTS:
            raise RopaError(f"--only: unknown part {part!r}; choose {', '.join(PARTS)}")
    kinds = [PARTS[p][0] for p in parts]
    existing = {kind: registry.list(kind) for kind in kinds}
    plan = plan_taxonomy(existing, default_taxonomy(), kinds)
    document = {
        "ropa": 1,
        **{PARTS_SECTION[kind]: plan.records[kind] for kind in kinds if plan.records[kind]},
    }
    report = registry.import_documents(
        [(document, f"fideslang {taxonomy_version()} taxonomy")],
        dry_run=dry_run,
        message=f"fideslang {taxonomy_version()} default taxonomy",
    )
    return plan, report


PARTS_SECTION = {"category": "categories", "subject": "subjects", "purpose": "purposes"}
