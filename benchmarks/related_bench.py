"""Time related papers on a generated corpus: cold, no change, one edit, after a reload from the cache file.

    python benchmarks/corpus.py 10000 /tmp/c10k        # make a corpus (once)
    python benchmarks/related_bench.py /tmp/c10k [--limit N]

Prints CPU seconds (process time: what the stage costs, whatever else the machine is doing) and wall seconds,
the cache file size, and the peak memory of the cold computation. The results of every fast path are checked
against a cold computation. A line calibrates the machine: the same loop takes ~12 ms on a 2020s laptop core.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import sys
import tempfile
import time
import timeit
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO))

from sitegen.config import load_config  # noqa: E402
from sitegen.content.model import load_site  # noqa: E402
from sitegen.content.related import RelatedIndex, related_papers  # noqa: E402
from sitegen.errors import Report  # noqa: E402


def timed(label: str, action):
    cpu, wall = time.process_time(), time.perf_counter()
    result = action()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"  {label:<44} cpu {cpu:7.3f} s   wall {wall:7.3f} s")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", type=Path, help="a site folder (content/papers/*.md)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N papers")
    args = parser.parse_args(argv)

    calibration = min(timeit.repeat("sum(range(10**6))", number=1, repeat=5))
    print(f"calibration: sum(range(10**6)) takes {calibration * 1000:.0f} ms here")
    site = load_site(args.root, load_config(args.root, {}), Report())
    papers = site.papers[: args.limit] if args.limit else site.papers
    words = sum(len(p.abstract.split()) for p in papers)
    print(f"{len(papers)} papers, {words / max(len(papers), 1):.0f} abstract words on average")

    cold = timed("cold related_papers()", lambda: related_papers(papers))

    index = RelatedIndex()
    index.update(papers)
    timed("in memory, nothing changed", lambda: index.update(papers))
    middle = len(papers) // 2
    edited = list(papers)
    edited[middle] = dataclasses.replace(
        papers[middle], body=papers[middle].body + " Graph networks for proteins."
    )
    result = timed("in memory, one abstract edited", lambda: index.update(edited))
    print(f"  {'':<44} recomputed {index.stats}")
    assert result == related_papers(edited), "incremental result differs from a cold one"
    index.update(papers)

    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder) / "related.bin"
        timed("save the cache", lambda: index.save(cache))
        print(f"  {'':<44} cache file {cache.stat().st_size / 1e6:.1f} MB")
        loaded = timed("load + nothing changed", lambda: RelatedIndex.load(cache).update(papers))
        assert loaded == cold
        again = RelatedIndex.load(cache)
        result = timed("load + one abstract edited", lambda: again.update(edited))
        print(f"  {'':<44} recomputed {again.stats}")
        assert result == related_papers(edited)
        fewer = papers[:-1]
        timed("load + one paper removed (all vectors anew)", lambda: RelatedIndex.load(cache).update(fewer))

    tracemalloc.start()  # after the timings: tracing slows Python down severalfold
    related_papers(papers)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak traced memory of the cold run {peak / 1e6:.0f} MB; process peak RSS {rss:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
