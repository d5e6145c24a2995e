"""Edit-to-reload time of `sitegen serve --watch`: from saving a paper to the browser having loaded its page.

    python benchmarks/reload.py [--root DIR | --papers N [--own-templates]] [--edits K] [--kinds ...]

Runs the real CLI (`python -m sitegen serve --watch --port 0`) on a site, opens a paper in headless
chromium (Playwright, /usr/bin/chromium), and in a second tab the page of one of its tags that lists it.
Then K times it saves an edit of that paper the way editors do (temp file + rename): a new abstract, a new
note, a new title, in turn (`--kinds`), and waits for the paper's page to load again. For each edit it
records:

  save -> reload start   watcher debounce + incremental rebuild + the reload message (navigation start)
  save -> page loaded    what the curator waits for (the load event of the reloaded page)
  rebuild                the server's own figure ("rebuilt in N ms" on its standard error)
  title on tag page      for a title edit: until the open tag page has reloaded showing the new title (the
                         build that follows the paper's own page makes the lists again)

and prints the median and the spread, over all edits and per kind. `--papers N` generates (once, cached in
benchmarks/out/) a site of N papers with benchmarks/corpus.py; without --root or --papers, a copy of the
repository's sample site.
"""

from __future__ import annotations

import argparse
import math
import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "benchmarks" / "out"
CHROMIUM = "/usr/bin/chromium"
SERVE_START_TIMEOUT = 1800.0  # the first build of a large site
RELOAD_TIMEOUT_MS = 1_800_000


def sample_copy() -> Path:
    """The repository's sample site, copied so that the benchmark's edits never touch the checkout."""
    root = OUT / "reload-sample"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(REPO / "content", root / "content")
    if (REPO / "sitegen.yaml").is_file():
        shutil.copy2(REPO / "sitegen.yaml", root / "sitegen.yaml")
    return root  # templates and static: the built-in theme, which is the repository's own


def generate(papers: int) -> Path:
    root = OUT / f"reload-{papers}"
    if not (root / "content" / "papers").is_dir():
        subprocess.run(
            [sys.executable, str(REPO / "benchmarks" / "corpus.py"), str(papers), str(root)], check=True
        )
    return root


class Server:
    """`sitegen serve --watch` in a child process; its standard error is read on a thread."""

    def __init__(self, root: Path):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sitegen", "serve", "--root", str(root), "--port", "0", "--watch"],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            cwd=root,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.url_seen = False
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self._wait_for_url()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            line = line.rstrip("\n")
            self.lines.put(line)
            if self.url_seen:
                print(f"  server: {line}", flush=True)  # live, so a slow rebuild is visible as it happens

    def _wait_for_url(self) -> str:
        started = time.monotonic()
        while True:
            line = self.lines.get(timeout=SERVE_START_TIMEOUT)
            print(f"  server: {line}", flush=True)
            if match := re.search(r" at (http://\S+) ", line):
                print(f"  first build and start: {time.monotonic() - started:.1f} s", flush=True)
                self.url_seen = True
                return match.group(1)

    def rebuild_ms(self, timeout: float = 300.0) -> float | None:
        """The next 'rebuilt in N ms' figure (other lines are shown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                break
            if match := re.match(r"(rebuilt|failed) in (\d+) ms", line):
                return float(match.group(2))
        return None

    def stop(self) -> None:
        self.process.send_signal(2)  # SIGINT, as Ctrl-C
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def pick_paper(root: Path) -> Path:
    papers = sorted((root / "content" / "papers").glob("*.md"))
    if not papers:
        raise SystemExit(f"{root}: no papers in content/papers/")
    return papers[len(papers) // 2]


def _parts(text: str) -> tuple[str, str, str]:
    """(front matter, abstract, notes) of a paper's file: the abstract is the body's first paragraph."""
    _, head, rest = text.split("---\n", 2) if text.startswith("---\n") else ("", "", text)
    body = rest.lstrip("\n")
    abstract, _, notes = body.partition("\n\n")
    return head, abstract, notes


def _joined(head: str, abstract: str, notes: str) -> str:
    body = f"{abstract}\n\n{notes}"
    return f"---\n{head}---\n{body}" if head else body


def with_abstract(text: str, abstract: str) -> str:
    """The page with its first body paragraph replaced (the front matter and notes stay)."""
    head, _, notes = _parts(text)
    return _joined(head, abstract, notes)


def with_note(text: str, note: str) -> str:
    """The page with its notes (the body after the abstract) replaced by `note`."""
    head, abstract, _ = _parts(text)
    return _joined(head, abstract, note + "\n")


def with_title(text: str, title: str) -> str:
    """The page with the `title:` of its front matter replaced (a plain title: no quotes needed)."""
    head, abstract, notes = _parts(text)
    head, count = re.subn(r"^title:.*$", lambda _: f"title: {title}", head, count=1, flags=re.MULTILINE)
    if not count:
        raise SystemExit("the paper's front matter has no title: line")
    return _joined(head, abstract, notes)


EDITS = {"abstract": with_abstract, "note": with_note, "title": with_title}


def save_atomically(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


def slug_of(path: Path) -> str:
    match = re.search(r"^slug:\s*(\S+)", path.read_text(encoding="utf-8"), re.MULTILINE)
    return match.group(1).strip("'\"") if match else path.stem


def tag_page_listing(base_url: str, paper_page: str, slug: str) -> str | None:
    """The URL of a page of one of the paper's tags that lists the paper (tag pages are paginated), found
    over HTTP from the links of the paper's page; None if the paper has no tag."""
    from urllib.request import urlopen

    def read(url: str) -> str:
        with urlopen(url, timeout=60) as response:
            return response.read().decode("utf-8", "replace")

    link = f'href="/papers/{slug}/"'
    for tag_path in dict.fromkeys(re.findall(r'class="chip" href="/(tags/[^"/]+/)"', read(paper_page))):
        for n in range(1, 1000):
            url = base_url + tag_path + (f"page/{n}/" if n > 1 else "")
            try:
                html = read(url)
            except OSError:
                break
            if link in html:
                return url
    return None


