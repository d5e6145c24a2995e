"""BibTeX and BibLaTeX, as Zotero and Better BibTeX export them, parsed by bibtexparser (2.x).

From each entry: `title`, `abstract` (TeX math kept; the escapes exporters add, such as `\\$` and
`{\\textasciicircum}`, undone), `author` (split into names by bibtexparser's BibTeX name rules; "others" is
dropped), `doi`, the arXiv id (`eprint` with `archivePrefix = {arXiv}`, arXiv's DOI, an arxiv.org `url`, or
"arXiv:ID" in `journal`, `note` or `howpublished`), the day of publication (BibLaTeX's `date`, or `year`,
`month` and `day` when all three are there), `keywords` and `primaryClass`. Other fields are ignored.

bibtexparser parses a whole string, so a .bib file is read whole (once). A syntax error anywhere refuses the
file, with the line and column where bibtexparser gave up.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import date
from pathlib import Path

import bibtexparser
from bibtexparser.exceptions import BlockAbortedException
from bibtexparser.middlewares import RemoveEnclosingMiddleware
from bibtexparser.middlewares.names import (
    InvalidNameError,
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from bibtexparser.model import DuplicateBlockKeyBlock, DuplicateFieldKeyBlock, Entry, ParsingFailedBlock

from sitegen.importer.readers.categories import keyword
from sitegen.importer.readers.entry import ImportedEntry, ReaderError, SourceFile
from sitegen.importer.readers.text import (
    arxiv_id,
    doi,
    find_arxiv,
    full_date,
    iso_day,
    markdown_abstract,
    name,
    plain_title,
    split_keywords,
)
from sitegen.store.sources import NotUTF8, decode_utf8

# bibtexparser logs every syntax error; with no logging set up, Python would print those on standard error, in
# several lines each. They are reported here, one line each, from the failed blocks instead.
logging.getLogger("bibtexparser").addHandler(logging.NullHandler())

# --- BibTeX text to Unicode, TeX math kept ------------------------------------------------------------------

_MARKS = {
    '"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303", "=": "\u0304", ".": "\u0307",
    "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328", "r": "\u030a", "d": "\u0323",
    "b": "\u0331",
}  # fmt: skip
_LETTERS = {
    "i": "ı", "j": "ȷ", "l": "ł", "L": "Ł", "o": "ø", "O": "Ø", "ss": "ß", "ae": "æ", "AE": "Æ", "oe": "œ",
    "OE": "Œ", "aa": "å", "AA": "Å",
}  # fmt: skip
_SYMBOLS = {
    "textbackslash": "\\", "textasciicircum": "^", "textasciitilde": "~", "textunderscore": "_",
    "textless": "<", "textgreater": ">", "textbar": "|", "textbraceleft": "{", "textbraceright": "}",
    "textquotedbl": '"', "textquotesingle": "'", "textquoteleft": "‘", "textquoteright": "’",
    "textquotedblleft": "“", "textquotedblright": "”", "textendash": "–", "textemdash": "—",
    "textdollar": "$",
    "textperiodcentered": "·", "textbullet": "•", "textdegree": "°", "textregistered": "®",
    "texttrademark": "™", "textcopyright": "©", "textellipsis": "…", "ldots": "…", "dots": "…", "S": "§",
    "P": "¶", "dag": "†", "ddag": "‡", "textmu": "µ", "textpm": "±", "texttimes": "×", "textsection": "§",
    "guillemotleft": "«", "guillemotright": "»", "textasteriskcentered": "*",
}  # fmt: skip
# Commands whose argument is the text itself (the braces around it are dropped as grouping braces).
_FORMATTING = {
    "textit", "emph", "textbf", "textsc", "texttt", "textrm", "textsf", "textsl", "textup", "textnormal",
    "mbox", "url", "nolinkurl", "NoCaseChange", "enquote",
}  # fmt: skip
_LETTER = r"(\\[ij](?![A-Za-z])|[A-Za-z])"
_TOKEN = re.compile(
    rf"\\(?P<mark>[\"'`^~=.])\s*(?:\{{\s*{_LETTER}\s*\}}|{_LETTER})"
    rf"|\\(?P<wmark>[uvHckrdb])(?:\s*\{{\s*{_LETTER}\s*\}}|\s+([A-Za-z]))"
    r"|\\(?P<command>[A-Za-z]+)(?:\s*\{\}|\s?)"
    r"|\\(?P<escaped>.)"
    r"|(?P<math>\$\$?)"
    r"|(?P<other>[{}~])",
    re.S,
)


def _accent(mark: str, letter: str) -> str:
    base = {"\\i": "i", "\\j": "j"}.get(letter, letter)
    return unicodedata.normalize("NFC", base + _MARKS[mark])


def _math_end(text: str, start: int, delimiter: str) -> int:
    """The index after the `delimiter` that closes math opened before `start`; -1 if none does."""
    index = start
    while (found := text.find(delimiter, index)) >= 0:
        if text[found - 1] != "\\":
            return found + len(delimiter)
        index = found + 1
    return -1


def _group_end(text: str, start: int) -> int:
    """The index after the brace that closes the one at `start`; -1 if none does."""
    depth = 0
    for index in range(start, len(text)):
        char = text[index]
        if char == "{" and text[index - 1 : index] != "\\":
            depth += 1
        elif char == "}" and text[index - 1 : index] != "\\":
            depth -= 1
            if depth == 0:
                return index + 1
    return -1


def _escaped(char: str, written: str) -> str:
    """What a backslash and one character stand for outside math."""
    if char in "$%&#_{}":
        return char
    if char in "\\ ,;:!\n":  # a line break or a space
        return " "
    if char == "-":  # a hyphenation hint
        return ""
    return written  # TeX it does not know is kept


def bib_text(value: str) -> str:
    """A BibTeX field's text as Unicode: accents and symbol commands decoded, exporters' escapes (`\\$`,
    `\\%`, `\\_`, `{\\textbackslash}`) undone, grouping braces dropped; math between unescaped dollars, and
    commands it does not know, kept as written."""
    out: list[str] = []
    index = 0
    while (m := _TOKEN.search(value, index)) is not None:
        out.append(value[index : m.start()])
        index = m.end()
        if m.group("mark") is not None:
            out.append(_accent(m.group("mark"), m.group(2) or m.group(3)))
        elif m.group("wmark") is not None:
            out.append(_accent(m.group("wmark"), m.group(5) or m.group(6)))
        elif m.group("command") is not None:
            command = m.group("command")
            if command in _SYMBOLS or command in _LETTERS:
                out.append(_SYMBOLS.get(command) or _LETTERS[command])
            elif command not in _FORMATTING:  # TeX it does not know is kept, with its argument
                out.append(m.group())
                if value.startswith("{", index) and (end := _group_end(value, index)) > 0:
                    out.append(value[index:end])
                    index = end
        elif m.group("escaped") is not None:
            out.append(_escaped(m.group("escaped"), m.group()))
        elif m.group("math") is not None:
            end = _math_end(value, index, m.group("math"))
            if end < 0:
                out.append(m.group())
            else:
                out.append(value[m.start() : end])
                index = end
        elif m.group("other") == "~":
            out.append(" ")
        # "{" and "}" are grouping: dropped
    out.append(value[index:])
    return " ".join("".join(out).split())


# --- entries ------------------------------------------------------------------------------------------------

_MONTHS = {
    name: number
    for number, names in enumerate(
        [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
         ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
         ("oct", "october"), ("nov", "november"), ("dec", "december")],
        start=1,
    )
    for name in names
}  # fmt: skip


def _fields(entry: Entry) -> dict[str, tuple[str, int]]:
    """An entry's fields by lower-case name: (value as text, 1-based line). The first of repeated names."""
    found: dict[str, tuple[str, int]] = {}
    for f in entry.fields:
        key = f.key.lower()
        if key not in found:
            line = (f.start_line if f.start_line is not None else entry.start_line or 0) + 1
            found[key] = (str(f.value), line)
    return found


