"""BibTeX entries: fields, dates, keys, and escaping of every character LaTeX treats specially; every entry,
hostile titles and the sample site's pages alike, read back by a real BibTeX parser (bibtexparser) and a real
LaTeX decoder (pylatexenc)."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
import unicodedata
from datetime import date
from pathlib import Path

import bibtexparser
import pytest
from conftest import REPO
from hypothesis import given, settings
from hypothesis import strategies as st
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from sitegen.build.bibtex import arxiv_date, bibtex_entry, bibtex_title, citation_key, latex_escape
from sitegen.content.frontmatter import decode, parse
from sitegen.content.model import Paper


def make(title: str, digests: tuple[date, ...] = (date(2026, 3, 13),), arxiv: str | None = None) -> Paper:
    return Paper(source=Path("p.md"), title=title, slug="some-paper", digests=list(digests), arxiv=arxiv)


def fields(entry: str) -> dict[str, str]:
    """name -> raw value of a one-field-per-line entry."""
    return dict(re.findall(r"^  (\w+)\s*= (.*?),?$", entry, re.M))


def assert_balanced(entry: str) -> None:
    """Braces balance both as BibTeX counts them (every brace, escaped or not) and with escaped braces
    (\\{ \\}) set aside, as LaTeX and some parsers read them; and no field ends before the entry's end."""
    for pattern in (r"[{}]", r"\\[{}]|[{}]"):
        depth = 0
        for match in re.finditer(pattern, entry):
            token = match.group()
            if token in "{}":
                depth += 1 if token == "{" else -1
                assert depth >= 0, entry
                assert depth > 0 or match.end() == len(entry), entry
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


def test_without_arxiv_or_published_there_is_no_year_and_the_first_digest_is_a_note():
    """Issue 19: a digest date is no date of publication; the page's URL is used when the base URL is not
    this computer's."""
    paper = make("Diffusion Models Beat GANs", digests=(date(2026, 3, 14), date(2025, 11, 2)))
    entry = bibtex_entry(paper, url="https://example.org/review/papers/some-paper/")
    assert fields(entry) == {
        "title": "{Diffusion Models Beat {GANs}}",
        "note": "{Listed in the digest of 2025-11-02}",
        "url": "{https://example.org/review/papers/some-paper/}",
    }
    assert "eprint" not in entry and entry.startswith("@misc{diffusionmodels,")
    assert fields(bibtex_entry(paper)).keys() == {"title", "note"}
    assert fields(bibtex_entry(paper, url="http://localhost:8000/papers/some-paper/")).keys() == {
        "title",
        "note",
    }


def test_no_date_at_all():
    entry = bibtex_entry(make("Quiet Paper", digests=()))
    assert fields(entry) == {"title": "{Quiet Paper}"}
    assert entry.startswith("@misc{quietpaper,")


@pytest.mark.parametrize(
    ("char", "escaped"),
    [
        ("&", r"\&"), ("%", r"\%"), ("$", r"\$"), ("#", r"\#"), ("_", r"\_"),
        ("{", r"\textbraceleft{}"), ("}", r"\textbraceright{}"),  # a lone brace: see test_braces
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
    # A digest date gives no year
    assert citation_key(make("Schrödinger's Cat", digests=(date(2024, 1, 5),))) == "schrodingerscat"
    assert citation_key(make("On the of", digests=())) == "somepaper"  # nothing significant: the slug
    assert re.fullmatch(r"[a-z0-9]+", citation_key(make("量子 & 💡")))


def test_arxiv_dates():
    assert arxiv_date("2403.01234") == (2024, 3)
    assert arxiv_date("0704.0001v3") == (2007, 4)
    assert arxiv_date("hep-th/9901001") == (1999, 1)
    assert arxiv_date("math.AG/0211159") == (2002, 11)
    assert arxiv_date("9104.01234") == (2091, 4)  # a new-style id is always of this century
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


# --- read back by a real parser -----------------------------------------------------------------------------

#: An entry after the one under test: a brace that BibTeX miscounts takes the entries after it.
NEXT = "@misc{next-entry-0,\n  title = {The Next Entry}\n}\n"


def _decoder() -> LatexNodes2Text:
    """pylatexenc's LaTeX-to-text, taught the text commands of LaTeX's kernel that it does not know."""
    db = get_default_latex_context_db()
    commands = {
        "textbraceleft": "{",
        "textbraceright": "}",
        "textbackslash": "\\",
        "textasciitilde": "~",
        "textasciicircum": "^",
        "textless": "<",
        "textgreater": ">",
    }
    specs = [MacroTextSpec(name, text) for name, text in commands.items()]
    db.add_context_category("kernel", specs, prepend=True)
    return LatexNodes2Text(latex_context=db, math_mode="text", strict_latex_spaces=True)


DECODER = _decoder()
# TeX's ligatures ("--" is an en dash, "``" an opening quote, "!`" an inverted "!") and what the title
# escaping writes as one of them: equal "modulo escaping".
_LIGATURES = str.maketrans(
    {
        "–": "--",
        "—": "---",
        "“": "``",
        "”": "''",
        "‘": "`",
        "’": "'",
        "¡": "!`",
        "¿": "?`",
        "\xa0": " ",
        "ο": "o",
    }
)


def fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).translate(_LIGATURES).split())


def parsed_entries(bib: str) -> list:
    library = bibtexparser.parse_string(bib)
    assert not library.failed_blocks, [(b.error, b.raw[:200]) for b in library.failed_blocks]
    return library.entries


