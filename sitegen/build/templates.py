"""Templates: one tracking Jinja environment per builder, the site's templates before the built-in theme's.

Autoescaping is on and undefined variables are errors, so a typo in a template fails the build with the
template's file and line instead of printing an empty string. A template problem becomes a diagnostic, never a
traceback, and is reported once per template and message, not once per page.
"""

from __future__ import annotations

import collections
import contextlib
import os
import posixpath
import stat
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
import jinja2.runtime
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
)
from jinja2.loaders import split_template_path
from markupsafe import Markup

from sitegen import __version__
from sitegen.build.deps import Fragment, Reads, TrackingEnvironment, context_key, text_fingerprint
from sitegen.build.plan import human_date
from sitegen.build.search import filter_value
from sitegen.build.views import ITEM_TEMPLATE, PaperView
from sitegen.errors import Report
from sitegen.store.cache import CacheFolder
from sitegen.store.files import hasher
from sitegen.store.sources import NotUTF8, cannot_read, decode_utf8, read_bytes, read_source, refusal

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def theme_dir(name: str) -> Path:
    """The built-in theme's `templates` or `static` folder.

    Installed from a wheel, the theme lives inside the package (`sitegen/_theme/<name>`, mapped in
    pyproject.toml); from a checkout or an editable install it is the repository's top-level folder.
    """
    packaged = _PACKAGE_DIR / "_theme" / name
    return packaged if packaged.is_dir() else _PACKAGE_DIR.parent / name


class TemplateFileError(TemplateError):
    """A template file that cannot be read, or is not UTF-8: its path, and where known its line and column."""

    def __init__(self, filename: str, message: str, line: int = 0, col: int = 0):
        super().__init__(message)
        self.filename, self.lineno, self.col = filename, line, col


class TemplateFiles(FileSystemLoader):
    """Jinja's FileSystemLoader, reading through sitegen.store.sources (regular files of a bounded size only)
    and reporting a file that is not UTF-8 with its path and position instead of a bare UnicodeDecodeError.

    A name found in a folder but not readable as a template there (a folder, a FIFO, a broken link) is an
    error rather than a reason to look in the next folder: the site meant to override the theme's template."""

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        pieces = split_template_path(template)
        for folder in self.searchpath:
            filename = os.path.normpath(posixpath.join(folder, *pieces))
            if os.path.lexists(filename):
                break
        else:
            raise TemplateNotFound(template)
        try:
            data, st = read_source(filename)
            source = decode_utf8(data)
        except OSError as exc:
            raise TemplateFileError(filename, cannot_read(exc)) from None
        except NotUTF8 as exc:
            raise TemplateFileError(filename, exc.message, exc.line, exc.col) from None

        def uptodate() -> bool:
            try:
                return os.stat(filename).st_mtime_ns == st.st_mtime_ns
            except OSError:
                return False

        return source, filename, uptodate


