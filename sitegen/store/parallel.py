"""The other cores for the heavy, pure work of a one-shot build: Markdown, page rendering, related papers.

A forked child inherits the whole planned site, so nothing is pickled on the way in; it works through its
share and sends the results back through a pipe. Forking is only safe in a process with a single thread (the
child gets only the calling thread, and a lock another thread held stays locked in it forever), so `sitegen
serve`, which runs server and watcher threads, always works serially: its caches make its rebuilds cheap.
Whatever goes wrong in a child (it dies, its share fails), its share is simply done here again: the result is
the same as a serial run's, only slower.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import os
import pickle
import select
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS = 1000  # below this, forking costs more than it saves
MAX_WORKERS = 4


def workers(items: int, reserved: int = 0) -> int:
    """How many processes should share `items` units of work (1: do them here), with `reserved` cores busy
    with other work of this build (a `Job` still running): more processes than cores would only slow down
    that other work, which may be what the build waits for next."""
    if items < MIN_ITEMS or not sys.platform.startswith("linux") or threading.active_count() != 1:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus - reserved, MAX_WORKERS, items // (MIN_ITEMS // 2)))


def chunks(items: Sequence[T], count: int, weights: Sequence[int] | None = None) -> list[Sequence[T]]:
    """`items` in `count` contiguous slices of nearly equal size, or of nearly equal total weight."""
    if weights is None:
        size, extra = divmod(len(items), count)
        bounds = list(itertools.accumulate([size + (1 if i < extra else 0) for i in range(count)]))
    else:
        total, running = sum(weights), list(itertools.accumulate(weights))
        bounds = [bisect.bisect_left(running, total * (i + 1) / count) + 1 for i in range(count - 1)]
        bounds.append(len(items))
    out, start = [], 0
    for end in bounds:
        end = max(start, min(end, len(items)))
        out.append(items[start:end])
        start = end
    return out


def map_chunks(
    fn: Callable[[Sequence[T], bool], R],
    items: Sequence[T],
    reserved: int = 0,
    weights: Sequence[int] | None = None,
) -> list[R]:
    """[fn(chunk, here) for each chunk of `items`], the first chunk here (here=True), the others in forked
    children when that pays (see `workers` for `reserved`); results in chunk order. `weights`: the work of
    each item, in units of work (the default: one each), for items as unequal as a list of ten thousand
    papers and one of ten."""
    count = workers(sum(weights) if weights is not None else len(items), reserved)
    parts = chunks(items, count, weights) if count > 1 else [items]
    children: list[_Child | None] = []
    for part in parts[1:]:
        children.append(_fork(lambda part=part: fn(part, False)))
    results = [fn(parts[0], True)]
    for part, child in zip(parts[1:], children, strict=True):
        value = child.collect() if child is not None else _MISSING
        if child is not None:
            child.wait()
        results.append(fn(part, True) if value is _MISSING else value)  # type: ignore[arg-type]
    return results


class Job(Generic[R]):
    """fn() running in a forked child (see `start`). result() waits for its value; wait() for the child to
    end (it may go on with `after` once its value is sent)."""

    def __init__(self, fn: Callable[[], R], child: _Child | None):
        self._fn = fn
        self._child = child
        self._value: object = _MISSING
        self._owner = os.getpid()

    @property
    def forked(self) -> bool:
        return self._child is not None

    @property
    def running(self) -> bool:
        """Whether a child is still working on the value (it has not started to send it)."""
        if os.getpid() != self._owner:
            return False
        return self._value is _MISSING and self._child is not None and not self._child.ready()

    def result(self) -> R:
        if self._value is _MISSING and self._child is not None and os.getpid() == self._owner:
            # (A process forked from the owner must not read the pipe: the value is the owner's. It
            # computes the value itself below, which gives the same result.)
            self._value = self._child.collect()
        if self._value is _MISSING:
            self._value = self._fn()  # never forked, or the child failed: do it here
        return self._value  # type: ignore[return-value]

    def wait(self) -> None:
        if self._child is not None:
            self._child.wait()


def start(fn: Callable[[], R], items: int, after: Callable[[], object] | None = None) -> Job[R]:
    """Run fn() in a forked child while this process goes on, when forking is allowed here and the work is
    large (`items` units); otherwise fn runs here when result() is asked for. The value comes back pickled,
    so what fn changes in its own memory stays in the child; the child then runs `after` (saving what it
    computed, say) while this process uses the value. Call wait() before the process ends."""
    child = _fork(fn, after) if workers(items) > 1 else None
    return Job(fn, child)


_MISSING: object = object()


class _Child:
    def __init__(self, pid: int, read_end: int):
        self.pid = pid
        self._read_end: int | None = read_end
        self._ended = False

    def ready(self) -> bool:
        """Whether the value (or the end of a failed child) can be read without waiting."""
        if self._read_end is None:
            return True
        return bool(select.select([self._read_end], [], [], 0)[0])

    def collect(self) -> object:
        """The child's value, or _MISSING if it failed."""
        if self._read_end is None:
            return _MISSING
        read_end, self._read_end = self._read_end, None
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()  # read before waiting: a child blocks on a full pipe until it is drained
        if not data:
            return _MISSING
        try:
            return pickle.loads(data)
        except Exception:
            return _MISSING

    def wait(self) -> None:
        if self._read_end is not None:
            # Drained, not just closed: a child forked after this one holds a copy of the read end, so closing
            # ours would leave this child blocked on a full pipe for as long as that one lives; and that one
            # may be blocked the same way, on a pipe whose value this process has not read yet.
            read_end, self._read_end = self._read_end, None
            with os.fdopen(read_end, "rb") as pipe:
                while pipe.read(1 << 20):
                    pass
        if not self._ended:
            self._ended = True
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)


def _fork(fn: Callable[[], object], after: Callable[[], object] | None = None) -> _Child | None:
    try:
        read_end, write_end = os.pipe()
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:  # the child: never returns into the caller's code
        status = 1
        try:
            os.close(read_end)
            data = pickle.dumps(fn(), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(data)
            status = 0
            if after is not None:
                after()
        finally:
            os._exit(status)
    os.close(write_end)
    return _Child(pid, read_end)
