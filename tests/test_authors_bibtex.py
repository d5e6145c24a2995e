"""Authors (issue 20.4), true BibTeX (issue 19.6) and "why related" (issue 19.5), on small sites built by the
CLI: author pages and their links, BibTeX read back by bibtexparser, shared terms in the related list, the
`author` filter of a real Pagefind index, and incremental builds that equal cold ones after author edits."""

from __future__ import annotations

import html
import json
import random
import re
from pathlib import Path

import bibtexparser
import pytest
from conftest import paper, write_site
from markupsafe import escape
from test_bibtex import DECODER
from test_incremental import Sites, corpus
from test_incremental_property import edit_authors, with_authors
from test_related import OPTION_SETS, edit, fingerprinted, random_corpus

from sitegen.build import plan
from sitegen.content.related import RelatedIndex, related_with_terms
from sitegen.content.slugs import author_group, author_slug

DIFFUSION = (
    "Denoising diffusion models synthesize images with a score network and classifier guidance; "
    "sampling follows the reverse diffusion process."
)
DIFFUSION_TOO = (
    "A score network trained for denoising diffusion improves image synthesis, and guidance trades "
    "diversity for fidelity during sampling."
)
ROBOTS = "A robot arm learns grasping through reinforcement learning, with a reward for every grasp."
ROBOTS_TOO = "Reinforcement learning of grasping for a real robot arm, with reward shaping for each grasp."
HOSTILE = '<b>Bold</b> & "Quote" O\'Neil'

# slug -> (title, front matter fields, abstract)
PAPERS = {
    "diffusion-a": (
        "Guided Diffusion for Images",
        {"arxiv": '"2401.01234"', "authors": '["Ada Lovelace", "José García"]', "tags": "[diffusion]"},
        DIFFUSION,
    ),
    "diffusion-b": (
        "Score Networks for Denoising Diffusion",
        {"arxiv": '"hep-th/9901001"', "authors": '["Jose Garcia", "Grace Hopper", "张伟"]'},
        DIFFUSION_TOO,
    ),
    "no-id": (
        "Robots That Grasp",
        {"authors": json.dumps([HOSTILE, "Grace Hopper"])},
        ROBOTS,
    ),
    "published-only": (
        "Grasping by Reinforcement",
        {"published": "2023-05-17", "doi": "10.1000/xyz_123", "authors": '["Alan Turing"]'},
        ROBOTS_TOO,
    ),
    "hidden": ("A Draft", {"draft": "true", "authors": '["Hidden Author", "Ada Lovelace"]'}, ROBOTS),
}


def site_files() -> dict[str, str]:
    files = {}
    for slug, (title, fields, abstract) in PAPERS.items():
        fields = {"digests": "[2026-03-13]", **fields}
        files[f"content/papers/{slug}.md"] = paper(slug, title, abstract, **fields)
    return files


@pytest.fixture
def built(tmp_path, run):
    """The site built by the CLI without search, for the default base URL (localhost); returns `public/`."""
    root = write_site(tmp_path / "site", site_files())
    result = run("build", "--root", root, "--no-search")
    assert result.code == 0, result.err
    return root / "public"


def read(out: Path, rel: str) -> str:
    return (out / rel).read_text(encoding="utf-8")


def item_links(page: str) -> list[str]:
    """The papers a list page shows, by the links of their list items' titles."""
    return re.findall(r'<h2 class="paper-item-title"><a href="/papers/([a-z0-9-]+)/">', page)


# --- author pages -------------------------------------------------------------------------------------------


