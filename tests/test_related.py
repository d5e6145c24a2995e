"""Related papers: tokenization, a corpus whose answer is known, and incremental/cached == cold, exactly."""

from __future__ import annotations

import dataclasses
import itertools
import random
import re
from pathlib import Path

import pytest
from conftest import SEEDS

from sitegen.content import rows
from sitegen.content.model import Paper
from sitegen.content.related import (
    SCALE,
    RelatedIndex,
    RelatedOptions,
    _all_rows,
    _rank,
    related_papers,
    related_with_terms,
    stem,
    tokenize,
)


def make(slug: str, title: str, abstract: str) -> Paper:
    return Paper(source=Path(f"content/papers/{slug}.md"), title=title, slug=slug, body=abstract + "\n")


# Three topics; every paper shares its topic's vocabulary, and a little general vocabulary with everyone.
CLUSTERS = {
    "diffusion": (
        "Diffusion models for image synthesis",
        "We train a denoising diffusion model that generates images from noise with a score network, "
        "improving sample quality of image synthesis and guidance for denoising.",
    ),
    "robot": (
        "Robot manipulation with reinforcement learning",
        "A robot arm learns grasping and manipulation through reinforcement learning with a reward for each "
        "grasp, trained in simulation and deployed on a real robot.",
    ),
    "speech": (
        "Speech recognition for low-resource languages",
        "We transcribe speech audio with an acoustic encoder, improving speech recognition word error rate "
        "for low-resource languages with little transcribed audio.",
    ),
}
TWISTS = ["benchmark", "scaling", "efficiency", "evaluation"]


def cluster_corpus() -> list[Paper]:
    papers = []
    for topic, (title, abstract) in CLUSTERS.items():
        for n, twist in enumerate(TWISTS):
            papers.append(make(f"{topic}-{n}", f"{title}: {twist}", f"{abstract} We report {twist} results."))
    return papers


# -- analysis ------------------------------------------------------------------------------------------------


def test_tokenize_words_compounds_stems_and_stop_words():
    text = "The Self-Tuning Networks use text-to-image LLMs (GPT-4) in 2023 benchmarks, state-of-the-art"
    assert tokenize(text) == [
        "self-tuning", "tuning", "network", "text-to-image", "text", "image", "llm", "gpt-4", "gpt",
        "benchmark",
    ]  # fmt: skip


def test_tokenize_folds_accents_and_drops_other_scripts():
    assert tokenize("Schrödinger équation 量子 naïve") == ["schrodinger", "equation", "naive"]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("models", "model"), ("studies", "study"), ("classes", "class"), ("patches", "patch"),
        ("images", "image"), ("analysis", "analysis"), ("corpus", "corpus"), ("loss", "loss"),
        ("gans", "gan"), ("gas", "gas"), ("l2s", "l2s"),
    ],
)  # fmt: skip
def test_stem_folds_plurals_only(word, expected):
    assert stem(word) == expected


# -- results -------------------------------------------------------------------------------------------------


def test_clusters_relate_within_their_topic():
    related = related_papers(cluster_corpus(), k=3)
    assert set(related) == {p.slug for p in cluster_corpus()}
    for slug, others in related.items():
        topic = slug.split("-")[0]
        assert len(others) == 3
        assert slug not in others
        assert all(other.split("-")[0] == topic for other in others), (slug, others)


def test_one_shared_twist_word_is_filler_not_a_relation():
    """diffusion-0 and robot-0 share 'benchmark' and nothing else: below the floor, so diffusion-0 lists the
    three papers of its topic (ties by slug) and nothing after them, rather than filler."""
    related = related_papers(cluster_corpus(), k=5)
    assert related["diffusion-0"] == ["diffusion-1", "diffusion-2", "diffusion-3"]
    without_floor = RelatedIndex(RelatedOptions(k=5, min_score=0.0, min_shared=1)).update(cluster_corpus())
    assert set(without_floor["diffusion-0"][3:]) == {"robot-0", "speech-0"}


def test_unrelated_paper_gets_no_list_and_k_is_respected():
    papers = [*cluster_corpus(), make("lonely", "Quokka husbandry", "Marsupial enclosures and feeding.")]
    related = related_papers(papers, k=2)
    assert related["lonely"] == []
    assert all(len(others) <= 2 for others in related.values())
    assert "lonely" not in {s for others in related.values() for s in others}


