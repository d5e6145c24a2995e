"""Shared test helpers: write a mini-site from a dict, run the CLI in-process and capture its output."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import settings

from sitegen.cli import main

# Property tests draw new examples on every run; CI (HYPOTHESIS_PROFILE=ci, see .ci/run) draws the same ones
# every time, so that whether a commit lands never depends on luck. A failure found locally is fixed and kept
# as an example or a test of its own.
settings.register_profile("ci", derandomize=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

T = TypeVar("T")

REPO = Path(__file__).resolve().parent.parent
#: The four sample digests, kept in the repository itself: the suite runs on a clone with nothing beside it.
SEEDS = REPO / "content" / "digests"


def wait_for(predicate: Callable[[], T], timeout: float = 20.0, what: str = "condition") -> T:
    """Poll `predicate` until it returns something true, and return that; fail after `timeout` seconds.
    (For what another thread or process does: a test never sleeps for a fixed time instead.)"""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def write_site(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write `{"content/papers/a.md": "..."}` below root; str values are dedented and stored as UTF-8."""
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(textwrap.dedent(data).lstrip("\n"), encoding="utf-8")
    return root


def paper(slug: str, title: str | None = None, body: str = "An abstract.", **fields: str) -> str:
    """A well-formed paper page; extra fields are given as raw YAML text."""
    lines = ["---", f'title: "{title or slug.replace("-", " ").title()}"', f"slug: {slug}"]
    lines += [f"{key}: {value}" for key, value in fields.items()]
    lines += ["---", body, ""]
    return "\n".join(lines)


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def run(capsys):
    """Run `sitegen ARGS...` in-process; returns exit code, stdout and stderr."""

    def _run(*args: str | Path) -> Run:
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return _run


@pytest.fixture
def site(tmp_path):
    """A writer for a mini-site in tmp_path: site({...}) -> root."""

    def _site(files: dict[str, str | bytes]) -> Path:
        return write_site(tmp_path, files)

    return _site


CHROMIUM = "/usr/bin/chromium"  # Debian's package; .ci/run installs it


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by Playwright, one per test module."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


class _StaticHandler(http.server.SimpleHTTPRequestHandler):
    """A folder's files, with the extra response headers of its subclass and no log on stderr."""

    extra_headers: Mapping[str, str] = {}

    def end_headers(self) -> None:
        for name, value in self.extra_headers.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def static_server(directory: Path, headers: Mapping[str, str] | None = None) -> Iterator[str]:
    """Serve `directory` over HTTP on 127.0.0.1 (every response with `headers`); yields the origin."""
    handler_class = type("Handler", (_StaticHandler,), {"extra_headers": dict(headers or {})})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler_class, directory=str(directory))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def build_table(out: str) -> dict[str, int]:
    """The rows of the table `sitegen build` ends with ("  Files written | 12"), by label."""
    rows = (line.split("|") for line in out.splitlines() if line.startswith("  ") and line.count("|") == 1)
    return {label.strip(): int(number) for label, number in rows}


def slow_pagefind(folder: Path) -> tuple[Path, Path]:
    """A pagefind that notes its process id and sleeps before it runs the real one, as a large index keeps
    Pagefind busy; (the executable, the file it writes its process id to)."""
    from sitegen.build.search import find_pagefind

    pagefind = find_pagefind()
    pid_file = folder / "pagefind.pid"
    script = folder / "pagefind"
    # (One process from start to end, as Pagefind is: a shell would leave its `sleep` behind when killed.)
    script.write_text(
        f"#!{sys.executable}\nimport os, sys, time\n"
        f"open({str(pid_file)!r} + '.tmp', 'w').write(str(os.getpid()))\n"
        f"os.replace({str(pid_file)!r} + '.tmp', {str(pid_file)!r})\n"
        f"time.sleep(60)\nos.execv({str(pagefind)!r}, [{str(pagefind)!r}, *sys.argv[1:]])\n"
    )
    script.chmod(0o755)
    return script, pid_file


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
