"""Markdown to HTML: CommonMark with tables, strikethrough, math (MathML, see sitegen.text.mathml) and bare
URLs turned into links. A bare link needs a scheme, a "www." or a known code or data host
(sitegen.text.urls): a word such as "images.In" or "MedRoBERTa.nl" is not one.

Raw HTML in content is shown as text unless the site sets `allow_html: true`: abstracts come from scraped
pages, and a stray `<script>` in one must never run. One parser serves a whole build (and every rebuild of
`serve`), and results are cached by source text, so an unchanged abstract is never parsed twice.

Size: the renderer and its fast paths (paragraphs without the parser, links without it, plain text) share one
cache and one set of options; apart, they would hand them around.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from sitegen.text.mathml import math_as_text, math_plugin
from sitegen.text.paragraph import BLOCK_START, Autolinks, NotSimple, simple_paragraph
from sitegen.text.urls import bare_link_allowed

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_core import StateCore
    from markdown_it.rules_inline import StateInline

_TEXT_KEY = "\0text\0"


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
        self._allow_html = allow_html
        self._parser: MarkdownIt | None = None
        self._linkifier: _FastLinkify | None = None
        self._cache: dict[str, Markup] = {}
        self._used: dict[str, Markup] = {}

    @property
    def _md(self) -> MarkdownIt:
        """The parser, made when first needed: a build whose fragments are all simple paragraphs (see
        sitegen.text.paragraph; a rebuild after a small edit, say) never imports it."""
        if self._parser is None:
            from markdown_it import MarkdownIt

            md = MarkdownIt(
                "commonmark",
                {"html": self._allow_html, "linkify": True, "typographer": False, "xhtmlOut": False},
            )
            md.enable(["table", "strikethrough", "linkify"])
            md.linkify = self._linkify
            md.inline.ruler.at("linkify", _inline_linkify)
            md.core.ruler.push("sitegen_adjust", self._adjust)
            md.use(math_plugin)
            self._parser = md
        return self._parser

    @property
    def _linkify(self) -> _FastLinkify:
        """linkify-it, which finds bare links, shared with the parser; made without it, which the links of a
        paragraph otherwise plain do not need."""
        if self._linkifier is None:
            from linkify_it import LinkifyIt

            self._linkifier = _FastLinkify(LinkifyIt())
        return self._linkifier

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
                html = Markup(self._convert(text))
            self._used[text] = html
        return html

    def _convert(self, text: str) -> str:
        """markdown-it's HTML for `text`; a plain paragraph (most abstracts) without running the parser."""
        return self._convert_texts(text)[0]

    def _convert_texts(self, text: str) -> tuple[str, str | None]:
        """_convert(text), and its plain text when that is known without reading the HTML (a plain
        paragraph is its own text: plain_text() would only undo the escaping of its quotes)."""
        linked = "://" in text or self._has_link(text)
        if not linked and _is_plain_paragraph(text):
            return f"<p>{text.replace(_QUOTE, '&quot;')}</p>\n", _collapsed(text)
        links = Autolinks(self._autolink, self._angled, self._finds_link) if linked else None
        html = simple_paragraph(text, self._allow_html, links)
        return (html if html is not None else self._md.render(text)), None

    def _autolink(self, text: str, pending: int, colon: int) -> tuple[str, int, int] | None:
        """The link `_inline_linkify` makes at the "://" at `colon`, if any (see paragraph.Autolinks)."""
        match = _scheme_before(text[pending:colon])
        whole = _scheme_before(text[:colon])
        if (match and match.group(1)) != (whole and whole.group(1)):
            raise NotSimple  # the parser's pending text may start elsewhere: the scheme is not certain
        if match is None:
            return None
        proto = match.group(1)
        start = colon - len(proto)
        link = self._linkify.match_at_start(text[start:])
        if not link:
            return None
        url: str = link.url.rstrip("*")
        if len(url) <= len(proto):
            return None
        return self._anchor(*_normalized(url)), start, start + len(url)

    def _angled(self, text: str, start: int) -> tuple[str, int, int] | None:
        """The autolink markdown-it makes of the `<...>` at `start`, if any (see paragraph.Autolinks)."""
        end = text.find(">", start + 1)
        if end < 0 or "<" in text[start + 1 : end]:
            return None
        url = text[start + 1 : end]
        if AUTOLINK_RE.search(url) is not None:
            href, label = _normalized(url)
        elif EMAIL_RE.search(url) is not None:
            href, label = _normalized("mailto:" + url)[0], _normalized(url)[1]
        else:
            return None
        return self._anchor(href, label), start, end + 1

    def _anchor(self, href: str, label: str) -> str:
        """The HTML of a link the parser makes from a normalized URL (its link rewrite applied); raises
        NotSimple for one it would refuse (a `javascript:` URL, say): what it makes then is left to it."""
        if not valid_link(href):
            raise NotSimple
        if self._link is not None:
            href = self._link(href)
        return f'<a href="{_escape_html(href)}">{_escape_html(label)}</a>'

    def _has_link(self, text: str) -> bool:
        return _LINK_HINT.search(text) is not None and self._linkify.pretest(text)

    def _finds_link(self, text: str) -> bool:
        """Whether the parser's core linkify rule would make a link in a stretch of text."""
        return self._has_link(text) and self._linkify.test(text)

    def text(self, markdown: str) -> str:
        """The plain text of a fragment (for excerpts and descriptions), cached like its HTML."""
        key = _TEXT_KEY + markdown  # a separate key space in the same cache
        text = self._used.get(key)
        if text is None:
            text = self._cache.get(key)
            if text is None:
                known = None
                if markdown and self._used.get(markdown) is None and self._cache.get(markdown) is None:
                    html, known = self._convert_texts(markdown)
                    self._used[markdown] = Markup(html)
                text = known if known is not None else plain_text(self.render(markdown))
            self._used[key] = text  # type: ignore[assignment]
        return text

    def next_generation(self) -> None:
        """Forget fragments that the last build did not use (keeps a long `serve` session's memory flat)."""
        self._cache, self._used = self._used, {}


