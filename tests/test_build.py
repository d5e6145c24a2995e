"""`sitegen build` on whole mini-sites: every page kind, links with a base path, drafts, pruning, failed
builds, write-if-changed, escaping, template overrides and errors."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from conftest import paper, write_site

from sitegen.build import Builder, BuildOptions, build_site
from sitegen.build.deps import CONSTANT, UNKNOWN_FACET, Tracked
from sitegen.build.templates import fragment_maker

TAXONOMY = """\
tags:
- slug: llm
  name: Large Language Models
  description: Papers about LLMs.
- slug: pruning
  name: Pruning
"""

NOTES = "\n\n## Why it matters\n\nA curator note with **bold** text."


def mini_site(**extra: str) -> dict[str, str]:
    """Five papers over two digests; tag 'llm' has four papers (two pages of two with per_page 2... three)."""
    files = {
        "sitegen.yaml": "title: Mini Review\nper_page: 2\nbase_url: https://example.org/\n",
        "content/taxonomy.yaml": TAXONOMY,
        "content/papers/alpha.md": paper(
            "alpha",
            "Alpha: A Study",
            "Alpha abstract with code at https://github.com/owner/alpha." + NOTES,
            digests="[2026-03-13]",
            tags="[llm, pruning]",
            links="[https://github.com/owner/alpha, https://example.com/alpha-project]",
            arxiv='"2403.01234"',
            status="read",
            rating="4",
        ),
        "content/papers/beta.md": paper(
            "beta", "Beta Paper", "Beta abstract.", digests="[2026-03-13]", tags="[llm]"
        ),
        "content/papers/gamma.md": paper(
            "gamma", "Gamma Paper", "Gamma abstract.", digests="[2026-03-13, 2026-03-14]", tags="[llm]"
        ),
        "content/papers/delta.md": paper(
            "delta", "Delta Paper", "Delta abstract.", digests="[2026-03-14]", tags="[llm]"
        ),
        "content/papers/epsilon.md": paper(
            "epsilon", "Epsilon Paper", "Epsilon abstract.", digests="[2026-03-14]"
        ),
        # The record gives the digest's own order; 'alpha' is in the digest but not in the record.
        "content/digests/2026-03-13.yaml": "date: 2026-03-13\nsources: [a.txt]\npapers: [gamma, beta]\n",
    }
    files.update(extra)
    return files


class Page(HTMLParser):
    """The parts of an HTML page the tests look at."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.ids: set[str] = set()
        self.meta: dict[str, str] = {}
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.text_parts: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        for name in ("href", "src", "action"):
            value = attributes.get(name)
            if value is not None:
                self.links.append((tag, name, value))
        if attributes.get("id"):
            self.ids.add(str(attributes["id"]))
        if tag == "meta":
            key = attributes.get("name") or attributes.get("property")
            if key:
                self.meta[str(key)] = str(attributes.get("content"))
        if tag == "link" and attributes.get("rel") == "canonical":
            self.meta["canonical"] = str(attributes.get("href"))
        if tag == "script":
            self._in_script = True
            self.scripts.append(str(attributes.get("src")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.scripts.append("inline:" + data)
        self.text_parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.text_parts).split())

    def with_attr(self, name: str, value: str | None = None) -> list[tuple[str, dict[str, str | None]]]:
        return [(t, a) for t, a in self.elements if name in a and (value is None or a[name] == value)]


def read(out: Path, rel: str) -> str:
    return (out / rel).read_text(encoding="utf-8")


def page(out: Path, rel: str) -> Page:
    return Page(read(out, rel))


def build(root: Path, **options) -> tuple[Path, object]:
    options.setdefault("search", False)
    result = build_site(root, BuildOptions(**options))
    out = options.get("out") or root / "public"
    return out, result


def html_files(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*.html") if "pagefind" not in p.parts)


def snapshot(out: Path) -> dict[str, tuple[int, int, bytes]]:
    return {
        p.relative_to(out).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes())
        for p in out.rglob("*")
        if p.is_file()
    }


# --- every page kind -------------------------------------------------------------------------------