def test_author_slugs_are_ascii_stable_and_shared_by_spellings():
    assert (
        author_slug("José García")
        == author_slug("Jose  Garcia")
        == author_slug("JOSE GARCIA")
        == "jose-garcia"
    )
    assert author_slug("Ada Lovelace") != author_slug("Ada Lovelace-King")
    cjk = author_slug("张伟")
    assert re.fullmatch(r"author-[0-9a-f]{6}", cjk) and cjk == author_slug(" 张伟 ") != author_slug("李娜")
    assert re.fullmatch(r"letter-[0-9a-f]{6}", author_slug("Letter"))  # authors/letter/ holds the groups
    assert [author_group(n) for n in ("Émile Borel", "3M Research", "张伟")] == ["e", "0-9", "other"]


def test_each_author_has_a_page_with_their_papers_and_the_index_counts_them(built):
    index = read(built, "authors/index.html")
    listed = re.findall(
        r'<li><a href="/authors/([a-z0-9-]+)/">([^<]*)</a> <span class="author-count">(\d+)</span>', index
    )
    expected = [
        ("ada-lovelace", "Ada Lovelace", "1"),  # (her draft is not shown)
        ("alan-turing", "Alan Turing", "1"),
        ("b-bold-b-and-quote-oneil", str(escape(HOSTILE)), "1"),
        ("grace-hopper", "Grace Hopper", "2"),
        ("jose-garcia", "José García", "2"),  # one author under two spellings; the accented one is shown
        (author_slug("张伟"), "张伟", "1"),  # no ASCII form: listed last, under "Other"
    ]
    assert listed == expected
    assert "Hidden Author" not in index and not (built / "authors/hidden-author").exists()
    assert re.findall(r'<a href="/authors/#letter-([a-z0-9-]+)">', index) == ["a", "b", "g", "j", "other"]
    pages = {slug: item_links(read(built, f"authors/{slug}/index.html")) for slug, _, _ in expected}
    assert pages == {
        "ada-lovelace": ["diffusion-a"],
        "alan-turing": ["published-only"],
        "b-bold-b-and-quote-oneil": ["no-id"],
        "grace-hopper": ["no-id", "diffusion-b"],  # (one digest, no record of its order: by title)
        "jose-garcia": ["diffusion-a", "diffusion-b"],
        author_slug("张伟"): ["diffusion-b"],
    }
    garcia = read(built, "authors/jose-garcia/index.html")
    assert "<h1>José García</h1>" in garcia and '<a href="/authors/"' in garcia
    sitemap = read(built, "sitemap.xml")
    assert "/authors/</loc>" in sitemap and "/authors/jose-garcia/</loc>" in sitemap
    assert '<a href="/authors/">Authors</a>' in read(built, "index.html")  # in the navigation


def test_a_paper_page_names_its_authors_as_written_and_links_their_pages(built):
    page = read(built, "papers/diffusion-b/index.html")
    byline = re.search(r'<p class="paper-authors">(.*?)</p>', page, re.S).group(1)
    links = re.findall(
        r'<a href="/authors/([a-z0-9-]+)/" data-pagefind-filter="author:([^"]*)">([^<]*)</a>', byline
    )
    assert links == [
        ("jose-garcia", "José García", "Jose Garcia"),  # the paper's spelling; search files it with the other
        ("grace-hopper", "Grace Hopper", "Grace Hopper"),
        (author_slug("张伟"), "张伟", "张伟"),
    ]
    assert re.findall(r'<meta name="citation_author" content="([^"]*)">', page) == [
        "Jose Garcia",
        "Grace Hopper",
        "张伟",
    ]
    # The names are page text for search (inside data-pagefind-body, not ignored).
    body = page[page.index("data-pagefind-body") : page.index("</article>")]
    assert "paper-authors" in body and "data-pagefind-ignore>Jose" not in body


def test_a_hostile_author_name_is_text_everywhere(built):
    for rel in (
        "papers/no-id/index.html",
        "authors/index.html",
        "authors/b-bold-b-and-quote-oneil/index.html",
    ):
        page = read(built, rel)
        assert "<b>Bold</b>" not in page, rel
        assert "&lt;b&gt;Bold&lt;/b&gt;" in page, rel