def test_result_does_not_depend_on_input_order():
    papers = cluster_corpus()
    shuffled = papers[:]
    random.Random(4).shuffle(shuffled)
    assert related_papers(shuffled) == related_papers(papers)


def test_title_counts_more_than_abstract():
    base = "Generic words about learning systems and data."
    papers = [
        make("a", "Graph networks", base + " Sparse attention."),
        make("b", "Graph networks too", base + " Other topic entirely."),
        make("c", "Something else", base + " Sparse attention."),
        make("d", "Unrelated title", "Nothing shared here at all."),
    ]
    # a shares the title words with b, and the same number of abstract words with c
    assert related_papers(papers, k=1)["a"] == ["b"]


def test_empty_and_single_corpus():
    assert related_papers([]) == {}
    assert related_papers([make("solo", "A title", "An abstract.")]) == {"solo": []}
    assert related_papers([make("blank", "", "")]) == {"blank": []}


def test_notes_do_not_change_related():
    papers = cluster_corpus()
    with_notes = [
        dataclasses.replace(p, body=p.body + "\nCurator notes about robots and speech.\n") for p in papers
    ]
    assert related_papers(with_notes) == related_papers(papers)


# -- incremental and cached == cold --------------------------------------------------------------------------

_WORDS_TEXT = (
    "diffusion denoising image robot grasp reward speech audio acoustic graph node protein molecule language "
    "token attention sparse quantization pruning retrieval agent planning reasoning proof theorem video"
)
WORDS = _WORDS_TEXT.split()


def random_corpus(rng: random.Random, n: int) -> list[Paper]:
    papers = []
    for i in range(n):
        title = " ".join(rng.choices(WORDS, k=4))
        abstract = " ".join(rng.choices(WORDS, k=rng.randint(5, 25)))
        papers.append(make(f"p{i:03d}", title, abstract))
    return papers


def edit(rng: random.Random, papers: list[Paper]) -> list[Paper]:
    papers = papers[:]
    i = rng.randrange(len(papers))
    kind = rng.choice(["abstract", "title", "word", "swap", "notes", "add", "remove"])
    p = papers[i]
    if kind == "abstract":
        papers[i] = dataclasses.replace(p, body=" ".join(rng.choices(WORDS, k=rng.randint(3, 25))))
    elif kind == "title":
        papers[i] = dataclasses.replace(p, title=" ".join(rng.choices(WORDS, k=3)))
    elif kind == "word":
        papers[i] = dataclasses.replace(p, body=p.abstract + " " + rng.choice(WORDS))
    elif kind == "swap":
        j = rng.randrange(len(papers))
        papers[i], papers[j] = (
            dataclasses.replace(p, body=papers[j].body),
            dataclasses.replace(papers[j], body=p.body),
        )
    elif kind == "notes":
        papers[i] = dataclasses.replace(p, body=p.abstract + "\n\nnotes " + rng.choice(WORDS))
    elif kind == "add":
        papers.append(
            make(f"n{rng.randrange(10**6):06d}", " ".join(rng.choices(WORDS, k=3)), rng.choice(WORDS))
        )
    elif len(papers) > 2:
        del papers[i]
    return papers


# Small postings caps and document-frequency limits, so that the capped paths run on a small corpus.
OPTION_SETS = [
    RelatedOptions(),
    RelatedOptions(k=3, max_terms=4, max_postings=3, max_df=0.3, max_df_floor=2),
    RelatedOptions(k=1, max_terms=2, max_postings=1, min_df=1),
    RelatedOptions(k=4, max_terms=6, max_postings=4, min_score=0.25, min_shared=3),
    # Document frequencies exact, and kept to their highest binary digit (powers of two).
    RelatedOptions(df_bits=0),
    RelatedOptions(k=3, max_terms=5, df_bits=1),
]


@pytest.mark.parametrize("options", OPTION_SETS)
@pytest.mark.parametrize("seed", range(6))
def test_incremental_updates_equal_a_cold_computation(options, seed):
    rng = random.Random(seed)
    papers = random_corpus(rng, 40)
    index = RelatedIndex(options)
    index.update(papers)
    for _ in range(25):
        papers = edit(rng, papers)
        cold = RelatedIndex(options)
        assert index.update(papers) == cold.update(papers)
        assert index.row_texts() == cold.row_texts() == texts_of(cold)


