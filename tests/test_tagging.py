"""Tags that generalize: the fixed rules, the fallback that borrows tags from similar papers, the share of new
papers tagged on a digest held out of the sample, and `check` on tags the taxonomy does not list."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO, paper

from sitegen.content.frontmatter import decode, parse
from sitegen.content.slugs import title_key
from sitegen.content.taxonomy import assign_tags, load_taxonomy, parse_taxonomy
from sitegen.importer.digest import read_digest
from sitegen.importer.tagging import FallbackOptions, borrow_tags, tag_papers
from sitegen.text.clean import clean_abstract, clean_title

SHIPPED = [REPO / "content" / "taxonomy.yaml", REPO / "sitegen" / "content" / "default_taxonomy.yaml"]


@pytest.fixture(params=SHIPPED, ids=["sample", "default"])
def taxonomy(request):
    return load_taxonomy(request.param).taxonomy


# The five papers the issue found untagged on a digest the project had not seen, and what they are about.
UNSEEN = [
    ("Lawma: The Power of Specialization for Legal Tasks", {"nlp"}),
    ("MetaFormer: A Unified Meta Framework for Fine-Grained Recognition", {"vision"}),
    ("Learning Gabor Texture Features for Fine-Grained Recognition", {"vision"}),
    ("Dense Hebbian neural networks", {"theory"}),
    ("Wide and Deep Neural Networks Achieve Optimality for Classification", {"theory"}),
]


@pytest.mark.parametrize(("title", "expected"), UNSEEN)
def test_the_papers_the_issue_found_untagged_get_sensible_tags(taxonomy, title, expected):
    assert expected <= set(assign_tags(taxonomy, title, ""))


MISFIRES = [
    # (title, a tag it must not get, a tag it must get)
    ("Expanding Scene Graph Boundaries: Fully Open-vocabulary Scene Graph Generation", "theory", "vision"),
    (
        "PD-Quant: Post-Training Quantization based on Prediction Difference Metric",
        "fine-tuning",
        "quantization",
    ),
    ("Sparse-DiT: Token Sparsification for Efficient Diffusion Transformers", "pruning", "diffusion"),
    ("Why do small language models underperform? Studying Language Model Saturation", "nlp", "llm"),
    ("TÜLU 3: Pushing Frontiers in Open Language Model Post-Training", "nlp", "fine-tuning"),
    ("Fluctuation-based Adaptive Structured Pruning for Large Language Models", "nlp", "pruning"),
]


@pytest.mark.parametrize(("title", "wrong", "right"), MISFIRES)
def test_rules_that_misfired_no_longer_do(taxonomy, title, wrong, right):
    tags = assign_tags(taxonomy, title, "")
    assert wrong not in tags and right in tags


def _sample_tags() -> list[list[str]]:
    tags = []
    for path in sorted((REPO / "content" / "papers").glob("*.md")):
        tags.append(parse(decode(path.read_bytes())[0]).fields["tags"])
    return tags


def test_llm_and_nlp_overlap_little_on_the_sample():
    tags = _sample_tags()
    llm = sum("llm" in t for t in tags)
    nlp = sum("nlp" in t for t in tags)
    both = sum("llm" in t and "nlp" in t for t in tags)
    assert both <= 0.1 * min(llm, nlp)


# --- the fallback -------------------------------------------------------------------------------------------

RULES = parse_taxonomy(
    b"tags:\n  - slug: sprockets\n    name: Sprockets\n    match: [sprocket*]\n", Path("t.yaml")
).taxonomy
TAGGED = [
    (
        f"Sprocket study {n}",
        f"Chain drives, gear teeth, torque transfer and lubrication of sprockets {n}.",
        ["sprockets"],
    )
    for n in range(6)
]
TAGGED += [
    (f"Bird song {n}", f"Songbirds learn melodies, syllables and dialects by ear {n}.", []) for n in range(6)
]


def test_a_paper_no_rule_matches_borrows_the_tags_of_similar_papers():
    similar = (
        "Chain drives under load",
        "We measure torque transfer, gear teeth wear and lubrication of chain drives.",
    )
    lonely = ("Quokka husbandry", "Marsupial enclosures, feeding and veterinary care.")
    assert assign_tags(RULES, *similar) == []
    assert tag_papers(RULES, [similar, lonely], TAGGED) == [["sprockets"], []]


def test_the_fallback_needs_similar_enough_papers():
    query = [("Chain drives", "Torque.")]
    assert borrow_tags(query, TAGGED) == [["sprockets"]]
    assert borrow_tags(query, TAGGED, FallbackOptions(min_similarity=0.99)) == [[]]


def test_import_tags_an_unmatched_paper_from_its_neighbours(site, run, tmp_path):
    files = {
        "content/taxonomy.yaml": "tags:\n  - slug: sprockets\n    name: Sprockets\n    match: [sprocket*]\n"
    }
    for n, (title, abstract, tags) in enumerate(TAGGED):
        files[f"content/papers/p{n}.md"] = paper(f"p{n}", title, body=abstract, tags=f"[{', '.join(tags)}]")
    root = site(files)
    digest = tmp_path / "d.txt"
    digest.write_text(
        "Mar 13\n\nChain Drives Under Load\n"
        "We measure torque transfer, gear teeth wear and lubrication of chain drives in the field.\n",
        encoding="utf-8",
    )
    assert run("import", digest, "--root", root, "--year", "2026").code == 0
    page = root / "content" / "papers" / "chain-drives-under-load.md"
    fields = parse(decode(page.read_bytes())[0]).fields
    assert fields["tags"] == fields["auto_tags"] == ["sprockets"]


# --- held out: each sample digest as the new one, the other three as the site ------------------------------


def _digest_papers() -> dict[str, list[tuple[str, str, str]]]:
    papers = {}
    for path in sorted((REPO / "content" / "digests").glob("*.txt")):
        entries = read_digest(path.read_bytes()).entries
        cleaned = [(clean_title(e.title).text, clean_abstract(e.abstract).text) for e in entries]
        papers[path.name] = [(title_key(t), t, a) for t, a in cleaned]
    return papers


@pytest.mark.slow
def test_at_least_97_percent_of_a_held_out_digests_new_papers_are_tagged():
    taxonomy = load_taxonomy(SHIPPED[0]).taxonomy
    papers = _digest_papers()
    for held, listed in papers.items():
        site = {key: (t, a) for name, others in papers.items() if name != held for key, t, a in others}
        tagged = [(t, a, assign_tags(taxonomy, t, a)) for t, a in site.values()]
        new = [(t, a) for key, t, a in dict.fromkeys(listed) if key not in site]
        tags = tag_papers(taxonomy, new, tagged)
        assert sum(map(bool, tags)) >= 0.97 * len(new), held
        # the fallback alone (as if no rule matched): it tags most papers, and mostly as the rules do
        borrowed = borrow_tags(new, tagged)
        rules = [assign_tags(taxonomy, t, a) for t, a in new]
        given = [(b, r) for b, r in zip(borrowed, rules, strict=True) if b]
        assert len(given) >= 0.75 * len(new), held
        assert sum(bool(set(b) & set(r)) for b, r in given) >= 0.65 * len(given), held


# --- check --------------------------------------------------------------------------------------------------


def test_check_warns_about_a_tag_missing_from_the_taxonomy_with_a_did_you_mean(site, run):
    root = site(
        {
            "content/taxonomy.yaml": (REPO / "content" / "taxonomy.yaml").read_text(encoding="utf-8"),
            "content/papers/a.md": paper("a", "A", tags="[vision, difusion, zzyzx-topic]"),
        }
    )
    result = run("check", "--root", root)
    path = root / "content" / "papers" / "a.md"
    assert result.code == 0
    assert result.err.splitlines() == [
        f"{path}:4:16: warning: tag 'difusion' is not in the taxonomy; did you mean 'diffusion'?",
        f"{path}:4:26: warning: tag 'zzyzx-topic' is not in the taxonomy; add it to the taxonomy to name and "
        "describe it",
    ]


def test_free_form_tags_without_a_taxonomy_are_fine(site, run):
    root = site({"content/papers/a.md": paper("a", "A", tags="[difusion]")})
    result = run("check", "--root", root)
    assert result.code == 0 and result.err == ""
