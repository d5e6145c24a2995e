"""Scrape-artifact repair: a table of (scraped, expected) pairs, then what must never be touched."""

from __future__ import annotations

import re

import pytest
from conftest import SEEDS
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from sitegen.importer.digest import read_digest
from sitegen.text.clean import clean_abstract, clean_title, escape_markdown, find_urls, residue, trim_url

# (scraped text, expected plain text): every one of these forms occurs in the seed digests
REPAIRS = [
    # HTML entities, whole or with "&#" and ";" lost
    ("from scratchx2013even for a large", "from scratch–even for a large"),
    ("consumer devices x2013 prior works", "consumer devices – prior works"),
    ("Q&amp;A tasks", "Q&A tasks"),
    ("a &#8220;quote&#8221;", "a “quote”"),
    ("an en dash #x2013; here", "an en dash – here"),
    ("layers 10x201320 of", "layers 10–20 of"),
    ("the modelsx2019 weights", "the models’ weights"),
    ("by Mx00fcller et al.", "by Müller et al."),
    # LaTeX accents and special letters
    ('we introduce T\\"ULU 3, a family', "we introduce TÜLU 3, a family"),
    ('the Nystr\\"om method', "the Nyström method"),
    ('[Aky\\"urek et al., 2023]', "[Akyürek et al., 2023]"),
    ('an apparently na\\"{\\i}ve ensembling', "an apparently naïve ensembling"),
    ("the PL (Polyak-\\L ojasiewicz) condition", "the PL (Polyak-Łojasiewicz) condition"),
    ("Erd\\H{o}s and Pe\\~na and Caf\\'e", "Erdős and Peña and Café"),
    ("aggregates an object\\'s potential", "aggregates an object's potential"),
    # escaped characters, math and symbols
    ("regions (sim50\\%). Nonetheless", "regions (~50%). Nonetheless"),
    ("(sim0.01% of model parameters)", "(~0.01% of model parameters)"),
    ("speeds up pre-training by sim3x.", "speeds up pre-training by ~3x."),
    ("the first sim 10^3 tokens", "the first ~10³ tokens"),
    ("a 25\\% pruning ratio", "a 25% pruning ratio"),
    ("the state matrix \\( A \\), this system", "the state matrix A, this system"),
    ("PATIENT-{\\Psi}-TRAINER, for", "PATIENT-Ψ-TRAINER, for"),
    ("stronger LLMs (\\eg GPT-4) to", "stronger LLMs (e.g. GPT-4) to"),
    ("when m gg n and", "when m ≫ n and"),
    ("p_d(y|x) ; forall d.", "p_d(y|x) ; ∀ d."),
    ("an excess risk of mathcal{O}(mathcal{C_Phi/m})", "an excess risk of O(C_Φ/m)"),
    ("a {O}(K T^{3/4}) regret", "a O(K T^(3/4)) regret"),
    ("(> 10^{19}) that", "(> 10¹⁹) that"),
    ("three critical textit{O}bstacles: (O1)", "three critical Obstacles: (O1)"),
    ("called G_{stack}, exhibits", "called G_stack, exhibits"),
    ("What will happen to GPT-{n} once", "What will happen to GPT-n once"),
    ("between {second-order optimization} and", "between second-order optimization and"),
    ("Re$^3$Dial: Retrieve, Reorganize", "Re³Dial: Retrieve, Reorganize"),
    ("$BT^2$: Backward-compatible Training", "BT²: Backward-compatible Training"),
    ("M^{2}UGen: Multi-modal Music", "M²UGen: Multi-modal Music"),
    ("we call CAD^2RL, which", "we call CAD²RL, which"),
    # common arXiv LaTeX beyond the seeds
    ("as shown in~\\cite{smith2020} and Table~\\ref{tab:a}.", "as shown in and Table."),
    ("a loss $\\frac{1}{2}\\|x\\|^2$ here", "a loss 1/2‖x‖² here"),
    ("error \\left( \\frac{n}{k+1} \\right) and \\sqrt{d}", "error ( n/(k+1) ) and √d"),
    ("x \\in \\mathbb{R}^d", "x ∈ ℝ^d"),
    ("$\\mathcal{O}(n \\log n)$ time", "O(n log n) time"),
    ("with $\\alpha=0.5$ and top-$k$", "with α=0.5 and top-k"),
    ("$O(n^2)$ cost and $\\ell_1$ norm", "O(n²) cost and ℓ_1 norm"),
    ("achieves $>90\\%$ accuracy", "achieves >90% accuracy"),
    ("the set $\\{0, 1\\}^n$", "the set {0, 1}^n"),
    ("\\textsc{LLaMA}-2 and \\texttt{code}", "LLaMA-2 and code"),
    # inline HTML a scraper kept, in closed pairs only
    ("x<sup>2</sup> and H<sub>2</sub>O", "x² and H2O"),
    ("<i>In vivo</i> and <b><i>both</i></b><br/>next", "In vivo and both next"),
    ('see <a href="https://x.org/a">our code</a>.', "see our code (https://x.org/a)."),
    # quotes, non-breaking spaces, dashes
    ("creates ``short-sighted'' interactions", "creates “short-sighted” interactions"),
    ('encouraged to ``learn to learn" from', "encouraged to “learn to learn” from"),
    (
        "retrieves images via ''Retrieval & Rerank'' paradigm",
        "retrieves images via “Retrieval & Rerank” paradigm",
    ),
    ("the `right to be forgotten' within", "the ‘right to be forgotten’ within"),
    ("continual learning~(CL) and", "continual learning (CL) and"),
    ("techniques (e.g.,~SVD) frequently", "techniques (e.g., SVD) frequently"),
    ("remains rather limited -- most existing", "remains rather limited – most existing"),
    # characters a scraper leaves behind
    ("zero\u200bwidth and\u00a0no-break", "zerowidth and no-break"),
    ("the \ufb01rst e\ufb03cient", "the first efficient"),
]


