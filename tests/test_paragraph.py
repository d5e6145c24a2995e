"""The parser-free path for simple paragraphs (sitegen.text.paragraph) gives exactly markdown-it's HTML, and
is taken for the paragraphs it is meant for."""

from __future__ import annotations

import pytest
from conftest import REPO, SEEDS
from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen.content.model import split_body
from sitegen.text.markdown import MarkdownRenderer
from sitegen.text.paragraph import simple_paragraph


def reference(text: str, allow_html: bool = False) -> str:
    return MarkdownRenderer(allow_html=allow_html)._md.render(text)


def fast(text: str, allow_html: bool = False, link=None) -> str | None:
    """The HTML the renderer makes for `text` when it skips the parser; None when it runs the parser."""
    renderer = MarkdownRenderer(allow_html=allow_html, link=link)
    calls = []
    parse = renderer._md.render
    renderer._md.render = lambda src, *args: calls.append(src) or parse(src, *args)  # type: ignore[method-assign]
    html = renderer._convert(text)
    return None if calls else html


# Pieces of abstracts: words, LaTeX remnants, snake_case, code, the characters markup starts with (literal
# or not), line breaks with and without what starts a block, entities, links with and without a scheme.
PIECES = st.sampled_from(
    [
        *("word", "Model", " ", " ", " ", ", ", ". ", "(", ")", "é", "—", "“", "”", "，", "'", '"', ":", ";"),
        *("$\\alpha$", "\\mathcal{O}(n)", "\\_", "\\*", "\\\\", "\\`", "\\&", "\\", "x_i", "snake_case"),
        *("_x", "x_", "_", "__", "*", "**", "*a*", "_a_", "a*b", "~", "~~", "a~b", "&", "& ", "&amp;"),
        *("&#38;", "&foo;", "&#x26;", "<", "< ", "<b>", "<http://x.org>", "a<b", ">", "a > b", "[", "]"),
        *("[x]", "[x](y)", "![i](p)", "!", "`", "``", "`code`", "`a_b*c`", "`` a`b ``", "` `", "```"),
        *("\n", "\nnext", "\n  indented", "\n- item", "\n# head", "\n> quote", "\n1. one", "\n---"),
        *("\n===", "\n:--", "\n|a|", "  \n", "\\\n", " \n", "\n\n"),
        *("https://github.com/a_b/c", "http://x.org/p?q=1&r=2", "HTTPS://A.B/C", "ftp://h/p", "x://y"),
        *("https://x.org/%20", "https://é.fr/ü", "https://xn--e1a.org/", "https://a.b/(c)", "://", "http://"),
        *("www.x.org", "x.com", "MedRoBERTa.nl", "a@b.io", "e.g.", "i.e.", "3.5", "a.com[//x.y://"),
    ]
)
PARAGRAPH = st.lists(PIECES, min_size=1, max_size=24).map("".join)


@settings(max_examples=4000, deadline=None)
@given(PARAGRAPH)
def test_the_renderer_equals_markdown_it(text):
    assert MarkdownRenderer()._convert(text) == reference(text)


@settings(max_examples=1500, deadline=None)
@given(PARAGRAPH)
def test_the_renderer_equals_markdown_it_with_raw_html_allowed(text):
    assert MarkdownRenderer(allow_html=True)._convert(text) == reference(text, allow_html=True)


@settings(max_examples=2000, deadline=None)
@given(PARAGRAPH.map(lambda middle: f"Word {middle} end."))
def test_the_parser_free_path_equals_markdown_it(text):
    html = simple_paragraph(text)
    if html is not None and "://" not in text and "." not in text.replace("end.", ""):
        assert html == reference(text)


def test_literal_markup_code_and_links_skip_the_parser():
    cases = {
        "Loss \\mathcal{L}_{ce} and x_i in snake_case, A & B.": (
            "<p>Loss \\mathcal{L}_{ce} and x_i in snake_case, A &amp; B.</p>\n"
        ),
        "Use `a_b*c` and `` x`y ``; a > b < c ~ d [sic] !": (
            "<p>Use <code>a_b*c</code> and <code>x`y</code>; a &gt; b &lt; c ~ d [sic] !</p>\n"
        ),
        "Escaped \\_ and \\* and \\\\ stay.": "<p>Escaped _ and * and \\ stay.</p>\n",
        "One line\nand the next,\n   indented.": "<p>One line\nand the next,\nindented.</p>\n",
        'Code at https://github.com/x/y_z. "Data": x_1, images.In and MedRoBERTa.nl.': (
            '<p>Code at <a href="https://github.com/x/y_z">https://github.com/x/y_z</a>. '
            "&quot;Data&quot;: x_1, images.In and MedRoBERTa.nl.</p>\n"
        ),
    }
    for text, html in cases.items():
        assert fast(text) == html == reference(text), text


