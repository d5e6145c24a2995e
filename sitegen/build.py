"""`sitegen build`: content in, a static site out.

    load the site -> plan every page -> render everything in memory
    -> (only without errors) write what changed, copy static files, prune stale output -> search index

A Builder lives as long as `sitegen serve` does and keeps what can be reused between rebuilds (the Jinja
environment with its compiled templates, rendered Markdown, hashes of static files, the output manifest); a
one-shot build is one Builder and one build().
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from markupsafe import Markup

from sitegen import bibtex, charts, feeds, related, search, urls
from sitegen.config import SiteConfig, load_config, site_path
from sitegen.errors import Diagnostic, Report, SitegenError
from sitegen.markdown import MarkdownRenderer
from sitegen.model import load_site
from sitegen.output import Artifact, Record, SourceHashes, collect_static, digest, read_manifest, write_output
from sitegen.pages import (
    ChartSet,
    PlannedPage,
    SiteIndex,
    attach_related,
    build_index,
    counts_by_kind,
    plan_pages,
)
from sitegen.render import (
    Helpers,
    PageCache,
    TemplateWatch,
    make_environment,
    render_items,
    render_pages,
    set_chrome,
    set_globals,
    theme_dir,
)
from sitegen.urls import Urls

Progress = Callable[[str, int, int], None]

CACHE_DIR = ".sitegen-cache"  # below the site root; only saves time, safe to delete

# Page kinds in the order the summary names them.
KIND_LABELS = {
    "paper": ("paper", "papers"),
    "tag": ("tag page", "tag pages"),
    "digest": ("digest", "digests"),
    "feed": ("feed", "feeds"),
}


@dataclass(frozen=True, slots=True)
class BuildOptions:
    """What the command line can change. `out` None: the configured output folder; `base_url` None: the
    configured one."""

    out: Path | None = None
    base_url: str | None = None
    drafts: bool = False
    strict: bool = False
    search: bool = True


@dataclass(slots=True)
class BuildResult:
    report: Report
    failed: bool
    out: Path | None = None
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    #: Seconds per stage (load, markdown, related, plan, render, write), for benchmarks and `serve` logs.
    timings: dict[str, float] = field(default_factory=dict)
    #: The Pagefind index made at the end of the build (None with --no-search or a failed build).
    search: search.SearchResult | None = None

    def summary(self) -> str:
        """One line: pages per kind, warnings and seconds."""
        parts = []
        for kind, (one, many) in KIND_LABELS.items():
            n = self.counts.get(kind, 0)
            parts.append(f"{n} {one if n == 1 else many}")
        other = sum(n for kind, n in self.counts.items() if kind not in KIND_LABELS)
        parts.append(f"{other} other {'page' if other == 1 else 'pages'}")
        errors, warnings = len(self.report.errors), len(self.report.warnings)
        problems = f"{warnings} warning{'' if warnings == 1 else 's'}"
        if errors:
            problems = f"{errors} error{'' if errors == 1 else 's'}, " + problems
        if self.failed:
            return f"build failed: {problems}; output left as it was ({self.seconds:.2f} s)"
        changes = f"{len(self.written)} files written, {len(self.removed)} removed"
        indexed = f"; {self.search.pages} pages indexed for search" if self.search else ""
        return f"built {', '.join(parts)}; {problems}; {changes}{indexed} in {self.seconds:.2f} s"


class _Clock:
    def __init__(self) -> None:
        self.started = self._last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps[stage] = round(now - self._last, 4)
        self._last = now

    @property
    def total(self) -> float:
        return time.perf_counter() - self.started


class Builder:
    """Builds one site again and again, reusing what did not change."""

    def __init__(self, root: Path, options: BuildOptions, progress: Progress | None = None):
        self.root = root
        self.options = options
        self.progress = progress
        self._env = None
        self._markdown: MarkdownRenderer | None = None
        self._markdown_key: tuple[bool, str] | None = None
        self._hashes = SourceHashes()
        self._manifest: dict[str, Record] | None = None
        self._manifest_out: Path | None = None
        self._related: related.RelatedIndex | None = None
        self._pages = PageCache()
        self._items = PageCache()
        self._encoded: dict[str, tuple[str, Artifact]] = {}
        self._template_generation = 0

    def build(self, changed: set[Path] | None = None) -> BuildResult:
        """Build the whole site.

        `changed` names the sources that changed since the last build (None: unknown). Every page is planned
        and rendered again anyway (from cached Markdown, compiled templates); only changed files are written.
        """
        clock = _Clock()
        config = self._config()
        out = self._output_folder(config)
        link = Urls(config.base_url)
        report = Report()

        site = load_site(self.root, config, report, drafts=True)
        clock.lap("load")
        markdown = self._markdown_renderer(config, link)
        index = build_index(site, markdown, report, self.options.drafts, self.progress)
        clock.lap("markdown")
        attach_related(index, self._related_papers(index, config))
        clock.lap("related")
        pages = plan_pages(index, config, self._charts(index, link), bibtex.bibtex_entry)
        clock.lap("plan")

        static = collect_static(self._static_folders(config), self._hashes)
        html = self._render(config, link, index, pages, static.assets, report)
        artifacts = self._encode(html)
        artifacts += self._feeds(index, config, link, pages)
        artifacts += _without_collisions(static.artifacts, {a.path for a in artifacts}, report)
        counts = counts_by_kind(pages)
        counts["feed"] = 1 + len(index.tags)
        clock.lap("render")

        if report.has_errors(self.options.strict):
            markdown.next_generation()
            return BuildResult(report, True, out, counts=counts, seconds=clock.total, timings=clock.laps)

        try:
            result = write_output(out, artifacts, self._previous_manifest(out), self.progress)
        except OSError as exc:
            self._manifest = None  # the folder is in an unknown state: trust only its bytes next time
            report.error(exc.filename or out, f"cannot write the output: {exc.strerror or exc}")
            return BuildResult(report, True, out, counts=counts, seconds=clock.total, timings=clock.laps)
        self._manifest, self._manifest_out = result.records, out
        markdown.next_generation()
        self._save_caches()
        clock.lap("write")

        searched = None
        if self.options.search:
            searched = search.index_site(out, base_path=link.base_path)
            clock.lap("search")

        return BuildResult(
            report,
            False,
            out,
            written=result.written,
            removed=result.removed,
            counts=counts,
            seconds=clock.total,
            timings=clock.laps,
            search=searched,
        )

    # --- steps ---------------------------------------------------------------------------------------------

    def _config(self) -> SiteConfig:
        overrides: dict[str, Any] = {}
        if self.options.base_url is not None:
            overrides["base_url"] = self.options.base_url
        return load_config(self.root, overrides)

    def _output_folder(self, config: SiteConfig) -> Path:
        out = (
            self.options.out if self.options.out is not None else site_path(self.root, config.output_dir)
        ).resolve()
        root = self.root.resolve()
        sources = [
            site_path(root, d).resolve()
            for d in (config.content_dir, config.templates_dir, config.static_dir)
        ]
        if (
            out == root
            or out in root.parents
            or any(out == s or s in out.parents or out in s.parents for s in sources)
        ):
            raise SitegenError(
                Diagnostic(
                    str(out),
                    "the output folder must not be the site folder, hold it, or be inside "
                    "content, templates or static: its old files are removed on every build",
                )
            )
        if out.exists() and not out.is_dir():
            raise SitegenError(Diagnostic(str(out), "the output folder is a file"))
        return out

    def _markdown_renderer(self, config: SiteConfig, link: Urls) -> MarkdownRenderer:
        key = (config.allow_html, link.base_path)
        if self._markdown is None or self._markdown_key != key:
            self._markdown = MarkdownRenderer(
                allow_html=config.allow_html, link=link.content_link, heading_base=3
            )
            self._markdown_key = key
        return self._markdown

    def _related_papers(self, index: SiteIndex, config: SiteConfig) -> dict[str, list[str]]:
        """Related papers from an index kept across rebuilds and, between runs, in ROOT/.sitegen-cache:
        after a small edit only what the edit reaches is recomputed."""
        options = related.RelatedOptions(k=config.related_count)
        if self._related is None or self._related.options != options:
            self._related = related.RelatedIndex.load(self._related_cache(), options)
        return self._related.update([view.paper for view in index.papers])

    def _related_cache(self) -> Path:
        return self.root / CACHE_DIR / "related.cache"

    def _save_caches(self) -> None:
        """Caches only save time: a site folder that cannot be written to still builds."""
        if self._related is not None and self._related.dirty:
            try:
                self._related_cache().parent.mkdir(parents=True, exist_ok=True)
                self._related.save(self._related_cache())
            except OSError:
                pass

    def _charts(self, index: SiteIndex, link: Urls) -> ChartSet:
        oldest_first = list(reversed(index.digests))
        dates = [d.date.isoformat() for d in oldest_first]
        tag_dates = {t.slug: [d.isoformat() for p in t.papers for d in p.digests] for t in index.tags}
        by_slug = {t.slug: t for t in index.tags}
        rows = [
            (by_slug[slug].name, recent, earlier, link.path(by_slug[slug].path))
            for slug, recent, earlier in charts.rising_tag_rows(tag_dates, dates)
            if slug in by_slug
        ]
        timelines: dict[str, Markup] = {}
        for tag in index.tags:
            per_date: dict[str, int] = {}
            for iso in tag_dates[tag.slug]:
                per_date[iso] = per_date.get(iso, 0) + 1
            timelines[tag.slug] = Markup(
                charts.tag_timeline(tag.name, [(d, per_date.get(d, 0)) for d in dates])
            )
        return ChartSet(
            rising=Markup(charts.rising_tags(rows)),
            per_digest=Markup(
                charts.papers_per_digest(
                    [(d.date.isoformat(), d.count, link.path(d.path)) for d in oldest_first]
                )
            ),
            tag_sizes=Markup(
                charts.tag_sizes([(t.name, t.count, link.path(t.path)) for t in index.tags_by_count])
            ),
            timelines=timelines,
        )

    def _static_folders(self, config: SiteConfig) -> list[Path]:
        return [site_path(self.root, config.static_dir), theme_dir("static")]

    def _environment(self, config: SiteConfig):
        templates = site_path(self.root, config.templates_dir).resolve()
        if self._env is None or self._env[0] != templates:
            self._env = (
                templates,
                make_environment(templates),
                TemplateWatch([templates, theme_dir("templates")]),
            )
            self._env[2].changed()
            self._template_generation += 1
        elif self._env[2].changed():
            self._env[1].cache.clear()
            self._template_generation += 1
        return self._env[1]

    def _render(
        self,
        config: SiteConfig,
        link: Urls,
        index: SiteIndex,
        pages: list[PlannedPage],
        assets: dict[str, str],
        report: Report,
    ) -> dict[str, str]:
        """HTML of every page: shared chrome once, each paper's list item once, then the pages; items and
        pages whose inputs did not change since the last build come from the caches."""
        env = self._environment(config)
        helpers = Helpers(url=link.path, abs_url=link.absolute, assets=assets)
        set_globals(env, self._common_context(config, helpers, index))
        set_chrome(env, report)
        globals_key = self._globals_key(env, config, assets)
        self._items.begin(globals_key)
        render_items(env, "partials/paper_item.html", index.papers, report, self._items)
        self._items.keep_only({v.slug for v in index.papers})
        self._pages.begin(globals_key)
        html = render_pages(env, pages, report, len(pages), self.progress, self._pages)
        self._pages.keep_only(set(html))
        return html

    def _globals_key(self, env: Any, config: SiteConfig, assets: dict[str, str]) -> tuple[Any, ...]:
        """What every page depends on besides its own content: settings, templates, assets, site totals."""
        shared = tuple(
            (name, value)
            for name, value in sorted(env.globals.items())
            if isinstance(value, str | int | bool | float) or value is None or isinstance(value, date)
        )
        return (config, self._template_generation, tuple(sorted(assets.items())), self.options.drafts, shared)

    def _common_context(self, config: SiteConfig, helpers: Helpers, index: SiteIndex) -> dict[str, Any]:
        return {
            "config": config,
            "url": helpers.url,
            "abs_url": helpers.abs_url,
            "asset": helpers.asset,
            "drafts": self.options.drafts,
            "site_latest": index.latest_date,
            "paper_count": len(index.papers),
            "digest_count": len(index.digests),
        }

    def _feeds(
        self, index: SiteIndex, config: SiteConfig, link: Urls, pages: list[PlannedPage]
    ) -> list[Artifact]:
        """Feeds, sitemap and robots.txt; drafts never appear in them, even in a build with drafts."""
        limit = config.feed_limit
        public = [p for p in index.recent if not p.draft]
        files: dict[str, bytes] = {}
        site_info = feeds.FeedInfo(
            config.title, config.description, config.author, config.language, urls.FEED, urls.HOME
        )
        files[urls.FEED] = feeds.atom_feed(site_info, public[:limit], link)
        for tag in index.tags:
            info = feeds.tag_feed_info(tag, config.title, config.author, config.language)
            files[tag.feed_path] = feeds.atom_feed(info, [p for p in tag.papers if not p.draft][:limit], link)
        files.update(feeds.sitemaps(_sitemap_entries(index, pages), link))
        files[urls.ROBOTS] = feeds.robots_txt(link)
        return [Artifact(path, digest(data), data=data) for path, data in files.items()]

    def _encode(self, html: dict[str, str]) -> list[Artifact]:
        """Pages as UTF-8 artifacts with content hashes; a page reused from the page cache (the very same
        string as last time) reuses its bytes and hash too."""
        previous, self._encoded = self._encoded, {}
        artifacts = []
        for path, text in html.items():
            known = previous.get(path)
            if known is not None and known[0] is text:
                artifact = known[1]
            else:
                data = text.encode("utf-8")
                artifact = Artifact(urls.output_file(path), digest(data), data=data)
            self._encoded[path] = (text, artifact)
            artifacts.append(artifact)
        return artifacts

    def _previous_manifest(self, out: Path) -> dict[str, Record]:
        if self._manifest is None or self._manifest_out != out:
            return read_manifest(out)
        return self._manifest


def _sitemap_entries(index: SiteIndex, pages: list[PlannedPage]) -> list[tuple[str, date | None]]:
    """Every indexable page with the date it last changed (its newest digest); drafts and 404 left out."""
    latest = index.latest_date
    entries: list[tuple[str, Any]] = []
    for page in pages:
        meta = page.context["page"]
        if meta.noindex or page.kind in ("404", "search"):
            continue
        if page.kind == "paper":
            day = page.context["paper"].latest
        elif page.kind == "tag":
            day = max((p.latest for p in page.context["papers"] if p.latest and not p.draft), default=None)
        elif page.kind == "digest":
            day = page.context["digest"].date
        else:
            day = latest
        entries.append((page.path, day))
    return entries


def _without_collisions(static: list[Artifact], generated: set[str], report: Report) -> list[Artifact]:
    kept = []
    for artifact in static:
        if artifact.path in generated:
            report.warning(
                artifact.source or artifact.path, f"static file ignored: sitegen writes {artifact.path}"
            )
        else:
            kept.append(artifact)
    return kept


def build_site(root: Path, options: BuildOptions, progress: Progress | None = None) -> BuildResult:
    """One build of the site at `root`."""
    return Builder(root, options, progress).build()
