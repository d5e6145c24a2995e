"""`sitegen import`: the seeds end to end, merging into pages a curator has edited, date rules, refusals,
idempotence, atomic writes, and the surgical front-matter edits the importer relies on."""

from __future__ import annotations

import difflib
import os
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from conftest import REPO, SEEDS, paper, write_site

from sitegen.content.frontmatter import FrontMatterError, add_list_item, decode, insert_field, parse
from sitegen.content.model import load_digests, load_paper
from sitegen.content.taxonomy import default_taxonomy
from sitegen.errors import Report, SitegenError, display_path
from sitegen.importer.run import import_digests, write_if_changed
from sitegen.importer.stamps import abstract_stamp
from sitegen.text.clean import residue

FIXTURES = Path(__file__).parent / "fixtures" / "digests"
TAXONOMY = REPO / "content" / "taxonomy.yaml"
TODAY = date(2026, 3, 20)


def seed(prefix: str) -> Path:
    return next(SEEDS.glob(f"{prefix}_*.txt"))


def new_site(root: Path, taxonomy: bool = True) -> Path:
    (root / "content" / "papers").mkdir(parents=True)
    if taxonomy:
        shutil.copy(TAXONOMY, root / "content" / "taxonomy.yaml")
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def pages(root: Path) -> list[Path]:
    return sorted((root / "content" / "papers").glob("*.md"))


def fields(path: Path) -> dict:
    return parse(decode(path.read_bytes())[0]).fields


# --- the four seeds ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """The seeds imported as the sample site was: 003 (Mar 11), 002 (no date line: --date), 000 and 001."""
    root = new_site(tmp_path_factory.mktemp("seeded"))
    results = [
        import_digests(root, [seed("003")], year=2026, today=TODAY),
        import_digests(root, [seed("002")], day=date(2026, 3, 12), today=TODAY),
        import_digests(root, [seed("000"), seed("001")], today=TODAY),
    ]
    return root, results


def test_seed_counts(seeded):
    root, results = seeded
    assert len(pages(root)) == 544
    assert [r.digests for r in results] == [1, 1, 2]
    assert [r.listed for r in results] == [98, 232, 81 + 166]
    assert sum(len(r.new) for r in results) == 544
    merges = sum(len(r.updated) for r in results)
    assert merges == 577 - 544 - 1  # one paper appears in three digests, but in two of them in one run
    records = load_digests(root / "content" / "digests", Report())
    assert {d.isoformat(): len(r.order) for d, r in records.items()} == {
        "2026-03-11": 98,
        "2026-03-12": 232,
        "2026-03-13": 81,
        "2026-03-14": 166,
    }
    assert records[date(2026, 3, 12)].sources == [seed("002").name]
    for prefix in "0123":
        assert (root / "content" / "digests" / seed(f"00{prefix}").name).read_bytes() == seed(
            f"00{prefix}"
        ).read_bytes()


def test_every_page_loads_without_a_warning(seeded):
    root, _ = seeded
    report = Report()
    for path in pages(root):
        page = load_paper(path, report)
        assert page is not None and page.slug == path.stem
        assert page.abstract and not page.notes
        assert not residue(page.title) and not residue(page.body)
        for link in page.links:
            assert f"<{link}>" in page.body
    assert report.diagnostics == []


def test_page_layout_follows_the_contract(seeded):
    root, _ = seeded
    text = (
        root / "content" / "papers" / "self-tuning-networks-bilevel-optimization-of-hyperparameters.md"
    ).read_text()
    head = text.split("\n")[:9]
    abstract = text.split("\n")[9]
    assert head == [
        "---",
        'title: "Self-Tuning Networks: Bilevel Optimization of Hyperparameters using Structured '
        'Best-Response Functions"',
        "slug: self-tuning-networks-bilevel-optimization-of-hyperparameters",
        "digests: [2026-03-13]",
        "tags: [hyperparameter-optimization, regularization]",
        "links: []",
        "auto_tags: [hyperparameter-optimization, regularization]",  # what the importer gave (stamps.py)
        f"auto_abstract: {abstract_stamp(abstract)}",
        "---",
    ]
    assert abstract.startswith("Hyperparameter optimization can be formulated")


