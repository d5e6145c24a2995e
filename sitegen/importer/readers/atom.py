"""arXiv API feeds (Atom), as http://export.arxiv.org/api/query?id_list=... or ?search_query=... returns them.

Each `entry` gives `id` (the abs URL, with a version), `published` (the first version's date), `title`,
`summary` (TeX kept), `author/name`, `arxiv:primary_category`, `category`, `arxiv:doi` and `arxiv:comment`
(links to code or a project page are often there). Other elements are ignored. The file is parsed with expat,
chunk by chunk: memory holds the entries read, never the whole document. Entity declarations are refused
(an Atom feed needs none, and their expansion is how small XML files become huge).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from sitegen.importer.readers.categories import keyword
from sitegen.importer.readers.entry import ImportedEntry, ReaderError, SourceFile
from sitegen.importer.readers.text import (
    add_links,
    arxiv_id,
    doi,
    iso_day,
    markdown_abstract,
    name,
    plain_title,
)
from sitegen.text.clean import trim_url

ATOM = "http://www.w3.org/2005/Atom"
ARXIV = "http://arxiv.org/schemas/atom"
_SEP = " "  # between a namespace and a local name in expat's element names
_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)

# The elements of an entry whose text is read, by expat name.
_TEXT = {
    f"{ATOM}{_SEP}id": "id",
    f"{ATOM}{_SEP}title": "title",
    f"{ATOM}{_SEP}summary": "summary",
    f"{ATOM}{_SEP}published": "published",
    f"{ARXIV}{_SEP}doi": "doi",
    f"{ARXIV}{_SEP}comment": "comment",
}


@dataclass(slots=True)
class _Entry:
    line: int
    col: int
    text: dict[str, str] = field(default_factory=dict)
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)


class _Reader:
    def __init__(self, source: SourceFile):
        self.source = source
        self.parser = expat.ParserCreate(namespace_separator=_SEP)
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.characters
        self.parser.EntityDeclHandler = self.entity
        self.depth = 0
        self.entry: _Entry | None = None
        self.field: str | None = None  # the entry's element whose text is being read
        self.in_author = False
        self.buffer: list[str] = []

    def where(self) -> tuple[int, int]:
        return self.parser.CurrentLineNumber, self.parser.CurrentColumnNumber + 1

    def entity(self, entity_name: str, *_args: object) -> None:
        raise ReaderError(f"an entity declaration ({entity_name}): an Atom feed needs none", *self.where())

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        if self.depth == 1:
            if tag != f"{ATOM}{_SEP}feed":
                shown = tag.rpartition(_SEP)[2]
                raise ReaderError(f"an XML file, but not an Atom feed (its root is <{shown}>)", *self.where())
            return
        if self.depth == 2 and tag == f"{ATOM}{_SEP}entry":
            self.entry = _Entry(*self.where())
            return
        if self.entry is None or self.depth < 3:
            return
        if tag == f"{ATOM}{_SEP}author":
            self.in_author = True
        elif tag == f"{ATOM}{_SEP}name" and self.in_author:
            self.field, self.buffer = "name", []
        elif tag in (f"{ARXIV}{_SEP}primary_category", f"{ATOM}{_SEP}category"):
            term = attrs.get("term", "").strip()
            if term and term not in self.entry.categories:
                self.entry.categories.append(term)
        elif self.depth == 3 and tag in _TEXT:
            self.field, self.buffer = _TEXT[tag], []

    def characters(self, data: str) -> None:
        if self.field is not None:
            self.buffer.append(data)

    def end(self, tag: str) -> None:
        self.depth -= 1
        entry = self.entry
        if entry is None:
            return
        if self.field is not None and (self.depth == 2 or self.field == "name"):
            text = "".join(self.buffer)
            if self.field == "name":
                if name(text):
                    entry.authors.append(name(text))
            else:
                entry.text.setdefault(self.field, text)
            self.field = None
        elif tag == f"{ATOM}{_SEP}author":
            self.in_author = False
        elif self.depth == 1 and tag == f"{ATOM}{_SEP}entry":
            self.entry = None
            made = _entry(self.source, entry)
            if made is not None:
                self.source.entries.append(made)

    def feed(self, chunks: Iterable[bytes]) -> None:
        try:
            for chunk in chunks:
                self.parser.Parse(chunk, False)
            self.parser.Parse(b"", True)
        except expat.ExpatError as exc:
            message = expat.ErrorString(exc.code) if exc.code is not None else str(exc)
            raise ReaderError(f"not well-formed XML: {message}", exc.lineno, exc.offset + 1) from None


def _entry(source: SourceFile, raw: _Entry) -> ImportedEntry | None:
    text = raw.text
    entry_id = text.get("id", "").strip()
    if "/api/errors" in entry_id:  # the API's answer to a bad query is an entry describing the error
        source.warn(
            f"the arXiv API answered with an error: {name(text.get('summary', ''))}", raw.line, raw.col
        )
        return None
    title = name(text.get("title", ""))
    if not title:
        source.warn("an entry without a title: skipped", raw.line, raw.col)
        return None
    arxiv = arxiv_id(entry_id)
    if entry_id and arxiv is None:
        source.warn(f"'id' {entry_id[:60]!r} is not an arXiv URL: no arXiv id", raw.line, raw.col)
    abstract, links = markdown_abstract(text.get("summary", ""))
    comment_links = [trim_url(m.group()) for m in _URL.finditer(text.get("comment", ""))]
    dois = [d for d in (doi(part) for part in text.get("doi", "").split()) if d]
    title, leftovers = plain_title(title, raw.line)
    return ImportedEntry(
        title=title,
        leftovers=leftovers,
        source=str(source.path),
        line=raw.line,
        col=raw.col,
        abstract=abstract,
        arxiv=arxiv,
        authors=raw.authors,
        published=iso_day(text.get("published")),
        doi=dois[0] if dois else None,
        links=add_links(links, *comment_links),
        keywords=[keyword(code) for code in raw.categories],
    )


def read(path: Path, chunks: Iterable[bytes]) -> SourceFile:
    """The entries of an Atom feed. Raises ReaderError for a file that is not a well-formed Atom feed."""
    source = SourceFile(path, "atom")
    reader = _Reader(source)
    reader.feed(chunks)
    return source
