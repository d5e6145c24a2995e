"""Templates: one Jinja environment per builder, the site's templates before the built-in theme's.

Autoescaping is on and undefined variables are errors, so a typo in a template fails the build with the
template's file and line instead of printing an empty string. A template problem becomes a diagnostic, never a
traceback, and is reported once per template and message, not once per page.
"""

from __future__ import annotations

import contextlib
import sys
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, StrictUndefined, TemplateError
from markupsafe import Markup

from sitegen import __version__, parallel
from sitegen.errors import Diagnostic, Report
from sitegen.pages import PlannedPage, human_date

Progress = Callable[[str, int, int], None]
_PACKAGE_DIR = Path(__file__).resolve().parent


def theme_dir(name: str) -> Path:
    """The built-in theme's `templates` or `static` folder.

    Installed from a wheel, the theme lives inside the package (`sitegen/_theme/<name>`, mapped in
    pyproject.toml); from a checkout or an editable install it is the repository's top-level folder.
    """
    packaged = _PACKAGE_DIR / "_theme" / name
    return packaged if packaged.is_dir() else _PACKAGE_DIR.parent / name


def make_environment(site_templates: Path) -> Environment:
    """The site's templates first, then the theme's.

    `theme/<name>` always names the theme's own template, so a site template can extend the one it overrides.
    """
    theme = FileSystemLoader(theme_dir("templates"))
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(site_templates), theme, PrefixLoader({"theme": theme})]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # see TemplateWatch: one check per build, not one stat per page
        cache_size=-1,
    )
    env.filters["human_date"] = human_date
    env.filters["iso"] = lambda d: d.isoformat() if isinstance(d, date) else str(d)
    env.globals["generator"] = f"sitegen {__version__}"
    return env


class TemplateWatch:
    """Notices edited templates between builds (for `serve`); otherwise compiled templates are reused."""

    def __init__(self, folders: Iterable[Path]):
        self._folders = list(folders)
        self._seen: tuple | None = None

    def changed(self) -> bool:
        state = []
        for folder in self._folders:
            if folder.is_dir():
                for path in sorted(folder.rglob("*")):
                    with contextlib.suppress(OSError):
                        st = path.stat()
                        state.append((str(path), st.st_mtime_ns, st.st_size))
        seen, self._seen = self._seen, tuple(state)
        return seen is not None and seen != self._seen


@dataclass(frozen=True, slots=True)
class Helpers:
    """Functions every template gets: `url('papers/x/')`, `abs_url(...)`, `asset('style.css')`."""

    url: Callable[[str], str]
    abs_url: Callable[[str], str]
    assets: dict[str, str]

    def asset(self, name: str) -> str:
        try:
            return self.url(self.assets[name])
        except KeyError:
            raise TemplateError(f"asset({name!r}): no such file in the static folders") from None


def set_globals(env: Environment, common: dict[str, Any]) -> None:
    """The helpers and site-wide values of a build become the environment's globals, so that imported macro
    templates and fragments see them without being re-run for every page."""
    env.globals.update(common)


# The navigation state of a page kind: (section, the section's own index page?).
_SECTIONS = {
    "home": ("home", True),
    "digests": ("digests", True),
    "digest": ("digests", False),
    "tags": ("tags", True),
    "tag": ("tags", False),
    "search": ("search", True),
}


def set_chrome(env: Environment, report: Report) -> None:
    """Render the parts every page shares once per build, and make them globals: `head_assets`,
    `site_footer`, and `site_header(page)` (one rendering per navigation state). A site that overrides
    base.html may use them or not; one that overrides the partials changes every page."""
    env.globals["head_assets"] = _render_fragment(env, "partials/head_assets.html", {}, report)
    env.globals["site_footer"] = _render_fragment(env, "partials/footer.html", {}, report)
    headers: dict[tuple[str, bool], Markup] = {}

    def site_header(page: Any) -> Markup:
        state = _SECTIONS.get(getattr(page, "kind", ""), ("", False))
        html = headers.get(state)
        if html is None:
            context = {"section": state[0], "current": state[1]}
            html = headers[state] = _render_fragment(env, "partials/header.html", context, report)
        return html

    env.globals["site_header"] = site_header


def _render_fragment(env: Environment, name: str, context: dict[str, Any], report: Report) -> Markup:
    template = _load(env, name, report)
    if template is None:
        return Markup("")
    try:
        return Markup(template.render(context))
    except Exception as exc:
        where, line = _template_position(exc, name)
        report.error(where, _message(exc), line)
        return Markup("")


def render_items(
    env: Environment,
    template_name: str,
    papers: Sequence[Any],
    report: Report,
    cache: PageCache | None = None,
) -> None:
    """Render each paper's list item once (partials/paper_item.html), for every list that shows it."""
    template = _load(env, template_name, report)
    if template is None:
        return
    todo = []
    for paper in papers:
        item = PlannedPage("item", paper.slug, template_name, {}, _item_key(paper))
        cached = cache.get(item) if cache is not None else None
        if cached is not None:
            paper.item_html = Markup(cached)
        else:
            todo.append((paper, item))

    def render_share(share: Sequence[tuple[Any, PlannedPage]], here: bool) -> list[str] | Diagnostic:
        html = []
        for paper, _ in share:
            try:
                html.append(template.render(paper=paper))
            except Exception as exc:
                where, line = _template_position(exc, template_name)
                message = f"{_message(exc)} (rendering the list item of {paper.slug})"
                return Diagnostic(where, message, line)
        return html

    start = 0
    for result in parallel.map_chunks(render_share, todo):
        if isinstance(result, Diagnostic):
            report.diagnostics.append(result)
            return
        for (paper, item), html in zip(todo[start : start + len(result)], result, strict=True):
            paper.item_html = Markup(html)
            if cache is not None:
                cache.put(item, paper.item_html)
        start += len(result)


