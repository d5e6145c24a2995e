"""Links come only from text with a scheme, a "www." prefix or a known code or data host: at import (`links:`)
and when Markdown renders, on the parser's path and the parser-free one alike."""

from __future__ import annotations

import re
import shutil

from conftest import REPO, paper, write_site
from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen.content.frontmatter import decode, parse
from sitegen.text.markdown import MarkdownRenderer
from sitegen.text.urls import KNOWN_HOSTS, bare_link_allowed

DIGEST = """Mar 13

Detecting Objects in Images Without a Space
We search for images.In this project MedRoBERTa.nl is a model; see x.ai too. Code at github.com/a/b and \
www.example.org/p, data on huggingface.co/datasets/c/d, the page https://x.org/q and muse-bench.github.io.
"""


def test_import_lists_and_links_only_real_links(tmp_path, run):
    root = write_site(tmp_path / "site", {"content/taxonomy.yaml": "tags: []\n"})
    digest = tmp_path / "d.txt"
    digest.write_text(DIGEST, encoding="utf-8")
    assert run("import", digest, "--root", root, "--year", "2026").code == 0
    (page,) = (root / "content" / "papers").glob("*.md")
    doc = parse(decode(page.read_bytes())[0])
    assert doc.fields["links"] == [
        "https://github.com/a/b",
        "https://www.example.org/p",
        "https://huggingface.co/datasets/c/d",
        "https://x.org/q",
        "https://muse-bench.github.io",
    ]
    assert "images. In this project MedRoBERTa.nl is a model; see x.ai too." in doc.body
    assert run("build", "--root", root, "--no-search").code == 0
    html = (root / "public" / "papers" / page.stem / "index.html").read_text(encoding="utf-8")
    abstract = html.split('class="prose abstract"')[1].split("</section>")[0]
    hrefs = re.findall(r'href="([^"]+)"', abstract)
    assert hrefs == doc.fields["links"]


def test_words_that_look_like_domains_are_not_links_in_notes():
    html = MarkdownRenderer().render("Notes on MedRoBERTa.nl, images.In, x.ai, a@b.io and e.g. this.")
    assert "<a " not in html


def test_scheme_www_and_known_hosts_are_links_in_notes():
    md = MarkdownRenderer()
    assert '<a href="https://y.org/z">' in md.render("see https://y.org/z")
    assert '<a href="http://www.y.org">' in md.render("see www.y.org")
    assert '<a href="http://github.com/a/b">' in md.render("see github.com/a/b")
    assert '<a href="http://u.github.io/p">' in md.render("see u.github.io/p")
    assert '<a href="mailto:a@b.io">' in md.render("write to <a@b.io>")  # an autolink is explicit


def test_known_hosts_and_subdomains():
    assert {"github.com", "huggingface.co", "zenodo.org", "arxiv.org", "doi.org"} <= KNOWN_HOSTS
    assert bare_link_allowed("docs.github.com/x") and bare_link_allowed("WWW.x.org")
    assert bare_link_allowed("ftp://x.org") and bare_link_allowed("//huggingface.co/m")
    assert not bare_link_allowed("notgithub.com/x") and not bare_link_allowed("images.In")
    assert not bare_link_allowed("//x.org/a")


LINKISH = [
    "images.In",
    "MedRoBERTa.nl",
    "x.ai",
    "github.com/a/b",
    "www.x.org",
    "hf.co/m",
    "https://x.org",
    "a@b.io",
]
WORDS = st.sampled_from(
    [*LINKISH, "word", " ", ". ", ",", "(", ")", "`", "*", "_", "\n", "e.g.", "<", ">", "://", "\\", "$"]
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(WORDS, min_size=1, max_size=20).map("".join))
def test_parser_free_path_and_parser_make_the_same_links(text):
    renderer = MarkdownRenderer()
    assert renderer._convert(text) == renderer._md.render(text)


def test_the_sample_site_links_only_what_has_a_scheme_www_or_a_known_host(tmp_path, run):
    shutil.copytree(REPO / "content", tmp_path / "content")
    assert run("build", "--root", tmp_path, "--no-search").code == 0
    for path in (tmp_path / "public" / "papers").glob("*/index.html"):
        html = path.read_text(encoding="utf-8")
        abstract = html.split('class="prose abstract"')[1].split("</section>")[0]
        for text in re.findall(r'<a href="[^"]+">([^<]+)</a>', abstract):
            assert bare_link_allowed(text), (path.parent.name, text)


def test_a_page_written_by_hand_keeps_its_links_field(site, run):
    root = site({"content/papers/a.md": paper("a", "A", links="[https://github.com/a/b]")})
    assert run("check", "--root", root).code == 0
