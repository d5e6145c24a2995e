"""content/taxonomy.yaml has one reader (sitegen.content.taxonomy): `check`, `build` and `import` find the
same problems in it, each at its line and column, and the build shows the tag names that reader gives,
through the load cache as without it."""

from __future__ import annotations

from pathlib import Path

from conftest import paper

URL = "https://example.org/"
BROKEN = """\
tags:
  - slug: pruning
    name: Network pruning
    match: [pruning]
  - slug: Bad Slug
  - slug: quant
    match:
      title: ["/(unclosed/"]
"""


def problems(root: Path) -> list[str]:
    tax = root / "content" / "taxonomy.yaml"
    return [
        f"{tax}:5:11: tag slug 'Bad Slug' may hold only lowercase ASCII letters, digits and single hyphens",
        f"{tax}:8:15: bad regular expression '/(unclosed/': missing ), unterminated subpattern at position 0",
    ]


def test_check_build_and_import_report_the_same_problems_at_their_positions(site, run, tmp_path):
    root = site(
        {
            "content/taxonomy.yaml": BROKEN,
            "content/papers/a.md": paper("a", digests="[2026-03-13]", tags="[pruning]"),
        }
    )
    check = run("check", "--root", root)
    assert (check.code, check.err.splitlines()) == (1, problems(root))
    build = run("build", "--root", root, "--no-search", "--base-url", URL)
    assert (build.code, build.err.splitlines()) == (1, problems(root))
    assert not (root / "public").exists()  # a taxonomy with errors fails the build, as any content error
    digest = tmp_path / "digest.txt"
    digest.write_text("March 14, 2026\n\nA Paper on Pruning\n\nWe prune.\n", encoding="utf-8")
    imported = run("import", digest, "--root", root, "--year", "2026")
    assert (imported.code, imported.err.splitlines()) == (2, problems(root))


def tag_page(root: Path, slug: str) -> str:
    return (root / "public" / "tags" / slug / "index.html").read_text(encoding="utf-8")


def test_the_build_shows_the_names_the_reader_gives_with_a_warm_cache_too(site, run):
    root = site(
        {
            "content/taxonomy.yaml": BROKEN,
            "content/papers/a.md": paper("a", digests="[2026-03-13]", tags="[pruning, quant]"),
        }
    )
    for _ in range(2):  # the second build takes the taxonomy's problems from the load cache
        build = run("build", "--root", root, "--no-search", "--base-url", URL)
        assert (build.code, build.err.splitlines()) == (1, problems(root))
    good = BROKEN.replace("  - slug: Bad Slug\n", "").replace('["/(unclosed/"]', "[quantization]")
    (root / "content" / "taxonomy.yaml").write_text(
        good.replace("  - slug: quant\n", "  - slug: quant\n    name: ~\n    description: Fewer bits.\n"),
        encoding="utf-8",
    )
    build = run("build", "--root", root, "--no-search", "--base-url", URL)
    assert (build.code, build.err) == (0, "")
    assert "Network pruning" in tag_page(root, "pruning")
    quant = tag_page(root, "quant")
    assert "Fewer bits." in quant and "<h1>quant</h1>" in quant  # a null name is no name: the slug
    (root / "content" / "taxonomy.yaml").write_text(good.replace("Network pruning", "Pruning"), "utf-8")
    build = run("build", "--root", root, "--no-search", "--base-url", URL)
    assert (build.code, build.err) == (0, "")
    assert "Network pruning" not in tag_page(root, "pruning") and "Pruning" in tag_page(root, "pruning")


def test_an_empty_or_missing_taxonomy(site, run, tmp_path):
    """A missing file and an empty one (or one of comments only) give no tags and no problem, to the build and
    the importer alike; a file with something else than a 'tags:' list is an error everywhere."""
    root = site({"content/papers/a.md": paper("a", digests="[2026-03-13]", tags="[pruning]")})
    assert (run("check", "--root", root).code, run("check", "--root", root).err) == (0, "")
    tax = root / "content" / "taxonomy.yaml"
    tax.write_text("# no tags yet\n", encoding="utf-8")
    assert (run("check", "--root", root).code, run("check", "--root", root).err) == (0, "")
    assert run("build", "--root", root, "--no-search").code == 0
    digest = tmp_path / "digest.txt"
    digest.write_text("March 14, 2026\n\nA Paper on Pruning\n\nWe prune.\n", encoding="utf-8")
    imported = run("import", digest, "--root", root, "--year", "2026")
    assert imported.code == 0, imported.err
    assert len(list((root / "content/papers").glob("*.md"))) == 2
    tax.write_text("tags: pruning\n", encoding="utf-8")
    check = run("check", "--root", root)
    assert (check.code, check.err.splitlines()) == (1, [f"{tax}:1:7: the taxonomy must have a 'tags:' list"])
