"""Plan the site: one planned page (site path, template, context) per HTML file the build writes.

A page's context holds tracked views (what a template reads of them is recorded while it renders) and plain
values (a page's title, its place in a pagination), which are part of its key (see
sitegen.build.deps.context_key). No page kind has a key written by hand.

Size: one planner per page kind (papers, tags, digests, authors, reading, the indexes), each short; they
share the page and pagination types defined here.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from sitegen.build.deps import CONSTANT, Tracked
from sitegen.build.views import AuthorView, DigestView, PaperView, SiteView, TagView
from sitegen.text import urls

HOME_FEATURED = 10  # paper titles shown for the latest digest on the home page
HOME_PER_DIGEST = 4  # and for each earlier one
# The authors index lists every author (the public interface says so), up to this many; above it, a page a
# browser could hardly open, it lists the groups (initials) and each group gets a page of its own.
AUTHORS_ON_INDEX = 50_000
_GROUP_LABELS = {"0-9": "0–9", "other": "Other"}


@dataclass(frozen=True, slots=True)
class PageMeta:
    """What base.html needs to know about a page: its address, title and description for search engines."""

    path: str
    kind: str
    title: str
    description: str
    og_type: str = "website"
    noindex: bool = False
    prev: str | None = None
    next: str | None = None
    feed: str | None = None
    feed_title: str | None = None


class PaperPageMeta(Tracked):
    """PageMeta of a paper's page, read from the paper's view (so that planning renders no Markdown)."""

    __slots__ = ("paper",)
    FACETS: ClassVar[dict[str, str]] = {
        "path": "m",
        "title": "m",
        "description": "x",
        "noindex": "m",
        "kind": CONSTANT,
        "og_type": CONSTANT,
        "prev": CONSTANT,
        "next": CONSTANT,
        "feed": CONSTANT,
        "feed_title": CONSTANT,
    }
    kind = "paper"
    og_type = "article"
    prev = next = feed = feed_title = None

    def __init__(self, paper: PaperView):
        self.paper = paper

    @property
    def dep(self) -> str:
        return self.paper.dep

    def version(self, facet: str) -> str:
        return self.paper.version(facet)

    @property
    def path(self) -> str:
        return self.paper.path

    @property
    def title(self) -> str:
        return self.paper.title

    @property
    def description(self) -> str:
        return self.paper.page_description

    @property
    def noindex(self) -> bool:
        return self.paper.draft


@dataclass(frozen=True, slots=True)
class AuthorGroup:
    """A group of the authors index: the authors whose names start with one letter (or a digit, or with no
    ASCII form). `path`: the page that lists them; `authors`: empty on a page that only links to it."""

    key: str
    label: str
    path: str
    count: int
    authors: tuple[AuthorView, ...] = ()

    @property
    def anchor(self) -> str:
        return "letter-" + self.key


@dataclass(slots=True)
class PlannedPage:
    """One HTML page to render. `items`: papers whose list items the page shows (rendered ahead, shared
    among processes; a template that shows others makes them when it needs them). in_sitemap and lastmod:
    for the sitemap."""

    kind: str
    path: str
    template: str
    context: dict[str, Any]
    items: Sequence[PaperView] = ()
    in_sitemap: bool = True
    lastmod: date | None = None

    @property
    def paper(self) -> PaperView | None:
        found = self.context.get("paper") if self.kind == "paper" else None
        return found if isinstance(found, PaperView) else None


@dataclass(frozen=True, slots=True)
class Pagination:
    """Where a page stands in a paginated list: folder/base/, folder/base/page/<n>/."""

    page: int
    pages: int
    total: int
    base: str
    folder: str = "tags"

    def path(self, page: int) -> str:
        return urls.listing_path(self.folder, self.base, page)

    @property
    def prev(self) -> str | None:
        return self.path(self.page - 1) if self.page > 1 else None

    @property
    def next(self) -> str | None:
        return self.path(self.page + 1) if self.page < self.pages else None

    @property
    def numbers(self) -> list[int | None]:
        """Page numbers to show, None standing for a gap: 1 … 4 5 6 … 12."""
        keep = {1, self.pages, self.page - 1, self.page, self.page + 1}
        if self.page <= 3:
            keep.update({2, 3, 4})
        if self.page >= self.pages - 2:
            keep.update({self.pages - 1, self.pages - 2, self.pages - 3})
        out: list[int | None] = []
        previous = 0
        for n in sorted(n for n in keep if 1 <= n <= self.pages):
            if n - previous == 2:
                out.append(previous + 1)
            elif n - previous > 2:
                out.append(None)
            out.append(n)
            previous = n
        return out


def plan_pages(site: SiteView, config: Any) -> list[PlannedPage]:
    """Every HTML page of the site, in a stable order."""
    pages: list[PlannedPage] = []
    add = pages.append
    title = config.title
    latest = site.latest
    add(
        PlannedPage(
            "home",
            urls.HOME,
            "home.html",
            {
                "page": PageMeta(urls.HOME, "home", title, config.description, feed=urls.FEED),
                "latest": site.digests[: config.home_digests],
                "home_per_digest": HOME_PER_DIGEST,
                "home_featured": HOME_FEATURED,
            },
            lastmod=latest,
        )
    )
    for view in site.papers:
        add(
            PlannedPage(
                "paper",
                view.path,
                "paper.html",
                {"page": PaperPageMeta(view), "paper": view},
                in_sitemap=not view.draft,
                lastmod=view.latest,
            )
        )
    add(
        PlannedPage(
            "tags",
            urls.TAGS,
            "tags.html",
            {"page": PageMeta(urls.TAGS, "tags", "Tags", f"All {len(site.tags)} tags of {title}.")},
            lastmod=latest,
        )
    )
    per_page = max(int(config.per_page), 1)
    for tag in site.tags:
        pages.extend(_tag_pages(tag, per_page, title))
    pages.extend(_author_index_pages(site, title, latest))
    for author in site.authors:
        pages.extend(_author_pages(author, per_page))
    add(
        PlannedPage(
            "digests",
            urls.DIGESTS,
            "digests.html",
            {
                "page": PageMeta(
                    urls.DIGESTS, "digests", "Digests", f"All {len(site.digests)} digests of {title}."
                )
            },
            lastmod=latest,
        )
    )
    for digest in site.digests:
        add(_digest_page(digest))
    add(
        PlannedPage(
            "reading",
            urls.READING,
            "reading.html",
            {
                "page": PageMeta(
                    urls.READING,
                    "reading",
                    "Reading queue",
                    f"The papers of {title} marked unread, reading or read, by status and by tag.",
                )
            },
            items=[paper for status in site.queue for paper in status.papers],
            lastmod=latest,
        )
    )
    add(
        PlannedPage(
            "search",
            urls.SEARCH,
            "search.html",
            {"page": PageMeta(urls.SEARCH, "search", "Search", f"Search the papers of {title}.")},
            in_sitemap=False,
        )
    )
    add(
        PlannedPage(
            "404",
            urls.NOT_FOUND,
            "404.html",
            {
                "page": PageMeta(
                    urls.NOT_FOUND, "404", "Page not found", "This page does not exist.", noindex=True
                )
            },
            in_sitemap=False,
        )
    )
    return pages


def _tag_pages(tag: TagView, per_page: int, site_title: str) -> list[PlannedPage]:
    count = tag.count
    pages_count = max(math.ceil(count / per_page), 1)
    description = tag.description or f"{count} papers tagged {tag.name}."
    out = []
    for number in range(1, pages_count + 1):
        pagination = Pagination(number, pages_count, count, tag.slug)
        path = urls.tag_path(tag.slug, number)
        start = (number - 1) * per_page
        shown = tag.papers[start : start + per_page]
        meta = PageMeta(
            path,
            "tag",
            tag.name if number == 1 else f"{tag.name} (page {number} of {pages_count})",
            description,
            prev=pagination.prev,
            next=pagination.next,
            feed=tag.feed_path,
            feed_title=f"{tag.name} · {site_title}",
        )
        context = {
            "page": meta,
            "tag": tag,
            "papers": shown,
            "first_index": start + 1,
            "pagination": pagination,
            "show_chart": number == 1,
        }
        lastmod = _lastmod(shown)
        out.append(PlannedPage("tag", path, "tag.html", context, items=shown, lastmod=lastmod))
    return out


def _author_index_pages(site: SiteView, site_title: str, latest: date | None) -> list[PlannedPage]:
    """authors/: every author by group and name, with paper counts; on a site with more than
    AUTHORS_ON_INDEX authors, only the groups, each listed on a page of its own (authors/letter/<x>/). The
    bar of groups that every such page shows names the groups alone, so that a new author changes only the
    pages that list them."""
    by_group: dict[str, list[AuthorView]] = {}
    for author in site.authors:
        by_group.setdefault(author.group, []).append(author)
    total = len(site.authors)
    split = total > AUTHORS_ON_INDEX
    groups = [
        AuthorGroup(
            key,
            _GROUP_LABELS.get(key, key.upper()),
            urls.author_group_path(key) if split else urls.AUTHORS,
            len(members),
            () if split else tuple(members),
        )
        for key, members in by_group.items()
    ]
    letters = [(group.label, group.path, group.anchor) for group in groups]
    description = f"All {total} authors of {site_title}, with their papers."
    index = PlannedPage(
        "authors",
        urls.AUTHORS,
        "authors.html",
        {
            "page": PageMeta(urls.AUTHORS, "authors", "Authors", description),
            "author_count": total,
            "groups": groups,
            "letters": letters,
        },
        lastmod=latest,
    )
    if not split:
        return [index]
    out = [index]
    for group in groups:
        members = tuple(by_group[group.key])
        meta = PageMeta(
            group.path,
            "authors-letter",
            f"Authors: {group.label}",
            f"The {len(members)} authors of {site_title} listed under {group.label}.",
        )
        listed = dataclasses.replace(group, authors=members)
        # (Not the total: a new author elsewhere would make every group's page again.)
        context = {"page": meta, "author_count": None, "groups": [listed], "letters": letters}
        lastmod = max((d for a in members for p in a.papers if (d := p.latest)), default=None)
        out.append(PlannedPage("authors-letter", group.path, "authors.html", context, lastmod=lastmod))
    return out


def _author_pages(author: AuthorView, per_page: int) -> list[PlannedPage]:
    """authors/<slug>/: the author's papers as list items, paginated as a tag's are."""
    count = author.count
    pages_count = max(math.ceil(count / per_page), 1)
    out = []
    for number in range(1, pages_count + 1):
        pagination = Pagination(number, pages_count, count, author.slug, "authors")
        path = urls.author_path(author.slug, number)
        start = (number - 1) * per_page
        shown = author.papers[start : start + per_page]
        title = author.name if number == 1 else f"{author.name} (page {number} of {pages_count})"
        papers = "1 paper" if count == 1 else f"{count} papers"
        meta = PageMeta(
            path, "author", title, f"{papers} by {author.name}.", prev=pagination.prev, next=pagination.next
        )
        context = {
            "page": meta,
            "author": author,
            "papers": shown,
            "first_index": start + 1,
            "pagination": pagination,
        }
        lastmod = _lastmod(shown)
        out.append(PlannedPage("author", path, "author.html", context, items=shown, lastmod=lastmod))
    return out


def _digest_page(digest: DigestView) -> PlannedPage:
    label = human_date(digest.date)
    meta = PageMeta(
        digest.path,
        "digest",
        f"Digest of {label}",
        f"The {digest.count} papers of the {label} digest, in the digest's order.",
        prev=digest.older.path if digest.older else None,
        next=digest.newer.path if digest.newer else None,
    )
    context = {"page": meta, "digest": digest}
    return PlannedPage(
        "digest", digest.path, "digest.html", context, items=digest.papers, lastmod=digest.date
    )


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def human_date(day: date | None) -> str:
    """'Mar 13, 2026' (English whatever the locale, and faster than strftime)."""
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}" if day else ""


def counts_by_kind(pages: Sequence[PlannedPage]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for page in pages:
        counts[page.kind] = counts.get(page.kind, 0) + 1
    return counts


def _lastmod(shown: Sequence[PaperView]) -> date | None:
    """The latest digest of the papers a list page shows, drafts left out (its date in the sitemap)."""
    return max((d for p in shown if (d := p.latest) and not p.draft), default=None)
