"""The one hash helper and the one atomic writer of sitegen.

Hashes: BLAKE2b, as short as each use needs (`size` bytes), in hex. They are fingerprints of content (of a
file, a page's inputs, the code): never used for security.

Writes: a file is written beside its target under a temporary name and renamed over it, so that a reader sees
the old file or the new one, never half of one; a process killed in between leaves the temporary file, which
names its process (see sitegen.build.output.remove_leftovers).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Sequence
from pathlib import Path


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
    # The process id tells a later run whether the writer is gone (see output.remove_leftovers).
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")


def write_new(path: Path | str, data: bytes | Sequence[bytes | memoryview]) -> os.stat_result:
    """Write a file that must not exist yet (`data`: its bytes, or parts of them, written one after the other
    rather than joined first); returns its stat (the size and mtime a manifest records). A write that fails
    (a full disk) removes the file again: no half-written file is left behind."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        try:
            for part in (data,) if isinstance(data, bytes | bytearray | memoryview) else data:
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


def atomic_write(
    path: Path, data: bytes | Sequence[bytes | memoryview], durable: bool = False, keep_mode: bool = False
) -> None:
    """Write to a temporary file beside `path`, then rename over it: readers see the old or the new file.
    `data`: the bytes, or parts of them. `durable`: on disk before the rename (a person's file: a crash
    must not leave it empty). `keep_mode`: the new file gets the old one's permissions. Raises OSError
    naming `path`, not the temporary file."""
    temp = temp_name(path)
    try:
        try:
            write_new(temp, data)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_new(temp, data)
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
