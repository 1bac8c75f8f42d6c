"""Fixed code lists of the register: codes, labels with their article, W3C DPV IRIs.

Every human-readable output uses the labels from here; every importer, CLI option and check
uses the codes from here. Imports also accept article spellings ("6(1)(f)", "Art. 9(2)(h)")
and labels, resolved by :meth:`CodeList.parse`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

GDPR = "https://w3id.org/dpv/legal/eu/gdpr#"
DPV = "https://w3id.org/dpv#"


@dataclass(frozen=True)
class Code:
    """One code of a code list."""

    code: str
    label: str
    article: str = ""
    iri: str = ""
    #: the data protection regime the code belongs to (`eu-gdpr`, `uk-gdpr`); empty: both
    regime: str = ""

    @property
    def title(self) -> str:
        """The label with its article, as shown to people: "Consent, Art. 6(1)(a)"; a UK
        GDPR code cites the UK GDPR."""
        return self.title_in(self.regime)

    def title_in(self, regime: str) -> str:
        """The title citing the articles of `regime`'s law: under `uk-gdpr`, "Adequacy
        decision, Art. 45 UK GDPR"."""
        if not self.article:
            return self.label
        law = " UK GDPR" if regime == "uk-gdpr" else ""
        return f"{self.label}, Art. {self.article}{law}"

    def valid_in(self, regime: str) -> bool:
        """Whether the code can be relied on under `regime`."""
        return not self.regime or self.regime == regime


def _norm(text: str) -> str:
    text = text.strip().lower()
    text = re.sub(r"^(article|art\.?)\s*", "", text)
    text = text.replace("gdpr", "")
    return re.sub(r"[\s_]+", "", text).replace("–", "-")


@dataclass(frozen=True)
class CodeList:
    """An ordered, closed list of codes with the spellings an import accepts for each."""

    name: str
    codes: tuple[Code, ...]
    aliases: dict[str, str] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Code]:
        return iter(self.codes)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in self._positions

    @property
    def values(self) -> list[str]:
        return [c.code for c in self.codes]

    def get(self, code: str) -> Code:
        for c in self.codes:
            if c.code == code:
                return c
        raise KeyError(code)

    def label(self, code: str, regime: str = "") -> str:
        """The code's title; with a regime, citing that regime's law."""
        found = self.get(code)
        return found.title_in(regime) if regime else found.title

    def order(self, code: str) -> int:
        return self._positions[code]

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {c.code: i for i, c in enumerate(self.codes)}

    def parse(self, text: str) -> str | None:
        """The code for a code, an article spelling or a label; None if nothing matches."""
        spellings = self._spellings
        found = spellings.get(text)  # most imports give the code itself
        if found is not None:
            return found
        wanted = _norm(text)
        if not wanted:
            return None
        return spellings.get(wanted) or self.aliases.get(wanted)

    @cached_property
    def _spellings(self) -> dict[str, str]:
        """Every spelling of every code, normalised, and the codes themselves."""
        spellings: dict[str, str] = {}
        for c in self.codes:
            for spelling in (c.code, c.label, c.title, c.article):
                if spelling:
                    spellings.setdefault(_norm(spelling), c.code)
        for c in self.codes:
            spellings[c.code] = c.code
        return spellings


def _article_codes(rows: list[tuple[str, str, str]]) -> tuple[Code, ...]:
    """Codes whose DPV IRI follows from the article: 6(1)(f) -> gdpr#A6-1-f."""
    return tuple(
        Code(code, label, article, GDPR + "A" + re.sub(r"[()]+", "-", article).strip("-"))
        for code, label, article in rows
    )


LAWFUL_BASES = CodeList(
    "lawful basis",
    _article_codes(
        [
            ("consent", "Consent", "6(1)(a)"),
            ("contract", "Contract", "6(1)(b)"),
            ("legal-obligation", "Legal obligation", "6(1)(c)"),
            ("vital-interests", "Vital interests", "6(1)(d)"),
            ("public-task", "Public task", "6(1)(e)"),
            ("legitimate-interests", "Legitimate interests", "6(1)(f)"),
        ],
    ),
    aliases={
        "contracts": "contract",
        "compliance": "legal-obligation",
        "legalobligations": "legal-obligation",
        "legitimateinterest": "legitimate-interests",
        "a": "consent",
        "b": "contract",
        "c": "legal-obligation",
        "d": "vital-interests",
        "e": "public-task",
        "f": "legitimate-interests",
    },
)

ART9_CONDITIONS = CodeList(
    "Art. 9 condition",
    _article_codes(
        [
            ("explicit-consent", "Explicit consent", "9(2)(a)"),
            ("employment-social-security", "Employment and social security law", "9(2)(b)"),
            ("vital-interests", "Vital interests", "9(2)(c)"),
            ("not-for-profit", "Not-for-profit body", "9(2)(d)"),
            ("made-public", "Manifestly made public by the data subject", "9(2)(e)"),
            ("legal-claims", "Legal claims or judicial acts", "9(2)(f)"),
            ("substantial-public-interest", "Substantial public interest", "9(2)(g)"),
            ("health-social-care", "Health or social care", "9(2)(h)"),
            ("public-health", "Public health", "9(2)(i)"),
            (
                "archiving-research-statistics",
                "Archiving, research or statistics",
                "9(2)(j)",
            ),
        ],
    ),
)

