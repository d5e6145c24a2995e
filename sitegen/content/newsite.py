"""`sitegen new DIR`: a site folder to start from, with settings that explain themselves, the default tags,
empty content folders and a README on what to do next."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from pathlib import Path

from sitegen.config import CONFIG_NAME, SiteConfig
from sitegen.content.taxonomy import default_taxonomy
from sitegen.errors import Diagnostic, SitegenError
from sitegen.store.cache import CACHE_DIR

#: What each setting does, as the settings file explains it (one entry per field of SiteConfig).
SETTING_HELP: dict[str, str] = {
    "title": "The site's name: the header of every page, page titles, feeds.",
    "description": "One sentence on what the site is: the home page, feeds and search-engine snippets.",
    "base_url": (
        "The address the site will be served from, with its path if any (https://example.org/review/).\n"
        "Feeds, the sitemap, canonical links and BibTeX entries are absolute links built from it: set it\n"
        "before you deploy (or build with --base-url). `sitegen serve` uses its own address, whatever\n"
        "this says."
    ),
    "language": "The language of the pages (the `lang` attribute), as a code such as en or de.",
    "author": "The author named in the Atom feeds.",
    "per_page": "Papers per page of a tag's list; longer lists get more pages.",
    "feed_limit": "The most recent papers each feed holds.",
    "home_digests": "How many of the latest digests the home page lists.",
    "allow_html": "true: raw HTML in abstracts and notes is passed through; false: it is shown as text.",
    "related_count": "Related papers listed on each paper's page.",
    "content_dir": "The folder of the content: papers/, digests/ and taxonomy.yaml.",
    "templates_dir": "Your own Jinja templates; one with the name of a built-in template replaces it.",
    "static_dir": "Files copied into the site as they are (images, a favicon); one may replace a built-in.",
    "output_dir": "Where `sitegen build` writes the site (unless --out names another folder).",
}

#: Settings written as active lines: those a new site is expected to change. The others are written as
#: comments, so that they follow sitegen's defaults until the curator sets them.
ACTIVE = ("title", "description", "base_url", "author")

_KEEP = ".keep"  # makes git keep an empty folder; sitegen reads only *.md and *.yaml there

README = """\
# {name}

A literature-review site made with sitegen: one page per paper, lists by tag and by digest, feeds and a
search page, all static files. Run these commands in this folder (or add `--root FOLDER` from elsewhere).

1. **Import a digest.** `sitegen import digest.txt` turns a digest file into one page per paper in
   `content/papers/`, tagged by the rules in `content/taxonomy.yaml`. Write your notes below a paper's
   abstract: importing again never rewrites them.
2. **Check it.** `sitegen check` names every problem as `file:line:col: message`.
3. **Preview it.** `sitegen serve --watch`, then open http://127.0.0.1:8000/: pages reload as you edit.
4. **Build it.** Set `base_url` in `sitegen.yaml` to the address the site will have, then `sitegen build`
   writes the site to `public/`.
5. **Deploy it.** Copy `public/` to any static host (Netlify, GitHub Pages, a web server's folder).

`sitegen.yaml` explains every setting; `sitegen --help` lists the commands.
"""

GITIGNORE = f"# What sitegen makes: the built site and its cache.\n/public/\n/{CACHE_DIR}/\n"


def settings_text() -> str:
    """The settings file of a new site: every setting with what it does and its default."""
    lines = [
        "# Settings of this sitegen site. Every setting is optional: a commented-out line shows the default,",
        "# which applies until you remove the '#'. Folders are relative to this file's folder.",
        "# `sitegen check` names a misspelt or mistyped setting with its line.",
    ]
    for field in dataclasses.fields(SiteConfig):
        lines.append("")
        lines += [f"# {line}" for line in SETTING_HELP[field.name].splitlines()]
        comment = "" if field.name in ACTIVE else "# "
        lines.append(f"{comment}{field.name}: {_yaml_value(field.default)}")
    return "\n".join(lines) + "\n"


def _yaml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML double-quoted one
    return str(value)


def site_files(folder: Path) -> dict[Path, bytes]:
    """Every file of a new site in `folder`, by path, in the order they are written."""
    content = folder / "content"
    return {
        folder / CONFIG_NAME: settings_text().encode("utf-8"),
        content / "taxonomy.yaml": default_taxonomy(),
        content / "papers" / _KEEP: b"",
        content / "digests" / _KEEP: b"",
        folder / "README.md": README.format(name=folder.resolve().name or "site").encode("utf-8"),
        folder / ".gitignore": GITIGNORE.encode("utf-8"),
    }


def new_site(folder: Path) -> list[Path]:
    """Make a site in `folder`, which must be missing or empty. Returns the files written. Raises
    SitegenError (exit 2) for a folder in the way; an OSError (a full disk, a read-only parent) after
    removing what it made, so that a failed `new` leaves nothing behind."""
    try:
        entries = os.listdir(folder)
    except FileNotFoundError:
        entries = []
    except NotADirectoryError:
        message = "not a folder: a new site goes in a new or empty folder"
        raise SitegenError(Diagnostic(str(folder), message)) from None
    if entries:
        message = "not empty: a new site goes in a new or empty folder (nothing was written)"
        raise SitegenError(Diagnostic(str(folder), message))
    made: list[Path] = []  # folders and files, in the order made
    path = folder
    try:
        _make_folders(folder, made)
        for path, data in site_files(folder).items():
            _make_folders(path.parent, made)
            with open(path, "xb") as file:  # never over a file that appeared meanwhile
                made.append(path)
                file.write(data)
    except OSError as exc:
        _remove(made)
        if exc.filename is None:  # (a failed write names no file: the one being written is meant)
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise
    return [path for path in made if not path.is_dir()]


def _make_folders(folder: Path, made: list[Path]) -> None:
    """mkdir -p, noting each folder it made."""
    missing = []
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir()
        made.append(path)


def _remove(made: list[Path]) -> None:
    for path in reversed(made):
        # (What cannot be removed is left: the error that stopped `new` is the one to report.)
        with contextlib.suppress(OSError):
            path.rmdir() if path.is_dir() and not path.is_symlink() else path.unlink()
