"""Math in scraped digest text: which spans are LaTeX math, as LaTeX source the Markdown renderer can typeset.

Three kinds are recognised:

- math with its delimiters intact: `$…$` (only when it looks like math: "$5 and $10" is money), `$$…$$`,
  `\\(…\\)` and `\\[…\\]`;
- a math command whose backslash the scraper dropped, before its brace ("mathcal{O}(n)", "frac{a}{b}"), with
  the groups, scripts and brackets glued to it ("mathcal{O}(mathcal{C_Phi/m})");
- a letter with a braced or Greek subscript ("C_{Phi circ Psi}", "C_Psi"), which prose never has.

In the remnants, command and Greek-letter names get their backslash back ("Phi" -> "\\Phi"; "Phicirc", two
names run together, -> "\\Phi \\circ"). A span becomes math only if it then converts to MathML; anything else
is left to the plain-text repair in sitegen.text.clean.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_GREEK_TEXT = """
    alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi
    varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi
    Sigma Upsilon Phi Psi Omega
"""
GREEK_NAMES = _GREEK_TEXT.split()
# Commands that take a braced argument and occur only in math.
_ARG_MATH_TEXT = """
    mathcal mathbf mathrm mathbb mathit mathsf mathfrak mathscr boldsymbol operatorname frac dfrac tfrac
    sqrt hat widehat tilde widetilde overline vec
"""
_ARG_MATH = _ARG_MATH_TEXT.split()
# Names that get their backslash back inside a remnant (none of one letter, none an English word of prose
# that a formula would hold, such as "a" or "if").
_SYMBOL_TEXT = """
    text circ cdot times leq geq neq in notin subset subseteq cup cap sum prod int log exp max min sup
    inf lim arg infty to rightarrow leftarrow Rightarrow mapsto sim approx pm mp partial nabla forall
    exists propto equiv ell top langle rangle cdots ldots dots det sin cos tanh otimes oplus odot star
    ast prime emptyset left right
