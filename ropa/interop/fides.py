"""Fides manifests in and out.

In: :func:`is_manifest` tells a Fides manifest (top-level `system:` / `organization:` lists,
or system objects as the Fides API returns them) from a registry document, and
:func:`manifest_document` turns one into a registry document for the normal import, so dry
run, atomicity, the import report and history are those of any import. Data uses, data
categories and data subjects are matched to records by `fides_key` and created from the
manifest's own taxonomy entries or the fideslang default taxonomy when missing.

Out: :mod:`ropa.interop.fides_export` writes the register as a manifest (organizations,
systems with privacy declarations, custom taxonomy entries for records without a
`fides_key`) that fideslang's models validate.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ropa.db import fold_case
from ropa.errors import Problem, ValidationFailed
from ropa.records import PartialDocument
from ropa.words import plain_letters

#: The kinds a manifest refers to by fides_key: ropa kind -> (manifest section, field of
#: a privacy declaration).
TAXONOMY = {
    "category": ("data_category", "data_categories"),
    "subject": ("data_subject", "data_subjects"),
    "purpose": ("data_use", "data_use"),
}
SECTION = {"category": "categories", "subject": "subjects", "purpose": "purposes"}

#: fideslang's Art. 6 and Art. 9 wording -> ropa codes (compared case-insensitively).
LAWFUL_BASIS = {
    "consent": "consent",
    "contract": "contract",
    "legal obligations": "legal-obligation",
    "vital interests": "vital-interests",
    "public interest": "public-task",
    "legitimate interests": "legitimate-interests",
}
ART9_CONDITION = {
    "explicit consent": "explicit-consent",
    "employment, social security and social protection": "employment-social-security",
    "vital interests": "vital-interests",
    "not-for-profit bodies": "not-for-profit",
    "made public by the data subject": "made-public",
    "legal claims or judicial acts": "legal-claims",
    "reasons of substantial public interest (with a basis in law)": ("substantial-public-interest"),
    "health or social care (with a basis in law)": "health-social-care",
    "public health (with a basis in law)": "public-health",
    "archiving, research and statistics (with a basis in law)": ("archiving-research-statistics"),
}
ROLE = {"controller": "controller", "processor": "processor", "sub-processor": "processor"}

#: Fields a manifest may carry that ropa maps, or that say nothing worth a warning.
SYSTEM_FIELDS = {
    "fides_key", "organization_fides_key", "name", "description", "system_type",
    "privacy_declarations", "administrating_department", "egress", "ingress",
    "uses_profiling", "legal_basis_for_profiling", "requires_data_protection_assessments",
    "dpa_location", "responsibility", "does_international_transfers",
    "legal_basis_for_transfers", "processes_personal_data", "exempt_from_privacy_regulations",
    "id", "meta", "fidesctl_meta", "tags", "dpo", "cookies", "data_security_practices",
}  # fmt: skip
DECLARATION_FIELDS = {
    "name", "data_categories", "data_use", "data_subjects", "egress", "ingress",
    "legal_basis_for_processing", "special_category_legal_basis", "retention_period",
    "third_parties", "data_shared_with_third_parties", "processes_special_category_data",
    "impact_assessment_location", "flexible_legal_basis_for_processing", "id", "cookies",
    "features", "shared_categories",
}  # fmt: skip

#: The system_type of the system ropa writes for an activity that has none recorded: it
#: holds the activity's declarations and is no system of the register.
#: A Fides system's `meta` key naming the ropa system it is part of: ropa writes a system
#: the activities of several group members use once per member (Fides gives a system one
#: organization), and reads them back as that one system.
ROPA_SYSTEM = "ropa_system"


def member_system_key(system: str, member: str) -> str:
    """The fides_key of the system ropa writes for a group member's use of `system` (the
    first member's keeps the system's own key)."""
    return f"{system}-{member}"


NO_SYSTEM = "Processing activity"

KEY_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def is_manifest(doc: Any) -> bool:
    """Whether a parsed YAML/JSON document is a Fides manifest rather than a registry
    document."""
    if isinstance(doc, list):
        return bool(doc) and all(_is_system(item) for item in doc)
    if not isinstance(doc, Mapping) or "ropa" in doc:
        return False
    if _is_system(doc):
        return True
    return isinstance(doc.get("system"), list) or isinstance(doc.get("organization"), list)


def _is_system(item: Any) -> bool:
    return isinstance(item, Mapping) and "fides_key" in item and "privacy_declarations" in item


@dataclass
class Known:
    """What the register holds that a manifest may refer to: per kind, every record's key,
    name and fides_key."""

    records: dict[str, list[dict]] = field(default_factory=dict)

    def of(self, kind: str) -> list[dict]:
        return self.records.get(kind, [])


@dataclass
class FidesImport:
    """The context of reading Fides manifests for an import: the register's records (read
    once, when the first manifest is met) and the warnings of the mapping."""

    lookup: Callable[[], Known] = Known
    warnings: list[str] = field(default_factory=list)
    #: What the manifests met so far resolved or created: the files of one import go
    #: together (a category two files name is created once).
    organizations: set[str] = field(default_factory=set)
    systems: dict[str, str] = field(default_factory=dict)  # ropa key -> the fides_key
    resolved: dict[tuple[str, str], str] = field(default_factory=dict)
    created: dict[str, dict[str, dict]] = field(default_factory=dict)
    _known: Known | None = None

    @classmethod
    def for_registry(cls, registry: Any) -> FidesImport:
        """A context reading the records of a :class:`ropa.registry.Registry`."""
        kinds = ("category", "subject", "purpose", "party", "system", "activity")
        return cls(lambda: Known({kind: registry.list(kind) for kind in kinds}))

    @property
    def known(self) -> Known:
        if self._known is None:
            self._known = self.lookup()
        return self._known


def manifest_document(doc: Any, source: str, context: FidesImport) -> dict:
    """A registry document holding what a Fides manifest says, mapped onto the register's
    records; what has no place in ropa is added to `context.warnings`."""
    if isinstance(doc, list):
        doc = {"system": doc}
    elif "system" not in doc and "organization" not in doc:
        doc = {"system": [doc]}
    mapper = _Mapper(doc, source, context)
    return mapper.document()


class _Mapper:
    def __init__(self, doc: Mapping, source: str, context: FidesImport):
        self.doc = doc
        self.source = source
        self.context = context
        self.known = context.known
        self.out: dict[str, dict[str, dict]] = {
            s: {}
            for s in (
                "parties",
                "categories",
                "subjects",
                "purposes",
                "systems",
                "activities",
            )
        }
        self.problems: list[Problem] = []
        self.taxonomy: dict[str, dict[str, dict]] | None = None
        self.resolved = context.resolved

    def warn(self, where: str, text: str) -> None:
        self.context.warnings.append(f"{self.source}: {where}: {text}")

    # -- taxonomy references -----------------------------------------------------------

    def _entries(self, kind: str) -> dict[str, dict]:
        """Taxonomy entries by fides_key: the manifest's own, then fideslang's."""
        if self.taxonomy is None:
            from ropa.interop.taxonomy import default_taxonomy

            self.taxonomy = {
                k: {e["fides_key"]: e for e in v} for k, v in default_taxonomy().items()
            }
            for k, (section, _) in TAXONOMY.items():
                for raw in self.doc.get(section) or []:
                    if isinstance(raw, Mapping) and raw.get("fides_key"):
                        entry = {
                            "fides_key": str(raw["fides_key"]),
                            "name": raw.get("name") or str(raw["fides_key"]),
                            "description": raw.get("description") or "",
                            "parent_key": raw.get("parent_key"),
                        }
                        self.taxonomy[k][entry["fides_key"]] = entry
        return self.taxonomy[kind]

    def ref(self, kind: str, fides_key: str, where: str) -> str:
        """The key of the record of a kind that a fides_key names; created when missing."""
        found = self.resolved.get((kind, fides_key))
        if found:
            return found
        records = self.known.of(kind)
        key = next((r["key"] for r in records if r.get("fides_key") == fides_key), None)
        if key is None:
            # A record ropa exported without a fides_key goes by its own key (under its
            # parent's fides_key, for a category: fideslang's keys are dotted paths).
            own = fides_key.rsplit(".", 1)[-1] if self._is_custom(kind, fides_key) else fides_key
            key = next(
                (
                    r["key"]
                    for r in records
                    if r["key"] in (fides_key, own) and not r.get("fides_key")
                ),
                None,
            )
        if key is None:
            key = self._create(kind, fides_key, where)
        self.resolved[(kind, fides_key)] = key
        return key

    def _is_custom(self, kind: str, fides_key: str) -> bool:
        """Whether the manifest itself declares a taxonomy entry (not fideslang's)."""
        section = TAXONOMY[kind][0]
        return any(
            isinstance(e, Mapping) and e.get("fides_key") == fides_key
            for e in self.doc.get(section) or []
        )

    def _create(self, kind: str, fides_key: str, where: str) -> str:
        from ropa.interop.taxonomy import as_record

        entry = self._entries(kind).get(fides_key)
        if entry is None:
            self.warn(where, f"{fides_key!r} is in neither the manifest nor fideslang's taxonomy")
            entry = {"fides_key": fides_key, "name": fides_key}
        key = _key(fides_key)
        if any(r["key"] == key for r in self.known.of(kind)):
            key = _key(f"fides-{fides_key}")
        record = as_record(kind, {**entry, "fides_key": fides_key})
        record["key"] = key
        created = self.context.created.setdefault(kind, {})
        names = {fold_case(r["name"]) for r in self.known.of(kind) if r.get("name")}
        names |= {fold_case(r["name"]) for r in created.values()}
        if fold_case(record["name"]) in names:
            record["name"] = f"{record['name']} ({fides_key})"
        parent = entry.get("parent_key")
        record.pop("parent", None)
        self.out[SECTION[kind]][key] = record
        created[key] = record
        if kind == "category" and parent:
            record["parent"] = self.ref("category", parent, where)
        return key

    # -- organizations, systems, declarations ------------------------------------------

    def document(self) -> PartialDocument:
        organizations = [o for o in self.doc.get("organization") or [] if isinstance(o, Mapping)]
        for org in organizations:
            self.organization(org)
        systems = self.doc.get("system") or []
        if not isinstance(systems, list):
            self.problems.append(Problem(f"{self.source}:system", "expected a list of systems"))
            systems = []
        for i, system in enumerate(systems):
            if not isinstance(system, Mapping) or not system.get("fides_key"):
                self.problems.append(
                    Problem(f"{self.source}:system[{i}]", "a system needs a fides_key")
                )
                continue
            self.system(system, organizations)
        if self.problems:
            raise ValidationFailed(self.problems)
        return PartialDocument(
            {"ropa": 1, **{s: list(r.values()) for s, r in self.out.items() if r}}
        )

    def organization(self, org: Mapping) -> None:
        key = _key(str(org.get("fides_key") or "default_organization"))
        party: dict[str, Any] = {"key": key, "name": org.get("name") or key, "kind": "group-member"}
        if org.get("description"):
            party["description"] = org["description"]
        contact = org.get("controller") or {}
        for ours, theirs in (("address", "address"), ("email", "email"), ("phone", "phone")):
            if contact.get(theirs):
                party[ours] = contact[theirs]
        if contact.get("name") and contact["name"] != party["name"]:
            party["notes"] = f"Controller contact (Fides): {contact['name']}"
        for prefix, theirs in (
            ("dpo", "data_protection_officer"),
            ("representative", "representative"),
        ):
            person = org.get(theirs) or {}
            for part in ("name", "email", "phone", "address"):
                if person.get(part) and f"{prefix}_{part}" in PARTY_FIELDS:
                    party[f"{prefix}_{part}"] = person[part]
        if org.get("security_policy"):
            self.warn(f"organization {key}", "security_policy has no place in ropa; not imported")
        self.warn(
            f"organization {key}",
            "Fides records no country; set the party's country (`ropa party edit "
            f"{key} --country CC`)",
        )
        self.out["parties"][key] = party
        self.context.organizations.add(key)

    def system(self, system: Mapping, organizations: list[Mapping]) -> None:
        where = f"system {system['fides_key']}"
        meta = system.get("meta")
        part_of = meta.get(ROPA_SYSTEM) if isinstance(meta, Mapping) else None
        if part_of:  # ropa wrote one system as several, one per group member
            member = str(system.get("organization_fides_key") or "")
            if system["fides_key"] != member_system_key(str(part_of), member):
                self.problems.append(
                    Problem(
                        f"{self.source}:{where}",
                        f"meta.{ROPA_SYSTEM} {part_of!r} joins only the systems ropa writes "
                        f"for one system's group members ({part_of}-MEMBER)",
                    )
                )
                return
            self._declarations(system, _key(str(part_of)), organizations, where)
            return
        key = _key(str(system["fides_key"]))
        other = self.context.systems.setdefault(key, str(system["fides_key"]))
        if other != system["fides_key"]:
            self.problems.append(
                Problem(
                    f"{self.source}:{where}",
                    f"fides_keys {other!r} and {system['fides_key']!r} both make the ropa key "
                    f"{key!r}; change one of them",
                )
            )
            return
        record: dict[str, Any] = {"key": key, "name": system.get("name") or key}
        if system.get("description"):
            record["description"] = system["description"]
        if system.get("system_type") != NO_SYSTEM:
            self.out["systems"][key] = record
        for name, value in system.items():
            if name not in SYSTEM_FIELDS and value not in (None, "", [], {}, False):
                self.warn(where, f"{name} has no place in ropa; not imported")
        for name in ("dpo", "data_security_practices"):
            if system.get(name):
                self.warn(where, f"{name} has no place in an activity; not imported")
        if system.get("does_international_transfers"):
            bases = ", ".join(map(str, _as_list(system.get("legal_basis_for_transfers")))) or "none"
            self.warn(
                where,
                f"does_international_transfers: Fides names no destination countries (legal "
                f"basis for transfers: {bases}); record them (`ropa activity edit KEY "
                "--transfer COUNTRY:MECHANISM`)",
            )
        self._declarations(system, key, organizations, where)

    def _declarations(
        self, system: Mapping, key: str, organizations: list[Mapping], where: str
    ) -> None:
        """The system's privacy declarations as activities of system `key`."""
        controller = self.controller(system, organizations)
        declarations = system.get("privacy_declarations") or []
        for i, declaration in enumerate(declarations):
            if not isinstance(declaration, Mapping) or not declaration.get("data_use"):
                self.problems.append(
                    Problem(
                        f"{self.source}:{where}:privacy_declarations[{i}]",
                        "a privacy declaration needs a data_use",
                    )
                )
                continue
            self.declaration(system, key, declaration, controller)

    def controller(self, system: Mapping, organizations: list[Mapping]) -> str | None:
        """The group member of a system: its organization_fides_key (fideslang's default is
        default_organization) among the organizations of this import or the register's
        group members; else the one organization of this import."""
        wanted = _key(str(system.get("organization_fides_key") or "default_organization"))
        members = {r["key"] for r in self.known.of("party") if r.get("kind") == "group-member"}
        orgs = self.context.organizations
        if wanted in orgs or wanted in members:
            return wanted
        if len(orgs) == 1 and not system.get("organization_fides_key"):
            return next(iter(orgs))
        return None

    def declaration(
        self, system: Mapping, system_key: str, declaration: Mapping, controller: str | None
    ) -> None:
        use = str(declaration["data_use"])
        where = f"system {system['fides_key']}, declaration {declaration.get('name') or use}"
        purpose = self.ref("purpose", use, where)  # for the name; see `pick` below
        use_name = self.out["purposes"].get(purpose, {}).get("name") or next(
            (r["name"] for r in self.known.of("purpose") if r["key"] == purpose), use
        )
        name = declaration.get("name") or f"{system.get('name') or system_key} — {use_name}"
        # One activity may come back as several declarations (one per system and data
        # use): its name, unique among activities, brings them together again.
        existing = next(
            (r for r in self.known.of("activity") if fold_case(r["name"]) == fold_case(str(name))),
            None,
        )
        earlier = next(
            (
                k
                for k, r in self.out["activities"].items()
                if fold_case(r["name"]) == fold_case(str(name))
            ),
            None,
        )
        key = existing["key"] if existing else earlier or self._new_activity_key(system_key, use)
        activity: dict[str, Any] = self.out["activities"].setdefault(key, {"key": key})
        activity["name"] = name
        for name_, value in declaration.items():
            if name_ not in DECLARATION_FIELDS and value not in (None, "", [], {}, False):
                self.warn(where, f"{name_} has no place in ropa; not imported")
        if system.get("responsibility"):
            roles = _as_list(system["responsibility"])
            role = ROLE.get(str(roles[0]).lower()) if roles else None
            if role:
                activity["role"] = role
        if controller:
            activity["controller"] = controller
        department = system.get("administrating_department")
        if department and department != "Not defined":
            activity["business_function"] = department

        def pick(kind: str, fides_key: str, field_name: str) -> list[str]:
            # Several records may carry one fides_key (website users and app users are both
            # fideslang's `customer`): an activity already in the register keeps its own.
            if existing is not None:
                mine = [
                    r["key"]
                    for r in self.known.of(kind)
                    if r.get("fides_key") == fides_key and r["key"] in existing[field_name]
                ]
                if mine:
                    return mine
            return [self.ref(kind, fides_key, where)]

        _add(activity, "purposes", pick("purpose", use, "purposes"))
        if system.get("system_type") != NO_SYSTEM:
            _add(activity, "systems", [system_key])
        for kind in ("category", "subject"):
            items = declaration.get(TAXONOMY[kind][1]) or []
            field_name = "data_categories" if kind == "category" else "data_subjects"
            _add(activity, field_name, [k for i in items for k in pick(kind, str(i), field_name)])
        self.bases(activity, declaration, where)
        self.retention(activity, declaration, where)
        third = declaration.get("third_parties")
        if third:
            _add(activity, "recipients", [self.party(n.strip()) for n in str(third).split(";")])
        elif declaration.get("data_shared_with_third_parties"):
            self.warn(where, "data_shared_with_third_parties without third_parties named")
        # The system's DPIA is the declaration's only where no declaration names its own.
        own = any(d.get("impact_assessment_location") for d in system["privacy_declarations"])
        dpia = declaration.get("impact_assessment_location") or (
            None if own else system.get("dpa_location")
        )
        if dpia:
            activity["dpia_link"] = dpia
        if system.get("requires_data_protection_assessments"):
            activity["dpia_required"] = "yes"
        if system.get("uses_profiling"):
            bases = ", ".join(map(str, _as_list(system.get("legal_basis_for_profiling"))))
            activity["automated_decisions"] = "Profiling (Fides: uses_profiling)" + (
                f"; legal basis for profiling: {bases}" if bases else ""
            )
        flows = _flows(system) + _flows(declaration)
        if flows:
            activity["notes"] = "Data flows (Fides): " + "; ".join(flows)
        if existing is None:
            missing = self.missing(activity)
            if missing:
                activity["status"] = "draft"
                self.warn(where, f"no {', '.join(missing)}; the activity is imported as draft")
        else:
            _keep_what_ropa_holds(activity, existing)

    def bases(self, activity: dict, declaration: Mapping, where: str) -> None:
        basis = declaration.get("legal_basis_for_processing")
        if basis:
            code = LAWFUL_BASIS.get(str(basis).strip().lower())
            if code:
                _add(activity, "lawful_bases", [code])
            else:
                self.warn(where, f"legal_basis_for_processing {basis!r} is not an Art. 6 basis")
        condition = declaration.get("special_category_legal_basis")
        if condition:
            code = ART9_CONDITION.get(str(condition).strip().lower())
            if code:
                _add(activity, "art9_conditions", [code])
            else:
                self.warn(where, f"special_category_legal_basis {condition!r} is not known")

    def retention(self, activity: dict, declaration: Mapping, where: str) -> None:
        period = str(declaration.get("retention_period") or "").strip()
        if not period or period == "0":
            self.warn(where, "no retention_period; record the retention rule")
            return
        if period.isdigit():
            rule = {"duration": f"P{int(period)}D"}
        elif re.fullmatch(r"P(\d+[YMWD])+", period):
            rule = {"duration": period}
        else:
            rule = {"criteria": period}
        activity["retention"] = [rule]

    def _new_activity_key(self, system_key: str, use: str) -> str:
        """SYSTEM.USE, or SYSTEM.USE-2… when another activity of the register or of this
        import holds it: declarations of one system and data use named apart are activities
        apart (one key would make them one)."""
        key = self._unused("activity", _key(f"{system_key}.{use}"))
        self.context.created["activity"][key] = {"key": key}
        return key

    def _unused(self, kind: str, base: str) -> str:
        """`base`, or `base-2`, `base-3`… : the first key of `kind` that neither the register
        nor this import holds."""
        taken = {r["key"] for r in self.known.of(kind)}
        taken |= set(self.context.created.setdefault(kind, {}))
        key, n = base, 1
        while key in taken:
            n += 1
            key = _key(f"{base}-{n}")
        return key

    def party(self, name: str) -> str:
        created = self.context.created.setdefault("party", {})
        for r in [*self.known.of("party"), *created.values()]:
            if fold_case(r["name"]) == fold_case(name):
                return r["key"]
        # Keyed from its name, but never by a key another party holds (a stored one of
        # another name, or one a manifest of this import made): that would rename or merge
        # them.
        key = self._unused("party", _key(plain_letters(name), fallback="party"))
        created[key] = self.out["parties"][key] = {"key": key, "name": name, "kind": "other"}
        return key

    def missing(self, activity: dict) -> list[str]:
        needs = [
            ("controller", "controller"),
            ("data_categories", "data categories"),
            ("data_subjects", "data subjects"),
        ]
        if activity.get("role", "controller") != "processor":
            needs.append(("lawful_bases", "legal_basis_for_processing"))
        return [label for name, label in needs if not activity.get(name)]


PARTY_FIELDS = {
    "dpo_name",
    "dpo_email",
    "dpo_phone",
    "representative_name",
    "representative_email",
    "representative_address",
}


def _keep_what_ropa_holds(activity: dict, existing: Mapping) -> None:
    """A manifest adds to an activity already in the register: its lists grow, its empty
    fields are filled, and nothing ropa holds is overwritten (Fides holds less: one legal
    basis per declaration, no transfer countries, retention as one figure)."""
    for name in list(activity):
        before = existing.get(name)
        if name in ("key", "name") or before in (None, "", [], False):
            continue
        if isinstance(before, list) and name != "retention":
            activity[name] = sorted({*before, *activity[name]})
        else:
            del activity[name]


def _as_list(value: Any) -> list:
    """A Fides field that may hold one value or a list (the API and manifests differ)."""
    if value in (None, ""):
        return []
    return list(value) if isinstance(value, list) else [value]


def _add(record: dict, name: str, values: list[str]) -> None:
    record[name] = sorted({*record.get(name, []), *values})


def _flows(item: Mapping) -> list[str]:
    flows = []
    for direction, word in (("egress", "to"), ("ingress", "from")):
        for flow in item.get(direction) or []:
            if isinstance(flow, Mapping):
                flows.append(f"{direction} {word} {flow.get('fides_key')} ({flow.get('type')})")
            else:
                flows.append(f"{direction} {word} {flow}")
    return flows


def _key(text: str, fallback: str = "fides") -> str:
    """A ropa key from a fides_key (or any text): allowed characters, at most 64 long;
    `fallback` when none of them is left."""
    key = KEY_CHARS.sub("-", text).strip("-._") or fallback
    if len(key) > 64:
        key = key[:55].rstrip("-._") + "-" + hashlib.sha1(text.encode()).hexdigest()[:8]
    return key
