"""`sitegen import` of structured sources (issue 20): Hugging Face daily papers JSON, arXiv Atom, Zotero and
Better BibTeX .bib files and CSL-JSON, alone and mixed with digest text, into a copy of the sample site.

The fixtures in tests/fixtures/sources/ follow the real APIs' and exporters' shapes; they describe papers new
to the sample site and papers already in it (titles from content/papers/)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import REPO

from sitegen.content.frontmatter import decode, parse
from sitegen.errors import display_path

SOURCES = Path(__file__).parent / "fixtures" / "sources"
HF = SOURCES / "daily_papers_2026-03-15.json"
ATOM = SOURCES / "arxiv_query.atom"
ZOTERO_BIB = SOURCES / "zotero.bib"
BBT_BIB = SOURCES / "better-bibtex.bib"
CSL = SOURCES / "zotero-csl.json"
DIGEST = SOURCES / "digest_mar16.txt"  # "Mar 16": imported with --year 2026
GOOD = [DIGEST, HF, ATOM, ZOTERO_BIB, BBT_BIB, CSL]

SELF_TUNING = "self-tuning-networks-bilevel-optimization-of-hyperparameters"
GEM = "gradient-episodic-memory-for-continual-learning"
MATCHING = "matching-networks-for-one-shot-learning"
S4 = "efficiently-modeling-long-sequences-with-structured-state-spaces"
TRIPLET = "deep-metric-learning-using-triplet-network"
MINIMAX = "minimax-01-scaling-foundation-models-with-lightning-attention"
TRANSFORMER2 = "transformer2-self-adaptive-llms"
CHESS = "mastering-chess-and-shogi-by-self-play-with-a-general"
CHESS_SCIENCE = "a-general-reinforcement-learning-algorithm-that-masters-chess"
PHYSICS = "machine-learning-and-the-physical-sciences"
ALPHAFOLD = "highly-accurate-protein-structure-prediction-with-alphafold"
FLASH = "flashattention-fast-and-memory-efficient-exact-attention"
LLAMA = "llama-open-and-efficient-foundation-language-models"
DDPM = "denoising-diffusion-probabilistic-models"
SCALING = "scaling-laws-for-neural-language-models"


@pytest.fixture
def sample(tmp_path) -> Path:
    """A copy of the sample site's content (544 papers, digests of 2026-03-11 to 2026-03-14)."""
    root = tmp_path / "site"
    shutil.copytree(REPO / "content", root / "content")
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def difference(before: dict[str, bytes], after: dict[str, bytes]) -> tuple[set[str], set[str]]:
    """(files added, files changed), as paths relative to the site."""
    added = set(after) - set(before)
    changed = {p for p in before if p in after and before[p] != after[p]}
    assert set(before) <= set(after), "an import removed a file"
    return added, changed


def page(slug: str) -> str:
    return f"content/papers/{slug}.md"


def fields(root: Path, slug: str) -> dict:
    return parse(decode((root / page(slug)).read_bytes())[0]).fields


def body(root: Path, slug: str) -> str:
    return parse(decode((root / page(slug)).read_bytes())[0]).body


# --- each format alone --------------------------------------------------------------------------------------

ALONE = {
    HF: ({MINIMAX, TRANSFORMER2}, {SELF_TUNING}, {"content/digests/2026-03-15.yaml"}),
    ATOM: ({TRANSFORMER2, CHESS, PHYSICS}, {GEM}, set()),
    ZOTERO_BIB: ({ALPHAFOLD, FLASH}, {MATCHING}, set()),
    BBT_BIB: ({LLAMA}, {S4}, set()),
    CSL: ({CHESS_SCIENCE, DDPM}, {TRIPLET}, set()),
}


@pytest.mark.parametrize("source", list(ALONE), ids=[p.name for p in ALONE])
def test_each_format_alone_makes_exactly_the_expected_pages(run, sample, source):
    new, merged, other = ALONE[source]
    before = snapshot(sample)
    result = run("import", "--root", sample, source)
    assert result.code == 0, result.err
    added, changed = difference(before, snapshot(sample))
    assert added == {page(s) for s in new} | other
    assert changed == {page(s) for s in merged}
    assert f"{len(new)} new, {len(merged)} updated, 0 unchanged" in result.out


