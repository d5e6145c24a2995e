"""The source watcher on real files: editor saves, deletes, renames, scratch files, one rebuild per burst."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from conftest import paper, wait_for
from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    FileCreatedEvent,
    FileModifiedEvent,
    FileMovedEvent,
)

from sitegen.config import SiteConfig
from sitegen.serve.watch import (
    CONFIG,
    CONTENT,
    STATIC,
    TEMPLATE,
    Changes,
    Debouncer,
    Layout,
    Watcher,
    changes_of,
    is_editor_temp,
)


@pytest.mark.parametrize(
    "name",
    [".a.md.swp", "a.md.swx", ".a.md.swo", "a.md~", "4913", ".#a.md", "#a.md#", "a.md.tmp", ".DS_Store"],
)
def test_editor_scratch_files_are_ignored(name):
    assert is_editor_temp(name)


@pytest.mark.parametrize("name", ["a.md", "taxonomy.yaml", "base.html", "style.css", "4914", "notes.txt"])
def test_sources_are_not_scratch(name):
    assert not is_editor_temp(name)


@pytest.fixture
def layout(tmp_path):
    for folder in ("content/papers", "templates", "static"):
        (tmp_path / folder).mkdir(parents=True)
    return Layout.of(tmp_path, SiteConfig())


def test_classification(layout, tmp_path):
    assert layout.classify(tmp_path / "content/papers/a.md") == CONTENT
    assert layout.classify(tmp_path / "templates/paper.html") == TEMPLATE
    assert layout.classify(tmp_path / "static/css/site.css") == STATIC
    assert layout.classify(tmp_path / "sitegen.yaml") == CONFIG
    assert layout.classify(tmp_path / "public/index.html") is None
    assert layout.classify(tmp_path / "README.md") is None
    assert layout.classify(tmp_path / "content/papers/.a.md.swp") is None
    assert layout.classify(tmp_path / "static/.git/HEAD") is None


def test_a_move_counts_at_both_ends_and_scratch_ends_are_dropped(layout, tmp_path):
    papers = tmp_path / "content/papers"
    moved = changes_of(FileMovedEvent(str(papers / "a.md"), str(papers / "b.md")), layout)
    assert moved.paths == {papers / "a.md", papers / "b.md"} and moved.kinds == {CONTENT}
    vim_backup = changes_of(FileMovedEvent(str(papers / "a.md"), str(papers / "a.md~")), layout)
    assert vim_backup.paths == {papers / "a.md"}
    temp_rename = changes_of(FileMovedEvent(str(papers / "a.md.tmp"), str(papers / "a.md")), layout)
    assert temp_rename.paths == {papers / "a.md"}
    assert not changes_of(FileCreatedEvent(str(papers / "4913")), layout)
    assert not changes_of(FileModifiedEvent(str(tmp_path / "public/index.html")), layout)


def test_paths_keep_the_roots_spelling(tmp_path, monkeypatch):
    (tmp_path / "content").mkdir()
    monkeypatch.chdir(tmp_path)
    layout = Layout.of(Path("."), SiteConfig())
    found = changes_of(FileModifiedEvent(str(tmp_path / "content/papers/a.md")), layout)
    assert found.paths == {Path("content/papers/a.md")}


def test_folder_events(layout, tmp_path):
    assert changes_of(DirDeletedEvent(str(tmp_path / "content/papers")), layout).full
    assert changes_of(DirDeletedEvent(str(tmp_path / "templates")), layout).full
    assert not changes_of(DirCreatedEvent(str(tmp_path / "content/papers/new")), layout)


def test_debouncer_makes_one_call_per_burst():
    calls: list[Changes] = []
    debouncer = Debouncer(calls.append, delay=0.2, max_wait=5.0)
    try:
        for i in range(20):
            debouncer.push(Changes({Path(f"{i}.md")}, {CONTENT}))
        wait_for(lambda: calls, what="the debounced call")
        # A change pushed now is a call of its own: had the burst made more than one, it would come later.
        debouncer.push(Changes({Path("last.md")}, {CONTENT}))
        wait_for(lambda: len(calls) >= 2, what="the next call")
        assert len(calls) == 2 and len(calls[0].paths) == 20 and calls[1].paths == {Path("last.md")}
    finally:
        debouncer.stop()


def test_debouncer_keeps_changes_arriving_during_a_call():
    calls: list[Changes] = []
    entered = threading.Event()
    release = threading.Event()

    def action(changes: Changes) -> None:
        calls.append(changes)
        entered.set()
        release.wait(10)

    debouncer = Debouncer(action, delay=0.05)
    try:
        debouncer.push(Changes({Path("a.md")}, {CONTENT}))
        assert entered.wait(10)
        debouncer.push(Changes({Path("b.md")}, {CONTENT}))
        release.set()
        wait_for(lambda: len(calls) == 2, what="the second call")
        assert calls[1].paths == {Path("b.md")}
    finally:
        release.set()
        debouncer.stop()


def test_debouncer_does_its_idle_work_once_quiet_after_a_call_and_not_before_a_change():
    """`idle` (serve's cycle collection) runs once no change has come for `idle_after` after a call: never
    between a change and its call, and not again until another call."""
    log: list[str] = []
    debouncer = Debouncer(
        lambda changes: log.append("call"), delay=0.02, idle=lambda: log.append("idle"), idle_after=1.0
    )
    try:
        time.sleep(1.2)
        assert log == []  # no call yet, nothing to tidy up after
        debouncer.push(Changes({Path("a.md")}, {CONTENT}))
        wait_for(lambda: log == ["call"], what="the call")
        for name in ("b.md", "c.md"):  # edits that keep coming put the idle work off
            time.sleep(0.15)
            debouncer.push(Changes({Path(name)}, {CONTENT}))
        wait_for(lambda: "idle" in log, what="the idle work")
        time.sleep(1.2)
        # (Two or three calls: a slow machine may take the last two edits as one burst.)
        assert log[-1] == "idle" and log.count("idle") == 1 and log.count("call") >= 2
    finally:
        debouncer.stop()


def barrier(folder: Path, seen: Collector) -> None:
    """Wait until every event of what was done before has reached `seen`: a file written after them in the
    watched `folder` is seen last (inotify keeps order), then it is forgotten (and left in place)."""
    marker = folder / "zz-barrier.md"
    marker.write_text("x")
    wait_for(lambda: seen.has(marker), what="the barrier")
    with seen.lock:
        seen.seen.paths.discard(marker)


class Collector:
    """The watcher's sink: merges everything seen, like the debouncer would."""

    def __init__(self) -> None:
        self.seen = Changes()
        self.lock = threading.Lock()

    def __call__(self, changes: Changes) -> None:
        with self.lock:
            self.seen.merge(changes)

    def has(self, *paths: Path) -> bool:
        with self.lock:
            return set(paths) <= self.seen.paths

    def reset(self) -> Changes:
        with self.lock:
            seen, self.seen = self.seen, Changes()
            return seen


@pytest.fixture
def watched(layout, tmp_path):
    (tmp_path / "content/papers/a.md").write_text(paper("a"))
    collector = Collector()
    watcher = Watcher(layout, collector, lambda line: None)
    yield tmp_path, collector
    watcher.stop()


def test_plain_write_is_seen(watched):
    root, seen = watched
    target = root / "content/papers/a.md"
    target.write_text(paper("a", body="changed"))
    wait_for(lambda: seen.has(target), what="the write")


def test_atomic_rename_save_is_seen_and_temp_ignored(watched):
    root, seen = watched
    target = root / "content/papers/a.md"
    temp = target.with_name("a.md.tmp")
    temp.write_text(paper("a", body="renamed in"))
    os.replace(temp, target)
    wait_for(lambda: seen.has(target), what="the atomic save")
    barrier(target.parent, seen)
    assert seen.reset().paths == {target}


def test_vim_style_save_is_seen(watched):
    """vim with 'nowritebackup' off: test file 4913, backup by rename, write anew, drop the backup."""
    root, seen = watched
    target = root / "content/papers/a.md"
    probe = target.with_name("4913")
    probe.write_text("")
    probe.unlink()
    swap = target.with_name(".a.md.swp")
    swap.write_bytes(b"swap")
    backup = target.with_name("a.md~")
    os.rename(target, backup)
    target.write_text(paper("a", body="saved by vim"))
    backup.unlink()
    swap.unlink()
    wait_for(lambda: seen.has(target), what="the vim save")
    barrier(target.parent, seen)
    assert seen.reset().paths == {target}


def test_delete_and_rename_are_seen(watched):
    root, seen = watched
    papers = root / "content/papers"
    os.rename(papers / "a.md", papers / "b.md")
    wait_for(lambda: seen.has(papers / "a.md", papers / "b.md"), what="the rename")
    barrier(papers, seen)  # the rename's last events, before the slate is wiped
    # Wiped before the delete, not after: its event may come at once and must not be wiped with the rest.
    seen.reset()
    (papers / "b.md").unlink()
    wait_for(lambda: seen.has(papers / "b.md"), what="the delete")


def test_templates_static_and_settings_are_watched_but_not_the_output(watched):
    root, seen = watched
    (root / "public").mkdir()
    (root / "public/index.html").write_text("out")
    (root / "templates/paper.html").write_text("{{ page }}")
    (root / "static/site.css").write_text("body{}")
    (root / "sitegen.yaml").write_text("title: x\n")
    wait_for(lambda: seen.seen.kinds >= {TEMPLATE, STATIC, CONFIG}, what="all kinds")
    assert not any("public" in p.parts for p in seen.seen.paths)


def test_a_source_folder_created_later_is_watched(tmp_path):
    (tmp_path / "content").mkdir()
    layout = Layout.of(tmp_path, SiteConfig())
    seen = Collector()
    watcher = Watcher(layout, seen, lambda line: None)
    try:
        (tmp_path / "templates").mkdir()
        wait_for(lambda: seen.seen.full, what="the new folder")
        # The watcher adds the new folder soon after: written again until seen, a file shows it has.
        target = tmp_path / "templates" / "base.html"
        wait_for(lambda: target.write_text("x") and seen.has(target), what="a file in the new folder")
        shutil.rmtree(tmp_path / "templates")
        (tmp_path / "templates").mkdir()
        seen.reset()
        again = tmp_path / "templates" / "again.html"
        wait_for(lambda: again.write_text("y") and seen.has(again), what="a file in the re-created folder")
    finally:
        watcher.stop()
