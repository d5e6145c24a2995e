"""Pagefind at scale: time and peak memory of the real pagefind binary on synthetic paper pages.

    python benchmarks/pagefind_scale.py [SIZES...] [--workdir DIR] [--runs R] [--glob GLOB] [--no-lists]

For the largest size, writes pages shaped like sitegen's paper pages (header, nav and footer outside the
`data-pagefind-body` article; `tag` and `digest` filters; `title` and `date` metadata; a `date` sort; a
related-papers box marked `data-pagefind-ignore`) with the corpus generator's text, plus the tag and digest
listing pages a real output folder holds (no `data-pagefind-body`, so pagefind reads but skips them). Each
smaller size is a folder of hard links to the first N pages. Then runs `pagefind --site` on each folder and
prints wall time, peak RSS, CPU time and bundle size.
"""

from __future__ import annotations

import argparse
import html
import os
import random
import shutil
import sys
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

import corpus  # noqa: E402
from measure import Measurement, measure, repeat  # noqa: E402

from sitegen.build.search import find_pagefind  # noqa: E402

PAPER_GLOB = "papers/*/index.html"
TAG_NAMES = {slug: name for slug, name, _desc, _match in corpus.TAGS}

_HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Trending Papers Review</title>
<link rel="canonical" href="https://example.org/review/{path}">
<link rel="stylesheet" href="/review/static/style.css">
<meta property="og:title" content="{title}">
<meta name="citation_title" content="{title}">
</head>
<body>
<header class="site-header"><a class="site-title" href="/review/">Trending Papers Review</a>
<nav><a href="/review/digests/">Digests</a> <a href="/review/tags/">Tags</a>
<a href="/review/search/">Search</a></nav>
<form action="/review/search/" role="search"><input type="search" name="q" aria-label="Search papers"></form>
</header>
<main id="content">
"""
_FOOT = """</main>
<footer class="site-footer"><p>Trending Papers Review · <a href="/review/feed.xml">Feed</a></p></footer>
</body>
</html>
"""


def paper_page(slug: str, text: corpus.PaperText, days: list[str], related: list[str]) -> str:
    e = html.escape
    parts = [_HEAD.format(title=e(text.title), path=f"papers/{slug}/")]
    parts.append(
        f'<article class="paper" data-pagefind-body>\n<h1 data-pagefind-meta="title">{e(text.title)}</h1>\n'
    )
    latest = max(days)
    parts.append(
        f'<p class="meta" data-pagefind-sort="date:{latest}" data-pagefind-meta="date:{latest}">Digests: '
    )
    parts.append(
        ", ".join(
            f'<a href="/review/digests/{d}/">'
            f'<time datetime="{d}" data-pagefind-filter="digest">{d}</time></a>'
            for d in days
        )
    )
    parts.append('</p>\n<p class="tags">')
    parts.append(
        " ".join(
            f'<a class="tag" href="/review/tags/{t}/" data-pagefind-filter="tag">{e(TAG_NAMES[t])}</a>'
            for t in text.tags
        )
    )
    parts.append(f'</p>\n<div class="abstract"><p>{e(text.abstract)}</p></div>\n')
    if text.links:
        items = "".join(f'<li><a href="{e(u)}">{e(u)}</a></li>' for u in text.links)
        parts.append(f'<ul class="links">{items}</ul>\n')
    if text.notes:
        parts.append(f'<div class="notes"><p>{e(text.notes)}</p></div>\n')
    links = "".join(f'<li><a href="/review/papers/{s}/">{e(t)}</a></li>' for s, t in related)
    parts.append(
        f'<section id="related" data-pagefind-ignore><h2>Related papers</h2><ul>{links}</ul></section>\n'
    )
    parts.append("</article>\n")
    parts.append(_FOOT)
    return "".join(parts)


def list_page(title: str, path: str, items: list[tuple[str, str, str]]) -> str:
    e = html.escape
    body = "".join(
        f'<li><h3><a href="/review/papers/{s}/">{e(t)}</a></h3><p>{e(a[:280])}</p></li>' for s, t, a in items
    )
    return _HEAD.format(title=e(title), path=path) + f"<h1>{e(title)}</h1>\n<ul>{body}</ul>\n" + _FOOT


def write_site(n: int, folder: Path, seed: int = 1, lists: bool = True) -> list[Path]:
    """Write n paper pages (and listing pages); returns the paper page paths in generation order."""
    model = corpus.WordModel.from_seeds(corpus.DEFAULT_SEEDS)
    digests, appearances = corpus.plan_digests(n, seed)
    first = corpus.FIRST_DAY
    days = [(first + timedelta(days=d)).isoformat() for d in range(len(digests))]
    rng = random.Random(seed)
    pages: list[Path] = []
    used: set[str] = set()
    entries: list[tuple[str, str, str]] = []
    by_tag: dict[str, list[int]] = {}
    for i, text in enumerate(corpus.paper_texts(model, n, seed, os.cpu_count() or 1)):
        slug = base = corpus.slugify(text.title)
        k = 2
        while slug in used:
            slug, k = f"{base}-{k}", k + 1
        used.add(slug)
        entries.append((slug, text.title, text.abstract))
        for tag in text.tags:
            by_tag.setdefault(tag, []).append(i)
        related = [entries[rng.randrange(len(entries))][:2] for _ in range(5)]
        path = folder / "papers" / slug / "index.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(paper_page(slug, text, [days[d] for d in sorted(appearances[i])], related), "utf-8")
        pages.append(path)
    if lists:
        for tag, members in by_tag.items():
            for page, start in enumerate(range(0, len(members), 20), start=1):
                rel = f"tags/{tag}/" + (f"page/{page}/" if page > 1 else "")
                items = [entries[i] for i in members[start : start + 20]]
                target = folder / rel / "index.html"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(list_page(TAG_NAMES[tag], rel, items), "utf-8")
        for d, order in enumerate(digests):
            target = folder / "digests" / days[d] / "index.html"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(list_page(days[d], f"digests/{days[d]}/", [entries[i] for i in order]), "utf-8")
    return pages


def link_subset(source: Path, pages: list[Path], n: int, target: Path) -> None:
    """A folder holding the first n paper pages of `source` (and a proportional share of its listings)."""
    if target.exists():
        shutil.rmtree(target)
    for path in pages[:n]:
        rel = path.relative_to(source)
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        os.link(path, target / rel)
    share = n / len(pages)
    for kind in ("tags", "digests"):
        listing = sorted((source / kind).rglob("index.html")) if (source / kind).is_dir() else []
        for path in listing[: round(len(listing) * share)]:
            rel = path.relative_to(source)
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            os.link(path, target / rel)


def bundle_stats(bundle: Path) -> tuple[float, int]:
    files = [p for p in bundle.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 2**20, len(files)


def run_pagefind(
    site: Path, glob: str | None, runs: int, shard_pages: int = 0, jobs: int = 1
) -> tuple[Measurement, float, int]:
    """Pagefind over `site`: the binary itself, or (shard_pages > 0) sitegen's sharded index_site."""
    if shard_pages:
        code = (
            "import sys; from pathlib import Path; from sitegen.build.search import index_site; "
            "r = index_site(Path(sys.argv[1]), glob=sys.argv[2], shard_pages=int(sys.argv[3]), "
            "jobs=int(sys.argv[4]), force_language='en'); print(r.summary())"
        )
        cmd = [sys.executable, "-c", code, site, glob or PAPER_GLOB, str(shard_pages), str(jobs)]
    else:
        cmd = [find_pagefind(), "--site", site, "--force-language", "en"]
        if glob:
            cmd += ["--glob", glob]

    def clean() -> None:
        shutil.rmtree(site / "pagefind", ignore_errors=True)

    result, _all = repeat(runs, lambda: measure(cmd), before=clean)
    size, files = bundle_stats(site / "pagefind") if result.ok else (0.0, 0)
    return result, size, files


