"""`sitegen build`: content in, a static site out.

    load the site -> plan every page, each with a key of what it shows
    -> render the pages whose key changed (or whose file was touched), staging their files
    -> (only without errors) move the staged files into place, prune stale output -> search index

A Builder lives as long as `sitegen serve` does and keeps what can be reused between rebuilds (the loaded
content, the Jinja environment with its compiled templates, rendered Markdown and list items, related papers,
hashes of static files, the output manifest). A one-shot build is one Builder and one build(); it finds what
an earlier run left in ROOT/.sitegen-cache (loaded content, related papers, papers' rendered Markdown, the
prior: what the last build's files read, see prior.Prior) and, in the output folder's manifest, the key each
file was made from, so that a build with nothing changed renders and writes nothing.

Size: the build's recipe (Builder._build) and the few steps only it calls (the dependency check of each page,
feeds and exports, the held state of `serve`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import os
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from sitegen.build import feeds, output
from sitegen.build.citestore import CitationStore
from sitegen.build.deps import (
    Derived,
    NotYet,
    TrackingEnvironment,
    Versions,
    brief,
    context_key,
    recording,
    settle,
    text_fingerprint,
)
from sitegen.build.exports import plan_exports
from sitegen.build.itemmemo import ItemMemo
from sitegen.build.manifest import Record, load_manifest, load_manifest_notes, read_table
from sitegen.build.output import (
    Artifact,
    Seen,
    SourceHashes,
    Staging,
    StaticFiles,
    WriteResult,
    collect_static,
)
from sitegen.build.plan import PlannedPage, counts_by_kind, plan_pages
from sitegen.build.prior import Prior, Unchanged, compare, look
from sitegen.build.render import map_staged, prepare_papers, render_pages
from sitegen.build.templates import (
    Helpers,
    item_maker,
    make_environment,
    set_globals,
    template_version,
    templates_fingerprint,
    theme_dir,
)
from sitegen.build.textstore import TextStore
from sitegen.build.validate import check_site_files
from sitegen.build.views import PaperView, Shared, SiteView, Tracked, attach_related, build_index, refresh
from sitegen.config import CONFIG_NAME, SiteConfig, load_config, site_path
from sitegen.content.loadcache import RACY_NS, Identity, LoadCache, identity
from sitegen.content.model import Paper, Site, load_paper, load_site
from sitegen.errors import Diagnostic, Report, SitegenError, plural
from sitegen.store import parallel
from sitegen.store.cache import CACHE_DIR, CacheFolder, code_fingerprint, files_stamp, scan, shard_of
from sitegen.store.files import fingerprint, hasher
from sitegen.store.sources import open_regular
from sitegen.text import urls
from sitegen.text.markdown import MarkdownRenderer
from sitegen.text.urls import Urls

if TYPE_CHECKING:
    from sitegen.build import search
    from sitegen.content import related

Progress = Callable[[str, int, int], None]
# Each paper's related papers, most similar first, with the terms each shares with it ("why related"), as
# one text (sitegen.content.rows).
Related = dict[str, str]

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
        self._env: TrackingEnvironment | None = None
        self._env_folder: Path | None = None
        self._env_fingerprint = ""
        self._markdown: MarkdownRenderer | None = None
        self._markdown_key: tuple[bool, str] | None = None
        self._texts: TextStore | None = None
        self._citations: CitationStore | None = None
        #: The last build's list items, for the next (a builder that stays only: see itemmemo).
        self._items: ItemMemo | None = None
        self._hashes = SourceHashes()
        self._manifest: dict[str, Record] | None = None
        self._manifest_build: dict[str, Any] = {}
        self._manifest_out: Path | None = None
        #: What the last build's files were made from (see Prior), when this Builder made it.
        self._prior: Prior | None = None
        self._related: related.RelatedIndex | None = None
        self._loaded: LoadCache | None = None
        self._cache = CacheFolder(root)
        #: A one-shot command's list of objects to leave alive: the process ends right after the build, and
        #: freeing a large site's papers, views and pages one by one takes ~50 ms at 10,000 papers.
        self.retained: list[object] | None = None
        self._builds = 0
        self._swept = False  # whether this Builder removed what killed runs left (see _build)
        self._held: Staging | None = None  # a build's commit, held until its search step is done
        self._reads_unsaved = 0
        self._rendered = 0
        #: The last successful build's index, environment and pages by output file (see preview).
        self._last: _Last | None = None
        self._stop: Callable[[], bool] | None = None  # the build's `stop` (see build)

    def build(self, changed: set[Path] | None = None, stop: Callable[[], bool] | None = None) -> BuildResult:
        """Build the whole site, making again only what changed.

        `changed` names the sources that changed since the last build of this Builder (None: unknown, look at
        everything); content files it does not name are then not even looked at. `stop`: asked between the
        steps of the build (loaded, lists made, related papers in, pages made); when it says so, the build
        gives up (Superseded) and nothing of it reaches the output folder (`serve`: another edit came, whose
        build makes all this one would). The next build must then be told what this one was, besides what
        changed since.
        """
        clock = _Clock()
        jobs: list[parallel.Job[Any]] = []
        self._held = None
        self._stop = stop
        try:
            result, out, base_path = self._build(changed, clock, jobs)
        finally:
            self._stop = None
            for job in jobs:
                job.wait()
        # (sitegen.build.search and sitegen.content.related are imported where used: a small rebuild may need
        # neither)
        if self.options.search and not result.failed:
            from sitegen.build import search

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
            from sitegen.build import search

            # Without the search step an older index would still find pages that changed or are gone.
            result.search_removed = search.remove_index(out)
        return result

    def _build(
        self, changed: set[Path] | None, clock: _Clock, jobs: list[parallel.Job[Any]]
    ) -> tuple[BuildResult, Path, str]:
        """The recipe: gather (nothing to do if no input changed) -> render what changed -> write; returns the
        result, the output folder and the base URL's path."""
        config = self._config()
        out = self._output_folder(config)
        report = Report()
        if not self._swept:
            self._swept = True
            output.remove_leftovers(out)  # what killed runs left, in the output and the cache folder
            self._cache.sweep()
        # The files of the last build looked at (in another process, when it may fork) while this one looks at
        # the inputs and gathers the content.
        prior = self._noted_prior(out)
        looking = (
            parallel.start(functools.partial(look, prior, os.path.join(out, "")), len(prior.files))
            if prior
            else None
        )
        if looking is not None:
            jobs.append(looking)
        inputs = self._inputs(config, _racy_note(self._previous_notes(out)))
        left = self._as_left(out, inputs, report, prior, looking)
        if left is not None:
            clock.lap("load")
            return self._result(left, clock), out, Urls(config.base_url).base_path

        # Gather: the content, its views, the templates and static files.
        g = self._gather(config, inputs, changed, report, jobs)
        if report.has_errors(self.options.strict):
            clock.lap("load")
            self._save_caches()
            return self._result(BuildResult(report, True, out), clock), out, ""
        self._checkpoint()
        # The last build's keys compared beside the manifest's reading (in another process, when it may fork).
        prior = prior if prior is not None and prior.stamp == g.stamp else None
        comparing = self._compare_job(g, prior)
        if comparing is not None:
            jobs.append(comparing)
        # (Read once the related papers are under way in another process, which need nothing of it.)
        previous, noted = self._previous_manifest(out)
        clock.lap("load")

        # Render: plan every page, make again what changed, stage the files.
        pages = plan_pages(g.index, config)
        counts = {**counts_by_kind(pages), "feed": 1 + len(g.index.tags) + len(g.index.queue)}
        staging = Staging(out, previous, noted, in_place=self.write_guard is None)
        try:
            # Each page's own inputs (see context_key), keyed while the last build's keys are still compared.
            owns = {urls.output_file(page.path): context_key(page.context) for page in pages}
            unchanged = self._unchanged(staging, g, prior, comparing, looking)
            if unchanged is not None:  # (the versions of keys found unchanged need not be worked out)
                g.versions.known = unchanged.known
            self._render(g, pages, staging, unchanged, owns, report, clock)
            self._checkpoint()
        except OSError as exc:  # a full disk, a read-only folder: nothing of this build stays in the output
            staging.discard()
            report.error(exc.filename or out, exc.strerror or str(exc))
            return self._result(BuildResult(report, True, out, counts=counts), clock), out, ""
        except BaseException:  # (given up, too: see build)
            staging.discard()
            raise

        # Write: move the staged files into place, only without errors.
        written = self._write(staging, inputs, counts, report, g, owns, unchanged, jobs)
        if written is None:
            return self._result(BuildResult(report, True, out, counts=counts), clock), out, ""
        if self.write_guard is not None:  # (a builder that stays, as `serve`'s, which previews edits)
            self._last = _Last(out, g.index, g.env, {urls.output_file(page.path): page for page in pages})
            if self._items is not None:
                self._items.keep(g.index.papers, _brief_now(g, unchanged))
        clock.lap("write")
        if self.retained is not None:
            self.retained.append((g, pages, staging, written))
        result = BuildResult(
            report, False, out, written.written, written.removed, counts, rendered=self._rendered
        )
        return self._result(result, clock), out, g.link.base_path

    def _as_left(
        self,
        out: Path,
        inputs: _Inputs,
        report: Report,
        prior: Prior | None,
        looking: parallel.Job[list[Seen]] | None,
    ) -> BuildResult | None:
        """The result of a build with nothing to do: no input file, setting, option or code changed since the
        last build into `out`, and its files are as it left them (as `looking` saw the files of `prior`, if
        it is that build's). None: there is work to do."""

        def same(noted: dict[str, Any]) -> bool:
            return (
                bool(inputs.stamp)
                and noted.get("inputs") == inputs.stamp
                and inputs.racy_then == _racy_note(noted)
            )

        if not same(self._previous_notes(out)):
            return None
        # (The whole manifest now, which may be damaged past its head.)
        previous, noted = self._previous_manifest(out)
        if not same(noted):
            return None
        looked = _looked(prior, looking) if prior is not None and noted.get("prior") == prior.token else None
        if output.touched(out, previous, looked):
            return None
        return _as_left(out, noted, report)

    @staticmethod
    def _result(result: BuildResult, clock: _Clock) -> BuildResult:
        result.seconds, result.timings = clock.total, clock.laps
        return result

    def _gather(
        self,
        config: SiteConfig,
        inputs: _Inputs,
        changed: set[Path] | None,
        report: Report,
        jobs: list[parallel.Job[Any]],
    ) -> _Gathered:
        """Load the content (only the files `changed` names, after the first build of this Builder), start
        its related papers, and make the views, the template environment and the static files."""
        link = Urls(config.base_url)
        site = load_site(
            self.root,
            config,
            report,
            drafts=True,
            cache=self._load_cache(),
            changed=changed if self._builds else None,
            identities=inputs.identities,
        )
        self._builds += 1
        related_lists = self._related_job(site, config)
        jobs.append(related_lists)
        shared = Shared(self._markdown_renderer(config, link), link)
        shared.stored = self._texts.get if self._texts is not None else None
        shared.stored_citation = self._citation_store(link).get
        index = build_index(site, shared, self.options.drafts)
        shared.attach_related = functools.partial(_attach_once, index, shared, related_lists)
        env = self._environment(config)
        shared.item = item_maker(env)
        check_site_files(self.root, config, env, report)  # (as `check` does)
        static = collect_static(self._static_folders(config), self._hashes)
        url, abs_url = functools.cache(link.path), functools.cache(link.absolute)
        helpers = Helpers(url=url, abs_url=abs_url, assets=static.assets)
        set_globals(env, self._common_context(config, helpers, index), report)
        versions = Versions(_objects(index), functools.partial(template_version, env))
        stamp = self._site_stamp(config, static.assets)
        if self.write_guard is not None and (self._items is None or self._items.key != stamp):
            self._items = ItemMemo(stamp)
        if self._items is not None:
            self._items.begin()
        return _Gathered(config, link, site, index, shared, env, static, stamp, versions, related_lists)

    def _render(
        self,
        g: _Gathered,
        pages: list[PlannedPage],
        staging: Staging,
        unchanged: Unchanged | None,
        owns: dict[str, str],
        report: Report,
        clock: _Clock,
    ) -> None:
        """Stage every file of the site: the pages whose inputs changed rendered (lists first: related
        papers may still be on their way), the others kept; then feeds, exports and static files. `owns`:
        each page's own inputs (context_key) by output file, where those of the other files are added."""
        make = functools.partial(self._make, g, staging, unchanged, owns, report, clock)
        staging.expect(owns)  # (the pages' files: feeds and exports are added to it below)
        # While related papers are computed in another process, the work beside them leaves them a core.
        reserved = 1 if g.related_lists.running else 0
        done = make([p for p in pages if p.kind != "paper"], 0, len(pages), reserved)
        self._checkpoint()
        if g.shared.attach_related is not None:  # (unless a list showed related papers)
            g.shared.attach_related()
        if unchanged is not None:
            unchanged.compare_all()
        clock.lap("related")
        self._checkpoint()
        make([p for p in pages if p.kind == "paper"], done, len(pages))
        generated = {urls.output_file(page.path) for page in pages}
        feeds_, staged = self._feeds(g.index, g.config, g.link, pages, staging)
        derived = feeds_ + plan_exports(g.index)
        stage_derived(staging, g.versions, g.stamp, derived, unchanged, owns)
        generated |= staged | {item.path for item in derived}
        for artifact in _without_collisions(g.static.artifacts, generated, report):
            staging.add(artifact)
        clock.lap("render")
        if self.progress:
            self.progress("render", len(pages), len(pages))

    def _checkpoint(self) -> None:
        if self._stop is not None and self._stop():
            raise Superseded

    def _noted_prior(self, out: Path) -> Prior | None:
        """The Prior of the last build into `out`, if its manifest notes it (whether the site-wide stamp is
        still the same is for the caller to see)."""
        token = self._previous_notes(out).get("prior")
        if not isinstance(token, str):
            return None
        prior = self._prior
        if prior is None or prior.token != token:
            prior = Prior.from_data(self._cache.load("prior"))
        return prior if prior is not None and prior.token == token else None

    def _compare_job(self, g: _Gathered, prior: Prior | None) -> parallel.Job[bytes] | None:
        """`compare` of `prior`, worked out in another process while this one reads the manifest and plans
        the pages. A key whose version needs the related papers is left for later (they are on their way
        from yet another process, which only this one may wait for)."""
        if prior is None:
            return None

        def verdicts() -> bytes:
            attach, g.shared.attach_related = g.shared.attach_related, _not_yet
            try:
                return compare(prior, g.versions)
            finally:
                g.shared.attach_related = attach

        return parallel.start(verdicts, len(prior.table))

    def _unchanged(
        self,
        staging: Staging,
        g: _Gathered,
        prior: Prior | None,
        comparing: parallel.Job[bytes] | None,
        looking: parallel.Job[list[Seen]] | None,
    ) -> Unchanged | None:
        """What tells which files of the last build are current without working out their keys: its Prior
        (see _noted_prior), if the manifest read is the one written with it; None otherwise. `comparing`
        and `looking`: the jobs working out its verdicts and looking at its files, if started."""
        token = staging.previous_build.get("prior") if staging.previous_build else None
        if prior is None or prior.token != token or not staging.previous:
            return None
        previous = staging.previous
        table = next((record.table for record in previous.values() if record.table is not None), None)
        if table is None or len(prior.owns) != len(previous) or prior.table != table:
            return None
        unchanged = Unchanged(prior, g.versions, table, previous)
        staging.seen = _looked(prior, looking) or {}
        if comparing is not None:
            unchanged.take(comparing.result())
        return unchanged

    def _write(
        self,
        staging: Staging,
        inputs: _Inputs,
        counts: dict[str, int],
        report: Report,
        g: _Gathered,
        owns: dict[str, str],
        unchanged: Unchanged | None,
        jobs: list[parallel.Job[Any]],
    ) -> WriteResult | None:
        """Move the staged files into place and save the caches (beside it, in another process when it may
        fork); None, and nothing changed in the output folder, when the build has errors or the commit
        fails. The commit is held until the search step is done (see build)."""
        g.shared.markdown.next_generation()
        token = secrets.token_hex(8)

        @functools.cache
        def prior() -> Prior:
            # In the order of the manifest the commit writes: its table of read keys, its files by name.
            records = {entry.path: entry.record for entry in staging.entries}
            table = read_table(records)
            # (The versions of the keys found unchanged were worked out in another process: the old ones.)
            if unchanged is not None and table is unchanged.table:
                versions = unchanged.versions_now()
            else:
                versions = list(map(_brief_now(g, unchanged), table))
            files = sorted(records)
            return Prior(
                token, g.stamp, table, versions, [brief(owns.get(path, "")) for path in files], files
            )

        papers = g.index.papers
        # A first build saves the texts of every paper: in a process of their own, beside the rest.
        apart = self._texts if unchanged is None and parallel.workers(len(papers)) > 1 else None
        saving = parallel.start(
            functools.partial(self._save_caches, prior, papers, texts=apart is None), len(papers)
        )
        savers = [saving]
        if apart is not None:
            savers.append(parallel.start(functools.partial(apart.save, papers), len(papers)))
        jobs += savers
        if report.has_errors(self.options.strict):
            staging.discard()
            for job in savers:
                job.result()
            return None
        noting = {
            "inputs": inputs.stamp,
            "racy": list(inputs.racy_now),
            "counts": counts,
            "diagnostics": [dataclasses.astuple(d) for d in report.diagnostics],
            "prior": token,
        }
        try:
            with self.write_guard() if self.write_guard is not None else contextlib.nullcontext():
                written = staging.commit(self.progress, noting, hold=self.options.search)
        except OSError as exc:
            # The commit undid what it had changed; the records are read again from the folder all the same.
            self._manifest = None
            report.error(exc.filename or staging.out, exc.strerror or str(exc))
            return None
        finally:
            for job in savers:
                job.result()
        if self.options.search:
            self._held = staging  # until the search step is done (see build)
        self._manifest, self._manifest_build, self._manifest_out = written.records, noting, staging.out
        self._prior = prior() if not saving.forked else None
        return written

    def _make(
        self,
        g: _Gathered,
        staging: Staging,
        unchanged: Unchanged | None,
        owns: dict[str, str],
        report: Report,
        clock: _Clock,
        pages: list[PlannedPage],
        done: int,
        total: int,
        reserved: int = 0,
    ) -> int:
        """Stage `pages`: a page whose inputs (what it read last time) are unchanged and whose file is as the
        last build left it is kept; the others are rendered (the Markdown and list items they show first).
        `owns`: each page's own inputs (context_key). Returns `done` plus the pages handled."""
        env, versions, stamp = g.env, g.versions, g.stamp
        todo: list[PlannedPage] = []
        for page in pages:
            path = urls.output_file(page.path)
            if not keep_current(staging, versions, stamp, path, owns[path], unchanged):
                todo.append(page)
        clock.lap("plan")
        shown = [paper for page in todo if (paper := page.paper) is not None]
        listed = list({id(v): v for page in todo for v in page.items}.values())
        restore = (
            functools.partial(self._items.restore, brief=_brief_now(g, unchanged)) if self._items else None
        )
        prepare_papers(env, shown, listed, report, reserved, restore)
        clock.lap("markdown")
        skipped = done + len(pages) - len(todo)
        render_pages(
            env, versions, stamp, todo, owns, staging, report, self.progress, skipped, total, reserved
        )
        self._rendered += len(todo)
        clock.lap("render")
        return done + len(pages)

    def preview(self, changed: Iterable[Path], files: set[str]) -> list[str]:
        """Make again, ahead of the build, the open pages (`files`, output files) that showed a changed paper:
        the paper is read anew and shown through the last build's views, so what the curator looks at
        changes within milliseconds. The build that follows makes everything the edit reached (lists,
        related papers, these pages again) and rewrites these files only if their bytes differ. Returns the
        files written: none when the edit is not one a preview can show (a page added, deleted, renamed or
        broken, a new tag), which the build then shows."""
        last = self._last
        if last is None or self._manifest is None or not files:
            return []
        deps: list[str] = []
        for path in changed:
            report = Report()
            paper = load_paper(path, report)
            view = last.index.by_slug.get(paper.slug) if paper is not None else None
            if paper is None or report.diagnostics or view is None:
                return []
            if os.path.abspath(view.paper.source) != os.path.abspath(path):
                return []
            if not refresh(view, paper, last.index):
                return []
            deps.append(view.dep + "#")
        written = []
        for file in sorted(files):
            record, page = self._manifest.get(file), last.pages.get(file)
            if record is None or page is None or not any(r.startswith(tuple(deps)) for r in record.reads):
                continue
            try:
                html = last.env.get_template(page.template).render(page.context)
                # (Its temporary file goes to the top of the output folder, which the next build sweeps,
                # should this process be killed before the rename.)
                output.atomic_write(last.out / file, html.encode("utf-8"), temp_folder=last.out)
            except Exception:  # the build that follows reports it, with its file and line
                continue
            written.append(file)
        return written

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
            self._texts = TextStore(self._cache, list(key))
        return self._markdown

    def _citation_store(self, link: Urls) -> CitationStore:
        key = link.absolute(urls.HOME)
        if self._citations is None or self._citations.key != key:
            self._citations = CitationStore(self._cache, key)
        self._citations.begin()
        return self._citations

    def _related_papers(self, papers: list[Paper], config: SiteConfig) -> Related:
        """Related papers, each with the terms it shares ("why related"), from an index kept across rebuilds
        and, between runs, in ROOT/.sitegen-cache: after a small edit only what the edit reaches is
        recomputed."""
        from sitegen.content import related

        options = related.RelatedOptions(k=config.related_count)
        if self._related is None or self._related.options != options:
            self._related = related.RelatedIndex.load(self._related_cache(), options)
        self._related.refresh(papers)
        return self._related.row_texts()

    def _related_job(self, site: Site, config: SiteConfig) -> parallel.Job[Related]:
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

    def _save_caches(
        self,
        prior: Callable[[], Prior] | None = None,
        papers: Sequence[PaperView] = (),
        texts: bool = True,
    ) -> None:
        """Caches only save time: a site folder that cannot be written to still builds. Only the shards that
        hold changed entries are written. Within `serve` (the later builds of a Builder), where everything is
        in memory anyway, they are written only once enough changed to make that worth its time."""
        loaded = self._loaded
        if loaded is not None:
            self._reads_unsaved += loaded.reads
        if self._builds > 1 and self._reads_unsaved < SAVE_AFTER_READS:
            return
        self._reads_unsaved = 0
        self._save_related()
        if prior is not None:
            self._cache.save("prior", prior().as_data())
        if texts and self._texts is not None:
            self._texts.save(papers)
        if self._citations is not None:
            self._citations.save(papers)
        if loaded is not None and loaded.changed:
            shards = {shard_of(name) for name in loaded.changed}
            data = loaded.to_data(lambda name: shard_of(name) in shards)
            if self._cache.save_sharded("content", data, shards):
                loaded.changed = set()

    def _save_related(self) -> None:
        if self._related is not None and self._related.dirty:
            try:
                self._related_cache().parent.mkdir(parents=True, exist_ok=True)
                self._related.save(self._related_cache())
            except OSError:
                pass

    def _static_folders(self, config: SiteConfig) -> list[Path]:
        return [site_path(self.root, config.static_dir), theme_dir("static")]

    def _environment(self, config: SiteConfig) -> TrackingEnvironment:
        """The Jinja environment, kept while the template folder stays the same; its compiled templates are
        dropped when any template file changed (compared by content, not by time)."""
        folder = site_path(self.root, config.templates_dir).resolve()
        digest_ = templates_fingerprint(folder, theme_dir("templates"))
        if self._env is None or self._env_folder != folder:
            self._env = make_environment(folder, compiled=self._cache)
            self._env_folder = folder
        elif self._env_fingerprint != digest_:
            self._env.cache.clear()
        self._env_fingerprint = digest_
        return self._env

    def _site_stamp(self, config: SiteConfig, assets: dict[str, str]) -> str:
        """A short hash of what every page may show besides what it reads of the content and templates:
        sitegen's code, settings, options and the static assets' addresses."""
        what = (code_fingerprint(), repr(config), self.options.drafts, tuple(sorted(assets.items())))
        return text_fingerprint(repr(what))

    def _common_context(self, config: SiteConfig, helpers: Helpers, index: SiteView) -> dict[str, Any]:
        return {
            "config": config,
            "url": helpers.url,
            "abs_url": helpers.abs_url,
            "asset": helpers.asset,
            "drafts": self.options.drafts,
            "site": index,
        }

    def _feeds(
        self, index: SiteView, config: SiteConfig, link: Urls, pages: list[PlannedPage], staging: Staging
    ) -> tuple[list[Derived], set[str]]:
        """Stage the sitemaps and robots.txt; returns the feeds, files made from the views as the exports are
        (see stage_derived), and the paths staged. Drafts never appear in feeds, even in a build with
        drafts."""
        limit = config.feed_limit
        info = feeds.FeedInfo(
            config.title, config.description, config.author, config.language, urls.FEED, urls.HOME
        )
        all_feeds: list[tuple[feeds.FeedInfo, Any, str]] = [(info, index, "recent")]
        for tag in index.tags:
            tag_info = feeds.tag_feed_info(tag, config.title, config.author, config.language)
            all_feeds.append((tag_info, tag, "papers"))
        for status in index.queue:
            status_info = feeds.status_feed_info(status, config.title, config.author, config.language)
            all_feeds.append((status_info, status, "papers"))
        made: list[Derived] = []
        for feed_info, source, attribute in all_feeds:

            def feed(reads: set[str], feed_info=feed_info, source=source, attribute=attribute) -> bytes:
                # (The first `limit` papers that are not drafts, and no look at the others: what the feed
                # read is what it shows, and the list's order.)
                papers = getattr(recording(source, reads), attribute)
                entries = list(itertools.islice((p for p in papers if not p.draft), limit))
                return feeds.atom_feed(feed_info, entries, link)

            weight = min(limit, len(getattr(source, attribute)))
            made.append(Derived(feed_info.self_path, repr(feed_info), feed, weight))
        entries = [(page.path, page.lastmod) for page in pages if page.in_sitemap]
        files = feeds.sitemaps(entries, link)
        files[urls.ROBOTS] = feeds.robots_txt(link)
        for path, data in files.items():
            staging.put(path, data)
        return made, set(files)

    def _previous_notes(self, out: Path) -> dict[str, Any]:
        """What the last build into `out` noted about itself (see load_manifest_notes)."""
        if self._manifest is None or self._manifest_out != out:
            return load_manifest_notes(out)
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
            h = hasher()
            for number, rel, _mtime in sorted(files):
                path = os.path.join(folders[number], rel) if rel else str(folders[number])
                if path not in digests:
                    digests[path] = _file_fingerprint(path)
                h.update(f"{number}:{rel}:{digests[path]}\n".encode("utf-8", "surrogateescape"))
            return h.hexdigest()

        options = (self.options.base_url, self.options.drafts, self.options.strict)
        what = (files, code_fingerprint(), repr(config), options, os.path.abspath(self.root))
        vouched = (since_then, vouch(then)) if racy_then and len(then) <= MAX_RACY else None
        return _Inputs(text_fingerprint(repr(what)), (since_now, vouch(now)), vouched, identities)


