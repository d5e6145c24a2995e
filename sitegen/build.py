"""`sitegen build`: content in, a static site out.

    load the site -> plan every page, each with a key of what it shows
    -> render the pages whose key changed (or whose file was touched), staging their files
    -> (only without errors) move the staged files into place, prune stale output -> search index

A Builder lives as long as `sitegen serve` does and keeps what can be reused between rebuilds (the loaded
content, the Jinja environment with its compiled templates, rendered Markdown and list items, related papers,
hashes of static files, the output manifest). A one-shot build is one Builder and one build(); it finds what
an earlier run left in ROOT/.sitegen-cache (loaded content, related papers) and, in the output folder's
manifest, the key each file was made from, so that a build with nothing changed renders and writes nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import marshal
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from markupsafe import Markup

from sitegen import bibtex, charts, feeds, native, output, parallel, urls
from sitegen.cache import CACHE_DIR, CacheFolder, code_fingerprint, files_stamp, scan, shard_of
from sitegen.config import CONFIG_NAME, SiteConfig, load_config, site_path
from sitegen.errors import Diagnostic, Report, SitegenError, plural
from sitegen.markdown import MarkdownRenderer
from sitegen.model import RACY_NS, Identity, LoadCache, Paper, Site, identity, load_site
from sitegen.output import Artifact, Record, SourceHashes, Staging, collect_static, load_manifest
from sitegen.pages import (
    ChartSet,
    PaperView,
    PlannedPage,
    SiteIndex,
    attach_related,
    build_index,
    counts_by_kind,
    paper_page_key,
    plan_pages,
)
from sitegen.render import (
    Helpers,
    PageCache,
    make_environment,
    prepare_papers,
    render_pages,
    set_chrome,
    set_globals,
    template_closure,
    templates_digest,
    theme_dir,
)
from sitegen.sources import open_regular
from sitegen.urls import Urls
from sitegen.validate import check_site_files

if TYPE_CHECKING:
    from sitegen import related, search

Progress = Callable[[str, int, int], None]

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
    #: HTML pages rendered; the others were made from the same inputs by an earlier build and kept as is.
    rendered: int = 0
    #: A build without the search step removed the index of an earlier build: its paper pages changed.
    search_removed: bool = False

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
        changes = f"{plural(len(self.written), 'file')} written, {len(self.removed)} removed"
        indexed = f"; {plural(self.search.pages, 'page')} indexed for search" if self.search else ""
        if self.search_removed:
            indexed = "; the old search index was removed (paper pages changed; build without --no-search)"
        return f"built {', '.join(parts)}; {problems}; {changes}{indexed} in {self.seconds:.2f} s"


class _Clock:
    def __init__(self) -> None:
        self.started = self._last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps[stage] = round(self.laps.get(stage, 0.0) + now - self._last, 4)
        self._last = now

    @property
    def total(self) -> float:
        return time.perf_counter() - self.started


class Builder:
    """Builds one site again and again, reusing what did not change."""

    def __init__(
        self,
        root: Path,
        options: BuildOptions,
        progress: Progress | None = None,
        write_guard: Callable[[], AbstractContextManager[Any]] | None = None,
    ):
        self.root = root
        self.options = options
        self.progress = progress
        #: Held while the output folder is changed (the commit of a build): `serve` passes its lock's writer
        #: side, so that requests wait for a consistent folder but not for the rendering.
        self.write_guard = write_guard
        self._templates: _Templates | None = None
        self._markdown: MarkdownRenderer | None = None
        self._markdown_key: tuple[bool, str] | None = None
        self._hashes = SourceHashes()
        self._manifest: dict[str, Record] | None = None
        self._manifest_build: dict[str, Any] = {}
        self._manifest_out: Path | None = None
        self._related: related.RelatedIndex | None = None
        self._items = PageCache()
        self._loaded: LoadCache | None = None
        self._cache = CacheFolder(root)
        #: A one-shot command's list of objects to leave alive: the process ends right after the build, and
        #: freeing a large site's papers, views and pages one by one takes ~50 ms at 10,000 papers.
        self.retained: list[object] | None = None
        self._builds = 0
        self._swept = False  # whether this Builder removed what killed runs left (see _remove_leftovers)
        self._held: Staging | None = None  # a build's commit, held until its search step is done
        self._reads_unsaved = 0
        self._rendered = 0

    def build(self, changed: set[Path] | None = None) -> BuildResult:
        """Build the whole site, making again only what changed.

        `changed` names the sources that changed since the last build of this Builder (None: unknown, look at
        everything); content files it does not name are then not even looked at.
        """
        clock = _Clock()
        jobs: list[parallel.Job[Any]] = []
        self._held = None
        try:
            result, out, base_path = self._build(changed, clock, jobs)
        finally:
            for job in jobs:
                job.wait()
        # (sitegen.search and sitegen.related are imported where used: a small rebuild may need neither)
        if self.options.search and not result.failed:
            from sitegen import search

            # The search step is part of the build: if it fails, so does the build, and the files it wrote
            # are taken back (the commit is held until then; the old index stays unless a new one is made).
            held, self._held = self._held, None
            try:
                result.search = search.index_site(out, base_path=base_path)
            except BaseException:
                if held is not None:
                    self._manifest = None
                    with self.write_guard() if self.write_guard is not None else contextlib.nullcontext():
                        held.roll_back()
                raise
            if held is not None:
                held.finish()
            clock.lap("search")
            result.seconds, result.timings = clock.total, clock.laps
        elif not result.failed and _papers_changed(result):
            from sitegen import search

            # Without the search step an older index would still find pages that changed or are gone.
            result.search_removed = search.remove_index(out)
        return result

    def _build(
        self, changed: set[Path] | None, clock: _Clock, jobs: list[parallel.Job[Any]]
    ) -> tuple[BuildResult, Path, str]:
        config = self._config()
        out = self._output_folder(config)
        link = Urls(config.base_url)
        report = Report()
        if not self._swept:
            self._swept = True
            _remove_leftovers(self.root / CACHE_DIR, out)

        def failed() -> tuple[BuildResult, Path, str]:
            result = BuildResult(report, True, out, counts=counts, seconds=clock.total, timings=clock.laps)
            return result, out, ""

        # What the inputs are now is found out in another process (for a large site) while this one reads its
        # cache. If nothing changed since the last build into this folder (no input file, setting, option or
        # code) and its files are as it left them, there is nothing to do.
        # (The scan starts from the manifest's notes alone; its records are read meanwhile.)
        notes = self._previous_notes(out)
        racy_then = _racy_note(notes)
        scanning = parallel.start(functools.partial(self._inputs, config, racy_then), _files_noted(notes))
        jobs.append(scanning)
        previous, noted = self._previous_manifest(out)
        cache = self._load_cache()
        inputs = scanning.result()
        identities = inputs.identities
        same = inputs.stamp and noted.get("inputs") == inputs.stamp and inputs.racy_then == _racy_note(noted)
        if same and not output.touched(out, previous):
            result = _as_left(out, noted, report)
            if result is not None:
                clock.lap("load")
                result.seconds, result.timings = clock.total, clock.laps
                return result, out, link.base_path

        # Whether the files of the last build are as it left them, found out in another process meanwhile.
        checking = parallel.start(functools.partial(output.touched, out, previous), len(previous))
        jobs.append(checking)
        counts: dict[str, int] = {}
        self._rendered = 0
        site = load_site(
            self.root,
            config,
            report,
            drafts=True,
            cache=cache,
            changed=changed if self._builds else None,
            identities=identities,
        )
        self._builds += 1
        related_lists = self._related_job(site, config)
        jobs.append(related_lists)
        markdown = self._markdown_renderer(config, link)
        index = build_index(site, markdown, self.options.drafts)
        templates = self._environment(config)
        env = templates.env
        compiled = check_site_files(self.root, config, env, report)  # (as `check` does)
        static = collect_static(self._static_folders(config), self._hashes)
        # Pages link to the same few thousand addresses again and again: each is worked out once.
        url, abs_url = functools.cache(link.path), functools.cache(link.absolute)
        helpers = Helpers(url=url, abs_url=abs_url, assets=static.assets)
        set_globals(env, self._common_context(config, helpers, index))
        if compiled:  # (otherwise the build fails below, and the partials' errors are already reported)
            set_chrome(env, report)
        site_stamp = self._site_stamp(env, config, static.assets, templates)
        clock.lap("load")
        if report.has_errors(self.options.strict):
            # Content that does not load or templates that do not compile: nothing worth rendering.
            self._save_caches()
            return failed()

        content = None
        if templates.site_names:
            # The site's own templates may show anything, related papers included, on any page: the keys of
            # the pages they make cover all the content (see _strengthen_keys).
            attach_related(index, related_lists.result())
            clock.lap("related")
            content = _content_hash(index)
        natives = templates.natives()
        items_key = (site_stamp, content if content and templates.is_custom(ITEM_TEMPLATE) else None)
        self._items.begin(items_key, functools.partial(self._cache.load_sharded, "items"))

        def reserved() -> int:
            """Cores the related papers keep busy: the work that runs beside them leaves them one, as it is
            what the paper pages wait for."""
            return 1 if related_lists.running else 0

        if not any(r.key.startswith(site_stamp) for r in previous.values()):
            # Every page is made (a first build, or a change every page shows): the Markdown and list item
            # of every paper now, shared among processes, while related papers are computed in another.
            prepare_papers(
                env, ITEM_TEMPLATE, index.papers, index.papers, report, self._items, natives, reserved()
            )
            clock.lap("markdown")

        def entry(view: PaperView) -> str:
            return bibtex.bibtex_entry(view.paper, url=link.absolute(view.path))

        pages = plan_pages(index, config, self._charts(index, link), entry, paper_keys=False)
        counts = counts_by_kind(pages)
        counts["feed"] = 1 + len(index.tags)
        # (`serve` reads the folder while this builds: there every new file is staged too.)
        staging = Staging(out, previous, noted, in_place=self.write_guard is None, touched=checking.result)
        make = functools.partial(
            self._make, env, templates, natives, content, staging, site_stamp, report, clock
        )
        try:
            staging.expect(urls.output_file(page.path) for page in pages)
            # Lists first: they do not show related papers, which may still be on their way.
            done = make([p for p in pages if p.kind != "paper"], 0, len(pages), reserved())
            generated = {urls.output_file(page.path) for page in pages}
            generated |= self._feeds(index, config, link, pages, staging, site_stamp)
            if not templates.site_names:
                attach_related(index, related_lists.result())
                clock.lap("related")
            papers = [p for p in pages if p.kind == "paper"]
            for page in papers:
                page.key = paper_page_key(page.paper)  # type: ignore[arg-type]
            make(papers, done, len(pages))
            for artifact in _without_collisions(static.artifacts, generated, report):
                staging.add(artifact)
            clock.lap("render")
        except OSError as exc:
            # A full disk, a read-only folder: nothing of this build stays in the output folder.
            staging.discard()
            report.error(exc.filename or out, exc.strerror or str(exc))
            return failed()
        except BaseException:
            staging.discard()
            raise
        self._items.keep_only({v.slug for v in index.papers})
        if self.progress:
            self.progress("render", len(pages), len(pages))

        markdown.next_generation()
        # The caches are written by a forked process (when this one may fork) while this one commits.
        saving = parallel.start(self._save_caches, len(index.papers))
        jobs.append(saving)
        if report.has_errors(self.options.strict):
            staging.discard()
            saving.result()
            return failed()
        try:
            noting = {
                "inputs": inputs.stamp,
                "racy": list(inputs.racy_now),
                "counts": counts,
                "diagnostics": [dataclasses.astuple(d) for d in report.diagnostics],
            }
            with self.write_guard() if self.write_guard is not None else contextlib.nullcontext():
                written = staging.commit(self.progress, noting, hold=self.options.search)
            if self.options.search:
                self._held = staging  # until the search step is done (see build)
        except OSError as exc:
            # The commit undid what it had changed; the records are read again from the folder all the same.
            self._manifest = None
            report.error(exc.filename or out, exc.strerror or str(exc))
            return failed()
        finally:
            saving.result()
        self._manifest, self._manifest_build, self._manifest_out = written.records, noting, out
        clock.lap("write")
        if self.retained is not None:
            self.retained.append((site, index, pages, staging, written, related_lists))
        result = BuildResult(
            report,
            False,
            out,
            written=written.written,
            removed=written.removed,
            counts=counts,
            seconds=clock.total,
            timings=clock.laps,
            rendered=self._rendered,
        )
        return result, out, link.base_path

    def _make(
        self,
        env: Any,
        templates: _Templates,
        natives: dict[str, native.NativeTemplate],
        content: str | None,
        staging: Staging,
        site_stamp: str,
        report: Report,
        clock: _Clock,
        pages: list[PlannedPage],
        done: int,
        total: int,
        reserved: int = 0,
    ) -> int:
        """Stage `pages`: those whose key and file are unchanged since the last build are kept as they are,
        the others rendered (their Markdown and list items first). Returns `done` plus the pages handled.
        `reserved`: cores that other work keeps busy (see prepare_papers)."""
        if content is not None:
            _strengthen_keys(pages, content, templates)
        stamps = {page.path: _stamp(site_stamp, page.key) for page in pages if page.key is not None}
        todo: list[PlannedPage] = []
        for page in pages:
            file = urls.output_file(page.path)
            stamp = stamps.get(page.path)
            record = staging.intact(file, stamp) if stamp else None
            if record is not None:
                staging.keep(file, record)
            else:
                todo.append(page)
        clock.lap("plan")
        shown = [page.paper for page in todo if page.paper is not None]
        listed = list({id(v): v for page in todo for v in page.items}.values())
        prepare_papers(env, ITEM_TEMPLATE, shown, listed, report, self._items, natives, reserved)
        clock.lap("markdown")
        skipped = done + len(pages) - len(todo)
        render_pages(env, todo, staging, stamps, report, self.progress, skipped, total, natives, reserved)
        self._rendered += len(todo)
        clock.lap("render")
        return done + len(pages)

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

    def _load_cache(self) -> LoadCache:
        if self._loaded is None:
            self._cache.sweep()  # once per Builder: what killed builds left
            self._loaded = LoadCache.from_data(self._cache.load_sharded("content"))
        self._loaded.begin()
        return self._loaded

    def _markdown_renderer(self, config: SiteConfig, link: Urls) -> MarkdownRenderer:
        key = (config.allow_html, link.base_path)
        if self._markdown is None or self._markdown_key != key:
            self._markdown = MarkdownRenderer(
                allow_html=config.allow_html, link=link.content_link, heading_base=3
            )
            self._markdown_key = key
        return self._markdown

    def _related_papers(self, papers: list[Paper], config: SiteConfig) -> dict[str, list[str]]:
        """Related papers from an index kept across rebuilds and, between runs, in ROOT/.sitegen-cache:
        after a small edit only what the edit reaches is recomputed."""
        from sitegen import related

        options = related.RelatedOptions(k=config.related_count)
        if self._related is None or self._related.options != options:
            self._related = related.RelatedIndex.load(self._related_cache(), options)
        return self._related.update(papers)

    def _related_job(self, site: Site, config: SiteConfig) -> parallel.Job[dict[str, list[str]]]:
        """Related papers of the papers the build shows, computed in a forked process when this one may fork
        (a one-shot build): it then saves the updated index itself, while this process goes on with
        everything that does not show related papers."""
        papers = [p for p in site.papers if self.options.drafts or not p.draft]
        compute = functools.partial(self._related_papers, papers, config)
        job = parallel.start(compute, len(papers), after=self._save_related)
        if job.forked:
            self._related = None  # the child holds the updated index
        return job

    def _related_cache(self) -> Path:
        return self.root / CACHE_DIR / "related.cache"

    def _save_caches(self) -> None:
        """Caches only save time: a site folder that cannot be written to still builds. Only the shards that
        hold changed entries are written. Within `serve` (the later builds of a Builder), where everything is
        in memory anyway, they are written only once enough changed to make that worth its time: until then
        a new `sitegen build` run redoes a little more."""
        loaded, items = self._loaded, self._items
        if loaded is not None:
            self._reads_unsaved += loaded.reads
        pending = self._reads_unsaved + (SAVE_AFTER_READS if items.changed is None else len(items.changed))
        if self._builds > 1 and pending < SAVE_AFTER_READS:
            return
        self._reads_unsaved = 0
        self._save_related()
        if loaded is not None and loaded.changed:
            shards = {shard_of(name) for name in loaded.changed}
            data = loaded.to_data(lambda name: shard_of(name) in shards)
            if self._cache.save_sharded("content", data, shards):
                loaded.changed = set()
        if items.globals_key is not None and (items.changed is None or items.changed):
            shards = None if items.changed is None else {shard_of(name) for name in items.changed}
            data = items.to_data(None if shards is None else lambda name: shard_of(name) in shards)
            if self._cache.save_sharded("items", data, shards, items.globals_key):
                items.changed = set()

    def _save_related(self) -> None:
        if self._related is not None and self._related.dirty:
            try:
                self._related_cache().parent.mkdir(parents=True, exist_ok=True)
                self._related.save(self._related_cache())
            except OSError:
                pass

    def _charts(self, index: SiteIndex, link: Urls) -> ChartSet:
        oldest_first = list(reversed(index.digests))
        dates = [d.date.isoformat() for d in oldest_first]
        iso = {d.date: text for d, text in zip(oldest_first, dates, strict=True)}  # every date a paper shows
        tag_dates = {t.slug: [iso[day] for p in t.papers for day in p.digests] for t in index.tags}
        by_slug = {t.slug: t for t in index.tags}
        rows = [
            (by_slug[slug].name, recent, earlier, link.path(by_slug[slug].path))
            for slug, recent, earlier in charts.rising_tag_rows(tag_dates, dates)
            if slug in by_slug
        ]
        window = charts.rising_window(len(dates))
        # A tag's timeline is drawn when a page shows it: after a small edit, few tag pages are made again.
        makers: dict[str, Callable[[], Markup]] = {}
        keys: dict[str, Any] = {}
        all_dates = _hash(repr(dates))
        for tag in index.tags:
            per_date = Counter(tag_dates[tag.slug])
            makers[tag.slug] = functools.partial(_timeline, tag.name, dates, per_date)
            keys[tag.slug] = (tag.name, all_dates, sorted(per_date.items()))
        return ChartSet(
            rising=Markup(
                charts.rising_tags(rows, recent_digests=window, earlier_digests=len(dates) - window)
            ),
            per_digest=Markup(
                charts.papers_per_digest(
                    [(d.date.isoformat(), d.count, link.path(d.path)) for d in oldest_first]
                )
            ),
            tag_sizes=Markup(
                charts.tag_sizes([(t.name, t.count, link.path(t.path)) for t in index.tags_by_count])
            ),
            timelines=_Drawn(makers),
            timeline_keys=keys,
        )

    def _static_folders(self, config: SiteConfig) -> list[Path]:
        return [site_path(self.root, config.static_dir), theme_dir("static")]

    def _environment(self, config: SiteConfig) -> _Templates:
        """The Jinja environment, kept while the template folders stay the same; its compiled templates are
        dropped when any template file changed (compared by content, not by time)."""
        folder = site_path(self.root, config.templates_dir).resolve()
        digest_, site_names = templates_digest(folder, theme_dir("templates"))
        current = self._templates
        if current is None or current.folder != folder:
            env = make_environment(folder, compiled=self._cache)
            current = self._templates = _Templates(folder, env, digest_, site_names)
        elif current.digest != digest_:
            current.env.cache.clear()
            current.digest, current.site_names, current.custom = digest_, site_names, {}
        return current

    def _site_stamp(self, env: Any, config: SiteConfig, assets: dict[str, str], templates: _Templates) -> str:
        """A short hash of what every page depends on besides its own content: sitegen's code, the
        templates, settings, options, static assets and the site-wide values pages print (totals, dates)."""
        shared = tuple(
            (name, value)
            for name, value in sorted(env.globals.items())
            if isinstance(value, str | int | bool | float) or value is None or isinstance(value, date)
        )
        what = (
            code_fingerprint(),
            templates.digest,
            repr(config),
            self.options.drafts,
            tuple(sorted(assets.items())),
            shared,
        )
        return _hash(repr(what))[:STAMP_PREFIX]

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
        self,
        index: SiteIndex,
        config: SiteConfig,
        link: Urls,
        pages: list[PlannedPage],
        staging: Staging,
        site_stamp: str,
    ) -> set[str]:
        """Stage the feeds, sitemap and robots.txt; returns their paths. Drafts never appear in them, even in
        a build with drafts. A feed whose entries did not change is not made again."""
        limit = config.feed_limit
        public = [p for p in index.recent if not p.draft]
        info = feeds.FeedInfo(
            config.title, config.description, config.author, config.language, urls.FEED, urls.HOME
        )
        all_feeds = [(info, public[:limit])]
        for tag in index.tags:
            tag_info = feeds.tag_feed_info(tag, config.title, config.author, config.language)
            all_feeds.append((tag_info, [p for p in tag.papers if not p.draft][:limit]))
        paths: set[str] = set()
        for feed_info, entries in all_feeds:
            path = feed_info.self_path
            stamp = _stamp(site_stamp, ("feed", repr(feed_info), tuple(p.item_key for p in entries)))
            paths.add(path)
            record = staging.intact(path, stamp)
            if record is not None:
                staging.keep(path, record)
            else:
                staging.put(path, feeds.atom_feed(feed_info, entries, link), stamp)
        # The sitemap (one file, or an index and its parts at 50,000 pages) as a whole, keyed by its entries.
        entries = [(page.path, page.lastmod) for page in pages if page.in_sitemap]
        stamp = _stamp(site_stamp, ("sitemap", [(path, str(day)) for path, day in entries]))
        parts = sorted(path for path, record in staging.previous.items() if record.key == stamp)
        records = [staging.intact(path, stamp) for path in parts]
        if urls.SITEMAP in parts and all(records):
            for path, record in zip(parts, records, strict=True):
                staging.keep(path, record)  # type: ignore[arg-type]
        else:
            files = feeds.sitemaps(entries, link)
            for path, data in files.items():
                staging.put(path, data, stamp)
            parts = list(files)
        paths.update(parts)
        staging.put(urls.ROBOTS, feeds.robots_txt(link))
        paths.add(urls.ROBOTS)
        return paths

    def _previous_notes(self, out: Path) -> dict[str, Any]:
        if self._manifest is None or self._manifest_out != out:
            return output.load_manifest_notes(out)
        return self._manifest_build

    def _previous_manifest(self, out: Path) -> tuple[dict[str, Record], dict[str, Any]]:
        if self._manifest is None or self._manifest_out != out:
            return load_manifest(out)
        return self._manifest, self._manifest_build

    def _inputs(self, config: SiteConfig, racy_then: tuple[int, str] | None) -> _Inputs:
        """A hash of everything a build reads: every file of the content, template and static folders (the
        site's and the theme's) and the settings file, by name and identity; settings, options, code.

        A file changed so recently that it may change again without its identity changing (git's "racy"
        files) is vouched for by a hash of its bytes. `racy_now` of the result: the time from which a file
        counts as racy now, and the hash of the names and bytes of those files (the manifest notes both).
        `racy_then`: the same as noted by the last build, hashed again now (None: more files than MAX_RACY
        to look at). More than MAX_RACY racy files (a site just imported) give an empty stamp: the next
        build looks at everything.
        """
        content = site_path(self.root, config.content_dir)
        folders = [
            content,
            site_path(self.root, config.templates_dir),
            site_path(self.root, config.static_dir),
            theme_dir("templates"),
            theme_dir("static"),
            self.root / CONFIG_NAME,
        ]
        scans = [scan(folder) for folder in folders]
        since_now = time.time_ns() - RACY_NS
        since_then = racy_then[0] if racy_then else since_now
        files, recent = files_stamp(scans, min(since_now, since_then))
        prefix = os.path.join(content, "")
        identities = {prefix + rel: identity(st) for rel, st in scans[0]}
        now = [item for item in recent if item[2] >= since_now]
        if len(now) > MAX_RACY:
            return _Inputs("", (since_now, ""), None, identities)
        then = [item for item in recent if item[2] >= since_then] if racy_then else []
        digests: dict[str, str] = {}

        def vouch(files: list[tuple[int, str, int]]) -> str:
            """A hash of the names and bytes of `files`."""
            h = hashlib.blake2b(digest_size=16)
            for number, rel, _mtime in sorted(files):
                path = os.path.join(folders[number], rel) if rel else str(folders[number])
                if path not in digests:
                    digests[path] = _file_digest(path)
                h.update(f"{number}:{rel}:{digests[path]}\n".encode("utf-8", "surrogateescape"))
            return h.hexdigest()

        options = (self.options.base_url, self.options.drafts, self.options.strict)
        what = (files, code_fingerprint(), repr(config), options, os.path.abspath(self.root))
        vouched = (since_then, vouch(then)) if racy_then and len(then) <= MAX_RACY else None
        return _Inputs(_hash(repr(what)), (since_now, vouch(now)), vouched, identities)


ITEM_TEMPLATE = "partials/paper_item.html"
# More files than this changed within RACY_NS of a build (an import, a checkout): they are not hashed for the
# next build's no-change test, which then looks at everything.
MAX_RACY = 100
STAMP_PREFIX = 16  # characters of the site-wide stamp that start every page's stamp in the manifest
SAVE_AFTER_READS = 200  # see Builder._save_caches


class _Templates:
    """The Jinja environment of a Builder, a hash of every template file, and which templates come from the
    site's own folder (a page template counts as the site's when it, or a template it uses, does)."""

    def __init__(self, folder: Path, env: Any, digest_: str, site_names: frozenset[str]):
        self.folder = folder
        self.env = env
        self.digest = digest_
        self.site_names = site_names
        self.custom: dict[str, bool] = {}

    def is_custom(self, name: str) -> bool:
        if not self.site_names:
            return False  # (without parsing the templates, as every build would)
        known = self.custom.get(name)
        if known is None:
            closure = template_closure(self.env, name)
            known = self.custom[name] = closure is None or bool(closure & self.site_names)
        return known

    def natives(self) -> dict[str, native.NativeTemplate]:
        """What stands in for the built-in templates that sitegen.native renders, unless the site overrides
        them (or a template they use)."""
        return {
            name: native.NativeTemplate(fn, self.env.globals)
            for name, fn in native.FUNCTIONS.items()
            if not self.is_custom(name)
        }


class _Inputs(NamedTuple):
    """What Builder._inputs finds: the stamp of the inputs; the racy files' hash as of now and as of the last
    build (see Builder._inputs); the identity of each content file (so that loading need not look again)."""

    stamp: str
    racy_now: tuple[int, str]
    racy_then: tuple[int, str] | None
    identities: dict[str, Identity]


def _files_noted(noted: dict[str, Any]) -> int:
    """How many pages the last build made, as its notes count them (0 if they do not say)."""
    counts = noted.get("counts")
    if not isinstance(counts, dict):
        return 0
    return sum(n for n in counts.values() if isinstance(n, int))


def _racy_note(noted: dict[str, Any]) -> tuple[int, str] | None:
    """The time from which files counted as racy at the last build, and their hash, as its manifest noted."""
    racy = noted.get("racy")
    if isinstance(racy, list) and len(racy) == 2 and isinstance(racy[0], int) and isinstance(racy[1], str):
        return racy[0], racy[1]
    return None


def _file_digest(path: str) -> str:
    """A hash of a file's bytes; "" if it cannot be read (it then matches no earlier hash)."""
    try:
        # (Not a FIFO or a device, whose reading may never end: the build reports them when it reads them.)
        with open_regular(path) as (fd, _st), open(fd, "rb", closefd=False) as file:
            return output.digest(file.read())
    except OSError:
        return ""


