"""What templates see: papers, tags, digests and the site, as tracked views (see sitegen.build.deps).

Every index a page needs is computed here once per build (papers by tag and by digest, sort orders), so
templates only loop and print. What is costly (Markdown, a paper's list item, a chart) is made on first use.
Each view declares, in FACETS, which facet each attribute a template may read belongs to, and `version()`
gives a short string that changes whenever a facet may show something else. The rule that keeps
incremental builds right: an attribute's value depends only on the sources its facet's version covers (and
on what the site-wide stamp covers: code, settings, options, assets).

Size: one tracked view class per kind of object the templates see, each with its facets and versions beside
the attributes they cover: the rule that keeps incremental builds exact is checked by reading them side by
side.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from markupsafe import Markup

from sitegen.build import bibtex, charts
from sitegen.build.deps import CONSTANT, UNKNOWN_FACET, Fragment, Tracked, text_fingerprint
from sitegen.content import rows
from sitegen.content.model import STATUSES, Site, Tag, split_body
from sitegen.content.slugs import author_group, author_slug, transliterate
from sitegen.text import urls
from sitegen.text.markdown import MarkdownRenderer, excerpt
from sitegen.text.urls import Link, Urls, classify_link

# C0 control characters other than tab and newlines: invalid in HTML and XML, and never meant in a title.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SUMMARY_CHARS = 300
DESCRIPTION_CHARS = 200
ITEM_TEMPLATE = "partials/paper_item.html"

# Facets of a paper: "m" what comes from its front matter; "x" what also comes from its body (any edit of
# its file changes it); "n" what also shows its tags' names; "r" its related papers; "w" those and the terms
# each shares with it.
_PAPER_FACETS = (
    dict.fromkeys(
        (
            "slug", "title", "path", "draft", "digests", "first", "latest", "tags", "links", "code_links",
            "status", "rating", "arxiv", "bibtex", "find_links", "arxiv_links", "citation",
            "also_in", "tag_slugs", "authors",
        ),
        "m",
    )
    | dict.fromkeys(("abstract_html", "notes_html", "summary", "description", "page_description"), "x")
    | {"tag_names": "n", "related": "r", "why_related": "w"}
    | {"item_html": CONSTANT}  # (a list item records what it reads)
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class PaperTexts:
    abstract_html: Markup
    notes_html: Markup
    summary: str
    description: str


class Shared:
    """What every view of one build uses: the Markdown renderer, links, and the makers of list items."""

    def __init__(self, markdown: MarkdownRenderer, link: Urls):
        self.markdown = markdown
        self.link = link
        #: Makes a paper's list item (set by the renderer, which owns the templates).
        self.item: Callable[[PaperView], Fragment] | None = None
        #: Attaches every paper's related papers (see attach_related), waiting for them if need be: called
        #: when a page first reads `related`, so that only pages that show them wait for them.
        self.attach_related: Callable[[], None] | None = None
        #: Each paper's related papers as one text (sitegen.content.rows), and the papers the build shows by
        #: slug (see attach_related): a view makes its entries from them when first asked.
        self.related_rows: Mapping[str, str] = {}
        self.shown: Mapping[str, PaperView] = {}
        #: A paper's texts as an earlier build rendered them from the same file, if kept (see textstore).
        self.stored: Callable[[PaperView], PaperTexts | None] | None = None
        #: A paper's citation and BibTeX entry as an earlier build made them, if kept (see citestore).
        self.stored_citation: Callable[[PaperView], tuple[bibtex.Citation, str] | None] | None = None


@dataclass(slots=True, eq=False)
class PaperView(Tracked):
    """A paper as the templates see it."""

    FACETS: ClassVar[dict[str, str]] = _PAPER_FACETS

    paper: Any  # sitegen.content.model.Paper
    slug: str
    title: str
    path: str
    draft: bool
    digests: list[date]
    shared: Shared
    tags: list[TagView] = field(default_factory=list)
    #: Every author of the build by name as written (see _authors): `authors` are made from it when asked.
    _author_of: Mapping[str, AuthorView] = field(default_factory=dict)
    _bylines: list[Byline] | None = None
    _related: list[RelatedEntry] | None = None
    texts: PaperTexts | None = None
    _links: list[Link] | None = None
    _item: Fragment | None = None
    _cited: tuple[bibtex.Citation, str] | None = None  # the citation and its BibTeX entry, made on first use
    _dep: str = ""

    @property
    def dep(self) -> str:
        return self._dep

    @property
    def authors(self) -> list[Byline]:
        """The paper's authors in its own order (a name listed twice, twice)."""
        if self._bylines is None:
            self._bylines = [_byline(name, self._author_of[name]) for name in self.paper.authors]
        return self._bylines

    def version(self, facet: str) -> str:
        if facet == "m":
            return self.paper.front_fingerprint or _front_matter(self.paper)
        if facet == "x":
            return self.paper.fingerprint or text_fingerprint(_front_matter(self.paper) + self.paper.body)
        if facet == "n":
            return "\x1f".join([tag.name for tag in self.tags])
        if facet == "r":
            return "\x1f".join(rows.slugs(self._related_text()))
        if facet == "w":
            # (The build's related lists hold only the papers it shows: its text is what `why_related` shows.)
            return self._related_text()
        return UNKNOWN_FACET

    def _related_text(self) -> str:
        attach = self.shared.attach_related
        if attach is not None:
            attach()
        return self.shared.related_rows.get(self.slug, "")

    @property
    def related(self) -> list[PaperView]:
        """The related papers, most similar first."""
        return [entry.paper for entry in self.why_related]

    @property
    def why_related(self) -> list[RelatedEntry]:
        """The related papers, each with the terms it shares with this one."""
        if self._related is None:
            text, shown = self._related_text(), self.shared.shown.get
            self._related = [
                RelatedEntry(other, terms)
                for slug, terms in rows.decode(text)
                if (other := shown(slug)) is not None
            ]
        return self._related

    @property
    def tag_names(self) -> str:
        return ", ".join(tag.name for tag in self.tags)

    @property
    def links(self) -> list[Link]:
        """The paper's links, classified for display."""
        if self._links is None:
            self._links = [classify_link(url) for url in self.paper.links]
        return self._links

    @property
    def code_links(self) -> list[Link]:
        return [link for link in self.links if link.is_code]

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

    @property
    def page_description(self) -> str:
        """The page's description for search engines: the abstract's start, or where the paper was seen."""
        if self.description:
            return self.description
        digests = ", ".join(d.isoformat() for d in self.digests)
        return f"A paper from the digests of {digests}." if digests else ""

    def rendered(self) -> PaperTexts:
        """The paper's Markdown as HTML and plain text, rendered now if not yet."""
        if self.texts is None:
            stored = self.shared.stored
            texts = stored(self) if stored is not None else None
            self.texts = texts if texts is not None else render_texts(self.paper, self.shared.markdown)
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
    def also_in(self) -> int:
        """In how many digests besides one (the one a list shows: its date, or the digest page's own)."""
        return max(len(self.digests) - 1, 0)

    @property
    def tag_slugs(self) -> str:
        """The slugs of the paper's tags, space-separated (what a list's tag filter matches)."""
        return " ".join(self.paper.tags)

    @property
    def citation(self) -> bibtex.Citation:
        """What an entry citing the paper says (its BibTeX entry and CSL-JSON item show it)."""
        return self._citation()[0]

    @property
    def bibtex(self) -> str:
        return self._citation()[1]

    def _citation(self) -> tuple[bibtex.Citation, str]:
        # Made once per build: the paper's page and every export that lists it show the same entry.
        if self._cited is None:
            stored = self.shared.stored_citation
            found = stored(self) if stored is not None else None
            self._cited = found if found is not None else cite(self)
        return self._cited

    @property
    def find_links(self) -> list[tuple[str, str]]:
        return urls.find_paper_links(self.title)

    @property
    def arxiv_links(self) -> list[tuple[str, str]]:
        return urls.arxiv_links(self.paper.arxiv) if self.paper.arxiv else []

    @property
    def item_html(self) -> Fragment:
        """The paper as an item of a list (partials/paper_item.html), rendered once per build."""
        if self._item is None:
            maker = self.shared.item
            if maker is None:
                raise RuntimeError("list items are made by the renderer")
            self._item = maker(self)
        return self._item