def _item_key(paper: Any) -> tuple[Any, ...]:
    """Everything partials/paper_item.html shows of a paper."""
    tags = tuple((tag.slug, tag.name) for tag in paper.tags)
    return (paper.title, paper.draft, paper.latest, tags, bool(paper.code_links), paper.summary)


class PageCache:
    """The HTML of keyed pages from the last build, reused while their key and the site-wide globals stay the
    same (in `serve`, an edit re-renders the pages that show it, not all 10,000)."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[Any, str]] = {}
        self._globals: Any = None
        self.hits = 0

    def begin(self, globals_key: Any) -> None:
        if globals_key != self._globals:
            self._entries.clear()
            self._globals = globals_key
        self.hits = 0

    def get(self, page: PlannedPage) -> str | None:
        entry = self._entries.get(page.path)
        if entry is not None and entry[0] == page.key:
            self.hits += 1
            return entry[1]
        return None

    def put(self, page: PlannedPage, html: str) -> None:
        self._entries[page.path] = (page.key, html)

    def keep_only(self, paths: set[str]) -> None:
        for path in [p for p in self._entries if p not in paths]:
            del self._entries[path]


def render_pages(
    env: Environment,
    pages: Iterable[PlannedPage],
    report: Report,
    total: int,
    progress: Progress | None = None,
    cache: PageCache | None = None,
) -> dict[str, str]:
    """Render every planned page; returns {site path: HTML}. Problems go to `report`.

    Pages whose key the cache knows are reused; the others are rendered, shared among processes for a large
    one-shot build (see sitegen.parallel).
    """
    planned = list(pages)
    out: dict[str, str] = {}
    todo: list[PlannedPage] = []
    for page in planned:
        cached = cache.get(page) if cache is not None and page.key is not None else None
        if cached is not None:
            out[page.path] = cached
        else:
            todo.append(page)
    done = len(out)

    def render_share(share: Sequence[PlannedPage], here: bool) -> tuple[dict[str, str], list[Diagnostic]]:
        # Progress is shown by this process only; a child's share is counted when it arrives.
        return _render_share(env, share, total, done, progress if here else None)

    reported: set[tuple[str, str]] = set()
    for html, diagnostics in parallel.map_chunks(render_share, todo):
        out.update(html)
        done += len(html)
        for diagnostic in diagnostics:
            if (diagnostic.path, diagnostic.message) not in reported:
                reported.add((diagnostic.path, diagnostic.message))
                report.diagnostics.append(diagnostic)
    if cache is not None:
        for page in todo:
            if page.key is not None and page.path in out:
                cache.put(page, out[page.path])
    if progress:
        progress("render", total, total)
    return {page.path: out[page.path] for page in planned if page.path in out}


def _render_share(
    env: Environment, pages: Sequence[PlannedPage], total: int, start: int, progress: Progress | None
) -> tuple[dict[str, str], list[Diagnostic]]:
    templates: dict[str, jinja2.Template | None] = {}
    report = Report()
    reported: set[tuple[str, str]] = set()
    out: dict[str, str] = {}
    step = max(total // 100, 50)
    for done, page in enumerate(pages, start=start + 1):
        template = templates.get(page.template, False)
        if template is False:
            template = templates[page.template] = _load(env, page.template, report)
        if template is not None:
            try:
                out[page.path] = template.render(page.context)
            except Exception as exc:
                where, line = _template_position(exc, page.template)
                message = _message(exc)
                if (where, message) not in reported:
                    reported.add((where, message))
                    report.error(where, f"{message} (rendering {page.path or 'the home page'})", line)
        if progress and done % step == 0:
            progress("render", done, total)
    return out, report.diagnostics


def _load(env: Environment, name: str, report: Report) -> jinja2.Template | None:
    try:
        return env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        report.error(exc.filename or name, f"template syntax error: {exc.message}", exc.lineno)
    except jinja2.TemplateNotFound as exc:
        report.error(name, f"template not found: {exc.name}")
    except TemplateError as exc:
        report.error(name, f"template error: {_message(exc)}")
    return None


def _message(exc: BaseException) -> str:
    if isinstance(exc, jinja2.UndefinedError):
        return f"undefined variable: {exc.message}"
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"template syntax error: {exc.message}"
    if isinstance(exc, TemplateError):
        return exc.message or type(exc).__name__
    return f"{type(exc).__name__}: {exc}"


def _template_position(exc: BaseException, fallback: str) -> tuple[str, int]:
    """The innermost template file and line of an exception (Jinja maps template frames to their sources)."""
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename:
        return exc.filename, exc.lineno
    found = (fallback, 0)
    for frame in traceback.extract_tb(exc.__traceback__ or sys.exc_info()[2]):
        if frame.filename.endswith((".html", ".xml", ".j2", ".jinja")):
            found = (frame.filename, frame.lineno or 0)
    return found


def safe(html: str) -> Markup:
    """Mark trusted HTML (inline SVG from the charts) as safe to insert unescaped."""
    return Markup(html)
