"""The search index step: the real Pagefind binary over hand-written output pages
(sitegen/build/search.py)."""

from __future__ import annotations

import functools
import gzip
import http.server
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import alive, paper, slow_pagefind, write_site

from sitegen.build.search import PAPER_GLOB, find_pagefind, index_site, plan_shards, read_sort_values
from sitegen.errors import SitegenError

pagefind_bin = pytest.importorskip("pagefind_bin")

# slug -> (title, tags, digests, abstract)
PAPERS = {
    "alpha": ("Alpha Vision Transformer", ["Vision"], ["2026-03-13"], "A transformer for images; alphaword."),
    "beta": ("Beta Pixel Model", ["Vision"], ["2026-03-13", "2026-03-14"], "A pixel transformer; betaword."),
    "gamma": ("Gamma Language Model", ["Language"], ["2026-03-14"], "A transformer for text; gammaword."),
    "delta": ("Delta Tokenizer", ["Language"], ["2026-03-14"], "Tokens for a transformer; deltaword."),
    "epsilon": ("Epsilon Speech", ["Language", "Vision"], ["2026-03-15"], "Audio transformer; epsilonword."),
}


def paper_html(slug: str) -> str:
    title, tags, digests, abstract = PAPERS[slug]
    tag_links = " ".join(f'<a href="/tags/{t.lower()}/" data-pagefind-filter="tag">{t}</a>' for t in tags)
    digest_links = " ".join(f'<time data-pagefind-filter="digest">{d}</time>' for d in digests)
    latest = max(digests)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body>
<header><a href="/">Site</a> <form action="/search/"><input name="q"></form> navigationword</header>
<main>
<article data-pagefind-body>
<h1 data-pagefind-meta="title">{title}</h1>
<span hidden data-pagefind-meta="date:{latest}" data-pagefind-sort="date:{latest}"></span>
<p>{digest_links}</p>
<p>{tag_links}</p>
<p>{abstract}</p>
<section id="related" data-pagefind-ignore>relatedword</section>
</article>
</main>
</body></html>
"""


def write_output(out: Path, slugs=tuple(PAPERS)) -> Path:
    for slug in slugs:
        path = out / "papers" / slug / "index.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(paper_html(slug), encoding="utf-8")
    # Pages that are not papers: never indexed (the glob leaves them out).
    (out / "tags" / "vision").mkdir(parents=True, exist_ok=True)
    (out / "tags" / "vision" / "index.html").write_text(
        '<html lang="en"><body><main data-pagefind-body><h1>Vision</h1>transformer</main></body></html>'
    )
    (out / "index.html").write_text('<html lang="en"><body><h1>Home</h1>transformer</body></html>')
    return out


def entry_pages(bundle: Path) -> int:
    entry = json.loads((bundle / "pagefind-entry.json").read_text(encoding="utf-8"))
    return sum(lang["page_count"] for lang in entry["languages"].values())


def _cbor(data: bytes, pos: int = 0):
    """The subset of CBOR Pagefind's filter files use: unsigned ints, text, arrays, maps."""
    major, info = data[pos] >> 5, data[pos] & 31
    pos += 1
    if info < 24:
        value = info
    else:
        size = {24: 1, 25: 2, 26: 4, 27: 8}[info]
        value = int.from_bytes(data[pos : pos + size], "big")
        pos += size
    if major == 0:
        return value, pos
    if major in (2, 3):
        raw = data[pos : pos + value]
        return (raw.decode("utf-8") if major == 3 else raw), pos + value
    if major == 4:
        items = []
        for _ in range(value):
            item, pos = _cbor(data, pos)
            items.append(item)
        return items, pos
    if major == 5:
        mapping = {}
        for _ in range(value):
            key, pos = _cbor(data, pos)
            mapping[key], pos = _cbor(data, pos)
        return mapping, pos
    raise ValueError(f"unexpected CBOR major type {major}")


def filter_counts(bundle: Path) -> dict[str, dict[str, int]]:
    """{filter: {value: pages}} read from the bundle's filter files."""
    counts: dict[str, dict[str, int]] = {}
    for path in (bundle / "filter").glob("*.pf_filter"):
        data = gzip.decompress(path.read_bytes())
        assert data.startswith(b"pagefind_dcd")
        (name, values), _ = _cbor(data[12:])
        counts[name] = {value: len(pages) for value, pages in values}
    return counts


