"""Static SVG charts made at build time. (Interface fixed; the real implementation replaces this stub.)

Every function returns inline SVG markup (a string, safe to insert as HTML) that reads in light and dark themes
(colours through CSS `currentColor`/classes, no hard-coded background) and carries a text alternative
(<title>/<desc> and role="img" aria-labelledby), or "" when there is nothing to draw.
"""

from __future__ import annotations

from collections.abc import Sequence


def papers_per_digest(counts: Sequence[tuple[str, int, str]]) -> str:
    """Bars of papers per digest. counts: (ISO date, paper count, URL of the digest page), oldest first."""
    return ""


def tag_sizes(counts: Sequence[tuple[str, int, str]]) -> str:
    """Horizontal bars of papers per tag. counts: (tag display name, paper count, URL of the tag page)."""
    return ""


def tag_timeline(name: str, counts: Sequence[tuple[str, int]]) -> str:
    """One tag's papers per digest over time. counts: (ISO date, count) for every digest date, oldest first."""
    return ""


def rising_tags(rows: Sequence[tuple[str, int, int, str]]) -> str:
    """Tags rising in the latest digests. rows: (tag name, recent count, earlier count, URL), most rising first."""
    return ""


def rising_tag_rows(
    tag_dates: dict[str, list[str]], digest_dates: Sequence[str], recent: int = 3
) -> list[tuple[str, int, int]]:
    """Which tags rise: tag_dates maps tag slug -> the digest dates of its papers (one per paper and date).

    Returns (tag slug, count in the `recent` latest digests, count in the earlier ones), most rising first.
    """
    return []
