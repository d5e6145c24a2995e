"""Markdown files with YAML front matter: read, split, parse and dump.

Positions reported here are lines and columns of the Markdown file itself (1-based), never of the YAML block,
so that an editor can jump straight to them.

Size: the one owner of the front-matter format: the fast reader of the simple form sitegen writes and the
writer must read back exactly as the YAML parser does, so they live beside each other.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from sitegen.errors import Diagnostic, one_line, shown
from sitegen.store.sources import NotUTF8, decode_utf8, read_bytes

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: The longest whole number sitegen reads, in characters. Python converts decimal numbers of more than a few
#: thousand digits neither from text nor back (and takes time growing with the square of the length to convert
#: long ones); no field needs a number nearly this long. Put in quotes, a longer one is text.
MAX_NUMBER_CHARS = 1000

#: How many values YAML aliases (`*name`) may add to a document beyond those written in it. An alias repeats
#: a whole anchored value, so a few hundred bytes of nested aliases stand for billions of values, which
#: everything that walks the data afterwards (a message quoting it, the cache, a hash) would pay for. Real
#: files reuse a list or two, if any; the file size bounds everything else.
MAX_ALIAS_NODES = 10_000


class FrontMatterLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe YAML without timestamps: dates stay strings so that bad ones get our own message (an explicit
    `!!timestamp` too, which would give a datetime where a date is expected). Numbers are bounded (see
    MAX_NUMBER_CHARS), and a value that cannot be constructed is an error at its own position."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, OverflowError) as exc:
            raise ConstructorError(None, None, str(exc)[:200], node.start_mark) from None


def _construct_int(loader: SafeConstructor, node: yaml.ScalarNode) -> int:
    if len(node.value) > MAX_NUMBER_CHARS:
        raise ConstructorError(
            None,
            None,
            f"a number {len(node.value):,} characters long is more than sitegen reads "
            f"({MAX_NUMBER_CHARS:,} at most): put it in quotes to keep it as text",
            node.start_mark,
        )
    return int(SafeConstructor.construct_yaml_int(loader, node))


FrontMatterLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
FrontMatterLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", lambda loader, node: str(loader.construct_scalar(node))
)
FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}

FENCE = "---"
Position = tuple[int, int]


class FrontMatterError(Exception):
    def __init__(self, message: str, line: int = 1, col: int = 0):
        super().__init__(message)
        self.message, self.line, self.col = message, line, col

    def diagnostic(self, path: Path | str) -> Diagnostic:
        return Diagnostic(str(path), self.message, self.line, self.col)


@dataclass(slots=True)
class Document:
    """A parsed Markdown file.

    fields: the front matter mapping. body: the Markdown after the closing fence.
    positions: for each top-level key, where its value starts; item_positions: where each list item starts.
    body_line: the file line on which the body starts.
    """

    fields: dict[str, Any]
    body: str
    body_line: int
    positions: dict[str, Position] = field(default_factory=dict)
    key_positions: dict[str, Position] = field(default_factory=dict)
    item_positions: dict[str, list[Position]] = field(default_factory=dict)
    warnings: list[tuple[str, int, int]] = field(default_factory=list)

    def position(self, key: str, index: int | None = None) -> Position:
        if index is not None:
            items = self.item_positions.get(key, [])
            if index < len(items):
                return items[index]
        return self.positions.get(key, self.key_positions.get(key, (1, 1)))


def decode(data: bytes) -> tuple[str, bool]:
    """Bytes to text with Unix newlines. Returns (text, had_bom). Raises FrontMatterError if not UTF-8."""
    had_bom = data.startswith(b"\xef\xbb\xbf")
    if had_bom:
        data = data[3:]
    try:
        text = decode_utf8(data)
    except NotUTF8 as exc:
        raise FrontMatterError(exc.message, exc.line, exc.col) from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, had_bom


def split(text: str) -> tuple[str, str, int]:
    """Split a file into (yaml_text, body, body_line). The YAML block starts on line 2."""
    if not text.strip():
        raise FrontMatterError(
            "empty file: a page starts with a '---' line, its YAML fields, and '---'", 1, 1
        )
    first_end = text.find("\n")
    first = text if first_end < 0 else text[:first_end]
    if first.rstrip() != FENCE:
        raise FrontMatterError("no front matter: the file must start with a '---' line", 1, 1)
    match = (
        re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.M).search(text, first_end + 1) if first_end >= 0 else None
    )
    if match is None:
        raise FrontMatterError("front matter is not closed: add a '---' line after the fields", 1, 1)
    yaml_text = text[first_end + 1 : match.start()]
    body = text[match.end() + 1 :] if match.end() < len(text) else ""
    body_line = yaml_text.count("\n") + 3
    return yaml_text, body, body_line


def _reader_error(exc: yaml.reader.ReaderError, yaml_text: str) -> FrontMatterError:
    """A character YAML does not allow anywhere (a control character), at its position. (The parser's own
    position counts bytes or characters depending on the parser, so the character is looked up instead: it
    first occurs where the parser stopped.)"""
    char = chr(exc.character) if isinstance(exc.character, int) else str(exc.character)[:1]
    at = yaml_text.find(char) if char else -1
    line, col = (yaml_text.count("\n", 0, at) + 2, at - yaml_text.rfind("\n", 0, at)) if at >= 0 else (2, 0)
    code = ord(char) if char else 0
    escape = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return FrontMatterError(
        f"YAML syntax error: character U+{code:04X} may not appear in YAML; "
        f"in a double-quoted string, write it as {escape}",
        line,
        col,
    )


def _yaml_error(exc: yaml.YAMLError, yaml_text: str) -> FrontMatterError:
    if isinstance(exc, yaml.reader.ReaderError):
        return _reader_error(exc, yaml_text)
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).split("\n", 1)[0]
    line, col = (mark.line + 2, mark.column + 1) if mark is not None else (2, 0)
    lines = yaml_text.split("\n")
    src = lines[line - 2] if 0 <= line - 2 < len(lines) else ""
    if "\t" in src and ("'\\t'" in problem or "tab" in problem):
        return FrontMatterError(
            "tab character in front matter: YAML indents with spaces", line, src.index("\t") + 1
        )
    context = getattr(exc, "context", None)
    kind = "value" if isinstance(exc, ConstructorError) else "syntax"
    message = f"YAML {kind} error: {problem}"
    if context and context not in problem:
        message += f" ({context})"
    return FrontMatterError(message, line, col)


def _check_tabs(yaml_text: str) -> None:
    for number, src in enumerate(yaml_text.split("\n"), start=2):
        stripped = src.lstrip(" ")
        if stripped.startswith("\t"):
            raise FrontMatterError(
                "tab character in front matter: YAML indents with spaces",
                number,
                len(src) - len(stripped) + 1,
            )


def parse_yaml(yaml_text: str) -> tuple[Any, yaml.Node | None]:
    """Parse the YAML block; returns (data, root node). Raises FrontMatterError with file positions."""
    _check_tabs(yaml_text)
    loader = FrontMatterLoader(yaml_text)
    try:
        node = loader.get_single_node()
        if node is not None and "*" in yaml_text:  # (an alias is written `*name`)
            _check_aliases(node)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, yaml_text) from None
    except (ValueError, TypeError, RecursionError) as exc:
        raise FrontMatterError(f"YAML value error: {one_line(str(exc))[:200]}", 2, 1) from None
    finally:
        loader.dispose()
    return data, node


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _check_aliases(root: yaml.Node) -> None:
    """Refuse a document whose aliases stand for more than MAX_ALIAS_NODES values beyond those written in
    it, or that contains itself (an alias inside the value it names). Counted on the composed nodes, where an
    alias is the very node it names: each node is visited once, however many times aliases repeat it.
    Raises ConstructorError at the first top-level entry where the count goes past the bound."""
    sizes: dict[int, int] = {}  # by node id: how many nodes it stands for, itself and every repetition below
    entered: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            # (Saturated: nested aliases multiply, and only whether the bound is passed matters.)
            sizes[key] = min(1 + sum(sizes[id(child)] for child in _children(node)), _SATURATED)
            continue
        if key in sizes:
            continue
        if key in entered:
            raise ConstructorError(
                None, None, "an alias refers to a value that contains it (a loop)", node.start_mark
            )
        entered.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node))
    bound = len(sizes) + MAX_ALIAS_NODES  # the nodes written, and what aliases may add
    if sizes[id(root)] <= bound:
        return
    if isinstance(root, yaml.MappingNode):
        entries = [(k.start_mark, sizes[id(k)] + sizes[id(v)]) for k, v in root.value]
    else:
        entries = [(n.start_mark, sizes[id(n)]) for n in _children(root)]
    total, where = 1, root.start_mark
    for mark, size in entries:
        total += size
        if total > bound:
            where = mark
            break
    raise ConstructorError(
        None,
        None,
        f"aliases (*name) repeat values here past the {MAX_ALIAS_NODES:,} that sitegen lets them add: "
        "write the values out",
        where,
    )


_SATURATED = 1 << 62


def _pos(node: yaml.Node) -> Position:
    return node.start_mark.line + 2, node.start_mark.column + 1


def parse(text: str) -> Document:
    """Parse a whole page. Raises FrontMatterError for anything that is not a mapping of fields."""
    yaml_text, body, body_line = split(text)
    simple = _parse_simple(yaml_text)
    if simple is not None:
        fields, key_positions, positions, item_positions = simple
        return Document(fields, body, body_line, positions, key_positions, item_positions)
    return _parse_document(yaml_text, body, body_line)


def _parse_document(yaml_text: str, body: str, body_line: int) -> Document:
    """parse() by the YAML parser itself."""
    data, node = parse_yaml(yaml_text)
    if data is None:
        data, node = {}, None
    if not isinstance(data, dict) or (node is not None and not isinstance(node, yaml.MappingNode)):
        line, col = _pos(node) if node is not None else (2, 1)
        raise FrontMatterError("front matter must be a mapping of 'key: value' lines", line, col)
    doc = Document(fields={}, body=body, body_line=body_line)
    seen: set[str] = set()
    for key_node, value_node in node.value if node is not None else []:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
        if key in seen:
            line, col = _pos(key_node)
            raise FrontMatterError(f"duplicate key {shown(key)} in front matter", line, col)
        seen.add(key)
        doc.key_positions[key] = _pos(key_node)
        doc.positions[key] = _pos(value_node)
        if isinstance(value_node, yaml.SequenceNode):
            doc.item_positions[key] = [_pos(item) for item in value_node.value]
    doc.fields = {str(k): v for k, v in data.items()}
    return doc


# --- the front matter sitegen writes, without the YAML parser ----------------------------------------------
#
# Pages written by `sitegen import` (and most written by hand) hold one `key: value` per line: a double-quoted
# title without escapes, plain words and flow lists of plain words or of double-quoted strings without escapes
# (authors' names). Such a block is read here directly, with
# the YAML parser's own resolver deciding what a plain word is (string, integer, boolean, null), in a tenth of
# the time; anything else (comments, escapes, block lists, floats, an odd character) goes to the YAML parser.
# tests/test_frontmatter_fast.py checks that both read every block alike.

_SIMPLE_LINE = re.compile(
    r"([A-Za-z_][A-Za-z0-9_-]*): "  # a key, then
    r'(?:"([^"\\\t]*)"'  # a double-quoted string without escapes
    r"|\[((?:[^\[\]{}#\"'\t]|\"[^\"\\\t]*\")*)\]"  # or a flow list (of words or quoted strings)
    r"|([^\s\"'\[\]{}#,&*!|>%@`?:-][^\s\[\]{}#,]*))"  # or a plain word
)
_SIMPLE_ITEM = re.compile(r"[^\s\"'\[\]{}#,&*!|>%@`?:-][^\s\[\]{}#,]*")
# One item of a flow list and the comma after it: a double-quoted string without escapes, or a plain word.
_FLOW_ITEM = re.compile(r' *(?:"([^"\\\t]*)"|([^,"]*?)) *(?:,|$)')
_BOOLEANS = {
    **dict.fromkeys(("yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
}
_PLAIN_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_STR, _INT, _BOOL, _NULL = (f"tag:yaml.org,2002:{name}" for name in ("str", "int", "bool", "null"))
_NO_VALUE = object()


def _implicit_tag(word: str) -> str:
    """The tag the YAML parser's resolver gives a plain scalar (BaseResolver.resolve, implicit case)."""
    table = FrontMatterLoader.yaml_implicit_resolvers
    for tag, regexp in [*table.get(word[0] if word else "", []), *table.get(None, [])]:
        if regexp.match(word):
            return str(tag)
    return _STR