def test_every_page_kind_is_written(site):
    root = site(mini_site())
    out, result = build(root)
    assert not result.failed, result.report.diagnostics
    for rel in [
        "index.html",
        "papers/alpha/index.html",
        "papers/epsilon/index.html",
        "tags/index.html",
        "tags/llm/index.html",
        "tags/llm/page/2/index.html",
        "tags/llm/feed.xml",
        "tags/pruning/index.html",
        "tags/pruning/feed.xml",
        "digests/index.html",
        "digests/2026-03-13/index.html",
        "digests/2026-03-14/index.html",
        "search/index.html",
        "reading/index.html",
        "reading/unread.xml",
        "reading/reading.xml",
        "reading/read.xml",
        "feed.xml",
        "sitemap.xml",
        "robots.txt",
        "404.html",
    ]:
        assert (out / rel).is_file(), rel
    assert not (out / "tags/llm/page/1").exists()
    assert not (out / "tags/llm/page/3").exists()
    assert result.counts == {
        "home": 1,
        "paper": 5,
        "tags": 1,
        "tag": 3,
        "digests": 1,
        "digest": 2,
        "reading": 1,
        "search": 1,
        "404": 1,
        "authors": 1,  # (the index of authors is made even when no paper names any)
        "feed": 6,
    }
    summary = result.summary()
    assert summary.startswith("built 5 papers, 3 tag pages, 2 digests, 6 feeds, 7 other pages; 0 warnings;")
    assert summary.endswith(" s")


def test_paper_page_content(site):
    out, _ = build(site(mini_site()))
    text = read(out, "papers/alpha/index.html")
    doc = Page(text)
    assert re.search(r"<h1[^>]*>Alpha: A Study</h1>", text)
    hrefs = {value for _, name, value in doc.links if name == "href"}
    assert {"/tags/llm/", "/tags/pruning/", "/digests/2026-03-13/"} <= hrefs
    assert "Alpha abstract with code at" in doc.text
    assert '<a href="https://github.com/owner/alpha">' in text  # linkified in the abstract
    assert "A curator note with" in doc.text and "<strong>bold</strong>" in text
    assert "related" in doc.ids
    # Links: the repository is marked as code, the project page is not.
    code = [a for t, a in doc.with_attr("data-kind", "code")]
    assert len(code) == 1
    assert (
        'href="https://github.com/owner/alpha"' in text and 'href="https://example.com/alpha-project"' in text
    )
    # "Find this paper" searches by title; arXiv id gives abstract, PDF, Hugging Face and Highwire meta.
    assert "https://arxiv.org/search/?query=Alpha%3A+A+Study&amp;searchtype=title" in text
    assert "https://huggingface.co/papers?q=Alpha%3A+A+Study" in text
    assert 'href="https://arxiv.org/abs/2403.01234"' in text
    assert 'href="https://arxiv.org/pdf/2403.01234"' in text
    assert 'href="https://huggingface.co/papers/2403.01234"' in text
    assert doc.meta["citation_title"] == "Alpha: A Study"
    assert doc.meta["citation_arxiv_id"] == "2403.01234"
    assert doc.meta["og:title"] == "Alpha: A Study"
    assert doc.meta["og:type"] == "article"
    assert doc.meta["og:url"] == doc.meta["canonical"] == "https://example.org/papers/alpha/"
    assert doc.meta["description"].startswith("Alpha abstract with code")
    # Status and rating are shown, and are search filters.
    assert "read" in doc.text and "4 out of 5" in doc.text
    assert doc.with_attr("data-pagefind-filter", "status")
    assert doc.with_attr("data-pagefind-filter", "rating:4")


def test_related_papers_link_to_paper_pages(site):
    root = site(mini_site())
    out, _ = build(root)
    for file in (out / "papers").rglob("index.html"):
        text = file.read_text(encoding="utf-8")
        section = re.search(r'<section id="related".*?</section>', text, re.S)
        assert section, file
        for href in re.findall(r'href="([^"]+)"', section.group()):
            assert re.fullmatch(r"/papers/[a-z0-9-]+/", href), href
            assert (out / href.strip("/") / "index.html").is_file()