def _as_left(out: Path, noted: dict[str, Any], report: Report) -> BuildResult | None:
    """The result of a build that has nothing to do (every file of the last build is as it left it): the
    last build's diagnostics and counts, nothing written; None if they cannot be read back."""
    try:
        diagnostics = [_noted_diagnostic(row) for row in noted.get("diagnostics", [])]
        counts = {str(k): int(v) for k, v in noted.get("counts", {}).items()}
    except (TypeError, ValueError, AttributeError):
        return None
    report.diagnostics.extend(diagnostics)
    return BuildResult(report, False, out, counts=counts)


def _noted_diagnostic(row: Any) -> Diagnostic:
    """A diagnostic as the manifest notes it; ValueError if it is not one (a damaged or edited manifest)."""
    path, message, line, col, severity = row
    if not (
        type(path) is str
        and type(message) is str
        and type(line) is int
        and type(col) is int
        and severity in ("error", "warning")
        and "\0" not in path
    ):
        raise ValueError("not a diagnostic")
    return Diagnostic(path, message, line, col, severity)


def _remove_leftovers(cache: Path, out: Path) -> None:
    """What killed runs left: temporary files in the cache folder and its subfolders, staging folders and
    temporary files in the output folder (see output.remove_leftovers; those of live processes stay)."""
    output.remove_leftovers(out)
    output.remove_leftovers(cache, any_temp=True)
    try:
        with os.scandir(cache) as entries:
            folders = [Path(e.path) for e in entries if e.is_dir(follow_symlinks=False)]
    except OSError:
        return
    for folder in folders:
        output.remove_leftovers(folder, any_temp=True)


