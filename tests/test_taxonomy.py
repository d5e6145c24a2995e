"""Tag rules: pattern semantics, loading errors with positions, and the shipped taxonomy on the seeds."""

from __future__ import annotations

import functools
import textwrap
from pathlib import Path

import pytest
from conftest import REPO, SEEDS

from sitegen.content.slugs import title_key
from sitegen.content.taxonomy import (
    TagRule,
    Taxonomy,
    assign_tags,
    compile_pattern,
    coverage,
    default_taxonomy,
    load_taxonomy,
    matcher,
    parse_taxonomy,
)
from sitegen.importer.digest import read_digest
from sitegen.text.clean import clean_abstract, clean_title


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "taxonomy.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("pattern", "text", "hit"),
    [
        ("pruning", "Structured Pruning of LLMs", True),
        ("pruning", "post-pruning recovery", True),
        ("pruning", "repruning", False),
        ("prun*", "we prune, then pruned models", True),
        ("fine tuning", "parameter-efficient fine-tuning", True),
        ("fine tuning", "fine  tuning", True),
        ("RL", "offline RL agents", True),
        ("RL", "an rl-like url", False),  # capitals: exact case
        ("LoRA", "lora adapters", False),
        ("lora", "LoRA adapters", True),
        ("LLM", "LLMs are", False),
        ("LLM*", "LLMs are", True),
        ("/^Position:/", "Position: Categorical Deep Learning", True),
        ("/^Position:/", "A Position: no", False),
    ],
)
def test_pattern(pattern, text, hit):
    assert bool(compile_pattern(pattern).search(text)) is hit


def rule(slug, title=(), abstract=(), minimum=1, exclude=()):
    return TagRule(
        slug,
        slug,
        "",
        tuple(map(matcher, title)),
        tuple(map(matcher, abstract)),
        minimum,
        tuple(map(matcher, exclude)),
    )


def test_title_or_enough_abstract_hits():
    taxonomy = Taxonomy((rule("pruning", ["pruning"], ["pruning", "sparsity"], minimum=2),))
    assert assign_tags(taxonomy, "Pruning Networks", "") == ["pruning"]
    assert assign_tags(taxonomy, "A Method", "We use pruning.") == []
    assert assign_tags(taxonomy, "A Method", "We use pruning to reach high sparsity.") == ["pruning"]


def test_exclude():
    taxonomy = Taxonomy((rule("search", ["search"], exclude=["architecture search"]),))
    assert assign_tags(taxonomy, "Better Search", "") == ["search"]
    assert assign_tags(taxonomy, "Neural Architecture Search", "") == []


def test_title_tags_come_first_and_max_tags_holds():
    taxonomy = Taxonomy(
        (
            rule("a", abstract=["alpha"]),
            rule("b", ["beta"]),
            rule("c", ["gamma"]),
            rule("d", abstract=["delta"]),
        ),
        max_tags=2,
    )
    abstract = "alpha alpha alpha alpha delta"
    assert assign_tags(taxonomy, "Beta and Gamma", abstract) == ["b", "c"]
    assert assign_tags(taxonomy, "Gamma", abstract) == ["c", "a"]


def test_load_reports_problems_with_positions(tmp_path):
    path = write(
        tmp_path,
        """
        max_tags: lots
        tags:
          - slug: Bad Slug
          - slug: ok
            match:
              title: ["/(unclosed/"]
              abstract_min: 0
              colour: red
          - slug: ok
          - slug: hand-only
            name: Assigned by hand
        """,
    )
    result = load_taxonomy(path)
    lines = [str(d) for d in result.diagnostics]
    assert f"{path}:1:11: 'max_tags' must be a whole number of at least 1" in lines
    assert any(line.startswith(f"{path}:3:") and "'Bad Slug'" in line for line in lines)
    assert any(line.startswith(f"{path}:6:15: bad regular expression") for line in lines)
    assert f"{path}:7:21: 'abstract_min' must be a whole number of at least 1" in lines
    assert f"{path}:8:7: warning: unknown key 'colour' in the match rules of tag 'ok'" in lines
    assert [d.line for d in result.diagnostics] == sorted(d.line for d in result.diagnostics)
    assert f"{path}:9:5: tag 'ok' is defined twice" in lines
    assert result.taxonomy.slugs == ["ok", "hand-only"]