@functools.lru_cache(maxsize=65536)  # the same few words (tags, dates) recur on every page
def _plain(word: str) -> Any:
    """The value of a plain scalar, as the YAML parser constructs it; _NO_VALUE when unsure."""
    if word.endswith(":") or ": " in word or _has_non_printable(word):
        return _NO_VALUE
    tag = _implicit_tag(word)
    if tag == _STR:
        return word
    if tag == _INT and _PLAIN_INT.fullmatch(word) and len(word) <= MAX_NUMBER_CHARS:
        return int(word)
    if tag == _BOOL and word in _BOOLEANS:
        return _BOOLEANS[word]
    if tag == _NULL and word in ("~", "null", "Null", "NULL"):
        return None
    return _NO_VALUE


def _parse_simple(
    yaml_text: str,
) -> tuple[dict[str, Any], dict[str, Position], dict[str, Position], dict[str, list[Position]]] | None:
    """(fields, key positions, value positions, item positions) of a block of simple lines, else None."""
    if not yaml_text:
        return None
    fields: dict[str, Any] = {}
    keys: dict[str, Position] = {}
    values: dict[str, Position] = {}
    items: dict[str, list[Position]] = {}
    lines = yaml_text.split("\n")
    if lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, start=2):
        match = _SIMPLE_LINE.fullmatch(line)
        if match is None:
            return None
        key, quoted, flow, word = match.groups()
        if key in fields or _plain(key) != key:
            return None  # a duplicate is the YAML parser's to report; a key like "yes" is no string
        start = len(key) + 3
        if quoted is not None:
            if _has_non_printable(quoted):
                return None
            value: Any = quoted
        elif flow is not None:
            if flow.strip(" "):
                read = _flow_items(flow, number, start + 1)
                if read is None:
                    return None
                value, items[key] = read
            elif flow:
                return None
            else:
                value, items[key] = [], []
        else:
            value = _plain(word)
            if value is _NO_VALUE:
                return None
        fields[key] = value
        keys[key] = (number, 1)
        values[key] = (number, start)
    return fields, keys, values, items