def _authors(source: SourceFile, value: str, line: int) -> list[str]:
    names: list[str] = []
    for person in split_multiple_persons_names(value):
        try:
            parts = parse_single_name_into_parts(person)
        except InvalidNameError:
            source.warn(f"author {bib_text(person)!r} is not a BibTeX name; kept as written", line, 1)
            names.append(bib_text(person))
            continue
        if not parts.first and not parts.von and not parts.jr and parts.last == ["others"]:
            continue  # "and others": et al.
        full = " ".join(bib_text(p) for p in [*parts.first, *parts.von, *parts.last])
        if parts.jr:
            full += ", " + " ".join(bib_text(p) for p in parts.jr)
        names.append(name(full))
    return [n for n in names if n]


def _published(fields: dict[str, tuple[str, int]]) -> date | None:
    if "date" in fields:
        return iso_day(fields["date"][0].split("/")[0])
    year, month, day = (fields.get(k, ("", 0))[0].strip().lower() for k in ("year", "month", "day"))
    return full_date(year, _MONTHS.get(month, month), day) if year and month and day else None


def _arxiv(fields: dict[str, tuple[str, int]]) -> str | None:
    eprint = fields.get("eprint", ("", 0))[0]
    prefix = (fields.get("archiveprefix") or fields.get("eprinttype") or ("", 0))[0].strip().lower()
    if eprint and prefix in ("arxiv", "") and (found := arxiv_id(eprint)) is not None:
        return found
    for key in ("doi", "url", "arxivid"):
        if key in fields and (found := arxiv_id(fields[key][0])) is not None:
            return found
    for key in ("journal", "journaltitle", "note", "howpublished", "url", "eprint", "arxivid"):
        if key in fields and (found := find_arxiv(fields[key][0])) is not None:
            return found
    return None