def test_sitegen_check_is_clean(seeded, run):
    root, _ = seeded
    result = run("check", "--root", root)
    assert result.code == 0
    assert "checked 544 papers: 0 errors, 0 warnings" in result.out
    assert result.err == ""


def test_same_paper_in_several_digests_is_one_page(seeded):
    root, _ = seeded
    tulu = fields(
        root / "content" / "papers" / "tulu-3-pushing-frontiers-in-open-language-model-post-training.md"
    )
    assert tulu["digests"] == ["2026-03-11", "2026-03-14"]
    harry = fields(root / "content" / "papers" / "whos-harry-potter-approximate-unlearning-in-llms.md")
    assert harry["digests"] == ["2026-03-11", "2026-03-12", "2026-03-13"]
    assert harry["title"] == "Who's Harry Potter? Approximate Unlearning in LLMs"


def test_cleaned_text_and_links(seeded):
    root, _ = seeded
    page = (
        root / "content" / "papers" / "mulmodseg-enhancing-unpaired-multi-modal-medical-image.md"
    ).read_text()
    assert "links: [https://github.com/ChengyinLee/MulModSeg_2024]" in page
    assert "in this <https://github.com/ChengyinLee/MulModSeg_2024>." in page
    patient = fields(
        root / "content" / "papers" / "patient-psi-using-large-language-models-to-simulate-patients.md"
    )
    assert patient["title"].startswith("PATIENT-Ψ:")


def test_reimport_is_a_byte_for_byte_no_op(seeded, tmp_path):
    root = tmp_path / "site"
    shutil.copytree(seeded[0], root)
    before = snapshot(root)
    again = [
        import_digests(root, [seed("000"), seed("001"), seed("003")], year=2026, today=TODAY),
        import_digests(root, [seed("002")], day=date(2026, 3, 12), today=TODAY),
    ]
    assert snapshot(root) == before
    assert [r.written for r in again] == [[], []]
    assert [len(r.unchanged) for r in again] == [321, 232]  # 345 listings of 321 papers in run 1
    assert again[1].summary() == (
        "1 digest read, 232 papers listed: 0 new, 0 updated, 232 unchanged; 0 with repaired text; 0 anomalies"
    )


def test_importing_the_copies_in_content_digests_is_a_no_op(seeded, tmp_path):
    root = tmp_path / "site"
    shutil.copytree(seeded[0], root)
    before = snapshot(root)
    copy = root / "content" / "digests" / seed("000").name
    import_digests(root, [copy], today=TODAY)
    assert snapshot(root) == before


# --- merging into pages the curator edited -----------------------------------------------------------------

DIGEST = FIXTURES / "layout_blank.txt"  # four papers, date line "Mar 13"
UNLEARNING = "Single Layer Single Gradient Unlearning"


def test_merge_changes_only_the_digests_line(tmp_path):
    hand = (
        "---\n"
        "# my notes on this one\n"
        "slug: one-gradient  # renamed by hand\n"
        "title: 'single-layer, single-gradient UNLEARNING'\n"
        "digests: [2026-03-01]   # first seen\n"
        "rating: 4\n"
        "tags: [unlearning]\n"
        "---\n"
        "My own summary.\n\nAnd notes.\n"
    )
    root = write_site(new_site(tmp_path), {"content/papers/one-gradient.md": hand})
    result = import_digests(root, [DIGEST], today=TODAY)
    after = (root / "content" / "papers" / "one-gradient.md").read_text()
    changed = [line for line in difflib.ndiff(hand.splitlines(), after.splitlines()) if line[:1] in "+-"]
    assert changed == [
        "- digests: [2026-03-01]   # first seen",
        "+ digests: [2026-03-01, 2026-03-13]   # first seen",
    ]
    assert result.updated == ["one-gradient"] and len(result.new) == 3
    assert not (root / "content" / "papers" / "single-layer-single-gradient-unlearning.md").exists()
    order = load_digests(root / "content" / "digests", Report())[date(2026, 3, 13)].order
    assert order[2] == "one-gradient"


