"""Repair of scrape damage: LaTeX commands that lost their backslash, dead link phrases, sentences glued at a
full stop; what is left is reported (file:line, import summary, repair report); `sitegen repair` rewrites the
importer's text of existing pages and never a person's."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import REPO, paper, write_site

from sitegen.content.frontmatter import decode, parse
from sitegen.importer.stamps import abstract_stamp
from sitegen.text.clean import clean_abstract, clean_title

REMNANTS = [
    ("FID on ImageNet 64times 64 and 64times64 images", "FID on ImageNet 64×64 and 64×64 images"),
    ("mark a 3.5times and 4times improvement", "mark a 3.5× and 4× improvement"),
    ("achieves 1.33times speedup while", "achieves 1.33× speedup while"),
    ("(StrategyQA 58.9 rightarrow 61.7 acc.)", "(StrategyQA 58.9 → 61.7 acc.)"),
    ("recall 0.4 leftarrow 0.3 and A Rightarrow B", "recall 0.4 ← 0.3 and A ⇒ B"),
    ("scales 5to7 and 5 to7 layers", "scales 5→7 and 5 →7 layers"),
    ("an error approx 5% and approx 0.3 s", "an error ≈5% and ≈0.3 s"),
    ("accuracy 71.2 pm 0.4 and (pm0.5)", "accuracy 71.2 ± 0.4 and (±0.5)"),
    ("with k leq 10, n geq 3 and a cdot b", "with k ≤ 10, n ≥ 3 and a · b"),
    ("costs sim50% more", "costs ~50% more"),
    ("released at this https URL. We", "released. We"),
    ("Code: this https URL.", "Code."),
    ("Project page (this http URL) and data", "Project page and data"),
    ("search for images.In this project", "search for images. In this project"),
    ("their stability.We propose", "their stability. We propose"),
]


@pytest.mark.parametrize(("scraped", "expected"), REMNANTS)
def test_latex_commands_without_their_backslash_are_repaired(scraped, expected):
    assert clean_title(scraped).text == expected
    assert clean_abstract(scraped).text == expected
    assert clean_abstract(scraped).leftovers == []


PROSE = [
    "It runs 5 times faster and sometimes ten times slower, at runtimes of lifetimes.",
    "From 13 to 26 minutes, ranging from 0.60 to 0.93, and up to 7 layers.",
    "Approximately approx. 40 students met at 5 pm on the sim card project.",
    "The model name MedRoBERTa.nl and the class torch.tensor stay.",
    "The rightarrowhead and timestamps keep their letters.",
]


@pytest.mark.parametrize("text", PROSE)
def test_prose_that_resembles_a_remnant_stays(text):
    assert clean_title(text).text == text
    assert clean_abstract(text).text == text


def test_greek_letter_names_in_math_remnants_become_math():
    cleaned = clean_abstract("a risk of mathcal{O}(mathcal{C_Phi/m}) when C_{Phicirc Psi} > C_Psi holds")
    assert cleaned.text == (
        "a risk of $\\mathcal{O}(\\mathcal{C_\\Phi/m})$ when $C_{\\Phi \\circ \\Psi}$ > $C_\\Psi$ holds"
    )
    assert clean_title("risk mathcal{O}(C_Phi) for Phi-3").text == "risk O(C_Φ) for Phi-3"  # prose Phi stays


def test_dollars_that_are_money_are_escaped_not_math():
    assert clean_abstract("costs $5 and $10 for $x^2$").text == "costs \\$5 and \\$10 for $x^2$"


# --- the import: anomalies and the repair report ---------------------------------------------------------

TAXONOMY = "tags:\n  - slug: widgets\n    name: Widgets\n    match: [widget*]\n"
DIGEST = """Mar 13

Damage Left in Place by a Scraper
We apply \\foo{x} to torch.Tensor inputs and mathcal without braces, reaching 3.5times speedups.

