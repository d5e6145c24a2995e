"""Turn a sitegen site (content/) into the equivalent Hugo site, for side-by-side timing.

    python benchmarks/hugo_site.py SITE_ROOT HUGO_DIR

HUGO_DIR gets benchmarks/hugo/{config.toml,layouts,static} and a content/ folder converted from SITE_ROOT's
content through sitegen's own loader (so both generators see exactly the same papers, tags and digests):

- content/papers/<slug>.md: title, date (the latest digest, as sitegen sorts), tags, digests, links; the body;
- content/tags/<slug>/_index.md: the tag's display name and description from taxonomy.yaml;
- content/digests/<date>/_index.md: the digest's own order (`papers:`), rendered in that order;
- content/search.md: the search page shell.

Paper pages get Hugo's related-content list only with --related: it takes Hugo minutes at 10,000 pages, so
the default baseline is the faster Hugo site without it.

Drafts are left out, as in a normal `sitegen build`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sitegen.config import load_config  # noqa: E402
from sitegen.content.frontmatter import dump  # noqa: E402
from sitegen.content.model import load_site  # noqa: E402
from sitegen.errors import Report  # noqa: E402

TEMPLATE_DIR = Path(__file__).resolve().parent / "hugo"


def _front_matter(fields: dict[str, object], body: str = "") -> str:
    return dump(fields, body, quote_keys=("title", "description"))


def convert(site_root: Path, hugo_dir: Path, related: bool = False) -> dict[str, int]:
    """Write the Hugo site; returns counts. Raises SystemExit when the sitegen content has errors."""
    report = Report()
    config = load_config(site_root)
    site = load_site(site_root, config, report, drafts=False)
    if report.errors:
        raise SystemExit("\n".join(str(d) for d in report.errors[:20]))
    if hugo_dir.exists():
        shutil.rmtree(hugo_dir)
    hugo_dir.mkdir(parents=True)
    settings = (TEMPLATE_DIR / "config.toml").read_text(encoding="utf-8")
    settings = settings.replace('title = "Benchmark corpus"', f"title = {json.dumps(config.title)}")
    settings = settings.replace("paginate = 20", f"paginate = {config.per_page}")
    settings = settings.replace("rssLimit = 50", f"rssLimit = {config.feed_limit}")
    if related:
        settings = settings.replace("related = false", "related = true")
    (hugo_dir / "config.toml").write_text(settings, encoding="utf-8")
    shutil.copytree(TEMPLATE_DIR / "layouts", hugo_dir / "layouts")
    shutil.copytree(TEMPLATE_DIR / "static", hugo_dir / "static")

    content = hugo_dir / "content"
    (content / "papers").mkdir(parents=True)
    for paper in site.papers:
        fields: dict[str, object] = {
            "title": paper.title,
            "date": (paper.latest_digest or paper.digests[0]).isoformat() if paper.digests else "2000-01-01",
            "tags": paper.tags,
            "digests": [d.isoformat() for d in paper.digests],
        }
        if paper.links:
            fields["links"] = paper.links
        (content / "papers" / f"{paper.slug}.md").write_text(_front_matter(fields, paper.body), "utf-8")
    used_tags = {tag for paper in site.papers for tag in paper.tags}
    for slug in sorted(used_tags):
        tag = site.tags.get(slug)
        fields = {"title": tag.name if tag else slug}
        if tag and tag.description:
            fields["description"] = tag.description
        (content / "tags" / slug).mkdir(parents=True)
        (content / "tags" / slug / "_index.md").write_text(_front_matter(fields), "utf-8")
    published = {paper.slug for paper in site.papers}
    for day, digest in sorted(site.digests.items()):
        order = [slug for slug in digest.order if slug in published]
        listed = set(order)
        order += sorted(p.slug for p in site.papers if day in p.digests and p.slug not in listed)
        if not order:
            continue
        folder = content / "digests" / day.isoformat()
        folder.mkdir(parents=True)
        # Digest pages have no feed in sitegen: HTML only.
        text = _front_matter({"title": day.isoformat(), "papers": order, "outputs": ["html"]})
        (folder / "_index.md").write_text(text, "utf-8")
    (content / "search.md").write_text(_front_matter({"title": "Search", "layout": "search"}), "utf-8")
    return {"papers": len(site.papers), "tags": len(used_tags), "digests": len(site.digests)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site_root", type=Path, help="sitegen site folder (with content/)")
    parser.add_argument("hugo_dir", type=Path, help="Hugo site folder to (re)create")
    parser.add_argument(
        "--related", action="store_true", help="list related papers through Hugo's related content (slow)"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts = convert(args.site_root, args.hugo_dir, related=args.related)
    took = time.perf_counter() - started
    print(f"{counts['papers']} papers, {counts['tags']} tags, {counts['digests']} digests in {took:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