# More files than this changed within RACY_NS of a build (an import, a checkout): they are not hashed for the
# next build's no-change test, which then looks at everything.
MAX_RACY = 100
SAVE_AFTER_READS = 200  # see Builder._save_caches


class Superseded(Exception):
    """A build given up at a checkpoint because its `stop` said so (see Builder.build)."""


class _Last(NamedTuple):
    """What Builder.preview uses of the last successful build."""

    out: Path
    index: SiteView
    env: TrackingEnvironment
    pages: dict[str, PlannedPage]


class _Gathered(NamedTuple):
    """What a build gathers before it renders (see Builder._gather)."""

    config: SiteConfig
    link: Urls
    site: Site
    index: SiteView
    shared: Shared
    env: TrackingEnvironment
    static: StaticFiles
    stamp: str
    versions: Versions
    related_lists: parallel.Job[Related]


class _Inputs(NamedTuple):
    """What Builder._inputs finds: the stamp of the inputs; the racy files' hash as of now and as of the last
    build (see Builder._inputs); the identity of each content file (so that loading need not look again)."""

    stamp: str
    racy_now: tuple[int, str]
    racy_then: tuple[int, str] | None
    identities: dict[str, Identity]


def _racy_note(noted: dict[str, Any]) -> tuple[int, str] | None:
    """The time from which files counted as racy at the last build, and their hash, as its manifest noted."""
    racy = noted.get("racy")
    if isinstance(racy, list) and len(racy) == 2 and isinstance(racy[0], int) and isinstance(racy[1], str):
        return racy[0], racy[1]
    return None


