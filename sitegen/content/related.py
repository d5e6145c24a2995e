"""Related papers by text similarity: TF-IDF vectors of title and abstract, compared by cosine similarity.

The baseline that arxiv-sanity uses, in pure Python with sparse vectors and an inverted index:

- Each paper's text becomes term counts (`Analyzer`): lowercase ASCII words and hyphenated terms (a compound
  such as "text-to-image" counts as itself and as its parts), English and academic stop words removed, plurals
  folded by a light S-stemmer. Title terms count `title_weight` times. Counts depend on the paper alone, so
  `RelatedIndex` caches them by a hash of title and abstract.
- A weight is sublinear TF times smoothed IDF, over the terms found in at least `min_df` papers (a term of one
  paper relates nothing) and at most a `max_df` share of them (corpus-wide words such as "model" say nothing
  of the topic and would make every pair a candidate).
- The IDF reads a term's document frequency kept to its `df_bits` highest binary digits (Lucene keeps a
  document's length to one byte for the same reason). An edit of one abstract changes by one the frequency of
  every term it adds or drops. Kept exact, each such change moves the term's weight in every paper that has
  it, and rewriting one abstract would recompute nearly every vector and most lists. Kept coarse, a change
  moves a weight only when the frequency crosses into the next step, which for a term of many papers is
  rarely. On the sample papers, the share of related papers that share a tag stays within half a point.
- A paper is represented by its `max_terms` heaviest terms, L2-normalised (the "interesting terms" of Lucene's
  MoreLikeThis). It bounds the work: a paper is compared only with the papers on the postings of its own few
  terms, never densely with all. A term's postings keep at most `max_postings` papers (those it weighs most
  in), so the work grows linearly with the corpus even for a term that many papers share. On the sample
  papers, the share of related papers that share a tag with the paper (tags from the taxonomy rules; 30% for
  random papers) is 73% with these settings and 74% with full vectors and no cap.
- Weights are rounded to integers (`SCALE`), so a score is an exact integer sum: it does not depend on the
  order of summation, score(a, b) == score(b, a), and ties break by slug reproducibly. That is what lets an
  incremental update give the same lists as a cold computation, byte for byte.
- A floor keeps filler out: a pair is related only if its cosine similarity is at least `min_score` and the
  two share at least `min_shared` of the terms they are scored on. A single shared word, however rare,
  relates by coincidence ("consistency models" and "self-consistency"); on the sample papers, pairs sharing
  one term share a tag about half as often as pairs sharing two or more. A paper with fewer such neighbours
  than k shows fewer, possibly none.
- `RelatedIndex.explain` gives, for each related pair, its similarity and the shared terms that weigh most in
  it ("why related").

`RelatedIndex` keeps the counts, vectors and ranked lists of the last computation and redoes only what a
change reaches (see `RelatedIndex.update`); it saves to and loads from a cache file. `related_papers()` is the
one-shot entry point.

Size: the text analysis, the incremental index and its stored form: an index's update and what it stores
change together (the cache's layout is checked against the index on load).
"""

from __future__ import annotations

import heapq
import itertools
import marshal
import math
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import astuple, dataclass
from itertools import compress, repeat
from pathlib import Path

from sitegen.content import rows
from sitegen.content.model import Paper
from sitegen.store.cache import MAGIC, SEGMENT_HEAD, Damaged, read_segment, read_segments, segment, write_file
from sitegen.store.files import fingerprint

# Bump when analysis or weighting changes, or the text of a list (rows.encode): a cache of another version is
# discarded, never misread.
FORMAT_VERSION = 9
# Fixed-point scale of vector weights: products of two weights and their sums stay small integers.
SCALE = 1 << 15

