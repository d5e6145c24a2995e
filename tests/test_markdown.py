"""Markdown: CommonMark, tables, linkify, escaped raw HTML, heading levels, links with a base path."""

from __future__ import annotations

import re

from conftest import SEEDS
from hypothesis import given, settings
from hypothesis import strategies as st
from linkify_it import LinkifyIt
from markdown_it import MarkdownIt

from sitegen.text.markdown import MarkdownRenderer, excerpt, plain_text
from sitegen.text.mathml import math_plugin
from sitegen.text.urls import Urls, bare_link_allowed


class _AllowedLinks:
    """linkify-it on whole paragraphs, minus the links sitegen does not make (a reference for the renderer's
    word-by-word shortcut)."""

    def __init__(self) -> None:
        self.real = LinkifyIt()

    def pretest(self, text: str) -> bool:
        return self.real.pretest(text)

    def test(self, text: str) -> bool:
        return self.real.test(text) and self.match(text) is not None

    def match(self, text: str):
        return [m for m in self.real.match(text) or () if bare_link_allowed(m.raw)] or None

    def match_at_start(self, text: str):
        return self.real.match_at_start(text)


def _stock() -> MarkdownIt:
    stock = MarkdownIt("commonmark", {"linkify": True, "xhtmlOut": False, "html": False})
    stock.enable(["table", "strikethrough", "linkify"])
    stock.linkify = _AllowedLinks()
    return stock.use(math_plugin)


def test_commonmark_basics():
    html = MarkdownRenderer().render("Some *emphasis*, `code` and a [link](https://x.org).\n\n- a\n- b\n")
    assert "<em>emphasis</em>" in html
    assert "<code>code</code>" in html
    assert '<a href="https://x.org">link</a>' in html
    assert "<ul>\n<li>a</li>" in html


def test_tables_and_strikethrough():
    html = MarkdownRenderer().render("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~")
    assert "<table>" in html and "<td>2</td>" in html
    assert "<s>gone</s>" in html


def test_bare_urls_become_links():
    html = MarkdownRenderer().render(
        "Code at https://github.com/a/b. Also www.example.org, github.io/x and me@x.edu."
    )
    assert '<a href="https://github.com/a/b">https://github.com/a/b</a>.' in html
    assert '<a href="http://www.example.org">www.example.org</a>' in html
    assert '<a href="http://github.io/x">github.io/x</a>' in html
    assert "me@x.edu" in html and "mailto" not in html  # an address without "mailto:" is no link


def test_fast_linkify_matches_linkify_it_on_the_seed_digests():
    """The word-by-word shortcut must link exactly what linkify-it links in a whole paragraph."""
    stock = _stock()
    ours = MarkdownRenderer(heading_base=1)
    blocks = [
        b for seed in sorted(SEEDS.glob("*.txt")) for b in seed.read_text(encoding="utf-8").split("\n\n")
    ]
    blocks += [
        "(see https://x.org/a_(b)) and <https://y.org> or [z](https://z.org) http\\://no.org",
        "urls: http://a.b/c?d=e&f, ftp://files.x.org/a; e.g. i.e. U.S. GPT-3.5 x.y",
    ]
    assert len(blocks) > 50
    for block in blocks:
        assert ours.render(block) == stock.render(block), block[:80]


def _same_headings(html: str) -> str:
    return re.sub(r"<(/?)h\d>", r"<\1h>", str(html))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab .:/@wx-_()[]<>*\n")), max_size=60))
def test_fast_linkify_property(text):
    stock = _stock()
    assert _same_headings(MarkdownRenderer(heading_base=1).render(text)) == _same_headings(stock.render(text))


def test_raw_html_is_escaped_by_default():
    html = MarkdownRenderer().render('<script>alert(1)</script>\n\nText <img src=x onerror="alert(2)"> end')
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in html


def test_raw_html_allowed_by_setting():
    html = MarkdownRenderer(allow_html=True).render('Text <abbr title="x">X</abbr>.')
    assert '<abbr title="x">X</abbr>' in html


def test_dangerous_link_schemes_are_not_links():
    html = MarkdownRenderer().render("[a](javascript:alert(1)) [b](data:text/html,x) [c](vbscript:x)")
    assert "href" not in html


def test_headings_start_at_the_section_level_and_never_skip():
    md = MarkdownRenderer()
    html = md.render("# Title\n\ntext\n\n### Deep\n\n## Middle\n\n# Again")
    assert re.findall(r"<(h\d)>", html) == ["h3", "h4", "h4", "h3"]
    html = md.render("### Only deep\n\n#### Deeper")
    assert re.findall(r"<(h\d)>", html) == ["h3", "h4"]
    html = md.render("#### First\n\n# Then top")
    assert re.findall(r"<(h\d)>", html) == ["h3", "h3"]


def test_root_relative_links_get_the_base_path():
    urls = Urls("https://x.org/review/")
    md = MarkdownRenderer(link=urls.content_link)
    html = md.render(
        "[a](/papers/a/) [b](https://o.org/x) [c](rel/) [d](//cdn.x/y) [e](/review/ok/) ![i](/img/i.png)"
    )
    assert 'href="/review/papers/a/"' in html
    assert 'href="https://o.org/x"' in html
    assert 'href="rel/"' in html
    assert 'href="https://cdn.x/y"' in html
    assert 'href="/review/ok/"' in html
    assert 'src="/review/img/i.png"' in html


def test_cache_returns_the_same_html_and_forgets_unused_entries():
    md = MarkdownRenderer()
    first = md.render("Some text.")
    assert md.render("Some text.") is first
    md.next_generation()
    md.render("Other text.")
    md.next_generation()
    md.next_generation()
    assert md.render("Some text.") == first


def test_plain_text_and_excerpt():
    text = plain_text(MarkdownRenderer().render("A *b* &amp; <c> [d](https://x.org)"))
    assert text == "A b & <c> d"
    assert excerpt("short", 10) == "short"
    assert excerpt("one two three four", 12) == "one two…"
    assert len(excerpt("word " * 100, 50)) <= 51


_PIECES = [
    "http",
    "https",
    "ftp",
    "://",
    "www.",
    "x.org",
    "a",
    "b1",
    " ",
    "\n",
    "_",
    "*",
    "(",
    ")",
    "[",
    "]",
    "<",
    ">",
]
_PIECES += ["@", ".", ",", "github.com/a/b", "e.g.", "\\", "`", "mailto:", "x" * 70, "images.In", "hf.co"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=25).map("".join))
def test_fast_linkify_property_with_url_pieces(text):
    stock = _stock()
    assert _same_headings(MarkdownRenderer(heading_base=1).render(text)) == _same_headings(stock.render(text))