"""
_MATH_NAMES = frozenset(GREEK_NAMES + _ARG_MATH + _SYMBOL_TEXT.split())
_TEXT_ARGS = frozenset({"text", "mathrm", "operatorname"})  # their argument is words, not names
_GREEK = "|".join(sorted(GREEK_NAMES, key=len, reverse=True))
_COMMAND_START = re.compile(rf"(?<![A-Za-z\\])\\?({'|'.join(_ARG_MATH)})(?=\{{)")
_SCRIPT_START = re.compile(
    rf"(?<![\w\\$^_{{])[A-Za-z]{{1,3}}(?=_\{{[^{{}}\n]{{1,40}}\}}|_(?:{_GREEK})(?![A-Za-z]))"
)
_DOLLARS = re.compile(r"(?<![\\$])\$\$([^$\n]{1,300})\$\$|(?<![\\$])\$([^$\n]{1,60})\$(?!\$)")
_PARENS = re.compile(r"\\\((.{1,300}?)\\\)|\\\[(.{1,300}?)\\\]")
_MAX_SPAN = 300


@dataclass(frozen=True, slots=True)
class MathSpan:
    """text[start:end] is math; `latex` is its source without delimiters."""

    start: int
    end: int
    latex: str
    display: bool = False


def _mathy(inner: str) -> bool:
    """Whether "$inner$" is math rather than two dollar amounts (the rule sitegen.text.clean has always
    used)."""
    if inner != inner.strip():
        return False
    return bool(re.search(r"[\\^_{}=<>]", inner) or re.fullmatch(r"[A-Za-z]|[\d.]+%", inner))


def _group_end(text: str, start: int, opener: str, closer: str) -> int:
    """End (exclusive) of the bracket group opening at text[start], on the same line; -1 if unclosed."""
    depth = 0
    for i in range(start, min(len(text), start + _MAX_SPAN)):
        ch = text[i]
        if ch == "\n":
            return -1
        if ch == opener:
            depth += 1
        elif ch == closer:
            depth -= 1
            if depth == 0:
                return i + 1
    return -1


_PAIRS = {"{": "}", "(": ")", "[": "]"}


def _extend(text: str, pos: int) -> int:
    """The end of a remnant whose head ends at `pos`: groups, brackets and scripts glued to it."""
    while pos < len(text):
        ch = text[pos]
        if ch in _PAIRS:
            end = _group_end(text, pos, ch, _PAIRS[ch])
            if end < 0:
                break
            pos = end
        elif ch in "_^" and pos + 1 < len(text):
            following = text[pos + 1]
            if following == "{":
                end = _group_end(text, pos + 1, "{", "}")
                if end < 0:
                    break
                pos = end
            elif following.isalnum():
                match = re.compile(rf"{_GREEK}(?![A-Za-z])|\w").match(text, pos + 1)
                assert match is not None
                pos = match.end()
            else:
                break
        else:
            break
    return pos


def _split_names(word: str) -> list[str] | None:
    """`word` as two or more math names run together ("Phicirc" -> ["Phi", "circ"]), else None."""
    best: list[list[str] | None] = [None] * (len(word) + 1)
    best[0] = []
    for end in range(2, len(word) + 1):
        for start in range(0, end - 1):
            head = best[start]
            if head is not None and word[start:end] in _MATH_NAMES:
                candidate = [*head, word[start:end]]
                if best[end] is None or len(candidate) < len(best[end]):  # type: ignore[arg-type]
                    best[end] = candidate
    found = best[len(word)]
    return found if found is not None and len(found) >= 2 else None


def restore_backslashes(remnant: str) -> str:
    """LaTeX source of a remnant: command and Greek names get their backslash back."""
    out: list[str] = []
    pos = 0
    words = list(re.finditer(r"[A-Za-z]+", remnant))
    skip_until = -1
    for m in words:
        word, start = m.group(), m.start()
        out.append(remnant[pos:start])
        pos = m.end()
        escaped = start > 0 and remnant[start - 1] == "\\"
        if escaped or start < skip_until:
            out.append(word)
        elif word in _MATH_NAMES:
            out.append("\\" + word)
        elif (parts := _split_names(word)) is not None:
            out.append(" ".join("\\" + part for part in parts))
        else:
            out.append(word)
            continue
        if word in _TEXT_ARGS and remnant.startswith("{", pos):
            skip_until = _group_end(remnant, pos, "{", "}")
        following = remnant[pos : pos + 1]
        if not escaped and start >= skip_until and following.isalpha():
            out.append(" ")
    out.append(remnant[pos:])
    return "".join(out)


def find_math(text: str) -> list[MathSpan]:
    """The math spans of scraped text, in order, not overlapping, each one that renders (see module doc)."""
    from sitegen.text.mathml import to_mathml

    candidates: list[MathSpan] = []
    for m in _DOLLARS.finditer(text):
        if m.group(1) is not None:
            if m.group(1).strip():
                candidates.append(MathSpan(m.start(), m.end(), m.group(1).strip(), True))
        elif _mathy(m.group(2)):
            candidates.append(MathSpan(m.start(), m.end(), m.group(2)))
    for m in _PARENS.finditer(text):
        inner = m.group(1) if m.group(1) is not None else m.group(2)
        if inner.strip():
            candidates.append(MathSpan(m.start(), m.end(), inner.strip(), m.group(2) is not None))
    for pattern in (_COMMAND_START, _SCRIPT_START):
        for m in pattern.finditer(text):
            end = _extend(text, m.end())
            if end > m.end() and end - m.start() <= _MAX_SPAN:
                candidates.append(MathSpan(m.start(), end, restore_backslashes(text[m.start() : end])))
    spans: list[MathSpan] = []
    last = -1
    for span in sorted(candidates, key=lambda s: (s.start, -s.end)):
        if span.start < last:
            continue
        if to_mathml(span.latex, span.display) is not None:
            spans.append(span)
            last = span.end
    return spans