def _entry(source: SourceFile, entry: Entry) -> ImportedEntry | None:
    fields = _fields(entry)
    line = (entry.start_line or 0) + 1
    title = bib_text(fields.get("title", ("", 0))[0])
    if not title:
        source.warn(f"@{entry.entry_type}{{{entry.key}, ...}} has no title: skipped", line, 1)
        return None
    abstract, links = markdown_abstract(bib_text(fields.get("abstract", ("", 0))[0]))
    keywords = split_keywords(bib_text(fields.get("keywords", ("", 0))[0]))
    if "primaryclass" in fields:
        keywords.append(keyword(fields["primaryclass"][0].strip()))
    authors = _authors(source, *fields["author"]) if "author" in fields else []
    title, leftovers = plain_title(title, line)
    return ImportedEntry(
        title=title,
        leftovers=leftovers,
        source=str(source.path),
        line=line,
        col=1,
        abstract=abstract,
        arxiv=_arxiv(fields),
        authors=authors,
        published=_published(fields),
        doi=doi(fields.get("doi", ("", 0))[0]),
        links=links,
        keywords=keywords,
    )


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - text.rfind("\n", 0, index)


def _refusal(text: str, block: ParsingFailedBlock) -> ReaderError:
    error = block.error
    start = (block.start_line or 0) + 1
    kind = re.match(r"@\s*(\w+)", block.raw or "")
    what = f"the @{kind.group(1)} entry of line {start}" if kind else f"the entry of line {start}"
    if isinstance(error, BlockAbortedException):
        end = error.end_index if error.end_index is not None else len(text)
        reason = " ".join(str(error.abort_reason).split()).rstrip(".")
        return ReaderError(f"not valid BibTeX: {reason} (in {what})", *_position(text, end))
    return ReaderError(f"not valid BibTeX: {' '.join(str(error).split())} (in {what})", start, 1)


def read(path: Path, data: bytes) -> SourceFile:
    """The entries of a .bib file. Raises ReaderError for one bibtexparser cannot read."""
    source = SourceFile(path, "bibtex")
    try:
        text = decode_utf8(data.removeprefix(b"\xef\xbb\xbf"))
    except NotUTF8 as exc:
        raise ReaderError(exc.message, exc.line, exc.col) from None
    library = bibtexparser.parse_string(text)
    blocks: list[tuple[int, Entry]] = [(e.start_line or 0, e) for e in library.entries]
    for failed in library.failed_blocks:
        ignored = failed.ignore_error_block
        if isinstance(failed, DuplicateBlockKeyBlock | DuplicateFieldKeyBlock) and isinstance(ignored, Entry):
            # Readable, only repeated: warn and read it as bibtexparser would have without the repeat.
            line = (failed.start_line or 0) + 1
            source.warn(f"{' '.join(str(failed.error).split())}; read anyway", line, 1)
            fixed = RemoveEnclosingMiddleware().transform_block(ignored, library)
            if isinstance(fixed, Entry):
                blocks.append((failed.start_line or 0, fixed))
            continue
        raise _refusal(text, failed)
    for _start, entry in sorted(blocks, key=lambda pair: pair[0]):
        made = _entry(source, entry)
        if made is not None:
            source.entries.append(made)
    return source