def test_merge_into_block_style_digests(tmp_path):
    hand = (
        "---\ntitle: Single Layer Single Gradient Unlearning\nslug: sl\n"
        "digests:\n  - 2026-03-01\n  - 2026-03-20\n---\nA.\n"
    )
    root = write_site(new_site(tmp_path), {"content/papers/sl.md": hand})
    import_digests(root, [DIGEST], today=TODAY)
    text = (root / "content" / "papers" / "sl.md").read_text()
    assert text == hand.replace("  - 2026-03-20", "  - 2026-03-13\n  - 2026-03-20")


def test_a_hand_removed_tag_is_never_added_back(tmp_path):
    root = new_site(tmp_path)
    import_digests(root, [DIGEST], today=TODAY)
    path = root / "content" / "papers" / "single-layer-single-gradient-unlearning.md"
    tags = fields(path)["tags"]
    assert "unlearning" in tags
    text = path.read_text().replace("tags: [" + ", ".join(tags) + "]", "tags: []")
    path.write_text(text)
    import_digests(root, [DIGEST], day=date(2026, 3, 14), today=TODAY)
    assert fields(path)["tags"] == [] and fields(path)["digests"] == ["2026-03-13", "2026-03-14"]
    path.write_text("\n".join(line for line in path.read_text().split("\n") if not line.startswith("tags:")))
    import_digests(root, [DIGEST], day=date(2026, 3, 15), today=TODAY)
    assert "tags" not in fields(path)  # deleting the whole line is a removal too


def test_first_import_of_a_hand_made_page_fills_what_is_absent(tmp_path):
    root = write_site(
        new_site(tmp_path),
        {
            "content/papers/quant.md": paper(
                "quant", "OutlierQuant: post-training quantization for LARGE language models", body=""
            ),
            "content/papers/sparse.md": paper(
                "sparse",
                "Sparse Training from Scratch: Regrowing Connections by Gradient",
                body="Written by me.",
                tags="[mine]",
            ),
        },
    )
    import_digests(root, [DIGEST], today=TODAY)
    quant = (root / "content" / "papers" / "quant.md").read_text()
    assert fields(root / "content" / "papers" / "quant.md")["links"] == [
        "https://github.com/example/quant-outliers"
    ]
    assert "quantization" in fields(root / "content" / "papers" / "quant.md")["tags"]
    assert quant.endswith("Code is available at <https://github.com/example/quant-outliers>.\n")
    sparse = fields(root / "content" / "papers" / "sparse.md")
    assert sparse["tags"] == ["mine"] and sparse["digests"] == ["2026-03-13"]
    assert (root / "content" / "papers" / "sparse.md").read_text().endswith("---\nWritten by me.\n")


def test_crlf_and_bom_pages_keep_their_bytes(tmp_path):
    hand = (
        '\ufeff---\r\ntitle: "Single Layer Single Gradient Unlearning"\r\nslug: sl\r\n'
        "digests: [2026-03-01]\r\n---\r\nA.\r\n"
    )
    root = write_site(new_site(tmp_path), {"content/papers/sl.md": hand.encode("utf-8")})
    import_digests(root, [DIGEST], today=TODAY)
    data = (root / "content" / "papers" / "sl.md").read_bytes()
    assert data == hand.replace("[2026-03-01]", "[2026-03-01, 2026-03-13]").encode("utf-8")


def test_a_broken_page_is_reported_and_its_name_kept(tmp_path):
    root = write_site(
        new_site(tmp_path),
        {
            "content/papers/single-layer-single-gradient-unlearning.md": "---\ntitle: [unclosed\n---\n",
        },
    )
    result = import_digests(root, [DIGEST], today=TODAY)
    [warning] = [d for d in result.diagnostics if "single-layer" in d.path]
    assert "not matched against the digests" in warning.message
    assert (root / "content" / "papers" / "single-layer-single-gradient-unlearning.md").read_text() == (
        "---\ntitle: [unclosed\n---\n"
    )
    [new] = [p for p in pages(root) if p.name.startswith("single-layer-single-gradient-unlearning-")]
    assert fields(new)["title"] == UNLEARNING


