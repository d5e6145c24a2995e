"""Repair of scrape artifacts in digest titles and abstracts.

Digests are scraped from pages built from arXiv metadata, so their text carries LaTeX that was never rendered
(`T\\"ULU`, `\\textit{...}`, `sim50\\%`), HTML entities that lost their `&#` and `;` (`x2013`), and URLs glued
to punctuation or to the remains of `\\href{url}{text}`. Every rule here is conservative: it fires only on a
form that cannot be ordinary prose, and anything it does not understand is left in place and reported, never
guessed at. The original digests are kept in the repository, so a repair can always be checked against its
source.

clean_title() gives plain text; clean_abstract() gives Markdown (URLs as autolinks) and the cleaned URLs.

Size: one repair per kind of scrape damage, each short and tested alone, applied in an order that matters; the
order is easier to see in one file.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from sitegen.text.texmath import GREEK_NAMES, find_math
from sitegen.text.urls import KNOWN_HOSTS

# --- tables -------------------------------------------------------------------------------------------------

_ACCENTS = {
    '"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303", "=": "\u0304", ".": "\u0307",
    "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328", "r": "\u030a",
}  # fmt: skip
_LETTER_MACROS = {
    "i": "ı", "j": "ȷ", "L": "Ł", "l": "ł", "o": "ø", "O": "Ø", "ss": "ß", "ae": "æ", "AE": "Æ",
    "oe": "œ", "OE": "Œ", "aa": "å", "AA": "Å",
}  # fmt: skip
_GREEK_NAMES = list(GREEK_NAMES)
_GREEK_CHARS = "αβγδϵεζηθϑικλμνξπϖρϱσςτυϕφχψωΓΔΘΛΞΠΣΥΦΨΩ"
_SYMBOLS = {
    **dict(zip(_GREEK_NAMES, _GREEK_CHARS, strict=True)),
    "sim": "~", "approx": "≈", "times": "×", "cdot": "·", "pm": "±", "mp": "∓", "leq": "≤", "le": "≤",
    "geq": "≥", "ge": "≥", "neq": "≠", "ne": "≠", "ll": "≪", "gg": "≫", "infty": "∞", "to": "→",
    "rightarrow": "→", "leftarrow": "←", "Rightarrow": "⇒", "leftrightarrow": "↔", "mapsto": "↦", "in": "∈",
    "notin": "∉", "subset": "⊂", "subseteq": "⊆", "cup": "∪", "cap": "∩", "forall": "∀", "exists": "∃",
    "partial": "∂", "nabla": "∇", "sum": "∑", "prod": "∏", "int": "∫", "circ": "∘", "propto": "∝",
    "equiv": "≡", "star": "⋆", "ast": "∗", "dagger": "†", "ldots": "…", "dots": "…", "cdots": "⋯",
    "textasciitilde": "~", "textbackslash": "\\", "S": "§", "P": "¶", "copyright": "©", "textregistered": "®",
    "texttrademark": "™", "textendash": "–", "textemdash": "—", "textbullet": "•", "degree": "°",
    "LaTeX": "LaTeX", "TeX": "TeX", "log": "log", "exp": "exp", "max": "max", "min": "min", "arg": "arg",
    "lim": "lim", "sup": "sup", "inf": "inf", "det": "det", "sin": "sin", "cos": "cos", "tanh": "tanh",
    "ell": "ℓ", "prime": "′", "top": "⊤", "mid": "|", "vert": "|", "Vert": "‖", "lVert": "‖", "rVert": "‖",
    "lvert": "|", "rvert": "|", "geqslant": "≥", "leqslant": "≤", "dag": "†", "checkmark": "✓", "neg": "¬",
    "land": "∧", "lor": "∨", "oplus": "⊕", "otimes": "⊗", "odot": "⊙", "langle": "⟨", "rangle": "⟩",
    "lceil": "⌈", "rceil": "⌉", "lfloor": "⌊", "rfloor": "⌋", "emptyset": "∅", "varnothing": "∅",
}  # fmt: skip
_SPACING = {"quad", "qquad", "newline", "linebreak", "noindent", "par", "smallskip", "medskip", "bigskip"}
_ABBREVIATIONS = {
    "eg": "e.g.", "ie": "i.e.", "etal": "et al.", "wrt": "w.r.t.", "vs": "vs.", "cf": "cf.", "etc": "etc.",
    "aka": "a.k.a.", "iid": "i.i.d.", "resp": "resp.",
}  # fmt: skip
# Commands whose one braced argument is the text to keep; the Markdown form for the ones that mean emphasis.
_ARG_COMMANDS = {
    "textit": "*", "emph": "*", "textsl": "*", "textbf": "**", "mathbf": "", "boldsymbol": "", "textrm": "",
    "textsf": "", "texttt": "", "textsc": "", "textup": "", "textnormal": "", "text": "", "mbox": "",
    "hbox": "", "mathrm": "", "mathit": "", "mathsf": "", "mathtt": "", "mathcal": "", "mathbb": "",
    "mathfrak": "", "mathscr": "", "operatorname": "", "underline": "", "url": "", "bm": "", "hat": "",
    "tilde": "", "bar": "", "vec": "", "overline": "", "widehat": "", "widetilde": "", "textsuperscript": "^",
    "ensuremath": "", "footnote": "(",
}  # fmt: skip
# The same commands after a scraper dropped their backslash ("textit{O}bstacles", "mathcal{O}(T)"): recognised
# only directly before "{", where no English word stands.
_BARE_ARG_COMMANDS = ("textit", "textbf", "emph", "mathcal", "mathbf", "mathrm", "mathbb", "texttt", "textsc")
# Typographic characters whose HTML entity lost "&#" and ";" ("scratchx2013even"). A code point outside this
# list is more likely a hexadecimal number or a model name than a mangled entity.
_ENTITY_CODES = {
    0x00A0: " ", 0x00AD: "", 0x00B0: "°", 0x00B1: "±", 0x00B7: "·", 0x00D7: "×", 0x2002: " ", 0x2003: " ",
    0x2009: " ", 0x200A: " ", 0x200B: "", 0x2010: "-", 0x2011: "-", 0x2012: "–", 0x2013: "–", 0x2014: "—",
    0x2015: "—", 0x2018: "‘", 0x2019: "’", 0x201C: "“", 0x201D: "”", 0x2022: "•", 0x2026: "…", 0x2032: "′",
    0x2192: "→", 0x2212: "−", 0x2248: "≈", 0x2264: "≤", 0x2265: "≥", 0x221E: "∞",
}  # fmt: skip
_SUPERSCRIPTS = str.maketrans("0123456789+-=()n", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿ")

# --- repairs record -----------------------------------------------------------------------------------------


@dataclass(slots=True)
class Cleaned:
    """Cleaned text, the names of the repairs made, and what was left alone because it was not understood."""

    text: str
    repairs: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)


class _Pass:
    """Applies named regex rules and records which of them changed something.

    legacy: repair as sitegen did before it kept math and knew the remnants below (`_remnants`), so that
    `sitegen repair` can tell a page the old importer wrote from one a person edited."""

    def __init__(self, text: str, legacy: bool = False):
        self.text = text
        self.legacy = legacy
        self.repairs: list[str] = []
        self.leftovers: list[str] = []

    def sub(
        self, name: str, pattern: re.Pattern[str] | str, repl: str | Callable[[re.Match[str]], str]
    ) -> None:
        new = re.sub(pattern, repl, self.text) if isinstance(pattern, str) else pattern.sub(repl, self.text)
        if new != self.text:
            self.text = new
            if name not in self.repairs:
                self.repairs.append(name)


# --- URLs ---------------------------------------------------------------------------------------------------

_URL = re.compile(r"(\\?(?:href|url)\{|\{)?(https?://(?:[^\s<>\"{}\\^`|]|\\[_%#&~])+)", re.IGNORECASE)
_URL_TRAILING = ".,;:!?'\"*"
_PLACEHOLDER = "\x00{}\x00"
_PLACEHOLDER_RE = re.compile("\x00(\\d+)\x00")


def _braced_group(text: str, start: int, limit: int = 200) -> int:
    """End index (exclusive) of the {...} group opening at `start`, or -1 if it is not one on this line."""
    depth = 0
    for i in range(start, min(len(text), start + limit)):
        ch = text[i]
        if ch == "\n":
            return -1
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    return -1


def trim_url(url: str) -> str:
    """Drop what a sentence glued to the end of a URL: punctuation, and closing brackets it did not open."""
    while url:
        last = url[-1]
        opener = "(" if last == ")" else "["
        if last in _URL_TRAILING or (last in ")]" and url.count(opener) < url.count(last)):
            url = url[:-1]
        else:
            break
    return url


def _take_urls(text: str) -> tuple[str, list[str], list[str]]:
    """Replace each URL (with the `\\href`/`{...}` debris around it) by a placeholder.

    Returns (text with placeholders, cleaned URLs by placeholder number, repair names).
    """
    urls: list[str] = []
    repairs: list[str] = []
    out: list[str] = []
    pos = 0
    for m in _URL.finditer(text):
        if m.start() < pos:
            continue
        prefix, raw = m.group(1) or "", m.group(2)
        url = re.sub(r"\\([_%#&~])", r"\1", trim_url(raw))
        end = m.start(2) + len(trim_url(raw))
        tail = m.start(2) + len(raw)
        junk = bool(prefix)  # "{", "\href{" or "\url{" before the URL
        # debris after the URL: "}" closing the prefix, "{this https URL}", "{link}}", a repeated "{https://...}"
        if prefix and prefix != "{" and tail < len(text) and text[tail] == "}":
            tail += 1
        if tail < len(text) and text[tail] == "{":
            group_end = _braced_group(text, tail)
            if group_end > 0:
                tail, junk = group_end, True
        if prefix == "{" and tail < len(text) and text[tail] == "}":
            tail += 1
        if junk:
            repairs.append("url-debris")
            end = tail
        # punctuation after the debris is the sentence's own ("...{link}}." keeps its full stop)
        out.append(text[pos : m.start()])
        out.append(_PLACEHOLDER.format(len(urls)))
        urls.append(url)
        pos = end
    out.append(text[pos:])
    return "".join(out), urls, repairs


_HOSTS = "|".join(re.escape(host) for host in sorted(KNOWN_HOSTS, key=len, reverse=True))
# A link written without its scheme: "www.x.org/p" or a known host ("muse-bench.github.io", "github.com/a/b").
_BARE_URL = re.compile(
    rf"(?<![\w@/.:\\-])((?:www\.[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+|(?:[A-Za-z0-9-]+\.)*(?:{_HOSTS}))"
    rf"(?![\w-])(?:[/?#][^\s<>\"{{}}\\^`|]*)?)",
    re.IGNORECASE,
)


def _take_bare_urls(text: str, urls: list[str]) -> str:
    """Like _take_urls for links without a scheme (they get https://), numbered after `urls`."""

    def take(m: re.Match[str]) -> str:
        raw = trim_url(m.group(1))
        urls.append("https://" + raw)
        return _PLACEHOLDER.format(len(urls) - 1) + m.group(1)[len(raw) :]

    return _BARE_URL.sub(take, text)


def find_urls(text: str) -> list[str]:
    """The cleaned URLs of `text`, in order of appearance, without repeats."""
    _, urls, _ = _take_urls(text)
    return list(dict.fromkeys(urls))


# --- LaTeX --------------------------------------------------------------------------------------------------

_ACCENT_RE = re.compile(
    r"\\([\"'`^~=.])\s*(?:\{\s*(\\[ij]\b|[A-Za-z])\s*\}|(\\[ij](?![A-Za-z])|[A-Za-z]))"
    r"|\\([uvHckr])\s*\{\s*(\\[ij]\b|[A-Za-z])\s*\}"
)
_MACRO_RE = re.compile(r"\\([A-Za-z]+)(?:\s*\{\}|(?<=[A-Za-z]) (?=[a-z]))?")


def _accent(m: re.Match[str]) -> str:
    mark = m.group(1) or m.group(4)
    letter = m.group(2) or m.group(3) or m.group(5)
    base = _LETTER_MACROS.get(letter[1:], letter) if letter.startswith("\\") else letter
    base = {"ı": "i", "ȷ": "j"}.get(base, base)
    following = m.string[m.end() : m.end() + 1]
    # "object\'s", "don\'t": an escaped apostrophe, not an acute accent on s or t
    if (
        mark == "'"
        and base in "st"
        and not following.isalpha()
        and m.start() > 0
        and m.string[m.start() - 1].isalpha()
    ):
        return "'" + base
    if mark == "." and base not in "zZIeEgGcC":  # "\." is a dot accent only on letters that take one
        return "." + base
    return unicodedata.normalize("NFC", base + _ACCENTS[mark])


def _find_arg(text: str, brace: int) -> tuple[str, int] | None:
    end = _braced_group(text, brace, limit=400)
    return (text[brace + 1 : end - 1], end) if end > 0 else None


def _arg_commands(p: _Pass, markdown: bool) -> None:
    """`\\textit{x}` -> `*x*` (Markdown) or `x`; also the same commands after their backslash was lost."""
    names = "|".join(sorted(_ARG_COMMANDS, key=len, reverse=True))
    bare = "|".join(_BARE_ARG_COMMANDS)
    pattern = re.compile(rf"\\({names})\s*(?=\{{)|(?<![A-Za-z\\])({bare})(?=\{{)")
    for _ in range(8):  # nested commands: innermost last, a few levels are plenty
        text, out, pos, changed = p.text, [], 0, False
        for m in pattern.finditer(text):
            if m.start() < pos:
                continue
            found = _find_arg(text, m.end())
            if found is None:
                continue
            arg, end = found
            name = m.group(1) or m.group(2)
            mark = _ARG_COMMANDS.get(name, "") if m.group(1) else ""
            if mark in ("*", "**") and markdown and arg.strip():
                # \x01 stands for "*" until escape_markdown() has run, which would otherwise escape it
                replacement = "\x01" * len(mark) + arg.strip() + "\x01" * len(mark)
            elif mark == "^":
                replacement = "^" + arg
            elif mark == "(":
                replacement = f" ({arg})"
            else:
                replacement = arg
            out.append(text[pos : m.start()])
            out.append(replacement)
            pos, changed = end, True
        if not changed:
            break
        out.append(text[pos:])
        p.text = "".join(out)
        if "latex-command" not in p.repairs:
            p.repairs.append("latex-command")


def _macro(m: re.Match[str], leftovers: list[str]) -> str:
    name = m.group(1)
    if name in _LETTER_MACROS:
        return _LETTER_MACROS[name]
    if name in _ABBREVIATIONS:
        return _ABBREVIATIONS[name] + (" " if m.group(0).endswith(" ") else "")
    if name in _SYMBOLS:
        return _SYMBOLS[name] + (" " if m.group(0).endswith(" ") and name not in ("sim",) else "")
    if name in _SPACING:
        return " "
    leftovers.append("\\" + name)
    return name + (" " if m.group(0).endswith(" ") else "")


def _superscript(m: re.Match[str]) -> str:
    body = m.group(1) if m.group(1) is not None else m.group(2)
    if re.fullmatch(r"[0-9+\-=()n]{1,4}", body):
        return body.translate(_SUPERSCRIPTS)
    return "^" + (body if re.fullmatch(r"\w+|\*", body) else f"({body})")


def _subscript(m: re.Match[str]) -> str:
    body = m.group(1)
    return "_" + (body if re.fullmatch(r"\w+", body) else f"({body})")


def _inline_math(m: re.Match[str]) -> str:
    return m.group(1).strip()


def _dollar_math(m: re.Match[str]) -> str:
    inner = m.group(1)
    # "$5 and $10" is money, "$BT^2$" and "$x$" are math: no space inside the delimiters, and math-like
    mathy = re.search(r"[\\^_{}=<>]", inner) or re.fullmatch(r"[A-Za-z]|[\d.]+%", inner)
    if inner != inner.strip() or not mathy:
        return m.group(0)
    return inner


def _fraction(m: re.Match[str]) -> str:
    parts = [x.strip() for x in m.groups()]
    return "/".join(x if re.fullmatch(r"[\w.]+", x) else f"({x})" for x in parts)


def _root(m: re.Match[str]) -> str:
    inner = m.group(1).strip()
    return "√" + (inner if re.fullmatch(r"[\w.]+", inner) else f"({inner})")


_BLACKBOARD = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ", "E": "𝔼", "P": "ℙ"}


def _latex(p: _Pass, markdown: bool) -> None:
    p.sub("latex-linebreak", r"\\\\(?:\[[^\]]*\])?", " ")
    # references that mean nothing outside the paper: "as shown in~\cite{x}", "Table~\ref{t}"
    p.sub(
        "latex-reference",
        r"[ ~]*\\(?:cite[a-z]*|[cC]?ref|eqref|autoref|label|footnotemark)\*?(?:\[[^\]]*\])*\{[^{}]*\}",
        "",
    )
    p.sub("latex-math", r"\\(?:left|right|[bB]igg?[lr]?)\s*(?:\.|(?=[()\[\]|/\\]))", "")
    p.sub("latex-math", r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}", _fraction)
    p.sub("latex-math", r"\\sqrt\s*\{([^{}]*)\}", _root)
    p.sub("latex-math", r"\\mathbb\s*\{([RNZQCEP])\}", lambda m: _BLACKBOARD[m.group(1)])
    p.sub("latex-math", re.compile(r"(?<!\\)\$([^$\n]{1,60})\$"), _dollar_math)
    p.sub("latex-accent", _ACCENT_RE, _accent)
    p.sub("latex-escape", r'\\"', '"')  # \" before a non-letter: an escaped quote
    p.sub("latex-escape", r"\\'", "'")
    p.sub("latex-escape", r"\\([%&_#$])", r"\1")
    p.sub("latex-escape", r"\\\|", "‖")
    # escaped braces are literal braces: hide them from the grouping-brace rule below
    p.sub("latex-escape", r"\\\{", "\x02")
    p.sub("latex-escape", r"\\\}", "\x03")
    p.sub("latex-symbol", r"\\sim\s*(?=\d)", "~")
    p.sub("latex-space", r"\\[,;:! ](?![A-Za-z]\S)", " ")
    p.sub("latex-space", r"\\[,;:!]", "")
    p.sub("latex-math", re.compile(r"\\\((.{1,300}?)\\\)"), _inline_math)
    p.sub("latex-math", re.compile(r"\\\[(.{1,300}?)\\\]"), _inline_math)
    _arg_commands(p, markdown)
    p.sub("latex-macro", _MACRO_RE, lambda m: _macro(m, p.leftovers))
    p.sub("latex-escape", r"\\-", "")  # a hyphenation hint
    p.sub("latex-escape", r"\\([^\w\s\x00])", r"\1")  # any other escaped punctuation is that punctuation
    # remnants of macros whose backslash the scraper dropped: "sim50%", "sim 10^3", "m gg n", "; forall d"
    p.sub("latex-remnant", r"(?<![A-Za-z])sim ?(?=\d)", "~")
    p.sub("latex-remnant", r"(?<=\b[A-Za-z] )gg(?= [A-Za-z]\b)", "≫")
    p.sub("latex-remnant", r"(?<=\b[A-Za-z] )ll(?= [A-Za-z]\b)", "≪")
    p.sub("latex-remnant", r"\bforall\b", "∀")
    if not p.legacy:
        _remnants(p)
    p.sub("latex-script", r"\^\{([^{}]{1,40})\}|\^(\d{1,3})(?![\d.]*\d)", _superscript)
    p.sub("latex-script", r"_\{([^{}]{1,40})\}", _subscript)
    # grouping braces around a word or phrase ("GPT-{n}", "{\Psi}", "{second-order optimization}"); JSON-like
    # text ("{"a": 1}") and sets ("{0, 1}") keep theirs
    for _ in range(4):
        p.sub("latex-braces", r"\{([^{}\"':,=;\n]{1,80})\}", r"\1")
    p.sub("latex-quotes", r"``", "“")
    p.sub("latex-quotes", r"(?:(?<=^)|(?<=[\s(\[]))''(?=\w)", "“")
    p.sub("latex-quotes", r"''", "”")
    p.sub("latex-quotes", r"(?<![\w`])`(\w[^`'\n]{0,60}?)'(?!\w)", r"‘\1’")
    p.sub("latex-quotes", r"“([^”\"\n]{1,80})\"", r"“\1”")  # ``text" closed the plain way
    p.sub("latex-dash", r"(?<=\w) -- (?=\w)", " – ")
    p.sub("latex-dash", r"(?<=\w) ?--- ?(?=\w)", "—")
    # "~" between words is LaTeX's non-breaking space ("at~https://...", "learning~(CL)"); "~30%" means about
    p.sub("latex-tilde", r"(?<=[^\s~])~(?=[A-Za-z]{2}|[(\[]|\x00)", " ")
    p.text = p.text.replace("\x02", "{").replace("\x03", "}")


_ARROWS = {
    "rightarrow": "→", "leftarrow": "←", "leftrightarrow": "↔", "Rightarrow": "⇒", "Leftarrow": "⇐",
    "Leftrightarrow": "⇔", "longrightarrow": "⟶", "longleftarrow": "⟵", "uparrow": "↑", "downarrow": "↓",
    "mapsto": "↦",
}  # fmt: skip
_NOT_WORDS = {"leq": "≤", "geq": "≥", "neq": "≠", "leqslant": "≤", "geqslant": "≥", "cdot": "·", "infty": "∞",
              "ldots": "…", "cdots": "⋯"}  # fmt: skip
# Words that begin a sentence, for "images.In": a full stop glued to the next sentence. A closed list, so that
# "torch.Tensor" or "MedRoBERTa.nl" stay as they are.
_STARTERS_TEXT = """
    In The We Our This These Those It Its To For Such As By With On Using Unlike Although While Despite
    Moreover However Furthermore Additionally Finally First Second Third Secondly Thirdly Then Thus
    Therefore Overall Here Experiments Experimental Extensive Results Code Specifically Existing Recent
    Most Many Both Each Further Lastly Notably Importantly Instead Besides Consequently Hence
"""
_STARTERS = _STARTERS_TEXT.split()


def _remnants(p: _Pass) -> None:
    """LaTeX commands whose backslash the scraper dropped, where the context leaves no doubt: between or
    before numbers for the ones that are also English ("times", "to", "approx", "pm"), anywhere for names no
    English text has ("rightarrow", "leq", "cdot")."""
    names = "|".join(sorted(_ARROWS, key=len, reverse=True))
    p.sub("latex-remnant", rf"(?<![A-Za-z])({names})(?![A-Za-z])", lambda m: _ARROWS[m.group(1)])
    words = "|".join(sorted(_NOT_WORDS, key=len, reverse=True))
    p.sub("latex-remnant", rf"(?<![A-Za-z])({words})(?![A-Za-z])", lambda m: _NOT_WORDS[m.group(1)])
    # "64times64", "64times 64" (a dimension), "3.5times and", "1.33times speedup"; never "5 times faster"
    p.sub("latex-remnant", r"(?<=\d)times ?(?=\d)", "×")
    p.sub("latex-remnant", r"(?<=\d)times(?![A-Za-z])", "×")
    # "5to7" or "5 to7": a "to" glued to a number is "\to"; "from 13 to 26" is prose and stays
    p.sub(
        "latex-remnant",
        r"(?<=\d)to(?=\d)|(?<=\d) to(?=\d)|(?<=\d)to (?=\d)",
        lambda m: m.group().replace("to", "→"),
    )
    p.sub("latex-remnant", r"(?<![A-Za-z])approx ?(?=[\d.]*\d)", "≈")
    p.sub("latex-remnant", r"(?<=\d)( ?)pm( ?)(?=\d)", r"\1±\2")
    p.sub("latex-remnant", r"(?<![A-Za-z\d])pm(?=\d)", "±")
    starters = "|".join(_STARTERS)
    p.sub("sentence-space", rf"\b([a-z]{{2,}})\.({starters})\b(?![.\w])", r"\1. \2")


# Text arXiv puts where a link was ("Code is available at this https URL."): the link is lost, so the phrase
# goes, with the preposition that led to it; the sentence keeps its own punctuation.
_DEAD_URL = re.compile(
    r"[ ,]*(?:\b(?:at|from|via|on|under|in|see|here)\b\s*:?\s*)?[({]?\s*this\s+https?\s+URL\s*[)}]?",
    re.IGNORECASE,
)


def _dead_urls(p: _Pass) -> None:
    p.sub("dead-url", _DEAD_URL, "")
    p.sub("dead-url", r"\s*:\s*(?=[.;,]|$)", "")


# --- entities and characters --------------------------------------------------------------------------------


def _entity(m: re.Match[str]) -> str:
    text = m.group(0)
    if text.startswith("&"):
        return html.unescape(text)
    code = int(m.group(1) or m.group(2), 16 if m.group(1) else 10)
    try:
        return chr(code)
    except (ValueError, OverflowError):
        return text


def _mangled_entity(m: re.Match[str]) -> str:
    code = int(m.group(1), 16)
    if 0xC0 <= code <= 0xFF and code not in (0xD7, 0xF7):  # a Latin-1 letter inside a word: "Mx00fcller"
        before = m.string[m.start() - 1 : m.start()]
        return chr(code) if before.isalpha() else m.group(0)
    return _ENTITY_CODES.get(code, m.group(0))


def _entities(p: _Pass) -> None:
    p.sub("entity", r"&(?:[A-Za-z][A-Za-z0-9]{1,30}|#\d{1,7}|#[xX][0-9A-Fa-f]{1,6});", _entity)
    # "&#" or "&" lost but the ";" kept: "#x2013;", "#8211;"
    p.sub("entity", r"(?<![\w&])#(?:[xX]([0-9A-Fa-f]{2,5})|(\d{2,5}));", _entity)
    # "&#x" and ";" both lost: "scratchx2013even"; only for typographic code points (see _ENTITY_CODES).
    # "10x201320" is "10–20": only "0x2013" at the start of a word is a hexadecimal number.
    p.sub(
        "entity",
        r"(?<![&#])(?<!\b0)x(00[A-Fa-f][0-9A-Fa-f]|20[0-9A-Fa-f]{2}|2[12][0-9A-Fa-f]{2})",
        _mangled_entity,
    )


_HTML_PAIR = re.compile(r"<(b|i|em|strong|u|tt|code|sub|sup|small|big)>(.{0,300}?)</\1>", re.I | re.S)
_HTML_ATTR_PAIR = re.compile(r"<(span|font)\s[^<>]{0,200}>(.{0,300}?)</\1>", re.I | re.S)
_HTML_LINK = re.compile(
    r"<a\s[^<>]*?href=[\"']?(https?://[^\"'\s<>]+)[\"']?[^<>]*>(.{0,300}?)</a>", re.I | re.S
)


def _link(m: re.Match[str]) -> str:
    url, text = m.group(1), m.group(2).strip()
    return url if not text or text == url else f"{text} ({url})"


def _html(p: _Pass) -> None:
    """Inline HTML a scraper kept, only in closed pairs (so "a<b and c>d" stays): <sup>2</sup> becomes ²,
    <a href=URL>text</a> becomes "text (URL)", other tags go and their text stays."""
    p.sub(
        "html",
        re.compile(r"<sup>\s*([0-9+\-=()n]{1,4})\s*</sup>", re.I),
        lambda m: m.group(1).translate(_SUPERSCRIPTS),
    )
    p.sub("html", _HTML_LINK, _link)
    for _ in range(3):  # nested pairs, innermost first
        p.sub("html", _HTML_PAIR, r"\2")
        p.sub("html", _HTML_ATTR_PAIR, r"\2")
    p.sub("html", re.compile(r"<br\s*/?>", re.I), " ")


def _characters(p: _Pass) -> None:
    p.sub("invisible", r"[\u200b\u200c\u200d\u2060\ufeff\u00ad]", "")
    p.sub("space", r"[\u00a0\u2000-\u200a\u202f\u205f\u3000\t]", " ")
    p.sub("control", r"[\x00-\x08\x0b-\x1f\x7f]", "")
    p.sub("ligature", r"[\ufb00-\ufb06]", lambda m: unicodedata.normalize("NFKC", m.group()))


def _spacing(p: _Pass) -> None:
    p.text = re.sub(r"\s+", " ", p.text).strip()
    p.text = re.sub(r"\.\.(?=\s|$)(?<!\.\.\.)", ".", p.text)  # "e.g.." after an abbreviation macro


# --- Markdown -----------------------------------------------------------------------------------------------

_MD_PUNCT = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def _flanking_opener(text: str, i: int, run: int) -> bool:
    """Whether the `*`/`_` run at text[i:i+run] could open emphasis (CommonMark's left-flanking rule)."""
    before = text[i - 1] if i > 0 else " "
    after = text[i + run] if i + run < len(text) else " "
    if after.isspace():
        return False
    if after in _MD_PUNCT and not (before.isspace() or before in _MD_PUNCT):
        return False
    # "_" inside a word never opens ("p_d(y)", "G_stack")
    return not (text[i] == "_" and before.isalnum())


_MD_SPECIAL = re.compile(
    r"\*+|_+|\\(?=[!-/:-@\[-`{-~])|`|<(?=[A-Za-z/!?])"
    r"|&(?=(?:[A-Za-z][A-Za-z0-9]*|#\d+|#[xX][0-9A-Fa-f]+);)|\[(?=[^\]]*\]\s*[(:\[])"
)


def _escape_special(m: re.Match[str]) -> str:
    found = m.group()
    if found[0] in "*_":
        opens = _flanking_opener(m.string, m.start(), len(found))
        return found.replace(found[0], "\\" + found[0]) if opens else found
    return "\\" + found


def escape_markdown(text: str, dollars: bool = False) -> str:
    """Escape only what Markdown would otherwise read as markup, so that the abstract renders as written.
    `dollars`: escape `$` too (the math in the text is held apart and put back as `$…$` afterwards)."""
    result = _MD_SPECIAL.sub(_escape_special, text)
    if dollars:
        result = result.replace("$", "\\$")
    # a paragraph that starts like a heading, quote, list item or thematic break
    if re.match(r"(?:#{1,6}(?:\s|$)|>|[-+*](?:\s|$)|\d{1,9}[.)](?:\s|$)|={3,}|-{3,}|_{3,})", result):
        result = "\\" + result if not result[0].isdigit() else re.sub(r"^(\d+)([.)])", r"\1\\\2", result)
    return result


# --- public API ---------------------------------------------------------------------------------------------

_RESIDUE = re.compile(
    r"\\[A-Za-z]+|\\[\"'`^~%&_#$]|(?<![A-Za-z])(?:textit|textbf|mathcal|mathbf|mathrm|emph)\{"
    r"|(?<![0-9A-Fa-f])x20[0-9A-Fa-f]{2}|&#?\w+;|\{\\|``"
)
# Damage the repair leaves alone because its context is not clear enough (reported, not guessed at).
_DAMAGE = re.compile(
    r"(?<![A-Za-z])(?:rightarrow|leftarrow|Rightarrow|mathcal|mathbf|mathrm|mathbb|textit|textbf|frac|sqrt"
    r"|leq|geq|cdot|infty)(?![A-Za-z])|\d(?:times|rightarrow)\b|this\s+https?\s+URL"
    r"|\b[a-z]{2,}\.[A-Z][a-z]+\b(?!\.\w)"
)
_MARKDOWN_MATH = re.compile(r"(?<!\\)\$\$[^$]+\$\$|(?<!\\)\$[^$\s](?:[^$]*[^$\s])?\$")
_MATH_PLACEHOLDER = "\x04{}\x04"
_MATH_PLACEHOLDER_RE = re.compile("\x04(\\d+)\x04")


def residue(text: str, legacy: bool = True) -> list[str]:
    """Scrape artifacts still present in `text` (for warnings and tests): LaTeX commands, entities, braces;
    and unless `legacy`, what `describe` calls damage."""
    text = _MATH_PLACEHOLDER_RE.sub("", _PLACEHOLDER_RE.sub("", text))
    text = _MARKDOWN_MATH.sub("", text)  # math kept for the renderer is not an artifact
    found = _RESIDUE.findall(text)
    return found if legacy else found + _DAMAGE.findall(text)


def describe(leftover: str) -> str:
    """The warning for one piece of `residue`."""
    if re.fullmatch(r"\\[A-Za-z]+", leftover):
        return f"unknown LaTeX command {leftover}: kept as the word '{leftover[1:]}'"
    if re.fullmatch(r"this\s+https?\s+URL", leftover):
        return f"'{leftover}' stands where a link was lost"
    if re.fullmatch(r"[a-z]+\.[A-Z][a-z]+", leftover):
        return f"missing space after a full stop? '{leftover}' left as it is"
    if re.fullmatch(r"\d?[A-Za-z]+", leftover):
        return f"LaTeX command without its backslash? '{leftover}' left as it is"
    return f"scrape artifact left as it is: {leftover}"


def _take_math(p: _Pass) -> list[tuple[str, bool]]:
    """Replace each math span (sitegen.text.texmath) by a placeholder; returns (LaTeX, display) by number."""
    spans = find_math(p.text)
    if not spans:
        return []
    out: list[str] = []
    pos = 0
    for number, span in enumerate(spans):
        out += [p.text[pos : span.start], _MATH_PLACEHOLDER.format(number)]
        pos = span.end
    out.append(p.text[pos:])
    p.text = "".join(out)
    p.repairs.append("math")
    return [(span.latex, span.display) for span in spans]


def _math_markdown(text: str, maths: list[tuple[str, bool]]) -> str:
    """Placeholders back as `$…$` (`$$…$$` for display math); as plain text where a digit touching the
    dollar would keep the renderer from reading it as math."""

    def put(m: re.Match[str]) -> str:
        latex, display = maths[int(m.group(1))]
        before = text[m.start() - 1 : m.start()]
        after = text[m.end() : m.end() + 1]
        if before.isdigit() or after.isdigit():
            return math_text(latex)
        return f"$${latex}$$" if display else f"${latex}$"

    return _MATH_PLACEHOLDER_RE.sub(put, text)


def math_text(latex: str) -> str:
    """Plain Unicode text of LaTeX math: `\\mathcal{O}(1)` -> "O(1)", `x^2` -> "x²", `\\alpha` -> "α"."""
    p = _Pass(latex, legacy=True)
    _latex(p, markdown=False)
    _entities(p)
    _spacing(p)
    return p.text


def _clean(text: str, markdown: bool, legacy: bool = False) -> Cleaned:
    p = _Pass(text, legacy)
    _characters(p)
    _html(p)
    p.text, urls, url_repairs = _take_urls(p.text)
    maths = [] if legacy else _take_math(p)
    if not legacy:
        p.text = _take_bare_urls(p.text, urls)
        _dead_urls(p)
    # links in reading order (bare ones were numbered after the others)
    links = list(dict.fromkeys(urls[int(n)] for n in _PLACEHOLDER_RE.findall(p.text)))
    _entities(p)
    _latex(p, markdown)
    _entities(p)  # an entity can appear once LaTeX is gone ("\&amp;")
    _spacing(p)
    result = escape_markdown(p.text, dollars=not legacy) if markdown else p.text
    if markdown:
        result = _PLACEHOLDER_RE.sub(lambda m: f"<{urls[int(m.group(1))]}>", result).replace("\x01", "*")
        result = _math_markdown(result, maths)
    else:
        result = _PLACEHOLDER_RE.sub(lambda m: urls[int(m.group(1))], result)
        result = _MATH_PLACEHOLDER_RE.sub(lambda m: math_text(maths[int(m.group(1))][0]), result)
    repairs = list(dict.fromkeys(url_repairs + p.repairs))
    leftovers = list(dict.fromkeys(p.leftovers + residue(p.text, legacy)))
    return Cleaned(result, repairs, leftovers, links)


def clean_title(text: str, legacy: bool = False) -> Cleaned:
    """A title as plain text (no Markdown): LaTeX and entities repaired, spacing normalised."""
    return _clean(text, markdown=False, legacy=legacy)


def clean_abstract(text: str, legacy: bool = False) -> Cleaned:
    """An abstract as one Markdown paragraph, URLs as `<autolinks>`, math as `$…$`; `.links`: the cleaned URLs
    in order. `legacy`: as sitegen wrote it before math and the remnants of `_remnants` (see _Pass)."""
    return _clean(text, markdown=True, legacy=legacy)