SPARSE_SEEDS = range(3)


def rows_scored_alone(options: RelatedOptions, seed: int) -> tuple[RelatedIndex, list]:
    """An index of a corpus of rarer terms than WORDS alone, and each paper's row scored alone."""
    rng = random.Random(200 + seed)
    vocabulary = [f"{word}{n}" for word in WORDS for n in range(4)]
    papers = [
        make(f"p{i:03d}", " ".join(rng.choices(vocabulary, k=4)), " ".join(rng.choices(vocabulary, k=25)))
        for i in range(60)
    ]
    index = RelatedIndex(options)
    index.update(papers)
    return index, [_rank(index._related_scores(i), options.k) for i in range(len(papers))]


@pytest.mark.parametrize("options", OPTION_SETS)
@pytest.mark.parametrize("seed", SPARSE_SEEDS)
def test_rows_from_scratch_in_blocks_equal_each_paper_scored_alone(options, seed):
    """The sparse products of a computation from scratch give, block by block, each paper's own row."""
    index, alone = rows_scored_alone(options, seed)
    for block in (1, 7, 4096):
        assert _all_rows(index._effective, options, block) == alone


@pytest.mark.parametrize("options", [o for o in OPTION_SETS if o.max_postings > 1])
def test_the_corpora_of_the_rows_test_relate_papers_under_each_option_set(options):
    """(So that the test above compares rows that hold papers: one paper per term relates none.)"""
    assert any(any(rows_scored_alone(options, seed)[1]) for seed in SPARSE_SEEDS)


def fingerprinted(papers: list[Paper]) -> list[Paper]:
    """The papers as loaded from files: each with a fingerprint of what its file holds."""
    return [
        dataclasses.replace(p, fingerprint=f"{hash((p.slug, p.title, p.body)) & 0xFFFFFFFF:08x}")
        for p in papers
    ]


@pytest.mark.parametrize("options", OPTION_SETS)
@pytest.mark.parametrize("seed", range(4))
def test_updates_through_the_cache_file_equal_a_cold_computation(tmp_path, options, seed):
    """Each build loads the index its predecessor saved (derived data included), as `sitegen build` does."""
    rng = random.Random(100 + seed)
    papers = fingerprinted(random_corpus(rng, 40))
    path = tmp_path / "related.bin"
    index = RelatedIndex(options)
    index.update(papers)
    index.save(path)
    for _ in range(15):
        papers = fingerprinted(edit(rng, papers))
        index = RelatedIndex.load(path, options)
        cold = RelatedIndex(options)
        assert index.update(papers) == cold.update(papers)
        # (The texts of the lists are kept in the cache too: those of lists an edit changed are made again.)
        assert index.row_texts() == texts_of(cold)
        if index.dirty:
            index.save(path)


def texts_of(index: RelatedIndex) -> dict[str, str]:
    """Each paper's list as one text, made from the lists with their terms."""
    return {slug: rows.encode(pairs) for slug, pairs in index.lists_with_terms().items()}


def test_unchanged_fingerprints_skip_the_text(tmp_path):
    """A paper whose file fingerprint is unchanged is taken to have the same text (what the fingerprint
    promises): its text is not looked at again."""
    papers = fingerprinted(cluster_corpus())
    index = RelatedIndex()
    expected = index.update(papers)
    # Same fingerprint, other text: the text is not read, so nothing is recomputed.
    tampered = [dataclasses.replace(papers[0], title="Speech audio"), *papers[1:]]
    assert index.update(tampered) == expected and index.stats["analyzed"] == 0
    # A new fingerprint: the text is read.
    changed = fingerprinted(tampered)
    assert index.update(changed) == related_papers(changed) and index.stats["analyzed"] == 1


def test_unchanged_content_is_not_recomputed():
    rng = random.Random(1)
    papers = random_corpus(rng, 60)
    index = RelatedIndex()
    first = index.update(papers)
    assert index.stats["analyzed"] == 60 and index.dirty
    again = index.update(list(reversed(papers)))
    assert again == first
    assert index.stats == {"analyzed": 0, "vectors": 0, "rows": 0, "merged": 0}


