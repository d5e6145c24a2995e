"""The other cores for the heavy, pure loops of a one-shot build: Markdown and page rendering.

A forked child inherits the whole planned site, so nothing is pickled on the way in; it works through its
share and sends the results back through a pipe. Forking is only safe in a process with a single thread (the
child gets only the calling thread, and a lock another thread held stays locked in it forever), so `sitegen
serve`, which runs server and watcher threads, always works serially: its caches make its rebuilds cheap.
Whatever goes wrong in a child (it dies, its share fails), its share is simply done here again: the result is
the same as a serial run's, only slower.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS = 1000  # below this, forking costs more than it saves
MAX_WORKERS = 4


def workers(items: int) -> int:
    """How many processes should share `items` units of work (1: do them here)."""
    if items < MIN_ITEMS or not sys.platform.startswith("linux") or threading.active_count() != 1:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS, items // (MIN_ITEMS // 2)))


def chunks(items: Sequence[T], count: int) -> list[Sequence[T]]:
    """`items` in `count` contiguous, nearly equal slices."""
    size, extra = divmod(len(items), count)
    out, start = [], 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        out.append(items[start:end])
        start = end
    return out


def map_chunks(fn: Callable[[Sequence[T], bool], R], items: Sequence[T]) -> list[R]:
    """[fn(chunk, here) for each chunk of `items`], the first chunk here (here=True), the others in forked
    children when that pays; results in chunk order."""
    count = workers(len(items))
    parts = chunks(items, count) if count > 1 else [items]
    children: list[tuple[int, int] | None] = []
    for part in parts[1:]:
        children.append(_fork(fn, part))
    results = [fn(parts[0], True)]
    for part, child in zip(parts[1:], children, strict=True):
        results.append(_collect(child) if child is not None else _MISSING)
        if results[-1] is _MISSING:
            results[-1] = fn(part, True)
    return results


_MISSING: object = object()


def _fork(fn: Callable[[Sequence[T], bool], R], part: Sequence[T]) -> tuple[int, int] | None:
    try:
        read_end, write_end = os.pipe()
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:  # the child: never returns into the caller's code
        status = 1
        try:
            os.close(read_end)
            data = pickle.dumps(fn(part, False), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(data)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    return pid, read_end


def _collect(child: tuple[int, int]) -> object:
    pid, read_end = child
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()  # read before waiting: a child blocks on a full pipe until it is drained
    _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        return _MISSING
    try:
        return pickle.loads(data)
    except Exception:
        return _MISSING