def test_a_hugging_face_list_is_a_digest_of_its_listing_day(run, sample):
    assert run("import", "--root", sample, HF).code == 0
    record = (sample / "content/digests/2026-03-15.yaml").read_text()
    assert record.endswith(f"papers:\n  - {SELF_TUNING}\n  - {MINIMAX}\n  - {TRANSFORMER2}\n")
    assert "sources: []" in record  # JSON is not kept in content/digests/ (nothing in it needs repair)
    assert fields(sample, SELF_TUNING)["digests"] == ["2026-03-13", "2026-03-15"]
    assert fields(sample, MINIMAX)["digests"] == ["2026-03-15"]


def test_date_lists_the_papers_of_every_file_under_that_date(run, sample):
    result = run("import", "--root", sample, "--date", "2026-03-20", HF, BBT_BIB)
    assert result.code == 0, result.err
    record = (sample / "content/digests/2026-03-20.yaml").read_text()
    assert record.endswith(
        f"papers:\n  - {SELF_TUNING}\n  - {MINIMAX}\n  - {TRANSFORMER2}\n  - {S4}\n  - {LLAMA}\n"
    )
    assert not (sample / "content/digests/2026-03-15.yaml").exists()
    assert fields(sample, LLAMA)["digests"] == ["2026-03-20"]
    assert fields(sample, S4)["digests"] == ["2026-03-13", "2026-03-20"]


def test_the_format_is_told_by_content_not_by_name(run, sample, tmp_path):
    disguised = {ZOTERO_BIB: "export.json", ATOM: "query.txt", CSL: "library.bib", HF: "papers.xml"}
    paths = []
    for source, name in disguised.items():
        paths.append(tmp_path / name)
        shutil.copy(source, paths[-1])
    result = run("import", "--root", sample, *paths)
    assert result.code == 0, result.err
    assert result.out.startswith(
        "1 Hugging Face list, 1 arXiv feed, 1 CSL-JSON file, 1 BibTeX file read, "
        "13 papers listed: 7 new, 4 updated"
    )


# --- all of them in one call --------------------------------------------------------------------------------


@pytest.fixture
def mixed(run, sample):
    """Every format in one call, digest text included."""
    before = snapshot(sample)
    result = run("import", "--root", sample, "--year", "2026", *GOOD)
    assert result.code == 0, result.err
    return sample, before, result


def test_mixed_formats_make_one_page_per_paper(mixed):
    root, before, result = mixed
    added, changed = difference(before, snapshot(root))
    new = {MINIMAX, TRANSFORMER2, CHESS, PHYSICS, ALPHAFOLD, FLASH, LLAMA, DDPM, SCALING}
    assert added == {page(s) for s in new} | {
        "content/digests/2026-03-15.yaml",
        "content/digests/2026-03-16.yaml",
        "content/digests/digest_mar16.txt",
        # the digest's repair report (sitegen.importer.repairlog)
        "content/digests/digest_mar16.txt.repairs.md",
    }
    assert changed == {page(s) for s in (SELF_TUNING, GEM, MATCHING, S4, TRIPLET)}
    assert result.out == (
        "1 digest, 1 Hugging Face list, 1 arXiv feed, 1 CSL-JSON file, 2 BibTeX files read, "
        "18 papers listed: 9 new, 5 updated, 0 unchanged; 0 with repaired text; 3 anomalies\n"
    )
    # the Science article (CSL-JSON) is the arXiv paper (Atom) by its DOI: no page of its own
    assert not (root / page(CHESS_SCIENCE)).exists()
    assert fields(root, CHESS)["doi"] == "10.1126/science.aar6404"
    # MiniMax-01: from the Hugging Face list, then from the digest of Mar 16 by title
    assert fields(root, MINIMAX)["digests"] == ["2026-03-15", "2026-03-16"]
    assert fields(root, MATCHING)["digests"] == ["2026-03-12", "2026-03-16"]
    record = (root / "content/digests/2026-03-16.yaml").read_text()
    assert "sources: [digest_mar16.txt]" in record
    assert record.endswith(f"papers:\n  - {MINIMAX}\n  - {SCALING}\n  - {MATCHING}\n")