def indexed_count(output: str) -> str:
    for line in output.splitlines():
        if ("Indexed" in line and "page" in line) or line.startswith("search index:"):
            return line.strip()
    return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", type=int, nargs="*", default=[10_000, 30_000, 100_000])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/sitegen-bench/pagefind"))
    parser.add_argument("--runs", type=int, default=1, help="runs per size (median reported)")
    parser.add_argument("--glob", default=None, help=f"pagefind --glob (e.g. {PAPER_GLOB!r}; default: all)")
    parser.add_argument("--no-lists", action="store_true", help="write paper pages only")
    parser.add_argument(
        "--shard-pages", type=int, default=0, help="run sitegen's index_site with this shard size"
    )
    parser.add_argument("--jobs", type=int, default=1, help="shards indexed at a time (with --shard-pages)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    sizes = sorted(set(args.sizes))
    largest = sizes[-1]
    source = args.workdir / f"site-{largest}"
    marker = source / ".complete"
    if marker.is_file() and marker.read_text() == f"{largest} {args.seed} {not args.no_lists}":
        pages = [
            source / "papers" / line / "index.html" for line in (source / "order.txt").read_text().split()
        ]
        print(f"reusing {largest} pages in {source}")
    else:
        shutil.rmtree(source, ignore_errors=True)
        source.mkdir(parents=True)
        pages = write_site(largest, source, args.seed, lists=not args.no_lists)
        (source / "order.txt").write_text("\n".join(p.parent.name for p in pages))
        marker.write_text(f"{largest} {args.seed} {not args.no_lists}")
        print(f"wrote {largest} pages in {source}")
    how = (
        f"index_site, shards of {args.shard_pages}, {args.jobs} at a time" if args.shard_pages else "pagefind"
    )
    print(f"{how}: {find_pagefind()}  glob: {args.glob or '(default: all HTML)'}")
    header = f"{'wall s':>8} {'peak MB':>8} {'total MB':>8} {'CPU s':>8} {'bundle MB':>10} {'files':>7}"
    print(f"{'pages':>8} {header}  indexed")
    for n in sizes:
        site = source if n == largest else args.workdir / f"site-{n}"
        if n != largest:
            link_subset(source, pages, n, site)
        result, size, files = run_pagefind(site, args.glob, args.runs, args.shard_pages, args.jobs)
        if not result.ok:
            print(
                f"{n:>8} FAILED (exit {result.returncode}) after {result.seconds:.1f} s, "
                f"peak {result.max_rss_mb:.0f} MB"
            )
            print(result.tail(10))
            continue
        print(
            f"{n:>8} {result.seconds:>8.1f} {result.max_rss_mb:>8.0f} {result.peak_total_mb:>8.0f} "
            f"{result.cpu_seconds:>8.1f} {size:>10.1f} {files:>7}  {indexed_count(result.stdout)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