# A paragraph is plain when no block rule can start on its one line and no inline rule can fire in it: then
# CommonMark makes it `<p>text</p>` with only `"` to escape (&, < and > are excluded here). The inline rules
# fire at \ ` * _ ~ [ ] ! < & and a line break; bare links are ruled out by linkify's pretest. Other
# paragraphs may still be simple enough to skip the parser: see sitegen.text.paragraph.
_NOT_PLAIN = re.compile(r"[\\`*_~\[\]!<>&$\n\r\0]")
_QUOTE = '"'


def _escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _is_plain_paragraph(text: str) -> bool:
    # (no surrounding str.isspace() character: then CommonMark's trimming, a subset of those, leaves it as is)
    return (
        text[0] not in BLOCK_START
        and not text[0].isspace()
        and not text[-1].isspace()
        and _NOT_PLAIN.search(text) is None
    )


# The whitespace str.split() splits ASCII text at, but for the single space and the line breaks that are
# not in a plain paragraph.
_ASCII_SPACE = re.compile("[\t\x0b\x0c\x1c-\x1f]")


def _collapsed(text: str) -> str:
    """The text with its whitespace collapsed (usually as it is: checked without splitting it into words)."""
    if text.isascii() and "  " not in text and _ASCII_SPACE.search(text) is None:
        return text
    return " ".join(text.split())


def plain_text(html: str) -> str:
    """The text of an HTML fragment, whitespace collapsed; math as plain text (`O(1)`, not its MathML)."""
    return Markup(math_as_text(html)).striptags()


def excerpt(text: str, limit: int = 280) -> str:
    """At most `limit` characters of text, cut at a word boundary, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:.-–—(")
    return cut + "…"


# What can make linkify-it find a link, loosened to a cheap superset: a scheme's ':' or '//', a dot before a
# digit or a TLD's first letter, '@'. Rare first characters let the regex engine skip ahead fast; only the
# words holding a hint are then handed to linkify-it. ("localhost" and "www." alone make its pretest true
# but never a link: pretest() looks for them separately.)
_LINK_HINT = re.compile(r"\.(?:[a-z0-9]|рф)|:|//|@", re.IGNORECASE)
_WORD = re.compile(r"\S*")


def _hinted_words(text: str) -> list[tuple[int, str]]:
    """(offset, word) of each whitespace-delimited word of `text` that holds a link hint."""
    words: list[tuple[int, str]] = []
    end = 0
    for hint in _LINK_HINT.finditer(text):
        if hint.start() < end:
            continue  # a second hint in a word already taken
        start = hint.start()
        while start > 0 and not text[start - 1].isspace():
            start -= 1
        match = _WORD.match(text, start)
        assert match is not None  # \S* always matches
        end = match.end()
        words.append((start, match.group()))
    return words


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
        self._last: tuple[str, list[tuple[int, str]]] | None = None
        self._answers: dict[tuple[str, str], bool] = {}
        self._matches: dict[str, list[Any]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def pretest(self, text: str) -> bool:
        if _LINK_HINT.search(text) is None:
            return False
        lower = text.lower()
        if "localhost" in lower or "www." in lower:
            return True
        return any(self._ask("pretest", word) for _, word in _hinted_words(text))

    def _ask(self, question: str, word: str) -> bool:
        """linkify-it's pretest or test of one word, remembered: words like "e.g." recur in every abstract."""
        key = (question, word)
        answer = self._answers.get(key)
        if answer is None:
            if len(self._answers) > 100_000:
                self._answers.clear()
            answer = self._answers[key] = bool(getattr(self._real, question)(word))
        return answer

    def match_at_start(self, text: str) -> Any:
        word = _WORD.match(text)
        return self._real.match_at_start(word.group() if word else text)

    def _words(self, text: str) -> list[tuple[int, str]]:
        # markdown-it asks test(text) and then match(text) about the same text: scan it once.
        if self._last is None or self._last[0] != text:
            self._last = (text, _hinted_words(text))
        return self._last[1]

    def test(self, text: str) -> bool:
        words = self._words(text)
        return any(self._ask("test", word) for _, word in words) and any(self._links_in(w) for _, w in words)

    def _links_in(self, word: str) -> list[Any]:
        """linkify-it's matches in one word, but for those that are no link here (see bare_link_allowed)."""
        links = self._matches.get(word)
        if links is None:
            if len(self._matches) > 100_000:
                self._matches.clear()
            links = self._matches[word] = [
                m for m in self._real.match(word) or () if bare_link_allowed(m.raw)
            ]
        return links

    def match(self, text: str) -> list[_Shifted] | None:
        # Like linkify-it's match(), every link is returned, also one that test() alone would not accept.
        found: list[_Shifted] = []
        for start, word in self._words(text):
            for m in self._links_in(word):
                found.append(_Shifted(m.schema, m.index + start, m.last_index + start, m.raw, m.text, m.url))
        return found or None