EXPECTED = {
    SELF_TUNING: {
        "arxiv": "1903.03088",
        "authors": ["Matthew MacKay", "Paul Vicol", "Jon Lorraine", "David Duvenaud", "Roger Grosse"],
        "published": "2019-03-07",
        "upvotes": 12,
    },
    GEM: {
        "arxiv": "1706.08840",  # the feed's id is http://arxiv.org/abs/1706.08840v6
        "authors": ["David Lopez-Paz", "Marc'Aurelio Ranzato"],
        "published": "2017-06-26",
    },
    MATCHING: {
        "arxiv": "1606.04080",
        "authors": [
            *("Oriol Vinyals", "Charles Blundell", "Timothy Lillicrap", "Koray Kavukcuoglu", "Daan Wierstra")
        ],
        "doi": "10.48550/arXiv.1606.04080",  # month and year only: no day of publication
    },
    S4: {
        "arxiv": "2111.00396",
        "authors": ["Albert Gu", "Karan Goel", "Christopher Ré"],
        "published": "2021-10-31",
        "doi": "10.48550/arXiv.2111.00396",
    },
    TRIPLET: {
        "arxiv": "1412.6622",
        "authors": ["Elad Hoffer", "Nir Ailon"],
        "published": "2018-12-04",
        "doi": "10.48550/arXiv.1412.6622",
    },
    MINIMAX: {
        "arxiv": "2501.08313",
        "authors": ["MiniMax", "Aonian Li", "Bangwei Gong", "Bo Yang"],
        "published": "2025-01-14",
        "upvotes": 245,
    },
    TRANSFORMER2: {
        "arxiv": "2501.06252",
        "authors": ["Qi Sun", "Edoardo Cetin", "Yujin Tang"],
        "published": "2025-01-09",
        "upvotes": 57,
    },
    CHESS: {
        "arxiv": "1712.01815",
        "authors": ["David Silver", "Thomas Hubert", "Julian Schrittwieser", "Ioannis Antonoglou"],
        "published": "2017-12-05",
        "doi": "10.1126/science.aar6404",
    },
    PHYSICS: {
        "arxiv": "1903.10563",
        "authors": ["Giuseppe Carleo", "Ignacio Cirac", "Kyle Cranmer", "Laurent Daudet"],
        "published": "2019-03-25",
        "doi": "10.1103/RevModPhys.91.045002",
    },
    FLASH: {
        "arxiv": "2205.14135",
        "authors": ["Tri Dao", "Daniel Y. Fu", "Stefano Ermon", "Atri Rudra", "Christopher Ré"],
        "doi": "10.48550/arXiv.2205.14135",
    },
    LLAMA: {"arxiv": "2302.13971", "published": "2023-02-27"},
    ALPHAFOLD: {"doi": "10.1038/s41586-021-03819-2"},
    DDPM: {"authors": ["Jonathan Ho", "Ajay Jain", "Pieter Abbeel"]},
    SCALING: {},
}


@pytest.mark.parametrize("slug", list(EXPECTED))
def test_ids_authors_and_dates_are_set(mixed, slug):
    root, _before, _result = mixed
    found = fields(root, slug)
    for name in ("arxiv", "authors", "published", "doi", "upvotes"):
        if name in EXPECTED[slug]:
            assert found[name] == EXPECTED[slug][name], name
        elif name != "authors" or slug not in (LLAMA, ALPHAFOLD):
            assert name not in found, name


