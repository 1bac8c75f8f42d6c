"""Reference data shipped in data/reference/: countries, the EEA, adequacy decisions."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
REFERENCE_DIR = DATA_DIR / "reference"
SAMPLE_DIR = DATA_DIR / "sample"
INTL = "INTL"  # an international organisation, named as the recipient
#: Codes people use that ISO 3166 spells otherwise.
COUNTRY_ALIASES = {"UK": "GB", "EL": "GR"}


def _load(name: str) -> Any:
    import yaml

    with open(REFERENCE_DIR / name, encoding="utf-8") as f:
        return yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@cache
def eea() -> frozenset[str]:
    """ISO codes of the EEA countries."""
    data = _load("eea.yaml")
    return frozenset(data["eu_member_states"]) | frozenset(data["efta_eea"])


@dataclass(frozen=True)
class Adequacy:
    country: str
    name: str
    scope: str = ""
    requires: str = ""


@cache
def adequacy() -> dict[str, Adequacy]:
    """Adequacy decisions by ISO country code."""
    return {row["country"]: Adequacy(**row) for row in _load("adequacy.yaml")["countries"]}


@cache
def adequate_international_organisations() -> frozenset[str]:
    """Lower-cased names of international organisations with an adequacy decision."""
    return frozenset(
        row["name"].lower() for row in _load("adequacy.yaml")["international_organisations"]
    )


@cache  # a large import names the same few dozen countries over and over
def parse_country(text: str, allow_intl: bool = True) -> str:
    """The ISO 3166-1 alpha-2 code for a code, alpha-3 code or country name.

    Raises ValueError with a readable message when nothing matches.
    """
    import pycountry

    value = str(text).strip()
    upper = value.upper()
    if allow_intl and upper == INTL:
        return INTL
    upper = COUNTRY_ALIASES.get(upper, upper)
    found = None
    if len(upper) == 2:
        found = pycountry.countries.get(alpha_2=upper)
    elif len(upper) == 3:
        found = pycountry.countries.get(alpha_3=upper)
    if found is None and len(value) > 3:
        try:
            found = pycountry.countries.lookup(value)
        except LookupError:
            found = None
    if found is None:
        hint = " or INTL for an international organisation" if allow_intl else ""
        raise ValueError(f"{value!r} is not an ISO 3166-1 country code{hint}")
    return found.alpha_2


@cache
def country_name(code: str) -> str:
    """The English short name of a country code ("International organisation" for INTL)."""
    import pycountry

    if code == INTL:
        return "International organisation"
    found = pycountry.countries.get(alpha_2=code)
    return getattr(found, "common_name", None) or found.name if found else code