def test_a_site_with_many_authors_lists_them_by_initial(tmp_path, run, monkeypatch):
    """More authors than one index page should hold: the index lists the initials, each initial has a page.
    (The limit is lowered for the test: a real site lists every author up to AUTHORS_ON_INDEX.)"""
    monkeypatch.setattr(plan, "AUTHORS_ON_INDEX", 500)
    files = {}
    for n in range(3):
        names = [f"{chr(ord('A') + i % 26)}ndrea Author{n}x{i}" for i in range(170)]
        authors = "[" + ", ".join(f'"{name}"' for name in names) + "]"
        files[f"content/papers/p{n}.md"] = paper(
            f"p{n}", f"Paper {n}", digests="[2026-03-13]", authors=authors
        )
    root = write_site(tmp_path / "site", files)
    assert run("build", "--root", root, "--no-search").code == 0
    out = root / "public"
    index = read(out, "authors/index.html")
    assert "510 authors" in index
    assert not re.search(r'href="/authors/[a-z]ndrea', index)  # no author listed on the index itself
    groups = re.findall(r'<h2 id="letter-([a-z])-heading">\s*<a href="/authors/letter/\1/">', index)
    assert groups == [chr(ord("a") + i) for i in range(26)]
    b_page = read(out, "authors/letter/b/index.html")
    shown = re.findall(r'<li><a href="/authors/([a-z0-9-]+)/">', b_page)
    assert len(shown) == len([i for i in range(170) if i % 26 == 1]) * 3 and all(
        s.startswith("bndrea") for s in shown
    )
    assert (out / "authors/andrea-author2x0/index.html").is_file()


# --- BibTeX -------------------------------------------------------------------------------------------------

DECODE = DECODER  # (pylatexenc, taught LaTeX's text commands such as \textless)


def bibtex_of(out: Path, slug: str) -> dict[str, str]:
    """The paper page's BibTeX entry as bibtexparser reads it: field -> value."""
    found = re.search(
        r'<pre class="bibtex"[^>]*><code>(.*?)</code></pre>', read(out, f"papers/{slug}/index.html"), re.S
    )
    library = bibtexparser.parse_string(html.unescape(found.group(1)))
    assert not library.failed_blocks and len(library.entries) == 1
    return {f.key: f.value for f in library.entries[0].fields}


def test_bibtex_states_what_is_known_and_nothing_else(built):
    a = bibtex_of(built, "diffusion-a")
    assert [DECODE.latex_to_text(n) for n in a["author"].split(" and ")] == ["Ada Lovelace", "José García"]
    assert (a["year"], a["month"], a["eprint"], a["archivePrefix"]) == ("2024", "jan", "2401.01234", "arXiv")
    assert a["url"] == "https://arxiv.org/abs/2401.01234"
    b = bibtex_of(built, "diffusion-b")
    assert (b["year"], b["eprint"], b["url"]) == (
        "1999",
        "hep-th/9901001",
        "https://arxiv.org/abs/hep-th/9901001",
    )
    assert DECODE.latex_to_text(b["author"]).split(" and ") == ["Jose Garcia", "Grace Hopper", "张伟"]
    # No arXiv id, no publication date: no year at all (the digest date is a note), and no localhost url.
    c = bibtex_of(built, "no-id")
    assert "year" not in c and "month" not in c and "url" not in c
    assert c["note"] == "Listed in the digest of 2026-03-13"
    assert DECODE.latex_to_text(c["author"]).split(" and ") == [HOSTILE, "Grace Hopper"]
    d = bibtex_of(built, "published-only")
    assert (d["year"], d["month"], d["doi"], d["url"]) == (
        "2023",
        "may",
        "10.1000/xyz_123",
        "https://doi.org/10.1000/xyz_123",
    )
    assert "note" not in d and "eprint" not in d
    for slug in ("diffusion-a", "diffusion-b", "no-id", "published-only"):
        assert (
            "localhost"
            not in read(built, f"papers/{slug}/index.html").split('class="bibtex"')[1].split("</pre>")[0]
        )