def test_one_edit_recomputes_only_what_it_reaches():
    rng = random.Random(2)
    vocabulary = [f"term{n}x" for n in range(600)]
    papers = [
        make(f"p{i:03d}", " ".join(rng.choices(vocabulary, k=4)), " ".join(rng.choices(vocabulary, k=30)))
        for i in range(300)
    ]
    index = RelatedIndex()
    before = index.update(papers)
    papers[7] = dataclasses.replace(papers[7], body=papers[7].abstract + " term5x term6x")
    after = index.update(papers)
    assert after == related_papers(papers) and after != before
    assert index.stats["analyzed"] == 1
    assert 0 < index.stats["vectors"] < 100
    assert 0 < index.stats["rows"] < 100


def long_tail_text(rng: random.Random, k: int) -> str:
    """k words of a vocabulary with a long tail, as the words of abstracts have."""
    vocabulary = [f"term{n}x" for n in range(800)]
    return " ".join(rng.choices(vocabulary, [1 / (n + 10) for n in range(800)], k=k))


def test_an_abstract_rewritten_whole_recomputes_a_minority_of_the_vectors():
    """Each term the new abstract adds or drops changes its document frequency by one. With the frequencies
    kept coarse (the default), that moves the weight of few terms, and so few vectors; kept exact, it moves
    every such term's weight in every paper that has it."""
    rng = random.Random(3)

    def text(k: int) -> str:
        return long_tail_text(rng, k)

    papers = [make(f"p{i:04d}", text(5), text(40)) for i in range(1500)]
    rewritten = papers[:]
    rewritten[7] = dataclasses.replace(papers[7], body=text(40) + "\n")
    recomputed = {}
    for options in (RelatedOptions(), RelatedOptions(df_bits=0)):
        index = RelatedIndex(options)
        index.update(papers)
        assert index.update(rewritten) == RelatedIndex(options).update(rewritten)
        recomputed[options.df_bits] = index.stats["vectors"]
    assert recomputed[RelatedOptions().df_bits] < len(papers) / 3
    assert recomputed[0] > len(papers) * 2 / 3


def test_a_paper_added_or_removed_recomputes_a_minority_of_the_vectors():
    """The weights read the number of papers coarsely too: a paper added or removed is an edit from or to no
    text, not a computation from scratch (which recomputes every vector), and gives the same lists."""
    rng = random.Random(4)
    papers = [make(f"p{i:04d}", long_tail_text(rng, 5), long_tail_text(rng, 40)) for i in range(1500)]
    index = RelatedIndex()
    index.update(papers)
    grown = [*papers, make("p0750a", long_tail_text(rng, 5), long_tail_text(rng, 40))]  # (numbered mid-way)
    for changed in (grown, papers, papers[:-1]):
        cold = RelatedIndex()
        assert index.update(changed) == cold.update(changed)
        assert index.row_texts() == cold.row_texts()
        assert 0 < index.stats["vectors"] < len(papers) / 3


def test_save_and_load_round_trip(tmp_path):
    papers = random_corpus(random.Random(3), 50)
    path = tmp_path / "cache" / "related.bin"
    index = RelatedIndex()
    expected = index.update(papers)
    index.save(path)
    assert not index.dirty and path.is_file()
    assert [p.name for p in path.parent.iterdir()] == ["related.bin"]  # no temp file left behind

    loaded = RelatedIndex.load(path)
    assert loaded.update(papers) == expected
    assert loaded.stats["rows"] == 0 and not loaded.dirty  # nothing changed: nothing recomputed

    loaded = RelatedIndex.load(path)
    edited = papers[:]
    edited[4] = dataclasses.replace(edited[4], title="robot grasp reward")
    assert loaded.update(edited) == related_papers(edited)
    assert loaded.stats["analyzed"] == 1


def test_loaded_index_reuses_cached_vectors_and_saves_unread_parts_unchanged(tmp_path):
    papers = random_corpus(random.Random(5), 80)
    first, second = tmp_path / "a.bin", tmp_path / "b.bin"
    index = RelatedIndex()
    index.update(papers)
    index.save(first)
    untouched = RelatedIndex.load(first)
    untouched.update(papers)
    untouched.save(second)  # its body was never decoded: written back as read, still usable below
    assert second.read_bytes().endswith(first.read_bytes()[-1000:])

    edited = papers[:]
    edited[3] = dataclasses.replace(edited[3], body=edited[3].abstract + " theorem")
    loaded = RelatedIndex.load(second)
    assert loaded.update(edited) == related_papers(edited)
    assert loaded.stats["analyzed"] == 1 and loaded.stats["vectors"] < 80  # the others came from the cache


