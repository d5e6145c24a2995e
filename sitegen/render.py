"""Templates: one Jinja environment per builder, the site's templates before the built-in theme's.

Autoescaping is on and undefined variables are errors, so a typo in a template fails the build with the
template's file and line instead of printing an empty string. A template problem becomes a diagnostic, never a
traceback, and is reported once per template and message, not once per page.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
import jinja2.meta
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, StrictUndefined, TemplateError
from markupsafe import Markup

from sitegen import __version__, parallel
from sitegen.errors import Diagnostic, Report
from sitegen.output import Staged, Staging
from sitegen.pages import PaperTexts, PaperView, PlannedPage, human_date
from sitegen.search import filter_value
from sitegen.urls import output_file

Progress = Callable[[str, int, int], None]
_PACKAGE_DIR = Path(__file__).resolve().parent


def theme_dir(name: str) -> Path:
    """The built-in theme's `templates` or `static` folder.

    Installed from a wheel, the theme lives inside the package (`sitegen/_theme/<name>`, mapped in
    pyproject.toml); from a checkout or an editable install it is the repository's top-level folder.
    """
    packaged = _PACKAGE_DIR / "_theme" / name
    return packaged if packaged.is_dir() else _PACKAGE_DIR.parent / name


def make_environment(site_templates: Path, compiled: Path | None = None) -> Environment:
    """The site's templates first, then the theme's.

    `theme/<name>` always names the theme's own template, so a site template can extend the one it overrides.
    `compiled`: a folder where compiled templates are kept between runs (keyed by each template's source).
    """
    theme = FileSystemLoader(theme_dir("templates"))
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(site_templates), theme, PrefixLoader({"theme": theme})]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # the builder checks the templates once per build, not once per page
        cache_size=-1,
        bytecode_cache=_CompiledTemplates(str(compiled)) if compiled is not None else None,
    )
    env.filters["human_date"] = human_date
    env.filters["iso"] = lambda d: d.isoformat() if isinstance(d, date) else str(d)
    env.filters["pagefind_filter"] = filter_value  # a search filter's value, as Pagefind must read it
    env.globals["generator"] = f"sitegen {__version__}"
    return env


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Jinja's cache of compiled templates in a folder, which only saves time: one that cannot be written is
    passed over."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            os.makedirs(self.directory, exist_ok=True)
            super().dump_bytecode(bucket)


def templates_digest(site: Path, theme: Path) -> tuple[str, frozenset[str]]:
    """A hash of every file of the site's and the theme's template folders (names and bytes), and the names
    of the site's own templates. Read at each build: a handful of small files, and unlike modification times
    a content hash cannot miss an edit."""
    h = hashlib.blake2b(digest_size=16)
    names: set[str] = set()
    for number, folder in enumerate((site, theme)):
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            with contextlib.suppress(OSError):
                if path.is_file():
                    rel = path.relative_to(folder).as_posix()
                    data = path.read_bytes()
                    h.update(f"{number}:{rel}:{len(data)}:".encode())
                    h.update(data)
                    if number == 0:
                        names.add(rel)
    return h.hexdigest(), frozenset(names)


def template_closure(env: Environment, name: str) -> set[str] | None:
    """The names of `name` and of every template it extends, includes or imports, followed through; None
    when a template names another through an expression (then anything may be used)."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            source = env.loader.get_source(env, current)[0] if env.loader else ""
            found = list(jinja2.meta.find_referenced_templates(env.parse(source)))
        except jinja2.TemplateNotFound:
            continue
        except TemplateError:
            return None
        if None in found:
            return None
        todo.extend(n for n in found if n is not None)
    return seen


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


class PageCache:
    """HTML by name and key (list items by paper slug), kept between the builds of a Builder (`serve`) and,
    through to_data/from_data, in ROOT/.sitegen-cache between runs, while the site-wide values stay the same.
    `changed` names the entries changed since they were last stored (None: all of them)."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[Any, str]] = {}
        self._globals: Any = None
        self.changed: set[str] | None = set()
        self.hits = 0

    def begin(self, globals_key: Any, load: Callable[[Any], dict[str, Any]] | None = None) -> None:
        """Start a build whose site-wide values are `globals_key`; entries made under other values are
        dropped, and `load(globals_key)` may give the entries stored under these."""
        if globals_key != self._globals:
            self._globals = globals_key
            self._entries = {}
            self.changed = None
            if load is not None:
                stored = load(globals_key)
                self._entries = {k: v for k, v in stored.items() if isinstance(v, tuple) and len(v) == 2}
                self.changed = set()
        self.hits = 0

    @property
    def globals_key(self) -> Any:
        return self._globals

    def get(self, name: str, key: Any) -> str | None:
        entry = self._entries.get(name)
        if entry is not None and entry[0] == key:
            self.hits += 1
            return entry[1]
        return None

    def put(self, name: str, key: Any, html: str) -> None:
        self._entries[name] = (key, str(html))
        if self.changed is not None:
            self.changed.add(name)

    def keep_only(self, names: set[str]) -> None:
        for name in [n for n in self._entries if n not in names]:
            del self._entries[name]
            if self.changed is not None:
                self.changed.add(name)

    def to_data(self, wanted: Callable[[str], bool] | None = None) -> dict[str, tuple[Any, str]]:
        return {k: v for k, v in self._entries.items() if wanted is None or wanted(k)}


def prepare_papers(
    env: Environment,
    item_template: str,
    texts_for: Sequence[PaperView],
    items_for: Sequence[PaperView],
    report: Report,
    cache: PageCache | None = None,
    natives: Mapping[str, Any] | None = None,
    reserved: int = 0,
) -> None:
    """Render, before the pages that show them, the Markdown of `texts_for` and the list items
    (partials/paper_item.html) of `items_for`; shared among processes when there are many (the pages are
    then rendered in processes forked after this, which inherit the results; `reserved`: cores that other
    work of the build keeps busy). `natives`: templates to render with sitegen.native instead, by name."""
    template = _template(env, item_template, report, natives) if items_for else None
    want_item: set[int] = set()
    if template is not None:
        for view in items_for:
            cached = cache.get(view.slug, view.item_key) if cache is not None else None
            if cached is not None:
                view.item_html = Markup(cached)
            else:
                want_item.add(id(view))
    needed = [v for v in texts_for if v.texts is None] + [v for v in items_for if id(v) in want_item]
    todo = list({id(v): v for v in needed}.values())
    if not todo:
        return

    Prepared = list[tuple[PaperTexts, str | None]]

    def prepare_share(share: Sequence[PaperView], here: bool) -> Prepared | Diagnostic:
        out: Prepared = []
        for view in share:
            texts = view.rendered()
            html = None
            if template is not None and id(view) in want_item:
                try:
                    html = template.render(paper=view)
                except Exception as exc:
                    where, line = _template_position(exc, item_template)
                    message = f"{_message(exc)} (rendering the list item of {view.slug})"
                    return Diagnostic(where, message, line)
            out.append((texts, html))
        return out

    start = 0
    for result in parallel.map_chunks(prepare_share, todo, reserved):
        if isinstance(result, Diagnostic):
            report.diagnostics.append(result)
            return
        for view, (texts, html) in zip(todo[start : start + len(result)], result, strict=True):
            view.texts = texts
            if html is not None:
                view.item_html = Markup(html)
                if cache is not None:
                    cache.put(view.slug, view.item_key, view.item_html)
        start += len(result)


def render_pages(
    env: Environment,
    pages: Sequence[PlannedPage],
    staging: Staging,
    stamps: dict[str, str],
    report: Report,
    progress: Progress | None = None,
    done: int = 0,
    total: int = 0,
    natives: Mapping[str, Any] | None = None,
    reserved: int = 0,
) -> None:
    """Render `pages` and stage their files (see output.Staging), each with its stamp (the digest of its key)
    for the manifest; problems go to `report`. Shared among processes for a large one-shot build (see
    sitegen.parallel, and prepare_papers for `reserved`); each process stages the files of its share. `done`
    of `total` pages were handled before (for progress). `natives`: templates to render with sitegen.native
    instead, by name."""
    total = total or len(pages)

    Shared = tuple[list[Staged], list[str], list[Diagnostic]]

    def render_share(share: Sequence[PlannedPage], here: bool) -> Shared:
        # Progress is shown by this process only; a child's share is counted when it arrives.
        entries, created = len(staging.entries), len(staging.created)
        show = progress if here else None
        diagnostics = _render_share(env, share, staging, stamps, total, done, show, natives)
        if not here:
            return staging.entries[entries:], staging.created[created:], diagnostics
        return [], [], diagnostics

    reported: set[tuple[str, str]] = set()
    for entries, created, diagnostics in parallel.map_chunks(render_share, pages, reserved):
        staging.adopt(entries, created)
        for diagnostic in diagnostics:
            if (diagnostic.path, diagnostic.message) not in reported:
                reported.add((diagnostic.path, diagnostic.message))
                report.diagnostics.append(diagnostic)


def _render_share(
    env: Environment,
    pages: Sequence[PlannedPage],
    staging: Staging,
    stamps: dict[str, str],
    total: int,
    start: int,
    progress: Progress | None,
    natives: Mapping[str, Any] | None = None,
) -> list[Diagnostic]:
    templates: dict[str, Any] = {}
    report = Report()
    reported: set[tuple[str, str]] = set()
    step = max(total // 100, 50)
    for done, page in enumerate(pages, start=start + 1):
        template = templates.get(page.template, False)
        if template is False:
            template = templates[page.template] = _template(env, page.template, report, natives)
        if template is not None:
            try:
                html = template.render(page.make_context())
            except Exception as exc:
                where, line = _template_position(exc, page.template)
                message = _message(exc)
                if (where, message) not in reported:
                    reported.add((where, message))
                    report.error(where, f"{message} (rendering {page.path or 'the home page'})", line)
            else:
                if not report.diagnostics:  # after an error the build fails: no need to write anything
                    staging.put(output_file(page.path), html.encode("utf-8"), stamps.get(page.path, ""))
        if progress and done % step == 0:
            progress("render", done, total)
    return report.diagnostics


def _template(env: Environment, name: str, report: Report, natives: Mapping[str, Any] | None) -> Any:
    """The template `name`, or what stands in for it in `natives`."""
    native = natives.get(name) if natives else None
    return native if native is not None else _load(env, name, report)


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