def test_search_hooks_only_on_paper_pages(site):
    out, _ = build(site(mini_site()))
    for file in html_files(out):
        doc = Page(file.read_text(encoding="utf-8"))
        is_paper = file.parent.parent.name == "papers"
        assert bool(doc.with_attr("data-pagefind-body")) == is_paper, file
        # A search box on every page: a GET form to search/ with a field named q; the search page has one
        # box, its own (static/search.js).
        forms = [a for t, a in doc.elements if t == "form" and a.get("action") == "/search/"]
        if file.parent.name == "search":
            assert forms == [] and "search" in doc.ids, file
            continue
        assert forms and all((a.get("method") or "get").lower() == "get" for a in forms), file
        assert any(t == "input" and a.get("name") == "q" for t, a in doc.elements), file
    doc = page(out, "papers/gamma/index.html")
    assert [a.get("data-pagefind-meta") for t, a in doc.with_attr("data-pagefind-meta") if t == "h1"] == [
        "title"
    ]
    # The tag filter's value is written in the attribute (see sitegen.build.search.filter_value).
    tags = [a for t, a in doc.with_attr("data-pagefind-filter", "tag:Large Language Models")]
    assert len(tags) == 1
    digests = [a["datetime"] for t, a in doc.with_attr("data-pagefind-filter", "digest[datetime]")]
    assert digests == ["2026-03-13", "2026-03-14"]
    assert doc.with_attr("data-pagefind-meta", "date:2026-03-14")
    assert doc.with_attr("data-pagefind-sort", "date:2026-03-14")
    search = page(out, "search/index.html")
    assert "search" in search.ids


def test_digest_pages_follow_the_digest_order(site):
    out, _ = build(site(mini_site()))
    text = read(out, "digests/2026-03-13/index.html")
    titles = re.findall(r'class="paper-item-title"><a href="/papers/([a-z-]+)/"', text)
    assert titles == ["gamma", "beta", "alpha"]  # record order, then the rest by title
    text = read(out, "digests/2026-03-14/index.html")
    titles = re.findall(r'class="paper-item-title"><a href="/papers/([a-z-]+)/"', text)
    assert titles == ["delta", "epsilon", "gamma"]  # no record: by title


def test_index_pages_show_counts(site):
    out, _ = build(site(mini_site()))
    tags = page(out, "tags/index.html").text
    assert "Large Language Models 4 papers" in tags
    assert "Pruning 1 paper" in tags
    digests = read(out, "digests/index.html")
    assert re.search(r'href="/digests/2026-03-13/".*?</th>\s*<td class="num">3</td>', digests, re.S)
    assert re.search(r'href="/digests/2026-03-14/".*?</th>\s*<td class="num">3</td>', digests, re.S)
    home = page(out, "index.html")
    hrefs = {v for _, n, v in home.links}
    assert {"/digests/2026-03-14/", "/digests/2026-03-13/", "/tags/llm/", "/tags/pruning/"} <= hrefs


def test_tag_pages_are_paginated_newest_first(site):
    out, _ = build(site(mini_site()))
    first = read(out, "tags/llm/index.html")
    second = read(out, "tags/llm/page/2/index.html")
    on_first = re.findall(r'class="paper-item-title"><a href="/papers/([a-z-]+)/"', first)
    on_second = re.findall(r'class="paper-item-title"><a href="/papers/([a-z-]+)/"', second)
    # Newest digest first, each digest in its own order.
    assert on_first + on_second == ["delta", "gamma", "beta", "alpha"]
    assert '<link rel="next" href="/tags/llm/page/2/">' in first
    assert '<link rel="prev" href="/tags/llm/">' in second
    assert "page 2 of 2" in Page(second).text


def test_404_page(site):
    out, _ = build(site(mini_site()))
    doc = page(out, "404.html")
    assert doc.meta.get("robots") == "noindex"
    assert "canonical" not in doc.meta
    # Served at any depth: every link is root-relative.
    for _, _name, value in doc.links:
        assert value.startswith(("/", "https://", "#")), value


# --- base URL with a path --------------------------------------------------------------------------


def test_base_url_with_a_path_reaches_every_link(site):
    root = site(mini_site())
    out, result = build(root, base_url="https://x.org/review/")
    assert not result.failed
    checked = 0
    for file in html_files(out):
        doc = Page(file.read_text(encoding="utf-8"))
        for tag, name, value in doc.links:
            checked += 1
            if value.startswith(("https://", "http://", "mailto:", "#")):
                if value.startswith(("https://x.org/", "http://x.org/")):
                    assert value.startswith("https://x.org/review/"), (file, value)
                continue
            assert value.startswith("/review/"), (file, tag, name, value)
        assert doc.meta.get("canonical", "https://x.org/review/").startswith("https://x.org/review/")
        assert doc.meta["og:url"].startswith("https://x.org/review/")
    assert checked > 100
    # The curator's root-relative Markdown link carries the base path too.
    assert 'href="/review/tags/llm/"' in read(out, "index.html")
    atom = "{http://www.w3.org/2005/Atom}"
    for feed in ["feed.xml", "tags/llm/feed.xml"]:
        tree = ET.fromstring(read(out, feed).encode())
        urls = [e.get("href") for e in tree.iter(f"{atom}link")] + [e.text for e in tree.iter(f"{atom}id")]
        assert len(urls) > 4
        for url in urls:
            assert url and url.startswith("https://x.org/review/"), (feed, url)
    assert "Sitemap: https://x.org/review/sitemap.xml" in read(out, "robots.txt")
    for loc in re.findall(r"<loc>([^<]+)</loc>", read(out, "sitemap.xml")):
        assert loc.startswith("https://x.org/review/")


