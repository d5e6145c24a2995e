"""Hugging Face daily papers, as https://huggingface.co/api/daily_papers?date=YYYY-MM-DD returns them: a list
of listings, each with the listed `paper` (its arXiv `id`, `title`, `summary`, `authors`, `publishedAt` and
`upvotes`, and where present `ai_keywords`, `githubRepo` and `projectPage`) and the listing's own
`publishedAt`, the day it was listed: the digest date. Other fields are ignored."""

from __future__ import annotations

from typing import Any

from sitegen.importer.readers.entry import ImportedEntry, SourceFile
from sitegen.importer.readers.text import (
    add_links,
    arxiv_id,
    iso_day,
    markdown_abstract,
    name,
    plain_title,
    split_keywords,
)


def looks_like(item: Any) -> bool:
    """Whether a JSON item is a daily-papers listing."""
    return isinstance(item, dict) and isinstance(item.get("paper"), dict)


def read_item(source: SourceFile, item: Any, line: int, col: int) -> ImportedEntry | None:
    """The entry of one listing; None (with a warning) for one that lists no paper with a title."""
    if not looks_like(item):
        source.warn("not a daily-papers listing (no 'paper' object): skipped", line, col)
        return None
    paper: dict[str, Any] = item["paper"]
    title = _text(paper.get("title")) or _text(item.get("title"))
    if not title:
        source.warn("a paper without a title: skipped", line, col)
        return None
    raw_id = paper.get("id")
    arxiv = arxiv_id(raw_id)
    if raw_id is not None and arxiv is None:
        source.warn(f"'id' {str(raw_id)[:40]!r} is not an arXiv id: not used", line, col)
    abstract, links = markdown_abstract(_text(paper.get("summary")) or _text(item.get("summary")) or "")
    upvotes = paper.get("upvotes")
    title, leftovers = plain_title(title, line)
    return ImportedEntry(
        title=title,
        leftovers=leftovers,
        source=str(source.path),
        line=line,
        col=col,
        abstract=abstract,
        arxiv=arxiv,
        authors=_authors(paper.get("authors")),
        published=iso_day(paper.get("publishedAt")),
        upvotes=upvotes
        if isinstance(upvotes, int) and not isinstance(upvotes, bool) and upvotes >= 0
        else None,
        links=add_links(links, paper.get("githubRepo"), paper.get("projectPage")),
        keywords=split_keywords(paper.get("ai_keywords")),
        digest=iso_day(item.get("publishedAt")),
    )


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _authors(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    names = (name(a["name"]) for a in value if isinstance(a, dict) and isinstance(a.get("name"), str))
    return [n for n in names if n]
