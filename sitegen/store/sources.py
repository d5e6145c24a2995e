"""Reading the files a site is made from: regular files only, and only up to a bound.

Every content file (pages, taxonomy, digest records), the settings file and every template is read through
read_source, so that no path can make a run hang or exhaust memory: a FIFO named `x.md` would block a plain
open() until something writes to it, and a page linked to /dev/zero would be read without end. A file that is
refused raises OSError, whose `strerror` completes "cannot read: ..." (the form every caller reports).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: The most sitegen reads from one content file, settings file or template. A page is an abstract and the
#: curator's notes, a few kilobytes; this leaves room for a thousand times that, while a file made by mistake
#: or by an attacker (a log, a dump, a link to a device) is refused before it fills memory.
MAX_SOURCE_BYTES = 4 * 1024 * 1024

_CHUNK = 1 << 16  # what is read at a time of a file that grew after its size was taken

_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def refusal(path: str | Path, mode: int) -> OSError:
    """The error for a path that is not a regular file (`mode`: its st_mode)."""
    if stat.S_ISDIR(mode):
        return OSError(errno.EISDIR, "a folder, not a file", os.fspath(path))
    message = f"{_kind(mode)}, not a regular file (sitegen reads only regular files)"
    return OSError(errno.EINVAL, message, os.fspath(path))


@contextmanager
def open_regular(path: str | Path) -> Iterator[tuple[int, os.stat_result]]:
    """An open file descriptor of `path` and its stat, if it is a regular file; raises OSError otherwise.

    O_NONBLOCK makes opening a FIFO return at once instead of waiting for a writer (and does nothing to a
    regular file); the type is then checked on the open file itself, so that nothing can swap the path between
    a check and the read. Symbolic links are followed: their target is what must be a regular file."""
    fd = os.open(path, _OPEN_FLAGS)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise refusal(path, st.st_mode)
        yield fd, st  # (O_NONBLOCK does nothing to a regular file: no need to clear it)
    finally:
        os.close(fd)


def too_large(path: str | Path, limit: int) -> OSError:
    return OSError(
        errno.EFBIG,
        f"larger than {limit // (1024 * 1024)} MiB, the most sitegen reads from one file",
        os.fspath(path),
    )


def read_source(path: str | Path, limit: int = MAX_SOURCE_BYTES) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file of at most `limit` bytes, and its stat (taken from the open file). Raises
    OSError for anything else (see the module docstring)."""
    with open_regular(path) as (fd, st):
        if st.st_size > limit:
            raise too_large(path, limit)
        chunks: list[bytes] = []
        size = 0
        # To the end rather than st_size bytes (the file may grow meanwhile), but never more than the limit.
        want = st.st_size + 1
        while size <= limit and (chunk := os.read(fd, want)):
            chunks.append(chunk)
            size += len(chunk)
            want = min(limit + 1 - size, _CHUNK)
        if size > limit:
            raise too_large(path, limit)
        return b"".join(chunks), st


def read_bytes(path: str | Path, limit: int = MAX_SOURCE_BYTES) -> bytes:
    """read_source without the stat."""
    return read_source(path, limit)[0]


class NotUTF8(ValueError):
    """Bytes that are not UTF-8 text; `line` and `col` (1-based) are where the first bad byte is."""

    def __init__(self, byte: int, line: int, col: int):
        self.message = f"not UTF-8 text (byte 0x{byte:02x}); save the file as UTF-8"
        super().__init__(self.message)
        self.line, self.col = line, col


def decode_utf8(data: bytes) -> str:
    """UTF-8 bytes as text. Raises NotUTF8 with the position of the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        col = len(data[line_start : exc.start].decode("utf-8")) + 1  # (valid: the first bad byte is later)
        raise NotUTF8(data[exc.start], line, col) from None


def cannot_read(exc: OSError) -> str:
    """The message for a file that could not be read: "cannot read: <why>"."""
    return f"cannot read: {exc.strerror or exc}"
