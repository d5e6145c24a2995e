"""The front-matter fast path reads a block exactly as the YAML parser does, or leaves it to the parser."""

from __future__ import annotations

import pytest
from conftest import REPO
from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen.content.frontmatter import FrontMatterError, _parse_document, _parse_simple, parse, split

# Words that YAML reads as something other than a string, or that are not plain scalars at all, and words
# that are: the fast path must tell them apart exactly as the resolver does.
WORDS = [
    *("yes", "No", "ON", "OFF", "off", "On", "true", "False", "y", "n", "~", "null", "NULL", "Null", "nil"),
    *("0", "1", "-3", "+7", "007", "0x1F", "0o17", "1_000", "1:30", "1.5", "1e3", ".inf", "-.Inf", ".nan"),
    *("2026-03-12", "2026-3-1", "2026-03-12T10:00:00", "abc", "a-b", "llm", "3d-shapes", "<<", "=", "-"),
    *("https://github.com/a/b", "http://x.org/p?q=1&r=2", "x:", "a:b", "a: b", "a#b", "a #b", "#c", "%x"),
    *("*ref", "&anchor", "!tag", "|", ">", "@at", "`tick", "?q", "a,b", "é", "中文", "a\u2028b", "a\x85b"),
    *("2401.01234", "2401.01230", "hep-th/9901001", "a b", " a", "a ", "", "'s'", '"d"', "[x]", "{y}"),
]
QUOTED = [
    *("A title", "A: colon", "#hash", "it's", "tab\there", "back\\slash", "é – ü", "", "  spaced  "),
    *("[brackets]", "{braces}", "a\x07bell", "line\u2028sep", "nel\x85x", "\ufeffbom", 'quote"inside'),
]
KEYS = ["title", "slug", "digests", "tags", "links", "status", "rating", "arxiv", "yes", "1", "draft", "x-y"]


def _value(draw) -> str:
    kind = draw(st.sampled_from(["word", "quoted", "flow", "empty", "odd"]))
    if kind == "word":
        return draw(st.sampled_from(WORDS))
    if kind == "quoted":
        return '"' + draw(st.sampled_from(QUOTED)) + '"'
    if kind == "flow":
        items = draw(st.lists(st.sampled_from(WORDS), max_size=4))
        sep = draw(st.sampled_from([", ", ",", " , "]))
        return "[" + sep.join(items) + "]"
    if kind == "empty":
        return draw(st.sampled_from(["[]", "[ ]", "", "[,]", "[a,]"]))
    return draw(st.sampled_from(["- a", "|", "'single'", "[a, [b]]", "{a: b}", "a # comment", "!!str 1"]))


@st.composite
def blocks(draw) -> str:
    lines = []
    for _ in range(draw(st.integers(1, 6))):
        key = draw(st.sampled_from(KEYS))
        sep = draw(st.sampled_from([": ", ": ", ":", ":  "]))
        lines.append(key + sep + _value(draw))
    if draw(st.booleans()):
        lines.append(draw(st.sampled_from(["", "# comment", "  - item", "\t"])))
    return "\n".join(lines) + draw(st.sampled_from(["\n", ""]))


def _by_the_parser(yaml_text: str):
    try:
        doc = _parse_document(yaml_text, "", 1)
    except FrontMatterError as exc:
        return ("error", str(exc))
    return (doc.fields, doc.key_positions, doc.positions, doc.item_positions)


@settings(max_examples=4000, deadline=None)
@given(blocks())
def test_the_fast_path_reads_a_block_as_the_yaml_parser_does(yaml_text):
    fast = _parse_simple(yaml_text)
    if fast is not None:
        assert fast == _by_the_parser(yaml_text)


def test_the_fast_path_takes_what_sitegen_writes():
    pages = sorted((REPO / "content" / "papers").glob("*.md"))
    taken = 0
    for page in pages:
        yaml_text, _body, _line = split(page.read_text(encoding="utf-8"))
        fast = _parse_simple(yaml_text)
        if fast is not None:
            taken += 1
            assert fast == _by_the_parser(yaml_text), page.name
    assert taken >= 0.95 * len(pages)


@pytest.mark.parametrize(
    "text",
    [
        '---\ntitle: "T"\nslug: s\ntitle: "U"\n---\n',  # duplicate key: the parser's message
        "---\ntitle: yes\nslug: s\n---\n",  # a boolean title: the model's message
        '---\ntitle: "T"\nslug: s\narxiv: 2401.01230\n---\n',  # a float: the model refuses it
    ],
)
def test_what_the_fast_path_leaves_reads_as_before(text):
    yaml_text, body, line = split(text)
    try:
        expected = _parse_document(yaml_text, body, line)
    except FrontMatterError as exc:
        with pytest.raises(FrontMatterError, match=str(exc)):
            parse(text)
        return
    assert parse(text) == expected
