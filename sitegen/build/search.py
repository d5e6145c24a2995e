"""Search index: the Pagefind binary run over the written paper pages (filters `tag`, `author` and `digest`).

The last stage of a build. Pagefind's own Python API answers each call about 100 ms late (its service loop
sleeps 0.1 s before reading every reply), so adding pages one by one would take minutes; the CLI over the
output folder does the same work in one process (benchmarks/pagefind_api.py measures both).

Pagefind holds the whole index in memory while it builds it: about 130 KB per paper page, so 30,000 pages
need 3.8 GB (hence the out-of-memory reports near 30,000 pages) and 100,000 pages 12.5 GB; its time grows
linearly (benchmarks/pagefind_scale.py). Above `shard_pages` pages the index is therefore built in shards of
at most that many pages, one Pagefind run each, so that memory stays bounded whatever the size of the site.
Shard 0 is the main bundle `pagefind/` (with Pagefind's UI files); shard i > 0 is `pagefind/shards/<i>/`.
`pagefind/shards.json` lists the other bundles relative to the main one, and the search page merges them into
one search with Pagefind's `mergeIndex`, which sums filter counts and ranks the results of all shards
together by score. Pages are dealt to shards one at a time in digest-date order (unrelated to content), so
each shard holds a like share of every period and topic: its word statistics, and hence its scores, match
the others'. The dealing also keeps a merged search sorted by date in order (see `plan_shards`).

The bundle is written to a temporary folder and swapped in when complete, so a failed or interrupted run
leaves the previous index in place and a server never sees half an index.

Text in the index reaches the search page through Pagefind's UI, which inserts filter values and excerpts as
HTML. Every bundle therefore gets `escaped/pagefind.js` (sitegen/build/pagefind_escaped.js), the API the
search page gives the UI, which escapes all it inserts: a tag named `<img src=x onerror=...>` is shown as
that text. `filter_value` writes filter values so that each one is found, and shown, as it was written.

Size: the Pagefind runs, the sharding of large sites and the escaped API bundle: one step of the build, with
its own failure handling.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sitegen.errors import Diagnostic, SitegenError
from sitegen.store.files import process_folder, remove_abandoned_folders
from sitegen.store.parallel import chunks

BUNDLE_DIR = "pagefind"
SHARDS_DIR = "shards"
SHARDS_FILE = "shards.json"
PAPER_GLOB = "papers/*/index.html"
BINARY_ENV = "PAGEFIND_BINARY_PATH"  # the variable pagefind's own Python API honours
ESCAPED_API = "escaped/pagefind.js"  # static/search.js gives Pagefind's UI this folder as its bundlePath
SORT_KEY = "date"  # the sort the search page offers: templates/paper.html's data-pagefind-sort="date:..."
# 5,000 pages take Pagefind ~0.73 GB (10,000: 1.4 GB), which keeps every process of a build under 1 GB.
# Fewer, larger shards would mean fewer requests per search in the browser (each shard is fetched apart).
DEFAULT_SHARD_PAGES = 5_000
MEMORY_FOLDER_PREFIX = "sitegen-pagefind-"  # the shards' links, in /dev/shm (see _memory_folder)
CANCEL_POLL = 0.1  # seconds between looks at a cancellable run's `cancel`
BACKGROUND_NICENESS = 10  # added to a background run's niceness (see index_site)


@dataclass(frozen=True, slots=True)
class SearchResult:
    """What the index holds: pages indexed, in how many shards, and how long Pagefind took."""

    pages: int
    seconds: float
    bundle: Path
    shards: int = 1
    languages: tuple[str, ...] = ()

    def summary(self) -> str:
        shards = f" in {self.shards} shards" if self.shards > 1 else ""
        return f"search index: {self.pages} pages{shards} in {self.seconds:.1f} s"


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
        except OSError:
            raise _error(
                "search index: the pagefind_bin package has no binary for this platform; reinstall it "
                "(pip install --force-reinstall 'pagefind[bin]') or build with --no-search"
            ) from None
    if not binary.is_file() or not os.access(binary, os.X_OK):
        raise _error(
            f"search index: pagefind binary {binary} is missing or not executable (or use --no-search)"
        )
    return binary


# An "&" and what may follow it in a character reference ("&lt;", "&#60;", "&amp"; also "&D" of "R&D", which
# html.unescape then leaves alone).
_REFERENCE = re.compile(r"&(?:#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[A-Za-z][A-Za-z0-9]*;?)")


def filter_value(text: str) -> str:
    r"""`text` as the value of a `data-pagefind-filter="name:value"` attribute, before the template escapes
    it: written so that a search for `text` finds it, and sitegen/build/pagefind_escaped.js shows it as
    `text`.

    Two quirks of Pagefind make this more than the text itself:
    - A search matches a filter value against the JSON text of the value asked for, unescaped: a value
      holding `"` or `\` is found only if the index holds it as JSON writes it (`\"`, `\\`). So the value
      is stored as the inside of its JSON string, and pagefind_escaped.js reads it back with JSON.parse.
    - It decodes character references in a filter value twice (meta values and page text once), so a tag
      named "&lt;b&gt;" would be filed as "<b>". An "&" that starts something `html.unescape` would decode is
      therefore written "&amp;"; any other "&" is left, so that "R&D" still reads right under a Pagefind
      that decodes once.
    """
    stored = json.dumps(text, ensure_ascii=False)[1:-1]  # the escapes of JSON.stringify, no more

    def one(found: re.Match) -> str:
        reference = found.group()
        return reference if html.unescape(reference) == reference else "&amp;" + reference[1:]

    return _REFERENCE.sub(one, stored)


def plan_shards(
    pages: list[str], shard_pages: int, sort_values: Mapping[str, str] | None = None
) -> list[list[str]]:
    """The fewest groups of at most `shard_pages` pages, of nearly equal size.

    Without `sort_values` the sorted page list is cut in consecutive runs. With them (page -> the value of
    its sort key, as Pagefind compares it), pages are dealt one per group in rounds, in ascending order of
    value, last group first; pages without a value are dealt after, to the smallest groups.

    Why: Pagefind scores a sorted result by its page's place in its own index's sort order, and
    `mergeIndex` orders the results of all shards by score, equal scores in shard order. Dealt this way,
    the page at place k of the whole site's ascending order is at place k // n of its shard (n groups), in
    group n - 1 - k % n: a merged search sorted descending ("newest first") comes out exactly in order,
    and one sorted ascending is off only between pages of one round that straddle two values. Cut in runs,
    each shard's places would span the whole range and the shards' results would interleave out of order.
    """
    if not pages:
        return []
    count = -(-len(pages) // max(shard_pages, 1))
    if sort_values is None:
        return [list(group) for group in chunks(pages, count)]
    groups = [[] for _ in range(count)]
    dated = [page for page in pages if page in sort_values]
    for k, page in enumerate(sorted(dated, key=_sort_order(sort_values))):
        groups[count - 1 - k % count].append(page)
    for page in pages:
        if page not in sort_values:
            min(groups, key=len).append(page)
    return groups


def _sort_order(values: Mapping[str, str]) -> Callable[[str], tuple]:
    """Pagefind's order of sort values: as numbers when every value is one, else as text (ISO dates sort
    alike either way); equal values in path order."""
    try:
        numbers = {page: float(value) for page, value in values.items()}
    except ValueError:
        return lambda page: (values[page], page)
    return lambda page: (numbers[page], page)


def read_sort_values(out_dir: Path, pages: list[str], key: str = SORT_KEY) -> dict[str, str]:
    """page -> the value of its `data-pagefind-sort="key:value"`, for the pages that have one. Only the
    head of a page is read when the attribute is there (sitegen's pages carry it near the top)."""
    pattern = re.compile(rb'data-pagefind-sort="' + re.escape(key.encode()) + rb':([^"]*)"')
    values = {}
    root = os.fspath(out_dir)
    for page in pages:
        try:  # os.open and os.read: half the time of open() on 10,000 small files
            fd = os.open(os.path.join(root, page), os.O_RDONLY)
            try:
                head = os.read(fd, 8192)
                found = pattern.search(head)
                if found is None and len(head) == 8192:
                    with os.fdopen(os.dup(fd), "rb") as rest:
                        found = pattern.search(head + rest.read())
            finally:
                os.close(fd)
        except OSError:
            continue  # gone since it was listed: Pagefind will not see it either
        if found:
            values[page] = html.unescape(found.group(1).decode("utf-8", "replace")).strip()
    return values


def remove_index(out_dir: Path) -> bool:
    """Remove the search index of `out_dir`; whether there was one."""
    bundle = out_dir / BUNDLE_DIR
    if not bundle.exists():
        return False
    shutil.rmtree(bundle, ignore_errors=True)
    return True


def index_site(
    out_dir: Path,
    *,
    base_path: str = "/",
    glob: str = PAPER_GLOB,
    shard_pages: int = DEFAULT_SHARD_PAGES,
    jobs: int = 1,
    force_language: str | None = None,
    binary: Path | None = None,
    log: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
    background: bool = False,
) -> SearchResult:
    """Index the pages of `out_dir` matching `glob` into `out_dir/pagefind/`.

    `base_path` is the path the site is served under ("/review/" for https://x.org/review/). The index stores
    page URLs relative to the output folder; `shards.json` records `base_path` as the `baseUrl` the search
    page may pass to Pagefind (Pagefind derives the same from where its bundle is served). `jobs` shards are
    indexed at a time: each needs its own memory, so 1 keeps the peak lowest.

    `glob` is read by Python's pathlib (to count and shard the pages) and by Pagefind (wax patterns): keep to
    what both read alike, `*`, `**`, `?` and `[...]`, relative to the output folder.

    Raises SitegenError (exit 1, one line) when the binary is missing or fails. A site with no pages to index
    gets no bundle (Pagefind refuses to write an empty one) and a result with pages=0.

    `cancel`: once set, a Pagefind run under way is stopped and SitegenError raised, the old index left in
    place (a server that stops must not leave a Pagefind behind, writing into a folder it has removed).
    `background`: Pagefind runs at a lower priority (`serve`'s refresh, which must not slow down the pages
    an edit reloads; a build waits for its index and runs it at its own).
    """
    started = time.perf_counter()
    bundle = out_dir / BUNDLE_DIR
    pages = _matching_pages(out_dir, glob)
    if not pages:
        shutil.rmtree(bundle, ignore_errors=True)  # an old index would find pages that no longer exist
        if log:
            log("search index: no pages to index")
        return SearchResult(pages=0, seconds=time.perf_counter() - started, bundle=bundle, shards=0)
    executable = find_pagefind(binary)
    staging = out_dir / f".{BUNDLE_DIR}.tmp"
    work = out_dir / f".{BUNDLE_DIR}.work"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)  # left by an interrupted run
    sharded = len(pages) > shard_pages
    memory: Path | None = None
    groups = plan_shards(pages, shard_pages, read_sort_values(out_dir, pages) if sharded else None)
    try:
        if len(groups) == 1:
            _run(executable, out_dir, staging, glob, force_language, log, "", cancel, background)
        else:
            memory = _memory_folder()

            def one(i: int) -> None:
                site = _gather(out_dir, groups[i], memory, work, str(i))
                target = staging if i == 0 else staging / SHARDS_DIR / str(i)
                label = f" shard {i + 1}/{len(groups)} ({len(groups[i])} pages)"
                # The shard folder holds only its pages: Pagefind's default glob takes them all, so the
                # pages are chosen by one glob implementation (Python's) alone.
                _run(executable, site, target, None, force_language, log, label, cancel, background)
                shutil.rmtree(site, ignore_errors=True)  # keep the disk use to one shard's links

            # (imported here, as subprocess below: a build that only removes an index needs neither)
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(groups)))) as pool:
                for _ in pool.map(one, range(len(groups))):
                    pass
        bundles = [f"{SHARDS_DIR}/{i}/" for i in range(1, len(groups))]
        manifest = {"bundles": bundles, "base_url": base_path, "pages": len(pages)}
        (staging / SHARDS_FILE).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        _write_escaped_api(staging)
        counted, languages = 0, set()
        for path in [staging, *(staging / b for b in bundles)]:
            n, langs = _count_pages(path)
            counted += n
            languages.update(langs)
        _swap_in(staging, bundle)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
        if memory is not None:
            shutil.rmtree(memory, ignore_errors=True)
    seconds = time.perf_counter() - started
    return SearchResult(counted, seconds, bundle, len(groups), tuple(sorted(languages)))