# English function words, then words of academic boilerplate ("we propose a novel method").
_STOP_TEXT = """
    a about above across after again against all almost along already also although always am among an and
    another any anyone anything are around as at be became because become becomes been before being below
    between both but by can cannot could did do does doing done down during each either else enough etc even
    ever every few for from further had has have having he her here hers herself him himself his how however i
    if in into is it its itself just least less let like made make makes making many may me might more most
    much must my myself neither no nor not now of off often on once one only onto or other others otherwise
    our ours ourselves out over own per perhaps quite rather same several she should since so some such than
    that the their theirs them themselves then there thereby therefore these they this those though through
    throughout thus to together too toward towards under until up upon us very via was we well were what
    whatever when where whereas whether which while who whom whose why will with within without would yet you
    your yours yourself able additionally allow allows approach approaches based better demonstrate
    demonstrates demonstrated effective effectively empirical empirically existing experiment experimental
    experiments extensive extensively furthermore given highly important introduce introduces introduced
    largely lead leads method methods moreover namely new novel outperform outperforms outperforming paper
    particular particularly present presents presented previous prior problem problems propose proposed
    proposes provide provides recent recently remain remains respectively result results show shows showed
    shown significant significantly specifically state-of-the-art strong study studies substantially superior
    task tasks use used uses using various way ways work works
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
# Prefixes that mean little alone: kept inside a compound ("pre-training"), not as terms of their own.
_PREFIX_TEXT = "pre post non multi self co re sub semi de un anti inter intra cross over under"
_PREFIX_PARTS = frozenset(_PREFIX_TEXT.split())


@dataclass(frozen=True, slots=True)
class RelatedOptions:
    """Tuning of the similarity. A cache saved with other options is recomputed, not reused."""

    k: int = 5
    title_weight: int = 2
    min_df: int = 2
    max_df: float = 0.1
    # max_df never cuts below this many papers, so a small site keeps its topical words.
    max_df_floor: int = 20
    # The binary digits of a document frequency that the IDF reads (0: all; see the module docstring).
    df_bits: int = 3
    # The work is about papers x max_terms x (papers on a term's postings, at most max_postings).
    max_terms: int = 12
    max_postings: int = 50
    # The floor (see the module docstring): cosine similarity, and terms the two papers must share.
    min_score: float = 0.1
    min_shared: int = 2
    # Shared terms kept with each related pair ("why related", see RelatedIndex.explained).
    why_terms: int = 3


# -- analysis ------------------------------------------------------------------------------------------


def stem(word: str) -> str:
    """A light S-stemmer (Harman 1991, plus -sses/-xes/-ches/-shes): folds plurals, leaves the rest alone."""
    if len(word) <= 3 or word[-1] != "s" or not word.isalpha():
        return word
    if word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if word.endswith(("us", "ss", "is")):
        return word
    return word[:-1]


def _keep(term: str) -> bool:
    return len(term) > 1 and not term.isdigit() and term not in STOP_WORDS


def _fold(text: str) -> bytes:
    """Lowercase ASCII bytes: accents dropped ("Schrödinger" -> "schrodinger"), other non-ASCII removed."""
    text = text.lower()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
    return text.encode("ascii", "ignore")


# Everything but ASCII letters, digits and hyphens separates tokens (bytes.translate + split is ~8x a regex).
_SEPARATORS = bytes(c if chr(c) in "abcdefghijklmnopqrstuvwxyz0123456789-" else 32 for c in range(256))


def _tokens(text: str) -> list[bytes]:
    return _fold(text).translate(_SEPARATORS).split()


def token_terms(token: str) -> tuple[str, ...]:
    """The terms one token stands for: a stemmed word, or a hyphenated compound and its meaningful parts."""
    parts = [part for part in token.split("-") if part]
    if len(parts) == 1:
        word = stem(parts[0])
        return (word,) if _keep(parts[0]) and _keep(word) else ()
    stems = [stem(part) for part in parts]
    if "-".join(parts) in STOP_WORDS:
        return ()
    kept = [part for part in stems if part not in _PREFIX_PARTS and _keep(part)]
    compound = "-".join(stems)
    # "gpt-4" and "x-ray" are terms; "a-b" (no meaningful part) is not
    useful = any(_keep(part) for part in stems) and _keep(compound)
    return (compound, *kept) if useful else tuple(kept)


def tokenize(text: str) -> list[str]:
    """Terms of a text in reading order (see `token_terms`)."""
    return [term for token in _tokens(text) for term in token_terms(token.decode("ascii"))]


# A paper's analysis: its distinct terms and their title-weighted counts (at most 255).
Analysis = tuple[tuple[str, ...], tuple[int, ...]]


class Analyzer:
    """Turns title and abstract into term counts, remembering what each distinct token stands for."""

    def __init__(self, title_weight: int = 2) -> None:
        self.title_weight = title_weight
        self._memo = _TokenTerms()

    def _terms(self, tokens: list[bytes]) -> Iterator[str]:
        """The terms of every token, in order (unseen tokens are worked out once and remembered)."""
        return itertools.chain.from_iterable(map(self._memo.__getitem__, tokens))

    def analyze(self, title: str, abstract: str, seen: list[bytes] | None = None) -> Analysis:
        """The analysis of a paper's text; `seen` gets its tokens, title first (what _Surface reads)."""
        title_tokens, abstract_tokens = _tokens(title), _tokens(abstract)
        if seen is not None:
            seen += title_tokens
            seen += abstract_tokens
        counts = Counter(self._terms(abstract_tokens))
        if self.title_weight:
            title_terms = list(self._terms(title_tokens))
            counts.update(title_terms * self.title_weight)
        terms = tuple(counts)  # in order of first appearance: a function of the text, like the counts
        values = tuple(counts.values())
        if values and max(values) > 255:
            values = tuple(min(c, 255) for c in values)
        return terms, values


class _TokenTerms(dict[bytes, tuple[str, ...]]):
    """token -> its terms (token_terms), worked out on first lookup; a token seen again costs one lookup.
    One string object per term, so that the cached analyses of many papers share them."""

    def __init__(self) -> None:
        super().__init__()
        self._interned: dict[str, str] = {}

    def __missing__(self, token: bytes) -> tuple[str, ...]:
        if len(self) > 500_000:  # a pathological input must not grow the memo without end
            self.clear()
            self._interned.clear()
        setdefault = self._interned.setdefault
        terms = self[token] = tuple(setdefault(t, t) for t in token_terms(token.decode("ascii")))
        return terms


def content_hash(paper: Paper) -> str:
    """What a paper's similarity depends on: its title and abstract (not its notes, tags or dates)."""
    data = f"{paper.title}\x00{paper.abstract}".encode()
    return fingerprint(data, 12)


# -- weighting and ranking -----------------------------------------------------------------------------

# A paper's vector: (term, integer weight) pairs sorted by term.
Vector = tuple[tuple[str, int], ...]
# A ranked list: (score, paper number) pairs, best first; numbers index the slugs in sorted order.
Row = list[tuple[int, int]]
# The shared terms shown of each pair of a row, in the row's order.
Why = tuple[tuple[str, ...], ...]


def coarse(count: int, bits: int) -> int:
    """`count` with all but its `bits` highest binary digits cleared (0 bits: `count` itself): 13 -> 12 and
    100 -> 96 with 3 bits."""
    shift = count.bit_length() - bits
    return count if bits <= 0 or shift <= 0 else (count >> shift) << shift


_TF = [0.0] + [1.0 + math.log(n) for n in range(1, 256)]


def make_vector(analysis: Analysis, idf: dict[str, float], max_terms: int) -> Vector:
    """The `max_terms` heaviest TF-IDF terms (ties by term), L2-normalised and rounded to integers."""
    terms, counts = analysis
    weights = list(map(float.__mul__, map(_TF.__getitem__, counts), map(idf.get, terms, repeat(0.0))))
    if len(weights) > max_terms:
        # Select without building a pair per term: the C-level passes are what make 10,000 papers fast.
        threshold = sorted(weights, reverse=True)[max_terms - 1]
        heavy = list(map(threshold.__le__, weights))
        heaviest = list(zip(compress(weights, heavy), compress(terms, heavy), strict=True))
        if len(heaviest) > max_terms:  # ties at the threshold: the first terms in sorted order win
            heaviest.sort(key=lambda item: (-item[0], item[1]))
            del heaviest[max_terms:]
    else:
        heaviest = list(zip(weights, terms, strict=True))
    norm = math.sqrt(math.fsum(w * w for w, _ in heaviest))
    if not norm:
        return ()
    scale = SCALE / norm
    return tuple(sorted((t, q) for w, t in heaviest if (q := round(w * scale)) > 0))


