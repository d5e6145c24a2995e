"""LaTeX math in Markdown, rendered at build time as MathML: no script runs in the reader's browser.

Delimiters: `$…$` and `\\(…\\)` inline, `$$…$$` and `\\[…\\]` displayed (inside a paragraph, or `$$` on
lines of their own). A `$` is math only as TeX writers use it: no space just inside the delimiters and no
digit just outside, so "costs $5 and $10" stays text. latex2mathml does the conversion; its output is rebuilt
from an allowlist of MathML elements and attributes, because it passes `\\text{<b>}`, `\\href` and
`\\style` through as markup. Math that does not convert (or names a command latex2mathml does not know) is
shown as its source, and `problems()` finds it for the loader's `file:line` warnings. Each `<math>` carries
its plain-text reading in `alttext`, which `math_as_text` uses for descriptions, feeds and search excerpts.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Sequence
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_inline import StateInline
    from markdown_it.token import Token

# What can start math in a Markdown fragment: text without any of these is never parsed for math.
MATH_HINT = re.compile(r"\$|\\[(\[]")

_ELEMENTS_TEXT = """
    math mrow mi mn mo ms mtext mspace msub msup msubsup mfrac msqrt mroot mover munder munderover mtable mtr
    mtd mstyle mpadded mphantom menclose merror mmultiscripts mprescripts none semantics
"""
_ATTRIBUTES_TEXT = """
    display mathvariant stretchy fence form separator lspace rspace accent accentunder linethickness
    columnalign columnlines columnspacing rowalign rowlines rowspacing displaystyle scriptlevel width height
    depth movablelimits largeop symmetric minsize maxsize notation mathsize
"""
_ELEMENTS = frozenset(_ELEMENTS_TEXT.split())
_ATTRIBUTES = frozenset(_ATTRIBUTES_TEXT.split())
_SAFE_VALUE = re.compile(r"[\w .%+-]{0,40}")
_NAMESPACE = "http://www.w3.org/1998/Math/MathML"


class _Rebuild(HTMLParser):
    """latex2mathml's output again, from allowed elements and attributes only, its text escaped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []
        self.unknown = False  # a command latex2mathml did not know, left in the output as "\name"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, close=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, close=True)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], close: bool) -> None:
        if tag not in _ELEMENTS:
            return
        kept = "".join(
            f' {name}="{value}"'
            for name, value in attrs
            if name in _ATTRIBUTES and value is not None and _SAFE_VALUE.fullmatch(value)
        )
        if close:
            self.out.append(f"<{tag}{kept}></{tag}>")
        else:
            self.out.append(f"<{tag}{kept}>")
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _ELEMENTS and tag in self.open:
            while self.open:
                last = self.open.pop()
                self.out.append(f"</{last}>")
                if last == tag:
                    break

    def handle_data(self, data: str) -> None:
        if re.match(r"\\[A-Za-z]", data) and self.open and self.open[-1] in ("mi", "mo"):
            self.unknown = True
        self.out.append(html.escape(data, quote=False))


# Commands that make links, styles or raw markup: shown as source rather than converted.
_REFUSED = re.compile(r"\\(?:href|url|style|class|cssId|html\w*|unicode|require)(?![A-Za-z])")


@functools.lru_cache(maxsize=4096)
def to_mathml(latex: str, display: bool = False) -> str | None:
    """Safe MathML for `latex`, or None when it does not convert cleanly."""
    source = latex.strip()
    if not source or _REFUSED.search(source):
        return None
    from latex2mathml.converter import convert

    try:
        raw = convert(source, display="block" if display else "inline")
    except Exception:  # latex2mathml raises many kinds (its own, IndexError, KeyError...) for bad input
        return None
    rebuilt = _Rebuild()
    rebuilt.feed(raw)
    rebuilt.close()
    if rebuilt.unknown:
        return None
    body = "".join(rebuilt.out)
    if not body.startswith("<math"):
        return None
    alt = html.escape(math_text(source), quote=True)
    head = f'<math xmlns="{_NAMESPACE}" display="{"block" if display else "inline"}" alttext="{alt}">'
    return head + body[body.index(">") + 1 :]


def math_text(latex: str) -> str:
    """Plain Unicode text of LaTeX math (`\\mathcal{O}(1)` -> O(1)), for search, feeds and descriptions."""
    from sitegen.text.clean import math_text as plain

    return plain(latex)


