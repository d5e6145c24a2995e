from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sitegen.content.frontmatter import FrontMatterError, dump, parse, quote


def test_dump_layout_matches_the_contract():
    text = dump(
        {
            "title": "A: B",
            "slug": "a-b",
            "digests": ["2026-03-13"],
            "tags": ["llm"],
            "links": ["https://github.com/o/r"],
        },
        "Abstract.\n",
    )
    assert text == (
        '---\ntitle: "A: B"\nslug: a-b\ndigests: [2026-03-13]\ntags: [llm]\n'
        "links: [https://github.com/o/r]\n---\nAbstract.\n"
    )


def test_dates_stay_strings():
    assert parse("---\ndigests: [2026-03-13]\n---\n").fields["digests"] == ["2026-03-13"]


def test_crlf_and_positions():
    doc = parse("---\ntitle: A\ntags:\n  - x\n  - y\n---\nbody\n")
    assert doc.position("tags", 1) == (5, 5)
    assert doc.body == "body\n" and doc.body_line == 7


def test_no_body():
    assert parse("---\ntitle: A\n---").body == ""


def test_unclosed():
    with pytest.raises(FrontMatterError):
        parse("---\ntitle: A\n")


values = st.one_of(
    st.text(),
    st.lists(st.text(), max_size=4),
    st.booleans(),
    st.integers(),
)
keys = st.sampled_from(["title", "slug", "digests", "tags", "links", "note"])


@given(st.dictionaries(keys, values, max_size=6), st.text().map(lambda s: s.replace("\r", "")))
def test_dump_then_parse_round_trips(fields, body):
    if "\n---" in "\n" + body or "\n..." in "\n" + body:
        body = ""
    doc = parse(dump(fields, body))
    assert doc.fields == fields
    expected = body if body.endswith("\n") or not body else body + "\n"
    assert doc.body == expected


@given(st.text())
def test_quote_round_trips(text):
    assert parse(f"---\nt: {quote(text)}\n---\n").fields["t"] == text