def test_names_and_tex_come_through_decoded_and_kept(mixed):
    root, _before, _result = mixed
    alphafold = fields(root, ALPHAFOLD)["authors"]
    assert len(alphafold) == 32 and "Augustin Žídek" in alphafold and "others" not in alphafold
    assert "Timothée Lacroix" in fields(root, LLAMA)["authors"]
    assert "arxiv" not in fields(root, ALPHAFOLD)
    # TeX is kept for math rendering, Zotero's escapes (\$, {\textbackslash}, {\textasciicircum}) undone
    assert r"quadratic in sequence length, $\mathcal{O}(N^2)$." in body(root, FLASH)
    assert r"and 3$\times$ speedup" in body(root, FLASH)
    assert r"We introduce $\text{Transformer}^2$, a novel" in body(root, TRANSFORMER2)
    assert r"weight matrices $W = U \Sigma V^\top$." in body(root, TRANSFORMER2)
    assert r"vectors $z_1, \dots, z_k$, trained" in body(root, TRANSFORMER2)
    assert fields(root, TRANSFORMER2)["title"] == "Transformer²: Self-adaptive LLMs"
    # code and project pages go to links; categories and keywords are matched by the taxonomy
    assert fields(root, MINIMAX)["links"] == [
        "https://github.com/MiniMax-AI",
        "https://github.com/MiniMax-AI/MiniMax-01",
        "https://www.minimaxi.com/en/news/minimax-01-series-2",
    ]
    assert fields(root, PHYSICS)["links"] == [
        "https://github.com/ml-physics/review-notebooks",
        "https://ml-physics.example.org/review",
    ]
    assert "mixture-of-experts" in fields(root, MINIMAX)["tags"]
    assert fields(root, DDPM)["tags"] == ["diffusion"]
    # a paper from a reference library is in no digest
    assert fields(root, ALPHAFOLD)["digests"] == []


def test_the_site_checks_clean_after_the_import(run, mixed):
    root, _before, _result = mixed
    result = run("check", "--root", root)
    assert result.code == 0, result.err
    assert result.err == ""
    assert result.out == "checked 553 papers: 0 errors, 0 warnings\n"


def test_entries_without_a_title_are_reported_and_skipped(mixed):
    _root, _before, result = mixed
    assert result.err.splitlines() == [
        f"{display_path(HF)}:175:3: warning: a paper without a title: skipped",
        f"{display_path(CSL)}:127:2: warning: an item without a title: skipped",
        f"{display_path(ZOTERO_BIB)}:51:1: warning: @misc{{noauthor_reading_2026, ...}} has no title: "
        "skipped",
    ]


# --- merging never rewrites ---------------------------------------------------------------------------------


def test_a_hand_edited_page_gains_only_the_added_fields(run, sample):
    path = sample / page(SELF_TUNING)
    abstract = body(sample, SELF_TUNING).strip()
    hand = (
        "---\n"
        "title: 'Self-Tuning Networks: Bilevel Optimization of Hyperparameters using Structured Best-Response"
        " Functions'\n"
        f"slug: {SELF_TUNING}\n"
        "# read for the reading group\n"
        "digests:\n"
        "  - 2026-03-13\n"
        "tags: [hyperparameter-optimization]   # not regularization\n"
        "status: reading\n"
        "---\n"
        f"{abstract}\n\nMy notes: compare with hypergradient methods.\n"
    )
    path.write_bytes(hand.replace("\n", "\r\n").encode())
    assert run("import", "--root", sample, HF).code == 0
    expected = hand.replace("  - 2026-03-13\n", "  - 2026-03-13\n  - 2026-03-15\n").replace(
        "status: reading\n",
        "status: reading\n"
        'arxiv: "1903.03088"\n'
        'authors: ["Matthew MacKay", "Paul Vicol", "Jon Lorraine", "David Duvenaud", "Roger Grosse"]\n'
        "published: 2019-03-07\n"
        "upvotes: 12\n",
    )
    assert path.read_bytes() == expected.replace("\n", "\r\n").encode()


