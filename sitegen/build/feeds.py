"""Atom feeds (RFC 4287), the sitemap and robots.txt.

Written in Python rather than templates so that every text is XML-escaped and every URL absolute by
construction. Timestamps come from digest dates, never from the clock, so an unchanged site produces identical
bytes and nothing is rewritten.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sitegen import __version__
from sitegen.text.urls import READING, Urls

if TYPE_CHECKING:
    from sitegen.build.views import PaperView, StatusView, TagView

EPOCH = date(1970, 1, 1)
SITEMAP_LIMIT = 50_000  # URLs per sitemap file, per sitemaps.org
# Characters XML 1.0 forbids; a scraped title may carry one.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: str) -> str:
    return _NOT_XML.sub("", value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(value: str) -> str:
    """A quoted attribute value, as xml.sax.saxutils.quoteattr makes it (that module costs a tenth of a
    second to import: it pulls in urllib.request)."""
    text = _text(value).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    if '"' not in text:
        return f'"{text}"'
    if "'" not in text:
        return f"'{text}'"
    return '"{}"'.format(text.replace('"', "&quot;"))


def _stamp(day: date | None) -> str:
    return f"{(day or EPOCH).isoformat()}T00:00:00Z"


@dataclass(frozen=True, slots=True)
class FeedInfo:
    title: str
    subtitle: str
    author: str
    language: str
    self_path: str  # site path of the feed itself
    page_path: str  # site path of the HTML page it mirrors


def atom_feed(info: FeedInfo, papers: Sequence[PaperView], urls: Urls) -> bytes:
    """An Atom feed of `papers` (already in newest-first order and limited)."""
    updated = max((p.latest or EPOCH for p in papers), default=EPOCH)
    tags_base = urls.absolute("tags/")
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang={_attr(info.language)}>',
        f"  <id>{_text(urls.absolute(info.self_path))}</id>",
        f"  <title>{_text(info.title)}</title>",
    ]
    if info.subtitle:
        out.append(f"  <subtitle>{_text(info.subtitle)}</subtitle>")
    out += [
        f'  <link rel="self" type="application/atom+xml" href={_attr(urls.absolute(info.self_path))}/>',
        f'  <link rel="alternate" type="text/html" href={_attr(urls.absolute(info.page_path))}/>',
        f"  <updated>{_stamp(updated)}</updated>",
        f"  <author><name>{_text(info.author)}</name></author>",
        f'  <generator version="{__version__}">sitegen</generator>',
    ]
    for paper in papers:
        link = urls.absolute(paper.path)
        out += [
            "  <entry>",
            f"    <id>{_text(link)}</id>",
            f'    <title type="text">{_text(paper.title)}</title>',
            f'    <link rel="alternate" type="text/html" href={_attr(link)}/>',
            f"    <published>{_stamp(paper.first)}</published>",
            f"    <updated>{_stamp(paper.latest)}</updated>",
        ]
        for tag in paper.tags:
            out.append(
                f"    <category term={_attr(tag.slug)} label={_attr(tag.name)} scheme={_attr(tags_base)}/>"
            )
        if paper.summary:
            out.append(f'    <summary type="text">{_text(paper.summary)}</summary>')
        content = str(paper.abstract_html) + (str(paper.notes_html) if paper.notes_html else "")
        if content:
            out.append(f'    <content type="html">{_text(content)}</content>')
        out.append("  </entry>")
    out.append("</feed>\n")
    return "\n".join(out).encode("utf-8")


def tag_feed_info(tag: TagView, site_title: str, author: str, language: str) -> FeedInfo:
    return FeedInfo(
        title=f"{tag.name} · {site_title}",
        subtitle=tag.description or f"Papers tagged {tag.name}.",
        author=author,
        language=language,
        self_path=tag.feed_path,
        page_path=tag.path,
    )


def status_feed_info(status: StatusView, site_title: str, author: str, language: str) -> FeedInfo:
    """The feed of one section of the reading queue (the papers marked unread, reading or read)."""
    return FeedInfo(
        title=f"{status.label} · {site_title}",
        subtitle=f"Papers of the reading queue marked {status.status}, newest digest first.",
        author=author,
        language=language,
        self_path=status.feed_path,
        page_path=READING,
    )


def sitemaps(entries: Iterable[tuple[str, date | None]], urls: Urls) -> dict[str, bytes]:
    """{file name: bytes}: `sitemap.xml`, or for a very large site an index of `sitemap-<n>.xml` files."""
    rows = list(entries)
    chunks = [rows[i : i + SITEMAP_LIMIT] for i in range(0, len(rows), SITEMAP_LIMIT)] or [[]]
    if len(chunks) == 1:
        return {"sitemap.xml": _urlset(chunks[0], urls)}
    files = {f"sitemap-{n}.xml": _urlset(chunk, urls) for n, chunk in enumerate(chunks, start=1)}
    index = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    for n, chunk in enumerate(chunks, start=1):
        lastmod = max((d for _, d in chunk if d), default=None)
        index.append(
            f"  <sitemap><loc>{_text(urls.absolute(f'sitemap-{n}.xml'))}</loc>{_lastmod(lastmod)}</sitemap>"
        )
    index.append("</sitemapindex>\n")
    files["sitemap.xml"] = "\n".join(index).encode("utf-8")
    return files


def _lastmod(day: date | None) -> str:
    return f"<lastmod>{day.isoformat()}</lastmod>" if day else ""


def _urlset(rows: Sequence[tuple[str, date | None]], urls: Urls) -> bytes:
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    # (Every page of the site, on every build: each day's element is made once.)
    lastmods = {day: _lastmod(day) for day in {day for _, day in rows}}
    for path, day in rows:
        out.append(f"  <url><loc>{_text(urls.absolute(path))}</loc>{lastmods[day]}</url>")
    out.append("</urlset>\n")
    return "\n".join(out).encode("utf-8")


def robots_txt(urls: Urls) -> bytes:
    return f"User-agent: *\nAllow: /\n\nSitemap: {urls.absolute('sitemap.xml')}\n".encode()
