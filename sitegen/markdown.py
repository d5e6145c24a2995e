"""Markdown to HTML: CommonMark with tables, strikethrough and bare URLs turned into links.

Raw HTML in content is shown as text unless the site sets `allow_html: true`: abstracts come from scraped
pages, and a stray `<script>` in one must never run. One parser serves a whole build (and every rebuild of
`serve`), and results are cached by source text, so an unchanged abstract is never parsed twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markupsafe import Markup


class MarkdownRenderer:
    """Renders Markdown fragments of a page.

    heading_base: the level a fragment's top headings get. A fragment sits in a page section below the page's
    `<h1>` and the section's `<h2>`, so a curator's `# Idea` or `## Idea` becomes an `<h3>`, and levels never
    skip (`#` then `###` become h3 then h4), which keeps the outline valid for screen readers and checkers.
    link: rewrites link and image targets (used to give root-relative links the site's base path).
    """

    def __init__(
        self, allow_html: bool = False, link: Callable[[str], str] | None = None, heading_base: int = 3
    ):
        self._link = link
        self._base = heading_base
        md = MarkdownIt(
            "commonmark", {"html": allow_html, "linkify": True, "typographer": False, "xhtmlOut": False}
        )
        md.enable(["table", "strikethrough", "linkify"])
        md.linkify = _FastLinkify(md.linkify)
        md.core.ruler.push("sitegen_adjust", self._adjust)
        self._md = md
        self._cache: dict[str, Markup] = {}
        self._used: dict[str, Markup] = {}

    def _adjust(self, state: StateCore) -> None:
        self._relevel([t for t in state.tokens if t.type in ("heading_open", "heading_close")])
        for token in state.tokens:
            for child in token.children or ():
                if self._link is None:
                    break
                if child.type == "link_open":
                    href = child.attrGet("href")
                    if isinstance(href, str):
                        child.attrSet("href", self._link(href))
                elif child.type == "image":
                    src = child.attrGet("src")
                    if isinstance(src, str):
                        child.attrSet("src", self._link(src))

    def _relevel(self, headings: list[Any]) -> None:
        if not headings:
            return
        ranks = {level: rank for rank, level in enumerate(sorted({int(t.tag[1]) for t in headings}))}
        previous = self._base - 1
        for token in headings:
            if token.type == "heading_open":
                level = min(self._base + ranks[int(token.tag[1])], previous + 1, 6)
                previous = level
            token.tag = f"h{previous}"

    def render(self, text: str) -> Markup:
        """HTML for a Markdown fragment (safe to insert into a template)."""
        if not text:
            return Markup("")
        html = self._used.get(text)
        if html is None:
            html = self._cache.get(text)
            if html is None:
                html = Markup(self._md.render(text))
            self._used[text] = html
        return html

    def next_generation(self) -> None:
        """Forget fragments that the last build did not use (keeps a long `serve` session's memory flat)."""
        self._cache, self._used = self._used, {}


def plain_text(html: str) -> str:
    """The text of an HTML fragment, whitespace collapsed."""
    return Markup(html).striptags()


def excerpt(text: str, limit: int = 280) -> str:
    """At most `limit` characters of text, cut at a word boundary, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:.-–—(")
    return cut + "…"


# Anything linkify-it could turn into a link: a scheme, "www.", an e-mail address or a dotted host name.
_LINK_HINT = re.compile(r"://|www\.|@|\w\.[a-z]{2,}", re.IGNORECASE)
_WORD_WITH_HINT = re.compile(r"\S*(?:://|www\.|@|\w\.[a-z]{2,})\S*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Shifted:
    """A linkify-it match moved from a word to its place in the whole text."""

    schema: str
    index: int
    last_index: int
    raw: str
    text: str
    url: str


class _FastLinkify:
    """linkify-it, asked only about the words that could hold a link.

    linkify-it scans a whole paragraph with large Unicode regular expressions, several milliseconds per
    abstract; links never contain whitespace, so asking it about candidate words gives the same links at a
    fraction of the cost.
    """

    def __init__(self, real: Any):
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def pretest(self, text: str) -> bool:
        return _LINK_HINT.search(text) is not None

    def test(self, text: str) -> bool:
        return any(self._real.test(m.group()) for m in _WORD_WITH_HINT.finditer(text))

    def match(self, text: str) -> list[_Shifted] | None:
        found: list[_Shifted] = []
        for word in _WORD_WITH_HINT.finditer(text):
            for m in self._real.match(word.group()) or ():
                start = word.start()
                found.append(_Shifted(m.schema, m.index + start, m.last_index + start, m.raw, m.text, m.url))
        return found or None