def test_slug_collisions_get_a_stable_suffix(tmp_path):
    long_a = "Scaling Laws for Sparse Mixture of Experts Language Models Trained on Code and Math Data"
    long_b = "Scaling Laws for Sparse Mixture of Experts Language Models Trained on Code and Math Proofs"
    abstract = "We fit scaling laws to sparse expert models. The laws predict loss well. We release code."
    digest = tmp_path / "d.txt"
    digest.write_text(f"Mar 13\n{long_a}\n{abstract}\n{long_b}\n{abstract} Also proofs.\n")
    first = import_digests(new_site(tmp_path / "one"), [digest], today=TODAY)
    second = import_digests(new_site(tmp_path / "two"), [digest], today=TODAY)
    assert first.new == second.new and len(set(first.new)) == 2
    plain, suffixed = sorted(first.new, key=lambda slug: re.search(r"-[0-9a-f]{6}$", slug) is not None)
    assert plain == "scaling-laws-for-sparse-mixture-of-experts-language-models"
    assert re.fullmatch(r"scaling-laws-for-sparse-mixture-of-experts-language-[0-9a-f]{6}", suffixed)


def test_odd_titles_round_trip(tmp_path):
    title = 'The "Quoted" Title: A \\ Backslash, # Hash & [Brackets]'
    digest = tmp_path / "d.txt"
    digest.write_text(
        f"Mar 13\n{title}\nWe study odd titles. They must survive YAML and Markdown. Nothing is lost.\n"
    )
    root = new_site(tmp_path / "site")
    [slug] = import_digests(root, [digest], today=TODAY).new
    report = Report()
    page = load_paper(root / "content" / "papers" / f"{slug}.md", report)
    assert page is not None and page.title == title and report.diagnostics == []


def test_a_title_without_abstract_becomes_a_page_with_an_empty_body(tmp_path):
    root = new_site(tmp_path)
    result = import_digests(root, [FIXTURES / "missing_abstract.txt"], today=TODAY)
    assert len(result.new) == 4
    [warning] = result.diagnostics
    assert str(warning).endswith(
        "missing_abstract.txt:15: warning: title without an abstract: "
        "'OutlierQuant: Post-Training Quantization for Large Language…'"
    )
    report = Report()
    page = load_paper(
        root / "content" / "papers" / "outlierquant-post-training-quantization-for-large-language.md", report
    )
    assert page is not None and page.body == "" and report.diagnostics == []


def test_two_digests_of_one_day_share_the_record(tmp_path):
    root = new_site(tmp_path)
    import_digests(root, [FIXTURES / "bom.txt"], day=date(2026, 3, 13), today=TODAY)
    import_digests(root, [FIXTURES / "title_shapes.txt"], day=date(2026, 3, 13), today=TODAY)
    record = load_digests(root / "content" / "digests", Report())[date(2026, 3, 13)]
    assert record.sources == ["bom.txt", "title_shapes.txt"]
    assert len(record.order) == 2 + 4


# --- dates and refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"today": date(2026, 3, 20)}, "2026-03-13"),
        ({"today": date(2026, 3, 1)}, "2025-03-13"),  # "Mar 13" is not in the future
        ({"today": date(2026, 3, 1), "year": 2026}, "2026-03-13"),
        ({"today": date(2026, 3, 20), "day": date(2026, 1, 2)}, "2026-01-02"),  # --date overrides the line
    ],
)
def test_digest_date(tmp_path, kwargs, expected):
    root = new_site(tmp_path)
    import_digests(root, [DIGEST], **kwargs)
    assert (root / "content" / "digests" / f"{expected}.yaml").is_file()
    assert {tuple(fields(p)["digests"]) for p in pages(root)} == {(expected,)}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "layout_compact.txt",
            "1:1: no date line (like 'Mar 13') in this digest; give its date with --date YYYY-MM-DD",
        ),
        (
            "feb30.txt",
            "9:1: date line 'Feb 30' names a day that does not exist (February has 29 days at most)",
        ),
        ("empty.txt", "1:1: empty digest: no text at all"),
        ("whitespace_only.txt", "1:1: empty digest: no text at all"),
        ("binary.bin", "1:1: binary file, not a text digest"),
        ("only_headers.txt", "1:1: no papers in this digest, only header lines"),
    ],
)
def test_refused_digest_exit_2_one_line_nothing_written(tmp_path, run, name, message):
    root = new_site(tmp_path)
    before = snapshot(root)
    result = run("import", FIXTURES / "layout_blank.txt", FIXTURES / name, "--root", root)
    assert result.code == 2
    assert result.err.splitlines() == [f"{display_path(FIXTURES / name)}:{message}"]
    assert result.out == ""
    assert snapshot(root) == before  # the good digest before it was not imported either


