"""The one writer's temporary names fit in a file name: a page with the longest slug `check` accepts can be
rewritten by an import (its temporary name, which names the writer's process for the one sweeper, used to be
too long for the file system)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import paper

from sitegen.store.files import atomic_write, process_folder, remove_abandoned_folders, remove_leftovers

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


# --- private folders of processes killed outright -----------------------------------------------------------


def dead_pid() -> int:
    """The id of a process that has ended (and been waited for)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_folders_of_processes_that_are_gone_are_removed_and_no_others(tmp_path):
    prefix = "sitegen-serve-"
    gone = tmp_path / f"{prefix}{dead_pid()}-abc123"
    (gone / "papers/x").mkdir(parents=True)
    (gone / "papers/x/index.html").write_text("left by a server killed outright")
    mine = process_folder(tmp_path, prefix)
    assert mine.name.startswith(f"{prefix}{os.getpid()}-")
    running = tmp_path / f"{prefix}1-def456"  # process 1 always runs
    running.mkdir()
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "keep.txt").write_text("not sitegen's")
    link = tmp_path / f"{prefix}{dead_pid()}-link00"
    link.symlink_to(target)
    a_file = tmp_path / f"{prefix}{dead_pid()}-file00"
    a_file.write_text("a file, not a folder")
    others = [tmp_path / "sitegen-serve-nopid", tmp_path / f"other-{dead_pid()}-x"]
    for other in others:
        other.mkdir()
    assert remove_abandoned_folders(tmp_path, prefix) == [gone]
    assert not gone.exists()
    assert mine.is_dir() and running.is_dir() and a_file.is_file() and all(p.is_dir() for p in others)
    assert link.is_symlink() and (target / "keep.txt").read_text() == "not sitegen's"


def test_a_file_written_to_replace_another_holds_exactly_its_bytes(tmp_path):
    """A file to be renamed over another gets its blocks before it is written (see files._allocate): its size
    is still that of its bytes, however they are given (bytes, parts, a view of wider items)."""
    import array

    from sitegen.store.files import atomic_write, write_new

    wide = array.array("H", range(300))
    cases = {
        "bytes": (b"x" * 5000, b"x" * 5000),
        "parts": ([b"ab", memoryview(b"cdef")[1:], bytearray(b"g")], b"abdefg"),
        "streamed": ((part for part in [b"ab", b"c"]), b"abc"),
        "wide": ([memoryview(wide), b"!"], wide.tobytes() + b"!"),
        "empty": (b"", b""),
    }
    for name, (data, expected) in cases.items():
        target = tmp_path / name
        target.write_bytes(b"an older and much longer file " * 400)
        atomic_write(target, data)
        assert target.read_bytes() == expected, name
        st = write_new(tmp_path / f"{name}.new", [expected], replacing=True)
        assert st.st_size == len(expected) and (tmp_path / f"{name}.new").read_bytes() == expected
