"""The registry document (YAML / JSON): the registry as code.

Deterministic: records sorted by key, fields in schema order, empty fields omitted, key lists
sorted; so export → import into an empty database → export gives identical bytes.
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from ropa.errors import Problem, ValidationFailed
from ropa.schema import KINDS, Kind, T

FORMAT_VERSION = 1


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value is False


def document_record(kind: Kind, record: dict) -> dict:
    """A record as it appears in the document: schema order, empty fields left out."""
    out: dict[str, Any] = {}
    for field in kind.fields:
        value = record.get(field.name)
        if is_empty(value):
            continue
        if field.type is T.NESTED:
            value = [{k: v for k, v in row.items() if not is_empty(v)} for row in value]
        out[field.name] = value
    return out


def build_document(state: dict[str, dict[str, dict]]) -> dict:
    """The document for a registry state {kind name: {key: record}}."""
    doc: dict[str, Any] = {"ropa": FORMAT_VERSION}
    for kind in KINDS.values():
        records = state.get(kind.name, {})
        doc[kind.section] = [document_record(kind, records[key]) for key in sorted(records)]
    return doc


def dump_yaml(doc: Any) -> str:
    """YAML text: block style, multi-line text as literal blocks, unicode kept."""
    import yaml

    base = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

    class Dumper(base):  # type: ignore[misc, valid-type]
        pass

    def text(dumper: Any, value: str) -> Any:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    return yaml.dump(
        doc,
        Dumper=Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )


def json_default(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dump_json(doc: Any) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, default=json_default) + "\n"


def dumps(doc: Any, fmt: str) -> str:
    return dump_json(doc) if fmt == "json" else dump_yaml(doc)


def load_text(text: str, fmt: str, source: str) -> Any:
    """Parse YAML or JSON text; a syntax error becomes a ValidationFailed naming the place."""
    if fmt == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise ValidationFailed(
                [Problem(f"{source}:{e.lineno}:{e.colno}", f"invalid JSON: {e.msg}")]
            ) from None
    import yaml

    try:
        return yaml.load(text, Loader=_loader())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = getattr(e, "problem", None) or str(e)
        raise ValidationFailed([Problem(where, f"invalid YAML: {problem}")]) from None


@cache
def _loader() -> Any:
    """The C safe loader, leaving dates as text: ropa parses them itself, so that a bad
    date is reported with its place instead of crashing the loader."""
    import yaml

    class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        pass

    Loader.add_constructor(
        "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
    )
    return Loader


def format_of(path: Path, default: str = "yaml") -> str:
    suffix = path.suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    return default


def read_document(path: Path) -> Any:
    """Load a registry document file (YAML or JSON by its extension)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ValidationFailed([Problem(str(path), f"cannot read: {e.strerror}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValidationFailed(
            [Problem(str(path), f"not UTF-8 text (byte {e.start}); save it as UTF-8")]
        ) from None
    return load_text(text, format_of(path), str(path))
