"""`sitegen serve --watch` end to end over HTTP: real server, real files, real watcher, the site's builder."""

from __future__ import annotations

import html
import http.client
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import REPO, alive, paper, slow_pagefind, write_site

from sitegen.build.builder import Superseded
from sitegen.serve.session import Preview, site_builder


def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


class Recorder:
    """Wraps the builder factory to see what each rebuild was told."""

    def __init__(self) -> None:
        self.changed: list[set[Path] | None] = []

    def __call__(self, root: Path, out_dir: Path, base_url: str):
        builder = site_builder(root, out_dir, base_url)
        recorder = self

        class Recording:
            def build(self, changed=None, stop=None):
                recorder.changed.append(None if changed is None else set(changed))
                return builder.build(changed=changed, stop=stop)

        return Recording()


SITE = {
    "content/papers/alpha.md": paper("alpha", "Alpha Paper", "Alpha abstract.", digests="[2026-03-13]"),
    "content/papers/beta.md": paper("beta", "Beta Paper", "Beta abstract.", digests="[2026-03-13]"),
}


@pytest.fixture
def preview(tmp_path):
    """start(files) -> (Preview, root, logs) with the site's real builder, watching."""
    running: list[Preview] = []

    def start(files: dict[str, str] = SITE, watch: bool = True, recorder=None):
        root = write_site(tmp_path / "site", files)
        logs: list[str] = []
        p = Preview(root, port=0, watch=watch, log=logs.append, make_builder=recorder or site_builder)
        p.__enter__()
        running.append(p)
        return p, root, logs

    yield start
    for p in running:
        p.close()


class EventStream:
    """Reads one page's live-reload stream in the background."""

    def __init__(self, base: str, page: str, token: str, file: str):
        host, port = base.split("//")[1].strip("/").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=60)
        self.conn.request("GET", f"/__sitegen/events?since={token}&file={file}&path={page}")
        self.response = self.conn.getresponse()
        self.events: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for raw in self.response:
                line = raw.decode().strip()
                if line.startswith("event: "):
                    self.events.append(line[7:])
        except OSError:
            pass

    def close(self) -> None:
        self.conn.close()


def token_of(page: str) -> str:
    return re.search(r'data-since="([^"]+)"', page).group(1)


def test_edit_rebuilds_the_page_and_reloads_only_pages_showing_it(preview):
    recorder = Recorder()
    p, root, logs = preview(recorder=recorder)
    status, page = get(p.url + "papers/alpha/")
    assert status == 200 and "Alpha abstract." in page
    assert "data-sitegen-livereload" in page
    assert "data-sitegen-livereload" not in (p.out_dir / "papers/alpha/index.html").read_text()
    token = token_of(page)
    alpha = EventStream(p.url, "/papers/alpha/", token, "papers/alpha/index.html")
    beta = EventStream(p.url, "/papers/beta/", token, "papers/beta/index.html")
    try:
        source = root / "content/papers/alpha.md"
        source.write_text(paper("alpha", "Alpha Paper", "Rewritten abstract.", digests="[2026-03-13]"))
        wait_for(lambda: "reload" in alpha.events, what="the reload event")
        assert "Rewritten abstract." in get(p.url + "papers/alpha/")[1]
        wait_for(lambda: "generation" in beta.events, what="the generation event")
        assert "reload" not in beta.events  # beta's page did not change
    finally:
        alpha.close()
        beta.close()
    assert recorder.changed[0] is None  # the first build is a full one
    assert recorder.changed[-1] == {source}
    assert any(line.startswith("rebuilt in ") and "alpha.md" in line for line in logs)


def test_an_edit_reloads_the_paper_page_before_the_lists_that_show_it(preview):
    """The edited paper's open page is made and reloaded on its own, before the open lists that show the
    paper: the browser loads the page looked at first, not alongside every list."""
    p, root, _logs = preview()
    token = token_of(get(p.url + "papers/alpha/")[1])
    alpha = EventStream(p.url, "/papers/alpha/", token, "papers/alpha/index.html")
    home = EventStream(p.url, "/", token, "index.html")
    try:
        wait_for(lambda: {"papers/alpha/index.html", "index.html"} <= p.live.open_files(), what="the tabs")
        before = p.live.current.number
        source = root / "content/papers/alpha.md"
        source.write_text(paper("alpha", "Alpha Renamed", "Alpha abstract.", digests="[2026-03-13]"))
        wait_for(lambda: "reload" in alpha.events and "reload" in home.events, what="both reloads")
        made = [g.changed for g in list(p.live._history) if g.number > before]
        paper_first = next(i for i, files in enumerate(made) if "papers/alpha/index.html" in files)
        list_first = next(i for i, files in enumerate(made) if "index.html" in files)
        assert made[paper_first] == {"papers/alpha/index.html"}
        assert paper_first < list_first
        assert "Alpha Renamed" in get(p.url)[1]
    finally:
        alpha.close()
        home.close()