def cite(view: PaperView) -> tuple[bibtex.Citation, str]:
    """The citation of `view`'s paper and its BibTeX entry, made now (see PaperView.citation)."""
    if view._cited is not None:
        return view._cited
    cited = bibtex.citation(view.paper, url=view.shared.link.absolute(view.path))
    return cited, bibtex.citation_entry(cited)


def render_texts(paper: Any, markdown: MarkdownRenderer) -> PaperTexts:
    abstract, notes = split_body(paper.body)
    abstract = _CONTROL.sub("", abstract)
    text = markdown.text(abstract)
    return PaperTexts(
        abstract_html=markdown.render(abstract),
        notes_html=markdown.render(_CONTROL.sub("", notes)),
        summary=excerpt(text, SUMMARY_CHARS),
        description=excerpt(text, DESCRIPTION_CHARS),
    )


def _front_matter(paper: Any) -> str:
    """Everything a paper's front matter says, as one string (its version of facet "m")."""
    return "\x1f".join(
        (
            paper.title, paper.slug, ",".join(map(str, paper.digests)), ",".join(paper.tags),
            "\x1e".join(paper.links), str(paper.draft), str(paper.status), str(paper.rating),
            str(paper.arxiv), repr(sorted(paper.extra.items(), key=repr)) if paper.extra else "",
            "\x1e".join(paper.authors), str(paper.published), str(paper.doi),
        )
    )  # fmt: skip