# RFC 3986: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), right before "://".
_SCHEME_AT_END = re.compile(r"(?:^|[^a-z0-9.+-])([a-z][a-z0-9.+-]*)$", re.IGNORECASE)
_SCHEME_TAIL = 64


def _scheme_before(pending: str) -> re.Match[str] | None:
    """The scheme that ends `pending`, looked for in its tail (searching all of a long text is slow)."""
    match = _SCHEME_AT_END.search(pending[-_SCHEME_TAIL:])
    if match and match.start(1) == 0 and len(pending) > _SCHEME_TAIL:
        match = _SCHEME_AT_END.search(pending)  # the word runs past the tail: decide on the whole text
    return match


def _inline_linkify(state: StateInline, silent: bool) -> bool:
    """markdown-it's inline rule for `scheme://...` links, with one change: the scheme is looked for at the
    end of the pending text only, not by scanning all of it, which made a long abstract quadratic."""
    pos, maximum = state.pos, state.posMax
    if not state.md.options.linkify or state.linkLevel > 0:
        return False
    if pos + 3 > maximum or state.src[pos : pos + 3] != "://":
        return False
    pending = state.pending
    match = _scheme_before(pending)
    if not match:
        return False
    proto = match.group(1)
    link = state.md.linkify.match_at_start(state.src[pos - len(proto) :])
    if not link:
        return False
    url: str = link.url.rstrip("*")  # a trailing '*' belongs to emphasis
    if len(url) <= len(proto):
        # (markdown-it's own check, which markdown-it-py lacks: the parser would stop on "a.com[//x.y://")
        return False
    full_url, label = _normalized(url)
    if not state.md.validateLink(full_url):
        return False
    if not silent:
        state.pending = pending[: -len(proto)]
        token = state.push("link_open", "a", 1)
        token.attrs = {"href": full_url}
        token.markup, token.info = "linkify", "auto"
        token = state.push("text", "", 0)
        token.content = label
        token = state.push("link_close", "a", -1)
        token.markup, token.info = "linkify", "auto"
    state.pos += len(url) - len(proto)
    return True


# A URL that markdown-it's normalizeLink and normalizeLinkText give back as it is: a host name of ASCII
# labels (none of them punycode), an optional port, then only characters that its percent-encoding keeps.
_SAFE_URL = re.compile(
    r"[A-Za-z][A-Za-z0-9+.-]*://[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*(?::[0-9]+)?"
    r"(?:[/?#][A-Za-z0-9;/?:&=+$,\-_.!~*'()#]*)?"
)


def _normalized(url: str) -> tuple[str, str]:
    """(normalizeLink(url), normalizeLinkText(url)) of markdown-it: the link's href and its text. Parsing a
    URL twice is most of the cost of a link, and most URLs come back unchanged."""
    if len(url) < 256 and _SAFE_URL.fullmatch(url) and "xn--" not in url.lower():
        return url, url
    from markdown_it.common.normalize_url import normalizeLink, normalizeLinkText

    return normalizeLink(url), normalizeLinkText(url)


# markdown-it's (markdown_it.rules_inline.autolink, markdown_it.common.normalize_url), here so that links are
# made without importing the parser; tests/test_paragraph.py checks that they are the same.
AUTOLINK_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]{1,31}):([^<>\x00-\x20]*)$")
EMAIL_RE = re.compile(
    r"^([a-zA-Z0-9.!#$%&\'*+\/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*)$"
)
_BAD_PROTO_RE = re.compile(r"^(vbscript|javascript|file|data):")
_GOOD_DATA_RE = re.compile(r"^data:image\/(gif|png|jpeg|webp);")


def valid_link(url: str) -> bool:
    """markdown-it's validateLink: no javascript:, vbscript:, file: or data: URL but images."""
    url = url.strip().lower()
    return bool(_GOOD_DATA_RE.search(url)) if _BAD_PROTO_RE.search(url) else True
