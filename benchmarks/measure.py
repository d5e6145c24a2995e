"""Time a command and read its peak memory, the way /usr/bin/time does (wait4's resource usage).

The peak memory (max RSS) the kernel reports for a process also covers the descendants it waited for, as
their maximum, not their sum: a build that runs pagefind reports max(build, pagefind). Process pools are
children too, so a parallel build reports its largest process; `sum_rss` sampling is not attempted here.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Measurement:
    seconds: float
    max_rss_mb: float
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


def measure(
    cmd: Sequence[str | os.PathLike[str]], cwd: Path | None = None, env: dict[str, str] | None = None
) -> Measurement:
    """Run `cmd` to completion: wall time, peak RSS (MB) and CPU time (user + system), children included."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen([os.fspath(c) for c in cmd], cwd=cwd, env=env, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    return Measurement(
        seconds=seconds,
        max_rss_mb=usage.ru_maxrss / 1024,  # kilobytes on Linux
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
            return result, results
    middle = statistics.median_low([r.seconds for r in results])
    chosen = next(r for r in results if r.seconds == middle)
    return chosen, results
