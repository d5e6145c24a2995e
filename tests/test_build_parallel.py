"""Large one-shot builds share Markdown and rendering among forked processes, with a serial build's output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import paper, wait_for, write_site

from sitegen.build import BuildOptions, build_site, views
from sitegen.store import parallel


def test_map_chunks_keeps_order():
    items = list(range(2500))
    results = parallel.map_chunks(lambda share, here: [x * 2 for x in share], items)
    assert [x for part in results for x in part] == [x * 2 for x in items]
    if len(os.sched_getaffinity(0)) > 1:
        assert len(results) > 1  # the work was shared


def test_chunks_by_weight_share_the_work_not_the_count():
    # One list of a thousand papers and a hundred of ten: two shares of about the same work.
    weights = [1000] + [10] * 100
    first, second = parallel.chunks(list(range(101)), 2, weights)
    assert list(first) + list(second) == list(range(101))
    assert list(first) == [0]  # (1000 of the 2000 units)
    assert [list(c) for c in parallel.chunks(list(range(10)), 3)] == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    # Few items, much work: shared (when the machine has the cores); results in order.
    results = parallel.map_chunks(lambda share, here: list(share), list(range(40)), weights=[100] * 40)
    assert [x for part in results for x in part] == list(range(40))
    if len(os.sched_getaffinity(0)) > 1:
        assert len(results) > 1


def test_a_failing_child_share_is_redone_here():
    pid = os.getpid()

    def share(items, here):
        if os.getpid() != pid:
            raise RuntimeError("a child fails")
        return list(items)

    results = parallel.map_chunks(share, list(range(3000)))
    assert [x for part in results for x in part] == list(range(3000))


def test_no_forking_from_a_threaded_process():
    seen = []
    thread = threading.Thread(target=lambda: seen.append(parallel.workers(10**6)))
    thread.start()
    thread.join()
    assert seen == [1]
    assert parallel.workers(parallel.MIN_ITEMS - 1) == 1


def test_cores_reserved_for_a_running_job_are_left_to_it(tmp_path):
    cpus = len(os.sched_getaffinity(0))
    assert parallel.workers(10**6) == min(cpus, parallel.MAX_WORKERS)
    assert parallel.workers(10**6, reserved=cpus - 1) == 1
    assert parallel.workers(10**6, reserved=cpus) == 1  # never fewer than this process
    if cpus < 2:
        pytest.skip("one core: a job is never forked")
    go = tmp_path / "go"

    def slow() -> int:
        while not go.exists():
            time.sleep(0.01)
        return 42

    job = parallel.start(slow, parallel.MIN_ITEMS)
    assert job.forked
    assert job.running
    go.touch()
    wait_for(lambda: not job.running, what="the forked job's end")
    assert job.result() == 42
    job.wait()
    assert not parallel.start(lambda: 1, 1).running  # not forked: it runs when asked for


def test_jobs_whose_values_were_never_read_end_when_waited_for():
    """A build that stops early (an error in the content) waits for its jobs without reading their values.
    Each child's value fills its pipe, and the child forked second holds a copy of the first one's pipe: the
    first must still end, and so the second. (In another process, so that a hang fails the test.)"""
    code = (
        "from sitegen.store import parallel\n"
        "big = parallel.MIN_ITEMS * 4\n"
        "first = parallel.start(lambda: b'x' * 1_000_000, big)\n"
        "second = parallel.start(lambda: b'y' * 1_000_000, big)\n"
        "assert first.forked and second.forked\n"
        "first.wait()\n"
        "second.wait()\n"
    )
    if parallel.workers(parallel.MIN_ITEMS * 4) == 1:
        pytest.skip("one core: nothing forks")
    run = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    try:
        assert run.wait(timeout=60) == 0
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
        pytest.fail("the jobs never ended: each child blocked on a full pipe")


def big_site(tmp_path: Path) -> Path:
    """A site with enough papers that a one-shot build forks."""
    files = {"content/taxonomy.yaml": "tags:\n- slug: t0\n  name: Tag zero\n"}
    for i in range(parallel.MIN_ITEMS + 200):
        body = f"Abstract {i} on topic{i % 7}, code at https://github.com/o/r{i}, *em*.\n\n## Note\n\nText."
        files[f"content/papers/p{i}.md"] = paper(
            f"p{i}", f"Paper {i} on topic{i % 7}", body, digests=f"[2026-03-{10 + i % 5}]", tags=f"[t{i % 3}]"
        )
    return write_site(tmp_path / "site", files)


@pytest.mark.slow
def test_parallel_build_equals_serial_build(tmp_path):
    root = big_site(tmp_path)

    def build(out: Path) -> None:
        result = build_site(root, BuildOptions(out=out, search=False))
        assert not result.failed, result.report.diagnostics

    build(tmp_path / "parallel")  # main thread: shared among processes
    thread = threading.Thread(target=build, args=(tmp_path / "serial",))  # a thread: never forks
    thread.start()
    thread.join()
    a = {p.relative_to(tmp_path / "parallel"): p.read_bytes() for p in (tmp_path / "parallel").rglob("*.*ml")}
    b = {p.relative_to(tmp_path / "serial"): p.read_bytes() for p in (tmp_path / "serial").rglob("*.*ml")}
    assert len(a) > parallel.MIN_ITEMS
    assert a == b


@pytest.mark.slow
def test_forked_checks_of_inputs_and_output_find_what_changed(tmp_path):
    """With over MIN_ITEMS files, other processes look at the inputs and at the files of the last build: an
    output file touched by hand is made again, an edited page is seen, and nothing else is."""
    root = big_site(tmp_path)
    out = tmp_path / "out"
    assert not build_site(root, BuildOptions(out=out, search=False)).failed
    before = {p: p.read_bytes() for p in out.rglob("*.*ml")}
    (out / "papers/p7/index.html").write_text("edited by hand")
    (out / "tags/t1/index.html").unlink()
    result = build_site(root, BuildOptions(out=out, search=False))
    assert sorted(result.written) == ["papers/p7/index.html", "tags/t1/index.html"]
    assert {p: p.read_bytes() for p in out.rglob("*.*ml")} == before
    page = root / "content/papers/p9.md"
    page.write_text(page.read_text().replace("Abstract 9 ", "Abstract nine "))
    result = build_site(root, BuildOptions(out=out, search=False))
    assert "papers/p9/index.html" in result.written
    assert b"Abstract nine" in (out / "papers/p9/index.html").read_bytes()
    past = time.time_ns() - 10**10  # old enough to be trusted by identity
    for file in root.rglob("*"):
        os.utime(file, ns=(past, past))
    touched = build_site(root, BuildOptions(out=out, search=False))
    assert touched.timings.keys() != {"load"} and touched.rendered == 0  # looked at again, the same
    again = build_site(root, BuildOptions(out=out, search=False))
    assert again.rendered == 0 and again.written == [] and again.timings.keys() == {"load"}


@pytest.mark.slow
def test_a_first_build_shared_among_processes_keeps_every_paper_s_texts(tmp_path, monkeypatch):
    """A first build large enough to fork saves the papers' rendered Markdown in a process of its own, beside
    the other caches: the build after an abstract edit renders the edited paper's Markdown alone, though the
    lists it makes again show hundreds of papers."""
    root = big_site(tmp_path)
    out = tmp_path / "out"
    assert not build_site(root, BuildOptions(out=out, search=False)).failed
    rendered: list[str] = []
    render_texts = views.render_texts
    monkeypatch.setattr(views, "render_texts", lambda p, md: rendered.append(p.slug) or render_texts(p, md))
    page = root / "content/papers/p9.md"
    page.write_text(page.read_text().replace("Abstract 9 ", "Abstract nine "))
    result = build_site(root, BuildOptions(out=out, search=False))
    assert not result.failed, result.report.diagnostics
    assert "digests/2026-03-14/index.html" in result.written  # (240 papers)
    assert rendered == ["p9"]
