"""Watching a site's sources: which file changed, what kind of source it is, and one rebuild per burst.

Editors save in many ways (vim: rename the old file to a backup, write a new one; others: write a temp file
and rename it over the original), so one save is a burst of created/moved/deleted events on several names.
The watcher drops editor scratch files, records every remaining source path an event names (both ends of a
move), and hands the set over once the folder has been quiet for a moment; the builder then reads the disk.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

from sitegen.config import CONFIG_NAME, SiteConfig, site_path

CONTENT, TEMPLATE, STATIC, CONFIG = "content", "template", "static", "config"

# Scratch files of vim (swap files, its '4913' write test, backups), emacs (locks, autosaves), JetBrains,
# gedit, Kate, macOS; plus our own and others' temp files written before an atomic rename.
EDITOR_TEMP_PATTERNS = (
    "*.swp", "*.swx", "*.swo", "*.swn", ".*.sw?", "*~", "4913", ".#*", "#*#",
    "*.tmp", "*.temp", "*.bak", "*.orig", "*.part", "*.crdownload", ".DS_Store", "._*",
    "*___jb_tmp___", "*___jb_old___", ".goutputstream-*", "*.kate-swp", ".~lock.*#",
)  # fmt: skip
IGNORED_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", "node_modules", ".sitegen-cache"})

# Quiet time before a rebuild. Editors save in a burst of events within a few milliseconds (temp file, rename,
# attributes); a longer wait only delays every reload.
DEBOUNCE_SECONDS = 0.015
MAX_WAIT_SECONDS = 1.0


def is_editor_temp(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in EDITOR_TEMP_PATTERNS)


@dataclass(frozen=True, slots=True)
class Layout:
    """Where a site's sources are. `root` is kept as given so that reported paths read like the builder's."""

    root: Path
    content: Path
    templates: Path
    static: Path
    config: Path
    output: Path

    @classmethod
    def of(cls, root: Path, config: SiteConfig) -> Layout:
        return cls(
            root,
            site_path(root, config.content_dir),
            site_path(root, config.templates_dir),
            site_path(root, config.static_dir),
            root / CONFIG_NAME,
            site_path(root, config.output_dir),
        )

    def folders(self) -> dict[str, Path]:
        return {CONTENT: self.content, TEMPLATE: self.templates, STATIC: self.static}

    def classify(self, path: Path) -> str | None:
        """The kind of source at `path` (absolute), or None when a change there cannot affect the site."""
        if is_editor_temp(path.name):
            return None
        if _is_below(path, _absolute(self.output)):
            return None
        if path == _absolute(self.config):
            return CONFIG
        for kind, folder in self.folders().items():
            folder = _absolute(folder)
            if _is_below(path, folder) and path != folder:
                if IGNORED_DIRS.intersection(path.relative_to(folder).parts):
                    return None
                return kind
        return None

    def source_path(self, path: Path) -> Path:
        """`path` (absolute) spelled from `root` the way the builder spells its own paths."""
        base = _absolute(self.root)
        return self.root / path.relative_to(base) if _is_below(path, base) else path


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(path))


def _is_below(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


@dataclass(slots=True)
class Changes:
    """What a burst of events touched. `full` asks for a full rebuild (a folder vanished, say)."""

    paths: set[Path] = field(default_factory=set)
    kinds: set[str] = field(default_factory=set)
    full: bool = False

    def __bool__(self) -> bool:
        return bool(self.paths or self.full)

    def merge(self, other: Changes) -> None:
        self.paths |= other.paths
        self.kinds |= other.kinds
        self.full |= other.full


def changes_of(event: FileSystemEvent, layout: Layout) -> Changes:
    """The source changes one watchdog event stands for (often none)."""
    found = Changes()
    if event.event_type in ("opened", "closed_no_write"):
        return found
    ends = [event.src_path, event.dest_path] if event.event_type == "moved" else [event.src_path]
    for end in ends:
        if not end:
            continue
        path = _absolute(Path(os.fsdecode(end)))
        kind = layout.classify(path)
        if kind is None and event.is_directory and path in map(_absolute, layout.folders().values()):
            # A source folder itself appeared or went away: everything below it changed.
            kind = next(k for k, f in layout.folders().items() if _absolute(f) == path)
            if event.event_type != "modified":
                found.full = True
                found.kinds.add(kind)
            continue
        if kind is None:
            continue
        if event.is_directory:
            # Files inside a moved-in or created folder get their own events; a folder deleted or moved
            # away does not report its files, so only a full rebuild is sure to drop their pages.
            if event.event_type in ("deleted", "moved"):
                found.full = True
                found.kinds.add(kind)
            continue
        found.paths.add(layout.source_path(path))
        found.kinds.add(kind)
    return found


def _inode(folder: Path) -> int:
    try:
        return os.stat(folder).st_ino
    except OSError:
        return -1


def _files_below(folder: Path, layout: Layout) -> Changes:
    found = Changes()
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d not in IGNORED_DIRS]
        for name in filenames:
            path = Path(dirpath) / name
            kind = layout.classify(path)
            if kind is not None:
                found.paths.add(layout.source_path(path))
                found.kinds.add(kind)
    return found


class Debouncer:
    """Collects changes and calls `action` once they have been quiet for `delay` seconds (at most `max_wait`).

    `action` runs on this object's own thread, one call at a time, so rebuilds never overlap; changes that
    arrive during a call are kept for the next one. `idle`, if given, is called on the same thread once no
    change has come for `idle_after` seconds after a call: work that may wait, and must not make the next
    call wait.
    """

    def __init__(
        self,
        action: Callable[[Changes], None],
        delay: float = DEBOUNCE_SECONDS,
        max_wait: float = MAX_WAIT_SECONDS,
        name: str = "sitegen-debounce",
        idle: Callable[[], None] | None = None,
        idle_after: float = 1.0,
    ):
        self._action = action
        self._delay = delay
        self._max_wait = max_wait
        self._idle = idle
        self._idle_after = idle_after
        self._cond = threading.Condition()
        self._pending = Changes()
        self._first = 0.0
        self._last = 0.0
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def push(self, changes: Changes) -> None:
        if not changes:
            return
        with self._cond:
            now = time.monotonic()
            if not self._pending:
                self._first = now
            self._pending.merge(changes)
            self._last = now
            self._cond.notify_all()

    def waiting(self) -> bool:
        """Whether changes wait for the next call (they may have come during the call in progress)."""
        with self._cond:
            return bool(self._pending)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop taking changes; wait a little for a call in progress (Ctrl-C must not wait for long)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        idle_due = False
        while True:
            batch: Changes | None = None
            with self._cond:
                came = self._cond.wait_for(
                    lambda: self._stopped or bool(self._pending), self._idle_after if idle_due else None
                )
                while came and not self._stopped:
                    now = time.monotonic()
                    due = min(self._last + self._delay, self._first + self._max_wait)
                    if now >= due:
                        break
                    self._cond.wait(due - now)
                if self._stopped:
                    return
                if came:
                    batch, self._pending = self._pending, Changes()
            if batch is None:  # quiet since the last call
                idle_due = False
                if self._idle is not None:
                    self._idle()
                continue
            self._action(batch)
            idle_due = self._idle is not None


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher):
        self._watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        self._watcher.event(event)


class Watcher:
    """A watchdog observer on a site's source folders and settings file, feeding a Debouncer.

    The output folder is never watched. Folders that do not exist yet are picked up when they appear (the
    site root itself is watched, not recursively, for that and for the settings file).
    """

    def __init__(self, layout: Layout, sink: Callable[[Changes], None], log: Callable[[str], None]):
        self._layout = layout
        self._sink = sink
        self._lock = threading.Lock()
        self._handler = _Handler(self)
        self._watches: dict[Path, tuple[ObservedWatch, int]] = {}
        self._observer: BaseObserver = Observer()
        try:
            self._observer.start()
            self._schedule()
        except OSError as exc:  # inotify limits reached: polling is slower but still sees every save
            self._observer.stop()
            log(f"sitegen serve: cannot watch with inotify ({exc.strerror or exc}); polling instead")
            self._watches.clear()
            self._observer = PollingObserver(timeout=0.5)
            self._observer.start()
            self._schedule()

    def _schedule(self) -> list[Path]:
        """Watch the root (not recursively) and every source folder that exists now; drop vanished ones.
        Returns the folders newly watched."""
        root = _absolute(self._layout.root)
        wanted = {root: False}
        for folder in map(_absolute, self._layout.folders().values()):
            if os.path.isdir(folder) and folder != root:
                wanted[folder] = True
        # A folder inside another watched one (static/ inside content/, say) is already covered.
        wanted = {
            f: r
            for f, r in wanted.items()
            if not r or not any(o != f and r2 and _is_below(f, o) for o, r2 in wanted.items())
        }
        for folder in [f for f in self._watches if f not in wanted or _inode(f) != self._watches[f][1]]:
            self._drop(folder)  # gone, or deleted and made again: the old watch follows the dead folder
        added = []
        for folder, recursive in wanted.items():
            if folder not in self._watches:
                inode = _inode(folder)
                watch = self._observer.schedule(self._handler, str(folder), recursive=recursive)
                self._watches[folder] = (watch, inode)
                added.append(folder)
        return added

    def _drop(self, folder: Path) -> None:
        if folder in self._watches:
            watch, _ = self._watches.pop(folder)
            with contextlib.suppress(KeyError, OSError):
                self._observer.unschedule(watch)

    def set_layout(self, layout: Layout) -> None:
        """Follow new folder settings (sitegen.yaml changed)."""
        with self._lock:
            self._layout = layout
            self._schedule()

    def event(self, event: FileSystemEvent) -> None:
        with self._lock:
            changes = changes_of(event, self._layout)
            if event.is_directory and event.event_type in ("deleted", "moved"):
                # The watch of a folder deleted (and perhaps made again already) follows the dead folder.
                self._drop(_absolute(Path(os.fsdecode(event.src_path))))
            if changes.full:
                # A source folder may have appeared. Files written into it before its watch began sent no
                # events: name them all, so the builder does not take them for unchanged.
                for folder in self._schedule():
                    if folder != _absolute(self._layout.root):
                        changes.merge(_files_below(folder, self._layout))
        self._sink(changes)

    def stop(self) -> None:
        self._observer.stop()
        self._observer.join(5)
