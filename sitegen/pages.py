"""Plan the site: views of papers, tags and digests with every index computed once, then one planned page
(site path, template, context, key) per output HTML file.

Everything a template needs is computed here, once per build: sort orders, papers by tag and by digest,
excerpts. Templates only loop and print, so a page costs as much at 10 papers as at 10,000. What is costly
(Markdown, a page's context) is made on first use, and each page carries a key of everything it shows, so a
rebuild makes only the pages whose key changed.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from markupsafe import Markup

from sitegen import urls
from sitegen.markdown import MarkdownRenderer, excerpt
from sitegen.model import Paper, Site, Tag, split_body
from sitegen.urls import Link, classify_link

# C0 control characters other than tab and newlines: invalid in HTML and XML, and never meant in a title.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SUMMARY_CHARS = 300
DESCRIPTION_CHARS = 200
HOME_FEATURED = 10  # paper titles shown for the latest digest on the home page
HOME_PER_DIGEST = 4  # and for each earlier one


_NO_HTML = Markup("")


@dataclass(slots=True, eq=False)
class PaperView:
    """A paper as the templates see it. Its Markdown is rendered on first use (`abstract_html`, `notes_html`,
    `summary`, `description`), so that a rebuild renders only the papers of the pages it makes again."""

    paper: Paper
    slug: str
    title: str
    path: str
    draft: bool
    digests: list[date]
    markdown: MarkdownRenderer
    tags: list[TagView] = field(default_factory=list)
    tag_names: str = ""
    related: list[PaperView] = field(default_factory=list)
    #: The paper as an item of a list (tag and digest pages), rendered once per build from
    #: partials/paper_item.html and reused by every list that shows it.
    item_html: Markup = _NO_HTML
    #: Everything partials/paper_item.html shows of the paper, as a string (see `item_key`).
    item_key: str = ""
    texts: PaperTexts | None = None
    _links: list[Link] | None = None

    @property
    def links(self) -> list[Link]:
        """The paper's links, classified for display."""
        if self._links is None:
            self._links = [classify_link(url) for url in self.paper.links]
        return self._links

    @property
    def abstract_html(self) -> Markup:
        return self.rendered().abstract_html

    @property
    def notes_html(self) -> Markup:
        return self.rendered().notes_html

    @property
    def summary(self) -> str:
        return self.rendered().summary

    @property
    def description(self) -> str:
        return self.rendered().description

    def rendered(self) -> PaperTexts:
        """The paper's Markdown as HTML and plain text, rendered now if not yet."""
        if self.texts is None:
            self.texts = render_texts(self.paper, self.markdown)
        return self.texts

    @property
    def latest(self) -> date | None:
        return self.digests[-1] if self.digests else None

    @property
    def first(self) -> date | None:
        return self.digests[0] if self.digests else None

    @property
    def status(self) -> str | None:
        return self.paper.status

    @property
    def rating(self) -> int | None:
        return self.paper.rating

    @property
    def arxiv(self) -> str | None:
        return self.paper.arxiv

    @property
    def code_links(self) -> list[Link]:
        return [link for link in self.links if link.is_code]


@dataclass(frozen=True, slots=True)
class PaperTexts:
    abstract_html: Markup
    notes_html: Markup
    summary: str
    description: str


def render_texts(paper: Paper, markdown: MarkdownRenderer) -> PaperTexts:
    abstract, notes = split_body(paper.body)
    abstract = _CONTROL.sub("", abstract)
    text = markdown.text(abstract)
    return PaperTexts(
        abstract_html=markdown.render(abstract),
        notes_html=markdown.render(_CONTROL.sub("", notes)),
        summary=excerpt(text, SUMMARY_CHARS),
        description=excerpt(text, DESCRIPTION_CHARS),
    )


@dataclass(slots=True, eq=False)
class TagView:
    slug: str
    name: str
    description: str
    papers: list[PaperView] = field(default_factory=list)

    @property
    def path(self) -> str:
        return urls.tag_path(self.slug)

    @property
    def feed_path(self) -> str:
        return urls.tag_feed_path(self.slug)

    @property
    def count(self) -> int:
        return len(self.papers)


@dataclass(slots=True, eq=False)
class DigestView:
    date: date
    papers: list[PaperView]
    sources: list[str]
    newer: DigestView | None = None
    older: DigestView | None = None

    @property
    def path(self) -> str:
        return urls.digest_path(self.date)

    @property
    def count(self) -> int:
        return len(self.papers)


