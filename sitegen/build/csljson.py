"""CSL-JSON: the citation format of Zotero, Pandoc (citeproc), Mendeley and most reference managers.

A file is a JSON array of items, one per paper and line, in the list's order. An item says what the paper's
BibTeX entry says (sitegen.build.bibtex.Citation: the same key as `id`, title, year and month, arXiv id, URL)
and, as `keyword`, the names of its tags. A paper with an arXiv id is a preprint as arXiv's own CSL export has
it: type "article", publisher "arXiv", number "arXiv:<id>".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sitegen.build.bibtex import Citation, unique_keys


def csl_item(cited: Citation, key: str, keywords: str = "") -> dict[str, Any]:
    """One CSL-JSON item; `keywords`: the paper's tag names, comma-separated."""
    item: dict[str, Any] = {"id": key, "type": "article", "title": cited.title}
    if cited.authors:
        # As written: no guess at which part is the family name.
        item["author"] = [{"literal": name} for name in cited.authors]
    if cited.year is not None:
        item["issued"] = {"date-parts": [[cited.year] if cited.month is None else [cited.year, cited.month]]}
    if cited.arxiv:
        item["publisher"] = "arXiv"
        item["number"] = f"arXiv:{cited.arxiv}"
    if cited.doi:
        item["DOI"] = cited.doi
    if cited.url:
        item["URL"] = cited.url
    if cited.note:
        item["note"] = cited.note
    if keywords:
        item["keyword"] = keywords
    return item


def csl_file(entries: Sequence[tuple[Citation, str]]) -> bytes:
    """A CSL-JSON file of (citation, tag names) pairs, in order, with the ids the BibTeX export of the same
    list gives as keys (unique within the file)."""
    keys = unique_keys(cited.key for cited, _ in entries)
    # One item per line: as readable in a diff as an indented file, and written by json's C encoder (which
    # an indented dump does not use: it takes several times as long on a large site).
    lines = [
        json.dumps(csl_item(cited, key, words), ensure_ascii=False)
        for (cited, words), key in zip(entries, keys, strict=True)
    ]
    return ("[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n").encode("utf-8")