def test_yaml_error_line(tmp_path):
    path = write(tmp_path, "tags:\n  - slug: a\n    match: [x, \n")
    [diagnostic] = load_taxonomy(path).diagnostics
    assert diagnostic.line >= 3 and "YAML syntax error" in diagnostic.message


def test_missing_file_is_an_empty_taxonomy(tmp_path):
    result = load_taxonomy(tmp_path / "none.yaml")
    assert result.taxonomy.rules == () and result.diagnostics == []


# --- the shipped taxonomy on the seed digests --------------------------------------------------------------


@functools.cache
def seed_papers() -> list[tuple[str, str]]:
    papers: dict[str, tuple[str, str]] = {}
    for path in sorted(SEEDS.glob("*.txt")):
        for entry in read_digest(path.read_bytes()).entries:
            title = clean_title(entry.title).text
            papers.setdefault(title_key(title), (title, clean_abstract(entry.abstract).text))
    return list(papers.values())


@functools.cache
def shipped(which: str = "sample") -> Taxonomy:
    """The sample site's taxonomy, or the default one that sitegen writes into a site that has none."""
    path = REPO / "content" / "taxonomy.yaml"
    result = load_taxonomy(path) if which == "sample" else parse_taxonomy(default_taxonomy(), path)
    assert result.diagnostics == []
    return result.taxonomy


@pytest.mark.parametrize("which", ["sample", "default"])
def test_shipped_taxonomy_coverage_on_the_seeds(which):
    papers = seed_papers()
    assert len(papers) == 544
    share, counts = coverage(shipped(which), papers)
    largest = max(counts.values()) / len(papers)
    print(f"\ncoverage {share:.1%}, largest tag {max(counts, key=counts.get)} {largest:.1%}")
    assert share >= 0.97
    assert largest <= 0.40
    assert min(counts.values()) >= 5  # no tag is dead weight


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        (
            "Self-Tuning Networks: Bilevel Optimization of Hyperparameters using Structured "
            "Best-Response Functions",
            {"hyperparameter-optimization", "regularization"},
        ),
        ("Fluctuation-based Adaptive Structured Pruning for Large Language Models", {"pruning", "llm"}),
        ("Who's Harry Potter? Approximate Unlearning in LLMs", {"unlearning", "llm"}),
        (
            "ZeroQuant-FP: A Leap Forward in LLMs Post-Training W4A8 Quantization Using "
            "Floating-Point Formats",
            {"quantization", "llm"},
        ),
        (
            "Training and Inference Efficiency of Encoder-Decoder Speech Models",
            {"speech-audio", "efficiency"},
        ),
        ("Diffusion Models Beat GANs on Image Classification", {"diffusion", "vision"}),
        ("Alignment faking in large language models", {"alignment", "safety", "llm"}),
        ("C3oT: Generating Shorter Chain-of-Thought without Compromising Effectiveness", {"reasoning"}),
        (
            "Training Language Models for Social Deduction with Multi-Agent Reinforcement Learning",
            {"agents", "reinforcement-learning"},
        ),
        ("A Survey on Mixture of Experts", {"mixture-of-experts", "surveys"}),
        (
            "Model soups: averaging weights of multiple fine-tuned models improves accuracy "
            "without increasing "
            "inference time",
            {"model-merging"},
        ),
        ("Gradient Episodic Memory for Continual Learning", {"continual-learning"}),
        (
            "MPTQ-ViT: Mixed-Precision Post-Training Quantization for Vision Transformer",
            {"quantization", "vision"},
        ),
    ],
)
def test_spot_check(title, expected):
    papers = dict(seed_papers())
    tags = set(assign_tags(shipped(), title, papers[title]))
    assert expected <= tags, tags