@dataclass(slots=True)
class SiteIndex:
    """The visible content of one build and its precomputed orders.

    recent: every paper, newest digest first, in each digest's own order, then undated papers by title.
    tags: tags with at least one paper, by name. digests: newest first.
    """

    papers: list[PaperView]
    recent: list[PaperView]
    tags: list[TagView]
    digests: list[DigestView]
    by_slug: dict[str, PaperView]

    @property
    def latest_date(self) -> date | None:
        return self.digests[0].date if self.digests else None

    @property
    def tags_by_count(self) -> list[TagView]:
        return sorted(self.tags, key=lambda t: (-t.count, t.name.casefold()))


_SMALL_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "by",
        "for",
        "from",
        "in",
        "of",
        "on",
        "or",
        "the",
        "to",
        "via",
        "vs",
        "with",
    ]
)


def tag_display_name(slug: str) -> str:
    """A readable name for a tag the taxonomy does not describe: 'llm-agents' -> 'LLM agents'.

    Short words other than small English ones are taken for acronyms (llm, nlp, rl, gan, vit).
    """
    words = [
        w.upper() if len(w) <= 3 and w not in _SMALL_WORDS and w.isalpha() else w for w in slug.split("-")
    ]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _title_key(view: PaperView) -> tuple[str, str]:
    return view.title.casefold(), view.slug


def build_index(site: Site, markdown: MarkdownRenderer, drafts: bool) -> SiteIndex:
    """Views of the content a build shows; drafts only when `drafts` is set. Nothing is rendered here."""
    papers = [p for p in site.papers if drafts or not p.draft]
    views: list[PaperView] = []
    for paper in papers:
        views.append(
            PaperView(
                paper=paper,
                slug=paper.slug,
                title=_CONTROL.sub("", paper.title),
                path=urls.paper_path(paper.slug),
                draft=paper.draft,
                digests=list(paper.digests),
                markdown=markdown,
            )
        )
    by_slug = {v.slug: v for v in views}

    # Digests: the record's order first, then papers the record does not list, by title.
    members: dict[date, list[PaperView]] = {}
    for view in views:
        for day in view.digests:
            members.setdefault(day, []).append(view)
    digest_views: list[DigestView] = []
    for day in sorted(members, reverse=True):
        record = site.digests.get(day)
        in_day = {v.slug: v for v in members[day]}
        ordered: list[PaperView] = []
        for slug in record.order if record else []:
            view = in_day.pop(slug, None)
            if view is not None:
                ordered.append(view)
        ordered.extend(sorted(in_day.values(), key=_title_key))
        digest_views.append(
            DigestView(date=day, papers=ordered, sources=list(record.sources) if record else [])
        )
    for newer, older in itertools.pairwise(digest_views):
        newer.older, older.newer = older, newer

    seen: set[str] = set()
    recent: list[PaperView] = []
    for digest in digest_views:
        for view in digest.papers:
            if view.slug not in seen:
                seen.add(view.slug)
                recent.append(view)
    recent.extend(sorted((v for v in views if v.slug not in seen), key=_title_key))

    tags: dict[str, TagView] = {}
    for view in recent:
        for slug in view.paper.tags:
            tag = tags.get(slug)
            if tag is None:
                known: Tag | None = site.tags.get(slug)
                name = known.name if known else tag_display_name(slug)
                tag = tags[slug] = TagView(
                    slug=slug, name=name, description=known.description if known else ""
                )
            tag.papers.append(view)
    for view in views:
        view.tags = [tags[slug] for slug in view.paper.tags]
        names = [tag.name for tag in view.tags]
        view.tag_names = ", ".join(names)
        view.item_key = item_key(view, names)

    return SiteIndex(
        papers=sorted(views, key=_title_key),
        recent=recent,
        tags=sorted(tags.values(), key=lambda t: (t.name.casefold(), t.slug)),
        digests=digest_views,
        by_slug=by_slug,
    )


def attach_related(index: SiteIndex, related: dict[str, list[str]]) -> None:
    shown = index.by_slug.get
    for view in index.papers:
        view.related = [other for slug in related.get(view.slug, ()) if (other := shown(slug)) is not None]


# --- planned pages ---------------------------------------------------------------------------------------


def item_key(view: PaperView, tag_names: list[str] | None = None) -> str:
    """Everything partials/paper_item.html shows of a paper: the paper's own file (its fingerprint; every
    field comes from it) and the names of its tags (they come from the taxonomy)."""
    paper = view.paper
    own = paper.fingerprint or _paper_digest(paper)
    names = tag_names if tag_names is not None else [tag.name for tag in view.tags]
    return own + "\x1f" + "\x1f".join(names)


_ITEM_KEY = operator.attrgetter("item_key")


def paper_page_key(view: PaperView) -> str:
    """Everything paper.html shows: the paper, and its related papers as their list items show them. A
    string, not a tuple: ten thousand of them are hashed in every build."""
    return "\x1e".join(["paper", view.item_key, *map(_ITEM_KEY, view.related)])