def _rank(scores: dict[int, int], depth: int) -> Row:
    """The `depth` best (score, number) pairs: highest score first, ties by number (= slug) ascending."""
    if len(scores) > depth:
        threshold = heapq.nlargest(depth, scores.values())[-1]
        keep = compress(scores, map(threshold.__le__, scores.values()))
    else:
        keep = iter(scores)
    best = sorted((-scores[j], j) for j in keep)[:depth]
    return [(-negative, j) for negative, j in best]


def _merge(row: Row, pushed: Iterable[tuple[int, int]], depth: int) -> Row:
    return sorted([*row, *pushed], key=lambda item: (-item[0], item[1]))[:depth]


class _Postings:
    """term -> the papers that have it in their vector: [(number, weight)] in number order.

    A term on more than `limit` vectors keeps the `limit` papers it weighs most in (ties by number): the
    others do not score on that term, with anyone, so scores stay symmetric.
    """

    def __init__(self, full: dict[str, dict[int, int]], limit: int) -> None:
        self.limit = limit
        self.full = full
        # Worked out when first scored on: an update after one edit looks at a few dozen terms, not all.
        self.lists = _Lists(self._capped)

    @classmethod
    def of(cls, vectors: Sequence[Vector], limit: int) -> _Postings:
        full: dict[str, dict[int, int]] = {}
        for i, vector in enumerate(vectors):
            for term, weight in vector:
                entry = full.get(term)
                if entry is None:
                    full[term] = {i: weight}
                else:
                    entry[i] = weight
        return cls(full, limit)

    def _capped(self, term: str) -> list[tuple[int, int]]:
        entry = self.full[term]
        if len(entry) <= self.limit:
            return sorted(entry.items())
        return sorted(heapq.nsmallest(self.limit, entry.items(), key=lambda item: (-item[1], item[0])))

    def carries(self, term: str, i: int) -> bool:
        """Whether paper i scores on `term` (it is on the term's list, capped or not)."""
        return len(self.full[term]) <= self.limit or any(j == i for j, _ in self.lists[term])

    def replace(self, i: int, old: Vector, new: Vector) -> set[str]:
        """Move paper i from vector `old` to `new`. Returns the terms whose list is or was capped and changed:
        other papers on them may have moved in or out of the list."""
        touched = {term for term, _ in old} | {term for term, _ in new}
        previous = {term: self.lists[term] if term in self.full else None for term in touched}
        for term, _ in old:
            del self.full[term][i]
        for term, weight in new:
            self.full.setdefault(term, {})[i] = weight
        capped = set()
        for term in touched:
            before = previous[term]
            # i changed by at most one entry, so the list had at most one paper more than it has now
            was_capped = before is not None and len(self.full[term]) + 1 > self.limit
            if not self.full[term]:
                del self.full[term]
                self.lists.pop(term, None)
                continue
            lists = self._capped(term)
            if lists != before:
                self.lists[term] = lists
                if was_capped or len(self.full[term]) > self.limit:
                    capped.add(term)
        return capped


class _Lists(dict[str, list[tuple[int, int]]]):
    """term -> its postings list, made on first use."""

    def __init__(self, make: Callable[[str], list[tuple[int, int]]]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, term: str) -> list[tuple[int, int]]:
        value = self[term] = self._make(term)
        return value


def _scores(i: int, vector: Vector, postings: _Postings) -> dict[int, int]:
    """Exact integer dot products of paper i with every paper sharing a term with it where both are posted."""
    scores: dict[int, int] = {}
    lists = postings.lists
    for term, weight in vector:
        for j, other in lists[term]:
            if j in scores:
                scores[j] += weight * other
            else:
                scores[j] = weight * other
    scores.pop(i, None)
    return scores


def _eligible(
    scores: dict[int, int], vector: Vector, effective: Sequence[Vector], options: RelatedOptions
) -> dict[int, int]:
    """The scores of the pairs above the floor: similar enough, and sharing enough terms (RelatedOptions)."""
    floor = options.min_score * SCALE * SCALE
    kept = {j: score for j, score in scores.items() if score >= floor}
    if options.min_shared > 1 and kept:
        terms = {term for term, _ in vector}
        kept = {
            j: score
            for j, score in kept.items()
            if sum(1 for term, _ in effective[j] if term in terms) >= options.min_shared
        }
    return kept


def _effective(i: int, vector: Vector, postings: _Postings) -> Vector:
    """The part of paper i's vector that the postings carry (what it is actually scored on)."""
    if all(len(postings.full[t]) <= postings.limit for t, _ in vector):
        return vector
    return tuple((t, w) for t, w in vector if postings.carries(t, i))