@dataclass(slots=True, eq=False)
class TagView(Tracked):
    FACETS: ClassVar[dict[str, str]] = {
        "slug": "m",
        "name": "m",
        "description": "m",
        "path": "m",
        "feed_path": "m",
        "count": "c",
        "papers": "p",
        "chart": "g",
        "chart_narrow": "g",
    }

    slug: str
    name: str
    description: str
    papers: list[PaperView] = field(default_factory=list)
    #: The tag's papers per digest date, oldest date first, every digest of the site included.
    timeline: list[tuple[str, int]] = field(default_factory=list)
    _chart: Markup | None = None
    _chart_narrow: Markup | None = None

    @property
    def dep(self) -> str:
        return "t:" + self.slug

    def version(self, facet: str) -> str:
        if facet == "m":
            return f"{self.slug}\x1f{self.name}\x1f{self.description}"
        if facet == "c":
            return str(len(self.papers))
        if facet == "p":
            return "\x1f".join(p.slug for p in self.papers)
        if facet == "g":
            return repr((self.name, self.timeline))
        return UNKNOWN_FACET

    @property
    def path(self) -> str:
        return urls.tag_path(self.slug)

    @property
    def feed_path(self) -> str:
        return urls.tag_feed_path(self.slug)

    @property
    def count(self) -> int:
        return len(self.papers)

    @property
    def chart(self) -> Markup:
        """The tag's papers per digest as an SVG bar chart, drawn on first use."""
        if self._chart is None:
            self._chart = Markup(charts.tag_timeline(self.name, self.timeline))
        return self._chart

    @property
    def chart_narrow(self) -> Markup:
        """The same chart drawn for a phone's width."""
        if self._chart_narrow is None:
            self._chart_narrow = Markup(charts.tag_timeline(self.name, self.timeline, width=charts.NARROW))
        return self._chart_narrow


@dataclass(frozen=True, slots=True)
class RelatedEntry:
    """A related paper and the terms the two share that weigh most in their similarity ("why related")."""

    paper: PaperView
    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Byline:
    """An author as a paper names them: the name as the paper writes it and the page of the author (both from
    the paper's front matter alone), and the author's view, for what depends on their other papers (the
    spelling most of them use, `author.name`, which search files them under)."""

    name: str
    path: str
    author: AuthorView