TRANSFER_MECHANISMS = CodeList(
    "transfer mechanism",
    (
        Code("adequacy", "Adequacy decision", "45", GDPR + "A45-3"),
        Code("scc", "Standard contractual clauses", "46(2)(c)", GDPR + "A46-2-c", "eu-gdpr"),
        Code(
            "scc-sa",
            "Standard data protection clauses adopted by a supervisory authority",
            "46(2)(d)",
            GDPR + "A46-2-d",
        ),
        Code("bcr", "Binding corporate rules", "46(2)(b)", GDPR + "A46-2-b"),
        Code("code-of-conduct", "Approved code of conduct", "46(2)(e)", GDPR + "A46-2-e"),
        Code("certification", "Approved certification mechanism", "46(2)(f)", GDPR + "A46-2-f"),
        Code(
            "public-authority-instrument",
            "Legally binding instrument between public authorities",
            "46(2)(a)",
            GDPR + "A46-2-a",
        ),
        Code(
            "ad-hoc-clauses",
            "Contractual clauses authorised by a supervisory authority",
            "46(3)(a)",
            GDPR + "A46-3-a",
        ),
        Code(
            "administrative-arrangement",
            "Administrative arrangement between public authorities",
            "46(3)(b)",
            GDPR + "A46-3-b",
        ),
        Code(
            "derogation-consent", "Explicit consent to the transfer", "49(1)(a)", GDPR + "A49-1-a"
        ),
        Code("derogation-contract", "Contract with the data subject", "49(1)(b)", GDPR + "A49-1-b"),
        Code(
            "derogation-contract-interest",
            "Contract in the interest of the data subject",
            "49(1)(c)",
            GDPR + "A49-1-c",
        ),
        Code(
            "derogation-public-interest",
            "Important reasons of public interest",
            "49(1)(d)",
            GDPR + "A49-1-d",
        ),
        Code("derogation-legal-claims", "Legal claims", "49(1)(e)", GDPR + "A49-1-e"),
        Code("derogation-vital-interests", "Vital interests", "49(1)(f)", GDPR + "A49-1-f"),
        Code("derogation-public-register", "Public register", "49(1)(g)", GDPR + "A49-1-g"),
        Code(
            "compelling-legitimate-interests",
            "Compelling legitimate interests",
            "49(1) second subparagraph",
            GDPR + "A49-2",
        ),
        Code(
            "idta",
            "International Data Transfer Agreement",
            "46(2)(d)",
            GDPR + "A46-2-d",
            "uk-gdpr",
        ),
        Code(
            "uk-addendum",
            "UK Addendum to the EU standard contractual clauses",
            "46(2)(d)",
            GDPR + "A46-2-d",
            "uk-gdpr",
        ),
    ),
    aliases={
        "sccs": "scc",
        "standardcontractualclause": "scc",
        "eustandardcontractualclauses": "scc",
        "45(3)": "adequacy",
        "49(1)2": "compelling-legitimate-interests",
        "49(1)secondsubparagraph": "compelling-legitimate-interests",
        "49(1)subparagraph2": "compelling-legitimate-interests",
    },
)

PARTY_KINDS = CodeList(
    "party kind",
    (
        Code("group-member", "Group member", "", DPV + "DataController"),
        Code("internal", "Internal recipient (department or role)", "", DPV + "Recipient"),
        Code("service-provider", "Service provider", "", DPV + "DataProcessor"),
        Code("business-partner", "Business partner", "", DPV + "ThirdParty"),
        Code("public-authority", "Public authority", "", DPV + "Authority"),
        Code("professional-adviser", "Professional adviser", "", DPV + "ThirdParty"),
        Code("acquirer", "Acquirer or successor", "", DPV + "ThirdParty"),
        Code("other", "Other recipient", "", DPV + "Recipient"),
    ),
    aliases={"processor": "service-provider", "groupcompany": "group-member"},
)

SPECIAL = CodeList(
    "special category",
    (
        Code("none", "Not special", ""),
        Code("art9", "Special category data", "9", DPV + "SpecialCategoryPersonalData"),
        Code(
            "art10",
            "Criminal convictions and offences data",
            "10",
            "https://w3id.org/dpv/pd#CriminalOffence",
        ),
    ),
)

MEASURE_KINDS = CodeList(
    "measure kind",
    (
        Code("technical", "Technical", "", DPV + "TechnicalMeasure"),
        Code("organisational", "Organisational", "", DPV + "OrganisationalMeasure"),
        Code("physical", "Physical", "", DPV + "PhysicalMeasure"),
    ),
    aliases={"organizational": "organisational"},
)

STATUSES = CodeList(
    "status",
    (Code("draft", "Draft"), Code("active", "Active"), Code("retired", "Retired")),
)

ROLES = CodeList(
    "role",
    (
        Code("controller", "Controller", "30(1)", DPV + "DataController"),
        Code("joint-controller", "Joint controller", "26", DPV + "JointDataControllers"),
        Code("processor", "Processor", "30(2)", DPV + "DataProcessor"),
    ),
)

DPIA_REQUIRED = CodeList(
    "DPIA required", (Code("yes", "Yes"), Code("no", "No"), Code("unknown", "Unknown"))
)

DPIA_STATUSES = CodeList(
    "DPIA status",
    (
        Code("not-started", "Not started"),
        Code("in-progress", "In progress"),
        Code("completed", "Completed"),
    ),
)

RETENTION_ACTIONS = CodeList(
    "retention action",
    (
        Code("delete", "Delete", "", DPV + "Erase"),
        Code("anonymise", "Anonymise", "", DPV + "Anonymise"),
        Code("review", "Review", "", DPV + "ReviewProcedure"),
    ),
    aliases={"anonymize": "anonymise", "erase": "delete"},
)

REGIMES = CodeList(
    "data protection regime",
    (
        Code("eu-gdpr", "EU GDPR (Regulation (EU) 2016/679)"),
        Code("uk-gdpr", "UK GDPR and the Data Protection Act 2018"),
    ),
    aliases={"eu": "eu-gdpr", "uk": "uk-gdpr"},
)
