"""The search index of a serve session, refreshed in the background a moment after the last rebuild (Pagefind
over the served folder takes seconds for a large site: a reload never waits for it)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from sitegen.errors import SitegenError
from sitegen.serve.watch import Changes, Debouncer

SEARCH_DELAY_SECONDS = 0.8
SEARCH_MAX_WAIT_SECONDS = 10.0


class SearchRefresher:
    """Re-indexes the served folder for search a moment after the last rebuild, on its own thread."""

    def __init__(self, out_dir: Path, build_mutex: threading.Lock, log: Callable[[str], None]):
        self._out_dir = out_dir
        self._build_mutex = build_mutex
        self._log = log
        self._available = True
        self._indexed_once = False
        self._last_problem = ""
        self._cancel = threading.Event()  # set by stop: a Pagefind run under way ends at once
        self._debouncer = Debouncer(
            lambda _: self._index(), SEARCH_DELAY_SECONDS, SEARCH_MAX_WAIT_SECONDS, "sitegen-search"
        )

    def schedule(self) -> None:
        if self._available:
            self._debouncer.push(Changes(full=True))

    def stop(self) -> None:
        self._cancel.set()
        self._debouncer.stop()

    def _index(self) -> None:
        try:
            from sitegen.build.search import index_site
        except ImportError as exc:
            self._available = False
            self._log(f"sitegen serve: search is not refreshed while serving ({exc})")
            return
        with self._build_mutex:
            pass  # let a rebuild in progress finish first; a rebuild starting later does not wait for us
        started = time.perf_counter()
        try:
            index_site(self._out_dir, cancel=self._cancel, background=True)
        except SitegenError as exc:
            if not self._cancel.is_set():
                self._problem("\n".join(str(d) for d in exc.diagnostics))
            return
        except Exception as exc:  # the preview goes on without fresh search results
            self._problem(f"sitegen serve: search index not refreshed: {type(exc).__name__}: {exc}")
            return
        self._last_problem = ""
        if not self._indexed_once:
            self._indexed_once = True
            self._log(f"search index ready ({time.perf_counter() - started:.1f} s)")

    def _problem(self, text: str) -> None:
        if text != self._last_problem:  # once per distinct problem, not after every rebuild
            self._last_problem = text
            for line in text.splitlines():
                self._log(line)