def test_every_refused_file_is_named(tmp_path, run):
    root = new_site(tmp_path)
    result = run(
        "import", FIXTURES / "empty.txt", FIXTURES / "binary.bin", tmp_path / "missing.txt", "--root", root
    )
    assert result.code == 2
    assert len(result.err.splitlines()) == 3
    assert "missing.txt: cannot read: No such file or directory" in result.err


def test_date_option_rescues_a_digest_without_date_line(tmp_path, run):
    root = new_site(tmp_path)
    result = run("import", FIXTURES / "layout_compact.txt", "--root", root, "--date", "2026-03-12")
    assert result.code == 0, result.err
    assert result.out.strip() == (
        "1 digest read, 4 papers listed: 4 new, 0 updated, 0 unchanged; 0 with repaired text; 0 anomalies"
    )


@pytest.mark.parametrize("args", [["--bogus"], ["--date", "2026-02-30"], ["--year", "26"]])
def test_bad_options_exit_2(tmp_path, run, args):
    result = run("import", FIXTURES / "layout_blank.txt", "--root", new_site(tmp_path), *args)
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1


def test_anomalies_are_warnings_with_file_and_line(tmp_path, run):
    root = new_site(tmp_path)
    result = run("import", FIXTURES / "missing_title.txt", "--root", root, "--date", "2026-03-12")
    assert result.code == 0
    assert result.err.splitlines() == [
        f"{display_path(FIXTURES / 'missing_title.txt')}:5: warning: abstract without a title skipped: "
        "'Large language models are expensive to serve because of the…'"
    ]
    assert result.out.strip().endswith("3 new, 0 updated, 0 unchanged; 0 with repaired text; 1 anomaly")


def test_bad_taxonomy_is_refused_before_writing(tmp_path, run):
    root = new_site(tmp_path, taxonomy=False)
    (root / "content" / "taxonomy.yaml").write_text('tags:\n  - slug: x\n    match: ["/(/"]\n')
    result = run("import", DIGEST, "--root", root)
    assert result.code == 2
    assert result.err.startswith(f"{root / 'content' / 'taxonomy.yaml'}:3:13: bad regular expression")
    assert pages(root) == []


# --- atomic writes -----------------------------------------------------------------------------------------


def test_an_interrupted_import_leaves_every_page_whole(tmp_path, monkeypatch):
    root = new_site(tmp_path / "site")
    calls = {"n": 0}
    real_replace = os.replace

    def flaky_replace(src, dst):
        calls["n"] += 1
        if calls["n"] == 40:
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky_replace)  # (the writer's, in sitegen.store.files)
    with pytest.raises(KeyboardInterrupt):
        import_digests(root, [seed("000")], today=TODAY)
    monkeypatch.setattr(os, "replace", real_replace)
    written = pages(root)
    assert 0 < len(written) < 81
    assert not [p for p in root.rglob("*") if p.name.endswith(".tmp")]
    for path in written:
        assert load_paper(path, Report()) is not None
    # running it again completes the job, as if nothing had happened
    import_digests(root, [seed("000")], today=TODAY)
    fresh = new_site(tmp_path / "fresh")
    import_digests(fresh, [seed("000")], today=TODAY)
    assert snapshot(root) == snapshot(fresh)


