"""Pagefind's Python API against its CLI on the same pages.

    python benchmarks/pagefind_api.py [--pages 2000] [--workdir DIR] [--per-file N]

Indexes the same synthetic paper pages (made by pagefind_scale.py's generator) four ways, each in a fresh
process, and prints wall time, peak memory and time per page:

- cli: the pagefind binary, `--site DIR --glob 'papers/*/index.html'`;
- api-directory: `PagefindIndex.add_directory(DIR, glob=...)`, one call;
- api-file-sequential: `add_html_file` once per page, each awaited in turn;
- api-file-gather: `add_html_file` for all pages at once with asyncio.gather.

The API's service loop sleeps 0.1 s before reading each reply, so the per-file variants cost ~100 ms per
page whether awaited in turn or all at once; `--per-file N` limits them to the first N pages (default: all).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from measure import measure  # noqa: E402
from pagefind_scale import PAPER_GLOB, write_site  # noqa: E402

from sitegen.build.search import find_pagefind  # noqa: E402

VARIANTS = ("cli", "api-directory", "api-file-sequential", "api-file-gather")


async def _api_run(variant: str, site: Path, output: Path, limit: int) -> int:
    from pagefind.index import IndexConfig, PagefindIndex

    config = IndexConfig(output_path=str(output), force_language="en")
    async with PagefindIndex(config=config) as index:
        if variant == "api-directory":
            result = await index.add_directory(str(site), glob=PAPER_GLOB)
            return int(result["page_count"])
        pages = sorted(site.glob(PAPER_GLOB))[:limit]
        items = [(p.read_text("utf-8"), "/" + p.parent.relative_to(site).as_posix() + "/") for p in pages]
        if variant == "api-file-sequential":
            for content, url in items:
                await index.add_html_file(content=content, url=url)
        else:
            await asyncio.gather(*(index.add_html_file(content=c, url=u) for c, u in items))
        return len(items)


def child(variant: str, site: Path, output: Path, limit: int) -> int:
    """Run one API variant in this process and print its page count as JSON."""
    started = time.perf_counter()
    count = asyncio.run(_api_run(variant, site, output, limit))
    print(json.dumps({"pages": count, "seconds": time.perf_counter() - started}))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/sitegen-bench/pagefind-api"))
    parser.add_argument("--per-file", type=int, default=0, help="pages for the per-file variants (0: all)")
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--child", choices=VARIANTS[1:], help=argparse.SUPPRESS)
    parser.add_argument("--site", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.site, args.output, args.per_file or 10**9)

    site = args.workdir / f"site-{args.pages}"
    if not (site / ".complete").is_file():
        shutil.rmtree(site, ignore_errors=True)
        site.mkdir(parents=True)
        write_site(args.pages, site, lists=False)
        (site / ".complete").write_text("ok")
    print(f"{args.pages} pages in {site}")
    print(f"{'variant':<22} {'pages':>6} {'wall s':>8} {'peak MB':>8} {'ms/page':>8}")
    for variant in args.variants:
        output = args.workdir / f"bundle-{variant}"
        shutil.rmtree(output, ignore_errors=True)
        if variant == "cli":
            cmd = [find_pagefind(), "--site", site, "--glob", PAPER_GLOB, "--output-path", output]
            cmd += ["--force-language", "en"]
            pages = args.pages
        else:
            cmd = [sys.executable, __file__, "--child", variant, "--site", site, "--output", output]
            cmd += ["--per-file", str(args.per_file)]
            pages = args.per_file or args.pages
        result = measure(cmd)
        if not result.ok:
            print(f"{variant:<22} FAILED (exit {result.returncode}): {result.tail(3)}")
            continue
        if variant != "cli":
            pages = json.loads(result.stdout.strip().splitlines()[-1])["pages"]
        entry = json.loads((output / "pagefind-entry.json").read_text("utf-8"))
        indexed = sum(lang["page_count"] for lang in entry["languages"].values())
        per_page = 1000 * result.seconds / max(pages, 1)
        note = "" if indexed == pages else f"  (bundle holds {indexed} pages)"
        figures = f"{pages:>6} {result.seconds:>8.1f} {result.max_rss_mb:>8.0f} {per_page:>8.1f}"
        print(f"{variant:<22} {figures}{note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