def test_markdown_root_links_get_the_base_path(site):
    files = mini_site()
    files["content/papers/beta.md"] = paper(
        "beta", "Beta Paper", "See [alpha](/papers/alpha/) and ![fig](/img/fig.png).", digests="[2026-03-13]"
    )
    out, _ = build(site(files), base_url="https://x.org/review/")
    text = read(out, "papers/beta/index.html")
    assert 'href="/review/papers/alpha/"' in text
    assert 'src="/review/img/fig.png"' in text


# --- drafts ----------------------------------------------------------------------------------------


def draft_site() -> dict[str, str]:
    files = mini_site()
    files["content/papers/secret.md"] = paper(
        "secret",
        "Secret Draft",
        "Not yet.",
        digests="[2026-03-14, 2026-03-15]",
        tags="[llm, hidden]",
        draft="true",
    )
    return files


def test_drafts_are_left_out_of_a_normal_build(site):
    out, result = build(site(draft_site()))
    assert not result.failed
    assert not (out / "papers/secret").exists()
    assert not (out / "tags/hidden").exists()
    assert not (out / "digests/2026-03-15").exists()
    for file in out.rglob("*"):
        if file.is_file():
            assert "secret" not in file.read_text(encoding="utf-8", errors="replace").lower(), file
    assert result.counts["paper"] == 5


def test_drafts_build_shows_them_but_never_in_feeds_or_sitemap(site):
    out, result = build(site(draft_site()), drafts=True)
    assert not result.failed
    doc = page(out, "papers/secret/index.html")
    assert doc.meta.get("robots") == "noindex"
    assert "Draft" in doc.text
    assert "/papers/secret/" in read(out, "tags/llm/index.html") + read(out, "tags/llm/page/2/index.html")
    assert "/papers/secret/" in read(out, "digests/2026-03-14/index.html")
    for rel in ["feed.xml", "tags/llm/feed.xml", "sitemap.xml"]:
        assert "secret" not in read(out, rel), rel


# --- output hygiene --------------------------------------------------------------------------------


def test_stale_output_is_pruned_and_foreign_files_kept(site):
    root = site(mini_site())
    out, _ = build(root)
    (out / "keep-me.txt").write_text("mine")
    (out / "pagefind").mkdir()
    (out / "pagefind" / "pagefind.js").write_text("// search bundle")
    (root / "content/papers/alpha.md").unlink()  # the only paper tagged 'pruning'
    out, result = build(root)
    assert not result.failed
    assert not (out / "papers/alpha").exists()
    assert not (out / "tags/pruning").exists()
    assert "papers/alpha/index.html" in result.removed
    assert "tags/pruning/feed.xml" in result.removed
    assert (out / "keep-me.txt").read_text() == "mine"
    # A search index is never pruned as stale output, but one that a build without search made stale (a
    # paper is gone) is removed as a whole.
    assert not (out / "pagefind").exists() and result.search_removed
    assert (out / "tags/llm/index.html").is_file()


def test_pagination_shrinking_prunes_pages(site):
    root = site(mini_site())
    out, _ = build(root)
    assert (out / "tags/llm/page/2/index.html").is_file()
    (root / "sitegen.yaml").write_text("title: Mini Review\nper_page: 10\nbase_url: https://example.org/\n")
    out, result = build(root)
    assert not (out / "tags/llm/page").exists()
    assert "tags/llm/page/2/index.html" in result.removed


