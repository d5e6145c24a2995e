"""sitegen against Hugo on the same corpus: build times, rebuild times, search index, peak memory.

    python benchmarks/run.py --papers 10000 [--keep DIR] [--runs 3] [--check-identical] [--with-search]

In one run, on one generated corpus (benchmarks/corpus.py; reused when DIR already holds it):

  cold         `sitegen build --no-search` into a fresh output folder, no cache
  no change    the same build again, nothing changed
  <edit>       the build after one edit of each kind, one after the other (abstract, rewrite, note, title,
               tags, status, add: each of another paper). "abstract" adds a sentence to the abstract;
               "rewrite" replaces the whole abstract with another paper's (a curator pasting the right
               abstract over a scraped one), which changes the weight of many terms for related papers;
               "add" writes a new paper file, a copy of the paper under another slug and title

each for both kinds of site (--sites): "theme", the corpus on the built-in theme, and "own", the same corpus
with its own copy of the theme's templates, one line added to paper.html (as most users' sites are);
  search       the search index step alone (sitegen.build.search.index_site over the cold build's output)
  full         (--with-search) a cold `sitegen build` with search, as a user runs it
  hugo         Hugo building the equivalent site (benchmarks/hugo_site.py): `hugo --quiet --gc` into a fresh
               folder with a fresh cache folder

Every figure is the median of --runs runs (the machine is shared and noisy), each a separate process, taken in
rounds of Hugo and sitegen (cold, no change, one edit), Hugo first in odd rounds and sitegen first in even
ones, so that the figures compared are measured side by side even when the machine's speed drifts. Memory:
"peak" is the largest process (as /usr/bin/time reports it), "total" the sampled sum over the process tree
(build + pagefind + workers). --check-identical compares the outputs of the no-change and one-edit builds byte
for byte with a cold build of the same content.

Old outputs and caches are moved into WORK/trash, not deleted, and the trash is emptied when the run ends.
On a filesystem without a journal (ext4 here), a file created within a minute of many deletions costs the
kernel a check of every recently freed inode it passes over. Deleting the last round's 11,000 files before
each build multiplied the builds' system time by 4 to 8, more in every round, and charged the harness's own
deletions to whichever tool ran next.
"""

from __future__ import annotations

import argparse
import filecmp
import itertools
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
for path in (HERE, REPO):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import corpus  # noqa: E402
import hugo_site  # noqa: E402
from measure import Measurement, measure, median_run, repeat  # noqa: E402

from sitegen.content.frontmatter import split  # noqa: E402

HUGO = shutil.which("hugo") or "/usr/bin/hugo"
MANIFEST = ".sitegen-manifest.json"  # sitegen's own record of what it wrote; not part of the site
CACHE_DIRS = (".sitegen-cache",)
# Issue 7's targets. At 10,000 papers: times as ratios to Hugo's, and peak memory of the builds.
TARGET_PAPERS = 10_000
EDITS = ("abstract", "rewrite", "note", "title", "tags", "status", "add")
TARGETS = {"cold": 0.7, "no change": 0.1, **dict.fromkeys(EDITS, 0.1)}
SITES = ("theme", "own")
MEMORY_TARGET_MB = 1024
# At 100,000 papers: the build with search completes under this peak (the process tree's total).
LARGE_PAPERS, LARGE_MEMORY_TARGET_MB = 100_000, 4096


@dataclass
class Row:
    name: str
    result: Measurement | None
    note: str = ""


def sitegen_build(root: Path, out: Path, search: bool = False) -> list[str | Path]:
    cmd: list[str | Path] = [sys.executable, "-m", "sitegen", "build", "--root", root, "--out", out]
    return cmd if search else [*cmd, "--no-search"]


def byte_compile_sitegen() -> None:
    """Write the bytecode of sitegen's modules, as an installed sitegen has it: pip byte-compiles a package it
    installs, and Python writes the bytecode of an editable install on its first run, unless
    PYTHONDONTWRITEBYTECODE is set (as it is on the machine the project is measured on). Without it every
    run would compile sitegen's source again, about 0.075 s that a user's runs do not pay."""
    import compileall

    import sitegen

    compileall.compile_dir(Path(sitegen.__file__).parent, quiet=1)