def test_index_site_indexes_paper_pages_with_filters(tmp_path):
    out = write_output(tmp_path / "public")
    logs: list[str] = []
    result = index_site(out, log=logs.append)
    bundle = out / "pagefind"
    assert result.pages == 5 and result.shards == 1 and result.languages == ("en",)
    assert result.bundle == bundle
    assert entry_pages(bundle) == 5  # the tag page and the home page are left out
    for name in ("pagefind.js", "pagefind-ui.js", "pagefind-ui.css", "pagefind-entry.json"):
        assert (bundle / name).is_file(), name
    assert filter_counts(bundle) == {
        "tag": {"Vision": 3, "Language": 3},
        "digest": {"2026-03-13": 2, "2026-03-14": 3, "2026-03-15": 1},
    }
    manifest = json.loads((bundle / "shards.json").read_text(encoding="utf-8"))
    assert manifest == {"bundles": [], "base_url": "/", "pages": 5}
    assert not (out / ".pagefind.tmp").exists() and not (out / ".pagefind.work").exists()
    assert "search index: 5 pages in" in result.summary()
    assert any("--glob" in line for line in logs)


def test_large_sites_are_indexed_in_shards_listed_in_shards_json(tmp_path):
    out = write_output(tmp_path / "public")
    result = index_site(out, shard_pages=2, jobs=2)
    bundle = out / "pagefind"
    assert result.pages == 5 and result.shards == 3
    manifest = json.loads((bundle / "shards.json").read_text(encoding="utf-8"))
    assert manifest["bundles"] == ["shards/1/", "shards/2/"]
    sizes = [entry_pages(bundle), *(entry_pages(bundle / b) for b in manifest["bundles"])]
    assert sizes == [1, 2, 2]  # dealt by date, last shard first (see plan_shards)
    # Every page is in exactly one shard, and the shards' filter counts add up to the whole site's.
    totals: dict[str, dict[str, int]] = {}
    for path in [bundle, *(bundle / b for b in manifest["bundles"])]:
        for name, values in filter_counts(path).items():
            for value, n in values.items():
                totals.setdefault(name, {}).setdefault(value, 0)
                totals[name][value] += n
    assert totals["tag"] == {"Vision": 3, "Language": 3}
    assert not (out / ".pagefind.work").exists() and not (out / ".pagefind.tmp").exists()
    # Re-indexing unsharded replaces the whole bundle: no stale shards remain.
    assert index_site(out).shards == 1
    assert not (bundle / "shards").exists()
    assert entry_pages(bundle) == 5


def test_shards_are_gathered_in_memory_or_on_disk_alike(tmp_path, monkeypatch):
    import sitegen.build.search as search

    def leftovers() -> set[str]:
        shm = Path("/dev/shm")
        return {p.name for p in shm.glob("sitegen-pagefind-*")} if shm.is_dir() else set()

    before = leftovers()
    out = write_output(tmp_path / "memory")
    assert index_site(out, shard_pages=2).pages == 5
    assert leftovers() == before  # the links in memory are gone
    memory_counts = filter_counts(out / "pagefind")
    # Without a folder in memory, hard links beside the output do the same.
    monkeypatch.setattr(search, "_memory_folder", lambda: None)
    disk = write_output(tmp_path / "disk")
    assert index_site(disk, shard_pages=2).pages == 5
    assert filter_counts(disk / "pagefind") == memory_counts
    assert not (disk / ".pagefind.work").exists()


def test_gather_falls_back_to_the_disk_when_memory_fails(tmp_path):
    from sitegen.build.search import _gather

    out = write_output(tmp_path / "public")
    pages = ["papers/alpha/index.html", "papers/beta/index.html"]
    not_a_folder = tmp_path / "memory"
    not_a_folder.write_text("a file where a folder should be")
    site = _gather(out, pages, not_a_folder, tmp_path / "disk", "0")
    assert site == tmp_path / "disk" / "0"
    assert [(site / p).read_text() == (out / p).read_text() for p in pages] == [True, True]


def test_plan_shards_makes_the_fewest_even_groups():
    pages = [f"p{i:03}" for i in range(25)]
    groups = plan_shards(pages, 10)
    assert [len(g) for g in groups] == [9, 8, 8]
    assert [p for g in groups for p in g] == pages
    assert plan_shards(pages, 25) == [pages]
    assert plan_shards([], 10) == []