def test_failed_build_leaves_previous_output_intact(site):
    root = site(mini_site())
    out, _ = build(root)
    before = snapshot(out)
    (root / "content/papers/beta.md").write_text("---\ntitle: [broken\nslug: beta\n---\nBody\n")
    (root / "content/papers/new.md").write_text(paper("new", "A New Paper", digests="[2026-03-15]"))
    out, result = build(root)
    assert result.failed
    assert any("beta.md" in str(d) for d in result.report.errors)
    assert result.written == [] and result.removed == []
    assert snapshot(out) == before
    assert "output left as it was" in result.summary()


def test_unchanged_files_are_not_rewritten(site):
    root = site(mini_site())
    out, first = build(root)
    assert len(first.written) > 20
    before = snapshot(out)
    out, second = build(root)
    assert second.written == [] and second.removed == []
    assert snapshot(out) == before  # same inode, mtime and bytes


def test_one_edit_rewrites_only_what_shows_it(site):
    root = site(mini_site())
    builder = Builder(root, BuildOptions(search=False))
    builder.build()
    (root / "content/papers/epsilon.md").write_text(
        paper("epsilon", "Epsilon Paper", "A new abstract.", digests="[2026-03-14]")
    )
    result = builder.build(changed={root / "content/papers/epsilon.md"})
    written = set(result.written)
    assert "papers/epsilon/index.html" in written
    assert "digests/2026-03-14/index.html" in written
    assert "papers/alpha/index.html" not in written
    assert "tags/llm/index.html" not in written  # epsilon has no tags
    assert "A new abstract." in read(root / "public", "papers/epsilon/index.html")


def test_builder_picks_up_template_edits_between_builds(site):
    root = site(
        mini_site(**{"templates/404.html": "{% extends 'base.html' %}{% block content %}Gone!{% endblock %}"})
    )
    builder = Builder(root, BuildOptions(search=False))
    builder.build()
    assert "Gone!" in read(root / "public", "404.html")
    (root / "templates/404.html").write_text(
        "{% extends 'base.html' %}{% block content %}Lost!{% endblock %}"
    )
    result = builder.build()
    assert result.written == ["404.html"]
    assert "Lost!" in read(root / "public", "404.html")


def test_out_option_and_refusing_dangerous_output_folders(site, run):
    root = site(mini_site())
    result = run("build", "--root", root, "--out", root / "elsewhere", "--no-search")
    assert result.code == 0, result.err
    assert (root / "elsewhere/index.html").is_file()
    for bad in [root, root / "content", root / "content/papers/out", root.parent]:
        result = run("build", "--root", root, "--out", bad, "--no-search")
        assert result.code == 2, bad
        assert "output folder" in result.err
        assert "Traceback" not in result.err


# --- escaping --------------------------------------------------------------------------------------

EVIL = '<script>alert("pwned")</script> & "Quoted" \'single\''


def test_hostile_title_is_inert_everywhere(site):
    import feedparser

    files = mini_site()
    yaml_title = EVIL.replace("\\", "\\\\").replace('"', '\\"')
    files["content/papers/evil.md"] = (
        f'---\ntitle: "{yaml_title}"\nslug: evil\ndigests: [2026-03-14]\ntags: [llm]\n'
        "links: [https://github.com/a/b]\n---\n"
        "Abstract <script>alert(2)</script> <img src=x onerror=alert(3)>.\n"
    )
    out, result = build(site(files))
    assert not result.failed, result.report.diagnostics
    for file in out.rglob("*"):
        if not file.is_file() or file.suffix not in (".html", ".xml"):
            continue
        text = file.read_text(encoding="utf-8")
        assert "<script>alert" not in text, file
        assert "<img src=x" not in text, file
        assert "onerror=alert" not in text or "&lt;img" in text, file
        if file.suffix == ".html":
            doc = Page(text)
            assert all(not s.startswith("inline:") for s in doc.scripts), file
            assert all(src.startswith("/assets/") for src in doc.scripts), file
    doc = page(out, "papers/evil/index.html")
    assert doc.meta["citation_title"] == EVIL
    assert doc.meta["og:title"] == EVIL
    assert EVIL in doc.text
    assert re.search(r"<title>([^<]*)</title>", read(out, "papers/evil/index.html"))
    feed = feedparser.parse(read(out, "feed.xml"))
    assert not feed.bozo, feed.bozo_exception
    assert [e.title for e in feed.entries if e.link.endswith("/papers/evil/")] == [EVIL]
    tag_feed = feedparser.parse(read(out, "tags/llm/feed.xml"))
    assert EVIL in [e.title for e in tag_feed.entries]
    ET.fromstring(read(out, "feed.xml").encode())  # well-formed XML


