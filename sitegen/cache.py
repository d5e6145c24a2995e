"""ROOT/.sitegen-cache: what one build leaves for the next, so that unchanged inputs are not worked on again.

Everything here only saves time. A cache file is marshal data (fast, and unlike pickle it cannot run code when
read) behind a header naming the format, the Python version and a fingerprint of sitegen's own code; a file
that is missing, damaged, or written by another version is ignored, never trusted. Files are written
atomically (temporary file, then rename), so a crash leaves the old cache or none. The folder may be deleted
at any time.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import marshal
import os
import re
import sys
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sitegen.output import atomic_write

CACHE_DIR = ".sitegen-cache"
FORMAT = 1
_MAGIC = b"sitegen-cache\n"
#: Large caches are kept in this many files by key, so that after a small edit only a few are written again.
SHARDS = 64


def shard_of(key: str) -> int:
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) % SHARDS


#: Libraries whose version may change what a build makes.
LIBRARIES = ("jinja2", "markupsafe", "markdown-it-py", "mdit-py-plugins", "linkify-it-py", "pyyaml")


@functools.cache
def code_fingerprint() -> str:
    """A hash of sitegen's own modules, Python's version and the versions of the libraries that shape the
    output: a cache made by other code is not used (computed once per run)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(sys.version.encode())
    h.update(library_versions().encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.glob("*.py")):
        h.update(path.name.encode())
        with contextlib.suppress(OSError):
            h.update(path.read_bytes())
    return h.hexdigest()


def scan(folder: Path) -> list[tuple[str, os.stat_result]]:
    """Every file below `folder` (or `folder` itself, if it is a file): relative name and stat, by name."""
    return _walk(os.fspath(folder), "", set())


def files_stamp(
    scans: Iterable[list[tuple[str, os.stat_result]]], recent_ns: int
) -> tuple[str, list[tuple[int, str, int]]]:
    """A hash of the name and identity (times, size, inode) of the files of `scans` (see scan()), and the
    files (scan number, name, mtime) modified at or after `recent_ns`."""
    h = hashlib.blake2b(digest_size=16)
    recent: list[tuple[int, str, int]] = []
    for number, files in enumerate(scans):
        # One update with every line: ten thousand small updates took twice as long.
        lines = [
            f"{number}:{rel}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_size}:{st.st_ino}\n"
            for rel, st in files
        ]
        h.update("".join(lines).encode("utf-8", "surrogateescape"))
        recent.extend((number, rel, st.st_mtime_ns) for rel, st in files if st.st_mtime_ns >= recent_ns)
    return h.hexdigest(), recent


def _walk(top: str, prefix: str, seen: set[tuple[int, int]]) -> list[tuple[str, os.stat_result]]:
    """The files below `top`; `seen`: the folders (device, inode) already walked. Linked folders are
    followed, each real folder once: links that lead back up (`content/a -> .`) would never end the walk."""
    try:
        if not prefix:
            if not os.path.isdir(top):
                return [("", os.stat(top))] if os.path.exists(top) else []
            st = os.stat(top)
            seen.add((st.st_dev, st.st_ino))
        with os.scandir(top) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError:
        return []
    found: list[tuple[str, os.stat_result]] = []
    for entry in entries:
        rel = prefix + entry.name
        try:
            if entry.is_dir():
                st = entry.stat()
                # The folder itself too: an empty one, perhaps named like a file (`x.md`), is an input that
                # a build reports, so it must change the stamp.
                found.append((rel + "/", st))
                if (st.st_dev, st.st_ino) not in seen:
                    seen.add((st.st_dev, st.st_ino))
                    found += _walk(entry.path, rel + "/", seen)
            else:
                found.append((rel, entry.stat()))
        except OSError:
            continue
    return found


def _stamp(name: str, key: Any) -> bytes:
    return marshal.dumps((FORMAT, name, sys.version_info[:2], code_fingerprint(), key))


def library_versions() -> str:
    """`name=version;` of each of LIBRARIES as installed ('?' for one that is not), read from the names of
    their metadata folders on sys.path: what importlib.metadata reads, without the ~20 ms its import costs."""
    wanted = {_project_key(name): name for name in LIBRARIES}
    found: dict[str, str] = {}
    for folder in sys.path:
        try:
            entries = os.listdir(folder or ".")
        except OSError:
            continue
        for entry in entries:
            if entry.endswith((".dist-info", ".egg-info")):
                project, _, version = entry.rpartition(".")[0].partition("-")
                found.setdefault(_project_key(project), version)
    return "".join(f"{name}={found.get(key, '?')};" for key, name in wanted.items())


def _project_key(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


class CacheFolder:
    """Named cache files below a site's root. `key` is any marshal-able value the content depends on (the
    settings it was made with, say): a file saved under another key reads as missing."""

    def __init__(self, root: Path):
        self.folder = root / CACHE_DIR

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.cache"

    def load(self, name: str, key: Any = None) -> Any | None:
        try:
            data = self.path(name).read_bytes()
        except OSError:
            return None
        stamp = _stamp(name, key)
        head = _MAGIC + len(stamp).to_bytes(4, "big") + stamp
        if not data.startswith(head):
            return None
        try:
            return marshal.loads(memoryview(data)[len(head) :])
        except (EOFError, ValueError, TypeError):
            return None

    def save(self, name: str, value: Any, key: Any = None) -> bool:
        """Write the file; False (and nothing changed) when the value cannot be stored or the folder is not
        writable: a site folder that cannot be written to still builds, only slower."""
        try:
            body = marshal.dumps(value)
        except ValueError:
            return False
        stamp = _stamp(name, key)
        try:
            atomic_write(self.path(name), _MAGIC + len(stamp).to_bytes(4, "big") + stamp + body)
        except OSError:
            return False
        return True

    def load_sharded(self, name: str, key: Any = None) -> dict[str, Any]:
        """All entries of a cache kept in shards (see save_sharded); a shard that is missing or unusable
        only means that its entries are not cached."""
        entries: dict[str, Any] = {}
        for number in range(SHARDS):
            part = self.load(f"{name}-{number:02d}", key)
            if isinstance(part, dict):
                entries.update(part)
        return entries

    def save_sharded(
        self, name: str, entries: dict[str, Any], shards: Iterable[int] | None = None, key: Any = None
    ) -> bool:
        """Write the given shards (None: all) of a cache, each holding the entries of `entries` whose key
        falls in it: `entries` must hold every entry of those shards."""
        groups: dict[int, dict[str, Any]] = {n: {} for n in (range(SHARDS) if shards is None else shards)}
        for entry_key, value in entries.items():
            group = groups.get(shard_of(entry_key))
            if group is not None:
                group[entry_key] = value
        saved = True
        for number, group in sorted(groups.items()):
            saved = self.save(f"{name}-{number:02d}", group, key) and saved
        return saved
