"""Check findings as text (grouped by record), JSON and CSV."""

from __future__ import annotations

import io
import json

from ropa.checks import Finding, summary
from ropa.io.safe_csv import SafeWriter

COLUMNS = ["rule", "severity", "kind", "key", "name", "message"]


def render_text(findings: list[Finding]) -> str:
    """A report a person reads: findings grouped by record, then a summary."""
    lines: list[str] = []
    current = None
    for f in findings:
        if (f.kind, f.key) != current:
            current = (f.kind, f.key)
            if lines:
                lines.append("")
            lines.append(f"{f.kind} {f.key} — {f.name}" if f.name else f"{f.kind} {f.key}")
        lines.append(f"  {f.rule} {f.severity:<7} {f.message}")
    if lines:
        lines.append("")
    lines.append(summary(findings))
    return "\n".join(lines) + "\n"


def render_json(findings: list[Finding]) -> str:
    payload = {"summary": summary(findings), "findings": [f.as_dict() for f in findings]}
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def render_csv(findings: list[Finding]) -> str:
    """One finding a row, every cell formula-safe (a record's name is the user's text)."""
    out = io.StringIO()
    writer = SafeWriter(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows([f.as_dict()[c] for c in COLUMNS] for f in findings)
    return out.getvalue()
