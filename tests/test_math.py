"""Math in abstracts and notes: MathML at build time, no script; plain text for descriptions and feeds; math
that does not render is shown as its source with a file:line warning."""

from __future__ import annotations

import re
import shutil

import feedparser
from conftest import REPO, paper
from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen.text.markdown import MarkdownRenderer
from sitegen.text.mathml import math_text, to_mathml


def _page(root, slug: str) -> str:
    return (root / "public" / "papers" / slug / "index.html").read_text(encoding="utf-8")


def test_math_in_abstract_and_notes_becomes_mathml(site, run):
    root = site(
        {
            "content/papers/a.md": paper(
                "a",
                "A",
                body="Costs $\\mathcal{O}(1)$ per step, and \\(x^2\\) more.\n\n"
                "Notes: $$\\sum_i x_i$$ and \\[a+b\\].",
            )
        }
    )
    result = run("build", "--root", root, "--no-search")
    assert result.code == 0, result.err
    html = _page(root, "a")
    maths = re.findall(
        r'<math xmlns="http://www.w3.org/1998/Math/MathML" display="(\w+)" alttext="([^"]*)">', html
    )
    assert maths == [("inline", "O(1)"), ("inline", "x²"), ("block", "∑_i x_i"), ("block", "a+b")]
    assert "<msup><mi>x</mi><mn>2</mn></msup>" in html
    assert "<script" not in html.split("</main>")[0].split("<main")[1]
    assert '<meta name="description" content="Costs O(1) per step, and x² more.">' in html


def test_descriptions_and_feeds_get_plain_text(site, run):
    root = site({"content/papers/a.md": paper("a", "A", body="Costs $\\mathcal{O}(n \\log n)$ time.")})
    assert run("build", "--root", root, "--no-search").code == 0
    feed = feedparser.parse((root / "public" / "feed.xml").read_bytes())
    assert feed.entries[0].summary == "Costs O(n log n) time."


def test_math_that_does_not_render_is_shown_as_source_with_a_warning(site, run):
    body = "An abstract with $x$.\n\nNotes line one,\nthen $\\nosuchcommand{y}$ here."
    root = site({"content/papers/a.md": paper("a", "A", body=body)})
    path = root / "content" / "papers" / "a.md"
    warning = f"{path}:8:1: warning: math that does not render, shown as its source: $\\nosuchcommand{{y}}$"
    checked = run("check", "--root", root)
    assert checked.code == 0 and checked.err.strip() == warning
    built = run("build", "--root", root, "--no-search")
    assert built.code == 0 and warning in built.err
    assert '<code class="math-source">$\\nosuchcommand{y}$</code>' in _page(root, "a")
    assert run("build", "--root", root, "--no-search", "--strict").code == 1


def test_money_and_code_are_not_math():
    md = MarkdownRenderer()
    assert md.render("It costs $5 and $10.") == "<p>It costs $5 and $10.</p>\n"
    assert md.render("Write `$x$` or \\$y\\$.") == "<p>Write <code>$x$</code> or $y$.</p>\n"


def test_math_cannot_inject_markup_or_links():
    source = "$\\text{<script>alert(1)</script>}$ $\\href{javascript:alert(1)}{x}$ $\\style{color:red}{y}$"
    html = str(MarkdownRenderer().render(source + " $a<b$"))
    assert (
        "<script" not in html and '<code class="math-source">$\\href{javascript:alert(1)}{x}$</code>' in html
    )
    assert "style=" not in html and "href=" not in html
    assert "<mo>&lt;</mo>" in html  # a < in math is text


def test_math_text_is_plain_unicode():
    assert math_text("\\mathcal{O}(1)") == "O(1)"
    assert math_text("\\alpha \\leq \\frac{1}{2}") == "α ≤ 1/2"
    assert to_mathml("\\frac{1}{") is None


def test_a_known_sample_abstract_renders_its_math(tmp_path, run):
    slug = "on-the-provable-advantage-of-unsupervised-pretraining"
    (tmp_path / "content" / "papers").mkdir(parents=True)
    shutil.copy(REPO / "content" / "papers" / f"{slug}.md", tmp_path / "content" / "papers")
    assert run("build", "--root", tmp_path, "--no-search").code == 0
    html = _page(tmp_path, slug)
    assert 'alttext="O(C_Φ/m + C_Ψ/n)"' in html and html.count("<math ") == 6


# The renderer's parser-free path must hand anything that may be math to the parser: both give the same HTML.
PIECES = st.sampled_from(
    [
        "word",
        " ",
        "$",
        "$$",
        "\\(",
        "\\)",
        "\\[",
        "\\]",
        "x^2",
        "\\alpha",
        "5",
        "{",
        "}",
        "`",
        "\\",
        "\n",
        "_",
    ]
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(PIECES, min_size=1, max_size=16).map("".join))
def test_the_parser_free_path_never_skips_math(text):
    renderer = MarkdownRenderer()
    assert renderer._convert(text) == renderer._md.render(text)
