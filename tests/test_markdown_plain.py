"""The plain-paragraph shortcut of the Markdown renderer gives exactly markdown-it's HTML."""

from __future__ import annotations

from conftest import SEEDS
from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen.text.markdown import MarkdownRenderer, _is_plain_paragraph, plain_text

# Letters and the characters that matter to CommonMark, whitespace of every kind, and pieces of links.
ALPHABET = st.sampled_from(
    [
        *"aZ09 .,;:()'\"-+=#>*_`~[]!<>&\\|/@%$^{}?\t\n\r\x0b\x0c\xa0\u2003\u2028\x1c\x85é中🙂",
        *("http://", "https://x.org", "www.", "e.g.", "x.com", "a@b.io", "1.", "1)", "---", "**", "&amp;"),
    ]
)


def reference(text: str) -> str:
    renderer = MarkdownRenderer()
    return renderer._md.render(text)


@settings(max_examples=3000, deadline=None)
@given(st.lists(ALPHABET, min_size=1, max_size=30).map("".join))
def test_shortcut_equals_markdown_it(text):
    renderer = MarkdownRenderer()
    html, known = renderer._convert_texts(text)
    assert html == reference(text)
    assert known is None or known == plain_text(html)  # a plain paragraph's own text is its plain text


def test_shortcut_equals_markdown_it_on_the_seed_digests():
    renderer = MarkdownRenderer()
    texts = [
        line.strip()
        for seed in sorted(SEEDS.glob("*.txt"))
        for line in seed.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    plain = [t for t in texts if _is_plain_paragraph(t)]
    assert len(plain) > len(texts) // 4  # the shortcut is taken for a good share of real text
    for text in texts:
        assert renderer._convert(text) == reference(text), text


def test_quotes_are_escaped_and_specials_go_the_long_way():
    renderer = MarkdownRenderer()
    assert renderer.render('A "quoted" word.') == "<p>A &quot;quoted&quot; word.</p>\n"
    assert renderer.render("A *b* c") == "<p>A <em>b</em> c</p>\n"
    assert renderer.render("See www.x.org now").startswith('<p>See <a href="http://www.x.org">')
    assert (
        renderer.render("See x.org now") == "<p>See x.org now</p>\n"
    )  # not a link: no scheme, www or known host


# Plain text around bare links: words, punctuation that ends or continues a URL, schemes valid and not.
LINK_TEXT = st.lists(
    st.sampled_from(
        [
            *("a", "word", " ", " ", ", ", ". ", "(", ")", ":", "'", '"', "-", "é", "中", "?", "%", "#", "/"),
            *("http://", "https://", "ftp://", "git+ssh://", "HTTPS://", "x://", "://", "javascript://"),
            *("github.com/a-b/c", "arxiv.org/abs/2401.01234", "example.org", "x.y", "%20", "e.g.", "*"),
            *("www.x.org", "a@b.io", "localhost:8000", ".", "..", "/path)", "?q=1&", "é.fr"),
        ]
    ),
    min_size=1,
    max_size=25,
).map("".join)


@settings(max_examples=4000, deadline=None)
@given(LINK_TEXT)
def test_linked_paragraph_shortcut_equals_markdown_it(text):
    renderer = MarkdownRenderer()
    assert renderer._convert(text) == reference(text)


# Mostly links with a scheme, so that most examples take the shortcut (the strategy above mostly tests
# that it is refused when it must be).
SCHEMED_TEXT = st.lists(
    st.sampled_from(
        [
            *("word", " ", " ", ", ", ". ", "(", ")", ":", "'", '"', "-", "é", "?", "/", "%2F", ";", "#frag"),
            *("https://github.com/a-b/c", "http://x.org/p?q=1", "ftp://h/p", "HTTPS://A.B/C", "x-y://z"),
            *("https://arxiv.org/abs/2401.01234v2", "http://", "://", "javascript://x", "https://é.fr/ü"),
            *("https://a.b/(c)", "."),
        ]
    ),
    min_size=1,
    max_size=25,
).map(lambda middle: f"Word {middle} end")


@settings(max_examples=3000, deadline=None)
@given(SCHEMED_TEXT)
def test_linked_paragraph_shortcut_equals_markdown_it_with_schemes(text):
    renderer = MarkdownRenderer()
    assert renderer._convert(text) == reference(text)
