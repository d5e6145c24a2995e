"""One paper's related papers as one text: how a forked process sends them back (ten thousand texts
unpickle an order of magnitude faster than as many lists of tuples), and the version of what a page that
shows them read. The text of (slug, shared terms) pairs, most similar first: each slug, then its terms,
joined by control characters that neither a slug nor a term holds."""

from __future__ import annotations

from collections.abc import Iterable

PAIRS = "\x1f"  # between the pairs
TERMS = "\x1e"  # between a slug and its terms, and between terms


def encode(pairs: Iterable[tuple[str, Iterable[str]]]) -> str:
    """The text of (slug, terms) pairs. (A term is a word of a paper's text: the two separators, which no
    page shows, are taken out of it.)"""
    return PAIRS.join(TERMS.join((slug, *map(_clean, terms))) for slug, terms in pairs)


def _clean(term: str) -> str:
    return term.replace(PAIRS, "").replace(TERMS, "") if PAIRS in term or TERMS in term else term


def decode(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """The pairs of `encode`."""
    if not text:
        return []
    pairs = []
    for part in text.split(PAIRS):
        slug, *terms = part.split(TERMS)
        pairs.append((slug, tuple(terms)))
    return pairs


def slugs(text: str) -> list[str]:
    """The slugs of the pairs of `encode`, in order."""
    return [part.partition(TERMS)[0] for part in text.split(PAIRS)] if text else []
