"""CommonMark's HTML for a one-paragraph fragment whose markup characters all stand for themselves, without
the parser.

A quarter of abstracts hold a character that could start inline markup but does not: a backslash before a
letter (LaTeX remnants), `_` inside a word, a lone `&`, `~` or `>`, brackets that make no link; some hold code
spans or run over several lines. markdown-it takes ~450 µs to parse such a paragraph; finding those characters
and checking each takes a few dozen. `simple_paragraph` gives the HTML markdown-it gives, or None as soon as
anything else could happen (a run of '*' or '_' that could close one opened before it, an entity, raw HTML, a
link or image, a hard line break, a line on which a block could start, a `$` or `\\(` or `\\[` that may
start math): the caller then runs the parser. Bare
`scheme://` links and autolinks are made by the caller's `Autolinks`. tests/test_paragraph.py holds both to
the same output on generated and real text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

# First characters of a line on which a block (heading, quote, list, rule, fence, table, HTML, indented code)
# could start or a paragraph could end; ":" starts a table's delimiter row.
BLOCK_START = frozenset("#>-+*=_|`~<0123456789 \t")
_CONTINUATION_START = BLOCK_START | {":"}

# The characters the scan stops at: markup that might fire, and what HTML escapes ('&', '<', '>', '"').
# '[', ']' and '!' are left out: without "](" in the text they can make no link or image (a fragment defines
# no link references, and a paragraph starting with '[' is left to the parser).
_STOPS = re.compile(r'[\\`*_~&<>"\n]')
_STOPS_AND_LINKS = re.compile(r'[\\`*_~&<>"\n:]')
_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_ESCAPED = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
# What the entity rule would decode (also names it does not know: no need to look them up).
_ENTITY = re.compile(r"&(?:#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)")
# What an autolink needs: a ':' (after its scheme) or an '@' (in an address), and a '>', with no space or '<'.
_AUTOLINK = re.compile(r"<[^<>\x00-\x20]*[:@][^<>\x00-\x20]*>")
_LINE_BREAK_SPACE = " \t"
# markdown-it's whitespace and punctuation for emphasis (markdown_it.common.utils, here so that a build that
# never runs the parser need not import it; tests/test_paragraph.py compares them on every code point).
_WHITESPACE = frozenset("\t\n\x0b\x0c\r \xa0\u1680\u202f\u205f\u3000") | {
    chr(c) for c in range(0x2000, 0x200B)
}


def is_punctuation(char: str) -> bool:
    return char in _ASCII_PUNCT or unicodedata.category(char).startswith(("P", "S"))


def is_whitespace(char: str) -> bool:
    return char in _WHITESPACE


class NotSimple(Exception):
    """Raised by an `Autolinks` callback that cannot tell what the parser would make."""


@dataclass(frozen=True, slots=True)
class Autolinks:
    """The parser's links without brackets, for text in which there may be some.

    at(text, pending, colon): the bare link its inline rule makes at the "://" at `colon`, given that the
    parser's pending text starts at `pending`: (HTML, start, end) of the link, or None when it makes none.
    angled(text, start): the autolink (`<scheme:...>`, `<address@host>`) at `start`: (HTML, start, end) or
    None.
    found_in(text): whether its core rule could find a link (one without a scheme) in a stretch of text.
    Any of them raises NotSimple when it cannot tell.
    """

    at: Callable[[str, int, int], tuple[str, int, int] | None]
    angled: Callable[[str, int], tuple[str, int, int] | None]
    found_in: Callable[[str], bool]


def simple_paragraph(text: str, allow_html: bool = False, links: Autolinks | None = None) -> str | None:
    """markdown-it's HTML for `text` if it is one paragraph of text, code spans, literal markup characters and
    (with `links`) bare links; None when that is not certain. Without `links`, the caller has made sure
    that `text` holds no link."""
    if (
        not text
        or text[0] in BLOCK_START
        or text[0] == "["
        or text[0].isspace()
        or text[-1].isspace()
        or "](" in text
        or "\r" in text
        or "\0" in text
        or "$" in text  # math (sitegen.text.mathml), or a dollar only the parser can tell from it
        or "\\(" in text
        or "\\[" in text
    ):
        return None
    out: list[str] = []  # the HTML of text[:last]
    last = pos = 0
    end = len(text)
    # With links: the text tokens the parser's core linkify rule looks through (between escapes, code spans,
    # line breaks and links), and where the current one and the parser's pending text start.
    tokens: list[str] = []
    token = pending = 0
    openers: set[str] = set()  # the emphasis markers ('*', '_') of the runs so far that could open
    search = (_STOPS if links is None else _STOPS_AND_LINKS).search
    while (found := search(text, pos)) is not None:
        i = found.start()
        char = text[i]
        if char == "<" and (allow_html or (links is None and _AUTOLINK.match(text, i))):
            return None  # raw HTML, or an autolink that only the caller can make
        link = None
        try:
            if char == ":" and text.startswith("://", i):
                link = links.at(text, pending, i)  # type: ignore[union-attr]
            elif char == "<" and links is not None and _AUTOLINK.match(text, i):
                link = links.angled(text, i)
        except NotSimple:
            return None
        if link is not None:
            html, start, pos = link
            out += (text[last:start], html)
            tokens.append(text[token:start])
            last = token = pending = pos
            continue
        if char == ":":
            pos = i + 1
            continue  # ':' is text: the pending text goes on
        out.append(text[last:i])
        if char in _ESCAPED:
            if char == "&" and _ENTITY.match(text, i):
                return None
            out.append(_ESCAPED[char])
            pos = i + 1
        elif char == "\\":
            following = text[i + 1] if i + 1 < end else ""
            if following == "\n":
                return None  # a hard line break
            # An escape, or a backslash and the character after it: either is a token of its own.
            out.append(_ESCAPED.get(following, following) if following in _ASCII_PUNCT else "\\" + following)
            tokens.append(text[token:i])
            pos = token = pending = i + 2
        elif char == "`":
            code = _backticks(text, i)
            if code is None:
                return None
            html, pos, is_code = code
            out.append(html)
            if is_code:
                tokens.append(text[token:i])
                token = pending = pos
        elif char == "\n":
            if text[i - 1] in _LINE_BREAK_SPACE:
                return None  # trailing spaces: a hard break, or dropped
            pos = i + 1
            while pos < end and text[pos] in _LINE_BREAK_SPACE:
                pos += 1
            if pos == end or text[pos] in _CONTINUATION_START or text[pos] == "\n":
                return None
            out.append("\n")
            tokens.append(text[token:i])
            token = pending = pos
        else:  # '*', '_' or '~': a run of them
            pos = i + 1
            while pos < end and text[pos] == char:
                pos += 1
            if char == "~":
                if pos - i > 1:
                    return None  # could be strikethrough
            else:
                can_open, can_close = _flanks(text, i, pos, char == "*")
                if can_close and char in openers:
                    return None  # could close emphasis that an earlier run opens
                if can_open:
                    openers.add(char)
                pending = pos  # an emphasis delimiter, even one that pairs with nothing, is a token
            out.append(text[i:pos])
        last = pos
    out.append(text[last:])
    if links is not None:
        tokens.append(text[token:])
        if any(links.found_in(part) for part in tokens):
            return None  # the core rule would find links there
    return "<p>" + "".join(out) + "</p>\n"


def _backticks(text: str, start: int) -> tuple[str, int, bool] | None:
    """(HTML, end, whether it is code) of the backtick run at `start`: a code span, or the run itself as text
    when nothing closes it; None for a span over a line break."""
    pos = start + 1
    while pos < len(text) and text[pos] == "`":
        pos += 1
    length = pos - start
    after = pos
    while (close := text.find("`", after)) != -1:
        after = close + 1
        while after < len(text) and text[after] == "`":
            after += 1
        if after - close == length:
            content = text[pos:close]
            if "\n" in content:
                return None
            if content.startswith(" ") and content.endswith(" ") and content.strip(" "):
                content = content[1:-1]
            escaped = "".join(_ESCAPED.get(c, c) for c in content) if _needs_escape(content) else content
            return f"<code>{escaped}</code>", after, True
    return text[start:pos], pos, False


def _needs_escape(text: str) -> bool:
    return any(c in text for c in _ESCAPED)


def _flanks(text: str, start: int, end: int, can_split_word: bool) -> tuple[bool, bool]:
    """Whether the run of '*' or '_' at text[start:end] could open and close emphasis (markdown-it's
    scanDelims)."""
    last = text[start - 1] if start > 0 else " "
    following = text[end] if end < len(text) else " "
    last_punct, next_punct = is_punctuation(last), is_punctuation(following)
    last_space, next_space = is_whitespace(last), is_whitespace(following)
    left_flanking = not (next_space or (next_punct and not (last_space or last_punct)))
    right_flanking = not (last_space or (last_punct and not (next_space or next_punct)))
    can_open = left_flanking and (can_split_word or not right_flanking or last_punct)
    can_close = right_flanking and (can_split_word or not left_flanking or next_punct)
    return can_open, can_close
