"""Slugs: readable ASCII, cut between words, unique with a suffix that depends only on the title."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sitegen.content.model import SLUG_RE
from sitegen.content.slugs import MAX_LENGTH, short_hash, slugify, title_key, transliterate, unique_slug

SLUGS = [
    (
        "TÜLU 3: Pushing Frontiers in Open Language Model Post-Training",
        "tulu-3-pushing-frontiers-in-open-language-model-post-training",
    ),
    (
        "μ-Bench: A Vision-Language Benchmark for Microscopy Understanding",
        "mu-bench-a-vision-language-benchmark-for-microscopy",
    ),
    ("µP: micro sign, not mu", "mup-micro-sign-not-mu"),
    (
        "PATIENT-Ψ: Using Large Language Models to Simulate Patients",
        "patient-psi-using-large-language-models-to-simulate-patients",
    ),
    (
        "Who's Harry Potter? Approximate Unlearning in LLMs",
        "whos-harry-potter-approximate-unlearning-in-llms",
    ),
    ("Pandora’s White-Box", "pandoras-white-box"),
    ("Re³Dial: Retrieve, Reorganize and Rescale", "re3dial-retrieve-reorganize-and-rescale"),
    ("NLoRA: Nyström-Initiated Low-Rank Adaptation", "nlora-nystrom-initiated-low-rank-adaptation"),
    ("Split & Merge: Unlocking Visual Adapters", "split-and-merge-unlocking-visual-adapters"),
    ("Teaching Structured Vision&Language Concepts", "teaching-structured-vision-and-language-concepts"),
    ("Yi: Open Foundation Models by 01.AI", "yi-open-foundation-models-by-01-ai"),
    ("Straße, Œuvre, Łódź and the ﬁrst æon", "strasse-oeuvre-lodz-and-the-first-aeon"),
    ("ReST-MCTS*: LLM Self-Training", "rest-mcts-llm-self-training"),
    # the contract's example: cut between words at 64 characters, no trailing "using"
    (
        "Self-Tuning Networks: Bilevel Optimization of Hyperparameters using Structured "
        "Best-Response Functions",
        "self-tuning-networks-bilevel-optimization-of-hyperparameters",
    ),
    (
        "Fluctuation-based Adaptive Structured Pruning for Large Language Models",
        "fluctuation-based-adaptive-structured-pruning-for-large-language",
    ),
    ("中文标题", ""),
    ("", ""),
]


@pytest.mark.parametrize(("title", "slug"), SLUGS)
def test_slugify(title, slug):
    assert slugify(title) == slug


def test_long_single_word_is_cut_hard():
    assert slugify("A" * 200) == "a" * MAX_LENGTH


def test_cut_never_splits_a_hyphenated_word():
    slug = slugify("TÜLU 3: Pushing Frontiers in Open Large Language Model Post-Training")
    assert slug == "tulu-3-pushing-frontiers-in-open-large-language-model"  # not "...-model-post"


@given(st.text())
def test_any_title_gives_a_valid_slug_or_nothing(title):
    slug = slugify(title)
    assert slug == "" or SLUG_RE.fullmatch(slug)
    assert len(slug) <= MAX_LENGTH


@given(st.text(), st.sets(st.text(alphabet="abc-", max_size=8)))
def test_unique_slug_is_valid_and_free(title, taken):
    slug = unique_slug(title, taken)
    assert SLUG_RE.fullmatch(slug) and slug not in taken and len(slug) <= MAX_LENGTH


def test_collision_gets_a_suffix_from_the_title():
    first = "Scaling Laws for Sparse Mixture of Experts Language Models Trained on Code and Math Data"
    second = "Scaling Laws for Sparse Mixture of Experts Language Models Trained on Code and Math Proofs"
    base = unique_slug(first, set())
    assert unique_slug(second, {base}) == f"{slugify(second, MAX_LENGTH - 7)}-{short_hash(title_key(second))}"
    # the same whatever else is taken: the suffix is the title's, not a counter
    assert unique_slug(second, {base, "x"}) == unique_slug(second, {base})
    assert unique_slug(second, {base}) != unique_slug(first, {base})


def test_title_without_latin_letters_gets_a_hash_slug():
    slug = unique_slug("中文标题", set())
    assert slug.startswith("paper-") and SLUG_RE.fullmatch(slug)
    assert unique_slug("中文标题", set()) == slug
    assert unique_slug("另一个标题", set()) != slug


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("TÜLU 3: Pushing Frontiers", "Tulu 3 - pushing frontiers"),
        (
            "Who's Harry Potter? Approximate Unlearning in LLMs",
            "whos harry potter approximate unlearning in llms",
        ),
        ("Re³Dial", "Re3Dial"),
        ("PATIENT-Ψ", "patient psi"),
        ("A  B\tC", "a b c"),
    ],
)
def test_title_key_ignores_case_spacing_and_punctuation(a, b):
    assert title_key(a) == title_key(b)


def test_title_key_keeps_different_titles_apart():
    assert title_key("Attention Is All You Need") != title_key("Attention Is Not All You Need")
    assert title_key("中文标题") != title_key("另一个标题")


def test_transliterate():
    assert transliterate("TÜLU μ-Bench Ψ ß") == "TULU mu-Bench Psi ss"
