"""What `check` and every build validate alike beyond the content (which load_site validates): the site's
templates and static files. One function for both, so that they cannot come to disagree about a site."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from jinja2 import Environment

from sitegen.build import feeds
from sitegen.build.exports import plan_exports
from sitegen.build.output import _IGNORED, FINGERPRINTED
from sitegen.build.plan import plan_pages
from sitegen.build.templates import compile_templates, theme_dir
from sitegen.build.views import Shared, build_index
from sitegen.config import SiteConfig, site_path
from sitegen.content.model import Site
from sitegen.errors import Report
from sitegen.store.sources import refusal
from sitegen.text import urls
from sitegen.text.markdown import MarkdownRenderer


def check_site_files(root: Path, config: SiteConfig, env: Environment, report: Report) -> bool:
    """Compile every template of the site's own folder (errors) and name each entry of its static folder that
    the build cannot copy (warnings: the build leaves them out). Returns whether the templates compiled."""
    compiled = compile_templates(env, site_path(root, config.templates_dir).resolve(), report)
    for path, why in special_files(site_path(root, config.static_dir)):
        report.warning(path, f"static file ignored: {why}")
    return compiled


def special_files(folder: Path) -> list[tuple[Path, str]]:
    """The entries below `folder`, as collect_static lists them, that are neither folders nor regular files
    once links are followed (a FIFO, a device, a broken link), each with what it is."""
    found = []
    for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            found.append((path, str(exc.strerror or exc)))
            continue
        if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
            found.append((path, str(refusal(path, mode).strerror)))
    return found


def check_static_collisions(site: Site, report: Report) -> None:
    """`check`'s side of the warning a build gives for each static file that a file sitegen makes replaces
    (a `static/robots.txt`, a `static/papers/x/index.html`): the build leaves the static file out. The
    files are those of a build without --drafts. (A build finds them as it writes; `check` plans the pages
    without rendering them.)"""
    folders = [site_path(site.root, site.config.static_dir), theme_dir("static")]
    # Only these can be in the way (every file sitegen makes is one): most sites are spared the planning.
    candidates = [(out, source) for out, source in static_outputs(folders) if out.endswith(_MADE_SUFFIXES)]
    made = generated_files(site) if candidates else set()
    for out, source in candidates:
        if out in made:
            report.warning(source, f"static file ignored: sitegen writes {out}")


#: How the name of every file generated_files lists ends.
_MADE_SUFFIXES = (".html", ".xml", urls.ROBOTS, urls.EXPORT_BIB, urls.EXPORT_JSON)


def generated_files(site: Site) -> set[str]:
    """The files, relative to the output folder, that a build without --drafts makes besides the static
    ones: every page, the feeds, the exports, the sitemap and robots.txt."""
    config = site.config
    link = urls.Urls(config.base_url)
    markdown = MarkdownRenderer(allow_html=config.allow_html, link=link.content_link, heading_base=3)
    index = build_index(site, Shared(markdown, link), drafts=False)
    pages = plan_pages(index, config)
    made = {urls.output_file(page.path) for page in pages}
    made |= {urls.FEED, urls.SITEMAP, urls.ROBOTS} | {tag.feed_path for tag in index.tags}
    made |= {export.path for export in plan_exports(index)}
    # A sitemap too large for one file is an index of numbered parts (see feeds.sitemaps).
    parts = -(-sum(1 for page in pages if page.in_sitemap) // feeds.SITEMAP_LIMIT)
    if parts > 1:
        made |= {f"sitemap-{n}.xml" for n in range(1, parts + 1)}
    return made


def static_outputs(folders: list[Path]) -> list[tuple[str, Path]]:
    """The static files a build copies under their own name (as collect_static chooses them: the first
    folder wins; CSS and JavaScript go under a hashed name in assets/, where nothing else is written), each
    as (output path, source file), by output path."""
    chosen: dict[str, Path] = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            rel = path.relative_to(folder).as_posix()
            if path.is_file() and rel not in chosen and path.name not in _IGNORED:
                chosen[rel] = path
    return sorted((rel, path) for rel, path in chosen.items() if not rel.endswith(FINGERPRINTED))