def test_fields_a_page_has_are_never_replaced(run, sample):
    path = sample / page(GEM)
    added = 'arxiv: "1706.08840v2"\nauthors: [D. Lopez-Paz]\n'
    text = path.read_text().replace("links: []\n", "links: []\n" + added)
    path.write_text(text)
    assert run("import", "--root", sample, ATOM).code == 0
    assert path.read_text() == text.replace("---\nOne major", "published: 2017-06-26\n---\nOne major")


def test_a_hand_made_page_without_digests_is_filled_once(run, sample):
    path = sample / page(DDPM)
    path.write_text(f'---\ntitle: "Denoising Diffusion Probabilistic Models"\nslug: {DDPM}\n---\n')
    assert run("import", "--root", sample, CSL).code == 0
    found = fields(sample, DDPM)
    assert found["digests"] == [] and found["tags"] == ["diffusion"]
    assert found["links"] == ["https://github.com/hojonathanho/diffusion"]
    assert body(sample, DDPM).startswith("We present Denoising Diffusion Probabilistic Models")
    # the curator removes the tags: a second import does not give them back
    path.write_text(path.read_text().replace("tags: [diffusion]\n", ""))
    before = path.read_bytes()
    assert run("import", "--root", sample, CSL).code == 0
    assert path.read_bytes() == before


def test_reimporting_changes_no_byte(run, mixed):
    root, _before, _result = mixed
    after = snapshot(root)
    again = run("import", "--root", root, "--year", "2026", *GOOD)
    assert again.code == 0
    assert "18 papers listed: 0 new, 0 updated, 14 unchanged" in again.out
    for source in reversed(GOOD):
        assert run("import", "--root", root, "--year", "2026", source).code == 0
    assert snapshot(root) == after


def test_the_same_title_with_another_arxiv_id_is_another_paper(run, sample, tmp_path):
    path = sample / page(GEM)
    path.write_text(path.read_text().replace("links: []\n", 'links: []\narxiv: "1111.11111"\n'))
    result = run("import", "--root", sample, ATOM)
    assert result.code == 0
    message = f"same title as {GEM}.md, but arXiv 1706.08840 is not its 1111.11111: a page of its own"
    assert message in result.err
    [other] = [p for p in (sample / "content/papers").glob(f"{GEM}-*.md")]
    assert parse(other.read_text()).fields["arxiv"] == "1706.08840"


# --- refused whole ------------------------------------------------------------------------------------------

BROKEN = {
    "truncated_daily_papers.json": "45:18: not valid JSON: Unterminated string starting at",
    "broken-csl.json": "96:2: expected ',' or ']' after an item, not '{'",
    "broken.atom": "114:56: not well-formed XML: mismatched tag",
    "broken.bib": "51:1: not valid BibTeX: Unexpected block start: `@misc`. Was still looking for "
    "field-value closing `,` or `}` (in the @misc entry of line 36)",
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_a_malformed_file_is_refused_whole_and_nothing_is_written(run, sample, name):
    before = snapshot(sample)
    result = run("import", "--root", sample, "--year", "2026", *GOOD, SOURCES / name)
    assert result.code == 2
    assert result.err == f"{display_path(SOURCES / name)}:{BROKEN[name]}\n"
    assert result.out == ""
    assert snapshot(sample) == before


def test_every_malformed_file_is_named(run, sample):
    before = snapshot(sample)
    result = run("import", "--root", sample, *(SOURCES / name for name in BROKEN))
    assert result.code == 2
    expected = [f"{display_path(SOURCES / name)}:{message}" for name, message in BROKEN.items()]
    assert sorted(result.err.splitlines()) == sorted(expected)
    assert snapshot(sample) == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]", "1:1: an empty JSON list: no papers to import"),
        ('{"error": "Invalid date"}', "1:1: an error message, not papers: 'Invalid date'"),
        ('[{"name": "x"}]', "1:2: a JSON object, but neither Hugging Face daily papers nor CSL-JSON items"),
        ('<?xml version="1.0"?>\n<rss><channel/></rss>', "2:1: an XML file, but not an Atom feed"),
        (
            '<?xml version="1.0"?>\n<!DOCTYPE feed [<!ENTITY a "aaaa">]>\n<feed xmlns="http://www.w3.org/2005/Atom"/>',
            "2:28: an entity declaration (a): an Atom feed needs none",
        ),
        ('[{"paper": {"title": "caf\xe9"}}]', "1:26: not UTF-8 text (byte 0xe9); save the file as UTF-8"),
    ],
)
def test_files_of_no_known_shape_are_refused(run, sample, tmp_path, text, message):
    source = tmp_path / "input"
    source.write_bytes(text.encode("latin-1"))
    result = run("import", "--root", sample, source)
    assert result.code == 2
    assert result.err.startswith(f"{display_path(source)}:{message}")