@pytest.mark.parametrize(("scraped", "expected"), REPAIRS)
def test_repair(scraped: str, expected: str):
    cleaned = clean_title(scraped)
    assert cleaned.text == expected
    assert cleaned.repairs, "a repair should be recorded"
    assert cleaned.leftovers == []


# Ordinary prose that looks a little like an artifact and must come back exactly as it was
UNTOUCHED = [
    "We cut costs by $5 and $10 per run.",
    "Training with 0x2013 as a seed.",
    "A Sim2Real gap remains; simulation helps.",
    "Reduce latency ~30% on GPUs with x~N(0,1) noise.",
    'Outputs such as {"a": 1} and sets {0, 1} are kept.',
    "ReST-MCTS* beats L^* in KL^* + K regret.",
    "emphasize the importance of textual features",
    "The Q&A split and Split & Merge.",
    "p(y|x) for x in X, m > n, (<600M MACs).",
    "Use --help to see the options of the CLI tool.",
    "if a<b and c>d then",
    "Scores rise from 15.0 -> 13.89 on WIKI.",
    "CO_2 emissions and p_d(y) estimates.",
    "Who's Harry Potter? Approximate Unlearning in LLMs",
    "TÜLU 3: Pushing Frontiers in Open Language Model Post-Training",
]


@pytest.mark.parametrize("text", UNTOUCHED)
def test_prose_is_left_alone(text: str):
    cleaned = clean_title(text)
    assert cleaned.text == text
    assert cleaned.repairs == []


URLS = [
    (
        "Code is released at https://github.com/CASIA-IVA-Lab/FLAP.",
        "https://github.com/CASIA-IVA-Lab/FLAP",
        "Code is released at <https://github.com/CASIA-IVA-Lab/FLAP>.",
    ),
    (
        "Code is available at https://github.com/wenyudu/MIGU{this https URL}.",
        "https://github.com/wenyudu/MIGU",
        "Code is available at <https://github.com/wenyudu/MIGU>.",
    ),
    (
        "available in this {https://github.com/ChengyinLee/MulModSeg_2024{link}}.",
        "https://github.com/ChengyinLee/MulModSeg_2024",
        "available in this <https://github.com/ChengyinLee/MulModSeg_2024>.",
    ),
    (
        "are available at https://llm-stacking.github.io/{https://llm-stacking.github.io/}.",
        "https://llm-stacking.github.io/",
        "are available at <https://llm-stacking.github.io/>.",
    ),
    (
        "(Code at https://github.com/microsoft/SCGLab and https://github.com/beyondguo/genius)",
        "https://github.com/microsoft/SCGLab",
        "(Code at <https://github.com/microsoft/SCGLab> and <https://github.com/beyondguo/genius>)",
    ),
    (
        "datasets (https://huggingface.co/collections/allenai/tulu-v25-suite-66676520fd578080e126f618).",
        "https://huggingface.co/collections/allenai/tulu-v25-suite-66676520fd578080e126f618",
        "datasets (<https://huggingface.co/collections/allenai/tulu-v25-suite-66676520fd578080e126f618>).",
    ),
    (
        "here, https://github.com/jzzzzh/HiBench, to encourage",
        "https://github.com/jzzzzh/HiBench",
        "here, <https://github.com/jzzzzh/HiBench>, to encourage",
    ),
    (
        "publicly available at~https://github.com/rabeehk/compacter.",
        "https://github.com/rabeehk/compacter",
        "publicly available at <https://github.com/rabeehk/compacter>.",
    ),
    (
        "Code at https://github.com/sunnytqin/concept_comp.git.",
        "https://github.com/sunnytqin/concept_comp.git",
        "Code at <https://github.com/sunnytqin/concept_comp.git>.",
    ),
    (
        "See \\href{https://example.org/a\\_b}{our page}.",
        "https://example.org/a_b",
        "See <https://example.org/a_b>.",
    ),
    (
        "Code: \\url{https://example.org/code}.",
        "https://example.org/code",
        "Code: <https://example.org/code>.",
    ),
    (
        "The page https://en.wikipedia.org/wiki/Mamba_(disambiguation) lists it.",
        "https://en.wikipedia.org/wiki/Mamba_(disambiguation)",
        "The page <https://en.wikipedia.org/wiki/Mamba_(disambiguation)> lists it.",
    ),
]