def sitegen_available(root: Path, scratch: Path) -> tuple[bool, str]:
    """Whether `sitegen build` exists here; a one-paper site is built to find out."""
    probe = scratch / "probe"
    shutil.rmtree(probe, ignore_errors=True)
    papers = probe / "content" / "papers"
    papers.mkdir(parents=True)
    (papers / "probe.md").write_text('---\ntitle: "Probe"\nslug: probe\ndigests: [2026-03-13]\n---\nText.\n')
    result = measure(sitegen_build(probe, probe / "public"))
    shutil.rmtree(probe, ignore_errors=True)
    if result.ok:
        return True, ""
    return False, result.tail(2) or f"exit {result.returncode}"


class Trash:
    """Where old outputs go until the run ends (see the module docstring): a rename, not a deletion."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._names = itertools.count(1)

    def put(self, *paths: Path) -> None:
        for path in paths:
            if path.exists() or path.is_symlink():
                self.folder.mkdir(parents=True, exist_ok=True)
                os.rename(path, self.folder / f"{os.getpid()}-{next(self._names)}-{path.name}")

    def empty(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def clear_caches(root: Path, trash: Trash) -> None:
    trash.put(*(root / name for name in CACHE_DIRS))


def _abstract(path: Path) -> tuple[str, str, str]:
    """(the file up to its body, the abstract: the body's first paragraph, the rest of the body after it)."""
    text = path.read_text(encoding="utf-8")
    _yaml, body, _line = split(text)
    first, sep, rest = body.partition("\n\n")
    return text[: len(text) - len(body)], first.rstrip("\n"), f"{sep[1:] if sep else ''}{rest}"


def edit_abstract(path: Path, revision: int) -> None:
    """Change the abstract (the body's first paragraph) of one paper, keeping the file valid."""
    head, first, notes = _abstract(path)
    marker = " Revised for the benchmark, revision "
    if marker in first:
        first = first[: first.index(marker)]
    path.write_text(f"{head}{first}{marker}{revision}.\n{notes}", encoding="utf-8")


def rewrite_abstract(path: Path, revision: int) -> None:
    """Replace the abstract of one paper by another paper's (which one depends on `revision`), keeping the
    notes and the file valid."""
    papers = sorted(path.parent.glob("*.md"))
    here = papers.index(path)
    other = papers[(here + 1 + 7919 * revision) % len(papers)]
    if other == path:
        other = papers[(here + 1) % len(papers)]
    head, _first, notes = _abstract(path)
    path.write_text(f"{head}{_abstract(other)[1]} Rewritten, revision {revision}.\n{notes}", encoding="utf-8")


def add_paper(path: Path, revision: int) -> None:
    """A new paper file beside the one at `path`: a copy of it under another slug and title."""
    text = path.read_text(encoding="utf-8")
    slug = f"{path.stem}-copy-{revision}"
    text = re.sub(r"^slug: .*$", f"slug: {slug}", text, count=1, flags=re.M)
    text = re.sub(r'^(title: "?)(.*?)("?)$', rf"\1\2, copy {revision}\3", text, count=1, flags=re.M)
    (path.parent / f"{slug}.md").write_text(text, encoding="utf-8")


def edit(kind: str, path: Path, revision: int) -> None:
    """One edit of `kind` to the paper at `path`, keeping the file valid."""
    if kind == "add":
        add_paper(path, revision)
        return
    if kind == "abstract":
        edit_abstract(path, revision)
        return
    if kind == "rewrite":
        rewrite_abstract(path, revision)
        return
    text = path.read_text(encoding="utf-8")
    if kind == "note":
        text = text.rstrip("\n") + f"\n\nA note of revision {revision}.\n"
    elif kind == "title":
        text = re.sub(r'^(title: "?)(.*?)("?)$', rf"\1\2 r{revision}\3", text, count=1, flags=re.M)
    elif kind == "tags":
        tag = "vision" if revision % 2 else "llm"
        text = re.sub(r"^tags: \[", f"tags: [{tag}, ", text, count=1, flags=re.M)
    elif kind == "status":
        status = ("unread", "reading", "read")[revision % 3]
        text = re.sub(r"^status: \w+\n", "", text, flags=re.M)
        text = text.replace("\n---\n", f"\nstatus: {status}\n---\n", 1)
    path.write_text(text, encoding="utf-8")


def own_templates(root: Path, own: Path, trash: Trash) -> None:
    """`own`: the corpus of `root` with a copy of the theme's templates of its own, one line added to
    paper.html (a symlink to the content, so both sites share it)."""
    trash.put(own)
    own.mkdir(parents=True)
    for name in os.listdir(root):
        if name not in CACHE_DIRS:
            os.symlink(root / name, own / name)
    shutil.copytree(REPO / "templates", own / "templates")
    paper = own / "templates" / "paper.html"
    text = paper.read_text(encoding="utf-8")
    paper.write_text(text.replace("{% block content %}", "{% block content %}\n<!-- the site's own -->", 1))


def compare_trees(a: Path, b: Path) -> list[str]:
    """Differences between two output folders (sitegen's manifest ignored), as readable lines."""
    problems: list[str] = []

    def walk(rel: str) -> None:
        cmp = filecmp.dircmp(a / rel, b / rel, ignore=[MANIFEST])
        for name in cmp.left_only:
            problems.append(f"only in the fast-path build: {rel}{name}")
        for name in cmp.right_only:
            problems.append(f"only in the cold build: {rel}{name}")
        _match, mismatch, errors = filecmp.cmpfiles(a / rel, b / rel, cmp.common_files, shallow=False)
        problems.extend(f"differs: {rel}{name}" for name in mismatch + errors)
        for sub in cmp.common_dirs:
            walk(f"{rel}{sub}/")

    walk("")
    return problems


def check_identical(label: str, root: Path, out: Path, cold_out: Path, trash: Trash) -> list[str]:
    """Build the same content cold into `cold_out` and compare it with `out`."""
    trash.put(cold_out)
    clear_caches(root, trash)
    reference = measure(sitegen_build(root, cold_out))
    if not reference.ok:
        return [f"{label}: the reference cold build failed: {reference.tail(2)}"]
    return [f"{label}: {problem}" for problem in compare_trees(out, cold_out)]


def code_fingerprint() -> str:
    """A hash of sitegen's code, templates and theme files: a change during a run explains differences."""
    import hashlib

    h = hashlib.blake2b(digest_size=8)
    for folder in ("sitegen", "templates", "static"):
        for path in sorted((REPO / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(path.relative_to(REPO).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def show(row: Row, hugo: Measurement | None, targets: bool = True) -> str:
    r = row.result
    if r is None:
        return f"  {row.name:<15} {'-':>8}  {row.note}"
    if not r.ok:
        return f"  {row.name:<15} FAILED (exit {r.returncode}): {r.tail(3)}"
    compare = hugo is not None and hugo.ok and row.name != "hugo"
    ratio = f"{r.seconds / hugo.seconds:>6.2f}x" if compare else " " * 7
    cpu_ratio = f"{r.cpu_seconds / hugo.cpu_seconds:>6.2f}x" if compare and hugo.cpu_seconds else " " * 7
    target = TARGETS.get(row.name.split(" ", 1)[-1]) if targets else None
    verdict = ""
    if target and hugo and hugo.ok:
        verdict = " ok" if r.seconds <= target * hugo.seconds else f" MISSES the {target}x target"
    return (
        f"  {row.name:<15} {r.seconds:>8.2f} {ratio} {r.cpu_seconds:>8.1f} {cpu_ratio} {r.max_rss_mb:>8.0f} "
        f"{r.peak_total_mb:>8.0f}  {row.note}{verdict}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="work folder to keep and reuse (default: a temporary one)")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure; the median is shown")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--check-identical", action="store_true", help="compare fast-path builds to a cold one"
    )
    parser.add_argument(
        "--sites", type=lambda v: tuple(v.split(",")), default=SITES, help="theme,own (default: both)"
    )
    parser.add_argument("--with-search", action="store_true", help="also time a cold build with search")
    parser.add_argument("--hugo-related", action="store_true", help="Hugo lists related pages (slow)")
    parser.add_argument("--no-hugo", action="store_true", help="skip Hugo")
    parser.add_argument("--no-sitegen", action="store_true", help="skip sitegen (corpus and Hugo only)")
    args = parser.parse_args(argv)

    work = (args.keep or Path(tempfile.mkdtemp(prefix="sitegen-bench-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    tag = f"{args.papers}-s{args.seed}"  # runs of other sizes can share the work folder
    root = work / f"corpus-{tag}"
    out, cold_out = work / f"out-sitegen-{tag}", work / f"out-cold-{tag}"
    trash = Trash(work / "trash")
    try:
        manifest = corpus.existing_manifest(root)
        if manifest and manifest.get("seed") == args.seed:
            print(f"corpus: reusing {root}")
        else:
            trash.put(root)
            manifest = corpus.generate(args.papers, root, seed=args.seed)
            made = f"{manifest['papers']} papers, {manifest['digests']} digests"
            print(f"corpus: {made} in {manifest['seconds']} s")
        print(f"machine: {os.cpu_count()} cores; runs per figure: {args.runs} (median)")
        fingerprint = code_fingerprint()
        byte_compile_sitegen()
        rows: list[Row] = []
        hugo: Measurement | None = None
        problems: list[str] = []

        hugo_cmd: list[str | Path] | None = None
        hugo_note = ""
        if not args.no_hugo:
            hugo_dir, hugo_out = work / f"hugo-site-{tag}", work / f"out-hugo-{tag}"
            hugo_cache = work / f"hugo-cache-{tag}"
            trash.put(hugo_dir)  # (convert would delete it)
            counts = hugo_site.convert(root, hugo_dir, related=args.hugo_related)
            hugo_cmd = [HUGO, "--quiet", "--gc", "--source", hugo_dir, "--destination", hugo_out]
            hugo_cmd += ["--cacheDir", hugo_cache]
            hugo_note = f"{counts['papers']} papers"

        available, why = (False, "skipped") if args.no_sitegen else sitegen_available(root, work)
        sites = {"theme": root, "own": work / f"corpus-own-{tag}"}
        if "own" in args.sites:
            own_templates(root, sites["own"], trash)
        papers = sorted((root / "content" / "papers").glob("*.md"))
        victims = {kind: papers[(args.papers // 2 + 7 * n) % len(papers)] for n, kind in enumerate(EDITS)}
        originals = {kind: path.read_bytes() for kind, path in victims.items()}
        revision = iter(range(1, 1000))
        # Rounds of Hugo and sitegen (cold, no change, each edit), each round from the pristine corpus: on a
        # shared machine whose speed drifts over minutes, the figures compared are taken side by side. The
        # order alternates (Hugo first in odd rounds, sitegen first in even ones): a build runs slower right
        # after another tool's deletions and writes, and neither tool should always be the one that follows.
        steps = ("cold", "no change", *EDITS)
        series: dict[str, list[Measurement]] = {"hugo": []}
        series.update({f"{site} {step}": [] for site in args.sites for step in steps})

        def restore() -> None:
            for kind, path in victims.items():
                path.write_bytes(originals[kind])
                for added in path.parent.glob(f"{path.stem}-copy-*.md"):  # (the "add" edit's)
                    added.unlink()

        def run_hugo() -> None:
            if hugo_cmd is not None:
                trash.put(hugo_out, hugo_cache)
                series["hugo"].append(measure(hugo_cmd))

        def run_sitegen(site: str, last: bool) -> list[str]:
            found: list[str] = []
            if not available:
                return found
            site_root = sites[site]
            build = sitegen_build(site_root, out)
            restore()
            trash.put(out)
            clear_caches(site_root, trash)
            cold = measure(build)
            series[f"{site} cold"].append(cold)
            if not cold.ok:
                return found
            series[f"{site} no change"].append(measure(build))
            if last and args.check_identical:
                found += check_identical(f"{site} no change", site_root, out, cold_out, trash)
            for kind in EDITS:
                edit(kind, victims[kind], next(revision))
                series[f"{site} {kind}"].append(measure(build))
                if last and args.check_identical:
                    found += check_identical(f"{site} {kind}", site_root, out, cold_out, trash)
            return found

        try:
            for number in range(1, args.runs + 1):
                last = number == args.runs
                if number % 2:
                    run_hugo()
                for site in args.sites:
                    problems += run_sitegen(site, last)
                if not number % 2:
                    run_hugo()
                done = ", ".join(f"{name} {runs[-1].seconds:.2f} s" for name, runs in series.items() if runs)
                first = "hugo first" if number % 2 else "sitegen first"
                print(f"  round {number}, {first}: {done}", flush=True)
        finally:
            restore()

        for name, runs in series.items():
            if not runs:
                continue
            result = median_run(runs)
            if name == "hugo":
                hugo = result
                pages = sum(1 for _ in hugo_out.rglob("*.html")) if hugo.ok else 0
                rows.append(Row("hugo", hugo, f"{pages} HTML files; {hugo_note}"))
            else:
                note = result.stdout.strip().splitlines()[-1].split("; ")[-1] if result.ok else ""
                rows.append(Row(name, result, note))
        if not available:
            note = "sitegen build not available" + (f": {why}" if why != "skipped" else " (skipped)")
            print(f"  {note}")
            rows.append(Row("cold", None, note))
        else:
            first_cold = series[f"{args.sites[0]} cold"]
            if first_cold and first_cold[-1].ok:
                trash.put(out)
                # The output of a cold build of the pristine corpus, for the search step.
                measure(sitegen_build(sites[args.sites[0]], out))
                index = [
                    sys.executable,
                    "-c",
                    "import sys; from pathlib import Path; from sitegen.build.search import index_site; "
                    "r = index_site(Path(sys.argv[1])); print(r.summary())",
                    out,
                ]
                search, _ = repeat(args.runs, lambda: measure(index))
                note = search.stdout.strip().splitlines()[-1] if search.ok and search.stdout.strip() else ""
                rows.append(Row("search", search, note))
                print(show(rows[-1], hugo), flush=True)

                if args.with_search:
                    full_build = sitegen_build(root, out, search=True)
                    full, _ = repeat(
                        args.runs,
                        lambda: measure(full_build),
                        before=lambda: (trash.put(out), clear_caches(root, trash)),
                    )
                    indexed = (out / "pagefind" / "pagefind-entry.json").is_file()
                    note = full.stdout.strip().splitlines()[-1] if full.ok and full.stdout.strip() else ""
                    rows.append(Row("full", full, note + ("" if indexed else " (the build wrote no index)")))
                    print(show(rows[-1], hugo), flush=True)

        print()
        print(f"{args.papers} papers; medians of {args.runs} runs; ratios = sitegen's figure / Hugo's")
        header = f"{'wall s':>8} {'ratio':>7} {'CPU s':>8} {'ratio':>7} {'peak MB':>8} {'total MB':>8}"
        print(f"  {'step':<15} {header}")
        for row in rows:
            print(show(row, hugo, targets=args.papers == TARGET_PAPERS))
        measured = {r.name: r.result for r in rows if r.result and r.result.ok}
        if args.papers == TARGET_PAPERS:
            over = [
                f"{name} ({m.peak_total_mb:.0f} MB)"
                for name, m in measured.items()
                if name.split(" ", 1)[-1] in TARGETS and m.peak_total_mb > MEMORY_TARGET_MB
            ]
            print(f"  peak memory over {MEMORY_TARGET_MB} MB: {', '.join(over) or 'none'}")
        if args.papers >= LARGE_PAPERS and "full" in measured:
            peak = measured["full"].peak_total_mb
            verdict = "under" if peak < LARGE_MEMORY_TARGET_MB else "OVER"
            print(f"  build with search: peak total {peak:.0f} MB, {verdict} {LARGE_MEMORY_TARGET_MB} MB")
        if code_fingerprint() != fingerprint:
            print("  warning: sitegen's code or theme changed during this run: rerun for clean figures")
        if args.check_identical and available:
            if problems:
                print(f"check-identical: {len(problems)} differences")
                for line in problems[:30]:
                    print(f"  {line}")
            else:
                print("check-identical: the no-change and one-edit outputs equal cold builds byte for byte")
        return 1 if problems else 0
    finally:
        trash.empty()
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
