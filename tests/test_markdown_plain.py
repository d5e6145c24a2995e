"""The plain-paragraph shortcut of the Markdown renderer gives exactly markdown-it's HTML."""

from __future__ import annotations

from conftest import SEEDS
from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen.markdown import MarkdownRenderer, _is_plain_paragraph

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
    assert renderer._convert(text) == reference(text)


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
    assert renderer.render("See x.org now").startswith('<p>See <a href="http://x.org">')
