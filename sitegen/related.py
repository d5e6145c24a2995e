"""Related papers by text similarity. (Interface fixed; the real implementation replaces this stub.)"""

from __future__ import annotations

from collections.abc import Sequence

from sitegen.model import Paper


def related_papers(papers: Sequence[Paper], k: int = 5) -> dict[str, list[str]]:
    """For each paper slug, the slugs of the k most similar other papers, most similar first."""
    return {paper.slug: [] for paper in papers}
