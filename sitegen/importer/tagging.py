"""Tags for papers: the taxonomy's rules, then, for a paper no rule matches, tags borrowed from neighbours.

Rules (sitegen.content.taxonomy) are words chosen by a curator, so a paper on a topic nobody wrote a rule for
gets no tag. Such a paper borrows the tags of the tagged papers most like it: TF-IDF vectors of title and
abstract, as for related papers (sitegen.content.related), compared by cosine similarity. Only neighbours at
least `min_similarity` alike count, and a tag is borrowed only when it carries at least `min_share` of their
summed similarity: an isolated paper stays untagged rather than get a guess.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sitegen.content.related import SCALE, Analyzer, RelatedOptions, Vector, make_vector
from sitegen.content.taxonomy import Taxonomy, assign_tags

# (title, abstract) of a paper to tag; (title, abstract, tags) of a paper already tagged.
Text = tuple[str, str]
Tagged = tuple[str, str, Sequence[str]]


@dataclass(frozen=True, slots=True)
class FallbackOptions:
    """Chosen on the sample digests held out one at a time (benchmarks/tagging_holdout.py): a higher
    similarity floor or share leaves more papers untagged for little more agreement with the rules."""

    neighbours: int = 10
    min_similarity: float = 0.1  # cosine
    min_share: float = 0.4
    max_tags: int = 2
    max_terms: int = 12


def _vectors(texts: Sequence[Text], options: FallbackOptions) -> list[Vector]:
    """TF-IDF vectors of the texts, weighted over these texts (related.py's analysis and weighting)."""
    related = RelatedOptions()
    analyzer = Analyzer(related.title_weight)
    analyses = [analyzer.analyze(title, abstract) for title, abstract in texts]
    df = Counter(term for terms, _ in analyses for term in terms)
    n = len(texts)
    cap = max(related.max_df * n, related.max_df_floor)
    idf = {
        term: math.log((1 + n) / (1 + count)) + 1.0
        for term, count in df.items()
        if related.min_df <= count <= cap
    }
    return [make_vector(analysis, idf, options.max_terms) for analysis in analyses]


def borrow_tags(
    queries: Sequence[Text], tagged: Sequence[Tagged], options: FallbackOptions | None = None
) -> list[list[str]]:
    """For each query paper, the tags its most similar tagged papers agree on (possibly none)."""
    options = options or FallbackOptions()
    if not queries or not tagged:
        return [[] for _ in queries]
    vectors = _vectors([*queries, *((title, abstract) for title, abstract, _ in tagged)], options)
    query_vectors, tagged_vectors = vectors[: len(queries)], vectors[len(queries) :]
    postings: dict[str, list[tuple[int, int]]] = {}
    for j, vector in enumerate(tagged_vectors):
        for term, weight in vector:
            postings.setdefault(term, []).append((j, weight))
    floor = options.min_similarity * SCALE * SCALE
    out: list[list[str]] = []
    for vector in query_vectors:
        scores: Counter[int] = Counter()
        for term, weight in vector:
            for j, other in postings.get(term, ()):
                scores[j] += weight * other
        near = [(score, j) for j, score in scores.items() if score >= floor]
        near.sort(key=lambda item: (-item[0], item[1]))
        near = near[: options.neighbours]
        votes: Counter[str] = Counter()
        for score, j in near:
            for tag in dict.fromkeys(tagged[j][2]):
                votes[tag] += score
        total = sum(score for score, _ in near)
        chosen = [tag for tag, vote in votes.most_common() if total and vote >= options.min_share * total]
        out.append(sorted(chosen[: options.max_tags], key=lambda tag: (-votes[tag], tag)))
    return out


def tag_papers(
    taxonomy: Taxonomy,
    papers: Sequence[Text],
    tagged: Sequence[Tagged] = (),
    options: FallbackOptions | None = None,
    keywords: Sequence[Sequence[str]] | None = None,
) -> list[list[str]]:
    """Tags of each paper: by the rules; for those no rule matches, borrowed from the papers of `tagged` and
    from the papers here that the rules tagged. `keywords`: for each paper, a source's keywords and
    categories, which the rules count as words of its title (the fallback compares titles and abstracts
    alone, as the pages it borrows from have no keywords)."""
    words = keywords if keywords is not None else [()] * len(papers)
    by_rules = [
        assign_tags(taxonomy, " ; ".join([title, *more]), abstract)
        for (title, abstract), more in zip(papers, words, strict=True)
    ]
    untagged = [i for i, tags in enumerate(by_rules) if not tags]
    if not untagged:
        return by_rules
    neighbours = [t for t in tagged if t[2]]
    neighbours += [
        (title, abstract, tags) for (title, abstract), tags in zip(papers, by_rules, strict=True) if tags
    ]
    borrowed = borrow_tags([papers[i] for i in untagged], neighbours, options)
    for i, tags in zip(untagged, borrowed, strict=True):
        by_rules[i] = tags
    return by_rules