@pytest.mark.parametrize(("text", "first_url", "markdown"), URLS)
def test_urls(text: str, first_url: str, markdown: str):
    cleaned = clean_abstract(text)
    assert cleaned.links[0] == first_url
    assert cleaned.text == markdown


def test_links_are_in_order_without_repeats():
    text = "See https://a.org/x, https://b.org/y. Again https://a.org/x."
    assert find_urls(text) == ["https://a.org/x", "https://b.org/y"]


@pytest.mark.parametrize(
    ("url", "trimmed"),
    [
        ("https://x.org/a.", "https://x.org/a"),
        ("https://x.org/a)", "https://x.org/a"),
        ("https://x.org/f(b)", "https://x.org/f(b)"),
        ("https://x.org/a?q=1;", "https://x.org/a?q=1"),
        ("https://x.org/a'\".", "https://x.org/a"),
    ],
)
def test_trim_url(url, trimmed):
    assert trim_url(url) == trimmed


# --- Markdown ----------------------------------------------------------------------------------------------


def test_textit_becomes_emphasis_in_an_abstract_and_plain_text_in_a_title():
    text = "remains \\textit{agnostic to the training hyper-parameters} in practice"
    assert clean_abstract(text).text == "remains *agnostic to the training hyper-parameters* in practice"
    assert clean_title(text).text == "remains agnostic to the training hyper-parameters in practice"


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("* not a list", "\\* not a list"),
        ("# not a heading", "\\# not a heading"),
        ("1. not a list either", "1\\. not a list either"),
        ("a *real* star", "a \\*real* star"),
        ("a _word_ here", "a \\_word_ here"),
        ("snake_case and p_d(y) stay", "snake_case and p_d(y) stay"),
        ("ReST-MCTS* and L^* stay", "ReST-MCTS* and L^* stay"),
        ("a `tick` and <b>tag</b>", "a \\`tick\\` and \\<b>tag\\</b>"),
        ("(<600M MACs) and x < y", "(<600M MACs) and x < y"),
        ("[6, 7] and [Method] stay", "[6, 7] and [Method] stay"),
        ("[click](http://x) no", "\\[click](http://x) no"),
        ("&copy; but Q&A", "\\&copy; but Q&A"),
    ],
)
def test_escape_markdown(text, escaped):
    assert escape_markdown(text) == escaped


_MD = MarkdownIt("commonmark")


def _rendered_text(markdown: str) -> str:
    html = _MD.render(markdown)
    text = re.sub(r"<[^>]+>", "", html).strip()
    return text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')


@given(st.text(alphabet=st.sampled_from(list("ab _*`<>[]()#&;!-+.1\\")), max_size=40))
def test_escaped_text_renders_as_written(text):
    text = " ".join(text.split())
    if not text:
        return
    assert _rendered_text(escape_markdown(text)) == text


# --- the seeds: nothing left to repair ---------------------------------------------------------------------


def _seed_entries():
    for path in sorted(SEEDS.glob("*.txt")):
        for entry in read_digest(path.read_bytes()).entries:
            yield path.name, entry


def test_no_artifact_left_in_the_seeds():
    left = []
    for name, entry in _seed_entries():
        for cleaned in (clean_title(entry.title), clean_abstract(entry.abstract)):
            left += [(name, entry.title_line, x) for x in residue(cleaned.text)]
            left += [(name, entry.title_line, x) for x in cleaned.leftovers if x != "\\benchmark"]
    assert left == []


def test_seed_urls_are_clean():
    for _name, entry in _seed_entries():
        for url in clean_abstract(entry.abstract).links:
            assert re.fullmatch(r"https?://[^\s{}\\<>]+[^\s{}\\<>.,;:)!?'\"]", url), url
