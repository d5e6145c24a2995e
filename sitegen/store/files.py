"""The one hash helper and the one atomic writer of sitegen.

Hashes: BLAKE2b, as short as each use needs (`size` bytes), in hex. They are fingerprints of content (of a
file, a page's inputs, the code): never used for security.

Writes: a file is written beside its target under a temporary name and renamed over it, so that a reader sees
the old file or the new one, never half of one; a process killed in between leaves the temporary file, which
names its process (see temp_name). remove_leftovers, the one sweeper of such files, removes them once that
process is gone: the importer calls it on the content folders, the build on its output folder and the cache
on its own.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

#: The longest file name the usual file systems allow, in bytes (NAME_MAX).
NAME_MAX = 255
#: A temporary name: ".<name>.<process id>-<8 hex digits>.tmp" (see temp_name). The cache's writer, before it
#: wrote through atomic_write, put a "." where the "-" is: its leftovers name their process just as well.
_TEMP_NAME = re.compile(r"\..*\.(\d+)[-.][0-9a-f]{8}\.tmp", re.DOTALL)
#: A temporary file older than this is left over whatever process now has the id in its name: no write takes
#: this long, so that process got the id later (ids are reused; in a container every run may have the same).
PID_REUSED_SECONDS = 86_400


def fingerprint(data: bytes, size: int = 16) -> str:
    """A hex fingerprint of `data` (`size` bytes of BLAKE2b)."""
    return hashlib.blake2b(data, digest_size=size).hexdigest()


def text_fingerprint(text: str, size: int = 16) -> str:
    """fingerprint() of a text (lone surrogates of odd file names included)."""
    return fingerprint(text.encode("utf-8", "surrogatepass"), size)


def hasher(size: int = 16) -> hashlib.blake2b:  # type: ignore[name-defined]
    """A hash to feed piece by piece (`update`) that ends in the same kind of fingerprint (`hexdigest`)."""
    return hashlib.blake2b(digest_size=size)


def temp_name(path: Path) -> Path:
    """The temporary file a write of `path` goes through, beside it: ".<name>.<process id>-<8 hex>.tmp". The
    process id tells a later run whether the writer is gone (see remove_leftovers); the name is cut as much as
    the whole must fit in a file name (the random part alone keeps it apart from the target's neighbours')."""
    tail = f".{os.getpid()}-{secrets.token_hex(4)}.tmp"
    name = os.fsencode(path.name)[: NAME_MAX - 1 - len(tail)]  # (a cut character is kept as its bytes)
    return path.with_name(f".{os.fsdecode(name)}{tail}")


def write_new(
    path: Path | str, data: bytes | Iterable[bytes | memoryview], replacing: bool = False
) -> os.stat_result:
    """Write a file that must not exist yet (`data`: its bytes, or parts of them, written one after the other
    rather than joined first); returns its stat (the size and mtime a manifest records). A write that fails
    (a full disk) removes the file again: no half-written file is left behind. `replacing`: the file is
    to be renamed over another (see _allocate)."""
    parts = (data,) if isinstance(data, bytes | bytearray | memoryview) else data
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        try:
            # (Parts still to come, from a generator, are written as they come.)
            if replacing and isinstance(parts, list | tuple):
                _allocate(fd, sum(memoryview(part).nbytes for part in parts))
            for part in parts:
                view = memoryview(part)
                while view:
                    view = view[os.write(fd, view) :]
            return os.fstat(fd)
        finally:
            os.close(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise


def _allocate(fd: int, size: int) -> None:
    """Give the file its blocks before it is written. A file renamed over another has its blocks allocated
    and its writeback started by the rename itself on ext4 (auto_da_alloc: milliseconds for a file of a few
    megabytes, a build's manifest, a cache file), unless they are already there."""
    if size and hasattr(os, "posix_fallocate"):
        with contextlib.suppress(OSError):  # (where the file system cannot: the write says what is wrong)
            os.posix_fallocate(fd, 0, size)


def atomic_write(
    path: Path,
    data: bytes | Iterable[bytes | memoryview],
    durable: bool = False,
    keep_mode: bool = False,
    temp_folder: Path | None = None,
) -> None:
    """Write to a temporary file beside `path`, then rename over it: readers see the old or the new file.
    `data`: the bytes, or parts of them. `durable`: on disk before the rename (a person's file: a crash
    must not leave it empty). `keep_mode`: the new file gets the old one's permissions. `temp_folder`: where
    the temporary file goes instead (on the same file system: a folder that remove_leftovers sweeps, when
    `path` is deep in a tree that nothing sweeps). Raises OSError naming `path`, not the temporary file."""
    temp = temp_name(path) if temp_folder is None else temp_folder / temp_name(path).name
    try:
        try:
            write_new(temp, data, replacing=True)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_new(temp, data, replacing=True)
        if keep_mode:
            with contextlib.suppress(OSError):
                os.chmod(temp, path.stat().st_mode & 0o7777)
        if durable:
            fd = os.open(temp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise about(exc, os.fspath(path)) from None
    try:
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def write_if_changed(path: Path, data: bytes) -> bool:
    """atomic_write(), durable and keeping the file's permissions, unless the file already holds `data`;
    whether it wrote. (For the files a person owns: content pages, digests, records.)"""
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    atomic_write(path, data, durable=True, keep_mode=True)
    return True


def about(exc: OSError, path: str) -> OSError:
    """The same error about `path`, the file the user knows of (not a temporary or staged copy)."""
    return type(exc)(exc.errno, exc.strerror or str(exc), path)


def remove_leftovers(folder: Path | str) -> list[Path]:
    """Remove from `folder` (not below it) the temporary files that writers killed between writing and
    renaming left there (see atomic_write); returns them. The one rule: a regular file with a name that
    temp_name gives goes once its writer is gone (see writer_gone). Never anything through a symbolic link,
    nor the link, nor a folder. A file that cannot be removed stays (no reader reads it) and a folder that
    cannot be listed is passed over: a leftover is never a reason to fail.

    A name without a process id (other programs' temporary files, and those of sitegen's writers before they
    all named their process) is left alone, whatever its age: no test needs an age rule for them, and another
    program's file in a person's folder is no business of sitegen's; an old leftover of sitegen's own is a
    hidden file that nothing reads, to remove by hand."""
    try:
        with os.scandir(folder) as entries:
            found = [(e, m) for e in entries if (m := _TEMP_NAME.fullmatch(e.name)) is not None]
    except OSError:
        return []
    removed: list[Path] = []
    now = time.time()
    for entry, match in found:
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            if writer_gone(int(match.group(1)), entry.stat(follow_symlinks=False).st_mtime, now):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue  # gone meanwhile (renamed by its writer, removed by another run), or not ours to remove
    return removed


def process_folder(parent: Path | str, prefix: str) -> Path:
    """A new private folder in `parent`, named `<prefix><process id>-<random>`: should the process be killed
    outright (kill -9, out of memory) before it removes the folder, the next one to look
    (remove_abandoned_folders) knows it is no one's."""
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent))