def test_raw_html_in_content_is_escaped_unless_allowed(site):
    files = mini_site()
    files["content/papers/beta.md"] = paper(
        "beta", "Beta Paper", 'Has <b class="x">bold</b> html.', digests="[2026-03-13]"
    )
    root = site(files)
    out, _ = build(root)
    text = read(out, "papers/beta/index.html")
    assert "&lt;b class=&quot;x&quot;&gt;bold&lt;/b&gt;" in text or '&lt;b class="x"&gt;' in text
    (root / "sitegen.yaml").write_text("title: Mini\nallow_html: true\nbase_url: https://example.org/\n")
    out, _ = build(root)
    assert '<b class="x">bold</b>' in read(out, "papers/beta/index.html")


# --- strictness, errors, overrides -----------------------------------------------------------------


def test_strict_turns_warnings_into_failure(site, run):
    files = mini_site()
    files["content/papers/beta.md"] = paper("beta", "Beta", "B.", digests="[2026-03-13]", colour="blue")
    root = site(files)
    result = run("build", "--root", root, "--no-search")
    assert result.code == 0
    assert "unknown field 'colour'" in result.err
    assert "1 warning" in result.out
    (root / "public").rename(root / "old")
    result = run("build", "--root", root, "--strict", "--no-search")
    assert result.code == 1
    assert "build failed" in result.out
    assert not (root / "public").exists()


def test_template_error_is_a_diagnostic_with_position(site, run):
    files = mini_site(
        **{
            "templates/tag.html": "{% extends 'base.html' %}\n{% block content %}\n{{ nope.x }}\n"
            "{% endblock %}\n"
        }
    )
    root = site(files)
    result = run("build", "--root", root, "--no-search")
    assert result.code == 1
    assert "Traceback" not in result.err
    lines = [line for line in result.err.splitlines() if "tag.html" in line]
    assert len(lines) == 1, result.err  # once, not once per tag page
    assert re.search(r"templates/tag\.html:3: undefined variable: 'nope' is undefined", lines[0]), lines[0]
    assert not (root / "public").exists()


def test_template_syntax_error(site, run):
    root = site(
        mini_site(**{"templates/search.html": "{% extends 'base.html' %}\n{% block content %}\n{% if %}\n"})
    )
    result = run("build", "--root", root, "--no-search")
    assert result.code == 1
    assert re.search(r"templates/search\.html:3: template syntax error", result.err), result.err


def test_site_overrides_templates_and_static_files(site):
    files = mini_site(
        **{
            "templates/digest.html": "{% extends 'theme/digest.html' %}"
            '{% block head %}<meta name="x-custom" content="yes">{% endblock %}',
            "static/style.css": "body { color: red }\n",
            "static/img/logo.png": "not really a png",
        }
    )
    root = site(files)
    out, result = build(root)
    assert not result.failed, result.report.diagnostics
    doc = page(out, "digests/2026-03-13/index.html")
    assert doc.meta["x-custom"] == "yes"
    assert "gamma" in read(out, "digests/2026-03-13/index.html")  # the theme's body is still there
    css = [v for t, n, v in doc.links if t == "link" and v.endswith(".css")]
    assert len(css) == 1 and re.fullmatch(r"/assets/style\.[0-9a-f]{10}\.css", css[0])
    assert (out / css[0].lstrip("/")).read_text() == "body { color: red }\n"
    assert (out / "img/logo.png").read_text() == "not really a png"
    assert (out / "favicon.svg").is_file()  # theme files the site does not override


def test_config_error_exits_2(site, run):
    root = site(mini_site())
    result = run("build", "--root", root, "--base-url", "ftp://x.org/", "--no-search")
    assert result.code == 2
    assert "base_url" in result.err


def test_progress_reports_stages(site):
    seen: list[tuple[str, int, int]] = []
    root = site(mini_site())
    result = build_site(root, BuildOptions(search=False), progress=lambda *a: seen.append(a))
    assert not result.failed
    stages = {s for s, _, _ in seen}
    assert {"render", "write"} <= stages
    for stage in stages:
        last = [x for x in seen if x[0] == stage][-1]
        assert last[1] == last[2]


def test_empty_site_builds(site):
    root = site({"content/papers/.keep": ""})
    out, result = build(root)
    assert not result.failed, result.report.diagnostics
    assert (out / "index.html").is_file() and (out / "feed.xml").is_file()
    assert "No digests yet" in read(out, "index.html")


