"""The outside files of the interoperability tests (`../shared/interop/`): Fides manifests
and the W3C DPV 2.2 vocabularies. A checkout without that folder skips those tests with a
reason; CI, which always has it, fails instead."""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import ROOT

INTEROP = ROOT.parent / "shared" / "interop"
FIDES = INTEROP / "fides"
DPV = INTEROP / "dpv"
NAMESPACES = {
    "dpv": "https://w3id.org/dpv#",
    "eu-gdpr": "https://w3id.org/dpv/legal/eu/gdpr#",
    "pd": "https://w3id.org/dpv/pd#",
}


def interop_file(*parts: str) -> Path:
    """A file under ../shared/interop/; skips the test where the folder is absent outside CI."""
    if not INTEROP.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{INTEROP} is missing in CI")
        pytest.skip(f"{INTEROP} is absent: the interoperability files are not checked out")
    return INTEROP.joinpath(*parts)


@cache
def _defined_terms(folder: str) -> frozenset[str]:
    terms = set()
    for name in ("dpv.ttl", "eu-gdpr.ttl", "pd.ttl"):
        text = Path(folder, name).read_text(encoding="utf-8")
        terms |= {
            NAMESPACES[m.group(1)] + m.group(2)
            for m in re.finditer(r"^(dpv|eu-gdpr|pd):(\S+) a ", text, re.MULTILINE)
        }
    return frozenset(terms)


def defined_terms() -> frozenset[str]:
    """Every IRI the DPV 2.2 vocabularies (core, GDPR extension, personal data) define: the
    subjects of their `X a …` statements."""
    return _defined_terms(str(interop_file("dpv")))