def _timeline(name: str, dates: list[str], per_date: dict[str, int]) -> Markup:
    return Markup(charts.tag_timeline(name, [(d, per_date.get(d, 0)) for d in dates]))


class _Drawn(Mapping[str, Markup]):
    """Charts by name, each drawn the first time it is looked up."""

    def __init__(self, makers: dict[str, Callable[[], Markup]]):
        self._makers = makers
        self._drawn: dict[str, Markup] = {}

    def __getitem__(self, name: str) -> Markup:
        drawn = self._drawn.get(name)
        if drawn is None:
            drawn = self._drawn[name] = self._makers[name]()
        return drawn

    def __iter__(self) -> Iterator[str]:
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)


def _papers_changed(result: BuildResult) -> bool:
    return any(path.startswith(urls.PAPERS) for path in (*result.written, *result.removed))


def _strengthen_keys(pages: list[PlannedPage], content: str, templates: _Templates) -> None:
    """A page made with a template of the site's own (or one that uses one) may show anything of the site, not
    only what the built-in theme shows: its key then covers all the content (`content`, its hash)."""
    items_custom = templates.is_custom(ITEM_TEMPLATE)
    for page in pages:
        if page.key is not None and (templates.is_custom(page.template) or (page.items and items_custom)):
            page.key = ("site", content, page.key)


def _hash(text: str) -> str:
    return output.digest(text.encode("utf-8", "surrogatepass"))


def _stamp(site_stamp: str, key: Any) -> str:
    """What the manifest records for a page made from `key`: the site-wide stamp, then the key's hash."""
    return site_stamp + (_hash(key) if isinstance(key, str) else output.digest(_key_bytes(key)))


def _key_bytes(key: Any) -> bytes:
    """A page key as bytes: marshal's format 0 (it has no back-references, so equal keys give equal bytes
    whatever objects they share), a third of the time of repr for keys of many strings; repr for a key
    marshal cannot write."""
    try:
        return marshal.dumps(key, 0)
    except ValueError:
        return repr(key).encode("utf-8", "surrogatepass")


def _content_hash(index: SiteIndex) -> str:
    """A hash of all the content the views expose: papers (with their tag names and related papers), tags
    and digests, in their orders."""
    return _hash(
        repr(
            (
                [(v.item_key, tuple(r.slug for r in v.related)) for v in index.papers],
                [(t.slug, t.name, t.description) for t in index.tags],
                [(d.date, tuple(p.slug for p in d.papers), tuple(d.sources)) for d in index.digests],
            )
        )
    )


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