@dataclass(slots=True, eq=False)
class AuthorView(Tracked):
    """An author: every paper the build shows that names them (newest digest first, as tag pages list).

    An author is a slug (slugs.author_slug): names that differ only in case, accents or spacing are one
    author, shown under the spelling most of their papers use."""

    FACETS: ClassVar[dict[str, str]] = {
        "slug": "m",
        "name": "m",
        "path": "m",
        "count": "c",
        "papers": "p",
    }

    slug: str
    name: str
    #: The authors index's group (slugs.author_group): a letter, "0-9" or "other".
    group: str
    papers: list[PaperView] = field(default_factory=list)

    @property
    def dep(self) -> str:
        return "a:" + self.slug

    def version(self, facet: str) -> str:
        if facet == "m":
            return f"{self.slug}\x1f{self.name}"
        if facet == "c":
            return str(len(self.papers))
        if facet == "p":
            return "\x1f".join(p.slug for p in self.papers)
        return UNKNOWN_FACET

    @property
    def path(self) -> str:
        return urls.author_path(self.slug)

    @property
    def count(self) -> int:
        return len(self.papers)


@dataclass(slots=True, eq=False)
class DigestView(Tracked):
    FACETS: ClassVar[dict[str, str]] = {
        "date": "m",
        "path": "m",
        "sources": "m",
        "count": "c",
        "papers": "p",
        "newer": "n",
        "older": "n",
        "tag_counts": "t",
    }

    date: date
    papers: list[PaperView]
    sources: list[str]
    newer: DigestView | None = None
    older: DigestView | None = None

    @property
    def dep(self) -> str:
        return "d:" + self.date.isoformat()

    def version(self, facet: str) -> str:
        if facet == "m":
            return "\x1f".join(self.sources)
        if facet == "c":
            return str(len(self.papers))
        if facet == "p":
            return "\x1f".join(p.slug for p in self.papers)
        if facet == "n":
            return f"{self.newer.date if self.newer else ''}|{self.older.date if self.older else ''}"
        if facet == "t":
            return "\x1f".join(f"{tag.slug}:{n}" for tag, n in self.tag_counts)
        return UNKNOWN_FACET

    @property
    def path(self) -> str:
        return urls.digest_path(self.date)

    @property
    def tag_counts(self) -> list[tuple[TagView, int]]:
        """The tags of the digest's papers with how many of them carry each, most papers first (the digest
        page's tag filter; the names are read from each tag's view)."""
        counts = Counter(tag.slug for paper in self.papers for tag in paper.tags)
        tags = {tag.slug: tag for paper in self.papers for tag in paper.tags}
        ranked = sorted(counts.items(), key=lambda item: (-item[1], tags[item[0]].name.casefold(), item[0]))
        return [(tags[slug], n) for slug, n in ranked]

    @property
    def count(self) -> int:
        return len(self.papers)


@dataclass(slots=True, eq=False)
class StatusView(Tracked):
    """The papers a curator gave one status, newest digest first: a section of the reading queue and its
    feed. What a status is called and where it lives follow from the status alone."""

    FACETS: ClassVar[dict[str, str]] = {
        "status": CONSTANT,
        "label": CONSTANT,
        "anchor": CONSTANT,
        "feed_path": CONSTANT,
        "papers": "p",
        "count": "p",
    }

    status: str
    papers: list[PaperView]

    @property
    def dep(self) -> str:
        return "s:" + self.status

    def version(self, facet: str) -> str:
        if facet == "p":
            return "\x1f".join(p.slug for p in self.papers)
        return UNKNOWN_FACET

    @property
    def label(self) -> str:
        return self.status.capitalize()

    @property
    def anchor(self) -> str:
        """The id of its section on the reading page."""
        return self.status

    @property
    def feed_path(self) -> str:
        return urls.status_feed_path(self.status)

    @property
    def count(self) -> int:
        return len(self.papers)


@dataclass(frozen=True, slots=True)
class QueueTag:
    """A tag and the papers of the reading queue that carry it (plain: SiteView's facet "Q" covers it)."""

    tag: TagView
    papers: list[PaperView]