def test_bibtex_links_the_site_page_for_a_public_base_url(tmp_path, run):
    root = write_site(tmp_path / "site", site_files())
    result = run("build", "--root", root, "--no-search", "--base-url", "https://example.org/review/")
    assert result.code == 0, result.err
    assert bibtex_of(root / "public", "no-id")["url"] == "https://example.org/review/papers/no-id/"
    assert bibtex_of(root / "public", "diffusion-a")["url"] == "https://arxiv.org/abs/2401.01234"


# --- why related --------------------------------------------------------------------------------------------


def test_the_related_list_shows_the_shared_terms(built, tmp_path):
    from sitegen.config import load_config
    from sitegen.content.model import load_site
    from sitegen.errors import Report

    page = read(built, "papers/diffusion-a/index.html")
    related = page[page.index('id="related"') :]
    entries = re.findall(
        r'<a href="/papers/([a-z0-9-]+)/">.*?<span class="related-why">shared: ([^<]*)</span>', related, re.S
    )
    root = built.parent
    site = load_site(root, load_config(root), Report())  # the same papers, as the build read them
    expected = related_with_terms([p for p in site.papers if not p.draft], terms=3)["diffusion-a"]
    assert entries == [(pair.slug, ", ".join(pair.terms)) for pair in expected]
    assert entries[0][0] == "diffusion-b" and {"diffusion", "denoising"} <= set(entries[0][1].split(", "))


@pytest.mark.parametrize("options", OPTION_SETS)
def test_the_kept_terms_equal_terms_worked_out_afresh(tmp_path, options):
    """The terms RelatedIndex keeps (and saves) through edits are those a fresh index explains."""
    rng = random.Random(7)
    papers = fingerprinted(random_corpus(rng, 40))
    path = tmp_path / "related.cache"
    index = RelatedIndex(options)
    index.update(papers)
    index.save(path)
    for step in range(12):
        papers = fingerprinted(edit(rng, papers))
        index = RelatedIndex.load(path, options) if step % 2 else index
        index.update(papers)
        fresh = RelatedIndex(options)
        fresh.update(papers)
        assert index.explained() == fresh.explain(papers, options.why_terms)
        assert index.lists_with_terms() == {
            s: [(p.slug, p.terms) for p in ps] for s, ps in index.explained().items()
        }
        index.save(path)


# --- search -------------------------------------------------------------------------------------------------


def test_the_search_index_has_an_author_filter(tmp_path, run):
    pytest.importorskip("pagefind_bin")
    from test_search_index import filter_counts

    files = {rel: text for rel, text in site_files().items() if "no-id" not in rel}
    root = write_site(tmp_path / "site", files)
    result = run("build", "--root", root, "--base-url", "https://example.org/")
    assert result.code == 0, result.err
    counts = filter_counts(root / "public" / "pagefind")
    assert counts["author"] == {
        "Ada Lovelace": 1,
        "José García": 2,  # both spellings, under the one most papers use
        "Grace Hopper": 1,
        "张伟": 1,
        "Alan Turing": 1,
    }
    assert 'data-filters="tag author digest status rating"' in read(root / "public", "search/index.html")


# --- incremental builds -------------------------------------------------------------------------------------


def test_author_edits_build_incrementally_as_a_cold_build_does(tmp_path):
    """Every kind of author edit (see test_incremental_property.edit_authors), one after another, on one paper
    and on another: the live builder, a new build and a cold build agree byte for byte."""
    sites = Sites(tmp_path, with_authors(corpus(10, seed=5)))
    sites.check()
    for step in range(8):
        rel = f"content/papers/p{(1, 3)[step % 2]}.md"
        path = sites.edit(rel, lambda t, step=step: edit_authors(t, step // 2))
        tree = sites.check({path})
        assert any(name.startswith("authors/") for name in tree)