def _file_fingerprint(path: str) -> str:
    """A hash of a file's bytes; "" if it cannot be read (it then matches no earlier hash)."""
    try:
        # (Not a FIFO or a device, whose reading may never end: the build reports them when it reads them.)
        with open_regular(path) as (fd, _st), open(fd, "rb", closefd=False) as file:
            return fingerprint(file.read())
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


def keep_current(
    staging: Staging, versions: Versions, stamp: str, path: str, own: str, unchanged: Unchanged | None
) -> bool:
    """Keep the file at `path` as the last build left it, if what it was made from is unchanged (its key: the
    stamp, `own`, the text of its own inputs, and the versions of what it read then) and the file is as
    written; whether it was kept. `unchanged` tells it from the last build's Prior, without the key."""
    record = staging.previous.get(path)
    if record is None or not record.key:
        return False
    current = unchanged.current(path, own, record) if unchanged is not None else None
    if current is None:
        current = record.key == versions.page_key(stamp, own, record.reads)
    if not current:
        return False
    kept = staging.intact(path, record.key)
    if kept is None:
        return False
    staging.keep(path, kept)
    return True


def stage_derived(
    staging: Staging,
    versions: Versions,
    stamp: str,
    items: list[Derived],
    unchanged: Unchanged | None,
    owns: dict[str, str],
) -> None:
    """Stage the files that Python code makes from tracked views (feeds, exports): each is kept when what it
    read last time is unchanged and its file is intact, else made by its `make(reads)`, which reads the views
    through `recording(view, reads)` so that what it read is recorded as a template's reads are. Those to make
    are shared among processes by their weight when there are many (as pages are). Notes each one's own
    inputs in `owns`."""
    owns.update((item.path, item.own) for item in items)
    todo = [
        item for item in items if not keep_current(staging, versions, stamp, item.path, item.own, unchanged)
    ]

    def make(part: Sequence[Derived], here: bool) -> None:
        for item in part:
            reads: set[str] = set()
            data = item.make(reads)
            read = settle(reads)
            staging.put(item.path, data, versions.page_key(stamp, item.own, read), reads=read)

    map_staged(staging, make, todo, weights=[item.weight for item in todo])