@dataclass(slots=True, eq=False)
class SiteView(Tracked):
    """The site as a whole: every list and count, and the site-wide charts.

    papers: every paper by title. recent: newest digest first, in each digest's own order, then undated
    papers by title. tags: tags with at least one paper, by name. digests: newest first. queue: the reading
    queue, one StatusView per status (always all of them, in STATUSES order); queue_tags: the tags of the
    papers in it, most papers first, each with those papers; queue_papers: the papers
    that have a status, by title (what the reading exports list).
    """

    FACETS: ClassVar[dict[str, str]] = {
        "papers": "P",
        "paper_count": "N",
        "recent": "R",
        "tags": "T",
        "tag_count": "T",
        "tags_by_count": "C",
        "digests": "D",
        "digest_count": "D",
        "latest": "D",
        "queue_papers": "K",
        "rising_chart": "1",
        "tags_chart": "2",
        "digests_chart": "3",
        # (each chart's phone variant: the same data, so the same facet)
        "rising_chart_narrow": "1",
        "tags_chart_narrow": "2",
        "digests_chart_narrow": "3",
        "queue": CONSTANT,  # (always the same StatusViews; what a page reads of each is recorded)
        "queue_tags": "Q",
        "authors": "A",
        "author_count": "U",
    }

    papers: list[PaperView]
    recent: list[PaperView]
    tags: list[TagView]
    digests: list[DigestView]
    by_slug: dict[str, PaperView]
    link: Urls
    #: Every author, by group (letters, then "0-9", then "other") and name.
    authors: list[AuthorView] = field(default_factory=list)
    _charts: dict[str, Markup] = field(default_factory=dict)
    _queue: list[StatusView] | None = None
    _queue_tags: list[QueueTag] | None = None

    @property
    def dep(self) -> str:
        return "site"

    def version(self, facet: str) -> str:
        if facet == "P":
            return text_fingerprint("\x1f".join(p.slug for p in self.papers))
        if facet == "N":
            return str(len(self.papers))
        if facet == "R":
            return text_fingerprint("\x1f".join(p.slug for p in self.recent))
        if facet == "T":
            return "\x1f".join(t.slug for t in self.tags)
        if facet == "C":
            return "\x1f".join(f"{t.slug}:{t.count}" for t in self.tags_by_count)
        if facet == "D":
            return "\x1f".join(d.date.isoformat() for d in self.digests)
        if facet == "K":
            return text_fingerprint("\x1f".join(p.slug for p in self.queue_papers))
        if facet in ("1", "2", "3"):
            return text_fingerprint(self._chart(facet) + self._chart(facet + "n"))
        if facet == "Q":
            return text_fingerprint(
                repr([(group.tag.slug, [p.slug for p in group.papers]) for group in self.queue_tags])
            )
        if facet == "A":
            return text_fingerprint("\x1f".join(f"{a.slug}\x1e{a.name}\x1e{a.count}" for a in self.authors))
        if facet == "U":
            return str(len(self.authors))
        return UNKNOWN_FACET

    @property
    def queue(self) -> list[StatusView]:
        if self._queue is None:
            by_status: dict[str, list[PaperView]] = {status: [] for status in STATUSES}
            for view in self.recent:
                if view.status in by_status:
                    by_status[view.status].append(view)
            self._queue = [StatusView(status, papers) for status, papers in by_status.items()]
        return self._queue

    @property
    def queue_tags(self) -> list[QueueTag]:
        if self._queue_tags is None:
            members: dict[str, list[PaperView]] = {}
            tags: dict[str, TagView] = {}
            for status in self.queue:
                for view in status.papers:
                    for tag in view.tags:
                        tags[tag.slug] = tag
                        members.setdefault(tag.slug, []).append(view)
            order = sorted(members, key=lambda slug: (-len(members[slug]), tags[slug].name.casefold(), slug))
            self._queue_tags = [QueueTag(tags[slug], members[slug]) for slug in order]
        return self._queue_tags

    @property
    def queue_papers(self) -> list[PaperView]:
        return [p for p in self.papers if p.paper.status]

    @property
    def author_count(self) -> int:
        return len(self.authors)

    @property
    def paper_count(self) -> int:
        return len(self.papers)

    @property
    def tag_count(self) -> int:
        return len(self.tags)

    @property
    def digest_count(self) -> int:
        return len(self.digests)

    @property
    def latest(self) -> date | None:
        return self.digests[0].date if self.digests else None

    @property
    def tags_by_count(self) -> list[TagView]:
        return sorted(self.tags, key=lambda t: (-t.count, t.name.casefold()))

    @property
    def rising_chart(self) -> Markup:
        return self._chart("1")

    @property
    def tags_chart(self) -> Markup:
        return self._chart("2")

    @property
    def digests_chart(self) -> Markup:
        return self._chart("3")

    @property
    def rising_chart_narrow(self) -> Markup:
        return self._chart("1n")

    @property
    def tags_chart_narrow(self) -> Markup:
        return self._chart("2n")

    @property
    def digests_chart_narrow(self) -> Markup:
        return self._chart("3n")

    def _chart(self, which: str) -> Markup:
        drawn = self._charts.get(which)
        if drawn is None:
            drawn = self._charts[which] = Markup(self._draw(which))
        return drawn

    def _draw(self, which: str) -> str:
        """Chart "1" (rising tags), "2" (tag sizes) or "3" (papers per digest); with an "n", for a phone."""
        path = self.link.path
        width = charts.NARROW if which.endswith("n") else charts.WIDTH
        which = which[0]
        oldest_first = list(reversed(self.digests))
        if which == "3":
            return charts.papers_per_digest(
                [(d.date.isoformat(), d.count, path(d.path)) for d in oldest_first], width=width
            )
        if which == "2":
            return charts.tag_sizes(
                [(t.name, t.count, path(t.path)) for t in self.tags_by_count], width=width
            )
        dates = [d.date.isoformat() for d in oldest_first]
        by_slug = {t.slug: t for t in self.tags}
        tag_dates = {t.slug: [day for day, n in t.timeline for _ in range(n)] for t in self.tags}
        rows = [
            (by_slug[slug].name, recent, earlier, path(by_slug[slug].path))
            for slug, recent, earlier in charts.rising_tag_rows(tag_dates, dates)
            if slug in by_slug
        ]
        window = charts.rising_window(len(dates))
        return charts.rising_tags(
            rows, recent_digests=window, earlier_digests=len(dates) - window, width=width
        )


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