def test_assets_are_fingerprinted_and_no_other_host_is_requested(site):
    out, _ = build(site(mini_site()))
    for file in html_files(out):
        text = file.read_text(encoding="utf-8")
        for tag, name, value in Page(text).links:
            if (
                tag in ("link", "script", "img")
                and name in ("href", "src")
                and not _is_feed_or_canonical(text, value)
            ):
                assert value.startswith("/"), (file, tag, value)
    css = sorted((out / "assets").glob("*.css"))
    assert [c.name for c in css if re.fullmatch(r"style\.[0-9a-f]{10}\.css", c.name)]
    for sheet in css:
        assert "@import" not in sheet.read_text() and "url(http" not in sheet.read_text()


def _is_feed_or_canonical(text: str, value: str) -> bool:
    return f'rel="canonical" href="{value}"' in text


# --- helpers for link checking (also used by the sample-site test) ---------------------------------


def broken_links(out: Path, base_path: str = "/") -> list[str]:
    """Every internal href/src of every HTML page that does not resolve to a file (or a fragment to an id)."""
    problems: list[str] = []
    ids: dict[Path, set[str]] = {}
    pages = html_files(out)
    for file in pages:
        ids[file] = Page(file.read_text(encoding="utf-8")).ids
    for file in pages:
        doc = Page(file.read_text(encoding="utf-8"))
        for tag, name, value in doc.links:
            parts = urlsplit(html.unescape(value))
            if parts.scheme or parts.netloc:
                continue
            if not parts.path:
                if parts.fragment and parts.fragment not in ids[file]:
                    problems.append(f"{file.relative_to(out)}: #{parts.fragment} has no target")
                continue
            if not parts.path.startswith(base_path):
                problems.append(f"{file.relative_to(out)}: {value} is outside the base path")
                continue
            rel = unquote(parts.path[len(base_path) :])
            target = out / rel
            if rel == "" or rel.endswith("/"):
                target = target / "index.html"
            if not target.is_file():
                problems.append(f"{file.relative_to(out)}: {tag} {name}={value} does not resolve")
            elif parts.fragment and target.suffix == ".html" and parts.fragment not in ids.get(target, set()):
                problems.append(f"{file.relative_to(out)}: {value} fragment has no target")
    return problems


def test_every_internal_link_resolves(site):
    out, _ = build(site(draft_site()), drafts=True)
    assert broken_links(out) == []
    out, _ = build(site(draft_site()))
    assert broken_links(out) == []


@pytest.mark.parametrize("base", ["https://x.org/review/", "https://x.org/a/b/"])
def test_every_internal_link_resolves_under_a_base_path(site, tmp_path, base):
    root = site(mini_site())
    out, result = build(root, base_url=base, out=tmp_path / "deep")
    assert not result.failed
    assert broken_links(out, urlsplit(base).path) == []


def test_write_site_helper_roundtrip(tmp_path):
    # The mini-site itself is valid content: `sitegen check` has nothing to say about it.
    root = write_site(tmp_path, mini_site())
    from sitegen.config import load_config
    from sitegen.content.model import load_site
    from sitegen.errors import Report

    report = Report()
    load_site(root, load_config(root), report)
    assert report.diagnostics == []


def test_related_papers_cache_is_kept_and_optional(site):
    root = site(mini_site())
    out, result = build(root)
    assert not result.failed
    cache = root / ".sitegen-cache" / "related.cache"
    assert cache.is_file()
    before = snapshot(out)
    out, result = build(root)  # from the cache: same output, nothing rewritten
    assert result.written == [] and snapshot(out) == before
    cache.write_bytes(b"garbage")
    out, result = build(root)
    assert not result.failed and result.written == []