def test_unknown_fields_and_odd_values_are_ignored(run, sample, tmp_path):
    source = tmp_path / "daily.json"
    source.write_text(
        '[{"paper": {"id": "not-an-id", "title": "Odd Values Everywhere", "summary": 42, "authors": '
        '[{"x": 1}, "Ann", {"name": "Bo Li"}], "upvotes": "many", "githubRepo": "ftp://x", "publishedAt": '
        '"soon", "brandNew": {"nested": [1, 2]}}, "publishedAt": "2026-03-17T08:00:00Z", "extra": null}]'
    )
    result = run("import", "--root", sample, source)
    assert result.code == 0
    warning = "warning: 'id' 'not-an-id' is not an arXiv id: not used"
    assert result.err == f"{display_path(source)}:1:2: {warning}\n"
    found = fields(sample, "odd-values-everywhere")
    assert found == {
        "title": "Odd Values Everywhere",
        "slug": "odd-values-everywhere",
        "digests": ["2026-03-17"],
        "tags": [],
        "links": [],
        "authors": ["Bo Li"],
        # what the importer gave (sitegen.importer.stamps); no auto_abstract: not a digest's text
        "auto_tags": [],
    }


# --- large files --------------------------------------------------------------------------------------------


def _large_hf(path: Path, listings: int) -> None:
    """A daily-papers list whose listings carry much that is not imported (as the real API's do)."""
    padding = "x" * 4000
    with path.open("w") as out:
        out.write("[\n")
        for i in range(listings):
            out.write(
                f'{"," if i else ""}{{"paper": {{"id": "2601.{i:05d}", "title": "Paper number {i}", '
                f'"summary": "A short abstract.", "authors": [{{"name": "A. Author"}}], '
                f'"ai_summary": "{padding}"}}, "publishedAt": "2026-03-18T00:00:00Z", '
                f'"mediaUrls": ["{padding}"]}}\n'
            )
        out.write("]\n")


def test_a_large_json_file_is_read_item_by_item(tmp_path):
    import tracemalloc

    from sitegen.importer.readers import Dating, read_file

    path = tmp_path / "large.json"
    _large_hf(path, 3000)
    size = path.stat().st_size
    tracemalloc.start()
    try:
        source = read_file(path, Dating(today=__import__("datetime").date(2026, 3, 20)))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(source.entries) == 3000 and source.entries[-1].arxiv == "2601.02999"
    # the whole text alone would be `size` characters; parsed whole, twice that and more
    assert peak < size / 4, (peak, size)


def test_a_large_atom_feed_is_parsed_chunk_by_chunk(tmp_path):
    import tracemalloc

    from sitegen.importer.readers import Dating, read_file

    path = tmp_path / "large.atom"
    padding = "y" * 4000
    with path.open("w") as out:
        out.write('<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n')
        for i in range(3000):
            out.write(
                f"<entry><id>http://arxiv.org/abs/2601.{i:05d}v1</id><title>Paper {i}</title>"
                f"<summary>Short.</summary><journal>{padding}</journal></entry>\n"
            )
        out.write("</feed>\n")
    size = path.stat().st_size
    tracemalloc.start()
    try:
        source = read_file(path, Dating(today=__import__("datetime").date(2026, 3, 20)))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(source.entries) == 3000 and source.entries[0].arxiv == "2601.00000"
    assert peak < size / 4, (peak, size)