def test_write_if_changed(tmp_path):
    path = tmp_path / "a.md"
    assert write_if_changed(path, b"one") is True
    stamp = path.stat().st_mtime_ns
    os.utime(path, ns=(stamp - 10**9, stamp - 10**9))
    assert write_if_changed(path, b"one") is False
    assert path.stat().st_mtime_ns == stamp - 10**9
    assert write_if_changed(path, b"two") is True and path.read_bytes() == b"two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md"]


def test_unwritable_content_is_a_one_line_error(tmp_path):
    root = new_site(tmp_path)
    (root / "content" / "digests").write_text("a file where a folder should be")
    with pytest.raises(SitegenError) as info:
        import_digests(root, [DIGEST], today=TODAY)
    assert info.value.exit_code == 2 and len(info.value.diagnostics) == 1


# --- surgical front-matter edits ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("digests: [2026-03-11]  # c\n", "digests: [2026-03-11, 2026-03-13]  # c\n"),
        ("digests: [2026-03-14]\n", "digests: [2026-03-13, 2026-03-14]\n"),
        ("digests: []\n", "digests: [2026-03-13]\n"),
        ("digests:\n", "digests: [2026-03-13]\n"),
        ("digests: 2026-03-11\n", "digests: [2026-03-11, 2026-03-13]\n"),
        ("digests:\n  - 2026-03-11 # c\n", "digests:\n  - 2026-03-11 # c\n  - 2026-03-13\n"),
        ("digests:\n- '2026-03-14'\n", "digests:\n- 2026-03-13\n- '2026-03-14'\n"),
        ("digests: [2026-03-11,\n  2026-03-12]\n", "digests: [2026-03-11,\n  2026-03-12, 2026-03-13]\n"),
        ("digests: [2026-03-13]\n", "digests: [2026-03-13]\n"),
        ("title: x\n", "title: x\ndigests: [2026-03-13]\n"),
    ],
)
def test_add_list_item(before, after):
    text = f"---\n{before}---\nBody: untouched.\n"
    assert (
        add_list_item(text, "digests", "2026-03-13", ordered=True) == f"---\n{after}---\nBody: untouched.\n"
    )


def test_add_list_item_refuses_a_mapping():
    with pytest.raises(FrontMatterError):
        add_list_item("---\ndigests: {a: 1}\n---\n", "digests", "2026-03-13")


def test_insert_field():
    text = "---\ntitle: A  # t\n---\nBody\n"
    assert insert_field(text, "links", ["https://x.org/a", "b, c"]) == (
        '---\ntitle: A  # t\nlinks: [https://x.org/a, "b, c"]\n---\nBody\n'
    )
    with pytest.raises(FrontMatterError):
        insert_field(text, "title", "B")


def test_the_sample_site_is_the_import_of_its_digests(tmp_path):
    """Importing the committed digests again into a copy of content/ changes nothing (the commands are in
    content/digests/README.md)."""
    root = tmp_path / "site"
    shutil.copytree(REPO / "content", root / "content")
    before = snapshot(root)
    digests = root / "content" / "digests"
    import_digests(root, [digests / seed("003").name], year=2026, today=TODAY)
    import_digests(root, [digests / seed("002").name], day=date(2026, 3, 12), today=TODAY)
    import_digests(root, [digests / seed("000").name, digests / seed("001").name], year=2026, today=TODAY)
    assert snapshot(root) == before


def test_a_site_without_taxonomy_gets_the_default_one(tmp_path, run):
    root = tmp_path / "bare"
    root.mkdir()
    result = run("import", DIGEST, "--root", root)
    assert result.code == 0, result.err
    taxonomy = root / "content" / "taxonomy.yaml"
    assert result.out.strip().endswith(f"; default tags written to {display_path(taxonomy)}")
    assert taxonomy.read_bytes() == default_taxonomy()
    assert (
        "unlearning"
        in fields(root / "content" / "papers" / "single-layer-single-gradient-unlearning.md")["tags"]
    )
    again = run("import", DIGEST, "--root", root)
    assert "default tags" not in again.out
