"""`sitegen retag [--apply]`: the current rules applied to existing pages, listed first, written only with
--apply, and never to tags a person edited."""

from __future__ import annotations

import shutil

from conftest import REPO, paper

from sitegen.content.frontmatter import decode, parse

TAXONOMY = """tags:
  - slug: widgets
    name: Widgets
    match: [widget*]
  - slug: gears
    name: Gears
    match: [gear*]
"""
OLD_TAXONOMY = "tags:\n  - slug: widgets\n    name: Widgets\n    match: [widget*, gear*]\n"


def _fields(root, name: str) -> dict:
    return parse(decode((root / "content" / "papers" / f"{name}.md").read_bytes())[0]).fields


def _bytes(root) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "content" / "papers").glob("*.md"))}


def _site(site, **extra: str):
    body = "Gear trains and gear teeth."
    return site(
        {
            "content/taxonomy.yaml": TAXONOMY,
            # tagged by the importer under older rules, untouched since
            "content/papers/machine.md": paper(
                "machine", "Gear Trains", body=body, tags="[widgets]", auto_tags="[widgets]"
            ),
            # the same, but the curator changed the tags
            "content/papers/edited.md": paper(
                "edited", "Gear Boxes", body=body, tags="[widgets, mine]", auto_tags="[widgets]"
            ),
            # tags removed by hand: the line is gone
            "content/papers/removed.md": paper("removed", "Gear Shafts", body=body, auto_tags="[widgets]"),
            # imported by a sitegen that kept no record
            "content/papers/legacy.md": paper("legacy", "Gear Wheels", body=body, tags="[widgets]"),
            **extra,
        }
    )


def test_retag_lists_the_changes_and_writes_nothing(site, run):
    root = _site(site)
    before = _bytes(root)
    result = run("retag", "--root", root)
    assert result.code == 0 and result.err == ""
    path = root / "content" / "papers" / "machine.md"
    assert result.out.splitlines() == [
        f"{path}:4: tags [widgets] -> [gears]  (-widgets +gears)",
        "retag: 1 of 4 pages would change; left alone: 2 with tags edited by hand, 1 with no auto_tags "
        "(see --adopt); run with --apply to write",
    ]
    assert _bytes(root) == before


def test_retag_apply_changes_only_the_importers_tags(site, run):
    root = _site(site)
    before = _bytes(root)
    result = run("retag", "--root", root, "--apply")
    assert result.code == 0
    assert result.out.splitlines()[-1].startswith("retag: 1 of 4 pages changed")
    assert _fields(root, "machine")["tags"] == _fields(root, "machine")["auto_tags"] == ["gears"]
    after = _bytes(root)
    assert {name for name in after if after[name] != before[name]} == {"machine.md"}
    again = run("retag", "--root", root)
    assert again.out.startswith("retag: 0 of 4 pages would change")


def test_adopt_takes_legacy_tags_that_the_old_rules_gave(site, run, tmp_path):
    old = tmp_path / "old.yaml"
    old.write_text(OLD_TAXONOMY, encoding="utf-8")
    root = _site(site, **{"content/papers/hand.md": paper("hand", "Gear Sets", body="Gears.", tags="[mine]")})
    result = run("retag", "--root", root, "--adopt", old, "--apply")
    assert result.code == 0
    assert result.out.splitlines()[-1] == (
        "retag: 2 of 5 pages changed; 1 recorded as the importer's tags; left alone: 2 with tags edited by "
        "hand, 1 with no auto_tags (see --adopt)"
    )
    assert _fields(root, "legacy")["tags"] == _fields(root, "legacy")["auto_tags"] == ["gears"]
    assert _fields(root, "hand")["tags"] == ["mine"] and "auto_tags" not in _fields(root, "hand")


def test_retag_keeps_comments_block_lists_and_the_body(site, run):
    text = (
        '---\n# my page\ntitle: "Gear Trains"  # a comment\nslug: machine\ntags:\n  - widgets\n'
        "auto_tags: [widgets]\n---\nGear trains.\n\nMy notes.\n"
    )
    root = site({"content/taxonomy.yaml": TAXONOMY, "content/papers/machine.md": text})
    assert run("retag", "--root", root, "--apply").code == 0
    after = (root / "content" / "papers" / "machine.md").read_text(encoding="utf-8")
    assert after == text.replace(
        "tags:\n  - widgets\nauto_tags: [widgets]", "tags: [gears]\nauto_tags: [gears]"
    )


def test_retag_without_a_taxonomy_is_refused_in_one_line(site, run):
    root = site({"content/papers/a.md": paper("a")})
    result = run("retag", "--root", root)
    assert result.code == 2
    assert (
        result.err
        == f"{root / 'content' / 'taxonomy.yaml'}: no taxonomy file: there are no rules to retag with\n"
    )


def test_the_sample_site_is_up_to_date_with_its_rules(tmp_path, run):
    shutil.copytree(REPO / "content", tmp_path / "content")
    result = run("retag", "--root", tmp_path)
    assert result.code == 0 and result.err == ""
    assert result.out == (
        "retag: 0 of 544 pages would change; left alone: 0 with tags edited by hand, 0 with no auto_tags\n"
    )
