"""Reference data shipped in data/reference/: countries, the EEA, adequacy decisions (the EU's
and the UK's "data bridges"), supervisory authorities, and the regime a group member is under.

Every entry names the legal instrument behind it; checks, the notice and the record read these
facts instead of hard-coding countries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from ropa.words import plain_letters

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


EU_GDPR = "eu-gdpr"
UK_GDPR = "uk-gdpr"


@cache
def eea() -> frozenset[str]:
    """ISO codes of the EEA: the EU member states, the EFTA states of the EEA, and the parts of
    member states with their own ISO codes (outermost regions, Åland)."""
    data = _load("eea.yaml")
    return frozenset(
        code
        for group in ("eu_member_states", "efta_eea", "eu_regions")
        for code in data[group]["countries"]
    )


@dataclass(frozen=True)
class Adequacy:
    """An adequacy decision (or UK adequacy regulations) for a country or an international
    organisation, with its legal instrument."""

    country: str
    name: str
    instrument: str = ""
    date: date | None = None
    scope: str = ""
    requires: str = ""
    valid_until: date | None = None
    aliases: tuple[str, ...] = ()


def _adequacies(name: str) -> tuple[dict[str, Adequacy], dict[str, Adequacy]]:
    data = _load(name)
    countries = {row["country"]: Adequacy(**row) for row in data["countries"]}
    organisations = {}
    for row in data.get("international_organisations") or []:
        decision = Adequacy(INTL, **{**row, "aliases": tuple(row.get("aliases", ()))})
        for spelling in (decision.name, *decision.aliases):
            organisations[spelling.lower()] = decision
    return countries, organisations


@cache
def adequacy(regime: str = EU_GDPR) -> dict[str, Adequacy]:
    """Adequacy decisions by ISO country code: the EU's (Art. 45), or under `uk-gdpr` the UK's
    adequacy regulations, the "data bridges" (the EEA states included)."""
    if regime == UK_GDPR:
        countries, _ = _adequacies("uk_adequacy.yaml")
        bridge = _load("uk_adequacy.yaml")["eea"]
        for code in sorted(eea()):
            countries.setdefault(
                code, Adequacy(code, country_name(code), bridge["instrument"], bridge["date"])
            )
        return countries
    return _adequacies("adequacy.yaml")[0]


@cache
def adequate_international_organisations(regime: str = EU_GDPR) -> dict[str, Adequacy]:
    """International organisations with an adequacy decision, by lower-cased name or alias."""
    return _adequacies("uk_adequacy.yaml" if regime == UK_GDPR else "adequacy.yaml")[1]


def home_area(regime: str) -> frozenset[str]:
    """Where data can go without a transfer: the EEA under the EU GDPR, the UK under the UK
    GDPR."""
    return frozenset({"GB"}) if regime == UK_GDPR else eea()


def home_area_name(regime: str, short: bool = True) -> str:
    """The home area in words: "the EEA" (in full: "the European Economic Area") or "the
    United Kingdom"."""
    if regime == UK_GDPR:
        return "the United Kingdom"
    return "the EEA" if short else "the European Economic Area"


def effective_regime(party: dict | None) -> str:
    """The data protection law a group member is under: its `regime`, else `uk-gdpr` for a
    party in GB and `eu-gdpr` for any other (or none)."""
    if not party:
        return EU_GDPR
    if party.get("regime"):
        return party["regime"]
    return UK_GDPR if party.get("country") == "GB" else EU_GDPR


@dataclass(frozen=True)
class Authority:
    """A supervisory authority: where people complain."""

    key: str
    country: str
    name: str
    website: str
    instrument: str = ""
    default: bool = False


@cache
def supervisory_authorities() -> dict[str, Authority]:
    """The supervisory authorities of the EEA states, the UK and Switzerland, by key."""
    return {
        row["key"]: Authority(**row) for row in _load("supervisory_authorities.yaml")["authorities"]
    }


def supervisory_authority(party: dict | None) -> Authority | None:
    """A group member's lead supervisory authority: its `supervisory_authority`, else its
    country's one authority; None where the country has several and none is chosen."""
    if not party:
        return None
    authorities = supervisory_authorities()
    chosen = party.get("supervisory_authority")
    if chosen:
        return authorities.get(chosen)
    defaults = [a for a in authorities.values() if a.country == party.get("country") and a.default]
    return defaults[0] if len(defaults) == 1 else None


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
        close = [f"{c} ({country_name(c)})" for c in suggest_countries(value)]
        did = f" (did you mean: {', '.join(close)}?)" if close else ""
        raise ValueError(
            f"{value!r} is not an ISO 3166-1 country code or name{did}; use a code{hint}"
        )
    return found.alpha_2


def _fold(text: str) -> str:
    """Lower case without accents: "Türkiye" -> "turkiye"."""
    return plain_letters(text).strip()


@cache
def _country_spellings() -> dict[str, str]:
    """Every name a country goes by (pycountry's names and the common English and native names
    of data/reference/country_names.yaml), folded, to its code."""
    import pycountry

    spellings: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("name", "common_name", "official_name"):
            name = getattr(country, attribute, None)
            if name:
                spellings.setdefault(_fold(name), country.alpha_2)
    for name, code in _load("country_names.yaml")["names"].items():
        spellings[_fold(name)] = "NO" if code is False else code
    return spellings


def suggest_countries(text: str, n: int = 3) -> list[str]:
    """The codes of the countries whose names are closest to `text` ("Turkey" -> TR,
    "Korea" -> KR, KP, "Deutschland" -> DE), best first."""
    import difflib
    import re

    spellings = _country_spellings()
    wanted = _fold(text)
    if wanted in spellings:  # a known name: it, and the countries named with it as a word
        word = re.compile(rf"\b{re.escape(wanted)}\b")
        codes = [spellings[wanted]] + [c for name, c in spellings.items() if word.search(name)]
    else:
        close = difflib.get_close_matches(wanted, list(spellings), n=n * 3, cutoff=0.75)
        codes = [spellings[name] for name in close]
    return list(dict.fromkeys(codes))[:n]


@cache
def country_name(code: str) -> str:
    """The English short name of a country code ("International organisation" for INTL)."""
    import pycountry

    if code == INTL:
        return "International organisation"
    found = pycountry.countries.get(alpha_2=code)
    return getattr(found, "common_name", None) or found.name if found else code
