"""Tags on a digest the rules were not written for, estimated by holding out each sample digest in turn.

For each digest in content/digests/: the papers of the other digests are the site (tagged by the rules), the
held-out digest's papers not already in it are the new papers. Prints, per held-out digest: the share of new
papers tagged by rules and fallback together, and, to judge the fallback alone (the sample rules were written
with all four digests in view, so they match nearly every sample paper), the share of new papers the fallback
would tag if no rule matched and how often its tags agree with the rules' tags.

    python benchmarks/tagging_holdout.py [--root DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sitegen.content.slugs import title_key
from sitegen.content.taxonomy import assign_tags, load_taxonomy
from sitegen.importer.digest import read_digest
from sitegen.importer.tagging import borrow_tags, tag_papers
from sitegen.text.clean import clean_abstract, clean_title


def digest_papers(root: Path) -> dict[str, list[tuple[str, str, str]]]:
    """(title key, title, abstract Markdown) of each digest's papers, by file name."""
    papers = {}
    for path in sorted((root / "content" / "digests").glob("*.txt")):
        entries = read_digest(path.read_bytes()).entries
        cleaned = [(clean_title(e.title).text, clean_abstract(e.abstract).text) for e in entries]
        papers[path.name] = [(title_key(t), t, a) for t, a in cleaned]
    return papers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("."))
    args = parser.parse_args()
    taxonomy = load_taxonomy(args.root / "content" / "taxonomy.yaml").taxonomy
    papers = digest_papers(args.root)
    for held, listed in papers.items():
        site: dict[str, tuple[str, str]] = {}
        for name, others in papers.items():
            if name != held:
                site.update({key: (t, a) for key, t, a in others})
        tagged = [(t, a, assign_tags(taxonomy, t, a)) for t, a in site.values()]
        new = [(t, a) for key, t, a in dict.fromkeys(listed) if key not in site]
        both = tag_papers(taxonomy, new, tagged)
        rules = [assign_tags(taxonomy, t, a) for t, a in new]
        borrowed = borrow_tags(new, tagged)
        covered = [b for b in borrowed if b]
        agree = sum(bool(set(b) & set(r)) for b, r in zip(borrowed, rules, strict=True) if b)
        right = sum(len(set(b) & set(r)) for b, r in zip(borrowed, rules, strict=True))
        given = sum(len(b) for b in borrowed)
        print(
            f"{held}: {len(new)} new papers; rules and fallback tag {sum(map(bool, both)) / len(new):.1%}"
            f" (rules alone {sum(map(bool, rules)) / len(new):.1%}); the fallback alone would tag"
            f" {len(covered) / len(new):.1%}, {agree / max(len(covered), 1):.1%} of them with a tag the rules"
            f" also give, {right / max(given, 1):.1%} of its tags among the rules' tags"
        )


if __name__ == "__main__":
    main()
