"""CSL-JSON, the citation data Zotero, Better BibTeX and citeproc tools export: a list of items with `title`,
`abstract`, `author` ([{given, family} or {literal}]), `issued` ({date-parts: [[y, m, d]]}), `DOI`, `URL`,
`number`, `note` and `keyword`. An arXiv id is taken from wherever such exports put it: `number`
("arXiv:1706.03762"), `URL`, arXiv's DOI 10.48550/arXiv.ID, `note`, `container-title`. Other fields are
ignored."""

from __future__ import annotations

from datetime import date
from typing import Any

from sitegen.importer.readers.entry import ImportedEntry, SourceFile
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

#: Fields that name a CSL item, one of which any CSL-JSON exporter writes.
_CSL_FIELDS = ("type", "issued", "author", "container-title", "DOI", "URL", "citation-key")


def looks_like(item: Any) -> bool:
    """Whether a JSON item is a CSL item: an object with a title or id and the fields CSL items have."""
    return (
        isinstance(item, dict)
        and ("title" in item or "id" in item)
        and any(key in item for key in _CSL_FIELDS)
    )


def read_item(source: SourceFile, item: Any, line: int, col: int) -> ImportedEntry | None:
    if not isinstance(item, dict):
        source.warn("not a CSL item (an object): skipped", line, col)
        return None
    title = item.get("title")
    if not isinstance(title, str) or not title.strip():
        source.warn("an item without a title: skipped", line, col)
        return None
    abstract, links = markdown_abstract(item["abstract"] if isinstance(item.get("abstract"), str) else "")
    found_doi = doi(item.get("DOI"))
    title, leftovers = plain_title(title, line)
    return ImportedEntry(
        title=title,
        leftovers=leftovers,
        source=str(source.path),
        line=line,
        col=col,
        abstract=abstract,
        arxiv=_arxiv(item, found_doi),
        authors=_authors(item.get("author")),
        published=_issued(item.get("issued")),
        doi=found_doi,
        links=links,
        keywords=split_keywords(item.get("keyword")),
    )


def _arxiv(item: dict[str, Any], found_doi: str | None) -> str | None:
    for value in (item.get("number"), item.get("URL"), found_doi, item.get("id")):
        if (found := arxiv_id(value)) is not None:
            return found
    for key in ("number", "URL", "note", "container-title", "archive_location", "id"):
        if (found := find_arxiv(item.get(key))) is not None:
            return found
    return None


def _authors(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    names: list[str] = []
    for person in value:
        if not isinstance(person, dict):
            continue
        literal = person.get("literal")
        if isinstance(literal, str):
            names.append(name(literal))
            continue
        parts = [person.get(k) for k in ("given", "dropping-particle", "non-dropping-particle", "family")]
        full = name(" ".join(p for p in parts if isinstance(p, str)))
        suffix = person.get("suffix")
        if full and isinstance(suffix, str) and suffix.strip():
            full += ", " + name(suffix)
        names.append(full)
    return [n for n in names if n]


def _issued(value: Any) -> date | None:
    """The day of a CSL date, if it gives one: date-parts with year, month and day, or an ISO `raw`."""
    if not isinstance(value, dict):
        return None
    parts = value.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and len(parts[0]) >= 3:
        return full_date(*parts[0][:3])
    return iso_day(value.get("raw"))