def test_plan_shards_deals_pages_in_sort_order_last_group_first():
    pages = [f"p{i:02}" for i in range(10)]
    values = {page: f"2026-03-{20 - i // 2:02}" for i, page in enumerate(pages)}  # newest in path order
    del values["p04"]  # a page without a date
    groups = plan_shards(pages, 4, values)
    assert sorted(len(g) for g in groups) == [3, 3, 4]
    ascending = sorted(values, key=lambda page: (values[page], page))
    for k, page in enumerate(ascending):
        assert groups[2 - k % 3][k // 3] == page  # place k // 3 in its shard's order, last shard first
    assert groups[0][-1] == "p04"  # undated pages fill the smallest groups
    # Numbers sort as numbers when every value is one (as Pagefind sorts them).
    numeric = plan_shards(["a", "b", "c", "d"], 2, {"a": "10", "b": "9", "c": "-1", "d": "100"})
    assert numeric == [["b", "d"], ["c", "a"]]


def test_read_sort_values_reads_the_date_of_each_page(tmp_path):
    out = write_output(tmp_path / "public")
    (out / "papers" / "undated").mkdir()
    (out / "papers" / "undated" / "index.html").write_text("<html><body>" + "x" * 20000 + "</body></html>")
    (out / "papers" / "late").mkdir()  # the attribute beyond the head that is read first
    (out / "papers" / "late" / "index.html").write_text(
        "<html><body>" + "x" * 8180 + '<span data-pagefind-sort="date:2026-01-02"></span></body></html>'
    )
    pages = ["papers/alpha/index.html", "papers/epsilon/index.html", "papers/undated/index.html"]
    pages += ["papers/late/index.html", "papers/missing/index.html"]
    assert read_sort_values(out, pages) == {
        "papers/alpha/index.html": "2026-03-13",
        "papers/epsilon/index.html": "2026-03-15",
        "papers/late/index.html": "2026-01-02",
    }


def test_no_pages_means_no_bundle_and_no_stale_index(tmp_path):
    out = write_output(tmp_path / "public")
    index_site(out)
    for slug in PAPERS:
        (out / "papers" / slug / "index.html").unlink()
    result = index_site(out)
    assert result.pages == 0 and result.shards == 0
    assert not (out / "pagefind").exists()


def test_missing_binary_is_one_line_error(tmp_path):
    out = write_output(tmp_path / "public")
    with pytest.raises(SitegenError) as caught:
        index_site(out, binary=tmp_path / "no-such-pagefind")
    assert caught.value.exit_code == 1
    message = str(caught.value)
    assert "\n" not in message
    assert "no-such-pagefind" in message and "--no-search" in message
    assert not (out / "pagefind").exists()


def test_binary_path_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(tmp_path / "elsewhere" / "pagefind"))
    with pytest.raises(SitegenError, match="elsewhere/pagefind is missing"):
        find_pagefind()
    monkeypatch.delenv("PAGEFIND_BINARY_PATH")
    assert find_pagefind() == Path(pagefind_bin.get_executable())


def test_pagefind_failure_keeps_the_previous_index(tmp_path):
    out = write_output(tmp_path / "public")
    index_site(out)
    before = sorted(p.relative_to(out).as_posix() for p in (out / "pagefind").rglob("*"))
    # Python reads this glob; Pagefind's glob parser refuses it, so the real binary fails.
    with pytest.raises(SitegenError) as caught:
        index_site(out, glob="papers//*/index.html")
    message = str(caught.value)
    assert caught.value.exit_code == 1 and "\n" not in message
    assert message.startswith("pagefind: search index: pagefind failed (exit 1): ")
    assert "did not parse as a valid glob" in message
    assert sorted(p.relative_to(out).as_posix() for p in (out / "pagefind").rglob("*")) == before
    assert not (out / ".pagefind.tmp").exists()


def test_a_cancelled_run_stops_pagefind_and_keeps_the_previous_index(tmp_path):
    out = write_output(tmp_path / "public")
    index_site(out)
    before = sorted(p.relative_to(out).as_posix() for p in (out / "pagefind").rglob("*"))
    binary, pid_file = slow_pagefind(tmp_path)
    cancel = threading.Event()

    def cancel_once_running() -> None:
        deadline = time.monotonic() + 20
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        cancel.set()

    threading.Thread(target=cancel_once_running, daemon=True).start()
    started = time.monotonic()
    with pytest.raises(SitegenError, match="search index: stopped"):
        index_site(out, binary=binary, cancel=cancel)
    assert time.monotonic() - started < 15  # not the minute the run would have taken
    assert not alive(int(pid_file.read_text()))
    assert sorted(p.relative_to(out).as_posix() for p in (out / "pagefind").rglob("*")) == before
    assert not (out / ".pagefind.tmp").exists()


