"""Site addresses and the links sitegen makes for a paper."""

from __future__ import annotations

from urllib.parse import quote_plus

from hypothesis import given
from hypothesis import strategies as st

from sitegen.text.urls import find_paper_links, query_value


def test_query_value_is_quote_plus_for_every_ascii_character():
    for code in range(128):
        assert query_value(chr(code) * 2) == quote_plus(chr(code) * 2), code


@given(st.text(max_size=80))
def test_query_value_is_quote_plus(text: str):
    assert query_value(text) == quote_plus(text)


def test_find_links_quote_the_title():
    links = dict(find_paper_links("Attention: Is All You Need? (v2) — 100% sure"))
    query = "Attention%3A+Is+All+You+Need%3F+%28v2%29+%E2%80%94+100%25+sure"
    assert links["arXiv"] == f"https://arxiv.org/search/?query={query}&searchtype=title"
    assert links["Hugging Face"] == f"https://huggingface.co/papers?q={query}"