A Clean Paper About Widgets
We study widgets and show that widgets are useful for many widget tasks in practice.
"""


@pytest.fixture
def imported(tmp_path, run):
    root = write_site(tmp_path / "site", {"content/taxonomy.yaml": TAXONOMY})
    digest = tmp_path / "d.txt"
    digest.write_text(DIGEST, encoding="utf-8")
    result = run("import", digest, "--root", root, "--year", "2026")
    return root, digest, result


def test_damage_left_in_place_is_an_anomaly_with_file_and_line(imported):
    _root, digest, result = imported
    assert result.code == 0
    warnings = result.err.strip().splitlines()
    assert warnings == [
        f"{digest}:4: warning: unknown LaTeX command \\foo: kept as the word 'foo'",
        f"{digest}:4: warning: missing space after a full stop? 'torch.Tensor' left as it is",
        f"{digest}:4: warning: LaTeX command without its backslash? 'mathcal' left as it is",
    ]
    assert result.out.strip().endswith("1 with repaired text; 3 anomalies")


def test_the_repair_report_lists_repairs_and_anomalies_by_line(imported, run):
    root, digest, _ = imported
    report = root / "content" / "digests" / "d.txt.repairs.md"
    text = report.read_text(encoding="utf-8")
    assert "## Left as it is (3)" in text
    assert "- d.txt:4: unknown LaTeX command \\foo" in text
    assert "- d.txt:4: missing space after a full stop? 'torch.Tensor'" in text
    assert "- d.txt:3: Damage Left in Place by a Scraper" in text
    assert "LaTeX command without its backslash repaired" in text
    before = report.read_bytes()
    again = run("import", digest, "--root", root, "--year", "2026")
    assert again.code == 0 and report.read_bytes() == before  # the same digest, the same bytes


def test_the_sample_pages_hold_no_remnant_the_issue_names():
    for path in sorted((REPO / "content" / "papers").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\dtimes|rightarrow|this https? URL|images\.In", text), path.name


# --- sitegen repair ---------------------------------------------------------------------------------------

RAW = "Pruning reaches a 1.33times speedup; code at https://github.com/a/b."
OLD = clean_abstract(RAW, legacy=True)  # what sitegen wrote before this repair existed
NEW = clean_abstract(RAW)
SOURCE = f"Mar 11\n\nPruning Fast Models\n{RAW}\n\nA Second Paper on Pruning\n{RAW} Also more.\n"


def _site(root: Path, pages: dict[str, str]) -> Path:
    files = {f"content/papers/{name}.md": text for name, text in pages.items()}
    files["content/digests/s.txt"] = SOURCE
    files["content/digests/2026-03-11.yaml"] = "date: 2026-03-11\nsources: [s.txt]\npapers: []\n"
    return write_site(root, files)


def _page(root: Path, name: str) -> bytes:
    return (root / "content" / "papers" / f"{name}.md").read_bytes()


def test_repair_lists_first_and_writes_only_the_importers_text_with_apply(tmp_path, run):
    second_old = clean_abstract(RAW + " Also more.", legacy=True)
    root = _site(
        tmp_path,
        {
            # imported by the old sitegen, notes added below the abstract since
            "fast": paper(
                "fast",
                "Pruning Fast Models",
                body=f"{OLD.text}\n\nMy notes: 1.33times is what they wrote.",
                links="[https://github.com/a/b]",
                digests="[2026-03-11]",
            ),
            # the same, but the curator corrected the abstract by hand
            "second": paper(
                "second",
                "A Second Paper on Pruning",
                body=second_old.text.replace("1.33times", "1.33 times"),
                digests="[2026-03-11]",
            ),
        },
    )
    before = {name: _page(root, name) for name in ("fast", "second")}
    listed = run("repair", "--root", root)
    assert listed.code == 0
    assert listed.out.startswith(f"{root / 'content' / 'papers' / 'fast.md'}:7: abstract: ")
    assert '"…reaches a 1.33times speedup; code…" -> "…reaches a 1.33× speedup; code…"' in listed.out
    assert "second.md" not in listed.out
    assert listed.out.strip().endswith(
        "repair: 1 of 2 abstracts would be repaired; left alone: 1 edited by hand, 0 not in a kept digest; "
        "run with --apply to write"
    )
    assert {name: _page(root, name) for name in before} == before  # a dry run writes nothing

    applied = run("repair", "--root", root, "--apply")
    assert applied.code == 0
    text = decode(_page(root, "fast"))[0]
    assert text.endswith(f"---\n{NEW.text}\n\nMy notes: 1.33times is what they wrote.\n")  # notes untouched
    assert parse(text).fields["auto_abstract"] == abstract_stamp(NEW.text)
    assert _page(root, "second") == before["second"]
    assert run("repair", "--root", root).out.strip().startswith("repair: 0 of 2 abstracts would be repaired")


def test_an_abstract_stamped_by_the_importer_is_repaired_until_someone_edits_it(tmp_path, run):
    stale = "Pruning reaches a 1.33times speedup; code at <https://github.com/a/b>."
    root = _site(
        tmp_path,
        {
            "fast": paper("fast", "Pruning Fast Models", body=stale, auto_abstract=abstract_stamp(stale)),
            "second": paper(
                "second",
                "A Second Paper on Pruning",
                body="My own summary.",
                auto_abstract=abstract_stamp(stale),
            ),
        },
    )
    edited = _page(root, "second")
    result = run("repair", "--root", root, "--apply")
    assert result.code == 0
    assert parse(decode(_page(root, "fast"))[0]).body == NEW.text + "\n"
    assert _page(root, "second") == edited


def test_repair_keeps_crlf_and_a_byte_order_mark(tmp_path, run):
    text = paper("fast", "Pruning Fast Models", body=OLD.text, links="[https://github.com/a/b]")
    root = _site(tmp_path, {"other": paper("other")})
    path = root / "content" / "papers" / "fast.md"
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    assert run("repair", "--root", root, "--apply").code == 0
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf---\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    assert "1.33×" in data.decode("utf-8")


def test_the_sample_site_has_nothing_left_to_repair(tmp_path, run):
    shutil.copytree(REPO / "content", tmp_path / "content")
    result = run("repair", "--root", tmp_path)
    assert result.code == 0 and result.err == ""
    assert result.out.strip() == (
        "repair: 0 of 544 abstracts would be repaired; left alone: 0 edited by hand, 0 not in a kept digest"
    )