def remove_abandoned_folders(parent: Path | str, prefix: str) -> list[Path]:
    """Remove from `parent` the folders process_folder made with `prefix` for processes that are gone; returns
    them. A folder whose process still runs stays however old it is (a server may run for days), and so does
    one whose process id was taken by another process since: the folder then goes on a later look. Never a
    link or anything through one; what cannot be removed (another user's) stays."""
    try:
        with os.scandir(parent) as entries:
            found = [e for e in entries if e.name.startswith(prefix)]
    except OSError:
        return []
    removed: list[Path] = []
    for entry in found:
        pid, dash, _ = entry.name[len(prefix) :].partition("-")
        if not (dash and pid.isdigit()) or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue  # removed meanwhile, or not ours to remove
    return removed


def writer_gone(pid: int, mtime: float, now: float) -> bool:
    """Whether the process `pid` that made a temporary file (or folder) at `mtime` is gone: no process has
    that id, or the file is older than PID_REUSED_SECONDS (the id has been reused). Removing a live writer's
    file by mistake only makes that write fail: a writer never depends on its temporary file staying."""
    return now - mtime > PID_REUSED_SECONDS or not _alive(pid)


def _alive(pid: int) -> bool:
    """Whether a process has the id `pid`; taken as so where it cannot be asked (outside POSIX, os.kill ends
    the process rather than asking whether it runs)."""
    if pid <= 0:
        return False  # no writer has such an id (and os.kill would signal a whole process group)
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except OSError:
        return True  # another user's process
    return True
