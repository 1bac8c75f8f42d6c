"""The registry document (YAML / JSON): the registry as code.

Deterministic: records sorted by key, fields in schema order, empty fields omitted, key lists
sorted; so export → import into an empty database → export gives identical bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
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
    """Parse YAML or JSON text held to ropa's input limits; a syntax error, a duplicate key,
    an alias or a limit exceeded becomes a ValidationFailed naming the place."""
    from ropa import limits
    from ropa.store import gc_paused

    if len(text) > limits.megabytes(limits.INPUT_SIZE):
        raise ValidationFailed([Problem(source, limits.INPUT_SIZE.refusal())])
    # A document is a tree of many small objects without cycles: a collection while it is
    # built walks every object built so far, and would double the time of a large load.
    with gc_paused():
        document = _load_json(text, source) if fmt == "json" else _load_yaml(text, source)
    _check_shape(document, source, strings=fmt == "json" and bool(_SURROGATE_ESCAPE.search(text)))
    return document


def _load_json(text: str, source: str, keep: bool = True) -> Any:
    """The JSON text's values; or, not `keep`ing them, only its refusals (each object is
    dropped once read)."""
    from ropa import limits

    duplicated = False

    def pairs(items: list[tuple[str, Any]]) -> dict:
        nonlocal duplicated
        mapping = dict(items)
        if len(mapping) != len(items):
            duplicated = True
        return mapping if keep else None

    def integer(digits: str) -> int:
        if len(digits.lstrip("-")) > limits.INTEGER_DIGITS.value:
            raise _TooLong(digits)
        return int(digits)

    try:
        document = json.loads(text, object_pairs_hook=pairs, parse_int=integer)
    except json.JSONDecodeError as e:
        raise ValidationFailed(
            [Problem(f"{source}:{e.lineno}:{e.colno}", f"invalid JSON: {e.msg}")]
        ) from None
    except _TooLong as e:
        line = text.count("\n", 0, max(text.find(e.digits), 0)) + 1
        message = limits.INTEGER_DIGITS.refusal(f"{len(e.digits)} digits")
        raise ValidationFailed([Problem(f"{source}:{line}", message)]) from None
    except RecursionError:
        raise ValidationFailed([Problem(source, limits.DEPTH.refusal())]) from None
    if duplicated:
        raise ValidationFailed([_json_duplicate(text, source)])
    return document


class _TooLong(Exception):
    def __init__(self, digits: str):
        self.digits = digits


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"\s*:?|[{}\[\]]')


def _json_duplicate(text: str, source: str) -> Problem:
    """Where a key appears twice in one JSON object (the text is valid JSON)."""
    objects: list[dict[str, int] | None] = []  # per open bracket: keys seen -> line, or None
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in ("{", "["):
            objects.append({} if token == "{" else None)
        elif token in ("}", "]"):
            objects.pop()
        elif token.endswith(":") and objects and objects[-1] is not None:
            key = json.loads(token[:-1].rstrip())
            line = text.count("\n", 0, match.start()) + 1
            first = objects[-1].get(key)
            if first is not None:
                message = f"duplicate key {key!r} (first at line {first}, again at line {line})"
                return Problem(f"{source}:{line}", message)
            objects[-1][key] = line
    return Problem(source, "a key appears twice in one object")


def _load_yaml(text: str, source: str) -> Any:
    loader = _loader()(text)
    with _yaml_problems(source):
        return _build(loader)


@contextmanager
def _yaml_problems(source: str) -> Iterator[None]:
    """YAML errors as a ValidationFailed naming the place."""
    import yaml

    try:
        yield
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = getattr(e, "problem", None) or str(e)
        said = problem if getattr(e, "over_limit", False) else f"invalid YAML: {problem}"
        raise ValidationFailed([Problem(where, said)]) from None
    except RecursionError:
        from ropa import limits

        raise ValidationFailed([Problem(source, limits.DEPTH.refusal())]) from None


#: Registry documents (YAML, JSON) of this many bytes or more are read record by record
#: (:class:`StreamedDocument`); smaller ones are read whole.
STREAM_FROM = 4 << 20

#: The section a large document is streamed by: the one that grows with the register.
STREAMED_SECTION = "activities"


class StreamedDocument(dict):
    """A registry document read from a YAML or JSON file as it is consumed: the sections
    before `activities` (which must come last, as ropa writes it) are here as in any
    document; :meth:`records` yields the activities one by one, each built, checked against
    the limits and dropped before the next is read. It can be read once."""

    def __init__(self, head: dict, records: Iterator[Any], source: str):
        super().__init__(head)
        self._records: Iterator[Any] | None = records
        self.source = source

    def records(self) -> Iterator[Any]:
        """The raw records of the streamed section, in file order (once)."""
        records, self._records = self._records, None
        if records is None:
            raise RuntimeError(f"{self.source} was read already")
        return records

    def whole(self) -> dict:
        """The document with its streamed section as a list: what an import that reads the
        whole register (--replace) plans with."""
        return {**self, STREAMED_SECTION: list(self.records())}


def open_document(path: Path, source: str) -> Any:
    """A registry document file: a :class:`StreamedDocument` for a large YAML or JSON file
    whose activities come last, else the document read whole (as :func:`load_text`)."""
    fmt = format_of(path)
    if path.stat().st_size >= STREAM_FROM:
        if fmt == "json":
            streamed = _open_json(path, source)
            if streamed is not None:
                return streamed
        elif _streamed_last(path):
            return _open_yaml(path, source)
    return load_text(path.read_bytes().decode("utf-8-sig"), fmt, source)


def _open_yaml(path: Path, source: str) -> Any:
    """A YAML file whose last top-level key is `activities`, streamed by it (or read whole
    when that section is not a block sequence)."""
    file = open(path, encoding="utf-8-sig")  # noqa: SIM115 - closed when the records end
    try:
        built = _built_values(_loader()(file), STREAMED_SECTION)
        with _yaml_problems(source):
            head, first = next(built)
    except StopIteration as done:  # no section to stream (flow style, or none): whole
        file.close()
        _check_shape(done.value, source, strings=False)
        return done.value
    except BaseException:
        file.close()
        raise
    _check_shape(head, source, strings=False)
    return StreamedDocument(head, _streamed_records(file, built, first, source), source)


def _streamed_records(file: Any, built: Iterator[Any], first: Any, source: str) -> Iterator[Any]:
    with file, _yaml_problems(source):
        record = first
        while True:
            _check_shape(record, source, strings=False, depth=3)
            yield record
            try:
                _, record = next(built)
            except StopIteration:
                return


_TOP_LEVEL_KEY = re.compile(rb"^([^ \t\r\n#\-][^:\r\n]*):", re.M)


def _streamed_last(path: Path) -> bool:
    """Whether the last key at the start of a line (a top-level key of a block mapping) is
    the streamed section's: a conservative scan, read in chunks; a document it doubts is
    read whole."""
    last = b""
    rest = b""
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            chunk = rest + chunk
            cut = chunk.rfind(b"\n") + 1
            chunk, rest = chunk[:cut], chunk[cut:]
            for match in _TOP_LEVEL_KEY.finditer(chunk):
                last = match.group(1)
    for match in _TOP_LEVEL_KEY.finditer(rest):
        last = match.group(1)
    return last.strip().removeprefix(b"\xef\xbb\xbf") == STREAMED_SECTION.encode()


_BOM = b"\xef\xbb\xbf"
#: What a JSON file is read whole for, though the event parser would read it: a surrogate
#: escape (yajl reads a lone one as "?"; json.loads keeps it, for load_text to refuse) and
#: the vertical tab and form feed, which yajl takes for white space and json.loads refuses.
_JSON_READ_WHOLE = re.compile(rb"\\u[dD][89a-fA-F]|[\x0b\x0c]")
#: Bytes of a JSON file parsed at a time: the records they complete are built together.
_READ = 1 << 16


@cache
def _ijson() -> Any:
    """ijson with its C backend (yajl2_c), or the best backend installed."""
    import ijson

    try:
        return ijson.get_backend("yajl2_c")
    except ImportError:  # pragma: no cover - the wheels carry the C backend
        return ijson


def _open_json(path: Path, source: str) -> StreamedDocument | None:
    """A JSON file whose last top-level key is `activities` (as ropa writes it), streamed by
    that section; None when it is to be read whole.

    The file is read twice. First as parser events, to build the sections before
    `activities` and to check every record as :func:`load_text` would (syntax, UTF-8,
    duplicate keys, nesting depth, integer length), dropping each record once checked. A
    file whose activities are not last, or that holds anything load_text refuses or the
    event parser reads otherwise (NaN and Infinity, integers beyond 64 bits, floats beyond
    the double's range, surrogate escapes, the vertical tab and form feed), is read whole:
    its refusal is then load_text's own, with its place. Then the activities are built by
    the C parser as they are consumed: they were checked."""
    from ropa.store import gc_paused

    try:
        with gc_paused(), open(path, "rb") as file:
            stamp = _stamp(file)
            head = _checked_head(file)
    except _Doubtful:
        # Read as load_text reads it, keeping no record: its refusal, word for word, without
        # the whole document in memory; a file it reads (NaN, say) is then read whole.
        with gc_paused():
            _load_json(path.read_bytes().decode("utf-8-sig"), source, keep=False)
        return None
    if head is None:
        return None
    return StreamedDocument(head, _json_records(path, source, stamp), source)


def _stamp(file: Any) -> tuple[int, int, int, int]:
    """Which file an open file is, and its size and time: whether it changed between reads."""
    import os

    info = os.fstat(file.fileno())
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


class _Doubtful(Exception):
    """The event parser refused a JSON file, or found what load_text refuses."""


def _checked_head(file: Any) -> dict | None:
    """The document's sections before its last, `activities`, built from the parser's events
    while every value of the file is checked; None when the file is to be read whole; raises
    _Doubtful when reading it whole may refuse it (see :func:`_open_json`)."""
    import ijson

    from ropa import limits

    deepest = limits.DEPTH.value
    too_long = 10**limits.INTEGER_DIGITS.value  # the smallest integer with too many digits
    events = ijson.sendable_list()
    parser = _ijson().basic_parse_coro(events, use_float=True)
    stack: list[Any] = []  # the open arrays and objects, outermost first
    keys: list[Any] = []  # per open object: the key awaiting its value
    streamed: list | None = None  # the array of the top-level key `activities`
    document: Any = None
    chunk = file.read(_READ)
    if chunk.startswith(_BOM):
        chunk = chunk[len(_BOM) :]
    tail = b""  # the end of the chunk before: an escape may be cut in two
    try:
        while chunk:
            if _JSON_READ_WHOLE.search(tail + chunk):
                return None
            tail = chunk[-5:]
            parser.send(chunk)
            for event, value in events:
                if event == "map_key":
                    if value in stack[-1]:  # a duplicate key
                        raise _Doubtful
                    keys[-1] = value
                    continue
                if event == "start_map" or event == "start_array":
                    if len(stack) >= deepest:
                        raise _Doubtful
                    stack.append({} if event == "start_map" else [])
                    keys.append(None)
                    if len(stack) == 2 and keys[0] == STREAMED_SECTION and event == "start_array":
                        streamed = stack[-1]
                    continue
                if event == "end_map" or event == "end_array":
                    value = stack.pop()
                    keys.pop()
                elif event == "number" and type(value) is int and not -too_long < value < too_long:
                    raise _Doubtful
                if not stack:
                    document = value
                    continue
                parent = stack[-1]
                if type(parent) is dict:
                    parent[keys[-1]] = value
                elif parent is not streamed:  # a record of the streamed section: checked
                    parent.append(value)
            del events[:]
            chunk = file.read(_READ)
        parser.close()
    except (ijson.JSONError, UnicodeDecodeError, ValueError, SystemError):
        raise _Doubtful from None
    if (
        type(document) is not dict
        or next(reversed(document), None) != STREAMED_SECTION
        or document[STREAMED_SECTION] is not streamed
    ):
        return None
    del document[STREAMED_SECTION]
    return document


def _json_records(path: Path, source: str, stamp: tuple[int, ...]) -> Iterator[Any]:
    """The records of a JSON file's `activities`, built as they are read; refused when the
    file changed since it was checked."""
    import ijson

    changed = ValidationFailed([Problem(source, "the file changed while it was imported")])
    with open(path, "rb") as file:
        if _stamp(file) != stamp:
            raise changed
        if file.read(len(_BOM)) != _BOM:
            file.seek(0)
        try:
            yield from _ijson().items(
                file, f"{STREAMED_SECTION}.item", use_float=True, buf_size=_READ
            )
        except (ijson.JSONError, UnicodeDecodeError, ValueError, SystemError):
            raise changed from None
        if _stamp(file) != stamp:
            raise changed


class _Frame:
    """A sequence or mapping being built from the parser's events."""

    __slots__ = ("anchor", "count", "flow", "key", "mark", "seen", "size", "streamed", "value")

    def __init__(self, value: Any, anchor: str | None, mark: Any, flow: bool = False):
        self.value = value
        self.anchor = anchor
        self.mark = mark
        self.flow = flow  # written in flow style ({…} or […])
        self.count = 1  # the values it holds, aliases counted in full
        self.size = 0  # the characters of its scalars, aliases counted in full
        self.key: Any = _NO_KEY
        self.seen: dict[Any, int] = {}
        self.streamed = False  # its items are yielded, not kept (see _built_values)


_NO_KEY = object()
_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_COLLECTION_TAGS = (None, "!", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map")


def _build(loader: Any) -> Any:
    """The document's values built straight from the C parser's events, as the safe loader
    builds them (scalars resolved and constructed by the loader's own resolver and
    constructors) without composing a tree of nodes first: a large document takes half the
    time and a fraction of the memory. The loader's refusals hold: aliases repeating more
    values than the limit, merge keys, duplicate keys, integers longer than the limit,
    tags other than the plain ones."""
    built = _built_values(loader, None)
    try:
        next(built)
    except StopIteration as done:
        return done.value
    raise AssertionError("nothing is streamed")  # pragma: no cover


def _built_values(loader: Any, streamed: str | None) -> Iterator[Any]:
    """:func:`_build` as a generator: the items of the top-level section `streamed` (of a
    block mapping) are yielded one by one as each is complete, with the document built so
    far, instead of being kept in the document; the document (the section empty) is the
    generator's return value."""
    import yaml
    from yaml import events
    from yaml.composer import ComposerError
    from yaml.constructor import ConstructorError

    from ropa import limits

    alias_limit = limits.ALIAS_NODES.value
    text_limit = limits.megabytes(limits.EXPANDED)
    constructors = loader.yaml_constructors
    resolve = loader.resolve
    resolved: dict[str, str] = {}  # the tags of short plain scalars, which repeat
    # anchor -> (value, count, key identity, size)
    anchors: dict[str, tuple[Any, int, Any, int]] = {}
    expanded = repeated = 0  # values and characters repeated by aliases
    stack: list[_Frame] = []
    result: Any = None
    scalar_event, alias_event = events.ScalarEvent, events.AliasEvent
    ends = (events.SequenceEndEvent, events.MappingEndEvent)

    loader.get_event()  # the stream's start
    if loader.check_event(events.StreamEndEvent):
        return None
    start = loader.get_event()  # the document's start
    while True:
        event = loader.get_event()
        kind = type(event)
        identity = None
        if kind is scalar_event:
            text = event.value
            tag = event.tag
            if tag is None or tag == "!":
                implicit = event.implicit
                if not implicit[0]:
                    tag = _STR
                elif len(text) <= 40:
                    tag = resolved.get(text)
                    if tag is None:
                        tag = resolved[text] = resolve(yaml.ScalarNode, text, implicit)
                else:
                    tag = resolve(yaml.ScalarNode, text, implicit)
            if tag == _STR:
                value = text
            elif tag == _MERGE:
                raise ConstructorError(
                    None, None, "merge keys (<<) are not allowed", event.start_mark
                )
            else:
                node = yaml.ScalarNode(tag, text, event.start_mark, event.end_mark, event.style)
                value = (constructors.get(tag) or constructors[None])(loader, node)
            count, size = 1, len(text)
            identity = (tag, text)
            if event.anchor is not None:
                anchors[event.anchor] = (value, 1, identity, size)
        elif kind is events.MappingStartEvent or kind is events.SequenceStartEvent:
            if event.tag not in _COLLECTION_TAGS:
                raise ConstructorError(
                    None,
                    None,
                    f"could not determine a constructor for the tag {event.tag!r}",
                    event.start_mark,
                )
            mapping = kind is events.MappingStartEvent
            frame = _Frame({} if mapping else [], event.anchor, event.start_mark, event.flow_style)
            stack.append(frame)
            if (
                streamed is not None
                and len(stack) == 2
                and not mapping
                and stack[0].key == streamed
                and type(stack[0].value) is dict
                and not stack[0].flow
                and event.anchor is None  # an alias to the section would find it empty
            ):
                frame.streamed = True
            continue
        elif kind in ends:
            frame = stack.pop()
            value, count, size = frame.value, frame.count, frame.size
            if frame.anchor is not None:
                anchors[frame.anchor] = (value, count, None, size)
        elif kind is alias_event:
            if event.anchor not in anchors:
                raise ComposerError(
                    None, None, f"found undefined alias {event.anchor!r}", event.start_mark
                )
            value, count, identity, size = anchors[event.anchor]
            expanded += count
            repeated += size
            if expanded > alias_limit or repeated > text_limit:
                refusal = (
                    limits.ALIAS_NODES.refusal()
                    if expanded > alias_limit
                    else limits.EXPANDED.refusal(limits.shown_mb(repeated, limits.EXPANDED))
                )
                error = ConstructorError(None, None, refusal, event.start_mark)
                error.over_limit = True  # valid YAML, beyond a limit: no "invalid YAML"
                raise error
        else:  # the document's end
            break
        if not stack:
            result = value
            continue
        frame = stack[-1]
        frame.count += count
        frame.size += size
        if frame.streamed:
            yield stack[0].value, value
        elif type(frame.value) is list:
            frame.value.append(value)
        elif frame.key is _NO_KEY:
            if isinstance(value, list | dict):
                raise ConstructorError(
                    "while constructing a mapping",
                    frame.mark,
                    "found unhashable key",
                    event.start_mark,
                )
            if identity is not None:
                line = event.start_mark.line + 1
                first = frame.seen.get(identity)
                if first is not None:
                    message = f"duplicate key {identity[1]!r} (first at line {first}, again at"
                    raise ConstructorError(None, None, f"{message} line {line})", event.start_mark)
                frame.seen[identity] = line
            frame.key = value
        else:
            frame.value[frame.key] = value
            frame.key = _NO_KEY
    if not loader.check_event(events.StreamEndEvent):
        raise ComposerError(
            "expected a single document in the stream",
            start.start_mark,
            "but found another document",
            loader.get_event().start_mark,
        )
    return result


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_shape(document: Any, source: str, strings: bool, depth: int = 1) -> None:
    """Refuse a document nested deeper than the limit, and (`strings`) text holding a lone
    surrogate, which no file or database can store; `depth` is the document's own (a record
    of a section is at 3)."""
    from ropa import limits

    deepest = limits.DEPTH.value
    stack = [(document, depth)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Iterable[Any] = value.values()
            if strings:
                stack += [(k, depth) for k in value]
        elif isinstance(value, list):
            children = value
        else:
            if strings and isinstance(value, str) and _SURROGATE.search(value):
                raise ValidationFailed(
                    [Problem(source, f"text {value[:40]!r} holds a lone surrogate (\\u escape)")]
                )
            continue
        if depth > deepest:
            raise ValidationFailed([Problem(source, limits.DEPTH.refusal(f"{depth} levels"))])
        stack += [(child, depth + 1) for child in children]


#: A plain YAML scalar read as an integer: the digits of one, as JSON writes it. YAML 1.1 also
#: read octal (0123), signed (+49…), grouped (1_2), hex (0x1F) and base-60 (1:20) numbers,
#: which in a hand-written file are phone numbers, registration ids and names: those stay
#: text, as do fractions (1.50, .inf: no field holds one), and a whole-number field parses
#: them as it parses a CSV cell.
_PLAIN_INT = re.compile(r"-?(0|[1-9][0-9]*)")


@cache
def _loader() -> Any:
    """The C safe loader, leaving dates as text (ropa parses them itself, so that a bad date
    is reported with its place) and refusing integers longer than the limit; its events are
    built into values by :func:`_build`, which refuses the rest of what could expand or hide
    data."""
    import yaml
    from yaml.constructor import ConstructorError

    from ropa import limits

    class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        def construct_yaml_int(self, node: Any) -> int | str:
            digits = sum(c.isalnum() for c in str(node.value))
            if digits > limits.INTEGER_DIGITS.value:
                raise ConstructorError(
                    None, None, limits.INTEGER_DIGITS.refusal(f"{digits} digits"), node.start_mark
                )
            if not _PLAIN_INT.fullmatch(node.value):
                return str(node.value)  # 0123, +49…, 030_1234, 0x1F, 1:20 stay as written
            return super().construct_yaml_int(node)

        def construct_yaml_float(self, node: Any) -> str:
            return str(node.value)  # no field holds a fraction: 1.50, .inf, 1.0e+2 as written

        def construct_yaml_bool(self, node: Any) -> bool | str:
            if node.value.lower() not in ("true", "false"):
                return str(node.value)  # yes, no, on, off (NO is Norway) stay as written
            return super().construct_yaml_bool(node)

    Loader.add_constructor("tag:yaml.org,2002:int", Loader.construct_yaml_int)
    Loader.add_constructor("tag:yaml.org,2002:bool", Loader.construct_yaml_bool)
    Loader.add_constructor("tag:yaml.org,2002:float", Loader.construct_yaml_float)
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
