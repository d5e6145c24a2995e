"""The import of issue 20 (readers of every format, pages matched by arXiv id, DOI and title) with what issue
19 gave the importer: repaired digest text with its warnings and repair report, tags from the rules with the
fallback borrowed from similar pages, and the stamps (`auto_tags`, `auto_abstract`) that tell the importer's
text from a person's. Each format is mixed with digest text in one call, as a curator would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import paper, write_site

from sitegen.content.frontmatter import decode, parse
from sitegen.importer.stamps import abstract_stamp

TAXONOMY = "tags:\n  - slug: sprockets\n    name: Sprockets\n    match: [sprocket*]\n"

# Pages already tagged by the curator: the neighbours the fallback borrows from.
NEIGHBOURS = {
    f"content/papers/s{n}.md": paper(
        f"s{n}",
        f"Sprocket study {n}",
        body=f"Chain drives, gear teeth, torque transfer and lubrication of sprockets {n}.",
        tags="[sprockets]",
    )
    for n in range(6)
}

DIGEST = """Mar 13

Damage Left in Place by a Scraper
We apply \\foo{x} to inputs and reach 3.5times speedups over the baseline method.

Gear Teeth Wear in Chain Drives
A digest's abstract of the paper: torque transfer and lubrication of chain drives.
"""

TEX_ABSTRACT = r"We bound the wear of gear teeth by $\mathcal{O}(\sqrt{T})$ for chain drives under torque."


def _listing(arxiv: str, title: str, summary: str, keywords: list[str]) -> dict:
    return {
        "paper": {
            "id": arxiv,
            "title": title,
            "summary": summary,
            "authors": [{"name": "A. Author"}],
            "publishedAt": "2026-03-01T00:00:00.000Z",
            "upvotes": 3,
            "ai_keywords": keywords,
        },
        "publishedAt": "2026-03-14T00:00:00.000Z",
    }


HF = [
    _listing("2603.00001", "Gear Teeth Wear in Chain Drives", TEX_ABSTRACT, []),
    _listing("2603.00002", "A Study of Roller Links", "We study roller links in bikes.", ["sprocket ratios"]),
    _listing("2603.00003", "Quokka Husbandry", "Marsupial enclosures, feeding and veterinary care.", []),
]

BIB = r"""@article{odd2026,
  title = {An \unknowncmd{Odd} Title},
  author = {Doe, Jane},
  year = {2026},
  abstract = {Nothing about chains.},
}
"""


def _fields(root: Path, slug: str) -> dict:
    return parse(decode((root / "content" / "papers" / f"{slug}.md").read_bytes())[0]).fields


def _body(root: Path, slug: str) -> str:
    return parse(decode((root / "content" / "papers" / f"{slug}.md").read_bytes())[0]).body


@pytest.fixture
def imported(tmp_path, run):
    root = write_site(tmp_path / "site", {"content/taxonomy.yaml": TAXONOMY, **NEIGHBOURS})
    digest, hf, bib = tmp_path / "d.txt", tmp_path / "hf.json", tmp_path / "refs.bib"
    digest.write_text(DIGEST, encoding="utf-8")
    hf.write_text(json.dumps(HF, indent=1), encoding="utf-8")
    bib.write_text(BIB, encoding="utf-8")
    result = run("import", digest, hf, bib, "--root", root, "--year", "2026")
    assert result.code == 0, result.err
    return root, (digest, hf, bib), result


def test_digest_repairs_are_warned_and_reported_beside_the_other_formats(imported):
    root, (digest, _hf, bib), result = imported
    assert result.err.splitlines() == [  # (files are taken richest first: see importer._ORDER)
        f"{bib}:1: warning: unknown LaTeX command \\unknowncmd: kept as the word 'unknowncmd'",
        f"{digest}:4: warning: unknown LaTeX command \\foo: kept as the word 'foo'",
    ]
    assert result.out == (
        "1 digest, 1 Hugging Face list, 1 BibTeX file read, 6 papers listed: 5 new, 0 updated, "
        "0 unchanged; 1 with repaired text; 2 anomalies\n"
    )
    report = (root / "content" / "digests" / "d.txt.repairs.md").read_text(encoding="utf-8")
    assert "## Left as it is (1)\n\n- d.txt:4: unknown LaTeX command \\foo" in report
    assert "## Repaired (1 papers)\n\n- d.txt:3: Damage Left in Place by a Scraper" in report
    assert "LaTeX command without its backslash repaired" in report
    assert "3.5× speedups" in _body(root, "damage-left-in-place-by-a-scraper")


def test_the_same_paper_from_json_and_digest_is_one_page_with_the_json_text(imported):
    root, _files, _result = imported
    gear = _fields(root, "gear-teeth-wear-in-chain-drives")
    assert gear["arxiv"] == "2603.00001" and gear["digests"] == ["2026-03-13", "2026-03-14"]
    assert _body(root, "gear-teeth-wear-in-chain-drives") == TEX_ABSTRACT + "\n"


def test_keywords_feed_the_rules_and_unmatched_papers_borrow_from_neighbours(imported):
    root, _files, _result = imported
    # no rule matches its title or abstract: borrowed from the curator's sprocket pages
    assert _fields(root, "gear-teeth-wear-in-chain-drives")["tags"] == ["sprockets"]
    # its Hugging Face keyword "sprocket ratios" matches the rule
    assert _fields(root, "a-study-of-roller-links")["tags"] == ["sprockets"]
    # like nothing tagged: no guess
    assert _fields(root, "quokka-husbandry")["tags"] == []


def test_new_pages_carry_the_importers_stamps(imported):
    root, _files, _result = imported
    for slug in ("damage-left-in-place-by-a-scraper", "gear-teeth-wear-in-chain-drives", "quokka-husbandry"):
        fields = _fields(root, slug)
        assert fields["auto_tags"] == fields["tags"], slug
    damaged = _fields(root, "damage-left-in-place-by-a-scraper")
    assert damaged["auto_abstract"] == abstract_stamp(_body(root, "damage-left-in-place-by-a-scraper"))
    # an abstract from a structured source is not a digest's: `sitegen repair` has nothing to write it from
    assert "auto_abstract" not in _fields(root, "gear-teeth-wear-in-chain-drives")
    assert "auto_abstract" not in _fields(root, "an-unknowncmdodd-title")


def test_repair_never_replaces_a_structured_abstract_with_a_digests(imported, run):
    root, _files, _result = imported
    page = root / "content" / "papers" / "gear-teeth-wear-in-chain-drives.md"
    before = page.read_bytes()
    result = run("repair", "--root", root, "--apply")
    assert result.code == 0, result.err
    assert page.read_bytes() == before


def test_a_hand_made_page_first_imported_from_json_is_stamped_and_tagged(tmp_path, run):
    root = write_site(
        tmp_path / "site",
        {
            "content/taxonomy.yaml": TAXONOMY,
            "content/papers/roller.md": paper("roller", "A Study of Roller Links", body=""),
        },
    )
    hf = tmp_path / "hf.json"
    hf.write_text(json.dumps(HF[1:2]), encoding="utf-8")
    assert run("import", hf, "--root", root).code == 0
    fields = _fields(root, "roller")
    assert fields["tags"] == fields["auto_tags"] == ["sprockets"]
    assert "auto_abstract" not in fields
    assert fields["arxiv"] == "2603.00002" and fields["digests"] == ["2026-03-14"]
    assert _body(root, "roller") == "We study roller links in bikes.\n"


def test_reimporting_every_format_changes_no_byte(imported, run):
    root, files, _result = imported
    before = {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    again = run("import", *files, "--root", root, "--year", "2026")
    assert again.code == 0
    assert "6 papers listed: 0 new, 0 updated, 5 unchanged" in again.out
    assert {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()} == before