def paper_view(paper: Any, shared: Shared) -> PaperView:
    """The view of one paper, its tags and related papers not yet attached."""
    return PaperView(
        paper=paper,
        slug=paper.slug,
        title=_CONTROL.sub("", paper.title),
        path=urls.paper_path(paper.slug),
        draft=paper.draft,
        digests=list(paper.digests),
        shared=shared,
        _dep="p:" + paper.slug,
    )


def refresh(view: PaperView, paper: Any, site: SiteView) -> bool:
    """Show `paper`, read anew, through its existing view (same slug, tags the site already has), so that the
    pages that show it can be made again before the site is indexed again (see Builder.preview). False, and
    the view left as it was, when the paper no longer fits it."""
    tags = {tag.slug: tag for tag in site.tags}
    authors = {author.slug: author for author in site.authors}
    names = [author_slug(name) for name in paper.authors]
    if (
        paper.slug != view.slug
        or paper.draft != view.draft
        or any(slug not in tags for slug in paper.tags)
        or any(slug not in authors for slug in names)
    ):
        return False
    fresh = paper_view(paper, view.shared)
    view.paper, view.title, view.digests = fresh.paper, fresh.title, fresh.digests
    view.texts, view._links, view._item, view._cited = None, None, None, None
    view.tags = [tags[slug] for slug in paper.tags]
    view._bylines = [_byline(name, authors[slug]) for name, slug in zip(paper.authors, names, strict=True)]
    return True


def _title_key(view: PaperView) -> tuple[str, str]:
    return view.title.casefold(), view.slug