def test_broken_cache_body_means_a_cold_start(tmp_path):
    papers = cluster_corpus()
    path = tmp_path / "related.bin"
    index = RelatedIndex()
    index.update(papers)
    index.save(path)
    path.write_bytes(path.read_bytes()[:-40])  # header intact, body cut short
    edited = papers[:]
    edited[0] = dataclasses.replace(edited[0], title="Speech audio")
    loaded = RelatedIndex.load(path)
    assert loaded.update(papers) == related_papers(papers)  # nothing changed: the header suffices
    loaded = RelatedIndex.load(path)
    assert loaded.update(edited) == related_papers(edited)
    assert loaded.stats["analyzed"] == len(papers)


@pytest.mark.parametrize("content", [b"", b"garbage", b"x\x9c\x03\x00\x00\x00\x00\x01"])
def test_unreadable_cache_means_a_cold_start(tmp_path, content):
    path = tmp_path / "related.bin"
    path.write_bytes(content)
    papers = cluster_corpus()
    index = RelatedIndex.load(path)
    assert index.update(papers) == related_papers(papers)
    assert index.stats["analyzed"] == len(papers)


def test_cache_of_other_options_is_not_reused(tmp_path):
    path = tmp_path / "related.bin"
    papers = cluster_corpus()
    index = RelatedIndex()
    index.update(papers)
    index.save(path)
    other = RelatedIndex.load(path, RelatedOptions(k=2))
    assert other.update(papers) == related_papers(papers, k=2)
    assert other.stats["analyzed"] == len(papers)


# -- the real digests ----------------------------------------------------------------------------------------

_DATE_LINE = re.compile(r"[A-Z][a-z]{2} \d{1,2}")


def seed_papers() -> list[Paper]:
    """Crude reading of the scraped digests: a long line is an abstract, the line before it its title."""
    found: dict[str, Paper] = {}
    for path in sorted(SEEDS.glob("*.txt")):
        lines = [
            line.strip().removeprefix("Subscribe") for line in path.read_text().splitlines() if line.strip()
        ]
        for before, line in itertools.pairwise(lines):
            if len(line) > 200 and len(before) < 200 and not _DATE_LINE.fullmatch(before):
                slug = re.sub(r"[^a-z0-9]+", "-", before.lower()).strip("-")[:60]
                found.setdefault(slug, make(slug, before, line))
    return list(found.values())


def test_seed_papers_relate_by_topic():
    papers = seed_papers()
    assert len(papers) > 300
    titles = {p.slug: p.title.lower() for p in papers}
    related = related_papers(papers)

    def neighbours_mentioning(title_words: str, word: str) -> float:
        """Share of the related papers mentioning `word` in their title, over papers whose title has it."""
        hits = total = 0
        for slug, others in related.items():
            if title_words in titles[slug]:
                hits += sum(word in titles[o] for o in others)
                total += len(others)
        return hits / total

    assert neighbours_mentioning("unlearning", "unlearning") > 0.5
    assert neighbours_mentioning("diffusion", "diffusion") > 0.3
    assert neighbours_mentioning("in-context", "context") > 0.3


def test_duplicate_slugs_count_once_last_wins():
    papers = cluster_corpus()
    twin = make("robot-0", "Speech recognition", "Speech audio acoustic transcribe recognition.")
    assert related_papers([*papers, twin]) == related_papers([*papers[:4], *papers[5:], twin])