def test_a_background_run_has_a_lower_priority(tmp_path):
    """serve's search refresh runs Pagefind below the priority of the server, whose pages edits reload."""
    out = write_output(tmp_path / "public")
    binary, pid_file = slow_pagefind(tmp_path)
    cancel = threading.Event()
    seen: list[int] = []

    def look_then_cancel() -> None:
        deadline = time.monotonic() + 20
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        seen.append(os.getpriority(os.PRIO_PROCESS, int(pid_file.read_text())))
        cancel.set()

    threading.Thread(target=look_then_cancel, daemon=True).start()
    with pytest.raises(SitegenError, match="stopped"):
        index_site(out, binary=binary, cancel=cancel, background=True)
    assert seen == [min(os.getpriority(os.PRIO_PROCESS, 0) + 10, 19)]


def test_default_glob_is_paper_pages():
    assert PAPER_GLOB == "papers/*/index.html"


# --- in a real browser: one search over all shards ------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path):
    """An HTTP server whose root holds the output folder under /review/ (a site hosted on a subpath)."""
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


SEARCH_ALL_SHARDS = """
async ([bundle, query, filters]) => {
  const pagefind = await import(bundle + "pagefind.js");
  // What the search page does once: merge the shards listed next to the main bundle.
  window.__merged ??= (async () => {
    const manifest = await (await fetch(bundle + "shards.json")).json();
    for (const shard of manifest.bundles) {
      await pagefind.mergeIndex(bundle + shard);
    }
  })();
  await window.__merged;
  const search = await pagefind.search(query, { filters });
  const pages = await Promise.all(search.results.map((r) => r.data()));
  return {
    urls: pages.map((p) => p.url).sort(),
    titles: pages.map((p) => p.meta.title).sort(),
    filters: await pagefind.filters(),
  };
}
"""


@pytest.mark.browser
def test_sharded_index_searches_every_shard_in_the_browser(served, browser):
    root, origin = served
    out = write_output(root / "review")
    assert index_site(out, base_path="/review/", shard_pages=2).shards == 3
    page = browser.new_page()
    try:
        page.goto(f"{origin}/review/")
        everything = page.evaluate(SEARCH_ALL_SHARDS, ["/review/pagefind/", "transformer", {}])
        assert everything["urls"] == [f"/review/papers/{slug}/" for slug in sorted(PAPERS)]
        assert everything["filters"]["tag"] == {"Vision": 3, "Language": 3}
        assert everything["filters"]["digest"] == {"2026-03-13": 2, "2026-03-14": 3, "2026-03-15": 1}
        vision = page.evaluate(SEARCH_ALL_SHARDS, ["/review/pagefind/", "transformer", {"tag": "Vision"}])
        assert vision["titles"] == ["Alpha Vision Transformer", "Beta Pixel Model", "Epsilon Speech"]
        one = page.evaluate(SEARCH_ALL_SHARDS, ["/review/pagefind/", "deltaword", {}])
        assert one["urls"] == ["/review/papers/delta/"]
        # Outside data-pagefind-body, and inside data-pagefind-ignore: not searchable.
        for word in ("navigationword", "relatedword"):
            assert page.evaluate(SEARCH_ALL_SHARDS, ["/review/pagefind/", word, {}])["urls"] == []
    finally:
        page.close()


SORTED_SEARCH = """
async ([bundle, direction]) => {
  const pagefind = await import(bundle + "pagefind.js");
  window.__merged ??= (async () => {
    const manifest = await (await fetch(bundle + "shards.json")).json();
    for (const shard of manifest.bundles) await pagefind.mergeIndex(bundle + shard);
  })();
  await window.__merged;
  const search = await pagefind.search("transformer", { sort: { date: direction } });
  return Promise.all(search.results.map(async (r) => (await r.data()).meta.date));
}
"""


