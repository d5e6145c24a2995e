"""Render planned pages to bytes, recording what each read, on every core for a large build.

A page is rendered with the environment's read set open: its key (see sitegen.build.deps) is then
worked out from what it read, and its bytes handed with both to the build's writer (a `Sink`: the staging
of sitegen.build.output, which alone writes the output folder). Large builds share the pages among forked
processes (sitegen.store.parallel): the Markdown and list items of the papers they show are made first, once,
and inherited by the processes that render the pages; each hands its files to the writer it inherited, which
writes them there, and sends back what was staged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from sitegen.build.deps import TrackingEnvironment, Versions, settle
from sitegen.build.plan import PlannedPage
from sitegen.build.templates import message, template_position
from sitegen.build.views import PaperTexts, PaperView
from sitegen.errors import Diagnostic, Report
from sitegen.store import parallel
from sitegen.text.urls import output_file

Progress = Callable[[str, int, int], None]


class Sink(Protocol):
    """Where rendered files go (sitegen.build.output.Staging), as much of it as rendering uses."""

    def put(self, path: str, data: bytes, key: str = "", *, reads: tuple[str, ...] = ()) -> None: ...

    def mark(self) -> Any: ...

    def since(self, mark: Any) -> Any: ...

    def adopt(self, staged: Any) -> None: ...


T = TypeVar("T")
R = TypeVar("R")


def map_staged(
    sink: Sink,
    work: Callable[[Sequence[T], bool], R],
    items: Sequence[T],
    reserved: int = 0,
    weights: Sequence[int] | None = None,
) -> list[R]:
    """`parallel.map_chunks` of `work` over `items`, where each share hands the files it makes to `sink`:
    what a forked share staged there is adopted by this process's sink, in share order. Returns each
    share's own result."""

    def share(part: Sequence[T], here: bool) -> tuple[Any, R]:
        mark = sink.mark()
        result = work(part, here)
        return (None if here else sink.since(mark)), result

    results = []
    for staged, result in parallel.map_chunks(share, items, reserved, weights):
        if staged is not None:
            sink.adopt(staged)
        results.append(result)
    return results


def prepare_papers(
    env: TrackingEnvironment,
    shown: Sequence[PaperView],
    listed: Sequence[PaperView],
    report: Report,
    reserved: int = 0,
    restore: Callable[[PaperView], bool] | None = None,
) -> None:
    """Render, before the pages that need them, the Markdown of `shown` and the list items of `listed`,
    shared among processes when there are many (`reserved`: cores other work of the build keeps busy).
    `restore` gives a paper its item as the last build rendered it, when it can (see itemmemo): that item
    and its Markdown are then not rendered (a page that shows the Markdown itself renders it when it does)."""
    want_item = {
        id(v)
        for v in listed
        if (v._item is None or not v._item.done) and not (restore is not None and restore(v))
    }
    chosen = {id(v): v for v in shown if v.texts is None}
    chosen.update((id(v), v) for v in listed if id(v) in want_item and v.texts is None)
    todo = list(chosen.values())
    if not todo:
        return

    Prepared = list[tuple[PaperTexts, str | None, tuple[str, ...]]]

    def prepare_share(share: Sequence[PaperView], here: bool) -> Prepared | Diagnostic:
        out: Prepared = []
        for view in share:
            texts = view.rendered()
            html, reads = None, ()
            if id(view) in want_item:
                try:
                    fragment = view.item_html
                    html = str(fragment.render())
                except Exception as exc:
                    where, line = template_position(exc, "partials/paper_item.html")
                    return Diagnostic(where, f"{message(exc)} (rendering the list item of {view.slug})", line)
                reads = tuple(fragment.reads)
            out.append((texts, html, reads))
        return out

    start = 0
    for result in parallel.map_chunks(prepare_share, todo, reserved):
        if isinstance(result, Diagnostic):
            report.diagnostics.append(result)
            return
        for view, (texts, html, reads) in zip(todo[start : start + len(result)], result, strict=True):
            view.texts = texts
            if html is not None:
                view.item_html.prepared(html, reads)
        start += len(result)


def render_pages(
    env: TrackingEnvironment,
    versions: Versions,
    stamp: str,
    pages: Sequence[PlannedPage],
    owns: Mapping[str, str],
    sink: Sink,
    report: Report,
    progress: Progress | None = None,
    done: int = 0,
    total: int = 0,
    reserved: int = 0,
) -> None:
    """Render `pages` and hand their files to `sink`, each with its key and read set; problems go to
    `report`. `owns`: each page's own inputs by output file (context_key). `done` of `total` pages were
    handled before (for progress)."""
    total = total or len(pages)

    def render_share(share: Sequence[PlannedPage], here: bool) -> list[Diagnostic]:
        # Progress is shown by this process only; a child's share is counted when it arrives.
        show = progress if here else None
        return _render_share(env, versions, stamp, share, owns, sink, total, done, show)

    reported: set[tuple[str, str]] = set()
    for diagnostics in map_staged(sink, render_share, pages, reserved):
        for diagnostic in diagnostics:
            if (diagnostic.path, diagnostic.message) not in reported:
                reported.add((diagnostic.path, diagnostic.message))
                report.diagnostics.append(diagnostic)


def _render_share(
    env: TrackingEnvironment,
    versions: Versions,
    stamp: str,
    pages: Sequence[PlannedPage],
    owns: Mapping[str, str],
    sink: Sink,
    total: int,
    start: int,
    progress: Progress | None,
) -> list[Diagnostic]:
    report = Report()
    reported: set[tuple[str, str]] = set()
    step = max(total // 100, 50)
    reads = env.reads
    for number, page in enumerate(pages, start=start + 1):
        current = reads.begin()
        html: str | None = None
        try:
            template = env.get_template(page.template)
            html = template.render(page.context)
        except Exception as exc:
            where, line = template_position(exc, page.template)
            text = message(exc)
            if (where, text) not in reported:
                reported.add((where, text))
                report.error(where, f"{text} (rendering {page.path or 'the home page'})", line)
        finally:
            reads.end()
        if html is not None and not report.diagnostics:  # after an error the build fails: nothing to write
            read = settle(current)
            path = output_file(page.path)
            sink.put(path, html.encode("utf-8"), versions.page_key(stamp, owns[path], read), reads=read)
        if progress and number % step == 0:
            progress("render", number, total)
    return report.diagnostics