def _papers_changed(result: BuildResult) -> bool:
    return any(path.startswith(urls.PAPERS) for path in (*result.written, *result.removed))


def _attach_once(index: SiteView, shared: Shared, related_lists: parallel.Job[Related]) -> None:
    """Attach the related papers, once (they may still be on their way from another process)."""
    shared.attach_related = None
    attach_related(shared, index, related_lists.result())


def _brief_now(g: _Gathered, unchanged: Unchanged | None) -> Callable[[str], str]:
    """The version of a key now, as a Prior keeps it: the last build's for a key found unchanged."""
    return unchanged.brief if unchanged is not None else g.versions.brief


def _looked(prior: Prior | None, looking: parallel.Job[list[Seen]] | None) -> dict[str, Seen] | None:
    """What `looking` saw of each file of `prior` (see look), by path; None without it."""
    if prior is None or looking is None:
        return None
    seen = looking.result()
    return dict(zip(prior.files, seen, strict=True)) if len(seen) == len(prior.files) else None


def _not_yet() -> None:
    raise NotYet


def _objects(index: SiteView) -> Callable[[str], Tracked | None]:
    """The tracked object of a build by its name (`dep`), for working out versions."""
    known: dict[str, Tracked] = {}

    def find(dep: str) -> Tracked | None:
        if not known:
            known["site"] = index
            known.update((view.dep, view) for view in index.papers)
            known.update((tag.dep, tag) for tag in index.tags)
            known.update((digest.dep, digest) for digest in index.digests)
            known.update((status.dep, status) for status in index.queue)
            known.update((author.dep, author) for author in index.authors)
        return known.get(dep)

    return find


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