def render_math(latex: str, display: bool) -> str:
    """The HTML of one piece of math: MathML, or its source as text when it does not convert."""
    mathml = to_mathml(latex, display)
    if mathml is not None:
        return mathml
    delimiter = "$$" if display else "$"
    return f'<code class="math-source">{html.escape(delimiter + latex + delimiter, quote=False)}</code>'


# --- Markdown -----------------------------------------------------------------------------------------------


def _closing_dollar(src: str, start: int, double: bool) -> int:
    """Index of the `$` (or first `$` of `$$`) closing math opened before `start`; -1 if none."""
    pos = start
    while (end := src.find("$", pos)) != -1:
        backslashes = len(src[:end]) - len(src[:end].rstrip("\\"))
        if backslashes % 2:
            pos = end + 1  # an escaped dollar inside the math
            continue
        if double and not src.startswith("$$", end):
            pos = end + 1
            continue
        return end
    return -1


def scan_math(src: str, pos: int) -> tuple[int, str, bool] | None:
    """The math starting at src[pos] (a `$` or a backslash): (end, LaTeX, display), else None.

    The rules of the inline parser, shared with `problems` so that what is warned about is what renders."""
    if src.startswith(("\\(", "\\["), pos):
        closer = "\\)" if src[pos + 1] == "(" else "\\]"
        end = src.find(closer, pos + 2)
        if end == -1 or not src[pos + 2 : end].strip():
            return None
        return end + 2, src[pos + 2 : end], closer == "\\]"
    if not src.startswith("$", pos):
        return None
    double = src.startswith("$$", pos)
    start = pos + (2 if double else 1)
    if start >= len(src) or src[start].isspace() or (pos > 0 and src[pos - 1].isdigit()):
        return None
    end = _closing_dollar(src, start, double)
    if end == -1 or end == start or src[end - 1].isspace():
        return None
    after = end + (2 if double else 1)
    if not double and after < len(src) and src[after].isdigit():
        return None  # "$5 and $10": a digit right after the closing dollar means money
    return after, src[start:end], double


def _math_inline(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] not in "$\\":
        return False
    found = scan_math(state.src[: state.posMax], state.pos)
    if found is None:
        return False
    end, latex, display = found
    if not silent:
        token = state.push("math_display" if display else "math_inline", "math", 0)
        token.content = latex
    state.pos = end
    return True


def _render_inline(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return f'<span class="math">{render_math(tokens[idx].content, False)}</span>'


def _render_display(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return f'<span class="math display">{render_math(tokens[idx].content, True)}</span>'


def _render_block(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return f'<div class="math display">{render_math(tokens[idx].content.strip(), True)}</div>\n'


def math_plugin(md: MarkdownIt) -> None:
    """markdown-it plugin: the math delimiters above become MathML."""
    from mdit_py_plugins.dollarmath.index import math_block_dollar

    md.inline.ruler.before("escape", "math_inline", _math_inline)
    md.block.ruler.before(
        "fence", "math_block", math_block_dollar(False, None, False), {"alt": ["paragraph", "reference"]}
    )
    md.add_render_rule("math_inline", _render_inline)
    md.add_render_rule("math_display", _render_display)
    md.add_render_rule("math_block", _render_block)


@functools.cache
def _checker() -> MarkdownIt:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark")
    md.use(math_plugin)
    return md


def problems(markdown: str) -> list[tuple[int, str]]:
    """(line within `markdown`, 0-based; message) of each piece of math that will be shown as source."""
    if MATH_HINT.search(markdown) is None:
        return []
    found: list[tuple[int, str]] = []
    for block in _checker().parse(markdown):
        first = block.map[0] if block.map else 0
        if block.type == "math_block" and to_mathml(block.content.strip(), True) is None:
            found.append((first, _message(block.content.strip())))
        for child in block.children or ():
            if child.type in ("math_inline", "math_display") and to_mathml(child.content) is None:
                line = first + _line_of(block.content, child.content)
                found.append((line, _message(child.content)))
    return found


def _line_of(text: str, part: str) -> int:
    at = text.find(part)
    return text.count("\n", 0, at) if at >= 0 else 0


def _message(latex: str) -> str:
    shown = latex if len(latex) <= 60 else latex[:59] + "…"
    return f"math that does not render, shown as its source: ${shown}$"


_MATH_ELEMENT = re.compile(r'<math\b[^>]*\balttext="([^"]*)"[^>]*>.*?</math>', re.S)


def math_as_text(html_text: str) -> str:
    """HTML with each `<math>` element replaced by its plain-text reading (still escaped, as HTML)."""
    if "<math" not in html_text:
        return html_text
    return _MATH_ELEMENT.sub(lambda m: m.group(1), html_text)