def measure(
    root: Path, edits: int, pause: float, kinds: list[str], wait_for_builds: bool = True
) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    source = pick_paper(root)
    original = source.read_text(encoding="utf-8")
    figures: dict[str, list[float]] = {"start": [], "loaded": [], "rebuild": [], "tag page": []}
    for kind in kinds:
        figures[f"loaded, {kind}"] = []
    server = Server(root)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            context = browser.new_context()
            context.add_init_script(LOAD_LOG_SCRIPT)
            page = context.new_page()
            page.set_default_timeout(RELOAD_TIMEOUT_MS)
            paper_url = f"{server.url}papers/{slug_of(source)}/"
            page.goto(paper_url)
            print(f"  editing {source.name} ({page.title()!r})", flush=True)
            tag_url = tag_page_listing(server.url, paper_url, slug_of(source)) if "title" in kinds else None
            tag_page = None
            if tag_url is not None:
                tag_page = context.new_page()
                tag_page.set_default_timeout(RELOAD_TIMEOUT_MS)
                tag_page.goto(tag_url)
                print(f"  and watching {tag_url} for new titles", flush=True)
            for i in range(edits):
                kind = kinds[i % len(kinds)]
                marker = f"Reload benchmark edit {i} {time.time_ns()}."
                with page.expect_event("load", timeout=RELOAD_TIMEOUT_MS):
                    saved = time.time()
                    save_atomically(source, EDITS[kind](original, marker))
                # The page may reload more than once (the open page first, then again if the build that
                # follows changes it more, its related papers say): the figure is the first load that shows
                # the edit, timed by the browser itself.
                if not showing(page, marker):
                    print(f"  edit {i} ({kind}): no reload showed the new text; not counted", flush=True)
                    continue
                navigation_start, loaded = first_load_showing(page, marker)
                # (Without waiting, the next edit may come during this edit's build, which then gives up
                # for it: no server figure then.)
                rebuild = server.rebuild_ms() if wait_for_builds else None
                figures["start"].append((navigation_start - saved) * 1000)
                figures["loaded"].append((loaded - saved) * 1000)
                figures[f"loaded, {kind}"].append(figures["loaded"][-1])
                if rebuild is not None:
                    figures["rebuild"].append(rebuild)
                listed = ""
                if kind == "title" and tag_page is not None:
                    if not showing(tag_page, marker):
                        raise SystemExit(f"edit {i}: the tag page {tag_url} never showed the new title")
                    figures["tag page"].append((first_load_showing(tag_page, marker)[1] - saved) * 1000)
                    listed = f", title on the tag page {figures['tag page'][-1]:.0f} ms"
                print(
                    f"  edit {i} ({kind}): reload starts {figures['start'][-1]:.0f} ms, page loaded "
                    f"{figures['loaded'][-1]:.0f} ms, server rebuild {rebuild or float('nan'):.0f} ms"
                    + listed,
                    flush=True,
                )
                # Let the background search refresh finish, so it does not slow the next rebuild down.
                page.wait_for_timeout(pause * 1000)
            browser.close()
    finally:
        save_atomically(source, original)
        server.stop()
    return figures