def read_back(entry: str) -> str:
    """The title of `entry` as a BibTeX parser reads it, followed by another entry that must stay whole."""
    assert_balanced(entry)
    first, after = parsed_entries(entry + "\n\n" + NEXT)
    assert after.key == "next-entry-0" and after.fields_dict["title"].value == "The Next Entry"
    return first.fields_dict["title"].value


def test_an_unbalanced_brace_keeps_the_entry_and_those_after_it():
    for title in ("Sets of {A: a study", "Closing} brace", "}{ crossed", "{{Nested} once"):
        value = read_back(bibtex_entry(make(title)))
        assert fold(DECODER.latex_to_text(value)) == fold(title)
    assert bibtex_title("Sets of {A: a study") == r"Sets of \textbraceleft{}A: a study"


def test_paired_braces_stay_a_pair_across_words():
    assert bibtex_title("{Deep Learning} for X") == r"\{Deep Learning\} for X"
    assert bibtex_title("The {LLaMA} Family") == r"The \{{LLaMA}\} Family"
    assert latex_escape("a{b}c") == r"a\{b\}c"


HOSTILE = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from(list("{}\\#$%&_~^<> \tAaZé`'\"-!?.:;ςο–\u00a0\u0301"))),
    st.text(alphabet=st.characters(codec="utf-8")),
)


@settings(max_examples=400, deadline=None)
@given(HOSTILE)
def test_any_title_parses_and_reads_back(title):
    title = title.strip()
    entry = bibtex_entry(make(title), url="https://example.org/papers/x/")
    value = read_back(entry)
    assert value == bibtex_title(title)  # the whole title: the field did not end early
    assert fold(DECODER.latex_to_text(value)) == fold(title)


@pytest.fixture(scope="module")
def sample_pages(tmp_path_factory) -> Path:
    """The sample site (content/ of the repository) built by the CLI, without search."""
    root = tmp_path_factory.mktemp("sample")
    shutil.copytree(REPO / "content", root / "content")
    done = subprocess.run(
        [sys.executable, "-m", "sitegen", "build", "--root", str(root), "--no-search"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return root


@pytest.mark.skipif(not any((REPO / "content/papers").glob("*.md")), reason="no sample content here")
def test_every_paper_of_the_sample_site_has_bibtex_that_parses(sample_pages):
    titles = {}
    for path in (sample_pages / "content" / "papers").glob("*.md"):
        fields_ = parse(decode(path.read_bytes())[0]).fields
        titles[fields_["slug"]] = fields_["title"].strip()
    entries = {}
    for page in sorted((sample_pages / "public" / "papers").glob("*/index.html")):
        found = re.search(r'<pre class="bibtex"[^>]*><code>(.*?)</code></pre>', page.read_text("utf-8"), re.S)
        assert found, page
        entries[page.parent.name] = html.unescape(found.group(1))
    assert entries.keys() == titles.keys()
    for slug, entry in entries.items():
        value = read_back(entry)
        assert fold(DECODER.latex_to_text(value)) == fold(titles[slug]), slug
    # All of them in one .bib file: every entry is read (citation keys may repeat; they are not checked here).
    library = bibtexparser.parse_string("\n\n".join(entries.values()))
    assert len(library.entries) + len(library.failed_blocks) == len(entries)
    assert all(type(b).__name__ == "DuplicateBlockKeyBlock" for b in library.failed_blocks)


TITLE_CHARACTERS = [*"aAbZ9 -:.,\t\n'{}\\$&%_#~^", "é", "\xa0", "\u2003", "\x1c", "G", "P", "T"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(TITLE_CHARACTERS)))
def test_a_title_is_braced_the_same_whether_or_not_it_holds_braces(title):
    """Titles without braces take a shorter way (each word on its own); it gives what pairing braces over
    the whole title gives."""
    from sitegen.build.bibtex import _paired_title

    assert bibtex_title(title) == _paired_title(title)


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8000/papers/x/",
        "https://LOCALHOST/x",
        "http://127.0.0.1/x",
        "http://[::1]:8000/x",
        "http://0.0.0.0/",
        "https://example.org/review/papers/x/",
        "https://user@localhost/x",
        "https://a.localhost?x=1",
        "https://example.org#localhost",
        "http://192.168.1.4/x",
        "mailto:someone@localhost",
        " http://localhost/x",
        "http://local\thost/x",
        "//localhost/x",
    ],
)
def test_is_local_answers_as_the_hostname_urlsplit_finds_does(url):
    import ipaddress
    from urllib.parse import urlsplit

    from sitegen.text.urls import is_local

    host = urlsplit(url).hostname or ""
    try:
        address = ipaddress.ip_address(host)
        expected = address.is_loopback or address.is_unspecified
    except ValueError:
        expected = host == "localhost" or host.endswith(".localhost")
    assert is_local(url) == expected


def test_every_greek_letter_reads_back_as_itself():
    """TeX's \\phi is ϕ and \\varphi is φ (and so for epsilon): each letter is written as the command TeX
    draws it with."""
    letters = [chr(code) for code in [*range(0x391, 0x3AA), *range(0x3B1, 0x3CA)] if code != 0x3A2]
    for letter in [*letters, "ϵ", "ϕ", "ϑ", "ϖ", "ϱ"]:
        written = bibtex_title(letter)
        assert fold(DECODER.latex_to_text(written)) == fold(letter), (letter, written)