def test_a_save_after_an_edit_appends_the_new_counts_and_compacts_when_many_are_stale(tmp_path):
    papers = fingerprinted(random_corpus(random.Random(9), 200))
    path = tmp_path / "related.bin"
    index = RelatedIndex()
    index.update(papers)
    index.save(path)
    first = path.read_bytes()

    edited = fingerprinted([dataclasses.replace(papers[0], title="robot grasp reward"), *papers[1:]])
    index = RelatedIndex.load(path)
    index.update(edited)
    index.save(path)
    second = path.read_bytes()
    # The counts of the 200 texts are kept byte for byte; one small segment holds the edited one.
    stored = first[-len(first) // 2 :]
    assert stored in second and len(second) - len(first) < len(first) // 20
    assert RelatedIndex.load(path).update(edited) == related_papers(edited)

    rng = random.Random(10)
    for n in range(80):  # many edits: stale counts pile up until the segments are written afresh
        edited[n] = dataclasses.replace(edited[n], title=" ".join(rng.choices(WORDS, k=3)))
        edited = fingerprinted(edited)
        index = RelatedIndex.load(path)
        assert index.update(edited) == related_papers(edited)
        index.save(path)
        assert len(index._stored[1]) <= 200 * 1.25 + 1  # stored counts: at most a quarter stale, plus one
    assert len(path.read_bytes()) < len(second) * 1.5


# -- the floor and "why related" -----------------------------------------------------------------------------


def test_the_floor_leaves_a_paper_fewer_than_k_rather_than_filler():
    papers = seed_papers()
    why = related_with_terms(papers, k=5)
    assert {slug: [p.slug for p in pairs] for slug, pairs in why.items()} == related_papers(papers, k=5)
    sizes = {len(pairs) for pairs in why.values()}
    assert 0 in sizes and 5 in sizes  # some papers have nothing related enough, others a full list
    for pairs in why.values():
        assert [p.score for p in pairs] == sorted((p.score for p in pairs), reverse=True)
        assert all(p.score >= RelatedOptions().min_score and len(p.terms) >= 2 for p in pairs)


def test_a_single_shared_word_does_not_relate_papers():
    """The issue's example: "consistency models" (generative models) and a survey of LLM self-consistency
    share only the word "consistency"."""
    papers = seed_papers()
    slug = {p.title: p.slug for p in papers}
    models = slug["Improved Techniques for Training Consistency Models"]
    survey = next(s for t, s in slug.items() if t.startswith("Internal Consistency and Self-Feedback"))
    floorless = RelatedIndex(RelatedOptions(min_score=0.0, min_shared=1)).update(papers)
    assert survey in floorless[models]
    related = related_papers(papers)
    assert survey not in related[models]
    assert related[models][0] == slug["Improving the Training of Rectified Flows"]


def test_why_related_names_the_shared_words_as_the_papers_write_them():
    papers = [
        make("a", "Pruning LLMs with LPIPS", "We prune large models and measure LPIPS and perplexity."),
        make("b", "LPIPS-guided pruning", "Pruning guided by LPIPS keeps perplexity low."),
        *cluster_corpus(),
    ]
    index = RelatedIndex(RelatedOptions(min_score=0.0))
    lists = index.update(papers)
    why = index.explain(papers)
    assert [p.slug for p in why["a"]] == lists["a"] and why["a"][0].slug == "b"
    assert set(why["a"][0].terms) <= {"lpips", "pruning", "perplexity", "prune"}
    assert "lpips" in why["a"][0].terms  # the word, not its stem "lpip"
    assert why["a"][0].score == round(
        sum(w * dict(index._effective[index._slugs.index("b")]).get(t, 0) for t, w in index._effective[0])
        / (SCALE * SCALE),
        3,
    )


def test_a_list_whose_shared_words_change_alone_gets_its_new_text():
    """An edit can change how a shared term is written ("model" for "models") and nothing else: the ranking
    is the same row as before, its words are not, and so is the list's text."""

    def papers(b_abstract: str) -> list[Paper]:
        return [
            make("a", "Pruning LLMs with LPIPS", "We prune large models and measure LPIPS of models."),
            make("b", "LPIPS-guided pruning", b_abstract),
            *cluster_corpus(),
        ]

    index = RelatedIndex(RelatedOptions(min_score=0.0))
    index.update(papers("Pruning guided by LPIPS keeps models small."))
    before, row = index.row_texts(), index._rows[0]
    index.update(papers("Pruning guided by LPIPS keeps model small."))
    assert index._rows[0] is row  # (the case this test is for: the same ranking)
    assert (
        index.row_texts()["a"] == texts_of(index)["a"] == rows.encode([("b", ("lpips", "pruning", "model"))])
    )
    assert before["a"] == rows.encode([("b", ("lpips", "pruning", "models"))])
