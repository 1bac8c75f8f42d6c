"""The registry document (YAML / JSON): the registry as code.

Deterministic: records sorted by key, fields in schema order, empty fields omitted, key lists
sorted; so export → import into an empty database → export gives identical bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from ropa.errors import Problem, ValidationFailed
from ropa.records import FORMAT_VERSION, json_default
from ropa.records import document_record as document_record  # the form this file writes


def dump_yaml(doc: Any) -> str:
    """YAML text in block style: multi-line text as literal blocks, unicode kept.

    A small emitter for ropa's plain data (mappings, lists, text, numbers, booleans, dates):
    PyYAML's representer is written in Python and takes minutes on a large register. Whether
    a text may stay unquoted is decided by PyYAML's own resolver, so the file reads back as
    the same values with any YAML 1.1 or 1.2 reader.
    """
    out: list[str] = []
    if isinstance(doc, dict):
        _emit_mapping(doc, 0, out)
    elif isinstance(doc, list):
        _emit_list(doc, 0, out)
    else:
        out.append(_scalar(doc, 0) + "\n")
    return "".join(out)


def _emit_mapping(mapping: dict, indent: int, out: list[str], first_pad: str | None = None) -> None:
    pad = " " * indent
    for i, (key, value) in enumerate(mapping.items()):
        prefix = (first_pad if first_pad is not None and i == 0 else pad) + f"{key}:"
        if isinstance(value, dict):
            if value:
                out.append(prefix + "\n")
                _emit_mapping(value, indent + 2, out)
            else:
                out.append(prefix + " {}\n")
        elif isinstance(value, list):
            if value:
                out.append(prefix + "\n")
                _emit_list(value, indent, out)
            else:
                out.append(prefix + " []\n")
        else:
            out.append(f"{prefix} {_scalar(value, indent + 2)}\n")


def _emit_list(items: list, indent: int, out: list[str]) -> None:
    pad = " " * indent
    for item in items:
        if isinstance(item, dict) and item:
            _emit_mapping(item, indent + 2, out, first_pad=pad + "- ")
        elif isinstance(item, list) and item:
            out.append(pad + "-\n")
            _emit_list(item, indent + 2, out)
        else:
            out.append(f"{pad}- {_scalar(item, indent + 2)}\n")


_NOT_PRINTABLE = re.compile("[^\t\n\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_QUOTE_MORE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff]")


def _scalar(value: Any, indent: int) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return "[]" if isinstance(value, list) else "{}"
    text = str(value)
    if "\n" in text and _literal_ok(text):
        pad = " " * indent
        body = "\n".join(pad + line if line else "" for line in text.split("\n"))
        return "|-\n" + body
    if _plain_ok(text):
        return text
    quoted = json.dumps(text, ensure_ascii=False)
    return _QUOTE_MORE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def _literal_ok(text: str) -> bool:
    """A literal block keeps text exactly when it has no edge spaces or odd characters."""
    return (
        text == text.strip()
        and not _NOT_PRINTABLE.search(text)
        and not _QUOTE_MORE.search(text)
        and "\t" not in text.split("\n", 1)[0][:1]
    )


@cache
def _plain_ok(text: str) -> bool:
    """Whether a one-line text reads back as the same text without quotes."""
    import yaml

    if (
        not text
        or text != text.strip()
        or text[0] in "-?:,[]{}#&*!|>'\"%@`"
        or ": " in text
        or " #" in text
        or text.endswith(":")
        or "\t" in text
        or "\n" in text
        or _NOT_PRINTABLE.search(text)
        or _QUOTE_MORE.search(text)
    ):
        return False
    resolved = yaml.resolver.Resolver().resolve(yaml.ScalarNode, text, (True, False))
    return resolved == "tag:yaml.org,2002:str"


def yaml_chunks(sections: Iterable[tuple[str, Iterable[list[dict]]]]) -> Iterator[str]:
    """The document's YAML piece by piece, from (section, batches of records): the same text
    as :func:`dump_yaml` of the whole document, without holding it."""
    yield dump_yaml({"ropa": FORMAT_VERSION})
    for section, batches in sections:
        empty = True
        for batch in batches:
            if batch:
                if empty:
                    yield f"{section}:\n"
                    empty = False
                yield dump_yaml(batch)
        if empty:
            yield f"{section}: []\n"


def json_chunks(sections: Iterable[tuple[str, Iterable[list[dict]]]]) -> Iterator[str]:
    """The document's JSON piece by piece: the same text as :func:`dump_json`."""
    yield '{\n  "ropa": ' + json.dumps(FORMAT_VERSION)
    for section, batches in sections:
        empty = True
        for batch in batches:
            for record in batch:
                text = json.dumps(record, indent=2, ensure_ascii=False, default=json_default)
                yield (f',\n  "{section}": [\n' if empty else ",\n") + _indent(text, 4)
                empty = False
        yield f',\n  "{section}": []' if empty else "\n  ]"
    yield "\n}\n"


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return pad + text.replace("\n", "\n" + pad)


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