def make_environment(site_templates: Path, compiled: CacheFolder | None = None) -> TrackingEnvironment:
    """The site's templates first, then the theme's.

    `theme/<name>` always names the theme's own template, so a site template can extend the one it overrides.
    `compiled`: the cache where compiled templates are kept between runs (keyed by each template's source).
    """
    theme = TemplateFiles(theme_dir("templates"))
    env = TrackingEnvironment(
        loader=ChoiceLoader([TemplateFiles(site_templates), theme, PrefixLoader({"theme": theme})]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # the builder looks at the template files once per build, not once per page
        cache_size=-1,
        bytecode_cache=_CompiledTemplates(compiled) if compiled is not None else None,
    )
    env.template_class = FlatGlobalsTemplate
    env.reads = Reads()
    env.filters["human_date"] = human_date
    env.filters["iso"] = lambda d: d.isoformat() if isinstance(d, date) else str(d)
    env.filters["pagefind_filter"] = filter_value  # a search filter's value, as Pagefind must read it
    env.globals["generator"] = f"sitegen {__version__}"
    return env


class FlatGlobalsTemplate(jinja2.Template):
    """A template whose globals (a ChainMap of its own and the environment's, which Jinja reads key by key in
    Python) are merged into one dict when a rendering starts, and whose import check compares keys in C. The
    context gets the same values either way: Jinja copies them into it. (A build renders tens of thousands of
    pages and fragments, and each page imports its macros.)"""

    def new_context(
        self,
        vars: dict[str, Any] | None = None,
        shared: bool = False,
        locals: Mapping[str, Any] | None = None,
    ) -> jinja2.runtime.Context:
        return jinja2.runtime.new_context(
            self.environment, self.name, self.blocks, vars, shared, _flat(self.globals), locals
        )

    def _get_default_module(
        self, ctx: jinja2.runtime.Context | None = None
    ) -> jinja2.environment.TemplateModule:
        # (Jinja's own, with the difference of keys taken against each map of the ChainMap)
        if ctx is not None:
            keys = ctx.globals_keys.difference(*_maps(self.globals))
            if keys:
                return self.make_module({k: ctx.parent[k] for k in keys})
        if self._module is None:
            self._module = self.make_module()
        return self._module


def _flat(values: Mapping[str, Any]) -> Mapping[str, Any]:
    if type(values) is collections.ChainMap:
        merged: dict[str, Any] = {}
        for mapping in reversed(values.maps):
            merged.update(mapping)
        return merged
    return values


def _maps(values: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return values.maps if type(values) is collections.ChainMap else [values]


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates in the site's cache folder, which spare compiling every template the build uses
    again in each run. Their bytecode is only run once its file matched its checksum: a damaged one can crash
    the process. A file that is missing, damaged or cannot be written is passed over (the template is
    compiled, and written again)."""

    def __init__(self, folder: CacheFolder):
        self.folder = folder

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = self.folder.read(self._name(bucket))
        if data is not None:
            # (Jinja then checks that the bytecode was compiled from the template's current source.)
            bucket.bytecode_from_string(bytes(data))

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.folder.write(self._name(bucket), bucket.bytecode_to_string())

    @staticmethod
    def _name(bucket: jinja2.bccache.Bucket) -> str:
        return f"template-{bucket.key}"


def site_template_names(folder: Path) -> list[str]:
    """The names of the templates in a site's template folder: every entry that is not a folder, hidden (an
    editor's swap file) or a backup (`name~`), by name."""
    names = []
    for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
        rel = path.relative_to(folder)
        if path.is_dir() or path.name.endswith("~") or any(part.startswith(".") for part in rel.parts):
            continue
        names.append(rel.as_posix())
    return names


def compile_templates(env: Environment, folder: Path, report: Report) -> bool:
    """Compile every template of the site's own folder (see site_template_names), so that a broken one is
    reported by `check` and by every build alike, used by a page or not. Returns whether all compiled."""
    ok = True
    for name in site_template_names(folder):
        path = folder / name
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            report.error(path, cannot_read(exc))
            ok = False
            continue
        if not stat.S_ISREG(mode):
            report.error(path, cannot_read(refusal(path, mode)))
            ok = False
        elif load(env, name, report) is None:
            ok = False
    return ok


def template_version(env: jinja2.Environment, name: str) -> str:
    """A hash of the source the loader finds for `name` now ("missing" when there is none)."""
    try:
        source = env.loader.get_source(env, name)[0] if env.loader else ""
    except TemplateError:  # (not found, or not readable: a build that uses it reports why)
        return "missing"
    return text_fingerprint(source)


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


# The navigation state of a page kind: (section, the section's own index page?).
_SECTIONS = {
    "home": ("home", True),
    "digests": ("digests", True),
    "digest": ("digests", False),
    "tags": ("tags", True),
    "tag": ("tags", False),
    "search": ("search", True),
    "reading": ("reading", True),
    "authors": ("authors", True),
    "authors-letter": ("authors", False),
    "author": ("authors", False),
}


def set_globals(env: TrackingEnvironment, common: dict[str, Any], report: Report) -> None:
    """The helpers and views of a build become the environment's globals, so that imported macro templates
    and fragments see them; the parts every page shares are fragments, rendered once per build:
    `head_assets`, `site_footer` and `site_header(page)` (one per navigation state)."""
    env.globals.update(common)
    env.globals["head_assets"] = _fragment(env, "partials/head_assets.html", {}, report)
    env.globals["site_footer"] = _fragment(env, "partials/footer.html", {}, report)
    headers: dict[tuple[str, bool], Fragment] = {}

    def site_header(page: Any) -> Fragment:
        state = _SECTIONS.get(getattr(page, "kind", ""), ("", False))
        found = headers.get(state)
        if found is None:
            context = {"section": state[0], "current": state[1]}
            found = headers[state] = _fragment(env, "partials/header.html", context, report)
        return found

    env.globals["site_header"] = site_header
    env.globals["fragment"] = fragment_maker(env)


def fragment_maker(env: TrackingEnvironment) -> Callable[..., Fragment]:
    """`fragment(name, **values)` for templates: the template `name` rendered with `values` once per build
    and reused by every page that shows it (a related paper shown on five pages, say). What it shows may
    depend only on `values` and what it reads (recorded, see Fragment): it sees the globals, not the page.
    An error in it propagates to the page that shows it (and is reported there, with the template's line)."""
    made: dict[tuple[str, str], Fragment] = {}

    def fragment(name: str, **values: Any) -> Fragment:
        key = (name, context_key(values))
        found = made.get(key)
        if found is None:
            found = made[key] = Fragment(env, lambda: env.get_template(name).render(values))
        return found

    return fragment


def _fragment(env: TrackingEnvironment, name: str, context: dict[str, Any], report: Report) -> Fragment:
    def make() -> str:
        template = load(env, name, report)
        if template is None:
            return ""
        try:
            return template.render(context)
        except Exception as exc:
            where, line = template_position(exc, name)
            report.error(where, message(exc), line)
            return ""

    return Fragment(env, make)


def item_maker(env: TrackingEnvironment) -> Callable[[PaperView], Fragment]:
    """What makes a paper's list item: partials/paper_item.html rendered once per build and paper. An error
    in it propagates to the page that shows the item (and is reported there, with the template's line)."""

    def item(view: PaperView) -> Fragment:
        return Fragment(env, lambda: env.get_template(ITEM_TEMPLATE).render(paper=view))

    return item


def load(env: jinja2.Environment, name: str, report: Report) -> jinja2.Template | None:
    try:
        return env.get_template(name)
    except TemplateFileError as exc:
        report.error(exc.filename, exc.message or "", exc.lineno, exc.col)
    except jinja2.TemplateSyntaxError as exc:
        report.error(exc.filename or name, f"template syntax error: {exc.message}", exc.lineno)
    except jinja2.TemplateNotFound as exc:
        report.error(name, f"template not found: {exc.name}")
    except TemplateError as exc:
        report.error(name, f"template error: {message(exc)}")
    return None


def message(exc: BaseException) -> str:
    if isinstance(exc, jinja2.UndefinedError):
        return f"undefined variable: {exc.message}"
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"template syntax error: {exc.message}"
    if isinstance(exc, TemplateError):
        return exc.message or type(exc).__name__
    return f"{type(exc).__name__}: {exc}"


def template_position(exc: BaseException, fallback: str) -> tuple[str, int]:
    """The innermost template file and line of an exception (Jinja maps template frames to their sources)."""
    if isinstance(exc, jinja2.TemplateSyntaxError | TemplateFileError) and exc.filename:
        return exc.filename, exc.lineno
    found = (fallback, 0)
    for frame in traceback.extract_tb(exc.__traceback__ or sys.exc_info()[2]):
        if frame.filename.endswith((".html", ".xml", ".j2", ".jinja")):
            found = (frame.filename, frame.lineno or 0)
    return found


def safe(html: str) -> Markup:
    """Mark trusted HTML (inline SVG from the charts) as safe to insert unescaped."""
    return Markup(html)


def templates_fingerprint(site: Path, theme: Path) -> str:
    """A hash of every file of the site's and the theme's template folders (names and bytes): when it
    changes, the compiled templates are dropped. Read at each build: a handful of small files, and unlike
    modification times a content hash cannot miss an edit."""
    h = hasher()
    for number, folder in enumerate((site, theme)):
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            with contextlib.suppress(OSError):  # (compile_templates reports a file that cannot be read)
                if path.is_file():
                    data = read_bytes(path)
                    h.update(f"{number}:{path.relative_to(folder).as_posix()}:{len(data)}:".encode())
                    h.update(data)
    return h.hexdigest()
