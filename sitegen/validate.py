"""What `check` and every build validate alike beyond the content (which load_site validates): the site's
templates and static files. One function for both, so that they cannot come to disagree about a site."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from jinja2 import Environment

from sitegen.build.templates import compile_templates
from sitegen.config import SiteConfig, site_path
from sitegen.errors import Report
from sitegen.sources import refusal


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
