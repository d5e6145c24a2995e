"""BibTeX entries for paper pages: what a reader pastes into a .bib file to cite the paper.

An `@misc` entry, like arXiv's own export: authors (when the page has them; a digest names none, and an
invented one would be worse than none), title, year and month, the arXiv eprint fields, DOI and a URL.

- The title is escaped for LaTeX (& % $ # _ { } ~ ^ \\) with braces that always balance: BibTeX counts `\\{`
  as a brace, so a brace without its partner in the title is written as a command, `\\textbraceleft{}`.
  Accented letters become accent commands ("é" -> {\\'e}), Greek letters math, dashes and quotes their TeX
  ligatures; any other non-ASCII character is kept as UTF-8, which biber and LaTeX since 2018 read as is.
  Words with a capital past their first letter (BERT, LLaMA, ImageNet, 3D, Self-Tuning) are braced so that a
  bibliography style that lowercases titles keeps them.
- Authors are escaped as titles are and joined by " and "; a name holding the word "and" is braced whole.
- The year and month come from the arXiv id (when the paper appeared), else from `published`; without
  either there is no year, and a note gives the day the first digest listed the paper.
- `url` is the arXiv page, else the DOI's, else the paper's page on the site, only when the site's address
  is not this computer's (a localhost link in a bibliography is useless elsewhere).
- The key is the first significant title word, the year (when known) and the next significant word:
  `selftuning2019networks`. Within one file of several entries (the exports of a tag, a digest, the reading
  queue) a key already taken gets a letter: `deep2026learning`, `deep2026learningb`.

What is cited (key, authors, title, date, arXiv id, DOI, URL, note) is worked out once, as a `Citation`,
which the CSL-JSON writer (sitegen.build.csljson) shows too, so that a paper has the same key and facts in
both formats.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sitegen.content.model import Paper
from sitegen.text.urls import is_local

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
}
# Combining marks (after NFD) and the accent command that writes them.
_ACCENTS = {
    "\u0300": "`", "\u0301": "'", "\u0302": "^", "\u0303": "~", "\u0304": "=", "\u0306": "u", "\u0307": ".",
    "\u0308": '"', "\u030a": "r", "\u030b": "H", "\u030c": "v", "\u0327": "c", "\u0328": "k", "\u0323": "d",
}  # fmt: skip
_LETTERS = {
    "ß": r"{\ss}", "æ": r"{\ae}", "Æ": r"{\AE}", "œ": r"{\oe}", "Œ": r"{\OE}", "ø": r"{\o}", "Ø": r"{\O}",
    "ł": r"{\l}", "Ł": r"{\L}", "ı": r"{\i}", "đ": r"{\dj}", "Đ": r"{\DJ}",
    "–": "--", "—": "---", "‘": "`", "’": "'", "“": "``", "”": "''", "…": r"\ldots{}", "\u00a0": "~",
    "×": r"{$\times$}", "→": r"{$\rightarrow$}", "≤": r"{$\leq$}", "≥": r"{$\geq$}", "±": r"{$\pm$}",
    "∞": r"{$\infty$}",
}  # fmt: skip
# Greek letters as math: every small letter, and the capitals that look unlike Latin ones (Γ, Δ, Θ, ...).
# Math is braced so that a style lowercasing the title leaves \Omega alone, and $$ never occurs.
_GREEK_CAPITALS = ("Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega")
for _code in range(0x3B1, 0x3CA):
    _name = unicodedata.name(chr(_code)).split()[-1].lower()  # "GREEK SMALL LETTER ALPHA" -> "alpha"
    _name = "lambda" if _name == "lamda" else _name  # Unicode's spelling
    _LETTERS[chr(_code)] = "o" if _name == "omicron" else f"{{$\\{_name}$}}"
_LETTERS["ς"] = r"{$\varsigma$}"
# TeX draws \epsilon and \phi as ϵ and ϕ (Unicode's "symbols"); ε and φ are \varepsilon and \varphi.
_LETTERS.update({"ε": r"{$\varepsilon$}", "φ": r"{$\varphi$}", "ϵ": r"{$\epsilon$}", "ϕ": r"{$\phi$}"})
_LETTERS.update({"ϑ": r"{$\vartheta$}", "ϖ": r"{$\varpi$}", "ϱ": r"{$\varrho$}"})
for _name in _GREEK_CAPITALS:
    _LETTERS[unicodedata.lookup(f"GREEK CAPITAL LETTER {_name.upper().replace('LAMBDA', 'LAMDA')}")] = (
        f"{{$\\{_name}$}}"
    )

_SPECIAL_CHARS = re.compile("[" + re.escape("".join(_SPECIAL)) + "]")
# A brace without its partner in the title. BibTeX counts every brace, escaped or not, to find where a field
# ends, so `\{` alone would end the field too late (or a lone `\}` too early) and take every later entry of
# the .bib file with it. These commands print the brace without one.
_LONE_BRACE = {"{": r"\textbraceleft{}", "}": r"\textbraceright{}"}

# Punctuation around a word that stays outside its case-protecting braces (the title's own braces too: in
# "{Deep Learning}" they are no part of a word).
_PUNCTUATION = "()[]{}:;,.!?\"'“”‘’"
# Words a citation key skips.
_KEY_SKIP_TEXT = "a an the of on in for to and or is are with via from by at as towards toward into"
_KEY_SKIP = frozenset(_KEY_SKIP_TEXT.split())
# ASCII characters dropped from the words of a key: all but lowercase letters, digits and whitespace.
_NOT_IN_KEYS = dict.fromkeys(
    c for c in range(128) if not (chr(c) in "abcdefghijklmnopqrstuvwxyz0123456789" or chr(c).isspace())
)
_AND = re.compile(r"(?i)(?:^|\s)and(?:\s|$)")
_NEW_ID = re.compile(r"(\d{2})(\d{2})\.\d{4,5}(?:v\d+)?")
_OLD_ID = re.compile(r"[a-z-]+(?:\.[A-Z]{2})?/(\d{2})(\d{2})\d{3}(?:v\d+)?")


def latex_escape(text: str, lone: Sequence[bool] | None = None) -> str:
    """Plain text as LaTeX that prints the same characters, with balanced braces.

    `lone`: for each brace of `text` in order, whether it has no partner (see lone_braces); by default the
    braces are paired within `text` itself. A pair is written `\\{...\\}`, which BibTeX counts as a pair; a
    lone brace is written as a command without braces.
    """
    if text.isascii() and _SPECIAL_CHARS.search(text) is None:
        return text  # most words of most titles
    flags = iter(lone_braces(text) if lone is None else lone)
    out: list[str] = []
    for char in unicodedata.normalize("NFC", text):  # (NFC keeps every brace, in order)
        if char in _LONE_BRACE:
            out.append(_LONE_BRACE[char] if next(flags, True) else _SPECIAL[char])
        elif char in _SPECIAL:
            out.append(_SPECIAL[char])
        elif char.isascii():
            out.append(char)
        elif char in _LETTERS:
            out.append(_LETTERS[char])
        else:
            out.append(_accented(char))
    return "".join(out)


def lone_braces(text: str) -> tuple[bool, ...]:
    """For each brace of `text` in order, whether it has no partner: a "{" not closed, a "}" not opened."""
    lone: list[bool] = []
    open_at: list[int] = []
    for char in text:
        if char == "{":
            open_at.append(len(lone))
            lone.append(True)
        elif char == "}":
            paired = bool(open_at)
            if paired:
                lone[open_at.pop()] = False
            lone.append(not paired)
    return tuple(lone)


def _accented(char: str) -> str:
    """{\\'e} for é; the character itself when it is no Latin letter with accents we can write."""
    base, *marks = unicodedata.normalize("NFD", char)
    if not base.isascii() or not marks or any(m not in _ACCENTS for m in marks):
        return char
    result = "\\i" if base == "i" else "\\j" if base == "j" else base
    for mark in marks:
        command = _ACCENTS[mark]
        result = f"\\{command}{{{result}}}" if command.isalpha() else f"\\{command}{result}"
    return "{" + result + "}"


def _has_upper(text: str) -> bool:
    if text.isascii():
        return text != text.lower()  # only A-Z change: the same answer, without a loop in Python
    return any(c.isupper() for c in text)


def _needs_braces(word: str) -> bool:
    """Acronyms, names with inner capitals and words mixing digits and capitals keep their case."""
    letters = word.strip(_PUNCTUATION)
    return _has_upper(letters[1:]) or (_has_upper(letters) and any(c.isdigit() for c in letters))


def bibtex_title(title: str) -> str:
    """The title escaped, with case-sensitive words braced (punctuation stays outside the braces).

    Braces are paired across the whole title ("{Deep Learning}" is one pair over two words), so that the
    field's braces balance however the title's own do.
    """
    if "{" not in title and "}" not in title:  # most titles: no brace to pair, each word on its own
        return " ".join([_title_word(word) for word in title.split()])
    return _paired_title(title)


def _paired_title(title: str) -> str:
    """bibtex_title, its braces paired across the whole title (see lone_braces)."""
    lone = lone_braces(title)
    out: list[str] = []
    for word in re.split(r"(\s+)", title.strip()):
        if word.isspace():
            out.append(" ")
            continue
        braces = word.count("{") + word.count("}")
        out.append(_title_word(word, lone[:braces]))
        lone = lone[braces:]
    return "".join(out)


@functools.lru_cache(maxsize=16384)  # titles share most of their words
def _title_word(word: str, lone: tuple[bool, ...] = ()) -> str:
    """One word escaped; `lone`: which of its braces have no partner in the title (see lone_braces)."""
    if word and _needs_braces(word):
        core = word.strip(_PUNCTUATION)
        start = word.index(core)
        parts = (word[:start], core, word[start + len(core) :])
        escaped = []
        for part in parts:
            braces = part.count("{") + part.count("}")
            escaped.append(latex_escape(part, lone[:braces]))
            lone = lone[braces:]
        return escaped[0] + "{" + escaped[1] + "}" + escaped[2]
    return latex_escape(word, lone)


def arxiv_date(arxiv: str) -> tuple[int, int] | None:
    """(year, month) encoded in an arXiv id: 2403.01234 -> (2024, 3); hep-th/9901001 -> (1999, 1)."""
    new = _NEW_ID.fullmatch(arxiv)
    match = new or _OLD_ID.fullmatch(arxiv)
    if not match:
        return None
    yy, mm = int(match.group(1)), int(match.group(2))
    if not 1 <= mm <= 12:
        return None
    # New-style ids began in April 2007; old-style ones ran from 1991 to March 2007.
    return (2000 + yy if new or yy < 91 else 1900 + yy), mm


def publication_month(paper: Paper) -> tuple[int, int] | None:
    """(year, month) the paper appeared: from its arXiv id, else its `published` date; None if neither is
    known (the day a digest listed it says nothing of when it was written)."""
    if paper.arxiv and (found := arxiv_date(paper.arxiv)):
        return found
    if paper.published is not None:
        return paper.published.year, paper.published.month
    return None


def citation_key(paper: Paper) -> str:
    """First significant title word, year, next significant word: lowercase ASCII letters and digits."""
    folded = unicodedata.normalize("NFKD", paper.title).encode("ascii", "ignore").decode("ascii").lower()
    words = [w for w in folded.translate(_NOT_IN_KEYS).split() if w not in _KEY_SKIP] or [
        re.sub(r"[^a-z0-9]", "", paper.slug) or "paper"
    ]
    published = publication_month(paper)
    year = str(published[0]) if published else ""
    return words[0][:30] + year + (words[1][:20] if len(words) > 1 else "")


def unique_keys(keys: Iterable[str]) -> list[str]:
    """The keys of one file's entries in order, each repeat given the first letter (b, c, ..., then aa, ab,
    ...) that makes it a key no other entry of the file has; a file with a key twice loses an entry in most
    tools (BibTeX keeps the first, bibtexparser reports a duplicate)."""
    keys = list(keys)
    taken = set(keys)
    seen: set[str] = set()
    # The letter each key's next repeat starts from: those before it are taken (and stay taken), so a key
    # that comes back a thousand times costs a thousand tries, not half a million.
    tried: dict[str, int] = {}
    out = []
    for key in keys:
        if key in seen:
            n = tried.get(key, 1)
            while (candidate := key + _letters(n)) in taken:
                n += 1
            tried[key] = n + 1
            key = candidate
            taken.add(key)
        seen.add(key)
        out.append(key)
    return out


def _letters(n: int) -> str:
    """1 -> "b", 25 -> "z", 26 -> "aa": a spreadsheet column name counted from 0 = "a" (a key without a
    letter is the first of its kind, so "a" is never added)."""
    letters = ""
    while True:
        n, rest = divmod(n, 26)
        letters = chr(ord("a") + rest) + letters
        if n == 0:
            return letters
        n -= 1


@dataclass(frozen=True, slots=True)
class Citation:
    """What an entry for a paper says, in any format: key, title, when it appeared, its arXiv id (no version)
    and the URL to cite (see _link), authors and DOI when the page has them."""

    key: str
    title: str
    year: int | None
    month: int | None
    arxiv: str | None
    url: str | None
    authors: tuple[str, ...] = ()
    doi: str | None = None
    #: Without a date of publication: when the first digest listed the paper.
    note: str | None = None


def citation(paper: Paper, *, url: str | None = None) -> Citation:
    """The citation of `paper`; `url` (the paper's page on this site) is cited when nothing better is known
    and it is reachable from elsewhere (see _link)."""
    published = publication_month(paper)
    arxiv = re.sub(r"v\d+$", "", paper.arxiv) if paper.arxiv else None
    listed = min(paper.digests).isoformat() if paper.digests else None
    return Citation(
        key=citation_key(paper),
        title=paper.title,
        year=published[0] if published else None,
        month=published[1] if published else None,
        arxiv=arxiv,
        url=_link(paper, url),
        authors=tuple(paper.authors),
        doi=paper.doi,
        note=f"Listed in the digest of {listed}" if listed and not published else None,
    )


def _link(paper: Paper, page: str | None) -> str | None:
    """The entry's `url`: the arXiv page, the DOI's, or the site's page when reachable from elsewhere."""
    if paper.arxiv:
        return f"https://arxiv.org/abs/{paper.arxiv}"
    if paper.doi:
        return f"https://doi.org/{paper.doi}"
    return page if page and not is_local(page) else None


def _url_field(url: str) -> str:
    """A URL that cannot unbalance the entry: braces, backslashes and spaces percent-encoded."""
    return url.replace("\\", "%5C").replace("{", "%7B").replace("}", "%7D").replace(" ", "%20")


def bibtex_names(names: Sequence[str]) -> str:
    """The value of an `author` field: the names escaped and joined by " and ". A name BibTeX would split or
    misread (one holding the word "and", or more than two commas) is braced whole, as BibTeX reads a
    corporate name."""
    out = []
    for name in names:
        escaped = latex_escape(" ".join(name.split()))
        if _AND.search(escaped) or escaped.count(",") > 2:
            escaped = "{" + escaped + "}"
        out.append(escaped)
    return " and ".join(out)


def bibtex_entry(paper: Paper, *, url: str | None = None) -> str:
    """A BibTeX @misc entry for the paper (arXiv eprint fields when paper.arxiv is set), escaped.

    `url` (the paper's page on this site, say) is used when the paper has no arXiv id.
    """
    return citation_entry(citation(paper, url=url))


def _entry_head(key: str) -> str:
    """The first line of an entry: the only one that names its key."""
    return f"@misc{{{key},"


def citation_entry(cited: Citation, key: str | None = None) -> str:
    """The BibTeX entry of a citation, under `key` if given (see bibtex_file)."""
    fields: list[tuple[str, str]] = []
    if cited.authors:
        fields.append(("author", "{" + bibtex_names(cited.authors) + "}"))
    fields.append(("title", "{" + bibtex_title(cited.title) + "}"))
    if cited.year is not None and cited.month is not None:
        fields += [("year", f"{{{cited.year}}}"), ("month", MONTHS[cited.month - 1])]
    if cited.arxiv:
        fields += [("eprint", f"{{{cited.arxiv}}}"), ("archivePrefix", "{arXiv}")]
    if cited.doi:
        fields.append(("doi", "{" + _url_field(cited.doi) + "}"))
    if cited.url:
        fields.append(("url", "{" + _url_field(cited.url) + "}"))
    if cited.note:
        fields.append(("note", "{" + cited.note + "}"))
    width = max(len(name) for name, _ in fields)
    lines = [_entry_head(key or cited.key)]
    lines += [f"  {name.ljust(width)} = {value}," for name, value in fields]
    lines[-1] = lines[-1].removesuffix(",")
    return "\n".join([*lines, "}"])


def bibtex_file(entries: Sequence[tuple[Citation, str]]) -> str:
    """A .bib file of several papers, in order, with keys unique within the file (see unique_keys). Each
    paper comes as its citation and the entry citation_entry made of it (made once, shown on its page too):
    only an entry whose key the file changes is made again."""
    keys = unique_keys(cited.key for cited, _ in entries)
    parts = []
    for (cited, entry), key in zip(entries, keys, strict=True):
        if key != cited.key:
            # The same entry under another key: only its first line names the key (see citation_entry).
            head = _entry_head(cited.key)
            entry = (
                _entry_head(key) + entry[len(head) :]
                if entry.startswith(head)
                else citation_entry(cited, key)
            )
        parts.append(entry)
        parts.append("\n\n")
    return "".join(parts)