def _flow_items(flow: str, line: int, col: int) -> tuple[list[Any], list[Position]] | None:
    """The items of a flow list's inside (`col`: the column where it starts) and their positions, as the YAML
    parser gives them; None when unsure."""
    values: list[Any] = []
    positions: list[Position] = []
    pos = 0
    while True:
        match = _FLOW_ITEM.match(flow, pos)
        if match is None:
            return None
        quoted, word = match.groups()
        if quoted is not None:
            if _has_non_printable(quoted):
                return None
            values.append(quoted)
            positions.append((line, col + match.start(1) - 1))
        else:
            if not _SIMPLE_ITEM.fullmatch(word) or (word_value := _plain(word)) is _NO_VALUE:
                return None
            values.append(word_value)
            positions.append((line, col + match.start(2)))
        if match.end() == len(flow) and not match.group().endswith(","):
            return values, positions
        pos = match.end()


def read(path: Path) -> tuple[Document, bool]:
    """Read and parse a page file. Returns (document, had_bom). Raises FrontMatterError."""
    text, had_bom = decode(read_bytes(path))
    return parse(text), had_bom


# --- dumping ---------------------------------------------------------------------------------------------

# Non-printable characters and YAML's extra line breaks (NEL, LS, PS) must be escaped to survive a round trip.
# (Compiled when first needed: its ranges take ~8 ms to compile, which a build that reads no file would pay.)
_non_printable = functools.cache(
    lambda: re.compile(
        "[^\x09\x0a\x0d\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
    )
)
# An ASCII text, which most are, is checked by a pattern that costs nothing to compile.
_NON_PRINTABLE_ASCII = re.compile("[^\x09\x0a\x0d\x20-\x7e]")