def _all_rows(effective: Sequence[Vector], options: RelatedOptions, block: int = 4096) -> list[Row]:
    """Every paper's row at once: `_rank(RelatedIndex._related_scores(i), k)` for each paper i, as sparse
    matrix products. With P the papers' effective vectors as rows, P @ P.T holds every pair's score (the
    same exact integer sums as `_scores`), and the same product of P's pattern the number of terms each pair
    shares; rows are ranked by score, then number. Done `block` rows at a time, so that memory stays bounded
    on a large site.

    (numpy and scipy are imported here, not with the module: only a computation from scratch needs them, and
    a build after an edit should not pay for their import.)"""
    import numpy as np
    from scipy import sparse

    n = len(effective)
    if not n:
        return []
    columns: dict[str, int] = {}
    sizes = np.fromiter(map(len, effective), dtype=np.int64, count=n)
    total = int(sizes.sum())
    cols = np.fromiter(
        (columns.setdefault(term, len(columns)) for vector in effective for term, _ in vector),
        np.int64,
        total,
    )
    weights = np.fromiter((weight for vector in effective for _, weight in vector), np.int64, total)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(sizes, out=indptr[1:])
    scored = sparse.csr_matrix((weights, cols, indptr), shape=(n, max(len(columns), 1)))
    marks = sparse.csr_matrix((np.ones(total, dtype=np.int64), cols, indptr), shape=scored.shape)
    floor = options.min_score * SCALE * SCALE
    rows: list[Row] = [[] for _ in range(n)]
    for start in range(0, n, block):
        scores = (scored[start : start + block] @ scored.T).tocsr()
        shared = (marks[start : start + block] @ marks.T).tocsr()
        scores.sort_indices()
        shared.sort_indices()
        # Every weight is positive, so both products have an entry exactly where two papers share a term.
        assert np.array_equal(scores.indptr, shared.indptr) and np.array_equal(scores.indices, shared.indices)
        mine = np.repeat(np.arange(start, start + scores.shape[0]), np.diff(scores.indptr))
        others, values = scores.indices, scores.data
        keep = (values >= floor) & (shared.data >= options.min_shared) & (others != mine)
        mine, others, values = mine[keep], others[keep], values[keep]
        order = np.lexsort((others, -values, mine))
        mine, others, values = mine[order], others[order], values[order]
        rank = np.arange(len(mine)) - np.searchsorted(mine, mine)
        best = rank < options.k
        for i, j, score in zip(
            mine[best].tolist(), others[best].tolist(), values[best].tolist(), strict=True
        ):
            rows[i].append((score, j))
    return rows


# A loaded cache's derived data: vectors, effective vectors, document frequencies. (The postings are made
# again from the vectors: that takes less time than reading them, let alone writing them.)
_Derived = tuple[list[Vector], list[Vector], dict[str, int]]

# -- the index -----------------------------------------------------------------------------------------