def test_rebuilds_reuse_pages_only_while_their_inputs_are_unchanged(site):
    root = site(mini_site())
    builder = Builder(root, BuildOptions(search=False))
    builder.build()
    # A paper page template edit reaches every paper page.
    (root / "templates").mkdir(exist_ok=True)
    (root / "templates/paper.html").write_text(
        '{% extends \'theme/paper.html\' %}{% block head %}<meta name="x-edit" content="1">{% endblock %}'
    )
    result = builder.build()
    assert {f"papers/{s}/index.html" for s in ("alpha", "beta", "gamma", "delta", "epsilon")} <= set(
        result.written
    )
    assert page(root / "public", "papers/beta/index.html").meta["x-edit"] == "1"
    # Retitling a paper reaches the pages that show its title, also in their related-papers lists.
    (root / "content/papers/beta.md").write_text(
        paper("beta", "Beta Renamed", "Beta abstract.", digests="[2026-03-13]", tags="[llm]")
    )
    result = builder.build()
    assert "Beta Renamed" in read(root / "public", "papers/beta/index.html")
    for file in (root / "public/papers").rglob("index.html"):
        text = file.read_text(encoding="utf-8")
        related = re.search(r'<section id="related".*?</section>', text, re.S).group()
        assert "Beta Paper" not in related, file
    fresh = Builder(root, BuildOptions(search=False, out=root / "fresh"))
    fresh.build()
    for file in (root / "fresh").rglob("*.html"):
        assert file.read_bytes() == (root / "public" / file.relative_to(root / "fresh")).read_bytes(), file


def test_a_fragment_is_made_once_per_values_and_adds_what_it_read_to_each_page(site):
    """`fragment(name, **values)`: one Fragment per template and values, rendered on first use; each page
    that shows it reads what the fragment read (the template and the paper's title), as if it had rendered
    it itself."""
    root = site(mini_site(**{"templates/partials/stamp.html": "<b>{{ paper.title }}</b>"}))
    builder = Builder(root, BuildOptions(search=False))
    builder.retained = []
    assert not builder.build().failed
    gathered = builder.retained[0][0]
    env, alpha, beta = gathered.env, gathered.index.by_slug["alpha"], gathered.index.by_slug["beta"]
    fragment = fragment_maker(env)
    assert fragment("partials/stamp.html", paper=alpha) is fragment("partials/stamp.html", paper=alpha)
    assert fragment("partials/stamp.html", paper=beta) is not fragment("partials/stamp.html", paper=alpha)
    page = env.from_string("{{ fragment('partials/stamp.html', paper=p) }}", globals={"fragment": fragment})
    for _ in range(2):  # (the second page shows the fragment as the first made it)
        env.reads.begin()
        assert page.render(p=alpha) == "<b>Alpha: A Study</b>"
        assert {"T:partials/stamp.html", "p:alpha#m"} <= env.reads.end()
    assert fragment("partials/stamp.html", paper=alpha).done
    assert not fragment("partials/stamp.html", paper=beta).done


def test_every_facet_a_view_declares_has_a_version(site):
    """Each facet named in a tracked class's FACETS is one its version() knows: a facet it lacks versions as
    UNKNOWN_FACET (what a manifest of another version of sitegen may name), and a page that read it would be
    made again by every build."""
    files = mini_site()  # (alpha has a status: the reading queue has a list)
    beta = files["content/papers/beta.md"]
    files["content/papers/beta.md"] = beta.replace("\n---\n", '\nauthors: ["Ada Lovelace"]\n---\n', 1)
    root = site(files)
    builder = Builder(root, BuildOptions(search=False))
    builder.retained = []
    assert not builder.build().failed
    gathered, pages = builder.retained[0][0], builder.retained[0][1]
    index = gathered.index
    views = [index, *index.papers, *index.tags, *index.digests, *index.queue, *index.authors]
    views += [value for page in pages for value in page.context.values() if isinstance(value, Tracked)]
    seen = set()
    for view in views:
        seen.add(type(view))
        for facet in set(type(view).FACETS.values()) - {CONSTANT}:
            assert view.version(facet) != UNKNOWN_FACET, (type(view).__name__, facet)
    assert view.version("no such facet") == UNKNOWN_FACET

    def subclasses(kind: type) -> set[type]:
        return {sub for direct in kind.__subclasses__() for sub in {direct, *subclasses(direct)}}

    assert subclasses(Tracked) <= seen


def test_an_error_in_a_fragment_is_reported_at_its_line(site, run):
    files = mini_site(
        **{
            "templates/partials/stamp.html": "<b>\n{{ paper.nope }}</b>",
            "templates/tag.html": "{% extends 'theme/tag.html' %}"
            "{% block head %}{{ fragment('partials/stamp.html', paper=papers[0]) }}{% endblock %}",
        }
    )
    result = run("build", "--root", site(files), "--no-search")
    assert result.code == 1
    assert "Traceback" not in result.err
    assert re.search(r"templates/partials/stamp\.html:2: .*nope", result.err), result.err
