"""BibTeX entries: fields, dates, keys, and escaping of every character LaTeX treats specially."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from sitegen.bibtex import arxiv_date, bibtex_entry, bibtex_title, citation_key, latex_escape
from sitegen.model import Paper


def make(title: str, digests: tuple[date, ...] = (date(2026, 3, 13),), arxiv: str | None = None) -> Paper:
    return Paper(source=Path("p.md"), title=title, slug="some-paper", digests=list(digests), arxiv=arxiv)


def fields(entry: str) -> dict[str, str]:
    """name -> raw value of a one-field-per-line entry."""
    return dict(re.findall(r"^  (\w+)\s*= (.*?),?$", entry, re.M))


def assert_balanced(entry: str) -> None:
    """Braces balance once escaped braces (\\{ \\}) are set aside: BibTeX would read the entry to its end."""
    depth = 0
    for match in re.finditer(r"\\[{}]|[{}]", entry):
        token = match.group()
        if token in "{}":
            depth += 1 if token == "{" else -1
            assert depth >= 0, entry
    assert depth == 0, entry


def test_arxiv_entry():
    title = "Self-Tuning Networks: Bilevel Optimization of Hyperparameters"
    entry = bibtex_entry(make(title, arxiv="1903.03088v2"))
    assert entry.startswith("@misc{selftuning2019networks,\n") and entry.endswith("\n}")
    assert fields(entry) == {
        "title": "{{Self-Tuning} Networks: Bilevel Optimization of Hyperparameters}",
        "year": "{2019}",
        "month": "mar",
        "eprint": "{1903.03088}",
        "archivePrefix": "{arXiv}",
        "url": "{https://arxiv.org/abs/1903.03088v2}",
    }
    assert "author" not in entry and "primaryClass" not in entry
    assert_balanced(entry)


def test_without_arxiv_the_date_comes_from_the_first_digest_and_the_url_from_the_caller():
    paper = make("Diffusion Models Beat GANs", digests=(date(2026, 3, 14), date(2025, 11, 2)))
    entry = bibtex_entry(paper, url="https://example.org/review/papers/some-paper/")
    assert fields(entry) == {
        "title": "{Diffusion Models Beat {GANs}}",
        "year": "{2025}",
        "month": "nov",
        "url": "{https://example.org/review/papers/some-paper/}",
    }
    assert "eprint" not in entry
    assert fields(bibtex_entry(paper)).keys() == {"title", "year", "month"}


def test_no_date_at_all():
    entry = bibtex_entry(make("Quiet Paper", digests=()))
    assert fields(entry) == {"title": "{Quiet Paper}"}
    assert entry.startswith("@misc{quietpaper,")


@pytest.mark.parametrize(
    ("char", "escaped"),
    [
        ("&", r"\&"), ("%", r"\%"), ("$", r"\$"), ("#", r"\#"), ("_", r"\_"), ("{", r"\{"), ("}", r"\}"),
        ("~", r"\textasciitilde{}"), ("^", r"\textasciicircum{}"), ("\\", r"\textbackslash{}"),
        ("<", r"\textless{}"), (">", r"\textgreater{}"),
    ],
)  # fmt: skip
def test_special_characters_are_escaped(char, escaped):
    assert latex_escape(f"a{char}b") == f"a{escaped}b"
    entry = bibtex_entry(make(f"Cost {char} Benefit"))
    assert fields(entry)["title"] == f"{{Cost {escaped} Benefit}}"
    assert_balanced(entry)


def test_all_specials_together_stay_balanced_and_unambiguous():
    title = r"Re$^3$Dial: 100% {LLaMA}_2 & #tags ~ \emph{x} } {"
    entry = bibtex_entry(make(title))
    assert_balanced(entry)
    value = fields(entry)["title"]
    # Nothing special is left bare: every & % $ # _ is escaped, every brace is ours or escaped.
    assert not re.search(r"(?<!\\)[&%$#_]", value)
    assert r"\textbackslash{}emph\{x\}" in value
    assert r"Re\$\textasciicircum{}3\$Dial" in value


@pytest.mark.parametrize(
    ("text", "latex"),
    [
        ("Schrödinger", r"Schr{\"o}dinger"),
        ("naïve café", r"na{\"\i}ve caf{\'e}"),
        ("Łódź", r"{\L}{\'o}d{\'z}"),
        ("Straße", r"Stra{\ss}e"),
        ("Çelik", r"{\c{C}}elik"),
        ("α-divergence", r"{$\alpha$}-divergence"),
        ("Δ-tuning", r"{$\Delta$}-tuning"),
        ("αβ ≤ λ", r"{$\alpha$}{$\beta$} {$\leq$} {$\lambda$}"),
        ("A–B — “quoted” it’s…", r"A--B --- ``quoted'' it's\ldots{}"),
        ("量子 learning", "量子 learning"),
    ],
)
def test_non_ascii(text, latex):
    assert latex_escape(text) == latex


def test_case_protection_braces_acronyms_and_inner_capitals_only():
    assert bibtex_title("Training BERT and LLaMA on ImageNet in 3D, with T5") == (
        "Training {BERT} and {LLaMA} on {ImageNet} in {3D}, with {T5}"
    )
    assert bibtex_title("A Study of Attention (GPT-4):") == "A Study of Attention ({GPT-4}):"
    assert bibtex_title("  spaced\tout  ") == "spaced out"


def test_citation_keys():
    assert citation_key(make("The Attention Is All You Need", arxiv="1706.03762")) == "attention2017all"
    assert citation_key(make("Schrödinger's Cat", digests=(date(2024, 1, 5),))) == "schrodingers2024cat"
    assert citation_key(make("On the of", digests=())) == "somepaper"  # nothing significant: the slug
    assert re.fullmatch(r"[a-z0-9]+", citation_key(make("量子 & 💡")))


def test_arxiv_dates():
    assert arxiv_date("2403.01234") == (2024, 3)
    assert arxiv_date("0704.0001v3") == (2007, 4)
    assert arxiv_date("hep-th/9901001") == (1999, 1)
    assert arxiv_date("math.AG/0211159") == (2002, 11)
    assert arxiv_date("2413.01234") is None
    assert arxiv_date("not-an-id") is None


def test_old_style_arxiv_id():
    entry = bibtex_entry(make("Old Paper", arxiv="hep-th/9901001v1"))
    assert fields(entry)["eprint"] == "{hep-th/9901001}"
    assert fields(entry)["url"] == "{https://arxiv.org/abs/hep-th/9901001v1}"
    assert fields(entry)["year"] == "{1999}"


def test_url_cannot_break_the_entry():
    entry = bibtex_entry(make("X", digests=()), url="https://e.org/a b/{c}\\d")
    assert fields(entry)["url"] == "{https://e.org/a%20b/%7Bc%7D%5Cd}"
    assert_balanced(entry)
