"""Time a command and read its peak memory.

Two memory figures:
- max_rss_mb: what /usr/bin/time reports (wait4's resource usage): the largest single process of the tree.
  The kernel takes the maximum over the waited-for descendants, not their sum, so a build that runs pagefind
  while holding its own memory reports max(build, pagefind).
- peak_total_mb: the largest sum over the whole process tree, sampled every 0.1 s from /proc (PSS when the
  kernel offers smaps_rollup, so pages shared by forked workers count once). This is what the machine must
  hold; it can miss a peak shorter than the sampling interval. 0 where /proc is not available.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Measurement:
    seconds: float
    max_rss_mb: float
    peak_total_mb: float
    cpu_seconds: float
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def tail(self, lines: int = 5) -> str:
        text = (self.stderr.strip() or self.stdout.strip()).splitlines()
        return "\n".join(text[-lines:])


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    todo.extend(int(c) for c in handle.read().split())
        except OSError:
            continue
    return found


def _memory_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * _PAGE // 1024
    except (OSError, IndexError, ValueError):
        return 0


class _TreeSampler(threading.Thread):
    """Samples the summed memory of a process tree until stopped."""

    def __init__(self, pid: int, interval: float = 0.1):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_kb = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        if not os.path.isdir(f"/proc/{self.pid}/task"):
            return
        while not self._stop_event.is_set():
            total = sum(_memory_kb(p) for p in _descendants(self.pid))
            self.peak_kb = max(self.peak_kb, total)
            self._stop_event.wait(self.interval)

    def stop(self) -> float:
        self._stop_event.set()
        self.join()
        return self.peak_kb / 1024


def measure(
    cmd: Sequence[str | os.PathLike[str]], cwd: Path | None = None, env: dict[str, str] | None = None
) -> Measurement:
    """Run `cmd` to completion: wall time, peak RSS (MB) and CPU time (user + system), children included."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen([os.fspath(c) for c in cmd], cwd=cwd, env=env, stdout=out, stderr=err)
        sampler = _TreeSampler(process.pid)
        sampler.start()
        # Reap with wait4 (not Popen.wait) to get the resource usage of the process and its descendants.
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        peak_total = sampler.stop()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    return Measurement(
        seconds=seconds,
        max_rss_mb=usage.ru_maxrss / 1024,  # kilobytes on Linux
        peak_total_mb=max(peak_total, usage.ru_maxrss / 1024),
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        returncode=process.returncode,
        stdout=stdout,
        stderr=stderr,
    )


def repeat(
    runs: int, once: Callable[[], Measurement], before: Callable[[], None] | None = None
) -> tuple[Measurement, list[Measurement]]:
    """Run `once` `runs` times (calling `before` first each time); returns (median run, all runs).

    The median of an odd number of runs is a real run, so its memory and output belong to that run. A failed
    run stops the series and is returned as the result.
    """
    results: list[Measurement] = []
    for _ in range(runs):
        if before:
            before()
        result = once()
        results.append(result)
        if not result.ok:
            break
    return median_run(results), results


def median_run(results: list[Measurement]) -> Measurement:
    """The run with the median time (of an even number, the lower one): a real run, so its memory and
    output belong to it. A failed run, if any, is returned instead."""
    failed = [r for r in results if not r.ok]
    if failed:
        return failed[0]
    middle = statistics.median_low([r.seconds for r in results])
    return next(r for r in results if r.seconds == middle)