def _write_escaped_api(bundle: Path) -> None:
    """The module the search page's UI imports instead of the bundle's pagefind.js (see the module doc)."""
    source = resources.files("sitegen.build").joinpath("pagefind_escaped.js").read_bytes()
    target = bundle / ESCAPED_API
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source)


def _matching_pages(out_dir: Path, glob: str) -> list[str]:
    """Output-relative paths matching `glob`, sorted, outside the bundle and sitegen's dot folders."""
    found = []
    for path in out_dir.glob(glob):
        rel = path.relative_to(out_dir)
        if (
            rel.parts[0] == BUNDLE_DIR
            or any(part.startswith(".") for part in rel.parts)
            or not path.is_file()
        ):
            continue
        found.append(rel.as_posix())
    return sorted(found)


def _memory_folder() -> Path | None:
    """A new folder in memory (Linux's /dev/shm) for the shards' page folders, if the system has one and
    takes symbolic links there.

    A shard's folder holds a link per page in a folder per page. On a disk those are metadata writes: for
    5,000 pages, hard links in the output folder took 1-4 s to make and 4-13 s to remove on a busy ext4
    disk; symbolic links in memory take 0.3 s both ways. Pagefind reads a linked page as the page and names
    it by the link's path, so the index is the same."""
    memory = Path("/dev/shm")
    if not memory.is_dir() or not os.access(memory, os.W_OK | os.X_OK):
        return None
    remove_abandoned_folders(memory, MEMORY_FOLDER_PREFIX)  # (what a killed build left holds memory)
    try:
        folder = process_folder(memory, MEMORY_FOLDER_PREFIX)
    except OSError:
        return None
    try:
        os.symlink(folder, folder / "probe")
        os.unlink(folder / "probe")
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        return None
    return folder