def test_markup_that_may_fire_goes_to_the_parser():
    for text in [
        "An *emphasised* word",
        "An _emphasised_ word",
        "Struck ~~out~~ text",
        "An entity &amp; here",
        "An autolink <https://x.org>",
        "A [link](https://x.org)",
        "An ![image](x.png)",
        "[ref]: https://x.org",
        "A hard  \nbreak",
        "A hard\\\nbreak",
        "A line\n- that starts a list",
        "A heading\n===",
        "A table\n:--|--",
        "A schemeless link to www.x.org",
        "Multi-line `code\nspan`",
        "Math $x^2$ here",
        "Math \\(x^2\\) here",
        "Display \\[x\\] here",
        "Money $5 and $10",
    ]:
        assert simple_paragraph(text) is None or fast(text) is None, text
        assert MarkdownRenderer()._convert(text) == reference(text)
    assert simple_paragraph("A <b>tag</b> allowed", allow_html=True) is None
    assert simple_paragraph("A <b>tag</b> shown") == "<p>A &lt;b&gt;tag&lt;/b&gt; shown</p>\n"


@pytest.mark.parametrize(
    ("text", "html"),
    [
        (
            "See `x_y` at https://github.com/x/y_z and a_b.",
            '<p>See <code>x_y</code> at <a href="https://mirror.github.com/x/y_z">https://github.com/x/y_z</a>'
            " and a_b.</p>\n",
        ),
        (
            'Code at https://github.com/x/y. and "data" at http://example.org/d?a=1, see both.',
            '<p>Code at <a href="https://mirror.github.com/x/y">https://github.com/x/y</a>. and '
            '&quot;data&quot; at <a href="http://example.org/d?a=1">http://example.org/d?a=1</a>, '
            "see both.</p>\n",
        ),
    ],
)
def test_links_are_made_and_rewritten_on_the_parser_free_path(text, html):
    assert fast(text, link=lambda href: href.replace("https://", "https://mirror.")) == html


def test_a_link_without_scheme_goes_to_the_parser():
    text = "See https://x.org and www.y.org"
    assert fast(text) is None
    assert 'href="http://www.y.org"' in MarkdownRenderer()._convert(text) == reference(text)


def test_a_link_shorter_than_its_scheme_does_not_stop_the_parser():
    # markdown-it-py's linkify rule lacks markdown-it's length check: without it the parser raises here.
    assert MarkdownRenderer().render("a.com[//x.y://").startswith("<p>")


def _real_paragraphs() -> list[str]:
    texts = [
        line.strip()
        for seed in sorted(SEEDS.glob("*.txt"))
        for line in seed.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    for page in sorted((REPO / "content" / "papers").glob("*.md")):
        body = page.read_text(encoding="utf-8").split("\n---\n", 1)[1]
        texts.append(split_body(body)[0])
    return [t for t in texts if t]


def test_real_text_equals_markdown_it_and_mostly_skips_the_parser():
    renderer = MarkdownRenderer()
    texts = _real_paragraphs()
    for text in texts:
        assert renderer._convert(text) == reference(text), text
    marked = [t for t in texts if any(c in t for c in "\\_`&~<>[]*")]
    skipped = [t for t in marked if fast(t) is not None]
    assert len(marked) > 50
    assert len(skipped) > 0.8 * len(marked)


def test_the_character_classes_are_markdown_its():
    import sys

    from markdown_it.common.utils import MD_ASCII_PUNCT, isMdAsciiPunct, isPunctChar, isWhiteSpace

    from sitegen.text.paragraph import _ASCII_PUNCT, is_punctuation, is_whitespace

    assert {chr(code) for code in MD_ASCII_PUNCT} == _ASCII_PUNCT
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        assert is_whitespace(char) == isWhiteSpace(code), hex(code)
        assert is_punctuation(char) == (isMdAsciiPunct(code) or isPunctChar(char)), hex(code)


def test_the_link_rules_are_markdown_its():
    import importlib

    from markdown_it.common import normalize_url

    from sitegen.text import markdown

    autolink = importlib.import_module(
        "markdown_it.rules_inline.autolink"
    )  # (the package names a function so)

    assert markdown.AUTOLINK_RE.pattern == autolink.AUTOLINK_RE.pattern
    assert markdown.EMAIL_RE.pattern == autolink.EMAIL_RE.pattern
    for url in [
        "https://x.org",
        "JavaScript:alert(1)",
        " data:image/png;base64,x",
        "data:text/html,x",
        "file:/",
    ]:
        assert markdown.valid_link(url) == normalize_url.validateLink(url), url


URL = st.lists(
    st.sampled_from(
        [*"aZ09-._~:/?#[]@!$&'()*+,;=% é", "https://", "http://", "HTTP://", "xn--", ".org", "%20"]
    ),
    min_size=1,
    max_size=20,
).map(lambda parts: "https://" + "".join(parts))


@settings(max_examples=2000, deadline=None)
@given(URL)
def test_urls_are_normalized_as_markdown_it_does(url):
    from markdown_it.common.normalize_url import normalizeLink, normalizeLinkText

    from sitegen.text.markdown import _normalized

    assert _normalized(url) == (normalizeLink(url), normalizeLinkText(url))


def test_a_paragraph_with_bare_links_is_rendered_without_importing_the_parser():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from sitegen.text.markdown import MarkdownRenderer\n"
        "html = MarkdownRenderer().render('Code: https://github.com/x/y_z and `x_y`, a_b, images.In.')\n"
        "assert '<a href=\"https://github.com/x/y_z\">' in html, html\n"
        "print('markdown_it' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
