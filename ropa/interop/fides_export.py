"""The register as a Fides manifest, and checking a manifest with fideslang's own models."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ropa import words
from ropa.errors import Problem, ValidationFailed
from ropa.interop.fides import (
    ART9_CONDITION,
    NO_SYSTEM,
    ROPA_SYSTEM,
    SECTION,
    TAXONOMY,
    member_system_key,
)
from ropa.schema import of_member, told_by

LAWFUL_BASIS_OUT = {
    "consent": "Consent",
    "contract": "Contract",
    "legal-obligation": "Legal obligations",
    "vital-interests": "Vital interests",
    "public-task": "Public interest",
    "legitimate-interests": "Legitimate interests",
}
PROFILING_BASES = ("Explicit consent", "Contract", "Authorised by law")


def fides_manifest(document: Mapping, entity: str | None = None) -> tuple[dict, list[str]]:
    """The register (a registry document) as a Fides manifest: the group members as
    organizations, every system with a privacy declaration per activity and purpose,
    taxonomy keys where records carry a fides_key and custom taxonomy entries for those
    that do not. Retired activities are left out; an activity without a system gets a
    system of its own. Returns the manifest and warnings about what Fides cannot hold."""
    by = {s: {r["key"]: r for r in document.get(s) or []} for s in SECTIONS_OUT}
    activities = [
        a if entity is None else told_by(a, entity)  # the member's own manifest
        for a in by["activities"].values()
        if a.get("status", "active") != "retired" and (entity is None or of_member(a, entity))
    ]
    warnings: list[str] = []
    custom: dict[str, dict[str, dict]] = {kind: {} for kind in TAXONOMY}

    def fides_key(kind: str, key: str) -> str:
        record = by[SECTION[kind]].get(key, {"key": key, "name": key})
        if record.get("fides_key"):
            return record["fides_key"]
        if key in custom[kind]:
            return custom[kind][key]["fides_key"]
        entry = {"fides_key": key, "name": record["name"], "is_default": False}
        if record.get("description"):
            entry["description"] = record["description"]
        if kind == "category" and record.get("parent"):
            # fideslang's keys are paths: a child's key starts with its parent's
            entry["parent_key"] = fides_key("category", record["parent"])
            entry["fides_key"] = f"{entry['parent_key']}.{key}"
        custom[kind][key] = entry
        return entry["fides_key"]

    systems: dict[str, dict] = {}
    # Fides gives a system one organization: a system the activities of several group
    # members use goes out once per member (ropa key -> controller -> fides_key).
    owners: dict[str, dict[str | None, str]] = {}
    for activity in sorted(activities, key=lambda a: a["key"]):
        for system_key in activity.get("systems") or [None]:
            ident, controller = system_key or activity["key"], activity.get("controller")
            by_controller = owners.setdefault(ident, {})
            out_key = by_controller.get(controller) or (
                next(iter(by_controller.values())) if controller is None and by_controller else None
            )
            if out_key is None:
                out_key = member_system_key(ident, str(controller)) if by_controller else ident
                by_controller[controller] = out_key
                system = _system_out(
                    activity, by["systems"].get(system_key) if system_key else None
                )
                if out_key != ident:
                    member = by["parties"].get(controller, {}).get("name", controller)
                    system.update(fides_key=out_key, name=f"{system['name']} ({member})")
                    system["meta"] = {ROPA_SYSTEM: ident}  # one system again on import
                systems[out_key] = system
            _declare(systems[out_key], activity, fides_key, by["parties"], warnings)
    for ident, by_controller in owners.items():
        if len(by_controller) > 1:
            written = [f"{key} ({member})" for member, key in by_controller.items()]
            warnings.append(
                f"system {ident}: used by activities of {len(by_controller)} group members; "
                f"Fides gives a system one organization: written as {words.join(written)}"
            )
    members = sorted({a["controller"] for a in activities if a.get("controller")})
    manifest: dict[str, Any] = {
        "organization": [_organization_out(by["parties"][k]) for k in members if k in by["parties"]]
    }
    manifest["system"] = [systems[k] for k in sorted(systems)]
    for kind, (section, _) in TAXONOMY.items():
        if custom[kind]:
            manifest[section] = [custom[kind][k] for k in sorted(custom[kind])]
    return manifest, list(dict.fromkeys(warnings))


SECTIONS_OUT = ("parties", "categories", "subjects", "purposes", "systems", "activities")


def _system_out(activity: Mapping, system: Mapping | None) -> dict:
    if system is None:
        return {
            "fides_key": activity["key"],
            "name": f"{activity['name']} (no system recorded)",
            "system_type": NO_SYSTEM,
            "privacy_declarations": [],
        }
    out = {"fides_key": system["key"], "name": system["name"]}
    if system.get("description"):
        out["description"] = system["description"]
    return {**out, "system_type": "Service", "privacy_declarations": []}


def _declare(
    system: dict,
    activity: Mapping,
    fides_key: Callable[[str, str], str],
    parties: Mapping[str, Mapping],
    warnings: list[str],
) -> None:
    where = f"activity {activity['key']}"
    if activity.get("controller") and "organization_fides_key" not in system:
        system["organization_fides_key"] = activity["controller"]
    role = "Processor" if activity.get("role") == "processor" else "Controller"
    system.setdefault("responsibility", [])
    if role not in system["responsibility"]:
        system["responsibility"].append(role)
    if activity.get("business_function"):
        system.setdefault("administrating_department", activity["business_function"])
    if activity.get("automated_decisions"):
        system["uses_profiling"] = True
        text = activity["automated_decisions"].lower()
        bases = [b for b in PROFILING_BASES if b.lower() in text]
        system["legal_basis_for_profiling"] = sorted(
            {*system.get("legal_basis_for_profiling", []), *bases}
        )
    if activity.get("dpia_link"):
        system.setdefault("dpa_location", activity["dpia_link"])
    if activity.get("dpia_required") == "yes":
        system["requires_data_protection_assessments"] = True
    if activity.get("transfers"):
        system["does_international_transfers"] = True
        warnings.append(
            f"{where}: Fides holds no transfer destinations; the transfers are left out"
        )
    bases = activity.get("lawful_bases") or []
    conditions = activity.get("art9_conditions") or []
    if len(bases) > 1 or len(conditions) > 1:
        warnings.append(
            f"{where}: Fides holds one legal basis per declaration; the first is written"
        )
    recipients = [parties[k]["name"] for k in activity.get("recipients") or [] if k in parties]
    for purpose in activity.get("purposes") or []:
        declaration: dict[str, Any] = {
            "name": activity["name"],
            "data_use": fides_key("purpose", purpose),
            "data_categories": [
                fides_key("category", k) for k in activity.get("data_categories") or []
            ],
            "data_subjects": [fides_key("subject", k) for k in activity.get("data_subjects") or []],
        }
        if bases:
            declaration["legal_basis_for_processing"] = LAWFUL_BASIS_OUT[bases[0]]
        if conditions:
            declaration["processes_special_category_data"] = True
            wording = {v: k for k, v in ART9_CONDITION.items()}[conditions[0]]
            declaration["special_category_legal_basis"] = _enum_wording(wording)
        period = _retention_out(activity.get("retention") or [])
        if period:
            declaration["retention_period"] = period
        if recipients:
            declaration["data_shared_with_third_parties"] = True
            declaration["third_parties"] = "; ".join(recipients)
            for name in (r for r in recipients if ";" in r):
                warnings.append(
                    f"{where}: recipient {name!r} holds ';', which parts the names in Fides' "
                    "third_parties: a Fides import reads it as several parties"
                )
        if activity.get("dpia_link"):
            declaration["impact_assessment_location"] = activity["dpia_link"]
        system["privacy_declarations"].append(declaration)


def _enum_wording(lowered: str) -> str:
    from fideslang.models import SpecialCategoryLegalBasisEnum

    return next(e.value for e in SpecialCategoryLegalBasisEnum if e.value.lower() == lowered)


def _retention_out(rules: list[Mapping]) -> str | None:
    for rule in rules:
        if rule.get("data_category"):
            continue
        duration = rule.get("duration")
        if duration:
            days = re.fullmatch(r"P(\d+)D", duration)
            return days.group(1) if days else duration
        if rule.get("criteria"):
            return rule["criteria"]
    return None


def _organization_out(party: Mapping) -> dict:
    out: dict[str, Any] = {"fides_key": party["key"], "name": party["name"]}
    if party.get("description"):
        out["description"] = party["description"]
    contact = {"name": party["name"]}
    contact |= {k: party[k] for k in ("address", "email", "phone") if party.get(k)}
    out["controller"] = contact
    for prefix, theirs in (
        ("dpo", "data_protection_officer"),
        ("representative", "representative"),
    ):
        person = {
            part: party[f"{prefix}_{part}"]
            for part in ("name", "email", "phone", "address")
            if party.get(f"{prefix}_{part}")
        }
        if person:
            out[theirs] = person
    return out


def validate_manifest(manifest: Mapping) -> None:
    """Check a manifest with fideslang's own models; raises ValidationFailed naming each
    entry fideslang refuses."""
    from fideslang.models import Taxonomy
    from pydantic import ValidationError

    try:
        Taxonomy.model_validate(manifest)
    except ValidationError as e:
        raise ValidationFailed(
            [
                Problem(".".join(map(str, err["loc"])), f"fideslang: {err['msg']}")
                for err in e.errors()
            ]
        ) from None


def manifest_text(manifest: Mapping, suffix: str) -> str:
    """A manifest as JSON (for a .json file) or YAML text."""
    if suffix == ".json":
        import json

        return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    from ropa.io.document import dump_yaml

    return dump_yaml(manifest)