def _gather(out_dir: Path, pages: list[str], memory: Path | None, disk: Path, name: str) -> Path:
    """A folder of links to just these pages: in memory if there is room, else beside the output."""
    if memory is not None:
        try:
            _link_pages(out_dir, pages, memory / name, symbolic=True)
            return memory / name
        except OSError:  # a small /dev/shm (containers): the disk will do
            shutil.rmtree(memory / name, ignore_errors=True)
    try:
        _link_pages(out_dir, pages, disk / name)
    except OSError as exc:
        raise _error(f"search index: cannot link the pages of a shard into {disk}: {exc.strerror}") from None
    return disk / name


def _link_pages(out_dir: Path, pages: list[str], site: Path, symbolic: bool = False) -> None:
    """A folder holding just these pages at the same relative paths, so Pagefind gives them the same URLs:
    symbolic links (to absolute paths), else hard links, else copies."""
    made: set[Path] = set()
    source = out_dir.resolve()
    for rel in pages:
        target = site / rel
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        if symbolic:
            os.symlink(source / rel, target)
            continue
        try:
            os.link(out_dir / rel, target)
        except OSError:  # a file system without hard links
            shutil.copyfile(out_dir / rel, target)


def _run(
    executable: Path,
    site: Path,
    output: Path,
    glob: str | None,
    force_language: str | None,
    log: Callable[[str], None] | None,
    label: str,
    cancel: threading.Event | None = None,
    background: bool = False,
) -> None:
    cmd = [os.fspath(executable), "--site", os.fspath(site), "--output-path", os.fspath(output)]
    if glob:
        cmd += ["--glob", glob]
    if force_language:
        cmd += ["--force-language", force_language]
    if log:
        log(f"search index{label}: {' '.join(cmd)}")
    import subprocess  # see index_site

    if cancel is not None and cancel.is_set():
        raise _error(f"search index{label}: stopped")
    pipe = subprocess.PIPE
    try:
        process = subprocess.Popen(cmd, stdout=pipe, stderr=pipe, text=True, errors="replace")
    except OSError as exc:
        raise _error(f"search index: cannot run {executable}: {exc.strerror}") from None
    if background and hasattr(os, "setpriority"):
        # (Set from here, not in the child before it runs: a process with threads, as `serve` is, must not
        # run Python code between fork and exec. Pagefind starts its worker threads after reading the
        # pages, and they take its priority.)
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, process.pid, BACKGROUND_NICENESS)
    with process:
        try:
            while True:
                try:
                    # (Asked again and again when it may be cancelled: no output is lost in between.)
                    stdout, stderr = process.communicate(timeout=CANCEL_POLL if cancel else None)
                    break
                except subprocess.TimeoutExpired:
                    if cancel is not None and cancel.is_set():
                        raise _error(f"search index{label}: stopped") from None
        except BaseException:  # stopped, Ctrl-C: Pagefind goes too
            process.kill()
            process.wait()
            raise
    code = process.returncode
    if code < 0:
        reason = f"killed by signal {-code}" + (" (out of memory?)" if code == -9 else "")
        raise _error(f"search index{label}: pagefind failed ({reason})")
    if code != 0:
        tail = _failure_line(stderr + "\n" + stdout)
        raise _error(f"search index{label}: pagefind failed (exit {code}): {tail}")


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


def _swap_in(staging: Path, bundle: Path) -> None:
    """Replace `bundle` by `staging` with renames, so that the folder is always a complete index."""
    old = bundle.with_name(f".{bundle.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if bundle.exists():
        os.replace(bundle, old)
    os.replace(staging, bundle)
    shutil.rmtree(old, ignore_errors=True)
