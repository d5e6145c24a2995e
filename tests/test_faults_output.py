"""Faults while writing the output (issue 16, items 1, 3, 5, 9 and 12).

Whatever makes a build fail, and wherever it fails (rendering, moving files into place, writing the manifest),
the output folder is left as the previous build left it: `snapshot` compares every path, byte, mode, mtime and
symbolic link before and after. sitegen never writes or removes anything outside the output folder, symbolic
links or not. Each failure is one line naming the file of the output folder, exit status 1, no traceback.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import alive, build_table, paper, slow_pagefind, wait_for, write_site

from sitegen.build.manifest import MANIFEST
from sitegen.build.output import STAGING_PREFIX


def snapshot(folder: Path) -> dict[str, tuple[object, ...]]:
    """Every entry below `folder` by relative path: a file's bytes, mode and mtime, a folder's mode, a
    symbolic link's target (never followed)."""
    tree: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            rel = os.path.relpath(path, folder)
            if stat.S_ISLNK(st.st_mode):
                tree[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                tree[rel] = ("folder", stat.S_IMODE(st.st_mode))
            else:
                tree[rel] = ("file", Path(path).read_bytes(), stat.S_IMODE(st.st_mode), st.st_mtime_ns)
    return tree


def site_files(n: int, title: str = "Review One", body: str = "An abstract.") -> dict[str, str]:
    files = {"sitegen.yaml": f"title: {title}\nbase_url: https://example.org/\n"}
    for i in range(1, n + 1):
        files[f"content/papers/p{i}.md"] = paper(
            f"paper-{i}", body=body, digests=f"[2026-03-{10 + i % 9}]", tags=f"[t{i % 3}]"
        )
    return files


def sitegen(
    *args: str | Path, fsize: int | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m sitegen ARGS` in a child process; `fsize`: its file size limit (RLIMIT_FSIZE), past which
    a write fails as on a full disk; `env`: more environment variables."""

    def limit() -> None:
        assert fsize is not None
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    # (No bytecode written: Python itself would pass the limit, and die of SIGXFSZ, before sitegen runs.)
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "sitegen", *map(str, args)],
        capture_output=True,
        text=True,
        env=environment,
        preexec_fn=limit if fsize is not None else None,
        timeout=600,
    )


def failure_line(code: int, err: str) -> str:
    """The one error line of a failed build (exit 1, no traceback, no temporary or staged file named)."""
    assert code == 1, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert STAGING_PREFIX not in lines[0] and ".tmp" not in lines[0]
    return lines[0]


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """`folder` read-only for this process: by its mode, or for root (whom modes do not stop) by the immutable
    attribute. Skips the test where neither holds."""
    if os.geteuid() != 0:
        mode = folder.stat().st_mode
        folder.chmod(0o555)

        def undo() -> None:
            folder.chmod(mode)
    else:
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", folder]).returncode != 0:
            pytest.skip("cannot make a folder read-only for root here (no chattr)")

        def undo() -> None:
            subprocess.run(["chattr", "-i", folder], check=True)

    try:
        probe = folder / ".probe"
        try:
            probe.write_text("x")
        except OSError:
            pass
        else:
            probe.unlink()
            pytest.skip("cannot make a folder read-only here")
        yield
    finally:
        undo()


# --- item 1: the commit is all or nothing -------------------------------------------------------------------


def test_a_failure_while_moving_files_into_place_changes_nothing(tmp_path, run):
    root = write_site(tmp_path, site_files(4))
    out = root / "public"
    assert run("build", "--root", root, "--no-search").code == 0
    # A folder stands where the last paper's page goes: the commit fails there, after the lists, feeds and
    # the other paper pages were moved into place.
    page = out / "papers/paper-4/index.html"
    page.unlink()
    page.mkdir()
    (page / "mine.txt").write_text("by hand")
    before = snapshot(out)
    write_site(root, {"sitegen.yaml": "title: Review Two\n"})  # every page changes
    write_site(root, {"content/papers/p9.md": paper("paper-9", digests="[2026-03-19]")})  # files in place
    (root / "content/papers/p1.md").unlink()  # files to prune
    result = run("build", "--root", root, "--no-search")
    line = failure_line(result.code, result.err)
    assert line.startswith(f"{page}: ") and "directory" in line
    assert "output left as it was" in result.out
    assert snapshot(out) == before


def test_a_read_only_paper_folder_fails_the_build_and_changes_nothing(tmp_path, run):
    root = write_site(tmp_path, site_files(4))
    out = root / "public"
    assert run("build", "--root", root, "--no-search").code == 0
    write_site(root, {"sitegen.yaml": "title: Review Two\n"})
    write_site(root, {"content/papers/p9.md": paper("paper-9", digests="[2026-03-19]")})
    with read_only(out / "papers/paper-4"):
        before = snapshot(out)
        result = run("build", "--root", root, "--no-search")
        line = failure_line(result.code, result.err)
        assert line.startswith(f"{out}/papers/paper-4/index.html: ")
        assert snapshot(out) == before
    assert run("build", "--root", root, "--no-search").code == 0  # and builds once it is writable again
    assert "Review Two" in (out / "papers/paper-4/index.html").read_text()


def test_a_slug_too_long_for_a_file_name_fails_before_anything_is_written(tmp_path, run):
    root = write_site(tmp_path, site_files(3))
    out = root / "public"
    assert run("build", "--root", root, "--no-search").code == 0
    before = snapshot(out)
    write_site(root, {"content/papers/long.md": paper("a" * 300, digests="[2026-03-19]")})
    result = run("build", "--root", root, "--no-search")
    line = failure_line(result.code, result.err)
    assert line.startswith(f"{root}/content/papers/long.md:3:7: slug is 300 characters long")
    assert snapshot(out) == before


def test_the_longest_slug_that_fits_builds(tmp_path, run):
    slug = "-".join(["abcdefg"] * 30)[:238].rstrip("-")
    root = write_site(tmp_path, {"content/papers/long.md": paper(slug, digests="[2026-03-19]")})
    result = run("build", "--root", root, "--no-search")
    assert result.code == 0, result.err
    assert (root / "public/papers" / slug / "index.html").is_file()


def test_a_failing_search_step_takes_the_new_files_back(tmp_path):
    """The search index is made after the pages are in place: when it fails, the build fails, and the pages
    it moved into place, wrote or pruned are taken back too."""
    root = write_site(tmp_path / "site", site_files(4))
    out = root / "public"
    assert sitegen("build", "--root", root, "--no-search").returncode == 0
    before = snapshot(out)
    write_site(root, {"sitegen.yaml": "title: Review Two\n"})
    write_site(root, {"content/papers/p9.md": paper("paper-9", digests="[2026-03-19]")})
    (root / "content/papers/p1.md").unlink()
    pagefind = tmp_path / "pagefind"
    pagefind.write_text("#!/bin/sh\necho 'Error: no room for the index' >&2\nexit 1\n")
    pagefind.chmod(0o755)
    result = sitegen("build", "--root", root, env={"PAGEFIND_BINARY_PATH": str(pagefind)})
    assert "no room for the index" in failure_line(result.returncode, result.stderr)
    assert snapshot(out) == before


# --- item 9: a full disk, a read-only output folder ---------------------------------------------------------


def test_sigterm_stops_the_build_and_its_pagefind_and_changes_nothing(tmp_path):
    """`kill` (a CI job's time limit) stops a build as Ctrl-C does: exit 143, the output as it was, and the
    Pagefind run of its search step stopped too, not left running on alone."""
    root = write_site(tmp_path / "site", site_files(4))
    out = root / "public"
    assert sitegen("build", "--root", root, "--no-search").returncode == 0
    before = snapshot(out)
    write_site(root, {"sitegen.yaml": "title: Review Two\n"})
    pagefind, pid_file = slow_pagefind(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "sitegen", "build", "--root", str(root)],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PAGEFIND_BINARY_PATH": str(pagefind)},
    )
    try:
        wait_for(pid_file.exists, what="the search step")
        process.terminate()
        assert process.wait(20) == 143
        assert process.stderr.read().strip() == "terminated"
        assert not alive(int(pid_file.read_text()))
        assert snapshot(out) == before
    finally:
        if process.poll() is None:
            process.kill()
        if pid_file.exists() and alive(pid := int(pid_file.read_text())):
            os.kill(pid, 9)  # (what the test found left behind)


def test_a_read_only_output_folder_is_one_line_and_changes_nothing(tmp_path, run):
    root = write_site(tmp_path, site_files(3))
    out = root / "public"
    assert run("build", "--root", root, "--no-search").code == 0
    write_site(root, {"sitegen.yaml": "title: Review Two\n"})
    write_site(root, {"content/papers/p9.md": paper("paper-9", digests="[2026-03-19]")})
    with read_only(out):
        before = snapshot(out)
        result = run("build", "--root", root, "--no-search")
        line = failure_line(result.code, result.err)
        assert line.startswith(f"{out}/")
        assert snapshot(out) == before


def test_a_write_past_the_file_size_limit_is_one_line_and_changes_nothing(tmp_path):
    """RLIMIT_FSIZE makes writes fail (EFBIG) as a full disk does (ENOSPC), while pages are rendered."""
    root = write_site(tmp_path, site_files(3))
    out = root / "public"
    assert sitegen("build", "--root", root, "--no-search").returncode == 0
    before = snapshot(out)
    write_site(root, {"sitegen.yaml": "title: Review Two\n"})
    write_site(root, {"content/papers/p9.md": paper("paper-9", digests="[2026-03-19]")})
    result = sitegen("build", "--root", root, "--no-search", fsize=2000)
    line = failure_line(result.returncode, result.stderr)
    assert line.startswith(f"{out}/") and line.endswith(": File too large")
    assert snapshot(out) == before


def test_a_manifest_that_cannot_be_written_undoes_the_commit(tmp_path):
    """The new manifest is the last thing a build writes: when even that fails, every file moved into place
    and every file pruned is put back."""
    files = {**site_files(150), "sitegen.yaml": "title: Review One\nfeed_limit: 5\n"}
    root = write_site(tmp_path / "site", files)
    out = root / "public"
    assert sitegen("build", "--root", root, "--no-search").returncode == 0
    before = snapshot(out)
    # The same change in a copy shows how large the new files are: the limit lets every one through but the
    # manifest. (Dropping the last paper prunes its files; no new file is made, so the build writes the
    # manifest only at its very end.)
    changes = {"sitegen.yaml": "title: Review Two\nfeed_limit: 5\n"}
    probe = write_site(tmp_path / "probe", {**files, **changes})
    (probe / "content/papers/p150.md").unlink()
    assert sitegen("build", "--root", probe, "--no-search").returncode == 0
    sizes = [p.stat().st_size for p in (probe / "public").rglob("*") if p.is_file() and p.name != MANIFEST]
    manifest = (probe / "public" / MANIFEST).stat().st_size
    assert max(sizes) < manifest
    write_site(root, changes)
    (root / "content/papers/p150.md").unlink()
    result = sitegen("build", "--root", root, "--no-search", fsize=max(sizes) + 1)
    line = failure_line(result.returncode, result.stderr)
    assert line == f"{out / MANIFEST}: File too large"
    assert snapshot(out) == before
    assert sitegen("build", "--root", root, "--no-search").returncode == 0
    assert not (out / "papers/paper-150").exists()


def test_workers_that_fail_leave_no_file_behind(tmp_path):
    """A large build renders in forked workers, each writing new pages in place: when they fail (here at a
    page past the file size limit), the files they wrote are removed too."""
    root = write_site(tmp_path, site_files(2))
    out = root / "public"
    assert sitegen("build", "--root", root, "--no-search").returncode == 0
    before = snapshot(out)
    many = site_files(1200)
    for i in range(50, 1201, 100):  # a page too large in every worker's share
        many[f"content/papers/p{i}.md"] = paper(f"paper-{i}", body="Long. " * 40000, digests="[2026-03-11]")
    write_site(root, many)
    result = sitegen("build", "--root", root, "--no-search", fsize=200_000)
    line = failure_line(result.returncode, result.stderr)
    assert line.endswith(": File too large")
    assert snapshot(out) == before


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-r", "-m", "true"], capture_output=True)
    return probe.returncode == 0


def test_a_full_disk_is_one_line_and_changes_nothing(tmp_path):
    """A real full disk: the output folder on a small tmpfs, mounted in a user namespace (no privilege)."""
    if not _unshare_works():
        pytest.skip("no user namespaces here: the file size limit tests stand in for a full disk")
    root = write_site(tmp_path / "site", site_files(3))
    out = root / "public"
    assert sitegen("build", "--root", root, "--no-search").returncode == 0
    previous, after = tmp_path / "previous", tmp_path / "after"
    shutil.copytree(out, previous, symlinks=True)
    used = sum(-(-p.stat().st_size // 4096) * 4096 + 4096 for p in previous.rglob("*"))
    write_site(root, site_files(60, body="An abstract that fills the disk. " * 40))
    script = (
        'mount -t tmpfs -o size="$1" tmpfs "$2" && cp -a "$3/." "$2/" '
        '&& { "$5" -m sitegen build --root "$4" --out "$2" --no-search 2>"$6"; echo $? >"$7"; '
        'cp -a "$2/." "$8/"; }'
    )
    after.mkdir()
    err, code = tmp_path / "err", tmp_path / "code"
    args = [str(used + 64 * 1024), out, previous, root, sys.executable, err, code, after]
    command = ["unshare", "-r", "-m", "sh", "-c", script, "sh", *map(str, args)]
    subprocess.run(command, check=True, timeout=600)
    line = failure_line(int(code.read_text()), err.read_text())
    assert line.startswith(f"{out}/") and line.endswith(": No space left on device")
    assert snapshot(after) == snapshot(previous)


# --- item 3: never outside the output folder ----------------------------------------------------------------


def test_pruning_never_follows_a_symbolic_link_out_of_the_output(tmp_path, run):
    root = write_site(tmp_path / "site", site_files(2))
    out = root / "public"
    assert run("build", "--root", root, "--no-search").code == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "notes.txt").write_text("keep me")
    (out / "link").symlink_to(elsewhere, target_is_directory=True)
    (out / "file-link").symlink_to(elsewhere / "notes.txt")
    manifest = json.loads((out / MANIFEST).read_text())
    row = ["0" * 32, 7, 1, ""]
    manifest["files"].update({"link/notes.txt": row, "link/../link/notes.txt": row, "file-link": row})
    (out / MANIFEST).write_text(json.dumps(manifest))
    result = run("build", "--root", root, "--no-search")
    assert result.code == 0, result.err
    assert (elsewhere / "notes.txt").read_text() == "keep me"
    assert (out / "link").is_symlink()
    assert not os.path.lexists(out / "file-link")  # a link sitegen wrote is its own: removed, not followed


def test_a_symbolic_link_to_a_folder_is_never_written_through(tmp_path, run):
    root = write_site(tmp_path / "site", site_files(2))
    out = root / "public"
    assert run("build", "--root", root, "--no-search").code == 0
    elsewhere = tmp_path / "elsewhere"
    shutil.move(out / "papers", elsewhere)
    (out / "papers").symlink_to(elsewhere, target_is_directory=True)
    outside, before = snapshot(elsewhere), snapshot(out)
    write_site(root, {"sitegen.yaml": "title: Review Two\n"})  # every paper page changes
    result = run("build", "--root", root, "--no-search")
    line = failure_line(result.code, result.err)
    assert line.startswith(f"{out}/papers/") and "symbolic link" in line
    assert snapshot(elsewhere) == outside
    assert snapshot(out) == before
    # The same with new pages, which a build writes in place rather than staged.
    write_site(root, {"content/papers/p9.md": paper("paper-9", digests="[2026-03-19]")})
    result = run("build", "--root", root, "--no-search")
    assert "symbolic link" in failure_line(result.code, result.err)
    assert snapshot(elsewhere) == outside
    assert snapshot(out) == before


def test_a_first_build_into_a_folder_with_a_linked_subfolder_writes_nothing_outside(tmp_path, run):
    root = write_site(tmp_path / "site", site_files(2))
    out = root / "public"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out.mkdir()
    (out / "papers").symlink_to(elsewhere, target_is_directory=True)
    before = snapshot(out)
    result = run("build", "--root", root, "--no-search")
    assert "symbolic link" in failure_line(result.code, result.err)
    assert list(elsewhere.iterdir()) == []
    assert snapshot(out) == before


# --- item 5: no content/papers ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["absent", "file", "link loop"])
def test_a_missing_papers_folder_fails_the_build_and_keeps_the_output(tmp_path, run, kind):
    root = write_site(tmp_path, site_files(3))
    out = root / "public"
    assert run("build", "--root", root, "--no-search").code == 0
    before = snapshot(out)
    papers = root / "content/papers"
    shutil.rmtree(papers)
    if kind == "file":
        papers.write_text("not a folder")
    elif kind == "link loop":
        papers.symlink_to(papers)
    result = run("build", "--root", root, "--no-search")
    line = failure_line(result.code, result.err)
    assert line.startswith(f"{papers}: ")
    if kind == "absent":
        assert line == f"{papers}: no such folder; import a digest with `sitegen import FILE` or create it"
    assert snapshot(out) == before


# --- item 9: a damaged manifest is ignored ------------------------------------------------------------------


def _damage(out: Path, path: str, row: object) -> None:
    text = (out / MANIFEST).read_text()
    data = json.loads(text)
    data["files"][path] = row
    (out / MANIFEST).write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("path", "row"),
    [
        ("404.html", [7, 1, 1, "k"]),  # a number for the digest
        ("404.html", ["0" * 32, 1, 1, 5]),  # ... for the key
        ("404.html", ["0" * 32, "1", 1, ""]),  # a string for the size
        ("404.html", ["0" * 32, 1, [1], ""]),
        ("404.html", {"digest": "x"}),
        ("rob\0ots.txt", ["0" * 32, 1, 1, ""]),  # a NUL in a path
        ("rob\ud800ots.txt", ["0" * 32, 1, 1, ""]),  # a path no file can have
    ],
)
def test_a_bad_manifest_row_is_ignored_with_the_manifest(tmp_path, run, path, row):
    root = write_site(tmp_path / "site", site_files(3))
    out = root / "public"
    assert run("build", "--root", root, "--no-search").code == 0
    expected = {p: v for p, v in snapshot(out).items() if p != MANIFEST}
    (out / "404.html").write_text("edited by hand")
    _damage(out, path, row)
    write_site(root, {"content/papers/p1.md": paper("paper-1", body="Changed.", digests="[2026-03-11]")})
    result = run("build", "--root", root, "--no-search")
    assert result.code == 0, result.err
    assert result.err == ""
    assert (out / "404.html").read_bytes() == expected["404.html"][1]  # compared by bytes, made again
    assert b"Changed." in (out / "papers/paper-1/index.html").read_bytes()
    json.loads((out / MANIFEST).read_text())


def test_bad_diagnostics_in_the_manifest_notes_are_ignored(tmp_path, run):
    root = write_site(tmp_path / "site", site_files(3))
    out = root / "public"
    assert run("build", "--root", root, "--no-search").code == 0
    # The notes are the manifest's first line: a build with nothing to do reads only them.
    first, rest = (out / MANIFEST).read_text().split("\n", 1)
    head = json.loads(first.removesuffix(",") + "}")
    head["build"]["diagnostics"] = [[1, "message", 1, 1, "warning"]]  # as a hand edit may leave them
    (out / MANIFEST).write_text(json.dumps(head, separators=(",", ":"))[:-1] + ",\n" + rest)
    result = run("build", "--root", root, "--no-search")
    assert result.code == 0, result.err
    assert result.err == ""
    assert build_table(result.out)["Files written"] == 0


# --- item 12: leftovers of killed runs ----------------------------------------------------------------------


def test_leftovers_of_killed_runs_are_removed_and_those_of_live_ones_kept(tmp_path):
    """One rule for the output and the cache folder (sitegen.store.files.remove_leftovers): what a killed
    build left goes once the process its name carries is gone, whatever its age."""
    root = write_site(tmp_path, site_files(2))
    out = root / "public"
    assert sitegen("build", "--root", root, "--no-search").returncode == 0
    cache = root / ".sitegen-cache"
    dead, live = 999_999_999, os.getpid()  # (this process outlives the build; no process has the other id)
    gone = [
        out / f"{STAGING_PREFIX}{dead}-0123abcd",
        out / f".{MANIFEST}.{dead}-0123abcd.tmp",
        cache / f".items-01.cache.{dead}-0123abcd.tmp",
        cache / f".items-02.cache.{dead}.0123abcd.tmp",  # as the cache's own writer named them before
        out / f".{MANIFEST}.{live}-89abcdef.tmp",  # a day old: its id has been reused since
    ]
    kept = [
        out / f"{STAGING_PREFIX}{live}-0123abcd",
        out / f".{MANIFEST}.{live}-0123abcd.tmp",
        cache / f".items-01.cache.{live}-0123abcd.tmp",
        out / f".{MANIFEST}.0123abcd.tmp",  # names without a process id: never removed, however old
        cache / "__jinja2_0123.cachex1y2z3.tmp",
        out / "notes.tmp",  # not sitegen's
    ]
    for path in gone + kept:
        if path.name.startswith(STAGING_PREFIX):
            path.mkdir()
            (path / "1-1").write_text("half a page")
        else:
            path.write_text("half a file")
    long_ago = os.stat(out).st_mtime - 2 * 86_400
    for path in [gone[-1], *kept[3:]]:
        os.utime(path, (long_ago, long_ago))
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("keep")
    links = [out / f".notes.{dead}-0123abcd.tmp", cache / f".notes.{dead}-0123abcd.tmp"]
    for link in links:
        link.symlink_to(elsewhere)
    result = sitegen("build", "--root", root, "--no-search")  # nothing changed: the build writes nothing
    assert result.returncode == 0, result.stderr
    assert build_table(result.stdout)["Files written"] == 0
    assert [p for p in gone if os.path.lexists(p)] == []
    assert [p for p in kept if not os.path.lexists(p)] == []
    assert all(link.is_symlink() for link in links) and elsewhere.read_text() == "keep"
