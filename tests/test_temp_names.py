"""The one writer's temporary names fit in a file name: a page with the longest slug `check` accepts can be
rewritten by an import (its temporary name, which names the writer's process for the one sweeper, used to be
too long for the file system)."""

from __future__ import annotations

import os

from conftest import paper

LONGEST = 238  # the longest slug `check` accepts (see test_faults_check)


def test_an_import_rewrites_a_page_with_the_longest_slug(site, run, tmp_path):
    slug = ("abcdefghi-" * 30)[: LONGEST - 1] + "z"
    page = f"content/papers/{slug}.md"
    root = site({page: paper(slug, title="A Paper", digests="[2026-03-10]")})
    assert run("check", "--root", root).code == 0
    digest = tmp_path / "digest.txt"
    digest.write_text("Mar 13\nA Paper\nWe study it. It works.\n", encoding="utf-8")
    result = run("import", digest, "--root", root, "--year", "2026")
    assert result.code == 0, result.err
    assert "2026-03-13" in (root / page).read_text(encoding="utf-8")
    assert [name for name in os.listdir(root / "content/papers") if name.endswith(".tmp")] == []
