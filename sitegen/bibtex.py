"""BibTeX entries for paper pages. (Interface fixed; the real implementation replaces this stub.)"""

from __future__ import annotations

from sitegen.model import Paper


def bibtex_entry(paper: Paper) -> str:
    """A BibTeX @misc/@article entry for the paper (arXiv eprint fields when paper.arxiv is set), escaped."""
    return ""
