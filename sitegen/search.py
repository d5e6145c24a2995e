"""Search index: the Pagefind binary run over the written paper pages (filters `tag` and `digest`).

The last stage of a build. Pagefind's own Python API answers each call about 100 ms late (its service loop
sleeps 0.1 s before reading every reply), so adding pages one by one would take minutes; the CLI over the
output folder does the same work in one process (see benchmarks/pagefind_scale.py for the figures).

The bundle is written to a temporary folder next to the output's `pagefind/` and swapped in when complete, so
a failed or interrupted run leaves the previous index in place and a server never sees half an index.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sitegen.errors import Diagnostic, SitegenError

BUNDLE_DIR = "pagefind"
PAPER_GLOB = "papers/*/index.html"
BINARY_ENV = "PAGEFIND_BINARY_PATH"  # the variable pagefind's own Python API honours


@dataclass(frozen=True, slots=True)
class SearchResult:
    """What the index holds: pages indexed, and how long Pagefind took."""

    pages: int
    seconds: float
    bundle: Path
    languages: tuple[str, ...] = ()

    def summary(self) -> str:
        return f"search index: {self.pages} pages in {self.seconds:.1f} s"


def _error(message: str) -> SitegenError:
    return SitegenError(Diagnostic("pagefind", message), exit_code=1)


def find_pagefind(binary: Path | None = None) -> Path:
    """The pagefind executable: `binary` if given, else $PAGEFIND_BINARY_PATH, else pagefind_bin's own."""
    if binary is None and os.environ.get(BINARY_ENV):
        binary = Path(os.environ[BINARY_ENV])
    if binary is None:
        try:
            from pagefind_bin import get_executable
        except ImportError:
            raise _error(
                "search index: the pagefind binary is not installed "
                "(pip install 'pagefind[bin]'), or build with --no-search"
            ) from None
        try:
            binary = Path(get_executable())
        except (FileNotFoundError, OSError):
            raise _error(
                "search index: the pagefind_bin package has no binary for this platform; "
                "reinstall it (pip install --force-reinstall 'pagefind[bin]') or build with --no-search"
            ) from None
    if not binary.is_file() or not os.access(binary, os.X_OK):
        raise _error(
            f"search index: pagefind binary {binary} is missing or not executable; or build with --no-search"
        )
    return binary


def _failure_line(output: str) -> str:
    """The first 'Error:' line Pagefind printed (it repeats them), else its last line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line.removeprefix("Error:").strip() for line in lines if line.startswith("Error:")]
    text = errors[0] if errors else (lines[-1] if lines else "no output")
    return text if len(text) <= 300 else text[:297] + "..."


def _count_pages(bundle: Path) -> tuple[int, tuple[str, ...]]:
    try:
        entry = json.loads((bundle / "pagefind-entry.json").read_text(encoding="utf-8"))
        languages = entry.get("languages", {})
        return sum(int(lang.get("page_count", 0)) for lang in languages.values()), tuple(sorted(languages))
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        raise _error(f"search index: pagefind wrote no readable pagefind-entry.json ({exc})") from None


def _has_pages(out_dir: Path, glob: str) -> bool:
    return next(iter(out_dir.glob(glob)), None) is not None


def index_site(
    out_dir: Path,
    *,
    base_path: str = "/",
    glob: str = PAPER_GLOB,
    force_language: str | None = None,
    binary: Path | None = None,
    log: Callable[[str], None] | None = None,
) -> SearchResult:
    """Index the pages of `out_dir` matching `glob` into `out_dir/pagefind/`.

    `base_path` is the path the site is served under ("/review/" for https://x.org/review/); the index stores
    URLs relative to the output folder and the search page passes `base_path` to Pagefind's `baseUrl`.
    Raises SitegenError (exit 1, one line) when the binary is missing or fails. A site with no pages to
    index gets no bundle (Pagefind refuses to write an empty one) and a result with pages=0.
    """
    del base_path  # result URLs are made absolute in the browser (Pagefind's baseUrl option)
    started = time.perf_counter()
    bundle = out_dir / BUNDLE_DIR
    if not _has_pages(out_dir, glob):
        shutil.rmtree(bundle, ignore_errors=True)  # an old index would find pages that no longer exist
        if log:
            log("search index: no pages to index")
        return SearchResult(pages=0, seconds=time.perf_counter() - started, bundle=bundle)
    executable = find_pagefind(binary)
    staging = out_dir / f".{BUNDLE_DIR}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    cmd = [
        os.fspath(executable),
        "--site",
        os.fspath(out_dir),
        "--output-path",
        os.fspath(staging),
        "--glob",
        glob,
    ]
    if force_language:
        cmd += ["--force-language", force_language]
    if log:
        log(f"search index: {' '.join(cmd)}")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", check=False)
    except OSError as exc:
        raise _error(f"search index: cannot run {executable}: {exc.strerror}") from None
    if proc.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        if proc.returncode < 0:
            reason = f"killed by signal {-proc.returncode}" + (
                " (out of memory?)" if proc.returncode == -9 else ""
            )
        else:
            reason = f"exit {proc.returncode}: {_failure_line(proc.stderr + chr(10) + proc.stdout)}"
        raise _error(f"search index: pagefind failed ({reason})")
    pages, languages = _count_pages(staging)
    _swap_in(staging, bundle)
    return SearchResult(pages, time.perf_counter() - started, bundle, languages)


def _swap_in(staging: Path, bundle: Path) -> None:
    """Replace `bundle` by `staging` with renames, so that the folder is always a complete index."""
    old = bundle.with_name(f".{bundle.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if bundle.exists():
        os.replace(bundle, old)
    os.replace(staging, bundle)
    shutil.rmtree(old, ignore_errors=True)