def _paper_digest(paper: Paper) -> str:
    """A fingerprint for a Paper that was made in code rather than read from a file."""
    fields = (
        paper.title,
        paper.slug,
        tuple(paper.digests),
        tuple(paper.tags),
        tuple(paper.links),
        paper.draft,
        paper.status,
        paper.rating,
        paper.arxiv,
        paper.body,
        sorted(paper.extra.items(), key=repr),
    )
    return hashlib.blake2b(repr(fields).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


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


@dataclass(slots=True)
class PlannedPage:
    """One HTML page to render.

    make_context: the template's context, made only when the page is rendered. key: everything the page's
    HTML depends on besides the site-wide values (settings, templates, totals), or None for a page that is
    made every time; a page whose key is unchanged since the last build need not be rendered again.
    paper: the paper of a paper page. items: the papers whose list items (`item_html`) the page shows.
    in_sitemap and lastmod: for the sitemap.
    """

    kind: str
    path: str
    template: str
    make_context: Callable[[], dict[str, Any]]
    key: tuple[Any, ...] | str | None = None
    paper: PaperView | None = None
    items: Sequence[PaperView] = ()
    in_sitemap: bool = True
    lastmod: date | None = None

    @property
    def context(self) -> dict[str, Any]:
        return self.make_context()


@dataclass(frozen=True, slots=True)
class Pagination:
    page: int
    pages: int
    total: int
    base: str

    def path(self, page: int) -> str:
        return urls.tag_path(self.base, page)

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


@dataclass(frozen=True, slots=True)
class ChartSet:
    """The SVG charts of a build (strings of inline SVG, or '' when there is nothing to draw). The timeline of
    each tag (by slug) may be drawn only when first looked up; `timeline_keys` tells what each one shows."""

    rising: Markup
    per_digest: Markup
    tag_sizes: Markup
    timelines: Mapping[str, Markup]
    timeline_keys: Mapping[str, Any]


def _fixed(context: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    return lambda: context


def plan_pages(
    index: SiteIndex,
    config: Any,
    charts: ChartSet,
    bibtex: Callable[[PaperView], str],
    paper_keys: bool = True,
) -> list[PlannedPage]:
    """Every HTML page of the site, in a stable order. `bibtex(view)` gives a paper's BibTeX entry.
    Without `paper_keys` the paper pages get no key yet (their related papers are not known yet: set it
    with paper_page_key once they are)."""
    pages: list[PlannedPage] = []
    add = pages.append
    site_title = config.title
    latest = index.latest_date
    # The keys of the pages that list tags or digests: what the built-in templates show of them.
    tag_rows = tuple((t.slug, t.name, t.description, t.count) for t in index.tags)
    home_digests = index.digests[: config.home_digests]
    home_shown = max(HOME_FEATURED, HOME_PER_DIGEST)  # papers a digest shows on the home page

    add(
        PlannedPage(
            "home",
            urls.HOME,
            "home.html",
            _fixed(
                {
                    "page": PageMeta(urls.HOME, "home", site_title, config.description, feed=urls.FEED),
                    "latest": index.digests[: config.home_digests],
                    "home_per_digest": HOME_PER_DIGEST,
                    "home_featured": HOME_FEATURED,
                    "tags": index.tags_by_count,
                    "rising_chart": charts.rising,
                }
            ),
            key=(
                "home",
                tuple(
                    (d.date.toordinal(), d.count, tuple(p.item_key for p in d.papers[:home_shown]))
                    for d in home_digests
                ),
                tuple((t.slug, t.name, t.count) for t in index.tags_by_count),
                str(charts.rising),
            ),
            lastmod=latest,
        )
    )

    def paper_context(view: PaperView) -> dict[str, Any]:
        digests = ", ".join(d.isoformat() for d in view.digests)
        description = view.description or (
            f"A paper from the digests of {digests}." if digests else site_title
        )
        return {
            "page": PageMeta(view.path, "paper", view.title, description, "article", noindex=view.draft),
            "paper": view,
            "bibtex": bibtex(view),
            "find_links": urls.find_paper_links(view.title),
            "arxiv_links": urls.arxiv_links(view.arxiv) if view.arxiv else [],
        }

    for view in index.papers:
        add(
            PlannedPage(
                "paper",
                view.path,
                "paper.html",
                functools.partial(paper_context, view),
                key=paper_page_key(view) if paper_keys else None,
                paper=view,
                in_sitemap=not view.draft,
                lastmod=view.latest,
            )
        )

    add(
        PlannedPage(
            "tags",
            urls.TAGS,
            "tags.html",
            _fixed(
                {
                    "page": PageMeta(
                        urls.TAGS, "tags", "Tags", f"All {len(index.tags)} tags of {site_title}."
                    ),
                    "tags": index.tags,
                    "chart": charts.tag_sizes,
                }
            ),
            key=("tags", tag_rows, str(charts.tag_sizes)),
            lastmod=latest,
        )
    )
    per_page = max(int(config.per_page), 1)

    def tag_context(tag: TagView, number: int, pages_count: int) -> dict[str, Any]:
        pagination = Pagination(number, pages_count, tag.count, tag.slug)
        path = urls.tag_path(tag.slug, number)
        title = tag.name if number == 1 else f"{tag.name} (page {number} of {pages_count})"
        description = tag.description or f"{tag.count} papers tagged {tag.name}."
        meta = PageMeta(
            path,
            "tag",
            title,
            description,
            prev=pagination.prev,
            next=pagination.next,
            feed=tag.feed_path,
            feed_title=f"{tag.name} · {site_title}",
        )
        start = (number - 1) * per_page
        return {
            "page": meta,
            "tag": tag,
            "papers": tag.papers[start : start + per_page],
            "first_index": start + 1,
            "pagination": pagination,
            "chart": charts.timelines.get(tag.slug, Markup("")) if number == 1 else Markup(""),
        }

    for tag in index.tags:
        pages_count = max(math.ceil(tag.count / per_page), 1)
        for number in range(1, pages_count + 1):
            start = (number - 1) * per_page
            shown = tag.papers[start : start + per_page]
            chart = charts.timeline_keys.get(tag.slug) if number == 1 else None
            add(
                PlannedPage(
                    "tag",
                    urls.tag_path(tag.slug, number),
                    "tag.html",
                    functools.partial(tag_context, tag, number, pages_count),
                    key=(
                        "tag",
                        tag.slug,
                        tag.name,
                        tag.description,
                        tag.count,
                        number,
                        pages_count,
                        tuple(p.item_key for p in shown),
                        chart,
                    ),
                    items=shown,
                    lastmod=max((p.latest for p in shown if p.latest and not p.draft), default=None),
                )
            )

    add(
        PlannedPage(
            "digests",
            urls.DIGESTS,
            "digests.html",
            _fixed(
                {
                    "page": PageMeta(
                        urls.DIGESTS,
                        "digests",
                        "Digests",
                        f"All {len(index.digests)} digests of {site_title}.",
                    ),
                    "digests": index.digests,
                    "chart": charts.per_digest,
                }
            ),
            key=(
                "digests",
                tuple(
                    (d.date.toordinal(), d.count, d.papers[0].item_key if d.papers else "")
                    for d in index.digests
                ),
                str(charts.per_digest),
            ),
            lastmod=latest,
        )
    )

    def digest_context(digest: DigestView) -> dict[str, Any]:
        label = human_date(digest.date)
        return {
            "page": PageMeta(
                digest.path,
                "digest",
                f"Digest of {label}",
                f"The {digest.count} papers of the {label} digest, in the digest's order.",
                prev=digest.older.path if digest.older else None,
                next=digest.newer.path if digest.newer else None,
            ),
            "digest": digest,
        }

    for digest in index.digests:
        add(
            PlannedPage(
                "digest",
                digest.path,
                "digest.html",
                functools.partial(digest_context, digest),
                key=(
                    "digest",
                    digest.date.toordinal(),
                    tuple(p.item_key for p in digest.papers),
                    digest.older.date.toordinal() if digest.older else None,
                    digest.newer.date.toordinal() if digest.newer else None,
                    tuple(digest.sources),
                ),
                items=digest.papers,
                lastmod=digest.date,
            )
        )

    add(
        PlannedPage(
            "search",
            urls.SEARCH,
            "search.html",
            _fixed(
                {
                    "page": PageMeta(urls.SEARCH, "search", "Search", f"Search the papers of {site_title}."),
                    "tags": index.tags,
                    "digests": index.digests,
                }
            ),
            key=("search", tag_rows, tuple(d.date.toordinal() for d in index.digests)),
            in_sitemap=False,
        )
    )
    add(
        PlannedPage(
            "404",
            urls.NOT_FOUND,
            "404.html",
            _fixed(
                {
                    "page": PageMeta(
                        urls.NOT_FOUND, "404", "Page not found", "This page does not exist.", noindex=True
                    )
                }
            ),
            key=("404",),
            in_sitemap=False,
        )
    )
    return pages


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def human_date(day: date | None) -> str:
    """'Mar 13, 2026' (English whatever the locale, and faster than strftime)."""
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}" if day else ""


def counts_by_kind(pages: Sequence[PlannedPage]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for page in pages:
        counts[page.kind] = counts.get(page.kind, 0) + 1
    return counts