def build_index(site: Site, shared: Shared, drafts: bool) -> SiteView:
    """Views of the content a build shows; drafts only when `drafts` is set. Nothing is rendered here."""
    papers = [p for p in site.papers if drafts or not p.draft]
    views = [paper_view(paper, shared) for paper in papers]
    by_slug = {v.slug: v for v in views}
    digest_views = _digests(site, views)

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
    dates = [d.date for d in reversed(digest_views)]
    for tag in tags.values():
        per_date = Counter(day for p in tag.papers for day in p.digests)
        tag.timeline = [(day.isoformat(), per_date.get(day, 0)) for day in dates]

    return SiteView(
        papers=sorted(views, key=_title_key),
        recent=recent,
        tags=sorted(tags.values(), key=lambda t: (t.name.casefold(), t.slug)),
        digests=digest_views,
        by_slug=by_slug,
        link=shared.link,
        authors=_authors(recent),
    )


def _authors(recent: list[PaperView]) -> list[AuthorView]:
    """Every author of the papers shown, each with their papers in `recent`'s order, sorted for the index;
    gives each paper view the authors by name its `authors` are made from."""
    spellings: dict[str, Counter[str]] = {}
    slug_of: dict[str, str] = {}  # name as written -> slug (many papers share a name)
    members: dict[str, list[PaperView]] = {}
    for view in recent:
        seen: set[str] = set()
        for name in view.paper.authors:
            slug = slug_of.get(name)
            if slug is None:
                slug = slug_of[name] = author_slug(name)
            spellings.setdefault(slug, Counter())[name] += 1
            if slug not in seen:
                seen.add(slug)
                members.setdefault(slug, []).append(view)
    authors: dict[str, AuthorView] = {}
    for slug, counts in spellings.items():
        # The spelling most papers use; of equals, one with accents ("José" over "Jose"), then the first.
        name = min(counts, key=lambda n: (-counts[n], n.isascii(), n))
        shown = _CONTROL.sub("", name)
        authors[slug] = AuthorView(slug=slug, name=shown, group=author_group(name), papers=members[slug])
    author_of = {name: authors[slug] for name, slug in slug_of.items()}
    for view in recent:
        view._author_of = author_of
    return sorted(authors.values(), key=_author_key)


def _byline(name: str, author: AuthorView) -> Byline:
    return Byline(_CONTROL.sub("", name), author.path, author)


def _author_key(author: AuthorView) -> tuple[int, str, str, str, str]:
    """By group (letters, then digits, then names with no ASCII form), then by name as written, accents
    aside."""
    group = author.group
    rank = 0 if len(group) == 1 else 1 if group == "0-9" else 2
    return rank, group, transliterate(author.name).casefold(), author.name, author.slug


def _digests(site: Site, views: list[PaperView]) -> list[DigestView]:
    """The digests, newest first, each with its papers in the record's order, then those it does not list
    by title."""
    members: dict[date, list[PaperView]] = {}
    for view in views:
        for day in view.digests:
            members.setdefault(day, []).append(view)
    digest_views: list[DigestView] = []
    for day in sorted(members, reverse=True):
        record = site.digests.get(day)
        in_day = {v.slug: v for v in members[day]}
        ordered = [view for slug in (record.order if record else []) if (view := in_day.pop(slug, None))]
        ordered.extend(sorted(in_day.values(), key=_title_key))
        digest_views.append(
            DigestView(date=day, papers=ordered, sources=list(record.sources) if record else [])
        )
    for newer, older in itertools.pairwise(digest_views):
        newer.older, older.newer = older, newer
    return digest_views


def attach_related(shared: Shared, site: SiteView, related: Mapping[str, str]) -> None:
    """Give the papers of `site` (whose views share `shared`) their related papers: `related` maps a slug to
    its list of (slug, shared terms) pairs, most similar first, as one text
    (sitegen.content.related.RelatedIndex.row_texts); papers the build does not show are left out. Each view
    makes its entries when first asked (most builds after an edit show a few)."""
    shared.related_rows, shared.shown = related, site.by_slug
