"""The output folder: write-if-changed, atomic writes, pruning by manifest, static files, fingerprints."""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path

import pytest

from sitegen.build.manifest import (
    MANIFEST,
    Record,
    _write_manifest,
    load_manifest,
    load_manifest_notes,
    read_manifest,
)
from sitegen.build.output import (
    STAGING_PREFIX,
    Artifact,
    SourceHashes,
    Staging,
    collect_static,
    touched,
    write_output,
)
from sitegen.store.files import fingerprint


def gen(path: str, data: bytes) -> Artifact:
    return Artifact(path, fingerprint(data), data=data)


def stat(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_ino, st.st_mtime_ns


def test_touched_files_are_those_gone_or_changed_in_size_or_mtime(tmp_path):
    out = tmp_path / "out"
    names = ("kept.html", "grown.html", "retimed.html", "gone.html", "a/kept.html")
    files = {name: b"same" for name in names}
    records = write_output(out, [gen(name, data) for name, data in files.items()], {}).records
    assert touched(out, records) == set()
    (out / "grown.html").write_bytes(b"longer")
    st = (out / "retimed.html").stat()
    os.utime(out / "retimed.html", ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    (out / "gone.html").unlink()
    assert touched(out, records) == {"grown.html", "retimed.html", "gone.html"}


def test_writes_files_and_a_manifest(tmp_path):
    out = tmp_path / "out"
    result = write_output(out, [gen("index.html", b"home"), gen("a/b/index.html", b"deep")], {})
    assert sorted(result.written) == ["a/b/index.html", "index.html"]
    assert (out / "a/b/index.html").read_bytes() == b"deep"
    manifest = json.loads((out / MANIFEST).read_text())
    assert sorted(manifest["files"]) == ["a/b/index.html", "index.html"]
    assert read_manifest(out) == result.records
    assert not [p for p in out.rglob("*.tmp")]


def test_unchanged_files_keep_inode_and_mtime(tmp_path):
    out = tmp_path / "out"
    first = write_output(out, [gen("x.html", b"same"), gen("y.html", b"old")], {})
    before = stat(out / "x.html")
    second = write_output(out, [gen("x.html", b"same"), gen("y.html", b"new")], first.records)
    assert second.written == ["y.html"]
    assert stat(out / "x.html") == before
    assert (out / "y.html").read_bytes() == b"new"


def test_without_a_manifest_bytes_are_compared(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "x.html").write_bytes(b"same")
    before = stat(out / "x.html")
    result = write_output(out, [gen("x.html", b"same")], read_manifest(out))
    assert result.written == []
    assert stat(out / "x.html") == before


def test_a_file_edited_by_hand_is_restored(tmp_path):
    out = tmp_path / "out"
    first = write_output(out, [gen("x.html", b"generated")], {})
    (out / "x.html").write_bytes(b"edited")
    result = write_output(out, [gen("x.html", b"generated")], first.records)
    assert result.written == ["x.html"]
    assert (out / "x.html").read_bytes() == b"generated"


def test_stale_files_are_pruned_and_empty_folders_removed(tmp_path):
    out = tmp_path / "out"
    first = write_output(
        out, [gen("index.html", b"h"), gen("tags/x/index.html", b"x"), gen("tags/y/a.xml", b"y")], {}
    )
    (out / "mine.txt").write_text("placed by hand")
    (out / "tags/y/notes.txt").write_text("also mine")
    (out / "pagefind").mkdir()
    (out / "pagefind/pagefind.js").write_text("js")
    result = write_output(out, [gen("index.html", b"h")], first.records)
    assert sorted(result.removed) == ["tags/x/index.html", "tags/y/a.xml"]
    assert not (out / "tags/x").exists()
    assert (out / "tags/y/notes.txt").exists()  # a folder holding a foreign file stays
    assert (out / "mine.txt").exists()
    assert (out / "pagefind/pagefind.js").exists()
    assert sorted(read_manifest(out)) == ["index.html"]


def test_pagefind_is_never_pruned_even_if_listed(tmp_path):
    out = tmp_path / "out"
    (out / "pagefind").mkdir(parents=True)
    (out / "pagefind/x.js").write_text("x")
    previous = {"pagefind/x.js": write_output(out, [gen("pagefind/x.js", b"x")], {}).records["pagefind/x.js"]}
    result = write_output(out, [], previous)
    assert result.removed == []
    assert (out / "pagefind/x.js").exists()


def test_a_file_where_a_folder_must_go_is_replaced(tmp_path):
    out = tmp_path / "out"
    first = write_output(out, [gen("tags/x", b"was a file")], {})
    result = write_output(out, [gen("tags/x/index.html", b"now a page")], first.records)
    assert (out / "tags/x/index.html").read_bytes() == b"now a page"
    assert result.written == ["tags/x/index.html"]


def test_files_are_world_readable(tmp_path):
    out = tmp_path / "out"
    old = os.umask(0o022)
    try:
        write_output(out, [gen("index.html", b"h")], {})
    finally:
        os.umask(old)
    assert (out / "index.html").stat().st_mode & 0o777 == 0o644


def test_static_files_site_before_theme_and_css_fingerprinted(tmp_path):
    site, theme = tmp_path / "site", tmp_path / "theme"
    for folder, files in {
        theme: {"style.css": "theme css", "site.js": "theme js", "favicon.svg": "<svg/>"},
        site: {"style.css": "site css", "img/fig.png": "png", ".DS_Store": "junk"},
    }.items():
        for rel, text in files.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text)
    files = collect_static([site, theme], SourceHashes())
    css = files.assets["style.css"]
    assert css.startswith("assets/style.") and css.endswith(".css")
    assert css == f"assets/style.{fingerprint(b'site css')[:10]}.css"
    assert files.assets["site.js"] == f"assets/site.{fingerprint(b'theme js')[:10]}.js"
    assert files.assets["img/fig.png"] == "img/fig.png"
    assert files.assets["favicon.svg"] == "favicon.svg"
    assert ".DS_Store" not in files.assets
    sources = {a.path: a.source for a in files.artifacts}
    assert sources[css] == site / "style.css"
    out = tmp_path / "out"
    write_output(out, files.artifacts, {})
    assert (out / css).read_text() == "site css"
    assert (out / "img/fig.png").read_text() == "png"


def test_fingerprint_changes_with_content(tmp_path):
    (tmp_path / "style.css").write_text("a")
    hashes = SourceHashes()
    first = collect_static([tmp_path], hashes).assets["style.css"]
    (tmp_path / "style.css").write_text("b")
    os.utime(tmp_path / "style.css", ns=(1, 1))  # the mtime changes even on coarse clocks
    assert collect_static([tmp_path], hashes).assets["style.css"] != first


def test_a_tampered_manifest_cannot_delete_outside_the_output(tmp_path):
    out = tmp_path / "out"
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    write_output(out, [gen("index.html", b"h")], {})
    manifest = json.loads((out / MANIFEST).read_text())
    for rel in ["../victim.txt", str(victim), "a/../../victim.txt"]:
        manifest["files"][rel] = ["x", 1, 1]
    (out / MANIFEST).write_text(json.dumps(manifest))
    result = write_output(out, [gen("index.html", b"h")], read_manifest(out))
    assert result.removed == []
    assert victim.read_text() == "keep"


def tree_of(out: Path) -> list[str]:
    return sorted(p.relative_to(out).as_posix() + ("/" if p.is_dir() else "") for p in out.rglob("*"))


def test_staged_files_appear_only_when_committed(tmp_path):
    out = tmp_path / "out"
    first = write_output(out, [gen("index.html", b"home")], {})
    before = tree_of(out)
    staging = Staging(out, first.records)
    staging.put("index.html", b"new home")
    staging.put("papers/a/index.html", b"a page")
    assert (out / "index.html").read_bytes() == b"home"
    assert not (out / "papers/a/index.html").exists()
    staging.discard()
    assert tree_of(out) == before  # no staged file, and no folder made for one
    staging = Staging(out, first.records)
    staging.put("index.html", b"new home")
    staging.put("papers/a/index.html", b"a page")
    result = staging.commit()
    assert sorted(result.written) == ["index.html", "papers/a/index.html"]
    assert (out / "papers/a/index.html").read_bytes() == b"a page"
    assert not [p for p in out.iterdir() if p.name.startswith(STAGING_PREFIX)]


def test_staging_folders_of_killed_builds_are_removed(tmp_path):
    out = tmp_path / "out"
    write_output(out, [gen("index.html", b"home")], {})
    dead = out / f"{STAGING_PREFIX}999999999-abcd"
    dead.mkdir()
    (dead / "1").write_bytes(b"half a page")
    alive = out / f"{STAGING_PREFIX}{os.getpid()}-abcd"  # a build still running
    alive.mkdir()
    Staging(out, read_manifest(out))
    assert not dead.exists() and alive.exists()


def test_new_files_in_place_are_taken_back_when_the_build_fails(tmp_path):
    out = tmp_path / "out"
    first = write_output(out, [gen("index.html", b"home")], {})
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    dirs_before = tree_of(out)
    staging = Staging(out, first.records, in_place=True)
    staging.expect(["index.html", "papers/a/index.html", "papers/b/index.html"])
    staging.put("papers/a/index.html", b"a")
    staging.put("index.html", b"new home")  # exists: staged, not in place
    assert (out / "papers/a/index.html").read_bytes() == b"a"  # a new file is written where it goes
    assert (out / "index.html").read_bytes() == b"home"
    staging.discard()
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert tree_of(out) == dirs_before


def test_files_of_a_killed_build_are_known_to_the_next(tmp_path):
    out = tmp_path / "out"
    first = write_output(out, [gen("index.html", b"home")], {})
    staging = Staging(out, first.records, in_place=True)
    staging.expect(["papers/a/index.html", "papers/b/index.html"])
    staging.put("papers/a/index.html", b"half")  # ... and the build is killed here
    result = write_output(out, [gen("index.html", b"home")], read_manifest(out))
    assert result.removed == ["papers/a/index.html"]  # not made by this build: sitegen's own, removed
    assert not (out / "papers").exists()
    assert sorted(read_manifest(out)) == ["index.html"]


def test_the_manifest_is_the_json_of_its_records_one_file_per_line(tmp_path):
    records = {
        "papers/a/index.html": Record("0" * 32, 10, 1_700_000_000, "k" * 48, ("p:a#m", "T:x.html")),
        'odd/"quoted"\\back\tslash é ☃.txt': Record("1" * 32, 0, 5, ""),
        "z.xml": Record("2" * 32, 3, 4, "\x1f\u2028", ("T:x.html", "site#N")),
        "odd.html": Record("3" * 32, True, 2.5, ""),  # (as a hand-edited manifest may hold)
    }
    _write_manifest(tmp_path, records, {"inputs": "x"})
    text = (tmp_path / MANIFEST).read_text(encoding="utf-8")
    data = json.loads(text)
    # Read keys are numbers into one table of names, each name once.
    names = data["reads"]
    assert sorted(names) == ["T:x.html", "p:a#m", "site#N"]
    expected: dict[str, list] = {}
    for path, record in records.items():
        row = list(record.fields()[:4])
        if type(record.size) is int:
            row.append([names.index(name) for name in record.reads])
        expected[path] = row
    assert data["files"] == expected
    lines = text.splitlines()
    assert len(lines) == 2 + len(records) + 2 and text.isascii()
    assert lines[2:-2] == [
        json.dumps({path: expected[path]}, separators=(",", ":"))[1:-1] + ("," * (n < len(records) - 1))
        for n, path in enumerate(sorted(records))
    ]
    assert load_manifest(tmp_path) == (records, {"inputs": "x"})
    assert load_manifest_notes(tmp_path) == {"inputs": "x"}  # from the first line alone
    (tmp_path / MANIFEST).write_text('{"files": {}, "build": {"inputs": "x"}}')  # another layout
    assert load_manifest_notes(tmp_path) == {}
    assert load_manifest(tmp_path) == ({}, {"inputs": "x"})


def test_a_manifest_written_from_a_read_one_reads_back_the_same(tmp_path):
    """Rows of kept files are written as they were read (their read-key numbers kept); new keys go at the end
    of the table, and a table mostly of keys no file reads any more is made anew. Each manifest reads back
    as the records it was written from."""
    from sitegen.build.manifest import Record, _write_manifest, load_manifest

    first = {
        f"p{i}/index.html": Record(f"d{i}", i, 1000 + i, f"k{i}", ("T:base.html", f"p:{i}#m", "site#N"))
        for i in range(6)
    }
    _write_manifest(tmp_path, first)
    loaded, _ = load_manifest(tmp_path)
    assert loaded == first and all(r.row for r in loaded.values())
    second = dict(loaded)
    second["p0/index.html"] = Record("d0b", 7, 2000, "k0b", ("T:base.html", "p:0#m", "p:9#m", "site#N"))
    del second["p5/index.html"]
    written = _write_manifest(tmp_path, second)
    assert load_manifest(tmp_path)[0] == second == written
    kept = load_manifest(tmp_path)[0]["p1/index.html"]
    assert kept.row == loaded["p1/index.html"].row  # the same text: its numbers still name the same keys
    # Keys no file reads any more: a new table, sorted, every row written anew.
    third = {"q/index.html": Record("e", 1, 1, "k", ("T:q.html", "z#m"))}
    _write_manifest(tmp_path, {**third, "p1/index.html": kept})
    assert load_manifest(tmp_path)[0] == {**third, "p1/index.html": kept}
    assert json.loads((tmp_path / MANIFEST).read_text())["reads"] == sorted({"T:q.html", "z#m", *kept.reads})


def test_a_manifest_of_mostly_kept_files_keeps_its_table_and_adds_new_keys_at_its_end(tmp_path):
    """When most files are kept, only the others' reads are looked at: their new keys go at the end of the
    table, and with no new key the records keep the very table they were read with (nothing is copied)."""
    from sitegen.build.manifest import Record, _write_manifest, load_manifest

    first = {
        f"p{i}/index.html": Record(f"d{i}", i, 1000 + i, f"k{i}", ("T:base.html", f"p:{i}#m", "site#N"))
        for i in range(8)
    }
    _write_manifest(tmp_path, first)
    loaded, _ = load_manifest(tmp_path)
    table = loaded["p1/index.html"].table
    same = dict(loaded)
    same["p0/index.html"] = Record("d0b", 7, 2000, "k0b", ("T:base.html", "p:1#m", "site#N"))
    written = _write_manifest(tmp_path, same)
    assert all(record.table is table for record in written.values())
    assert load_manifest(tmp_path)[0] == same
    more = dict(written)
    more["p0/index.html"] = Record("d0c", 7, 3000, "k0c", ("T:base.html", "a:new#m", "p:0#m", "site#N"))
    _write_manifest(tmp_path, more)
    assert load_manifest(tmp_path)[0] == more
    assert json.loads((tmp_path / MANIFEST).read_text())["reads"] == [*table, "a:new#m"]
    assert load_manifest(tmp_path)[0]["p3/index.html"].row == loaded["p3/index.html"].row


# --- the checked manifest: read without a full parse, rows searched as text ---------------------------------


def _many(n: int, keys: int) -> dict[str, Record]:
    return {
        f"p{i}/index.html": Record(
            f"d{i}",
            i,
            1000 + i,
            f"k{i}",
            tuple(sorted({f"p:{(i * 7 + j * 13) % keys}#m" for j in range(i % 5)})),
        )
        for i in range(n)
    }


@pytest.mark.parametrize("files", [40, 1, 0])
def test_a_manifest_as_written_is_read_from_its_rows_and_reads_back_the_same(tmp_path, files):
    records = _many(files, 30)
    _write_manifest(tmp_path, records, {"inputs": "x"})
    loaded, build = load_manifest(tmp_path)
    # (read from the rows' text: their reads are read when first asked for)
    assert all(record._reads is None for record in loaded.values())
    assert (loaded, build) == (records, {"inputs": "x"})
    assert [loaded[path].reads for path in records] == [record.reads for record in records.values()]


def test_a_manifest_whose_rows_were_edited_is_read_in_full(tmp_path):
    """The first line's checksum covers the rest: an edit that keeps the layout (a hand edit, a damaged
    disk) is not trusted as written, and the manifest is read and checked as any other."""
    _write_manifest(tmp_path, _many(5, 9))
    path = tmp_path / MANIFEST
    text = path.read_text()
    path.write_text(text.replace('"k3"', '"k9"', 1))
    loaded = load_manifest(tmp_path)[0]
    assert loaded["p3/index.html"].key == "k9" and loaded["p3/index.html"]._reads is not None
    path.write_text(text.replace(",[", ',["x",', 1))  # a row sitegen would not write: no manifest at all
    assert load_manifest(tmp_path) == ({}, {})


@pytest.mark.parametrize(
    "edit",
    [
        lambda body: body.replace(b"]}\n", b"],1}\n"),  # (more after the table)
        lambda body: body.replace(b'\n},\n"reads":', b'\n},\n"names":'),
        lambda body: body.replace(b'"files":{\n', b'"files":{\n\n', 1),
        lambda body: body.replace(b"\n},\n", b"\n},\n\n", 1),
    ],
)
def test_a_checked_manifest_laid_out_otherwise_is_read_in_full(tmp_path, edit):
    """A manifest whose checksum matches but whose text is not laid out as sitegen writes it (made by hand to
    pass the checksum) is not read from its rows' text: it is parsed, and used only if it is valid JSON of
    the right shape."""
    records = _many(4, 9)
    _write_manifest(tmp_path, records)
    path = tmp_path / MANIFEST
    head, body = path.read_bytes().split(b"\n", 1)
    body = edit(body)
    head = head.replace(
        b'"check":' + str(zlib.crc32(path.read_bytes().split(b"\n", 1)[1])).encode(), b'"check":0'
    )
    assert b'"check":0' in head
    path.write_bytes(head.replace(b'"check":0', b'"check":' + str(zlib.crc32(body)).encode()) + b"\n" + body)
    loaded = load_manifest(tmp_path)[0]
    assert loaded in ({}, records)
    assert all(record._reads is not None for record in loaded.values())  # (not read from the rows' text)


def test_a_checked_manifest_with_numbers_of_no_key_reads_as_a_key_no_page_read(tmp_path):
    """A manifest made by hand to pass the checksum, with read numbers its table does not have: reading it
    raises nothing, and its rows read a key no object has (the page is made again)."""
    _write_manifest(tmp_path, _many(3, 9))
    path = tmp_path / MANIFEST
    head, body = path.read_bytes().split(b"\n", 1)
    body = body.replace(b",[", b",[99999,", 1).replace(b",[", b",[-1,", 2)
    head = json.loads(head.removesuffix(b",") + b"}")
    head["check"] = zlib.crc32(body)
    path.write_bytes(json.dumps(head, separators=(",", ":"))[:-1].encode() + b",\n" + body)
    loaded = load_manifest(tmp_path)[0]
    assert {record.reads for record in loaded.values()} >= {("\0unreadable#",)}


@pytest.mark.parametrize("kept", [0, 10, 40])
@pytest.mark.parametrize("changed", [0, 1, 3, 30])
def test_the_readers_of_keys_found_in_the_rows_text_are_those_the_records_name(tmp_path, kept, changed):
    from sitegen.build.manifest import readers

    _write_manifest(tmp_path, _many(40, 30))
    loaded = load_manifest(tmp_path)[0]
    table = json.loads((tmp_path / MANIFEST).read_text())["reads"]
    records = dict(loaded)
    for i in range(kept, 40, 3):  # files made again: reads of their own, not numbers of the table
        records[f"p{i}/index.html"] = Record("e", 1, 1, "k", (f"p:{i % 30}#m", "new#m"))
    for i in range(0, kept, 4):  # rows whose reads were asked for
        assert records[f"p{i}/index.html"].reads is not None
    keys = {f"p:{(k * 11) % 30}#m" for k in range(changed)} | ({"new#m"} if changed == 3 else set())
    expected = {path for path, record in records.items() if not keys.isdisjoint(record.reads)}
    assert readers(records, table, keys) == expected
    assert readers(records, table, keys | {"gone#m"}) == expected
