"""Atom feeds, the sitemap and robots.txt, read back with a real feed parser and an XML parser."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date

import feedparser
from conftest import paper
from test_build import build, mini_site, read

from sitegen.build.feeds import SITEMAP_LIMIT, sitemaps
from sitegen.text.urls import Urls

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def check_atom(xml_text: str, base: str) -> ET.Element:
    """RFC 4287 rules a feed validator checks: required elements, one of each, absolute IRIs, timestamps."""
    feed = ET.fromstring(xml_text.encode("utf-8"))
    assert feed.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert len(feed.findall(f"{ATOM}{name}")) == 1, name
    assert RFC3339.fullmatch(feed.findtext(f"{ATOM}updated") or "")
    assert feed.find(f"{ATOM}author/{ATOM}name") is not None  # so entries need no author of their own
    self_links = [link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert len(self_links) == 1 and self_links[0].get("href", "").startswith(base)
    ids = set()
    for entry in feed.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{ATOM}{name}")) == 1, name
        entry_id = entry.findtext(f"{ATOM}id") or ""
        assert entry_id.startswith(base) and entry_id not in ids
        ids.add(entry_id)
        assert RFC3339.fullmatch(entry.findtext(f"{ATOM}updated") or "")
        alternates = [link for link in entry.findall(f"{ATOM}link") if link.get("rel") == "alternate"]
        assert len(alternates) == 1 and alternates[0].get("href", "").startswith(base)
        content = entry.find(f"{ATOM}content")
        assert content is None or content.get("type") == "html"
    return feed


def test_site_feed_parses_and_uses_absolute_urls(site):
    out, _ = build(site(mini_site()), base_url="https://x.org/review/")
    text = read(out, "feed.xml")
    check_atom(text, "https://x.org/review/")
    parsed = feedparser.parse(text)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.version == "atom10"
    assert parsed.feed.title == "Mini Review"
    assert parsed.feed.link == "https://x.org/review/"
    # Newest digest first, and in each digest its own order.
    assert [e.link for e in parsed.entries] == [
        f"https://x.org/review/papers/{slug}/" for slug in ("delta", "epsilon", "gamma", "beta", "alpha")
    ]
    alpha = parsed.entries[-1]
    assert alpha.title == "Alpha: A Study"
    assert alpha.published.startswith("2026-03-13") and alpha.updated.startswith("2026-03-13")
    assert [t.term for t in alpha.tags] == ["llm", "pruning"]
    assert [t.label for t in alpha.tags] == ["Large Language Models", "Pruning"]
    assert "Alpha abstract with code" in alpha.summary
    assert '<a href="https://github.com/owner/alpha">' in alpha.content[0].value
    gamma = parsed.entries[2]
    assert gamma.published.startswith("2026-03-13") and gamma.updated.startswith("2026-03-14")
    assert parsed.feed.updated.startswith("2026-03-14")


def test_tag_feed(site):
    out, _ = build(site(mini_site()))
    text = read(out, "tags/llm/feed.xml")
    check_atom(text, "https://example.org/")
    parsed = feedparser.parse(text)
    assert not parsed.bozo
    assert parsed.feed.title == "Large Language Models · Mini Review"
    assert parsed.feed.link == "https://example.org/tags/llm/"
    assert [e.link.rsplit("/", 2)[-2] for e in parsed.entries] == ["delta", "gamma", "beta", "alpha"]
    # Pages link to their feeds for feed readers' autodiscovery.
    assert 'type="application/atom+xml"' in read(out, "tags/llm/index.html")
    assert 'href="/tags/llm/feed.xml"' in read(out, "tags/llm/index.html")


def test_feed_limit(site):
    files = mini_site()
    files["sitegen.yaml"] = "title: Mini\nfeed_limit: 2\nbase_url: https://example.org/\n"
    out, _ = build(site(files))
    assert len(feedparser.parse(read(out, "feed.xml")).entries) == 2
    assert len(feedparser.parse(read(out, "tags/llm/feed.xml")).entries) == 2


def test_feed_survives_control_characters_and_markup(site):
    files = mini_site()
    files["content/papers/odd.md"] = paper(
        "odd", "Odd \\u0007 title & <b>co</b>", "Body with ]]> and <tags>.", digests="[2026-03-14]"
    )
    out, result = build(site(files))
    assert not result.failed, result.report.diagnostics
    text = read(out, "feed.xml")
    check_atom(text, "https://example.org/")
    parsed = feedparser.parse(text)
    assert not parsed.bozo, parsed.bozo_exception
    assert "Odd  title & <b>co</b>" in [e.title for e in parsed.entries]


def test_sitemap_lists_pages_with_lastmod(site):
    out, _ = build(site(mini_site()), base_url="https://x.org/review/")
    tree = ET.fromstring((out / "sitemap.xml").read_bytes())
    assert tree.tag == f"{SITEMAP}urlset"
    entries = {u.findtext(f"{SITEMAP}loc"): u.findtext(f"{SITEMAP}lastmod") for u in tree}
    for loc, lastmod in entries.items():
        assert loc and loc.startswith("https://x.org/review/"), loc
        assert lastmod and re.fullmatch(r"\d{4}-\d{2}-\d{2}", lastmod), loc
    assert entries["https://x.org/review/papers/gamma/"] == "2026-03-14"
    assert entries["https://x.org/review/papers/alpha/"] == "2026-03-13"
    assert entries["https://x.org/review/digests/2026-03-13/"] == "2026-03-13"
    assert entries["https://x.org/review/tags/pruning/"] == "2026-03-13"
    assert entries["https://x.org/review/"] == "2026-03-14"
    assert "https://x.org/review/tags/llm/page/2/" in entries
    assert not any("404" in loc or "/search/" in loc for loc in entries)


def test_robots_names_the_sitemap(site):
    out, _ = build(site(mini_site()), base_url="https://x.org/review/")
    lines = read(out, "robots.txt").splitlines()
    assert "User-agent: *" in lines
    assert "Sitemap: https://x.org/review/sitemap.xml" in lines


def test_very_large_sitemap_becomes_an_index():
    urls = Urls("https://x.org/")
    rows = [(f"papers/p{i}/", date(2026, 3, 13)) for i in range(SITEMAP_LIMIT + 5)]
    files = sitemaps(rows, urls)
    assert sorted(files) == ["sitemap-1.xml", "sitemap-2.xml", "sitemap.xml"]
    index = ET.fromstring(files["sitemap.xml"])
    assert index.tag == f"{SITEMAP}sitemapindex"
    assert [s.findtext(f"{SITEMAP}loc") for s in index] == [
        "https://x.org/sitemap-1.xml",
        "https://x.org/sitemap-2.xml",
    ]
    assert len(ET.fromstring(files["sitemap-2.xml"])) == 5