@pytest.mark.browser
def test_a_merged_search_sorted_by_date_is_in_order_across_shards(served, browser):
    root, origin = served
    out = root / "review"
    # 60 pages over 9 dates, in an order of slugs unrelated to their dates.
    for i in range(60):
        day = f"2026-01-{1 + (i * 7) % 9:02}"
        path = out / "papers" / f"p{i:02}" / "index.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f'<html lang="en"><body><article data-pagefind-body><h1>Paper {i}</h1>'
            f'<span data-pagefind-meta="date:{day}" data-pagefind-sort="date:{day}"></span>'
            f"<p>A transformer, number {i}.</p></article></body></html>",
            encoding="utf-8",
        )
    shards = index_site(out, base_path="/review/", shard_pages=8).shards
    assert shards == 8
    page = browser.new_page()
    try:
        page.goto(f"{origin}/review/")
        newest = page.evaluate(SORTED_SEARCH, ["/review/pagefind/", "desc"])
        assert len(newest) == 60 and newest == sorted(newest, reverse=True)
        oldest = page.evaluate(SORTED_SEARCH, ["/review/pagefind/", "asc"])
        assert len(oldest) == 60
        # Ascending, pages may be out of order only within one round of the dealing (`shards` pages).
        assert all(oldest[i] <= oldest[j] for i in range(60) for j in range(i + shards, 60))
    finally:
        page.close()


# --- the command line: a missing or failing binary is one line and exit 1; --no-search needs no binary ------


def _mini_site(root: Path) -> Path:
    return write_site(root, {"content/papers/alpha.md": paper("alpha", digests="[2026-03-13]")})


def _build_cli(root: Path, out: Path, *extra: str, binary: Path | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PAGEFIND_BINARY_PATH"}
    if binary is not None:
        env["PAGEFIND_BINARY_PATH"] = str(binary)
    cmd = [sys.executable, "-m", "sitegen", "build", "--root", str(root), "--out", str(out), *extra]
    cmd += ["--base-url", "https://example.org/"]  # (or the build warns of links to localhost)
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)


def _failing_pagefind(path: Path) -> Path:
    path.write_text("#!/bin/sh\necho 'Error: the index could not be written' >&2\nexit 1\n")
    path.chmod(0o755)
    return path


@pytest.mark.parametrize("kind", ["missing", "failing", "not-a-program"])
def test_a_missing_or_failing_binary_stops_the_build_in_one_line(tmp_path, kind):
    root = _mini_site(tmp_path / "site")
    if kind == "missing":
        binary = tmp_path / "no-such-pagefind"
    elif kind == "failing":
        binary = _failing_pagefind(tmp_path / "pagefind")
    else:
        binary = tmp_path / "pagefind.txt"
        binary.write_text("not a program\n")
        binary.chmod(0o755)
    proc = _build_cli(root, tmp_path / "out", binary=binary)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("pagefind: search index")
    if kind == "missing":
        assert "no-such-pagefind is missing" in lines[0] and "--no-search" in lines[0]
    elif kind == "failing":
        assert lines[0].endswith("pagefind failed (exit 1): the index could not be written")
    else:
        assert "cannot run" in lines[0]
    assert not (tmp_path / "out" / "pagefind").exists()


def test_no_search_builds_without_the_binary(tmp_path):
    root = _mini_site(tmp_path / "site")
    proc = _build_cli(root, tmp_path / "out", "--no-search", binary=tmp_path / "no-such-pagefind")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "indexed" not in proc.stdout
    assert (tmp_path / "out" / "search" / "index.html").is_file()
    assert not (tmp_path / "out" / "pagefind").exists()


def test_no_search_build_removes_an_index_its_changes_made_stale(tmp_path):
    root = _mini_site(tmp_path / "site")
    out = tmp_path / "out"
    proc = _build_cli(root, out, binary=None)
    assert proc.returncode == 0, proc.stderr
    assert (out / "pagefind" / "pagefind.js").is_file()

    (root / "content" / "taxonomy.yaml").write_text("tags: []\n")  # no paper page changes
    proc = _build_cli(root, out, "--no-search", binary=None)
    assert proc.returncode == 0, proc.stderr
    assert (out / "pagefind" / "pagefind.js").is_file()  # still true to the paper pages
    assert "search index" not in proc.stdout

    page = root / "content" / "papers" / "alpha.md"
    page.write_text(page.read_text().replace("An abstract.", "A changed abstract."))
    proc = _build_cli(root, out, "--no-search", binary=None)
    assert proc.returncode == 0, proc.stderr
    assert not (out / "pagefind").exists()
    assert "the old search index was removed" in proc.stdout
