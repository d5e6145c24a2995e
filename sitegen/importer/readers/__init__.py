"""Readers of the files `sitegen import` takes, one module per format, each giving a SourceFile of
ImportedEntry (readers/entry.py). The format is told from the content (detect.py), never from the name:

- digest text (digest_text.py), the scraped "trending papers" pages;
- Hugging Face daily papers, JSON (hf.py), and CSL-JSON (csl.py), read item by item (jsonstream.py);
- arXiv API Atom feeds (atom.py), read with expat chunk by chunk;
- BibTeX (bib.py), read with bibtexparser.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

from sitegen.importer.readers import atom, bib, csl, digest_text, hf
from sitegen.importer.readers.detect import detect
from sitegen.importer.readers.digest_text import Dating
from sitegen.importer.readers.entry import KIND_NAMES, ImportedEntry, ReaderError, SourceFile
from sitegen.importer.readers.jsonstream import JsonItems, utf8_text
from sitegen.store.sources import open_regular

__all__ = ["KIND_NAMES", "Dating", "ImportedEntry", "ReaderError", "SourceFile", "read_file"]

CHUNK = 1 << 16


def _json(path: Path, chunks: Iterator[bytes]) -> SourceFile:
    """A Hugging Face daily-papers list or CSL-JSON, as its first item shows."""
    items = iter(JsonItems(utf8_text(chunks)))
    first = next(items, None)
    if first is None:
        raise ReaderError("an empty JSON list: no papers to import", 1, 1)
    item, line, col = first
    if hf.looks_like(item):
        source, read_item = SourceFile(path, "hf"), hf.read_item
    elif csl.looks_like(item):
        source, read_item = SourceFile(path, "csl"), csl.read_item
    elif isinstance(item, dict) and isinstance(item.get("error"), str):
        raise ReaderError(f"an error message, not papers: {item['error'][:200]!r}", line, col)
    else:
        what = "a JSON object" if isinstance(item, dict) else "JSON"
        raise ReaderError(
            f"{what}, but neither Hugging Face daily papers nor CSL-JSON items (see README: Importing)",
            line,
            col,
        )
    for item, line, col in itertools.chain([first], items):
        entry = read_item(source, item, line, col)
        if entry is not None:
            source.entries.append(entry)
    return source


def read_file(path: Path, dating: Dating) -> SourceFile:
    """Read one file to import, whatever its format. Raises ReaderError for a file refused as a whole, OSError
    for one that cannot be read (or is not a regular file)."""
    with open_regular(path) as (fd, _stat):
        head = os.read(fd, CHUNK)
        chunks = itertools.chain([head], iter(lambda: os.read(fd, CHUNK), b""))
        kind = detect(head)
        if kind == "json":
            return _json(path, chunks)
        if kind == "xml":
            return atom.read(path, chunks)
        data = b"".join(chunks)
        if kind == "bibtex":
            return bib.read(path, data)
        return digest_text.read(path, data, dating)
