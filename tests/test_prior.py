"""The Prior: what one build's files were made from, kept in the cache folder so that the next build tells
which files are current without working out their keys. It is used only with the manifest of the build that
wrote it."""

from __future__ import annotations

import shutil

from conftest import write_site
from test_incremental import corpus, tree

from sitegen.build import Builder, BuildOptions
from sitegen.build.deps import Versions
from sitegen.build.manifest import read_manifest
from sitegen.build.prior import Prior
from sitegen.store.cache import CACHE_DIR, CacheFolder


def build(root, out):
    result = Builder(root, BuildOptions(out=out, search=False)).build()
    return result


def cold_tree(tmp_path, root, name):
    copy = tmp_path / f"cold-site-{name}"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(CACHE_DIR, "out"))
    result = build(copy, tmp_path / f"cold-{name}")
    assert not result.failed, result.report.diagnostics
    return tree(tmp_path / f"cold-{name}")


def retitle(root, slug, title):
    path = root / f"content/papers/{slug}.md"
    text = path.read_text(encoding="utf-8")
    start = text.index("title: ")
    end = text.index("\n", start)
    path.write_text(text[:start] + f"title: {title}" + text[end:], encoding="utf-8")


def test_a_build_after_an_edit_decides_from_the_prior_and_works_out_only_the_keys_of_what_it_makes(
    tmp_path, monkeypatch
):
    root = write_site(tmp_path / "site", corpus())
    assert not build(root, tmp_path / "out").failed
    shutil.copytree(root / CACHE_DIR, tmp_path / "cache")
    shutil.copytree(tmp_path / "out", tmp_path / "out-again")
    assert Prior.from_data(CacheFolder(root).load("prior")) is not None
    keyed: list[str] = []
    page_key = Versions.page_key
    monkeypatch.setattr(Versions, "page_key", lambda self, *a: keyed.append(a[1]) or page_key(self, *a))
    retitle(root, "p5", "A New Title")
    result = build(root, tmp_path / "out")  # a fresh Builder, as a new `sitegen build` run
    assert not result.failed and 0 < result.rendered < 20
    with_prior, keyed[:] = len(keyed), []
    # The same build without the prior works out the key of every file it keeps, and keeps the same files.
    shutil.rmtree(root / CACHE_DIR)
    shutil.copytree(tmp_path / "cache", root / CACHE_DIR)
    CacheFolder(root).path("prior").unlink()
    again = build(root, tmp_path / "out-again")
    assert not again.failed and again.rendered == result.rendered
    assert with_prior < len(keyed) / 3
    assert tree(tmp_path / "out") == tree(tmp_path / "out-again") == cold_tree(tmp_path, root, "edit")


def test_a_prior_saved_by_a_build_whose_commit_failed_is_not_used(tmp_path):
    """A failed build may save its Prior (the caches are saved beside the commit) while the output keeps the
    last build's manifest: that Prior describes files that were never written. Trusted, it would keep the
    pages of an edit it already counts as current."""
    root = write_site(tmp_path / "site", corpus())
    out = tmp_path / "out"
    assert not build(root, out).failed
    before = CacheFolder(root).load("prior")
    retitle(root, "p5", "A New Title")
    # A folder where another page goes: the commit fails there, and the output stays as it was.
    blocked = out / "papers/p9/index.html"
    blocked.unlink()
    blocked.mkdir()
    failed = build(root, out)
    assert failed.failed
    after = CacheFolder(root).load("prior")
    assert after is not None and after[0] != before[0]  # saved, by the failed build
    assert "A New Title" not in (out / "papers/p5/index.html").read_text(encoding="utf-8")
    blocked.rmdir()
    assert not build(root, out).failed
    assert "A New Title" in (out / "papers/p5/index.html").read_text(encoding="utf-8")
    assert tree(out) == cold_tree(tmp_path, root, "after")


def test_the_keys_a_build_with_the_prior_writes_are_those_of_a_build_without_it(tmp_path):
    """A build that has the prior takes the versions of the keys it found unchanged from it when it works out
    the keys of the files it makes (an export lists thousands of papers). Those keys are what a later build
    without the prior goes by: a title edit and back, the second build without the prior, must remake the
    pages and exports that show the title, as a cold build would."""
    root = write_site(tmp_path / "site", corpus())
    out = tmp_path / "out"
    assert not build(root, out).failed
    old = (root / "content/papers/p5.md").read_text(encoding="utf-8")
    retitle(root, "p5", "A New Title")
    assert not build(root, out).failed  # with the prior: the keys of what it made use its versions
    written = {path: record.key for path, record in read_manifest(out).items()}
    shutil.rmtree(root / CACHE_DIR)
    assert not build(root, tmp_path / "fresh").failed  # without it: every key worked out
    assert {path: record.key for path, record in read_manifest(tmp_path / "fresh").items()} == written
    shutil.rmtree(root / CACHE_DIR)
    (root / "content/papers/p5.md").write_text(old, encoding="utf-8")
    assert not build(root, out).failed  # no prior: kept by key alone
    assert tree(out) == cold_tree(tmp_path, root, "back")