class RelatedIndex:
    """Related-paper lists kept between builds, updated rather than recomputed after small changes.

    Keep one instance per site: in memory across rebuilds in `serve`, in a cache file between `build` runs
    (`load` before, `save` after when `dirty`). `update(papers)` returns exactly what
    `related_papers(papers, k)` returns (the tests compare them after random edits), reusing:

    - the term counts of every paper whose title and abstract are unchanged (content hash);
    - everything, when no paper's title or abstract changed and none was added or removed;
    - after edits: the vectors of papers none of whose terms changed document frequency, and the lists of
      papers that no changed vector reaches (see `_apply_edits`);
    - papers added or removed, when few: each is an edit from or to no text (the weights read the number of
      papers coarsely, as the frequencies).

    Many papers added or removed at once, or a number of papers that moves into another step, recompute the
    vectors and lists from scratch, from the cached counts of the papers already analysed.
    """

    def __init__(self, options: RelatedOptions | None = None) -> None:
        self.options = options or RelatedOptions()
        self.dirty = False  # changed since loaded or saved
        self.stats: dict[str, int] = {}  # what the last update recomputed, for tests and benchmarks
        self._analyzer = Analyzer(self.options.title_weight)
        self._analyses: dict[str, Analysis] = {}  # content hash -> analysis
        self._hashes: dict[str, str] = {}  # slug -> content hash, at the last update
        self._slugs: list[str] = []  # sorted; a paper's number is its position here
        self._rows: list[Row] = []
        # Parallel to _rows: the shared terms shown of each pair of the row (see explained), kept up to date
        # by update, so that a build shows them without reading anything but the cache's header.
        self._why: list[Why] = []
        # Parallel to _rows: each row and its terms as one text (see row_texts), with the row and terms it was
        # made from: a row or its terms that changed are other objects, whose text is made again.
        self._texts: list[tuple[Row, Why, str]] = []
        # Derived from the analyses; rebuilt on demand after a load.
        self._df: Counter[str] | None = None
        self._idf: dict[str, float] = {}
        self._vectors: list[Vector] = []
        self._effective: list[Vector] = []
        self._postings: _Postings | None = None
        # slug -> fingerprint of its file at the last update (see _content_hashes)
        self._fingerprints: dict[str, str] = {}
        # A loaded cache: the body not yet decoded, and derived data decoded but not yet in use.
        self._body: memoryview | None = None
        self._loaded: _Derived | None = None
        # The term-count segments as last read or written, and the content hashes they hold.
        self._stored: tuple[list[bytes | memoryview], set[str]] | None = None

    # -- public ---------------------------------------------------------------------------------------------

    def update(self, papers: Sequence[Paper]) -> dict[str, list[str]]:
        """The k most similar other slugs of every paper, most similar first (see the class docstring)."""
        self.refresh(papers)
        return self._result()

    def refresh(self, papers: Sequence[Paper]) -> None:
        """Bring the lists up to date with `papers` (see update; a build reads them from row_texts)."""
        by_slug = {paper.slug: paper for paper in papers}  # slugs are unique in a site; if not, the last wins
        hashes = self._content_hashes(by_slug)
        self.stats = {"analyzed": 0, "vectors": 0, "rows": 0, "merged": 0}
        if hashes == self._hashes and len(self._rows) == len(hashes):
            return
        self.dirty = True
        self._read_body()
        old_hashes = self._hashes
        seen: dict[str, list[bytes]] = {}  # the tokens of the texts analyzed now, for the shared words
        for slug, paper in by_slug.items():
            h = hashes[slug]
            if h not in self._analyses:
                self._analyses[h] = self._analyzer.analyze(
                    paper.title, paper.abstract, seen.setdefault(slug, [])
                )
                self.stats["analyzed"] += 1
        added = hashes.keys() - old_hashes.keys()
        removed = old_hashes.keys() - hashes.keys()
        if self._rows and self._updatable(len(old_hashes), len(hashes), len(added) + len(removed)):
            self._ensure_derived()
            if added:  # (numbered among the others, with nothing yet: the edit below gives them their text)
                self._renumber(sorted([*self._slugs, *added]))
            # A paper removed is edited to no text first: it leaves the postings and every list.
            edited = [slug for slug, h in hashes.items() if h != old_hashes.get(slug)] + sorted(removed)
            before = list(self._rows)
            changed = self._apply_edits(edited, old_hashes, hashes)
            number = {slug: i for i, slug in enumerate(self._slugs)} if edited else {}
            stale = self._stale_why(before, changed | {number[slug] for slug in edited})
            self._update_why(by_slug, stale, seen)
            if removed:
                self._renumber([slug for slug in self._slugs if slug not in removed])
        else:
            self._hashes = hashes
            self._compute_all()
            self._update_why(by_slug, None, seen)
        self._hashes = hashes
        live = set(hashes.values())
        if len(self._analyses) > len(live):  # forget texts no paper has any more
            self._analyses = {h: a for h, a in self._analyses.items() if h in live}

    def explained(self) -> dict[str, list[RelatedPair]]:
        """What the last `update` returned, with why: each related paper's similarity and its top shared terms
        (`options.why_terms` of them), as `explain` gives them, without computing anything again."""
        slugs, k, scale = self._slugs, self.options.k, SCALE * SCALE
        return {
            slug: [
                RelatedPair(slugs[j], round(score / scale, 3), terms)
                for (score, j), terms in zip(row[:k], why, strict=True)
            ]
            for slug, row, why in zip(slugs, self._rows, self._why, strict=True)
        }

    def lists_with_terms(self) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
        """What `explained` gives, as (slug, terms) pairs without the scores."""
        return {
            slug: self._pairs(row, why)
            for slug, row, why in zip(self._slugs, self._rows, self._why, strict=True)
        }

    def _pairs(self, row: Row, why: Why) -> list[tuple[str, tuple[str, ...]]]:
        """One row's related papers with their terms, as (slug, terms) pairs."""
        slugs = self._slugs
        return [(slugs[j], terms) for (_, j), terms in zip(row[: self.options.k], why, strict=True)]

    def row_texts(self) -> dict[str, str]:
        """`lists_with_terms`, each paper's list as one text (sitegen.content.rows): what a forked process
        sends back an order of magnitude faster than lists of tuples. Kept, in the cache too: after an edit
        only the lists it changed are made again."""
        texts = self._texts
        if len(texts) != len(self._rows):
            texts = self._texts = [((), (), "")] * len(self._rows)
        for i, (row, why, (made_of, terms_of, _)) in enumerate(
            zip(self._rows, self._why, texts, strict=True)
        ):
            if row is not made_of or why is not terms_of:
                texts[i] = (row, why, rows.encode(self._pairs(row, why)))
        return {slug: text for slug, (_, _, text) in zip(self._slugs, texts, strict=True)}

    def _stale_why(self, before: list[Row], touched: set[int]) -> set[int] | None:
        """The rows whose terms may have changed: the rows that changed, and those of, or holding, a paper
        whose text or vector changed (the terms come from both papers' vectors and texts)."""
        if len(self._why) != len(self._rows):
            return None
        return {
            i
            for i, row in enumerate(self._rows)
            if i in touched or row != before[i] or any(j in touched for _, j in row)
        }

    def _update_why(
        self, by_slug: dict[str, Paper], stale: set[int] | None, seen: dict[str, list[bytes]] | None = None
    ) -> None:
        """Work out the terms of the `stale` rows (None: every row); `seen`: papers' tokens, by slug, already
        known (see Analyzer.analyze)."""
        if stale is None:
            self._why = [()] * len(self._rows)
            stale = set(range(len(self._rows)))
        surface = _Surface(self._analyzer, seen)
        terms = self.options.why_terms
        for i in sorted(stale):
            self._why[i] = self._why_of(i, by_slug, surface, terms)

    def _why_of(self, i: int, by_slug: dict[str, Paper], surface: _Surface, terms: int) -> Why:
        """The top shared terms of each pair of row i, as words of the two papers' texts."""
        slugs, effective = self._slugs, self._effective
        mine = dict(effective[i])
        paper = by_slug.get(slugs[i])
        out = []
        for _, j in self._rows[i][: self.options.k]:
            shared = sorted(
                ((weight * mine[term], term) for term, weight in effective[j] if term in mine),
                key=lambda item: (-item[0], item[1]),
            )
            out.append(surface.words(paper, by_slug.get(slugs[j]), [term for _, term in shared[:terms]]))
        return tuple(out)

    def explain(self, papers: Sequence[Paper], terms: int = 3) -> dict[str, list[RelatedPair]]:
        """What `update(papers)` returned, with why: each related paper's similarity and the shared terms that
        weigh most in it, as words of the papers' own text, worked out afresh (`explained` gives what update
        kept). Call it after `update` with the same papers."""
        self._read_body()
        self._ensure_derived()
        slugs, k, scale = self._slugs, self.options.k, SCALE * SCALE
        by_slug = {paper.slug: paper for paper in papers}
        surface = _Surface(self._analyzer)
        out: dict[str, list[RelatedPair]] = {}
        for i, (slug, row) in enumerate(zip(slugs, self._rows, strict=True)):
            why = self._why_of(i, by_slug, surface, terms)
            out[slug] = [
                RelatedPair(slugs[j], round(score / scale, 3), words)
                for (score, j), words in zip(row[:k], why, strict=True)
            ]
        return out

    def _content_hashes(self, by_slug: dict[str, Paper]) -> dict[str, str]:
        """slug -> content hash. A paper whose file has the fingerprint it had last time has the same text:
        its hash is taken as it was (hashing 10,000 abstracts is most of a no-change update)."""
        known, hashes = self._fingerprints, self._hashes
        out: dict[str, str] = {}
        prints: dict[str, str] = {}
        for slug, paper in by_slug.items():
            fingerprint = paper.fingerprint
            if fingerprint and known.get(slug) == fingerprint and slug in hashes:
                out[slug] = hashes[slug]
            else:
                out[slug] = content_hash(paper)
            if fingerprint:
                prints[slug] = fingerprint
        if prints != known:
            self._fingerprints = prints
            self.dirty = True
        return out

    def save(self, path: Path) -> None:
        """Write atomically (temp file + rename): a crash leaves the old cache or none, never half of one.

        Two parts: a small header (the content hashes and ranked lists, all a build with nothing changed
        needs) and the body, read only when something changed: a segment of derived data (document
        frequencies, vectors), then segments of term counts. Those are only appended to: a save
        after an edit adds one small segment with the new texts' counts rather than writing all of them
        again (until a quarter of the stored counts belong to texts no paper has any more). Segments are not
        compressed, as they are read whole after every edit. The file has the format of every cache file (see
        sitegen.store.cache): the header is a segment too, and each segment is checked before it is decoded.
        """
        header = {
            "version": FORMAT_VERSION,
            "python": sys.version_info[:2],
            "options": astuple(self.options),
            "hashes": self._hashes,
            "fingerprints": self._fingerprints,
            "rows": self._rows,
            "why": self._why,
            "texts": list(self.row_texts().values()),
        }
        body: list[bytes | memoryview]
        if self._body is not None:  # loaded and never needed: write it back as it was read, if undamaged
            try:
                read_segments(self._body)
                body = [self._body]
            except Damaged:
                body = []  # no counts: the next update that needs them starts cold
        else:
            derived = self._postings is not None and self._df is not None
            data = marshal.dumps(
                {
                    "vectors": self._vectors if derived else None,
                    "effective": self._effective if derived else None,
                    "df": dict(self._df) if derived else None,  # type: ignore[arg-type]
                }
            )
            body = [*segment(data), *self._analyses_part()]
        # (Written in parts, not joined: the body is ten megabytes or more at 10,000 papers.)
        write_file(path, [MAGIC, *segment(marshal.dumps(header)), *body])
        self.dirty = False

    def _analyses_part(self) -> list[bytes | memoryview]:
        """The term-count segments of the body: those read from the cache, plus one with the counts added
        since; or all counts in one segment when too many stored ones are stale."""
        live = self._analyses
        if self._stored is not None:
            parts, keys = self._stored
            stale = len(keys) - len(keys & live.keys())
            if stale <= len(live) // 4:
                new = {h: a for h, a in live.items() if h not in keys}
                if new:
                    parts = [*parts, *segment(marshal.dumps(new))]
                    keys = keys | new.keys()
                self._stored = (parts, keys)
                return parts
        parts = segment(marshal.dumps(live))
        self._stored = (parts, set(live))
        return parts

    @classmethod
    def load(cls, path: Path, options: RelatedOptions | None = None) -> RelatedIndex:
        """The index saved at `path`; an empty one if it is missing, unreadable, or of other version/options.

        The cache is marshal data (fast, and unlike pickle it cannot run code when read); it is tied to the
        Python version that wrote it. Only the header is checked and decoded here; the body when an update
        needs it.
        """
        index = cls(options)
        try:
            data = path.read_bytes()
            if not data.startswith(MAGIC):
                return index
            head, end = read_segment(memoryview(data), len(MAGIC))
            header = marshal.loads(head)
            if (
                header["version"] != FORMAT_VERSION
                or header["python"] != sys.version_info[:2]
                or header["options"] != astuple(index.options)
                or len(header["rows"]) != len(header["hashes"])
                or len(header["why"]) != len(header["rows"])
            ):
                return index
            index._hashes = header["hashes"]
            index._fingerprints = dict(header["fingerprints"])
            index._slugs = sorted(index._hashes)
            index._rows = header["rows"]
            index._why = header["why"]
            texts = header["texts"]
            if type(texts) is list and len(texts) == len(index._rows):
                index._texts = list(zip(index._rows, index._why, texts, strict=True))
            index._body = memoryview(data)[end:]
        except (OSError, EOFError, ValueError, TypeError, KeyError):
            return cls(options)
        return index

    def _read_body(self) -> None:
        """Decode the cached term counts and derived data; a broken body means a cold start, never a wrong
        list."""
        if self._body is None:
            return
        blob, self._body = self._body, None
        try:
            segments = read_segments(blob)
            body = marshal.loads(segments[0]) if segments else {}
            analyses: dict[str, Analysis] = {}
            for segment in segments[1:]:
                analyses.update(marshal.loads(segment))  # marshal keeps the term strings shared
            if not isinstance(body, dict):
                raise ValueError("not a mapping")
        except (EOFError, ValueError, TypeError, KeyError):
            body, analyses, segments = {}, {}, []
        if segments:
            start = SEGMENT_HEAD + len(segments[0])
            self._stored = ([blob[start:]], set(analyses))
        if not set(self._hashes.values()) <= analyses.keys():
            self._hashes, self._slugs, self._rows, self._fingerprints, self._why = {}, [], [], {}, []
            return
        self._analyses.update(analyses)
        vectors, effective = body.get("vectors"), body.get("effective")
        df = body.get("df")
        n = len(self._slugs)
        if (
            isinstance(vectors, list)
            and isinstance(effective, list)
            and len(vectors) == len(effective) == n
            and isinstance(df, dict)
        ):
            self._loaded = (vectors, effective, df)

    # -- computation ----------------------------------------------------------------------------------------

    def _result(self) -> dict[str, list[str]]:
        slugs, k = self._slugs, self.options.k
        return {slug: [slugs[j] for _, j in row[:k]] for slug, row in zip(slugs, self._rows, strict=True)}

    def _make_idf(self, df: Counter[str], papers: int) -> dict[str, float]:
        options = self.options
        bits = options.df_bits
        n = coarse(papers, bits)  # (as the frequencies: a paper added or removed seldom moves it)
        cap = max(options.max_df * n, options.max_df_floor)
        return {
            term: math.log((1 + n) / (1 + coarse(count, bits))) + 1.0
            for term, count in df.items()
            if options.min_df <= count <= cap
        }

    def _updatable(self, before: int, after: int, comings_and_goings: int) -> bool:
        """Whether an update from `before` papers to `after` can redo only what changed: the weights depend on
        the number of papers as they do on the frequencies (coarsely), so it must keep that number's step;
        and papers added or removed are each worth an edit, so they must be few (else the lists from scratch,
        as matrix products, cost less)."""
        bits = self.options.df_bits
        return coarse(before, bits) == coarse(after, bits) and comings_and_goings <= max(8, after // 800)

    def _renumber(self, slugs: list[str]) -> None:
        """Number the papers as `slugs` (sorted) does. A paper new to it starts with no vector and an empty
        list; a paper left out of it must have none left (see refresh). The numbers keep their order, so every
        list, postings list and tie keeps its order too."""
        place = {slug: i for i, slug in enumerate(slugs)}
        moved = [place.get(slug, -1) for slug in self._slugs]
        n = len(slugs)
        rows: list[Row] = [[] for _ in range(n)]
        why: list[Why] = [()] * n
        texts: list[tuple[Row, Why, str]] = [((), (), "")] * n
        vectors: list[Vector] = [()] * n
        effective: list[Vector] = [()] * n
        kept_texts = len(self._texts) == len(self._rows)
        for i, j in enumerate(moved):
            if j < 0:
                assert not self._rows[i] and not self._effective[i], "a paper left out still has a list"
                continue
            row = rows[j] = [(score, moved[k]) for score, k in self._rows[i]]
            why[j] = self._why[i]
            vectors[j], effective[j] = self._vectors[i], self._effective[i]
            if kept_texts:
                made_of, terms_of, text = self._texts[i]
                if made_of is self._rows[i] and terms_of is self._why[i]:
                    texts[j] = (row, why[j], text)  # (a text names slugs, not numbers: still true)
        assert all(k >= 0 for row in rows for _, k in row), "a list holds a paper left out"
        assert self._postings is not None
        full = {
            term: {moved[i]: weight for i, weight in entry.items()}
            for term, entry in self._postings.full.items()
        }
        self._postings = _Postings(full, self.options.max_postings)
        self._slugs, self._rows, self._why, self._texts = slugs, rows, why, texts
        self._vectors, self._effective = vectors, effective

    def _ensure_derived(self) -> None:
        """Document frequencies, vectors and postings of the papers (after a load: from the cached body)."""
        if self._postings is not None:
            return
        if self._loaded is not None:
            vectors, effective, df = self._loaded
            self._loaded = None
            self._vectors, self._effective, self._df = vectors, effective, Counter(df)
            self._idf = self._make_idf(self._df, len(self._slugs))
            self._postings = _Postings.of(vectors, self.options.max_postings)
            return
        analyses = [self._analyses[self._hashes[slug]] for slug in self._slugs]
        self._df = Counter(itertools.chain.from_iterable(terms for terms, _ in analyses))
        self._idf = self._make_idf(self._df, len(self._slugs))
        max_terms = self.options.max_terms
        self._vectors = [make_vector(a, self._idf, max_terms) for a in analyses]
        self.stats["vectors"] += len(self._vectors)
        self._postings = _Postings.of(self._vectors, self.options.max_postings)
        self._effective = [_effective(i, v, self._postings) for i, v in enumerate(self._vectors)]

    def _compute_all(self) -> None:
        self._slugs = sorted(self._hashes)
        self._postings = self._loaded = None
        self._ensure_derived()
        assert self._postings is not None
        self._rows = _all_rows(self._effective, self.options)
        self.stats["rows"] = len(self._rows)

    def _related_scores(self, i: int) -> dict[int, int]:
        """The scores of paper i with every paper related to it (above the floor)."""
        assert self._postings is not None
        vector = self._effective[i]
        return _eligible(_scores(i, vector, self._postings), vector, self._effective, self.options)

    def _apply_edits(self, edited: list[str], old_hashes: dict[str, str], hashes: dict[str, str]) -> set[int]:
        """Edits: redo only the vectors and rows the edits can reach. A paper added is numbered already, with
        no text before; a paper removed is still numbered, and edited to no text (see refresh).

        With the number of papers in the same step (see _make_idf), a paper's vector changes only if its own
        counts changed or one of its terms changed weight (document frequency). Its effective vector (what the
        postings carry) changes only then, or when it moves in or out of a capped postings list. A score
        changes only if one side's effective vector changed; so the row of a paper whose effective vector is
        unchanged changes only if a changed paper was in it (rank that row again from scratch) or a changed
        paper's new score lets it in (merge it: every paper outside the row kept its score, which was below
        the row's last).
        """
        assert self._df is not None and self._postings is not None
        number = {slug: i for i, slug in enumerate(self._slugs)}
        df, postings = self._df, self._postings
        touched: set[str] = set()
        analyses = self._analyses
        none: Analysis = ((), ())  # (the text of a paper added, before; of a paper removed, after)
        for slug in edited:
            before = set(analyses[old_hashes[slug]][0] if slug in old_hashes else ())
            after = set(analyses[hashes[slug]][0] if slug in hashes else ())
            for term in before - after:
                df[term] -= 1
                if not df[term]:
                    del df[term]
            for term in after - before:
                df[term] += 1
            touched |= before ^ after
        idf = self._make_idf(df, len(hashes))
        reweighted = {t for t in touched if idf.get(t) != self._idf.get(t)}
        self._idf = idf
        candidates = {number[slug] for slug in edited}
        if reweighted:
            for slug, i in number.items():
                if slug in hashes and not reweighted.isdisjoint(analyses[hashes[slug]][0]):
                    candidates.add(i)
        max_terms = self.options.max_terms
        repost: set[str] = set()
        refresh: set[int] = set()
        for i in sorted(candidates):
            slug = self._slugs[i]
            vector = make_vector(analyses[hashes[slug]] if slug in hashes else none, idf, max_terms)
            self.stats["vectors"] += 1
            if vector != self._vectors[i]:
                repost |= postings.replace(i, self._vectors[i], vector)
                self._vectors[i] = vector
                refresh.add(i)
        for term in repost:  # papers moved in or out of a capped list change what they are scored on
            refresh |= postings.full.get(term, {}).keys()
        changed: set[int] = set()
        for i in refresh:
            effective = _effective(i, self._vectors[i], postings)
            if effective != self._effective[i]:
                self._effective[i] = effective
                changed.add(i)
        if not changed:
            return changed
        depth = self.options.k
        pushes: dict[int, list[tuple[int, int]]] = {}
        for i in sorted(changed):
            scores = self._related_scores(i)
            for j, score in scores.items():
                if j not in changed:
                    pushes.setdefault(j, []).append((score, i))
            self._rows[i] = _rank(scores, depth)
            self.stats["rows"] += 1
        for j, row in enumerate(self._rows):
            if j in changed:
                continue
            if any(i in changed for _, i in row):
                self._rows[j] = _rank(self._related_scores(j), depth)
                self.stats["rows"] += 1
            elif j in pushes:
                merged = _merge(row, pushes[j], depth)
                if merged != row:
                    self._rows[j] = merged
                    self.stats["merged"] += 1
        return changed


@dataclass(frozen=True, slots=True)
class RelatedPair:
    """One related paper: its slug, the cosine similarity, and the shared terms that weigh most in it."""

    slug: str
    score: float
    terms: tuple[str, ...]


class _Surface:
    """A term as a word of the two papers' texts ("lpip" is shown as "lpips"), lowercase: the term itself when
    either text has it as a word, else a plural that stands for it, else the first token of the title or
    abstract that stands for it, a single word rather than a compound that holds it.

    Each paper's text is tokenized once (its distinct tokens in reading order), and what one paper offers
    for a term is remembered: a paper is in many pairs, and pairs of a topic share their terms."""

    def __init__(self, analyzer: Analyzer, seen: dict[str, list[bytes]] | None = None) -> None:
        self._memo = analyzer._memo
        self._seen = seen or {}  # each paper's tokens in reading order, if known
        self._tokens: dict[str, dict[bytes, None]] = {}
        self._words: dict[str, tuple[dict[str, str], dict[str, str]]] = {}
        # (slug, term) -> the place among the term's forms (see _find) of the first the paper has as a word
        self._ranks: dict[tuple[str, str], int] = {}
        # One string object per word shown, so that the lists of a build share them (and pickle small).
        self._interned: dict[str, str] = {}

    def _distinct(self, paper: Paper) -> dict[bytes, None]:
        found = self._tokens.get(paper.slug)
        if found is None:
            # (The tokens of "title abstract" are the title's, then the abstract's.)
            seen = self._seen.get(paper.slug)
            tokens = seen if seen is not None else _tokens(f"{paper.title} {paper.abstract}")
            found = self._tokens[paper.slug] = dict.fromkeys(tokens)
        return found

    def _of(self, paper: Paper) -> tuple[dict[str, str], dict[str, str]]:
        """(term -> word, term -> compound holding it) of the paper's hyphenated tokens, in reading order (a
        word without a hyphen is found by its rank)."""
        found = self._words.get(paper.slug)
        if found is None:
            words: dict[str, str] = {}
            compounds: dict[str, str] = {}
            for token in self._distinct(paper):
                if b"-" in token:
                    text = token.decode("ascii")
                    for term in self._memo[token]:
                        (words if "-" in term else compounds).setdefault(term, text)
            found = self._words[paper.slug] = (words, compounds)
        return found

    def _form_rank(self, paper: Paper, term: str, forms: tuple[bytes, ...]) -> int:
        key = (paper.slug, term)
        rank = self._ranks.get(key)
        if rank is None:
            words, memo = self._distinct(paper), self._memo
            rank = next(
                (n for n, form in enumerate(forms) if form in words and term in memo[form]), len(forms)
            )
            self._ranks[key] = rank
        return rank

    def words(self, paper: Paper | None, other: Paper | None, terms: Iterable[str]) -> tuple[str, ...]:
        both = [p for p in (paper, other) if p is not None]
        interned = self._interned
        out = []
        for term in terms:
            found = self._find(both, term)
            out.append(interned.setdefault(found, found))
        return tuple(out)

    def _find(self, both: list[Paper], term: str) -> str:
        key = term.encode("ascii")
        if key in self._memo and term in self._memo[key]:  # (most terms are a word of one of the texts)
            for paper in both:
                if key in self._distinct(paper):
                    return term
        forms = (key, key + b"s", key + b"es", key[:-1] + b"ies" if key.endswith(b"y") else key)
        rank = min((self._form_rank(p, term, forms) for p in both), default=len(forms))
        if rank < len(forms):
            return forms[rank].decode("ascii")
        sources = [self._of(p) for p in both]
        for kind in (0, 1):
            for found in sources:
                if term in found[kind]:
                    return found[kind][term]
        return term


def related_with_terms(papers: Sequence[Paper], k: int = 5, terms: int = 3) -> dict[str, list[RelatedPair]]:
    """related_papers() with each pair's similarity and top shared terms (see RelatedIndex.explain)."""
    index = RelatedIndex(RelatedOptions(k=k))
    index.update(papers)
    return index.explain(papers, terms)


def related_papers(papers: Sequence[Paper], k: int = 5) -> dict[str, list[str]]:
    """For each paper slug, the slugs of the k most similar other papers, most similar first."""
    return RelatedIndex(RelatedOptions(k=k)).update(papers)