def _has_non_printable(text: str) -> bool:
    pattern = _NON_PRINTABLE_ASCII if text.isascii() else _non_printable()
    return pattern.search(text) is not None


_PLAIN_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@%+=~?&*!$'()-]*")
# Plain words that YAML 1.2 reads as numbers although YAML 1.1 (our reader) reads them as strings ("1e3",
# "0o17"): quoted too, so that a page means the same to any other YAML tool the curator runs on it.
_YAML12_NUMBER = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)


def quote(text: str) -> str:
    """A YAML double-quoted scalar that any YAML 1.1 or 1.2 parser reads back as `text`."""
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    out = re.sub(r"[\x00-\x1f]", lambda m: f"\\x{ord(m.group()):02x}", out)
    out = _non_printable().sub(
        lambda m: f"\\u{ord(m.group()):04x}" if ord(m.group()) <= 0xFFFF else f"\\U{ord(m.group()):08x}", out
    )
    return f'"{out}"'


def _reads_back_as_string(text: str) -> bool:
    loader = FrontMatterLoader("")
    try:
        return loader.resolve(yaml.ScalarNode, text, (True, False)) == "tag:yaml.org,2002:str"
    finally:
        loader.dispose()


def scalar(value: Any, flow: bool = False) -> str:
    """One value in the style sitegen writes: plain where it reads back as the same string, double-quoted
    otherwise (a title "1984", "Null", "yes" or "a:" written plain would read as a number, null, true or a
    mapping). `flow`: the value is an item of a `[a, b]` list (kept for callers; the rule is the same)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if (
        _PLAIN_SAFE.fullmatch(text)
        and not text.endswith(":")  # "a:" is a mapping key in a list, and an error after "key: "
        and _YAML12_NUMBER.fullmatch(text) is None
        and _reads_back_as_string(text)
    ):
        return text
    return quote(text)


def dump_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(scalar(v, flow=True) for v in value) + "]"
    if isinstance(value, dict):
        return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**9).strip()
    return scalar(value)


def dump_fields(
    fields: dict[str, Any], quote_keys: tuple[str, ...] = (), block_lists: tuple[str, ...] = ()
) -> str:
    """YAML `key: value` lines, one per field in the given order, every value written to read back as itself.

    This is the one writer of the YAML sitegen writes: page front matter (through `dump`) and the importer's
    digest records. Lists are written in flow style (`[a, b]`), or as `  - item` lines for the keys named in
    `block_lists`; the string values of `quote_keys` are always double-quoted.
    """
    lines = []
    for key, value in fields.items():
        if key in block_lists and isinstance(value, list | tuple) and value:
            lines.append(f"{key}:")
            lines += [f"  - {scalar(item)}" for item in value]
            continue
        text = quote(value) if key in quote_keys and isinstance(value, str) else dump_value(value)
        lines.append(f"{key}: {text}")
    return "".join(line + "\n" for line in lines)


def dump(fields: dict[str, Any], body: str, quote_keys: tuple[str, ...] = ("title",)) -> str:
    """Render a page: fields in the given order, one per line, then the body."""
    head = f"{FENCE}\n{dump_fields(fields, quote_keys)}{FENCE}\n"
    return head + body if body.endswith("\n") or not body else head + body + "\n"


# --- surgical edits -----------------------------------------------------------------------------------------
# The importer may add a digest date or a missing field to a page the curator has edited. These functions
# change only the characters needed for that, so comments, quoting, key order and the body stay as written.


def _yaml_block(text: str) -> tuple[int, str, yaml.MappingNode | None]:
    """(offset of the YAML block in `text`, the block, its root node). Raises FrontMatterError."""
    yaml_text, _body, _line = split(text)
    offset = text.index("\n") + 1
    _data, node = parse_yaml(yaml_text)
    if node is not None and not isinstance(node, yaml.MappingNode):
        raise FrontMatterError("front matter must be a mapping of 'key: value' lines", 2, 1)
    return offset, yaml_text, node


def _offset(text: str, base: int, mark: yaml.Mark) -> int:
    """Character offset in `text` of a YAML mark, counted from the block start `base` by line and column."""
    pos = base
    for _ in range(mark.line):
        pos = text.index("\n", pos) + 1
    return pos + mark.column


def insert_field(text: str, key: str, value: Any, quoted: bool = False) -> str:
    """Add `key: value` as the last line of the front matter. The key must be absent. `quoted`: a string value
    is double-quoted even where it would read back the same plain (as `dump` does for its `quote_keys`)."""
    offset, yaml_text, node = _yaml_block(text)
    if node is not None and any(getattr(k, "value", None) == key for k, _ in node.value):
        raise FrontMatterError(f"'{key}' is already in the front matter")
    end = offset + len(yaml_text)
    line = f"{key}: {quote(value) if quoted and isinstance(value, str) else dump_value(value)}\n"
    if yaml_text and not yaml_text.endswith("\n"):
        line = "\n" + line
    return text[:end] + line + text[end:]


def add_list_item(text: str, key: str, value: Any, ordered: bool = False) -> str:
    """Add `value` to the list field `key`, in the list's own style (flow `[a, b]` or block `- a` lines).

    The item goes at the end, or with `ordered`, before the first item that sorts after it (so that a sorted
    list of dates stays sorted).

    An absent or empty field becomes `key: [value]`; a single value that should have been a list becomes a
    two-item flow list that keeps the original text. Returns `text` unchanged if the item is already there.
    Raises FrontMatterError if the field is a mapping, or the front matter cannot be parsed.
    """
    offset, _yaml_text, node = _yaml_block(text)
    pairs = node.value if node is not None else []
    pair = next(((k, v) for k, v in pairs if getattr(k, "value", None) == key), None)
    item = scalar(value, flow=True)
    if pair is None:
        return insert_field(text, key, [value])
    _key_node, value_node = pair
    if isinstance(value_node, yaml.SequenceNode):
        items = value_node.value
        if any(isinstance(n, yaml.ScalarNode) and n.value == str(value) for n in items):
            return text
        later = [n for n in items if isinstance(n, yaml.ScalarNode) and str(n.value) > str(value)]
        if ordered and later and all(isinstance(n, yaml.ScalarNode) for n in items):
            at = _offset(text, offset, later[0].start_mark)
            if value_node.flow_style:
                return text[:at] + item + ", " + text[at:]
            line_start = text.rfind("\n", 0, at) + 1
            return text[:line_start] + text[line_start:at] + item + "\n" + text[line_start:]
        if value_node.flow_style or not items:
            if items:
                at = _offset(text, offset, items[-1].end_mark)
                return text[:at] + ", " + item + text[at:]
            at = _offset(text, offset, value_node.end_mark) - 1  # the "]" of "[]"
            return text[:at] + item + text[at:]
        last = items[-1]
        start = _offset(text, offset, last.start_mark)
        line_start = text.rfind("\n", 0, start) + 1
        dash = text.rfind("-", line_start, start)
        prefix = text[line_start:dash] if dash >= 0 else " " * max(0, start - line_start - 2)
        end = _offset(text, offset, last.end_mark)
        line_end = text.find("\n", end)
        line_end = len(text) if line_end < 0 else line_end
        return text[:line_end] + f"\n{prefix}- {item}" + text[line_end:]
    if isinstance(value_node, yaml.ScalarNode):
        start = _offset(text, offset, value_node.start_mark)
        end = _offset(text, offset, value_node.end_mark)
        original = text[start:end]
        if value_node.value == str(value):
            return text
        if value_node.value in ("", "~", "null", "Null", "NULL") and value_node.tag.endswith(":null"):
            new = f"[{item}]"
            if start == end and not text[start - 1 : start].isspace():
                new = " " + new
            return text[:start] + new + text[end:]
        return text[:start] + f"[{original}, {item}]" + text[end:]
    line, col = _pos(value_node)
    raise FrontMatterError(f"'{key}' must be a list like [a, b]", line, col)


def set_field(text: str, key: str, value: Any) -> str:
    """Set `key` to `value` (written as `dump_value` writes it): its value is replaced where it stands, in
    place of what followed `key:` (a flow or block list, a scalar), or `key: value` is added as the last line
    when the key is absent. Comments, other fields and the body stay as written."""
    offset, _yaml_text, node = _yaml_block(text)
    pairs = node.value if node is not None else []
    pair = next(((k, v) for k, v in pairs if getattr(k, "value", None) == key), None)
    if pair is None:
        return insert_field(text, key, value)
    key_node, value_node = pair
    start = _offset(text, offset, key_node.end_mark)
    end = _offset(text, offset, value_node.end_mark)
    if text[end - 1 : end] == "\n":
        end = text.rfind("\n", start, end)  # a block list ends after its last line's break: keep that break
    if isinstance(value_node, yaml.ScalarNode) and not value_node.value and value_node.tag.endswith(":null"):
        end = start + 1  # "key:" with nothing after it: only the colon goes
    return text[:start] + ": " + dump_value(value) + text[end:]
