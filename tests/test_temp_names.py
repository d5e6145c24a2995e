"""The one writer's temporary names fit in a file name: a page with the longest slug `check` accepts can be
rewritten by an import (its temporary name, which names the writer's process for the one sweeper, used to be
too long for the file system)."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import paper

from sitegen.store.files import atomic_write, remove_leftovers

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


def test_a_write_deep_in_a_tree_can_put_its_temporary_file_where_the_sweeper_looks(tmp_path, monkeypatch):
    """`serve` writes the open pages it makes first into subfolders of the output folder, which no build
    sweeps: their temporary files go to the top of the output folder, where a killed process's one is
    removed by the next build (see Builder.preview)."""
    out = tmp_path / "public"
    target = out / "papers" / "a" / "index.html"
    target.parent.mkdir(parents=True)
    renamed = []
    replace = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (renamed.append(Path(src)), replace(src, dst))[1])
    atomic_write(target, b"the page", temp_folder=out)
    assert target.read_bytes() == b"the page"
    assert [p.parent for p in renamed] == [out]
    # Had the writer been killed before the rename, its file would be one the sweeper removes.
    left = out / renamed[0].name.replace(f".{os.getpid()}-", ".999999999-")
    left.write_bytes(b"the pa")
    assert remove_leftovers(out) == [left]
    assert sorted(os.listdir(out)) == ["papers"]