# Each load of the page notes, in the tab's storage, when it started and ended and the edits it shows (all
# of them: an edit may leave another's marker, as a kept abstract does): a page that reloads twice in a row
# is gone before the harness could look at the first load.
LOAD_LOG_SCRIPT = """
addEventListener("load", () => setTimeout(() => {
  const shown = document.body.innerText.match(/Reload benchmark edit \\d+ \\d+\\./g) || [];
  const nav = performance.getEntriesByType("navigation")[0];
  const log = JSON.parse(sessionStorage.getItem("reload-log") || "[]");
  log.push([performance.timeOrigin, performance.timeOrigin + nav.loadEventEnd, shown]);
  sessionStorage.setItem("reload-log", JSON.stringify(log));
}, 0));
"""


def settled(page, read):
    """read(), done again once the page has loaded if it was in the middle of a navigation (Playwright will
    not read a page that is changing)."""
    from playwright.sync_api import Error

    for _ in range(50):
        try:
            return read()
        except Error:
            page.wait_for_load_state("load")
    return read()


def first_load_showing(page, marker: str) -> tuple[float, float]:
    """(navigation start, load end), in seconds since the epoch, of the first load that showed `marker`."""
    # (The page notes a load just after its load event: the harness may have seen the text a moment before.)
    deadline = time.monotonic() + 30
    while True:
        log = settled(page, lambda: page.evaluate("JSON.parse(sessionStorage.getItem('reload-log') || '[]')"))
        found = next(((s, e) for s, e, shown in log if marker in shown), None)
        if found is not None:
            return found[0] / 1000, found[1] / 1000
        if time.monotonic() > deadline:
            raise SystemExit(f"no load of the page noted that it showed {marker!r}")
        page.wait_for_timeout(20)


def showing(page, marker: str, timeout: float = 60.0) -> bool:
    """Whether the page comes to show `marker` within `timeout` seconds, waiting through further reloads."""
    from playwright.sync_api import Error

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if marker in settled(page, page.content):
            return True
        try:
            page.wait_for_event("load", timeout=max(deadline - time.monotonic(), 0.001) * 1000)
        except Error:  # no further load within the time left, or a navigation under way: look again
            continue
    return False


def summary(name: str, values: list[float]) -> str:
    if not values:
        return f"{name:>22}: no data"
    p95 = sorted(values)[math.ceil(0.95 * len(values)) - 1]  # (nearest rank)
    return (
        f"{name:>22}: median {statistics.median(values):7.0f} ms   p95 {p95:7.0f}   "
        f"min {min(values):7.0f}   max {max(values):7.0f}   (n={len(values)})"
    )


def with_own_templates(root: Path) -> Path:
    """A site of `root`'s content with a copy of the theme's templates of its own, made as
    benchmarks/run.py makes its second kind of site (one line added to paper.html)."""
    from run import Trash, own_templates

    own = root.with_name(root.name + "-own")
    trash = Trash(OUT / "trash")
    own_templates(root, own, trash)
    trash.empty()
    return own


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--root", type=Path, help="site folder (default: the repository's sample site)")
    where.add_argument("--papers", type=int, help="generate a site of N papers with benchmarks/corpus.py")
    parser.add_argument("--edits", type=int, default=7, help="edits to time (default 7)")
    parser.add_argument("--pause", type=float, default=5.0, help="seconds between edits (default 5)")
    parser.add_argument(
        "--own-templates",
        action="store_true",
        help="with --papers: a copy of the theme's templates of the site's own (as run.py's second kind)",
    )
    parser.add_argument(
        "--during-builds",
        action="store_true",
        help="the next edit `--pause` seconds after the page shows the last, not after the server's build",
    )
    parser.add_argument(
        "--kinds",
        default="abstract,note,title",
        help="the edits to make, in turn (default abstract,note,title)",
    )
    args = parser.parse_args(argv)
    kinds = [kind.strip() for kind in args.kinds.split(",") if kind.strip()]
    if not kinds or any(kind not in EDITS for kind in kinds):
        parser.error(f"--kinds: a comma-separated list of {', '.join(EDITS)}")
    if args.own_templates and not args.papers:
        parser.error("--own-templates goes with --papers")
    if args.papers:
        root = generate(args.papers)
        if args.own_templates:
            root = with_own_templates(root)
    elif args.root:
        root = args.root.resolve()
    else:
        root = sample_copy()
    count = len(list((root / "content" / "papers").glob("*.md")))
    print(f"site: {root} ({count} papers), {args.edits} edits: {', '.join(kinds)} in turn", flush=True)
    figures = measure(root, args.edits, args.pause, kinds, not args.during_builds)
    print(f"edit-to-reload, {count} papers:")
    print(summary("save -> reload start", figures["start"]))
    print(summary("save -> page loaded", figures["loaded"]))
    for kind in kinds:
        print(summary(f"page loaded, {kind}", figures[f"loaded, {kind}"]))
    print(summary("server rebuild", figures["rebuild"]))
    if "title" in kinds:
        print(summary("title on the tag page", figures["tag page"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