class SlowBuilds:
    """The site's builder, each incremental build of which takes a while first (a large site's), asking its
    `stop` meanwhile as the builder does between its steps."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.changed: list[set[Path] | None] = []
        self.given_up = 0

    def __call__(self, root: Path, out_dir: Path, base_url: str):
        builder = site_builder(root, out_dir, base_url)
        slow = self

        class Slow:
            @property
            def write_guard(self):
                return builder.write_guard

            @write_guard.setter
            def write_guard(self, guard):
                builder.write_guard = guard  # (the session's lock: a builder that stays, and previews)

            def preview(self, changed, files):
                return builder.preview(changed, files)

            def build(self, changed=None, stop=None):
                slow.changed.append(None if changed is None else set(changed))
                deadline = time.monotonic() + (slow.seconds if changed else 0)
                while time.monotonic() < deadline:
                    if stop is not None and stop():
                        slow.given_up += 1
                        raise Superseded
                    time.sleep(0.01)
                return builder.build(changed=changed, stop=stop)

        return Slow()


def test_an_edit_during_a_build_is_shown_without_waiting_for_it(preview):
    """A second edit that comes while the build of the first runs has its page made and reloaded at once:
    that build is given up, and the one that follows makes both edits."""
    slow = SlowBuilds(seconds=3.0)
    p, root, _logs = preview(recorder=slow)
    token = token_of(get(p.url + "papers/beta/")[1])
    beta = EventStream(p.url, "/papers/beta/", token, "papers/beta/index.html")
    try:
        wait_for(lambda: "papers/beta/index.html" in p.live.open_files(), what="the tab")
        alpha, beta_md = root / "content/papers/alpha.md", root / "content/papers/beta.md"
        alpha.write_text(paper("alpha", "Alpha Paper", "Alpha, edited first.", digests="[2026-03-13]"))
        wait_for(lambda: len(slow.changed) == 2, what="the first edit's build")
        started = time.monotonic()
        beta_md.write_text(paper("beta", "Beta Paper", "Beta, edited second.", digests="[2026-03-13]"))
        wait_for(lambda: "reload" in beta.events, what="the reload of the second edit")
        assert time.monotonic() - started < 2.0, (slow.changed, slow.given_up)  # not after the first build
        assert "Beta, edited second." in get(p.url + "papers/beta/")[1]
        wait_for(lambda: "Alpha, edited first." in get(p.url + "papers/alpha/")[1], what="the build")
    finally:
        beta.close()
    assert slow.given_up == 1
    assert slow.changed[1] == {alpha} and slow.changed[2] == {alpha, beta_md}


def test_broken_yaml_shows_the_error_over_the_page_until_fixed(preview):
    p, root, logs = preview()
    source = root / "content/papers/alpha.md"
    source.write_text('---\ntitle: "Alpha Paper\nslug: alpha\n---\nAbstract.\n')
    line = wait_for(lambda: next((x for x in logs if "alpha.md:" in x), None), what="the error line")
    assert re.search(r"alpha\.md:\d+:\d+: ", line)
    status, page = get(p.url + "papers/alpha/")
    assert status == 200 and "Alpha abstract." in page  # the last good build is still served
    assert 'id="sitegen-error-overlay"' in page and html.escape(line) in page
    source.write_text(paper("alpha", "Alpha Paper", "Fixed abstract.", digests="[2026-03-13]"))
    wait_for(lambda: "Fixed abstract." in get(p.url + "papers/alpha/")[1], what="the fixed page")
    assert "sitegen-error-overlay" not in get(p.url + "papers/alpha/")[1]


def test_deleted_and_renamed_papers_lose_their_pages(preview):
    p, root, _ = preview()
    (root / "content/papers/beta.md").unlink()
    wait_for(lambda: get(p.url + "papers/beta/")[0] == 404, what="beta's 404")
    _, page = get(p.url + "papers/beta/")
    assert "data-sitegen-livereload" in page  # a 404 page reloads too, e.g. when the paper comes back
    os.replace(root / "content/papers/alpha.md", root / "content/papers/gamma.md")
    assert get(p.url + "papers/alpha/")[0] == 200  # same slug: same page
    (root / "content/papers/gamma.md").write_text(paper("gamma", "Gamma Paper", digests="[2026-03-13]"))
    wait_for(lambda: get(p.url + "papers/gamma/")[0] == 200, what="gamma's page")
    wait_for(lambda: get(p.url + "papers/alpha/")[0] == 404, what="alpha's 404")


def test_a_broken_template_is_reported_and_the_server_survives(preview):
    p, root, logs = preview()
    template = root / "templates" / "paper.html"
    template.parent.mkdir(exist_ok=True)
    template.write_text('{% extends "base.html" %}{% block content %}{% if %}{% endblock %}')
    wait_for(lambda: any(re.search(r"paper\.html:\d+", x) for x in logs), what=f"the template error {logs}")
    status, page = get(p.url + "papers/alpha/")
    assert status == 200 and "sitegen-error-overlay" in page
    template.unlink()
    wait_for(lambda: "sitegen-error-overlay" not in get(p.url + "papers/alpha/")[1], what="the fix")


def test_bad_settings_at_start_do_not_stop_the_server(preview):
    p, root, logs = preview({**SITE, "sitegen.yaml": "per_page: lots\n"})
    assert any("sitegen.yaml:1:11: " in line for line in logs)
    status, page = get(p.url)
    assert status == 404 and "sitegen-error-overlay" in page and "per_page" in page
    (root / "sitegen.yaml").write_text("per_page: 10\n")
    wait_for(lambda: get(p.url)[0] == 200, what="the site after the fix")
    assert "sitegen-error-overlay" not in get(p.url)[1]


def test_static_file_change_is_copied(preview):
    p, root, _ = preview({**SITE, "static/notes.txt": "one\n"})
    assert get(p.url + "notes.txt") == (200, "one\n")
    (root / "static/notes.txt").write_text("two\n")
    wait_for(lambda: get(p.url + "notes.txt") == (200, "two\n"), what="the copied static file")


def test_without_watch_nothing_is_injected_but_errors(preview):
    p, _, _ = preview(watch=False)
    status, page = get(p.url + "papers/alpha/")
    assert status == 200 and "data-sitegen-livereload" not in page


def test_the_folder_of_a_server_killed_outright_goes_when_the_next_one_starts(tmp_path, preview):
    root = write_site(tmp_path / "site", SITE)
    temp = Path(os.environ.get("TMPDIR", "/tmp"))
    before = set(temp.glob("sitegen-serve-*"))
    process = subprocess.Popen(
        [sys.executable, "-m", "sitegen", "serve", "--root", str(root), "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        wait_for(lambda: "serving" in process.stderr.readline(), what="the first server")
        left = set(temp.glob("sitegen-serve-*")) - before
        assert len(left) == 1 and next(iter(left)).name.startswith(f"sitegen-serve-{process.pid}-")
    finally:
        process.kill()  # (kill -9: no cleanup of its own)
        process.wait()
    assert all(folder.is_dir() for folder in left)
    p, _root, _logs = preview()
    assert not any(folder.exists() for folder in left)
    assert p.out_dir.is_dir()


def test_ctrl_c_stops_cleanly(tmp_path):
    """Ctrl-C stops the server, removes its output folder and stops a search refresh under way: no
    Pagefind is left behind, writing into the removed folder."""
    root = write_site(tmp_path / "site", SITE)
    pagefind, pid_file = slow_pagefind(tmp_path)
    temp = Path(os.environ.get("TMPDIR", "/tmp"))
    before = set(temp.glob("sitegen-serve-*"))
    process = subprocess.Popen(
        [sys.executable, "-m", "sitegen", "serve", "--root", str(root), "--port", "0", "--watch"],
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PAGEFIND_BINARY_PATH": str(pagefind)},
        # Ctrl-C as a terminal sends it, even when the tests run as a background job (whose shell makes it
        # ignore SIGINT, as its children would).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        url = None
        lines = []
        for line in process.stderr:
            lines.append(line)
            if match := re.search(r"at (http://\S+) ", line):
                url = match.group(1)
                break
        assert url, lines
        assert get(url + "papers/alpha/")[0] == 200
        out_dirs = set(temp.glob("sitegen-serve-*")) - before
        assert len(out_dirs) == 1
        # The search refresh that follows the first build is under way (Pagefind has started).
        wait_for(pid_file.exists, what="the search refresh")
        process.send_signal(signal.SIGINT)
        assert process.wait(20) == 0
        assert "stopped" in process.stderr.read()
        assert not alive(int(pid_file.read_text()))
        assert not any(d.exists() for d in out_dirs)
    finally:
        if process.poll() is None:
            process.kill()
        if pid_file.exists() and alive(pid := int(pid_file.read_text())):
            os.kill(pid, signal.SIGKILL)  # (what the test found left behind)
