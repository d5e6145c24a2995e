"""What every reader produces: one plain ImportedEntry per paper a source file lists, in a SourceFile."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sitegen.errors import Diagnostic

#: The kinds of source file, as detect.py tells them apart, with the words the import summary uses.
KIND_NAMES = {
    "digest": ("digest", "digests"),
    "hf": ("Hugging Face list", "Hugging Face lists"),
    "atom": ("arXiv feed", "arXiv feeds"),
    "csl": ("CSL-JSON file", "CSL-JSON files"),
    "bibtex": ("BibTeX file", "BibTeX files"),
}


@dataclass(slots=True)
class ImportedEntry:
    """One paper as a source lists it, in the form a page is written from.

    `title` is plain text; `abstract` is one Markdown paragraph (TeX math kept as written); `links` are
    http(s) URLs: those of the abstract in order, then code and project pages. `arxiv` has no version;
    `published` is the day of first publication; `digest` the day a digest (or a Hugging Face daily list)
    listed the paper. `keywords` are matched by the taxonomy like words of the title. `line` and `col`
    (1-based) are where the entry starts in `source`.

    What the text repair (sitegen.text.clean) did, for the import's anomaly warnings and a digest's repair
    report (sitegen.importer.repairlog): `repairs` names the repairs made to scraped text; `leftovers` are
    (line, text) of what still looks damaged and was left as it is. `scraped`: the text is a scraped
    digest's, which `sitegen repair` may write again from the kept copy (so the page gets an `auto_abstract`
    stamp)."""

    title: str
    source: str
    line: int = 0
    col: int = 0
    abstract: str = ""
    arxiv: str | None = None
    authors: list[str] = field(default_factory=list)
    published: date | None = None
    doi: str | None = None
    upvotes: int | None = None
    links: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    digest: date | None = None
    repairs: list[str] = field(default_factory=list)
    leftovers: list[tuple[int, str]] = field(default_factory=list)
    scraped: bool = False

    @property
    def repaired(self) -> bool:
        return bool(self.repairs)


@dataclass(slots=True)
class SourceFile:
    """A file read whole: its kind, its entries in the file's order, and the warnings of reading it. `keep`:
    the bytes of a digest, which the import keeps in content/digests/."""

    path: Path
    kind: str
    entries: list[ImportedEntry] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    keep: bytes | None = None

    def warn(self, message: str, line: int = 0, col: int = 0) -> None:
        self.warnings.append(Diagnostic(str(self.path), message, line, col, "warning"))

    @property
    def days(self) -> list[date]:
        """The digest dates of its entries, earliest first."""
        return sorted({e.digest for e in self.entries if e.digest is not None})


class ReaderError(Exception):
    """A file refused as a whole: `message` at `line`:`col` (1-based; 0 when unknown)."""

    def __init__(self, message: str, line: int = 0, col: int = 0):
        super().__init__(message)
        self.message, self.line, self.col = message, line, col
