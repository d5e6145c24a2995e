"""ROOT/.sitegen-cache: what one build leaves for the next, so that unchanged inputs are not worked on again.

Everything here only saves time, and nothing read from it is used before it is checked. Every file of the
folder has one format: MAGIC, then segments, each its data's checksum and length before the data (see
`segment`, `read_segment`). The checksum is a CRC-32: it tells damage (a flipped bit, a cut, a torn write)
as well as a cryptographic hash would, at a quarter of its time over the tens of megabytes a build after an
edit reads; nothing here is secret or signed, and whoever can write the folder can write the content. A
file damaged anywhere reads as missing, so that what it held is made again and written over it:
marshal data and compiled templates are decoded only after their checksum matched, as decoding damaged ones
can give wrong values or crash the process. A file of CacheFolder also names the format, the Python version
and a fingerprint of sitegen's own code in its first segment: a file written by other code reads as missing
too. Files are written by sitegen's one atomic writer (sitegen.store.files.atomic_write: a temporary file,
then a rename), so a crash leaves the old cache or none, and the temporary files of killed writers are removed
later by its one sweeper (see `CacheFolder.sweep`). The folder may be deleted at any time.
"""

from __future__ import annotations

import contextlib
import functools
import marshal
import os
import re
import sys
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sitegen.store.files import atomic_write, hasher, remove_leftovers

CACHE_DIR = ".sitegen-cache"
FORMAT = 3
MAGIC = b"sitegen-cache 3\n"
#: Bytes before a segment's data: the CRC-32 of the data (8 hex characters) and its length (8).
SEGMENT_HEAD = 16
#: Large caches are kept in this many files by key, so that after a small edit only a few are written again.
SHARDS = 64


def shard_of(key: str) -> int:
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) % SHARDS


#: Libraries whose version may change what a build makes.
LIBRARIES = (
    "jinja2",
    "markupsafe",
    "markdown-it-py",
    "mdit-py-plugins",
    "linkify-it-py",
    "pyyaml",
    "latex2mathml",
)


@functools.cache
def code_fingerprint() -> str:
    """A hash of sitegen's own modules, Python's version and the versions of the libraries that shape the
    output: a cache made by other code is not used (computed once per run)."""
    h = hasher()
    h.update(sys.version.encode())
    h.update(library_versions().encode())
    package = Path(__file__).resolve().parent.parent
    # Every module of every subpackage, and the files the package writes as they are (the search page's API).
    for path in sorted([*package.rglob("*.py"), *package.rglob("*.js")]):
        h.update(path.relative_to(package).as_posix().encode())
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
    h = hasher()
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


class Damaged(ValueError):
    """A cache file that is cut short or does not match its checksums."""


def segment(data: bytes | memoryview) -> list[bytes | memoryview]:
    """A segment of a cache file, in two parts (so that large data is written without being copied): its
    checksum and length, then the data."""
    return [_checksum(data) + len(data).to_bytes(8, "big"), data]


def _checksum(data: bytes | memoryview) -> bytes:
    return b"%08x" % zlib.crc32(data)


def read_segment(view: memoryview, pos: int) -> tuple[memoryview, int]:
    """The data of the segment at `pos` of a cache file's bytes, checked, and where the next one starts.
    Raises Damaged."""
    end = pos + SEGMENT_HEAD
    if end > len(view):
        raise Damaged("a segment is cut short")
    size = int.from_bytes(view[end - 8 : end], "big")
    data = view[end : end + size]
    if len(data) != size or _checksum(data) != view[pos : end - 8]:
        raise Damaged("a segment does not match its checksum")
    return data, end + size


def read_segments(view: memoryview, pos: int = 0) -> list[memoryview]:
    """The data of every segment from `pos` to the end, checked. Raises Damaged."""
    out = []
    while pos < len(view):
        data, pos = read_segment(view, pos)
        out.append(data)
    return out


def write_file(path: Path, parts: Iterable[bytes | memoryview]) -> None:
    """Write a cache file atomically (see sitegen.store.files.atomic_write, whose temporary files
    CacheFolder.sweep removes when their writer is gone). `parts` are written one after the other, never
    joined. Raises OSError."""
    atomic_write(path, parts)


class CacheFolder:
    """Named cache files below a site's root. `key` is any marshal-able value the content depends on (the
    settings it was made with, say): a file saved under another key reads as missing."""

    def __init__(self, root: Path):
        self.folder = root / CACHE_DIR

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.cache"

    def read(self, name: str, key: Any = None) -> memoryview | None:
        """The bytes stored under `name` and `key`, checked; None when missing, damaged or foreign."""
        try:
            data = self.path(name).read_bytes()
        except OSError:
            return None
        head = _head(name, key)
        if not data.startswith(head):  # the stamp segment's checksum is part of what is compared
            return None
        try:
            body, end = read_segment(memoryview(data), len(head))
        except Damaged:
            return None
        return body if end == len(data) else None

    def write(self, name: str, data: bytes | memoryview, key: Any = None) -> bool:
        """Store bytes under `name` and `key`; False (and nothing changed) when the folder is not writable:
        a site folder that cannot be written to still builds, only slower."""
        try:
            write_file(self.path(name), [_head(name, key), *segment(data)])
        except OSError:
            return False
        return True

    def load(self, name: str, key: Any = None) -> Any | None:
        body = self.read(name, key)
        if body is None:
            return None
        try:
            return marshal.loads(body)
        except (EOFError, ValueError, TypeError):  # checked, so only a file this code did not write
            return None

    def save(self, name: str, value: Any, key: Any = None) -> bool:
        """Write the file (see write); False also when the value cannot be stored."""
        try:
            body = marshal.dumps(value)
        except ValueError:
            return False
        return self.write(name, body, key)

    def sweep(self) -> int:
        """Remove the temporary files that writers killed in the middle of a write left in the folder, by the
        one rule of sitegen.store.files.remove_leftovers (their process is gone); returns how many."""
        return len(remove_leftovers(self.folder))

    def load_sharded(self, name: str, key: Any = None, unread: set[int] | None = None) -> dict[str, Any]:
        """All entries of a cache kept in shards (see save_sharded); a shard that is missing or unusable
        only means that its entries are not cached (its number is added to `unread`, if given)."""
        entries: dict[str, Any] = {}
        for number in range(SHARDS):
            part = self.load(f"{name}-{number:02d}", key)
            if isinstance(part, dict):
                entries.update(part)
            elif unread is not None:
                unread.add(number)
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


def _head(name: str, key: Any) -> bytes:
    """MAGIC and the stamp segment a file of CacheFolder starts with."""
    return b"".join([MAGIC, *segment(_stamp(name, key))])
